/* SPDX-License-Identifier: MIT */
/*
 * Links, addresses and routes over rtnetlink (libnl-route). Every call acts on
 * the namespace its socket was opened in (rtnl_open_in). Returns 0 or a
 * negative libnl error (nl_geterror(-rc) names it).
 */
#pragma once
#include <stdint.h>

struct nl_sock;

/* A NETLINK_ROUTE socket bound to namespace NSFD (-1: the caller's). */
int rtnl_open_in(int nsfd, struct nl_sock **out);
void rtnl_close(struct nl_sock *sk);

/* veth NAME in the socket's namespace, up, enslaved to bridge MASTER_IFINDEX
 * when > 0; its peer PEER_NAME in PEER_NSFD, down. */
int rtnl_veth_add(struct nl_sock *sk, const char *name, int peer_nsfd, const char *peer_name,
		  int master_ifindex);
int rtnl_bridge_add(struct nl_sock *sk, const char *name, int *ifindex);
int rtnl_link_up(struct nl_sock *sk, const char *name);
int rtnl_ifindex(struct nl_sock *sk, const char *name, int *ifindex);
int rtnl_addr4_add(struct nl_sock *sk, int ifindex, uint32_t addr, int plen);
/* via 0: on-link route out of IFINDEX */
int rtnl_route4_add(struct nl_sock *sk, uint32_t dst, int plen, uint32_t via);
