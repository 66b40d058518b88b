/* SPDX-License-Identifier: MIT */
/*
 * One self-contained HTML page of a results file: the run's metadata, the
 * summary table, the heat map (and a curve per numeric field that varies)
 * as inline SVG images, failures by reason per cell, and per cell its
 * trials, each with the ladder of its capture (ladder.h), drawn by the
 * page's own script from JSON embedded per cell when the cell is opened.
 * Nothing is fetched: a Content-Security-Policy forbids it, and there is
 * nothing to fetch. #t-CELL-TRIAL opens a trial.
 */
#pragma once
#include <stdio.h>
#include "results/results.h"
#include "util/perr.h"

/* The page of RES on F: 0, or -1 with ERR (a malformed trial, a figure). */
int report_write(const struct results *res, FILE *f, struct perr *err);
