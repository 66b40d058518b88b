/* SPDX-License-Identifier: MIT */
/* nftables rulesets applied inside a namespace through libnftables. */
#pragma once
#include <stddef.h>

struct nft_ctx;

/*
 * Applies SCRIPT (one transaction) in NSFD; on failure ERR gets nft's words.
 * With KEEP, the context is handed back instead of freed: closing an
 * nftables socket waits for the kernel to finish releasing the last
 * commit's objects (an RCU grace period), so a caller that applies several
 * rulesets frees them all at the end with nft_release(), paying that wait
 * once, while it does other work, instead of once per ruleset.
 */
int nft_apply_in(int nsfd, const char *script, char *err, size_t errlen, struct nft_ctx **keep);
void nft_release(struct nft_ctx *ctx);
/* `nft list ruleset` of NSFD into a malloc'd string (NULL on failure). */
char *nft_list_in(int nsfd);

/* A context bound to NSFD, for many small commands (one per trial): freeing
 * it is where the grace-period wait happens, so keep it for the whole cell. */
struct nft_ctx *nft_open_in(int nsfd);
int nft_run(struct nft_ctx *ctx, const char *cmd);
/* nft_run, with nft's words in ERR (if not NULL) on failure. */
int nft_run_err(struct nft_ctx *ctx, const char *cmd, char *err, size_t errlen);

/*
 * The script that removes the tables SCRIPT makes: for each table it opens
 * at the start of a line ("table inet NAME {"), "table inet NAME" and
 * "delete table inet NAME", so that it succeeds whether or not the table is
 * there. malloc'd; "" for a script without tables; NULL when out of memory.
 */
char *nft_undo_script(const char *script);
