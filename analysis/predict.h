/* SPDX-License-Identifier: MIT */
/*
 * Replaying recorded port sequences through the heuristics: for every
 * position after the first of a sequence, each heuristic predicts from the
 * ports before it; hit@k is how often the actual port is among its first k
 * candidates. Sequences come from results files (each trial's rounds of
 * ports S saw, plus the punch's port where it is known) or from trace files
 * (docs/traces.md). They are scored as they are read, so a results file of
 * any size is replayed in bounded memory.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "util/perr.h"

#define TRACE_MAX 64
#define PREDICT_MAX_K 16
#define PREDICT_MAX_HEURISTICS 32

struct trace {
	char source[96];
	int n;
	uint16_t port[TRACE_MAX];
};

struct predict;

/* Scores the NNAMES heuristics NAMES (built-ins' names, "all" for every
 * built-in one, or "exec:PROGRAM ARGS..." for an external one, started
 * here with TIMEOUT_MS per answer; none: "all") at the NK ascending k of KS
 * (1 to 64, at most PREDICT_MAX_K of them). */
int predict_new(const char *const *names, int nnames, int timeout_ms, const int *ks, int nk,
		struct predict **out, struct perr *err);
/* Reads the sequences of PATH (a results file or a trace file) and scores
 * them; with DUMP, also writes each in the trace format there. */
int predict_add_file(struct predict *p, const char *path, FILE *dump, struct perr *err);
/* Scores one sequence. */
int predict_add(struct predict *p, const struct trace *t);
/* The tables: one row per heuristic and source, in order of appearance;
 * then one per heuristic and k, each file read (a corpus) a column, with
 * the Wilson 95 % interval of every hit rate. */
void predict_report(const struct predict *p, FILE *f);
/* For each external heuristic that failed to answer: how often, and the
 * first failure. */
void predict_warnings(const struct predict *p, FILE *f);
void predict_free(struct predict *p);

/* Writes T in the trace format: "SOURCE: PORT PORT ...". */
void trace_write(const struct trace *t, FILE *f);
