/* SPDX-License-Identifier: MIT */
/* One tidy CSV row per trial, every cell field a column: for pandas or R.
 * The trials are streamed: any number of them in bounded memory. */
#pragma once
#include <stdio.h>
#include "results/results.h"
#include "util/perr.h"

/* 0, or -1 with ERR when the trials cannot be read. */
int export_csv(const struct results *res, FILE *f, struct perr *err);
