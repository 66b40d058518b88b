// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "run/suite.h"
#include "known.h"

static struct suite *parse(const char *text)
{
	struct suite *s = NULL;
	struct perr err;
	/* the name places the suite in experiments/, for relative topologies */
	cr_assert_eq(
	    suite_parse_buffer(SOURCE_ROOT "/experiments/t.json", text, strlen(text), &s, &err), 0,
	    "%s", err.msg);
	return s;
}

Test(suite, cross_product_in_field_order)
{
	struct suite *s = parse(
	    "{\"topology\": \"../topologies/two-nats.json\", \"matrix\": {"
	    "\"os_b\": [\"windows-xp\", \"linux-2.6\"], \"os_a\": [\"macosx-10.5\", \"openbsd\"],"
	    "\"skew_ms\": [0, 5, 10]}, \"trials\": 4}");
	cr_assert_eq(s->ncells, 12);
	cr_assert_eq(s->trials, 4);
	cr_assert_eq(s->rounds, 3);
	/* os_a varies slower than os_b, which varies slower than skew_ms */
	cr_assert_str_eq(s->cells[0].os_a, "macosx-10.5");
	cr_assert_str_eq(s->cells[0].os_b, "windows-xp");
	cr_assert_float_eq(s->cells[1].skew_ms, 5, 1e-9);
	cr_assert_str_eq(s->cells[3].os_b, "linux-2.6");
	cr_assert_str_eq(s->cells[6].os_a, "openbsd");
	cr_assert_str_eq(s->cells[11].os_b, "linux-2.6");
	cr_assert(strstr(s->cells[0].topology, "/topologies/two-nats.json"));
	cr_assert_str_eq(s->cells[0].heuristic, "delta");
	cr_assert_eq(s->cells[0].hairpin, -1);
	for (int i = 0; i < s->ncells; i++)
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(s->cells[i].id, s->cells[j].id);
	suite_free(s);
}

/* a single value in the matrix is one value, the topology's too (it was
 * "no cells": the topology was crossed as the bare string) */
Test(suite, a_single_topology_in_the_matrix_is_one_value)
{
	struct suite *s = parse("{\"matrix\": {\"topology\": \"../topologies/two-nats.json\","
				"\"os_a\": [\"linux-2.6\", \"openbsd\"], \"os_b\": \"windows-xp\"}}");
	cr_assert_eq(s->ncells, 2);
	for (int i = 0; i < s->ncells; i++) {
		cr_assert(strstr(s->cells[i].topology, "/topologies/two-nats.json"));
		cr_assert_str_eq(s->cells[i].os_b, "windows-xp");
	}
	suite_free(s);
}

Test(suite, include_exclude_and_defaults)
{
	struct suite *s = parse(
	    "{\"topology\": \"../topologies/two-nats.json\", \"defaults\": {\"nat\": \"rfc5382\"},"
	    "\"matrix\": {\"os_a\": [\"windows-xp\", \"linux-2.6\"], \"proxy_a\": [false, true]},"
	    "\"exclude\": [{\"os_a\": \"windows-xp\", \"proxy_a\": true}],"
	    "\"include\": [{\"os_a\": \"freebsd\", \"hairpin\": true, \"nat\": \"random\"}]}");
	cr_assert_eq(s->ncells, 4);
	cr_assert_str_eq(s->cells[0].os_a, "windows-xp");
	cr_assert_not(s->cells[0].proxy_a);
	cr_assert_str_eq(s->cells[1].os_a, "linux-2.6");
	cr_assert(s->cells[2].proxy_a);
	cr_assert_str_eq(s->cells[3].os_a, "freebsd");
	cr_assert_str_eq(s->cells[3].nat, "random", "the entry's own value wins");
	cr_assert_eq(s->cells[3].hairpin, 1);
	cr_assert_str_eq(s->cells[0].nat, "rfc5382", "defaults apply to crossed cells");
	suite_free(s);
}

Test(suite, keep_conntrack_is_a_setting)
{
	const char *m = "\"topology\": \"../topologies/two-nats.json\", \"matrix\": {}, "
			"\"include\": [{\"os_a\": \"native\"}]";
	char text[256];
	snprintf(text, sizeof(text), "{%s, \"keep_conntrack\": true}", m);
	struct suite *s = parse(text);
	cr_assert(s->keep_conntrack);
	suite_free(s);
	snprintf(text, sizeof(text), "{%s}", m);
	s = parse(text);
	cr_assert_not(s->keep_conntrack, "off by default");
	suite_free(s);
}

Test(suite, ids_are_stable_and_name_the_combination)
{
	struct suite *a = parse("{\"topology\": \"../topologies/two-nats.json\", \"matrix\": {"
				"\"os_a\": [\"windows-xp\", \"linux-2.6\"]}}");
	struct suite *b = parse("{\"matrix\": {\"os_a\": [\"linux-2.6\"]}, \"topology\": "
				"\"../topologies/two-nats.json\", \"seed\": 9}");
	cr_assert_str_eq(a->cells[1].id, b->cells[0].id);
	suite_free(a);
	suite_free(b);
}

/* Every suite in experiments/ expands; these have known sizes. */
Test(suite, shipped_suites_expand)
{
	static const struct {
		const char *file;
		int cells;
	} sizes[] = {
	    {.file = "paper-table1.json", .cells = 5},
	    {.file = "paper-fig2.json", .cells = 5},
	    {.file = "nat-matrix.json", .cells = 484},
	    {.file = "smoke.json", .cells = 3},
	};
	size_t sized = 0;
	DIR *d = opendir(SOURCE_ROOT "/experiments");
	struct dirent *de;
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		char path[512];
		struct suite *s;
		struct perr err;
		snprintf(path, sizeof(path), SOURCE_ROOT "/experiments/%s", de->d_name);
		cr_assert_eq(suite_load(path, &s, &err), 0, "%s", err.msg);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (!strcmp(sizes[i].file, de->d_name)) {
				cr_assert_eq(s->ncells, sizes[i].cells, "%s: %d cells", de->d_name,
					     s->ncells);
				sized++;
			}
		cr_assert_not_null(s->description, "%s", de->d_name);
		cr_assert_eq(strlen(s->hash), 64);
		suite_free(s);
	}
	closedir(d);
	cr_assert_eq(sized, sizeof(sizes) / sizeof(sizes[0]), "a suite of known size is gone");
}

Test(suite, bad_corpus)
{
	cr_assert_eq(chdir(SOURCE_ROOT "/tests/data/bad-suites"), 0);
	DIR *d = opendir(".");
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		char exp[300], want[1024] = "";
		snprintf(exp, sizeof(exp), "%.*s.expected", (int)(l - 5), de->d_name);
		FILE *f = fopen(exp, "r");
		cr_assert_not_null(f, "%s", exp);
		cr_assert_not_null(fgets(want, sizeof(want), f));
		fclose(f);
		want[strcspn(want, "\n")] = 0;
		struct suite *s = NULL;
		struct perr err = {{0}};
		cr_expect_lt(suite_load(de->d_name, &s, &err), 0, "%s was accepted", de->d_name);
		char *known = known_expand(want);
		cr_assert_not_null(known);
		cr_expect_str_eq(err.msg, known, "%s", de->d_name);
		free(known);
		suite_free(s);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 9);
}

/* The most cells a suite may have (5 x 5 x 4000 = SUITE_MAX_CELLS), each
 * checked against every other for a duplicate: with a hash set that is
 * 2-3 s of CPU under ASan; comparing each cell with every earlier one (5e9
 * comparisons) was 53 s. CPU time, so a loaded machine does not fail it. */
Test(suite, the_largest_suite_parses_in_linear_time)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fputs(
	    "{\"topology\": \"../topologies/two-nats.json\", \"trials\": 1, \"matrix\": {"
	    "\"os_a\": [\"native\", \"linux-2.6\", \"linux-4.6\", \"linux-5.12\", \"windows-xp\"],"
	    "\"os_b\": [\"native\", \"linux-2.6\", \"linux-4.6\", \"linux-5.12\", \"windows-xp\"],"
	    "\"skew_ms\": [0",
	    f);
	for (int i = 1; i < 4000; i++)
		fprintf(f, ", %d", i);
	fputs("]}}", f);
	fclose(f);
	clock_t t0 = clock();
	struct suite *s = parse(text);
	double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	cr_assert_eq(s->ncells, 100000);
	cr_assert_lt(cpu, 15, "100,000 cells took %.1f s of CPU", cpu);
	cr_log_info("100,000 cells: %.2f s of CPU", cpu);
	suite_free(s);
	free(text);
}

/* Commands: argv kept as given, argv[0] resolved (a path from the suite's
 * directory, a bare name from PATH), a matrix of commands crossed. */
Test(suite, peer_commands_resolve_and_cross)
{
	struct suite *s = parse(
	    "{\"topology\": \"../topologies/two-nats.json\", \"defaults\": {"
	    "\"peer_a_command\": [\"./socat-peer.sh\", \"it's\"], \"command_timeout_ms\": 2500,"
	    "\"command_rendezvous\": \"runner\", \"command_go_ms\": 0},"
	    "\"matrix\": {\"peer_b_command\": [[\"sh\", \"-c\", \"exit 0\"], [\"true\"]]}}");
	cr_assert_eq(s->ncells, 2);
	for (int i = 0; i < 2; i++) {
		const struct cell *c = &s->cells[i];
		cr_assert_str_eq(json_string_value(json_array_get(c->command[0], 1)), "it's");
		cr_assert(strstr(c->command_exe[0], "/experiments/socat-peer.sh"), "%s",
			  c->command_exe[0]);
		cr_assert_eq(c->command_exe[0][0], '/');
		cr_assert_eq(c->command_timeout_ms, 2500);
		cr_assert(c->command_rendezvous);
		cr_assert_eq(c->command_go_ms, 0);
		cr_assert_eq(access(c->command_exe[1], X_OK), 0, "%s", c->command_exe[1]);
	}
	cr_assert(strstr(s->cells[0].command_exe[1], "/sh"));
	cr_assert(strstr(s->cells[1].command_exe[1], "/true"));
	cr_assert_str_neq(s->cells[0].id, s->cells[1].id);
	suite_free(s);

	/* no command: punchlab's peers, the default deadline */
	s = parse("{\"topology\": \"../topologies/two-nats.json\", \"matrix\": {\"nat\": \"rfc5382\"}}");
	cr_assert_null(s->cells[0].command[0]);
	cr_assert_null(s->cells[0].command_exe[1]);
	cr_assert_eq(s->cells[0].command_timeout_ms, 10000);
	cr_assert_eq(s->cells[0].command_go_ms, 500);
	cr_assert_not(s->cells[0].command_rendezvous);
	suite_free(s);
}

Test(suite, command_path_lookup)
{
	char *p = suite_command_path("/nonexistent", "sh");
	cr_assert_not_null(p);
	cr_assert_eq(access(p, X_OK), 0);
	free(p);
	cr_assert_null(suite_command_path("/nonexistent", "./sh"));
	cr_assert_null(suite_command_path(SOURCE_ROOT, "no-such-punchlab-program"));
	/* a file that exists but is not executable */
	cr_assert_null(suite_command_path(SOURCE_ROOT, "./README.md"));
	p = suite_command_path(SOURCE_ROOT "/experiments", "./socat-peer.sh");
	cr_assert_not_null(p);
	free(p);
}
