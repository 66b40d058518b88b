// SPDX-License-Identifier: MIT
/* src/results/: written, read back, streamed, merged, refused when broken. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "results/results.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/punchlab-results-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(results, .init = mkdir_tmp, .fini = rm_tmp);

static json_t *trial(const char *cell, int n, bool ok, const char *why, double ttc, int rounds)
{
	return json_pack("{s:s, s:i, s:b, s:i, s:o, s:o, s:{s:b, s:n}}", "cell", cell, "trial", n,
			 "connected", ok, "rounds", rounds,
			 "time_to_connect_ms", ok ? json_real(ttc) : json_null(), "reason",
			 ok ? json_null() : json_string(why), "prediction_hit", "a", ok, "b");
}

/* A run of two cells: A 3/4 connected, B 0/1 (mispredicted). */
static void write_run(const char *sha, char *path, size_t len, struct results **out)
{
	struct results_writer *w;
	struct perr err;
	json_t *h = json_pack("{s:s}", "suite_sha256", sha);
	cr_assert_eq(rw_open(dir, "t", h, &w, &err), 0, "%s", err.msg);
	json_decref(h);
	json_t *fa = json_pack("{s:s}", "os_a", "windows-xp"), *fb = json_pack("{s:s}", "os_a", "x");
	cr_assert_eq(rw_cell(w, "aaaa", fa), 0);
	cr_assert_eq(rw_cell(w, "bbbb", fb), 0);
	cr_assert_eq(rw_cell(w, "aaaa", fa), -EINVAL, "a cell is declared once");
	json_decref(fa);
	json_decref(fb);
	const struct {
		const char *cell;
		bool ok;
		double ttc;
	} t[] = {{"aaaa", true, 100}, {"aaaa", true, 300}, {"bbbb", false, 0},
		 {"aaaa", false, 0},  {"aaaa", true, 200}};
	int seq[2] = {0, 0};
	for (size_t i = 0; i < 5; i++) {
		int *n = &seq[t[i].cell[0] == 'b'];
		json_t *tr = trial(t[i].cell, (*n)++, t[i].ok, "mispredicted", t[i].ttc, 1 + (int)i % 2);
		cr_assert_eq(rw_trial(w, tr, &err), 0, "%s", err.msg);
		json_decref(tr);
	}
	json_t *bad = trial("cccc", 0, true, NULL, 1, 1);
	cr_assert_lt(rw_trial(w, bad, &err), 0, "a trial of an undeclared cell is refused");
	json_decref(bad);
	cr_assert_eq(rw_cell_trials(w, "aaaa"), 4);
	json_t *md = json_pack("{s:s}", "start_utc", "2026-01-01T00:00:00Z");
	json_t *su = json_pack("{s:s, s:s, s:i}", "file", "/x/t.json", "sha256", sha, "trials", 4);
	cr_assert_eq(rw_finish(w, md, su, path, len, out, &err), 0, "%s", err.msg);
	json_decref(md);
	json_decref(su);
	rw_free(w);
}

static void check_cells(const struct results *r)
{
	cr_assert_eq(r->version, RESULTS_VERSION);
	cr_assert_eq(r->ncells, 2);
	cr_assert_eq(r->ntrials, 5);
	const struct rcell *a = results_cell(r, "aaaa"), *b = results_cell(r, "bbbb");
	cr_assert(a && b);
	cr_assert_eq(a->n, 4);
	cr_assert_eq(a->k, 3);
	cr_assert_float_eq(a->rate, 0.75, 1e-12);
	cr_assert_float_eq(a->ttc_median_ms, 200, 1e-9);
	cr_assert_float_eq(a->hit_rate, 0.75, 1e-12, "b is never judged, a is 3 of 4");
	cr_assert_eq(a->nfail, 1);
	cr_assert_str_eq(a->fail[0].reason, "mispredicted");
	cr_assert_eq(b->k, 0);
	cr_assert(isnan(b->ttc_median_ms));
	cr_assert_str_eq(json_string_value(json_object_get(b->fields, "os_a")), "x");
	cr_assert_null(results_cell(r, "cccc"));
}

static int count(json_t *t, const struct rcell *c, void *ctx)
{
	cr_assert_not_null(c, "every trial has its cell");
	cr_assert_str_eq(json_string_value(json_object_get(t, "cell")), c->id);
	(*(int *)ctx)++;
	return 0;
}

Test(results, written_and_read_back)
{
	char path[4096];
	struct results *w, *r;
	struct perr err;
	write_run("s1", path, sizeof(path), &w);
	check_cells(w);
	cr_assert_eq(results_load(path, &r, &err), 0, "%s", err.msg);
	check_cells(r);
	int n = 0;
	cr_assert_eq(results_foreach_trial(r, 0, count, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 5);
	results_free(w);
	results_free(r);
}

Test(results, never_over_an_existing_run)
{
	char p1[4096], p2[4096];
	struct results *r1, *r2;
	write_run("s1", p1, sizeof(p1), &r1);
	write_run("s1", p2, sizeof(p2), &r2);
	cr_assert_str_neq(p1, p2);
	cr_assert_str_neq(r1->trials_path, r2->trials_path);
	results_free(r1);
	results_free(r2);
}

Test(results, an_unwritable_directory_is_refused_at_once)
{
	char file[128], sub[160];
	struct results_writer *w;
	struct perr err;
	snprintf(file, sizeof(file), "%s/plain", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(sub, sizeof(sub), "%s/runs", file);
	cr_assert_lt(rw_open(sub, "t", NULL, &w, &err), 0);
	cr_assert_not_null(strstr(err.msg, "Not a directory"), "%s", err.msg);
}

/* Replaces the trials file of PATH's run with TEXT. */
static void put_trials(const struct results *r, const char *text)
{
	FILE *f = fopen(r->trials_path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static const char header[] = "{\"format\":\"punchlab-trials\",\"version\":2}\n";

static void expect_stream_error(const char *body, const char *want)
{
	char path[4096], text[1024];
	struct results *r;
	struct perr err;
	write_run("s1", path, sizeof(path), &r);
	snprintf(text, sizeof(text), "%s%s", header, body);
	put_trials(r, text);
	int n = 0;
	cr_assert_lt(results_foreach_trial(r, 0, count, &n, &err), 0, "%s: no error", body);
	cr_assert_not_null(strstr(err.msg, want), "got \"%s\", want \"%s\"", err.msg, want);
	results_free(r);
}

Test(results, broken_trials_files_are_refused_with_their_place)
{
	const char *ok = "{\"cell\":\"aaaa\",\"trial\":0,\"connected\":true}\n";
	char five[512] = "";
	for (int i = 0; i < 4; i++)
		strcat(five, ok);
	char trunc[600];
	snprintf(trunc, sizeof(trunc), "%s{\"cell\":\"aa", five);
	expect_stream_error(trunc, ".trials.ndjson:6:1: truncated line");
	char bad[600];
	snprintf(bad, sizeof(bad), "%s{\"cell\": nope}\n", five);
	expect_stream_error(bad, ".trials.ndjson:6:13: invalid token");
	snprintf(bad, sizeof(bad), "%s{\"trial\":0}\n", five);
	expect_stream_error(bad, ".trials.ndjson:6:1: a trial needs \"cell\"");
	expect_stream_error(five, "holds 4 trials, but t-");
	expect_stream_error("", "holds 0 trials");
}

Test(results, a_newer_trials_file_is_refused)
{
	char path[4096];
	struct results *r;
	struct perr err;
	write_run("s1", path, sizeof(path), &r);
	put_trials(r, "{\"format\":\"punchlab-trials\",\"version\":99}\n");
	struct trial_reader *tr;
	cr_assert_lt(trials_open(r, &tr, &err), 0);
	cr_assert_not_null(strstr(err.msg, ":1:1: trials format version 99 is newer"), "%s",
			   err.msg);
	results_free(r);
}

Test(results, gzipped_trials_are_found_and_read)
{
	char path[4096], buf[65536];
	struct results *w, *r;
	struct perr err;
	write_run("s1", path, sizeof(path), &w);
	FILE *in = fopen(w->trials_path, "r");
	size_t n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	char gzpath[4200];
	snprintf(gzpath, sizeof(gzpath), "%s.gz", w->trials_path);
	gzFile gz = gzopen(gzpath, "wb");
	cr_assert_eq(gzwrite(gz, buf, (unsigned)n), (int)n);
	gzclose(gz);
	cr_assert_eq(unlink(w->trials_path), 0);
	cr_assert_eq(results_load(path, &r, &err), 0, "%s", err.msg);
	cr_assert_str_eq(r->trials_path, gzpath);
	int k = 0;
	cr_assert_eq(results_foreach_trial(r, 0, count, &k, &err), 0, "%s", err.msg);
	cr_assert_eq(k, 5);
	/* and without either, the summaries still read but the trials say so */
	cr_assert_eq(unlink(gzpath), 0);
	results_free(r);
	cr_assert_eq(results_load(path, &r, &err), 0, "%s", err.msg);
	cr_assert_lt(results_foreach_trial(r, 0, count, &k, &err), 0);
	cr_assert_not_null(strstr(err.msg, "is missing"), "%s", err.msg);
	results_free(w);
	results_free(r);
}

Test(results, version_1_still_reads)
{
	struct results *r;
	struct perr err;
	cr_assert_eq(results_load(SOURCE_ROOT "/tests/data/results/fixture.json", &r, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(r->version, 1);
	cr_assert_eq(r->ncells, 6);
	int n = 0;
	cr_assert_eq(results_foreach_trial(r, 0, count, &n, &err), 0, "%s", err.msg);
	cr_assert_eq((size_t)n, r->ntrials);
	results_free(r);
	cr_assert_lt(results_load(SOURCE_ROOT "/tests/data/results/newer.json", &r, &err), 0);
	cr_assert_not_null(strstr(err.msg, "version 3 is newer than this punchlab reads (2)"), "%s",
			   err.msg);
}

Test(results, merge_joins_shards_and_refuses_duplicates)
{
	char p1[4096], p2[4096], out[4096];
	struct results *r1, *r2, *m;
	struct perr err;
	write_run("s1", p1, sizeof(p1), &r1);
	write_run("s1", p2, sizeof(p2), &r2);
	const char *both[] = {p1, p2};
	cr_assert_lt(results_merge(both, 2, dir, NULL, 0, out, sizeof(out), &m, &err), 0);
	cr_assert_not_null(strstr(err.msg, "trial aaaa/0 is in two of the files"), "%s", err.msg);
	/* shards: the second file's trials are renumbered as another part of the run */
	put_trials(r2, "{\"format\":\"punchlab-trials\",\"version\":2}\n"
		       "{\"cell\":\"aaaa\",\"trial\":7,\"connected\":false,\"reason\":\"rst\"}\n"
		       "{\"cell\":\"bbbb\",\"trial\":7,\"connected\":true}\n"
		       "{\"cell\":\"bbbb\",\"trial\":8,\"connected\":true}\n"
		       "{\"cell\":\"aaaa\",\"trial\":8,\"connected\":true}\n"
		       "{\"cell\":\"aaaa\",\"trial\":9,\"connected\":true}\n");
	cr_assert_eq(results_merge(both, 2, dir, "m", 0, out, sizeof(out), &m, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(m->ntrials, 10);
	const struct rcell *a = results_cell(m, "aaaa"), *b = results_cell(m, "bbbb");
	cr_assert_eq(a->n, 7);
	cr_assert_eq(a->k, 5);
	cr_assert_eq(b->n, 3);
	cr_assert_eq(b->k, 2);
	cr_assert_eq(a->nfail, 2, "mispredicted and rst");
	results_free(m);
	write_run("s2", p2, sizeof(p2), &m);
	cr_assert_lt(results_merge(both, 2, dir, NULL, 0, out, sizeof(out), NULL, &err), 0);
	cr_assert_not_null(strstr(err.msg, "another suite"), "%s", err.msg);
	results_free(m);
	results_free(r1);
	results_free(r2);
}

/* One shard's run of a 3-cell suite: cell CELL, two trials; metadata.shard is
 * SHARD (NULL: none). */
static void write_shard(const char *shard, const char *cell, bool interrupted, char *path,
			size_t len)
{
	struct results_writer *w;
	struct results *r;
	struct perr err;
	json_t *h = json_pack("{s:s}", "suite_sha256", "s1");
	cr_assert_eq(rw_open(dir, "sh", h, &w, &err), 0, "%s", err.msg);
	json_decref(h);
	cr_assert_eq(rw_cell(w, cell, NULL), 0);
	for (int i = 0; i < 2; i++) {
		json_t *tr = trial(cell, i, true, NULL, 100, 1);
		cr_assert_eq(rw_trial(w, tr, &err), 0, "%s", err.msg);
		json_decref(tr);
	}
	json_t *md = json_pack("{s:s, s:b}", "start_utc", "2026-01-01T00:00:00Z", "interrupted",
			       interrupted);
	if (shard)
		json_object_set_new(md, "shard", json_string(shard));
	json_t *su = json_pack("{s:s, s:s, s:i, s:i}", "file", "/x/t.json", "sha256", "s1",
			       "trials", 2, "cells", 3);
	cr_assert_eq(rw_finish(w, md, su, path, len, &r, &err), 0, "%s", err.msg);
	json_decref(md);
	json_decref(su);
	results_free(r);
	rw_free(w);
}

Test(results, merge_of_expected_shards_names_the_missing_and_interrupted)
{
	char p1[4096], p2[4096], p3[4096], px[4096], out[4096], why[256];
	struct results *m;
	struct perr err;
	write_shard("1/3", "aaaa", false, p1, sizeof(p1));
	write_shard("2/3", "bbbb", true, p2, sizeof(p2));
	write_shard("3/3", "cccc", false, p3, sizeof(p3));
	const char *two[] = {p1, p3};
	cr_assert_eq(results_merge(two, 2, dir, NULL, 3, out, sizeof(out), &m, &err), 0, "%s",
		     err.msg);
	cr_assert(results_incomplete(m, why, sizeof(why)));
	cr_assert_str_eq(why, "shard 2 of 3 missing: 1 of 3 cells without trials");
	json_t *inc = json_object_get(m->metadata, "incomplete");
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(inc, "missing_shards"), 0)),
		     2);
	cr_assert_null(json_object_get(m->metadata, "shard"), "no one shard's K/N any more");
	cr_assert_eq(m->ncells, 2);
	results_free(m);
	/* an interrupted shard is named too */
	const char *all[] = {p1, p2, p3};
	cr_assert_eq(results_merge(all, 3, dir, NULL, 3, out, sizeof(out), &m, &err), 0, "%s",
		     err.msg);
	cr_assert(results_incomplete(m, why, sizeof(why)));
	cr_assert_str_eq(why, "shard 2 interrupted: 0 of 3 cells without trials");
	results_free(m);
	/* without the expectation nothing is marked */
	cr_assert_eq(results_merge(two, 2, dir, NULL, 0, out, sizeof(out), &m, &err), 0, "%s",
		     err.msg);
	cr_assert_not(results_incomplete(m, why, sizeof(why)));
	cr_assert_str_eq(why, "");
	results_free(m);
	/* every shard, none interrupted: complete */
	write_shard("2/3", "bbbb", false, p2, sizeof(p2));
	cr_assert_eq(results_merge(all, 3, dir, NULL, 3, out, sizeof(out), &m, &err), 0, "%s",
		     err.msg);
	cr_assert_null(json_object_get(m->metadata, "incomplete"));
	results_free(m);
	/* a file that is no shard of 3, or no shard at all, is refused */
	write_shard("2/4", "bbbb", false, px, sizeof(px));
	const char *bad[] = {p1, px};
	cr_assert_lt(results_merge(bad, 2, dir, NULL, 3, out, sizeof(out), NULL, &err), 0);
	cr_assert_not_null(strstr(err.msg, "not a shard of 3 (its metadata.shard is \"2/4\")"),
			   "%s", err.msg);
	write_shard(NULL, "bbbb", false, px, sizeof(px));
	cr_assert_lt(results_merge(bad, 2, dir, NULL, 3, out, sizeof(out), NULL, &err), 0);
	cr_assert_not_null(strstr(err.msg, "not a shard of 3 (its metadata.shard is absent)"),
			   "%s", err.msg);
}

Test(results, copy_trials_keeps_each_trial_number_once_below_the_limit)
{
	char path[4096];
	struct results *r;
	struct results_writer *w;
	struct perr err;
	write_run("s1", path, sizeof(path), &r);
	cr_assert_eq(rw_open(dir, "resumed", NULL, &w, &err), 0, "%s", err.msg);
	cr_assert_eq(rw_cell(w, "aaaa", NULL), 0);
	cr_assert_eq(rw_copy_trials(w, r, NULL, 2, &err), 0, "%s", err.msg);
	cr_assert_eq(rw_cell_trials(w, "aaaa"), 2);
	cr_assert_eq(rw_cell_trials(w, "bbbb"), 0, "undeclared cells are left out");
	/* from the trials file alone, as after a kill */
	cr_assert_eq(rw_cell(w, "bbbb", NULL), 0);
	cr_assert_eq(rw_copy_trials(w, NULL, r->trials_path, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(rw_cell_trials(w, "aaaa"), 4, "trials 0 and 1 are not copied twice");
	cr_assert_eq(rw_cell_trials(w, "bbbb"), 1);
	for (unsigned t = 0; t < 4; t++)
		cr_assert(rw_cell_has(w, "aaaa", t), "trial %u", t);
	cr_assert(!rw_cell_has(w, "aaaa", 4));
	cr_assert(rw_cell_has(w, "bbbb", 0) && !rw_cell_has(w, "bbbb", 1));
	rw_free(w);
	results_free(r);
}

/* a version 2 envelope up to its cells */
#define HEAD "{\"format\": \"punchlab-results\", \"version\": 2, \"metadata\": {}, \"suite\": {},"

Test(results, malformed_envelopes_point_at_the_value)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"[]", ":1:1: not a punchlab results file"},
	    {"{\"format\": \"x\"}", ":1:12: not a punchlab results file"},
	    {"{\"format\": \"punchlab-results\", \"version\": 2, \"metadata\": {}, \"suite\": {},"
	     " \"cells\": [], \"trials_file\": \"a/b\", \"trials_count\": 0}",
	     ":1:103: \"trials_file\" must name a file beside this one"},
	    {"{\"format\": \"punchlab-results\", \"version\": 2, \"metadata\": {}, \"suite\": {},"
	     " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2, \"successes\": 3}]}",
	     ":1:137: a cell needs \"successes\", a whole number from 0 to its trials"},
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2, \"successes\": -1}]}",
	     ":1:137: a cell needs \"successes\", a whole number from 0 to its trials"},
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2}]}",
	     ":1:85: a cell needs \"successes\", a whole number from 0 to its trials"},
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 1e308, \"successes\": 3}]}",
	     ":1:121: a cell needs \"trials\", a whole number"},
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 1e999, \"successes\": 3}]}",
	     ":1:121: number 1e999 out of range"},
	    {"{\"format\": \"punchlab-results\", \"version\": 0}",
	     ":1:43: \"version\" must be a whole number from 1 to 2"},
	    /* every number of a cell within its range, not only the counts */
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2, \"successes\": 1,"
		  " \"wilson95\": [0.1, 2.5]}]}",
	     ":1:152: \"wilson95\" must be [low, high] with 0 <= low <= high <= 1"},
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2, \"successes\": 1,"
		  " \"prediction_hit_rate\": 2.5}]}",
	     ":1:163: \"prediction_hit_rate\" must be a number from 0 to 1, or null"},
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2, \"successes\": 1,"
		  " \"rounds_median\": -1}]}",
	     ":1:157: \"rounds_median\" must be a number from 0 to"},
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2, \"successes\": 1,"
		  " \"failures\": {\"rst\": 1, \"timeout\": 1}}]}",
	     ":1:174: a failure count must be a whole number, at most the cell's failed trials (1 in all)"},
	    /* relayed trials are neither successes nor failures */
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2, \"successes\": 1,"
		  " \"relayed\": 2}]}",
	     "\"relayed\" must be a whole number, at most the trials that are not successes"},
	    {HEAD " \"cells\": [{\"id\": \"x\", \"fields\": {}, \"trials\": 2, \"successes\": 0,"
		  " \"relayed\": 1, \"failures\": {\"rst\": 2}}]}",
	     "a failure count must be a whole number, at most the cell's failed trials (1 in all)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[128];
		struct results *r;
		struct perr err;
		snprintf(path, sizeof(path), "%s/bad%zu.json", dir, i);
		FILE *f = fopen(path, "w");
		fputs(cases[i].text, f);
		fclose(f);
		cr_assert_lt(results_load(path, &r, &err), 0, "case %zu loaded", i);
		cr_assert_not_null(strstr(err.msg, cases[i].want), "case %zu: got \"%s\", want \"%s\"",
				   i, err.msg, cases[i].want);
	}
}

Test(results, light_reading_leaves_out_the_timeline_only)
{
	char path[4096];
	struct results *r;
	struct perr err;
	write_run("s1", path, sizeof(path), &r);
	/* the timeline in every position, with brackets and quotes in its strings */
	static const char *const lines[] = {
	    "{\"cell\":\"aaaa\",\"trial\":0,\"connected\":true,\"capture\":{\"timeline\":[{\"at\":"
	    "\"x]\\\"}\"}],\"syns_crossed\":true}}\n",
	    "{\"cell\":\"aaaa\",\"trial\":1,\"connected\":true,\"capture\":{\"syns_crossed\":true,"
	    "\"timeline\":[[],{}]}}\n",
	    "{\"cell\":\"aaaa\",\"trial\":2,\"connected\":true,\"capture\":{\"a\":1,\"timeline\":[],"
	    "\"syns_crossed\":true}}\n",
	    "{\"cell\":\"aaaa\",\"trial\":3,\"connected\":true,\"note\":\"\\\"timeline\\\":[\","
	    "\"capture\":{\"syns_crossed\":true}}\n",
	    "{\"cell\":\"aaaa\",\"trial\":4,\"connected\":true,\"capture\":{\"timeline\":[]}}\n"};
	char text[2048];
	snprintf(text, sizeof(text), "%s%s%s%s%s%s", header, lines[0], lines[1], lines[2], lines[3],
		 lines[4]);
	put_trials(r, text);
	struct trial_reader *tr;
	json_t *t;
	cr_assert_eq(trials_open(r, &tr, &err), 0, "%s", err.msg);
	trials_set_flags(tr, TRIALS_NO_TIMELINE);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(trials_next(tr, &t, &err), 1, "line %d: %s", i, err.msg);
		json_t *cap = json_object_get(t, "capture");
		cr_assert_null(json_object_get(cap, "timeline"), "line %d", i);
		cr_assert_eq(json_is_true(json_object_get(cap, "syns_crossed")), i < 4, "line %d", i);
		cr_assert_eq(json_integer_value(json_object_get(t, "trial")), i);
		size_t len;
		const char *raw = trials_raw(tr, &len);
		cr_assert_eq(len, strlen(lines[i]));
		cr_assert(!memcmp(raw, lines[i], len), "the raw line is whole");
	}
	cr_assert_str_eq(json_string_value(json_object_get(t, "cell")), "aaaa");
	cr_assert_eq(trials_next(tr, &t, &err), 0, "%s", err.msg);
	trials_close(tr);
	results_free(r);
}

/* A trial connected through the relay (path "relay") is counted apart:
 * not a success, not a failure, in no rate; its JSON says "relayed". */
Test(results, relayed_trials_are_not_successes)
{
	struct cell_acc a = {0};
	struct rcell c = {0};
	json_t *relayed = json_pack("{s:i, s:b, s:s, s:n}", "rounds", 1, "connected", 1, "path",
				    "relay", "time_to_connect_ms");
	json_t *direct = json_pack("{s:i, s:b, s:s, s:f}", "rounds", 1, "connected", 1, "path",
				   "direct", "time_to_connect_ms", 12.0);
	json_t *failed = json_pack("{s:i, s:b, s:s}", "rounds", 3, "connected", 0, "reason", "rst");
	cr_assert_eq(cell_acc_add(&a, relayed), 0);
	cr_assert_eq(cell_acc_add(&a, direct), 0);
	cr_assert_eq(cell_acc_add(&a, failed), 0);
	cr_assert_eq(cell_acc_summary(&a, &c), 0);
	cr_assert_eq(c.n, 3);
	cr_assert_eq(c.k, 1);
	cr_assert_eq(c.relayed, 1);
	cr_assert_eq(c.nfail, 1);
	cr_assert_float_eq(c.rate, 1.0 / 3, 1e-9);
	json_t *j = rcell_to_json(&c);
	cr_assert_eq(json_integer_value(json_object_get(j, "relayed")), 1);
	cr_assert_eq(json_integer_value(json_object_get(j, "successes")), 1);
	json_decref(j);
	c.relayed = 0; /* none: no field, as before relays */
	j = rcell_to_json(&c);
	cr_assert_null(json_object_get(j, "relayed"));
	json_decref(j);
	json_decref(relayed);
	json_decref(direct);
	json_decref(failed);
	cell_acc_free(&a);
	rcell_free(&c);
}
