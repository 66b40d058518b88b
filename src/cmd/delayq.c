// SPDX-License-Identifier: MIT
#include "commands.h"
#include "lab/delayq.h"
#include <netlink/errno.h>
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
	struct delayq_link links[64];
	int n = 0, ready = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ready-fd") && i + 1 < argc) {
			ready = atoi(argv[++i]);
		} else if (n < 64 && delayq_link_parse(argv[i], &links[n]) == 0) {
			n++;
		} else {
			fprintf(stderr, "punchlab delayq: bad argument \"%s\"\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (n == 0) {
		fputs(delayq_usage, stderr);
		return EXIT_USAGE;
	}
	prctl(PR_SET_PDEATHSIG, 0);
	int rc = delayq_serve(n, links, ready);
	if (rc < 0) {
		fprintf(stderr, "punchlab delayq: %s\n", nl_geterror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
