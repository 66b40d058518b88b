// SPDX-License-Identifier: MIT
#include "analysis/diff.h"
#include "cmdutil.h"
#include "commands.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	double alpha = 0.05;
	const char *files[2];
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--alpha") && i + 1 < argc) {
			char *end;
			alpha = strtod(argv[++i], &end);
			if (*end || alpha <= 0 || alpha >= 1) {
				fprintf(stderr, "punchlab diff: --alpha is between 0 and 1\n");
				return EXIT_USAGE;
			}
		} else if (argv[i][0] != '-' && n < 2) {
			files[n++] = argv[i];
		} else {
			fputs(diff_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (n != 2) {
		fputs(diff_usage, stderr);
		return EXIT_USAGE;
	}
	json_t *before = NULL, *after = NULL;
	int rc = EXIT_FAIL;
	if (cmd_load_results(files[0], &before) == EXIT_OK &&
	    cmd_load_results(files[1], &after) == EXIT_OK)
		rc = diff_results(before, after, alpha, stdout) ? EXIT_FAIL : EXIT_OK;
	json_decref(before);
	json_decref(after);
	return rc;
}
