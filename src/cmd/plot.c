// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "plot.h"
#include "table.h"
#include "util/outfile.h"
#include <stdio.h>
#include <string.h>

const char plot_usage[] =
    "usage: punchlab plot RESULTS -o FILE.svg|FILE.pdf|FILE.png [--kind heatmap|curve]\n"
    "                     [--rows FIELD --cols FIELD] [--x FIELD]\n"
    "\n"
    "Draws with cairo and pango; the format is the output file's ending (PNG at\n"
    "twice the size, for screens). Every label is measured, then wrapped or\n"
    "abbreviated with \"…\" so that none overlaps another or leaves the page.\n"
    "\n"
    "heatmap (default): success rate in viridis (colour-blind-safe), the rate\n"
    "and connected/trials printed in each cell. --rows and --cols as in `punchlab\n"
    "table` (os_a, os_b, topology, hairpin, nat, ...); by default the two fields\n"
    "with the most distinct values. One panel per combination of the other\n"
    "fields that vary, panels in a grid, a colour legend.\n"
    "\n"
    "curve: success rate with Wilson 95 % bars against a numeric field (--x,\n"
    "default skew_ms: delay_ms, background_a, ...), one series per combination\n"
    "of the other fields, each with its colour and marker shape.\n";

static int plot_args(int argc, char *argv[], struct plot_opts *o, const char **out)
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"kind", required_argument, NULL, 'k'},
	    {"x", required_argument, NULL, 'x'},
	    {"rows", required_argument, NULL, 'r'},
	    {"cols", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	const char *kind = "heatmap";
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			*out = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'x':
			o->x = optarg;
			break;
		case 'r':
			o->rows = optarg;
			break;
		case 'c':
			o->cols = optarg;
			break;
		case 'h':
			return cmd_help(plot_usage);
		default:
			return cmd_usage_error(plot_usage);
		}
	}
	if (argc - optind != 1 || !*out || (strcmp(kind, "heatmap") && strcmp(kind, "curve")) ||
	    !o->rows != !o->cols)
		return cmd_usage_error(plot_usage);
	o->kind = strcmp(kind, "curve") ? PK_HEATMAP : PK_CURVE;
	return -1;
}

struct plot_file {
	const struct plot_opts *o;
	enum fig_format fmt;
	const char *name;
};

static int plot_file_write(const struct results *res, FILE *f, void *arg, struct perr *err)
{
	const struct plot_file *pf = arg;
	return plot_write(res, pf->o, pf->fmt, f, pf->name, err);
}

int plot_main(int argc, char *argv[])
{
	struct plot_opts o = {.kind = PK_HEATMAP, .x = "skew_ms"};
	const char *out = NULL;
	enum fig_format fmt;
	struct perr err;
	int rc = plot_args(argc, argv, &o, &out);
	if (rc >= 0)
		return rc;
	if (fig_format_of(out, &fmt) < 0) {
		/* what cannot be written is refused as such first (/dev/full) */
		if (outfile_check_target(out, &err) < 0) {
			fprintf(stderr, "punchlab plot: %s\n", err.msg);
			return EXIT_FAIL;
		}
		fprintf(stderr, "punchlab plot: %s: the name must end in .svg, .pdf or .png\n",
			out);
		return EXIT_USAGE;
	}
	if (o.rows &&
	    (table_check_field(o.rows, &err) < 0 || table_check_field(o.cols, &err) < 0)) {
		fprintf(stderr, "punchlab plot: %s\n", err.msg);
		return EXIT_USAGE;
	}
	struct results *res;
	if (cmd_load_results(argv[optind], &res) != EXIT_OK)
		return EXIT_FAIL;
	struct plot_file pf = {&o, fmt, out};
	return cmd_write_file(argv[0], out, res, plot_file_write, &pf);
}
