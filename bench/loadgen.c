// SPDX-License-Identifier: MIT
/*
 * Load generator for `punchlab server`, and the baseline it is measured against.
 *
 *   loadgen baseline ADDR:PORT
 *       a minimal server: accept, read one line, reply one fixed line, close
 *   loadgen probes ADDR:PORT SECONDS CONCURRENCY
 *       probe exchanges (connect, probe line, read reply, close) with
 *       CONCURRENCY in flight; against punchlab server it first opens the
 *       sessions the probes need; prints exchanges per second
 *   loadgen idle ADDR:PORT SESSIONS [connect]
 *       opens SESSIONS sessions (each with an idle control connection with
 *       "connect"), prints "ready", then holds them until killed
 */
#include "punch/proto.h"
#include "util/endpoint.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in target;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void raise_nofile(void)
{
	struct rlimit r = {200000, 200000};
	if (setrlimit(RLIMIT_NOFILE, &r) < 0) {
		getrlimit(RLIMIT_NOFILE, &r);
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&target, sizeof(target)) < 0) {
		perror("loadgen: connect");
		exit(1);
	}
	return fd;
}

/* one request line, one reply line, on a blocking socket */
static void exchange(int fd, const struct pmsg *m, struct pmsg *reply)
{
	char line[PROTO_MAX_LINE + 1], err[128];
	int n = proto_format(m, line, sizeof(line));
	if (write(fd, line, (size_t)n) != n) {
		perror("loadgen: write");
		exit(1);
	}
	size_t len = 0;
	while (!memchr(line, '\n', len)) {
		ssize_t r = read(fd, line + len, sizeof(line) - 1 - len);
		if (r <= 0) {
			fprintf(stderr, "loadgen: the server closed the connection\n");
			exit(1);
		}
		len += (size_t)r;
	}
	if (reply && proto_parse(line, len, reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "loadgen: bad reply: %s\n", err);
		exit(1);
	}
}

static void open_session(uint8_t *session)
{
	int fd = dial();
	struct pmsg m = {.type = PM_OPEN}, r;
	exchange(fd, &m, &r);
	close(fd);
	if (r.type != PM_OPENED) {
		fprintf(stderr, "loadgen: the server refused a session: %s\n", r.code);
		exit(1);
	}
	memcpy(session, r.session, PROTO_TOKEN_LEN);
}

/* hello on a new control connection, left open; returns the probe token */
static int hello(const uint8_t *session, char role, uint8_t *token)
{
	int fd = dial();
	struct pmsg m = {.type = PM_HELLO, .role = role, .probes = PROTO_MAX_PROBES}, r;
	memcpy(m.session, session, PROTO_TOKEN_LEN);
	exchange(fd, &m, &r);
	if (r.type != PM_WELCOME) {
		fprintf(stderr, "loadgen: hello refused: %s\n", r.code);
		exit(1);
	}
	memcpy(token, r.token, PROTO_TOKEN_LEN);
	return fd;
}

static int baseline(void)
{
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&target, sizeof(target)) < 0 || listen(lfd, 4096) < 0) {
		perror("loadgen baseline: listen");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	static const char reply[] =
	    "{\"v\":1,\"type\":\"seen\",\"addr\":\"127.0.0.1\",\"port\":1,\"seq\":0}\n";
	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				int c;
				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			/* accept, read, reply, close: nothing else */
			char buf[PROTO_MAX_LINE];
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0 && memchr(buf, '\n', (size_t)r)) {
				ssize_t w = write(fd, reply, sizeof(reply) - 1);
				(void)w;
			} else if (r < 0 && errno == EAGAIN) {
				continue;
			}
			close(fd);
		}
	}
}

struct slot {
	int fd;
	int state; /* 0 connecting, 1 waiting for the reply */
	size_t got;
};

static int probes(double seconds, int conc, int is_baseline)
{
	/* tokens: each role of a session takes PROTO_MAX_PROBES probes */
	size_t ntok = is_baseline ? 1 : 8192;
	uint8_t(*tok)[PROTO_TOKEN_LEN] = calloc(ntok, PROTO_TOKEN_LEN);
	int *seq = calloc(ntok, sizeof(int));
	int *ctl = calloc(ntok, sizeof(int));
	for (size_t i = 0; !is_baseline && i < ntok; i += 2) {
		uint8_t s[PROTO_TOKEN_LEN];
		open_session(s);
		ctl[i] = hello(s, 'a', tok[i]);
		ctl[i + 1] = hello(s, 'b', tok[i + 1]);
	}
	size_t cur = 0;
	int ep = epoll_create1(0);
	struct slot *sl = calloc((size_t)conc, sizeof(*sl));
	long done = 0, failed = 0;
	double end = now_s() + seconds, t0 = now_s();
	/* start an exchange in slot i */
#define START(i)                                                                                   \
	do {                                                                                       \
		sl[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);                        \
		sl[i].state = 0;                                                                   \
		sl[i].got = 0;                                                                     \
		connect(sl[i].fd, (struct sockaddr *)&target, sizeof(target));                     \
		struct epoll_event e_ = {.events = EPOLLOUT, .data.u32 = (uint32_t)(i)};           \
		epoll_ctl(ep, EPOLL_CTL_ADD, sl[i].fd, &e_);                                       \
	} while (0)
	for (int i = 0; i < conc; i++)
		START(i);
	while (now_s() < end) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, 100);
		for (int k = 0; k < n; k++) {
			int i = (int)evs[k].data.u32;
			struct slot *s = &sl[i];
			if (s->state == 0) {
				int err = 0;
				socklen_t l = sizeof(err);
				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				struct pmsg m = {.type = PM_PROBE};
				if (!is_baseline) {
					if (seq[cur] == PROTO_MAX_PROBES)
						cur++;
					if (cur == ntok) {
						fprintf(stderr, "loadgen: out of probe tokens\n");
						goto finish;
					}
					memcpy(m.token, tok[cur], PROTO_TOKEN_LEN);
					m.seq = seq[cur]++;
				}
				char line[PROTO_MAX_LINE + 1];
				int len = proto_format(&m, line, sizeof(line));
				if (err || write(s->fd, line, (size_t)len) != len) {
					failed++;
					close(s->fd);
					START(i);
					continue;
				}
				s->state = 1;
				struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
				epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
				continue;
			}
			char buf[PROTO_MAX_LINE];
			ssize_t r = read(s->fd, buf, sizeof(buf));
			if (r > 0 && memchr(buf, '\n', (size_t)r))
				done++;
			else if (r < 0 && errno == EAGAIN)
				continue;
			else
				failed++;
			close(s->fd);
			START(i);
		}
	}
finish:;
	double dt = now_s() - t0;
	printf("%.0f exchanges/s (%ld in %.2f s, %ld failed, %d in flight)\n", done / dt, done, dt,
	       failed, conc);
	return 0;
}

static int idle(int sessions, int connect_too)
{
	int *fds = calloc((size_t)sessions, sizeof(int));
	for (int i = 0; i < sessions; i++) {
		uint8_t s[PROTO_TOKEN_LEN], t[PROTO_TOKEN_LEN];
		open_session(s);
		fds[i] = connect_too ? hello(s, 'a', t) : -1;
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}

int main(int argc, char *argv[])
{
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (argc >= 3 && endpoint_parse(argv[2], &target, 0) == 0) {
		if (!strcmp(argv[1], "baseline"))
			return baseline();
		if (!strcmp(argv[1], "probes") && argc >= 5)
			return probes(atof(argv[3]), atoi(argv[4]),
				      argc > 5 && !strcmp(argv[5], "baseline"));
		if (!strcmp(argv[1], "idle") && argc >= 4)
			return idle(atoi(argv[3]), argc > 4 && !strcmp(argv[4], "connect"));
	}
	fprintf(stderr, "usage: loadgen baseline ADDR:PORT | probes ADDR:PORT SECONDS CONCURRENCY "
			"[baseline] | idle ADDR:PORT SESSIONS [connect]\n");
	return 2;
}
