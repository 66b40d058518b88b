/* SPDX-License-Identifier: MIT */
/*
 * The peer's probes and signalling for a program that is not punchlab
 * (`punchlab rendezvous`, docs/protocol.md#rendezvous): the punch S asks
 * for, as shell variable assignments the program's wrapper can eval.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "peer.h"

/* The punch, as a program carries it out. */
struct rdv_outcome {
	char role; /* 'a' or 'b' */
	enum punch_method method;
	uint32_t local_addr;			/* network order */
	uint16_t local_port;			/* 0: let the kernel pick */
	uint32_t remote_addr;			/* network order */
	uint16_t remote_ports[PROTO_MAX_PORTS]; /* best first */
	int nports;
	double go_at; /* wall clock (CLOCK_REALTIME), seconds since the epoch */
};

/* S quoted for a POSIX shell: between single quotes, each ' as '\''. The
 * length written (without the NUL), or -1 when OUTLEN is too small. */
int rdv_shell_quote(const char *s, char *out, size_t outlen);

/* O's variables, names without the PUNCHLAB_ prefix, in the order printed. */
#define RDV_NVARS 9
struct rdv_var {
	const char *name; /* "LOCAL_PORT" */
	char value[PROTO_MAX_PORTS * 6 + 32];
};
void rdv_vars(const struct rdv_outcome *o, struct rdv_var v[RDV_NVARS]);

/* The NAME='value' lines of O (PUNCHLAB_ROLE, _METHOD, _LOCAL_ADDR,
 * _LOCAL_PORT, _REMOTE, _REMOTE_ADDR, _REMOTE_PORT, _REMOTE_PORTS, _GO_AT),
 * then one export line naming them: a new string, or NULL (no memory). */
char *rdv_format(const struct rdv_outcome *o);

/* Runs the peer's procedure up to the punch (peer_signal) and checks that the
 * local port can be bound again, as the program will (SO_REUSEADDR). 0, or
 * -1 with ERR. */
int rdv_run(const struct peer_config *c, struct rdv_outcome *o, char *err, size_t errlen);
