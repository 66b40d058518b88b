/* SPDX-License-Identifier: MIT */
/*
 * Experiment suites (docs/suite.md): a topology, a matrix whose fields are
 * crossed, include and exclude lists, trials per cell, and a seed. A cell is
 * one combination; expanding a suite gives its cells in a stable order.
 */
#pragma once
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "util/perr.h"

/* One combination of the matrix's fields. */
struct cell {
	char id[64];	/* stable across runs: fields, not position */
	char *topology; /* resolved path (a PATH_MAX array was 400 MB at 100,000 cells) */
	char os_a[24], os_b[24];
	bool proxy_a, proxy_b;
	char nat[24];	       /* NAT profile of every NAT node ("" = the topology's) */
	int hairpin;	       /* -1 = the topology's, else 0/1 */
	const char *heuristic; /* a built-in's name or "exec:..."; in FIELDS */
	int method;	       /* enum punch_method: predict (0, the default), reuse, stunt1 */
	int stunt_ttl;	       /* stunt1: A's SYN's TTL; 0: the topology's hops to A's NAT + 1 */
	bool flash;	       /* runtime: flash (the peers fetch socket policies) */
	int guesses;
	double delay_ms; /* on each NAT's outside link (or each peer's link) ; < 0 = topology's */
	double jitter_ms; /* uniform +- on those links, at most their delay; < 0 = topology's */
	int jitter_dist;  /* -1 the topology's, 0 uniform, 1 normal (jitter_ms its sd) */
	double skew_ms;	 /* peer B goes this much later than peer A */
	double skew_jitter_ms; /* per trial, uniform +- around skew_ms (never below 0) */
	bool skew_normal;      /* ... or normal, skew_jitter_ms its standard deviation */
	double background_a, background_b;	  /* ports/s other programs take (while on) */
	double background_tcp;			  /* of them TCP, 0-1 (struct os_load) */
	double background_on_s, background_off_s; /* bursts; 0 in either: steady */
	int heuristic_timeout_ms;		  /* an external heuristic's deadline per answer */
	/* peer_a_command, peer_b_command: a program run in that peer's namespace
	 * instead of punchlab's peer (NULL: punchlab's); argv in FIELDS, argv[0]
	 * resolved (a path with a slash from the suite's directory, else PATH) */
	json_t *command[2];
	char *command_exe[2];
	int command_timeout_ms; /* a command's deadline from the trial's start */
	int command_go_ms;	/* S's go delay in a cell with a command */
	bool command_rendezvous; /* "runner": the runner's rendezvous, its outcome in the env */
	json_t *fields;				  /* the cell as it appears in results */
};

struct suite {
	char *path;
	char *description;
	uint64_t seed;
	int trials, rounds, probes;
	bool keep_conntrack; /* true: NAT state carries over from trial to trial */
	int ncells;
	struct cell *cells;
	char hash[65]; /* SHA-256 of the file's bytes, hex */
};

int suite_load(const char *path, struct suite **out, struct perr *err);
int suite_parse_buffer(const char *name, const char *buf, size_t len, struct suite **out,
		       struct perr *err);
void suite_free(struct suite *s);

/* argv[0] WORD of a command as a path: with a slash, from DIR unless
 * absolute; without, from PATH. A new string, or NULL when WORD names no
 * executable file. */
char *suite_command_path(const char *dir, const char *word);
