// SPDX-License-Identifier: MIT
#include "export.h"
#include "common.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void field(FILE *f, const char *s, bool first)
{
	if (!first)
		fputc(',', f);
	if (s) /* missing: an empty field, NA to R and pandas */
		csv_field(f, s);
}

/* A JSON scalar as CSV text (malloc'd; NULL for null or absent). */
static char *text(json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_true(v))
		return strdup("true");
	if (json_is_false(v))
		return strdup("false");
	return json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
}

static void put(FILE *f, json_t *v, bool first)
{
	char *s = text(v);
	field(f, s, first);
	free(s);
}

struct export {
	FILE *f;
	json_t *names; /* the cell fields' names: the last columns */
};

static const char *const fixed[] = {
    "cell",	      "trial",		  "connected",	     "rounds",
    "time_to_connect_ms", "reason",	  "prediction_hit_a", "prediction_hit_b",
    "syns_crossed",	  "a_local",		  "a_remote",	     "b_local",
    "b_remote",		  "a_ports_seen",	  "a_ports_predicted", "b_ports_seen",
    "b_ports_predicted"};

static int row(json_t *t, const struct rcell *cell, void *ctx)
{
	struct export *x = ctx;
	FILE *f = x->f;
	json_t *a = json_object_get(t, "a"), *b = json_object_get(t, "b");
	json_t *hit = json_object_get(t, "prediction_hit");
	put(f, json_object_get(t, "cell"), true);
	put(f, json_object_get(t, "trial"), false);
	put(f, json_object_get(t, "connected"), false);
	put(f, json_object_get(t, "rounds"), false);
	put(f, json_object_get(t, "time_to_connect_ms"), false);
	put(f, json_object_get(t, "reason"), false);
	put(f, json_object_get(hit, "a"), false);
	put(f, json_object_get(hit, "b"), false);
	put(f, json_object_get(json_object_get(t, "capture"), "syns_crossed"), false);
	put(f, json_object_get(a, "local"), false);
	put(f, json_object_get(a, "remote"), false);
	put(f, json_object_get(b, "local"), false);
	put(f, json_object_get(b, "remote"), false);
	/* port lists as compact JSON in one field each */
	static const char *const lists[] = {"ports_seen", "ports_predicted"};
	for (int side = 0; side < 2; side++)
		for (int l = 0; l < 2; l++) {
			json_t *pl = json_object_get(side ? b : a, lists[l]);
			char *s = pl ? json_dumps(pl, JSON_COMPACT) : NULL;
			field(f, s, false);
			free(s);
		}
	size_t j;
	json_t *n;
	json_array_foreach(x->names, j, n)
	    put(f, cell ? json_object_get(cell->fields, json_string_value(n)) : NULL, false);
	fputs("\r\n", f);
	return ferror(f) ? -EIO : 0;
}

int export_csv(const struct results *res, FILE *f, struct perr *err)
{
	/* the union of the cells' fields, in order of first appearance */
	struct export x = {.f = f, .names = json_array()};
	json_t *seen = json_object(), *v;
	const char *k;
	for (size_t i = 0; i < res->ncells; i++)
		json_object_foreach(res->cells[i].fields, k, v) if (!json_object_get(seen, k))
		{
			json_object_set_new(seen, k, json_true());
			json_array_append_new(x.names, json_string(k));
		}
	json_decref(seen);
	for (size_t n = 0; n < sizeof(fixed) / sizeof(fixed[0]); n++)
		field(f, fixed[n], n == 0);
	size_t i;
	json_array_foreach(x.names, i, v) field(f, json_string_value(v), false);
	fputs("\r\n", f);
	int rc = results_foreach_trial(res, TRIALS_NO_TIMELINE, row, &x, err);
	if (rc == -EIO)
		perr_set(err, "stdout", 0, 0, "cannot write: %s", strerror(errno));
	json_decref(x.names);
	return rc < 0 ? -1 : 0;
}
