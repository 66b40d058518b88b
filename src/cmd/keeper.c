// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "lab/rootless.h"
#include <stdio.h>

const char keeper_usage[] =
    "usage: punchlab keeper BASE\n"
    "\n"
    "Internal: without root, every lab command joins the user and mount\n"
    "namespaces of this process, started by the first of them; it holds them\n"
    "alive while labs are up (under BASE/netns and BASE/labs) and ends when the\n"
    "last lab goes (docs/scale.md).\n";

int keeper_main(int argc, char *argv[])
{
	static const struct option opts[] = {CMD_OPT_HELP, {NULL, 0, NULL, 0}};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h')
			return cmd_help(keeper_usage);
		return cmd_usage_error(keeper_usage);
	}
	if (argc - optind != 1)
		return cmd_usage_error(keeper_usage);
	return rootless_keeper(argv[optind]);
}
