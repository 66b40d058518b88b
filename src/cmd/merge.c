// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "results/results.h"
#include <stdio.h>

const char merge_usage[] =
    "usage: punchlab merge [-o DIR] RESULTS...\n"
    "\n"
    "Joins results files of one suite (shards, or a run and its resumption) into\n"
    "a new file in DIR (default results/runs), with the cells' summaries computed\n"
    "again from all the trials. Files of different suites, or a trial present in\n"
    "two files, are refused.\n";

int merge_main(int argc, char *argv[])
{
	static const struct option opts[] = {CMD_OPT_HELP, {NULL, 0, NULL, 0}};
	const char *outdir = "results/runs";
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			outdir = optarg;
			break;
		case 'h':
			return cmd_help(merge_usage);
		default:
			return cmd_usage_error(merge_usage);
		}
	}
	int n = argc - optind;
	if (n < 1)
		return cmd_usage_error(merge_usage);
	/* every file is read and checked by the merge itself, before it writes */
	const char *const *files = (const char *const *)(argv + optind);
	char path[4096];
	struct perr err;
	struct results *res;
	if (results_merge(files, n, outdir, "punchlab merge", path, sizeof(path), &res, &err) < 0) {
		fprintf(stderr, "punchlab merge: %s\n", err.msg);
		return EXIT_FAIL;
	}
	cmd_show_results(res, path, true, "results: ");
	results_free(res);
	return EXIT_OK;
}
