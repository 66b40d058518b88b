// SPDX-License-Identifier: MIT
/*
 * run/verdict.c: why a trial failed, the same behind every NAT (issue 12,
 * item 6). The trials in tests/data/verdict/recorded.ndjson are lines of
 * results/reference as the labs wrote them (made with home-2009 NATs):
 *   0: linux-2.6 x windows-xp, two-nats: mispredicted (results/reference/
 *      paper-table1-20261125T181626Z.json, cell 63e017cbe8dc, trial 0);
 *   1: windows-xp x windows-xp, two-nats: connected (cell facd9b276a33, trial 0);
 *   2: the same on busy hosts: a background allocation moved A's port
 *      (paper-table1-busy-20261125T183227Z.json, cell aa2730001c5a);
 *   3: both behind one NAT, no hairpinning (paper-fig2-20261125T181631Z.json,
 *      cell 958dc0f5012e, trial 0).
 * What a dropping NAT changes in a record is made from them here: its RSTs
 * gone, and the reason the peers gave there before this fix ("timeout").
 */
#include <criterion/criterion.h>
#include <string.h>
#include "run/verdict.h"

static json_t *recorded(size_t line)
{
	json_error_t e;
	char path[4096];
	snprintf(path, sizeof(path), "%s/tests/data/verdict/recorded.ndjson", SOURCE_ROOT);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *buf = NULL;
	size_t cap = 0;
	for (size_t i = 0; i <= line; i++)
		cr_assert_gt(getline(&buf, &cap, f), 0, "no line %zu in %s", line, path);
	fclose(f);
	json_t *t = json_loads(buf, 0, &e);
	free(buf);
	cr_assert_not_null(t, "line %zu: %s", line, e.text);
	return t;
}

static const char *reason(json_t *t)
{
	return json_string_value(json_object_get(t, "reason"));
}

/* What a dropping NAT (rfc5382) leaves of a record: no RST on the wire, and
 * the peers' reason as S gave it when it could not judge ("timeout"). */
static void as_behind_a_dropping_nat(json_t *t)
{
	json_t *tl = json_object_get(json_object_get(t, "capture"), "timeline");
	for (size_t i = json_array_size(tl); i-- > 0;)
		if (strchr(json_string_value(json_object_get(json_array_get(tl, i), "flags")), 'R'))
			json_array_remove(tl, i);
	json_object_set_new(t, "reason", json_string("timeout"));
}

/* A connected record turned into a failure: no SYN-ACK ever came. */
static void as_unanswered(json_t *t, const char *peers)
{
	json_t *tl = json_object_get(json_object_get(t, "capture"), "timeline");
	for (size_t i = json_array_size(tl); i-- > 0;) {
		json_t *e = json_array_get(tl, i);
		const char *src = json_string_value(json_object_get(e, "src"));
		if (!strcmp(json_string_value(json_object_get(e, "flags")), "SA") &&
		    !strstr(src, ":7777"))
			json_array_remove(tl, i);
	}
	json_object_set_new(t, "connected", json_false());
	json_object_set_new(t, "reason", json_string(peers));
}

Test(verdict, a_recorded_misprediction_is_mispredicted)
{
	json_t *t = recorded(0);
	struct verdict_in in;
	verdict_from_trial(t, &in);
	/* A (linux-2.6) punched from 44897; S had told B 58082 */
	cr_assert_eq(in.side[0].npredicted, 1);
	cr_assert_eq(in.side[0].predicted[0], 58082);
	cr_assert_eq(verdict_hit(&in.side[0]), 0);
	cr_assert_eq(verdict_hit(&in.side[1]), 1, "windows-xp's port was right");
	cr_assert_str_eq(verdict_reason(&in), "mispredicted");
	json_decref(t);
}

Test(verdict, the_same_misprediction_behind_a_dropping_nat_is_mispredicted_too)
{
	for (size_t line = 0; line < 3; line += 2) {
		json_t *t = recorded(line);
		as_behind_a_dropping_nat(t);
		verdict_apply(t);
		cr_assert_str_eq(reason(t), "mispredicted", "trial line %zu", line);
		json_decref(t);
	}
}

Test(verdict, background_load_moved_one_side)
{
	json_t *t = recorded(2);
	struct verdict_in in;
	verdict_from_trial(t, &in);
	cr_assert_eq(in.side[0].nused, 1);
	cr_assert_eq(in.side[0].used[0], 2545, "A's NAT sent 2545, S said 2544");
	cr_assert_eq(verdict_hit(&in.side[0]), 0);
	cr_assert_eq(verdict_hit(&in.side[1]), 1);
	cr_assert(in.rst, "home-2009 answered the SYN to 2544");
	json_decref(t);
}

Test(verdict, a_connected_trial_keeps_no_reason_and_its_hits)
{
	json_t *t = recorded(1);
	verdict_apply(t);
	cr_assert(json_is_null(json_object_get(t, "reason")));
	json_t *hit = json_object_get(t, "prediction_hit");
	cr_assert(json_is_true(json_object_get(hit, "a")) &&
		  json_is_true(json_object_get(hit, "b")));
	json_decref(t);
}

Test(verdict, right_predictions_and_nothing_back_is_timeout_whatever_the_peers_said)
{
	static const char *const said[] = {"timeout", "mispredicted", "rst"};
	for (size_t k = 0; k < 3; k++) {
		json_t *t = recorded(1);
		as_unanswered(t, said[k]);
		verdict_apply(t);
		cr_assert_str_eq(reason(t), "timeout", "the peers said %s", said[k]);
		json_decref(t);
	}
}

Test(verdict, right_predictions_and_a_rst_back_is_rst)
{
	json_t *t = recorded(1);
	as_unanswered(t, "timeout");
	json_t *tl = json_object_get(json_object_get(t, "capture"), "timeline");
	json_array_append_new(tl, json_pack("{s:f, s:s, s:s, s:s, s:s}", "ms", 170.0, "at", "nat-a",
					    "src", "198.18.0.3:4086", "dst", "198.18.0.2:3168",
					    "flags", "AR"));
	verdict_apply(t);
	cr_assert_str_eq(reason(t), "rst");
	json_decref(t);
}

Test(verdict, what_is_not_about_the_prediction_stays)
{
	json_t *t = recorded(3);
	verdict_apply(t);
	cr_assert_str_eq(reason(t), "no-hairpin");
	json_decref(t);
	static const char *const kept[] = {"verify-failed", "proxy-error", "peer-gone",
					   "server-error"};
	for (size_t k = 0; k < 4; k++) {
		t = recorded(0);
		json_object_set_new(t, "reason", json_string(kept[k]));
		verdict_apply(t);
		cr_assert_str_eq(reason(t), kept[k]);
		json_decref(t);
	}
}

Test(verdict, a_punch_the_capture_did_not_see_leaves_the_peers_reason)
{
	json_t *t = recorded(0);
	json_array_clear(json_object_get(json_object_get(t, "capture"), "timeline"));
	json_object_set_new(t, "reason", json_string("timeout"));
	verdict_apply(t);
	cr_assert_str_eq(reason(t), "timeout");
	json_decref(t);
}

Test(verdict, pure_cases)
{
	struct verdict_in in = {.side = {{.predicted = {1029}, .npredicted = 1},
					 {.predicted = {2000, 2001}, .npredicted = 2}}};
	cr_assert_str_eq(verdict_reason(&in), "timeout", "nothing seen, no reason given");
	in.side[0].used[in.side[0].nused++] = 1029;
	in.side[1].used[in.side[1].nused++] = 2001;
	cr_assert_str_eq(verdict_reason(&in), "timeout");
	in.rst = true;
	cr_assert_str_eq(verdict_reason(&in), "rst");
	in.side[1].used[0] = 2002;
	cr_assert_str_eq(verdict_reason(&in), "mispredicted", "whatever came back");
	in.rst = false;
	cr_assert_str_eq(verdict_reason(&in), "mispredicted");
	/* with --guesses, one port among the candidates is a hit */
	in.side[1].used[in.side[1].nused++] = 2000;
	cr_assert_str_eq(verdict_reason(&in), "timeout");
}
