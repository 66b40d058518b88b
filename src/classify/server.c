// SPDX-License-Identifier: MIT
#include "server.h"
#include "util/jsonesc.h"
#include "verdict.h"
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void cs_config_defaults(struct cs_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_clients = 64;
	c->max_conns = 512;
	c->max_per_addr = 256;
	c->first_line_ms = 5000;
	c->idle_ms = 60000;
	c->session_ms = 3600000;
	c->max_attempts = 64;
	c->max_parallel = 4;
	c->max_holds = 16;
}

enum item_kind { IK_LISTENER, IK_CONN, IK_ATTEMPT };
enum conn_state { CS_NEW, CS_CONTROL, CS_HELD, CS_CLOSING };

/* what epoll hands back: every item starts so */
struct item {
	enum item_kind kind;
	int fd;
};

struct session {
	bool used;
	uint32_t gen; /* bumped when the slot is freed: stale references see it */
	uint8_t token[CL_TOKEN_LEN];
	struct conn *ctl;
	uint32_t addr; /* the client's address, network byte order: the only target */
	int attempts, parallel, holds;
	int64_t started_ms;
};

struct conn {
	struct item it;
	enum conn_state state;
	int ep;			 /* the listener it came in on */
	struct sockaddr_in peer; /* as seen */
	int64_t deadline_ms;	 /* closed then; for CS_HELD: the ping */
	int sess;		 /* CS_CONTROL, CS_HELD: the session slot; -1 none */
	uint32_t gen;
	int seq; /* CS_HELD: the probe's */
	char rbuf[CL_MAX_LINE];
	size_t rlen;
	char wbuf[4 * CL_MAX_LINE];
	size_t wlen;
};

struct attempt {
	struct item it;
	int sess;
	uint32_t gen;
	int id, from;
	struct sockaddr_in to;
	int64_t start_ms, deadline_ms;
};

struct cs {
	const struct cs_config *c;
	int ep;
	struct item lst[CL_NENDPOINTS];
	struct session *sess;
	int nsess, nitems;
	void **items; /* by fd: struct conn or struct attempt; NULL */
	size_t items_cap;
	int64_t now;
	int max_items;	       /* max_conns, under the descriptor limit */
	int sink_fd, fill_fd;  /* the sink's listener, and the connection filling its queue */
	int64_t accept_resume; /* 0: the listeners are polled; else when they are again */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logev(struct cs *v, const char *event, const struct sockaddr_in *who, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));
static void logev(struct cs *v, const char *event, const struct sockaddr_in *who, const char *fmt,
		  ...)
{
	FILE *f = v->c->log;
	char a[24];

	if (!f)
		return;
	evlog_begin(f, event);
	if (who)
		fprintf(f, ",\"from\":\"%s\"", cl_ep_str(who, a, sizeof(a)));
	va_list ap;
	va_start(ap, fmt);
	evlog_end(f, fmt, ap);
	va_end(ap);
}

/* ---- items by fd ---- */

static int items_put(struct cs *v, int fd, void *it)
{
	if ((size_t)fd >= v->items_cap) {
		size_t ncap = v->items_cap ? v->items_cap : 256;
		while ((size_t)fd >= ncap)
			ncap *= 2;
		void **n = realloc(v->items, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + v->items_cap, 0, (ncap - v->items_cap) * sizeof(*n));
		v->items = n;
		v->items_cap = ncap;
	}
	v->items[fd] = it;
	v->nitems++;
	return 0;
}

static void items_drop(struct cs *v, int fd)
{
	epoll_ctl(v->ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	v->items[fd] = NULL;
	v->nitems--;
}

static struct session *sess_get(struct cs *v, int slot, uint32_t gen)
{
	if (slot < 0 || slot >= v->nsess || !v->sess[slot].used || v->sess[slot].gen != gen)
		return NULL;
	return &v->sess[slot];
}

/* ---- connections ---- */

static void conn_events(struct cs *v, struct conn *c)
{
	struct epoll_event ev = {.events = (c->state == CS_CLOSING ? 0 : EPOLLIN) |
					   (c->wlen ? EPOLLOUT : 0),
				 .data.ptr = c};
	epoll_ctl(v->ep, EPOLL_CTL_MOD, c->it.fd, &ev);
}

static void conn_flush(struct cs *v, struct conn *c)
{
	while (c->wlen) {
		ssize_t w = send(c->it.fd, c->wbuf, c->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			c->state = CS_CLOSING;
			c->wlen = 0;
			break;
		}
		memmove(c->wbuf, c->wbuf + w, c->wlen - (size_t)w);
		c->wlen -= (size_t)w;
	}
	conn_events(v, c);
}

/* Queues M; a client that does not read its replies is cut off. */
static void conn_send(struct cs *v, struct conn *c, const struct cl_msg *m)
{
	char line[CL_MAX_LINE + 1];
	int n = cl_format(m, line, sizeof(line));

	if (c->state == CS_CLOSING)
		return;
	if (n < 0 || c->wlen + (size_t)n > sizeof(c->wbuf)) {
		c->state = CS_CLOSING;
		c->wlen = 0;
		return;
	}
	memcpy(c->wbuf + c->wlen, line, (size_t)n);
	c->wlen += (size_t)n;
	conn_flush(v, c);
}

static void send_error(struct cs *v, struct conn *c, const char *code, const char *text)
{
	struct cl_msg m = {.type = CL_ERROR};

	snprintf(m.code, sizeof(m.code), "%s", code);
	snprintf(m.text, sizeof(m.text), "%s", text);
	logev(v, "refused", &c->peer, "\"code\":\"%s\"", code);
	conn_send(v, c, &m);
	c->state = CS_CLOSING;
	c->deadline_ms = v->now + 1000; /* the error goes out, or not, within a second */
	conn_events(v, c);
}

static void session_end(struct cs *v, int slot);

static void conn_close(struct cs *v, struct conn *c)
{
	struct session *s = sess_get(v, c->sess, c->gen);

	if (s && c->state == CS_HELD)
		s->holds--;
	if (s && s->ctl == c)
		session_end(v, c->sess);
	items_drop(v, c->it.fd);
	free(c);
}

static void attempt_close(struct cs *v, struct attempt *a)
{
	struct session *s = sess_get(v, a->sess, a->gen);
	if (s)
		s->parallel--;
	items_drop(v, a->it.fd);
	free(a);
}

/* The session's control connection is gone: its held test connections go
 * with it (marked here, closed by the sweep: this may run in the middle of
 * a batch of events that still points at them), and its attempts end
 * unreported, within their wait. */
static void session_end(struct cs *v, int slot)
{
	struct session *s = &v->sess[slot];

	logev(v, "session-end", s->ctl ? &s->ctl->peer : NULL, "\"attempts\":%d", s->attempts);
	s->ctl = NULL;
	for (size_t fd = 0; fd < v->items_cap; fd++) {
		struct conn *c = v->items[fd];
		if (c && c->it.kind == IK_CONN && c->state == CS_HELD && c->sess == slot &&
		    c->gen == s->gen)
			c->state = CS_CLOSING;
	}
	s->used = false;
	s->gen++;
}

/* ---- attempts: connections the server makes ---- */

/* the endpoint an attempt goes out from: one of the four, or the sink */
static const struct sockaddr_in *from_ep(const struct cs *v, int from)
{
	return from == CL_FROM_SINK ? &v->c->sink : &v->c->ep[from];
}

static void outcome_send(struct cs *v, struct attempt *a, enum cl_result r, int err,
			 const struct sock_extended_err *ee, uint32_t icmp_from)
{
	struct session *s = sess_get(v, a->sess, a->gen);
	struct cl_msg m = {.type = CL_OUTCOME,
			   .id = a->id,
			   .at = *from_ep(v, a->from),
			   .to = a->to,
			   .result = r,
			   .ms = (int)(v->now - a->start_ms),
			   .icmp_type = ee ? ee->ee_type : -1,
			   .icmp_code = ee ? ee->ee_code : -1,
			   .icmp_from = icmp_from};

	if (err)
		snprintf(m.err, sizeof(m.err), "%s", strerrorname_np(err) ?: "?");
	if (s && s->ctl)
		conn_send(v, s->ctl, &m);
}

/* The ICMP error behind a failed connect, from the error queue (IP_RECVERR);
 * false when there is none (a RST, or a kernel that queued nothing). */
static bool icmp_error(int fd, struct sock_extended_err *out, uint32_t *from)
{
	char cbuf[512];
	struct msghdr mh = {.msg_control = cbuf, .msg_controllen = sizeof(cbuf)};

	if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return false;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_IP || cm->cmsg_type != IP_RECVERR)
			continue;
		struct sock_extended_err *ee = (struct sock_extended_err *)CMSG_DATA(cm);
		if (ee->ee_origin != SO_EE_ORIGIN_ICMP)
			continue;
		*out = *ee;
		struct sockaddr_in *off = (struct sockaddr_in *)SO_EE_OFFENDER(ee);
		*from = off->sin_family == AF_INET ? off->sin_addr.s_addr : 0;
		return true;
	}
	return false;
}

/* The attempt's socket is writable or has an error: it connected, or not. */
static void attempt_done(struct cs *v, struct attempt *a)
{
	struct sock_extended_err ee;
	uint32_t from = 0;
	int err = 0;
	socklen_t len = sizeof(err);
	bool icmp = icmp_error(a->it.fd, &ee, &from);

	getsockopt(a->it.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (!err && !icmp) {
		struct session *s = sess_get(v, a->sess, a->gen);
		struct cl_msg k = {.type = CL_KNOCK, .id = a->id};
		char line[CL_MAX_LINE + 1];
		int n;
		if (s)
			memcpy(k.token, s->token, CL_TOKEN_LEN);
		/* a few bytes into an empty send buffer: no need to wait for them;
		 * one that does not go is a knock that does not arrive, which the
		 * client sees */
		if ((n = cl_format(&k, line, sizeof(line))) > 0) {
			ssize_t w = send(a->it.fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
		}
		outcome_send(v, a, CL_R_CONNECTED, 0, NULL, 0);
	} else if (icmp) {
		outcome_send(v, a, CL_R_ICMP, err ? err : (int)ee.ee_errno, &ee, from);
	} else if (err == ECONNREFUSED) {
		/* without the error queue, a refusal after RFC 5382's silence is
		 * the ICMP port unreachable, not a RST */
		outcome_send(v, a, v->now - a->start_ms >= CV_RFC5382_MIN_MS ? CL_R_ICMP : CL_R_RST,
			     err, NULL, 0);
	} else if (err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN || err == ENONET ||
		   err == EPROTO) {
		outcome_send(v, a, CL_R_ICMP, err, NULL, 0);
	} else {
		outcome_send(v, a, err == ETIMEDOUT ? CL_R_TIMEOUT : CL_R_ERROR, err, NULL, 0);
	}
	attempt_close(v, a);
}

/* A socket bound to endpoint FROM, beside its listener (SO_REUSEPORT). */
static int bound_socket(const struct sockaddr_in *from)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)from, sizeof(*from)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void attempt_start(struct cs *v, struct conn *c, const struct cl_msg *m)
{
	struct session *s = sess_get(v, c->sess, c->gen);
	struct attempt tmp = {.sess = c->sess, .gen = c->gen, .id = m->id, .from = m->from};
	struct attempt *a;

	tmp.to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(m->port)};
	tmp.to.sin_addr.s_addr = s->addr; /* never anyone else's address */
	tmp.start_ms = v->now;
	tmp.deadline_ms = v->now + m->wait_ms;
	if (s->attempts >= v->c->max_attempts || s->parallel >= v->c->max_parallel ||
	    v->nitems >= v->max_items) {
		outcome_send(v, &tmp, CL_R_ERROR, EBUSY, NULL, 0);
		return;
	}
	if (m->from == CL_FROM_SINK && v->sink_fd < 0) {
		outcome_send(v, &tmp, CL_R_ERROR, ENOENT, NULL, 0);
		return;
	}
	s->attempts++;
	int fd = bound_socket(from_ep(v, m->from));
	if (fd < 0) {
		outcome_send(v, &tmp, CL_R_ERROR, -fd, NULL, 0);
		return;
	}
	if (connect(fd, (struct sockaddr *)&tmp.to, sizeof(tmp.to)) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		outcome_send(v, &tmp, e == ECONNREFUSED ? CL_R_RST : CL_R_ERROR, e, NULL, 0);
		return;
	}
	struct epoll_event ev = {.events = EPOLLOUT};
	if (!(a = malloc(sizeof(*a))) || items_put(v, fd, a) < 0) {
		free(a);
		close(fd);
		outcome_send(v, &tmp, CL_R_ERROR, ENOMEM, NULL, 0);
		return;
	}
	*a = tmp;
	a->it = (struct item){.kind = IK_ATTEMPT, .fd = fd};
	ev.data.ptr = a;
	epoll_ctl(v->ep, EPOLL_CTL_ADD, fd, &ev);
	s->parallel++;
}

/* ---- the sink ---- */

/* Whether the sink's accept queue is full: a SYN to it then goes unanswered.
 * For a listener, TCP_INFO gives the queue's length and its limit. */
static bool sink_full(const struct cs *v)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (v->sink_fd < 0 || getsockopt(v->sink_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return false;
	return ti.tcpi_unacked > ti.tcpi_sacked;
}

/* The sink: a listener with a backlog of 0, and one connection of our own to
 * it that is never accepted. Neither is polled. */
static int sink_open(struct cs *v)
{
	struct sockaddr_in from = v->c->sink;
	int one = 1;

	v->sink_fd = v->fill_fd = -1;
	if (!v->c->sink.sin_port)
		return 0;
	if ((v->sink_fd = bound_socket(&v->c->sink)) < 0 || listen(v->sink_fd, 0) < 0)
		return v->sink_fd < 0 ? v->sink_fd : -errno;
	from.sin_port = 0;
	v->fill_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->fill_fd < 0)
		return -errno;
	setsockopt(v->fill_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(v->fill_fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    (connect(v->fill_fd, (const struct sockaddr *)&v->c->sink, sizeof(v->c->sink)) < 0 &&
	     errno != EINPROGRESS))
		return -errno;
	return 0;
}

/* ---- messages ---- */

static void on_hello(struct cs *v, struct conn *c)
{
	int slot = 0;
	struct cl_msg m = {.type = CL_WELCOME, .you = c->peer};

	if (c->ep != 0)
		return send_error(v, c, "not-control", "the control connection goes to A1:P1");
	while (slot < v->nsess && v->sess[slot].used)
		slot++;
	if (slot == v->nsess)
		return send_error(v, c, "busy", "too many clients");
	struct session *s = &v->sess[slot];
	s->used = true;
	s->ctl = c;
	s->addr = c->peer.sin_addr.s_addr;
	s->attempts = s->parallel = s->holds = 0;
	s->started_ms = v->now;
	if (getrandom(s->token, CL_TOKEN_LEN, 0) != CL_TOKEN_LEN)
		for (int i = 0; i < CL_TOKEN_LEN; i++)
			s->token[i] = (uint8_t)(rand() ^ v->now >> i);
	c->state = CS_CONTROL;
	c->sess = slot;
	c->gen = s->gen;
	c->deadline_ms = v->now + v->c->idle_ms;
	memcpy(m.token, s->token, CL_TOKEN_LEN);
	memcpy(m.ep, v->c->ep, sizeof(m.ep));
	if (sink_full(v)) /* offered only while it is silent */
		m.sink = v->c->sink;
	logev(v, "session", &c->peer, NULL);
	conn_send(v, c, &m);
}

static void on_probe(struct cs *v, struct conn *c, const struct cl_msg *p)
{
	struct cl_msg m = {.type = CL_SEEN, .seq = p->seq, .you = c->peer, .at = v->c->ep[c->ep]};
	int slot = 0;

	while (slot < v->nsess &&
	       !(v->sess[slot].used && !memcmp(v->sess[slot].token, p->token, CL_TOKEN_LEN)))
		slot++;
	if (slot == v->nsess)
		return send_error(v, c, "bad-token", "no session has this token");
	struct session *s = &v->sess[slot];
	conn_send(v, c, &m);
	if (c->state == CS_CLOSING)
		return;
	if (p->hold_ms && s->holds < v->c->max_holds &&
	    v->now + p->hold_ms < s->started_ms + v->c->session_ms) {
		s->holds++;
		c->state = CS_HELD;
		c->sess = slot;
		c->gen = s->gen;
		c->seq = p->seq;
		c->deadline_ms = v->now + p->hold_ms;
		/* the control connection may stay silent until the last ping */
		if (s->ctl && s->ctl->deadline_ms < c->deadline_ms + v->c->idle_ms)
			s->ctl->deadline_ms = c->deadline_ms + v->c->idle_ms;
		return;
	}
	c->state = CS_CLOSING; /* goes once the reply is out */
	c->deadline_ms = v->now + 1000;
	conn_events(v, c);
}

static void handle(struct cs *v, struct conn *c, const char *line, size_t len)
{
	struct cl_msg m;
	char err[160];

	if (cl_parse(line, len, &m, err, sizeof(err)) < 0)
		return send_error(v, c, "bad-message", err);
	if (c->state == CS_NEW && m.type == CL_HELLO)
		return on_hello(v, c);
	if (c->state == CS_NEW && m.type == CL_PROBE)
		return on_probe(v, c, &m);
	if (c->state == CS_CONTROL && m.type == CL_CONNECT) {
		c->deadline_ms = v->now + v->c->idle_ms;
		return attempt_start(v, c, &m);
	}
	send_error(v, c, "unexpected", "message not expected here");
}

/* Reads what is there; handles every complete line. */
static void conn_read(struct cs *v, struct conn *c)
{
	for (;;) {
		ssize_t r = recv(c->it.fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			c->state = CS_CLOSING;
			c->wlen = 0;
			return;
		}
		if (c->state == CS_HELD) /* a held connection says nothing more */
			return send_error(v, c, "unexpected", "nothing is expected here");
		c->rlen += (size_t)r;
		char *nl;
		while (c->state != CS_CLOSING && (nl = memchr(c->rbuf, '\n', c->rlen))) {
			size_t take = (size_t)(nl - c->rbuf) + 1;
			handle(v, c, c->rbuf, take);
			memmove(c->rbuf, c->rbuf + take, c->rlen - take);
			c->rlen -= take;
		}
		if (c->state == CS_CLOSING)
			return;
		if (c->rlen == sizeof(c->rbuf))
			return send_error(v, c, "line-too-long", "lines are at most 512 bytes");
		if (c->state == CS_HELD && c->rlen) /* a held connection says nothing more */
			return send_error(v, c, "unexpected", "nothing is expected here");
	}
}

/* ---- listeners ---- */

/* Connections open from ADDR: a linear count, there are max_conns at most. */
static int from_addr(const struct cs *v, uint32_t addr)
{
	int n = 0;
	for (size_t fd = 0; fd < v->items_cap; fd++) {
		const struct conn *c = v->items[fd];
		n += c && c->it.kind == IK_CONN && c->peer.sin_addr.s_addr == addr;
	}
	return n;
}

static void do_accept(struct cs *v, int idx)
{
	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		int fd = accept4(v->lst[idx].fd, (struct sockaddr *)&from, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 &&
		    (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
			/* the listener stays readable: level-triggered epoll would
			 * report it again at once, forever; the deadlines free some */
			struct epoll_event ev = {.events = 0, .data.ptr = &v->lst[idx]};
			epoll_ctl(v->ep, EPOLL_CTL_MOD, v->lst[idx].fd, &ev);
			v->accept_resume = v->now + 100;
			return;
		}
		if (fd < 0)
			return;
		struct conn *c = NULL;
		if (v->nitems >= v->max_items ||
		    from_addr(v, from.sin_addr.s_addr) >= v->c->max_per_addr ||
		    !(c = calloc(1, sizeof(*c))) || items_put(v, fd, c) < 0) {
			static const char busy[] = "{\"v\":1,\"type\":\"error\",\"code\":\"busy\","
						   "\"text\":\"too many connections\"}\n";
			ssize_t w = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			free(c);
			close(fd);
			continue;
		}
		c->it = (struct item){.kind = IK_CONN, .fd = fd};
		c->ep = idx;
		c->peer = from;
		c->sess = -1;
		c->deadline_ms = v->now + v->c->first_line_ms;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(v->ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static int listen_all(struct cs *v, int *failed)
{
	for (int i = 0; i < CL_NENDPOINTS; i++) {
		int fd = bound_socket(&v->c->ep[i]);
		if (fd >= 0 && listen(fd, 128) < 0) {
			int e = -errno;
			close(fd);
			fd = e;
		}
		if (fd < 0) {
			if (failed)
				*failed = i;
			return fd;
		}
		v->lst[i] = (struct item){.kind = IK_LISTENER, .fd = fd};
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &v->lst[i]};
		if (epoll_ctl(v->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

/* Deadlines: a silent new connection, an idle control connection, a held
 * connection's ping, an attempt's wait. */
static void sweep(struct cs *v)
{
	if (v->accept_resume && v->now >= v->accept_resume) {
		for (int i = 0; i < CL_NENDPOINTS; i++) {
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &v->lst[i]};
			epoll_ctl(v->ep, EPOLL_CTL_MOD, v->lst[i].fd, &ev);
		}
		v->accept_resume = 0;
	}
	for (size_t fd = 0; fd < v->items_cap; fd++) {
		struct item *it = v->items[fd];
		if (it && it->kind == IK_ATTEMPT && v->now >= ((struct attempt *)it)->deadline_ms) {
			outcome_send(v, (struct attempt *)it, CL_R_TIMEOUT, 0, NULL, 0);
			attempt_close(v, (struct attempt *)it);
			continue;
		}
		if (!it || it->kind != IK_CONN)
			continue;
		struct conn *c = (struct conn *)it;
		struct session *s = sess_get(v, c->sess, c->gen);
		if (c->state == CS_CONTROL && s && v->now >= s->started_ms + v->c->session_ms)
			send_error(v, c, "session-over", "the session lasted its maximum");
		if (c->state == CS_CLOSING && !c->wlen) {
			conn_close(v, c);
			continue;
		}
		if (v->now < c->deadline_ms)
			continue;
		if (c->state == CS_HELD) {
			struct cl_msg m = {.type = CL_PING, .seq = c->seq};
			conn_send(v, c, &m);
			c->state = CS_CLOSING;
			c->deadline_ms = v->now + 1000;
			conn_events(v, c);
			continue;
		}
		conn_close(v, c);
	}
}

static void dispatch(struct cs *v, struct epoll_event *e)
{
	struct item *it = e->data.ptr;

	if (it->kind == IK_LISTENER)
		return do_accept(v, (int)(it - v->lst));
	if (it->kind == IK_ATTEMPT)
		return attempt_done(v, (struct attempt *)it);
	struct conn *c = (struct conn *)it;
	if (e->events & (EPOLLERR | EPOLLHUP)) {
		c->state = CS_CLOSING;
		c->wlen = 0;
	}
	if (c->state != CS_CLOSING && (e->events & EPOLLOUT))
		conn_flush(v, c);
	if (c->state != CS_CLOSING && (e->events & EPOLLIN))
		conn_read(v, c);
	if (c->state == CS_CLOSING && !c->wlen)
		conn_close(v, c);
}

int cs_run(const struct cs_config *cfg, volatile sig_atomic_t *stop, int *failed)
{
	struct cs v = {.c = cfg, .nsess = cfg->max_clients, .sink_fd = -1, .fill_fd = -1};
	struct epoll_event evs[128];
	char a[CL_NENDPOINTS][24], sink[24];
	int rc = 0;

	if (failed)
		*failed = -1;
	for (int i = 0; i < CL_NENDPOINTS; i++)
		v.lst[i].fd = -1;
	struct rlimit rl;
	v.max_items = cfg->max_conns;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)v.max_items + 16 > rl.rlim_cur)
		v.max_items = rl.rlim_cur > 32 ? (int)rl.rlim_cur - 16 : 16;
	v.sess = calloc((size_t)v.nsess, sizeof(*v.sess));
	v.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!v.sess || v.ep < 0) {
		rc = v.sess ? -errno : -ENOMEM;
		goto out;
	}
	if ((rc = listen_all(&v, failed)) < 0)
		goto out;
	if ((rc = sink_open(&v)) < 0) {
		if (failed)
			*failed = CL_FROM_SINK;
		goto out;
	}
	v.now = mono_ms();
	logev(&v, "listen", NULL, "\"endpoints\":[\"%s\",\"%s\",\"%s\",\"%s\"],\"sink\":%s%s%s",
	      cl_ep_str(&cfg->ep[0], a[0], 24), cl_ep_str(&cfg->ep[1], a[1], 24),
	      cl_ep_str(&cfg->ep[2], a[2], 24), cl_ep_str(&cfg->ep[3], a[3], 24),
	      v.sink_fd >= 0 ? "\"" : "", v.sink_fd >= 0 ? cl_ep_str(&cfg->sink, sink, 24) : "null",
	      v.sink_fd >= 0 ? "\"" : "");
	while (!*stop) {
		int n = epoll_wait(v.ep, evs, 128, 20);
		v.now = mono_ms();
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(&v, &evs[i]);
		sweep(&v);
	}
out:
	for (size_t fd = 0; fd < v.items_cap; fd++)
		if (v.items[fd]) {
			struct item *it = v.items[fd];
			items_drop(&v, (int)fd);
			free(it);
		}
	for (int i = 0; i < CL_NENDPOINTS; i++)
		if (v.lst[i].fd >= 0)
			close(v.lst[i].fd);
	if (v.sink_fd >= 0)
		close(v.sink_fd);
	if (v.fill_fd >= 0)
		close(v.fill_fd);
	free(v.items);
	free(v.sess);
	if (v.ep >= 0)
		close(v.ep);
	return rc;
}
