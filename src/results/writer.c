// SPDX-License-Identifier: MIT
/* Writing a run's results: trials streamed as they end, summaries at the end. */
#include "results.h"
#include "util/fs.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct wcell {
	char id[64];
	json_t *fields;
	json_t *notes; /* what the runner recorded of the cell (rw_cell_note) */
	struct cell_acc acc;
	/* which trial numbers it has: a cell's trials may run in slices side by
	 * side, and a run stopped midway resumes with exactly the missing ones */
	uint8_t *seen;
	size_t seen_len; /* bytes */
};

struct results_writer {
	pthread_mutex_t mu;
	char dir[PATH_MAX], stem[PATH_MAX]; /* DIR, and DIR/BASE-STAMP */
	char trials_path[PATH_MAX + 16];
	int fd;
	size_t ntrials;
	struct wcell *cells;
	size_t ncells, cap;
	json_t *index; /* id -> index into cells */
	int error;     /* the first failed write's errno: the run stops there */
};

void results_utc_now(char *buf, size_t len, bool compact)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, len, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Writes all of BUF, or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_line(int fd, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	size_t len = strlen(s);
	s[len] = '\n'; /* the NUL goes: the line is written by length */
	int rc = write_all(fd, s, len + 1);
	int e = errno;
	free(s);
	errno = e;
	return rc;
}

/* Reserves DIR/BASE-STAMP[-N] by creating its trials file. */
static int reserve(struct results_writer *w, const char *base, struct perr *err)
{
	char stamp[32], json[PATH_MAX + 8];
	results_utc_now(stamp, sizeof(stamp), true);
	for (int i = 1; i < 100; i++) {
		int n = i == 1 ? snprintf(w->stem, sizeof(w->stem), "%s/%s-%s", w->dir, base, stamp)
			       : snprintf(w->stem, sizeof(w->stem), "%s/%s-%s-%d", w->dir, base,
					  stamp, i);
		if (n < 0 || (size_t)n >= sizeof(w->stem) - 24) {
			perr_set(err, w->dir, 0, 0, "path too long");
			return -ENAMETOOLONG;
		}
		snprintf(json, sizeof(json), "%s.json", w->stem);
		snprintf(w->trials_path, sizeof(w->trials_path), "%s.trials.ndjson", w->stem);
		if (access(json, F_OK) == 0)
			continue;
		w->fd = open(w->trials_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0644);
		if (w->fd >= 0)
			return 0;
		if (errno != EEXIST) {
			int e = errno;
			perr_set(err, w->trials_path, 0, 0, "cannot create: %s", strerror(e));
			return -e;
		}
	}
	perr_set(err, w->stem, 0, 0, "cannot create: too many runs of this name this second");
	return -EEXIST;
}

int rw_open(const char *dir, const char *base, json_t *header, struct results_writer **out,
	    struct perr *err)
{
	struct results_writer *w = calloc(1, sizeof(*w));
	*out = NULL;
	if (!w || !(w->index = json_object())) {
		free(w);
		perr_set(err, dir, 0, 0, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&w->mu, NULL);
	w->fd = -1;
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	int rc = 0;
	if (mkdir_p(dir) < 0) {
		rc = -errno;
		perr_set(err, dir, 0, 0, "cannot create the results directory: %s", strerror(errno));
	}
	if (rc == 0)
		rc = reserve(w, base, err);
	if (rc == 0) {
		json_t *h = json_pack("{s:s, s:i}", "format", RESULTS_TRIALS_FORMAT, "version",
				      RESULTS_VERSION);
		if (header)
			json_object_update(h, header);
		if (write_line(w->fd, h) < 0) {
			rc = -errno;
			perr_set(err, w->trials_path, 0, 0, "cannot write: %s", strerror(errno));
		}
		json_decref(h);
	}
	if (rc < 0) {
		if (w->fd >= 0)
			unlink(w->trials_path);
		rw_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

const char *rw_trials_path(const struct results_writer *w)
{
	return w->trials_path;
}

void rw_free(struct results_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->ncells; i++) {
		json_decref(w->cells[i].fields);
		json_decref(w->cells[i].notes);
		cell_acc_free(&w->cells[i].acc);
		free(w->cells[i].seen);
	}
	free(w->cells);
	json_decref(w->index);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int rw_cell(struct results_writer *w, const char *id, json_t *fields)
{
	if (json_object_get(w->index, id) || strlen(id) >= sizeof(w->cells->id))
		return -EINVAL;
	if (w->ncells == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct wcell *nc = realloc(w->cells, cap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		w->cells = nc;
		w->cap = cap;
	}
	struct wcell *c = &w->cells[w->ncells];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->fields = fields ? json_deep_copy(fields) : json_object();
	json_object_set_new(w->index, id, json_integer((json_int_t)w->ncells++));
	return 0;
}

static struct wcell *wcell_of(struct results_writer *w, const char *id)
{
	json_t *i = id ? json_object_get(w->index, id) : NULL;
	return i ? &w->cells[json_integer_value(i)] : NULL;
}

int rw_cell_note(struct results_writer *w, const char *id, const char *key, json_t *value)
{
	int rc = -EINVAL;
	pthread_mutex_lock(&w->mu);
	struct wcell *c = wcell_of(w, id);
	if (c && value && (c->notes || (c->notes = json_object())))
		rc = json_object_set(c->notes, key, value) < 0 ? -ENOMEM : 0;
	pthread_mutex_unlock(&w->mu);
	json_decref(value);
	return rc;
}

size_t rw_trial_count(struct results_writer *w)
{
	pthread_mutex_lock(&w->mu);
	size_t n = w->ntrials;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* Marks trial number N of C as written (-ENOMEM: it could not). */
static int mark_seen(struct wcell *c, json_t *n)
{
	if (!json_is_integer(n) || json_integer_value(n) < 0 ||
	    json_integer_value(n) >= (json_int_t)1 << 40)
		return 0; /* counted, not placed: a reader refuses such a file anyway */
	size_t i = (size_t)json_integer_value(n);
	if (i / 8 >= c->seen_len) {
		size_t len = c->seen_len ? c->seen_len : 16;
		while (i / 8 >= len)
			len *= 2;
		uint8_t *p = realloc(c->seen, len);
		if (!p)
			return -ENOMEM;
		memset(p + c->seen_len, 0, len - c->seen_len);
		c->seen = p;
		c->seen_len = len;
	}
	c->seen[i / 8] |= (uint8_t)(1u << (i % 8));
	return 0;
}

bool rw_cell_has(struct results_writer *w, const char *id, unsigned trial)
{
	pthread_mutex_lock(&w->mu);
	struct wcell *c = wcell_of(w, id);
	bool has = c && trial / 8 < c->seen_len && (c->seen[trial / 8] >> (trial % 8) & 1);
	pthread_mutex_unlock(&w->mu);
	return has;
}

unsigned rw_cell_trials(struct results_writer *w, const char *id)
{
	pthread_mutex_lock(&w->mu);
	struct wcell *c = wcell_of(w, id);
	unsigned n = c ? c->acc.n : 0;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* One trial: LINE (or TRIAL serialised) appended, TRIAL summed up. */
static int add_trial(struct results_writer *w, json_t *trial, const char *line, size_t len,
		     struct perr *err)
{
	int rc = 0;
	pthread_mutex_lock(&w->mu);
	struct wcell *c = wcell_of(w, json_string_value(json_object_get(trial, "cell")));
	if (!c) {
		perr_set(err, w->trials_path, 0, 0, "a trial of an unknown cell");
		rc = -EINVAL;
	} else if (!w->error && (line ? write_all(w->fd, line, len) : write_line(w->fd, trial)) < 0) {
		w->error = errno;
	}
	if (c && w->error) {
		rc = -w->error;
		perr_set(err, w->trials_path, 0, 0, "cannot write: %s", strerror(w->error));
	} else if (c) {
		w->ntrials++;
		rc = cell_acc_add(&c->acc, trial);
		if (rc == 0)
			rc = mark_seen(c, json_object_get(trial, "trial"));
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int rw_trial(struct results_writer *w, json_t *trial, struct perr *err)
{
	return add_trial(w, trial, NULL, 0, err);
}

int rw_trial_line(struct results_writer *w, json_t *trial, const char *line, size_t len,
		  struct perr *err)
{
	if (!line || !len || line[len - 1] != '\n')
		return rw_trial(w, trial, err);
	return add_trial(w, trial, line, len, err);
}

/* The summaries, as a reader of the file would get them. */
static int summaries(struct results_writer *w, struct results *r, json_t *cells)
{
	r->cells = calloc(w->ncells + 1, sizeof(*r->cells));
	r->index = json_object();
	if (!r->cells || !r->index)
		return -ENOMEM;
	for (size_t i = 0; i < w->ncells; i++) {
		struct wcell *wc = &w->cells[i];
		if (!wc->acc.n) /* a cell the run never reached */
			continue;
		struct rcell *c = &r->cells[r->ncells];
		memcpy(c->id, wc->id, sizeof(c->id));
		c->fields = json_incref(wc->fields);
		if (cell_acc_summary(&wc->acc, c) < 0)
			return -ENOMEM;
		json_object_set_new(r->index, c->id, json_integer((json_int_t)r->ncells++));
		json_t *cj = rcell_to_json(c);
		if (cj && wc->notes)
			json_object_update(cj, wc->notes);
		json_array_append_new(cells, cj);
	}
	return 0;
}

/* JSON to PATH through a temporary file beside it, linked into place:
 * never over an existing file, never half-written. */
static int write_atomic(const char *dir, const char *path, json_t *j, struct perr *err)
{
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, results_base(path), (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		perr_set(err, tmp, 0, 0, "cannot create: %s", strerror(errno));
		return -errno;
	}
	int rc = json_dumpfd(j, fd, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) < 0 ? -EIO : 0;
	if (rc == 0 && (write_all(fd, "\n", 1) < 0 || fsync(fd) < 0))
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && link(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		perr_set(err, path, 0, 0, "cannot write: %s", strerror(-rc));
	unlink(tmp);
	return rc;
}

int rw_finish(struct results_writer *w, json_t *metadata, json_t *suite, char *path, size_t len,
	      struct results **out, struct perr *err)
{
	if (out)
		*out = NULL;
	if (w->error || fsync(w->fd) < 0) {
		int e = w->error ? w->error : errno;
		perr_set(err, w->trials_path, 0, 0, "cannot write: %s", strerror(e));
		return -e;
	}
	struct results *r = calloc(1, sizeof(*r));
	json_t *cells = json_array();
	int rc = r && cells ? summaries(w, r, cells) : -ENOMEM;
	if (rc < 0) {
		perr_set(err, w->stem, 0, 0, "out of memory");
		goto out;
	}
	json_t *root = json_pack("{s:s, s:i, s:O, s:O, s:s, s:I, s:O}", "format", RESULTS_FORMAT,
				 "version", RESULTS_VERSION, "metadata", metadata, "suite", suite,
				 "trials_file", results_base(w->trials_path), "trials_count",
				 (json_int_t)w->ntrials, "cells", cells);
	snprintf(path, len, "%s.json", w->stem);
	rc = root ? write_atomic(w->dir, path, root, err) : -ENOMEM;
	json_decref(root);
	if (rc == 0)
		fs_sync_dir(w->dir); /* the link and the trials file's name, on disk */
	if (rc == 0 && out) {
		r->path = strdup(path);
		r->trials_path = strdup(w->trials_path);
		r->version = RESULTS_VERSION;
		r->metadata = json_incref(metadata);
		r->suite = json_incref(suite);
		r->ntrials = w->ntrials;
		*out = r;
		r = NULL;
	}
out:
	json_decref(cells);
	results_free(r);
	return rc;
}

/* ---- copying trials from an earlier run ---- */

/* A trial of a cell of this run, numbered below LIMIT (0: any), not had yet. */
static bool wanted(struct results_writer *w, json_t *t, unsigned limit)
{
	json_t *n = json_object_get(t, "trial");
	json_int_t k = json_integer_value(n);

	if (!json_is_integer(n) || k < 0 || (limit && k >= (json_int_t)limit))
		return false;
	pthread_mutex_lock(&w->mu);
	struct wcell *c = wcell_of(w, json_string_value(json_object_get(t, "cell")));
	bool take = c && !((size_t)k / 8 < c->seen_len && (c->seen[k / 8] >> (k % 8) & 1));
	pthread_mutex_unlock(&w->mu);
	return take;
}

int rw_copy_trials(struct results_writer *w, const struct results *r, const char *path,
		   unsigned limit, struct perr *err)
{
	struct trial_reader *tr;
	json_t *t;
	int rc = r ? trials_open(r, &tr, err) : trials_open_file(path, &tr, err);
	if (rc == 0) /* the summary needs outcomes only; the line goes over whole */
		trials_set_flags(tr, TRIALS_NO_TIMELINE);
	while (rc == 0 && (rc = trials_next(tr, &t, err)) > 0) {
		size_t len;
		const char *line = trials_raw(tr, &len);
		rc = wanted(w, t, limit) ? rw_trial_line(w, t, line, len, err) : 0;
	}
	trials_close(tr);
	return rc;
}
