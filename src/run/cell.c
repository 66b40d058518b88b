// SPDX-License-Identifier: MIT
#include "cell.h"
#include "capture/capture.h"
#include "capture/timeline.h"
#include "lab/lab.h"
#include "lab/natstate.h"
#include "lab/netns.h"
#include "lab/nft.h"
#include "punch/method.h"
#include "punch/peer.h"
#include "punch/policy.h"
#include "punch/proxy.h"
#include "punch/relay.h"
#include "punch/rendezvous.h"
#include "punch/server.h"
#include "peercmd.h"
#include "verdict.h"
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SERVER_PORT 7777
#define PROXY_PORT 1080

/* The server or a proxy: a thread inside its node's namespace. */
struct service {
	pthread_t t;
	bool started, proxy, policy, relay;
	int nsfd;
	struct srv_config srv;
	struct proxy_config px;
	struct sockaddr_in policy_on; /* a Flash policy server (runtime flash) */
	struct relay_config rl;	      /* the relay beside S (method relay) */
	volatile sig_atomic_t stop;
	volatile uint16_t port; /* 0: starting, 1: failed, else listening */
	int rc;
};

struct cpoint {
	struct capture *cap;
	char node[TOPO_NAME_MAX + TOPO_IFNAME_MAX + 2]; /* "nat-a", or "nat-a/lan-a" inside */
	uint32_t addr; /* the interface's address */
};

/*
 * A lab and what runs in it. The lab part (namespaces, NAT handles,
 * captures) outlives a cell when the next cell of its worker needs the same
 * lab (cell_lab_key); the cell part (J, quirk rules, threads, hosts) is the
 * cell's: cell_enter() and cell_leave().
 */
struct cell_lab {
	const struct cell_job *j;
	char *key; /* cell_lab_key() of the cell it was built for */
	struct topology *t;
	char lab[LAB_NAME_MAX + 1];
	bool lab_built;
	int node[3]; /* the server's, peer a's and peer b's node */
	int nsfd[3]; /* server, peer a, peer b */
	struct nft_ctx *host_nft[2]; /* the peers' hosts' quirk rules, kept for the lab */
	char *undo[2][2];	     /* what removes the rules applied for this cell */
	struct lab_nat **nat;
	int nnat;
	struct cpoint *cp;
	int ncp;
	struct service srv, px[2], policy, relay;
	struct os_host *host[2];
	uint32_t saddr;
	bool determinable; /* every NAT preserves ports: a punch port can be judged */
	int stunt_ttl;	   /* stunt1: the TTL of peer A's SYN */
	char delay_mech[32];
	json_t *nat_sysctls; /* see struct cell_report */
};

static void *service_main(void *arg)
{
	struct service *v = arg;
	if (setns(v->nsfd, CLONE_NEWNET) < 0) {
		v->rc = -errno;
		goto out;
	}
	/* In a lab kept from the last cell, the port was that cell's service's
	 * until it closed it; a child that another worker forked in the
	 * meantime holds a copy of the socket until it execs (milliseconds). */
	for (int tries = 0; tries < 200 && !v->stop; tries++) {
		/* each reports the port as soon as it listens */
		v->rc = v->policy  ? policy_run(&v->policy_on, &v->stop, &v->port)
			: v->proxy ? proxy_run(&v->px, &v->stop, (uint16_t *)&v->port)
			: v->relay ? relay_run(&v->rl, &v->stop, (uint16_t *)&v->port)
				   : srv_run(&v->srv, &v->stop, (uint16_t *)&v->port);
		if (v->rc != -EADDRINUSE || v->port)
			break;
		usleep(10000);
	}
out:
	if (!v->port)
		v->port = 1;
	return NULL;
}

/* SIGUSR2 wakes a service's thread out of its poll when it should stop:
 * otherwise it would notice only at its poll's timeout (S's is 50 ms, a lab's
 * take-down waited it out). The handler does nothing; the services' loops
 * take EINTR as a cue to look at their stop flag, as under the CLI's SIGINT. */
static void on_wake(int sig)
{
	(void)sig;
}

static void wake_install(void)
{
	struct sigaction sa = {.sa_handler = on_wake}; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
}

static int service_start(struct service *v, const char *what, const struct cell *c,
			 struct perr *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, wake_install);
	int e = pthread_create(&v->t, NULL, service_main, v);
	if (e) {
		perr_set(err, c->topology, 0, 0, "cell %s: cannot start the %s thread: %s", c->id,
			 what, strerror(e));
		return -e;
	}
	v->started = true;
	for (int i = 0; i < 2500 && !v->port; i++)
		usleep(2000);
	if (v->port > 1)
		return 0;
	perr_set(err, c->topology, 0, 0, "cell %s: the %s did not start: %s", c->id, what,
		 v->rc ? strerror(-v->rc) : "no port within 5 s");
	return -EIO;
}

static void service_stop(struct service *v)
{
	if (!v->started)
		return;
	v->stop = 1;
	/* again until it ends: a wake that lands between its check of the flag
	 * and its poll is lost */
	struct timespec until;
	do {
		pthread_kill(v->t, SIGUSR2);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 2000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
	} while (pthread_timedjoin_np(v->t, NULL, &until) == ETIMEDOUT);
	v->started = false;
}

/* Applies the cell's fields to the topology it was loaded from. */
static void patch_nats(struct topology *t, const struct cell *c)
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
}

/* The topology says which links are delayed; the cell says by how much,
 * and with how much jitter (never more than the delay). */
static void patch_delay(struct impair *l, const struct cell *c)
{
	if (l->delay_ms <= 0)
		return;
	if (c->delay_ms >= 0)
		l->delay_ms = c->delay_ms;
	if (c->jitter_ms >= 0)
		l->jitter_ms = c->jitter_ms;
	if (l->jitter_ms > l->delay_ms)
		l->jitter_ms = l->delay_ms;
	if (c->jitter_dist >= 0)
		l->jitter_normal = c->jitter_dist == 1;
}

/* A member's access link; an asymmetric one becomes symmetric when the
 * cell gives its delay, and its jitter stays within both directions. */
static void patch_member(struct topo_member *mb, const struct cell *c)
{
	if (mb->up_ms < 0 && mb->down_ms < 0) {
		patch_delay(&mb->link, c);
		return;
	}
	if (c->delay_ms >= 0) {
		mb->link.delay_ms = c->delay_ms;
		mb->up_ms = mb->down_ms = -1;
		patch_delay(&mb->link, c);
		return;
	}
	double lo = mb->up_ms >= 0 ? mb->up_ms : mb->link.delay_ms;
	double other = mb->down_ms >= 0 ? mb->down_ms : mb->link.delay_ms;
	lo = other < lo ? other : lo;
	if (c->jitter_ms >= 0)
		mb->link.jitter_ms = c->jitter_ms < lo ? c->jitter_ms : lo;
	if (c->jitter_dist >= 0)
		mb->link.jitter_normal = c->jitter_dist == 1;
}

static void patch_topology(struct topology *t, const struct cell *c)
{
	patch_nats(t, c);
	if (c->delay_ms < 0 && c->jitter_ms < 0 && c->jitter_dist < 0)
		return;
	for (int s = 0; s < t->nsegs; s++) {
		patch_delay(&t->segs[s].medium, c);
		for (int m = 0; m < t->segs[s].nmembers; m++)
			patch_member(&t->segs[s].members[m], c);
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

static uint64_t cell_seed(const struct suite *s, const struct cell *c, int side)
{
	uint64_t h = s->seed * 0x9e3779b97f4a7c15ull;
	for (const char *p = c->id; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return h ^ (uint64_t)(side + 1) * 0xbf58476d1ce4e5b9ull;
}

/* The seed of SIDE's host (2: the server) in the lab of J's slice: the
 * cell's for its first slice, a different one for each later slice, so that
 * the hosts of two labs of one cell do not draw the same ports. */
static uint64_t slice_seed(const struct cell_job *j, int side)
{
	return cell_seed(j->s, j->c, side) + (uint64_t)j->first_trial * 0xbf58476d1ce4e5b9ull;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- setup ---- */

/* The address S sees peer B at (NODE: server, peer-a, peer-b): the outside
 * address of the last NAT on B's way to S, else B's own. */
static uint32_t public_addr_b(const struct topology *t, const int node[3])
{
	int path[TOPO_NODES_MAX], n = topo_path(t, node[2], topo_primary_addr(t, node[0]), path,
						 TOPO_NODES_MAX);
	uint32_t a = topo_primary_addr(t, node[2]);
	for (int i = 0; i < n; i++)
		if (t->nodes[path[i]].is_nat)
			a = topo_primary_addr(t, path[i]);
	return a;
}

/*
 * stunt1: the TTL of peer A's SYN, the cell's or, when it gives none, the
 * least that passes A's own NAT. One that expires before A's NAT (Linux's
 * ip_forward() drops it before SNAT: no mapping) is refused with the hops.
 */
static int cell_stunt_ttl(const struct cell *c, const struct topology *t, const int node[3],
			  struct perr *err)
{
	int path[TOPO_NODES_MAX], nat = -1;
	int n = topo_path(t, node[1], public_addr_b(t, node), path, TOPO_NODES_MAX);
	for (int i = 0; nat < 0 && i < n; i++)
		if (t->nodes[path[i]].is_nat)
			nat = i;
	if (c->proxy_a) {
		perr_set(err, c->topology, 0, 0, "cell %s: stunt1 sets the TTL of peer A's own SYN: "
			 "peer A cannot use a proxy", c->id);
		return -EINVAL;
	}
	if (nat < 0) {
		perr_set(err, c->topology, 0, 0, "cell %s: stunt1: peer A's way to peer B passes no "
			 "NAT whose mapping a low-TTL SYN could open", c->id);
		return -EINVAL;
	}
	/* forwarder I passes a packet that reaches it with a TTL of at least 2 */
	if (c->stunt_ttl && c->stunt_ttl < nat + 2) {
		perr_set(err, c->topology, 0, 0, "cell %s: stunt_ttl %d reaches no NAT: the SYN "
			 "expires at hop %d (%s), and peer A's NAT %s, hop %d, maps only what it "
			 "forwards: the TTL must be at least %d", c->id, c->stunt_ttl,
			 c->stunt_ttl, t->nodes[path[c->stunt_ttl - 1]].name,
			 t->nodes[path[nat]].name, nat + 1, nat + 2);
		return -EINVAL;
	}
	return c->stunt_ttl ? c->stunt_ttl : nat + 2;
}

int cell_topology(const struct cell *c, struct topology **out, int node[3], struct perr *err)
{
	const enum topo_role roles[3] = {ROLE_SERVER, ROLE_PEER_A, ROLE_PEER_B};
	struct topology *t;
	*out = NULL;
	if (topo_load(c->topology, &t, err) < 0)
		return -EINVAL;
	patch_topology(t, c);
	for (int k = 0; k < 3; k++)
		if ((node[k] = topo_node_by_role(t, roles[k])) < 0) {
			perr_set(err, c->topology, 0, 0,
				 "a runnable topology needs nodes with the roles "
				 "server, peer-a and peer-b");
			topo_free(t);
			return -EINVAL;
		}
	if (c->method == METHOD_STUNT1 && cell_stunt_ttl(c, t, node, err) < 0) {
		topo_free(t);
		return -EINVAL;
	}
	*out = t;
	return 0;
}

/* A peer whose OS answers a SYN in SYN_SENT with a RST gets the rule that
 * does it in its namespace (OS_SYN_SENT_RST_NFT), once for the cell; a
 * peer whose method needs a rule of its host's (host_nft) gets that. */
static int apply_quirks(struct cell_lab *cl, struct perr *err)
{
	const char *os[2] = {cl->j->c->os_a, cl->j->c->os_b};
	const struct punch_method_ops *m = method_of(cl->j->c->method);
	/* a local proxy runs on that host too: its connections get the quirk */
	for (int k = 0; k < 2; k++) {
		const struct os_ops *ops = os_by_name(os[k]);
		const char *rules[2] = {ops->syn_sent_rst ? OS_SYN_SENT_RST_NFT : NULL,
					m->host_nft ? m->host_nft(k ? 'b' : 'a') : NULL};
		char why[1024] = "out of memory";
		for (int r = 0; r < 2; r++) {
			if (!rules[r])
				continue;
			/* one context per host for the lab's life: freeing one waits
			 * for a grace period (lab/nft.h), once per cell otherwise */
			if (!cl->host_nft[k] && !(cl->host_nft[k] = nft_open_in(cl->nsfd[1 + k])))
				snprintf(why, sizeof(why), "cannot open nftables in its namespace");
			else if (!(cl->undo[k][r] = nft_undo_script(rules[r])))
				snprintf(why, sizeof(why), "out of memory");
			else if (nft_run_err(cl->host_nft[k], rules[r], why, sizeof(why)) == 0)
				continue;
			perr_set(err, cl->j->c->topology, 0, 0, "cell %s: %s: %s", cl->j->c->id,
				 r ? m->name : os[k], why);
			return -EIO;
		}
	}
	return 0;
}

/* Takes the cell's quirk rules out of the peers' hosts again (UNDO), or
 * forgets them (the lab goes); false if nft refused (the lab then goes: the
 * next cell must not inherit them). */
static bool remove_quirks(struct cell_lab *cl, bool undo)
{
	bool ok = true;
	for (int k = 0; k < 2; k++)
		for (int r = 0; r < 2; r++) {
			if (undo && cl->undo[k][r] && cl->host_nft[k] &&
			    nft_run(cl->host_nft[k], cl->undo[k][r]) < 0)
				ok = false;
			free(cl->undo[k][r]);
			cl->undo[k][r] = NULL;
		}
	return ok;
}

static int load_topology(struct cell_lab *cl, struct perr *err)
{
	const struct cell *c = cl->j->c;
	int *node = cl->node;
	if (cell_topology(c, &cl->t, node, err) < 0)
		return -EINVAL;
	if (!(cl->key = cell_lab_key(c))) {
		perr_set(err, c->topology, 0, 0, "cell %s: out of memory", c->id);
		return -ENOMEM;
	}
	cl->saddr = topo_primary_addr(cl->t, node[0]);
	cl->determinable = all_nats_preserve(cl->t);
	snprintf(cl->lab, sizeof(cl->lab), "r%d-%d-%d", (int)getpid() % 100000, cl->j->worker,
		 cl->j->index % 10000);
	int up = lab_up(cl->t, cl->lab, LAB_OWNED, NULL, err);
	if (up < 0)
		return up == -EINTR ? -EINTR : -EIO;
	cl->lab_built = true;
	json_t *st = lab_state(cl->lab);
	snprintf(cl->delay_mech, sizeof(cl->delay_mech), "%s",
		 json_string_value(json_object_get(st, "delay_mechanism")) ?: "none");
	json_decref(st);
	for (int k = 0; k < 3; k++)
		if ((cl->nsfd[k] = lab_node_nsfd(cl->lab, cl->t->nodes[node[k]].name)) < 0) {
			perr_set(err, c->topology, 0, 0,
				 "cell %s: cannot open the namespace of %s: %s", c->id,
				 cl->t->nodes[node[k]].name, strerror(-cl->nsfd[k]));
			return cl->nsfd[k];
		}
	return 0;
}

/* The conntrack settings that decide what a NAT does with a crossing SYN,
 * as NODE's namespace has them. */
static void record_sysctls(struct cell_lab *cl, int node)
{
	static const char *const keys[] = {
	    "net.netfilter.nf_conntrack_tcp_loose",
	    "net.netfilter.nf_conntrack_tcp_be_liberal",
	    "net.netfilter.nf_conntrack_tcp_timeout_syn_sent",
	    "net.netfilter.nf_conntrack_tcp_timeout_established",
	    "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
	};
	int fd = lab_nat_nsfd(cl->nat[cl->nnat - 1]);
	json_t *one = json_object();
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char path[96], val[64];
		snprintf(path, sizeof(path), "%s", keys[k]);
		for (char *c = path; *c; c++)
			*c = *c == '.' ? '/' : *c;
		if (netns_sysctl_read(fd, path, val, sizeof(val)) < 0)
			snprintf(val, sizeof(val), "?");
		val[strcspn(val, "\n")] = 0;
		json_object_set_new(one, keys[k], json_string(val));
	}
	if (!cl->nat_sysctls)
		cl->nat_sysctls = json_object();
	json_object_set_new(cl->nat_sysctls, cl->t->nodes[node].name, one);
}

static int open_nats(struct cell_lab *cl, struct perr *err)
{
	cl->nat = calloc((size_t)cl->t->nnodes + 1, sizeof(*cl->nat));
	if (!cl->nat)
		return -ENOMEM;
	for (int i = 0; i < cl->t->nnodes; i++) {
		if (!cl->t->nodes[i].is_nat)
			continue;
		int e = 0;
		if (!(cl->nat[cl->nnat] = lab_nat_open(cl->lab, &cl->t->nodes[i], &e))) {
			perr_set(err, cl->j->c->topology, 0, 0, "cell %s: NAT %s: %s", cl->j->c->id,
				 cl->t->nodes[i].name, strerror(-e));
			return e;
		}
		cl->nnat++;
		record_sysctls(cl, i);
	}
	return 0;
}

/* Launches a capture on node I's interface on segment SEG (start_captures
 * waits for it); INSIDE names the point "node/segment" (a NAT's inside
 * interface), else "node". */
static int start_capture_at(struct cell_lab *cl, int i, int seg, bool inside, struct perr *err)
{
	const struct topo_node *n = &cl->t->nodes[i];
	const struct cell_job *j = cl->j;
	char pcap[PATH_MAX], cerr[256];
	struct cpoint *p = &cl->cp[cl->ncp];
	if (inside)
		snprintf(p->node, sizeof(p->node), "%s/%s", n->name, cl->t->segs[seg].name);
	else
		snprintf(p->node, sizeof(p->node), "%s", n->name);
	if (j->pcap_dir)
		snprintf(pcap, sizeof(pcap), "%s/%s-%s%s%s.pcap", j->pcap_dir, j->c->id, n->name,
			 inside ? "-" : "", inside ? cl->t->segs[seg].name : "");
	p->addr = topo_addr_on(cl->t, i, seg);
	int fd = lab_node_nsfd(cl->lab, n->name);
	int rc = fd < 0 ? fd
			: cap_launch(&p->cap, fd, cl->t->segs[seg].name, j->pcap_dir ? pcap : NULL,
				     cerr, sizeof(cerr));
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		perr_set(err, j->c->topology, 0, 0, "cell %s: capture on %s: %s", j->c->id, p->node,
			 fd < 0 ? strerror(-fd) : cerr);
		return rc;
	}
	cl->ncp++;
	return 0;
}

/* Every NAT's outside interface, and the inside ones of a hairpinning NAT
 * (where a hairpinned SYN crosses, never reaching the outside); with no
 * NAT, the peers' interfaces. */
static int start_captures(struct cell_lab *cl, struct perr *err)
{
	const struct topology *t = cl->t;
	cl->cp = calloc((size_t)t->nnodes * ((size_t)t->nsegs + 1) + 1, sizeof(*cl->cp));
	if (!cl->cp)
		return -ENOMEM;
	for (int i = 0; i < t->nnodes; i++) {
		const struct topo_node *n = &t->nodes[i];
		int rc = 0;
		if (n->is_nat && n->outside >= 0) {
			rc = start_capture_at(cl, i, n->outside, false, err);
			for (int s = 0; rc == 0 && n->nat.hairpin && !n->ruleset && s < t->nsegs; s++)
				if (s != n->outside && topo_addr_on(t, i, s))
					rc = start_capture_at(cl, i, s, true, err);
		} else if (cl->nnat == 0 && (n->role == ROLE_PEER_A || n->role == ROLE_PEER_B)) {
			int seg = -1;
			for (int k = 0; seg < 0 && k < t->nsegs; k++)
				if (topo_addr_on(t, i, k))
					seg = k;
			rc = start_capture_at(cl, i, seg, false, err);
		}
		if (rc < 0)
			return rc;
	}
	/* launched side by side, and now each one capturing */
	for (int k = 0; k < cl->ncp; k++) {
		char cerr[256];
		int rc = cap_ready(cl->cp[k].cap, cerr, sizeof(cerr));
		if (rc < 0) {
			perr_set(err, cl->j->c->topology, 0, 0, "cell %s: capture on %s: %s",
				 cl->j->c->id, cl->cp[k].node, cerr);
			return rc;
		}
	}
	return 0;
}

static int start_services(struct cell_lab *cl, struct perr *err)
{
	const struct suite *s = cl->j->s;
	const struct cell *c = cl->j->c;
	srv_config_defaults(&cl->srv.srv);
	cl->srv.srv.listen.sin_addr.s_addr = cl->saddr;
	cl->srv.srv.listen.sin_port = htons(SERVER_PORT);
	/* a method may need no prediction: S names the port it saw */
	const char *own = method_of(c->method)->server_heuristic;
	bool reuse = own != NULL;
	cl->srv.srv.heuristic = heuristic_by_name(own ? own : c->heuristic);
	if (!reuse && heurx_is_spec(c->heuristic)) {
		char why[512];
		if (heurx_start(c->heuristic, c->heuristic_timeout_ms, &cl->srv.srv.exec, why,
				sizeof(why)) < 0) {
			perr_set(err, c->topology, 0, 0, "cell %s: cannot start the heuristic: %s",
				 c->id, why);
			return -EINVAL;
		}
	}
	cl->srv.srv.guesses = c->guesses;
	/* a program starts only once rendezvous has exited: S's automatic go
	 * (twice the round trip) would be over before it connect()s */
	if (c->command[0] || c->command[1])
		cl->srv.srv.go_ms = c->command_go_ms;
	cl->srv.srv.max_rounds = s->rounds;
	cl->srv.srv.seed = slice_seed(cl->j, 2);
	cl->srv.nsfd = cl->nsfd[0];
	int rc = service_start(&cl->srv, "server", c, err);
	const bool proxy[2] = {c->proxy_a, c->proxy_b};
	for (int k = 0; rc == 0 && k < 2; k++) {
		if (!proxy[k])
			continue;
		struct service *v = &cl->px[k];
		v->proxy = true;
		proxy_config_defaults(&v->px);
		v->px.listen.sin_port = htons(PROXY_PORT);
		v->nsfd = cl->nsfd[1 + k];
		rc = service_start(v, k ? "proxy of peer b" : "proxy of peer a", c, err);
	}
	/* a relaying method's peers meet at the relay beside S, on S's port + 1 */
	if (rc == 0 && method_of(c->method)->connect_other) {
		struct service *v = &cl->relay;
		v->relay = true;
		v->rl.listen = (struct sockaddr_in){.sin_family = AF_INET,
						    .sin_port = htons(SERVER_PORT + 1),
						    .sin_addr.s_addr = cl->saddr};
		v->nsfd = cl->nsfd[0];
		rc = service_start(v, "relay", c, err);
	}
	/* Flash peers fetch S's socket policy first: S's host serves one */
	if (rc == 0 && c->flash) {
		struct service *v = &cl->policy;
		v->policy = true;
		v->policy_on = (struct sockaddr_in){.sin_family = AF_INET,
						    .sin_port = htons(POLICY_PORT),
						    .sin_addr.s_addr = cl->saddr};
		v->nsfd = cl->nsfd[0];
		rc = service_start(v, "Flash policy server", c, err);
	}
	return rc;
}

/*
 * RC, or -ESTALE when RC is a failure because someone took the lab from
 * under the cell (topo down --force, cleanup --force): its state is gone or
 * says "removing" (written before anything is removed). ERR then says so.
 */
static int cell_lab_taken(struct cell_lab *cl, int rc, struct perr *err)
{
	if (rc >= 0 || !cl->lab_built)
		return rc;
	json_t *st = lab_state(cl->lab);
	const char *status = json_string_value(json_object_get(st, "status"));
	bool taken = !st || (status && !strcmp(status, "removing"));
	json_decref(st);
	if (!taken)
		return rc;
	char was[sizeof(err->msg)];
	memcpy(was, err->msg, sizeof(was));
	int n =
	    snprintf(err->msg, sizeof(err->msg), "lab %s was removed during the run: ", cl->lab);
	if (n > 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, "%s", was);
	cl->lab_built = false; /* whoever took it takes it down */
	return -ESTALE;
}

static bool cell_leave(struct cell_lab *cl, struct cell_report *rep, bool undo);

/* Stops the captures; their drops go to REP (if given). */
static void stop_captures(struct cell_lab *cl, struct cell_report *rep)
{
	for (int k = 0; k < cl->ncp; k++) /* their sockets close side by side */
		cap_signal(cl->cp[k].cap);
	for (int k = 0; k < cl->ncp; k++) {
		struct cap_event *ev;
		size_t n;
		unsigned drops = 0;
		char why[PATH_MAX + 128];
		if (cap_stop(cl->cp[k].cap, &ev, &n, &drops, why, sizeof(why)) < 0)
			fprintf(stderr, "punchlab: %s\n", why);
		free(ev);
		if (rep)
			rep->capture_drops += drops;
	}
	free(cl->cp);
	cl->cp = NULL;
	cl->ncp = 0;
}

/* Everything, the lab included; takes NULL. */
static void lab_free(struct cell_lab *cl, struct cell_report *rep)
{
	if (!cl)
		return;
	cell_leave(cl, rep, false);
	stop_captures(cl, rep);
	for (int k = 0; k < 2; k++)
		nft_release(cl->host_nft[k]);
	for (int k = 0; k < 3; k++)
		if (cl->nsfd[k] >= 0)
			close(cl->nsfd[k]);
	for (int k = 0; k < cl->nnat; k++)
		lab_nat_close(cl->nat[k]);
	free(cl->nat);
	struct perr err;
	if (cl->lab_built && lab_down(cl->lab, false, &err) < 0)
		fprintf(stderr, "punchlab: lab %s: %s (punchlab cleanup removes it)\n", cl->lab,
			err.msg);
	json_decref(cl->nat_sysctls);
	topo_free(cl->t);
	free(cl->key);
	free(cl);
}

/* The lab part for J's cell: the lab, its NATs' handles and, unless each
 * cell writes packets of its own, the captures. */
static int lab_setup(const struct cell_job *j, struct cell_lab **out, struct perr *err)
{
	struct cell_lab *cl = calloc(1, sizeof(*cl));
	*out = NULL;
	if (!cl) {
		perr_set(err, j->c->topology, 0, 0, "out of memory");
		return -ENOMEM;
	}
	cl->j = j;
	cl->nsfd[0] = cl->nsfd[1] = cl->nsfd[2] = -1;
	int rc = load_topology(cl, err);
	if (rc == 0)
		rc = open_nats(cl, err);
	if (rc == 0 && !j->pcap_dir)
		rc = start_captures(cl, err);
	if (rc == -ENOMEM)
		perr_set(err, j->c->topology, 0, 0, "cell %s: out of memory", j->c->id);
	if (rc < 0) {
		rc = cell_lab_taken(cl, rc, err);
		lab_free(cl, NULL);
		return rc;
	}
	*out = cl;
	return 0;
}

/* The cell part: J's quirk rules on the peers' hosts, its captures (with a
 * pcap file of its own), its server and proxies, its emulated hosts. */
static int cell_enter(struct cell_lab *cl, const struct cell_job *j, struct perr *err)
{
	const struct cell *c = j->c;
	int rc = 0;
	cl->j = j;
	/* checked for the cell the lab was built for; this one may differ */
	if (c->method == METHOD_STUNT1 &&
	    (cl->stunt_ttl = cell_stunt_ttl(c, cl->t, cl->node, err)) < 0)
		return -EINVAL;
	rc = apply_quirks(cl, err);
	if (rc == 0 && !cl->cp)
		rc = start_captures(cl, err);
	if (rc == 0)
		rc = start_services(cl, err);
	const char *os[2] = {c->os_a, c->os_b};
	const double bg[2] = {c->background_a, c->background_b};
	for (int k = 0; rc == 0 && k < 2; k++) {
		const struct os_ops *ops = os_by_name(os[k]);
		struct os_load load = {.rate = bg[k],
				       .tcp_share = c->background_tcp,
				       .on_s = c->background_on_s,
				       .off_s = c->background_off_s};
		if (ops->next && !(cl->host[k] = os_host_new(ops, slice_seed(j, k), &load)))
			rc = -ENOMEM;
	}
	if (rc == -ENOMEM)
		perr_set(err, c->topology, 0, 0, "cell %s: out of memory", c->id);
	return rc;
}

/* Ends the cell part (again: it may have ended); with UNDO, its rules are
 * taken out for the next cell. False when they could not be. */
static bool cell_leave(struct cell_lab *cl, struct cell_report *rep, bool undo)
{
	service_stop(&cl->srv);
	service_stop(&cl->policy);
	service_stop(&cl->relay);
	heurx_free(cl->srv.srv.exec);
	for (int k = 0; k < 2; k++)
		service_stop(&cl->px[k]);
	/* the next cell configures its own */
	memset(&cl->srv, 0, sizeof(cl->srv));
	memset(&cl->policy, 0, sizeof(cl->policy));
	memset(&cl->relay, 0, sizeof(cl->relay));
	memset(cl->px, 0, sizeof(cl->px));
	for (int k = 0; k < 2; k++) {
		os_host_free(cl->host[k]);
		cl->host[k] = NULL;
	}
	if (cl->j && cl->j->pcap_dir) /* its packets go to files of its own */
		stop_captures(cl, rep);
	cl->stunt_ttl = 0;
	return remove_quirks(cl, undo);
}

/* What the cell's report gets of the lab. */
static void report_lab(const struct cell_lab *cl, struct cell_report *rep)
{
	if (!cl || !rep)
		return;
	snprintf(rep->delay_mechanism, sizeof(rep->delay_mechanism), "%s", cl->delay_mech);
	rep->nat_sysctls = json_incref(cl->nat_sysctls);
}

char *cell_lab_key(const struct cell *c)
{
	/* what patch_topology() takes of the cell: the lab is the same when these are */
	char *key;
	if (asprintf(&key, "%s\n%s\n%d\n%a\n%a\n%d", c->topology, c->nat, c->hairpin,
		     c->delay_ms, c->jitter_ms, c->jitter_dist) < 0)
		return NULL;
	return key;
}

/* ---- one trial ---- */

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

/* Peer B's skew in TRIAL: skew_ms, moved uniformly by up to skew_jitter_ms
 * either way (never below 0), the same draw for the same cell and trial. */
static double trial_skew(const struct cell_lab *cl, int trial)
{
	const struct cell *c = cl->j->c;
	if (c->skew_jitter_ms <= 0)
		return c->skew_ms;
	uint64_t h = (cell_seed(cl->j->s, c, 3) + (uint64_t)trial) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	double u = (double)(h >> 11) / 9007199254740992.0; /* [0, 1) */
	double skew = c->skew_ms + (2 * u - 1) * c->skew_jitter_ms;
	if (c->skew_normal) { /* Box-Muller: a second uniform from the same hash */
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
		double u2 = (double)((h ^ (h >> 31)) >> 11) / 9007199254740992.0;
		skew = c->skew_ms +
		       sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * u2) * c->skew_jitter_ms;
	}
	return skew > 0 ? skew : 0;
}

static void peer_setup(struct cell_lab *cl, struct peer_thread *pt, int k, int trial,
		       const struct sockaddr_in *sa, const uint8_t *tok)
{
	const struct suite *s = cl->j->s;
	const struct cell *c = cl->j->c;
	memset(pt, 0, sizeof(*pt));
	peer_config_defaults(&pt->cfg);
	pt->cfg.server = *sa;
	memcpy(pt->cfg.session, tok, PROTO_TOKEN_LEN);
	pt->cfg.role = k ? 'b' : 'a';
	pt->cfg.os = os_by_name(k ? c->os_b : c->os_a);
	pt->cfg.host = cl->host[k];
	pt->cfg.probes = s->probes;
	pt->cfg.rounds = s->rounds;
	pt->cfg.bytes = 64;
	pt->cfg.seed = cell_seed(s, c, k) + (uint64_t)trial;
	pt->cfg.skew_ms = k ? trial_skew(cl, trial) : 0;
	pt->cfg.method = (enum punch_method)c->method;
	pt->cfg.stunt_ttl = cl->stunt_ttl;
	pt->cfg.flash = c->flash;
	if (k ? c->proxy_b : c->proxy_a) {
		pt->cfg.use_proxy = true;
		pt->cfg.proxy.sin_family = AF_INET;
		pt->cfg.proxy.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		pt->cfg.proxy.sin_port = htons(PROXY_PORT);
	}
	pt->nsfd = cl->nsfd[1 + k];
}

/* Both peers at once; 0, or -errno when a thread could not start. */
static int run_peers(struct cell_lab *cl, int trial, const struct sockaddr_in *sa,
		     const uint8_t *tok, json_t **a, json_t **b, struct perr *err)
{
	struct peer_thread pt[2];
	int started = 0, e = 0;
	for (int k = 0; k < 2 && !e; k++) {
		peer_setup(cl, &pt[k], k, trial, sa, tok);
		if (!(e = pthread_create(&pt[k].t, NULL, peer_main, &pt[k])))
			started++;
	}
	for (int k = 0; k < started; k++)
		pthread_join(pt[k].t, NULL);
	*a = pt[0].result;
	*b = started == 2 ? pt[1].result : NULL;
	if (e) {
		perr_set(err, cl->j->c->topology, 0, 0, "cell %s: cannot start a peer thread: %s",
			 cl->j->c->id, strerror(e));
		json_decref(*a);
		json_decref(*b);
		*a = *b = NULL;
	}
	return -e;
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
	/* [] : S could not predict that round (heuristic-error), nothing to judge */
	if (!determinable || port < 0 || !json_array_size(last))
		return json_null();
	size_t i;
	json_t *p;
	json_array_foreach(last, i, p) if (json_integer_value(p) == port) return json_true();
	return json_false();
}

static json_t *capture_record(struct cell_lab *cl, double t0)
{
	struct cap_point_events *pts = calloc((size_t)cl->ncp + 1, sizeof(*pts));
	double t1 = wall_s();
	/* no wait for pcap: the trial's last SYN or RST went by milliseconds
	 * before the peers reported, and immediate mode hands packets over at once */
	for (int i = 0; pts && i < cl->ncp; i++) {
		struct cap_event *ev = NULL;
		pts[i].node = cl->cp[i].node;
		pts[i].addr = cl->cp[i].addr;
		cap_take(cl->cp[i].cap, t1, &ev, &pts[i].n);
		pts[i].ev = ev;
	}
	json_t *rec = cap_trial_record(pts, pts ? cl->ncp : 0, t0, cl->saddr);
	for (int i = 0; pts && i < cl->ncp; i++)
		free((void *)pts[i].ev);
	free(pts);
	return rec;
}

static json_t *trial_record(struct cell_lab *cl, int trial, json_t *a, json_t *b, json_t *capj)
{
	bool ok = json_is_true(json_object_get(a, "connected")) &&
		  json_is_true(json_object_get(b, "connected"));
	/* a relay's connection is not a punch: no port of it was predicted */
	bool judge = cl->determinable && !method_of(cl->j->c->method)->connect_other;
	json_t *why = json_object_get(a, "reason");
	if (!why || json_is_null(why))
		why = json_object_get(b, "reason");
	json_t *rec = json_pack("{s:s, s:i, s:b, s:O, s:O, s:O, s:{s:o, s:o}, s:o, s:o, s:o}",
				"cell", cl->j->c->id, "trial", trial, "connected", ok, "rounds",
				json_object_get(a, "rounds"), "time_to_connect_ms",
				ok ? json_object_get(a, "time_to_connect_ms") : json_null(),
				"reason", ok || !why ? json_null() : why, "prediction_hit", "a",
				hit_of(a, b, judge), "b", hit_of(b, a, judge),
				"a", a, "b", b, "capture", capj);
	/* connected by a punch, or through a relay (method relay): never the same */
	if (rec)
		json_object_set_new(rec, "path",
				    ok ? json_incref(json_object_get(a, "path")) : json_null());
	/* the peers' reason depends on what the NAT does with a SYN; the wire does not */
	if (rec)
		verdict_apply(rec);
	if (rec && cl->j->c->skew_jitter_ms > 0) /* the skew this trial drew */
		json_object_set_new(rec, "skew_ms", json_real(trial_skew(cl, trial)));
	return rec;
}

/* Every trial starts from clean NATs: no mapping of the last one. */
static int reset_nats(struct cell_lab *cl, struct perr *err)
{
	for (int k = 0; k < cl->nnat && !cl->j->s->keep_conntrack; k++) {
		int rc = lab_nat_reset(cl->nat[k]);
		if (rc < 0) {
			perr_set(err, cl->j->c->topology, 0, 0, "cell %s: cannot reset a NAT: %s",
				 cl->j->c->id, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int open_session(struct cell_lab *cl, const struct sockaddr_in *sa, uint8_t *tok,
			struct perr *err)
{
	char e[256];
	int saved, rc = netns_enter(cl->nsfd[1], &saved);
	if (rc < 0) {
		snprintf(e, sizeof(e), "cannot enter peer a's namespace: %s", strerror(-rc));
	} else {
		rc = peer_open_session(sa, tok, e, sizeof(e));
		netns_leave(saved);
	}
	if (rc < 0)
		perr_set(err, cl->j->c->topology, 0, 0, "cell %s: cannot open a session: %s",
			 cl->j->c->id, e);
	return rc < 0 ? -EIO : 0;
}

/* ---- third-party programs as peers ---- */

/* One trial's sides when commands play them: each a command, or
 * punchlab's peer in a thread; with command_rendezvous "runner", the
 * runner's rendezvous for each command first (RDV), in a thread. */
struct cmd_trial {
	struct cell_lab *cl;
	int trial;
	const struct sockaddr_in *sa;
	const uint8_t *tok;
	struct peercmd r[2];
	struct peer_thread pt[2]; /* a side without a command, or its rendezvous */
	bool thread[2], rdv_started[2];
	struct rdv_outcome rdv[2];
	int rdv_rc[2];
	char rdv_err[2][512];
};

/* The environment of side K's command (docs/suite.md#commands); with
 * RDV, the rendezvous' variables too. */
static char **command_env(struct cmd_trial *ct, int k, const struct rdv_outcome *rdv)
{
	const struct cell *c = ct->cl->j->c;
	char v[10 + RDV_NVARS][PATH_MAX + 32], a[INET_ADDRSTRLEN], hex[2 * PROTO_TOKEN_LEN + 1];
	char exe[PATH_MAX] = "punchlab";
	const char *set[10 + RDV_NVARS];
	int n = 10;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0)
		exe[len] = 0;
	inet_ntop(AF_INET, &ct->sa->sin_addr, a, sizeof(a));
	proto_hex(ct->tok, PROTO_TOKEN_LEN, hex);
	snprintf(v[0], sizeof(v[0]), "PUNCHLAB_SERVER=%s:%u", a, ntohs(ct->sa->sin_port));
	snprintf(v[1], sizeof(v[1]), "PUNCHLAB_SESSION=%s", hex);
	snprintf(v[2], sizeof(v[2]), "PUNCHLAB_ROLE=%c", k ? 'b' : 'a');
	snprintf(v[3], sizeof(v[3]), "PUNCHLAB_METHOD=%s",
		 punch_method_str((enum punch_method)c->method));
	snprintf(v[4], sizeof(v[4]), "PUNCHLAB_TRIAL=%d", ct->trial);
	snprintf(v[5], sizeof(v[5]), "PUNCHLAB_CELL=%s", c->id);
	snprintf(v[6], sizeof(v[6]), "PUNCHLAB_EXE=%s", exe);
	snprintf(v[7], sizeof(v[7]), "PUNCHLAB_OS=%s", k ? c->os_b : c->os_a);
	snprintf(v[8], sizeof(v[8]), "PUNCHLAB_PROBES=%d", ct->cl->j->s->probes);
	snprintf(v[9], sizeof(v[9]), "PUNCHLAB_TIMEOUT_MS=%d", c->command_timeout_ms);
	if (rdv) {
		struct rdv_var rv[RDV_NVARS];
		rdv_vars(rdv, rv);
		for (int i = 0; i < RDV_NVARS; i++)
			snprintf(v[n++], sizeof(v[0]), "PUNCHLAB_%s=%s", rv[i].name, rv[i].value);
	}
	for (int i = 0; i < n; i++)
		set[i] = v[i];
	return peercmd_env(environ, set, n);
}

/* Side K's record when a command played it: the peer fields a command
 * cannot fill stay empty, its own go beside them. */
static json_t *command_side(struct cmd_trial *ct, int k, bool seen, const char *server)
{
	const struct cell *c = ct->cl->j->c;
	const struct peercmd *r = &ct->r[k];
	bool ok = peercmd_ok(r) && seen, rdv_failed = ct->rdv_started[k] && ct->rdv_rc[k] < 0;
	const char *why = ok		    ? NULL
			  : rdv_failed	    ? "server-error"
			  : r->killed	    ? "command-timeout"
			  : !peercmd_ok(r) ? "command-failed"
					    : "no-crossing";
	json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:i, s:[], s:[], s:s?, s:n, s:n, s:O}", "role",
			      k ? "b" : "a", "os", k ? c->os_b : c->os_a, "proxy", 0,
			      "connected", ok, "rounds", 1, "ports_seen", "ports_predicted",
			      "reason", why, "local", "remote", "command", c->command[k]);
	if (!o)
		return NULL;
	peercmd_json(r, o);
	json_object_set_new(o, "time_to_connect_ms",
			    ok ? json_real((double)(long)(r->ms * 1000) / 1000) : json_null());
	if (ct->rdv_started[k] && !rdv_failed) {
		struct rdv_var rv[RDV_NVARS];
		json_t *env = json_object();
		rdv_vars(&ct->rdv[k], rv);
		for (int i = 2; i < RDV_NVARS; i++) /* role and method are the cell's */
			json_object_set_new(env, rv[i].name, json_string(rv[i].value));
		json_object_set_new(o, "rendezvous", env);
	}
	if (rdv_failed)
		json_object_set_new(o, "error", json_sprintf("rendezvous: %s", ct->rdv_err[k]));
	else if (!ok && !r->killed && peercmd_ok(r))
		json_object_set_new(o, "error",
				    json_sprintf("exited 0, but the capture shows no SYNs crossing "
						 "and no handshake between the peers (S is %s)",
						 server));
	return o;
}

struct rdv_arg {
	struct cmd_trial *ct;
	int k;
};

static void *rdv_side_main(void *arg)
{
	struct rdv_arg *ra = arg;
	struct cmd_trial *ct = ra->ct;
	int k = ra->k;
	if (setns(ct->pt[k].nsfd, CLONE_NEWNET) < 0) {
		snprintf(ct->rdv_err[k], sizeof(ct->rdv_err[k]),
			 "cannot enter the peer's namespace: %s", strerror(errno));
		ct->rdv_rc[k] = -1;
		return NULL;
	}
	ct->rdv_rc[k] = rdv_run(&ct->pt[k].cfg, &ct->rdv[k], ct->rdv_err[k],
				sizeof(ct->rdv_err[k]));
	return NULL;
}

/* The first phase: punchlab's peer for a side without a command, and the
 * runner's rendezvous for each command side when the cell says so (S
 * waits for both sides' probes: they run at once). 0 or -errno. */
static int start_sides(struct cmd_trial *ct, struct rdv_arg ra[2])
{
	const struct cell *c = ct->cl->j->c;
	int e = 0;
	for (int k = 0; k < 2 && !e; k++) {
		peer_setup(ct->cl, &ct->pt[k], k, ct->trial, ct->sa, ct->tok);
		ra[k] = (struct rdv_arg){ct, k};
		if (!c->command[k]) {
			/* a command that never reaches S must not hold it 30 s */
			ct->pt[k].cfg.wait_timeout_ms = c->command_timeout_ms;
			if (!(e = pthread_create(&ct->pt[k].t, NULL, peer_main, &ct->pt[k])))
				ct->thread[k] = true;
		} else if (c->command_rendezvous) {
			ct->pt[k].cfg.rounds = 1;
			if (!(e = pthread_create(&ct->pt[k].t, NULL, rdv_side_main, &ra[k])))
				ct->rdv_started[k] = true;
		}
	}
	for (int k = 0; k < 2; k++)
		if (ct->rdv_started[k])
			pthread_join(ct->pt[k].t, NULL);
	return -e;
}

/* Both sides, commands where the cell gives them, punchlab's peer where not;
 * the capture then decides whether a command that exited 0 connected. */
static int run_commands(struct cmd_trial *ct, double t0, json_t **a, json_t **b, json_t **capj,
			struct perr *err)
{
	const struct cell *c = ct->cl->j->c;
	struct rdv_arg ra[2];
	double deadline = -1;
	json_t *side[2] = {NULL, NULL};
	int rc = start_sides(ct, ra);

	for (int k = 0; k < 2 && rc == 0; k++) {
		if (!c->command[k] || (ct->rdv_started[k] && ct->rdv_rc[k] < 0))
			continue;
		char **env = command_env(ct, k, ct->rdv_started[k] ? &ct->rdv[k] : NULL);
		if (!env)
			rc = -ENOMEM;
		else if (peercmd_start(&ct->r[k], ct->cl->nsfd[1 + k], c->command_exe[k],
				       c->command[k], env) < 0)
			rc = -EIO;
		peercmd_env_free(env);
		if (deadline < 0)
			deadline = ct->r[k].t0 + c->command_timeout_ms;
	}
	/* a command that could not start: the other one is not waited for */
	peercmd_wait(ct->r, 2, rc < 0 || deadline < 0 ? 0 : deadline);
	for (int k = 0; k < 2; k++)
		if (ct->thread[k]) {
			pthread_join(ct->pt[k].t, NULL);
			side[k] = ct->pt[k].result;
		}
	if (rc < 0) {
		int bad = ct->r[0].error[0] ? 0 : 1;
		perr_set(err, c->topology, 0, 0, "cell %s: cannot start peer %c's command %s: %s",
			 c->id, 'a' + bad, c->command_exe[bad] ? c->command_exe[bad] : "",
			 ct->r[bad].error[0] ? ct->r[bad].error : strerror(-rc));
		json_decref(side[0]);
		json_decref(side[1]);
		return rc;
	}
	*capj = capture_record(ct->cl, t0);
	char saddr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &ct->sa->sin_addr, saddr, sizeof(saddr));
	bool seen = peercmd_capture_connected(*capj, saddr);
	for (int k = 0; k < 2; k++)
		if (c->command[k])
			side[k] = command_side(ct, k, seen, saddr);
	*a = side[0];
	*b = side[1];
	return 0;
}

/* A trial whose peers are (partly) commands: connected when both sides are,
 * the first side's failure its reason. No verdict from the prediction: a
 * command's ports are its own. */
static json_t *command_record(struct cell_lab *cl, int trial, json_t *a, json_t *b, json_t *capj)
{
	bool ok = json_is_true(json_object_get(a, "connected")) &&
		  json_is_true(json_object_get(b, "connected"));
	json_t *why = json_object_get(a, "reason");
	if (!why || json_is_null(why))
		why = json_object_get(b, "reason");
	double ta = json_number_value(json_object_get(a, "time_to_connect_ms"));
	double tb = json_number_value(json_object_get(b, "time_to_connect_ms"));
	return json_pack("{s:s, s:i, s:b, s:i, s:o, s:O, s:{s:n, s:n}, s:o, s:o, s:o}", "cell",
			 cl->j->c->id, "trial", trial, "connected", ok, "rounds", 1,
			 "time_to_connect_ms", ok ? json_real(ta > tb ? ta : tb) : json_null(),
			 "reason", ok || !why ? json_null() : why, "prediction_hit", "a", "b", "a",
			 a, "b", b, "capture", capj);
}

/* The runner's share of a trial, in ms (wall clock), from T[0] to T[4]:
 * the NATs' reset, the session, the peers (or commands), and the capture
 * taken and the record made (bench/trial-phases). */
static json_t *phases_record(const double t[5])
{
	static const char *const name[4] = {"reset", "session", "peers", "record"};
	json_t *o = json_object();
	for (int i = 0; o && i < 4; i++)
		json_object_set_new(o, name[i], json_real(round((t[i + 1] - t[i]) * 1e6) / 1e3));
	return o;
}

int cell_trial(struct cell_lab *cl, int trial, json_t **out, struct perr *err)
{
	double t0 = wall_s(), t[5] = {t0};
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(SERVER_PORT), .sin_addr.s_addr = cl->saddr};
	uint8_t tok[PROTO_TOKEN_LEN];
	json_t *a = NULL, *b = NULL;
	*out = NULL;
	int rc = reset_nats(cl, err);
	t[1] = wall_s();
	if (rc == 0)
		rc = open_session(cl, &sa, tok, err);
	t[2] = wall_s();
	bool cmds = cl->j->c->command[0] || cl->j->c->command[1];
	json_t *capj = NULL;
	struct cmd_trial *ct = cmds ? calloc(1, sizeof(*ct)) : NULL;
	if (rc == 0 && cmds && !ct) {
		perr_set(err, cl->j->c->topology, 0, 0, "cell %s: out of memory", cl->j->c->id);
		rc = -ENOMEM;
	}
	if (rc == 0 && ct) {
		*ct = (struct cmd_trial){.cl = cl, .trial = trial, .sa = &sa, .tok = tok};
		rc = run_commands(ct, t0, &a, &b, &capj, err);
	}
	free(ct);
	if (rc == 0 && !cmds)
		rc = run_peers(cl, trial, &sa, tok, &a, &b, err);
	t[3] = wall_s();
	if (rc < 0)
		return rc;
	*out = cmds ? command_record(cl, trial, a, b, capj)
		    : trial_record(cl, trial, a, b, capture_record(cl, t0));
	t[4] = wall_s();
	if (*out)
		json_object_set_new(*out, "phases_ms", phases_record(t));
	if (!*out) {
		perr_set(err, cl->j->c->topology, 0, 0, "cell %s: out of memory", cl->j->c->id);
		return -ENOMEM;
	}
	return 0;
}

/* Lab CL (taken from the worker) for J: as it is when J's cell needs the
 * same lab, with its NATs reset (a kept conntrack table is the cell's own);
 * else a new one. */
static int lab_for(const struct cell_job *j, struct cell_lab *cl, struct cell_lab **out,
		   struct cell_report *rep, struct perr *err)
{
	char *key = cl ? cell_lab_key(j->c) : NULL;
	bool same = key && !strcmp(key, cl->key);
	free(key);
	if (!same) {
		lab_free(cl, rep);
		int rc = lab_setup(j, out, err);
		if (rc == 0 && rep)
			rep->labs_built++;
		return rc;
	}
	*out = cl;
	cl->j = j;
	int rc = 0;
	for (int k = 0; k < cl->nnat && rc == 0; k++)
		if ((rc = lab_nat_reset(cl->nat[k])) < 0)
			perr_set(err, j->c->topology, 0, 0, "cell %s: cannot reset a NAT: %s",
				 j->c->id, strerror(-rc));
	if (rc < 0) {
		rc = cell_lab_taken(cl, rc, err);
		lab_free(cl, rep);
		*out = NULL;
	}
	return rc;
}

int cell_run(const struct cell_job *j, struct cell_lab **keep, struct cell_report *rep,
	     struct perr *err)
{
	struct cell_lab *cl = NULL;
	int rc = lab_for(j, keep ? *keep : NULL, &cl, rep, err);
	if (keep)
		*keep = NULL;
	if (rc == -EINTR && j->stop && *j->stop)
		return 0; /* stopped while its lab was built: nothing was made, the run says why */
	if (rc == 0)
		rc = cell_enter(cl, j, err);
	for (int trial = j->first_trial; rc == 0 && trial < j->trials; trial++) {
		if (j->stop && *j->stop)
			break;
		json_t *tr;
		rc = cell_trial(cl, trial, &tr, err);
		if (rc == 0)
			rc = j->on_trial(j->ctx, tr);
		json_decref(tr);
	}
	if (!cl)
		return rc;
	rc = cell_lab_taken(cl, rc, err);
	/* a lab taken from under the cell interrupts the run; it is no error of it */
	if (rc == -ESTALE && rep)
		rep->lab_gone = true;
	report_lab(cl, rep);
	/* kept for the worker's next cell only when all is well with it */
	bool again = rc == 0 && keep && !(j->stop && *j->stop);
	if (cell_leave(cl, rep, again) && again) {
		cl->j = NULL;
		*keep = cl;
	} else {
		lab_free(cl, rep);
	}
	return rc;
}

void cell_lab_free(struct cell_lab *cl, struct cell_report *rep)
{
	lab_free(cl, rep);
}
