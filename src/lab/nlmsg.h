/* SPDX-License-Identifier: MIT */
/*
 * nfnetlink messages written and read by hand, for the few that punchlab
 * sends without a library: the delay helper's queue configuration and
 * verdicts (delayq.c), the NFQUEUE rules' nftables batch (nfq.c) and a
 * NAT's reset between trials, conntrack and sets (natstate.c).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A bounded writer into BUF (LEN bytes, aligned for netlink): a write past
 * LEN sets FULL and writes nothing more. */
struct nlw {
	char *buf;
	size_t len, off;
	bool full;
};

/* A message of TYPE (the subsystem's, already shifted in) with FLAGS beside
 * NLM_F_REQUEST, sequence number SEQ and its nfgenmsg (FAMILY, RES_ID in
 * host order); its length is set by nlw_msg_end() on the offset returned. */
size_t nlw_msg(struct nlw *w, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family,
	       uint16_t res_id);
void nlw_msg_end(struct nlw *w, size_t at);
/* Attributes: LEN bytes of DATA; a u32 in network order; a NUL-terminated
 * string; a nest, closed by nlw_nest_end() on the offset returned. */
void nlw_put(struct nlw *w, uint16_t type, const void *data, size_t len);
void nlw_put_u32(struct nlw *w, uint16_t type, uint32_t v);
void nlw_put_str(struct nlw *w, uint16_t type, const char *s);
size_t nlw_nest(struct nlw *w, uint16_t type);
void nlw_nest_end(struct nlw *w, size_t at);

/* (pl_: libnl, linked too, has an nl_send of its own, which ours would
 * stand in for.) Sends LEN bytes of BUF to the kernel, waiting out EAGAIN on a
 * non-blocking socket: 0 or -errno. */
int pl_nl_send(int fd, const void *buf, size_t len);
/* Reads answers until WANT acknowledgements came: 0, the first error the
 * kernel answered (-errno), or -ETIMEDOUT after TIMEOUT_MS without one.
 * Other messages (a queued packet, say) are skipped. */
int pl_nl_acks(int fd, int want, int timeout_ms);
/* The same, but the error IGNORED (-errno, as the kernel answers it) counts
 * as an acknowledgement. */
int pl_nl_acks_but(int fd, int want, int timeout_ms, int ignored);
/* Waits up to TIMEOUT_MS for a datagram on FD and reads it into BUF (LEN
 * bytes): its length, or -errno (-ETIMEDOUT). */
ssize_t pl_nl_recv(int fd, void *buf, size_t len, int timeout_ms);
/* The first attribute of TYPE in nfnetlink message H (after its nfgenmsg),
 * whole within the message; NULL when there is none. */
struct nlmsghdr;
struct nlattr;
const struct nlattr *pl_nl_attr(const struct nlmsghdr *h, uint16_t type);
