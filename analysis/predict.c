// SPDX-License-Identifier: MIT
#include "predict.h"
#include "punch/heuristic.h"
#include "run/runner.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct trace *trace_new(struct traces *ts, const char *source)
{
	if (ts->n == ts->cap) {
		int nc = ts->cap ? ts->cap * 2 : 64;
		struct trace *nt = realloc(ts->t, (size_t)nc * sizeof(*nt));
		if (!nt)
			return NULL;
		ts->t = nt;
		ts->cap = nc;
	}
	struct trace *t = &ts->t[ts->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->source, sizeof(t->source), "%s", source);
	return t;
}

void traces_free(struct traces *ts)
{
	free(ts->t);
	ts->t = NULL;
	ts->n = ts->cap = 0;
}

/* "linux-2.6/home-2009", "windows-xp+proxy/rfc5382" */
static void source_of(json_t *fields, char side, char *buf, size_t len)
{
	char k[8], pk[10];
	snprintf(k, sizeof(k), "os_%c", side);
	snprintf(pk, sizeof(pk), "proxy_%c", side);
	const char *os = json_string_value(json_object_get(fields, k));
	const char *nat = json_string_value(json_object_get(fields, "nat"));
	snprintf(buf, len, "%s%s/%s", os ? os : "native",
		 json_is_true(json_object_get(fields, pk)) ? "+proxy" : "", nat ? nat : "topology");
}

static int from_results(struct traces *ts, json_t *res)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(res, "trials"), i, t)
	{
		json_t *fields = NULL, *c;
		size_t j;
		json_array_foreach(json_object_get(res, "cells"), j,
				   c) if (!strcmp(json_string_value(json_object_get(c, "id")) ?: "",
						  json_string_value(json_object_get(t, "cell"))
						      ?: "")) fields = json_object_get(c, "fields");
		for (int side = 0; side < 2; side++) {
			json_t *p = json_object_get(t, side ? "b" : "a");
			json_t *rounds = json_object_get(p, "ports_seen");
			char src[96];
			source_of(fields, side ? 'b' : 'a', src, sizeof(src));
			size_t r;
			json_t *seen;
			json_array_foreach(rounds, r, seen)
			{
				struct trace *tr = trace_new(ts, src);
				if (!tr)
					return -ENOMEM;
				size_t k;
				json_t *v;
				json_array_foreach(seen, k, v) if (tr->n < 64) tr->port[tr->n++] =
				    (uint16_t)json_integer_value(v);
				/* the last round ends with the punch's own port: the one that
				 * mattered (its local port, what a port-preserving NAT shows) */
				const char *local = json_string_value(json_object_get(p, "local"));
				if (r + 1 == json_array_size(rounds) && local &&
				    strrchr(local, ':') && tr->n < 64)
					tr->port[tr->n++] = (uint16_t)atoi(strrchr(local, ':') + 1);
			}
		}
	}
	return 0;
}

/* trace format: "SOURCE: PORT PORT ..." per line; '#' starts a comment */
static int from_trace_file(struct traces *ts, const char *path, FILE *f, struct perr *err)
{
	char line[4096];
	int ln = 0;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		char *colon = strchr(p, ':');
		if (!colon || colon == p) {
			perr_set(err, path, ln, 1, "expected SOURCE: PORT PORT ...");
			return -EINVAL;
		}
		*colon = 0;
		struct trace *t = trace_new(ts, p);
		if (!t)
			return -ENOMEM;
		char *s = colon + 1, *end;
		for (;;) {
			s += strspn(s, " \t");
			if (!*s || *s == '\n' || *s == '#')
				break;
			long v = strtol(s, &end, 10);
			if (end == s || v < 1 || v > 65535 || (*end && !strchr(" \t\n#", *end))) {
				perr_set(err, path, ln, (int)(s - line) + 1,
					 "expected a port (1 to 65535)");
				return -EINVAL;
			}
			if (t->n == 64) {
				perr_set(err, path, ln, (int)(s - line) + 1,
					 "more than 64 ports in a trace");
				return -EINVAL;
			}
			t->port[t->n++] = (uint16_t)v;
			s = end;
		}
	}
	return 0;
}

int traces_load(struct traces *ts, const char *path, struct perr *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perr_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return -errno;
	}
	int c = fgetc(f);
	while (c == ' ' || c == '\n' || c == '\t' || c == '\r')
		c = fgetc(f);
	int rc;
	if (c == '{') {
		fclose(f);
		json_t *res;
		if ((rc = results_load(path, &res, err)) < 0)
			return rc;
		rc = from_results(ts, res);
		json_decref(res);
	} else {
		rewind(f);
		rc = from_trace_file(ts, path, f, err);
		fclose(f);
	}
	return rc;
}

void traces_write(const struct traces *ts, FILE *f)
{
	for (int i = 0; i < ts->n; i++) {
		fprintf(f, "%s:", ts->t[i].source);
		for (int k = 0; k < ts->t[i].n; k++)
			fprintf(f, " %u", ts->t[i].port[k]);
		fputc('\n', f);
	}
}

static long dist(uint16_t a, uint16_t b)
{
	long d = labs((long)a - (long)b);
	return d > 32767 ? 65535 - d : d;
}

int predict_report(const struct traces *ts, const char *name, const int *ks, int nk, FILE *f,
		   struct perr *err)
{
	const struct heuristic *only = NULL;
	if (name && strcmp(name, "all") && !(only = heuristic_by_name(name))) {
		perr_set(err, name, 0, 0, "unknown heuristic (known: %s)", heuristic_names());
		return -EINVAL;
	}
	int kmax = ks[nk - 1];
	/* sources in order of appearance */
	const char *src[512];
	int ns = 0;
	for (int i = 0; i < ts->n; i++) {
		bool seen = false;
		for (int s = 0; s < ns; s++)
			seen |= !strcmp(src[s], ts->t[i].source);
		if (!seen && ns < 512)
			src[ns++] = ts->t[i].source;
	}
	fprintf(f, "%-11s %-28s %6s", "heuristic", "source", "n");
	for (int k = 0; k < nk; k++)
		fprintf(f, "  hit@%-3d", ks[k]);
	fprintf(f, "  %s\n", "mean distance");
	for (size_t h = 0; heuristics[h]; h++) {
		if (only && only != heuristics[h])
			continue;
		for (int s = 0; s < ns; s++) {
			long n = 0, d = 0;
			long hits[16] = {0};
			for (int i = 0; i < ts->n; i++) {
				const struct trace *t = &ts->t[i];
				if (strcmp(t->source, src[s]))
					continue;
				/* from the second port on: at least one observation before */
				for (int pos = 1; pos < t->n; pos++) {
					struct heur_obs obs[64];
					uint16_t cand[64];
					for (int k = 0; k < pos; k++)
						obs[k] = (struct heur_obs){t->port[k], k * 0.05};
					int m = heuristics[h]->predict(obs, pos, kmax,
								       1 + (uint64_t)pos, cand);
					n++;
					if (m > 0)
						d += dist(cand[0], t->port[pos]);
					for (int k = 0; k < nk; k++)
						for (int c = 0; c < m && c < ks[k]; c++)
							if (cand[c] == t->port[pos]) {
								hits[k]++;
								break;
							}
				}
			}
			if (!n)
				continue;
			fprintf(f, "%-11s %-28s %6ld", heuristics[h]->name, src[s], n);
			for (int k = 0; k < nk; k++)
				fprintf(f, "  %6.3f ", (double)hits[k] / (double)n);
			fprintf(f, "  %.1f\n", (double)d / (double)n);
		}
	}
	return 0;
}
