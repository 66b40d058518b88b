/* SPDX-License-Identifier: MIT */
/*
 * Port traces from any host (docs/traces.md): N fresh connections to one or
 * several punchlab servers in turn, each a probe of the protocol
 * (docs/protocol.md), so that a server says which external port it saw.
 * The sessions are opened and joined first, so that their connections do
 * not fall between the probes; the kernel chooses every local port (the
 * host's own allocator, whatever it is).
 */
#pragma once
#include <netinet/in.h>
#include <stdint.h>

#define TRACER_MAX_DEST 8
#define TRACER_MAX_COUNT 64 /* a trace line's ports */

struct tracer_config {
	struct sockaddr_in dest[TRACER_MAX_DEST];
	int ndest;
	int count;	 /* connections, to dest[i % ndest] in turn */
	int interval_ms; /* between two connections */
	int timeout_ms;	 /* for each connect and each answer */
};

struct tracer_obs {
	uint16_t local;	   /* the socket's own port */
	uint16_t external; /* the port the server saw */
	uint32_t ext_addr; /* the address it saw (network byte order) */
	int dest;	   /* index into dest[] */
	double t;	   /* seconds since the first connection */
};

/* Runs C: 0 and C->count observations in OUT, or -1 with ERR saying which
 * step failed and why. */
int tracer_run(const struct tracer_config *c, struct tracer_obs *out, char *err, size_t errlen);
