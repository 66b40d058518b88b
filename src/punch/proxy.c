// SPDX-License-Identifier: MIT
#include "proxy.h"
#include "util/endpoint.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RELAY_BUF 16384

void proxy_config_defaults(struct proxy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen.sin_family = AF_INET;
	c->listen.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->port_base = 20000;
	c->connect_timeout_ms = 10000;
	c->max_clients = 1024;
}

int socks_parse_greeting(const uint8_t *buf, size_t n, int *noauth)
{
	if (n < 2)
		return 0;
	if (buf[0] != 5)
		return -1;
	if (n < 2 + (size_t)buf[1])
		return 0;
	*noauth = 0;
	for (int i = 0; i < buf[1]; i++)
		if (buf[2 + i] == 0)
			*noauth = 1;
	return 2 + buf[1];
}

int socks_parse_request(const uint8_t *buf, size_t n, uint32_t *addr, uint16_t *port)
{
	if (n < 4)
		return 0;
	if (buf[0] != 5 || buf[2] != 0)
		return -1; /* general failure: not a SOCKS5 request */
	size_t need;
	switch (buf[3]) {
	case 1:
		need = 4 + 4 + 2;
		break;
	case 3:
		if (n < 5)
			return 0;
		need = 4 + 1 + buf[4] + 2;
		break;
	case 4:
		need = 4 + 16 + 2;
		break;
	default:
		return -8; /* address type not supported */
	}
	if (n < need)
		return 0;
	if (buf[1] != 1)
		return -7; /* only CONNECT */
	if (buf[3] != 1)
		return -8; /* IPv4 only: the lab and the paper are IPv4 */
	memcpy(addr, buf + 4, 4);
	*port = (uint16_t)(buf[8] << 8 | buf[9]);
	if (*port == 0)
		return -1;
	return (int)need;
}

enum { PX_GREETING, PX_REQUEST, PX_CONNECTING, PX_RELAY, PX_DEAD };

struct pconn {
	int cfd, ofd; /* client (loopback) side, outside side */
	int state;
	uint8_t in[300];
	size_t inlen;
	int64_t deadline;
	uint16_t local_port;
	/* relay buffers: c2o carries client bytes to the outside */
	char *c2o, *o2c;
	size_t c2o_len, c2o_off, o2c_len, o2c_off;
	bool c_eof, o_eof;   /* read side finished */
	bool c_shut, o_shut; /* write side shut down after the other's EOF */
	struct sockaddr_in target;
};

struct px {
	const struct proxy_config *c;
	int ep, lfd;
	uint32_t next_port; /* offset from port_base */
	int nclients;
	/* every connection, for timeouts and shutdown */
	struct pconn **all;
	size_t nall, capall;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tags in epoll data: the pointer with its low bit saying which side */
static void *tag(struct pconn *p, int outside)
{
	return (void *)((uintptr_t)p | (uintptr_t)outside);
}

static void px_free(struct px *x, struct pconn *p)
{
	if (p->cfd >= 0) {
		epoll_ctl(x->ep, EPOLL_CTL_DEL, p->cfd, NULL);
		close(p->cfd);
	}
	if (p->ofd >= 0) {
		epoll_ctl(x->ep, EPOLL_CTL_DEL, p->ofd, NULL);
		close(p->ofd);
	}
	free(p->c2o);
	free(p->o2c);
	free(p);
	x->nclients--;
}

static void reply(struct pconn *p, uint8_t rep)
{
	uint8_t r[10] = {5, rep, 0, 1};
	struct sockaddr_in me = {0};
	socklen_t l = sizeof(me);
	/* the outside endpoint, also on failure: the peer reports it to S */
	if (p->ofd >= 0)
		getsockname(p->ofd, (struct sockaddr *)&me, &l);
	memcpy(r + 4, &me.sin_addr.s_addr, 4);
	r[8] = (uint8_t)(p->local_port >> 8);
	r[9] = (uint8_t)p->local_port;
	if (send(p->cfd, r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(r))
		p->state = PX_DEAD;
}

static uint8_t errno_to_rep(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return 5;
	case ENETUNREACH:
		return 3;
	case EHOSTUNREACH:
		return 4;
	case ETIMEDOUT:
		return 4; /* no reply at all: the host did not answer */
	default:
		return 1;
	}
}

static void fail(struct pconn *p, uint8_t rep)
{
	reply(p, rep);
	p->state = PX_DEAD;
}

static void start_outside(struct px *x, struct pconn *p)
{
	int one = 1;
	const struct proxy_config *c = x->c;
	uint32_t span = 65536 - c->port_base;

	p->ofd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->ofd < 0) {
		fail(p, 1);
		return;
	}
	setsockopt(p->ofd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* the next port of our sequence that binds: predictable to S */
	for (uint32_t tries = 0; tries < span; tries++) {
		uint16_t port = (uint16_t)(c->port_base + x->next_port++ % span);
		struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(port)};
		if (bind(p->ofd, (struct sockaddr *)&b, sizeof(b)) == 0) {
			p->local_port = port;
			break;
		}
	}
	if (!p->local_port) {
		fail(p, 1);
		return;
	}
	if (connect(p->ofd, (struct sockaddr *)&p->target, sizeof(p->target)) < 0 &&
	    errno != EINPROGRESS) {
		fail(p, errno_to_rep(errno));
		return;
	}
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = tag(p, 1)};
	epoll_ctl(x->ep, EPOLL_CTL_ADD, p->ofd, &ev);
	/* what the client sends meanwhile waits in its socket: with EPOLLIN
	 * still asked, level-triggered epoll would report it on every turn */
	ev = (struct epoll_event){.events = 0, .data.ptr = tag(p, 0)};
	epoll_ctl(x->ep, EPOLL_CTL_MOD, p->cfd, &ev);
	p->state = PX_CONNECTING;
	p->deadline = mono_ms() + c->connect_timeout_ms;
	if (c->log) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &p->target.sin_addr, a, sizeof(a));
		fprintf(c->log, "{\"event\":\"connect\",\"local_port\":%u,\"to\":\"%s:%u\"}\n",
			p->local_port, a, ntohs(p->target.sin_port));
		fflush(c->log);
	}
}

static void on_client_handshake(struct px *x, struct pconn *p)
{
	ssize_t r = recv(p->cfd, p->in + p->inlen, sizeof(p->in) - p->inlen, MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		p->state = PX_DEAD;
		return;
	}
	if (r > 0)
		p->inlen += (size_t)r;
	if (p->state == PX_GREETING) {
		int noauth;
		int n = socks_parse_greeting(p->in, p->inlen, &noauth);
		if (n < 0 || (n > 0 && !noauth)) {
			uint8_t no[2] = {5, 0xff};
			ssize_t w = send(p->cfd, no, 2, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			p->state = PX_DEAD;
			return;
		}
		if (n == 0)
			return;
		uint8_t ok[2] = {5, 0};
		if (send(p->cfd, ok, 2, MSG_NOSIGNAL | MSG_DONTWAIT) != 2) {
			p->state = PX_DEAD;
			return;
		}
		memmove(p->in, p->in + n, p->inlen - (size_t)n);
		p->inlen -= (size_t)n;
		p->state = PX_REQUEST;
	}
	if (p->state == PX_REQUEST) {
		uint32_t addr;
		uint16_t port;
		int n = socks_parse_request(p->in, p->inlen, &addr, &port);
		if (n < 0) {
			fail(p, (uint8_t)-n);
			return;
		}
		if (n == 0) {
			if (p->inlen == sizeof(p->in))
				fail(p, 1);
			return;
		}
		p->target = (struct sockaddr_in){
		    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = addr};
		/* bytes after the request are the client's first data */
		if ((size_t)n < p->inlen) {
			p->c2o = malloc(RELAY_BUF);
			if (!p->c2o) {
				fail(p, 1);
				return;
			}
			memcpy(p->c2o, p->in + n, p->inlen - (size_t)n);
			p->c2o_len = p->inlen - (size_t)n;
		}
		p->inlen = 0;
		start_outside(x, p);
	}
}

static void set_events(struct px *x, struct pconn *p)
{
	uint32_t ce = 0, oe = 0;
	if (!p->c_eof && p->c2o_len == 0)
		ce |= EPOLLIN;
	if (p->o2c_len > p->o2c_off)
		ce |= EPOLLOUT;
	if (!p->o_eof && p->o2c_len == 0)
		oe |= EPOLLIN;
	if (p->c2o_len > p->c2o_off)
		oe |= EPOLLOUT;
	struct epoll_event ev = {.events = ce, .data.ptr = tag(p, 0)};
	epoll_ctl(x->ep, EPOLL_CTL_MOD, p->cfd, &ev);
	ev = (struct epoll_event){.events = oe, .data.ptr = tag(p, 1)};
	epoll_ctl(x->ep, EPOLL_CTL_MOD, p->ofd, &ev);
}

/* Moves bytes one way: FROM into BUF, BUF out to TO. */
static int pump(int from, int to, char **buf, size_t *len, size_t *off, bool *eof, bool *shut)
{
	if (!*buf && !(*buf = malloc(RELAY_BUF)))
		return -1;
	if (*len == 0 && !*eof) {
		ssize_t r = recv(from, *buf, RELAY_BUF, MSG_DONTWAIT);
		if (r == 0) {
			*eof = true;
		} else if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -1;
		} else {
			*len = (size_t)r;
			*off = 0;
		}
	}
	if (*len > *off) {
		ssize_t w = send(to, *buf + *off, *len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (w > 0)
			*off += (size_t)w;
		if (*off == *len)
			*len = *off = 0;
	}
	if (*eof && *len == 0 && !*shut) {
		shutdown(to, SHUT_WR); /* pass the half-close on */
		*shut = true;
	}
	return 0;
}

/* Accepts every waiting client; NOW starts its handshake deadline. */
static void px_accept(struct px *x, int64_t now)
{
	for (;;) {
		int fd = accept4(x->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		struct pconn *p = x->nclients < x->c->max_clients ? calloc(1, sizeof(*p)) : NULL;
		if (p && x->nall == x->capall) {
			/* the list and its capacity change together, or not at all */
			size_t cap = x->capall ? x->capall * 2 : 64;
			struct pconn **all = realloc(x->all, cap * sizeof(*all));
			if (all) {
				x->all = all;
				x->capall = cap;
			}
		}
		if (!p || x->nall == x->capall) {
			free(p);
			close(fd);
			continue;
		}
		p->cfd = fd;
		p->ofd = -1;
		p->deadline = now + 10000; /* the handshake must come quickly */
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag(p, 0)};
		epoll_ctl(x->ep, EPOLL_CTL_ADD, fd, &ev);
		x->all[x->nall++] = p;
		x->nclients++;
	}
}

/* P's outside connection is up or failed: the SOCKS reply, then relaying. */
static void px_connected(struct px *x, struct pconn *p)
{
	int err = 0;
	socklen_t l = sizeof(err);

	getsockopt(p->ofd, SOL_SOCKET, SO_ERROR, &err, &l);
	if (err) {
		fail(p, errno_to_rep(err));
		return;
	}
	reply(p, 0);
	if (p->state == PX_DEAD)
		return;
	p->state = PX_RELAY;
	p->deadline = INT64_MAX;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag(p, 0)};
	epoll_ctl(x->ep, EPOLL_CTL_MOD, p->cfd, &ev);
	set_events(x, p);
}

/* Relays what P's sides have for each other; EVENTS are epoll's. */
static void px_relay(struct px *x, struct pconn *p, uint32_t events)
{
	if (pump(p->cfd, p->ofd, &p->c2o, &p->c2o_len, &p->c2o_off, &p->c_eof, &p->o_shut) < 0 ||
	    pump(p->ofd, p->cfd, &p->o2c, &p->o2c_len, &p->o2c_off, &p->o_eof, &p->c_shut) < 0 ||
	    (events & EPOLLERR)) {
		p->state = PX_DEAD;
		return;
	}
	/* both directions finished: done */
	if (p->c_eof && p->o_eof && !p->c2o_len && !p->o2c_len)
		p->state = PX_DEAD;
	else
		set_events(x, p);
}

/* One epoll event on a connection's client or outside side. */
static void px_event(struct px *x, const struct epoll_event *ev)
{
	struct pconn *p = (struct pconn *)((uintptr_t)ev->data.ptr & ~(uintptr_t)1);
	int outside = (int)((uintptr_t)ev->data.ptr & 1);

	if (p->state == PX_DEAD)
		return;
	if (!outside && (p->state == PX_GREETING || p->state == PX_REQUEST))
		on_client_handshake(x, p);
	else if (outside && p->state == PX_CONNECTING)
		px_connected(x, p);
	else if (p->state == PX_CONNECTING && (ev->events & (EPOLLERR | EPOLLHUP)))
		p->state = PX_DEAD; /* the client is gone before its connection is up */
	else if (p->state == PX_RELAY)
		px_relay(x, p, ev->events);
}

/* Fails the connections past their deadline at NOW, and frees the dead. */
static void px_sweep(struct px *x, int64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < x->nall; i++) {
		struct pconn *p = x->all[i];
		if (p->state != PX_DEAD && now > p->deadline)
			fail(p, p->state == PX_CONNECTING ? 4 : 1);
		if (p->state == PX_DEAD)
			px_free(x, p);
		else
			x->all[k++] = p;
	}
	x->nall = k;
}

int proxy_run(const struct proxy_config *c, volatile sig_atomic_t *stop, uint16_t *listening)
{
	struct px x = {.c = c, .ep = -1};
	struct sockaddr_in got;
	int rc = 0;

	x.lfd = endpoint_listen(&c->listen, 256, &got);
	if (x.lfd < 0)
		return x.lfd;
	if (listening)
		*listening = ntohs(got.sin_port);
	x.ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	if (x.ep < 0 || epoll_ctl(x.ep, EPOLL_CTL_ADD, x.lfd, &lev) < 0) {
		rc = -errno;
		if (x.ep >= 0)
			close(x.ep);
		close(x.lfd);
		return rc;
	}

	while (!*stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(x.ep, evs, 64, 50);
		int64_t now = mono_ms();
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				px_accept(&x, now);
			else
				px_event(&x, &evs[i]);
		}
		/* timeouts, and freeing the dead */
		px_sweep(&x, now);
	}
	for (size_t i = 0; i < x.nall; i++)
		px_free(&x, x.all[i]);
	free(x.all);
	close(x.ep);
	close(x.lfd);
	return rc;
}
