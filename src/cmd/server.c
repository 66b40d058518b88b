// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "punch/server.h"
#include "util/endpoint.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char server_usage[] =
    "usage: punchlab server --listen ADDR:PORT [--heuristic NAME] [--guesses K] [--quiet]\n"
    "                       [--go-ms MS] [--max-rounds R] [--idle-ms MS] [--session-ttl-ms MS]\n"
    "                       [--max-per-addr N] [--max-conns N] [--max-sessions N] [--seed N]\n"
    "\n"
    "The rendezvous server S (docs/protocol.md). It learns each peer's external\n"
    "ports from its probes, predicts the next one with the heuristic (default\n"
    "delta; `--heuristic help` lists them), sends each peer K candidates for the\n"
    "other and the moment to go, and repeats on failure. One JSON line per event\n"
    "on stderr unless --quiet. Port 0 picks a free port (printed in the listen event).\n"
    "Defaults: go twice the larger peer round trip + 2 ms after the punch (or\n"
    "--go-ms), 10 rounds at most, idle 10 s, sessions\n"
    "120 s, 64 connections per address, 16384 connections, 100000 sessions.\n";

static int int_arg(const char *s, int lo, int hi, const char *what, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < lo || v > hi) {
		fprintf(stderr, "punchlab server: %s must be %d to %d, not \"%s\"\n", what, lo, hi,
			s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int server_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"heuristic", required_argument, NULL, 'H'},
	    {"guesses", required_argument, NULL, 'k'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"go-ms", required_argument, NULL, 'g'},
	    {"max-rounds", required_argument, NULL, 'r'},
	    {"idle-ms", required_argument, NULL, 'i'},
	    {"session-ttl-ms", required_argument, NULL, 't'},
	    {"max-per-addr", required_argument, NULL, 'a'},
	    {"max-conns", required_argument, NULL, 'c'},
	    {"max-sessions", required_argument, NULL, 's'},
	    {"seed", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	struct srv_config c;
	const char *listen_s = NULL;
	int opt;

	srv_config_defaults(&c);
	c.log = stderr;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int rc = 0;
		switch (opt) {
		case 'l':
			if (endpoint_parse(optarg, &c.listen, 1) < 0) {
				fprintf(stderr,
					"punchlab server: --listen wants ADDR:PORT, not \"%s\"\n",
					optarg);
				return EXIT_USAGE;
			}
			listen_s = optarg;
			break;
		case 'H':
			c.heuristic = heuristic_by_name(optarg);
			if (!c.heuristic) {
				bool help = !strcmp(optarg, "help");
				if (help)
					for (size_t i = 0; heuristics[i]; i++)
						printf("%-11s %s\n", heuristics[i]->name,
						       heuristics[i]->help);
				else
					fprintf(stderr,
						"punchlab server: unknown heuristic \"%s\" (known: "
						"%s)\n",
						optarg, heuristic_names());
				return help ? EXIT_OK : EXIT_USAGE;
			}
			break;
		case 'k':
			rc = int_arg(optarg, 1, 16, "--guesses", &c.guesses);
			break;
		case 'q':
			c.log = NULL;
			break;
		case 'g':
			rc = int_arg(optarg, 0, 60000, "--go-ms", &c.go_ms);
			break;
		case 'r':
			rc = int_arg(optarg, 1, 1000, "--max-rounds", &c.max_rounds);
			break;
		case 'i':
			rc = int_arg(optarg, 100, 3600000, "--idle-ms", &c.idle_ms);
			break;
		case 't':
			rc = int_arg(optarg, 100, 86400000, "--session-ttl-ms", &c.session_ttl_ms);
			break;
		case 'a':
			rc = int_arg(optarg, 1, 1000000, "--max-per-addr", &c.max_per_addr);
			break;
		case 'c':
			rc = int_arg(optarg, 1, 1000000, "--max-conns", &c.max_conns);
			break;
		case 's':
			rc = int_arg(optarg, 1, 10000000, "--max-sessions", &c.max_sessions);
			break;
		case 'S':
			c.seed = strtoull(optarg, NULL, 0);
			break;
		default:
			return EXIT_USAGE;
		}
		if (rc < 0)
			return EXIT_USAGE;
	}
	if (!listen_s || optind != argc) {
		fputs(server_usage, stderr);
		return EXIT_USAGE;
	}
	int rc = srv_run(&c, cmd_stop_on_signal(), NULL);
	if (rc < 0) {
		fprintf(stderr, "punchlab server: cannot listen on %s: %s\n", listen_s,
			strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
