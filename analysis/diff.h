/* SPDX-License-Identifier: MIT */
/*
 * Which cells changed significantly between two results files (Fisher's
 * exact test on their 2x2 tables of connected/not): what a researcher puts
 * in CI to regression-test a heuristic.
 */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include "results/results.h"

/* What counts as a regression. */
struct diff_opts {
	double alpha;	    /* Fisher's exact test at this level */
	bool allow_missing; /* a cell of OLD that NEW lacks is not a regression */
};

/* 0 when OLD and NEW are runs of one suite (the same suite.sha256), else
 * -EINVAL with ERR saying which two. */
int diff_same_suite(const struct results *old_res, const struct results *new_res, struct perr *err);
/* Prints the report to F; returns the number of regressions: cells that got
 * significantly worse, cells of OLD missing from NEW (unless allowed), and 1
 * when no cell is in both (nothing was compared, which no gate may pass). */
int diff_results(const struct results *old_res, const struct results *new_res,
		 const struct diff_opts *o, FILE *f);
