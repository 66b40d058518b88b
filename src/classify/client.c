// SPDX-License-Identifier: MIT
#include "client.h"
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* a connection's pending input: lines are read whole, never past one */
struct lbuf {
	int fd;
	char b[CL_MAX_LINE];
	size_t n;
};

struct cc {
	const struct cc_config *c;
	struct cv_obs *o;
	struct lbuf ctl;
	uint8_t token[CL_TOKEN_LEN];
	int next_id, next_seq;
	volatile sig_atomic_t *stop;
	char dead[CV_NOTE]; /* the control connection failed: why ("" while it works) */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
	int64_t l = deadline - mono_ms();
	return l < 0 ? 0 : (int)l;
}

static void errname(char *why, size_t len, const char *what, int err)
{
	snprintf(why, len, "%s: %s", what, strerrorname_np(err) ?: "?");
}

/* A TCP socket bound to PORT of any address, beside others on it
 * (SO_REUSEADDR and SO_REUSEPORT: the P2PNAT trick). The fd, or -errno. */
static int sock_bound(uint16_t port)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	return getsockname(fd, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin_port) : 0;
}

/* Waits for FD to be EVENTS-ready until DEADLINE: 0, -ETIMEDOUT, -EINTR
 * when stopped. */
static int wait_fd(struct cc *k, int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, left_ms(deadline));
		if (*k->stop)
			return -EINTR;
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_wait(struct cc *k, int fd, const struct sockaddr_in *to, int64_t deadline)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	if ((err = wait_fd(k, fd, POLLOUT, deadline)) < 0)
		return err;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return -err;
}

/* One line (without its newline) into OUT (CL_MAX_LINE bytes): its length,
 * or -errno (-EMSGSIZE: over CL_MAX_LINE; -ECONNRESET: closed). */
static int line_get(struct cc *k, struct lbuf *lb, char *out, int64_t deadline)
{
	for (;;) {
		char *nl = memchr(lb->b, '\n', lb->n);
		if (nl) {
			size_t len = (size_t)(nl - lb->b);
			memcpy(out, lb->b, len);
			memmove(lb->b, nl + 1, lb->n - len - 1);
			lb->n -= len + 1;
			return (int)len;
		}
		if (lb->n == sizeof(lb->b))
			return -EMSGSIZE;
		int rc = wait_fd(k, lb->fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
		ssize_t r = recv(lb->fd, lb->b + lb->n, sizeof(lb->b) - lb->n, MSG_DONTWAIT);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (r > 0)
			lb->n += (size_t)r;
	}
}

/* The next message on LB into M: 0, or -1 with the reason in WHY. An error
 * message from the server is a failure too, its code and text the reason. */
static int msg_get(struct cc *k, struct lbuf *lb, struct cl_msg *m, int64_t deadline, char *why)
{
	char line[CL_MAX_LINE], err[160];
	int n = line_get(k, lb, line, deadline);

	if (n < 0) {
		errname(why, CV_NOTE, "no reply", -n);
		return -1;
	}
	if (cl_parse(line, (size_t)n, m, err, sizeof(err)) < 0) {
		snprintf(why, CV_NOTE, "bad reply: %.80s", err);
		return -1;
	}
	if (m->type == CL_ERROR) {
		snprintf(why, CV_NOTE, "server error %.30s: %.50s", m->code, m->text);
		return -1;
	}
	return 0;
}

static int msg_send(int fd, const struct cl_msg *m)
{
	char line[CL_MAX_LINE + 1];
	int n = cl_format(m, line, sizeof(line));
	/* a line into an empty send buffer: it goes at once or the peer is gone */
	if (n < 0 || send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		return -1;
	return 0;
}

/* ---- the control connection ---- */

static int ctl_open(struct cc *k)
{
	struct cv_obs *o = k->o;
	int64_t deadline = mono_ms() + k->c->timeout_ms;
	struct cl_msg m = {.type = CL_HELLO};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc;

	k->ctl.fd = fd;
	if (fd < 0 || (rc = connect_wait(k, fd, &k->c->server, deadline)) < 0) {
		errname(o->why, sizeof(o->why), "cannot connect to the server",
			fd < 0 ? errno : -rc);
		return -1;
	}
	if (msg_send(fd, &m) < 0 || msg_get(k, &k->ctl, &m, deadline, o->why) < 0)
		return -1;
	if (m.type != CL_WELCOME) {
		snprintf(o->why, sizeof(o->why), "the server sent %s, not welcome",
			 cl_type_name(m.type));
		return -1;
	}
	memcpy(k->token, m.token, CL_TOKEN_LEN);
	memcpy(o->ep, m.ep, sizeof(o->ep));
	o->sink = m.sink;
	o->you = m.you;
	if (memcmp(&o->ep[0].sin_addr, &k->c->server.sin_addr, 4) ||
	    o->ep[0].sin_port != k->c->server.sin_port) {
		snprintf(o->why, sizeof(o->why), "the server's A1:P1 is not the one connected to");
		return -1;
	}
	o->welcomed = true;
	return 0;
}

/* ---- test connections ---- */

/* A test connection from local PORT (0: any) to endpoint EP; P gets what
 * the server saw. HOLD_MS: the server keeps it open and pings after that
 * long; the fd is then returned in *KEEP (else closed). */
static void probe(struct cc *k, uint16_t port, int ep, int hold_ms, struct cv_probe *p, int *keep)
{
	int64_t deadline = mono_ms() + k->c->timeout_ms;
	struct cl_msg m = {.type = CL_PROBE, .seq = k->next_seq++, .hold_ms = hold_ms};
	struct lbuf lb = {.fd = sock_bound(port)};
	int rc;

	memset(p, 0, sizeof(*p));
	p->local_port = port;
	p->to = k->o->ep[ep];
	if (keep)
		*keep = -1;
	if (lb.fd < 0) {
		errname(p->why, sizeof(p->why), "cannot bind", -lb.fd);
		return;
	}
	p->local_port = local_port(lb.fd);
	memcpy(m.token, k->token, CL_TOKEN_LEN);
	if ((rc = connect_wait(k, lb.fd, &p->to, deadline)) < 0)
		errname(p->why, sizeof(p->why), "cannot connect", -rc);
	else if (msg_send(lb.fd, &m) < 0)
		snprintf(p->why, sizeof(p->why), "cannot send the probe");
	else if (msg_get(k, &lb, &m, deadline, p->why) == 0) {
		if (m.type != CL_SEEN || m.seq != k->next_seq - 1)
			snprintf(p->why, sizeof(p->why), "the server sent %s, not seen %d",
				 cl_type_name(m.type), k->next_seq - 1);
		else if (memcmp(&m.at, &p->to, sizeof(m.at)))
			snprintf(p->why, sizeof(p->why),
				 "the server answered for another endpoint");
		else {
			p->ok = true;
			p->ext = m.you;
		}
	}
	if (keep && p->ok) {
		*keep = lb.fd;
		return;
	}
	close(lb.fd);
}

/* ---- connections the server makes ---- */

/* Asks the server to connect from endpoint FROM to our PORT; O records it. */
static void ask(struct cc *k, int from, uint16_t port, int wait_ms, struct cv_outcome *o)
{
	struct cl_msg m = {
	    .type = CL_CONNECT, .id = k->next_id++, .from = from, .port = port, .wait_ms = wait_ms};

	memset(o, 0, sizeof(*o));
	o->icmp_type = o->icmp_code = -1;
	o->from = from == CL_FROM_SINK ? k->o->sink : k->o->ep[from];
	o->to = k->o->you;
	o->to.sin_port = htons(port);
	o->asked = !k->dead[0] && msg_send(k->ctl.fd, &m) == 0;
	if (!o->asked && !k->dead[0])
		snprintf(k->dead, sizeof(k->dead), "cannot send on the control connection");
}

static void take_outcome(const struct cl_msg *m, struct cv_outcome *o)
{
	o->answered = true;
	o->result = m->result;
	o->ms = m->ms;
	o->icmp_type = m->icmp_type;
	o->icmp_code = m->icmp_code;
	o->icmp_from = m->icmp_from;
	o->to = m->to; /* where the server says it connected */
	snprintf(o->err, sizeof(o->err), "%s", m->err);
}

/* A connection our listener accepted: its knock, if it is the server's. */
static void read_knock(struct cc *k, int fd, struct cv_outcome *o, int first_id, int n)
{
	struct lbuf lb = {.fd = fd};
	struct cl_msg m;
	char why[CV_NOTE];

	if (msg_get(k, &lb, &m, mono_ms() + k->c->timeout_ms, why) == 0 && m.type == CL_KNOCK &&
	    !memcmp(m.token, k->token, CL_TOKEN_LEN) && m.id >= first_id && m.id < first_id + n)
		o[m.id - first_id].arrived = true;
	close(fd);
}

static bool all_in(const struct cv_outcome *o, int n)
{
	for (int i = 0; i < n; i++)
		if (o[i].asked &&
		    (!o[i].answered || (o[i].result == CL_R_CONNECTED && !o[i].arrived)))
			return false;
	return true;
}

/* Waits for the outcomes of O[0..N) (asked with ids FIRST_ID...) and, on
 * LFD (-1: none), for the connections that get through, until DEADLINE. */
static void gather(struct cc *k, int lfd, struct cv_outcome *o, int first_id, int n,
		   int64_t deadline)
{
	struct cl_msg m;

	while (!k->dead[0] && !all_in(o, n) && mono_ms() < deadline && !*k->stop) {
		struct pollfd p[2] = {{.fd = k->ctl.fd, .events = POLLIN},
				      {.fd = lfd, .events = POLLIN}};
		/* a whole line may be waiting already */
		int r = memchr(k->ctl.b, '\n', k->ctl.n) ? 1 : poll(p, 2, left_ms(deadline));
		if (r < 0 && errno != EINTR)
			break;
		if (lfd >= 0 && (p[1].revents & POLLIN)) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd >= 0)
				read_knock(k, fd, o, first_id, n);
		}
		if (!memchr(k->ctl.b, '\n', k->ctl.n) &&
		    !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (msg_get(k, &k->ctl, &m, deadline, k->dead) < 0)
			break;
		if (m.type == CL_OUTCOME && m.id >= first_id && m.id < first_id + n)
			take_outcome(&m, &o[m.id - first_id]);
	}
}

/* ---- the tests ---- */

static void test_mapping(struct cc *k)
{
	struct cv_probe *p = k->o->mapping.p;
	uint16_t port = 0;

	for (int i = 0; i < CL_NENDPOINTS && !*k->stop; i++) {
		probe(k, port, i, 0, &p[i], NULL);
		if (!port && !(port = p[i].local_port)) /* the first one's: all from there */
			return;
	}
}

static void test_ports(struct cc *k)
{
	static const int offsets[] = {0, 3, 4, 9, 11, 17};
	struct cv_port_obs *po = &k->o->port;
	uint16_t base;

	if (getrandom(&base, sizeof(base), 0) != sizeof(base))
		base = (uint16_t)mono_ms();
	base = (uint16_t)(20000 + base % 30000);
	po->n = 0;
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]) && !*k->stop; i++)
		probe(k, (uint16_t)(base + offsets[i]), 0, 0, &po->p[po->n++], NULL);
}

static void test_filtering(struct cc *k)
{
	struct cv_filtering_obs *f = &k->o->filtering;
	int keep = -1, lfd = sock_bound(0);

	if (lfd < 0 || listen(lfd, 8) < 0) {
		errname(f->base.why, sizeof(f->base.why), "cannot listen", lfd < 0 ? -lfd : errno);
		goto out;
	}
	/* the mapping stays up, held by the server, while it connects to it */
	probe(k, local_port(lfd), 0, 4 * k->c->timeout_ms + 1000, &f->base, &keep);
	if (!f->base.ok)
		goto out;
	int first = k->next_id;
	uint16_t ext = ntohs(f->base.ext.sin_port);
	for (int i = 0; i < 3; i++)
		ask(k, i + 1, ext, k->c->timeout_ms, &f->o[i]);
	for (int i = 0; i < 3; i++) /* the server reports on the mapping's address */
		f->o[i].to = f->base.ext;
	gather(k, lfd, f->o, first, 3, mono_ms() + 2 * k->c->timeout_ms + 1000);
out:
	if (keep >= 0)
		close(keep);
	if (lfd >= 0)
		close(lfd);
}

static void test_unsolicited(struct cc *k)
{
	struct cv_unsol_obs *u = &k->o->unsol;
	/* bound, never listening nor connected: no mapping, nothing answers */
	int fd = sock_bound(0);

	if (fd < 0)
		return;
	u->port = local_port(fd);
	int first = k->next_id;
	ask(k, 0, u->port, CC_UNSOL_WAIT_MS, &u->o);
	gather(k, -1, &u->o, first, 1, mono_ms() + CC_UNSOL_WAIT_MS + k->c->timeout_ms);
	close(fd);
}

static void test_hairpin(struct cc *k)
{
	struct cv_hairpin_obs *h = &k->o->hairpin;
	int keep = -1, lfd = sock_bound(0), fd = -1, rc;
	struct cl_msg m = {.type = CL_KNOCK, .id = 0}, got;

	if (lfd < 0 || listen(lfd, 8) < 0) {
		errname(h->base.why, sizeof(h->base.why), "cannot listen", lfd < 0 ? -lfd : errno);
		goto out;
	}
	probe(k, local_port(lfd), 0, 2 * k->c->timeout_ms + 1000, &h->base, &keep);
	if (!h->base.ok)
		goto out;
	int64_t t0 = mono_ms(), deadline = t0 + k->c->timeout_ms;
	if ((fd = sock_bound(0)) < 0) {
		errname(h->why, sizeof(h->why), "socket", -fd);
		goto out;
	}
	h->tried = true;
	if ((rc = connect_wait(k, fd, &h->base.ext, deadline)) < 0) {
		errname(h->why, sizeof(h->why), "connect", -rc);
		goto out;
	}
	h->connected = true;
	/* our own nonce: what our listener accepts must be this very connection */
	if (getrandom(m.token, sizeof(m.token), 0) != sizeof(m.token) || msg_send(fd, &m) < 0)
		goto out;
	if (wait_fd(k, lfd, POLLIN, deadline) == 0) {
		struct lbuf lb = {.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)};
		if (lb.fd >= 0 && msg_get(k, &lb, &got, deadline, h->why) == 0 &&
		    got.type == CL_KNOCK && !memcmp(got.token, m.token, CL_TOKEN_LEN))
			h->accepted = true;
		if (lb.fd >= 0)
			close(lb.fd);
	}
	h->ms = (int)(mono_ms() - t0);
out:
	if (fd >= 0)
		close(fd);
	if (keep >= 0)
		close(keep);
	if (lfd >= 0)
		close(lfd);
}

/* ---- binding lifetimes (--long) ---- */

/* Idle connections held HOLD_S[i] s each, all at once: which still got the
 * server's ping. Appended to L. */
static void holds(struct cc *k, struct cv_life_obs *l, const int *hold_s, int n)
{
	int fds[CV_MAX_HOLDS], seqs[CV_MAX_HOLDS], maxh = 0, base = l->n;
	struct cv_probe p;

	for (int i = 0; i < n && l->n < CV_MAX_HOLDS; i++) {
		int j = l->n++;
		l->hold_s[j] = hold_s[i];
		l->alive[j] = -1;
		seqs[i] = k->next_seq;
		probe(k, 0, 0, hold_s[i] * 1000, &p, &fds[i]);
		if (fds[i] >= 0)
			l->alive[j] = 0;
		if (hold_s[i] > maxh)
			maxh = hold_s[i];
	}
	int64_t deadline = mono_ms() + maxh * 1000LL + k->c->timeout_ms + 2000;
	for (int i = 0; i < l->n - base; i++) {
		struct lbuf lb = {.fd = fds[i]};
		struct cl_msg m;
		char why[CV_NOTE];
		if (fds[i] < 0)
			continue;
		if (msg_get(k, &lb, &m, deadline, why) == 0 && m.type == CL_PING &&
		    m.seq == seqs[i])
			l->alive[base + i] = 1;
		close(fds[i]);
	}
}

/* One kind of hold: idle HOLD_S[0..N) s each, appended to L. */
typedef void (*hold_fn)(struct cc *k, struct cv_life_obs *l, const int *hold_s, int n);

/* A lifetime by bounded bisection: doubling holds from 15 s up to 60 % of
 * BUDGET s, then one round of three between the last alive and the first
 * gone, if the budget allows. */
static void lifetime(struct cc *k, struct cv_life_obs *l, int budget, hold_fn fn)
{
	int h[CV_MAX_HOLDS], n = 0;
	int64_t t0 = mono_ms();
	char why[CV_WHY];

	for (int s = 15; s <= budget * 6 / 10 && n < 6; s *= 2)
		h[n++] = s;
	if (!n) {
		snprintf(l->why, sizeof(l->why), "its share of the budget, %d s, is under 25 s",
			 budget);
		return;
	}
	fn(k, l, h, n);
	struct cv_life r = cv_life(l, why);
	int spent = (int)((mono_ms() - t0) / 1000);
	if (!r.known || r.hi_s - r.lo_s < 8 || spent + r.hi_s + 10 > budget || *k->stop)
		return;
	for (n = 0; n < 3; n++)
		h[n] = r.lo_s + (r.hi_s - r.lo_s) * (n + 1) / 4;
	fn(k, l, h, n);
}

/* Closes FD with a RST: the NAT's entry for it goes to CLOSE (10 s in
 * Linux) rather than TIME_WAIT, and soon holds the mapping no more. */
static void close_rst(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* One SYN from a port that also listens to the sink, which never answers;
 * the socket is closed at once, so no retransmission refreshes the binding
 * (closing a socket in SYN_SENT sends nothing). *EXT: the port's mapping,
 * learnt first from A1:P1. The listener's fd, or -1 with WHY. */
static int syn_to_sink(struct cc *k, uint16_t *ext, char *why)
{
	struct cv_probe p;
	int lfd = sock_bound(0), fd = -1, keep;

	if (lfd < 0 || listen(lfd, 8) < 0) {
		snprintf(why, CV_NOTE, "cannot listen");
		goto fail;
	}
	probe(k, local_port(lfd), 0, 0, &p, &keep);
	if (!p.ok) {
		snprintf(why, CV_NOTE, "%s", p.why);
		goto fail;
	}
	close_rst(keep);
	*ext = ntohs(p.ext.sin_port);
	if ((fd = sock_bound(p.local_port)) < 0 ||
	    (connect(fd, (struct sockaddr *)&k->o->sink, sizeof(k->o->sink)) < 0 &&
	     errno != EINPROGRESS)) {
		snprintf(why, CV_NOTE, "cannot send the SYN");
		goto fail;
	}
	/* a wrong server's sink that answers would measure nothing */
	if (wait_fd(k, fd, POLLOUT, mono_ms() + 300) != -ETIMEDOUT) {
		snprintf(why, CV_NOTE, "the sink answered the SYN");
		goto fail;
	}
	close(fd);
	return lfd;
fail:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	return -1;
}

/* SYN_SENT holds: all SYNs at once, then after each hold the server
 * connects from the sink to that port's mapping, a simultaneous open that
 * the NAT lets in while the SYN's binding lives. */
static void syn_holds(struct cc *k, struct cv_life_obs *l, const int *hold_s, int n)
{
	int lfd[CV_MAX_HOLDS], base = l->n, maxh = 0, keep;
	uint16_t ext[CV_MAX_HOLDS];
	int64_t t0 = mono_ms();
	struct cv_probe p;

	/* a held connection keeps the silent control connection from its
	 * idle deadline (the server extends it to the hold's end) */
	for (int i = 0; i < n; i++)
		maxh = hold_s[i] > maxh ? hold_s[i] : maxh;
	probe(k, 0, 0, maxh * 1000 + 3 * k->c->timeout_ms + 2000, &p, &keep);

	for (int i = 0; i < n && l->n < CV_MAX_HOLDS; i++) {
		l->hold_s[l->n] = hold_s[i];
		l->alive[l->n++] = -1;
		lfd[i] = syn_to_sink(k, &ext[i], l->why);
	}
	for (int i = 0; i < l->n - base; i++) {
		struct cv_outcome o;
		int first = k->next_id;
		if (lfd[i] < 0)
			continue;
		while (!*k->stop && mono_ms() < t0 + hold_s[i] * 1000LL)
			poll(NULL, 0, left_ms(t0 + hold_s[i] * 1000LL));
		ask(k, CL_FROM_SINK, ext[i], k->c->timeout_ms, &o);
		gather(k, lfd[i], &o, first, 1, mono_ms() + 2 * k->c->timeout_ms + 1000);
		/* a "connected" whose knock never came is no evidence either way */
		if (o.arrived)
			l->alive[base + i] = 1;
		else if (o.answered && o.result != CL_R_ERROR && o.result != CL_R_CONNECTED)
			l->alive[base + i] = 0;
		close(lfd[i]);
	}
	if (keep >= 0)
		close(keep);
}

static void test_lifetimes(struct cc *k)
{
	struct cv_obs *o = k->o;
	char why[CV_WHY];

	/* half the budget each, one after the other */
	lifetime(k, &o->established, k->c->long_budget_s / 2, holds);
	if (!o->sink.sin_port)
		snprintf(o->syn_sent.why, sizeof(o->syn_sent.why),
			 "the server offers no sink (classify-server --sink-port)");
	else if (cv_mapping(&o->mapping, why) != CV_MAP_EIM)
		snprintf(o->syn_sent.why, sizeof(o->syn_sent.why),
			 "needs an endpoint-independent mapping: the SYN's own is not seen");
	else if (!*k->stop)
		lifetime(k, &o->syn_sent, k->c->long_budget_s / 2, syn_holds);
}

static void not_welcomed(struct cv_obs *o)
{
	for (int i = 0; i < CL_NENDPOINTS; i++)
		snprintf(o->mapping.p[i].why, CV_NOTE, "%s", o->why);
	snprintf(o->filtering.base.why, CV_NOTE, "%s", o->why);
	snprintf(o->hairpin.base.why, CV_NOTE, "%s", o->why);
}

void cc_run(const struct cc_config *c, struct cv_obs *o, volatile sig_atomic_t *stop)
{
	struct cc k = {.c = c, .o = o, .stop = stop, .ctl = {.fd = -1}};
	int64_t t0 = mono_ms();

	memset(o, 0, sizeof(*o));
	o->server = c->server;
	o->lng = c->lng;
	o->long_budget_s = c->long_budget_s;
	if (ctl_open(&k) == 0) {
		test_mapping(&k);
		test_ports(&k);
		test_filtering(&k);
		test_unsolicited(&k);
		test_hairpin(&k);
		if (c->lng)
			test_lifetimes(&k);
	}
	if (!o->welcomed) /* every test names the reason it has nothing */
		not_welcomed(o);
	if (k.dead[0])
		snprintf(o->lost, sizeof(o->lost), "%s", k.dead);
	if (c->lng && !o->syn_sent.n && !o->syn_sent.why[0])
		snprintf(o->syn_sent.why, sizeof(o->syn_sent.why), "%s",
			 o->welcomed ? "stopped" : o->why);
	if (c->lng && !o->established.n && !o->established.why[0])
		snprintf(o->established.why, sizeof(o->established.why), "%s",
			 o->welcomed ? "stopped" : o->why);
	if (k.ctl.fd >= 0)
		close(k.ctl.fd);
	o->elapsed_ms = mono_ms() - t0;
}
