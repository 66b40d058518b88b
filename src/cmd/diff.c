// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "diff.h"
#include <stdio.h>
#include <stdlib.h>

const char diff_usage[] =
    "usage: punchlab diff OLD NEW [--alpha A] [--allow-missing] [--any-suite]\n"
    "\n"
    "The cells whose success rate changed significantly between two results\n"
    "files (Fisher's exact test, two-sided, at level A, default 0.05), with both\n"
    "rates and their Wilson 95 % intervals; cells present in only one file are\n"
    "listed. Exit 1 on a regression, 0 otherwise: put it in CI to regression-test\n"
    "a heuristic. A regression is a cell that got significantly worse, or a cell\n"
    "of OLD that NEW lacks (--allow-missing accepts those, for a NEW that is a\n"
    "shard or a smaller suite); with no cell in both files nothing was compared,\n"
    "and that fails too.\n"
    "OLD and NEW must be runs of the same suite file (suite.sha256): a NEW of\n"
    "another suite is refused (exit 1), unless --any-suite, which compares cells\n"
    "by id across an edited suite.\n"
    "Why Fisher: the counts are small (tens of trials) and exact beats the normal\n"
    "approximation there.\n";

/* OLD against NEW as O says: the exit status. */
static int diff_files(const char *old_path, const char *new_path, const struct diff_opts *o,
		      bool any_suite)
{
	struct results *before = NULL, *after = NULL;
	struct perr err;
	int rc = EXIT_FAIL;
	if (cmd_load_results(old_path, &before) != EXIT_OK ||
	    cmd_load_results(new_path, &after) != EXIT_OK)
		goto out;
	if (!any_suite && diff_same_suite(before, after, &err) < 0) {
		fprintf(stderr, "punchlab diff: %s; --any-suite compares them anyway\n", err.msg);
		goto out;
	}
	rc = diff_results(before, after, o, stdout) ? EXIT_FAIL : EXIT_OK;
out:
	results_free(before);
	results_free(after);
	return rc;
}

int diff_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"alpha", required_argument, NULL, 'a'},
	    {"allow-missing", no_argument, NULL, 'm'},
	    {"any-suite", no_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	struct diff_opts o = {.alpha = 0.05};
	bool any_suite = false;
	char *end;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			o.alpha = strtod(optarg, &end);
			if (end == optarg || *end || !(o.alpha > 0 && o.alpha < 1)) {
				fprintf(stderr, "punchlab diff: --alpha is between 0 and 1\n");
				return EXIT_USAGE;
			}
			break;
		case 'm':
			o.allow_missing = true;
			break;
		case 's':
			any_suite = true;
			break;
		case 'h':
			return cmd_help(diff_usage);
		default:
			return cmd_usage_error(diff_usage);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error(diff_usage);
	return diff_files(argv[optind], argv[optind + 1], &o, any_suite);
}
