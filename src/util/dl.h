/* SPDX-License-Identifier: MIT */
/*
 * Libraries loaded when first needed (dlopen): a library that every
 * punchlab process would otherwise load at its start, with its own
 * dependencies, though most never call it (capture/pcap_dl.c, lab/nft.c).
 */
#pragma once
#include <stddef.h>

/*
 * Opens the first of the NNAMES sonames NAMES that loads, and fills OUT[i]
 * with the address of PREFIX SYMS[i] for each of the NSYMS symbols. 0, or -1
 * with the reason in ERR (what could not be loaded, or the first symbol
 * missing).
 */
int dl_load(const char *const *names, size_t nnames, const char *prefix,
	    const char *const *syms, void **out, size_t nsyms, char *err, size_t errlen);
