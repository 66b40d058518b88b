// SPDX-License-Identifier: MIT
#include "nft.h"
#include "netns.h"
#include "util/dl.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * libnftables is loaded when the first ruleset goes in (util/dl.h): linked,
 * it and its libraries (libnftnl, libmnl, libxtables, libgmp) were loaded by
 * every process, the delay helpers and `topo down` too, which never call it.
 */
#define NFT_DL_FUNCTIONS(X)                                                                        \
	X(ctx_new)                                                                                 \
	X(ctx_free)                                                                                \
	X(ctx_buffer_error)                                                                        \
	X(ctx_buffer_output)                                                                       \
	X(ctx_get_error_buffer)                                                                    \
	X(ctx_get_output_buffer)                                                                   \
	X(run_cmd_from_buffer)

static union {
	struct {
#define NFT_DL_MEMBER(f) __typeof__(nft_##f) *f;
		NFT_DL_FUNCTIONS(NFT_DL_MEMBER)
#undef NFT_DL_MEMBER
	} fn;
	void *ptr[7];
} nft_lib;
static pthread_once_t nft_once = PTHREAD_ONCE_INIT;
static bool nft_loaded;
static char nft_load_error[512];

static void nft_load(void)
{
	static const char *const names[] = {"libnftables.so.1", "libnftables.so"};
#define NFT_DL_NAME(f) #f,
	static const char *const syms[] = {NFT_DL_FUNCTIONS(NFT_DL_NAME)};
#undef NFT_DL_NAME
	_Static_assert(sizeof(syms) / sizeof(syms[0]) == sizeof(nft_lib.ptr) / sizeof(void *),
		       "a name for every function");
	nft_loaded = dl_load(names, 2, "nft_", syms, nft_lib.ptr, sizeof(syms) / sizeof(syms[0]),
			     nft_load_error, sizeof(nft_load_error)) == 0;
}

/* Whether libnftables is there; ERR (if given) says why not. */
static bool nft_lib_ok(char *err, size_t errlen)
{
	pthread_once(&nft_once, nft_load);
	if (!nft_loaded && err && errlen)
		snprintf(err, errlen, "%s", nft_load_error);
	return nft_loaded;
}

#define nft_ctx_new (nft_lib.fn.ctx_new)
#define nft_ctx_free (nft_lib.fn.ctx_free)
#define nft_ctx_buffer_error (nft_lib.fn.ctx_buffer_error)
#define nft_ctx_buffer_output (nft_lib.fn.ctx_buffer_output)
#define nft_ctx_get_error_buffer (nft_lib.fn.ctx_get_error_buffer)
#define nft_ctx_get_output_buffer (nft_lib.fn.ctx_get_output_buffer)
#define nft_run_cmd_from_buffer (nft_lib.fn.run_cmd_from_buffer)

/* libnftables select()s on its socket: one at FD_SETSIZE or above would end
 * the process (util/fs.h), so a context is refused with this instead */
#define NFT_NO_ROOM                                                                                \
	"no descriptor below 1024 left for nftables' socket (libnftables waits on it "            \
	"with select()): fewer labs side by side (-j)"

/*
 * libnftables opens its netlink socket when the context is made, so the
 * context is made (and used, and freed) while this thread is inside NSFD.
 */
static int nft_run_in(int nsfd, const char *script, char *err, size_t errlen, char **output,
		      struct nft_ctx **keep)
{
	struct nft_ctx *ctx;
	int saved, rc;

	if (err && errlen)
		err[0] = 0;
	if (!nft_lib_ok(err, errlen))
		return -ENOSYS;
	if (!fd_select_room()) {
		if (err && errlen)
			snprintf(err, errlen, "%s", NFT_NO_ROOM);
		return -EMFILE;
	}
	if ((rc = netns_enter(nsfd, &saved)) < 0)
		return rc;
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		netns_leave(saved);
		return -ENOMEM;
	}
	nft_ctx_buffer_error(ctx);
	if (output)
		nft_ctx_buffer_output(ctx);
	/* always a buffer: nft never opens a user's file itself (a device or a
	 * FIFO would hold it), lab.c reads rulesets with topo_ruleset_read */
	rc = nft_run_cmd_from_buffer(ctx, script);
	if (rc != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		if (err && errlen)
			snprintf(err, errlen, "%s", e ? e : "unknown nft error");
		rc = -EINVAL;
	} else if (output) {
		const char *o = nft_ctx_get_output_buffer(ctx);
		*output = strdup(o ? o : "");
	}
	if (keep)
		*keep = ctx;
	else
		nft_ctx_free(ctx);
	netns_leave(saved);
	return rc;
}

int nft_apply_in(int nsfd, const char *script, char *err, size_t errlen, struct nft_ctx **keep)
{
	return nft_run_in(nsfd, script, err, errlen, NULL, keep);
}

void nft_release(struct nft_ctx *ctx)
{
	if (ctx)
		nft_ctx_free(ctx);
}

char *nft_list_in(int nsfd)
{
	char *out = NULL;

	if (nft_run_in(nsfd, "list ruleset", NULL, 0, &out, NULL) < 0)
		return NULL;
	return out;
}

struct nft_ctx *nft_open_in(int nsfd)
{
	int saved;
	if (!nft_lib_ok(NULL, 0)) {
		errno = ENOSYS;
		return NULL;
	}
	if (!fd_select_room()) {
		errno = EMFILE;
		return NULL;
	}
	if (netns_enter(nsfd, &saved) < 0)
		return NULL;
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (ctx) {
		nft_ctx_buffer_error(ctx);
		nft_ctx_buffer_output(ctx);
		/* the socket is opened lazily on some versions: open it here, inside */
		nft_run_cmd_from_buffer(ctx, "list tables");
	}
	netns_leave(saved);
	return ctx;
}

int nft_run(struct nft_ctx *ctx, const char *cmd)
{
	return nft_run_err(ctx, cmd, NULL, 0);
}

int nft_run_err(struct nft_ctx *ctx, const char *cmd, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
		return 0;
	const char *e = nft_ctx_get_error_buffer(ctx);
	if (err && errlen)
		snprintf(err, errlen, "%s", e && *e ? e : "unknown nft error");
	return -EINVAL;
}

char *nft_undo_script(const char *script)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add(&sb, "", 0);
	for (const char *l = script; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		size_t len = strcspn(l, "\n");
		const char *brace = memchr(l, '{', len);
		if (strncmp(l, "table ", 6) || !brace)
			continue;
		/* "table FAMILY NAME {": the words between "table " and the brace */
		const char *w = l + 6, *end = brace;
		while (end > w && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == w)
			continue;
		strbuf_addf(&sb, "table %.*s\ndelete table %.*s\n", (int)(end - w), w,
			    (int)(end - w), w);
	}
	if (sb.failed) {
		strbuf_release(&sb);
		return NULL;
	}
	return sb.buf;
}
