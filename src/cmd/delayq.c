// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "lab/delayq.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

const char delayq_usage[] =
    "usage: punchlab delayq [--ready-fd FD] QUEUE:DELAY_MS:JITTER_MS...\n"
    "\n"
    "Internal: the delay helper that `topo up` starts inside a node's namespace.\n"
    "It holds each packet that the NFQUEUE rule QUEUE hands it for DELAY_MS\n"
    "(± JITTER_MS), keeping their order, then lets it go.\n";

int delayq_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"ready-fd", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	struct delayq_link links[DELAYQ_LINKS_MAX];
	int n = 0, ready = -1, opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (cmd_int_arg(argv[0], "--ready-fd", optarg, 0, INT_MAX, &ready) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(delayq_usage);
		default:
			return cmd_usage_error(delayq_usage);
		}
	}
	for (int i = optind; i < argc; i++) {
		if (n == DELAYQ_LINKS_MAX || delayq_link_parse(argv[i], &links[n]) < 0) {
			fprintf(stderr, "punchlab delayq: bad argument \"%s\"\n", argv[i]);
			return EXIT_USAGE;
		}
		n++;
	}
	if (n == 0)
		return cmd_usage_error(delayq_usage);
	prctl(PR_SET_PDEATHSIG, 0);
	/* delayq_serve (lab/delayq.c) catches SIGINT/SIGTERM itself */
	int rc = delayq_serve(n, links, ready);
	if (rc < 0) {
		fprintf(stderr, "punchlab delayq: %s\n", strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
