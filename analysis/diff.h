/* SPDX-License-Identifier: MIT */
/*
 * Which cells changed significantly between two results files (Fisher's
 * exact test on their 2x2 tables of connected/not): what a researcher puts
 * in CI to regression-test a heuristic.
 */
#pragma once
#include <stdio.h>
#include "results/results.h"

/* Prints the report to F; returns the number of cells that got
 * significantly worse at level ALPHA. */
int diff_results(const struct results *old_res, const struct results *new_res, double alpha,
		 FILE *f);
