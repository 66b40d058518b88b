// SPDX-License-Identifier: MIT
#include "peer.h"
#include "method.h"
#include "relay.h"
#include "policy.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *punch_method_str(enum punch_method m)
{
	return method_of((int)m)->name;
}

int punch_method_parse(const char *s, enum punch_method *out)
{
	const struct punch_method_ops *m = method_by_name(s);
	if (!m)
		return -1;
	*out = (enum punch_method)m->id;
	return 0;
}

void peer_config_defaults(struct peer_config *c)
{
	memset(c, 0, sizeof(*c));
	c->server.sin_family = AF_INET;
	c->probes = 3;
	c->rounds = 3;
	c->bytes = 1024;
	c->attempt_timeout_ms = 0; /* auto */
	c->wait_timeout_ms = 30000;
	c->load.tcp_share = 1;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct peer {
	const struct peer_config *c;
	struct os_host *host;
	uint32_t local_addr; /* learnt from the control connection */
	int ctl;
	char rbuf[PROTO_MAX_LINE + 1];
	size_t rlen;
	/* what goes into the result */
	json_t *seen, *predicted, *attempts;
	char server_error[400];
	bool peer_gone; /* S said the other peer left: the reason is peer-gone */
	bool connected;
	int rounds;
	char reason[24]; /* outlives the round's messages */
	double connect_ms;
	double echo_ms;		/* A: one byte there and back on the connection; < 0 none */
	long long relay_bytes;	/* relay: bytes relayed for us (sent and received) */
	bool relayed;		/* connected through the method's connect_other */
	char local[32], remote[32];
	const struct punch_method_ops *m;
	/* a one_port method's port, and the probe connection kept open on it */
	struct method_port mp;
	bool port_on;  /* from the first probe on: the control connection is apart */
	bool punching; /* the attempt's sockets: the method's before/after_connect */
	/* runtime flash: the hosts whose policy it fetched, and what that cost */
	uint32_t flash_hosts[8];
	int nflash, policy_fetches;
	double policy_ms;
};

/* ---- one outgoing connection ---- */

struct outconn {
	int fd;
	uint16_t local_port;
	int state; /* 0 connecting, 1 socks greeting sent, 2 socks request sent, 3 up, -1 failed */
	int err;   /* errno of the failure */
	uint8_t socks[10];
	size_t socks_got;
	uint32_t daddr;
	uint16_t dport;
	uint32_t bnd_addr; /* via the proxy: the address its outside connection has */
};

/* A one_port method's socket FD: bound to the peer's one port. */
static int port_bind(struct peer *p, int fd)
{
	p->mp.host = p->host;
	p->mp.local_addr = p->local_addr;
	return method_port_bind(&p->mp, fd);
}

/* Starts a non-blocking connection to DADDR:DPORT, via the proxy if any. */
static void out_start(struct peer *p, struct outconn *o, uint32_t daddr, uint16_t dport)
{
	memset(o, 0, sizeof(*o));
	o->daddr = daddr;
	o->dport = dport;
	o->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (o->fd < 0) {
		o->state = -1;
		o->err = errno;
		return;
	}
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons(dport), .sin_addr.s_addr = daddr};
	if (p->port_on && !p->c->use_proxy) {
		if (port_bind(p, o->fd) < 0) {
			o->state = -1;
			o->err = errno;
			return;
		}
		o->local_port = p->mp.port;
	} else if (p->c->use_proxy) {
		to = p->c->proxy; /* loopback: no port of ours matters there */
	} else if (p->host && p->host->ops->next) {
		struct os_dest d = {p->local_addr, daddr, dport};
		o->local_port =
		    os_host_port(p->host, &d, now_ms() / 1e3, method_port_taken, &o->fd);
		if (!o->local_port) {
			o->state = -1;
			o->err = EADDRNOTAVAIL;
			return;
		}
	}
	int e = p->punching && p->m->before_connect ? p->m->before_connect(p->c, o->fd) : 0;
	if (e < 0 ||
	    (connect(o->fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS)) {
		o->state = -1;
		o->err = e < 0 ? -e : errno;
		return;
	}
	if (p->punching && p->m->after_connect)
		p->m->after_connect(p->c, o->fd);
	/* the kernel picked the port at connect(): know it now, not only when the
	 * connection ends, for a SYN a NAT drops never ends within the attempt */
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	if (!p->c->use_proxy && !o->local_port &&
	    getsockname(o->fd, (struct sockaddr *)&me, &ml) == 0)
		o->local_port = ntohs(me.sin_port);
}

static void out_close(struct outconn *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

/* Advances O after a poll event; returns true when its state changed. */
static void out_step(struct peer *p, struct outconn *o, short revents)
{
	if (o->state == 0 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(o->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		/* the port connect() took, also when it failed: S judges its prediction by it */
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		getsockname(o->fd, (struct sockaddr *)&me, &ml);
		if (!p->c->use_proxy && !o->local_port)
			o->local_port = ntohs(me.sin_port);
		if (err) {
			o->state = -1;
			o->err = err;
			return;
		}
		if (!p->c->use_proxy) {
			if (!p->local_addr)
				p->local_addr = me.sin_addr.s_addr;
			o->state = 3;
			return;
		}
		/* SOCKS5, RFC 1928: no authentication, then CONNECT to an IPv4 address */
		uint8_t req[3 + 10] = {5, 1, 0, 5, 1, 0, 1};
		memcpy(req + 7, &o->daddr, 4);
		req[11] = (uint8_t)(o->dport >> 8);
		req[12] = (uint8_t)o->dport;
		if (send(o->fd, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
			o->state = -1;
			o->err = EPROTO;
			return;
		}
		o->state = 1;
		return;
	}
	if ((o->state == 1 || o->state == 2) && (revents & (POLLIN | POLLERR | POLLHUP))) {
		/* method reply (2 bytes), then the CONNECT reply (10 bytes for IPv4) */
		uint8_t buf[12];
		size_t want = (o->state == 1 ? 2 : 10) - o->socks_got;
		ssize_t r = recv(o->fd, buf, want, 0);
		if (r <= 0) {
			if (r < 0 && errno == EAGAIN)
				return;
			o->state = -1;
			o->err = EPROTO;
			return;
		}
		memcpy(o->socks + o->socks_got, buf, (size_t)r);
		o->socks_got += (size_t)r;
		if (o->state == 1 && o->socks_got == 2) {
			if (o->socks[0] != 5 || o->socks[1] != 0) {
				o->state = -1;
				o->err = EPROTO;
				return;
			}
			o->state = 2;
			o->socks_got = 0;
		} else if (o->state == 2 && o->socks_got == 10) {
			o->local_port = (uint16_t)(o->socks[8] << 8 | o->socks[9]);
			memcpy(&o->bnd_addr, o->socks + 4, 4);
			/* RFC 1928 6: map the reply back onto what connect() would say */
			static const int rep_errno[] = {0,	     EPROTO,	   EACCES,
							ENETUNREACH, EHOSTUNREACH, ECONNREFUSED,
							ETIMEDOUT,   EPROTO,	   EPROTO};
			uint8_t rep = o->socks[1];
			if (o->socks[0] != 5 || rep > 8) {
				o->state = -1;
				o->err = EPROTO;
			} else if (rep) {
				o->state = -1;
				o->err = rep_errno[rep];
			} else {
				o->state = 3;
			}
		}
	}
}

/* A connection the listener LFD accepted takes O[0]'s place, up. */
static int take_accepted(struct peer *p, struct outconn *o, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	out_close(&o[0]);
	o[0].fd = fd;
	o[0].state = 3;
	o[0].local_port = p->mp.port;
	return 0;
}

static bool half_open_full(const struct peer *p, const struct outconn *o, int n);

/* Starts the queued connections of O that the half-open limit lets through. */
static void start_queued(struct peer *p, struct outconn *o, int n)
{
	for (int i = 0; i < n; i++)
		if (o[i].state == -2 && !half_open_full(p, o, n))
			out_start(p, &o[i], o[i].daddr, o[i].dport);
}

/* Runs N connections to completion (or TIMEOUT_MS); with FIRST, returns as
 * soon as one is up. LFD (or -1): a listener whose first connection counts
 * as up, in O[0]'s place (a method that listens). Returns the index of one that is
 * up, or -1. */
static int out_wait(struct peer *p, struct outconn *o, int n, int timeout_ms, bool first, int lfd)
{
	double end = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd pf[PROTO_MAX_PORTS + 1];
		int pending = 0, up = -1;
		start_queued(p, o, n);
		for (int i = 0; i < n; i++) {
			pf[i] = (struct pollfd){o[i].fd, 0, 0};
			if (o[i].state == 3 && up < 0)
				up = i;
			if (o[i].state == 0 || o[i].state == 1 || o[i].state == 2) {
				pf[i].events = o[i].state == 0 ? POLLOUT : POLLIN;
				pending++;
			} else {
				pf[i].fd = -1;
			}
		}
		pf[n] = (struct pollfd){lfd, POLLIN, 0};
		if ((first && up >= 0) || (!pending && lfd < 0))
			return up;
		int left = (int)(end - now_ms());
		if (left <= 0) {
			for (int i = 0; i < n; i++)
				if ((o[i].state >= 0 && o[i].state < 3) || o[i].state == -2) {
					o[i].state = -1;
					o[i].err = ETIMEDOUT;
				}
			return up;
		}
		if (poll(pf, (nfds_t)n + 1, left) < 0 && errno != EINTR)
			return -1;
		for (int i = 0; i < n; i++)
			if (pf[i].fd >= 0 && pf[i].revents)
				out_step(p, &o[i], pf[i].revents);
		if (lfd >= 0 && (pf[n].revents & POLLIN) && take_accepted(p, o, lfd) == 0)
			return 0;
	}
}

/* The OS's limit of half-open connections (max_half_open): the ones
 * beyond it wait in state -2 and start as earlier ones end. */
static bool half_open_full(const struct peer *p, const struct outconn *o, int n)
{
	int limit = p->c->os ? p->c->os->max_half_open : 0, open = 0;
	for (int i = 0; i < n; i++)
		open += o[i].state == 0;
	return limit > 0 && open >= limit;
}

/* One blocking-style connection (control, probes): fd with O_NONBLOCK cleared. */
static int out_connect(struct peer *p, uint32_t daddr, uint16_t dport, int timeout_ms,
		       uint16_t *local_port, double *ms, int *err)
{
	struct outconn o;
	double t0 = now_ms();
	out_start(p, &o, daddr, dport);
	if (o.state == 0)
		out_wait(p, &o, 1, timeout_ms, true, -1);
	*ms = now_ms() - t0;
	if (o.state != 3) {
		*err = o.err;
		out_close(&o);
		return -1;
	}
	if (local_port)
		*local_port = o.local_port;
	return o.fd;
}

/* runtime flash: before the first connection to DADDR, the policy fetch
 * from its port 843: a connection of its own (a port from the host's
 * allocator, as Flash's socket takes one), the request, and a wait for the
 * answer or the connection's end, at most flash_wait_ms in all. */
static void flash_policy(struct peer *p, uint32_t daddr)
{
	const struct peer_config *c = p->c;
	if (!c->flash)
		return;
	for (int i = 0; i < p->nflash; i++)
		if (p->flash_hosts[i] == daddr)
			return; /* fetched once a session: Flash keeps it */
	if (p->nflash < (int)(sizeof(p->flash_hosts) / sizeof(p->flash_hosts[0])))
		p->flash_hosts[p->nflash++] = daddr;
	int wait = c->flash_wait_ms > 0 ? c->flash_wait_ms : PEER_FLASH_WAIT_MS;
	double t0 = now_ms(), end = t0 + wait;
	bool port_on = p->port_on, punching = p->punching;
	struct outconn o;
	p->port_on = p->punching = false; /* Flash's socket is its own, whatever the method */
	out_start(p, &o, daddr, POLICY_PORT);
	p->port_on = port_on;
	p->punching = punching;
	if (o.state == 0)
		out_wait(p, &o, 1, wait, true, -1);
	if (o.state == 3 &&
	    send(o.fd, POLICY_REQUEST, sizeof(POLICY_REQUEST), MSG_NOSIGNAL) > 0) {
		char buf[512];
		for (int left; (left = (int)(end - now_ms())) > 0;) {
			struct pollfd pf = {o.fd, POLLIN, 0};
			ssize_t r = poll(&pf, 1, left) > 0 ? recv(o.fd, buf, sizeof(buf), 0) : -1;
			if (r <= 0 || memchr(buf, 0, (size_t)r))
				break;
		}
	}
	out_close(&o);
	p->policy_ms += now_ms() - t0;
	p->policy_fetches++;
}

/* ---- lines ---- */

static int send_msg(int fd, const struct pmsg *m)
{
	char line[PROTO_MAX_LINE + 1];
	int n = proto_format(m, line, sizeof(line));
	if (n < 0)
		return -1;
	for (int off = 0; off < n;) {
		ssize_t w = send(fd, line + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd pf = {fd, POLLOUT, 0};
			poll(&pf, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		off += (int)w;
	}
	return 0;
}

/* Reads one line into M within TIMEOUT_MS from a per-connection buffer. */
static int recv_msg(int fd, char *buf, size_t *len, struct pmsg *m, int timeout_ms, char *err,
		    size_t errlen)
{
	double end = now_ms() + timeout_ms;
	for (;;) {
		char *nl = memchr(buf, '\n', *len);
		if (nl) {
			size_t l = (size_t)(nl - buf) + 1;
			int rc = proto_parse(buf, l, m, err, errlen);
			memmove(buf, buf + l, *len - l);
			*len -= l;
			return rc;
		}
		if (*len >= PROTO_MAX_LINE) {
			snprintf(err, errlen, "line too long");
			return -1;
		}
		int left = (int)(end - now_ms());
		struct pollfd pf = {fd, POLLIN, 0};
		if (left <= 0 || poll(&pf, 1, left) <= 0) {
			snprintf(err, errlen, "timed out");
			return -1;
		}
		ssize_t r = recv(fd, buf + *len, PROTO_MAX_LINE - *len, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "connection closed");
			return -1;
		}
		*len += (size_t)r;
	}
}

static int ctl_recv(struct peer *p, struct pmsg *m, int timeout_ms)
{
	char err[160];
	if (recv_msg(p->ctl, p->rbuf, &p->rlen, m, timeout_ms, err, sizeof(err)) < 0) {
		snprintf(p->server_error, sizeof(p->server_error), "control connection: %s", err);
		return -1;
	}
	if (m->type == PM_ERROR) {
		snprintf(p->server_error, sizeof(p->server_error), "%s: %s", m->code, m->text);
		p->peer_gone = !strcmp(m->code, "peer-gone");
		return -1;
	}
	return 0;
}

/* ---- the punched connection ---- */

static uint8_t pattern(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint8_t)(*s >> 24);
}

static uint64_t pattern_seed(const uint8_t *nonce, char role)
{
	uint64_t s;
	memcpy(&s, nonce, sizeof(s));
	return (s ^ (uint64_t)role * 0x9e3779b97f4a7c15ull) | 1;
}

/* Exchanges verify lines, then BYTES each way; checks everything. */
static bool verify_and_exchange(struct peer *p, int fd, const uint8_t *nonce, int bytes, char *why,
				size_t whylen)
{
	struct pmsg v = {.type = PM_VERIFY, .role = p->c->role};
	memcpy(v.nonce, nonce, PROTO_TOKEN_LEN);
	if (send_msg(fd, &v) < 0) {
		snprintf(why, whylen, "cannot send verify");
		return false;
	}
	char buf[PROTO_MAX_LINE + 1], err[96] = "wrong nonce or role";
	size_t len = 0;
	struct pmsg got;
	if (recv_msg(fd, buf, &len, &got, 3000, err, sizeof(err)) < 0 || got.type != PM_VERIFY ||
	    memcmp(got.nonce, nonce, PROTO_TOKEN_LEN) || got.role == p->c->role) {
		snprintf(why, whylen, "the other side did not verify (%s)", err);
		return false;
	}
	/* data both ways at once, so that neither side's buffers fill first */
	char other = p->c->role == 'a' ? 'b' : 'a';
	uint64_t tx = pattern_seed(nonce, p->c->role), rx = pattern_seed(nonce, other);
	int sent = 0, got_n = 0;
	/* bytes that came with the verify line belong to the data */
	for (size_t i = 0; i < len && got_n < bytes; i++, got_n++)
		if ((uint8_t)buf[i] != pattern(&rx)) {
			snprintf(why, whylen, "data differs at byte %d", got_n);
			return false;
		}
	double end = now_ms() + 10000;
	uint8_t chunk[4096];
	while ((sent < bytes || got_n < bytes) && now_ms() < end) {
		struct pollfd pf = {
		    fd, (short)((sent < bytes ? POLLOUT : 0) | (got_n < bytes ? POLLIN : 0)), 0};
		if (poll(&pf, 1, 500) <= 0)
			continue;
		if ((pf.revents & POLLOUT) && sent < bytes) {
			int n =
			    bytes - sent < (int)sizeof(chunk) ? bytes - sent : (int)sizeof(chunk);
			uint64_t s = tx;
			for (int i = 0; i < n; i++)
				chunk[i] = pattern(&s);
			ssize_t w = send(fd, chunk, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				for (ssize_t i = 0; i < w; i++)
					pattern(&tx);
				sent += (int)w;
			}
		}
		if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
			/* no further than the data: what follows (echo_rtt's byte) is not ours */
			size_t want = (size_t)(bytes - got_n) < sizeof(chunk) ? (size_t)(bytes - got_n)
									   : sizeof(chunk);
			ssize_t r = recv(fd, chunk, want, MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				snprintf(why, whylen, "connection closed after %d of %d bytes",
					 got_n, bytes);
				return false;
			}
			for (ssize_t i = 0; i < r; i++, got_n++)
				if (got_n >= bytes || chunk[i] != pattern(&rx)) {
					snprintf(why, whylen, "data differs at byte %d", got_n);
					return false;
				}
		}
	}
	if (sent < bytes || got_n < bytes) {
		snprintf(why, whylen, "data timed out (%d sent, %d received)", sent, got_n);
		return false;
	}
	return true;
}

static json_t *ports_json(const uint16_t *ports, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(ports[i]));
	return a;
}

static const char *endpoint(uint32_t addr, uint16_t port, char *buf)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	sprintf(buf, "%s:%u", a, port);
	return buf;
}

/* Probes a round: the method's (one for a one_port method: S names that
 * port), else the configured ones. */
static int nprobes(const struct peer *p)
{
	return p->m->probes ? p->m->probes : p->c->probes;
}

/* The emulated host's port allocator, the control connection, hello, and
 * S's welcome into W. */
static int peer_hello(struct peer *p, struct pmsg *w)
{
	const struct peer_config *c = p->c;
	double ms;
	int err = 0;

	if (c->host) {
		p->host = c->host;
	} else if (c->os && c->os->next) {
		p->host = os_host_new(c->os, c->seed, &c->load);
		if (!p->host) {
			snprintf(p->server_error, sizeof(p->server_error), "out of memory");
			return -1;
		}
	}
	flash_policy(p, c->server.sin_addr.s_addr);
	p->ctl = out_connect(p, c->server.sin_addr.s_addr, ntohs(c->server.sin_port), 5000, NULL,
			     &ms, &err);
	if (p->ctl < 0) {
		snprintf(p->server_error, sizeof(p->server_error), "cannot reach the server: %s",
			 strerror(err));
		return -1;
	}
	struct pmsg m = {
	    .type = PM_HELLO, .role = c->role, .probes = nprobes(p), .rounds = c->rounds};
	memcpy(m.session, c->session, PROTO_TOKEN_LEN);
	if (send_msg(p->ctl, &m) < 0 || ctl_recv(p, w, c->wait_timeout_ms) < 0)
		return -1;
	if (w->type != PM_WELCOME) {
		snprintf(p->server_error, sizeof(p->server_error), "expected welcome, got %s",
			 proto_type_name(w->type));
		return -1;
	}
	return 0;
}

/* Probe I with W's probe token: the port S saw into *SEEN, the connect time into *RTT. */
static int peer_probe_one(struct peer *p, const struct pmsg *w, int i, uint16_t *seen, double *rtt)
{
	const struct peer_config *c = p->c;
	uint16_t lp = 0;
	int err = 0;

	if (p->m->one_port)
		method_port_keep(&p->mp, -1); /* the last round's: its tuple is this one's */
	int fd = out_connect(p, c->server.sin_addr.s_addr, ntohs(c->server.sin_port), 5000, &lp,
			     rtt, &err);
	if (fd < 0) {
		snprintf(p->server_error, sizeof(p->server_error), "probe %d: %s", i,
			 strerror(err));
		return -1;
	}
	struct pmsg pr = {.type = PM_PROBE, .seq = i, .local_port = lp}, sn;
	memcpy(pr.token, w->token, PROTO_TOKEN_LEN);
	char buf[PROTO_MAX_LINE + 1], e[160] = "cannot send the probe";
	size_t len = 0;
	int rc = send_msg(fd, &pr) < 0 ? -1 : recv_msg(fd, buf, &len, &sn, 5000, e, sizeof(e));
	if (p->m->one_port)
		method_port_keep(&p->mp, fd);
	else
		close(fd);
	if (rc < 0 || sn.type != PM_SEEN) {
		p->peer_gone = rc == 0 && sn.type == PM_ERROR && !strcmp(sn.code, "peer-gone");
		snprintf(p->server_error, sizeof(p->server_error), "probe %d: %s", i,
			 rc < 0		       ? e
			 : sn.type == PM_ERROR ? sn.code
					       : "unexpected reply");
		return -1;
	}
	*seen = sn.port;
	return 0;
}

/* A round's probes, each a fresh connection as the next punch will be; the
 * ports S saw go into the result, their median connect time into *RTT_MS. */
static int peer_probe(struct peer *p, const struct pmsg *w, double *rtt_ms)
{
	uint16_t seen[PROTO_MAX_PROBES];
	double rtts[PROTO_MAX_PROBES];
	int nseen = 0;

	int probes = nprobes(p);
	for (int i = 0; i < probes; i++) {
		if (peer_probe_one(p, w, i, &seen[nseen], &rtts[i]) < 0)
			return -1;
		nseen++;
	}
	json_array_append_new(p->seen, ports_json(seen, nseen));
	/* the median connect time is our round trip to S */
	for (int i = 1; i < probes; i++)
		for (int j = i; j > 0 && rtts[j - 1] > rtts[j]; j--) {
			double t = rtts[j];
			rtts[j] = rtts[j - 1];
			rtts[j - 1] = t;
		}
	*rtt_ms = rtts[probes / 2];
	return 0;
}

/* Sleeps until GO (a now_ms() time), at most a second at a time. */
static void peer_sleep_until(double go)
{
	while (now_ms() < go) {
		double left = go - now_ms();
		struct timespec ts = {0, (long)(left * 1e6)};
		if (left >= 1000)
			ts = (struct timespec){1, 0};
		nanosleep(&ts, NULL);
	}
}

/* One byte there and back on FD, which verify_and_exchange emptied: A
 * sends and times it, B echoes. A: the round trip of the path the peers
 * talk over (the relay's detour, or the punched one), in ms; B: 0; < 0
 * failed. */
static double echo_rtt(const struct peer *p, int fd)
{
	uint8_t b = 'e';
	int one = 1;
	/* the byte goes now, not after the ACK of the data before it (Nagle) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	double t0 = now_ms();
	struct pollfd pf = {fd, POLLIN, 0};
	if (p->c->role == 'a' && send(fd, &b, 1, MSG_NOSIGNAL) != 1)
		return -1;
	if (poll(&pf, 1, 3000) <= 0 || recv(fd, &b, 1, 0) != 1)
		return -1;
	if (p->c->role == 'b' && send(fd, &b, 1, MSG_NOSIGNAL) != 1)
		return -1;
	return p->c->role == 'a' ? now_ms() - t0 : 0;
}

/* Connection UP of O came up: its endpoints, then verify and data on it. */
static void peer_attempt_up(struct peer *p, const struct pmsg *pu, struct outconn *o, int up,
			    struct pmsg *res)
{
	const struct peer_config *c = p->c;
	struct sockaddr_in me, them;
	socklen_t l1 = sizeof(me), l2 = sizeof(them);
	char why[160] = "";

	getsockname(o[up].fd, (struct sockaddr *)&me, &l1);
	getpeername(o[up].fd, (struct sockaddr *)&them, &l2);
	if (c->use_proxy)
		endpoint(pu->addr, pu->ports[up], p->remote);
	else
		endpoint(them.sin_addr.s_addr, ntohs(them.sin_port), p->remote);
	endpoint(c->use_proxy ? o[up].bnd_addr : me.sin_addr.s_addr, o[up].local_port, p->local);
	int fl = fcntl(o[up].fd, F_GETFL);
	fcntl(o[up].fd, F_SETFL, fl & ~O_NONBLOCK);
	res->ok = verify_and_exchange(p, o[up].fd, pu->nonce, c->bytes, why, sizeof(why));
	if (res->ok)
		p->echo_ms = echo_rtt(p, o[up].fd);
	res->local_port = o[up].local_port;
	if (!res->ok)
		snprintf(res->reason, sizeof(res->reason), "verify-failed");
}

/* None of O came up: why not, from their errors; the first candidate's endpoints. */
static void peer_attempt_failed(struct peer *p, const struct pmsg *pu, const struct outconn *o,
				struct pmsg *res)
{
	const struct peer_config *c = p->c;
	bool refused = false, proxy = false;

	for (int i = 0; i < pu->nports; i++) {
		refused |= o[i].err == ECONNREFUSED;
		proxy |= c->use_proxy && o[i].err == EPROTO;
	}
	snprintf(res->reason, sizeof(res->reason), "%s",
		 proxy	   ? "proxy-error"
		 : refused ? "rst"
			   : "timeout");
	res->local_port = o[0].local_port;
	endpoint(pu->addr, pu->ports[0], p->remote);
	if (o[0].local_port)
		endpoint(c->use_proxy ? o[0].bnd_addr : p->local_addr, o[0].local_port, p->local);
}

/* The method's own way to the other peer (connect_other: a relay) at PU's
 * go time instead of the punch; how it went into RES. */
static void peer_attempt_other(struct peer *p, const struct pmsg *pu, struct pmsg *res)
{
	struct sockaddr_in me, them;
	socklen_t l1 = sizeof(me), l2 = sizeof(them);
	char why[160];

	peer_sleep_until(now_ms() + pu->go_ms + p->c->skew_ms);
	double ta = now_ms();
	int fd = p->m->connect_other(p->c, pu->nonce, 5000);
	p->connect_ms = res->connect_ms = now_ms() - ta;
	if (fd < 0) {
		snprintf(res->reason, sizeof(res->reason), "%s",
			 fd == -ECONNREFUSED ? "rst" : "timeout");
		return;
	}
	getsockname(fd, (struct sockaddr *)&me, &l1);
	getpeername(fd, (struct sockaddr *)&them, &l2);
	endpoint(me.sin_addr.s_addr, ntohs(me.sin_port), p->local);
	endpoint(them.sin_addr.s_addr, ntohs(them.sin_port), p->remote);
	res->local_port = ntohs(me.sin_port);
	res->ok = verify_and_exchange(p, fd, pu->nonce, p->c->bytes, why, sizeof(why));
	if (!res->ok)
		snprintf(res->reason, sizeof(res->reason), "verify-failed");
	else
		p->echo_ms = echo_rtt(p, fd);
	/* what the relay copied for us, each byte checked on arrival: the two
	 * verify lines (of one length), the data and the echo byte, both ways.
	 * (TCP_INFO's byte counts, read at close, were off by a FIN.) */
	char line[PROTO_MAX_LINE + 1];
	struct pmsg v = {.type = PM_VERIFY, .role = p->c->role};
	memcpy(v.nonce, pu->nonce, PROTO_TOKEN_LEN);
	int vlen = proto_format(&v, line, sizeof(line));
	if (res->ok && vlen > 0)
		p->relay_bytes = 2LL * (vlen + p->c->bytes + (p->echo_ms >= 0));
	p->relayed = res->ok;
	close(fd);
}

/* The attempt S's punch PU asks for: at its go time one connect() per
 * candidate, all at once; how it went into RES. RTT_MS: our round trip to S. */
static void peer_attempt(struct peer *p, const struct pmsg *pu, double rtt_ms, struct pmsg *res)
{
	const struct peer_config *c = p->c;
	struct outconn o[PROTO_MAX_PORTS];

	const struct punch_method_ops *m = p->m;
	if (m->connect_other) {
		peer_attempt_other(p, pu, res);
		return;
	}
	int lfd = m->listens && m->listens(c) ? method_port_listen(&p->mp) : -1;
	peer_sleep_until(now_ms() + pu->go_ms + c->skew_ms + (m->go_delay_ms ? m->go_delay_ms(c) : 0));
	/* Flash asks the other's host for its policy when the punch connect()s */
	flash_policy(p, pu->addr);
	double ta = now_ms();
	p->punching = true;
	for (int i = 0; i < pu->nports; i++) {
		if (!half_open_full(p, o, i)) {
			out_start(p, &o[i], pu->addr, pu->ports[i]);
			continue;
		}
		o[i] = (struct outconn){.fd = -1, .state = -2, .daddr = pu->addr,
					.dport = pu->ports[i]};
	}
	/* auto: eight round trips and 30 ms, at least 50 ms; the procedure
	 * does not wait for TCP's one-second SYN retransmission: its next
	 * round is the retry */
	int attempt = c->attempt_timeout_ms;
	if (attempt <= 0) {
		attempt = (int)(8 * rtt_ms) + 30;
		if (attempt < 50)
			attempt = 50;
	}
	int up = out_wait(p, o, pu->nports, attempt, true, lfd);
	p->punching = false;
	if (lfd >= 0)
		close(lfd);
	p->connect_ms = now_ms() - ta;
	if (up >= 0)
		peer_attempt_up(p, pu, o, up, res);
	else
		peer_attempt_failed(p, pu, o, res);
	res->connect_ms = p->connect_ms;
	for (int i = 0; i < pu->nports; i++)
		out_close(&o[i]);
}

/* S ended the round M (retry or done) without a punch: it could not predict
 * (heuristic-error). The round has no candidates and no attempt. */
static int peer_no_punch(struct peer *p, const struct pmsg *m)
{
	json_array_append_new(p->predicted, json_array());
	snprintf(p->reason, sizeof(p->reason), "%s", m->reason[0] ? m->reason : "server-error");
	if (m->type == PM_DONE)
		p->connected = false;
	return m->type == PM_DONE;
}

/* One round after S's welcome W: probes, ready, the punch, the attempt and
 * its result. Returns 1 when S says done, 0 when it says retry, -1 on an
 * error (p->server_error says which). */
static int peer_round(struct peer *p, const struct pmsg *w)
{
	const struct peer_config *c = p->c;
	struct pmsg rd = {.type = PM_READY}, pu, res = {.type = PM_RESULT}, next;

	if (peer_probe(p, w, &rd.rtt_ms) < 0)
		return -1;
	if (send_msg(p->ctl, &rd) < 0 || ctl_recv(p, &pu, c->wait_timeout_ms) < 0)
		return -1;
	if (pu.type == PM_RETRY || pu.type == PM_DONE)
		return peer_no_punch(p, &pu);
	if (pu.type != PM_PUNCH) {
		snprintf(p->server_error, sizeof(p->server_error), "expected punch, got %s",
			 proto_type_name(pu.type));
		return -1;
	}
	json_array_append_new(p->predicted, ports_json(pu.ports, pu.nports));
	peer_attempt(p, &pu, rd.rtt_ms, &res);
	if (send_msg(p->ctl, &res) < 0 || ctl_recv(p, &next, c->wait_timeout_ms) < 0)
		return -1;
	if (next.type == PM_DONE) {
		p->connected = next.ok && res.ok;
		snprintf(p->reason, sizeof(p->reason), "%s",
			 next.reason[0] ? next.reason : res.reason);
		return 1;
	}
	if (next.type != PM_RETRY) {
		snprintf(p->server_error, sizeof(p->server_error), "expected retry or done, got %s",
			 proto_type_name(next.type));
		return -1;
	}
	snprintf(p->reason, sizeof(p->reason), "%s", res.reason[0] ? res.reason : "timeout");
	return 0;
}

/* Rounds until S says done or the configured ones are over; p->rounds
 * counts them (on an error, the round it happened in). */
static int peer_rounds(struct peer *p, const struct pmsg *w)
{
	p->port_on = p->m->one_port;
	for (p->rounds = 1; p->rounds <= p->c->rounds; p->rounds++) {
		int rc = peer_round(p, w);
		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
	}
	if (p->rounds > p->c->rounds)
		p->rounds = p->c->rounds;
	return 0;
}

/* The result object of the run that started at T0. */
static json_t *peer_result(struct peer *p, double t0)
{
	const struct peer_config *c = p->c;
	json_t *r = json_pack("{s:s, s:s, s:b, s:b, s:i, s:o, s:o, s:i}", "role",
			      c->role == 'a' ? "a" : "b", "os", c->os ? c->os->name : "native",
			      "proxy", c->use_proxy, "connected", p->connected, "rounds", p->rounds,
			      "ports_seen", p->seen, "ports_predicted", p->predicted, "bytes",
			      p->connected ? c->bytes : 0);

	json_object_set_new(r, "reason",
			    p->connected ? json_null()
					 : json_string(p->peer_gone	    ? "peer-gone"
						       : p->server_error[0] ? "server-error"
									    : p->reason));
	json_object_set_new(r, "time_to_connect_ms",
			    p->connected ? json_real(round((now_ms() - t0) * 1000) / 1000)
					 : json_null());
	json_object_set_new(r, "connect_ms", json_real(round(p->connect_ms * 1000) / 1000));
	if (p->connected)
		json_object_set_new(r, "path", json_string(p->relayed ? "relay" : "direct"));
	if (p->connected && p->echo_ms >= 0 && c->role == 'a')
		json_object_set_new(r, "echo_rtt_ms", json_real(round(p->echo_ms * 1000) / 1000));
	if (p->relayed)
		json_object_set_new(r, "relay_bytes", json_integer(p->relay_bytes));
	if (p->m != &method_predict)
		json_object_set_new(r, "method", json_string(p->m->name));
	if (p->m == &method_stunt1 && c->role == 'a')
		json_object_set_new(r, "stunt_ttl", json_integer(c->stunt_ttl > 0 ? c->stunt_ttl
									    : STUNT1_DEFAULT_TTL));
	if (c->flash) {
		json_object_set_new(r, "runtime", json_string("flash"));
		json_object_set_new(r, "policy_fetches", json_integer(p->policy_fetches));
		json_object_set_new(r, "policy_ms", json_real(round(p->policy_ms * 1000) / 1000));
	}
	json_object_set_new(r, "local", p->local[0] ? json_string(p->local) : json_null());
	json_object_set_new(r, "remote", p->remote[0] ? json_string(p->remote) : json_null());
	if (p->server_error[0])
		json_object_set_new(r, "error", json_string(p->server_error));
	if (p->host) {
		json_object_set_new(r, "background_ports",
				    json_integer((json_int_t)p->host->background_taken));
		json_object_set_new(r, "background_tcp",
				    json_integer((json_int_t)p->host->background_tcp));
	}
	return r;
}

int peer_run(const struct peer_config *c, json_t **result)
{
	struct peer p = {.c = c,
			 .ctl = -1,
			 .echo_ms = -1,
			 .reason = "server-error",
			 .m = method_of((int)c->method),
			 .mp = {.keep_fd = -1,
				.server_addr = c->server.sin_addr.s_addr,
				.server_port = ntohs(c->server.sin_port)}};
	double t0 = now_ms();
	struct pmsg w;

	p.seen = json_array();
	p.predicted = json_array();
	char buf[sizeof(p.server_error)];
	const char *bad = p.m->check ? p.m->check(c, buf, sizeof(buf)) : NULL;
	if (bad) /* refused before anything is sent */
		snprintf(p.server_error, sizeof(p.server_error), "--method %s: %s", p.m->name, bad);
	else if (peer_hello(&p, &w) == 0 && peer_rounds(&p, &w) == 0)
		p.server_error[0] = 0;
	*result = peer_result(&p, t0);
	if (p.ctl >= 0)
		close(p.ctl);
	if (p.mp.keep_fd >= 0)
		close(p.mp.keep_fd);
	if (p.host != c->host)
		os_host_free(p.host);
	return p.connected ? 0 : 1;
}

/* The port the punch to PU's first candidate would bind: a one-port
 * method's port (reuse), else the emulated host's next (bound for a moment
 * to ask), else 0 (the kernel's choice at connect()). */
static uint16_t signal_local_port(struct peer *p, const struct pmsg *pu)
{
	if (p->m->one_port)
		return p->mp.port;
	if (!p->host || !p->host->ops->next)
		return 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct os_dest d = {p->local_addr, pu->addr, pu->ports[0]};
	uint16_t port =
	    fd < 0 ? 0 : os_host_port(p->host, &d, now_ms() / 1e3, method_port_taken, &fd);
	if (fd >= 0)
		close(fd); /* bound, never connected: nothing lingers */
	return port;
}

int peer_signal(const struct peer_config *c, struct peer_signal *out)
{
	struct peer p = {.c = c,
			 .ctl = -1,
			 .m = method_of((int)c->method),
			 .mp = {.keep_fd = -1,
				.server_addr = c->server.sin_addr.s_addr,
				.server_port = ntohs(c->server.sin_port)}};
	struct pmsg w, rd = {.type = PM_READY}, pu = {.type = PM_ERROR};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	p.seen = json_array();
	p.predicted = json_array();
	if (peer_hello(&p, &w) == 0) {
		p.port_on = p.m->one_port;
		if (peer_probe(&p, &w, &rd.rtt_ms) == 0 && send_msg(p.ctl, &rd) == 0 &&
		    ctl_recv(&p, &pu, c->wait_timeout_ms) == 0 && pu.type != PM_PUNCH)
			snprintf(p.server_error, sizeof(p.server_error), "expected punch, got %s %s",
				 proto_type_name(pu.type), pu.type == PM_ERROR ? pu.code : pu.reason);
	}
	if (pu.type == PM_PUNCH && pu.nports > 0) {
		out->local_addr = p.local_addr;
		out->local_port = signal_local_port(&p, &pu);
		out->remote_addr = pu.addr;
		out->nports = pu.nports;
		memcpy(out->remote_ports, pu.ports, sizeof(pu.ports));
		out->go_ms = pu.go_ms + (int)c->skew_ms;
		rc = 0;
	}
	snprintf(out->error, sizeof(out->error), "%s",
		 p.server_error[0] ? p.server_error : rc ? "S sent no punch" : "");
	method_port_keep(&p.mp, -1); /* abortively: no TIME_WAIT on the port */
	if (p.ctl >= 0)
		close(p.ctl);
	if (p.host != c->host)
		os_host_free(p.host);
	json_decref(p.seen);
	json_decref(p.predicted);
	return rc;
}

int peer_open_session(const struct sockaddr_in *server, uint8_t *token, char *err, size_t errlen)
{
	struct peer_config c;
	peer_config_defaults(&c);
	struct peer p = {.c = &c, .m = &method_predict, .mp.keep_fd = -1};
	double ms;
	int e = 0;
	int fd =
	    out_connect(&p, server->sin_addr.s_addr, ntohs(server->sin_port), 5000, NULL, &ms, &e);
	if (fd < 0) {
		snprintf(err, errlen, "cannot reach the server: %s", strerror(e));
		return -1;
	}
	struct pmsg m = {.type = PM_OPEN}, r;
	char buf[PROTO_MAX_LINE + 1];
	size_t len = 0;
	snprintf(err, errlen, "cannot send to the server");
	int rc = send_msg(fd, &m) < 0 ? -1 : recv_msg(fd, buf, &len, &r, 5000, err, errlen);
	close(fd);
	if (rc < 0)
		return -1;
	if (r.type != PM_OPENED) {
		snprintf(err, errlen, "the server refused: %s: %s", r.code, r.text);
		return -1;
	}
	memcpy(token, r.session, PROTO_TOKEN_LEN);
	return 0;
}
