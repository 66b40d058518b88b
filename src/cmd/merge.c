// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "run/runner.h"
#include <stdio.h>
#include <string.h>

const char merge_usage[] =
    "usage: punchlab merge [-o DIR] RESULTS...\n"
    "\n"
    "Joins results files of one suite (shards, or a run and its resumption) into\n"
    "a new file in DIR (default results/runs), with the cells' summaries computed\n"
    "again from all the trials. Files of different suites, or a trial present in\n"
    "two files, are refused.\n";

int merge_main(int argc, char *argv[])
{
	const char *outdir = "results/runs";
	const char *files[256];
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			outdir = argv[++i];
		else if (argv[i][0] != '-' && n < 256)
			files[n++] = argv[i];
		else {
			fputs(merge_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (n < 1) {
		fputs(merge_usage, stderr);
		return EXIT_USAGE;
	}
	char path[4096];
	struct perr err;
	if (run_merge(files, n, outdir, "punchlab merge", path, sizeof(path), &err) < 0) {
		fprintf(stderr, "punchlab merge: %s\n", err.msg);
		return EXIT_FAIL;
	}
	cmd_show_results(path, true, "results: ");
	return EXIT_OK;
}
