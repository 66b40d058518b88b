/* SPDX-License-Identifier: MIT */
/*
 * External heuristics (docs/heuristics.md): `exec:PROGRAM ARGS...`, a
 * program started once and kept running. Per prediction it reads one JSON
 * line on its stdin and writes one back on its stdout:
 *
 *	{"id":7,"round":1,"k":2,"ports":[1026,1027,1028],"t":[0.012,0.034,0.051]}
 *	{"id":7,"candidates":[1029,1030]}
 *
 * Pipes are non-blocking and every answer has a deadline, so a program that
 * hangs, floods or dies costs the caller at most the deadline. A late,
 * malformed, out-of-range, missing or overlong answer is a failed prediction
 * (heurx_predict() < 0, and why). A late answer that comes after all is
 * recognised by its id and dropped. A program that dies is started again,
 * at most HEURX_MAX_RESTARTS times; then every prediction fails at once.
 *
 * heurx_parse_spec() and heurx_parse_answer() are pure functions (the unit
 * tests and the fuzzer call them).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "heuristic.h"

#define HEURX_PREFIX "exec:"
#define HEURX_MAX_LINE 65536   /* an answer, with its newline */
#define HEURX_MAX_ARGS 32      /* PROGRAM and its arguments */
#define HEURX_MAX_REQUEST 8192 /* a request, with its newline */
#define HEURX_DEFAULT_TIMEOUT_MS 50
#define HEURX_START_MS 2000 /* for the first answer after the start: an interpreter's start-up */
#define HEURX_MAX_RESTARTS 3

/* Whether NAME is an external heuristic ("exec:..."). */
bool heurx_is_spec(const char *name);

/* Splits SPEC, "exec:PROGRAM ARG ARG..." (words separated by spaces or
 * tabs; no quoting), into ARGV (a NULL-terminated copy of the words, in
 * BUF of LEN bytes). Returns the number of words (>= 1), or -1 with ERR
 * saying why (no program, too many words, too long). */
int heurx_parse_spec(const char *spec, char *buf, size_t len, char *argv[HEURX_MAX_ARGS + 1],
		     char *err, size_t errlen);

/* Parses one answer LINE (LEN bytes, without or with its newline) to the
 * request ID that wanted up to K candidates: writes them to OUT (K slots)
 * and returns how many (1 to K). 0: the answer to an earlier request (a late
 * one), to be dropped. -1: not a valid answer; ERR says why. */
int heurx_parse_answer(const char *line, size_t len, long id, int k, uint16_t *out, char *err,
		       size_t errlen);

/* Formats the request ID for OBS (N >= 0 observations) into BUF: its
 * length with the newline, or -1 if it does not fit. */
int heurx_format_request(long id, int round, int k, const struct heur_obs *obs, int n, char *buf,
			 size_t len);

/* S (LEN bytes, any bytes) as the inside of a JSON string in OUT (OUTLEN >
 * 0): printable ASCII as it is, the rest as \u00XX, cut with "..." where it
 * does not fit. */
void heurx_json_text(const char *s, size_t len, char *out, size_t outlen);

struct heurx;

/* What went wrong with a prediction. */
struct heurx_fail {
	char why[200];	  /* "no answer within 50 ms", "exited with status 1", ... */
	char answer[160]; /* the start of the offending answer, JSON-escaped ("" if none) */
	int restarted;	  /* > 0: the program died and was started again (this many times so far) */
	bool gave_up;	  /* the program died once too often: not started again (this time) */
};

/* Starts the program of SPEC and waits up to HEURX_START_MS for its answer
 * to a first request (round 0): 0 and *OUT, or -1 with ERR saying why.
 * Ignores SIGPIPE in the process (a write to a dead program must be an
 * error, not the end of the caller). TIMEOUT_MS: the deadline per answer. */
int heurx_start(const char *spec, int timeout_ms, struct heurx **out, char *err, size_t errlen);
/* Up to K candidates for the next port after OBS (N >= 1) in OUT: how many
 * (>= 1), or -1 and F says why. Returns within the deadline (DEADLINE_MS on
 * the CLOCK_MONOTONIC in ms, or 0 for now + the timeout). */
int heurx_predict(struct heurx *x, const struct heur_obs *obs, int n, int round, int k,
		  int64_t deadline_ms, uint16_t *out, struct heurx_fail *f);
/* The spec it was started with ("exec:..."). */
const char *heurx_name(const struct heurx *x);
/* The deadline per answer it was started with. */
int heurx_timeout_ms(const struct heurx *x);
/* Why it gave up, once it has ("" until then). */
const char *heurx_gave_up(const struct heurx *x);
/* Milliseconds on CLOCK_MONOTONIC, as DEADLINE_MS wants them. */
int64_t heurx_now_ms(void);
/* Ends the program (closes its stdin, then SIGKILL after 100 ms) and frees X. */
void heurx_free(struct heurx *x);
