// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "table.h"
#include "commands.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char table_usage[] =
    "usage: punchlab table RESULTS [--format text|md|latex|csv|html] [--symbols paper|rate]\n"
    "                      [--rows FIELD --cols FIELD] [--layout paper|matrix|summary]\n"
    "\n"
    "The OS-compatibility table of a results file. Without --rows/--cols: the\n"
    "paper's Table 1 layout, one line per cell (peer A, peer B, the fields that\n"
    "vary, the result). With them: a matrix, FIELD values down and across (os_a,\n"
    "os_b, nat, topology, ...), one table per combination of the other fields\n"
    "that vary. --layout summary is the table `punchlab run` prints: one line\n"
    "per cell with its counts, interval and failure reasons. --symbols paper (default) prints ◎ (at least 95 % connected),\n"
    "○ (at least 50 %), △ (above 0), × (none), as the caption says; --symbols rate\n"
    "prints the rate with its Wilson 95 % interval. LaTeX needs booktabs and\n"
    "amssymb; HTML is a standalone page.\n";

int table_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"format", required_argument, NULL, 'f'},
	    {"symbols", required_argument, NULL, 's'},
	    {"rows", required_argument, NULL, 'r'},
	    {"cols", required_argument, NULL, 'c'},
	    {"layout", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct table_opts o = {.format = TF_TEXT, .symbols = TS_PAPER, .layout = TL_PAPER};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (table_format_parse(optarg, &o.format) < 0) {
				fprintf(stderr,
					"punchlab table: unknown format \"%s\" (known: text, md, "
					"latex, csv, html)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (!strcmp(optarg, "paper"))
				o.symbols = TS_PAPER;
			else if (!strcmp(optarg, "rate"))
				o.symbols = TS_RATE;
			else {
				fprintf(stderr, "punchlab table: --symbols is paper or rate\n");
				return EXIT_USAGE;
			}
			break;
		case 'l':
			if (table_layout_parse(optarg, &o.layout) < 0) {
				fprintf(stderr,
					"punchlab table: --layout is paper, matrix or summary\n");
				return EXIT_USAGE;
			}
			break;
		case 'r':
			o.rows = optarg;
			break;
		case 'c':
			o.cols = optarg;
			break;
		case 'h':
			return cmd_help(table_usage);
		default:
			return cmd_usage_error(table_usage);
		}
	}
	if (optind != argc - 1 || (!o.rows != !o.cols) || (o.layout == TL_MATRIX && !o.rows))
		return cmd_usage_error(table_usage);
	struct results *res;
	struct perr err;
	if (cmd_load_results(argv[optind], &res) != EXIT_OK)
		return EXIT_FAIL;
	int rc = table_render(res, &o, stdout, &err);
	results_free(res);
	if (rc < 0) {
		fprintf(stderr, "punchlab table: %s\n", err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
