/* SPDX-License-Identifier: MIT */
/*
 * The local proxy: a SOCKS5 server (RFC 1928, CONNECT, no authentication) on
 * loopback whose outside connections bind() the next port of its own
 * sequence, so that S can predict them whatever the OS does. The reply is
 * sent once the outside connection is up or has failed.
 */
#pragma once
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

struct proxy_config {
	struct sockaddr_in listen;
	uint16_t port_base; /* the first outside port; then +1 each, skipping busy ones */
	int connect_timeout_ms;
	int max_clients;
	FILE *log;
};

void proxy_config_defaults(struct proxy_config *c);
int proxy_run(const struct proxy_config *c, volatile sig_atomic_t *stop, uint16_t *listening);

/* The SOCKS5 request parser, pure: N bytes of BUF. Returns the bytes the
 * request takes (> 0) with the target in ADDR and PORT, 0 if more bytes are
 * needed, or -(SOCKS reply code) for a request it refuses. */
int socks_parse_request(const uint8_t *buf, size_t n, uint32_t *addr, uint16_t *port);
/* The greeting: > 0 consumed (and *NOAUTH whether "no authentication" is
 * offered), 0 need more, -1 not SOCKS5. */
int socks_parse_greeting(const uint8_t *buf, size_t n, int *noauth);
