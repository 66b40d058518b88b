/* SPDX-License-Identifier: MIT */
/*
 * What the commands share: loading a results file, showing the one they
 * wrote, stopping on a signal. Only the command layer prints; these print
 * for it.
 */
#pragma once
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

/* Loads the results file PATH into *OUT (NULL on failure): EXIT_OK, or the
 * reason on stderr (FILE:LINE:COL: what is wrong) and EXIT_FAIL. */
int cmd_load_results(const char *path, json_t **out);

/* After a command wrote the results file PATH: the table of its cells on
 * stdout (if TABLE), then LEAD and PATH on stderr. */
void cmd_show_results(const char *path, bool table, const char *lead);

/* For commands that serve until told to stop: SIGINT and SIGTERM set the flag
 * returned, which the caller's loop (srv_run, proxy_run, run_suite) watches
 * and ends on; SIGPIPE is ignored, so a peer that went away is an error on
 * its socket, not the end of the process. */
volatile sig_atomic_t *cmd_stop_on_signal(void);
