/* SPDX-License-Identifier: MIT */
/*
 * One-way delay without netem: packets are sent to NFQUEUE (the xtables
 * target; this kernel has neither netem nor the nft queue expression), held
 * in user space and released with an ACCEPT verdict when their time comes.
 * Order within a queue is kept (a later packet never overtakes an earlier
 * one), as on a real link; jitter is uniform in [-jitter, +jitter], or
 * normal with jitter as its standard deviation (a delay never below 0).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Delayed directions one helper serves: two per interface of a node, which
 * has at most TOPO_SEGS_MAX (lab.c asserts it). */
#define DELAYQ_LINKS_MAX 129 /* and a NAT's REQ-4 hold queue */

struct delayq_link {
	uint16_t queue;
	double delay_ms, jitter_ms;
	uint32_t mark; /* not 0: a released packet carries this mark (the REQ-4 hold) */
	bool normal;   /* jitter_ms is a normal's standard deviation (else uniform +-) */
};

/* Parses "QUEUE:DELAY_MS:JITTER_MS[:MARK[:DIST]]" (MARK in C notation:
 * 0x5382; DIST u, uniform, or n, normal). */
int delayq_link_parse(const char *s, struct delayq_link *out);

/*
 * Serves the queues in the calling process's namespace until SIGTERM/SIGINT.
 * Writes one byte to READY_FD (if >= 0) once every queue is bound. Returns 0
 * on a clean stop, -errno otherwise.
 */
int delayq_serve(int nlinks, const struct delayq_link *links, int ready_fd);
