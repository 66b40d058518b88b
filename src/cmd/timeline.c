// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "ladder.h"
#include "table.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char timeline_usage[] =
    "usage: punchlab timeline RESULTS CELL[/TRIAL] [--all]\n"
    "\n"
    "A trial's capture as a ladder in the terminal: one column per capture point,\n"
    "one row per packet (SYN, SYN-ACK, RST, ...) with its time in ms from the\n"
    "trial's start, its endpoints, and when each point saw it (\"seen\" first,\n"
    "then +ms); each peer's predicted and actual external port; for a failed\n"
    "trial the packet that shows why, marked, and a sentence saying so. The\n"
    "probes to and from S are left out unless --all. CELL is a cell's id or a\n"
    "unique start of one. Without /TRIAL: one line per trial of the cell.\n";

struct tl_ctx {
	const struct rcell *cell;
	int trial; /* -1: every trial, one line each */
	bool all, found;
	struct perr *err;
};

static int tl_trial(json_t *trial, const struct rcell *cell, void *ctx)
{
	struct tl_ctx *c = ctx;
	struct ladder l;
	if (cell != c->cell)
		return 0;
	if (c->trial >= 0 && json_integer_value(json_object_get(trial, "trial")) != c->trial)
		return 0;
	if (ladder_build(trial, &l, c->err) < 0)
		return -1;
	c->found = true;
	if (c->trial >= 0) {
		ladder_text(&l, c->all, stdout);
	} else {
		char v[128];
		ladder_verdict(&l, v, sizeof(v));
		printf("%4d  %s%s%s\n", l.trial, v, l.connected ? "" : ": ",
		       l.connected ? "" : l.why);
	}
	ladder_free(&l);
	return c->trial >= 0 ? 1 : 0;
}

/* The cell whose id is, or starts with, ID: NULL when none or several. */
static const struct rcell *find_cell(const struct results *res, const char *id, size_t len)
{
	const struct rcell *found = NULL;
	for (size_t i = 0; i < res->ncells; i++) {
		const struct rcell *c = &res->cells[i];
		if (strlen(c->id) == len && !strncmp(c->id, id, len))
			return c;
		if (!strncmp(c->id, id, len)) {
			if (found)
				return NULL;
			found = c;
		}
	}
	return found;
}

static void cell_header(const struct rcell *c)
{
	const char *k;
	json_t *v;
	int n = 0;
	printf("cell %s:", c->id);
	json_object_foreach(c->fields, k, v)
	{
		if (!strncmp(k, "proxy_", 6))
			continue;
		char *l = table_field_label(c->fields, k);
		printf("%s %s ", n++ ? "," : "", k);
		cmd_put_text(stdout, l ? l : "");
		free(l);
	}
	printf("; %u/%u connected\n", c->k, c->n);
}

static int parse_target(const char *s, const struct results *res, struct tl_ctx *c)
{
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	c->trial = -1;
	if (slash &&
	    cmd_int_arg("punchlab timeline", "TRIAL", slash + 1, 0, 1 << 30, &c->trial) < 0)
		return -1;
	c->cell = len ? find_cell(res, s, len) : NULL;
	if (!c->cell) {
		fprintf(stderr, "punchlab timeline: %s: no cell %.*s (or more than one starts so);",
			res->path, (int)len, s);
		for (size_t i = 0; i < res->ncells && i < 8; i++)
			fprintf(stderr, " %s", res->cells[i].id);
		fprintf(stderr, "%s\n", res->ncells > 8 ? " ..." : "");
		return -1;
	}
	return 0;
}

int timeline_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"all", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct perr err;
	struct tl_ctx c = {.err = &err};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			c.all = true;
			break;
		case 'h':
			return cmd_help(timeline_usage);
		default:
			return cmd_usage_error(timeline_usage);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error(timeline_usage);
	struct results *res;
	if (cmd_load_results(argv[optind], &res) != EXIT_OK)
		return EXIT_FAIL;
	int rc = parse_target(argv[optind + 1], res, &c);
	if (rc == 0) {
		cell_header(c.cell);
		rc = results_foreach_trial(res, 0, tl_trial, &c, &err);
		if (rc < 0)
			fprintf(stderr, "punchlab timeline: %s\n", err.msg);
		else if (!c.found)
			fprintf(stderr, "punchlab timeline: %s: cell %s has no trial %d\n",
				res->path, c.cell->id, c.trial);
	}
	results_free(res);
	return rc < 0 || !c.found ? EXIT_FAIL : EXIT_OK;
}
