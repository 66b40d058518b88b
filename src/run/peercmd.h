/* SPDX-License-Identifier: MIT */
/*
 * A third-party program as a peer (suite fields peer_a_command and
 * peer_b_command): started in the peer's namespace in a process group of
 * its own, its stdout and stderr kept up to PEERCMD_OUT_MAX bytes each, the
 * whole group killed at the deadline (SIGTERM, then SIGKILL) and, whatever
 * happened, when it ends (nothing it left behind outlives the trial).
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PEERCMD_OUT_MAX 4096
/* after SIGTERM at the deadline, SIGKILL this much later */
#define PEERCMD_GRACE_MS 500

struct peercmd {
	pid_t pid; /* also the process group's id; 0: not started */
	int fd[2]; /* stdout, stderr pipes (-1: closed) */
	char out[2][PEERCMD_OUT_MAX + 1];
	size_t len[2];
	bool truncated[2];
	bool exited, killed; /* killed: at the deadline */
	int status;	     /* waitpid's */
	double ms;	     /* from start to exit */
	double t0;
	char error[256]; /* could not start */
};

/* Starts EXE with ARGV (a json array of strings) and ENVP inside the
 * namespace NSFD. 0, or -1 with R->error. */
int peercmd_start(struct peercmd *r, int nsfd, const char *exe, json_t *argv, char *const envp[]);

/* Waits for the N commands of R (those with a pid) to exit, reading their
 * output, until DEADLINE (a CLOCK_MONOTONIC time in ms): then their groups
 * get SIGTERM, and SIGKILL PEERCMD_GRACE_MS later. Every group is killed
 * and every process reaped when it returns. */
void peercmd_wait(struct peercmd *r, int n, double deadline);

/* "exit", "signal", "killed", "ms", "stdout", "stderr", "stdout_truncated",
 * "stderr_truncated" of R into OBJ (docs/results.md). */
void peercmd_json(const struct peercmd *r, json_t *obj);

/* Exited with 0 before the deadline. */
bool peercmd_ok(const struct peercmd *r);

/* Whether CAPTURE (a trial's "capture" record) shows the two peers
 * connecting: their SYNs crossed, or a SYN-ACK went between two endpoints
 * of which neither is SERVER ("ADDR", S's address): a handshake that is not
 * a probe. */
bool peercmd_capture_connected(json_t *capture, const char *server);

/* The environment of a command: ENV (NULL-terminated "NAME=value") less the
 * names SET gives, then SET ("NAME=value" strings, N of them). A new
 * NULL-terminated array of new strings (peercmd_env_free), or NULL. */
char **peercmd_env(char *const env[], const char *const set[], int n);
void peercmd_env_free(char **env);
