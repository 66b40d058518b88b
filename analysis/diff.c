// SPDX-License-Identifier: MIT
#include "diff.h"
#include "results/stats.h"
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

/* Cells of A that B lacks, each after TAG. */
static void only_in(const struct results *a, const struct results *b, const char *tag, FILE *f)
{
	for (size_t i = 0; i < a->ncells; i++)
		if (!results_cell(b, a->cells[i].id)) {
			fputs(tag, f);
			describe(&a->cells[i], f);
			fputc('\n', f);
		}
}

int diff_results(const struct results *old_res, const struct results *new_res, double alpha,
		 FILE *f)
{
	int worse = 0, better = 0, same = 0;
	for (size_t i = 0; i < new_res->ncells; i++) {
		const struct rcell *c = &new_res->cells[i], *o = results_cell(old_res, c->id);
		if (!o)
			continue;
		double p = fisher_exact(o->k, o->n - o->k, c->k, c->n - c->k);
		if (p >= alpha) {
			same++;
			continue;
		}
		bool down = (double)c->k / (c->n ? c->n : 1) < (double)o->k / (o->n ? o->n : 1);
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
	only_in(old_res, new_res, "ONLY IN OLD ", f);
	only_in(new_res, old_res, "ONLY IN NEW ", f);
	fprintf(f, "%d worse, %d better, %d without a significant change (alpha %g)\n", worse,
		better, same, alpha);
	return worse;
}
