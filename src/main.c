// SPDX-License-Identifier: MIT
#include "cmd/commands.h"
#include "lab/lab.h"
#include "version.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct command commands[] = {
    {"topo", topo_main, "build a topology and work inside it (up, down, ls, exec, check)",
     topo_usage, 0},
    {"cleanup", cleanup_main, "remove whatever killed or finished runs left", cleanup_usage, 0},
    {"run", run_main, "run an experiment suite, write its results", run_usage, 0},
    {"table", table_main, "the OS-compatibility table of a results file", table_usage, 0},
    {"diff", diff_main, "the cells that changed significantly between two results", diff_usage, 0},
    {"plot", plot_main, "an SVG heat map or success-rate curve of a results file", plot_usage, 0},
    {"predict", predict_main, "hit@k of every heuristic on recorded port sequences", predict_usage, 0},
    {"export", export_main, "one CSV row per trial, for pandas or R", export_usage, 0},
    {"merge", merge_main, "join the results files of a suite's shards", merge_usage, 0},
    {"server", server_main, "the rendezvous server S", server_usage, 0},
    {"peer", peer_main, "a connect-only peer (with an OS profile, through a proxy)", peer_usage, 0},
    {"proxy", proxy_main, "the local SOCKS5 proxy with predictable ports", proxy_usage, 0},
    {"session", session_main, "ask a server for a new session token", session_usage, 0},
    {"delayq", delayq_main, "(internal) the NFQUEUE delay helper of a lab", delayq_usage, 1},
    {NULL, NULL, NULL, NULL, 0},
};

const struct command *command_by_name(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"punchlab %s: a laboratory for TCP NAT traversal by Simultaneous TCP Open\n\n"
		"usage: punchlab COMMAND [ARGS...]\n\ncommands:\n",
		PUNCHLAB_VERSION);
	for (const struct command *c = commands; c->name; c++)
		if (!c->hidden)
			fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "  %-10s %s\n\n`punchlab help COMMAND` shows a command's options.\n", "help",
		"show the help of a command");
}

int main(int argc, char *argv[])
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = 0;
		lab_set_exe(exe);
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("punchlab %s\n", PUNCHLAB_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return EXIT_OK;
		}
		const struct command *c = command_by_name(argv[2]);
		if (!c) {
			fprintf(stderr, "punchlab: no command \"%s\"\n", argv[2]);
			return EXIT_USAGE;
		}
		fputs(c->usage, stdout);
		return EXIT_OK;
	}
	const struct command *c = command_by_name(argv[1]);
	if (!c) {
		fprintf(stderr, "punchlab: no command \"%s\" (punchlab --help lists them)\n",
			argv[1]);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(c->usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--"))
			break;
	return c->main(argc - 1, argv + 1);
}
