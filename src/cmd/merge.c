// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "results/results.h"
#include <stdio.h>

const char merge_usage[] =
    "usage: punchlab merge [-o DIR] [--expect-shards N] RESULTS...\n"
    "\n"
    "Joins results files of one suite (shards, or a run and its resumption) into\n"
    "a new file in DIR (default results/runs), with the cells' summaries computed\n"
    "again from all the trials. Files of different suites, or a trial present in\n"
    "two files, are refused. --expect-shards N: the files are shards of `run\n"
    "--shard K/N` (others are refused); shards missing among them or interrupted\n"
    "are named on stderr and in the merged file's metadata.incomplete, and the\n"
    "merge of the others is written all the same (`punchlab table` says so).\n";

int merge_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP, {"expect-shards", required_argument, NULL, 'e'}, {NULL, 0, NULL, 0}};
	const char *outdir = "results/runs";
	int opt, shards = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			outdir = optarg;
			break;
		case 'e':
			if (cmd_int_arg(argv[0], "--expect-shards", optarg, 1, 100000, &shards) < 0)
				return EXIT_USAGE;
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
	if (results_merge(files, n, outdir, "punchlab merge", shards, path, sizeof(path), &res,
			  &err) < 0) {
		fprintf(stderr, "punchlab merge: %s\n", err.msg);
		return EXIT_FAIL;
	}
	cmd_show_results(res, path, true, "results: ");
	char why[512];
	if (results_incomplete(res, why, sizeof(why)))
		fprintf(stderr, "punchlab merge: incomplete: %s\n", why);
	results_free(res);
	return EXIT_OK;
}
