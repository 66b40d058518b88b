/* SPDX-License-Identifier: MIT */
/* One tidy CSV row per trial, every cell field a column: for pandas or R. */
#pragma once
#include <jansson.h>
#include <stdio.h>

void export_csv(json_t *results, FILE *f);
