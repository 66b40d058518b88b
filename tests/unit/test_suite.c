// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "results/stats.h"
#include "run/suite.h"

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

Test(suite, keep_conntrack)
{
	/* docs/suite.md documents it: the suite's list of fields must know it */
	struct suite *a = parse("{\"topology\": \"../topologies/two-nats.json\", \"matrix\": {"
				"\"os_a\": [\"linux-2.6\"]}, \"keep_conntrack\": true}");
	struct suite *b = parse("{\"topology\": \"../topologies/two-nats.json\", \"matrix\": {"
				"\"os_a\": [\"linux-2.6\"]}}");
	cr_assert(a->keep_conntrack);
	cr_assert_not(b->keep_conntrack);
	suite_free(a);
	suite_free(b);
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

Test(suite, shipped_suites_expand)
{
	static const char *const files[] = {"paper-table1.json", "paper-fig2.json",
					    "nat-matrix.json", "smoke.json"};
	static const int cells[] = {5, 5, 324, 3};
	for (int i = 0; i < 4; i++) {
		char path[512];
		struct suite *s;
		struct perr err;
		snprintf(path, sizeof(path), SOURCE_ROOT "/experiments/%s", files[i]);
		cr_assert_eq(suite_load(path, &s, &err), 0, "%s", err.msg);
		cr_assert_eq(s->ncells, cells[i], "%s: %d cells", files[i], s->ncells);
		cr_assert_not_null(s->description);
		cr_assert_eq(strlen(s->hash), 64);
		suite_free(s);
	}
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
		cr_expect_str_eq(err.msg, want);
		suite_free(s);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 9);
}

Test(stats, wilson_known_values)
{
	double lo, hi;
	/* Wilson (1927) score interval at z = 1.96; 81/263 is the example of
	 * Newcombe (1998), whose table gives 0.2553-0.3662 */
	wilson95(5, 10, &lo, &hi);
	cr_assert_float_eq(lo, 0.2366, 1e-4);
	cr_assert_float_eq(hi, 0.7634, 1e-4);
	wilson95(0, 10, &lo, &hi);
	cr_assert_float_eq(lo, 0, 1e-12);
	cr_assert_float_eq(hi, 0.2775, 1e-4);
	wilson95(10, 10, &lo, &hi);
	cr_assert_float_eq(lo, 0.7225, 1e-4);
	cr_assert_float_eq(hi, 1, 1e-12);
	wilson95(81, 263, &lo, &hi);
	cr_assert_float_eq(lo, 0.2553, 1e-4);
	cr_assert_float_eq(hi, 0.3662, 1e-4);
	wilson95(0, 0, &lo, &hi);
	cr_assert_float_eq(lo, 0, 1e-12);
	cr_assert_float_eq(hi, 1, 1e-12);
}

Test(stats, quantiles)
{
	double v[] = {5, 1, 4, 2, 3};
	cr_assert_float_eq(quantile(v, 5, 0.5), 3, 1e-12);
	cr_assert_float_eq(quantile(v, 5, 0.9), 4.6, 1e-12);
	cr_assert_float_eq(quantile(v, 5, 0), 1, 1e-12);
	cr_assert_float_eq(quantile(v, 5, 1), 5, 1e-12);
	double one[] = {7};
	cr_assert_float_eq(quantile(one, 1, 0.9), 7, 1e-12);
	cr_assert(isnan(quantile(one, 0, 0.5)));
}

Test(stats, fisher_exact_known_values)
{
	/* Fisher's tea-tasting table: 3 of 4 right each way */
	cr_assert_float_eq(fisher_exact(3, 1, 1, 3), 0.4857, 1e-4);
	/* complete separation, 10 and 10 */
	cr_assert_float_eq(fisher_exact(10, 0, 0, 10), 1.0825e-5, 1e-8);
	cr_assert_float_eq(fisher_exact(5, 5, 5, 5), 1.0, 1e-12);
	/* 20/20 against 12/20: 0.003276, computed exactly with integer binomials */
	cr_assert_float_eq(fisher_exact(20, 0, 12, 8), 0.003276, 1e-6);
	cr_assert_float_eq(fisher_exact(0, 0, 0, 0), 1.0, 1e-12);
}
