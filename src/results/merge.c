// SPDX-License-Identifier: MIT
/* Joining the results of one suite's shards (or of a run and its resumption). */
#include "results.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct merge {
	struct results_writer *w;
	json_t *seen; /* "cell/trial" of every trial so far */
	const char *path;
	struct perr *err;
	json_t *from;
	char start[32], end[32];
	bool interrupted;
	int nshards;		    /* --expect-shards N (0: no expectation) */
	unsigned char *have;	    /* [K]: shard K/N is among the inputs */
	json_t *interrupted_shards; /* K of the inputs that were interrupted */
	int ncells;		    /* cells declared: those with trials */
	bool shards_differ;	    /* the inputs are of more than one shard */
};

/* "K/N" into *K, *N: 0, or -1 when S is not one. */
static int shard_of(const char *s, int *k, int *n)
{
	char end;
	return s && sscanf(s, "%d/%d%c", k, n, &end) == 2 && *k >= 1 && *k <= *n ? 0 : -1;
}

/* R's shard against the expectation: recorded in M, or -EINVAL when R is
 * not a shard of M's N. */
static int take_shard(struct merge *m, const struct results *r, const struct results *first)
{
	const char *sh = json_string_value(json_object_get(r->metadata, "shard"));
	const char *sh0 = json_string_value(json_object_get(first->metadata, "shard"));
	int k, n;
	m->shards_differ |= !sh || !sh0 || strcmp(sh, sh0);
	if (!m->nshards)
		return 0;
	if (shard_of(sh, &k, &n) < 0 || n != m->nshards) {
		perr_set(m->err, r->path, 0, 0, "not a shard of %d (its metadata.shard is %s%s%s)",
			 m->nshards, sh ? "\"" : "", sh ? sh : "absent", sh ? "\"" : "");
		return -EINVAL;
	}
	if (json_is_true(json_object_get(r->metadata, "interrupted")) && !m->have[k])
		json_array_append_new(m->interrupted_shards, json_integer(k));
	m->have[k] = 1;
	return 0;
}

static int take_trial(struct merge *m, json_t *t, const char *line, size_t len)
{
	char key[96];
	snprintf(key, sizeof(key), "%s/%lld", json_string_value(json_object_get(t, "cell")),
		 (long long)json_integer_value(json_object_get(t, "trial")));
	if (json_object_get(m->seen, key)) {
		perr_set(m->err, m->path, 0, 0, "trial %s is in two of the files", key);
		return -EINVAL;
	}
	json_object_set_new(m->seen, key, json_true());
	return rw_trial_line(m->w, t, line, len, m->err);
}

/* One input: same suite as the first, its cells declared, its trials taken. */
static int take_file(struct merge *m, const struct results *r, const struct results *first)
{
	const char *h = json_string_value(json_object_get(r->suite, "sha256"));
	const char *h0 = json_string_value(json_object_get(first->suite, "sha256"));
	if (!h || !h0 || strcmp(h, h0)) {
		perr_set(m->err, r->path, 0, 0,
			 "a run of another suite (or another version of it) than %s", first->path);
		return -EINVAL;
	}
	const char *s = json_string_value(json_object_get(r->metadata, "start_utc")) ?: "";
	const char *e = json_string_value(json_object_get(r->metadata, "end_utc")) ?: "";
	if (strcmp(s, m->start) < 0)
		snprintf(m->start, sizeof(m->start), "%s", s);
	if (strcmp(e, m->end) > 0)
		snprintf(m->end, sizeof(m->end), "%s", e);
	m->interrupted |= json_is_true(json_object_get(r->metadata, "interrupted"));
	json_array_append_new(m->from, json_string(r->path));
	for (size_t i = 0; i < r->ncells; i++) /* -EINVAL: declared already */
		m->ncells += rw_cell(m->w, r->cells[i].id, r->cells[i].fields) == 0;
	m->path = r->path;
	/* the lines go over as they are: no need to serialise them again */
	struct trial_reader *tr;
	json_t *t;
	int rc = trials_open(r, &tr, m->err);
	if (rc == 0) /* the summary needs outcomes only; the line goes over whole */
		trials_set_flags(tr, TRIALS_NO_TIMELINE);
	while (rc == 0 && (rc = trials_next(tr, &t, m->err)) > 0) {
		size_t len;
		const char *line = trials_raw(tr, &len);
		rc = take_trial(m, t, line, len);
	}
	trials_close(tr);
	return rc;
}

/* What is missing of the N shards expected, into MD as "incomplete"
 * (docs/results.md); nothing when every shard came whole. */
static void mark_incomplete(struct merge *m, json_t *md, const struct results *first)
{
	json_t *missing = json_array();
	for (int k = 1; k <= m->nshards; k++)
		if (!m->have[k])
			json_array_append_new(missing, json_integer(k));
	json_int_t cells = json_integer_value(json_object_get(first->suite, "cells"));
	if (json_array_size(missing) || json_array_size(m->interrupted_shards))
		json_object_set_new(md, "incomplete",
				    json_pack("{s:i, s:o, s:O, s:I}", "shards", m->nshards,
					      "missing_shards", missing, "interrupted_shards",
					      m->interrupted_shards, "cells_without_trials",
					      cells > m->ncells ? cells - m->ncells : 0));
	else
		json_decref(missing);
}

/* "paper-table1-merged", from the suite's file name */
static void merged_base(const struct results *r, char *base, size_t len)
{
	const char *file = json_string_value(json_object_get(r->suite, "file")) ?: "merged";
	file = results_base(file);
	snprintf(base, len, "%.*s-merged", (int)strcspn(file, "."), file);
}

/* The merged run's metadata: the first input's, with the span, the command
 * and what came from where. */
static json_t *merged_metadata(struct merge *m, const struct results *first,
			       const char *command_line)
{
	json_t *md = json_deep_copy(first->metadata);
	json_object_set_new(md, "start_utc", json_string(m->start));
	json_object_set_new(md, "end_utc", json_string(m->end));
	json_object_set_new(md, "command", json_string(command_line ? command_line : "punchlab merge"));
	json_object_set_new(md, "interrupted", json_boolean(m->interrupted));
	json_object_set(md, "merged_from", m->from);
	if (m->shards_differ) /* one shard's K/N no longer says what the file holds */
		json_object_del(md, "shard");
	mark_incomplete(m, md, first);
	return md;
}

int results_merge(const char *const *paths, int n, const char *outdir, const char *command_line,
		  int expect_shards, char *out_path, size_t len, struct results **out,
		  struct perr *err)
{
	struct results **in = calloc((size_t)n + 1, sizeof(*in));
	struct merge m = {.seen = json_object(),
			  .from = json_array(),
			  .err = err,
			  .start = "9999",
			  .nshards = expect_shards,
			  .have = calloc((size_t)expect_shards + 1, 1),
			  .interrupted_shards = json_array()};
	char base[160];
	int rc = in && m.have ? 0 : -ENOMEM;
	if (rc < 0)
		perr_set(err, paths[0], 0, 0, "out of memory");
	/* every file is read and checked before the new one is made */
	for (int i = 0; rc == 0 && i < n; i++)
		rc = results_load(paths[i], &in[i], err);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = take_shard(&m, in[i], in[0]);
	if (rc == 0) {
		merged_base(in[0], base, sizeof(base));
		json_t *h = json_pack("{s:O?}", "suite_sha256",
				      json_object_get(in[0]->suite, "sha256"));
		rc = rw_open(outdir, base, h, &m.w, err);
		json_decref(h);
	}
	for (int i = 0; rc == 0 && i < n; i++)
		rc = take_file(&m, in[i], in[0]);
	if (rc == 0) {
		json_t *md = merged_metadata(&m, in[0], command_line);
		rc = rw_finish(m.w, md, in[0]->suite, out_path, len, out, err);
		json_decref(md);
	}
	if (rc < 0 && m.w)
		unlink(rw_trials_path(m.w)); /* nothing of a failed merge stays */
	rw_free(m.w);
	for (int i = 0; in && i < n; i++)
		results_free(in[i]);
	free(in);
	json_decref(m.seen);
	json_decref(m.from);
	json_decref(m.interrupted_shards);
	free(m.have);
	return rc;
}

/* "shard 2" or "shards 1, 3", then WHAT, after SEP; N is how many */
static size_t shard_list(char *buf, size_t len, const char *sep, json_t *ks, const char *what)
{
	size_t n = 0, i;
	json_t *k;
	if (!json_array_size(ks))
		return 0;
	n += (size_t)snprintf(buf, len, "%sshard%s", sep, json_array_size(ks) > 1 ? "s" : "");
	json_array_foreach(ks, i, k)
	{
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s %lld", i ? "," : "",
					      (long long)json_integer_value(k));
	}
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s", what);
	return n;
}

bool results_incomplete(const struct results *r, char *buf, size_t len)
{
	json_t *inc = json_object_get(r->metadata, "incomplete");
	buf[0] = 0;
	if (!json_is_object(inc) || len < 2)
		return false;
	char of[32];
	snprintf(of, sizeof(of), "of %lld missing",
		 (long long)json_integer_value(json_object_get(inc, "shards")));
	size_t n = shard_list(buf, len, "", json_object_get(inc, "missing_shards"), of);
	if (n < len)
		n += shard_list(buf + n, len - n, n ? ", " : "",
				json_object_get(inc, "interrupted_shards"), "interrupted");
	if (n < len)
		snprintf(buf + n, len - n, ": %lld of %lld cells without trials",
			 (long long)json_integer_value(json_object_get(inc, "cells_without_trials")),
			 (long long)json_integer_value(json_object_get(r->suite, "cells")));
	return true;
}
