/* SPDX-License-Identifier: MIT */
/* Helpers for tests that build real labs (as root). */
#pragma once
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "lab/lab.h"
#include "lab/topology.h"

struct lt {
	char name[LAB_NAME_MAX + 1];
	char file[256];
	struct topology *t;
	bool up;
};

/* Skips the test unless root; points helpers at the punchlab binary. */
void lt_init(void);
/* Criterion .fini: takes down every lab this test brought up, even after a failure. */
void lt_fini(void);

typedef void (*lt_patch_fn)(json_t *root, void *arg);
/* Builds topologies/FILE (patched by PATCH if given) as lab "t<pid>-TAG". */
struct lt *lt_up(const char *file, const char *tag, lt_patch_fn patch, void *arg);
/* Takes the lab down and asserts that nothing of it is left. */
void lt_down(struct lt *lab);
/* Nothing of lab NAME left: no namespace, no state, no helper. */
bool lt_gone(const char *name);

/* patch helpers */
json_t *lt_node(json_t *root, const char *name);
json_t *lt_member(json_t *root, const char *segment, const char *node);

/* A socket opened inside NODE's namespace. */
int lt_socket(struct lt *lab, const char *node, int type);
uint32_t lt_addr(struct lt *lab, const char *node);
/* Listening TCP socket on NODE, any address, PORT. */
int lt_listen(struct lt *lab, const char *node, uint16_t port);
/* Accepts within TIMEOUT_MS; returns the fd (peer address in *from) or -1. */
int lt_accept(int lfd, int timeout_ms, struct sockaddr_in *from);
/* TCP connect from NODE (bound to BIND_PORT if non-zero) to DST:PORT; returns
 * the connected fd, or -errno (-ETIMEDOUT after TIMEOUT_MS). */
int lt_connect(struct lt *lab, const char *node, uint32_t dst, uint16_t port, uint16_t bind_port,
	       int timeout_ms);
double lt_now_ms(void);

/* Starts the punchlab binary with ARGV (argv[0] is ignored) inside NODE;
 * its stdout comes back through *OUT_FD (if not NULL), stderr goes to
 * /tmp/punchlab-test-LAB-NODE-TAG.err. Returns the pid. */
pid_t lt_spawn(struct lt *lab, const char *node, const char *tag, char *const argv[], int *out_fd);
/* Waits up to TIMEOUT_MS for PID; returns its exit status, or -1 (and kills it). */
int lt_wait(pid_t pid, int timeout_ms);
/* Reads everything from FD (closing it) and parses the last line as JSON. */
json_t *lt_read_json(int fd);
