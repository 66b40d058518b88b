// SPDX-License-Identifier: MIT
#include "export.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void field(FILE *f, const char *s, bool first)
{
	if (!first)
		fputc(',', f);
	if (!s)
		return; /* missing: an empty field, NA to R and pandas */
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
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

static json_t *cell_fields(json_t *res, const char *id)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(res, "cells"), i,
			   c) if (!strcmp(json_string_value(json_object_get(c, "id")) ?: "",
					  id)) return json_object_get(c, "fields");
	return NULL;
}

void export_csv(json_t *res, FILE *f)
{
	/* the union of the cells' fields, in order of first appearance */
	json_t *names = json_array(), *c, *v;
	size_t i;
	const char *k;
	json_array_foreach(json_object_get(res, "cells"), i, c)
	{
		json_object_foreach(json_object_get(c, "fields"), k, v)
		{
			bool seen = false;
			size_t j;
			json_t *n;
			json_array_foreach(names, j, n) seen |= !strcmp(json_string_value(n), k);
			if (!seen)
				json_array_append_new(names, json_string(k));
		}
	}
	static const char *const fixed[] = {"cell",
					    "trial",
					    "connected",
					    "rounds",
					    "time_to_connect_ms",
					    "reason",
					    "prediction_hit_a",
					    "prediction_hit_b",
					    "syns_crossed",
					    "a_local",
					    "a_remote",
					    "b_local",
					    "b_remote",
					    "a_ports_seen",
					    "a_ports_predicted",
					    "b_ports_seen",
					    "b_ports_predicted"};
	for (size_t n = 0; n < sizeof(fixed) / sizeof(fixed[0]); n++)
		field(f, fixed[n], n == 0);
	json_t *n;
	json_array_foreach(names, i, n) field(f, json_string_value(n), false);
	fputs("\r\n", f);
	json_t *t;
	json_array_foreach(json_object_get(res, "trials"), i, t)
	{
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
		const char *lists[] = {"ports_seen", "ports_predicted"};
		for (int side = 0; side < 2; side++)
			for (int l = 0; l < 2; l++) {
				json_t *pl = json_object_get(side ? b : a, lists[l]);
				char *s = pl ? json_dumps(pl, JSON_COMPACT) : NULL;
				field(f, s, false);
				free(s);
			}
		json_t *fl = cell_fields(res, json_string_value(json_object_get(t, "cell")) ?: "");
		size_t j;
		json_array_foreach(names, j, n)
		    put(f, json_object_get(fl, json_string_value(n)), false);
		fputs("\r\n", f);
	}
	json_decref(names);
}
