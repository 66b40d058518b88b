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
};

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
	for (size_t i = 0; i < r->ncells; i++)
		rw_cell(m->w, r->cells[i].id, r->cells[i].fields); /* -EINVAL: declared already */
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

/* "paper-table1-merged", from the suite's file name */
static void merged_base(const struct results *r, char *base, size_t len)
{
	const char *file = json_string_value(json_object_get(r->suite, "file")) ?: "merged";
	file = results_base(file);
	snprintf(base, len, "%.*s-merged", (int)strcspn(file, "."), file);
}

int results_merge(const char *const *paths, int n, const char *outdir, const char *command_line,
		  char *out_path, size_t len, struct results **out, struct perr *err)
{
	struct results **in = calloc((size_t)n + 1, sizeof(*in));
	struct merge m = {.seen = json_object(), .from = json_array(), .err = err, .start = "9999"};
	char base[160];
	int rc = in ? 0 : -ENOMEM;
	if (rc < 0)
		perr_set(err, paths[0], 0, 0, "out of memory");
	/* every file is read and checked before the new one is made */
	for (int i = 0; rc == 0 && i < n; i++)
		rc = results_load(paths[i], &in[i], err);
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
		json_t *md = json_deep_copy(in[0]->metadata);
		json_object_set_new(md, "start_utc", json_string(m.start));
		json_object_set_new(md, "end_utc", json_string(m.end));
		json_object_set_new(md, "command",
				    json_string(command_line ? command_line : "punchlab merge"));
		json_object_set_new(md, "interrupted", json_boolean(m.interrupted));
		json_object_set(md, "merged_from", m.from);
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
	return rc;
}
