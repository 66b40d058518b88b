// SPDX-License-Identifier: MIT
#include "server.h"
#include "util/jsonesc.h"
#include "proto.h"
#include "util/endpoint.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void srv_config_defaults(struct srv_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen.sin_family = AF_INET;
	c->heuristic = heuristic_by_name("delta");
	c->guesses = 1;
	c->go_ms = -1; /* auto */
	c->max_rounds = 10;
	c->idle_ms = 10000;
	c->session_ttl_ms = 120000;
	c->max_per_addr = 64;
	c->max_conns = 16384;
	c->max_sessions = 100000;
}

enum conn_kind { CK_NEW, CK_CONTROL, CK_PROBE, CK_CLOSING };

struct session;

/* Kept small: an idle connection holds no buffer at all. */
struct conn {
	int fd;
	uint8_t kind;
	char role;
	uint32_t addr; /* network byte order */
	uint16_t port; /* host byte order */
	int64_t last_ms;
	struct session *s;
	char *rbuf; /* only while a partial line is pending */
	uint16_t rlen;
	char *wbuf; /* only while output is pending */
	uint16_t wlen, woff;
};

struct side {
	struct conn *ctl;
	uint8_t probe_token[PROTO_TOKEN_LEN];
	uint8_t probes, seen;
	uint8_t hello, ready, has_result, result_ok;
	uint32_t ext_addr;
	float rtt_ms;
	uint16_t result_local;
	char result_reason[24];
	uint16_t seen_port[PROTO_MAX_PROBES];
	uint16_t local_port[PROTO_MAX_PROBES];
	float seen_t[PROTO_MAX_PROBES];
	uint16_t predicted[PROTO_MAX_PORTS]; /* S's candidates for this side */
	uint8_t npredicted;
};

struct session {
	uint8_t token[PROTO_TOKEN_LEN];
	int64_t created_ms, last_ms;
	uint16_t round, max_rounds;
	uint8_t done;
	char gone;	/* the role whose control connection closed before the verdict */
	uint8_t untold; /* gone, and the other peer has not said hello yet */
	uint8_t nonce[PROTO_TOKEN_LEN];
	struct side side[2];
};

/* open-addressing table from a 16-byte token to a session (and role) */
struct slot {
	const uint8_t *key; /* points into the session; NULL empty; TOMB deleted */
	struct session *s;
	char role;
};
static const uint8_t tomb[1];
#define TOMB tomb

struct table {
	struct slot *slots;
	size_t cap, used, live;
};

struct addr_count {
	uint32_t addr;
	uint32_t n;
};

struct srv {
	const struct srv_config *c;
	int ep, lfd;
	struct conn **conns; /* by fd */
	size_t nconns_cap;
	int nconns;
	struct table sessions, probes;
	struct addr_count *per_addr; /* open addressing by address */
	size_t per_addr_cap;
	int nsessions;
	uint64_t rng;
	int64_t now;
	/* refusals are logged at most REFUSALS_LOGGED a second: a flood must
	 * not turn into a flood of log lines */
	int64_t refusal_second;
	unsigned refusals, refusals_unlogged;
	int64_t accept_resume; /* 0: the listener is polled; else when it is again */
	bool stopping;	       /* closing everything: no peer is gone, S is */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void random_bytes(struct srv *v, uint8_t *out, size_t n)
{
	/* tokens are capabilities: from the kernel, never from a seeded PRNG */
	if (getrandom(out, n, 0) == (ssize_t)n)
		return;
	for (size_t i = 0; i < n; i++) {
		v->rng ^= v->rng << 13;
		v->rng ^= v->rng >> 7;
		v->rng ^= v->rng << 17;
		out[i] = (uint8_t)v->rng;
	}
}

/* ---- logging ---- */

static void logev(struct srv *v, const char *event, const struct session *s, char role,
		  const struct conn *c, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void logev(struct srv *v, const char *event, const struct session *s, char role,
		  const struct conn *c, const char *fmt, ...)
{
	FILE *f = v->c->log;
	if (!f)
		return;
	evlog_begin(f, event);
	if (s) {
		char h[2 * PROTO_TOKEN_LEN + 1];
		proto_hex(s->token, PROTO_TOKEN_LEN, h);
		h[8] = 0; /* a prefix names the session without handing out the capability */
		fprintf(f, ",\"session\":\"%s\",\"round\":%d", h, s->round);
	}
	if (role)
		fprintf(f, ",\"role\":\"%c\"", role);
	if (c) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &c->addr, a, sizeof(a));
		fprintf(f, ",\"from\":\"%s:%u\"", a, c->port);
	}
	va_list ap;
	va_start(ap, fmt);
	evlog_end(f, fmt, ap);
	va_end(ap);
}

/* ---- token table ---- */

static size_t key_hash(const uint8_t *k)
{
	uint64_t h;
	memcpy(&h, k, sizeof(h)); /* tokens are random: their bytes are a hash */
	return (size_t)(h ^ (h >> 31));
}

static int table_grow(struct table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024;
	struct slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *e = &t->slots[i];
		if (!e->key || e->key == TOMB)
			continue;
		size_t j = key_hash(e->key) & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = *e;
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	t->used = t->live;
	return 0;
}

static int table_put(struct table *t, const uint8_t *key, struct session *s, char role)
{
	if ((t->used + 1) * 4 > t->cap * 3 && table_grow(t) < 0)
		return -ENOMEM;
	size_t j = key_hash(key) & (t->cap - 1);
	while (t->slots[j].key && t->slots[j].key != TOMB)
		j = (j + 1) & (t->cap - 1);
	if (!t->slots[j].key)
		t->used++;
	t->slots[j] = (struct slot){key, s, role};
	t->live++;
	return 0;
}

static struct slot *table_get(struct table *t, const uint8_t *key)
{
	if (!t->cap)
		return NULL;
	size_t j = key_hash(key) & (t->cap - 1);
	while (t->slots[j].key) {
		if (t->slots[j].key != TOMB && !memcmp(t->slots[j].key, key, PROTO_TOKEN_LEN))
			return &t->slots[j];
		j = (j + 1) & (t->cap - 1);
	}
	return NULL;
}

static void table_del(struct table *t, const uint8_t *key)
{
	struct slot *e = table_get(t, key);
	if (e) {
		e->key = TOMB;
		e->s = NULL;
		t->live--;
	}
}

/* ---- per-address connection counts ---- */

static uint32_t *addr_slot(struct srv *v, uint32_t addr, bool create)
{
	if (!v->per_addr_cap) {
		if (!create)
			return NULL;
		/* twice the connections allowed: it never fills */
		v->per_addr_cap = 1024;
		while (v->per_addr_cap < 2 * (size_t)v->c->max_conns)
			v->per_addr_cap *= 2;
		v->per_addr = calloc(v->per_addr_cap, sizeof(*v->per_addr));
		if (!v->per_addr)
			return NULL;
	}
	/* linear probing; entries with n == 0 are reused, and the table is sized
	 * far above max_conns so it never fills */
	size_t j = (addr * 2654435761u) & (v->per_addr_cap - 1), first_free = SIZE_MAX;
	for (size_t probes = 0; probes < v->per_addr_cap; probes++) {
		struct addr_count *e = &v->per_addr[j];
		if (e->n && e->addr == addr)
			return &e->n;
		if (!e->n && first_free == SIZE_MAX)
			first_free = j;
		if (!e->n && !e->addr)
			break;
		j = (j + 1) & (v->per_addr_cap - 1);
	}
	if (!create || first_free == SIZE_MAX)
		return NULL;
	v->per_addr[first_free].addr = addr;
	return &v->per_addr[first_free].n;
}

/* ---- connections ---- */

static void session_free(struct srv *v, struct session *s);

static void send_error(struct srv *v, struct conn *c, const char *code, const char *text);

/* C, the control connection of its side, closes before the verdict: the
 * session is over, and the other peer, were it waiting, would wait until
 * its own timeout for a partner that will not come back. */
static void session_peer_gone(struct srv *v, struct session *s, char role)
{
	struct side *other = &s->side[role != 'b'];

	s->done = 1;
	s->gone = role;
	s->untold = !other->hello;
	logev(v, "peer-gone", s, role, NULL, NULL);
	if (other->ctl)
		send_error(v, other->ctl, "peer-gone",
			   "the other peer's control connection closed");
}

static void conn_close(struct srv *v, struct conn *c)
{
	uint32_t *n = addr_slot(v, c->addr, false);
	if (n && *n)
		(*n)--;
	if (c->s && c->s->side[c->role == 'b'].ctl == c) {
		c->s->side[c->role == 'b'].ctl = NULL;
		if (!c->s->done && !v->stopping)
			session_peer_gone(v, c->s, c->role);
	}
	epoll_ctl(v->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	v->conns[c->fd] = NULL;
	v->nconns--;
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void conn_flush(struct srv *v, struct conn *c)
{
	while (c->wbuf && c->woff < c->wlen) {
		ssize_t w = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			c->kind = CK_CLOSING;
			c->woff = c->wlen;
			break;
		}
		c->woff += (uint16_t)w;
	}
	if (c->wbuf && c->woff >= c->wlen) {
		free(c->wbuf);
		c->wbuf = NULL;
		c->wlen = c->woff = 0;
	}
	struct epoll_event ev = {.events = EPOLLIN | (c->wbuf ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(v->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queues one message; a client that does not read its replies is cut off. */
static void conn_send(struct srv *v, struct conn *c, const struct pmsg *m)
{
	char line[PROTO_MAX_LINE + 1];
	int n = proto_format(m, line, sizeof(line));
	if (n < 0)
		return;
	if (!c->wbuf) {
		ssize_t w = send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == n)
			return;
		if (w < 0 && errno != EAGAIN) {
			c->kind = CK_CLOSING;
			return;
		}
		if (w < 0)
			w = 0;
		if (!(c->wbuf = malloc(4 * PROTO_MAX_LINE))) {
			c->kind = CK_CLOSING;
			return;
		}
		memcpy(c->wbuf, line + w, (size_t)(n - w));
		c->wlen = (uint16_t)(n - w);
		c->woff = 0;
	} else {
		if (c->wlen - c->woff + n > 4 * PROTO_MAX_LINE) {
			c->kind = CK_CLOSING;
			return;
		}
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
		memcpy(c->wbuf + c->wlen, line, (size_t)n);
		c->wlen += (uint16_t)n;
	}
	conn_flush(v, c);
}

#define REFUSALS_LOGGED 100

static void send_error(struct srv *v, struct conn *c, const char *code, const char *text)
{
	struct pmsg m = {.type = PM_ERROR};
	snprintf(m.code, sizeof(m.code), "%s", code);
	snprintf(m.text, sizeof(m.text), "%s", text);
	conn_send(v, c, &m);
	if (v->now / 1000 != v->refusal_second) {
		if (v->refusals_unlogged)
			logev(v, "refused-unlogged", NULL, 0, NULL, "\"count\":%u",
			      v->refusals_unlogged);
		v->refusal_second = v->now / 1000;
		v->refusals = v->refusals_unlogged = 0;
	}
	if (++v->refusals <= REFUSALS_LOGGED)
		logev(v, "refused", c->kind == CK_CONTROL ? c->s : NULL, 0, c, "\"code\":\"%s\"",
		      code);
	else
		v->refusals_unlogged++;
	c->kind = CK_CLOSING;
}

/* ---- the procedure ---- */

static void side_reset(struct side *p)
{
	p->seen = 0;
	p->ready = 0;
	p->has_result = 0;
	p->result_ok = 0;
	p->result_reason[0] = 0;
	p->npredicted = 0;
}

/* "[p1,p2,...]" into BUF */
static void ports_json(char *buf, size_t len, const uint16_t *ports, int n)
{
	size_t o = (size_t)snprintf(buf, len, "[");
	for (int k = 0; k < n && o + 8 < len; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s%u", k ? "," : "", ports[k]);
	snprintf(buf + o, len - o, "]");
}

/* The heuristic's name as the inside of a JSON string. */
static const char *heur_name_json(const struct srv *v, char *buf, size_t len)
{
	const char *name = v->c->exec ? heurx_name(v->c->exec) : v->c->heuristic->name;
	heurx_json_text(name, strlen(name), buf, len);
	return buf;
}

/* S's candidates for SIDE (I) from the ports it saw: 0, or -1 when the
 * external heuristic failed (logged with the session). DEADLINE bounds both
 * sides' answers together. */
static int predict_side(struct srv *v, struct session *s, int i, int64_t deadline)
{
	struct side *p = &s->side[i];
	struct heur_obs obs[PROTO_MAX_PROBES];
	uint16_t cand[PROTO_MAX_PORTS];
	struct heurx_fail f;
	int n = 0;

	for (int k = 0; k < p->seen; k++)
		obs[k] = (struct heur_obs){p->seen_port[k], p->seen_t[k]};
	if (p->seen && v->c->exec)
		n = heurx_predict(v->c->exec, obs, p->seen, s->round, v->c->guesses, deadline, cand,
				  &f);
	else if (p->seen)
		n = v->c->heuristic->predict(obs, p->seen, v->c->guesses, v->c->seed ^ s->round,
					     cand);
	if (n < 0) {
		char why[2 * sizeof(f.why)];
		heurx_json_text(f.why, strlen(f.why), why, sizeof(why));
		logev(v, "heuristic-error", s, i ? 'b' : 'a', NULL,
		      "\"error\":\"%s\",\"answer\":\"%s\"", why, f.answer);
		if (f.restarted)
			logev(v, "heuristic-restart", NULL, 0, NULL, "\"restarts\":%d",
			      f.restarted);
		if (f.gave_up) {
			const char *g = heurx_gave_up(v->c->exec);
			heurx_json_text(g, strlen(g), why, sizeof(why));
			logev(v, "heuristic-gave-up", NULL, 0, NULL, "\"why\":\"%s\"", why);
		}
		p->npredicted = 0;
		return -1;
	}
	p->npredicted = (uint8_t)n;
	memcpy(p->predicted, cand, sizeof(cand[0]) * (size_t)n);
	return 0;
}

static void round_over(struct srv *v, struct session *s, bool ok, const char *why);

static void send_punch(struct srv *v, struct session *s)
{
	int64_t deadline = v->c->exec ? heurx_now_ms() + heurx_timeout_ms(v->c->exec) : 0;
	char name[128], took[48] = "";
	struct timespec t0, t1;

	random_bytes(v, s->nonce, sizeof(s->nonce));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* no punch without both predictions: the round fails at once */
	if (predict_side(v, s, 0, deadline) < 0 || predict_side(v, s, 1, deadline) < 0) {
		logev(v, "attempt", s, 0, NULL, "\"ok\":false,\"reason\":\"heuristic-error\"");
		round_over(v, s, false, "heuristic-error");
		return;
	}
	/* what an external heuristic's two answers took, pipes and all */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (v->c->exec)
		snprintf(took, sizeof(took), ",\"heuristic_ms\":%.3f",
			 (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	for (int i = 0; i < 2; i++) {
		struct side *me = &s->side[i], *other = &s->side[!i];
		struct pmsg m = {.type = PM_PUNCH, .addr = other->ext_addr, .round = s->round};
		m.nports = other->npredicted ? other->npredicted : 1;
		memcpy(m.ports, other->predicted, sizeof(m.ports[0]) * other->npredicted);
		if (!other->npredicted)
			m.ports[0] = 1;
		memcpy(m.nonce, s->nonce, sizeof(m.nonce));
		/* both should go at the same moment: subtract the half round trip
		 * this message needs to reach this peer */
		/* auto: the punch must reach the farther peer before anyone goes,
		 * with some room: twice the larger round trip, plus 2 ms */
		float far =
		    s->side[0].rtt_ms > s->side[1].rtt_ms ? s->side[0].rtt_ms : s->side[1].rtt_ms;
		int base = v->c->go_ms >= 0 ? v->c->go_ms : (int)(2 * far) + 2;
		int go = base - (int)(me->rtt_ms / 2);
		m.go_ms = go < 0 ? 0 : go;
		if (me->ctl)
			conn_send(v, me->ctl, &m);
	}
	char seen[2][PROTO_MAX_PROBES * 6 + 3], a[2][PROTO_MAX_PORTS * 6 + 3];
	for (int i = 0; i < 2; i++) {
		ports_json(seen[i], sizeof(seen[i]), s->side[i].seen_port, s->side[i].seen);
		ports_json(a[i], sizeof(a[i]), s->side[i].predicted, s->side[i].npredicted);
	}
	logev(v, "punch", s, 0, NULL,
	      "\"heuristic\":\"%s\",\"a\":{\"seen\":%s,\"predicted\":%s},\"b\":{\"seen\":%s,"
	      "\"predicted\":%s}%s",
	      heur_name_json(v, name, sizeof(name)), seen[0], a[0], seen[1], a[1], took);
}

/* Whether SIDE's punch port fell among the candidates S gave the other side:
 * 1 hit, 0 miss, -1 unknown (only known when its NAT preserved every probe's
 * port, so that the punch's external port is its local port). */
static int side_hit(const struct side *p)
{
	if (!p->result_local || !p->seen)
		return -1;
	for (int k = 0; k < p->seen; k++)
		if (!p->local_port[k] || p->local_port[k] != p->seen_port[k])
			return -1;
	for (int k = 0; k < p->npredicted; k++)
		if (p->predicted[k] == p->result_local)
			return 1;
	return 0;
}

static const char *verdict(const struct session *s)
{
	const struct side *a = &s->side[0], *b = &s->side[1];
	if (!strcmp(a->result_reason, "verify-failed") ||
	    !strcmp(b->result_reason, "verify-failed"))
		return "verify-failed";
	if (!strcmp(a->result_reason, "proxy-error") || !strcmp(b->result_reason, "proxy-error"))
		return "proxy-error";
	if (side_hit(a) == 0 || side_hit(b) == 0)
		return "mispredicted";
	if (a->ext_addr == b->ext_addr)
		return "no-hairpin";
	if (!strcmp(a->result_reason, "rst") || !strcmp(b->result_reason, "rst"))
		return "rst";
	return "timeout";
}

static void on_results(struct srv *v, struct session *s)
{
	struct side *a = &s->side[0], *b = &s->side[1];
	bool ok = a->result_ok && b->result_ok;
	const char *why = ok ? "" : verdict(s);

	logev(v, "attempt", s, 0, NULL,
	      "\"ok\":%s,\"reason\":\"%s\",\"a\":{\"local\":%u,\"hit\":%d},\"b\":{\"local\":%u,"
	      "\"hit\":%d}",
	      ok ? "true" : "false", why, a->result_local, side_hit(a), b->result_local,
	      side_hit(b));
	round_over(v, s, ok, why);
}

/* The round ended OK or not, WHY: done, or the next round. */
static void round_over(struct srv *v, struct session *s, bool ok, const char *why)
{
	if (ok || s->round >= s->max_rounds) {
		struct pmsg m = {.type = PM_DONE, .ok = ok, .round = s->round};
		snprintf(m.reason, sizeof(m.reason), "%s", why);
		for (int i = 0; i < 2; i++)
			if (s->side[i].ctl)
				conn_send(v, s->side[i].ctl, &m);
		s->done = 1;
		logev(v, "done", s, 0, NULL, "\"ok\":%s,\"reason\":\"%s\"", ok ? "true" : "false",
		      why);
		return;
	}
	s->round++;
	struct pmsg m = {.type = PM_RETRY, .round = s->round};
	snprintf(m.reason, sizeof(m.reason), "%s", why);
	for (int i = 0; i < 2; i++) {
		side_reset(&s->side[i]);
		if (s->side[i].ctl)
			conn_send(v, s->side[i].ctl, &m);
	}
}

static void session_free(struct srv *v, struct session *s)
{
	for (int i = 0; i < 2; i++) {
		if (s->side[i].ctl) {
			s->side[i].ctl->s = NULL;
			s->side[i].ctl->kind = CK_CLOSING;
		}
		if (s->side[i].hello)
			table_del(&v->probes, s->side[i].probe_token);
	}
	table_del(&v->sessions, s->token);
	v->nsessions--;
	free(s);
}

/* The srv_on_* handlers each take one message on C; false: the message is
 * not expected on C now (the caller refuses it). */

/* A client asks for a new session: its token, then the connection closes. */
static bool srv_on_open(struct srv *v, struct conn *c)
{
	if (c->kind != CK_NEW)
		return false;
	if (v->nsessions >= v->c->max_sessions) {
		send_error(v, c, "busy", "too many sessions; try later");
		return true;
	}
	struct session *ns = calloc(1, sizeof(*ns));
	if (!ns) {
		send_error(v, c, "busy", "out of memory");
		return true;
	}
	random_bytes(v, ns->token, sizeof(ns->token));
	ns->created_ms = ns->last_ms = v->now;
	ns->round = 1;
	ns->max_rounds = (uint16_t)v->c->max_rounds;
	if (table_put(&v->sessions, ns->token, ns, 0) < 0) {
		free(ns);
		send_error(v, c, "busy", "out of memory");
		return true;
	}
	v->nsessions++;
	struct pmsg r = {.type = PM_OPENED};
	memcpy(r.session, ns->token, sizeof(r.session));
	conn_send(v, c, &r);
	logev(v, "open", ns, 0, c, NULL);
	c->kind = CK_CLOSING;
	return true;
}

/* A peer's hello makes C the control connection of its side of a session. */
static bool srv_on_hello(struct srv *v, struct conn *c, const struct pmsg *m)
{
	if (c->kind != CK_NEW)
		return false;
	struct slot *e = table_get(&v->sessions, m->session);
	if (e && e->s->gone && e->s->gone != m->role) {
		e->s->untold = 0;
		send_error(v, c, "peer-gone", "the other peer's control connection closed");
		return true;
	}
	if (!e || e->s->done) {
		send_error(v, c, "unknown-session", "no such session (or it is over)");
		return true;
	}
	struct session *s = e->s;
	struct side *me = &s->side[m->role == 'b'];
	if (me->ctl) {
		send_error(v, c, "role-taken", "that role of the session is connected already");
		return true;
	}
	if (!me->hello) {
		random_bytes(v, me->probe_token, sizeof(me->probe_token));
		if (table_put(&v->probes, me->probe_token, s, m->role) < 0) {
			send_error(v, c, "busy", "out of memory");
			return true;
		}
		me->hello = 1;
	}
	me->probes = (uint8_t)m->probes;
	/* the session ends when the more impatient peer gives up */
	if (m->rounds && m->rounds < s->max_rounds)
		s->max_rounds = (uint16_t)m->rounds;
	me->ctl = c;
	c->kind = CK_CONTROL;
	c->s = s;
	c->role = m->role;
	s->last_ms = v->now;
	struct pmsg r = {.type = PM_WELCOME, .round = s->round};
	memcpy(r.token, me->probe_token, sizeof(r.token));
	conn_send(v, c, &r);
	logev(v, "hello", s, m->role, c, "\"probes\":%d", m->probes);
	return true;
}

/* A probe: S answers with the address and port it came from, then closes. */
static bool srv_on_probe(struct srv *v, struct conn *c, const struct pmsg *m)
{
	if (c->kind != CK_NEW)
		return false;
	struct slot *e = table_get(&v->probes, m->token);
	if (e && e->s->gone && e->s->gone != e->role) {
		send_error(v, c, "peer-gone", "the other peer's control connection closed");
		return true;
	}
	if (!e || e->s->done) {
		send_error(v, c, "unknown-token", "no such probe token");
		return true;
	}
	struct session *s = e->s;
	struct side *me = &s->side[e->role == 'b'];
	if (m->seq != me->seen || me->seen >= me->probes || me->ready) {
		send_error(v, c, "unexpected", "probe out of sequence");
		return true;
	}
	me->seen_port[me->seen] = c->port;
	me->local_port[me->seen] = m->local_port;
	me->seen_t[me->seen] = (float)((v->now - s->created_ms) / 1000.0);
	me->seen++;
	me->ext_addr = c->addr;
	s->last_ms = v->now;
	struct pmsg r = {.type = PM_SEEN, .addr = c->addr, .port = c->port, .seq = m->seq};
	conn_send(v, c, &r);
	logev(v, "probe", s, e->role, c, "\"seq\":%d,\"local_port\":%u", m->seq, m->local_port);
	c->kind = CK_CLOSING;
	return true;
}

/* A side has probed: once both have, the punch goes out. */
static bool srv_on_ready(struct srv *v, struct conn *c, const struct pmsg *m)
{
	struct session *s = c->s;

	if (c->kind != CK_CONTROL || !s)
		return false;
	struct side *me = &s->side[c->role == 'b'];
	if (me->ready || me->seen < me->probes)
		return false;
	me->ready = 1;
	me->rtt_ms = (float)m->rtt_ms;
	s->last_ms = v->now;
	if (s->side[0].ready && s->side[1].ready)
		send_punch(v, s);
	return true;
}

/* A side's attempt is over: once both are, the verdict. */
static bool srv_on_result(struct srv *v, struct conn *c, const struct pmsg *m)
{
	struct session *s = c->s;

	if (c->kind != CK_CONTROL || !s)
		return false;
	struct side *me = &s->side[c->role == 'b'];
	if (!me->ready || me->has_result)
		return false;
	me->has_result = 1;
	me->result_ok = m->ok;
	me->result_local = m->local_port;
	snprintf(me->result_reason, sizeof(me->result_reason), "%s", m->reason);
	s->last_ms = v->now;
	logev(v, "result", s, c->role, NULL, "\"ok\":%s,\"reason\":\"%s\",\"local_port\":%u",
	      m->ok ? "true" : "false", me->result_reason, m->local_port);
	if (s->side[0].has_result && s->side[1].has_result)
		on_results(v, s);
	return true;
}

static void handle(struct srv *v, struct conn *c, const char *line, size_t len)
{
	struct pmsg m;
	char err[128];
	bool expected;

	if (proto_parse(line, len, &m, err, sizeof(err)) < 0) {
		send_error(v, c, "bad-message", err);
		return;
	}
	switch (m.type) {
	case PM_OPEN:
		expected = srv_on_open(v, c);
		break;
	case PM_HELLO:
		expected = srv_on_hello(v, c, &m);
		break;
	case PM_PROBE:
		expected = srv_on_probe(v, c, &m);
		break;
	case PM_READY:
		expected = srv_on_ready(v, c, &m);
		break;
	case PM_RESULT:
		expected = srv_on_result(v, c, &m);
		break;
	default:
		expected = false;
		break;
	}
	if (!expected)
		send_error(v, c, "unexpected", "message not expected here");
}

/* Reads what is there; handles every complete line. */
static void conn_read(struct srv *v, struct conn *c)
{
	char buf[4096];
	for (;;) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			c->kind = CK_CLOSING;
			return;
		}
		c->last_ms = v->now;
		size_t off = 0;
		while (off < (size_t)r && c->kind != CK_CLOSING) {
			char *nl = memchr(buf + off, '\n', (size_t)r - off);
			size_t take = nl ? (size_t)(nl - (buf + off)) + 1 : (size_t)r - off;
			if (c->rlen + take > PROTO_MAX_LINE) {
				send_error(v, c, "line-too-long", "lines are at most 1024 bytes");
				return;
			}
			if (!nl || c->rlen) {
				if (!c->rbuf && !(c->rbuf = malloc(PROTO_MAX_LINE))) {
					c->kind = CK_CLOSING;
					return;
				}
				memcpy(c->rbuf + c->rlen, buf + off, take);
				c->rlen += (uint16_t)take;
			}
			if (nl) {
				if (c->rlen) {
					handle(v, c, c->rbuf, c->rlen);
					c->rlen = 0;
				} else {
					handle(v, c, buf + off, take);
				}
				/* an idle connection keeps no buffer */
				if (c->rbuf && !c->rlen) {
					free(c->rbuf);
					c->rbuf = NULL;
				}
			}
			off += take;
		}
		if (c->kind == CK_CLOSING)
			return;
	}
}

#define ACCEPT_PAUSE_MS 100

/*
 * Out of descriptors (or memory) with connections waiting: the listener stays
 * readable, so a level-triggered epoll would report it again at once, forever.
 * Stop polling it for ACCEPT_PAUSE_MS, and shed the connection that has been
 * silent longest without ever speaking, so that the next one (a session's,
 * maybe) finds a descriptor.
 */
static void accept_pause(struct srv *v, int err)
{
	struct epoll_event lev = {.events = 0, .data.ptr = NULL};
	struct conn *idle = NULL;

	epoll_ctl(v->ep, EPOLL_CTL_MOD, v->lfd, &lev);
	v->accept_resume = v->now + ACCEPT_PAUSE_MS;
	for (size_t fd = 0; fd < v->nconns_cap; fd++) {
		struct conn *c = v->conns[fd];
		if (c && c->kind == CK_NEW && (!idle || c->last_ms < idle->last_ms))
			idle = c;
	}
	logev(v, "accept-paused", NULL, 0, idle, "\"error\":\"%s\",\"shed\":%s", strerror(err),
	      idle ? "true" : "false");
	if (idle)
		conn_close(v, idle);
}

static void accept_resume_due(struct srv *v)
{
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};

	if (!v->accept_resume || v->now < v->accept_resume)
		return;
	epoll_ctl(v->ep, EPOLL_CTL_MOD, v->lfd, &lev);
	v->accept_resume = 0;
}

static void do_accept(struct srv *v)
{
	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		int fd =
		    accept4(v->lfd, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				accept_pause(v, errno);
			return;
		}
		uint32_t *n = addr_slot(v, from.sin_addr.s_addr, true);
		if (v->nconns >= v->c->max_conns || !n || (int)*n >= v->c->max_per_addr) {
			/* refuse before anything is allocated for it */
			static const char busy[] = "{\"v\":1,\"type\":\"error\",\"code\":\"busy\","
						   "\"text\":\"too many connections\"}\n";
			ssize_t w = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			close(fd);
			continue;
		}
		if ((size_t)fd >= v->nconns_cap) {
			size_t ncap = v->nconns_cap ? v->nconns_cap : 1024;
			while ((size_t)fd >= ncap)
				ncap *= 2;
			struct conn **nc = realloc(v->conns, ncap * sizeof(*nc));
			if (!nc) {
				close(fd);
				continue;
			}
			memset(nc + v->nconns_cap, 0, (ncap - v->nconns_cap) * sizeof(*nc));
			v->conns = nc;
			v->nconns_cap = ncap;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->addr = from.sin_addr.s_addr;
		c->port = ntohs(from.sin_port);
		c->last_ms = v->now;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(v->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		(*n)++;
		v->conns[fd] = c;
		v->nconns++;
	}
}

static void sweep(struct srv *v)
{
	for (size_t fd = 0; fd < v->nconns_cap; fd++) {
		struct conn *c = v->conns[fd];
		if (!c)
			continue;
		/* a control connection may wait for the other peer as long as the
		 * session lives; anything else has idle_ms */
		int64_t limit = c->kind == CK_CONTROL ? v->c->session_ttl_ms : v->c->idle_ms;
		if (v->now - c->last_ms > limit || (c->kind == CK_CLOSING && !c->wbuf))
			conn_close(v, c);
	}
	for (size_t i = 0; i < v->sessions.cap; i++) {
		struct slot *e = &v->sessions.slots[i];
		if (!e->key || e->key == TOMB)
			continue;
		struct session *s = e->s;
		bool attached = s->side[0].ctl || s->side[1].ctl;
		/* a session whose peer left stays until the other peer came and
		 * was told so */
		if (v->now - s->last_ms > v->c->session_ttl_ms ||
		    (s->done && !attached && !s->untold)) {
			logev(v, "expire", s, 0, NULL, NULL);
			session_free(v, s);
		}
	}
}

int srv_run(const struct srv_config *cfg, volatile sig_atomic_t *stop, uint16_t *listening)
{
	struct srv v = {.c = cfg, .ep = -1, .lfd = -1};
	struct sockaddr_in got;
	int rc = 0;

	v.rng = cfg->seed ? cfg->seed : (uint64_t)mono_ms() * 0x9e3779b97f4a7c15ull | 1;
	v.lfd = endpoint_listen(&cfg->listen, 4096, &got);
	if (v.lfd < 0)
		return v.lfd;
	if (listening)
		*listening = ntohs(got.sin_port);
	v.ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	if (v.ep < 0 || epoll_ctl(v.ep, EPOLL_CTL_ADD, v.lfd, &lev) < 0) {
		rc = -errno;
		goto out;
	}
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &got.sin_addr, a, sizeof(a));
	v.now = mono_ms();
	char name[128];
	logev(&v, "listen", NULL, 0, NULL, "\"addr\":\"%s:%u\",\"heuristic\":\"%s\",\"guesses\":%d",
	      a, ntohs(got.sin_port), heur_name_json(&v, name, sizeof(name)), cfg->guesses);
	int64_t next_sweep = v.now + 1000;
	struct epoll_event evs[256];
	while (!*stop) {
		int n = epoll_wait(v.ep, evs, 256, 50);
		v.now = mono_ms();
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		accept_resume_due(&v);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				do_accept(&v);
				continue;
			}
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				c->kind = CK_CLOSING;
			if (c->kind != CK_CLOSING && (evs[i].events & EPOLLOUT))
				conn_flush(&v, c);
			if (c->kind != CK_CLOSING && (evs[i].events & EPOLLIN))
				conn_read(&v, c);
			/* a closing connection goes once its last reply is out */
			if (c->kind == CK_CLOSING && !c->wbuf)
				conn_close(&v, c);
		}
		if (v.now >= next_sweep) {
			sweep(&v);
			next_sweep = v.now + 1000;
		}
	}
out:
	v.stopping = true;
	for (size_t fd = 0; fd < v.nconns_cap; fd++)
		if (v.conns[fd])
			conn_close(&v, v.conns[fd]);
	for (size_t i = 0; i < v.sessions.cap; i++)
		if (v.sessions.slots[i].key && v.sessions.slots[i].key != TOMB)
			session_free(&v, v.sessions.slots[i].s);
	free(v.sessions.slots);
	free(v.probes.slots);
	free(v.conns);
	free(v.per_addr);
	if (v.ep >= 0)
		close(v.ep);
	close(v.lfd);
	return rc;
}
