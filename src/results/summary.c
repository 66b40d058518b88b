// SPDX-License-Identifier: MIT
/* A cell's summary: from its trials (as they come), to and from JSON. */
#include "results.h"
#include "stats.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int fail_count(struct rfailure **fail, size_t *nfail, const char *why, unsigned add)
{
	for (size_t i = 0; i < *nfail; i++)
		if (!strcmp((*fail)[i].reason, why)) {
			(*fail)[i].count += add;
			return 0;
		}
	struct rfailure *nf = realloc(*fail, (*nfail + 1) * sizeof(**fail));
	if (!nf)
		return -ENOMEM;
	*fail = nf;
	nf[*nfail].reason = strdup(why);
	if (!nf[*nfail].reason)
		return -ENOMEM;
	nf[(*nfail)++].count = add;
	return 0;
}

int cell_acc_add(struct cell_acc *a, json_t *t)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		double *r = realloc(a->rounds, cap * sizeof(double));
		if (!r)
			return -ENOMEM;
		a->rounds = r;
		double *c = realloc(a->ttc, cap * sizeof(double));
		if (!c)
			return -ENOMEM;
		a->ttc = c;
		a->cap = cap;
	}
	a->rounds[a->n++] = (double)json_integer_value(json_object_get(t, "rounds"));
	const char *path = json_string_value(json_object_get(t, "path"));
	if (json_is_true(json_object_get(t, "connected")) && path && !strcmp(path, "relay")) {
		a->relayed++; /* connected, but no punch: never a success */
	} else if (json_is_true(json_object_get(t, "connected"))) {
		a->k++;
		a->ttc[a->nttc++] = json_number_value(json_object_get(t, "time_to_connect_ms"));
	} else {
		const char *why = json_string_value(json_object_get(t, "reason"));
		if (fail_count(&a->fail, &a->nfail, why ? why : "unknown", 1) < 0)
			return -ENOMEM;
	}
	json_t *h = json_object_get(t, "prediction_hit");
	for (int side = 0; side < 2; side++) {
		json_t *v = json_object_get(h, side ? "b" : "a");
		if (json_is_boolean(v)) {
			a->judged++;
			a->hits += json_is_true(v);
		}
	}
	return 0;
}

/* three decimals, as every figure of a summary is written */
static double milli(double x)
{
	return isnan(x) ? NAN : round(x * 1000) / 1000;
}

int cell_acc_summary(struct cell_acc *a, struct rcell *c)
{
	c->n = a->n;
	c->k = a->k;
	c->relayed = a->relayed;
	c->rate = a->n ? (double)a->k / a->n : NAN;
	wilson95(a->k, a->n, &c->lo, &c->hi);
	c->rounds_median = milli(quantile(a->rounds, a->n, 0.5));
	c->rounds_p90 = milli(quantile(a->rounds, a->n, 0.9));
	c->ttc_median_ms = milli(quantile(a->ttc, a->nttc, 0.5));
	c->ttc_p90_ms = milli(quantile(a->ttc, a->nttc, 0.9));
	c->hit_rate = a->judged ? (double)a->hits / a->judged : NAN;
	for (size_t i = 0; i < c->nfail; i++)
		free(c->fail[i].reason);
	free(c->fail);
	c->fail = NULL;
	c->nfail = 0;
	for (size_t i = 0; i < a->nfail; i++)
		if (fail_count(&c->fail, &c->nfail, a->fail[i].reason, a->fail[i].count) < 0)
			return -ENOMEM;
	return 0;
}

void cell_acc_free(struct cell_acc *a)
{
	free(a->rounds);
	free(a->ttc);
	for (size_t i = 0; i < a->nfail; i++)
		free(a->fail[i].reason);
	free(a->fail);
	memset(a, 0, sizeof(*a));
}

void rcell_free(struct rcell *c)
{
	if (!c)
		return;
	json_decref(c->fields);
	for (size_t i = 0; i < c->nfail; i++)
		free(c->fail[i].reason);
	free(c->fail);
	c->fields = NULL;
	c->fail = NULL;
	c->nfail = 0;
}

static json_t *num(double x)
{
	return isnan(x) ? json_null() : json_real(x);
}

json_t *rcell_to_json(const struct rcell *c)
{
	json_t *fail = json_object();
	json_t *fields = c->fields ? json_incref(c->fields) : json_object();
	for (size_t i = 0; i < c->nfail; i++)
		json_object_set_new(fail, c->fail[i].reason, json_integer(c->fail[i].count));
	json_t *o = json_pack("{s:s, s:o, s:I, s:I, s:o, s:[f, f], s:o, s:o, s:o, s:o, s:o, s:o}", "id",
			 c->id, "fields", fields, "trials",
			 (json_int_t)c->n, "successes", (json_int_t)c->k, "rate", num(c->rate),
			 "wilson95", c->lo, c->hi, "rounds_median", num(c->rounds_median),
			 "rounds_p90", num(c->rounds_p90), "time_to_connect_median_ms",
			 num(c->ttc_median_ms), "time_to_connect_p90_ms", num(c->ttc_p90_ms),
			 "prediction_hit_rate", num(c->hit_rate), "failures", fail);
	if (o && c->relayed) /* only where a relay ran: older files stay as they were */
		json_object_set_new(o, "relayed", json_integer((json_int_t)c->relayed));
	return o;
}
