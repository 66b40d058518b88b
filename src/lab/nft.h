/* SPDX-License-Identifier: MIT */
/* nftables rulesets applied inside a namespace through libnftables. */
#pragma once
#include <stddef.h>

/* Applies SCRIPT (one transaction) in NSFD; on failure ERR gets nft's words. */
int nft_apply_in(int nsfd, const char *script, char *err, size_t errlen);
/* Same for a file. */
int nft_apply_file_in(int nsfd, const char *path, char *err, size_t errlen);
/* `nft list ruleset` of NSFD into a malloc'd string (NULL on failure). */
char *nft_list_in(int nsfd);
