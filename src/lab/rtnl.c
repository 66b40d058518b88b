// SPDX-License-Identifier: MIT
#include "rtnl.h"
#include "netns.h"
#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

int rtnl_open_in(int nsfd, struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int saved = -1, rc;

	*out = NULL;
	if (!sk)
		return -NLE_NOMEM;
	if (nsfd >= 0 && netns_enter(nsfd, &saved) < 0) {
		nl_socket_free(sk);
		return -NLE_OBJ_NOTFOUND;
	}
	rc = nl_connect(sk, NETLINK_ROUTE);
	netns_leave(saved);
	if (rc < 0) {
		nl_socket_free(sk);
		return rc;
	}
	*out = sk;
	return 0;
}

void rtnl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

int rtnl_veth_add(struct nl_sock *sk, const char *name, int peer_nsfd, const char *peer_name,
		  int master_ifindex)
{
	struct rtnl_link *link = rtnl_link_veth_alloc(), *peer;
	int rc;

	if (!link)
		return -NLE_NOMEM;
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, name);
	rtnl_link_set_flags(link, IFF_UP);
	if (master_ifindex > 0)
		rtnl_link_set_master(link, master_ifindex);
	rtnl_link_set_name(peer, peer_name);
	/* not IFF_UP: the kernel configures the peer before it is paired, and
	 * opening an unpaired veth fails with ENOTCONN; its node brings it up */
	/* the peer is born in its namespace: its name never exists here */
	rtnl_link_set_ns_fd(peer, peer_nsfd);
	rc = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_put(link);
	return rc;
}

int rtnl_bridge_add(struct nl_sock *sk, const char *name, int *ifindex)
{
	struct rtnl_link *link = rtnl_link_bridge_alloc();
	int rc;

	if (!link)
		return -NLE_NOMEM;
	rtnl_link_set_name(link, name);
	rtnl_link_set_flags(link, IFF_UP);
	rc = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(link);
	if (rc < 0)
		return rc;
	return rtnl_ifindex(sk, name, ifindex);
}

int rtnl_ifindex(struct nl_sock *sk, const char *name, int *ifindex)
{
	struct rtnl_link *link;
	int rc = rtnl_link_get_kernel(sk, 0, name, &link);

	if (rc < 0)
		return rc;
	*ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return 0;
}

int rtnl_link_up(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *orig, *change;
	int rc = rtnl_link_get_kernel(sk, 0, name, &orig);

	if (rc < 0)
		return rc;
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(orig);
		return -NLE_NOMEM;
	}
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(sk, orig, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return rc;
}

int rtnl_addr4_add(struct nl_sock *sk, int ifindex, uint32_t addr, int plen)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(AF_INET, &addr, sizeof(addr));
	int rc = -NLE_NOMEM;

	if (!ra || !local)
		goto out;
	nl_addr_set_prefixlen(local, plen);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, AF_INET);
	if ((rc = rtnl_addr_set_local(ra, local)) < 0)
		goto out;
	rc = rtnl_addr_add(sk, ra, 0);
out:
	nl_addr_put(local);
	rtnl_addr_put(ra);
	return rc;
}

int rtnl_route4_add(struct nl_sock *sk, uint32_t dst, int plen, uint32_t via)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct nl_addr *d = nl_addr_build(AF_INET, &dst, sizeof(dst));
	struct nl_addr *gw = nl_addr_build(AF_INET, &via, sizeof(via));
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	int rc = -NLE_NOMEM;

	if (!rt || !d || !gw || !nh)
		goto out;
	nl_addr_set_prefixlen(d, plen);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(rt, RTN_UNICAST);
	if ((rc = rtnl_route_set_dst(rt, d)) < 0)
		goto out;
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(rt, nh);
	nh = NULL; /* owned by the route now */
	rc = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(gw);
	nl_addr_put(d);
	rtnl_route_put(rt);
	return rc;
}
