// SPDX-License-Identifier: MIT
#include "delayq.h"
#include "nlmsg.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>

/*
 * The netlink messages are written and read here (lab/nlmsg.h), without
 * libnl: a helper
 * sees every delayed packet twice (its arrival, its verdict), and libnl's
 * objects (an allocation, a parse of every attribute and a free for each)
 * were a tenth of a busy run's CPU (perf, bench/README.md).
 */

#define DELAYQ_MAXLEN 8192 /* packets held per queue, as the kernel's queue length */

struct held {
	uint32_t id;
	uint64_t release_ns;
};

struct dq {
	struct delayq_link cfg;
	struct held ring[DELAYQ_MAXLEN];
	unsigned head, count;
	uint64_t last_release;
};

struct delayq {
	struct dq *q;
	int nq;
	uint64_t rng;
	uint64_t dropped; /* ring full: let through undelayed rather than stall */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double rng_unit(uint64_t *s)
{
	/* xorshift64*: plenty for jitter */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

int delayq_link_parse(const char *s, struct delayq_link *out)
{
	char *end;
	unsigned long q = strtoul(s, &end, 10);

	if (*end != ':' || q > 65535)
		return -EINVAL;
	out->queue = (uint16_t)q;
	out->delay_ms = strtod(end + 1, &end);
	if (*end != ':' || out->delay_ms < 0)
		return -EINVAL;
	out->jitter_ms = strtod(end + 1, &end);
	if ((*end && *end != ':') || out->jitter_ms < 0)
		return -EINVAL;
	out->mark = 0;
	out->normal = false;
	if (*end) {
		const char *m = end + 1;
		unsigned long v = strtoul(m, &end, 0);
		if (end == m || (*end && *end != ':') || v > UINT32_MAX || *m == '-')
			return -EINVAL;
		out->mark = (uint32_t)v;
		if (*end) {
			if (strcmp(end + 1, "u") && strcmp(end + 1, "n"))
				return -EINVAL;
			out->normal = end[1] == 'n';
		}
	}
	return 0;
}

static struct dq *dq_find(struct delayq *d, uint16_t group)
{
	for (int i = 0; i < d->nq; i++)
		if (d->q[i].cfg.queue == group)
			return &d->q[i];
	return NULL;
}

/* A message of the queue subsystem's TYPE for queue QUEUE. */
static size_t queue_msg(struct nlw *w, uint16_t type, uint16_t queue, uint16_t flags)
{
	return nlw_msg(w, (uint16_t)(NFNL_SUBSYS_QUEUE << 8 | type), flags, 0, AF_UNSPEC, queue);
}

/*
 * ACCEPT for packet ID of QUEUE, with MARK (not 0). With BATCH, for every
 * packet of the queue up to ID: the kernel numbers a queue's packets in
 * order, and a link releases them in order (delayq.h), so the packets due
 * are always the queue's oldest.
 */
static int send_verdict(int fd, uint16_t queue, uint32_t id, uint32_t mark, bool batch)
{
	char buf[128] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlw w = {.buf = buf, .len = sizeof(buf)};
	size_t m = queue_msg(&w, batch ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT, queue, 0);
	struct nfqnl_msg_verdict_hdr v = {.verdict = htonl(NF_ACCEPT), .id = htonl(id)};
	nlw_put(&w, NFQA_VERDICT_HDR, &v, sizeof(v));
	if (mark)
		nlw_put_u32(&w, NFQA_MARK, mark);
	nlw_msg_end(&w, m);
	return pl_nl_send(fd, buf, w.off);
}

/* Sends a configuration message (QUEUE, then CMD or, with CMD 0, PARAMS and
 * MAXLEN) and waits for its acknowledgement: 0 or -errno. */
static int configure(int fd, uint16_t queue, uint8_t cmd, uint16_t pf, bool params)
{
	char buf[256] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlw w = {.buf = buf, .len = sizeof(buf)};
	size_t m = queue_msg(&w, NFQNL_MSG_CONFIG, queue, NLM_F_ACK);
	if (cmd) {
		struct nfqnl_msg_config_cmd c = {.command = cmd, .pf = htons(pf)};
		nlw_put(&w, NFQA_CFG_CMD, &c, sizeof(c));
	}
	if (params) {
		struct nfqnl_msg_config_params p = {.copy_range = 0, .copy_mode = NFQNL_COPY_META};
		nlw_put(&w, NFQA_CFG_PARAMS, &p, sizeof(p));
		nlw_put_u32(&w, NFQA_CFG_QUEUE_MAXLEN, DELAYQ_MAXLEN);
	}
	nlw_msg_end(&w, m);
	int rc = pl_nl_send(fd, buf, w.off);
	/* no packet comes before the queues are bound: the ack (or error) is next */
	return rc < 0 ? rc : pl_nl_acks(fd, 1, 5000);
}

/* Packet ID has arrived on QUEUE: held until its time, or let through at
 * once when nothing holds it. */
static void on_packet(struct delayq *d, int fd, uint16_t group, uint32_t id)
{
	struct dq *q = dq_find(d, group);
	if (!q || q->count == DELAYQ_MAXLEN) {
		d->dropped++;
		send_verdict(fd, group, id, q ? q->cfg.mark : 0, false);
		return;
	}
	double ms = q->cfg.delay_ms;
	if (q->cfg.jitter_ms > 0 && q->cfg.normal) {
		/* Box-Muller: one standard normal from two uniforms */
		double u1 = rng_unit(&d->rng), u2 = rng_unit(&d->rng);
		ms += sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) * cos(2 * M_PI * u2) * q->cfg.jitter_ms;
	} else if (q->cfg.jitter_ms > 0) {
		ms += (rng_unit(&d->rng) * 2 - 1) * q->cfg.jitter_ms;
	}
	if (ms < 0)
		ms = 0;
	uint64_t rel = now_ns() + (uint64_t)(ms * 1e6);
	if (rel < q->last_release)
		rel = q->last_release; /* a link does not reorder */
	q->last_release = rel;
	q->ring[(q->head + q->count) % DELAYQ_MAXLEN] = (struct held){id, rel};
	q->count++;
}

/* Reads what the socket holds (it does not block): the queued packets'
 * ids. 0, or -errno on a socket error. */
static int receive(struct delayq *d, int fd, char *buf, size_t len)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			/* else an error a verdict drew (a packet gone): nothing to do */
			if (h->nlmsg_type != (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET))
				continue;
			const struct nfgenmsg *g = NLMSG_DATA(h);
			const struct nlattr *na = pl_nl_attr(h, NFQA_PACKET_HDR);
			struct nfqnl_msg_packet_hdr ph;
			if (!na || na->nla_len < NLA_HDRLEN + sizeof(ph))
				continue;
			memcpy(&ph, (const char *)na + NLA_HDRLEN, sizeof(ph));
			on_packet(d, fd, ntohs(g->res_id), ntohl(ph.packet_id));
		}
	}
}

/* Releases what is due, a verdict per queue; returns ns until the next
 * release, or -1. */
static int64_t release_due(struct delayq *d, int fd)
{
	uint64_t now = now_ns(), next = UINT64_MAX;

	for (int i = 0; i < d->nq; i++) {
		struct dq *q = &d->q[i];
		uint32_t last = 0;
		unsigned n = 0;
		while (q->count && q->ring[q->head].release_ns <= now) {
			last = q->ring[q->head].id;
			q->head = (q->head + 1) % DELAYQ_MAXLEN;
			q->count--;
			n++;
		}
		if (n)
			send_verdict(fd, q->cfg.queue, last, q->cfg.mark, n > 1);
		if (q->count && q->ring[q->head].release_ns < next)
			next = q->ring[q->head].release_ns;
	}
	return next == UINT64_MAX ? -1 : (int64_t)(next - now);
}

/* The socket, its queues bound: the fd, or -errno. */
static int open_queues(int nlinks, const struct delayq_link *links)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	int size = 4 << 20, one = 1, rc = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	size = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	/* a full socket buffer must not lose verdicts silently */
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	struct sockaddr_nl me = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0)
		rc = -errno;
	/* no-ops on kernels >= 3.8, harmless */
	if (rc == 0)
		configure(fd, 0, NFQNL_CFG_CMD_PF_UNBIND, AF_INET, false);
	if (rc == 0)
		configure(fd, 0, NFQNL_CFG_CMD_PF_BIND, AF_INET, false);
	for (int i = 0; rc == 0 && i < nlinks; i++)
		if ((rc = configure(fd, links[i].queue, NFQNL_CFG_CMD_BIND, AF_INET, false)) == 0)
			rc = configure(fd, links[i].queue, 0, 0, true);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int delayq_serve(int nlinks, const struct delayq_link *links, int ready_fd)
{
	struct delayq d = {0};
	static char buf[1 << 16] __attribute__((aligned(NLMSG_ALIGNTO)));
	int rc, fd = -1;

	d.q = calloc((size_t)nlinks, sizeof(*d.q));
	if (!d.q)
		return -ENOMEM;
	d.nq = nlinks;
	for (int i = 0; i < nlinks; i++)
		d.q[i].cfg = links[i];
	if (getrandom(&d.rng, sizeof(d.rng), 0) != sizeof(d.rng) || !d.rng)
		d.rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if ((rc = fd = open_queues(nlinks, links)) < 0)
		goto out;
	rc = 0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (ready_fd >= 0) {
		char c = 1;
		if (write(ready_fd, &c, 1) != 1) {
			rc = -EIO;
			goto out;
		}
		close(ready_fd);
	}
	while (!stop) {
		/* to the nanosecond: poll()'s whole milliseconds let a packet
		 * out up to 1 ms late, a jitter of their own on every link */
		int64_t wait = release_due(&d, fd);
		struct timespec ts = {wait / 1000000000, wait % 1000000000};
		struct pollfd pfd = {fd, POLLIN, 0};
		int n = ppoll(&pfd, 1, wait < 0 ? NULL : &ts, NULL);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n > 0 && (rc = receive(&d, fd, buf, sizeof(buf))) < 0)
			break;
	}
	/* let what we hold go rather than leave it queued */
	for (int i = 0; i < d.nq; i++)
		if (d.q[i].count)
			send_verdict(
			    fd, d.q[i].cfg.queue,
			    d.q[i].ring[(d.q[i].head + d.q[i].count - 1) % DELAYQ_MAXLEN].id,
			    d.q[i].cfg.mark, true);
out:
	if (fd >= 0)
		close(fd);
	free(d.q);
	return rc;
}
