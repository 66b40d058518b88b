// SPDX-License-Identifier: MIT
#include "nlmsg.h"
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

static void *room(struct nlw *w, size_t n)
{
	if (w->full || w->off + NLMSG_ALIGN(n) > w->len) {
		w->full = true;
		return NULL;
	}
	void *p = w->buf + w->off;
	memset(p, 0, NLMSG_ALIGN(n));
	w->off += NLMSG_ALIGN(n);
	return p;
}

size_t nlw_msg(struct nlw *w, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family,
	       uint16_t res_id)
{
	size_t at = w->off;
	struct nlmsghdr *h = room(w, NLMSG_HDRLEN);
	struct nfgenmsg *g = room(w, sizeof(*g));
	if (!h || !g)
		return at;
	h->nlmsg_type = type;
	h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	h->nlmsg_seq = seq;
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return at;
}

void nlw_msg_end(struct nlw *w, size_t at)
{
	if (!w->full)
		((struct nlmsghdr *)(w->buf + at))->nlmsg_len = (uint32_t)(w->off - at);
}

void nlw_put(struct nlw *w, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = room(w, NLA_HDRLEN + len);
	if (!a)
		return;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
}

void nlw_put_u32(struct nlw *w, uint16_t type, uint32_t v)
{
	v = htonl(v);
	nlw_put(w, type, &v, sizeof(v));
}

void nlw_put_str(struct nlw *w, uint16_t type, const char *s)
{
	nlw_put(w, type, s, strlen(s) + 1);
}

size_t nlw_nest(struct nlw *w, uint16_t type)
{
	size_t at = w->off;
	struct nlattr *a = room(w, NLA_HDRLEN);
	if (a)
		a->nla_type = type | NLA_F_NESTED;
	return at;
}

void nlw_nest_end(struct nlw *w, size_t at)
{
	if (!w->full)
		((struct nlattr *)(w->buf + at))->nla_len = (uint16_t)(w->off - at);
}

int pl_nl_send(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	for (;;) {
		ssize_t n = sendto(fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
		if (n >= 0)
			return 0;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
		if (errno == EAGAIN) /* a non-blocking socket: the message must go */
			poll(&(struct pollfd){fd, POLLOUT, 0}, 1, 10);
	}
}

int pl_nl_acks(int fd, int want, int timeout_ms)
{
	return pl_nl_acks_but(fd, want, timeout_ms, 0);
}

ssize_t pl_nl_recv(int fd, void *buf, size_t len, int timeout_ms)
{
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1)
			return r < 0 ? -errno : -ETIMEDOUT;
		ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return n < 0 ? -errno : n;
	}
}

int pl_nl_acks_but(int fd, int want, int timeout_ms, int ignored)
{
	char in[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	for (int acked = 0; acked < want;) {
		ssize_t n = pl_nl_recv(fd, in, sizeof(in), timeout_ms);
		if (n < 0)
			return (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (e->error && e->error != ignored)
				return e->error;
			acked++;
		}
	}
	return 0;
}

const struct nlattr *pl_nl_attr(const struct nlmsghdr *h, uint16_t type)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	while (off + NLA_HDRLEN <= h->nlmsg_len) {
		const struct nlattr *a = (const struct nlattr *)((const char *)h + off);
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		off += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}
