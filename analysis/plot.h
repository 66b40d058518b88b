/* SPDX-License-Identifier: MIT */
/*
 * Plots of a results file, as scenes (figure.h) drawn by render.c:
 *
 * heatmap: success rate in viridis, the rate and connected/trials printed
 * in each cell; one field down and one across (--rows/--cols, by default
 * the two that vary most), one panel per combination of the other fields
 * that vary, panels in a grid, a colour legend.
 *
 * curve: success rate against a numeric field with Wilson 95 % bars, one
 * series per combination of the other fields that vary (Okabe-Ito colours
 * and a marker shape each), a legend below.
 *
 * Every label is measured: wrapped to its room or abbreviated with "…".
 */
#pragma once
#include <stdio.h>
#include "figure.h"
#include "render.h"
#include "results/results.h"
#include "util/perr.h"

enum plot_kind { PK_HEATMAP, PK_CURVE };

struct plot_opts {
	enum plot_kind kind;
	const char *x;		 /* curve: the numeric field across */
	const char *rows, *cols; /* heatmap: both or neither */
};

/* The scene of RES's plot, measured with R: 0, or -1 with ERR. */
int plot_scene(const struct results *res, const struct plot_opts *o, struct fig_render *r,
	       struct fig_scene *out, struct perr *err);
/* The plot of RES in FMT on F; NAME is F's for messages. */
int plot_write(const struct results *res, const struct plot_opts *o, enum fig_format fmt, FILE *f,
	       const char *name, struct perr *err);
