// SPDX-License-Identifier: MIT
#include "analysis/plot.h"
#include "cmdutil.h"
#include "commands.h"
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
	const char *file = NULL, *out = NULL, *kind = "heatmap", *x = "skew_ms";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			kind = argv[++i];
		else if (!strcmp(argv[i], "--x") && i + 1 < argc)
			x = argv[++i];
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			fputs(plot_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!file || !out || (strcmp(kind, "heatmap") && strcmp(kind, "curve"))) {
		fputs(plot_usage, stderr);
		return EXIT_USAGE;
	}
	json_t *res;
	struct perr err;
	if (cmd_load_results(file, &res) != EXIT_OK)
		return EXIT_FAIL;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "punchlab plot: cannot write %s\n", tmp);
		json_decref(res);
		return EXIT_FAIL;
	}
	int rc =
	    !strcmp(kind, "heatmap") ? plot_heatmap(res, f, &err) : plot_curve(res, x, f, &err);
	json_decref(res);
	if (fclose(f) != 0 || rc < 0 || rename(tmp, out) < 0) {
		remove(tmp);
		fprintf(stderr, "punchlab plot: %s\n", rc < 0 ? err.msg : "cannot write the plot");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
