// SPDX-License-Identifier: MIT
/*
 * A relay through S, like TURN over TCP (RFC 6062): both peers connect to
 * the relay beside S (punch/relay.h) at S's go time, name the punch's nonce
 * and their role, and the relay copies bytes between them. It connects
 * wherever S's host is reachable, at the price of the detour; no SYN goes
 * from peer to peer. S's side is the usual rounds (one probe, `preserve`):
 * they pair the peers and hand out the nonce and the go time.
 */
#include "punch/method.h"
#include "punch/peer.h"
#include "punch/relay.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in relay_addr(const struct peer_config *c)
{
	struct sockaddr_in a = c->relay;
	if (!a.sin_port) {
		a = c->server;
		a.sin_port = htons((uint16_t)(ntohs(c->server.sin_port) + 1));
	}
	return a;
}

static int relay_connect(const struct peer_config *c, const uint8_t *nonce, int timeout_ms)
{
	struct sockaddr_in a = relay_addr(c);
	int e = 0, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		e = -errno;
	struct pollfd pf = {fd, POLLOUT, 0};
	socklen_t l = sizeof(int);
	if (!e && poll(&pf, 1, timeout_ms) <= 0)
		e = -ETIMEDOUT;
	if (!e && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e))
		e = -(e ? e : errno);
	char line[RELAY_LINE_MAX];
	int n = relay_line(nonce, c->role, line);
	if (!e && send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		e = -EPROTO;
	if (e) {
		close(fd);
		return e;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static const char *relay_check(const struct peer_config *c, char *buf, size_t len)
{
	(void)buf, (void)len;
	return c->use_proxy ? "relay connects to S's host itself: it takes no proxy" : NULL;
}

const struct punch_method_ops method_relay = {
    .name = "relay",
    .help = "both peers connect to a relay beside S, which copies their bytes (no punch)",
    .citation = "RFC 6062, Traversal Using Relays around NAT (TURN) Extensions for TCP "
		"Allocations",
    .id = METHOD_RELAY,
    .probes = 1,
    .server_heuristic = "preserve",
    .connect_other = relay_connect,
    .check = relay_check,
};
