// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "plot.h"
#include "util/outfile.h"
#include <stdio.h>
#include <string.h>

const char plot_usage[] =
    "usage: punchlab plot RESULTS -o FILE.svg [--kind heatmap|curve] [--x FIELD]\n"
    "\n"
    "heatmap (default): success rate by OS pair, peer A down and peer B across,\n"
    "one panel per combination of the other fields, a colour legend; hovering a\n"
    "cell shows its counts and interval. curve: success rate with Wilson 95 %\n"
    "bars against a numeric field (--x, default skew_ms: delay_ms, background_a,\n"
    "...), one series per combination of the other fields. The SVG opens in any\n"
    "browser.\n";

int plot_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"kind", required_argument, NULL, 'k'},
	    {"x", required_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL, *kind = "heatmap", *x = "skew_ms";
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'x':
			x = optarg;
			break;
		case 'h':
			return cmd_help(plot_usage);
		default:
			return cmd_usage_error(plot_usage);
		}
	}
	if (argc - optind != 1 || !out || (strcmp(kind, "heatmap") && strcmp(kind, "curve")))
		return cmd_usage_error(plot_usage);
	struct results *res;
	struct perr err;
	if (cmd_load_results(argv[optind], &res) != EXIT_OK)
		return EXIT_FAIL;
	struct outfile of;
	if (outfile_open(&of, out, &err) < 0) {
		fprintf(stderr, "punchlab plot: %s\n", err.msg);
		results_free(res);
		return EXIT_FAIL;
	}
	int rc = !strcmp(kind, "heatmap") ? plot_heatmap(res, of.f, &err)
					  : plot_curve(res, x, of.f, &err);
	results_free(res);
	if (rc < 0)
		outfile_abort(&of);
	else
		rc = outfile_commit(&of, &err);
	if (rc < 0) {
		fprintf(stderr, "punchlab plot: %s\n", err.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
