// SPDX-License-Identifier: MIT
#include "nfq.h"
#include "netns.h"
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>

#define TABLE "punchlab_delay"
#define MANGLE_PRIORITY -150 /* iptables' mangle table, where the rules were */

/* A bounded writer of netlink messages: a write past LEN sets FULL. */
struct nlw {
	char *buf;
	size_t len, off;
	bool full;
};

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

static void put(struct nlw *w, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = room(w, NLA_HDRLEN + len);
	if (!a)
		return;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
}

static void put_u32(struct nlw *w, uint16_t type, uint32_t v)
{
	v = htonl(v);
	put(w, type, &v, sizeof(v));
}

static void put_str(struct nlw *w, uint16_t type, const char *s)
{
	put(w, type, s, strlen(s) + 1);
}

static size_t nest(struct nlw *w, uint16_t type)
{
	size_t at = w->off;
	struct nlattr *a = room(w, NLA_HDRLEN);
	if (a)
		a->nla_type = type | NLA_F_NESTED;
	return at;
}

static void nest_end(struct nlw *w, size_t at)
{
	if (!w->full)
		((struct nlattr *)(w->buf + at))->nla_len = (uint16_t)(w->off - at);
}

/* A message of TYPE (nftables' unless BATCH), its header's length set by
 * msg_end(). */
static size_t msg(struct nlw *w, uint16_t type, uint16_t flags, uint32_t seq, bool batch)
{
	size_t at = w->off;
	struct nlmsghdr *h = room(w, NLMSG_HDRLEN);
	struct nfgenmsg *g = room(w, sizeof(*g));
	if (!h || !g)
		return at;
	h->nlmsg_type = batch ? type : (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type);
	h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	h->nlmsg_seq = seq;
	g->nfgen_family = batch ? AF_UNSPEC : NFPROTO_IPV4;
	g->version = NFNETLINK_V0;
	g->res_id = htons(batch ? NFNL_SUBSYS_NFTABLES : 0);
	return at;
}

static void msg_end(struct nlw *w, size_t at)
{
	if (!w->full)
		((struct nlmsghdr *)(w->buf + at))->nlmsg_len = (uint32_t)(w->off - at);
}

/* An expression NAME, its attributes written by the caller before expr_end(). */
static size_t expr(struct nlw *w, const char *name, size_t *data)
{
	size_t e = nest(w, NFTA_LIST_ELEM);
	put_str(w, NFTA_EXPR_NAME, name);
	*data = nest(w, NFTA_EXPR_DATA);
	return e;
}

static void expr_end(struct nlw *w, size_t e, size_t data)
{
	nest_end(w, data);
	nest_end(w, e);
}

static void data_value(struct nlw *w, uint16_t type, const void *v, size_t len)
{
	size_t d = nest(w, type);
	put(w, NFTA_DATA_VALUE, v, len);
	nest_end(w, d);
}

/* reg1 = meta KEY */
static void meta_load(struct nlw *w, uint32_t key)
{
	size_t d, e = expr(w, "meta", &d);
	put_u32(w, NFTA_META_KEY, key);
	put_u32(w, NFTA_META_DREG, NFT_REG_1);
	expr_end(w, e, d);
}

/* reg1 OP V (LEN bytes) */
static void cmp(struct nlw *w, uint32_t op, const void *v, size_t len)
{
	size_t d, e = expr(w, "cmp", &d);
	put_u32(w, NFTA_CMP_SREG, NFT_REG_1);
	put_u32(w, NFTA_CMP_OP, op);
	data_value(w, NFTA_CMP_DATA, v, len);
	expr_end(w, e, d);
}

/* reg1 = reg1 & MASK (LEN bytes) */
static void and_mask(struct nlw *w, const void *mask, size_t len)
{
	static const char zero[4];
	size_t d, e = expr(w, "bitwise", &d);
	put_u32(w, NFTA_BITWISE_SREG, NFT_REG_1);
	put_u32(w, NFTA_BITWISE_DREG, NFT_REG_1);
	put_u32(w, NFTA_BITWISE_LEN, (uint32_t)len);
	data_value(w, NFTA_BITWISE_MASK, mask, len);
	data_value(w, NFTA_BITWISE_XOR, zero, len);
	expr_end(w, e, d);
}

/* -p tcp --syn -m conntrack --ctstate NEW -m mark ! --mark MARK */
static void syn_unmarked(struct nlw *w, uint32_t mark)
{
	uint8_t tcp = IPPROTO_TCP, flags_mask = 0x17 /* FIN SYN RST ACK */, syn = 0x02;
	uint32_t new = NF_CT_STATE_BIT(IP_CT_NEW), none = 0;
	meta_load(w, NFT_META_L4PROTO);
	cmp(w, NFT_CMP_EQ, &tcp, 1);
	size_t d, e = expr(w, "payload", &d);
	put_u32(w, NFTA_PAYLOAD_DREG, NFT_REG_1);
	put_u32(w, NFTA_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	put_u32(w, NFTA_PAYLOAD_OFFSET, 13); /* the TCP flags */
	put_u32(w, NFTA_PAYLOAD_LEN, 1);
	expr_end(w, e, d);
	and_mask(w, &flags_mask, 1);
	cmp(w, NFT_CMP_EQ, &syn, 1);
	e = expr(w, "ct", &d);
	put_u32(w, NFTA_CT_KEY, NFT_CT_STATE);
	put_u32(w, NFTA_CT_DREG, NFT_REG_1);
	expr_end(w, e, d);
	and_mask(w, &new, sizeof(new));
	cmp(w, NFT_CMP_NEQ, &none, sizeof(none));
	meta_load(w, NFT_META_MARK);
	cmp(w, NFT_CMP_NEQ, &mark, sizeof(mark));
}

static const char *const chain_name[3] = {"prerouting", "input", "postrouting"};
static const uint32_t chain_hook[3] = {NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_POST_ROUTING};

/* Rule R as message SEQ: its interface, REQ-4's SYN match when it asks for
 * it, then the target. */
static void rule(struct nlw *w, const struct nfq_rule *r, uint32_t seq)
{
	size_t m = msg(w, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq, false);
	put_str(w, NFTA_RULE_TABLE, TABLE);
	put_str(w, NFTA_RULE_CHAIN, chain_name[r->hook]);
	size_t exprs = nest(w, NFTA_RULE_EXPRESSIONS);
	char name[16] = {0};
	snprintf(name, sizeof(name), "%s", r->ifname);
	meta_load(w, r->hook == NFQ_POSTROUTING ? NFT_META_OIFNAME : NFT_META_IIFNAME);
	cmp(w, NFT_CMP_EQ, name, sizeof(name));
	if (r->syn_unmarked)
		syn_unmarked(w, r->mark);
	/* the xtables target, revision 0: its info is the queue number, padded
	 * as xtables aligns it */
	struct {
		struct xt_NFQ_info info;
		uint8_t pad[6];
	} info = {.info = {.queuenum = r->queue}};
	size_t d, e = expr(w, "target", &d);
	put_str(w, NFTA_TARGET_NAME, "NFQUEUE");
	put_u32(w, NFTA_TARGET_REV, 0);
	put(w, NFTA_TARGET_INFO, &info, sizeof(info));
	expr_end(w, e, d);
	nest_end(w, exprs);
	msg_end(w, m);
}

size_t nfq_batch(const struct nfq_rule *rules, int n, uint32_t seq, char *buf, size_t len)
{
	struct nlw w = {.buf = buf, .len = len};
	bool used[3] = {false, false, false};
	for (int i = 0; i < n; i++)
		used[rules[i].hook] = true;
	msg_end(&w, msg(&w, NFNL_MSG_BATCH_BEGIN, 0, seq++, true));
	size_t m = msg(&w, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, seq++, false);
	put_str(&w, NFTA_TABLE_NAME, TABLE);
	msg_end(&w, m);
	for (int h = 0; h < 3; h++) {
		if (!used[h])
			continue;
		m = msg(&w, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK, seq++, false);
		put_str(&w, NFTA_CHAIN_TABLE, TABLE);
		put_str(&w, NFTA_CHAIN_NAME, chain_name[h]);
		size_t hook = nest(&w, NFTA_CHAIN_HOOK);
		put_u32(&w, NFTA_HOOK_HOOKNUM, chain_hook[h]);
		put_u32(&w, NFTA_HOOK_PRIORITY, (uint32_t)MANGLE_PRIORITY);
		nest_end(&w, hook);
		put_u32(&w, NFTA_CHAIN_POLICY, NF_ACCEPT);
		put_str(&w, NFTA_CHAIN_TYPE, "filter");
		msg_end(&w, m);
	}
	for (int i = 0; i < n; i++)
		rule(&w, &rules[i], seq++);
	msg_end(&w, msg(&w, NFNL_MSG_BATCH_END, 0, seq, true));
	return w.full ? 0 : w.off;
}

/* Reads the answers to messages FIRST .. LAST (each asked for an ack): 0,
 * or the first error, with its message in ERR. */
static int answers(int fd, uint32_t first, uint32_t last, char *err, size_t errlen)
{
	char in[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	uint32_t acked = 0, want = last - first + 1;
	while (acked < want) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 5000) != 1) {
			snprintf(err, errlen, "nftables did not answer the NFQUEUE rules");
			return -ETIMEDOUT;
		}
		ssize_t n = recv(fd, in, sizeof(in), 0);
		if (n < 0) {
			snprintf(err, errlen, "nftables: %s", strerror(errno));
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)in; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (e->error) {
				snprintf(err, errlen, "nftables refused the NFQUEUE rules: %s",
					 strerror(-e->error));
				return e->error;
			}
			acked++;
		}
	}
	return 0;
}

int nfq_rules_apply(int nsfd, const struct nfq_rule *rules, int n, char *err, size_t errlen)
{
	size_t len = 4096 + (size_t)n * 1024;
	char *buf = malloc(len);
	int saved, rc = buf ? netns_enter(nsfd, &saved) : -ENOMEM;
	if (rc < 0) {
		free(buf);
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	netns_leave(saved);
	uint32_t seq = 1;
	size_t blen = nfq_batch(rules, n, seq, buf, len);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (fd < 0 || !blen) {
		rc = fd < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "%s", strerror(-rc));
	} else if (sendto(fd, buf, blen, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "nftables: %s", strerror(-rc));
	} else {
		/* every message between the batch's ends asked for its ack */
		int chains = 0;
		bool used[3] = {false, false, false};
		for (int i = 0; i < n; i++) {
			chains += !used[rules[i].hook];
			used[rules[i].hook] = true;
		}
		rc = answers(fd, seq + 1, seq + 1 + (uint32_t)(chains + n), err, errlen);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}
