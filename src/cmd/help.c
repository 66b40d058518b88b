// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "version.h"
#include <stdio.h>

const char help_usage[] = "usage: punchlab help [COMMAND]\n"
			  "\n"
			  "Without COMMAND, the commands; with it, the options of COMMAND, as\n"
			  "`punchlab COMMAND --help` prints them.\n";

void help_list(FILE *f)
{
	fprintf(f,
		"punchlab %s: a laboratory for TCP NAT traversal by Simultaneous TCP Open\n\n"
		"usage: punchlab COMMAND [ARGS...]\n\ncommands:\n",
		PUNCHLAB_VERSION);
	for (const struct command *c = commands; c->name; c++)
		if (!c->hidden)
			fprintf(f, "  %-15s %s\n", c->name, c->summary);
	fprintf(f, "\n`punchlab help COMMAND` shows a command's options.\n");
}

int help_main(int argc, char *argv[])
{
	static const struct option opts[] = {CMD_OPT_HELP, {NULL, 0, NULL, 0}};
	int opt;

	optind = 0;
	/* no options but --help */
	if ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		return opt == 'h' ? cmd_help(help_usage) : cmd_usage_error(help_usage);
	if (optind == argc) {
		help_list(stdout);
		return EXIT_OK;
	}
	if (optind != argc - 1)
		return cmd_usage_error(help_usage);
	const struct command *c = command_by_name(argv[optind]);
	if (!c) {
		fprintf(stderr, "punchlab help: no command \"%s\" (punchlab --help lists them)\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	return cmd_help(c->usage);
}
