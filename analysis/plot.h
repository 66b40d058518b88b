/* SPDX-License-Identifier: MIT */
/*
 * SVG plots of a results file: a heat map of success rate by OS pair (one
 * panel per combination of the other fields that vary, with a colour
 * legend), or success rate against a numeric field with Wilson interval
 * bars, one series per combination of the others.
 */
#pragma once
#include "results/results.h"
#include <stdio.h>
#include "util/perr.h"

int plot_heatmap(const struct results *res, FILE *f, struct perr *err);
int plot_curve(const struct results *res, const char *x_field, FILE *f, struct perr *err);
