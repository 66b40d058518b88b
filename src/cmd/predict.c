// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "predict.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char predict_usage[] =
    "usage: punchlab predict FILE... [--heuristic NAME|all] [--k 1,2,4,8] [--dump]\n"
    "\n"
    "Replays recorded sequences of observed external ports through each\n"
    "heuristic: at every position of a sequence after its first, the heuristic\n"
    "predicts from the ports before it. Prints hit@k (the actual port among the\n"
    "first k candidates) and the mean distance of the best guess, one row per\n"
    "heuristic and source. FILEs are results files (each trial's rounds of ports\n"
    "S saw, plus the punch's port) or trace files (docs/traces.md; a corpus is in\n"
    "experiments/traces/). --dump prints the sequences in the trace format.\n";

/* --k 1,2,4,8 into KS; -1 if it is not 1 to 16 ascending numbers from 1 to
 * 64, each followed by a comma but the last. */
static int predict_ks(const char *s, int ks[16], int *nk)
{
	const char *p = s;
	char *end;

	*nk = 0;
	for (;;) {
		long v = strtol(p, &end, 10);
		if (end == p || !isdigit((unsigned char)*p) || v < 1 || v > 64 ||
		    (*nk && v <= ks[*nk - 1]) || *nk == 16 || (*end && *end != ','))
			break;
		ks[(*nk)++] = (int)v;
		if (!*end)
			return 0;
		p = end + 1;
	}
	fprintf(stderr,
		"punchlab predict: --k wants 1 to 16 ascending numbers from 1 to 64, like "
		"1,2,4,8, not \"%s\"\n",
		s);
	return -1;
}

int predict_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"heuristic", required_argument, NULL, 'H'},
	    {"k", required_argument, NULL, 'k'},
	    {"dump", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	const char *heur = "all";
	int ks[PREDICT_MAX_K] = {1, 2, 4, 8}, nk = 4, opt;
	bool dump = false;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			heur = optarg;
			break;
		case 'k':
			if (predict_ks(optarg, ks, &nk) < 0)
				return EXIT_USAGE;
			break;
		case 'd':
			dump = true;
			break;
		case 'h':
			return cmd_help(predict_usage);
		default:
			return cmd_usage_error(predict_usage);
		}
	}
	if (optind == argc || !nk)
		return cmd_usage_error(predict_usage);
	struct predict *p;
	struct perr err;
	int rc = EXIT_OK;
	if (predict_new(heur, ks, nk, &p, &err) < 0) {
		fprintf(stderr, "punchlab predict: %s\n", err.msg);
		return EXIT_USAGE;
	}
	/* each file is scored as it is read (a results file or a trace file:
	 * predict_add_file tells them apart), so none is held whole */
	for (int i = optind; i < argc && rc == EXIT_OK; i++)
		if (predict_add_file(p, argv[i], dump ? stdout : NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			rc = EXIT_FAIL;
		}
	if (rc == EXIT_OK && !dump)
		predict_report(p, stdout);
	predict_free(p);
	return rc;
}
