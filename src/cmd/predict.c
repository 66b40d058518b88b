// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "predict.h"
#include <ctype.h>
#include "punch/heurexec.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char predict_usage[] =
    "usage: punchlab predict [FILE...] [--heuristic NAME|all|'exec:PROGRAM [ARGS...]']...\n"
    "                        [--heuristic-timeout MS] [--k 1,2,4,8] [--dump]\n"
    "\n"
    "Replays recorded sequences of observed external ports through each\n"
    "heuristic: at every position of a sequence after its first, the heuristic\n"
    "predicts from the ports before it. Prints hit@k (the actual port among the\n"
    "first k candidates) and the mean distance of the best guess, one row per\n"
    "heuristic and source. FILEs are results files (each trial's rounds of ports\n"
    "S saw, plus the punch's port) or trace files (docs/traces.md; a corpus is in\n"
    "experiments/traces/). Then, per heuristic and k, the hit rate on each FILE\n"
    "(a corpus) side by side, with its Wilson 95 % interval. Without FILE: the\n"
    "model corpus experiments/traces/os-by-nat.txt and, when it is there, the\n"
    "real-kernel corpus experiments/traces/native-by-nat.txt. --heuristic may be\n"
    "repeated (default: all built-in ones); `exec:PROGRAM ARGS...` is an external\n"
    "heuristic (docs/heuristics.md), each answer within --heuristic-timeout MS\n"
    "(default 50) or a miss. --dump prints the sequences in the trace format.\n";

#define PREDICT_MODEL_CORPUS "experiments/traces/os-by-nat.txt"
#define PREDICT_NATIVE_CORPUS "experiments/traces/native-by-nat.txt"

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

/* Scores every file of FILES (N), or the default corpora when N is 0;
 * prints the tables. */
static int predict_files(struct predict *p, char **files, int n, bool dump)
{
	char *defaults[] = {PREDICT_MODEL_CORPUS, PREDICT_NATIVE_CORPUS};
	struct perr err;
	int rc = EXIT_OK;

	if (!n) {
		files = defaults;
		n = access(PREDICT_NATIVE_CORPUS, R_OK) ? 1 : 2;
	}
	/* each file is scored as it is read (a results file or a trace file:
	 * predict_add_file tells them apart), so none is held whole */
	for (int i = 0; i < n && rc == EXIT_OK; i++)
		if (predict_add_file(p, files[i], dump ? stdout : NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			rc = EXIT_FAIL;
		}
	if (rc == EXIT_OK && !dump)
		predict_report(p, stdout);
	predict_warnings(p, stderr);
	return rc;
}

int predict_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"heuristic", required_argument, NULL, 'H'},
	    {"heuristic-timeout", required_argument, NULL, 'T'},
	    {"k", required_argument, NULL, 'k'},
	    {"dump", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	const char *heur[PREDICT_MAX_HEURISTICS];
	int ks[PREDICT_MAX_K] = {1, 2, 4, 8}, nk = 4, opt, nheur = 0;
	int timeout_ms = HEURX_DEFAULT_TIMEOUT_MS;
	bool dump = false;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			if (nheur == PREDICT_MAX_HEURISTICS) {
				fprintf(stderr, "punchlab predict: at most %d --heuristic\n",
					PREDICT_MAX_HEURISTICS);
				return EXIT_USAGE;
			}
			heur[nheur++] = optarg;
			break;
		case 'T':
			if (cmd_int_arg(argv[0], "--heuristic-timeout", optarg, 1, 60000,
					&timeout_ms) < 0)
				return EXIT_USAGE;
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
	if (!nk)
		return cmd_usage_error(predict_usage);
	struct predict *p;
	struct perr err;
	if (predict_new(heur, nheur, timeout_ms, ks, nk, &p, &err) < 0) {
		fprintf(stderr, "punchlab predict: %s\n", err.msg);
		return EXIT_USAGE;
	}
	int rc = predict_files(p, argv + optind, argc - optind, dump);
	predict_free(p);
	return rc;
}
