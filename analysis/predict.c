// SPDX-License-Identifier: MIT
#include "predict.h"
#include "punch/heuristic.h"
#include "common.h"
#include "results/results.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Scores per (source, heuristic). */
struct score {
	long n, d;
	long hits[PREDICT_MAX_K];
};

struct predict {
	const struct heuristic *only; /* NULL: every heuristic */
	int ks[PREDICT_MAX_K], nk;
	struct strlist sources;
	struct score *scores; /* [source][heuristic] */
	int nheur;
	FILE *dump;
};

int predict_new(const char *name, const int *ks, int nk, struct predict **out, struct perr *err)
{
	const struct heuristic *only = NULL;
	*out = NULL;
	if (name && strcmp(name, "all") && !(only = heuristic_by_name(name))) {
		perr_set(err, name, 0, 0, "unknown heuristic (known: %s)", heuristic_names());
		return -EINVAL;
	}
	if (nk < 1 || nk > PREDICT_MAX_K) {
		perr_set(err, "--k", 0, 0, "1 to %d values of k", PREDICT_MAX_K);
		return -EINVAL;
	}
	struct predict *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->only = only;
	memcpy(p->ks, ks, (size_t)nk * sizeof(int));
	p->nk = nk;
	while (heuristics[p->nheur])
		p->nheur++;
	*out = p;
	return 0;
}

void predict_free(struct predict *p)
{
	if (!p)
		return;
	strlist_free(&p->sources);
	free(p->scores);
	free(p);
}

static struct score *scores_of(struct predict *p, const char *source)
{
	int s = strlist_find(&p->sources, source);
	if (s < 0) {
		size_t per = (size_t)p->nheur;
		struct score *ns = realloc(p->scores, (size_t)(p->sources.n + 1) * per * sizeof(*ns));
		if (!ns)
			return NULL;
		p->scores = ns;
		memset(&ns[(size_t)p->sources.n * per], 0, per * sizeof(*ns));
		if ((s = strlist_add(&p->sources, strdup(source))) < 0)
			return NULL;
	}
	return &p->scores[(size_t)s * (size_t)p->nheur];
}

static long dist(uint16_t a, uint16_t b)
{
	long d = labs((long)a - (long)b);
	return d > 32767 ? 65535 - d : d;
}

static void score_one(const struct predict *p, const struct heuristic *h, const struct trace *t,
		      struct score *sc)
{
	int kmax = p->ks[p->nk - 1];
	/* from the second port on: at least one observation before */
	for (int pos = 1; pos < t->n; pos++) {
		struct heur_obs obs[TRACE_MAX];
		uint16_t cand[TRACE_MAX];
		for (int k = 0; k < pos; k++)
			obs[k] = (struct heur_obs){t->port[k], k * 0.05};
		int m = h->predict(obs, pos, kmax, 1 + (uint64_t)pos, cand);
		sc->n++;
		if (m > 0)
			sc->d += dist(cand[0], t->port[pos]);
		for (int k = 0; k < p->nk; k++)
			for (int c = 0; c < m && c < p->ks[k]; c++)
				if (cand[c] == t->port[pos]) {
					sc->hits[k]++;
					break;
				}
	}
}

int predict_add(struct predict *p, const struct trace *t)
{
	struct score *sc = scores_of(p, t->source);
	if (!sc)
		return -ENOMEM;
	if (p->dump)
		trace_write(t, p->dump);
	for (int h = 0; h < p->nheur; h++)
		if (!p->only || p->only == heuristics[h])
			score_one(p, heuristics[h], t, &sc[h]);
	return 0;
}

/* "linux-2.6/home-2009", "windows-xp+proxy/rfc5382" */
static void source_of(json_t *fields, char side, char *buf, size_t len)
{
	char *peer = peer_label(fields, side, "+proxy");
	const char *nat = json_string_value(json_object_get(fields, "nat"));
	snprintf(buf, len, "%s/%s", peer ? peer : "native", nat ? nat : "topology");
	free(peer);
}

/* A port of a trial as the trace reader takes it (1 to 65535): never
 * wrapped into a uint16_t. */
static int trial_port(struct trial_reader *tr, json_t *v, const char *what, long *port,
		      struct perr *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535) {
		trials_err(tr, err, "%s: expected a port (1 to 65535)", what);
		return -EINVAL;
	}
	*port = (long)json_integer_value(v);
	return 0;
}

/* The last round ends with the punch's own port: the one that mattered
 * (its local port, what a port-preserving NAT shows). */
static int add_punch_port(struct trial_reader *tr, json_t *peer, struct trace *t, struct perr *err)
{
	const char *local = json_string_value(json_object_get(peer, "local"));
	const char *colon = local ? strrchr(local, ':') : NULL;
	if (!colon || t->n >= TRACE_MAX)
		return 0;
	char *end;
	errno = 0;
	long v = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || errno || v < 1 || v > 65535) {
		trials_err(tr, err, "\"local\": \"%s\" does not end in a port (1 to 65535)", local);
		return -EINVAL;
	}
	t->port[t->n++] = (uint16_t)v;
	return 0;
}

/* One round's ports: an array of at most TRACE_MAX ports, like a trace line. */
static int round_ports(struct trial_reader *tr, json_t *seen, struct trace *t, struct perr *err)
{
	size_t k;
	json_t *v;
	long port;
	if (!json_is_array(seen) || json_array_size(seen) > TRACE_MAX) {
		trials_err(tr, err, "\"ports_seen\": a round is an array of at most %d ports",
			   TRACE_MAX);
		return -EINVAL;
	}
	t->n = 0;
	json_array_foreach(seen, k, v)
	{
		if (trial_port(tr, v, "\"ports_seen\"", &port, err) < 0)
			return -EINVAL;
		t->port[t->n++] = (uint16_t)port;
	}
	return 0;
}

static int from_trial(struct predict *p, struct trial_reader *tr, json_t *t,
		      const struct rcell *cell, struct perr *err)
{
	for (int side = 0; side < 2; side++) {
		json_t *peer = json_object_get(t, side ? "b" : "a");
		json_t *rounds = json_object_get(peer, "ports_seen"), *seen;
		struct trace tra = {.n = 0};
		source_of(cell ? cell->fields : NULL, side ? 'b' : 'a', tra.source,
			  sizeof(tra.source));
		size_t r;
		if (rounds && !json_is_array(rounds)) {
			trials_err(tr, err, "\"ports_seen\" must be an array of rounds");
			return -EINVAL;
		}
		json_array_foreach(rounds, r, seen)
		{
			if (round_ports(tr, seen, &tra, err) < 0)
				return -EINVAL;
			if (r + 1 == json_array_size(rounds) &&
			    add_punch_port(tr, peer, &tra, err) < 0)
				return -EINVAL;
			if (predict_add(p, &tra) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Every trial of RES, its ports checked as a trace file's are. */
static int from_results(struct predict *p, const struct results *res, struct perr *err)
{
	struct trial_reader *tr;
	json_t *t;
	int rc = trials_open(res, &tr, err);
	if (rc < 0)
		return rc;
	trials_set_flags(tr, TRIALS_NO_TIMELINE);
	while ((rc = trials_next(tr, &t, err)) > 0) {
		const char *id = json_string_value(json_object_get(t, "cell"));
		if ((rc = from_trial(p, tr, t, results_cell(res, id), err)) < 0)
			break;
	}
	trials_close(tr);
	return rc;
}

/* trace format: "SOURCE: PORT PORT ..." per line; '#' starts a comment */
static int from_trace_file(struct predict *pr, const char *path, FILE *f, struct perr *err)
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
		struct trace tr = {.n = 0}, *t = &tr;
		snprintf(tr.source, sizeof(tr.source), "%s", p);
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
			if (t->n == TRACE_MAX) {
				perr_set(err, path, ln, (int)(s - line) + 1,
					 "more than %d ports in a trace", TRACE_MAX);
				return -EINVAL;
			}
			t->port[t->n++] = (uint16_t)v;
			s = end;
		}
		if (predict_add(pr, t) < 0)
			return -ENOMEM;
	}
	return 0;
}

int predict_add_file(struct predict *p, const char *path, FILE *dump, struct perr *err)
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
	p->dump = dump;
	if (c == '{') {
		fclose(f);
		struct results *res;
		if ((rc = results_load(path, &res, err)) < 0)
			return rc;
		rc = from_results(p, res, err);
		if (rc == -ENOMEM)
			perr_set(err, path, 0, 0, "out of memory");
		results_free(res);
	} else {
		rewind(f);
		rc = from_trace_file(p, path, f, err);
		fclose(f);
	}
	p->dump = NULL;
	return rc;
}

void trace_write(const struct trace *t, FILE *f)
{
	fprintf(f, "%s:", t->source);
	for (int k = 0; k < t->n; k++)
		fprintf(f, " %u", t->port[k]);
	fputc('\n', f);
}

void predict_report(const struct predict *p, FILE *f)
{
	fprintf(f, "%-11s %-28s %6s", "heuristic", "source", "n");
	for (int k = 0; k < p->nk; k++)
		fprintf(f, "  hit@%-3d", p->ks[k]);
	fprintf(f, "  %s\n", "mean distance");
	for (int h = 0; h < p->nheur; h++) {
		if (p->only && p->only != heuristics[h])
			continue;
		for (int s = 0; s < p->sources.n; s++) {
			const struct score *sc = &p->scores[(size_t)s * (size_t)p->nheur + (size_t)h];
			if (!sc->n)
				continue;
			fprintf(f, "%-11s %-28s %6ld", heuristics[h]->name, p->sources.s[s], sc->n);
			for (int k = 0; k < p->nk; k++)
				fprintf(f, "  %6.3f ", (double)sc->hits[k] / (double)sc->n);
			fprintf(f, "  %.1f\n", (double)sc->d / (double)sc->n);
		}
	}
}
