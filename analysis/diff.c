// SPDX-License-Identifier: MIT
#include "diff.h"
#include "run/stats.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static json_t *find_cell(json_t *res, const char *id)
{
	size_t i;
	json_t *c;
	json_array_foreach(
	    json_object_get(res, "cells"), i,
	    c) if (!strcmp(json_string_value(json_object_get(c, "id")) ?: "", id)) return c;
	return NULL;
}

static void describe(json_t *c, FILE *f)
{
	char *fl = json_dumps(json_object_get(c, "fields"), JSON_COMPACT | JSON_SORT_KEYS);
	fprintf(f, "%s %s", json_string_value(json_object_get(c, "id")), fl ? fl : "");
	free(fl);
}

static void rate(json_t *c, FILE *f)
{
	json_t *w = json_object_get(c, "wilson95");
	long long k = json_integer_value(json_object_get(c, "successes"));
	long long n = json_integer_value(json_object_get(c, "trials"));
	fprintf(f, "%lld/%lld = %.0f%% [%.0f-%.0f]", k, n, n ? 100.0 * (double)k / (double)n : 0,
		100 * json_number_value(json_array_get(w, 0)),
		100 * json_number_value(json_array_get(w, 1)));
}

int diff_results(json_t *old_res, json_t *new_res, double alpha, FILE *f)
{
	int worse = 0, better = 0, same = 0;
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(new_res, "cells"), i, c)
	{
		const char *id = json_string_value(json_object_get(c, "id"));
		json_t *o = find_cell(old_res, id);
		if (!o)
			continue;
		unsigned k1 = (unsigned)json_integer_value(json_object_get(o, "successes"));
		unsigned n1 = (unsigned)json_integer_value(json_object_get(o, "trials"));
		unsigned k2 = (unsigned)json_integer_value(json_object_get(c, "successes"));
		unsigned n2 = (unsigned)json_integer_value(json_object_get(c, "trials"));
		double p = fisher_exact(k1, n1 - k1, k2, n2 - k2);
		if (p >= alpha) {
			same++;
			continue;
		}
		bool down = (double)k2 / (n2 ? n2 : 1) < (double)k1 / (n1 ? n1 : 1);
		fprintf(f, "%s ", down ? "WORSE " : "BETTER");
		describe(c, f);
		fputs("\n       ", f);
		rate(o, f);
		fputs(" -> ", f);
		rate(c, f);
		fprintf(f, "  (Fisher's exact p = %.3g)\n", p);
		if (down)
			worse++;
		else
			better++;
	}
	json_array_foreach(json_object_get(old_res, "cells"), i,
			   c) if (!find_cell(new_res, json_string_value(json_object_get(c, "id"))))
	{
		fputs("ONLY IN OLD ", f);
		describe(c, f);
		fputc('\n', f);
	}
	json_array_foreach(json_object_get(new_res, "cells"), i,
			   c) if (!find_cell(old_res, json_string_value(json_object_get(c, "id"))))
	{
		fputs("ONLY IN NEW ", f);
		describe(c, f);
		fputc('\n', f);
	}
	fprintf(f, "%d worse, %d better, %d without a significant change (alpha %g)\n", worse,
		better, same, alpha);
	return worse;
}
