/* SPDX-License-Identifier: MIT */
/*
 * Which cells changed significantly between two results files (Fisher's
 * exact test on their 2x2 tables of connected/not): what a researcher puts
 * in CI to regression-test a heuristic.
 */
#pragma once
#include <jansson.h>
#include <stdio.h>

/* Prints the report to F; returns the number of cells that got
 * significantly worse at level ALPHA. */
int diff_results(json_t *old_res, json_t *new_res, double alpha, FILE *f);
