// SPDX-License-Identifier: MIT
#include "heuristic.h"
#include "util/registry.h"
#include <stdbool.h>

/* Appends P (mod the port space, 0 skipped) unless already there. */
static void add(uint16_t *out, int *m, int k, long p)
{
	if (*m >= k)
		return;
	p = ((p - 1) % 65535 + 65535) % 65535 + 1;
	for (int i = 0; i < *m; i++)
		if (out[i] == p)
			return;
	out[(*m)++] = (uint16_t)p;
}

/* BASE first, then BASE+1, BASE-1, BASE+2, ...: near misses are likelier than far ones. */
static int around(long base, int k, uint16_t *out)
{
	int m = 0;
	add(out, &m, k, base);
	for (long d = 1; m < k && d < 65536; d++) {
		add(out, &m, k, base + d);
		add(out, &m, k, base - d);
	}
	return m;
}

/* differences are taken the short way round the port space */
static long diff(uint16_t a, uint16_t b)
{
	long d = (long)b - (long)a;
	if (d > 32767)
		d -= 65535;
	if (d < -32767)
		d += 65535;
	return d;
}

static int preserve(const struct heur_obs *o, int n, int k, uint64_t seed, uint16_t *out)
{
	(void)seed;
	/* the NAT keeps one mapping: the ports seen, latest first */
	int m = 0;
	for (int i = n - 1; i >= 0 && m < k; i--)
		add(out, &m, k, o[i].port);
	return m;
}

static const struct heuristic h_preserve = {
    .name = "preserve",
    .help = "the ports seen, latest first (a NAT that keeps one mapping)",
    .predict = preserve,
};

static int last(const struct heur_obs *o, int n, int k, uint64_t seed, uint16_t *out)
{
	(void)seed;
	return around((long)o[n - 1].port + 1, k, out);
}

static const struct heuristic h_last = {
    .name = "last",
    .help = "the port after the last one seen, then its neighbours",
    .predict = last,
};

static int delta(const struct heur_obs *o, int n, int k, uint64_t seed, uint16_t *out)
{
	(void)seed;
	long d = n >= 2 ? diff(o[n - 2].port, o[n - 1].port) : 1;
	return around((long)o[n - 1].port + d, k, out);
}

static const struct heuristic h_delta = {
    .name = "delta",
    .help = "last + the last difference (the STUNT client's rule), then neighbours",
    .predict = delta,
};

static int delta_mode(const struct heur_obs *o, int n, int k, uint64_t seed, uint16_t *out)
{
	(void)seed;
	long best = 1;
	int best_count = 0;
	/* the most frequent difference; ties go to the most recent */
	for (int i = n - 1; i >= 1; i--) {
		long d = diff(o[i - 1].port, o[i].port);
		int c = 0;
		for (int j = 1; j < n; j++)
			c += diff(o[j - 1].port, o[j].port) == d;
		if (c > best_count) {
			best = d;
			best_count = c;
		}
	}
	return around((long)o[n - 1].port + best, k, out);
}

static const struct heuristic h_delta_mode = {
    .name = "delta-mode",
    .help = "last + the most frequent difference, then neighbours",
    .predict = delta_mode,
};

static int window(const struct heur_obs *o, int n, int k, uint64_t seed, uint16_t *out)
{
	(void)seed;
	long d = n >= 2 ? diff(o[n - 2].port, o[n - 1].port) : 1;
	if (d == 0)
		d = 1;
	int m = 0;
	/* the next k ports along the delta: for peers that open k connections */
	for (int i = 1; m < k && i <= k; i++)
		add(out, &m, k, (long)o[n - 1].port + d * i);
	return m;
}

static const struct heuristic h_window = {
    .name = "window",
    .help = "the next k ports along the last difference",
    .predict = window,
};

static int random_guess(const struct heur_obs *o, int n, int k, uint64_t seed, uint16_t *out)
{
	(void)o, (void)n;
	uint64_t s = seed ? seed : 0x9e3779b97f4a7c15ull;
	int m = 0;
	for (int tries = 0; m < k && tries < 64 * k; tries++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		add(out, &m, k, 1024 + (long)(s % (65536 - 1024)));
	}
	return m;
}

static const struct heuristic h_random = {
    .name = "random",
    .help = "k random ports (a baseline)",
    .predict = random_guess,
};

/* The registry, one line each; `punchlab server --heuristic help` lists them
 * in this order. */
/* clang-format off */
const struct heuristic *const heuristics[] = {
	&h_preserve,
	&h_last,
	&h_delta,
	&h_delta_mode,
	&h_window,
	&h_random,
	NULL,
};
/* clang-format on */

#define HEURISTIC_REGISTRY REGISTRY_POINTERS(heuristics)

const struct heuristic *heuristic_by_name(const char *name)
{
	return registry_find(HEURISTIC_REGISTRY, name);
}

const char *heuristic_names(void)
{
	static _Thread_local char buf[REGISTRY_NAMES_MAX];

	return registry_names(HEURISTIC_REGISTRY, buf, sizeof(buf));
}
