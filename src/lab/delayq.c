// SPDX-License-Identifier: MIT
#include "delayq.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netfilter/queue.h>
#include <netlink/netfilter/queue_msg.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
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

static int send_verdict(struct nl_sock *sk, uint16_t group, uint32_t id, uint32_t mark)
{
	struct nfnl_queue_msg *m = nfnl_queue_msg_alloc();
	int rc;

	if (!m)
		return -NLE_NOMEM;
	nfnl_queue_msg_set_group(m, group);
	nfnl_queue_msg_set_family(m, AF_INET);
	nfnl_queue_msg_set_packetid(m, id);
	nfnl_queue_msg_set_verdict(m, NF_ACCEPT);
	if (mark)
		nfnl_queue_msg_set_mark(m, mark);
	rc = nfnl_queue_msg_send_verdict(sk, m);
	nfnl_queue_msg_put(m);
	return rc;
}

struct rx_ctx {
	struct delayq *d;
	struct nl_sock *sk;
};

static int on_packet(struct nl_msg *msg, void *arg)
{
	struct rx_ctx *rx = arg;
	struct nfnl_queue_msg *qm;

	if (nfnlmsg_queue_msg_parse(nlmsg_hdr(msg), &qm) < 0)
		return NL_SKIP;
	uint16_t group = nfnl_queue_msg_get_group(qm);
	uint32_t id = nfnl_queue_msg_get_packetid(qm);
	nfnl_queue_msg_put(qm);
	struct dq *q = dq_find(rx->d, group);
	if (!q || q->count == DELAYQ_MAXLEN) {
		rx->d->dropped++;
		send_verdict(rx->sk, group, id, q ? q->cfg.mark : 0);
		return NL_OK;
	}
	double ms = q->cfg.delay_ms;
	if (q->cfg.jitter_ms > 0 && q->cfg.normal) {
		/* Box-Muller: one standard normal from two uniforms */
		double u1 = rng_unit(&rx->d->rng), u2 = rng_unit(&rx->d->rng);
		ms += sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) * cos(2 * M_PI * u2) * q->cfg.jitter_ms;
	} else if (q->cfg.jitter_ms > 0) {
		ms += (rng_unit(&rx->d->rng) * 2 - 1) * q->cfg.jitter_ms;
	}
	if (ms < 0)
		ms = 0;
	uint64_t rel = now_ns() + (uint64_t)(ms * 1e6);
	if (rel < q->last_release)
		rel = q->last_release; /* a link does not reorder */
	q->last_release = rel;
	q->ring[(q->head + q->count) % DELAYQ_MAXLEN] = (struct held){id, rel};
	q->count++;
	return NL_OK;
}

/* Releases what is due; returns ms until the next release, or -1. */
static int release_due(struct delayq *d, struct nl_sock *sk)
{
	uint64_t now = now_ns(), next = UINT64_MAX;

	for (int i = 0; i < d->nq; i++) {
		struct dq *q = &d->q[i];
		while (q->count && q->ring[q->head].release_ns <= now) {
			send_verdict(sk, q->cfg.queue, q->ring[q->head].id, q->cfg.mark);
			q->head = (q->head + 1) % DELAYQ_MAXLEN;
			q->count--;
		}
		if (q->count && q->ring[q->head].release_ns < next)
			next = q->ring[q->head].release_ns;
	}
	if (next == UINT64_MAX)
		return -1;
	/* round up: waking early only costs a loop */
	uint64_t wait = (next - now + 999999) / 1000000;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

int delayq_serve(int nlinks, const struct delayq_link *links, int ready_fd)
{
	struct delayq d = {0};
	struct nl_sock *sk = NULL;
	struct nfnl_queue *nq = NULL;
	int rc;

	d.q = calloc((size_t)nlinks, sizeof(*d.q));
	if (!d.q)
		return -NLE_NOMEM;
	d.nq = nlinks;
	for (int i = 0; i < nlinks; i++)
		d.q[i].cfg = links[i];
	if (getrandom(&d.rng, sizeof(d.rng), 0) != sizeof(d.rng) || !d.rng)
		d.rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	rc = -NLE_NOMEM;
	if (!(sk = nfnl_queue_socket_alloc()))
		goto out;
	nl_socket_disable_seq_check(sk);
	if ((rc = nl_connect(sk, NETLINK_NETFILTER)) < 0)
		goto out;
	nl_socket_set_buffer_size(sk, 4 << 20, 1 << 20);
	/* a full socket buffer must not lose verdicts silently */
	int one = 1;
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	nfnl_queue_pf_unbind(sk, AF_INET); /* no-ops on kernels >= 3.8, harmless */
	nfnl_queue_pf_bind(sk, AF_INET);
	rc = -NLE_NOMEM;
	if (!(nq = nfnl_queue_alloc()))
		goto out;
	for (int i = 0; i < nlinks; i++) {
		nfnl_queue_set_group(nq, links[i].queue);
		nfnl_queue_set_copy_mode(nq, NFNL_QUEUE_COPY_META);
		nfnl_queue_set_maxlen(nq, DELAYQ_MAXLEN);
		if ((rc = nfnl_queue_create(sk, nq)) < 0)
			goto out;
	}
	struct rx_ctx rx = {&d, sk};
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_packet, &rx);
	nl_socket_set_nonblocking(sk);
	if (ready_fd >= 0) {
		char c = 1;
		if (write(ready_fd, &c, 1) != 1)
			goto out;
		close(ready_fd);
	}
	rc = 0;
	while (!stop) {
		int wait = release_due(&d, sk);
		struct pollfd pfd = {nl_socket_get_fd(sk), POLLIN, 0};
		int n = poll(&pfd, 1, wait);
		if (n < 0 && errno != EINTR) {
			rc = -NLE_FAILURE;
			break;
		}
		if (n > 0)
			while (nl_recvmsgs_default(sk) >= 0)
				;
	}
	/* let what we hold go rather than leave it queued */
	for (int i = 0; i < d.nq; i++)
		while (d.q[i].count) {
			send_verdict(sk, d.q[i].cfg.queue, d.q[i].ring[d.q[i].head].id,
				     d.q[i].cfg.mark);
			d.q[i].head = (d.q[i].head + 1) % DELAYQ_MAXLEN;
			d.q[i].count--;
		}
out:
	if (nq)
		nfnl_queue_put(nq);
	if (sk)
		nl_socket_free(sk);
	free(d.q);
	return rc;
}
