// SPDX-License-Identifier: MIT
#include "tracer.h"
#include "proto.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* a session holds at most PROTO_MAX_PROBES probes */
#define TRACER_MAX_SESSIONS (TRACER_MAX_COUNT / PROTO_MAX_PROBES + TRACER_MAX_DEST)

struct tracer_session {
	int dest, ctl, probes, next; /* next: the seq of the next probe */
	uint8_t token[PROTO_TOKEN_LEN];
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A blocking connection to D whose sends and receives time out. */
static int tracer_connect(const struct sockaddr_in *d, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)d, sizeof(*d)) < 0) {
		int e = errno == EINPROGRESS ? ETIMEDOUT : errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Sends M on FD and reads one answer line into R: 0, or -1 with ERR. */
static int tracer_ask(int fd, const struct pmsg *m, struct pmsg *r, char *err, size_t errlen)
{
	char line[PROTO_MAX_LINE + 1];
	size_t len = 0;
	int n = proto_format(m, line, sizeof(line));
	if (n < 0 || send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		snprintf(err, errlen, "cannot send %s: %s", proto_type_name(m->type),
			 n < 0 ? "too long" : strerror(errno));
		return -1;
	}
	while (len < PROTO_MAX_LINE && (len == 0 || line[len - 1] != '\n')) {
		ssize_t got = recv(fd, line + len, 1, 0);
		if (got <= 0) {
			snprintf(err, errlen, "no answer to %s: %s", proto_type_name(m->type),
				 got ? strerror(errno) : "the server closed the connection");
			return -1;
		}
		len++;
	}
	if (proto_parse(line, len, r, err, errlen) < 0)
		return -1;
	if (r->type == PM_ERROR) {
		snprintf(err, errlen, "the server refused %s: %s: %s", proto_type_name(m->type),
			 r->code, r->text);
		return -1;
	}
	return 0;
}

/* A new session on C's destination S->dest, joined as peer a with
 * S->probes probes: its control connection stays open. */
static int tracer_join(const struct tracer_config *c, struct tracer_session *s, char *err,
		       size_t errlen)
{
	struct pmsg m = {.type = PM_OPEN}, r;
	int fd = tracer_connect(&c->dest[s->dest], c->timeout_ms);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect: %s", strerror(-fd));
		return -1;
	}
	int rc = tracer_ask(fd, &m, &r, err, errlen);
	close(fd);
	if (rc < 0)
		return -1;
	m = (struct pmsg){.type = PM_HELLO, .role = 'a', .probes = s->probes, .rounds = 1};
	memcpy(m.session, r.session, sizeof(m.session));
	if ((s->ctl = tracer_connect(&c->dest[s->dest], c->timeout_ms)) < 0) {
		snprintf(err, errlen, "cannot connect: %s", strerror(-s->ctl));
		return -1;
	}
	if (tracer_ask(s->ctl, &m, &r, err, errlen) < 0)
		return -1;
	memcpy(s->token, r.token, sizeof(s->token));
	return 0;
}

/* One probe of session S: a fresh connection, its local port and what the
 * server saw, into O. */
static int tracer_probe(const struct tracer_config *c, struct tracer_session *s,
			struct tracer_obs *o, char *err, size_t errlen)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	struct pmsg m = {.type = PM_PROBE, .seq = s->next}, r;
	int fd = tracer_connect(&c->dest[s->dest], c->timeout_ms);

	if (fd < 0) {
		snprintf(err, errlen, "cannot connect: %s", strerror(-fd));
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&me, &len);
	o->local = ntohs(me.sin_port);
	o->dest = s->dest;
	m.local_port = o->local;
	memcpy(m.token, s->token, sizeof(m.token));
	int rc = tracer_ask(fd, &m, &r, err, errlen);
	close(fd);
	if (rc == 0 && (r.type != PM_SEEN || r.seq != s->next)) {
		snprintf(err, errlen, "expected seen %d, got %s", s->next, proto_type_name(r.type));
		rc = -1;
	}
	o->external = r.port;
	o->ext_addr = r.addr;
	s->next++;
	return rc;
}

/* The sessions C needs, in S (N of them): each destination's share of the
 * connections, PROTO_MAX_PROBES a session at most. */
static int tracer_plan(const struct tracer_config *c, struct tracer_session *s)
{
	int n = 0;
	for (int d = 0; d < c->ndest; d++) {
		int share = c->count / c->ndest + (d < c->count % c->ndest);
		for (; share > 0; share -= PROTO_MAX_PROBES)
			s[n++] = (struct tracer_session){
			    .dest = d,
			    .ctl = -1,
			    .probes = share < PROTO_MAX_PROBES ? share : PROTO_MAX_PROBES};
	}
	return n;
}

int tracer_run(const struct tracer_config *c, struct tracer_obs *out, char *err, size_t errlen)
{
	struct tracer_session s[TRACER_MAX_SESSIONS];
	char a[INET_ADDRSTRLEN], why[256] = "";
	int n = tracer_plan(c, s), rc = 0, bad = 0;
	const char *step = "joining a session";

	for (int k = 0; k < n && !rc; k++)
		if ((rc = tracer_join(c, &s[k], why, sizeof(why))) < 0)
			bad = s[k].dest;
	double t0 = mono_s();
	for (int i = 0; i < c->count && !rc; i++) {
		int d = i % c->ndest, k = 0;
		while (s[k].dest != d || s[k].next == s[k].probes)
			k++;
		if (i && c->interval_ms)
			usleep((useconds_t)c->interval_ms * 1000);
		out[i].t = mono_s() - t0;
		if ((rc = tracer_probe(c, &s[k], &out[i], why, sizeof(why))) < 0) {
			bad = d;
			step = "a probe";
		}
	}
	if (rc < 0) {
		inet_ntop(AF_INET, &c->dest[bad].sin_addr, a, sizeof(a));
		snprintf(err, errlen, "%s:%u: %s: %s", a, ntohs(c->dest[bad].sin_port), step, why);
	}
	for (int k = 0; k < n; k++)
		if (s[k].ctl >= 0)
			close(s[k].ctl);
	return rc < 0 ? -1 : 0;
}
