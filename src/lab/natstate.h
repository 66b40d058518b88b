/* SPDX-License-Identifier: MIT */
/*
 * A NAT node's state in a running lab: its conntrack table and, with
 * hairpinning, the owners map of its punchlab_nat table (natprofile.c builds
 * it). Resetting both between trials gives every trial a NAT with no mapping
 * of the one before.
 */
#pragma once
#include "topology.h"

struct lab_nat;

/* Opens node N of lab LAB; NULL with -errno in *ERR_OUT on failure. */
struct lab_nat *lab_nat_open(const char *lab, const struct topo_node *n, int *err_out);
/* Forgets every mapping: conntrack, and the dynamic maps and sets of the
 * NAT table (owners, bindings, contacted, answered). 0 or -errno. */
int lab_nat_reset(struct lab_nat *nat);
/* The node's namespace (the handle keeps it open). */
int lab_nat_nsfd(const struct lab_nat *nat);
void lab_nat_close(struct lab_nat *nat);
