// SPDX-License-Identifier: MIT
#include "cmdutil.h"
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
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"force", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	bool force = false;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			force = true;
			break;
		case 'h':
			return cmd_help(cleanup_usage);
		default:
			return cmd_usage_error(cleanup_usage);
		}
	}
	/* any number of names: no array of a fixed size to outgrow */
	for (int i = optind; i < argc; i++)
		if (!lab_name_ok(argv[i]))
			return cmd_usage_error(cleanup_usage);
	int n = lab_cleanup(force, argc - optind, (const char *const *)argv + optind, stdout);
	printf("%d lab%s removed\n", n, n == 1 ? "" : "s");
	return EXIT_OK;
}
