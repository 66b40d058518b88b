// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lab/topology.h"
#include "known.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return strdup(buf);
}

/* Every file in the corpus fails with exactly the message in its .expected. */
Test(topology, bad_corpus)
{
	const char *dir = SOURCE_ROOT "/tests/data/bad-topologies";
	cr_assert_eq(chdir(dir), 0);
	DIR *d = opendir(".");
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		char exp[300];
		snprintf(exp, sizeof(exp), "%.*s.expected", (int)(l - 5), de->d_name);
		char *raw = slurp(exp), *want = known_expand(raw);
		free(raw);
		cr_assert_not_null(want);
		struct topology *t = NULL;
		struct perr err = {{0}};
		cr_expect_lt(topo_load(de->d_name, &t, &err), 0, "%s was accepted", de->d_name);
		cr_expect_str_eq(err.msg, want, "%s", de->d_name);
		topo_free(t);
		free(want);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 15, "the corpus is smaller than expected: %d files", n);
}

static struct topology *load_shipped(const char *name)
{
	char path[512];
	struct topology *t;
	struct perr err;
	snprintf(path, sizeof(path), SOURCE_ROOT "/topologies/%s", name);
	cr_assert_eq(topo_load(path, &t, &err), 0, "%s", err.msg);
	return t;
}

/* Shipped topologies, every file in topologies/: valid, described, in
 * 198.18.0.0/15, with the paper's node names. */
Test(topology, shipped)
{
	DIR *d = opendir(SOURCE_ROOT "/topologies");
	struct dirent *de;
	int n = 0;
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		const char *file = de->d_name;
		size_t l = strlen(file);
		if (l < 6 || strcmp(file + l - 5, ".json"))
			continue;
		struct topology *t = load_shipped(file);
		cr_assert_not_null(t->description, "%s has no description", file);
		cr_assert_geq(topo_node_by_role(t, ROLE_SERVER), 0, "%s", file);
		cr_assert_geq(topo_node_by_role(t, ROLE_PEER_A), 0, "%s", file);
		cr_assert_geq(topo_node_by_role(t, ROLE_PEER_B), 0, "%s", file);
		cr_assert_eq(topo_node_by_name(t, "server"), topo_node_by_role(t, ROLE_SERVER),
			     "%s", file);
		for (int s = 0; s < t->nsegs; s++) {
			uint32_t net = ntohl(t->segs[s].net);
			cr_assert_eq(net & 0xfffe0000u, 0xc6120000u, "%s: %s outside 198.18.0.0/15",
				     file, t->segs[s].name);
			cr_assert_geq(t->segs[s].plen, 15);
		}
		topo_free(t);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 5, "only %d topologies in topologies/", n);
}

Test(topology, nat_sides_and_defaults)
{
	struct topology *t = load_shipped("double-nat.json");
	int cg = topo_node_by_name(t, "cgnat"), na = topo_node_by_name(t, "nat-a");
	cr_assert(t->nodes[cg].is_nat && t->nodes[cg].nat.hairpin);
	cr_assert_str_eq(t->segs[t->nodes[cg].outside].name, "internet");
	/* nat-a names no outside segment: its gateway's segment is outside */
	cr_assert_str_eq(t->segs[t->nodes[na].outside].name, "carrier");
	cr_assert_eq(t->nodes[na].nat.unsolicited, NAT_UNSOL_RST);
	cr_assert_eq(t->nodes[cg].nat.unsolicited, NAT_UNSOL_RFC5382);
	topo_free(t);
}

Test(topology, overrides_field_by_field)
{
	const char *text =
	    "{\"nodes\": [{\"name\": \"s\"}, {\"name\": \"n\", \"nat\": {\"profile\": "
	    "\"home-2009\","
	    " \"outside\": \"o\", \"port_assignment\": \"sequential\", \"delta\": 2,"
	    " \"range\": [5000, 5099], \"unsolicited_syn\": \"icmp\", \"hairpin\": true,"
	    " \"timeouts\": {\"established\": 300}}}, {\"name\": \"p\", \"gateway\": "
	    "\"198.19.1.1\"}],"
	    " \"segments\": [{\"name\": \"o\", \"subnet\": \"198.18.0.0/24\", \"members\": ["
	    "{\"node\": \"s\", \"address\": \"198.18.0.1\"}, {\"node\": \"n\", \"address\": "
	    "\"198.18.0.2\"}]},"
	    "{\"name\": \"i\", \"subnet\": \"198.19.1.0/24\", \"delay_ms\": 3, \"members\": ["
	    "{\"node\": \"n\", \"address\": \"198.19.1.1\"}, {\"node\": \"p\", \"address\": "
	    "\"198.19.1.2\","
	    " \"delay_ms\": 10, \"jitter_ms\": 1, \"loss\": 0.01}]}]}";
	struct topology *t;
	struct perr err;
	cr_assert_eq(topo_parse_buffer("x.json", text, strlen(text), &t, &err), 0, "%s", err.msg);
	const struct nat_profile *p = &t->nodes[1].nat;
	cr_assert_eq(p->port, NAT_PORT_SEQUENTIAL);
	cr_assert_eq(p->delta, 2);
	cr_assert_eq(p->range_lo, 5000);
	cr_assert_eq(p->range_hi, 5099);
	cr_assert_eq(p->unsolicited, NAT_UNSOL_ICMP);
	cr_assert(p->hairpin);
	cr_assert_eq(p->timeouts[NAT_TO_ESTABLISHED], 300);
	cr_assert_eq(p->timeouts[NAT_TO_SYN_SENT], -1);
	cr_assert_float_eq(t->segs[1].medium.delay_ms, 3, 1e-9);
	cr_assert_float_eq(t->segs[1].members[1].link.delay_ms, 10, 1e-9);
	cr_assert_float_eq(t->segs[1].members[1].link.loss, 0.01, 1e-9);
	topo_free(t);
}

/* A file of SIZE bytes of 'x' (sparse files would be NUL bytes). */
static void write_bytes(const char *path, size_t size)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	for (size_t i = 0; i < size; i++)
		fputc(i % 64 == 63 ? '\n' : 'x', f);
	cr_assert_eq(fclose(f), 0);
}

/*
 * Rulesets are regular text files of at most TOPO_RULESET_MAX bytes: the
 * limit itself passes, one byte more does not; a FIFO is refused at once
 * (opening it must not wait for a writer), a NUL byte is refused when read.
 */
Test(topology, ruleset_files, .timeout = 10)
{
	char dir[64], path[128], why[128], *buf;
	snprintf(dir, sizeof(dir), "/tmp/punchlab-unit-rs-%d", (int)getpid());
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/r.nft", dir);

	write_bytes(path, TOPO_RULESET_MAX);
	cr_assert_eq(topo_ruleset_read(path, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(topo_ruleset_read(path, &buf, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(strlen(buf), (size_t)TOPO_RULESET_MAX);
	free(buf);

	write_bytes(path, TOPO_RULESET_MAX + 1);
	cr_assert_eq(topo_ruleset_read(path, NULL, why, sizeof(why)), -EFBIG);
	cr_assert_str_eq(why, "1048577 bytes, more than 1048576");
	cr_assert_eq(topo_ruleset_read(path, &buf, why, sizeof(why)), -EFBIG);
	cr_assert_null(buf);

	FILE *f = fopen(path, "wb");
	fwrite("table\0ip", 1, 8, f);
	fclose(f);
	cr_assert_eq(topo_ruleset_read(path, &buf, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "holds a NUL byte: not a text ruleset");

	unlink(path);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(topo_ruleset_read(path, &buf, why, sizeof(why)), -EINVAL);
	cr_assert_str_eq(why, "a FIFO, not a regular file");
	unlink(path);
	rmdir(dir);
}

/* The limits themselves are accepted: 64 nodes, 64 segments, 64 members. */
Test(topology, every_limit_exactly)
{
	struct topology *t;
	struct perr err;
	cr_assert_eq(topo_load(SOURCE_ROOT "/tests/data/max-lab.json", &t, &err), 0, "%s", err.msg);
	cr_assert_eq(t->nnodes, TOPO_NODES_MAX);
	cr_assert_eq(t->nsegs, TOPO_SEGS_MAX);
	cr_assert_eq(t->segs[0].nmembers, TOPO_MEMBERS_MAX);
	topo_free(t);
}

/* The path a packet takes, hop by hop, as each node's routing table would
 * send it: stunt1's TTL is checked against it. */
Test(topology, paths_follow_segments_routes_and_gateways)
{
	struct topology *t = load_shipped("two-nats-router.json");
	int path[TOPO_NODES_MAX];
	int a = topo_node_by_name(t, "peer-a"), b = topo_node_by_name(t, "peer-b");
	/* peer A to nat-b's outside address: nat-a, then the router */
	int n = topo_path(t, a, inet_addr("198.18.0.3"), path, TOPO_NODES_MAX);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(t->nodes[path[0]].name, "nat-a");
	cr_assert_str_eq(t->nodes[path[1]].name, "router");
	/* peer B to S: nat-b only (S is on its outside segment) */
	n = topo_path(t, b, inet_addr("198.18.0.1"), path, TOPO_NODES_MAX);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(t->nodes[path[0]].name, "nat-b");
	/* a neighbour is reached without a forwarder; an address nobody has is not */
	cr_assert_eq(topo_path(t, a, inet_addr("198.19.1.1"), path, TOPO_NODES_MAX), 0);
	cr_assert_eq(topo_path(t, a, inet_addr("198.18.0.99"), path, TOPO_NODES_MAX), -1);
	topo_free(t);
}
