/* SPDX-License-Identifier: MIT */
/*
 * The classify control protocol (docs/field.md): newline-delimited JSON, one
 * object per line, at most CL_MAX_LINE bytes with the newline, "v": 1.
 * cl_parse() is a pure function of its input (fuzz/fuzz_classify.c calls
 * it); cl_format() never writes more than CL_MAX_LINE. Unknown fields are
 * ignored, so a later version may add some.
 */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_VERSION 1
#define CL_MAX_LINE 512
#define CL_TOKEN_LEN 16		   /* bytes; 32 hex digits on the wire */
#define CL_NENDPOINTS 4		   /* A1:P1, A1:P2, A2:P1, A2:P2, in this order */
#define CL_FROM_SINK CL_NENDPOINTS /* connect's "from" for the sink endpoint */
#define CL_MAX_WAIT_MS 12000
#define CL_MAX_HOLD_MS 3600000

enum cl_type {
	CL_HELLO,   /* client -> server, control: start */
	CL_WELCOME, /* server: the token, the client's address, the four endpoints */
	CL_PROBE,   /* client -> server, on a test connection to any endpoint */
	CL_SEEN,    /* server, on that connection: the source endpoint it saw */
	CL_PING,    /* server, on a held test connection after hold_ms */
	CL_CONNECT, /* client -> server, control: originate a SYN to the client */
	CL_OUTCOME, /* server, control: how that connection attempt ended */
	CL_KNOCK,   /* server, on a connection it originated that got through */
	CL_ERROR,   /* server: refusal, then close */
	CL_TYPE_COUNT
};

/* How an attempt by the server ended, seen from outside the NAT. */
enum cl_result {
	CL_R_CONNECTED, /* the handshake completed */
	CL_R_RST,	/* refused by a RST */
	CL_R_ICMP,	/* an ICMP error: icmp_type/icmp_code, or by errno alone (-1) */
	CL_R_TIMEOUT,	/* nothing within wait_ms */
	CL_R_ERROR,	/* the server could not try (bind, a 4-tuple in use, ...) */
	CL_R_COUNT
};

struct cl_msg {
	enum cl_type type;
	uint8_t token[CL_TOKEN_LEN];	      /* welcome, probe, knock */
	struct sockaddr_in you;		      /* welcome, seen: the client as seen */
	struct sockaddr_in at;		      /* seen: the endpoint probed; outcome: from */
	struct sockaddr_in to;		      /* outcome: the target */
	struct sockaddr_in ep[CL_NENDPOINTS]; /* welcome */
	struct sockaddr_in sink;	      /* welcome: optional (port 0: none) */
	int seq;			      /* probe, seen, ping */
	int hold_ms;			      /* probe: keep open, ping after this (0: close) */
	int id;				      /* connect, outcome, knock */
	int from;			      /* connect: index into the endpoints */
	uint16_t port;			      /* connect: the client's port to connect to */
	int wait_ms;			      /* connect: give up after this */
	enum cl_result result;		      /* outcome */
	int ms;				      /* outcome: from connect() to the result */
	int icmp_type, icmp_code;	      /* outcome: -1 when unknown */
	uint32_t icmp_from;		      /* outcome: who sent it (0: unknown) */
	char err[24];			      /* outcome: the errno's name ("" if none) */
	char code[32];			      /* error */
	char text[160];			      /* error: for people */
};

const char *cl_type_name(enum cl_type t);
const char *cl_result_name(enum cl_result r);
/* Parses one line (with or without its newline) into M. On error returns -1
 * and ERR says what is wrong. */
int cl_parse(const char *line, size_t len, struct cl_msg *m, char *err, size_t errlen);
/* Formats M as one line with its newline into BUF; its length, or -1. */
int cl_format(const struct cl_msg *m, char *buf, size_t len);
/* "A.B.C.D:PORT" of SA into BUF (at least 22 bytes). */
const char *cl_ep_str(const struct sockaddr_in *sa, char *buf, size_t len);
