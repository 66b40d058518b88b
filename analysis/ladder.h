/* SPDX-License-Identifier: MIT */
/*
 * A trial's capture as a ladder: one column per capture point (the "at" of
 * its timeline), one row per packet (the sightings of one SYN, SYN-ACK or
 * RST at the several points joined, first sighting first), each peer's
 * predicted and actual external port, and for a failed trial the packet
 * that shows why and a sentence saying so. `punchlab timeline` prints it;
 * `punchlab report` draws it from ladder_json.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include "util/perr.h"

#define LADDER_MAXCOLS 8
/* Sightings of one packet at several points are at most this far apart. */
#define LADDER_JOIN_MS 5.0

struct ladder_pkt {
	double ms;		   /* first sighting, from the trial's start */
	int first;		   /* the column of the first sighting */
	double at[LADDER_MAXCOLS]; /* when each column saw it; NAN: not seen */
	char flags[4];		   /* as captured: S, SA, R, AR, ... */
	char src[48], dst[48];
	bool server; /* to or from S: a probe, not the punch */
};

struct ladder_peer {
	char role;	 /* 'A' or 'B' */
	char remote[48]; /* where its last SYN went: S's prediction of the other's port */
	int actual;	 /* the source port its last SYN left with, as captured; -1 */
	int predicted;	 /* the port the other peer aimed at for it; -1 */
	char nat[32];	 /* the capture point that saw that SYN first */
};

struct ladder {
	char cell[64];
	int trial, rounds;
	bool connected;
	char reason[32];
	double ttc_ms; /* NAN unless connected */
	char *cols[LADDER_MAXCOLS];
	int ncols;
	struct ladder_pkt *pkt;
	size_t n;
	char server[48]; /* S's endpoint, as the peers' probes show it; "" */
	struct ladder_peer peer[2];
	long culprit; /* the packet that shows why it failed; -1 */
	char why[400];
};

/* The ladder of TRIAL (a line of the trials file): 0, or -1 with ERR. */
int ladder_build(json_t *trial, struct ladder *out, struct perr *err);
void ladder_free(struct ladder *l);
/* "SYN", "SYN-ACK", "RST", "RST-ACK", "ACK" or the flags as they are. */
const char *ladder_flag_name(const char *flags);
/* One line: "connected in 2 rounds, 190.0 ms" or "failed: mispredicted (...)". */
void ladder_verdict(const struct ladder *l, char *buf, size_t len);
/* The ladder as text, one column per capture point; ALL shows the probes
 * to and from S too. */
void ladder_text(const struct ladder *l, bool all, FILE *f);
/* The ladder for the report's script: the punch's packets (not the probes),
 * the ports, the culprit and why. */
json_t *ladder_json(const struct ladder *l);
