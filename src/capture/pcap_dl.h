/* SPDX-License-Identifier: MIT */
/*
 * libpcap, loaded with dlopen() the first time a capture starts. Linked in,
 * it brought ten libraries with it (dbus, systemd, gcrypt, lzma, zstd, lz4
 * and more) into every punchlab process: `topo up`, `topo down`, each delay
 * helper and each analysis command loaded and relocated them for nothing
 * (bench/README.md, issue 14). capture.c includes this after <pcap/pcap.h>:
 * its pcap_*() calls go through the table below.
 */
#pragma once
#include <pcap/pcap.h>
#include <stddef.h>

/* The libpcap functions capture.c uses. */
#define PCAP_DL_FUNCTIONS(X)                                                                       \
	X(activate)                                                                                \
	X(breakloop)                                                                               \
	X(close)                                                                                   \
	X(compile)                                                                                 \
	X(create)                                                                                  \
	X(datalink)                                                                                \
	X(dispatch)                                                                                \
	X(dump)                                                                                    \
	X(dump_close)                                                                              \
	X(dump_file)                                                                               \
	X(dump_flush)                                                                              \
	X(dump_fopen)                                                                              \
	X(freecode)                                                                                \
	X(geterr)                                                                                  \
	X(set_buffer_size)                                                                         \
	X(set_immediate_mode)                                                                      \
	X(set_snaplen)                                                                             \
	X(set_timeout)                                                                             \
	X(setfilter)                                                                               \
	X(setnonblock)                                                                             \
	X(stats)

struct pcap_dl {
#define PCAP_DL_MEMBER(f) __typeof__(pcap_##f) *f;
	PCAP_DL_FUNCTIONS(PCAP_DL_MEMBER)
#undef PCAP_DL_MEMBER
};

/* The table, loaded once (thread-safe); NULL with the reason in ERR when
 * libpcap cannot be loaded. */
const struct pcap_dl *pcap_dl_load(char *err, size_t errlen);
