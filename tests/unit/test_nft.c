// SPDX-License-Identifier: MIT
/* What takes a cell's host rules out of a lab that the next cell gets
 * (nft_undo_script), the lab key that decides which cells share one, and the
 * netlink messages written by hand: the NFQUEUE rules and a NAT's reset. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "lab/nft.h"
#include "punch/method.h"
#include "punch/osprof.h"
#include "run/cell.h"

Test(nft_undo, removes_each_table_the_script_makes)
{
	char *u = nft_undo_script(OS_SYN_SENT_RST_NFT);
	cr_assert_str_eq(u, "table inet punchlab_quirks\ndelete table inet punchlab_quirks\n");
	free(u);
	u = nft_undo_script(STUNT1_HOST_NFT);
	cr_assert_str_eq(u, "table inet punchlab_stunt1\ndelete table inet punchlab_stunt1\n");
	free(u);
}

Test(nft_undo, every_table_once_per_opening_and_nothing_else)
{
	const char *script = "table ip a\ndelete table ip a\n"
			     "table ip a {\n\tchain c {\n\t}\n}\n"
			     "table inet b\t{\n}\n"
			     "  table ip indented {\n}\n"
			     "add rule ip a c accept\n"
			     "table {\n}\n";
	char *u = nft_undo_script(script);
	cr_assert_str_eq(u, "table ip a\ndelete table ip a\ntable inet b\ndelete table inet b\n");
	free(u);
}

Test(nft_undo, a_script_without_tables_undoes_nothing)
{
	char *u = nft_undo_script("flush ruleset\n");
	cr_assert_str_eq(u, "");
	free(u);
	u = nft_undo_script("");
	cr_assert_str_eq(u, "");
	free(u);
}

static struct cell cell_of(char *topo, const char *nat, double delay)
{
	struct cell c = {
	    .topology = topo, .hairpin = -1, .delay_ms = delay, .jitter_ms = -1, .jitter_dist = -1};
	snprintf(c.nat, sizeof(c.nat), "%s", nat);
	snprintf(c.os_a, sizeof(c.os_a), "windows-xp");
	return c;
}

Test(lab_key, the_same_lab_whatever_the_hosts)
{
	char topo[] = "/t/two-nats.json", other[] = "/t/public.json";
	struct cell a = cell_of(topo, "home-2009", -1), b = a;
	snprintf(b.os_a, sizeof(b.os_a), "linux-2.6");
	b.method = 1;
	char *ka = cell_lab_key(&a), *kb = cell_lab_key(&b);
	cr_assert_str_eq(ka, kb, "hosts and methods run in any lab");
	struct cell diff[] = {cell_of(topo, "rfc5382", -1),   cell_of(other, "home-2009", -1),
			      cell_of(topo, "home-2009", 5),  cell_of(topo, "home-2009", -1),
			      cell_of(topo, "home-2009", -1), cell_of(topo, "home-2009", -1)};
	diff[3].hairpin = 1;
	diff[4].jitter_ms = 1;
	diff[5].jitter_dist = 1;
	for (size_t i = 0; i < sizeof(diff) / sizeof(diff[0]); i++) {
		char *k = cell_lab_key(&diff[i]);
		cr_assert_str_neq(ka, k, "cell %zu needs a lab of its own", i);
		free(k);
	}
	free(ka);
	free(kb);
}

/* The NFQUEUE rules' batch: begin, the table, a chain per hook used, a rule
 * each, end; each rule naming its interface and the NFQUEUE target. */
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include "lab/natstate.h"
#include "lab/nlmsg.h"
#include "lab/nfq.h"
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

static bool holds(const char *buf, size_t len, const void *what, size_t n)
{
	return memmem(buf, len, what, n) != NULL;
}

Test(nfq_batch, a_table_two_chains_and_three_rules)
{
	struct nfq_rule r[3] = {
	    {.hook = NFQ_POSTROUTING, .ifname = "internet", .queue = 1},
	    {.hook = NFQ_PREROUTING, .ifname = "internet", .queue = 2},
	    {.hook = NFQ_PREROUTING, .ifname = "lan-a", .queue = 3},
	};
	char buf[8192];
	int acks = 0;
	size_t len = nfq_batch(r, 3, 1, buf, sizeof(buf), &acks);
	cr_assert_gt(len, 0);
	int msgs = 0;
	uint32_t last_seq = 0;
	size_t left = len;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
	     h = NLMSG_NEXT(h, left)) {
		msgs++;
		last_seq = h->nlmsg_seq;
	}
	cr_assert_eq(left, 0, "the messages fill the batch exactly");
	cr_assert_eq(msgs, 1 + 1 + 2 + 3 + 1, "begin, table, two chains, three rules, end");
	cr_assert_eq(last_seq, 8, "sequence numbers from 1, the end last");
	cr_assert(holds(buf, len, "punchlab_delay", 15));
	cr_assert(holds(buf, len, "NFQUEUE", 8));
	cr_assert(holds(buf, len, "lan-a", 6));
	cr_assert(!holds(buf, len, "input", 6), "no rule asked for the input hook");
	cr_assert_eq(acks, 1 + 2 + 3, "the table, two chains and three rules are acked");
	cr_assert_eq(nfq_batch(r, 3, 1, buf, 200, NULL), 0, "too small a buffer is refused");
}

Test(nat_reset, a_conntrack_delete_and_a_batch_of_set_flushes)
{
	char buf[1024] __attribute__((aligned(4)));
	size_t len = lab_nat_ct_flush_msg(7, buf, sizeof(buf));
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	cr_assert_eq(len, NLMSG_SPACE(sizeof(struct nfgenmsg)), "a header and nothing else");
	cr_assert_eq(h->nlmsg_type, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE);
	cr_assert_eq(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK, "acked");
	cr_assert_eq(((const struct nfgenmsg *)NLMSG_DATA(h))->nfgen_family, AF_INET);
	cr_assert_eq(lab_nat_ct_flush_msg(7, buf, 16), 0, "too small a buffer is refused");

	const char *const sets[] = {"owners", "answered"};
	len = lab_nat_flush_sets_batch(sets, 2, 2, buf, sizeof(buf));
	cr_assert_gt(len, 0);
	uint16_t types[8];
	int msgs = 0, acked = 0;
	size_t left = len;
	for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, left) && msgs < 8;
	     h = NLMSG_NEXT(h, left)) {
		types[msgs++] = h->nlmsg_type;
		acked += !!(h->nlmsg_flags & NLM_F_ACK);
	}
	cr_assert_eq(left, 0, "the messages fill the batch exactly");
	cr_assert_eq(msgs, 4, "begin, a flush a set, end");
	cr_assert_eq(types[0], NFNL_MSG_BATCH_BEGIN);
	cr_assert_eq(types[1], NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELSETELEM);
	cr_assert_eq(types[2], NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELSETELEM);
	cr_assert_eq(types[3], NFNL_MSG_BATCH_END);
	cr_assert_eq(acked, 2, "each flush acked, the batch's ends not: lab_nat_reset counts them");
	cr_assert(holds(buf, len, "punchlab_nat", 13));
	cr_assert(holds(buf, len, "answered", 9));
	cr_assert(!holds(buf, len, "bindings", 9));
	cr_assert_eq(lab_nat_flush_sets_batch(sets, 2, 2, buf, 64), 0, "too small: refused");
}

Test(nlmsg, an_attribute_found_by_type_whole_or_not_at_all)
{
	char buf[256] __attribute__((aligned(4)));
	struct nlw w = {.buf = buf, .len = sizeof(buf)};
	size_t m = nlw_msg(&w, 1, 0, 1, AF_INET, 0);
	nlw_put_u32(&w, 3, 0x01020304);
	nlw_put_str(&w, 5, "answered");
	nlw_msg_end(&w, m);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	const struct nlattr *a = pl_nl_attr(h, 5);
	cr_assert_not_null(a);
	cr_assert_str_eq((const char *)a + NLA_HDRLEN, "answered");
	cr_assert_eq(pl_nl_attr(h, 3)->nla_len, NLA_HDRLEN + 4);
	cr_assert_null(pl_nl_attr(h, 4), "no attribute 4");
	/* a message cut inside its second attribute: the first still found,
	 * the cut one not */
	h->nlmsg_len -= 4;
	cr_assert_not_null(pl_nl_attr(h, 3));
	cr_assert_null(pl_nl_attr(h, 5));
}
