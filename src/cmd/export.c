// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "export.h"
#include <stdio.h>

const char export_usage[] =
    "usage: punchlab export RESULTS --csv\n"
    "\n"
    "One CSV row per trial (RFC 4180, header first): the trial's outcome, the\n"
    "prediction hits, whether the SYNs crossed, both peers' endpoints and the\n"
    "ports S saw and predicted (as JSON lists), then every field of its cell as a\n"
    "column, empty where a cell does not set it. For pandas.read_csv or R's\n"
    "read.csv.\n";

int export_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"csv", no_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	bool csv = false;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			csv = true;
			break;
		case 'h':
			return cmd_help(export_usage);
		default:
			return cmd_usage_error(export_usage);
		}
	}
	if (argc - optind != 1 || !csv)
		return cmd_usage_error(export_usage);
	struct results *res;
	struct perr err;
	if (cmd_load_results(argv[optind], &res) != EXIT_OK)
		return EXIT_FAIL;
	int rc = export_csv(res, stdout, &err);
	results_free(res);
	/* a write error on stdout is main's to report, once, as for every command */
	if (rc < 0 && !ferror(stdout))
		fprintf(stderr, "%s\n", err.msg);
	if (rc < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}
