// SPDX-License-Identifier: MIT
#include "analysis/export.h"
#include "cmdutil.h"
#include "commands.h"
#include <stdio.h>
#include <string.h>

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
	const char *file = NULL;
	bool csv = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--csv"))
			csv = true;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			fputs(export_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!file || !csv) {
		fputs(export_usage, stderr);
		return EXIT_USAGE;
	}
	json_t *res;
	if (cmd_load_results(file, &res) != EXIT_OK)
		return EXIT_FAIL;
	export_csv(res, stdout);
	json_decref(res);
	return EXIT_OK;
}
