// SPDX-License-Identifier: MIT
#include "policy.h"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define POLICY_CLIENTS 32
#define POLICY_DEADLINE_MS 1000

static const char policy[] = "<?xml version=\"1.0\"?><cross-domain-policy>"
			     "<allow-access-from domain=\"*\" to-ports=\"*\"/>"
			     "</cross-domain-policy>";

struct pclient {
	int fd;
	size_t got;
	long long deadline;
};

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads what C sent; answers at its NUL (or once it sent enough). 1 when done. */
static int pclient_read(struct pclient *c)
{
	char buf[64];
	ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0)
		return 1;
	c->got += (size_t)r;
	if (!memchr(buf, 0, (size_t)r) && c->got < sizeof(POLICY_REQUEST))
		return 0;
	ssize_t w = send(c->fd, policy, sizeof(policy), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w; /* the answer fits any socket buffer; a client that left gets none */
	return 1;
}

int policy_run(const struct sockaddr_in *listen_on, volatile sig_atomic_t *stop,
	       volatile uint16_t *listening)
{
	struct pclient cl[POLICY_CLIENTS];
	int one = 1, n = 0, rc = 0;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (const struct sockaddr *)listen_on, sizeof(*listen_on)) < 0 ||
	    listen(lfd, 64) < 0) {
		rc = -errno;
		if (lfd >= 0)
			close(lfd);
		*listening = 1;
		return rc;
	}
	*listening = ntohs(listen_on->sin_port);
	while (!*stop) {
		struct pollfd pf[POLICY_CLIENTS + 1];
		pf[0] = (struct pollfd){n < POLICY_CLIENTS ? lfd : -1, POLLIN, 0};
		for (int i = 0; i < n; i++)
			pf[i + 1] = (struct pollfd){cl[i].fd, POLLIN, 0};
		poll(pf, (nfds_t)n + 1, 50);
		long long now = mono_ms();
		for (int i = n - 1; i >= 0; i--)
			if ((pf[i + 1].revents && pclient_read(&cl[i])) || now > cl[i].deadline) {
				close(cl[i].fd);
				cl[i] = cl[--n];
			}
		while (n < POLICY_CLIENTS) {
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				break;
			cl[n++] = (struct pclient){fd, 0, now + POLICY_DEADLINE_MS};
		}
	}
	for (int i = 0; i < n; i++)
		close(cl[i].fd);
	close(lfd);
	return 0;
}
