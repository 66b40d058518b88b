/* SPDX-License-Identifier: MIT */
/*
 * Replaying recorded port sequences through the heuristics: for every
 * position after the second of a sequence, each heuristic predicts from the
 * ports before it; hit@k is how often the actual port is among its first k
 * candidates. Sequences come from results files (each trial's rounds of
 * ports S saw, plus the punch's port where it is known) or from trace files
 * (docs/traces.md).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "util/perr.h"

struct trace {
	char source[96];
	int n;
	uint16_t port[64];
};

struct traces {
	struct trace *t;
	int n, cap;
};

/* Adds the sequences of PATH (a results file or a trace file). */
int traces_load(struct traces *ts, const char *path, struct perr *err);
void traces_free(struct traces *ts);
/* Writes TS in the trace format. */
void traces_write(const struct traces *ts, FILE *f);

/* The table: one row per heuristic (all, or the one named) and source;
 * KS: the k of the hit@k columns (ascending). */
int predict_report(const struct traces *ts, const char *heuristic, const int *ks, int nk, FILE *f,
		   struct perr *err);
