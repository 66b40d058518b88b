/* SPDX-License-Identifier: MIT */
/*
 * classify-server: the outside half of `punchlab classify` (docs/field.md).
 * It listens on four endpoints (two addresses by two ports), tells a client
 * the source endpoint of each test connection, and on request connects from
 * any of the four to the client's address and reports how that ended. One
 * process, non-blocking, epoll. It faces the Internet: lines are bounded,
 * every connection has a deadline, clients and attempts are counted, and it
 * only ever connects to the address a client's control connection came from.
 */
#pragma once
#include "ctl.h"
#include <signal.h>
#include <stdio.h>

struct cs_config {
	struct sockaddr_in ep[CL_NENDPOINTS]; /* A1:P1 (control), A1:P2, A2:P1, A2:P2 */
	/* A1:P3, a listener whose accept queue the server keeps full, so that
	 * SYNs to it go unanswered (Linux drops a SYN to a full queue): the
	 * client's SYN_SENT binding. Port 0: none. */
	struct sockaddr_in sink;
	int max_clients;   /* control sessions at once */
	int max_conns;	   /* connections and attempts at once, in all */
	int max_per_addr;  /* connections at once from one address */
	int first_line_ms; /* a new connection says something by then */
	int idle_ms;	   /* a control connection silent this long goes */
	int session_ms;	   /* a session lasts at most this long */
	int max_attempts;  /* connections the server makes per session */
	int max_parallel;  /* of them under way at once */
	int max_holds;	   /* held test connections per session */
	FILE *log;	   /* one JSON line per event; NULL: quiet */
};

void cs_config_defaults(struct cs_config *c);

/* Serves until *STOP becomes non-zero. 0, or -errno when it could not
 * start; then *FAILED (if not NULL) is the index of the endpoint that
 * could not listen (-1: not a listener). */
int cs_run(const struct cs_config *c, volatile sig_atomic_t *stop, int *failed);
