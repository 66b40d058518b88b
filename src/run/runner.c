// SPDX-License-Identifier: MIT
#include "runner.h"
#include "cell.h"
#include "lab/rootless.h"
#include "lab/topology.h"
#include "version.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct runner {
	const struct suite *s;
	const struct run_opts *o;
	struct results_writer *w;
	int trials; /* per cell */
	pthread_mutex_t mu;
	struct slice *jobs; /* what the workers take, in order */
	int njobs, next_job;
	/* the jobs by lab (cell_lab_key): a worker whose lab fits a job left
	 * takes that one first (lab_jobs[lab_first[k] .. lab_first[k + 1]) are
	 * lab K's, in order, lab_next[k] the first perhaps not taken yet) */
	int *job_lab, *lab_jobs, *lab_first, *lab_next, nlabs;
	bool *taken;
	int *slices_left; /* per cell: a cell is done when its last slice is */
	char **delay_mech; /* per cell, as its lab had it */
	json_t *md_sysctls; /* a NAT namespace's sysctls, for the metadata */
	long long trials_done, successes, total_trials; /* 100,000 cells x 1e6 trials */
	int cells_done;
	unsigned capture_drops;
	int labs_built;
	double t0, last_progress;
	bool failed;
	struct perr err;
	char interrupted_reason[sizeof(((struct perr *)0)->msg)]; /* set: stop, as on SIGINT */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Called with r->mu held. */
static void progress(struct runner *r, bool force)
{
	if (!r->o->progress)
		return;
	double now = now_s();
	if (!force && now - r->last_progress < 0.2)
		return;
	r->last_progress = now;
	double el = now - r->t0, rate = el > 0 ? r->trials_done / el : 0;
	long long left = r->total_trials - r->trials_done;
	fprintf(stderr,
		"\r\033[Kcells %d/%d  trials %lld/%lld  connected %lld  %.1f trials/s  ETA %.0fs",
		r->cells_done, r->s->ncells, r->trials_done, r->total_trials, r->successes, rate,
		rate > 0 ? left / rate : 0.0);
	fflush(stderr);
}

static void fail(struct runner *r, const struct perr *err)
{
	pthread_mutex_lock(&r->mu);
	if (!r->failed)
		r->err = *err;
	r->failed = true;
	pthread_mutex_unlock(&r->mu);
}

/* A finished trial: to the results file at once, then to the progress line. */
static int on_trial(void *ctx, json_t *trial)
{
	struct runner *r = ctx;
	struct perr err;
	if (rw_trial(r->w, trial, &err) < 0) {
		fail(r, &err);
		return 1; /* stops the cell; the run stops on r->failed */
	}
	pthread_mutex_lock(&r->mu);
	r->trials_done++;
	r->successes += json_is_true(json_object_get(trial, "connected"));
	progress(r, false);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void run_one(struct runner *r, const struct slice *sl, int worker, struct cell_lab **keep)
{
	int ci = sl->cell;
	const struct cell *c = &r->s->cells[ci];
	struct cell_job j = {
	    .s = r->s,
	    .c = c,
	    .worker = worker,
	    .index = ci,
	    .first_trial = sl->first,
	    .trials = sl->end,
	    .pcap_dir = r->o->pcap_dir,
	    .stop = r->o->stop,
	    .on_trial = on_trial,
	    .ctx = r,
	};
	struct cell_report rep = {.capture_drops = 0};
	struct perr err;
	int rc = cell_run(&j, r->o->fresh_labs ? NULL : keep, &rep, &err);
	pthread_mutex_lock(&r->mu);
	if (rc < 0 && rep.lab_gone && !r->interrupted_reason[0])
		snprintf(r->interrupted_reason, sizeof(r->interrupted_reason), "%s", err.msg);
	pthread_mutex_unlock(&r->mu);
	if (rc < 0 && !rep.lab_gone) /* > 0: on_trial stopped it, and said why */
		fail(r, &err);
	pthread_mutex_lock(&r->mu);
	r->capture_drops += rep.capture_drops;
	r->labs_built += rep.labs_built;
	if (!r->delay_mech[ci] && rep.delay_mechanism[0]) /* each slice's lab has the same */
		r->delay_mech[ci] = strdup(rep.delay_mechanism);
	/* the run's metadata shows the first NAT namespace's; each cell its own */
	if (rep.nat_sysctls && !r->md_sysctls)
		r->md_sysctls = json_deep_copy(json_object_iter_value(json_object_iter(rep.nat_sysctls)));
	pthread_mutex_unlock(&r->mu);
	if (rep.nat_sysctls)
		rw_cell_note(r->w, c->id, "nat_sysctls", rep.nat_sysctls);
}

/* The next job for a worker whose lab is LAB (-1: none): the first one
 * left of that lab, else the first one left. Called with r->mu held. */
static int next_job(struct runner *r, int lab)
{
	int k = r->njobs;
	if (lab >= 0) {
		int *i = &r->lab_next[lab];
		while (*i < r->lab_first[lab + 1] && r->taken[r->lab_jobs[*i]])
			(*i)++;
		if (*i < r->lab_first[lab + 1])
			k = r->lab_jobs[*i];
	}
	if (k == r->njobs) {
		while (r->next_job < r->njobs && r->taken[r->next_job])
			r->next_job++;
		k = r->next_job;
	}
	if (k < r->njobs)
		r->taken[k] = true;
	return k;
}

static void *worker_main(void *arg)
{
	struct runner *r = ((void **)arg)[0];
	int worker = (int)(intptr_t)((void **)arg)[1], lab = -1;
	struct cell_lab *keep = NULL; /* the lab of this worker's last cell */
	for (;;) {
		pthread_mutex_lock(&r->mu);
		int k = r->failed || r->interrupted_reason[0] || (r->o->stop && *r->o->stop)
			    ? r->njobs
			    : next_job(r, keep ? lab : -1);
		pthread_mutex_unlock(&r->mu);
		if (k >= r->njobs)
			break;
		run_one(r, &r->jobs[k], worker, &keep);
		lab = r->job_lab[k];
		pthread_mutex_lock(&r->mu);
		if (--r->slices_left[r->jobs[k].cell] == 0)
			r->cells_done++;
		progress(r, true);
		pthread_mutex_unlock(&r->mu);
	}
	struct cell_report rep = {.capture_drops = 0};
	cell_lab_free(keep, &rep);
	pthread_mutex_lock(&r->mu);
	r->capture_drops += rep.capture_drops;
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Groups the jobs by the lab their cell needs (cell_lab_key): the jobs of
 * lab K in the order planned. 0 or -ENOMEM. */
static int group_by_lab(struct runner *r)
{
	size_t n = (size_t)r->njobs + 1;
	json_t *ids = json_object();
	r->job_lab = calloc(n, sizeof(int));
	r->lab_jobs = calloc(n, sizeof(int));
	r->lab_first = calloc(n + 1, sizeof(int));
	r->lab_next = calloc(n, sizeof(int));
	r->taken = calloc(n, sizeof(bool));
	if (!ids || !r->job_lab || !r->lab_jobs || !r->lab_first || !r->lab_next || !r->taken) {
		json_decref(ids);
		return -ENOMEM;
	}
	for (int k = 0; k < r->njobs; k++) {
		char *key = cell_lab_key(&r->s->cells[r->jobs[k].cell]);
		json_t *id = key ? json_object_get(ids, key) : NULL;
		if (key && !id && json_object_set_new(ids, key, id = json_integer(r->nlabs++)) < 0)
			id = NULL;
		free(key);
		if (!id) {
			json_decref(ids);
			return -ENOMEM;
		}
		r->job_lab[k] = (int)json_integer_value(id);
	}
	json_decref(ids);
	/* counting sort: lab_first[k] counts, then starts */
	for (int k = 0; k < r->njobs; k++)
		r->lab_first[r->job_lab[k] + 1]++;
	for (int l = 0; l < r->nlabs; l++)
		r->lab_first[l + 1] += r->lab_first[l];
	for (int l = 0; l < r->nlabs; l++)
		r->lab_next[l] = r->lab_first[l];
	for (int k = 0; k < r->njobs; k++)
		r->lab_jobs[r->lab_next[r->job_lab[k]]++] = k;
	for (int l = 0; l < r->nlabs; l++)
		r->lab_next[l] = r->lab_first[l];
	return 0;
}

static bool written(void *ctx, int cell, int trial)
{
	struct runner *r = ctx;
	return rw_cell_has(r->w, r->s->cells[cell].id, (unsigned)trial);
}

/* The slices to run: of each cell of the shard, the trials it lacks (all of
 * them, unless resumed), cut so that JOBS workers have work while cells last. */
static int plan(struct runner *r, int jobs)
{
	const struct suite *s = r->s;
	int *cells = calloc((size_t)s->ncells + 1, sizeof(int)), n = 0;

	r->slices_left = calloc((size_t)s->ncells + 1, sizeof(int));
	if (!cells || !r->slices_left) {
		free(cells);
		return -ENOMEM;
	}
	for (int i = 0; i < s->ncells; i++)
		if (run_in_shard(r->o, i)) {
			cells[n++] = i;
			r->trials_done += rw_cell_trials(r->w, s->cells[i].id);
		}
	int rc = run_plan(cells, n, r->trials, written, r, jobs, &r->jobs, &r->njobs);
	for (int k = 0; rc == 0 && k < r->njobs; k++)
		r->slices_left[r->jobs[k].cell]++;
	for (int k = 0; k < n; k++) /* a cell resumed whole is done already */
		r->cells_done += r->slices_left[cells[k]] == 0;
	free(cells);
	return rc == 0 ? group_by_lab(r) : rc;
}

/* Runs the workers; 0, or -errno when not one could start. */
static int run_workers(struct runner *r, int jobs)
{
	pthread_t *th = calloc((size_t)jobs, sizeof(pthread_t));
	void *(*args)[2] = calloc((size_t)jobs, sizeof(*args));
	int started = 0, e = th && args ? 0 : ENOMEM;
	for (int j = 0; j < jobs && !e; j++) {
		args[j][0] = r;
		args[j][1] = (void *)(intptr_t)j;
		if (!(e = pthread_create(&th[j], NULL, worker_main, args[j])))
			started++;
	}
	for (int j = 0; j < started; j++)
		pthread_join(th[j], NULL);
	free(th);
	free(args);
	if (e && !started) {
		perr_set(&r->err, r->s->path, 0, 0, "cannot start a worker: %s", strerror(e));
		return -e;
	}
	return 0; /* fewer workers than asked for still run every cell */
}

/* ---- the run's records ---- */

static json_t *delay_mechanisms(struct runner *r)
{
	json_t *mechs = json_array();
	for (int i = 0; i < r->s->ncells; i++) {
		if (!r->delay_mech[i]) /* a cell that never ran */
			continue;
		bool seen = false;
		size_t k;
		json_t *m;
		json_array_foreach(mechs, k, m) seen |= !strcmp(json_string_value(m), r->delay_mech[i]);
		if (!seen)
			json_array_append_new(mechs, json_string(r->delay_mech[i]));
	}
	return mechs;
}

static json_t *metadata(struct runner *r, const char *start, json_t *resumed_from, int jobs)
{
	const struct run_opts *o = r->o;
	char end[32];
	struct utsname un;
	uname(&un);
	results_utc_now(end, sizeof(end), false);
	/* conntrack's sysctls are per namespace: the host's say nothing of the
	 * labs', so these are one NAT namespace's (each cell has its own) */
	json_t *sysctls = r->md_sysctls ? json_incref(r->md_sysctls) : json_object();
	json_t *md = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:i, s:f, s:i}", "punchlab",
	    PUNCHLAB_VERSION, "start_utc", start, "end_utc", end, "kernel", un.release, "host",
	    un.nodename, "command", o->command_line ? o->command_line : "", "sysctls", sysctls,
	    "delay_mechanism",
	    delay_mechanisms(r), "interrupted", (o->stop && *o->stop) || r->interrupted_reason[0],
	    "jobs", jobs, "seconds",
	    now_s() - r->t0, "capture_drops", (int)r->capture_drops);
	if (md && r->interrupted_reason[0])
		json_object_set_new(md, "interrupted_reason", json_string(r->interrupted_reason));
	if (md) /* fewer than the slices run when cells shared labs */
		json_object_set_new(md, "labs", json_integer(r->labs_built));
	if (md && o->pcap_dir)
		json_object_set_new(md, "pcap_dir", json_string(o->pcap_dir));
	if (md && rootless_on()) /* lab/rootless.h; absent as root */
		json_object_set_new(md, "rootless", json_true());
	if (md && o->shard_n)
		json_object_set_new(md, "shard", json_sprintf("%d/%d", o->shard_k, o->shard_n));
	if (md && resumed_from)
		json_object_set(md, "resumed_from", resumed_from);
	return md;
}

static json_t *suite_record(const struct suite *s, int trials)
{
	char abs[PATH_MAX];
	if (!realpath(s->path, abs))
		snprintf(abs, sizeof(abs), "%s", s->path);
	return json_pack("{s:s, s:s, s:s?, s:i, s:i, s:i, s:I, s:i, s:b}", "file", abs, "sha256",
			 s->hash, "description", s->description, "trials", trials, "rounds",
			 s->rounds, "probes", s->probes, "seed", (json_int_t)s->seed, "cells",
			 s->ncells, "keep_conntrack", s->keep_conntrack);
}

/* ---- resuming ---- */

static bool is_trials_file(const char *path)
{
	const char *dot = strstr(results_base(path), ".trials.ndjson");
	return dot && (!strcmp(dot, ".trials.ndjson") || !strcmp(dot, ".trials.ndjson.gz"));
}

/*
 * The earlier run to resume (its RUN.json, or a killed run's trials file):
 * a run of this very suite? *OLD gets it (NULL for a trials file), *FROM
 * when it started. Checked before anything of the new run is made.
 */
static int resume_check(struct runner *r, struct results **old, json_t **from, struct perr *err)
{
	const char *path = r->o->resume, *hash;
	struct trial_reader *tr = NULL;
	int rc = is_trials_file(path) ? trials_open_file(path, &tr, err)
				      : results_load(path, old, err);
	if (rc < 0)
		return rc;
	json_t *h = tr ? trials_header(tr) : (*old)->metadata;
	*from = json_incref(json_object_get(h, "start_utc"));
	hash = tr ? json_string_value(json_object_get(h, "suite_sha256"))
		  : json_string_value(json_object_get((*old)->suite, "sha256"));
	if (!hash || strcmp(hash, r->s->hash)) {
		perr_set(err, path, 0, 0, "a run of another suite (or of another version of %s)",
			 r->s->path);
		rc = -EINVAL;
	}
	trials_close(tr);
	return rc;
}

/* ---- the run ---- */

static int open_results(struct runner *r, const char *start, struct perr *err)
{
	const struct suite *s = r->s;
	const char *base = results_base(s->path);
	char stem[128];
	snprintf(stem, sizeof(stem), "%.*s", (int)strcspn(base, "."), base);
	json_t *h = json_pack("{s:s, s:s, s:s, s:s}", "suite", s->path, "suite_sha256", s->hash,
			      "start_utc", start, "command",
			      r->o->command_line ? r->o->command_line : "");
	int rc = rw_open(r->o->outdir, stem, h, &r->w, err);
	json_decref(h);
	for (int i = 0; rc == 0 && i < s->ncells; i++)
		rc = rw_cell(r->w, s->cells[i].id, s->cells[i].fields);
	if (rc < 0 && r->w)
		perr_set(err, s->path, 0, 0, "cannot declare the cells: %s", strerror(-rc));
	return rc;
}

static int finish(struct runner *r, const char *start, json_t *from, int jobs, char *out_path,
		  size_t len, struct results **out, struct perr *err)
{
	json_t *md = metadata(r, start, from, jobs), *suite = suite_record(r->s, r->trials);
	int rc = md && suite ? rw_finish(r->w, md, suite, out_path, len, out, err) : -ENOMEM;
	if (rc == -ENOMEM && (!md || !suite))
		perr_set(err, r->s->path, 0, 0, "cannot assemble the results (out of memory)");
	json_decref(md);
	json_decref(suite);
	return rc;
}

/* After a failure: the trials stay for --resume, unless there are none. */
static void keep_trials(struct runner *r, struct perr *err)
{
	const char *tp = rw_trials_path(r->w);
	if (rw_trial_count(r->w) == 0) {
		unlink(tp);
		return;
	}
	size_t n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, "\n(the trials so far are in %s: --resume it)",
		 tp);
}

/* Appends slice SL to *V (*N of *CAP); -ENOMEM. */
static int add_slice(struct slice **v, int *n, int *cap, struct slice sl)
{
	if (*n == *cap) {
		int c = *cap ? *cap * 2 : 16;
		struct slice *p = realloc(*v, (size_t)c * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = sl;
	return 0;
}

static int lacking(int cell, int trials, bool (*has)(void *, int, int), void *ctx)
{
	int lack = 0;
	for (int t = 0; t < trials; t++)
		lack += !has(ctx, cell, t);
	return lack;
}

int run_plan(const int *cells, int ncells, int trials, bool (*has)(void *ctx, int cell, int trial),
	     void *ctx, int jobs, struct slice **out, int *nout)
{
	int missing_cells = 0, cap = 0, n = 0, rc = 0;
	struct slice *sl = NULL;
	int *lack = calloc((size_t)ncells + 1, sizeof(int)); /* each cell's, counted once */

	if (!lack)
		return -ENOMEM;
	for (int k = 0; k < ncells; k++)
		missing_cells += (lack[k] = lacking(cells[k], trials, has, ctx)) > 0;
	/* one lab per cell while there are as many cells as workers; beyond,
	 * the workers left over share cells out, a slice no shorter than
	 * RUN_SLICE_MIN trials (a lab's set-up costs a few trials' time) */
	int per = missing_cells && jobs > missing_cells
		      ? (jobs + missing_cells - 1) / missing_cells
		      : 1;
	for (int k = 0; rc == 0 && k < ncells; k++) {
		int size = per > 1 ? (lack[k] + per - 1) / per : trials;
		if (size < RUN_SLICE_MIN)
			size = RUN_SLICE_MIN;
		/* each run of missing trials, in pieces of at most SIZE */
		for (int t = 0; rc == 0 && lack[k] && t < trials;) {
			if (has(ctx, cells[k], t)) {
				t++;
				continue;
			}
			int end = t;
			while (end < trials && end - t < size && !has(ctx, cells[k], end))
				end++;
			rc = add_slice(&sl, &n, &cap, (struct slice){cells[k], t, end});
			t = end;
		}
	}
	free(lack);
	if (rc < 0) {
		free(sl);
		return rc;
	}
	*out = sl;
	*nout = n;
	return 0;
}

bool run_in_shard(const struct run_opts *o, int i)
{
	/* a shard is a fixed subset of cells, the same on every machine */
	return !o->shard_n || i % o->shard_n == o->shard_k - 1;
}

int run_shard_cells(const struct suite *s, const struct run_opts *o)
{
	if (!o->shard_n)
		return s->ncells;
	return s->ncells / o->shard_n + (s->ncells % o->shard_n >= o->shard_k);
}

int run_trials(const struct suite *s, const struct run_opts *o)
{
	return o->trials > 0 ? o->trials : s->trials;
}

int run_check(const struct suite *s, const struct run_opts *o, struct perr *err)
{
	json_t *seen = json_object(); /* topology files checked */
	int rc = seen ? 0 : -ENOMEM;
	for (int i = 0; rc == 0 && i < s->ncells; i++) {
		const struct cell *c = &s->cells[i];
		struct topology *t;
		int node[3];
		if (!run_in_shard(o, i) || json_object_get(seen, c->topology))
			continue;
		if ((rc = cell_topology(c, &t, node, err)) == 0) {
			topo_free(t);
			rc = json_object_set_new(seen, c->topology, json_true()) ? -ENOMEM : 0;
		}
	}
	if (rc == -ENOMEM)
		perr_set(err, s->path, 0, 0, "out of memory");
	json_decref(seen);
	return rc;
}

int run_suite(const struct suite *s, const struct run_opts *o, char *out_path, size_t len,
	      struct results **out, struct perr *err)
{
	struct runner r = {.s = s, .o = o, .trials = run_trials(s, o)};
	int jobs = o->jobs > 0 ? o->jobs : 1;
	char start[32];
	json_t *from = NULL;

	if (out)
		*out = NULL;
	pthread_mutex_init(&r.mu, NULL);
	results_utc_now(start, sizeof(start), false);
	r.t0 = now_s();
	r.total_trials = (long long)run_shard_cells(s, o) * r.trials;
	r.delay_mech = calloc((size_t)s->ncells + 1, sizeof(char *));
	struct results *old = NULL;
	int rc = r.delay_mech ? 0 : -ENOMEM;
	if (rc == 0) /* a cell whose topology cannot run fails before any lab is built */
		rc = run_check(s, o, err);
	if (rc == 0 && o->resume)
		rc = resume_check(&r, &old, &from, err);
	if (rc == 0)
		rc = open_results(&r, start, err);
	if (rc == 0 && o->resume) /* its trials stay; each cell goes on after them */
		rc = rw_copy_trials(r.w, old, old ? NULL : o->resume, (unsigned)r.trials, err);
	results_free(old);
	if (rc == 0 && (rc = plan(&r, jobs)) < 0)
		perr_set(err, s->path, 0, 0, "out of memory");
	if (rc == 0 && (rc = run_workers(&r, jobs)) < 0)
		*err = r.err;
	if (o->progress)
		fputc('\n', stderr);
	if (rc == 0 && r.failed) {
		*err = r.err;
		rc = -1;
	}
	if (rc == 0)
		rc = finish(&r, start, from, jobs, out_path, len, out, err);
	if (rc < 0 && r.w)
		keep_trials(&r, err);
	rw_free(r.w);
	for (int i = 0; r.delay_mech && i < s->ncells; i++)
		free(r.delay_mech[i]);
	free(r.delay_mech);
	free(r.jobs);
	free(r.slices_left);
	free(r.job_lab);
	free(r.lab_jobs);
	free(r.lab_first);
	free(r.lab_next);
	free(r.taken);
	json_decref(r.md_sysctls);
	json_decref(from);
	pthread_mutex_destroy(&r.mu);
	if (rc < 0)
		return -1;
	if (r.interrupted_reason[0])
		fprintf(stderr, "punchlab run: interrupted: %s\n", r.interrupted_reason);
	return (o->stop && *o->stop) || r.interrupted_reason[0] ? 1 : 0;
}
