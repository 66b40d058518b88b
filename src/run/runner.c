// SPDX-License-Identifier: MIT
#include "runner.h"
#include "lab/ct.h"
#include "lab/lab.h"
#include "lab/netns.h"
#include "lab/nft.h"
#include "punch/peer.h"
#include "punch/proxy.h"
#include "punch/server.h"
#include "stats.h"
#include "capture/capture.h"
#include "util/fs.h"
#include "util/jdoc.h"
#include "version.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define SERVER_PORT 7777
#define PROXY_PORT 1080

struct runner {
	const struct suite *s;
	const struct run_opts *o;
	pthread_mutex_t mu;
	int next_cell;
	json_t **cell_json, **cell_trials; /* per cell */
	char **delay_mech;
	int trials_done, successes, total_trials, cells_done;
	unsigned capture_drops;
	double t0;
	bool failed;
	struct perr err;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- threads that live inside a namespace ---- */

struct srv_thread {
	pthread_t t;
	int nsfd;
	struct srv_config cfg;
	volatile sig_atomic_t stop;
	volatile uint16_t port;
	int rc;
};

static void *srv_main(void *arg)
{
	struct srv_thread *st = arg;
	uint16_t port = 0;
	if (setns(st->nsfd, CLONE_NEWNET) < 0) {
		st->rc = -errno;
		st->port = 1;
		return NULL;
	}
	/* srv_run reports the port as soon as it listens */
	st->rc = srv_run(&st->cfg, &st->stop, (uint16_t *)&st->port);
	(void)port;
	if (!st->port)
		st->port = 1;
	return NULL;
}

struct px_thread {
	pthread_t t;
	int nsfd;
	struct proxy_config cfg;
	volatile sig_atomic_t stop;
	volatile uint16_t port;
	int rc;
};

static void *px_main(void *arg)
{
	struct px_thread *pt = arg;
	if (setns(pt->nsfd, CLONE_NEWNET) < 0) {
		pt->rc = -errno;
		pt->port = 1;
		return NULL;
	}
	pt->rc = proxy_run(&pt->cfg, &pt->stop, (uint16_t *)&pt->port);
	if (!pt->port)
		pt->port = 1;
	return NULL;
}

struct peer_thread {
	pthread_t t;
	int nsfd;
	struct peer_config cfg;
	json_t *result;
};

static void *peer_main(void *arg)
{
	struct peer_thread *pt = arg;
	if (setns(pt->nsfd, CLONE_NEWNET) < 0) {
		pt->result = json_pack("{s:b, s:s, s:s}", "connected", 0, "reason", "server-error",
				       "error", "cannot enter the peer's namespace");
		return NULL;
	}
	peer_run(&pt->cfg, &pt->result);
	return NULL;
}

static bool wait_port(volatile uint16_t *port)
{
	for (int i = 0; i < 500 && !*port; i++)
		usleep(2000);
	return *port > 1;
}

/* ---- one cell ---- */

/* Applies the cell's fields to the topology it was loaded from. */
static void patch_topology(struct topology *t, const struct cell *c)
{
	for (int i = 0; i < t->nnodes; i++) {
		struct topo_node *n = &t->nodes[i];
		if (!n->is_nat || n->ruleset)
			continue;
		if (c->nat[0]) {
			bool hairpin = n->nat.hairpin;
			n->nat = nat_preset_by_name(c->nat)->profile;
			n->nat.hairpin = hairpin;
		}
		if (c->hairpin >= 0)
			n->nat.hairpin = c->hairpin;
	}
	if (c->delay_ms < 0)
		return;
	/* the topology says which links are delayed; the cell says by how much */
	for (int s = 0; s < t->nsegs; s++) {
		struct topo_segment *sg = &t->segs[s];
		if (sg->medium.delay_ms > 0) {
			sg->medium.delay_ms = c->delay_ms;
			if (sg->medium.jitter_ms > c->delay_ms)
				sg->medium.jitter_ms = c->delay_ms;
		}
		for (int m = 0; m < sg->nmembers; m++) {
			struct impair *l = &sg->members[m].link;
			if (l->delay_ms > 0) {
				l->delay_ms = c->delay_ms;
				if (l->jitter_ms > c->delay_ms)
					l->jitter_ms = c->delay_ms;
			}
		}
	}
}

static bool all_nats_preserve(const struct topology *t)
{
	for (int i = 0; i < t->nnodes; i++)
		if (t->nodes[i].is_nat &&
		    (t->nodes[i].ruleset || t->nodes[i].nat.port != NAT_PORT_PRESERVE))
			return false;
	return true;
}

static int endpoint_port(json_t *r, const char *key)
{
	const char *s = json_string_value(json_object_get(r, key));
	const char *colon = s ? strrchr(s, ':') : NULL;
	return colon ? atoi(colon + 1) : -1;
}

/* Did S's last candidates for SIDE contain SIDE's punch port? (OTHER holds them) */
static json_t *hit_of(json_t *side, json_t *other, bool determinable)
{
	int port = endpoint_port(side, "local");
	json_t *rounds = json_object_get(other, "ports_predicted");
	json_t *last = json_array_get(rounds, json_array_size(rounds) - 1);
	if (!determinable || port < 0 || !last)
		return json_null();
	size_t i;
	json_t *p;
	json_array_foreach(last, i, p) if (json_integer_value(p) == port) return json_true();
	return json_false();
}

static uint64_t cell_seed(const struct suite *s, const struct cell *c, int side)
{
	uint64_t h = s->seed * 0x9e3779b97f4a7c15ull;
	for (const char *p = c->id; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return h ^ (uint64_t)(side + 1) * 0xbf58476d1ce4e5b9ull;
}

static void progress(struct runner *r, bool force)
{
	static double last;
	if (!r->o->progress)
		return;
	double now = now_s();
	if (!force && now - last < 0.2)
		return;
	last = now;
	double el = now - r->t0, rate = el > 0 ? r->trials_done / el : 0;
	int left = r->total_trials - r->trials_done;
	fprintf(stderr, "\r\033[Kcells %d/%d  trials %d/%d  connected %d  %.1f trials/s  ETA %.0fs",
		r->cells_done, r->s->ncells, r->trials_done, r->total_trials, r->successes, rate,
		rate > 0 ? left / rate : 0.0);
	fflush(stderr);
}

/* ---- capture ---- */

struct cpoint {
	struct capture *cap;
	char node[TOPO_NAME_MAX + 1];
	uint32_t addr; /* the interface's address */
};

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *ep(uint32_t a, uint16_t p, char *buf)
{
	char s[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, s, sizeof(s));
	sprintf(buf, "%s:%u", s, p);
	return buf;
}

/*
 * What the wire saw in one trial: the SYN/RST timeline at every capture
 * point, the external port each NAT used for the punch (its last SYN to a
 * peer rather than to S), and whether the two peers' SYNs crossed: a SYN
 * each way between the same two endpoints, both before any SYN-ACK of theirs.
 */
static json_t *trial_capture(struct cpoint *cp, int ncp, double t0, double t1, uint32_t server)
{
	json_t *timeline = json_array(), *ext = json_object();
	struct cap_event *all = NULL;
	size_t nall = 0;
	bool crossed = false;

	for (int i = 0; i < ncp; i++) {
		struct cap_event *ev;
		size_t n;
		cap_take(cp[i].cap, t1, &ev, &n);
		for (size_t k = 0; k < n; k++) {
			struct cap_event *e = &ev[k];
			if (e->t < t0)
				continue;
			char s[32], d[32], fl[4] = "";
			size_t f = 0;
			if (e->flags & CAP_SYN)
				fl[f++] = 'S';
			if (e->flags & CAP_ACK)
				fl[f++] = 'A';
			if (e->flags & CAP_RST)
				fl[f++] = 'R';
			json_array_append_new(
			    timeline, json_pack("{s:f, s:s, s:s, s:s, s:s}", "ms",
						round((e->t - t0) * 1e6) / 1e3, "at", cp[i].node,
						"src", ep(e->saddr, e->sport, s), "dst",
						ep(e->daddr, e->dport, d), "flags", fl));
			if ((e->flags & (CAP_SYN | CAP_ACK)) == CAP_SYN && e->saddr == cp[i].addr &&
			    e->daddr != server)
				json_object_set_new(ext, cp[i].node, json_integer(e->sport));
			struct cap_event *na = realloc(all, (nall + 1) * sizeof(*all));
			if (na) {
				all = na;
				all[nall++] = *e;
			}
		}
		free(ev);
	}
	for (size_t i = 0; i < nall && !crossed; i++) {
		struct cap_event *x = &all[i];
		if ((x->flags & (CAP_SYN | CAP_ACK)) != CAP_SYN || x->daddr == server ||
		    x->saddr == server)
			continue;
		for (size_t j = 0; j < nall && !crossed; j++) {
			struct cap_event *y = &all[j];
			if ((y->flags & (CAP_SYN | CAP_ACK)) != CAP_SYN || y->saddr != x->daddr ||
			    y->daddr != x->saddr || y->sport != x->dport || y->dport != x->sport)
				continue;
			double both = x->t > y->t ? x->t : y->t;
			bool synack_first = false;
			for (size_t k = 0; k < nall; k++) {
				struct cap_event *z = &all[k];
				bool pair = (z->saddr == x->saddr && z->sport == x->sport &&
					     z->daddr == x->daddr && z->dport == x->dport) ||
					    (z->saddr == y->saddr && z->sport == y->sport &&
					     z->daddr == y->daddr && z->dport == y->dport);
				if (pair &&
				    (z->flags & (CAP_SYN | CAP_ACK)) == (CAP_SYN | CAP_ACK) &&
				    z->t < both)
					synack_first = true;
			}
			crossed = !synack_first;
		}
	}
	free(all);
	/* one timeline, in time order across the capture points */
	size_t n = json_array_size(timeline);
	json_t **tl = malloc((n + 1) * sizeof(*tl));
	for (size_t i = 0; tl && i < n; i++)
		tl[i] = json_incref(json_array_get(timeline, i));
	if (tl) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = i;
			     j > 0 && json_number_value(json_object_get(tl[j - 1], "ms")) >
					  json_number_value(json_object_get(tl[j], "ms"));
			     j--) {
				json_t *tmp = tl[j];
				tl[j] = tl[j - 1];
				tl[j - 1] = tmp;
			}
		json_array_clear(timeline);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(timeline, tl[i]);
		free(tl);
	}
	return json_pack("{s:b, s:o, s:o}", "syns_crossed", crossed, "external_ports", ext,
			 "timeline", timeline);
}

static int run_cell(struct runner *r, int ci, int worker)
{
	const struct suite *s = r->s;
	const struct cell *c = &s->cells[ci];
	int trials = r->o->trials > 0 ? r->o->trials : s->trials;
	struct topology *t = NULL;
	struct perr err;
	char lab[LAB_NAME_MAX + 1];
	int rc = -1, nsfd[3] = {-1, -1, -1}, natfd[16], nnat = 0;
	struct nft_ctx *hairpin_ctx[16] = {NULL};
	struct cpoint cp[16];
	int ncp = 0;
	struct srv_thread srv = {0};
	struct px_thread px[2] = {0};
	bool lab_built = false, srv_started = false, px_started[2] = {false, false};
	struct os_host *host[2] = {NULL, NULL};
	json_t *trial_list = json_array();
	int first_trial = 0;
	/* resuming: this cell's trials from the earlier run stay, and it goes on after them */
	if (r->o->resume) {
		size_t i;
		json_t *tr;
		json_array_foreach(
		    json_object_get(r->o->resume, "trials"), i,
		    tr) if (!strcmp(json_string_value(json_object_get(tr, "cell")) ?: "", c->id))
		{
			json_array_append(trial_list, tr);
			first_trial++;
		}
	}
	if (first_trial >= trials) {
		r->cell_trials[ci] = trial_list;
		pthread_mutex_lock(&r->mu);
		r->trials_done += first_trial;
		pthread_mutex_unlock(&r->mu);
		return 0;
	}

	if (topo_load(c->topology, &t, &err) < 0) {
		pthread_mutex_lock(&r->mu);
		r->err = err;
		r->failed = true;
		pthread_mutex_unlock(&r->mu);
		goto out;
	}
	patch_topology(t, c);
	int role_node[3] = {topo_node_by_role(t, ROLE_SERVER), topo_node_by_role(t, ROLE_PEER_A),
			    topo_node_by_role(t, ROLE_PEER_B)};
	if (role_node[0] < 0 || role_node[1] < 0 || role_node[2] < 0) {
		pthread_mutex_lock(&r->mu);
		perr_set(&r->err, c->topology, 0, 0,
			 "a runnable topology needs nodes with the roles "
			 "server, peer-a and peer-b");
		r->failed = true;
		pthread_mutex_unlock(&r->mu);
		goto out;
	}
	snprintf(lab, sizeof(lab), "r%d-%d-%d", (int)getpid() % 100000, worker, ci % 10000);
	if (lab_up(t, lab, LAB_OWNED, NULL, &err) < 0) {
		pthread_mutex_lock(&r->mu);
		r->err = err;
		r->failed = true;
		pthread_mutex_unlock(&r->mu);
		goto out;
	}
	lab_built = true;
	json_t *st = lab_state(lab);
	r->delay_mech[ci] =
	    strdup(json_string_value(json_object_get(st, "delay_mechanism")) ?: "none");
	json_decref(st);
	for (int k = 0; k < 3; k++)
		nsfd[k] = lab_node_nsfd(lab, t->nodes[role_node[k]].name);
	for (int i = 0; i < t->nnodes && nnat < 16; i++)
		if (t->nodes[i].is_nat) {
			natfd[nnat] = lab_node_nsfd(lab, t->nodes[i].name);
			if (!t->nodes[i].ruleset && t->nodes[i].nat.hairpin)
				hairpin_ctx[nnat] = nft_open_in(natfd[nnat]);
			nnat++;
		}
	uint32_t saddr = topo_primary_addr(t, role_node[0]);
	/* capture points: every NAT's outside interface; with no NAT, the peers' */
	for (int i = 0; i < t->nnodes && ncp < 16; i++) {
		const struct topo_node *n = &t->nodes[i];
		bool nat = n->is_nat && n->outside >= 0;
		bool peer = nnat == 0 && (n->role == ROLE_PEER_A || n->role == ROLE_PEER_B);
		if (!nat && !peer)
			continue;
		int seg = nat ? n->outside : -1;
		for (int k = 0; seg < 0 && k < t->nsegs; k++)
			if (topo_addr_on(t, i, k))
				seg = k;
		char pcap[PATH_MAX], cerr[256];
		if (r->o->pcap_dir)
			snprintf(pcap, sizeof(pcap), "%s/%s-%s.pcap", r->o->pcap_dir, c->id,
				 n->name);
		int fd = lab_node_nsfd(lab, n->name);
		struct cpoint *p = &cp[ncp];
		snprintf(p->node, sizeof(p->node), "%s", n->name);
		p->addr = topo_addr_on(t, i, seg);
		int crc = cap_start(&p->cap, fd, t->segs[seg].name, r->o->pcap_dir ? pcap : NULL,
				    cerr, sizeof(cerr));
		close(fd);
		if (crc < 0) {
			pthread_mutex_lock(&r->mu);
			perr_set(&r->err, c->topology, 0, 0, "cell %s: capture on %s: %s", c->id,
				 n->name, cerr);
			r->failed = true;
			pthread_mutex_unlock(&r->mu);
			goto out;
		}
		ncp++;
	}

	srv_config_defaults(&srv.cfg);
	srv.cfg.listen.sin_addr.s_addr = saddr;
	srv.cfg.listen.sin_port = htons(SERVER_PORT);
	srv.cfg.heuristic = heuristic_by_name(c->heuristic);
	srv.cfg.guesses = c->guesses;
	srv.cfg.max_rounds = s->rounds;
	srv.cfg.seed = cell_seed(s, c, 2);
	srv.nsfd = nsfd[0];
	if (pthread_create(&srv.t, NULL, srv_main, &srv) != 0)
		goto out;
	srv_started = true;
	if (!wait_port(&srv.port))
		goto fail_msg;
	bool proxy[2] = {c->proxy_a, c->proxy_b};
	for (int k = 0; k < 2; k++) {
		if (!proxy[k])
			continue;
		proxy_config_defaults(&px[k].cfg);
		px[k].cfg.listen.sin_port = htons(PROXY_PORT);
		px[k].nsfd = nsfd[1 + k];
		if (pthread_create(&px[k].t, NULL, px_main, &px[k]) != 0)
			goto out;
		px_started[k] = true;
		if (!wait_port(&px[k].port))
			goto fail_msg;
	}
	const char *os[2] = {c->os_a, c->os_b};
	double bg[2] = {c->background_a, c->background_b};
	for (int k = 0; k < 2; k++) {
		const struct os_ops *ops = os_by_name(os[k]);
		if (ops->next)
			host[k] = os_host_new(ops, cell_seed(s, c, k), bg[k]);
	}
	bool determinable = all_nats_preserve(t);
	for (int trial = first_trial; trial < trials; trial++) {
		if (r->o->stop && *r->o->stop)
			break;
		/* every trial starts from a clean NAT: no mapping of the last one */
		double tw0 = wall_s();
		for (int k = 0; k < nnat && !s->keep_conntrack; k++) {
			ct_flush_in(natfd[k]);
			/* the hairpin's owners map is NAT state too */
			if (hairpin_ctx[k])
				nft_run(hairpin_ctx[k], "flush map ip punchlab_nat owners");
		}
		uint8_t tok[PROTO_TOKEN_LEN];
		char e[256];
		int saved;
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(SERVER_PORT),
					 .sin_addr.s_addr = saddr};
		netns_enter(nsfd[1], &saved);
		int orc = peer_open_session(&sa, tok, e, sizeof(e));
		netns_leave(saved);
		if (orc < 0) {
			pthread_mutex_lock(&r->mu);
			perr_set(&r->err, c->topology, 0, 0, "cell %s: cannot open a session: %s",
				 c->id, e);
			r->failed = true;
			pthread_mutex_unlock(&r->mu);
			goto out;
		}
		struct peer_thread pt[2];
		for (int k = 0; k < 2; k++) {
			memset(&pt[k], 0, sizeof(pt[k]));
			peer_config_defaults(&pt[k].cfg);
			pt[k].cfg.server = sa;
			memcpy(pt[k].cfg.session, tok, sizeof(tok));
			pt[k].cfg.role = k ? 'b' : 'a';
			pt[k].cfg.os = os_by_name(os[k]);
			pt[k].cfg.host = host[k];
			pt[k].cfg.probes = s->probes;
			pt[k].cfg.rounds = s->rounds;
			pt[k].cfg.bytes = 64;
			pt[k].cfg.seed = cell_seed(s, c, k) + (uint64_t)trial;
			pt[k].cfg.skew_ms = k ? c->skew_ms : 0;
			if (proxy[k]) {
				pt[k].cfg.use_proxy = true;
				pt[k].cfg.proxy.sin_family = AF_INET;
				pt[k].cfg.proxy.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
				pt[k].cfg.proxy.sin_port = htons(PROXY_PORT);
			}
			pt[k].nsfd = nsfd[1 + k];
			pthread_create(&pt[k].t, NULL, peer_main, &pt[k]);
		}
		for (int k = 0; k < 2; k++)
			pthread_join(pt[k].t, NULL);
		json_t *a = pt[0].result, *b = pt[1].result;
		/* no wait for pcap: the trial's last SYN or RST went by milliseconds
		 * before the peers reported, and immediate mode hands packets over at once */
		json_t *capj = trial_capture(cp, ncp, tw0, wall_s(), saddr);
		bool ok = json_is_true(json_object_get(a, "connected")) &&
			  json_is_true(json_object_get(b, "connected"));
		json_t *why = json_object_get(a, "reason");
		if (json_is_null(why))
			why = json_object_get(b, "reason");
		json_t *tr =
		    json_pack("{s:s, s:i, s:b, s:O, s:O, s:O, s:{s:o, s:o}, s:o, s:o}", "cell",
			      c->id, "trial", trial, "connected", ok, "rounds",
			      json_object_get(a, "rounds"), "time_to_connect_ms",
			      ok ? json_object_get(a, "time_to_connect_ms") : json_null(), "reason",
			      ok    ? json_null()
			      : why ? why
				    : json_null(),
			      "prediction_hit", "a", hit_of(a, b, determinable), "b",
			      hit_of(b, a, determinable), "a", a, "b", b);
		json_object_set_new(tr, "capture", capj);
		json_array_append_new(trial_list, tr);
		pthread_mutex_lock(&r->mu);
		r->trials_done++;
		r->successes += ok;
		progress(r, false);
		pthread_mutex_unlock(&r->mu);
	}
	rc = 0;
	goto out;
fail_msg:
	pthread_mutex_lock(&r->mu);
	perr_set(&r->err, c->topology, 0, 0, "cell %s: the server or a proxy did not start", c->id);
	r->failed = true;
	pthread_mutex_unlock(&r->mu);
out:
	if (srv_started) {
		srv.stop = 1;
		pthread_join(srv.t, NULL);
	}
	for (int k = 0; k < 2; k++)
		if (px_started[k]) {
			px[k].stop = 1;
			pthread_join(px[k].t, NULL);
		}
	for (int k = 0; k < ncp; k++) {
		struct cap_event *ev;
		size_t n;
		unsigned drops = 0;
		cap_stop(cp[k].cap, &ev, &n, &drops);
		free(ev);
		pthread_mutex_lock(&r->mu);
		r->capture_drops += drops;
		pthread_mutex_unlock(&r->mu);
	}
	for (int k = 0; k < 2; k++)
		os_host_free(host[k]);
	for (int k = 0; k < 3; k++)
		if (nsfd[k] >= 0)
			close(nsfd[k]);
	for (int k = 0; k < nnat; k++) {
		if (natfd[k] >= 0)
			close(natfd[k]);
		nft_release(hairpin_ctx[k]);
	}
	if (lab_built)
		lab_down(lab, &err);
	topo_free(t);
	r->cell_trials[ci] = trial_list;
	return rc;
}

/* ---- summaries and the file ---- */

static json_t *cell_summary(const struct cell *c, json_t *trials)
{
	size_t n = json_array_size(trials), i;
	unsigned ok = 0, hits = 0, judged = 0;
	double *rounds = calloc(n + 1, sizeof(double)), *ttc = calloc(n + 1, sizeof(double));
	size_t nttc = 0;
	json_t *fail = json_object(), *t;
	json_array_foreach(trials, i, t)
	{
		rounds[i] = (double)json_integer_value(json_object_get(t, "rounds"));
		if (json_is_true(json_object_get(t, "connected"))) {
			ok++;
			ttc[nttc++] = json_number_value(json_object_get(t, "time_to_connect_ms"));
		} else {
			const char *why = json_string_value(json_object_get(t, "reason"));
			why = why ? why : "unknown";
			json_object_set_new(
			    fail, why,
			    json_integer(json_integer_value(json_object_get(fail, why)) + 1));
		}
		json_t *h = json_object_get(t, "prediction_hit");
		for (int k = 0; k < 2; k++) {
			json_t *v = json_object_get(h, k ? "b" : "a");
			if (json_is_boolean(v)) {
				judged++;
				hits += json_is_true(v);
			}
		}
	}
	double lo, hi;
	wilson95(ok, (unsigned)n, &lo, &hi);
	json_t *num = json_null();
#define NUM(x) (isnan(x) ? json_null() : json_real(round((x)*1000) / 1000))
	json_t *sum =
	    json_pack("{s:s, s:O, s:i, s:i, s:o, s:[o, o], s:o, s:o, s:o, s:o, s:o, s:o}", "id",
		      c->id, "fields", c->fields, "trials", (int)n, "successes", (int)ok, "rate",
		      n ? json_real((double)ok / (double)n) : json_null(), "wilson95",
		      json_real(lo), json_real(hi), "rounds_median", NUM(quantile(rounds, n, 0.5)),
		      "rounds_p90", NUM(quantile(rounds, n, 0.9)), "time_to_connect_median_ms",
		      NUM(quantile(ttc, nttc, 0.5)), "time_to_connect_p90_ms",
		      NUM(quantile(ttc, nttc, 0.9)), "prediction_hit_rate",
		      judged ? json_real((double)hits / judged) : json_null(), "failures", fail);
#undef NUM
	json_decref(num);
	free(rounds);
	free(ttc);
	return sum;
}

/* ISO 8601 UTC, or the compact form for file names */
static void utc_now(char *buf, size_t len, bool compact)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	if (compact)
		strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Writes JSON to DIR/BASE-STAMP.json atomically and without overwriting. */
static int write_results(json_t *res, const char *dir, const char *base, char *out, size_t len,
			 struct perr *err)
{
	char stamp[32], tmp[PATH_MAX], final[PATH_MAX];
	utc_now(stamp, sizeof(stamp), true);
	if (mkdir_p(dir) < 0) {
		perr_set(err, dir, 0, 0, "cannot create: %s", strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s-%s.%d.tmp", dir, base, stamp, (int)getpid());
	if (json_dump_file(res, tmp, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) < 0) {
		perr_set(err, tmp, 0, 0, "cannot write");
		unlink(tmp);
		return -1;
	}
	int fd = open(tmp, O_RDONLY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	/* link() never replaces an existing file: a results file is never overwritten */
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(final, sizeof(final), "%s/%s-%s.json", dir, base, stamp);
		else
			snprintf(final, sizeof(final), "%s/%s-%s-%d.json", dir, base, stamp, i);
		if (link(tmp, final) == 0) {
			unlink(tmp);
			snprintf(out, len, "%s", final);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	perr_set(err, final, 0, 0, "cannot create: %s", strerror(errno));
	unlink(tmp);
	return -1;
}

static void *worker_main(void *arg)
{
	struct runner *r = ((void **)arg)[0];
	int worker = (int)(intptr_t)((void **)arg)[1];
	for (;;) {
		pthread_mutex_lock(&r->mu);
		int ci = r->failed || (r->o->stop && *r->o->stop) ? r->s->ncells : r->next_cell++;
		pthread_mutex_unlock(&r->mu);
		if (ci >= r->s->ncells)
			return NULL;
		/* a shard is a fixed subset of cells, the same on every machine */
		if (r->o->shard_n && ci % r->o->shard_n != r->o->shard_k - 1)
			continue;
		run_cell(r, ci, worker);
		pthread_mutex_lock(&r->mu);
		r->cells_done++;
		progress(r, true);
		pthread_mutex_unlock(&r->mu);
	}
}

int run_suite(const struct suite *s, const struct run_opts *o, char *out_path, size_t len,
	      struct perr *err)
{
	struct runner r = {.s = s, .o = o};
	char start[32], end[32];
	struct utsname un;
	int jobs = o->jobs > 0 ? o->jobs : 1;

	pthread_mutex_init(&r.mu, NULL);
	r.cell_trials = calloc((size_t)s->ncells, sizeof(json_t *));
	r.delay_mech = calloc((size_t)s->ncells, sizeof(char *));
	r.total_trials = s->ncells * (o->trials > 0 ? o->trials : s->trials);
	if (o->shard_n)
		r.total_trials = (s->ncells / o->shard_n + (s->ncells % o->shard_n >= o->shard_k)) *
				 (o->trials > 0 ? o->trials : s->trials);
	r.t0 = now_s();
	utc_now(start, sizeof(start), false);
	pthread_t *th = calloc((size_t)jobs, sizeof(pthread_t));
	void *(*args)[2] = calloc((size_t)jobs, sizeof(*args));
	for (int j = 0; j < jobs; j++) {
		args[j][0] = &r;
		args[j][1] = (void *)(intptr_t)j;
		pthread_create(&th[j], NULL, worker_main, args[j]);
	}
	for (int j = 0; j < jobs; j++)
		pthread_join(th[j], NULL);
	free(th);
	free(args);
	if (o->progress)
		fputc('\n', stderr);
	utc_now(end, sizeof(end), false);
	bool interrupted = o->stop && *o->stop;

	json_t *cells = json_array(), *trials = json_array(), *mechs = json_array();
	for (int i = 0; i < s->ncells; i++) {
		if (!r.cell_trials[i])
			continue;
		if (json_array_size(r.cell_trials[i]))
			json_array_append_new(cells, cell_summary(&s->cells[i], r.cell_trials[i]));
		json_array_extend(trials, r.cell_trials[i]);
		json_decref(r.cell_trials[i]);
		if (r.delay_mech[i]) {
			bool seen = false;
			size_t k;
			json_t *m;
			json_array_foreach(mechs, k, m) seen |=
			    !strcmp(json_string_value(m), r.delay_mech[i]);
			if (!seen)
				json_array_append_new(mechs, json_string(r.delay_mech[i]));
			free(r.delay_mech[i]);
		}
	}
	free(r.cell_trials);
	free(r.delay_mech);
	uname(&un);
	char loose[16] = "?", synsent[16] = "?";
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_tcp_loose", "r");
	if (f) {
		if (!fgets(loose, sizeof(loose), f))
			loose[0] = 0;
		fclose(f);
	}
	f = fopen("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_syn_sent", "r");
	if (f) {
		if (!fgets(synsent, sizeof(synsent), f))
			synsent[0] = 0;
		fclose(f);
	}
	loose[strcspn(loose, "\n")] = 0;
	synsent[strcspn(synsent, "\n")] = 0;
	char suite_abs[PATH_MAX];
	if (!realpath(s->path, suite_abs))
		snprintf(suite_abs, sizeof(suite_abs), "%s", s->path);
	json_t *res = json_pack(
	    "{s:s, s:i, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:b, s:i, s:f}, "
	    "s:{s:s, s:s, s:s?, s:i, s:i, s:i, s:I, s:i, s:b}, s:o, s:o}",
	    "format", "punchlab-results", "version", 1, "metadata", "punchlab", PUNCHLAB_VERSION,
	    "start_utc", start, "end_utc", end, "kernel", un.release, "host", un.nodename,
	    "command", o->command_line ? o->command_line : "", "sysctls",
	    "net.netfilter.nf_conntrack_tcp_loose", loose,
	    "net.netfilter.nf_conntrack_tcp_timeout_syn_sent", synsent, "delay_mechanism", mechs,
	    "interrupted", interrupted, "jobs", jobs, "seconds", now_s() - r.t0, "suite", "file",
	    suite_abs, "sha256", s->hash, "description", s->description, "trials",
	    o->trials > 0 ? o->trials : s->trials, "rounds", s->rounds, "probes", s->probes, "seed",
	    (json_int_t)s->seed, "cells", s->ncells, "keep_conntrack", s->keep_conntrack, "cells",
	    cells, "trials", trials);
	if (r.failed) {
		*err = r.err;
		json_decref(res);
		return -1;
	}
	if (!res) {
		perr_set(err, s->path, 0, 0, "cannot assemble the results (out of memory?)");
		return -1;
	}
	json_t *md = json_object_get(res, "metadata");
	json_object_set_new(md, "capture_drops", json_integer(r.capture_drops));
	if (o->pcap_dir)
		json_object_set_new(md, "pcap_dir", json_string(o->pcap_dir));
	if (o->shard_n)
		json_object_set_new(md, "shard", json_sprintf("%d/%d", o->shard_k, o->shard_n));
	if (o->resume)
		json_object_set(
		    md, "resumed_from",
		    json_object_get(json_object_get(o->resume, "metadata"), "start_utc"));
	const char *slash = strrchr(s->path, '/');
	char base[128];
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : s->path);
	char *dot = strrchr(base, '.');
	if (dot)
		*dot = 0;
	int rc = write_results(res, o->outdir, base, out_path, len, err);
	json_decref(res);
	if (rc < 0)
		return -1;
	return interrupted ? 1 : 0;
}

/* "two-nats home-2009 A=linux-2.6+proxy B=windows-xp skew_ms=5" */
static void cell_name(json_t *fl, char *name, size_t len)
{
	size_t n = 0;
	const char *k;
	json_t *v;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (n < len)                                                                       \
			n += (size_t)snprintf(name + n, len - n, __VA_ARGS__);                     \
	} while (0)
	const char *topo = json_string_value(json_object_get(fl, "topology"));
	if (topo) {
		const char *sl = strrchr(topo, '/');
		ADD("%.*s", (int)strcspn(sl ? sl + 1 : topo, "."), sl ? sl + 1 : topo);
	}
	if (json_object_get(fl, "nat"))
		ADD(" %s", json_string_value(json_object_get(fl, "nat")));
	if (json_is_boolean(json_object_get(fl, "hairpin")))
		ADD(" hairpin-%s", json_is_true(json_object_get(fl, "hairpin")) ? "on" : "off");
	for (int side = 0; side < 2; side++) {
		json_t *os = json_object_get(fl, side ? "os_b" : "os_a");
		ADD(" %c=%s%s", side ? 'B' : 'A', os ? json_string_value(os) : "native",
		    json_is_true(json_object_get(fl, side ? "proxy_b" : "proxy_a")) ? "+proxy"
										    : "");
	}
	json_object_foreach(fl, k, v)
	{
		static const char *const shown[] = {"topology", "nat",	   "hairpin", "os_a",
						    "os_b",	"proxy_a", "proxy_b", NULL};
		bool skip = false;
		for (int i = 0; shown[i]; i++)
			skip |= !strcmp(shown[i], k);
		if (skip)
			continue;
		if (json_is_string(v)) {
			ADD(" %s=%s", k, json_string_value(v));
		} else {
			char *d = json_dumps(v, JSON_ENCODE_ANY);
			ADD(" %s=%s", k, d);
			free(d);
		}
	}
#undef ADD
}

void run_print_table(json_t *res, FILE *f)
{
	size_t i;
	json_t *c, *v;
	const char *k;
	fprintf(f, "%-58s %9s %6s %-14s %s\n", "cell", "connected", "rate", "95% interval",
		"failures");
	json_array_foreach(json_object_get(res, "cells"), i, c)
	{
		char name[256];
		cell_name(json_object_get(c, "fields"), name, sizeof(name));
		json_t *w = json_object_get(c, "wilson95");
		char fails[256] = "";
		size_t m = 0;
		json_object_foreach(json_object_get(c, "failures"), k, v)
		{
			if (m < sizeof(fails))
				m += (size_t)snprintf(fails + m, sizeof(fails) - m, "%s%s x%lld",
						      m ? ", " : "", k,
						      (long long)json_integer_value(v));
		}
		char cnt[32], iv[40];
		snprintf(cnt, sizeof(cnt), "%lld/%lld",
			 (long long)json_integer_value(json_object_get(c, "successes")),
			 (long long)json_integer_value(json_object_get(c, "trials")));
		snprintf(iv, sizeof(iv), "[%.2f, %.2f]", json_number_value(json_array_get(w, 0)),
			 json_number_value(json_array_get(w, 1)));
		fprintf(f, "%-58s %9s %5.0f%% %-14s %s\n", name, cnt,
			100 * json_number_value(json_object_get(c, "rate")), iv, fails);
	}
}

int results_load(const char *path, json_t **out, struct perr *err)
{
	struct jdoc *doc;
	int rc = jdoc_load_file(path, &doc, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	json_t *root = jdoc_root(doc), *v;
	rc = -EINVAL;
	if (!json_is_object(root)) {
		jdoc_err(doc, err, root, "not a punchlab results file (a JSON object is expected)");
		goto out;
	}
	v = json_object_get(root, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), "punchlab-results")) {
		jdoc_err_member(
		    doc, err, root, v ? "format" : NULL,
		    "not a punchlab results file (\"format\": \"punchlab-results\" expected)");
		goto out;
	}
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		jdoc_err_member(doc, err, root, v ? "version" : NULL,
				"\"version\" must be a whole number");
		goto out;
	}
	if (json_integer_value(v) > 1) {
		jdoc_err(doc, err, v,
			 "results format version %lld is newer than this punchlab reads (1): "
			 "use a newer punchlab",
			 (long long)json_integer_value(v));
		goto out;
	}
	static const char *const need[] = {"metadata", "suite", "cells", "trials"};
	for (size_t i = 0; i < 4; i++) {
		v = json_object_get(root, need[i]);
		bool ok = i < 2 ? json_is_object(v) : json_is_array(v);
		if (!ok) {
			jdoc_err_member(doc, err, root, v ? need[i] : NULL,
					"\"%s\" missing or of the wrong type", need[i]);
			goto out;
		}
	}
	size_t i;
	json_array_foreach(json_object_get(root, "trials"), i,
			   v) if (!json_is_object(v) ||
				  !json_is_string(json_object_get(v, "cell")) ||
				  !json_is_integer(json_object_get(v, "trial")) ||
				  !json_is_boolean(json_object_get(v, "connected")))
	{
		jdoc_err(doc, err, v, "a trial needs \"cell\", \"trial\" and \"connected\"");
		goto out;
	}
	json_array_foreach(json_object_get(root, "cells"), i,
			   v) if (!json_is_object(v) || !json_is_string(json_object_get(v, "id")) ||
				  !json_is_object(json_object_get(v, "fields")))
	{
		jdoc_err(doc, err, v, "a cell needs \"id\" and \"fields\"");
		goto out;
	}
	*out = json_incref(root);
	rc = 0;
out:
	jdoc_free(doc);
	return rc;
}

int run_merge(const char *const *paths, int n, const char *outdir, const char *command_line,
	      char *out_path, size_t len, struct perr *err)
{
	json_t *first = NULL, *trials = json_array(), *fields = json_object(),
	       *seen = json_object();
	json_t *from = json_array();
	char start[32] = "9999", end[32] = "";
	bool interrupted = false;
	int rc = -1;

	for (int i = 0; i < n; i++) {
		json_t *r;
		if (results_load(paths[i], &r, err) < 0)
			goto out;
		const char *h =
		    json_string_value(json_object_get(json_object_get(r, "suite"), "sha256"));
		if (!first) {
			first = json_incref(r);
		} else if (!h || strcmp(h, json_string_value(json_object_get(
					       json_object_get(first, "suite"), "sha256"))
					       ?: "")) {
			perr_set(err, paths[i], 0, 0,
				 "a run of another suite (or another version of it) "
				 "than %s",
				 paths[0]);
			json_decref(r);
			goto out;
		}
		json_t *md = json_object_get(r, "metadata");
		const char *s = json_string_value(json_object_get(md, "start_utc")) ?: "";
		const char *e = json_string_value(json_object_get(md, "end_utc")) ?: "";
		if (strcmp(s, start) < 0)
			snprintf(start, sizeof(start), "%s", s);
		if (strcmp(e, end) > 0)
			snprintf(end, sizeof(end), "%s", e);
		interrupted |= json_is_true(json_object_get(md, "interrupted"));
		json_array_append_new(from, json_string(paths[i]));
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(r, "cells"), k, v)
		    json_object_set(fields, json_string_value(json_object_get(v, "id")),
				    json_object_get(v, "fields"));
		json_array_foreach(json_object_get(r, "trials"), k, v)
		{
			char key[96];
			snprintf(key, sizeof(key), "%s/%lld",
				 json_string_value(json_object_get(v, "cell")),
				 (long long)json_integer_value(json_object_get(v, "trial")));
			if (json_object_get(seen, key)) {
				perr_set(err, paths[i], 0, 0, "trial %s is in two of the files",
					 key);
				json_decref(r);
				goto out;
			}
			json_object_set_new(seen, key, json_true());
			json_array_append(trials, v);
		}
		json_decref(r);
	}
	/* summaries again, from all the trials, in the order of the first appearance */
	json_t *cells = json_array();
	const char *id;
	json_t *fl;
	json_object_foreach(fields, id, fl)
	{
		json_t *mine = json_array();
		size_t k;
		json_t *v;
		json_array_foreach(
		    trials, k, v) if (!strcmp(json_string_value(json_object_get(v, "cell")), id))
		    json_array_append(mine, v);
		struct cell c = {.fields = fl};
		snprintf(c.id, sizeof(c.id), "%s", id);
		if (json_array_size(mine))
			json_array_append_new(cells, cell_summary(&c, mine));
		json_decref(mine);
	}
	json_t *res = json_deep_copy(first);
	json_t *md = json_object_get(res, "metadata");
	json_object_set_new(md, "start_utc", json_string(start));
	json_object_set_new(md, "end_utc", json_string(end));
	json_object_set_new(md, "command",
			    json_string(command_line ? command_line : "punchlab merge"));
	json_object_set_new(md, "interrupted", json_boolean(interrupted));
	json_object_set(md, "merged_from", from);
	json_object_set_new(res, "cells", cells);
	json_object_set(res, "trials", trials);
	const char *file =
	    json_string_value(json_object_get(json_object_get(res, "suite"), "file")) ?: "merged";
	const char *slash = strrchr(file, '/');
	char base[128];
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : file);
	char *dot = strrchr(base, '.');
	if (dot)
		*dot = 0;
	snprintf(base + strlen(base), sizeof(base) - strlen(base), "-merged");
	rc = write_results(res, outdir, base, out_path, len, err);
	json_decref(res);
out:
	json_decref(first);
	json_decref(trials);
	json_decref(fields);
	json_decref(seen);
	json_decref(from);
	return rc;
}
