// SPDX-License-Identifier: MIT
#include "diff.h"
#include "results/stats.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void describe(const struct rcell *c, FILE *f)
{
	char *fl = json_dumps(c->fields, JSON_COMPACT | JSON_SORT_KEYS);
	fprintf(f, "%s %s", c->id, fl ? fl : "");
	free(fl);
}

static void rate(const struct rcell *c, FILE *f)
{
	fprintf(f, "%u/%u = %.0f%% [%.0f-%.0f]", c->k, c->n, c->n ? 100.0 * c->k / c->n : 0,
		100 * c->lo, 100 * c->hi);
}

/* Cells of A that B lacks, each after TAG: how many. */
static int only_in(const struct results *a, const struct results *b, const char *tag, FILE *f)
{
	int n = 0;
	for (size_t i = 0; i < a->ncells; i++)
		if (!results_cell(b, a->cells[i].id)) {
			fputs(tag, f);
			describe(&a->cells[i], f);
			fputc('\n', f);
			n++;
		}
	return n;
}

static const char *suite_hash(const struct results *r)
{
	const char *h = json_string_value(json_object_get(r->suite, "sha256"));
	return h ? h : "none";
}

int diff_same_suite(const struct results *old_res, const struct results *new_res, struct perr *err)
{
	if (!strcmp(suite_hash(old_res), suite_hash(new_res)))
		return 0;
	perr_set(err, new_res->path, 0, 0,
		 "a run of another suite than %s (suite.sha256 %.12s, not %.12s)",
		 results_base(old_res->path), suite_hash(new_res), suite_hash(old_res));
	return -EINVAL;
}

int diff_results(const struct results *old_res, const struct results *new_res,
		 const struct diff_opts *o, FILE *f)
{
	int worse = 0, better = 0, same = 0;
	for (size_t i = 0; i < new_res->ncells; i++) {
		const struct rcell *c = &new_res->cells[i], *old = results_cell(old_res, c->id);
		if (!old)
			continue;
		double p = fisher_exact(old->k, old->n - old->k, c->k, c->n - c->k);
		if (!(p < o->alpha)) { /* NaN is no evidence of a change */
			same++;
			continue;
		}
		bool down =
		    (double)c->k / (c->n ? c->n : 1) < (double)old->k / (old->n ? old->n : 1);
		fprintf(f, "%s ", down ? "WORSE " : "BETTER");
		describe(c, f);
		fputs("\n       ", f);
		rate(old, f);
		fputs(" -> ", f);
		rate(c, f);
		fprintf(f, "  (Fisher's exact p = %.3g)\n", p);
		if (down)
			worse++;
		else
			better++;
	}
	int missing = only_in(old_res, new_res, "ONLY IN OLD ", f);
	only_in(new_res, old_res, "ONLY IN NEW ", f);
	fprintf(f,
		"%d worse, %d missing from NEW%s, %d better, %d without a significant change "
		"(alpha %g)\n",
		worse, missing, missing && o->allow_missing ? " (allowed)" : "", better, same,
		o->alpha);
	int common = worse + better + same;
	if (!common)
		fputs("no cell is in both files: nothing was compared\n", f);
	return worse + (o->allow_missing ? 0 : missing) + !common;
}
