/* SPDX-License-Identifier: MIT */
/*
 * The rendezvous server S: one process, non-blocking, epoll. It faces the
 * Internet: every limit below is enforced, a peer learns only the endpoints
 * of its own session, and nothing a client sends can make it crash or stall.
 */
#pragma once
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "heuristic.h"
#include "heurexec.h"

struct srv_config {
	struct sockaddr_in listen;
	const struct heuristic *heuristic;
	struct heurx *exec; /* an external heuristic instead (the caller's, started) */
	int guesses;	    /* candidates sent per punch */
	int go_ms;	    /* the punch's go time, from when S sends it */
	int max_rounds;	    /* at most this many rounds per session */
	int idle_ms;	    /* a connection silent this long is closed */
	int session_ttl_ms; /* a session nobody touches this long is dropped */
	int max_per_addr;   /* connections at once from one address */
	int max_conns;	    /* connections at once */
	int max_sessions;   /* sessions at once */
	uint64_t seed;	    /* for the random heuristic; 0: from getrandom */
	FILE *log;	    /* one JSON line per event; NULL: quiet */
};

void srv_config_defaults(struct srv_config *c);

/* Serves until *STOP becomes non-zero. Returns 0, or -errno if it could not
 * start (bind, epoll). LISTENING (if not NULL) gets the bound port as soon
 * as the socket listens. */
int srv_run(const struct srv_config *c, volatile sig_atomic_t *stop, uint16_t *listening);
