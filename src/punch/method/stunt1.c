// SPDX-License-Identifier: MIT
/*
 * The low-TTL SYN (Guha & Francis, Characterization and Measurement of TCP
 * Traversal through NATs and Firewalls, IMC 2005, 4.1, STUNT #1's opening
 * step as issue 11 gives it). Both peers use one local port each, as reuse
 * does, so that S names the port it saw. Peer A, at the go time, sends its
 * SYN to B's endpoint with IP_TTL low enough to pass its own NAT (which maps
 * it) and expire before B's, then restores the TTL; B connects
 * STUNT1_DELAY_MS later with the normal TTL, and A's socket, still in
 * SYN_SENT, answers B's SYN: a simultaneous open.
 *
 * Why the SYN_SENT socket and not a listener on the same port: A's NAT
 * tracked the low-TTL SYN's sequence number, and a listener's SYN-ACK
 * carries a new one. Measured on Linux 6.18: conntrack finds that SYN-ACK
 * out of window, leaves it INVALID and untranslated (it left nat-a with
 * peer A's private source), and B's NAT reset it. The SYN_SENT socket's
 * SYN-ACK repeats its first sequence number. For that socket to live, A's
 * host ignores the ICMP time-exceeded the expired SYN brings back
 * (STUNT1_HOST_NFT, method.h): Linux would abort a SYN_SENT socket on it.
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
#include <sys/socket.h>

static const char *stunt1_host_nft(char role)
{
	return role == 'a' ? STUNT1_HOST_NFT : NULL;
}

static int stunt1_before_connect(const struct peer_config *c, int fd)
{
	if (c->role != 'a')
		return 0;
	int ttl = c->stunt_ttl > 0 ? c->stunt_ttl : STUNT1_DEFAULT_TTL;
	return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ? -errno : 0;
}

/* The SYN is on its way: the SYN-ACK that answers B's SYN must reach B,
 * so the socket takes the host's TTL again (-1: the default) */
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
	(void)buf, (void)len;
	if (c->use_proxy)
		return "stunt1 sets the TTL of its own SYN: it cannot go through a proxy";
	/* the first forwarder drops a packet that reaches it with TTL 1, and a
	 * NAT forwards: no NAT is nearer than that (a topology knows more:
	 * `run --dry-run` checks the hops to peer A's NAT) */
	if (c->role == 'a' && c->stunt_ttl == 1)
		return "--ttl 1 reaches no NAT: the SYN expires at hop 1, the first router or NAT, "
		       "before it is mapped; a NAT that is the gateway needs at least 2";
	return NULL;
}

const struct punch_method_ops method_stunt1 = {
    .name = "stunt1",
    .help = "peer A's SYN with a low TTL opens its NAT's mapping and dies before B's NAT; "
	    "B's SYN then meets A's socket in SYN_SENT",
    .citation = "Guha & Francis, Characterization and Measurement of TCP Traversal through "
		"NATs and Firewalls, IMC 2005, 4.1 (STUNT #1's low-TTL SYN)",
    .id = METHOD_STUNT1,
    .probes = 1,
    .server_heuristic = "preserve",
    .one_port = true,
    .host_nft = stunt1_host_nft,
    .before_connect = stunt1_before_connect,
    .after_connect = stunt1_after_connect,
    .go_delay_ms = stunt1_go_delay,
    .check = stunt1_check,
};
