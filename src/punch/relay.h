/* SPDX-License-Identifier: MIT */
/*
 * The relay beside S (method relay, like TURN over TCP, RFC 6062): each
 * peer connects and names its pairing key and role in one line,
 *
 *   RELAY <32 hex digits> <a|b>\n
 *
 * and once both roles of one key are there the relay copies bytes between
 * the two connections until either ends. It faces the Internet: a bounded
 * number of connections, a bounded buffer per direction, a deadline for
 * the line, for the partner and for silence; nothing a client sends makes
 * it crash or stall (tests/root/hostile.sh).
 */
#pragma once
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#define RELAY_LINE_MAX 64      /* with room */
#define RELAY_LINE_LEN 41      /* "RELAY " + 32 hex digits + " a\n" */
#define RELAY_BUF 16384	       /* bytes in flight per direction */
#define RELAY_MAX_CONNS 256    /* at once */
#define RELAY_MAX_PER_ADDR 16  /* at once from one address */
#define RELAY_LINE_MS 3000     /* for the line */
#define RELAY_PARTNER_MS 10000 /* for the other role of the key */
#define RELAY_IDLE_MS 30000    /* a pair silent this long is closed */

struct relay_config {
	struct sockaddr_in listen;
	FILE *log; /* one JSON line per pair that ends; NULL: quiet */
};

/* Relays until *STOP becomes non-zero. 0, or -errno if it could not start.
 * LISTENING (if not NULL) gets the bound port once it listens. */
int relay_run(const struct relay_config *c, volatile sig_atomic_t *stop, uint16_t *listening);

/* The line that asks for KEY's pairing as ROLE into BUF (RELAY_LINE_MAX);
 * returns its length. */
int relay_line(const uint8_t key[16], char role, char *buf);
