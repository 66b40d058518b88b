// SPDX-License-Identifier: MIT
#include "commands.h"
#include "lab/lab.h"
#include <stdio.h>
#include <string.h>

const char cleanup_usage[] =
    "usage: punchlab cleanup [--force] [NAME...]\n"
    "\n"
    "Removes every lab that no running punchlab process owns: labs left by a\n"
    "killed `topo up` or run, and labs brought up with `topo up`. For each: the\n"
    "processes inside its namespaces (delay helpers, servers, peers), the\n"
    "namespaces (which takes their links and bridges with them) and its state\n"
    "under " LAB_STATE_DIR ". Only what punchlab recorded there is touched.\n"
    "With NAMEs, only those labs. --force also removes labs whose owner (a run\n"
    "in progress) is alive.\n";

int cleanup_main(int argc, char *argv[])
{
	bool force = false;
	const char *names[64];
	int nnames = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force")) {
			force = true;
		} else if (argv[i][0] != '-' && lab_name_ok(argv[i]) && nnames < 64) {
			names[nnames++] = argv[i];
		} else {
			fputs(cleanup_usage, stderr);
			return EXIT_USAGE;
		}
	}
	int n = lab_cleanup(force, nnames, names, stdout);
	printf("%d lab%s removed\n", n, n == 1 ? "" : "s");
	return EXIT_OK;
}
