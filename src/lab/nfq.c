// SPDX-License-Identifier: MIT
#include "nfq.h"
#include "netns.h"
#include "nlmsg.h"
#include <arpa/inet.h>
#include <errno.h>
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

/* A message of nftables' TYPE, or with BATCH the batch's begin or end. */
static size_t msg(struct nlw *w, uint16_t type, uint16_t flags, uint32_t seq, bool batch)
{
	return batch ? nlw_msg(w, type, flags, seq, AF_UNSPEC, NFNL_SUBSYS_NFTABLES)
		     : nlw_msg(w, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type), flags, seq,
			       NFPROTO_IPV4, 0);
}

/* An expression NAME, its attributes written by the caller before expr_end(). */
static size_t expr(struct nlw *w, const char *name, size_t *data)
{
	size_t e = nlw_nest(w, NFTA_LIST_ELEM);
	nlw_put_str(w, NFTA_EXPR_NAME, name);
	*data = nlw_nest(w, NFTA_EXPR_DATA);
	return e;
}

static void expr_end(struct nlw *w, size_t e, size_t data)
{
	nlw_nest_end(w, data);
	nlw_nest_end(w, e);
}

static void data_value(struct nlw *w, uint16_t type, const void *v, size_t len)
{
	size_t d = nlw_nest(w, type);
	nlw_put(w, NFTA_DATA_VALUE, v, len);
	nlw_nest_end(w, d);
}

/* reg1 = meta KEY */
static void meta_load(struct nlw *w, uint32_t key)
{
	size_t d, e = expr(w, "meta", &d);
	nlw_put_u32(w, NFTA_META_KEY, key);
	nlw_put_u32(w, NFTA_META_DREG, NFT_REG_1);
	expr_end(w, e, d);
}

/* reg1 OP V (LEN bytes) */
static void cmp(struct nlw *w, uint32_t op, const void *v, size_t len)
{
	size_t d, e = expr(w, "cmp", &d);
	nlw_put_u32(w, NFTA_CMP_SREG, NFT_REG_1);
	nlw_put_u32(w, NFTA_CMP_OP, op);
	data_value(w, NFTA_CMP_DATA, v, len);
	expr_end(w, e, d);
}

/* reg1 = reg1 & MASK (LEN bytes) */
static void and_mask(struct nlw *w, const void *mask, size_t len)
{
	static const char zero[4];
	size_t d, e = expr(w, "bitwise", &d);
	nlw_put_u32(w, NFTA_BITWISE_SREG, NFT_REG_1);
	nlw_put_u32(w, NFTA_BITWISE_DREG, NFT_REG_1);
	nlw_put_u32(w, NFTA_BITWISE_LEN, (uint32_t)len);
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
	nlw_put_u32(w, NFTA_PAYLOAD_DREG, NFT_REG_1);
	nlw_put_u32(w, NFTA_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nlw_put_u32(w, NFTA_PAYLOAD_OFFSET, 13); /* the TCP flags */
	nlw_put_u32(w, NFTA_PAYLOAD_LEN, 1);
	expr_end(w, e, d);
	and_mask(w, &flags_mask, 1);
	cmp(w, NFT_CMP_EQ, &syn, 1);
	e = expr(w, "ct", &d);
	nlw_put_u32(w, NFTA_CT_KEY, NFT_CT_STATE);
	nlw_put_u32(w, NFTA_CT_DREG, NFT_REG_1);
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
	nlw_put_str(w, NFTA_RULE_TABLE, TABLE);
	nlw_put_str(w, NFTA_RULE_CHAIN, chain_name[r->hook]);
	size_t exprs = nlw_nest(w, NFTA_RULE_EXPRESSIONS);
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
	nlw_put_str(w, NFTA_TARGET_NAME, "NFQUEUE");
	nlw_put_u32(w, NFTA_TARGET_REV, 0);
	nlw_put(w, NFTA_TARGET_INFO, &info, sizeof(info));
	expr_end(w, e, d);
	nlw_nest_end(w, exprs);
	nlw_msg_end(w, m);
}

size_t nfq_batch(const struct nfq_rule *rules, int n, uint32_t seq, char *buf, size_t len,
		 int *acks)
{
	uint32_t first = seq;
	struct nlw w = {.buf = buf, .len = len};
	bool used[3] = {false, false, false};
	for (int i = 0; i < n; i++)
		used[rules[i].hook] = true;
	nlw_msg_end(&w, msg(&w, NFNL_MSG_BATCH_BEGIN, 0, seq++, true));
	size_t m = msg(&w, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, seq++, false);
	nlw_put_str(&w, NFTA_TABLE_NAME, TABLE);
	nlw_msg_end(&w, m);
	for (int h = 0; h < 3; h++) {
		if (!used[h])
			continue;
		m = msg(&w, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK, seq++, false);
		nlw_put_str(&w, NFTA_CHAIN_TABLE, TABLE);
		nlw_put_str(&w, NFTA_CHAIN_NAME, chain_name[h]);
		size_t hook = nlw_nest(&w, NFTA_CHAIN_HOOK);
		nlw_put_u32(&w, NFTA_HOOK_HOOKNUM, chain_hook[h]);
		nlw_put_u32(&w, NFTA_HOOK_PRIORITY, (uint32_t)MANGLE_PRIORITY);
		nlw_nest_end(&w, hook);
		nlw_put_u32(&w, NFTA_CHAIN_POLICY, NF_ACCEPT);
		nlw_put_str(&w, NFTA_CHAIN_TYPE, "filter");
		nlw_msg_end(&w, m);
	}
	for (int i = 0; i < n; i++)
		rule(&w, &rules[i], seq++);
	if (acks)
		*acks = (int)(seq - first - 1); /* all but the batch's begin */
	nlw_msg_end(&w, msg(&w, NFNL_MSG_BATCH_END, 0, seq, true));
	return w.full ? 0 : w.off;
}

int nfq_rules_apply(int nsfd, const struct nfq_rule *rules, int n, char *err, size_t errlen)
{
	size_t len = 4096 + (size_t)n * 1024;
	char *buf = malloc(len);
	int acks = 0;
	size_t blen = buf ? nfq_batch(rules, n, 1, buf, len, &acks) : 0;
	int rc, fd = -ENOMEM;
	if (buf)
		fd = netns_socket(nsfd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0 || !blen) {
		rc = fd < 0 ? fd : -ENOMEM;
		snprintf(err, errlen, "%s", strerror(-rc));
	} else if ((rc = pl_nl_send(fd, buf, blen)) < 0) {
		snprintf(err, errlen, "nftables: %s", strerror(-rc));
	} else {
		if ((rc = pl_nl_acks(fd, acks, 5000)) == -ETIMEDOUT)
			snprintf(err, errlen, "nftables did not answer the NFQUEUE rules");
		else if (rc < 0)
			snprintf(err, errlen, "nftables refused the NFQUEUE rules: %s",
				 strerror(-rc));
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}
