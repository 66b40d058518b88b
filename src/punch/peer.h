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

/* What peer_signal() learnt: the punch S asked for, for a program to carry out. */
struct peer_signal {
	uint32_t local_addr;	/* this host's address towards S (network order) */
	uint16_t local_port;	/* to bind for the punch; 0: any (the kernel picks) */
	uint32_t remote_addr;	/* the other side's external address (network order) */
	uint16_t remote_ports[PROTO_MAX_PORTS]; /* S's candidates, best first */
	int nports;
	int go_ms; /* connect this many ms after the punch arrived (skew_ms added) */
	char error[400];
};

/* The peer's procedure up to the punch, for a program that is not punchlab
 * (punch/rendezvous.c): hello, one round's probes, ready, S's punch. Then it
 * lets go of S and of every socket, so that OUT->local_port can be bound at
 * once (METHOD_REUSE's kept probe connection ends with a RST, leaving no
 * TIME_WAIT on it). 0, or -1 with OUT->error. */
int peer_signal(const struct peer_config *c, struct peer_signal *out);

/* Asks S for a new session; 0 and the token, or -1 with ERR. */
int peer_open_session(const struct sockaddr_in *server, uint8_t *token, char *err, size_t errlen);
