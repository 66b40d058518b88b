/* SPDX-License-Identifier: MIT */
/*
 * The rules that hand packets to a delay helper's queues (NFQUEUE, the
 * xtables target: this kernel has no nft `queue`), written into a
 * namespace's nftables as one netlink batch: the table `ip punchlab_delay`
 * with a base chain per hook at the mangle priority (-150), each rule an
 * interface match and, for RFC 5382 REQ-4's hold, a TCP SYN of a new
 * connection without the hold's mark, then the compat target NFQUEUE.
 * What iptables-nft-restore made before, without a process per node.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nfq_hook { NFQ_PREROUTING, NFQ_INPUT, NFQ_POSTROUTING };

struct nfq_rule {
	enum nfq_hook hook;
	char ifname[16]; /* -i IFNAME (prerouting, input), -o IFNAME (postrouting) */
	uint16_t queue;
	bool syn_unmarked; /* and only TCP SYNs of new connections, without MARK */
	uint32_t mark;
};

/* Writes RULES into NSFD's nftables, one transaction: 0, or -errno with
 * the kernel's refusal in ERR. */
int nfq_rules_apply(int nsfd, const struct nfq_rule *rules, int n, char *err, size_t errlen);

/* The messages of that transaction into BUF (LEN bytes), sequence numbers
 * from SEQ on: their length, or 0 when BUF is too small. *ACKS (if given)
 * gets how many of them ask for an acknowledgement: every one between the
 * batch's ends (the table, a chain per hook used, the rules). */
size_t nfq_batch(const struct nfq_rule *rules, int n, uint32_t seq, char *buf, size_t len,
		 int *acks);
