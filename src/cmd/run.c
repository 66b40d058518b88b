// SPDX-License-Identifier: MIT
#include "commands.h"
#include "run/suite.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char run_usage[] =
	"usage: punchlab run --dry-run SUITE\n"
	"\n"
	"Expands an experiment suite (docs/suite.md) and lists its cells: the\n"
	"cross product of the matrix, with the include list added and the exclude\n"
	"list removed, each cell with its stable id. Errors in the suite come as\n"
	"FILE:LINE:COL: what is wrong.\n"
	"(Running the trials is the experiment runner's next step; it is not here yet.)\n";

static void print_cells(const struct suite *s)
{
	printf("%s: %d cells x %d trials, up to %d rounds of %d probes, seed %llu\n", s->path,
	       s->ncells, s->trials, s->rounds, s->probes, (unsigned long long)s->seed);
	if (s->description)
		printf("  %s\n", s->description);
	for (int i = 0; i < s->ncells; i++) {
		char *f = json_dumps(s->cells[i].fields, JSON_COMPACT | JSON_SORT_KEYS);
		printf("%-12s %s\n", s->cells[i].id, f);
		free(f);
	}
}

int run_main(int argc, char *argv[])
{
	const char *file = NULL;
	bool dry = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			dry = true;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			fputs(run_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!file) {
		fputs(run_usage, stderr);
		return EXIT_USAGE;
	}
	struct suite *s;
	struct perr err;
	if (suite_load(file, &s, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_FAIL;
	}
	int rc = EXIT_OK;
	if (dry) {
		print_cells(s);
	} else {
		fprintf(stderr, "punchlab run: running trials is not implemented yet; "
				"--dry-run lists the cells\n");
		rc = EXIT_FAIL;
	}
	suite_free(s);
	return rc;
}
