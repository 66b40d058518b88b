// SPDX-License-Identifier: MIT
/*
 * P2PNAT's port reuse (Ford, Srisuresh & Kegel, USENIX 2005, 4): one local
 * port, bound with SO_REUSEADDR and SO_REUSEPORT, for the connection to S and
 * for the punch, and listened on too. Behind an endpoint-independent mapping
 * the port S saw is the punch's: no prediction.
 */
#include "punch/method.h"
#include "punch/peer.h"
#include <errno.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int method_port_bind(struct method_port *mp, int fd)
{
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(mp->port)};
	if (!mp->port && mp->host && mp->host->ops->next) {
		/* the first socket takes its port from the emulated host's allocator */
		struct os_dest d = {mp->local_addr, mp->server_addr, mp->server_port};
		mp->port = os_host_port(mp->host, &d, now_s(), method_port_taken, &fd);
		return mp->port ? 0 : (errno = EADDRNOTAVAIL, -1);
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	socklen_t l = sizeof(a);
	if (!mp->port && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		mp->port = ntohs(a.sin_port);
	return 0;
}

/* P2PNAT keeps its connection to S open: closing the probe connection would
 * leave its tuple in TIME_WAIT on the port the punch needs. An abortive
 * close (SO_LINGER 0) ends the last one without. */
void method_port_keep(struct method_port *mp, int fd)
{
	struct linger lg = {1, 0};
	if (mp->keep_fd >= 0) {
		setsockopt(mp->keep_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(mp->keep_fd);
	}
	mp->keep_fd = fd;
}

int method_port_listen(struct method_port *mp)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && (method_port_bind(mp, fd) < 0 || listen(fd, 4) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* P2PNAT listens on its port too: the other's SYN may come first */
static bool reuse_listens(const struct peer_config *c)
{
	(void)c;
	return true;
}

const struct punch_method_ops method_reuse = {
    .name = "reuse",
    .help = "one local port (SO_REUSEADDR/SO_REUSEPORT) for S and the punch, listened on "
	    "too; S names the port it saw",
    .citation = "Ford, Srisuresh & Kegel, Peer-to-Peer Communication Across Network Address "
		"Translators, USENIX 2005, 4",
    .id = METHOD_REUSE,
    .probes = 1,
    .server_heuristic = "preserve",
    .one_port = true,
    .listens = reuse_listens,
};
