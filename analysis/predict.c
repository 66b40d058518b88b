// SPDX-License-Identifier: MIT
#include "predict.h"
#include "punch/heuristic.h"
#include "punch/heurexec.h"
#include "results/stats.h"
#include "common.h"
#include "results/results.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Scores per (source or corpus, heuristic). */
struct score {
	long n, d;
	long hits[PREDICT_MAX_K];
};

/* A heuristic being scored: built in, or an external program. */
struct scorer {
	const struct heuristic *h;
	struct heurx *x;
	long errors; /* failed predictions of X (each a miss) */
	char first_error[400];
};

struct predict {
	struct scorer sc[PREDICT_MAX_HEURISTICS];
	int nsc;
	int ks[PREDICT_MAX_K], nk;
	struct strlist sources, corpora;
	struct score *scores;  /* [source][scorer] */
	struct score *cscores; /* [corpus][scorer] */
	int corpus;	       /* of the file being read */
	FILE *dump;
};

static const char *scorer_name(const struct scorer *sc)
{
	return sc->x ? heurx_name(sc->x) : sc->h->name;
}

/* NAME ("all", a built-in's, or "exec:...") into P's scorers. */
static int scorer_add(struct predict *p, const char *name, int timeout_ms, struct perr *err)
{
	char why[400];
	int before = p->nsc;

	for (size_t i = 0; heuristics[i] && !strcmp(name, "all"); i++)
		if (p->nsc < PREDICT_MAX_HEURISTICS)
			p->sc[p->nsc++].h = heuristics[i];
	if (p->nsc > before)
		return 0;
	if (p->nsc == PREDICT_MAX_HEURISTICS) {
		perr_set(err, name, 0, 0, "more than %d heuristics", PREDICT_MAX_HEURISTICS);
		return -EINVAL;
	}
	struct scorer *sc = &p->sc[p->nsc];
	if (heurx_is_spec(name)) {
		if (heurx_start(name, timeout_ms, &sc->x, why, sizeof(why)) < 0) {
			perr_set(err, name, 0, 0, "cannot start the heuristic: %s", why);
			return -EINVAL;
		}
	} else if (!(sc->h = heuristic_by_name(name))) {
		perr_set(err, name, 0, 0,
			 "unknown heuristic (known: %s, or exec:PROGRAM [ARGS...])",
			 heuristic_names());
		return -EINVAL;
	}
	p->nsc++;
	return 0;
}

int predict_new(const char *const *names, int nnames, int timeout_ms, const int *ks, int nk,
		struct predict **out, struct perr *err)
{
	static const char *const all[] = {"all"};
	*out = NULL;
	if (nk < 1 || nk > PREDICT_MAX_K) {
		perr_set(err, "--k", 0, 0, "1 to %d values of k", PREDICT_MAX_K);
		return -EINVAL;
	}
	struct predict *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	memcpy(p->ks, ks, (size_t)nk * sizeof(int));
	p->nk = nk;
	if (!nnames) {
		names = all;
		nnames = 1;
	}
	for (int i = 0; i < nnames; i++)
		if (scorer_add(p, names[i], timeout_ms, err) < 0) {
			predict_free(p);
			return -EINVAL;
		}
	*out = p;
	return 0;
}

void predict_free(struct predict *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nsc; i++)
		heurx_free(p->sc[i].x);
	strlist_free(&p->sources);
	strlist_free(&p->corpora);
	free(p->scores);
	free(p->cscores);
	free(p);
}

/* The scores of NAME in the list L: one row of P->nsc, made when new. */
static struct score *scores_in(struct predict *p, struct strlist *l, struct score **rows,
			       const char *name)
{
	int s = strlist_find(l, name);
	if (s < 0) {
		size_t per = (size_t)p->nsc;
		struct score *ns = realloc(*rows, (size_t)(l->n + 1) * per * sizeof(*ns));
		if (!ns)
			return NULL;
		*rows = ns;
		memset(&ns[(size_t)l->n * per], 0, per * sizeof(*ns));
		if ((s = strlist_add(l, strdup(name))) < 0)
			return NULL;
	}
	return &(*rows)[(size_t)s * (size_t)p->nsc];
}

static long dist(uint16_t a, uint16_t b)
{
	long d = labs((long)a - (long)b);
	return d > 32767 ? 65535 - d : d;
}

/* SC's candidates for OBS (N): how many; a failed external prediction is
 * none (a miss), counted and the first one kept. */
static int scorer_predict(struct scorer *sc, const struct heur_obs *obs, int n, int k,
			  uint64_t seed, uint16_t *cand)
{
	struct heurx_fail f;
	if (!sc->x)
		return sc->h->predict(obs, n, k, seed, cand);
	int m = heurx_predict(sc->x, obs, n, 1, k, 0, cand, &f);
	if (m < 0 && !sc->errors++)
		snprintf(sc->first_error, sizeof(sc->first_error), "%.200s%s%s%s", f.why,
			 f.answer[0] ? ": \"" : "", f.answer, f.answer[0] ? "\"" : "");
	return m < 0 ? 0 : m;
}

static void score_one(const struct predict *p, struct scorer *h, const struct trace *t,
		      struct score *sc, struct score *csc)
{
	int kmax = p->ks[p->nk - 1];
	/* from the second port on: at least one observation before */
	for (int pos = 1; pos < t->n; pos++) {
		struct heur_obs obs[TRACE_MAX];
		uint16_t cand[TRACE_MAX];
		for (int k = 0; k < pos; k++)
			obs[k] = (struct heur_obs){t->port[k], k * 0.05};
		int m = scorer_predict(h, obs, pos, kmax, 1 + (uint64_t)pos, cand);
		sc->n++;
		csc->n++;
		if (m > 0) {
			sc->d += dist(cand[0], t->port[pos]);
			csc->d += dist(cand[0], t->port[pos]);
		}
		for (int k = 0; k < p->nk; k++)
			for (int c = 0; c < m && c < p->ks[k]; c++)
				if (cand[c] == t->port[pos]) {
					sc->hits[k]++;
					csc->hits[k]++;
					break;
				}
	}
}

int predict_add(struct predict *p, const struct trace *t)
{
	if (!p->corpora.n && !scores_in(p, &p->corpora, &p->cscores, "-"))
		return -ENOMEM;
	struct score *sc = scores_in(p, &p->sources, &p->scores, t->source);
	if (!sc)
		return -ENOMEM;
	struct score *csc = &p->cscores[(size_t)p->corpus * (size_t)p->nsc];
	if (p->dump)
		trace_write(t, p->dump);
	for (int h = 0; h < p->nsc; h++)
		score_one(p, &p->sc[h], t, &sc[h], &csc[h]);
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

/* The colon that ends LINE's source: the first one followed by nothing but
 * ports (and a comment), since a source may hold colons ("host:OS/NAT",
 * punchlab trace); else the first one, whose ports are then refused. */
static char *trace_colon(char *line)
{
	for (char *c = strchr(line, ':'); c; c = strchr(c + 1, ':')) {
		size_t n = strspn(c + 1, "0123456789 \t\r\n");
		if (!c[1 + n] || c[1 + n] == '#')
			return c;
	}
	return strchr(line, ':');
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
		char *colon = trace_colon(p);
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
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!scores_in(p, &p->corpora, &p->cscores, base)) {
		fclose(f);
		return -ENOMEM;
	}
	p->corpus = strlist_find(&p->corpora, base);
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

/* The per-source table. */
static void report_sources(const struct predict *p, FILE *f, int width)
{
	fprintf(f, "%-*s %-28s %6s", width, "heuristic", "source", "n");
	for (int k = 0; k < p->nk; k++)
		fprintf(f, "  hit@%-3d", p->ks[k]);
	fprintf(f, "  %s\n", "mean distance");
	for (int h = 0; h < p->nsc; h++) {
		for (int s = 0; s < p->sources.n; s++) {
			const struct score *sc = &p->scores[(size_t)s * (size_t)p->nsc + (size_t)h];
			if (!sc->n)
				continue;
			fprintf(f, "%-*s %-28s %6ld", width, scorer_name(&p->sc[h]),
				p->sources.s[s], sc->n);
			for (int k = 0; k < p->nk; k++)
				fprintf(f, "  %6.3f ", (double)sc->hits[k] / (double)sc->n);
			fprintf(f, "  %.1f\n", (double)sc->d / (double)sc->n);
		}
	}
}

/* Per heuristic and k, each corpus (file) side by side: hit@k and its
 * Wilson 95 % interval. */
static void report_corpora(const struct predict *p, FILE *f, int width)
{
	char head[200];

	fprintf(f, "\n%-*s %-6s", width, "heuristic", "k");
	for (int c = 0; c < p->corpora.n; c++) {
		snprintf(head, sizeof(head), "%s (n=%ld)", p->corpora.s[c],
			 p->cscores[(size_t)c * (size_t)p->nsc].n);
		fprintf(f, "  %-*s", c + 1 < p->corpora.n ? 28 : 0, head);
	}
	fputc('\n', f);
	for (int h = 0; h < p->nsc; h++)
		for (int k = 0; k < p->nk; k++) {
			snprintf(head, sizeof(head), "hit@%d", p->ks[k]);
			fprintf(f, "%-*s %-6s", width, scorer_name(&p->sc[h]), head);
			for (int c = 0; c < p->corpora.n; c++) {
				const struct score *sc =
				    &p->cscores[(size_t)c * (size_t)p->nsc + (size_t)h];
				double lo, hi;
				wilson95((unsigned)sc->hits[k], (unsigned)sc->n, &lo, &hi);
				snprintf(head, sizeof(head), "%.3f [%.3f, %.3f]",
					 sc->n ? (double)sc->hits[k] / (double)sc->n : 0.0, lo, hi);
				fprintf(f, "  %-*s", c + 1 < p->corpora.n ? 28 : 0, head);
			}
			fputc('\n', f);
		}
}

void predict_report(const struct predict *p, FILE *f)
{
	int width = 11;
	for (int h = 0; h < p->nsc; h++)
		if ((int)strlen(scorer_name(&p->sc[h])) > width)
			width = (int)strlen(scorer_name(&p->sc[h]));
	report_sources(p, f, width);
	if (p->corpora.n)
		report_corpora(p, f, width);
}

void predict_warnings(const struct predict *p, FILE *f)
{
	for (int h = 0; h < p->nsc; h++)
		if (p->sc[h].errors)
			fprintf(f,
				"%s: %ld predictions failed (heuristic-error, each a miss); "
				"the first: %s\n",
				scorer_name(&p->sc[h]), p->sc[h].errors, p->sc[h].first_error);
}
