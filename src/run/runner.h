/* SPDX-License-Identifier: MIT */
/*
 * The experiment runner: for each cell of a suite, bring its topology up
 * once, run the trials in this process (the server, proxies and peers are
 * threads, each inside its node's namespace; nothing is spawned or rebuilt
 * per trial), take it down, and write one results file (docs/results.md).
 */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "suite.h"
#include "util/perr.h"

struct run_opts {
	const char *outdir;	     /* where the results file goes */
	int jobs;		     /* cells side by side */
	int trials;		     /* > 0: overrides the suite's */
	const char *command_line;    /* recorded in the metadata */
	bool progress;		     /* a progress line on stderr */
	volatile sig_atomic_t *stop; /* set on SIGINT/SIGTERM: finish the trial, write, stop */
};

/* Runs S; *OUT_PATH (LEN bytes) gets the results file. 0, 1 if interrupted
 * (results so far written), -1 on error (ERR says why). */
int run_suite(const struct suite *s, const struct run_opts *o, char *out_path, size_t len,
	      struct perr *err);

/* A plain table of a results object on F: one line per cell. */
void run_print_table(json_t *results, FILE *f);
