/* SPDX-License-Identifier: MIT */
/*
 * What the commands share: --help and usage errors, option values checked
 * with one message, loading a results file, stopping on a signal. Only the
 * command layer prints; these print for it.
 *
 * A command's option loop:
 *
 *	static const struct option opts[] = {CMD_OPT_HELP, ..., {NULL, 0, NULL, 0}};
 *	optind = 0;
 *	while ((opt = getopt_long(argc, argv, "h...", opts, NULL)) != -1)
 *		switch (opt) {
 *		...
 *		case 'h':
 *			return cmd_help(x_usage);
 *		default:
 *			return cmd_usage_error(x_usage);
 *		}
 *
 * optind = 0, not 1: glibc then reads the ordering flag ('+') of the new
 * option string, which matters when topo parses twice. argv[0] is
 * "punchlab CMD" (main.c sets it), so getopt's own complaints name the command.
 */
#pragma once
#include <getopt.h>
#include "results/results.h"
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sockaddr_in;

/* The -h/--help entry of every command's option table ("h" in its short
 * options). Unformatted: clang-format would spread it over four lines. */
/* clang-format off */
#define CMD_OPT_HELP {"help", no_argument, NULL, 'h'}
/* clang-format on */

/* -h/--help: USAGE on stdout; returns EXIT_OK. */
int cmd_help(const char *usage);
/* An unknown option or wrong operands: USAGE on stderr; returns EXIT_USAGE. */
int cmd_usage_error(const char *usage);

/* Option values. Each parses S, the value of option OPT of command PROG, into
 * *OUT and returns 0, or prints "PROG: OPT ..., not "S"" and returns -1. */
/* A decimal integer from LO to HI. */
int cmd_int_arg(const char *prog, const char *opt, const char *s, int lo, int hi, int *out);

/* A command's options whose value is a whole number in a range, as a table. */
struct cmd_int_opt {
	int opt;	  /* getopt_long's value for it */
	const char *name; /* "--idle-ms" */
	int lo, hi;
	int *field;
};
/* OPT's value ARG into its field of the N entries of T, as cmd_int_arg;
 * -1 too when OPT is not in T. */
int cmd_int_opts(const char *prog, int opt, const char *arg, const struct cmd_int_opt *t,
		 size_t n);
/* Any 64-bit number (decimal, 0x hex or 0 octal), e.g. a seed. */
int cmd_u64_arg(const char *prog, const char *opt, const char *s, uint64_t *out);
/* A.B.C.D:PORT; port 0 only with ALLOW_ZERO (a listening address). */
/* S on F, its control characters as \xNN: text from a user's file (a
 * description) must not reach a terminal's escape sequences. */
void cmd_put_text(FILE *f, const char *s);
int cmd_endpoint_arg(const char *prog, const char *opt, const char *s, bool allow_zero,
		     struct sockaddr_in *out);

/* Loads the results file PATH into *OUT (NULL on failure): EXIT_OK, or the
 * reason on stderr (FILE:LINE:COL: what is wrong) and EXIT_FAIL. */
int cmd_load_results(const char *path, struct results **out);

/* Writes RES, drawn by WRITE (with ARG), to the file PATH through
 * util/outfile (never half a file, never over a link), then frees RES:
 * EXIT_OK, or "PROG: reason" on stderr and EXIT_FAIL. */
int cmd_write_file(const char *prog, const char *path, struct results *res,
		   int (*write)(const struct results *res, FILE *f, void *arg, struct perr *err),
		   void *arg);

/* After a command wrote the results RES to PATH: the summary table of its
 * cells on stdout (if TABLE), then LEAD and PATH on stderr. */
void cmd_show_results(const struct results *res, const char *path, bool table, const char *lead);

/* For commands that serve until told to stop: SIGINT and SIGTERM set the flag
 * returned, which the caller's loop (srv_run, proxy_run, run_suite) watches
 * and ends on; SIGPIPE is ignored, so a peer that went away is an error on
 * its socket, not the end of the process. */
volatile sig_atomic_t *cmd_stop_on_signal(void);
