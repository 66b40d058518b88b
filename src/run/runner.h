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
	int shard_k, shard_n;	     /* run cell i only when i % n == k - 1 (n = 0: all) */
	json_t *resume;	      /* an earlier (interrupted) run of this suite: its trials stay */
	const char *pcap_dir; /* also write each capture point's packets there (NULL: no files) */
};

/* Runs S; *OUT_PATH (LEN bytes) gets the results file. 0, 1 if interrupted
 * (results so far written), -1 on error (ERR says why). */
int run_suite(const struct suite *s, const struct run_opts *o, char *out_path, size_t len,
	      struct perr *err);

/* Reads a results file: the envelope checked (format, version not newer
 * than ours); errors as FILE:LINE:COL. */
int results_load(const char *path, json_t **out, struct perr *err);

/* Joins the results files PATHS (shards of one suite) into a new file in
 * OUTDIR; no (cell, trial) may appear twice. */
int run_merge(const char *const *paths, int n, const char *outdir, const char *command_line,
	      char *out_path, size_t len, struct perr *err);

/* A plain table of a results object on F: one line per cell. */
void run_print_table(json_t *results, FILE *f);
