// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "diff.h"
#include <stdio.h>
#include <stdlib.h>

const char diff_usage[] =
    "usage: punchlab diff OLD NEW [--alpha A]\n"
    "\n"
    "The cells whose success rate changed significantly between two results\n"
    "files (Fisher's exact test, two-sided, at level A, default 0.05), with both\n"
    "rates and their Wilson 95 % intervals; cells present in only one file are\n"
    "listed. Exit 1 when any cell got significantly worse, 0 otherwise: put it in\n"
    "CI to regression-test a heuristic.\n"
    "Why Fisher: the counts are small (tens of trials) and exact beats the normal\n"
    "approximation there.\n";

int diff_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"alpha", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	double alpha = 0.05;
	char *end;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			alpha = strtod(optarg, &end);
			if (end == optarg || *end || !(alpha > 0 && alpha < 1)) {
				fprintf(stderr, "punchlab diff: --alpha is between 0 and 1\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			return cmd_help(diff_usage);
		default:
			return cmd_usage_error(diff_usage);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error(diff_usage);
	struct results *before = NULL, *after = NULL;
	int rc = EXIT_FAIL;
	if (cmd_load_results(argv[optind], &before) == EXIT_OK &&
	    cmd_load_results(argv[optind + 1], &after) == EXIT_OK)
		rc = diff_results(before, after, alpha, stdout) ? EXIT_FAIL : EXIT_OK;
	results_free(before);
	results_free(after);
	return rc;
}
