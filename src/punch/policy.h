/* SPDX-License-Identifier: MIT */
/*
 * A Flash socket policy server, for peers of `runtime: flash`: Flash Player
 * asks a host's port 843 for a "master" socket policy file before its first
 * socket connection to that host (Adobe, ActionScript 3.0 Developer's Guide,
 * "Socket policy files"; "Setting up a socket policy file server", 2008).
 * Each client sends "<policy-file-request/>" and a NUL; the answer is a
 * policy that allows every port, and a NUL, then the connection closes.
 */
#pragma once
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>

#define POLICY_PORT 843
#define POLICY_REQUEST "<policy-file-request/>"

/* Serves LISTEN until *STOP; *LISTENING gets the port once bound (1 on a
 * failure to bind). 0, or -errno. */
int policy_run(const struct sockaddr_in *listen, volatile sig_atomic_t *stop,
	       volatile uint16_t *listening);
