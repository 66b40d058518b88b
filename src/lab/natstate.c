// SPDX-License-Identifier: MIT
#include "natstate.h"
#include "lab.h"
#include "natprofile.h"
#include "netns.h"
#include "nlmsg.h"
#include "util/fs.h"
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

/* Entries a reset deletes one by one (a trial leaves about ten a NAT);
 * with more, it empties the table. Their acks, a socket buffer (skb) each,
 * must fit the command socket's default receive buffer (212,992 bytes):
 * 256 overflowed it. */
#define TRACK_MAX 64
#define DELS_LEN (TRACK_MAX * 128)

/* The flushes are built once when the NAT opens: a reset sends them as they
 * are. The library this replaced (libnftables' "flush map", with its cache
 * of the ruleset fetched first) took 4 ms a NAT a trial. A flush of the
 * conntrack table walks the whole host's hash table (262,144 buckets here)
 * for the few entries of one namespace: a NAT that heard of each entry made
 * since the last reset (conntrack's NEW events) deletes those by their
 * tuples instead. */
struct lab_nat {
	int nsfd;
	int nl;	    /* commands: NETLINK_NETFILTER in the namespace; -1 until a reset opens it */
	int ev;	    /* conntrack's NEW events there, read at each reset; -1: none */
	bool heard; /* ev has heard of every entry made since the table was last emptied */
	int nsets;
	size_t ct_len, batch_len;
	char ct_msg[64] __attribute__((aligned(NLMSG_ALIGNTO)));
	char batch[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
	char *dels; /* DELS_LEN bytes: a reset's deletes */
};

size_t lab_nat_ct_flush_msg(uint32_t seq, char *buf, size_t len)
{
	struct nlw w = {.buf = buf, .len = len};
	nlw_msg_end(&w, nlw_msg(&w, (uint16_t)(NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE),
				NLM_F_ACK, seq, AF_INET, 0));
	return w.full ? 0 : w.off;
}

size_t lab_nat_flush_sets_batch(const char *const *names, int n, uint32_t seq, char *buf,
				size_t len)
{
	struct nlw w = {.buf = buf, .len = len};
	nlw_msg_end(&w,
		    nlw_msg(&w, NFNL_MSG_BATCH_BEGIN, 0, seq++, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
	for (int i = 0; i < n; i++) {
		size_t m = nlw_msg(&w, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELSETELEM),
				   NLM_F_ACK, seq++, NFPROTO_IPV4, 0);
		nlw_put_str(&w, NFTA_SET_ELEM_LIST_TABLE, NAT_TABLE_NAME);
		nlw_put_str(&w, NFTA_SET_ELEM_LIST_SET, names[i]);
		nlw_msg_end(&w, m);
	}
	nlw_msg_end(&w, nlw_msg(&w, NFNL_MSG_BATCH_END, 0, seq, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
	return w.full ? 0 : w.off;
}

struct lab_nat *lab_nat_open(const char *lab, const struct topo_node *n, int *err_out)
{
	struct lab_nat *nat = calloc(1, sizeof(*nat));
	if (!nat) {
		*err_out = -ENOMEM;
		return NULL;
	}
	nat->nl = nat->ev = -1;
	nat->nsfd = lab_node_nsfd(lab, n->name);
	if (nat->nsfd < 0) {
		*err_out = nat->nsfd;
		free(nat);
		return NULL;
	}
	/* a ruleset of the user's own has no sets we know of */
	const char *names[NAT_RESET_SETS];
	nat->nsets = n->ruleset ? 0 : nat_reset_sets(&n->nat, names);
	nat->ct_len = lab_nat_ct_flush_msg(1, nat->ct_msg, sizeof(nat->ct_msg));
	if (nat->nsets)
		nat->batch_len =
		    lab_nat_flush_sets_batch(names, nat->nsets, 2, nat->batch, sizeof(nat->batch));
	nat->dels = malloc(DELS_LEN);
	if (!nat->dels) {
		*err_out = -ENOMEM;
		lab_nat_close(nat);
		return NULL;
	}
	if (!nat->ct_len || (nat->nsets && !nat->batch_len)) {
		*err_out = -ENOBUFS;
		lab_nat_close(nat);
		return NULL;
	}
	return nat;
}

/* The command socket and the events' (subscribed before anything is
 * flushed, so that the first reset's whole flush leaves nothing unheard). */
static int open_sockets(struct lab_nat *nat)
{
	nat->nl = netns_socket(nat->nsfd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (nat->nl < 0)
		return nat->nl;
	nat->ev = netns_socket(nat->nsfd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			       NETLINK_NETFILTER);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = 1u << (NFNLGRP_CONNTRACK_NEW - 1)};
	/* the default receive buffer holds some 200 events, more than TRACK_MAX:
	 * an overflow only means a whole flush; so does no events socket (one
	 * the kernel refuses: every reset then flushes whole) */
	if (nat->ev >= 0 && bind(nat->ev, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(nat->ev);
		nat->ev = -1;
	}
	nat->nl = fd_park(nat->nl); /* above what libnftables select()s */
	nat->ev = fd_park(nat->ev);
	return 0;
}

/* Copies attribute TYPE of message H (nfnetlink), if it has one, into W. */
static void copy_attr(struct nlw *w, const struct nlmsghdr *h, uint16_t type)
{
	const struct nlattr *a = pl_nl_attr(h, type);
	if (a)
		nlw_put(w, a->nla_type, (const char *)a + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
}

/* Reads every event queued on the NAT's events socket, writing a delete of
 * each new entry (its original tuple and zone) into nat->dels: their
 * count, or -1 when some were lost (the socket overflowed) or were more
 * than TRACK_MAX, and the table must be emptied whole. The queue is
 * emptied either way. */
static int collect_deletes(struct lab_nat *nat, size_t *len)
{
	char in[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlw w = {.buf = nat->dels, .len = DELS_LEN};
	int n = 0;
	bool lost = false;
	for (;;) {
		ssize_t r = recv(nat->ev, in, sizeof(in), 0);
		if (r < 0 && (errno == EINTR || errno == ENOBUFS)) {
			lost |= errno == ENOBUFS;
			continue;
		}
		if (r <= 0) {
			lost |= r < 0 && errno != EAGAIN;
			break;
		}
		size_t left = (size_t)r;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)in; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type != (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW))
				continue;
			if (n == TRACK_MAX) {
				lost = true;
				continue;
			}
			const struct nfgenmsg *g = NLMSG_DATA(h);
			size_t m = nlw_msg(
			    &w, (uint16_t)(NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE),
			    NLM_F_ACK, (uint32_t)(100 + n), g->nfgen_family, 0);
			copy_attr(&w, h, CTA_TUPLE_ORIG);
			copy_attr(&w, h, CTA_ZONE);
			nlw_msg_end(&w, m);
			n++;
		}
	}
	*len = w.off;
	return lost || w.full ? -1 : n;
}

/* The namespace's conntrack entries, as the kernel counts them (a constant
 * time query, not a walk): >= 0, or -errno. */
static int ct_count(int fd)
{
	char buf[256] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlw w = {.buf = buf, .len = sizeof(buf)};
	nlw_msg_end(&w,
		    nlw_msg(&w, (uint16_t)(NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET_STATS), 0,
			    7, AF_UNSPEC, 0));
	int rc = pl_nl_send(fd, buf, w.off);
	while (rc == 0) {
		ssize_t n = pl_nl_recv(fd, buf, sizeof(buf), 5000);
		if (n < 0)
			return (int)n;
		size_t left = (size_t)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error ? e->error : -EPROTO;
			}
			if (h->nlmsg_type != (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET_STATS))
				continue;
			const struct nlattr *a = pl_nl_attr(h, CTA_STATS_GLOBAL_ENTRIES);
			if (!a || a->nla_len < NLA_HDRLEN + 4)
				return -EPROTO;
			uint32_t v;
			memcpy(&v, (const char *)a + NLA_HDRLEN, 4);
			return (int)(ntohl(v) & 0x7fffffff);
		}
	}
	return rc;
}

int lab_nat_reset(struct lab_nat *nat)
{
	int rc = nat->nl < 0 ? open_sockets(nat) : 0;
	size_t len = 0;
	int n = rc < 0 ? 0 : nat->ev >= 0 ? collect_deletes(nat, &len) : -1;
	bool whole = !nat->heard || n < 0;
	/* conntrack first, as before: nothing creates a set element after it */
	if (rc == 0 && whole)
		rc = pl_nl_send(nat->nl, nat->ct_msg, nat->ct_len);
	else if (rc == 0 && n > 0)
		rc = pl_nl_send(nat->nl, nat->dels, len);
	if (rc == 0 && nat->nsets)
		rc = pl_nl_send(nat->nl, nat->batch, nat->batch_len);
	/* an entry gone since its event (timed out, or the NAT's own RST) is
	 * not an error */
	if (rc == 0)
		rc = pl_nl_acks_but(nat->nl, (whole ? 1 : n) + nat->nsets, 5000, -ENOENT);
	/* No event since the last reset, and entries in the table: events that
	 * do not come (nf_conntrack_events off in the namespace, say) must not
	 * leave a trial's entries to the next, so the table is emptied whole,
	 * as every reset once did. (With events heard, an entry still counted
	 * is one not yet confirmed: a packet held in a delay queue, which no
	 * flush reaches, and whose event the next reset reads.) */
	int left = rc == 0 && !whole && n == 0 ? ct_count(nat->nl) : 0;
	if (left < 0)
		rc = left;
	else if (left > 0 && (rc = pl_nl_send(nat->nl, nat->ct_msg, nat->ct_len)) == 0)
		rc = pl_nl_acks(nat->nl, 1, 5000);
	nat->heard = rc == 0;
	if (rc < 0) { /* acks may be left unread: the next reset starts afresh */
		close(nat->nl);
		if (nat->ev >= 0)
			close(nat->ev);
		nat->nl = nat->ev = -1;
	}
	return rc;
}

int lab_nat_nsfd(const struct lab_nat *nat)
{
	return nat->nsfd;
}

void lab_nat_close(struct lab_nat *nat)
{
	if (!nat)
		return;
	if (nat->nl >= 0)
		close(nat->nl);
	if (nat->ev >= 0)
		close(nat->ev);
	free(nat->dels);
	if (nat->nsfd >= 0)
		close(nat->nsfd);
	free(nat);
}
