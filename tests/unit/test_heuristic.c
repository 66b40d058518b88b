// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <string.h>
#include "punch/heuristic.h"

static int run(const char *name, const uint16_t *ports, int n, int k, uint16_t *out)
{
	const struct heuristic *h = heuristic_by_name(name);
	cr_assert_not_null(h, "no heuristic %s", name);
	struct heur_obs obs[32];
	for (int i = 0; i < n; i++)
		obs[i] = (struct heur_obs){ports[i], i * 0.1};
	return h->predict(obs, n, k, 1, out);
}

Test(heuristic, registry)
{
	/* the shipped heuristics in this order; a new one may go anywhere */
	static const char *const shipped[] = {"preserve",   "last",   "delta",
					      "delta-mode", "window", "random"};
	size_t k = 0, n = sizeof(shipped) / sizeof(shipped[0]);
	for (size_t i = 0; heuristics[i] && k < n; i++)
		k += !strcmp(heuristics[i]->name, shipped[k]);
	cr_assert_eq(k, n, "not the shipped heuristics in order: %s", heuristic_names());
}

Test(heuristic, preserve_repeats_what_was_seen)
{
	uint16_t seen[] = {4000, 4000, 4000}, out[4];
	cr_assert_eq(run("preserve", seen, 3, 4, out), 1);
	cr_assert_eq(out[0], 4000);
	uint16_t moving[] = {10, 20, 30};
	cr_assert_eq(run("preserve", moving, 3, 2, out), 2);
	cr_assert_eq(out[0], 30);
	cr_assert_eq(out[1], 20);
}

Test(heuristic, last_is_one_more_then_neighbours)
{
	uint16_t seen[] = {1026, 1027, 1028}, out[3];
	cr_assert_eq(run("last", seen, 3, 3, out), 3);
	cr_assert_eq(out[0], 1029);
	cr_assert_eq(out[1], 1030);
	cr_assert_eq(out[2], 1028);
}

Test(heuristic, delta_follows_the_last_difference)
{
	uint16_t even[] = {40000, 40002, 40004}, out[1];
	run("delta", even, 3, 1, out);
	cr_assert_eq(out[0], 40006);
	uint16_t jump[] = {100, 101, 105};
	run("delta", jump, 3, 1, out);
	cr_assert_eq(out[0], 109);
	uint16_t one[] = {5000};
	run("delta", one, 1, 1, out);
	cr_assert_eq(out[0], 5001);
	/* across the top of the port space the short way round */
	uint16_t wrap[] = {65533, 65535};
	run("delta", wrap, 2, 1, out);
	cr_assert_eq(out[0], 2);
}

Test(heuristic, delta_mode_ignores_a_background_jump)
{
	/* +1, +1, +3 (someone else took two ports), +1: the mode is 1 */
	uint16_t seen[] = {1025, 1026, 1027, 1030, 1031}, out[1];
	run("delta-mode", seen, 5, 1, out);
	cr_assert_eq(out[0], 1032);
	run("delta", seen, 5, 1, out);
	cr_assert_eq(out[0], 1032);
	uint16_t seen2[] = {1025, 1026, 1027, 1030};
	run("delta", seen2, 4, 1, out);
	cr_assert_eq(out[0], 1033, "delta follows the jump");
	run("delta-mode", seen2, 4, 1, out);
	cr_assert_eq(out[0], 1031, "delta-mode does not");
}

Test(heuristic, window_walks_the_delta)
{
	uint16_t seen[] = {600, 602, 604}, out[4];
	cr_assert_eq(run("window", seen, 3, 4, out), 4);
	uint16_t want[] = {606, 608, 610, 612};
	cr_assert_eq(memcmp(out, want, sizeof(want)), 0);
}

Test(heuristic, random_is_distinct_and_repeatable)
{
	uint16_t seen[] = {1}, a[8], b[8];
	cr_assert_eq(run("random", seen, 1, 8, a), 8);
	run("random", seen, 1, 8, b);
	cr_assert_eq(memcmp(a, b, sizeof(a)), 0);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < i; j++)
			cr_assert_neq(a[i], a[j]);
}

Test(heuristic, candidates_are_distinct_and_valid)
{
	uint16_t seen[] = {65534, 65535, 1}, out[16];
	for (size_t i = 0; heuristics[i]; i++) {
		int n = heuristics[i]->predict(
		    (struct heur_obs[]){{seen[0], 0}, {seen[1], 1}, {seen[2], 2}}, 3, 16, 5, out);
		cr_assert_gt(n, 0, "%s", heuristics[i]->name);
		for (int a = 0; a < n; a++) {
			cr_assert_neq(out[a], 0, "%s gave port 0", heuristics[i]->name);
			for (int b = 0; b < a; b++)
				cr_assert_neq(out[a], out[b], "%s repeats %u", heuristics[i]->name,
					      out[a]);
		}
	}
}
