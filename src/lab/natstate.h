/* SPDX-License-Identifier: MIT */
/*
 * A NAT node's state in a running lab: its conntrack table and the dynamic
 * maps and sets of its punchlab_nat table (natprofile.c builds it).
 * Resetting both between trials gives every trial a NAT with no mapping of
 * the one before.
 */
#pragma once
#include "topology.h"
#include <stddef.h>
#include <stdint.h>

struct lab_nat;

/* Opens node N of lab LAB; NULL with -errno in *ERR_OUT on failure. */
struct lab_nat *lab_nat_open(const char *lab, const struct topo_node *n, int *err_out);
/* Forgets every mapping: conntrack, and the dynamic maps and sets of the
 * NAT table (owners, bindings, contacted, answered). The conntrack entries
 * made since the last reset are deleted one by one, as conntrack's events
 * named them; the first reset, or one after more than 64 entries or a lost
 * event, empties the table whole. Messages on netlink sockets the handle
 * keeps, no library: 0 or -errno. */
int lab_nat_reset(struct lab_nat *nat);
/* The node's namespace (the handle keeps it open). */
int lab_nat_nsfd(const struct lab_nat *nat);
void lab_nat_close(struct lab_nat *nat);

/* The reset's messages (pure; the unit tests read them). ctnetlink's delete
 * with no tuple, which empties the namespace's IPv4 conntrack table, acked;
 * returns its length, 0 when LEN is too small. */
size_t lab_nat_ct_flush_msg(uint32_t seq, char *buf, size_t len);
/* An nftables batch that empties sets NAMES[0..N) of NAT_TABLE, one
 * acked DELSETELEM without elements each; its length, 0 when LEN is too
 * small. Sequence numbers from SEQ on. */
size_t lab_nat_flush_sets_batch(const char *const *names, int n, uint32_t seq, char *buf,
				size_t len);
