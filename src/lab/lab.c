// SPDX-License-Identifier: MIT
#include "lab.h"
#include "netns.h"
#include "nfq.h"
#include "nft.h"
#include "rtnl.h"
#include "delayq.h"
#include "util/outfile.h"
#include "util/proc.h"
#include "util/strbuf.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netlink/errno.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

_Static_assert(DELAYQ_LINKS_MAX >= 2 * TOPO_SEGS_MAX + 1,
	       "a node's delayed directions and a NAT's REQ-4 hold");

static char lab_exe[PATH_MAX];
static const volatile sig_atomic_t *lab_stop;

void lab_set_exe(const char *path)
{
	snprintf(lab_exe, sizeof(lab_exe), "%s", path);
}

void lab_set_stop(const volatile sig_atomic_t *stop)
{
	lab_stop = stop;
}

static bool stop_asked(void)
{
	return lab_stop && *lab_stop;
}

bool lab_name_ok(const char *name)
{
	return topo_name_ok(name, LAB_NAME_MAX);
}

int lab_ns_name(const char *lab, const char *node, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "pl-%s-%s", lab, node) < len ? 0 : -ENAMETOOLONG;
}

/* ---- state ---- */

static int state_dir(const char *lab, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s", lab_state_dir(), lab) < len ? 0 : -ENAMETOOLONG;
}

static int state_write(const char *lab, json_t *st)
{
	char path[PATH_MAX + 16];
	struct outfile of;
	struct perr err;

	snprintf(path, sizeof(path), "%s/%s/state.json", lab_state_dir(), lab);
	int rc = outfile_open(&of, path, &err);
	if (rc < 0)
		return rc;
	of.no_sync = 1; /* the namespaces it describes end with the machine's uptime */
	if (json_dumpf(st, of.f, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		outfile_abort(&of);
		return -EIO;
	}
	return outfile_commit(&of, &err);
}

json_t *lab_state(const char *name)
{
	char path[PATH_MAX];

	if (!lab_name_ok(name))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s/state.json", lab_state_dir(), name);
	return json_load_file(path, 0, NULL);
}

/* ---- building ---- */

struct builder {
	const struct topology *t;
	char lab[LAB_NAME_MAX + 1];
	json_t *st;
	int *nsfd;     /* per node */
	int fabric_fd; /* -1 when no segment needs a bridge */
	struct perr *err;
	bool any_delay;
};

static bool seg_bridged(const struct topo_segment *s)
{
	return s->bridge || s->nmembers > 2;
}

static int fail_nl(struct builder *b, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_nl(struct builder *b, int rc, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	perr_set(b->err, b->t->path, 0, 0, "lab %s: %s: %s", b->lab, what,
		 rc < 0 && rc > -NLE_MAX ? nl_geterror(-rc) : strerror(-rc));
	return -1;
}

static int fail_errno(struct builder *b, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_errno(struct builder *b, int rc, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	perr_set(b->err, b->t->path, 0, 0, "lab %s: %s: %s", b->lab, what, strerror(-rc));
	return -1;
}

static int build_links(struct builder *b)
{
	const struct topology *t = b->t;
	struct nl_sock *fab = NULL;
	int rc = 0;

	if (b->fabric_fd >= 0 && (rc = rtnl_open_in(b->fabric_fd, &fab)) < 0)
		return fail_nl(b, rc, "cannot open netlink in the fabric namespace");
	for (int s = 0; s < t->nsegs && rc == 0 && !stop_asked(); s++) {
		const struct topo_segment *sg = &t->segs[s];
		if (!seg_bridged(sg)) {
			struct nl_sock *sk;
			int a = sg->members[0].node, c = sg->members[1].node;
			if ((rc = rtnl_open_in(b->nsfd[a], &sk)) < 0)
				return fail_nl(b, rc, "cannot open netlink in node %s",
					       t->nodes[a].name);
			rc = rtnl_veth_add(sk, sg->name, b->nsfd[c], sg->name, 0);
			rtnl_close(sk);
			if (rc < 0)
				fail_nl(b, rc, "cannot create veth %s between %s and %s", sg->name,
					t->nodes[a].name, t->nodes[c].name);
			continue;
		}
		char br[16];
		int brindex;
		snprintf(br, sizeof(br), "br%d", s);
		if ((rc = rtnl_bridge_add(fab, br, &brindex)) < 0) {
			fail_nl(b, rc, "cannot create bridge %s for segment %s", br, sg->name);
			break;
		}
		for (int m = 0; m < sg->nmembers && rc == 0; m++) {
			char port[24];
			int node = sg->members[m].node;
			snprintf(port, sizeof(port), "p%d-%d", s, m);
			rc = rtnl_veth_add(fab, port, b->nsfd[node], sg->name, brindex);
			if (rc < 0)
				fail_nl(b, rc, "cannot attach node %s to segment %s",
					t->nodes[node].name, sg->name);
		}
	}
	rtnl_close(fab);
	return rc < 0 ? -1 : 0;
}

/* Impairment on NODE's interface on segment S: egress and ingress. */
static void link_impair(const struct topology *t, int s, int m, struct impair *eg,
			struct impair *in)
{
	const struct impair *med = &t->segs[s].medium, *ln = &t->segs[s].members[m].link;

	/* the segment's own impairment is applied once, on the way out of each
	 * member; the member's access link in both directions */
	const struct topo_member *mb = &t->segs[s].members[m];
	eg->delay_ms = med->delay_ms + (mb->up_ms >= 0 ? mb->up_ms : ln->delay_ms);
	eg->jitter_ms = med->jitter_ms + ln->jitter_ms;
	eg->jitter_normal = ln->jitter_ms > 0 ? ln->jitter_normal : med->jitter_normal;
	eg->loss = 1 - (1 - med->loss) * (1 - ln->loss);
	*in = *ln;
	if (mb->down_ms >= 0)
		in->delay_ms = mb->down_ms;
}

static void nat_site_fill(const struct topology *t, int node, struct nat_site *site,
			  const char **ifs, uint32_t *nets, int *plens)
{
	const struct topo_node *n = &t->nodes[node];

	site->outside_if = t->segs[n->outside].name;
	site->outside_addr = topo_addr_on(t, node, n->outside);
	site->ninside = 0;
	for (int s = 0; s < t->nsegs; s++) {
		if (s == n->outside || !topo_addr_on(t, node, s))
			continue;
		ifs[site->ninside] = t->segs[s].name;
		nets[site->ninside] = t->segs[s].net;
		plens[site->ninside] = t->segs[s].plen;
		site->ninside++;
	}
	site->inside_ifs = ifs;
	site->inside_nets = nets;
	site->inside_plens = plens;
}

/* Starts NODE's delay helper and records it; delayq_ready() waits for it. */
static int spawn_delayq(struct builder *b, int node, int nargs, char **argv_links, int *ready_fd)
{
	const struct topo_node *n = &b->t->nodes[node];
	int pfd[2];
	char log[PATH_MAX], readyarg[32];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fail_errno(b, -errno, "pipe");
	snprintf(log, sizeof(log), "%s/%s/delayq-%s.log", lab_state_dir(), b->lab, n->name);
	/* the pipe's end is the helper's descriptor 3 */
	snprintf(readyarg, sizeof(readyarg), "%d", 3);
	char **argv = calloc((size_t)nargs + 5, sizeof(*argv));
	int k = 0, devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	pid_t pid = 0;
	int rc = argv && devnull >= 0 ? 0 : -ENOMEM;
	if (rc == 0) {
		argv[k++] = lab_exe;
		argv[k++] = "delayq";
		argv[k++] = "--ready-fd";
		argv[k++] = readyarg;
		for (int i = 0; i < nargs; i++)
			argv[k++] = argv_links[i];
		argv[k] = NULL;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, devnull, 0);
		posix_spawn_file_actions_adddup2(&fa, lf >= 0 ? lf : devnull, 1);
		posix_spawn_file_actions_adddup2(&fa, lf >= 0 ? lf : devnull, 2);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 3);
		/* own session: the helper outlives `topo up` and ignores its
		 * terminal; no signal blocked, whatever the calling thread's mask */
		posix_spawnattr_init(&at);
		sigemptyset(&none);
		posix_spawnattr_setsigmask(&at, &none);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
		rc = netns_spawn(b->nsfd[node], lab_exe, false, argv, &fa, &at, &pid);
		posix_spawnattr_destroy(&at);
		posix_spawn_file_actions_destroy(&fa);
	}
	if (devnull >= 0)
		close(devnull);
	if (lf >= 0)
		close(lf);
	close(pfd[1]);
	free(argv);
	if (rc < 0) {
		close(pfd[0]);
		return fail_errno(b, rc, "node %s: cannot start the delay helper", n->name);
	}
	/* recorded at once: cleanup finds it by this (a start time survives exec) */
	json_t *h = json_pack("{s:i, s:I, s:s, s:s}", "pid", (int)pid, "start",
			      (json_int_t)proc_start(pid), "node", n->name, "what", "delay");
	json_array_append_new(json_object_get(b->st, "helpers"), h);
	state_write(b->lab, b->st);
	*ready_fd = pfd[0];
	return 0;
}

static int delayq_ready(struct builder *b, int node, int *ready_fd)
{
	struct pollfd p = {*ready_fd, POLLIN, 0};
	char c = 0, log[PATH_MAX];
	int r = poll(&p, 1, 5000);

	if (r == 1)
		r = (int)read(*ready_fd, &c, 1);
	close(*ready_fd);
	*ready_fd = -1;
	if (r == 1 && c == 1)
		return 0;
	snprintf(log, sizeof(log), "%s/%s/delayq-%s.log", lab_state_dir(), b->lab,
		 b->t->nodes[node].name);
	return fail_errno(b, -EIO, "the delay helper for node %s did not start (see %s)",
			  b->t->nodes[node].name, log);
}

/* What one node's netfilter needs: the nft script (NAT and loss tables, one
 * transaction) and the NFQUEUE rules and delay helper arguments. */
struct node_rules {
	struct strbuf nft;
	struct nfq_rule nfq[DELAYQ_LINKS_MAX];
	char *links[DELAYQ_LINKS_MAX];
	int nlinks;
	int ready_fd; /* the delay helper's "ready" pipe, until it spoke */
	bool failed;
};

static void node_rules_release(struct node_rules *r)
{
	if (r->ready_fd > 0)
		close(r->ready_fd);
	for (int i = 0; i < r->nlinks; i++)
		free(r->links[i]);
	r->nlinks = 0;
	strbuf_release(&r->nft);
}

static int node_rules_make(const struct topology *t, int node, struct node_rules *r)
{
	const struct topo_node *n = &t->nodes[node];
	struct strbuf loss = STRBUF_INIT;
	uint16_t queue = 1; /* queue numbers are per namespace */

	if (n->is_nat && !n->ruleset) {
		const char *ifs[TOPO_SEGS_MAX];
		uint32_t nets[TOPO_SEGS_MAX];
		int plens[TOPO_SEGS_MAX];
		struct nat_site site;
		nat_site_fill(t, node, &site, ifs, nets, plens);
		char *rs = nat_ruleset(&n->nat, &site);
		if (!rs)
			return -ENOMEM;
		strbuf_add(&r->nft, rs, strlen(rs));
		free(rs);
		/* RFC 5382 REQ-4: the delay helper holds an unsolicited SYN and
		 * gives it back marked; the NAT's input hook decides then */
		if (n->nat.unsolicited == NAT_UNSOL_RFC5382) {
			uint16_t q = queue++;
			struct nfq_rule *nr = &r->nfq[r->nlinks];
			*nr = (struct nfq_rule){.hook = NFQ_INPUT, .queue = q, .syn_unmarked = true,
						.mark = NAT_REQ4_MARK};
			snprintf(nr->ifname, sizeof(nr->ifname), "%s", site.outside_if);
			if (asprintf(&r->links[r->nlinks], "%u:%d:0:0x%x", q, NAT_REQ4_HOLD_MS,
				     NAT_REQ4_MARK) < 0)
				return -ENOMEM;
			r->nlinks++;
		}
	}
	for (int s = 0; s < t->nsegs; s++)
		for (int m = 0; m < t->segs[s].nmembers; m++) {
			if (t->segs[s].members[m].node != node)
				continue;
			struct impair eg, in;
			link_impair(t, s, m, &eg, &in);
			const char *ifn = t->segs[s].name;
			if (in.loss > 0)
				strbuf_addf(
				    &loss,
				    "\t\tiifname \"%s\" numgen random mod 1000000 < %u drop\n", ifn,
				    (unsigned)(in.loss * 1e6 + 0.5));
			if (eg.loss > 0)
				strbuf_addf(
				    &loss,
				    "\t\toifname \"%s\" numgen random mod 1000000 < %u drop\n", ifn,
				    (unsigned)(eg.loss * 1e6 + 0.5));
			for (int dir = 0; dir < 2; dir++) {
				struct impair *im = dir ? &in : &eg;
				if (im->delay_ms <= 0 && im->jitter_ms <= 0)
					continue;
				uint16_t q = queue++;
				struct nfq_rule *nr = &r->nfq[r->nlinks];
				*nr = (struct nfq_rule){
				    .hook = dir ? NFQ_PREROUTING : NFQ_POSTROUTING, .queue = q};
				snprintf(nr->ifname, sizeof(nr->ifname), "%s", ifn);
				/* a node has at most TOPO_SEGS_MAX interfaces, two
				 * directions each: the array holds them all */
				if (asprintf(&r->links[r->nlinks], "%u:%g:%g%s", q, im->delay_ms,
					     im->jitter_ms, im->jitter_normal ? ":0:n" : "") < 0)
					r->failed = true;
				else
					r->nlinks++;
			}
		}
	if (loss.len) {
		/* loss runs in chains of its own, before anything else sees the packet */
		strbuf_addf(&r->nft, "table ip punchlab_link\ndelete table ip punchlab_link\n"
				     "table ip punchlab_link {\n\tchain loss {\n");
		strbuf_add(&r->nft, loss.buf, loss.len);
		strbuf_addf(&r->nft,
			    "\t}\n\tchain in {\n\t\ttype filter hook prerouting priority "
			    "raw - 10; policy accept;\n\t\tjump loss\n\t}\n"
			    "\tchain out {\n\t\ttype filter hook postrouting priority 300; "
			    "policy accept;\n\t\tjump loss\n\t}\n}\n");
	}
	strbuf_release(&loss);
	return r->nft.failed || r->failed ? -ENOMEM : 0;
}

/* Phase one, before any link exists: the generated rulesets name interfaces
 * by name only, so they can go in first; their contexts are kept open
 * (see nft_apply_in). */
static int build_rules(struct builder *b, int node, struct node_rules *r, struct nft_ctx **ctx)
{
	const struct topo_node *n = &b->t->nodes[node];
	char err[2048];
	int rc = node_rules_make(b->t, node, r);

	if (rc < 0)
		return fail_errno(b, rc, "node %s: ruleset", n->name);
	if (r->nft.len && nft_apply_in(b->nsfd[node], r->nft.buf, err, sizeof(err), ctx) < 0) {
		perr_set(b->err, b->t->path, 0, 0, "lab %s: node %s: nft refused the ruleset:\n%s",
			 b->lab, n->name, err);
		return -1;
	}
	return 0;
}

static int build_addresses(struct builder *b, int node)
{
	const struct topology *t = b->t;
	const struct topo_node *n = &t->nodes[node];
	struct nl_sock *sk;
	int rc, ifindex;

	if ((rc = rtnl_open_in(b->nsfd[node], &sk)) < 0)
		return fail_nl(b, rc, "cannot open netlink in node %s", n->name);
	if ((rc = rtnl_link_up(sk, "lo")) < 0) {
		fail_nl(b, rc, "node %s: cannot bring lo up", n->name);
		goto out;
	}
	for (int s = 0; s < t->nsegs; s++) {
		uint32_t a = topo_addr_on(t, node, s);
		if (!a)
			continue;
		if ((rc = rtnl_link_up(sk, t->segs[s].name)) < 0 ||
		    (rc = rtnl_ifindex(sk, t->segs[s].name, &ifindex)) < 0 ||
		    (rc = rtnl_addr4_add(sk, ifindex, a, t->segs[s].plen)) < 0) {
			fail_nl(b, rc, "node %s: cannot add its address on %s", n->name,
				t->segs[s].name);
			goto out;
		}
	}
	if (n->gateway && (rc = rtnl_route4_add(sk, 0, 0, n->gateway)) < 0) {
		fail_nl(b, rc, "node %s: cannot add its default route", n->name);
		goto out;
	}
	for (int r = 0; r < n->nroutes; r++)
		if ((rc = rtnl_route4_add(sk, n->routes[r].dst, n->routes[r].plen,
					  n->routes[r].via)) < 0) {
			fail_nl(b, rc, "node %s: cannot add route %d", n->name, r + 1);
			goto out;
		}
out:
	rtnl_close(sk);
	return rc < 0 ? -1 : 0;
}

/*
 * A ruleset file of the node's own, read here once more (it may have changed
 * since the topology was checked) into a buffer that nft or iptables gets:
 * neither ever opens the file, so no device or FIFO can hold them.
 */
/* Whether TEXT reads like iptables-save output: a table line ("*nat") or a
 * rule ("-A POSTROUTING ..."), which nft only calls syntax errors. */
static bool ruleset_looks_iptables(const char *text)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		l += strspn(l, " \t");
		if (*l == '*' || !strncmp(l, "-A ", 3))
			return true;
	}
	return false;
}

static int build_own_ruleset(struct builder *b, int node)
{
	const struct topo_node *n = &b->t->nodes[node];
	char err[2048], *text;
	int rc = topo_ruleset_read(n->ruleset, &text, err, sizeof(err));

	if (rc < 0) {
		perr_set(b->err, n->ruleset, 0, 0, "lab %s: node %s: ruleset: %s", b->lab, n->name,
			 err);
		return -1;
	}
	if (n->ruleset_fmt == RULESET_NFT) {
		if ((rc = nft_apply_in(b->nsfd[node], text, err, sizeof(err), NULL)) < 0)
			perr_set(b->err, n->ruleset, 0, 0,
				 "node %s: nft refused the ruleset%s:\n%s", n->name,
				 ruleset_looks_iptables(text)
				     ? " (it reads like iptables-save output: give the node "
				       "\"ruleset_format\": \"iptables\")"
				     : "",
				 err);
	} else {
		char *argv[] = {"iptables-nft-restore", NULL};
		int st = netns_run(b->nsfd[node], argv, text, err, sizeof(err));
		if (st != 0) {
			perr_set(b->err, n->ruleset, 0, 0,
				 "node %s: iptables-nft-restore failed (status %d):\n%s", n->name,
				 st, err);
			rc = -1;
		}
	}
	free(text);
	return rc < 0 ? -1 : 0;
}

/* Phase two, once links exist: sysctls, a ruleset file of the node's own,
 * and the delay helper with its NFQUEUE rules. */
static int build_node(struct builder *b, int node, struct node_rules *r)
{
	const struct topology *t = b->t;
	const struct topo_node *n = &t->nodes[node];
	int rc;

	if (build_addresses(b, node) < 0)
		return -1;
	if (n->is_nat && (rc = netns_sysctl_write(b->nsfd[node], "net/ipv4/ip_forward", "1")) < 0)
		return fail_errno(b, rc, "node %s: cannot enable forwarding", n->name);
	if (n->ruleset && build_own_ruleset(b, node) < 0)
		return -1;
	for (int k = 0; k < NAT_TO_COUNT && n->is_nat && !n->ruleset; k++) {
		char key[128], val[16];
		if (n->nat.timeouts[k] < 0)
			continue;
		snprintf(key, sizeof(key), "net/netfilter/nf_conntrack_tcp_timeout_%s",
			 nat_timeout_names[k]);
		snprintf(val, sizeof(val), "%d", n->nat.timeouts[k]);
		if ((rc = netns_sysctl_write(b->nsfd[node], key, val)) < 0)
			return fail_errno(b, rc, "node %s: cannot set %s", n->name, key);
	}
	for (int k = 0; k < n->nsysctls; k++)
		if ((rc = netns_sysctl_write(b->nsfd[node], n->sysctls[k].key,
					     n->sysctls[k].value)) < 0)
			return fail_errno(b, rc, "node %s: cannot set sysctl %s", n->name,
					  n->sysctls[k].key);
	return 0;
}

/* Phase three, for nodes with delay: once the helper has bound its queues
 * (NFQUEUE without a listener drops), the rules that feed them. */
static int delayq_rules(struct builder *b, int node, struct node_rules *r)
{
	char err[512];
	if (delayq_ready(b, node, &r->ready_fd) < 0)
		return -1;
	if (nfq_rules_apply(b->nsfd[node], r->nfq, r->nlinks, err, sizeof(err)) == 0)
		return 0;
	perr_set(b->err, b->t->path, 0, 0, "lab %s: node %s: %s", b->lab, b->t->nodes[node].name,
		 err);
	return -1;
}

static json_t *state_new(const struct builder *b, enum lab_owner owner)
{
	const struct topology *t = b->t;
	char created[32], path[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!realpath(t->path, path))
		snprintf(path, sizeof(path), "%s", t->path);
	json_t *st = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:[], s:[], s:[], s:s}", "format",
			       "punchlab-lab", "version", 1, "lab", b->lab, "topology", path,
			       "created", created, "status", "building", "namespaces", "helpers",
			       "nodes", "delay_mechanism", "none");
	if (!st)
		return NULL;
	if (t->description)
		json_object_set_new(st, "description", json_string(t->description));
	json_object_set_new(st, "owner",
			    json_pack("{s:i, s:I}", "pid", owner == LAB_OWNED ? (int)getpid() : 0,
				      "start",
				      (json_int_t)(owner == LAB_OWNED ? proc_start(getpid()) : 0)));
	/* while building, the builder owns the lab whatever happens next */
	json_object_set_new(st, "builder",
			    json_pack("{s:i, s:I}", "pid", (int)getpid(), "start",
				      (json_int_t)proc_start(getpid())));
	json_t *nss = json_object_get(st, "namespaces"), *nodes = json_object_get(st, "nodes");
	char ns[256];
	for (int i = 0; i < t->nnodes; i++) {
		const struct topo_node *n = &t->nodes[i];
		lab_ns_name(b->lab, n->name, ns, sizeof(ns));
		json_array_append_new(nss, json_string(ns));
		json_t *jn = json_pack("{s:s, s:s, s:s, s:[]}", "name", n->name, "ns", ns, "role",
				       topo_role_str(n->role), "interfaces");
		if (n->is_nat)
			json_object_set_new(jn, "nat",
					    json_string(n->ruleset ? n->ruleset : n->nat.name));
		if (n->is_nat && !n->ruleset)
			json_object_set_new(
			    jn, "nat_profile",
			    json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "mapping",
				      nat_mapping_str(n->nat.mapping), "filtering",
				      nat_filtering_str(n->nat.filtering), "port_assignment",
				      nat_port_str(n->nat.port), "unsolicited_syn",
				      nat_unsolicited_str(n->nat.unsolicited), "hairpin",
				      n->nat.hairpin, "outside", t->segs[n->outside].name,
				      "icmp_time_exceeded", nat_icmp_te_str(n->nat.icmp_te)));
		if (n->is_nat && !n->ruleset && n->nat.port == NAT_PORT_SEQUENTIAL)
			json_object_set_new(json_object_get(jn, "nat_profile"), "delta",
					    json_integer(n->nat.delta ? n->nat.delta : 1));
		for (int s = 0; s < t->nsegs; s++)
			for (int m = 0; m < t->segs[s].nmembers; m++) {
				if (t->segs[s].members[m].node != i)
					continue;
				char a[INET_ADDRSTRLEN];
				struct impair eg, in;
				link_impair(t, s, m, &eg, &in);
				inet_ntop(AF_INET, &t->segs[s].members[m].addr, a, sizeof(a));
				json_t *ji = json_pack("{s:s, s:s, s:i}", "name", t->segs[s].name,
						       "address", a, "prefix", t->segs[s].plen);
				if (impair_any(&eg))
					json_object_set_new(
					    ji, "egress",
					    json_pack("{s:f, s:f, s:f}", "delay_ms", eg.delay_ms,
						      "jitter_ms", eg.jitter_ms, "loss", eg.loss));
				if (impair_any(&in))
					json_object_set_new(
					    ji, "ingress",
					    json_pack("{s:f, s:f, s:f}", "delay_ms", in.delay_ms,
						      "jitter_ms", in.jitter_ms, "loss", in.loss));
				json_array_append_new(json_object_get(jn, "interfaces"), ji);
			}
		json_array_append_new(nodes, jn);
	}
	bool need_fabric = false;
	for (int s = 0; s < t->nsegs; s++)
		need_fabric |= seg_bridged(&t->segs[s]);
	if (need_fabric) {
		lab_ns_name(b->lab, "fabric", ns, sizeof(ns));
		json_array_append_new(nss, json_string(ns));
	}
	return st;
}

static int pick_name(const struct topology *t, char *out)
{
	char base[LAB_NAME_MAX + 1], dir[PATH_MAX];
	const char *slash = strrchr(t->path, '/');
	const char *f = slash ? slash + 1 : t->path;
	size_t n = 0;

	for (; *f && *f != '.' && n < LAB_NAME_MAX - 3; f++) {
		char c = *f;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
			base[n++] = c;
	}
	while (n && base[n - 1] == '-')
		n--;
	if (!n)
		base[n++] = 'l';
	base[n] = 0;
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(out, LAB_NAME_MAX + 1, "%s", base);
		else
			snprintf(out, LAB_NAME_MAX + 1, "%s-%d", base, i);
		state_dir(out, dir, sizeof(dir));
		if (access(dir, F_OK) != 0)
			return 0;
	}
	return -EEXIST;
}

/* The lab's name in LAB (LAB_NAME_MAX + 1 bytes): NAME, or a free one. */
static int name_lab(const struct topology *t, const char *name, char *lab, struct perr *err)
{
	char ns[256];

	if (name) {
		if (!lab_name_ok(name)) {
			perr_set(err, name, 0, 0, "lab name: use 1 to %d of a-z, 0-9 and '-'",
				 LAB_NAME_MAX);
			return -1;
		}
		snprintf(lab, LAB_NAME_MAX + 1, "%s", name);
	} else if (pick_name(t, lab) < 0) {
		perr_set(err, t->path, 0, 0, "no free lab name; give one with --name");
		return -1;
	}
	for (int i = 0; i < t->nnodes; i++)
		if (lab_ns_name(lab, t->nodes[i].name, ns, sizeof(ns)) < 0) {
			perr_set(err, t->path, 0, 0, "lab name too long");
			return -1;
		}
	return 0;
}

/* The namespaces the state lists: the nodes' in order, then the fabric's. */
static int build_namespaces(struct builder *b)
{
	json_t *v;
	size_t i;
	const char *step;
	int rc;

	/* netns_create() would do it, but could not say which step failed */
	if ((rc = netns_prepare(&step)) < 0)
		return fail_errno(b, rc, "cannot prepare %s: %s", lab_netns_dir(), step);
	json_array_foreach(json_object_get(b->st, "namespaces"), i, v)
	{
		const char *nsname = json_string_value(v);
		if (stop_asked())
			return -1;
		if ((rc = netns_create(nsname)) < 0)
			return fail_errno(b, rc, "cannot create namespace %s", nsname);
		int fd = netns_open(nsname);
		if (fd < 0)
			return fail_errno(b, fd, "cannot open namespace %s", nsname);
		if (i < (size_t)b->t->nnodes) {
			b->nsfd[i] = fd;
			continue;
		}
		b->fabric_fd = fd;
		/* The fabric has no rules: with br_netfilter loaded (by anyone),
		 * its bridges would hand every frame to the IPv4 hooks all the
		 * same, routing lookups and all (5 % of a busy run's CPU). The
		 * files are there only when the module is. */
		static const char *const calls[] = {"net/bridge/bridge-nf-call-iptables",
						    "net/bridge/bridge-nf-call-ip6tables",
						    "net/bridge/bridge-nf-call-arptables"};
		for (size_t k = 0; k < sizeof(calls) / sizeof(calls[0]); k++)
			if ((rc = netns_sysctl_write(fd, calls[k], "0")) < 0 && rc != -ENOENT)
				return fail_errno(b, rc, "cannot write %s in %s", calls[k], nsname);
	}
	return 0;
}

static int lab_teardown(const char *lab, json_t *st);

/* A failed build's clean-up runs to its end: a second SIGINT must not cut
 * a netlink or wait call short and leave a namespace behind. */
static void teardown_unsignalled(const char *lab, json_t *st)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	lab_teardown(lab, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The lab's phases, in order, each checked for a stop (lab_set_stop): rules,
 * delay helpers, links, nodes, then the NFQUEUE rules that feed the helpers. */
static int build_phases(struct builder *b, struct node_rules *rules, struct nft_ctx **ctxs)
{
	for (int n = 0; n < b->t->nnodes; n++)
		if (stop_asked() || build_rules(b, n, &rules[n], &ctxs[n]) < 0)
			return -1;
	/* delay helpers start now and get ready while the links are built */
	for (int n = 0; n < b->t->nnodes; n++) {
		if (stop_asked() || (rules[n].nlinks && spawn_delayq(b, n, rules[n].nlinks,
								     rules[n].links,
								     &rules[n].ready_fd) < 0))
			return -1;
		b->any_delay |= rules[n].nlinks > 0;
	}
	if (build_links(b) < 0 || stop_asked())
		return -1;
	for (int n = 0; n < b->t->nnodes; n++)
		if (stop_asked() || build_node(b, n, &rules[n]) < 0)
			return -1;
	for (int n = 0; n < b->t->nnodes; n++)
		if (stop_asked() || (rules[n].nlinks && delayq_rules(b, n, &rules[n]) < 0))
			return -1;
	if (stop_asked())
		return -1;
	return 0;
}

int lab_up(const struct topology *t, const char *name, enum lab_owner owner, char *name_out,
	   struct perr *err)
{
	struct builder b = {.t = t, .fabric_fd = -1, .err = err};
	struct node_rules *rules = NULL;
	struct nft_ctx **ctxs = NULL;
	char dir[PATH_MAX];
	int rc = -1;

	if (!lab_exe[0])
		lab_set_exe("/proc/self/exe");
	if (mkdir(lab_state_dir(), 0755) < 0 && errno != EEXIST) {
		perr_set(err, lab_state_dir(), 0, 0, "cannot create: %s", strerror(errno));
		return -1;
	}
	if (name_lab(t, name, b.lab, err) < 0)
		return -1;
	state_dir(b.lab, dir, sizeof(dir));
	/* mkdir is the lock: two builders never share a name */
	if (mkdir(dir, 0755) < 0) {
		perr_set(err, dir, 0, 0, "cannot create lab %s: %s", b.lab,
			 errno == EEXIST ? "a lab of that name exists (punchlab topo ls)"
					 : strerror(errno));
		return -1;
	}
	b.nsfd = calloc((size_t)t->nnodes, sizeof(int));
	/* before any failure: the clean-up closes what is not -1 */
	for (int n = 0; b.nsfd && n < t->nnodes; n++)
		b.nsfd[n] = -1;
	if (!b.nsfd || !(b.st = state_new(&b, owner)) || state_write(b.lab, b.st) < 0) {
		perr_set(err, dir, 0, 0, "cannot write the lab's state");
		goto fail;
	}
	if (build_namespaces(&b) < 0)
		goto fail;
	rules = calloc((size_t)t->nnodes, sizeof(*rules));
	ctxs = calloc((size_t)t->nnodes, sizeof(*ctxs));
	if (!rules || !ctxs) {
		perr_set(err, t->path, 0, 0, "out of memory");
		goto fail;
	}
	if (build_phases(&b, rules, ctxs) < 0)
		goto fail;
	json_object_set_new(b.st, "delay_mechanism", json_string(b.any_delay ? "nfqueue" : "none"));
	json_object_set_new(b.st, "status", json_string("up"));
	json_object_del(b.st, "builder");
	if (state_write(b.lab, b.st) < 0) {
		perr_set(err, dir, 0, 0, "cannot write the lab's state");
		goto fail;
	}
	rc = 0;
	if (name_out)
		snprintf(name_out, LAB_NAME_MAX + 1, "%s", b.lab);
	goto out;
fail:
	rc = -1;
	if (stop_asked()) {
		/* whatever step saw it first (an EINTR, or a check between steps) */
		perr_set(err, t->path, 0, 0, "interrupted while building lab %s; nothing of it is left",
			 b.lab);
		rc = -EINTR;
	}
	teardown_unsignalled(b.lab, b.st);
out:
	for (int n = 0; n < t->nnodes; n++) {
		if (rules)
			node_rules_release(&rules[n]);
		if (ctxs)
			nft_release(ctxs[n]);
	}
	free(rules);
	free(ctxs);
	for (int n = 0; b.nsfd && n < t->nnodes; n++)
		if (b.nsfd[n] >= 0)
			close(b.nsfd[n]);
	if (b.fabric_fd >= 0)
		close(b.fabric_fd);
	free(b.nsfd);
	json_decref(b.st);
	return rc;
}

/* ---- taking down ---- */

static void rm_state_dir(const char *lab)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];

	state_dir(lab, dir, sizeof(dir));
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
				snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
				unlink(path);
			}
		closedir(d);
	}
	rmdir(dir);
}

static int lab_teardown(const char *lab, json_t *st)
{
	json_t *nss = json_object_get(st, "namespaces");
	/* as many as the state lists: a full lab has LAB_NS_MAX */
	const char **names = calloc(json_array_size(nss) + 1, sizeof(*names));
	int n = 0;
	size_t i;
	json_t *v;

	if (!names)
		return -ENOMEM;
	/* said before anything goes: a run whose trial fails from now on knows
	 * that its lab is being taken, not broken */
	json_object_set_new(st, "status", json_string("removing"));
	state_write(lab, st);
	/* helpers first by pid (they may have left their namespace), then every
	 * process still inside one of the lab's namespaces */
	json_t *helpers = json_object_get(st, "helpers");
	pid_t *killed = calloc(json_array_size(helpers) + 1, sizeof(*killed));
	size_t nk = 0;
	json_array_foreach(helpers, i, v)
	{
		pid_t pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
		unsigned long long start =
		    (unsigned long long)json_integer_value(json_object_get(v, "start"));
		if (!proc_alive(pid, start) || kill(pid, SIGKILL) < 0)
			continue;
		if (killed)
			killed[nk++] = pid;
		else /* no room to remember it: reaped at once, as it used to be */
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	/* all killed first, then each reaped when it is our child (a run's own
	 * lab; ECHILD otherwise): they die side by side */
	for (size_t k = 0; k < nk; k++)
		while (waitpid(killed[k], NULL, 0) < 0 && errno == EINTR)
			;
	free(killed);
	json_array_foreach(nss, i, v) if (json_is_string(v)) names[n++] = json_string_value(v);
	netns_kill_procs(names, n);
	int rc = 0;
	for (int k = 0; k < n; k++) {
		/* only what this lab made: pl-LAB-* */
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "pl-%s-", lab);
		if (strncmp(names[k], prefix, strlen(prefix)))
			continue;
		int r = netns_delete(names[k]);
		if (r < 0)
			rc = r;
	}
	free(names);
	if (rc == 0)
		rm_state_dir(lab);
	return rc;
}

static bool owner_alive(json_t *st, const char *key)
{
	json_t *o = json_object_get(st, key);

	return o && proc_alive((pid_t)json_integer_value(json_object_get(o, "pid")),
			       (unsigned long long)json_integer_value(json_object_get(o, "start")));
}

static bool lab_in_use(json_t *st)
{
	return owner_alive(st, "owner") || owner_alive(st, "builder");
}

/* The live process other than us that owns or builds the lab; 0 if none. */
static pid_t lab_other_user(json_t *st)
{
	static const char *const keys[] = {"owner", "builder"};

	for (size_t k = 0; k < 2; k++) {
		pid_t pid =
		    (pid_t)json_integer_value(json_object_get(json_object_get(st, keys[k]), "pid"));
		if (owner_alive(st, keys[k]) && pid != getpid())
			return pid;
	}
	return 0;
}

int lab_down(const char *name, bool force, struct perr *err)
{
	json_t *st = lab_state(name);
	char dir[PATH_MAX];

	if (!st) {
		if (lab_name_ok(name)) {
			state_dir(name, dir, sizeof(dir));
			if (access(dir, F_OK) == 0) {
				/* killed before its first state write: nothing was made */
				rm_state_dir(name);
				return 0;
			}
		}
		perr_set(err, name, 0, 0, "no such lab (punchlab topo ls lists them)");
		return -ENOENT;
	}
	pid_t user = force ? 0 : lab_other_user(st);
	if (user) {
		/* as cleanup does: taking a lab from under its run breaks the run */
		perr_set(err, name, 0, 0,
			 "lab %s is in use by process %d (punchlab topo ls); --force removes it "
			 "anyway",
			 name, (int)user);
		json_decref(st);
		return -EBUSY;
	}
	int rc = lab_teardown(name, st);
	json_decref(st);
	if (rc < 0)
		perr_set(err, name, 0, 0, "cannot remove every namespace: %s", strerror(-rc));
	return rc;
}

json_t *lab_list(void)
{
	json_t *arr = json_array();
	DIR *d = opendir(lab_state_dir());

	if (!d)
		return arr;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !lab_name_ok(de->d_name))
			continue;
		json_t *st = lab_state(de->d_name);
		if (!st)
			st = json_pack("{s:s, s:s}", "lab", de->d_name, "status", "unknown");
		json_object_set_new(st, "in_use", json_boolean(lab_in_use(st)));
		json_array_append_new(arr, st);
	}
	closedir(d);
	return arr;
}

int lab_cleanup(bool force, int nnames, const char *const *names, FILE *log)
{
	json_t *labs = lab_list();
	size_t i;
	json_t *st;
	int removed = 0;

	json_array_foreach(labs, i, st)
	{
		const char *name = json_string_value(json_object_get(st, "lab"));
		if (!name)
			continue;
		bool wanted = nnames == 0;
		for (int k = 0; k < nnames; k++)
			wanted |= !strcmp(names[k], name);
		if (!wanted)
			continue;
		if (!force && json_is_true(json_object_get(st, "in_use"))) {
			if (log)
				fprintf(
				    log,
				    "keeping %s: its owner is still running (--force removes it)\n",
				    name);
			continue;
		}
		struct perr err;
		/* in use was checked above, from the same state */
		if (lab_down(name, true, &err) == 0) {
			removed++;
			if (log)
				fprintf(log, "removed %s\n", name);
		} else if (log) {
			fprintf(log, "%s\n", err.msg);
		}
	}
	json_decref(labs);
	return removed;
}

int lab_node_nsfd(const char *lab, const char *node)
{
	char ns[256];

	if (!lab_name_ok(lab) || !topo_name_ok(node, TOPO_NAME_MAX) ||
	    lab_ns_name(lab, node, ns, sizeof(ns)) < 0)
		return -EINVAL;
	return netns_open(ns);
}
