// SPDX-License-Identifier: MIT
#include "commands.h"
#include "diff.h"
#include "table.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char table_usage[] =
    "usage: punchlab table RESULTS [--format text|md|latex|csv|html] [--symbols paper|rate]\n"
    "                      [--rows FIELD --cols FIELD]\n"
    "\n"
    "The OS-compatibility table of a results file. Without --rows/--cols: the\n"
    "paper's Table 1 layout, one line per cell (peer A, peer B, the fields that\n"
    "vary, the result). With them: a matrix, FIELD values down and across (os_a,\n"
    "os_b, nat, topology, ...), one table per combination of the other fields\n"
    "that vary. --symbols paper (default) prints ◎ (at least 95 % connected),\n"
    "○ (at least 50 %), △ (above 0), × (none), as the caption says; --symbols rate\n"
    "prints the rate with its Wilson 95 % interval. LaTeX needs booktabs and\n"
    "amssymb; HTML is a standalone page.\n";

int table_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"symbols", required_argument, NULL, 's'},
	    {"rows", required_argument, NULL, 'r'},
	    {"cols", required_argument, NULL, 'c'},
	    {"layout", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct table_opts o = {.format = TF_TEXT, .symbols = TS_PAPER, .layout = TL_PAPER};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
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
				fprintf(stderr, "punchlab table: --layout is paper, matrix or summary\n");
				return EXIT_USAGE;
			}
			break;
		case 'r':
			o.rows = optarg;
			break;
		case 'c':
			o.cols = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (!o.rows != !o.cols) || (o.layout == TL_MATRIX && !o.rows)) {
		fputs(table_usage, stderr);
		return EXIT_USAGE;
	}
	struct results *res;
	struct perr err;
	if (results_load(argv[optind], &res, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_FAIL;
	}
	int rc = table_render(res, &o, stdout, &err);
	results_free(res);
	if (rc < 0) {
		fprintf(stderr, "punchlab table: %s\n", err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

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
	struct results *r[2];
	struct perr err;
	for (int i = 0; i < 2; i++)
		if (results_load(files[i], &r[i], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			if (i)
				results_free(r[0]);
			return EXIT_FAIL;
		}
	int worse = diff_results(r[0], r[1], alpha, stdout);
	results_free(r[0]);
	results_free(r[1]);
	return worse ? EXIT_FAIL : EXIT_OK;
}
