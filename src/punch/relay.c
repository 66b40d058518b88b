// SPDX-License-Identifier: MIT
#include "relay.h"
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum rstate { R_LINE, R_WAIT, R_PAIRED };

struct rconn {
	int fd;	       /* -1: a free slot */
	uint32_t from; /* the client's address */
	enum rstate st;
	char role;
	char key[33];
	char line[RELAY_LINE_MAX];
	size_t nline;
	int other;	      /* R_PAIRED: its partner's slot */
	uint8_t *buf;	      /* R_PAIRED: read from fd, not yet written to the partner */
	size_t len;	      /* bytes in buf */
	bool eof;	      /* fd said EOF (or failed): close the pair once buf is out */
	unsigned long long n; /* bytes relayed from fd */
	double deadline;      /* ms (monotonic) */
};

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int relay_line(const uint8_t key[16], char role, char *buf)
{
	static const char hx[] = "0123456789abcdef";
	int n = snprintf(buf, RELAY_LINE_MAX, "RELAY ");
	for (int i = 0; i < 16; i++) {
		buf[n++] = hx[key[i] >> 4];
		buf[n++] = hx[key[i] & 15];
	}
	return n + snprintf(buf + n, RELAY_LINE_MAX - (size_t)n, " %c\n", role);
}

static void rc_close(struct rconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Both ends of pair I; one log line with what each side sent. */
static void pair_close(const struct relay_config *cfg, struct rconn *cs, int i)
{
	int j = cs[i].other;
	if (cfg->log)
		fprintf(cfg->log,
			"{\"event\": \"relay-end\", \"key\": \"%s\", \"bytes_a\": %llu, "
			"\"bytes_b\": %llu}\n",
			cs[i].key, cs[i].role == 'a' ? cs[i].n : cs[j].n,
			cs[i].role == 'a' ? cs[j].n : cs[i].n);
	rc_close(&cs[j]);
	rc_close(&cs[i]);
}

/* The line of connection I is whole: checked, then paired or waiting.
 * Returns false when it is refused (the caller closes it). */
static bool line_done(struct rconn *cs, int i, double now)
{
	struct rconn *c = &cs[i];
	char key[33], role, nl;
	if (c->nline != 6 + 32 + 3 || strncmp(c->line, "RELAY ", 6) ||
	    sscanf(c->line + 6, "%32[0-9a-f] %c%c", key, &role, &nl) != 3 || strlen(key) != 32 ||
	    (role != 'a' && role != 'b') || nl != '\n')
		return false;
	for (int k = 0; k < RELAY_MAX_CONNS; k++)
		if (k != i && cs[k].fd >= 0 && cs[k].st != R_LINE && !strcmp(cs[k].key, key) &&
		    (cs[k].st == R_PAIRED || cs[k].role == role))
			return false; /* the role is taken, or the key is in use */
	memcpy(c->key, key, sizeof(key));
	c->role = role;
	c->st = R_WAIT;
	c->deadline = now + RELAY_PARTNER_MS;
	for (int k = 0; k < RELAY_MAX_CONNS; k++)
		if (k != i && cs[k].fd >= 0 && cs[k].st == R_WAIT && !strcmp(cs[k].key, key)) {
			if (!(c->buf = malloc(RELAY_BUF)) || !(cs[k].buf = malloc(RELAY_BUF)))
				return false;
			c->st = cs[k].st = R_PAIRED;
			c->other = k;
			cs[k].other = i;
			c->deadline = cs[k].deadline = now + RELAY_IDLE_MS;
		}
	return true;
}

/* Reads the line byte by byte, so that nothing after it is taken from the
 * socket before the pair is made. */
static bool read_line(struct rconn *cs, int i, double now)
{
	struct rconn *c = &cs[i];
	ssize_t r = recv(c->fd, c->line + c->nline, 1, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (r <= 0)
		return false;
	if (c->line[c->nline++] != '\n')
		return c->nline < sizeof(c->line);
	return line_done(cs, i, now);
}

/* Pair member I: reads into its buffer (REVENTS on its fd), writes its
 * buffer to the partner (OREVENTS on the partner's). False: close the pair. */
static bool pump(struct rconn *cs, int i, short revents, short orevents, double now)
{
	struct rconn *c = &cs[i], *o = &cs[c->other];
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->eof && c->len < RELAY_BUF) {
		ssize_t r = recv(c->fd, c->buf + c->len, RELAY_BUF - c->len, MSG_DONTWAIT);
		if (r > 0) {
			c->len += (size_t)r;
			c->n += (unsigned long long)r;
			c->deadline = o->deadline = now + RELAY_IDLE_MS;
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
		}
	}
	if ((orevents & (POLLOUT | POLLERR | POLLHUP)) && c->len) {
		ssize_t w = send(o->fd, c->buf, c->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (w > 0) {
			memmove(c->buf, c->buf + w, c->len - (size_t)w);
			c->len -= (size_t)w;
		}
	}
	return !(c->eof && !c->len);
}

/* A new connection into a free slot; without one it is closed at once. */
static void relay_accept(int lfd, struct rconn *cs, double now)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1, same = 0,
	    fd = accept4(lfd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int k = 0; k < RELAY_MAX_CONNS; k++)
		same += cs[k].fd >= 0 && cs[k].from == a.sin_addr.s_addr;
	if (same >= RELAY_MAX_PER_ADDR) { /* one client cannot take every slot */
		close(fd);
		return;
	}
	/* a relay adds its detour, not Nagle's wait for an ACK */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int k = 0; k < RELAY_MAX_CONNS; k++)
		if (cs[k].fd < 0) {
			cs[k].fd = fd;
			cs[k].from = a.sin_addr.s_addr;
			cs[k].st = R_LINE;
			cs[k].deadline = now + RELAY_LINE_MS;
			return;
		}
	close(fd);
}

/* The events each slot waits for, into PF (slot K at PF[K + 1]). */
static void relay_events(const struct rconn *cs, struct pollfd *pf)
{
	for (int k = 0; k < RELAY_MAX_CONNS; k++) {
		const struct rconn *c = &cs[k];
		pf[k + 1] = (struct pollfd){c->fd, 0, 0};
		if (c->fd < 0)
			continue;
		if (c->st == R_LINE)
			pf[k + 1].events = POLLIN;
		if (c->st == R_PAIRED) {
			const struct rconn *o = &cs[c->other];
			pf[k + 1].events = (short)((!c->eof && c->len < RELAY_BUF ? POLLIN : 0) |
						   (o->len ? POLLOUT : 0));
		}
	}
}

static int relay_listen(const struct relay_config *cfg, uint16_t *listening)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = cfg->listen;
	socklen_t l = sizeof(a);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (listening)
		*listening = ntohs(a.sin_port);
	return fd;
}

int relay_run(const struct relay_config *cfg, volatile sig_atomic_t *stop, uint16_t *listening)
{
	int lfd = relay_listen(cfg, listening);
	struct rconn *cs = calloc(RELAY_MAX_CONNS, sizeof(*cs));
	struct pollfd *pf = calloc(RELAY_MAX_CONNS + 1, sizeof(*pf));
	if (lfd < 0 || !cs || !pf) {
		free(cs);
		free(pf);
		if (lfd >= 0)
			close(lfd);
		return lfd < 0 ? lfd : -ENOMEM;
	}
	for (int k = 0; k < RELAY_MAX_CONNS; k++)
		cs[k].fd = -1;
	while (!*stop) {
		pf[0] = (struct pollfd){lfd, POLLIN, 0};
		relay_events(cs, pf);
		if (poll(pf, RELAY_MAX_CONNS + 1, 100) < 0 && errno != EINTR)
			break;
		double now = mono_ms();
		for (int k = 0; k < RELAY_MAX_CONNS; k++) {
			struct rconn *c = &cs[k];
			if (c->fd < 0)
				continue;
			bool ok =
			    c->st == R_LINE && (pf[k + 1].revents & (POLLIN | POLLHUP | POLLERR))
				? read_line(cs, k, now)
				: true;
			if (ok && c->st == R_PAIRED)
				ok = pump(cs, k, pf[k + 1].revents, pf[c->other + 1].revents, now);
			if (ok && now > c->deadline)
				ok = false;
			if (!ok && c->st == R_PAIRED)
				pair_close(cfg, cs, k);
			else if (!ok)
				rc_close(c);
		}
		if (pf[0].revents & POLLIN)
			relay_accept(lfd, cs, now);
	}
	for (int k = 0; k < RELAY_MAX_CONNS; k++)
		rc_close(&cs[k]);
	free(cs);
	free(pf);
	close(lfd);
	return 0;
}
