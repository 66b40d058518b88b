// SPDX-License-Identifier: MIT
/* Reading results: the envelope and cells whole, the trials streamed. */
#include "results.h"
#include "stats.h"
#include "util/jdoc.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

const char *results_base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void results_free(struct results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncells; i++)
		rcell_free(&r->cells[i]);
	free(r->cells);
	free(r->path);
	free(r->trials_path);
	json_decref(r->metadata);
	json_decref(r->suite);
	json_decref(r->v1_trials);
	json_decref(r->index);
	free(r);
}

const struct rcell *results_cell(const struct results *r, const char *id)
{
	json_t *i = json_object_get(r->index, id);
	return i ? &r->cells[json_integer_value(i)] : NULL;
}

/* A number of a summary from LO to HI, or NAN for null (or absent, in
 * hand-made files): a value outside its range would be printed as "250 %". */
static int opt_num(const struct jdoc *d, struct perr *err, json_t *c, const char *key, double lo,
		   double hi, double *out)
{
	json_t *v = json_object_get(c, key);
	if (!v || json_is_null(v)) {
		*out = NAN;
		return 0;
	}
	if (!json_is_number(v) || !(json_number_value(v) >= lo && json_number_value(v) <= hi)) {
		jdoc_err_member(d, err, c, key, "\"%s\" must be a number from %g to %g, or null",
				key, lo, hi);
		return -EINVAL;
	}
	*out = json_number_value(v);
	return 0;
}

static int read_counts(const struct jdoc *d, struct perr *err, json_t *c, struct rcell *rc)
{
	json_t *n = json_object_get(c, "trials"), *k = json_object_get(c, "successes");
	if (!json_is_integer(n) || json_integer_value(n) < 0 || json_integer_value(n) > UINT_MAX) {
		jdoc_err_member(d, err, c, n ? "trials" : NULL,
				"a cell needs \"trials\", a whole number");
		return -EINVAL;
	}
	if (!json_is_integer(k) || json_integer_value(k) < 0 ||
	    json_integer_value(k) > json_integer_value(n)) {
		jdoc_err_member(d, err, c, k ? "successes" : NULL,
				"a cell needs \"successes\", a whole number from 0 to its trials");
		return -EINVAL;
	}
	rc->n = (unsigned)json_integer_value(n);
	rc->k = (unsigned)json_integer_value(k);
	json_t *rl = json_object_get(c, "relayed");
	if (rl && (!json_is_integer(rl) || json_integer_value(rl) < 0 ||
		   json_integer_value(rl) > json_integer_value(n) - json_integer_value(k))) {
		jdoc_err(d, err, rl, "\"relayed\" must be a whole number, at most the trials "
				     "that are not successes");
		return -EINVAL;
	}
	rc->relayed = rl ? (unsigned)json_integer_value(rl) : 0;
	rc->rate = rc->n ? (double)rc->k / rc->n : NAN;
	json_t *w = json_object_get(c, "wilson95");
	if (w &&
	    !(json_is_array(w) && json_array_size(w) == 2 && json_is_number(json_array_get(w, 0)) &&
	      json_is_number(json_array_get(w, 1)) &&
	      json_number_value(json_array_get(w, 0)) >= 0 &&
	      json_number_value(json_array_get(w, 0)) <= json_number_value(json_array_get(w, 1)) &&
	      json_number_value(json_array_get(w, 1)) <= 1)) {
		jdoc_err(d, err, w, "\"wilson95\" must be [low, high] with 0 <= low <= high <= 1");
		return -EINVAL;
	}
	if (w) {
		rc->lo = json_number_value(json_array_get(w, 0));
		rc->hi = json_number_value(json_array_get(w, 1));
	} else {
		wilson95(rc->k, rc->n, &rc->lo, &rc->hi);
	}
	return 0;
}

static int read_failures(const struct jdoc *d, struct perr *err, json_t *c, struct rcell *rc)
{
	json_t *f = json_object_get(c, "failures"), *v;
	const char *why;
	if (!f)
		return 0;
	if (!json_is_object(f)) {
		jdoc_err(d, err, f, "\"failures\" must be an object (reason -> count)");
		return -EINVAL;
	}
	rc->fail = calloc(json_object_size(f) + 1, sizeof(*rc->fail));
	if (!rc->fail)
		return -ENOMEM;
	json_int_t left = (json_int_t)rc->n - rc->k - rc->relayed; /* the trials that failed */
	json_object_foreach(f, why, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > left) {
			jdoc_err(d, err, v,
				 "a failure count must be a whole number, at most the cell's "
				 "failed trials (%lld in all)",
				 (long long)((json_int_t)rc->n - rc->k - rc->relayed));
			return -EINVAL;
		}
		left -= json_integer_value(v);
		rc->fail[rc->nfail].reason = strdup(why);
		rc->fail[rc->nfail++].count = (unsigned)json_integer_value(v);
	}
	return 0;
}

static int read_cell(const struct jdoc *d, struct perr *err, json_t *c, struct rcell *rc)
{
	json_t *id = json_object_get(c, "id"), *fields = json_object_get(c, "fields");
	if (!json_is_object(c) || !json_is_string(id) || !json_is_object(fields)) {
		jdoc_err(d, err, c, "a cell needs \"id\" and \"fields\"");
		return -EINVAL;
	}
	if (json_string_length(id) >= sizeof(rc->id)) {
		jdoc_err(d, err, id, "a cell id has at most %zu characters", sizeof(rc->id) - 1);
		return -EINVAL;
	}
	snprintf(rc->id, sizeof(rc->id), "%s", json_string_value(id));
	rc->fields = json_incref(fields);
	int e = read_counts(d, err, c, rc);
	if (!e)
		e = opt_num(d, err, c, "rounds_median", 0, 1e9, &rc->rounds_median);
	if (!e)
		e = opt_num(d, err, c, "rounds_p90", 0, 1e9, &rc->rounds_p90);
	if (!e)
		e = opt_num(d, err, c, "time_to_connect_median_ms", 0, 1e12, &rc->ttc_median_ms);
	if (!e)
		e = opt_num(d, err, c, "time_to_connect_p90_ms", 0, 1e12, &rc->ttc_p90_ms);
	if (!e)
		e = opt_num(d, err, c, "prediction_hit_rate", 0, 1, &rc->hit_rate);
	return e ? e : read_failures(d, err, c, rc);
}

static int read_cells(const struct jdoc *d, struct perr *err, json_t *cells, struct results *r)
{
	size_t i;
	json_t *c;
	r->cells = calloc(json_array_size(cells) + 1, sizeof(*r->cells));
	r->index = json_object();
	if (!r->cells || !r->index)
		return -ENOMEM;
	json_array_foreach(cells, i, c)
	{
		int e = read_cell(d, err, c, &r->cells[i]);
		r->ncells = i + 1;
		if (e < 0)
			return e;
		if (json_object_get(r->index, r->cells[i].id)) {
			jdoc_err_member(d, err, c, "id", "cell \"%s\" appears twice",
					r->cells[i].id);
			return -EINVAL;
		}
		json_object_set_new(r->index, r->cells[i].id, json_integer((json_int_t)i));
	}
	return 0;
}

static int read_v1_trials(const struct jdoc *d, struct perr *err, json_t *trials,
			  struct results *r)
{
	size_t i;
	json_t *v;
	json_array_foreach(trials, i, v)
	{
		if (!json_is_object(v) || !json_is_string(json_object_get(v, "cell")) ||
		    !json_is_integer(json_object_get(v, "trial")) ||
		    !json_is_boolean(json_object_get(v, "connected"))) {
			jdoc_err(d, err, v, "a trial needs \"cell\", \"trial\" and \"connected\"");
			return -EINVAL;
		}
	}
	r->v1_trials = json_incref(trials);
	r->ntrials = json_array_size(trials);
	return 0;
}

/* Version 2: where the trials are (beside RUN.json, plain or gzip'd). */
static int find_trials(const struct jdoc *d, struct perr *err, json_t *root, struct results *r)
{
	json_t *f = json_object_get(root, "trials_file"), *n = json_object_get(root, "trials_count");
	const char *name = json_string_value(f);
	if (!name || !*name || strchr(name, '/')) {
		jdoc_err_member(d, err, root, f ? "trials_file" : NULL,
				"\"trials_file\" must name a file beside this one");
		return -EINVAL;
	}
	if (!json_is_integer(n) || json_integer_value(n) < 0) {
		jdoc_err_member(d, err, root, n ? "trials_count" : NULL,
				"\"trials_count\" must be a whole number");
		return -EINVAL;
	}
	r->ntrials = (size_t)json_integer_value(n);
	const char *base = results_base(r->path);
	int dirlen = (int)(base - r->path);
	if (asprintf(&r->trials_path, "%.*s%s", dirlen, r->path, name) < 0)
		return -ENOMEM;
	if (access(r->trials_path, F_OK) < 0) {
		char *gz;
		if (asprintf(&gz, "%s.gz", r->trials_path) < 0)
			return -ENOMEM;
		if (access(gz, F_OK) == 0) {
			free(r->trials_path);
			r->trials_path = gz;
		} else {
			free(gz); /* not an error until someone wants the trials */
		}
	}
	return 0;
}

static int check_envelope(const struct jdoc *d, struct perr *err, json_t *root, int *version)
{
	if (!json_is_object(root)) {
		jdoc_err(d, err, root, "not a punchlab results file (a JSON object is expected)");
		return -EINVAL;
	}
	json_t *v = json_object_get(root, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), RESULTS_FORMAT)) {
		jdoc_err_member(d, err, root, v ? "format" : NULL,
				"not a punchlab results file (\"format\": \"" RESULTS_FORMAT
				"\" expected)");
		return -EINVAL;
	}
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		jdoc_err_member(d, err, root, v ? "version" : NULL,
				"\"version\" must be a whole number from 1 to %d", RESULTS_VERSION);
		return -EINVAL;
	}
	if (json_integer_value(v) > RESULTS_VERSION) {
		jdoc_err(d, err, v,
			 "results format version %lld is newer than this punchlab reads (%d): "
			 "use a newer punchlab",
			 (long long)json_integer_value(v), RESULTS_VERSION);
		return -EINVAL;
	}
	*version = (int)json_integer_value(v);
	const char *need[] = {"metadata", "suite", "cells", *version == 1 ? "trials" : NULL};
	for (size_t i = 0; i < 4 && need[i]; i++) {
		v = json_object_get(root, need[i]);
		if (i < 2 ? !json_is_object(v) : !json_is_array(v)) {
			jdoc_err_member(d, err, root, v ? need[i] : NULL,
					"\"%s\" missing or of the wrong type", need[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int results_load(const char *path, struct results **out, struct perr *err)
{
	struct jdoc *d;
	struct results *r = NULL;
	*out = NULL;
	/* no size bound: a version 1 file holds every trial */
	int rc = jdoc_load_file_max(path, 0, &d, err);
	if (rc < 0)
		return rc;
	json_t *root = jdoc_root(d);
	int version;
	rc = check_envelope(d, err, root, &version);
	if (rc < 0)
		goto out;
	rc = -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path)))
		goto out;
	r->version = version;
	r->metadata = json_incref(json_object_get(root, "metadata"));
	r->suite = json_incref(json_object_get(root, "suite"));
	rc = read_cells(d, err, json_object_get(root, "cells"), r);
	if (rc == 0)
		rc = version == 1 ? read_v1_trials(d, err, json_object_get(root, "trials"), r)
				  : find_trials(d, err, root, r);
out:
	if (rc == -ENOMEM)
		perr_set(err, path, 0, 0, "out of memory");
	if (rc < 0)
		results_free(r);
	else
		*out = r;
	jdoc_free(d);
	return rc;
}

/* ---- the trials ---- */

struct trial_reader {
	const struct results *r; /* NULL: a trials file on its own */
	size_t next;		 /* version 1: the next index */
	gzFile gz;		 /* version 2 */
	char *path, *line, *scratch;
	size_t cap, len, scap;
	unsigned flags;
	long lineno;
	size_t count;
	json_t *header, *cur;
};

void trials_close(struct trial_reader *tr)
{
	if (!tr)
		return;
	if (tr->gz)
		gzclose(tr->gz);
	free(tr->path);
	free(tr->line);
	free(tr->scratch);
	json_decref(tr->header);
	json_decref(tr->cur);
	free(tr);
}

/* One line into tr->line: its length, 0 at the end, -1 if it has no newline. */
static long read_line(struct trial_reader *tr)
{
	size_t len = 0;
	for (;;) {
		if (tr->cap - len < 2) {
			size_t cap = tr->cap ? tr->cap * 2 : 16384;
			char *nl = realloc(tr->line, cap);
			if (!nl)
				return -2;
			tr->line = nl;
			tr->cap = cap;
		}
		if (!gzgets(tr->gz, tr->line + len, (int)(tr->cap - len))) {
			if (len == 0)
				return 0;
			return -1;
		}
		len += strlen(tr->line + len);
		if (len && tr->line[len - 1] == '\n')
			return (long)len;
	}
}

/* The end of the JSON value at P (before END), or NULL if it does not end. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;
	bool str = false;
	for (; p < end; p++) {
		if (str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				str = false;
			continue;
		}
		if (*p == '"')
			str = true;
		else if (*p == '[' || *p == '{')
			depth++;
		else if (*p == ']' || *p == '}')
			depth--;
		else if (depth == 0 && (*p == ',' || *p == '\n'))
			return p;
		if (depth < 0)
			return p; /* the end of the object holding it */
		if (depth == 0 && (*p == ']' || *p == '}'))
			return p + 1;
	}
	return NULL;
}

/*
 * Cuts member KEY ("\"timeline\":") out of the JSON text S (LEN bytes) in
 * place; the new length. Inside a JSON string every quote is escaped, so
 * the pattern matches a key only.
 */
static size_t drop_member(char *s, size_t len, const char *key)
{
	size_t klen = strlen(key);
	char *k = memmem(s, len, key, klen), *end = s + len;
	const char *v = k ? skip_value(k + klen, end) : NULL;
	if (!v)
		return len;
	char *from = k, *to = (char *)v;
	if (from > s && from[-1] == ',')
		from--; /* ",KEY:VALUE" */
	else if (to < end && *to == ',')
		to++; /* "KEY:VALUE," */
	memmove(from, to, (size_t)(end - to));
	return len - (size_t)(to - from);
}

void trials_set_flags(struct trial_reader *tr, unsigned flags)
{
	tr->flags = flags;
}

const char *trials_raw(const struct trial_reader *tr, size_t *len)
{
	*len = tr->gz ? tr->len : 0;
	return tr->gz ? tr->line : NULL;
}

/* What of the line is parsed: all of it, or a copy without the timeline. */
static const char *parse_text(struct trial_reader *tr, size_t *len)
{
	*len = tr->len;
	if (!(tr->flags & TRIALS_NO_TIMELINE) || tr->lineno == 1)
		return tr->line;
	if (tr->scap < tr->len) {
		char *ns = realloc(tr->scratch, tr->len);
		if (!ns)
			return tr->line;
		tr->scratch = ns;
		tr->scap = tr->len;
	}
	memcpy(tr->scratch, tr->line, tr->len);
	*len = drop_member(tr->scratch, tr->len, "\"timeline\":");
	return tr->scratch;
}

/* The next line as JSON: 1, 0 at the end, -1 with ERR. */
static int next_json(struct trial_reader *tr, json_t **out, struct perr *err)
{
	long len = read_line(tr);
	int gzerr;
	const char *why = gzerror(tr->gz, &gzerr);
	if (gzerr < 0) { /* Z_BUF_ERROR: a cut-off gzip stream */
		perr_set(err, tr->path, (int)tr->lineno + 1, 0, "cannot read: %s", why);
		return -1;
	}
	if (len == 0)
		return 0;
	tr->lineno++;
	if (len == -2) {
		perr_set(err, tr->path, (int)tr->lineno, 0, "out of memory");
		return -1;
	}
	if (len == -1) {
		perr_set(err, tr->path, (int)tr->lineno, 1,
			 "truncated line (the run was killed while writing it?)");
		return -1;
	}
	json_error_t je;
	size_t plen;
	tr->len = (size_t)len;
	const char *text = parse_text(tr, &plen);
	*out = json_loadb(text, plen, 0, &je);
	if (!*out || !json_is_object(*out)) {
		perr_set(err, tr->path, (int)tr->lineno, *out ? 1 : je.column > 0 ? je.column : 1,
			 "%s", *out ? "a JSON object is expected" : je.text);
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 1;
}

static int open_file(const char *path, struct trial_reader *tr, struct perr *err)
{
	tr->path = strdup(path);
	tr->gz = gzopen(path, "rb"); /* reads plain files too */
	if (!tr->path || !tr->gz) {
		perr_set(err, path, 0, 0, "cannot open the trials: %s", strerror(errno ?: ENOMEM));
		return -1;
	}
	json_t *h = NULL;
	int rc = next_json(tr, &h, err);
	if (rc == 0)
		perr_set(err, path, 1, 1, "empty: a trials file starts with its header line");
	if (rc <= 0)
		return -1;
	tr->header = h;
	json_t *f = json_object_get(h, "format"), *v = json_object_get(h, "version");
	if (!json_is_string(f) || strcmp(json_string_value(f), RESULTS_TRIALS_FORMAT) ||
	    !json_is_integer(v)) {
		perr_set(err, path, 1, 1,
			 "not a punchlab trials file (a header with \"format\": "
			 "\"" RESULTS_TRIALS_FORMAT "\" and \"version\" expected)");
		return -1;
	}
	if (json_integer_value(v) > RESULTS_VERSION) {
		perr_set(err, path, 1, 1, "trials format version %lld is newer than this punchlab "
			 "reads (%d)", (long long)json_integer_value(v), RESULTS_VERSION);
		return -1;
	}
	return 0;
}

int trials_open_file(const char *path, struct trial_reader **out, struct perr *err)
{
	struct trial_reader *tr = calloc(1, sizeof(*tr));
	*out = NULL;
	if (!tr) {
		perr_set(err, path, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (open_file(path, tr, err) < 0) {
		trials_close(tr);
		return -EINVAL;
	}
	*out = tr;
	return 0;
}

int trials_open(const struct results *r, struct trial_reader **out, struct perr *err)
{
	*out = NULL;
	if (r->version >= 2) {
		if (!r->trials_path || access(r->trials_path, F_OK) < 0) {
			perr_set(err, r->path, 0, 0, "its trials file %s is missing (nor .gz)",
				 r->trials_path ? r->trials_path : "?");
			return -ENOENT;
		}
		int rc = trials_open_file(r->trials_path, out, err);
		if (rc == 0)
			(*out)->r = r;
		return rc;
	}
	struct trial_reader *tr = calloc(1, sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	tr->r = r;
	*out = tr;
	return 0;
}

void trials_err(const struct trial_reader *tr, struct perr *err, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tr->gz)
		perr_set(err, tr->path, (int)tr->lineno, 1, "%s", msg);
	else
		perr_set(err, tr->r->path, 0, 0, "trial %zu: %s", tr->next - 1, msg);
}

json_t *trials_header(const struct trial_reader *tr)
{
	return tr->header;
}

static int check_trial(struct trial_reader *tr, json_t *t, struct perr *err)
{
	if (!json_is_string(json_object_get(t, "cell")) ||
	    !json_is_integer(json_object_get(t, "trial")) ||
	    !json_is_boolean(json_object_get(t, "connected"))) {
		perr_set(err, tr->path, (int)tr->lineno, 1,
			 "a trial needs \"cell\", \"trial\" and \"connected\"");
		return -1;
	}
	return 0;
}

int trials_next(struct trial_reader *tr, json_t **trial, struct perr *err)
{
	json_decref(tr->cur);
	tr->cur = NULL;
	*trial = NULL;
	if (!tr->gz) {
		/* version 1: checked when it was loaded */
		if (tr->next >= json_array_size(tr->r->v1_trials))
			return 0;
		*trial = json_array_get(tr->r->v1_trials, tr->next++);
		return 1;
	}
	int rc = next_json(tr, &tr->cur, err);
	if (rc == 0 && tr->r && tr->count != tr->r->ntrials) {
		perr_set(err, tr->path, (int)tr->lineno, 0, "holds %zu trials, but %s says %zu",
			 tr->count, results_base(tr->r->path), tr->r->ntrials);
		return -1;
	}
	if (rc <= 0)
		return rc;
	if (check_trial(tr, tr->cur, err) < 0)
		return -1;
	tr->count++;
	*trial = tr->cur;
	return 1;
}

int results_foreach_trial(const struct results *r, unsigned flags,
			  int (*fn)(json_t *trial, const struct rcell *cell, void *ctx), void *ctx,
			  struct perr *err)
{
	struct trial_reader *tr;
	json_t *t;
	int rc = trials_open(r, &tr, err);
	if (rc < 0)
		return rc;
	trials_set_flags(tr, flags);
	while ((rc = trials_next(tr, &t, err)) > 0) {
		rc = fn(t, results_cell(r, json_string_value(json_object_get(t, "cell"))), ctx);
		if (rc)
			break;
	}
	trials_close(tr);
	return rc;
}
