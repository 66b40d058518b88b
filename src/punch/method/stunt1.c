// SPDX-License-Identifier: MIT
/*
 * The low-TTL SYN (Guha & Francis, Characterization and Measurement of TCP
 * Traversal through NATs and Firewalls, IMC 2005, 4.1, STUNT #1's opening
 * step as the issue gives it). Both peers use one local port each, as reuse
 * does, so that S names the port it saw. Peer A, at the go time, sends its
 * SYN to B's endpoint with IP_TTL low enough to pass its own NAT (which maps
 * it) and expire before B's; it then accepts B's SYN on a listener on the
 * same port. B connects STUNT1_DELAY_MS later, with the normal TTL.
 *
 * Why a listener and not the SYN_SENT socket's simultaneous open: the ICMP
 * time-exceeded for the low-TTL SYN comes back through A's NAT (conntrack
 * relates it to the mapping) and Linux's tcp_v4_err() treats it as a hard
 * error in SYN_SENT (EHOSTUNREACH, tcp_done()): the socket is gone before
 * B's SYN arrives. The listener on the same port answers B's SYN instead.
 *
 * The TTL must be at least the hops to A's own NAT + 1 (Linux drops a
 * forwarded packet whose TTL would reach 0 in ip_forward(), before SNAT and
 * before its conntrack entry is confirmed: no mapping), and at most the
 * forwarding hops before B's NAT (a SYN that reaches B's NAT's public
 * address is delivered locally there and meets its unsolicited-SYN rule).
 */
#include "punch/method.h"
#include "punch/peer.h"
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

static bool stunt1_listens(const struct peer_config *c)
{
	return c->role == 'a';
}

static int stunt1_before_connect(const struct peer_config *c, int fd)
{
	if (c->role != 'a')
		return 0;
	int ttl = c->stunt_ttl > 0 ? c->stunt_ttl : STUNT1_DEFAULT_TTL;
	return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ? -errno : 0;
}

/* The SYN is on its way: later segments (the socket's retransmissions
 * aside) would take the host's TTL again (-1: the default) */
static void stunt1_after_connect(const struct peer_config *c, int fd)
{
	int dflt = -1;
	if (c->role == 'a')
		setsockopt(fd, IPPROTO_IP, IP_TTL, &dflt, sizeof(dflt));
}

static double stunt1_go_delay(const struct peer_config *c)
{
	return c->role == 'b' ? STUNT1_DELAY_MS : 0;
}

static const char *stunt1_check(const struct peer_config *c, char *buf, size_t len)
{
	if (c->use_proxy) {
		snprintf(buf, len, "stunt1 sets the TTL of its own SYN: it cannot go through a proxy");
		return buf;
	}
	return NULL;
}

const struct punch_method_ops method_stunt1 = {
    .name = "stunt1",
    .help = "peer A's SYN with a low TTL opens its NAT's mapping and dies before B's NAT; "
	    "A accepts B's SYN on a listener on the same port",
    .citation = "Guha & Francis, Characterization and Measurement of TCP Traversal through "
		"NATs and Firewalls, IMC 2005, 4.1 (STUNT #1's low-TTL SYN)",
    .id = METHOD_STUNT1,
    .probes = 1,
    .server_heuristic = "preserve",
    .one_port = true,
    .listens = stunt1_listens,
    .before_connect = stunt1_before_connect,
    .after_connect = stunt1_after_connect,
    .go_delay_ms = stunt1_go_delay,
    .check = stunt1_check,
};
