// SPDX-License-Identifier: MIT
#include "topology.h"
#include "util/jdoc.h"
#include "util/registry.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const role_names[] = {"none", "server", "peer-a", "peer-b"};

const char *topo_role_str(enum topo_role r)
{
	return role_names[r];
}

bool topo_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static uint32_t plen_mask(int plen)
{
	return plen == 0 ? 0 : htonl(0xffffffffu << (32 - plen));
}

static bool in_subnet(uint32_t addr, uint32_t net, int plen)
{
	return (addr & plen_mask(plen)) == net;
}

/* parsing context */
struct tp {
	struct jdoc *doc;
	struct perr *err;
	struct topology *t;
};

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		jdoc_err(tp->doc, tp->err, __VA_ARGS__);                                           \
		return -EINVAL;                                                                    \
	} while (0)
#define FAILM(obj, key, ...)                                                                       \
	do {                                                                                       \
		jdoc_err_member(tp->doc, tp->err, obj, key, __VA_ARGS__);                          \
		return -EINVAL;                                                                    \
	} while (0)

static int get_string(struct tp *tp, json_t *obj, const char *key, const char *what, bool required,
		      const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			FAILM(obj, NULL, "%s: missing field \"%s\"", what, key);
		return 0;
	}
	if (!json_is_string(v))
		FAILM(obj, key, "%s: \"%s\" must be a string", what, key);
	*out = json_string_value(v);
	return 0;
}

static int get_number(struct tp *tp, json_t *obj, const char *key, const char *what, double lo,
		      double hi, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_number(v))
		FAILM(obj, key, "%s: \"%s\" must be a number", what, key);
	double d = json_number_value(v);
	if (!(d >= lo && d <= hi))
		FAILM(obj, key, "%s: \"%s\" must be between %g and %g, not %g", what, key, lo, hi,
		      d);
	*out = d;
	return 0;
}

static int parse_addr(struct tp *tp, json_t *obj, const char *key, const char *what, uint32_t *out)
{
	const char *s;

	if (get_string(tp, obj, key, what, true, &s) < 0)
		return -EINVAL;
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		FAILM(obj, key, "%s: \"%s\" is not an IPv4 address", what, s);
	*out = a.s_addr;
	return 0;
}

static int parse_prefix(struct tp *tp, json_t *obj, const char *key, const char *what,
			uint32_t *net, int *plen)
{
	const char *s;
	char buf[64];

	if (get_string(tp, obj, key, what, true, &s) < 0)
		return -EINVAL;
	const char *slash = strchr(s, '/');
	char *end;
	long l = slash ? strtol(slash + 1, &end, 10) : -1;
	if (!slash || (size_t)(slash - s) >= sizeof(buf) || !slash[1] || *end || l < 0 || l > 32)
		FAILM(obj, key, "%s: \"%s\" is not an IPv4 prefix like 198.18.0.0/24", what, s);
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = 0;
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		FAILM(obj, key, "%s: \"%s\" is not an IPv4 prefix like 198.18.0.0/24", what, s);
	if ((a.s_addr & plen_mask((int)l)) != a.s_addr)
		FAILM(obj, key, "%s: \"%s\" has host bits set", what, s);
	*net = a.s_addr;
	*plen = (int)l;
	return 0;
}

static int parse_impair(struct tp *tp, json_t *obj, const char *what, struct impair *imp)
{
	if (get_number(tp, obj, "delay_ms", what, 0, 10000, &imp->delay_ms) < 0 ||
	    get_number(tp, obj, "jitter_ms", what, 0, 10000, &imp->jitter_ms) < 0 ||
	    /* a link that drops everything carries no punch, and the nft rule
	     * takes at most 999999 of 1000000: 0.999 on a segment and on a
	     * member's link composes to 0.999999 */
	    get_number(tp, obj, "loss", what, 0, 0.999, &imp->loss) < 0)
		return -EINVAL;
	const char *dist;
	if (get_string(tp, obj, "jitter_dist", what, false, &dist) < 0)
		return -EINVAL;
	if (dist && strcmp(dist, "uniform") && strcmp(dist, "normal"))
		FAILM(obj, "jitter_dist", "%s: unknown jitter_dist \"%s\" (known: uniform, normal)",
		      what, dist);
	imp->jitter_normal = dist && !strcmp(dist, "normal");
	/* a member with delay_up_ms / delay_down_ms is checked per direction */
	if (imp->jitter_ms > imp->delay_ms && !json_object_get(obj, "delay_up_ms") &&
	    !json_object_get(obj, "delay_down_ms"))
		FAILM(obj, "jitter_ms", "%s: jitter_ms (%g) larger than delay_ms (%g)", what,
		      imp->jitter_ms, imp->delay_ms);
	return 0;
}

/* A member's delay_up_ms and delay_down_ms (each < 0 when not given). */
static int parse_updown(struct tp *tp, json_t *jm, const char *what, struct topo_member *m)
{
	static const char *const keys[2] = {"delay_up_ms", "delay_down_ms"};
	double *dst[2] = {&m->up_ms, &m->down_ms};

	for (int k = 0; k < 2; k++) {
		*dst[k] = -1;
		if (!json_object_get(jm, keys[k]))
			continue;
		if (json_object_get(jm, "delay_ms"))
			FAILM(jm, keys[k], "%s: give \"delay_ms\" (both ways) or \"%s\", not both",
			      what, keys[k]);
		if (get_number(tp, jm, keys[k], what, 0, 10000, dst[k]) < 0)
			return -EINVAL;
		if (m->link.jitter_ms > *dst[k])
			FAILM(jm, "jitter_ms", "%s: jitter_ms (%g) larger than %s (%g)", what,
			      m->link.jitter_ms, keys[k], *dst[k]);
	}
	return 0;
}

static const char *file_type_str(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "something else";
}

/* Reads FD (a regular file) into *BUF: at most TOPO_RULESET_MAX bytes, also
 * when the file grows while we read it or says size 0 (/proc). */
static int ruleset_read_fd(int fd, char **buf, char *why, size_t whylen)
{
	size_t got = 0;
	char *b = malloc(TOPO_RULESET_MAX + 2);

	if (!b) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, b + got, TOPO_RULESET_MAX + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;
			snprintf(why, whylen, "cannot read: %s", strerror(-rc));
			free(b);
			return rc;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > TOPO_RULESET_MAX) {
			snprintf(why, whylen, "more than %d bytes", TOPO_RULESET_MAX);
			free(b);
			return -EFBIG;
		}
	}
	if (memchr(b, 0, got)) {
		snprintf(why, whylen, "holds a NUL byte: not a text ruleset");
		free(b);
		return -EINVAL;
	}
	b[got] = 0;
	*buf = b;
	return 0;
}

int topo_ruleset_read(const char *path, char **buf, char *why, size_t whylen)
{
	struct stat st;
	int rc = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (buf)
		*buf = NULL;
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot open: %s", strerror(-rc));
		return rc;
	}
	/* the checks are on what was opened, not on the name */
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot stat: %s", strerror(-rc));
	} else if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		snprintf(why, whylen, "%s, not a regular file", file_type_str(st.st_mode));
	} else if (st.st_size > TOPO_RULESET_MAX) {
		rc = -EFBIG;
		snprintf(why, whylen, "%lld bytes, more than %d", (long long)st.st_size,
			 TOPO_RULESET_MAX);
	} else if (buf) {
		rc = ruleset_read_fd(fd, buf, why, whylen);
	}
	close(fd);
	return rc;
}

/* A NAT whose whole behaviour is a ruleset file: no profile field applies. */
static int parse_nat_ruleset(struct tp *tp, json_t *nat, struct topo_node *n, const char *what,
			     const char *topo_dir, const char *s)
{
	const char *fmt;
	char path[PATH_MAX], why[128];

	if (json_object_get(nat, "profile"))
		FAILM(nat, "ruleset", "%s: give either \"profile\" or \"ruleset\", not both", what);
	const char *key;
	json_t *v;
	json_object_foreach(nat, key, v)
	{
		if (strcmp(key, "ruleset") && strcmp(key, "ruleset_format") && strcmp(key, "outside"))
			FAILM(nat, key,
			      "%s: \"%s\" does not apply beside \"ruleset\": the ruleset file is "
			      "the NAT's whole behaviour (only \"outside\" and \"ruleset_format\" go "
			      "with it)",
			      what, key);
	}
	if (s[0] == '/' || !topo_dir)
		snprintf(path, sizeof(path), "%s", s);
	else
		snprintf(path, sizeof(path), "%s/%s", topo_dir, s);
	if (!(n->ruleset = strdup(path)))
		return -ENOMEM;
	n->nat.name = "ruleset";
	for (int k = 0; k < NAT_TO_COUNT; k++)
		n->nat.timeouts[k] = -1;
	if (get_string(tp, nat, "ruleset_format", what, false, &fmt) < 0)
		return -EINVAL;
	/* iptables-save output is recognised by name when no format is given */
	if (fmt ? !strcmp(fmt, "iptables") : ends_with(s, ".save") || ends_with(s, ".iptables"))
		n->ruleset_fmt = RULESET_IPTABLES;
	else if (!fmt || !strcmp(fmt, "nft"))
		n->ruleset_fmt = RULESET_NFT;
	else
		FAILM(nat, "ruleset_format",
		      "%s: unknown ruleset_format \"%s\" (known: nft, iptables)", what, fmt);
	/* checked here for `topo check`, and again by lab_up, which reads it */
	if (topo_ruleset_read(path, NULL, why, sizeof(why)) < 0)
		FAILM(nat, "ruleset", "%s: ruleset \"%s\": %s", what, path, why);
	return 0;
}

/* The RFC 4787 axes a NAT may set over its profile's. */
static int parse_nat_axes(struct tp *tp, json_t *nat, struct nat_profile *pr, const char *what)
{
	const char *s;

	if (get_string(tp, nat, "mapping", what, false, &s) < 0)
		return -EINVAL;
	if (s && nat_mapping_parse(s, &pr->mapping) < 0)
		FAILM(nat, "mapping",
		      "%s: unknown mapping \"%s\" (known: endpoint-independent, "
		      "address-dependent, address-and-port-dependent)",
		      what, s);
	if (get_string(tp, nat, "port_assignment", what, false, &s) < 0)
		return -EINVAL;
	if (s && nat_port_parse(s, &pr->port) < 0)
		FAILM(nat, "port_assignment",
		      "%s: unknown port_assignment \"%s\" (known: preserve, sequential, random)",
		      what, s);
	if (get_string(tp, nat, "unsolicited_syn", what, false, &s) < 0)
		return -EINVAL;
	if (s && nat_unsolicited_parse(s, &pr->unsolicited) < 0)
		FAILM(nat, "unsolicited_syn",
		      "%s: unknown unsolicited_syn \"%s\" (known: rst, drop, icmp, rfc5382)", what,
		      s);
	if (get_string(tp, nat, "filtering", what, false, &s) < 0)
		return -EINVAL;
	if (s && nat_filtering_parse(s, &pr->filtering) < 0)
		FAILM(nat, "filtering",
		      "%s: unknown filtering \"%s\" (known: endpoint-independent, "
		      "address-dependent, address-and-port-dependent)",
		      what, s);
	if (get_string(tp, nat, "icmp_time_exceeded", what, false, &s) < 0)
		return -EINVAL;
	if (s && nat_icmp_te_parse(s, &pr->icmp_te) < 0)
		FAILM(nat, "icmp_time_exceeded",
		      "%s: unknown icmp_time_exceeded \"%s\" (known: keep, drop)", what, s);
	return 0;
}

/* hairpin, delta and range over the profile's */
/* What netfilter cannot build of RFC 4787's port choices: refused with why. */
static int parse_nat_unbuildable(struct tp *tp, json_t *nat, const char *what)
{
	const char *s;
	json_t *v = json_object_get(nat, "port_parity");

	if (get_string(tp, nat, "port_fallback", what, false, &s) < 0)
		return -EINVAL;
	if (s && strcmp(s, "random"))
		FAILM(nat, "port_fallback",
		      "%s: port_fallback \"%s\" cannot be built: when the preserved port is "
		      "taken, netfilter's SNAT picks another at random (\"random\" is the only "
		      "value)",
		      what, s);
	if (v && !json_is_boolean(v))
		FAILM(nat, "port_parity", "%s: \"port_parity\" must be true or false", what);
	if (json_is_true(v))
		FAILM(nat, "port_parity",
		      "%s: port_parity cannot be built: netfilter's SNAT chooses fallback and "
		      "random ports without regard to the inside port's parity",
		      what);
	return 0;
}

static int parse_nat_ports(struct tp *tp, json_t *nat, struct nat_profile *pr, const char *what)
{
	if (parse_nat_unbuildable(tp, nat, what) < 0)
		return -EINVAL;
	json_t *v = json_object_get(nat, "hairpin");
	if (v) {
		if (!json_is_boolean(v))
			FAILM(nat, "hairpin", "%s: \"hairpin\" must be true or false", what);
		pr->hairpin = json_is_true(v);
	}
	double d = pr->delta;
	if (get_number(tp, nat, "delta", what, 1, 1000, &d) < 0)
		return -EINVAL;
	if (d != floor(d))
		FAILM(nat, "delta", "%s: \"delta\" must be a whole number", what);
	pr->delta = (unsigned)d;
	double q = pr->port_quota;
	if (get_number(tp, nat, "port_quota", what, 0, 65535, &q) < 0)
		return -EINVAL;
	if (q != floor(q))
		FAILM(nat, "port_quota", "%s: \"port_quota\" must be a whole number", what);
	pr->port_quota = (unsigned)q;
	v = json_object_get(nat, "range");
	if (!v)
		return 0;
	json_t *lo = json_array_get(v, 0), *hi = json_array_get(v, 1);
	if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(lo) ||
	    !json_is_integer(hi) || json_integer_value(lo) < 1 || json_integer_value(hi) > 65535 ||
	    json_integer_value(lo) > json_integer_value(hi))
		FAILM(nat, "range",
		      "%s: \"range\" must be [LOW, HIGH] with 1 <= LOW <= HIGH "
		      "<= 65535",
		      what);
	pr->range_lo = (uint16_t)json_integer_value(lo);
	pr->range_hi = (uint16_t)json_integer_value(hi);
	if (pr->port == NAT_PORT_SEQUENTIAL && pr->range_hi - pr->range_lo >= 16384)
		FAILM(nat, "range", "%s: a sequential range may span at most 16384 ports", what);
	return 0;
}

static int parse_nat_timeouts(struct tp *tp, json_t *nat, struct nat_profile *pr, const char *what)
{
	const struct registry names = REGISTRY_ARRAY(nat_timeout_names, NAT_TO_COUNT);
	json_t *v = json_object_get(nat, "timeouts"), *tv;
	const char *key;
	char known[REGISTRY_NAMES_MAX];

	if (!v)
		return 0;
	if (!json_is_object(v))
		FAILM(nat, "timeouts", "%s: \"timeouts\" must be an object of seconds", what);
	json_object_foreach(v, key, tv)
	{
		long k = registry_index(names, key);
		if (k < 0)
			FAILM(v, key, "%s: unknown timeout \"%s\" (known: %s)", what, key,
			      registry_names(names, known, sizeof(known)));
		if (!json_is_integer(tv) || json_integer_value(tv) < 1 ||
		    json_integer_value(tv) > 86400 * 30)
			FAILM(v, key, "%s: timeout \"%s\" must be whole seconds, 1 to 2592000",
			      what, key);
		pr->timeouts[k] = (int)json_integer_value(tv);
	}
	return 0;
}

static int parse_nat(struct tp *tp, json_t *nat, struct topo_node *n, const char *what,
		     const char *topo_dir)
{
	static const char *const fields[] = {
	    "profile", "outside",	  "mapping", "port_assignment", "delta",
	    "range",   "unsolicited_syn", "hairpin", "filtering",	"timeouts",
	    "ruleset", "ruleset_format",  "port_quota", "port_fallback", "port_parity",
	    "icmp_time_exceeded", NULL};
	const char *s;

	if (!json_is_object(nat))
		FAIL(nat, "%s: \"nat\" must be an object like {\"profile\": \"home-2009\"}", what);
	if (jdoc_check_fields(tp->doc, tp->err, nat, what, fields) < 0)
		return -EINVAL;
	n->is_nat = true;
	if (get_string(tp, nat, "ruleset", what, false, &s) < 0)
		return -EINVAL;
	if (s)
		return parse_nat_ruleset(tp, nat, n, what, topo_dir, s);
	if (get_string(tp, nat, "profile", what, true, &s) < 0)
		return -EINVAL;
	const struct nat_preset *pre = nat_preset_by_name(s);
	if (!pre)
		FAILM(nat, "profile", "%s: unknown NAT profile \"%s\" (known: %s)", what, s,
		      nat_preset_names());
	n->nat = pre->profile;
	if (parse_nat_axes(tp, nat, &n->nat, what) < 0 ||
	    parse_nat_ports(tp, nat, &n->nat, what) < 0 ||
	    parse_nat_timeouts(tp, nat, &n->nat, what) < 0)
		return -EINVAL;
	const char *why = nat_profile_unbuildable(&n->nat);
	if (why)
		FAILM(nat, json_object_get(nat, "mapping") ? "mapping" : "profile",
		      "%s: this NAT cannot be built: %s", what, why);
	return 0;
}

static int parse_routes(struct tp *tp, json_t *jn, struct topo_node *n, const char *what)
{
	static const char *const rf[] = {"to", "via", NULL};
	json_t *routes = json_object_get(jn, "routes"), *r;
	size_t i;

	if (!routes)
		return 0;
	if (!json_is_array(routes))
		FAILM(jn, "routes", "%s: \"routes\" must be an array", what);
	n->nroutes = (int)json_array_size(routes);
	if (!(n->routes = calloc((size_t)n->nroutes + 1, sizeof(*n->routes))))
		return -ENOMEM;
	json_array_foreach(routes, i, r)
	{
		if (!json_is_object(r))
			FAIL(r,
			     "%s: a route must be an object like {\"to\": \"198.19.0.0/16\", "
			     "\"via\": \"198.18.0.1\"}",
			     what);
		if (jdoc_check_fields(tp->doc, tp->err, r, what, rf) < 0 ||
		    parse_prefix(tp, r, "to", what, &n->routes[i].dst, &n->routes[i].plen) < 0 ||
		    parse_addr(tp, r, "via", what, &n->routes[i].via) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_sysctls(struct tp *tp, json_t *jn, struct topo_node *n, const char *what)
{
	json_t *sys = json_object_get(jn, "sysctl"), *sv;
	const char *key;

	if (!sys)
		return 0;
	if (!json_is_object(sys))
		FAILM(jn, "sysctl", "%s: \"sysctl\" must be an object", what);
	n->sysctls = calloc(json_object_size(sys) + 1, sizeof(*n->sysctls));
	if (!n->sysctls)
		return -ENOMEM;
	json_object_foreach(sys, key, sv)
	{
		/* only the namespace's own network sysctls; no path games */
		if (strncmp(key, "net.", 4) || strstr(key, "..") || strchr(key, '/') ||
		    strlen(key) > 120)
			FAILM(sys, key,
			      "%s: sysctl \"%s\": only net.* keys of the node's "
			      "namespace may be set",
			      what, key);
		if (!json_is_string(sv) && !json_is_integer(sv))
			FAILM(sys, key, "%s: sysctl \"%s\" must be a string or an integer", what,
			      key);
		struct topo_sysctl *sc = &n->sysctls[n->nsysctls++];
		sc->key = strdup(key);
		if (json_is_string(sv))
			sc->value = strdup(json_string_value(sv));
		else if (asprintf(&sc->value, "%lld", (long long)json_integer_value(sv)) < 0)
			sc->value = NULL;
		if (!sc->key || !sc->value)
			return -ENOMEM;
		for (char *p = sc->key; *p; p++)
			if (*p == '.')
				*p = '/';
	}
	return 0;
}

static int parse_node(struct tp *tp, json_t *jn, struct topo_node *n, const char *topo_dir)
{
	static const char *const fields[] = {"name",   "role",	 "nat", "gateway",
					     "routes", "sysctl", NULL};
	const char *s;
	char what[64];

	if (!json_is_object(jn))
		FAIL(jn, "a node must be an object like {\"name\": \"peer-a\"}");
	if (get_string(tp, jn, "name", "node", true, &s) < 0)
		return -EINVAL;
	if (!topo_name_ok(s, TOPO_NAME_MAX))
		FAILM(jn, "name",
		      "node name \"%s\": use 1 to %d of a-z, 0-9 and '-', not starting or ending "
		      "with '-'",
		      s, TOPO_NAME_MAX);
	if (!strcmp(s, "fabric"))
		FAILM(jn, "name", "node name \"fabric\" is reserved for the run's bridges");
	snprintf(n->name, sizeof(n->name), "%s", s);
	snprintf(what, sizeof(what), "node \"%s\"", n->name);
	if (jdoc_check_fields(tp->doc, tp->err, jn, what, fields) < 0)
		return -EINVAL;
	n->outside = -1;
	if (get_string(tp, jn, "role", what, false, &s) < 0)
		return -EINVAL;
	if (s) {
		int r;
		for (r = 1; r < 4; r++)
			if (!strcmp(s, role_names[r]))
				break;
		if (r == 4)
			FAILM(jn, "role", "%s: unknown role \"%s\" (known: server, peer-a, peer-b)",
			      what, s);
		n->role = (enum topo_role)r;
	}
	json_t *nat = json_object_get(jn, "nat");
	if (nat && parse_nat(tp, nat, n, what, topo_dir) < 0)
		return -EINVAL;
	if (n->is_nat && n->role != ROLE_NONE)
		FAILM(jn, "role", "%s: a NAT node cannot have a role", what);
	if (json_object_get(jn, "gateway") && parse_addr(tp, jn, "gateway", what, &n->gateway) < 0)
		return -EINVAL;
	int rc = parse_routes(tp, jn, n, what);
	return rc < 0 ? rc : parse_sysctls(tp, jn, n, what);
}

static int parse_segment(struct tp *tp, json_t *js, struct topo_segment *sg)
{
	static const char *const fields[] = {"name",	  "subnet", "members",	   "delay_ms",
					     "jitter_ms", "loss",   "jitter_dist", "bridge",
					     NULL};
	static const char *const mfields[] = {"node",	      "address",       "delay_ms",
					      "delay_up_ms",  "delay_down_ms", "jitter_ms",
					      "jitter_dist",  "loss",	       NULL};
	struct topology *t = tp->t;
	const char *s;
	char what[64];

	if (!json_is_object(js))
		FAIL(js, "a segment must be an object like {\"name\": \"internet\", ...}");
	if (get_string(tp, js, "name", "segment", true, &s) < 0)
		return -EINVAL;
	if (!strcmp(s, "lo"))
		FAILM(js, "name",
		      "segment name \"lo\" is taken: every node has its own loopback "
		      "interface \"lo\"; choose another name");
	if (!strcmp(s, "all") || !strcmp(s, "default"))
		FAILM(js, "name",
		      "segment name \"%s\" is taken: net/ipv4/conf/%s holds the kernel's "
		      "settings for all or for new interfaces, not for one; choose another name",
		      s, s);
	if (!topo_name_ok(s, TOPO_IFNAME_MAX))
		FAILM(js, "name",
		      "segment name \"%s\": use 1 to %d of a-z, 0-9 and '-' (it becomes the "
		      "interface name)",
		      s, TOPO_IFNAME_MAX);
	snprintf(sg->name, sizeof(sg->name), "%s", s);
	snprintf(what, sizeof(what), "segment \"%s\"", sg->name);
	if (jdoc_check_fields(tp->doc, tp->err, js, what, fields) < 0 ||
	    parse_prefix(tp, js, "subnet", what, &sg->net, &sg->plen) < 0 ||
	    parse_impair(tp, js, what, &sg->medium) < 0)
		return -EINVAL;
	json_t *b = json_object_get(js, "bridge");
	if (b) {
		if (!json_is_boolean(b))
			FAILM(js, "bridge", "%s: \"bridge\" must be true or false", what);
		sg->bridge = json_is_true(b);
	}
	json_t *members = json_object_get(js, "members");
	if (!members)
		FAILM(js, NULL, "%s: missing field \"members\"", what);
	if (!json_is_array(members) || json_array_size(members) < 2)
		FAILM(js, "members", "%s: \"members\" must be an array of at least two members",
		      what);
	if (json_array_size(members) > TOPO_MEMBERS_MAX)
		FAILM(js, "members", "%s: at most %d members", what, TOPO_MEMBERS_MAX);
	sg->nmembers = (int)json_array_size(members);
	if (!(sg->members = calloc((size_t)sg->nmembers, sizeof(*sg->members))))
		return -ENOMEM;
	size_t i;
	json_t *jm;
	json_array_foreach(members, i, jm)
	{
		struct topo_member *m = &sg->members[i];
		if (!json_is_object(jm))
			FAIL(jm,
			     "%s: a member must be an object like {\"node\": \"server\", "
			     "\"address\": \"198.18.0.1\"}",
			     what);
		if (jdoc_check_fields(tp->doc, tp->err, jm, what, mfields) < 0 ||
		    get_string(tp, jm, "node", what, true, &s) < 0)
			return -EINVAL;
		m->node = topo_node_by_name(t, s);
		if (m->node < 0)
			FAILM(jm, "node", "%s: unknown node \"%s\"", what, s);
		for (size_t j = 0; j < i; j++)
			if (sg->members[j].node == m->node)
				FAILM(jm, "node", "%s: node \"%s\" is a member twice", what, s);
		if (parse_addr(tp, jm, "address", what, &m->addr) < 0 ||
		    parse_impair(tp, jm, what, &m->link) < 0 || parse_updown(tp, jm, what, m) < 0)
			return -EINVAL;
		char a[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &m->addr, a, sizeof(a));
		inet_ntop(AF_INET, &sg->net, n, sizeof(n));
		if (!in_subnet(m->addr, sg->net, sg->plen))
			FAILM(jm, "address",
			      "%s: address %s of node \"%s\" is outside the subnet %s/%d", what, a,
			      t->nodes[m->node].name, n, sg->plen);
		if (sg->plen < 31 &&
		    (m->addr == sg->net || m->addr == (sg->net | ~plen_mask(sg->plen))))
			FAILM(jm, "address",
			      "%s: address %s is the network or broadcast address of "
			      "%s/%d",
			      what, a, n, sg->plen);
	}
	return 0;
}

/* Segment names and subnets distinct, no address twice on a segment. */
static int check_segments(struct tp *tp, json_t *jsegs)
{
	struct topology *t = tp->t;

	for (int i = 0; i < t->nsegs; i++)
		for (int j = 0; j < i; j++) {
			struct topo_segment *a = &t->segs[i], *b = &t->segs[j];
			int pl = a->plen < b->plen ? a->plen : b->plen;
			if (!strcmp(a->name, b->name))
				FAILM(json_array_get(jsegs, (size_t)i), "name",
				      "duplicate segment name \"%s\"", a->name);
			if ((a->net & plen_mask(pl)) == (b->net & plen_mask(pl)))
				FAILM(json_array_get(jsegs, (size_t)i), "subnet",
				      "segment \"%s\": subnet overlaps that of segment \"%s\"",
				      a->name, b->name);
		}
	/* the same address twice anywhere */
	for (int i = 0; i < t->nsegs; i++)
		for (int m = 0; m < t->segs[i].nmembers; m++)
			for (int k = 0; k < m; k++)
				if (t->segs[i].members[m].addr == t->segs[i].members[k].addr) {
					json_t *jm = json_array_get(
					    json_object_get(json_array_get(jsegs, (size_t)i),
							    "members"),
					    (size_t)m);
					FAILM(jm, "address", "segment \"%s\": address used twice",
					      t->segs[i].name);
				}
	return 0;
}

/* Node I's gateway and routes lead through segments it is on. */
static int check_node_paths(struct tp *tp, int i, json_t *jn, int gwseg)
{
	struct topology *t = tp->t;
	struct topo_node *n = &t->nodes[i];
	char a[INET_ADDRSTRLEN];

	if (n->gateway) {
		inet_ntop(AF_INET, &n->gateway, a, sizeof(a));
		if (gwseg < 0)
			FAILM(jn, "gateway",
			      "node \"%s\": gateway %s is not on any segment of the node", n->name,
			      a);
		if (topo_addr_on(t, i, gwseg) == n->gateway)
			FAILM(jn, "gateway", "node \"%s\": gateway %s is the node's own address",
			      n->name, a);
	}
	for (int r = 0; r < n->nroutes; r++) {
		bool ok = false;
		for (int s = 0; s < t->nsegs; s++)
			if (topo_addr_on(t, i, s) &&
			    in_subnet(n->routes[r].via, t->segs[s].net, t->segs[s].plen))
				ok = true;
		if (!ok) {
			inet_ntop(AF_INET, &n->routes[r].via, a, sizeof(a));
			FAILM(json_array_get(json_object_get(jn, "routes"), (size_t)r), "via",
			      "node \"%s\": route via %s, which is not on any segment of the node",
			      n->name, a);
		}
	}
	return 0;
}

/* A NAT node I has an outside segment it is on, and an inside besides. */
static int check_nat_sides(struct tp *tp, int i, json_t *jn, int nsegs, int gwseg)
{
	struct topology *t = tp->t;
	struct topo_node *n = &t->nodes[i];
	json_t *jnat = json_object_get(jn, "nat");
	const char *out;

	if (get_string(tp, jnat, "outside", "nat", false, &out) < 0)
		return -EINVAL;
	if (out) {
		for (int s = 0; s < t->nsegs; s++)
			if (!strcmp(t->segs[s].name, out))
				n->outside = s;
		if (n->outside < 0)
			FAILM(jnat, "outside", "node \"%s\": outside segment \"%s\" does not exist",
			      n->name, out);
		if (!topo_addr_on(t, i, n->outside))
			FAILM(jnat, "outside",
			      "node \"%s\" is not a member of its outside "
			      "segment \"%s\"",
			      n->name, out);
	} else if (gwseg >= 0) {
		n->outside = gwseg;
	} else {
		FAILM(jnat, NULL,
		      "node \"%s\": say which segment is outside (\"outside\": "
		      "\"SEGMENT\"), or give the node a gateway",
		      n->name);
	}
	if (nsegs < 2)
		FAILM(jn, "nat",
		      "node \"%s\": a NAT needs an inside segment besides its "
		      "outside one",
		      n->name);
	return 0;
}

static int check_node(struct tp *tp, int i, json_t *jn)
{
	struct topology *t = tp->t;
	struct topo_node *n = &t->nodes[i];
	int nsegs = 0, gwseg = -1;

	for (int s = 0; s < t->nsegs; s++)
		if (topo_addr_on(t, i, s)) {
			nsegs++;
			if (n->gateway && in_subnet(n->gateway, t->segs[s].net, t->segs[s].plen))
				gwseg = s;
		}
	if (nsegs == 0)
		FAILM(jn, "name", "node \"%s\" is not a member of any segment", n->name);
	if (check_node_paths(tp, i, jn, gwseg) < 0)
		return -EINVAL;
	return n->is_nat ? check_nat_sides(tp, i, jn, nsegs, gwseg) : 0;
}

/* Checks that need the whole file: roles, addresses, routes, NAT sides. */
static int topo_check_whole(struct tp *tp, json_t *jnodes, json_t *jsegs)
{
	struct topology *t = tp->t;

	if (check_segments(tp, jsegs) < 0)
		return -EINVAL;
	for (int i = 0; i < t->nnodes; i++)
		if (check_node(tp, i, json_array_get(jnodes, (size_t)i)) < 0)
			return -EINVAL;
	for (int r = ROLE_SERVER; r <= ROLE_PEER_B; r++) {
		int first = -1;
		for (int i = 0; i < t->nnodes; i++)
			if (t->nodes[i].role == (enum topo_role)r) {
				if (first >= 0)
					FAILM(json_array_get(jnodes, (size_t)i), "role",
					      "node \"%s\": role \"%s\" is already taken by node "
					      "\"%s\"",
					      t->nodes[i].name, role_names[r],
					      t->nodes[first].name);
				first = i;
			}
	}
	return 0;
}

static int topo_from_doc(struct jdoc *doc, const char *topo_dir, struct topology *t,
			 struct perr *err)
{
	static const char *const fields[] = {"description", "nodes", "segments", NULL};
	struct tp tpv = {doc, err, t}, *tp = &tpv;
	json_t *root = jdoc_root(doc);
	const char *s;

	if (!json_is_object(root))
		FAIL(root, "a topology must be a JSON object with \"nodes\" and \"segments\"");
	if (jdoc_check_fields(doc, err, root, "topology", fields) < 0 ||
	    get_string(tp, root, "description", "topology", false, &s) < 0)
		return -EINVAL;
	if (s && !(t->description = strdup(s)))
		return -ENOMEM;
	json_t *jnodes = json_object_get(root, "nodes"), *jsegs = json_object_get(root, "segments");
	if (!jnodes)
		FAILM(root, NULL, "topology: missing field \"nodes\"");
	if (!jsegs)
		FAILM(root, NULL, "topology: missing field \"segments\"");
	if (!json_is_array(jnodes) || json_array_size(jnodes) == 0 ||
	    json_array_size(jnodes) > TOPO_NODES_MAX)
		FAILM(root, "nodes", "topology: \"nodes\" must be an array of 1 to %d nodes",
		      TOPO_NODES_MAX);
	if (!json_is_array(jsegs) || json_array_size(jsegs) > TOPO_SEGS_MAX)
		FAILM(root, "segments", "topology: \"segments\" must be an array of at most %d",
		      TOPO_SEGS_MAX);
	t->nodes = calloc(json_array_size(jnodes) + 1, sizeof(*t->nodes));
	t->segs = calloc(json_array_size(jsegs) + 1, sizeof(*t->segs));
	if (!t->nodes || !t->segs)
		return -ENOMEM;
	size_t i;
	json_t *v;
	json_array_foreach(jnodes, i, v)
	{
		if (parse_node(tp, v, &t->nodes[i], topo_dir) < 0)
			return -EINVAL;
		if (topo_node_by_name(t, t->nodes[i].name) >= 0)
			FAILM(v, "name", "duplicate node name \"%s\"", t->nodes[i].name);
		t->nnodes++;
	}
	json_array_foreach(jsegs, i, v)
	{
		t->nsegs++;
		if (parse_segment(tp, v, &t->segs[i]) < 0)
			return -EINVAL;
	}
	return topo_check_whole(tp, jnodes, jsegs);
}

static int topo_finish(struct jdoc *doc, const char *path, struct topology **out, struct perr *err)
{
	struct topology *t = calloc(1, sizeof(*t));
	int rc = -ENOMEM;
	char *dir = NULL;

	*out = NULL;
	if (!t || !(t->path = strdup(path)) || !(dir = strdup(path)))
		goto fail;
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	rc = topo_from_doc(doc, dir, t, err);
	if (rc < 0)
		goto fail;
	free(dir);
	*out = t;
	return 0;
fail:
	if (rc == -ENOMEM)
		perr_set(err, path, 0, 0, "out of memory");
	free(dir);
	topo_free(t);
	return rc;
}

int topo_parse_buffer(const char *name, const char *buf, size_t len, struct topology **out,
		      struct perr *err)
{
	struct jdoc *doc;
	int rc = jdoc_load_buffer(name, buf, len, &doc, err);

	if (rc < 0)
		return rc;
	rc = topo_finish(doc, name, out, err);
	jdoc_free(doc);
	return rc;
}

int topo_load(const char *path, struct topology **out, struct perr *err)
{
	struct jdoc *doc;
	int rc = jdoc_load_file(path, &doc, err);

	if (rc < 0)
		return rc;
	rc = topo_finish(doc, path, out, err);
	jdoc_free(doc);
	return rc;
}

void topo_free(struct topology *t)
{
	if (!t)
		return;
	/* node nnodes may be half-parsed (the array has one spare): free it too */
	for (int i = 0; t->nodes && i <= t->nnodes; i++) {
		struct topo_node *n = &t->nodes[i];
		free(n->ruleset);
		free(n->routes);
		for (int k = 0; k < n->nsysctls; k++) {
			free(n->sysctls[k].key);
			free(n->sysctls[k].value);
		}
		free(n->sysctls);
	}
	for (int i = 0; t->segs && i < t->nsegs; i++)
		free(t->segs[i].members);
	free(t->nodes);
	free(t->segs);
	free(t->description);
	free(t->path);
	free(t);
}

int topo_node_by_name(const struct topology *t, const char *name)
{
	for (int i = 0; i < t->nnodes; i++)
		if (!strcmp(t->nodes[i].name, name))
			return i;
	return -1;
}

int topo_node_by_role(const struct topology *t, enum topo_role role)
{
	for (int i = 0; i < t->nnodes; i++)
		if (t->nodes[i].role == role)
			return i;
	return -1;
}

uint32_t topo_addr_on(const struct topology *t, int node, int seg)
{
	for (int m = 0; m < t->segs[seg].nmembers; m++)
		if (t->segs[seg].members[m].node == node)
			return t->segs[seg].members[m].addr;
	return 0;
}

uint32_t topo_primary_addr(const struct topology *t, int node)
{
	const struct topo_node *n = &t->nodes[node];

	if (n->is_nat && n->outside >= 0)
		return topo_addr_on(t, node, n->outside);
	for (int s = 0; s < t->nsegs; s++) {
		uint32_t a = topo_addr_on(t, node, s);
		if (a)
			return a;
	}
	return 0;
}

/* The node owning address A, or -1. */
static int node_of_addr(const struct topology *t, uint32_t a)
{
	for (int s = 0; s < t->nsegs; s++)
		for (int m = 0; m < t->segs[s].nmembers; m++)
			if (t->segs[s].members[m].addr == a)
				return t->segs[s].members[m].node;
	return -1;
}

/* NODE's next hop towards DST, as its routing table would pick it: DST
 * itself on a connected segment, else the longest route, else the gateway. */
static uint32_t next_hop(const struct topology *t, int node, uint32_t dst)
{
	const struct topo_node *n = &t->nodes[node];
	for (int s = 0; s < t->nsegs; s++)
		if (topo_addr_on(t, node, s) && in_subnet(dst, t->segs[s].net, t->segs[s].plen))
			return dst;
	int best = -1;
	for (int r = 0; r < n->nroutes; r++)
		if (in_subnet(dst, n->routes[r].dst, n->routes[r].plen) &&
		    (best < 0 || n->routes[r].plen > n->routes[best].plen))
			best = r;
	return best >= 0 ? n->routes[best].via : n->gateway;
}

int topo_path(const struct topology *t, int from, uint32_t dst, int *path, int max)
{
	int n = 0;
	for (int at = from;;) {
		uint32_t hop = next_hop(t, at, dst);
		int next = hop ? node_of_addr(t, hop) : -1;
		if (next < 0)
			return -1;
		if (hop == dst)
			return n;
		if (n == max || n >= t->nnodes)
			return -1; /* a loop */
		path[n++] = at = next;
	}
}
