// SPDX-License-Identifier: MIT
#include "natstate.h"
#include "lab.h"
#include "natprofile.h"
#include "netns.h"
#include "nlmsg.h"
#include "util/fs.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

/* Built once when the NAT opens: a reset sends them as they are. The
 * library this replaced (libnftables' "flush map", with its cache of the
 * ruleset fetched first) took 4 ms a NAT a trial. */
struct lab_nat {
	int nsfd;
	int nl; /* NETLINK_NETFILTER in the namespace; -1 until a reset opens it */
	int nsets;
	size_t ct_len, batch_len;
	char ct_msg[64] __attribute__((aligned(NLMSG_ALIGNTO)));
	char batch[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
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
	nat->nl = -1;
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
	if (!nat->ct_len || (nat->nsets && !nat->batch_len)) {
		*err_out = -ENOBUFS;
		lab_nat_close(nat);
		return NULL;
	}
	return nat;
}

int lab_nat_reset(struct lab_nat *nat)
{
	int saved, rc;
	if (nat->nl < 0) {
		if ((rc = netns_enter(nat->nsfd, &saved)) < 0)
			return rc;
		nat->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
		rc = nat->nl < 0 ? -errno : 0;
		netns_leave(saved);
		if (rc < 0)
			return rc;
		nat->nl = fd_park(nat->nl); /* above what libnftables select()s */
	}
	/* conntrack first, as before: nothing creates a set element after it */
	rc = pl_nl_send(nat->nl, nat->ct_msg, nat->ct_len);
	if (rc == 0 && nat->nsets)
		rc = pl_nl_send(nat->nl, nat->batch, nat->batch_len);
	if (rc == 0)
		rc = pl_nl_acks(nat->nl, 1 + nat->nsets, 5000);
	if (rc < 0) { /* acks may be left unread: the next reset starts afresh */
		close(nat->nl);
		nat->nl = -1;
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
	if (nat->nsfd >= 0)
		close(nat->nsfd);
	free(nat);
}
