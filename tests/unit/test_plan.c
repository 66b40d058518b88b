// SPDX-License-Identifier: MIT
/* How the runner cuts cells into slices for its workers (run_plan). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "run/runner.h"

/* HAVE: NCELLS x TRIALS flags, by cell index */
struct have {
	const unsigned char *flags;
	int trials;
};

static bool has(void *ctx, int cell, int trial)
{
	const struct have *h = ctx;
	return h->flags && h->flags[cell * h->trials + trial];
}

static int plan(const int *cells, int ncells, int trials, const unsigned char *flags, int jobs,
		struct slice **out)
{
	struct have h = {flags, trials};
	int n = -1;
	cr_assert_eq(run_plan(cells, ncells, trials, has, &h, jobs, out, &n), 0);
	return n;
}

/* Every missing trial of every cell is in exactly one slice. */
static void covers(const struct slice *sl, int n, const int *cells, int ncells, int trials,
		   const unsigned char *flags)
{
	for (int k = 0; k < ncells; k++)
		for (int t = 0; t < trials; t++) {
			int in = 0;
			for (int i = 0; i < n; i++)
				in += sl[i].cell == cells[k] && sl[i].first <= t && t < sl[i].end;
			int want = flags && flags[cells[k] * trials + t] ? 0 : 1;
			cr_assert_eq(in, want, "cell %d trial %d in %d slices", cells[k], t, in);
		}
}

Test(plan, one_lab_per_cell_while_cells_last)
{
	int cells[] = {0, 1, 2};
	struct slice *sl;
	int n = plan(cells, 3, 100, NULL, 3, &sl);
	cr_assert_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sl[i].cell, i);
		cr_assert_eq(sl[i].first, 0);
		cr_assert_eq(sl[i].end, 100);
	}
	free(sl);
	n = plan(cells, 3, 100, NULL, 1, &sl);
	cr_assert_eq(n, 3, "fewer workers than cells: still one slice a cell");
	free(sl);
}

Test(plan, more_workers_than_cells_cut_cells)
{
	int cells[] = {4};
	struct slice *sl;
	int n = plan(cells, 1, 300, NULL, 2, &sl);
	cr_assert_eq(n, 2);
	cr_assert(sl[0].cell == 4 && sl[0].first == 0 && sl[0].end == 150);
	cr_assert(sl[1].cell == 4 && sl[1].first == 150 && sl[1].end == 300);
	free(sl);
	int two[] = {0, 1};
	n = plan(two, 2, 100, NULL, 8, &sl);
	cr_assert_eq(n, 8, "4 slices a cell of 25");
	covers(sl, n, two, 2, 100, NULL);
	for (int i = 0; i < n; i++)
		cr_assert_eq(sl[i].end - sl[i].first, 25);
	free(sl);
}

Test(plan, slices_are_never_shorter_than_the_minimum)
{
	int cells[] = {0};
	struct slice *sl;
	int n = plan(cells, 1, 60, NULL, 16, &sl);
	cr_assert_eq(n, 3, "60 trials in slices of 25, 25 and 10, not 16 of 4");
	covers(sl, n, cells, 1, 60, NULL);
	for (int i = 0; i < n - 1; i++)
		cr_assert_geq(sl[i].end - sl[i].first, RUN_SLICE_MIN);
	free(sl);
	n = plan(cells, 1, 10, NULL, 16, &sl);
	cr_assert_eq(n, 1);
	free(sl);
}

Test(plan, resumed_cells_run_exactly_what_they_lack)
{
	/* cell 0: 0-9 and 50-59 done (a split run stopped); cell 1 whole; cell 2 none */
	unsigned char flags[3 * 100] = {0};
	for (int t = 0; t < 10; t++)
		flags[t] = flags[50 + t] = 1;
	for (int t = 0; t < 100; t++)
		flags[100 + t] = 1;
	int cells[] = {0, 1, 2};
	struct slice *sl;
	for (int jobs = 1; jobs <= 12; jobs++) {
		int n = plan(cells, 3, 100, flags, jobs, &sl);
		covers(sl, n, cells, 3, 100, flags);
		for (int i = 0; i < n; i++)
			cr_assert_neq(sl[i].cell, 1, "a whole cell gets no slice");
		free(sl);
	}
	int n = plan(cells, 3, 100, flags, 1, &sl);
	cr_assert_eq(n, 3, "one worker: the two gaps of cell 0, then cell 2 whole");
	cr_assert(sl[0].first == 10 && sl[0].end == 50);
	cr_assert(sl[1].first == 60 && sl[1].end == 100);
	cr_assert(sl[2].cell == 2 && sl[2].first == 0 && sl[2].end == 100);
	free(sl);
}

Test(plan, nothing_to_run)
{
	unsigned char flags[20];
	for (int i = 0; i < 20; i++)
		flags[i] = 1;
	int cells[] = {0, 1};
	struct slice *sl;
	cr_assert_eq(plan(cells, 2, 10, flags, 4, &sl), 0);
	free(sl);
	cr_assert_eq(plan(cells, 0, 10, NULL, 4, &sl), 0);
	free(sl);
}
