// SPDX-License-Identifier: MIT
#include "commands.h"
#include "punch/peer.h"
#include "util/endpoint.h"
#include <stdio.h>
#include <string.h>

const char session_usage[] =
    "usage: punchlab session --server ADDR:PORT\n"
    "\n"
    "Asks the rendezvous server for a new session and prints its token (32 hex\n"
    "digits): give it to both peers with --session.\n";

int session_main(int argc, char *argv[])
{
	struct sockaddr_in s;
	if (argc != 3 || strcmp(argv[1], "--server") || endpoint_parse(argv[2], &s, 0) < 0) {
		fputs(session_usage, stderr);
		return EXIT_USAGE;
	}
	uint8_t token[PROTO_TOKEN_LEN];
	char err[256], hex[2 * PROTO_TOKEN_LEN + 1];
	if (peer_open_session(&s, token, err, sizeof(err)) < 0) {
		fprintf(stderr, "punchlab session: %s\n", err);
		return EXIT_FAIL;
	}
	proto_hex(token, PROTO_TOKEN_LEN, hex);
	printf("%s\n", hex);
	return EXIT_OK;
}
