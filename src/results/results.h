/* SPDX-License-Identifier: MIT */
/*
 * The results format (docs/results.md), and its one owner: the writer, the
 * streaming reader, merge and the cells' summaries live here; everyone else
 * sees a struct results and its typed cells, and streams the trials.
 *
 * Version 2 is two files: RUN.json (metadata, suite, one summary per cell)
 * and RUN.trials.ndjson beside it (a header line, then one compact trial a
 * line, appended as each trial ends, so a killed run loses only the trials
 * in flight). The trials file may be gzip-compressed afterwards
 * (RUN.trials.ndjson.gz): readers find either. Version 1 (one document with a
 * "trials" array) is still read.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "util/perr.h"

#define RESULTS_FORMAT "punchlab-results"
#define RESULTS_TRIALS_FORMAT "punchlab-trials"
#define RESULTS_VERSION 2

struct rfailure {
	char *reason;
	unsigned count;
};

/* One cell's summary: what tables, plots and diffs are made of. */
struct rcell {
	char id[64];
	json_t *fields; /* the cell's fields as the suite gave them (owned) */
	unsigned n, k;	/* trials, connected by a punch (not through a relay) */
	unsigned relayed; /* trials connected through a relay (path "relay"): not in k */
	double rate;	/* k / n; NAN when n == 0 */
	double lo, hi;	/* Wilson 95 % interval of the rate */
	double rounds_median, rounds_p90;
	double ttc_median_ms, ttc_p90_ms; /* over connected trials; NAN if none */
	double hit_rate;		  /* of the judged punch ports; NAN if none judged */
	struct rfailure *fail;		  /* failure reason -> count, in first-seen order */
	size_t nfail;
};

struct results {
	char *path;
	int version;
	json_t *metadata, *suite; /* as the file has them */
	struct rcell *cells;
	size_t ncells;
	size_t ntrials;	   /* trials the file says it holds */
	char *trials_path; /* version 2: the trials file, as found (.gz or not) */
	json_t *v1_trials; /* version 1: the document's trial array */
	json_t *index;	   /* cell id -> index into cells */
};

/* Reads RUN.json (version 1 or 2; not newer): the envelope and the cells,
 * checked, with errors as FILE:LINE:COL. The trials are not read. */
int results_load(const char *path, struct results **out, struct perr *err);
void results_free(struct results *r);
/* The cell with id ID, or NULL. */
const struct rcell *results_cell(const struct results *r, const char *id);
/* The last part of a path: "paper-table1-20261125T181626Z.json". */
const char *results_base(const char *path);

/* ---- the trials, streamed in bounded memory ---- */

struct trial_reader;
/* Opens the trials of R. */
int trials_open(const struct results *r, struct trial_reader **out, struct perr *err);
/* Opens a trials file on its own (a killed run's, for --resume). */
int trials_open_file(const char *path, struct trial_reader **out, struct perr *err);
/* The next trial: 1 (*TRIAL is the reader's until the next call), 0 at the
 * end, -1 with ERR (FILE:LINE:COL) on a malformed or truncated line. */
int trials_next(struct trial_reader *tr, json_t **trial, struct perr *err);
/* The current trial's line as it is in the file, newline included (NULL
 * for version 1). */
const char *trials_raw(const struct trial_reader *tr, size_t *len);

/* Readers that want outcomes, not packets: trials come without their
 * capture's "timeline" (most of a trial's bytes), so they parse in half the
 * time. trials_raw still gives the whole line. */
#define TRIALS_NO_TIMELINE 1u
void trials_set_flags(struct trial_reader *tr, unsigned flags);
/* Sets ERR to "FILE:LINE:1: MESSAGE" for the trial trials_next gave last
 * (version 1: "FILE: trial N: MESSAGE", N from 0 in the document's array). */
void trials_err(const struct trial_reader *tr, struct perr *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The trials file's header line (version 2; NULL for version 1). */
json_t *trials_header(const struct trial_reader *tr);
void trials_close(struct trial_reader *tr);

/* Calls FN for every trial of R with its cell (NULL when the file has no
 * summary for it); stops at FN's first non-zero return, which it returns. */
int results_foreach_trial(const struct results *r, unsigned flags,
			  int (*fn)(json_t *trial, const struct rcell *cell, void *ctx), void *ctx,
			  struct perr *err);

/* ---- summaries ---- */

/* A cell's trials, summed up as they come. */
struct cell_acc {
	unsigned n, k, hits, judged, relayed;
	double *rounds, *ttc;
	size_t nttc, cap;
	struct rfailure *fail;
	size_t nfail;
};

int cell_acc_add(struct cell_acc *a, json_t *trial);
/* Fills OUT's counts and statistics (OUT's id and fields are the caller's). */
int cell_acc_summary(struct cell_acc *a, struct rcell *out);
void cell_acc_free(struct cell_acc *a);
json_t *rcell_to_json(const struct rcell *c);
void rcell_free(struct rcell *c);

/* ---- writing ---- */

struct results_writer;

/* Starts a run's results in DIR (created if missing): reserves the name
 * DIR/BASE-STAMP (never one that exists) by creating its trials file, and
 * writes the trials file's header (HEADER's members, plus format and
 * version). Fails before any work is done when DIR cannot be written. */
int rw_open(const char *dir, const char *base, json_t *header, struct results_writer **out,
	    struct perr *err);
/* Declares a cell, in the order the summaries should have; FIELDS is
 * copied. Trials of undeclared cells are refused. */
int rw_cell(struct results_writer *w, const char *id, json_t *fields);
/* Records KEY: VALUE (stolen) in cell ID's summary, beside its counts: what
 * the runner saw of the cell, like its NATs' sysctls. Safe from threads. */
int rw_cell_note(struct results_writer *w, const char *id, const char *key, json_t *value);
/* Appends TRIAL (it has "cell") as one line and adds it to its cell's
 * summary. Safe from several threads. */
int rw_trial(struct results_writer *w, json_t *trial, struct perr *err);
/* The same for a trial read from a trials file: LINE (LEN bytes, ending
 * in a newline) is written as it is, TRIAL only summed up. */
int rw_trial_line(struct results_writer *w, json_t *trial, const char *line, size_t len,
		  struct perr *err);
/* How many trials were written so far, in all. */
size_t rw_trial_count(struct results_writer *w);
/* How many trials of cell ID were written so far. */
unsigned rw_cell_trials(struct results_writer *w, const char *id);
/* Whether trial number TRIAL of cell ID was written (or copied by --resume). */
bool rw_cell_has(struct results_writer *w, const char *id, unsigned trial);
/* Syncs the trials, writes the summaries with METADATA and SUITE to
 * DIR/BASE-STAMP.json (atomically: a temporary file linked into place), and
 * gives the path and, if OUT is set, the results as a reader would see them. */
int rw_finish(struct results_writer *w, json_t *metadata, json_t *suite, char *path, size_t len,
	      struct results **out, struct perr *err);
/* The trials file (kept when the run ends without rw_finish). */
const char *rw_trials_path(const struct results_writer *w);
void rw_free(struct results_writer *w);

/* Copies the trials of R (or, with R NULL, of trials file PATH) that belong
 * to declared cells into W: those numbered below LIMIT (0: all) that W does
 * not have yet (a trial number once); for --resume. */
int rw_copy_trials(struct results_writer *w, const struct results *r, const char *path,
		   unsigned limit, struct perr *err);

/* ---- merge ---- */

/* Joins results files of one suite (shards, or a run and its resumption)
 * into a new run in OUTDIR; no (cell, trial) may appear twice. With
 * EXPECT_SHARDS N > 0, every input must be a shard K/N (metadata.shard), and
 * the shards that are missing or were interrupted are recorded in the
 * merged metadata's "incomplete" (docs/results.md). */
int results_merge(const char *const *paths, int n, const char *outdir, const char *command_line,
		  int expect_shards, char *out_path, size_t len, struct results **out,
		  struct perr *err);
/* What R's metadata.incomplete says, as one line into BUF ("shard 2 of 3
 * missing: 1 of 3 cells without trials"): true, or false (BUF empty) when R
 * is not marked incomplete. */
bool results_incomplete(const struct results *r, char *buf, size_t len);

/* "2026-11-25T17:58:02Z", or with COMPACT "20261125T175802Z". */
void results_utc_now(char *buf, size_t len, bool compact);
