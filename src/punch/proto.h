/* SPDX-License-Identifier: MIT */
/*
 * The peer <-> rendezvous server protocol: newline-delimited JSON, one object
 * per line, at most PROTO_MAX_LINE bytes with the newline, "v": 1. Every
 * message and field is in docs/protocol.md. proto_parse() is a pure function
 * of its input (the fuzzers call it); proto_format() never writes more than
 * PROTO_MAX_LINE.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_MAX_LINE 1024
#define PROTO_MAX_PORTS 16
#define PROTO_MAX_PROBES 32
#define PROTO_TOKEN_LEN 16

enum pmsg_type {
	PM_OPEN,    /* client -> S: make a session */
	PM_OPENED,  /* S: the session token */
	PM_HELLO,   /* peer -> S on the control connection */
	PM_WELCOME, /* S: the probe token */
	PM_PROBE,   /* peer -> S, one per short connection */
	PM_SEEN,    /* S: the address and port it saw */
	PM_READY,   /* peer -> S: probes done, with the peer's RTT to S */
	PM_PUNCH,   /* S -> peer: the other's endpoint, when to go, the nonce */
	PM_VERIFY,  /* peer <-> peer on the punched connection */
	PM_RESULT,  /* peer -> S: how the attempt went */
	PM_RETRY,   /* S: probe again for the next round */
	PM_DONE,    /* S: the session is over, with the verdict */
	PM_ERROR,   /* S: refusal, then close */
	PM_TYPE_COUNT
};

struct pmsg {
	enum pmsg_type type;
	uint8_t session[PROTO_TOKEN_LEN]; /* hello */
	uint8_t token[PROTO_TOKEN_LEN];	  /* welcome, probe */
	uint8_t nonce[PROTO_TOKEN_LEN];	  /* punch, verify */
	char role;			  /* 'a' or 'b': hello, verify */
	int probes;			  /* hello: how many probes will follow */
	int rounds;			  /* hello: rounds the peer will do (0: S decides) */
	int seq;			  /* probe, seen */
	uint16_t local_port;		  /* probe, result: the peer's own port (0: unknown) */
	uint32_t addr;			  /* seen, punch: network byte order */
	uint16_t port;			  /* seen */
	double rtt_ms;			  /* ready */
	int nports;			  /* punch: predicted ports, best first */
	uint16_t ports[PROTO_MAX_PORTS];
	int go_ms;	   /* punch: connect this many ms after receipt */
	int round;	   /* welcome, punch, retry, done */
	bool ok;	   /* result, done */
	char reason[24];   /* result, retry, done: a failure reason ("" when ok) */
	double connect_ms; /* result */
	char code[32];	   /* error */
	char text[160];	   /* error: for people */
};

const char *proto_type_name(enum pmsg_type t);
/* Parses one line (without or with its newline). On error returns -1 and
 * ERR says what is wrong ("missing field \"session\"" ...). */
int proto_parse(const char *line, size_t len, struct pmsg *m, char *err, size_t errlen);
/* Formats M as one line with its newline; returns its length or -1. */
int proto_format(const struct pmsg *m, char *buf, size_t len);

void proto_hex(const uint8_t *bytes, size_t n, char *out); /* out: 2n+1 */
int proto_unhex(const char *s, uint8_t *bytes, size_t n);
