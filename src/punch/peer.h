/* SPDX-License-Identifier: MIT */
/*
 * The connect-only peer: it never listen()s, and never bind()s unless an OS
 * profile plays the kernel's part (the profile's allocator picks the port,
 * the peer binds it just before connect()). With a proxy, every outside
 * connection goes through the local SOCKS5 proxy instead.
 */
#pragma once
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "osprof.h"
#include "proto.h"

/* How the peers open their connection (docs/protocol.md). */
enum punch_method {
	METHOD_PREDICT, /* the paper's: fresh ports, S predicts the punch's from probes */
	METHOD_REUSE,	/* P2PNAT (Ford et al. 2005, 4): one local port, reused for S and
			 * the punch, listened on too; S gives the port it saw */
	METHOD_STUNT1,	/* Guha & Francis 2005: A's low-TTL SYN opens its NAT, A accepts */
	METHOD_RELAY,	/* like TURN over TCP (RFC 6062): both connect to a relay beside S */
};
/* Each is a struct punch_method_ops in src/punch/method/ (method.h); these
 * two look it up by name in that registry. */
const char *punch_method_str(enum punch_method m);
int punch_method_parse(const char *s, enum punch_method *out);

struct peer_config {
	struct sockaddr_in server;
	uint8_t session[PROTO_TOKEN_LEN];
	char role;		 /* 'a' or 'b' */
	const struct os_ops *os; /* NULL or native: the kernel picks ports */
	struct os_load load;	 /* other programs on the host */
	uint64_t seed;
	bool use_proxy;
	struct sockaddr_in proxy;
	int probes, rounds, bytes;
	int attempt_timeout_ms; /* one punch attempt */
	int wait_timeout_ms;	/* for S's next message */
	double skew_ms;		/* go this much later than S says */
	struct os_host *host;	/* a host kept across sessions (NULL: a fresh one each run) */
	enum punch_method method;
	int stunt_ttl; /* stunt1: the TTL of A's SYN; 0: STUNT1_DEFAULT_TTL (method.h) */
	struct sockaddr_in relay; /* relay: the relay (port 0: S's address, S's port + 1) */
	/* runtime flash: before its first connection to a host, Flash Player
	 * fetches that host's socket policy from port 843 (policy.h) and waits
	 * for it, at most flash_wait_ms */
	bool flash;
	int flash_wait_ms;
};

/* Flash Player's wait for a policy on port 843 (Adobe, "Setting up a socket
 * policy file server", 2008: three seconds) */
#define PEER_FLASH_WAIT_MS 3000

void peer_config_defaults(struct peer_config *c);

/* Runs the whole procedure; *RESULT gets the result object (see
 * docs/protocol.md). Returns 0 when connected, 1 when not. */
int peer_run(const struct peer_config *c, json_t **result);

/* Asks S for a new session; 0 and the token, or -1 with ERR. */
int peer_open_session(const struct sockaddr_in *server, uint8_t *token, char *err, size_t errlen);
