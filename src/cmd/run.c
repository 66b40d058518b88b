// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "run/runner.h"
#include "run/suite.h"
#include "util/fs.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char run_usage[] =
    "usage: punchlab run SUITE [-o DIR] [-j N] [--trials N] [--pcap DIR] [--shard K/N]\n"
    "                    [--resume FILE] [--dry-run] [--quiet]\n"
    "\n"
    "Runs an experiment suite (docs/suite.md): for each cell, its topology is\n"
    "brought up once, the trials run inside it (server, proxies and peers as\n"
    "threads in their namespaces, conntrack emptied between trials), and it is\n"
    "taken down. -j N runs N cells side by side in separate labs. The results go\n"
    "to one new file in DIR (default results/runs), written atomically and never\n"
    "over another (docs/results.md); a table of the cells follows on stdout.\n"
    "SIGINT or SIGTERM finishes the trial under way and writes the results so\n"
    "far, marked interrupted; --resume FILE continues such a run (its trials\n"
    "stay; each cell goes on from where it stopped, on fresh hosts). --shard K/N\n"
    "runs the cells whose index modulo N is K-1, the same on every machine;\n"
    "`punchlab merge` joins the shards' files. --dry-run lists the cells.\n"
    "Every trial records the SYNs and RSTs that libpcap saw on each NAT's outside\n"
    "interface (the peers' with no NAT), the external port each NAT used, and\n"
    "whether the two SYNs crossed; --pcap DIR also writes the packets, one\n"
    ".pcap file per cell and capture point, for tcpdump, tshark or Wireshark.\n";

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
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"trials", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"shard", required_argument, NULL, 's'},
	    {"resume", required_argument, NULL, 'r'},
	    {"pcap", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	struct run_opts o = {.outdir = "results/runs", .jobs = 1};
	bool dry = false, quiet = false;
	const char *resume = NULL;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:j:", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'n':
			dry = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'o':
			o.outdir = optarg;
			break;
		case 'j':
			o.jobs = (int)strtol(optarg, &end, 10);
			if (*end || o.jobs < 1 || o.jobs > 64) {
				fprintf(stderr, "punchlab run: -j wants 1 to 64\n");
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (sscanf(optarg, "%d/%d", &o.shard_k, &o.shard_n) != 2 || o.shard_n < 1 ||
			    o.shard_k < 1 || o.shard_k > o.shard_n) {
				fprintf(stderr,
					"punchlab run: --shard wants K/N with 1 <= K <= N\n");
				return EXIT_USAGE;
			}
			break;
		case 'r':
			resume = optarg;
			break;
		case 'p':
			if (mkdir_p(optarg) < 0) {
				fprintf(stderr, "punchlab run: cannot create %s: %s\n", optarg,
					strerror(errno));
				return EXIT_FAIL;
			}
			o.pcap_dir = optarg;
			break;
		case 't':
			o.trials = (int)strtol(optarg, &end, 10);
			if (*end || o.trials < 1 || o.trials > 1000000) {
				fprintf(stderr, "punchlab run: --trials wants 1 to 1000000\n");
				return EXIT_USAGE;
			}
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(run_usage, stderr);
		return EXIT_USAGE;
	}
	struct suite *s;
	struct perr err;
	if (suite_load(argv[optind], &s, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_FAIL;
	}
	if (dry) {
		print_cells(s);
		suite_free(s);
		return EXIT_OK;
	}
	if (resume) {
		if (cmd_load_results(resume, &o.resume) != EXIT_OK) {
			suite_free(s);
			return EXIT_FAIL;
		}
		const char *h = json_string_value(
		    json_object_get(json_object_get(o.resume, "suite"), "sha256"));
		if (!h || strcmp(h, s->hash)) {
			fprintf(stderr,
				"punchlab run: %s is a run of another suite (or of another version "
				"of %s)\n",
				resume, argv[optind]);
			json_decref(o.resume);
			suite_free(s);
			return EXIT_FAIL;
		}
	}
	char cmdline[1024] = "punchlab";
	size_t n = strlen(cmdline);
	for (int i = 0; i < argc && n < sizeof(cmdline) - 2; i++)
		n += (size_t)snprintf(cmdline + n, sizeof(cmdline) - n, " %s", argv[i]);
	o.command_line = cmdline;
	o.progress = !quiet && isatty(2);
	o.stop = cmd_stop_on_signal();
	char path[4096];
	int rc = run_suite(s, &o, path, sizeof(path), &err);
	suite_free(s);
	json_decref(o.resume);
	if (rc < 0) {
		fprintf(stderr, "punchlab run: %s\n", err.msg);
		return EXIT_FAIL;
	}
	cmd_show_results(path, !quiet, rc == 1 ? "interrupted; results so far in " : "results: ");
	return rc == 1 ? 130 : EXIT_OK;
}
