/* SPDX-License-Identifier: MIT */
/*
 * The experiment runner: cells side by side (src/run/cell.c runs each), every
 * trial streamed to the results as it ends (src/results/), the summaries and
 * metadata written at the end (docs/results.md).
 */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "results/results.h"
#include "suite.h"
#include "util/perr.h"

struct run_opts {
	const char *outdir;	     /* where the results go */
	int jobs;		     /* labs side by side (cells, or a cell's slices) */
	int trials;		     /* > 0: overrides the suite's */
	const char *command_line;    /* recorded in the metadata */
	bool progress;		     /* a progress line on stderr */
	volatile sig_atomic_t *stop; /* set on SIGINT/SIGTERM: finish the trial, write, stop */
	int shard_k, shard_n;	     /* run cell i only when i % n == k - 1 (n = 0: all) */
	/* an earlier run of this suite (its RUN.json, or the trials file a
	 * killed run left): its trials stay, each cell goes on after them */
	const char *resume;
	const char *pcap_dir; /* also write each capture point's packets there (NULL: no files) */
	/* a lab of its own for every cell; else a worker keeps its lab for its
	 * next cell when they need the same one (cell_lab_key) */
	bool fresh_labs;
};

/* Trials FIRST .. END - 1 of cell CELL (its index in the suite): what one
 * lab runs. */
struct slice {
	int cell, first, end;
};
/* The shortest slice run_plan cuts a cell into. */
#define RUN_SLICE_MIN 25

/*
 * What JOBS workers run: of each of the NCELLS cells CELLS (indexes), the
 * trials 0 .. TRIALS - 1 for which HAS (called with CTX) says no, as slices
 * in cell order. Up to as many cells as workers, a cell is one slice (one
 * lab, its hosts' allocators going on from trial to trial as a host's do);
 * with more workers than cells lacking trials, each such cell is cut into
 * about JOBS / cells slices of at least RUN_SLICE_MIN trials, each run by a
 * lab of its own, side by side. *OUT (malloc'ed; NULL when there is nothing
 * to run) gets them, *NOUT how many. 0 or -ENOMEM.
 */
int run_plan(const int *cells, int ncells, int trials, bool (*has)(void *ctx, int cell, int trial),
	     void *ctx, int jobs, struct slice **out, int *nout);
/* Whether cell I is in O's shard (every cell without --shard). */
bool run_in_shard(const struct run_opts *o, int i);
/* How many cells of S are in O's shard. */
int run_shard_cells(const struct suite *s, const struct run_opts *o);
/* The trials per cell: O's when it overrides, else S's. */
int run_trials(const struct suite *s, const struct run_opts *o);
/* What run_suite checks before it builds any lab, and all a dry run can:
 * each topology of the shard's cells loads with the roles a run needs
 * (cell_topology; each file once). 0, or -EINVAL with ERR. */
int run_check(const struct suite *s, const struct run_opts *o, struct perr *err);

/*
 * Runs S. *OUT_PATH (LEN bytes) gets the results file and *OUT (if given)
 * the results. 0, 1 if interrupted (results so far written), -1 on error
 * (ERR says why; trials already run stay in the trials file, which ERR
 * names, for --resume).
 */
int run_suite(const struct suite *s, const struct run_opts *o, char *out_path, size_t len,
	      struct results **out, struct perr *err);
