// SPDX-License-Identifier: MIT
#include "cmdutil.h"
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
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"server", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_in s;
	bool have_server = false;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (cmd_endpoint_arg(argv[0], "--server", optarg, false, &s) < 0)
				return EXIT_USAGE;
			have_server = true;
			break;
		case 'h':
			return cmd_help(session_usage);
		default:
			return cmd_usage_error(session_usage);
		}
	}
	if (!have_server || optind != argc)
		return cmd_usage_error(session_usage);
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
