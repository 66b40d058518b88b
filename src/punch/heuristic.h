/* SPDX-License-Identifier: MIT */
/*
 * Port prediction heuristics: pure functions from the external ports S saw
 * (oldest first, with the times it saw them) to an ordered list of
 * candidates for the peer's next external port. Each is a function and its
 * const struct in heuristic.c, and a line in the registry heuristics[] there
 * (docs/extending.md).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct heur_obs {
	uint16_t port;
	double t; /* seconds */
};

struct heuristic {
	const char *name;
	const char *help;
	/* Writes up to K candidates (best first, distinct, 1-65535) to OUT from
	 * the N >= 1 observations OBS; SEED makes `random` repeatable. Returns
	 * how many it wrote. */
	int (*predict)(const struct heur_obs *obs, int n, int k, uint64_t seed, uint16_t *out);
};

extern const struct heuristic *const heuristics[];
const struct heuristic *heuristic_by_name(const char *name);
const char *heuristic_names(void);
