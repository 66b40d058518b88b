// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "classify/server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char classify_server_usage[] =
    "usage: punchlab classify-server --listen A1:P1 --alt A2:P2 [--sink-port P3] [--quiet]\n"
    "                                [--max-clients N] [--max-conns N] [--max-per-addr N]\n"
    "                                [--idle-ms MS] [--session-ms MS] [--max-attempts N]\n"
    "                                [--max-holds N]\n"
    "\n"
    "The outside half of `punchlab classify` (docs/field.md): listens on A1:P1,\n"
    "A1:P2, A2:P1 and A2:P2 (two addresses of this host, two ports), tells each\n"
    "client the source endpoint of its test connections, and on request connects\n"
    "from any of the four to the client's own address (no other) and reports how\n"
    "it ended: connected, RST, ICMP or nothing, after how many ms. The control\n"
    "connection goes to A1:P1. --sink-port: a fifth endpoint, A1:P3, that never\n"
    "answers a SYN, for classify --long's SYN_SENT lifetime. One JSON line per\n"
    "event on stderr unless --quiet.\n"
    "Defaults: 64 clients, 512 connections (256 from one address), a control\n"
    "connection idle 60 s goes, a session lasts 1 h at most, 64 attempts and 16\n"
    "held connections per client.\n";

/* The options whose value is a number in a range: into their field of C. */
static int int_opt(int opt, const char *prog, struct cs_config *c)
{
	const struct cmd_int_opt ints[] = {
	    {'c', "--max-clients", 1, 100000, &c->max_clients},
	    {'n', "--max-conns", 8, 1000000, &c->max_conns},
	    {'p', "--max-per-addr", 1, 1000000, &c->max_per_addr},
	    {'i', "--idle-ms", 100, 3600000, &c->idle_ms},
	    {'s', "--session-ms", 1000, 86400000, &c->session_ms},
	    {'a', "--max-attempts", 1, 100000, &c->max_attempts},
	    {'H', "--max-holds", 0, 1000, &c->max_holds},
	};
	return cmd_int_opts(prog, opt, optarg, ints, sizeof(ints) / sizeof(ints[0]));
}

/* A1:P1 and A2:P2 into the four endpoints; -1 (said on stderr) when the
 * addresses or the ports are the same. */
static int four_endpoints(const char *prog, struct sockaddr_in *a, struct sockaddr_in *b,
			  struct cs_config *c)
{
	if (a->sin_addr.s_addr == b->sin_addr.s_addr || a->sin_port == b->sin_port) {
		fprintf(stderr,
			"%s: --listen and --alt need two different addresses and two different "
			"ports\n",
			prog);
		return -1;
	}
	c->ep[0] = c->ep[1] = *a;
	c->ep[1].sin_port = b->sin_port;
	c->ep[2] = c->ep[3] = *b;
	c->ep[2].sin_port = a->sin_port;
	return 0;
}

int classify_server_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"listen", required_argument, NULL, 'l'},
	    {"alt", required_argument, NULL, 'A'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"max-clients", required_argument, NULL, 'c'},
	    {"max-conns", required_argument, NULL, 'n'},
	    {"max-per-addr", required_argument, NULL, 'p'},
	    {"idle-ms", required_argument, NULL, 'i'},
	    {"session-ms", required_argument, NULL, 's'},
	    {"max-attempts", required_argument, NULL, 'a'},
	    {"max-holds", required_argument, NULL, 'H'},
	    {"sink-port", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	struct cs_config c;
	struct sockaddr_in a1, a2;
	bool have1 = false, have2 = false;
	int opt, rc, failed, sink_port = 0;
	char e[24];

	cs_config_defaults(&c);
	c.log = stderr;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (cmd_endpoint_arg(argv[0], "--listen", optarg, false, &a1) < 0)
				return EXIT_USAGE;
			have1 = true;
			break;
		case 'A':
			if (cmd_endpoint_arg(argv[0], "--alt", optarg, false, &a2) < 0)
				return EXIT_USAGE;
			have2 = true;
			break;
		case 'q':
			c.log = NULL;
			break;
		case 'S':
			if (cmd_int_arg(argv[0], "--sink-port", optarg, 1, 65535, &sink_port) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(classify_server_usage);
		case '?':
			return cmd_usage_error(classify_server_usage);
		default:
			if (int_opt(opt, argv[0], &c) < 0)
				return EXIT_USAGE;
		}
	}
	if (!have1 || !have2 || optind != argc)
		return cmd_usage_error(classify_server_usage);
	if (four_endpoints(argv[0], &a1, &a2, &c) < 0)
		return EXIT_USAGE;
	if (sink_port && (htons((uint16_t)sink_port) == a1.sin_port ||
			  htons((uint16_t)sink_port) == a2.sin_port)) {
		fprintf(stderr, "%s: --sink-port must differ from the two ports\n", argv[0]);
		return EXIT_USAGE;
	}
	if (sink_port) {
		c.sink = a1;
		c.sink.sin_port = htons((uint16_t)sink_port);
	}
	rc = cs_run(&c, cmd_stop_on_signal(), &failed);
	if (rc < 0) {
		if (failed >= 0)
			fprintf(stderr, "%s: cannot listen on %s: %s\n", argv[0],
				cl_ep_str(failed == CL_FROM_SINK ? &c.sink : &c.ep[failed], e,
					  sizeof(e)),
				strerror(-rc));
		else
			fprintf(stderr, "%s: cannot serve: %s\n", argv[0], strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
