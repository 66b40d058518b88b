// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "run/runner.h"
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
	if (n < 1 || n > 256)
		return cmd_usage_error(merge_usage);
	/* run_merge reads the files itself (run/runner.c): it cannot go
	 * through cmd_load_results until it takes loaded results */
	const char *const *files = (const char *const *)(argv + optind);
	char path[4096];
	struct perr err;
	if (run_merge(files, n, outdir, "punchlab merge", path, sizeof(path), &err) < 0) {
		fprintf(stderr, "punchlab merge: %s\n", err.msg);
		return EXIT_FAIL;
	}
	cmd_show_results(path, true, "results: ");
	return EXIT_OK;
}
