/* SPDX-License-Identifier: MIT */
/*
 * classify: the inside half (docs/field.md). It talks to a classify-server
 * and records what it sees into a struct cv_obs; verdict.c draws the
 * verdicts. Every wait has a deadline, and whatever the server fails to say
 * is recorded as missing, with the reason, never filled in.
 */
#pragma once
#include "verdict.h"
#include <signal.h>

/* the schedule of --long: idle holds, in seconds, shortest first */
#define CC_LONG_BUDGET_S 600
/* how long an unsolicited SYN may go unanswered: over RFC 5382's 6 s */
#define CC_UNSOL_WAIT_MS 8000

struct cc_config {
	struct sockaddr_in server; /* A1:P1 */
	int timeout_ms;		   /* for each reply and connection */
	bool lng;		   /* measure the binding lifetimes too */
	int long_budget_s;	   /* at most this long for them */
};

/* Runs every test against the server; fills O. Stops early, with the
 * reason recorded, when *STOP becomes non-zero. */
void cc_run(const struct cc_config *c, struct cv_obs *o, volatile sig_atomic_t *stop);
