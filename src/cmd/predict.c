// SPDX-License-Identifier: MIT
#include "predict.h"
#include "commands.h"
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

int predict_main(int argc, char *argv[])
{
	const char *heur = "all";
	int ks[PREDICT_MAX_K] = {1, 2, 4, 8}, nk = 4;
	bool dump = false;
	struct perr err;
	const char **files = calloc((size_t)argc + 1, sizeof(char *));
	int nfiles = 0, rc = EXIT_USAGE;

	for (int i = 1; files && i < argc; i++) {
		if (!strcmp(argv[i], "--heuristic") && i + 1 < argc) {
			heur = argv[++i];
		} else if (!strcmp(argv[i], "--k") && i + 1 < argc) {
			nk = 0;
			for (char *p = argv[++i], *end; *p && nk < PREDICT_MAX_K;
			     p = *end ? end + 1 : end) {
				long v = strtol(p, &end, 10);
				if (end == p || v < 1 || v > 64 || (nk && v <= ks[nk - 1]) ||
				    (*end && *end != ',')) {
					fprintf(stderr, "punchlab predict: --k wants ascending "
							"numbers 1 to 64, "
							"like 1,2,4,8\n");
					free(files);
					return EXIT_USAGE;
				}
				ks[nk++] = (int)v;
			}
		} else if (!strcmp(argv[i], "--dump")) {
			dump = true;
		} else if (argv[i][0] != '-') {
			files[nfiles++] = argv[i];
		} else {
			nfiles = 0;
			break;
		}
	}
	if (!nfiles || !nk) {
		fputs(predict_usage, stderr);
		free(files);
		return EXIT_USAGE;
	}
	struct predict *p;
	if (predict_new(heur, ks, nk, &p, &err) < 0) {
		fprintf(stderr, "punchlab predict: %s\n", err.msg);
		free(files);
		return EXIT_USAGE;
	}
	rc = EXIT_OK;
	for (int i = 0; i < nfiles && rc == EXIT_OK; i++)
		if (predict_add_file(p, files[i], dump ? stdout : NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			rc = EXIT_FAIL;
		}
	if (rc == EXIT_OK && !dump)
		predict_report(p, stdout);
	predict_free(p);
	free(files);
	return rc;
}
