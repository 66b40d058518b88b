// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "report.h"
#include <stdio.h>

const char report_usage[] =
    "usage: punchlab report RESULTS -o FILE.html\n"
    "\n"
    "One self-contained HTML page of a run: its metadata, the table of its cells,\n"
    "the heat map (and a curve per numeric field that varies), failures by reason\n"
    "per cell, and per cell its trials, each with a ladder diagram of its capture\n"
    "(one line per capture point, an arrow per SYN, SYN-ACK or RST with its time,\n"
    "the predicted and actual external ports, the verdict; for a failed trial the\n"
    "packet that shows why, marked). Styles, script and figures are inline and\n"
    "the page fetches nothing. A cell's trials are drawn when it is opened, 50 at\n"
    "a time; FILE.html#t-CELL-TRIAL opens one trial.\n";

static int report_file_write(const struct results *res, FILE *f, void *arg, struct perr *err)
{
	(void)arg;
	return report_write(res, f, err);
}

int report_main(int argc, char *argv[])
{
	static const struct option opts[] = {CMD_OPT_HELP, {NULL, 0, NULL, 0}};
	const char *out = NULL;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			return cmd_help(report_usage);
		default:
			return cmd_usage_error(report_usage);
		}
	}
	if (argc - optind != 1 || !out)
		return cmd_usage_error(report_usage);
	struct results *res;
	if (cmd_load_results(argv[optind], &res) != EXIT_OK)
		return EXIT_FAIL;
	return cmd_write_file(argv[0], out, res, report_file_write, NULL);
}
