// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "lab/lab.h"
#include "commands.h"
#include "run/runner.h"
#include "run/suite.h"
#include "util/fs.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char run_usage[] =
    "usage: punchlab run SUITE [-o DIR] [-j N] [--trials N] [--pcap DIR] [--shard K/N]\n"
    "                    [--resume FILE] [--fresh-labs] [--dry-run] [--quiet]\n"
    "\n"
    "Runs an experiment suite (docs/suite.md): for each cell, its topology is\n"
    "brought up once, the trials run inside it (server, proxies and peers as\n"
    "threads in their namespaces, conntrack emptied between trials), and it is\n"
    "taken down, unless the lab's next cell needs the same lab (the same topology,\n"
    "NAT, hairpin and delays: the OS profiles, method or heuristic may differ):\n"
    "that cell gets it, its NATs emptied and the last cell's host rules, server\n"
    "and hosts gone; --fresh-labs builds a lab for every cell instead.\n"
    "-j N runs N labs side by side: N cells at once, and with more\n"
    "labs than cells left, a cell's trials in slices of at least 25, each in a\n"
    "lab of its own (its hosts' allocators start afresh). The results go\n"
    "to DIR (default results/runs), never over another run (docs/results.md):\n"
    "every trial is appended to SUITE-STAMP.trials.ndjson as it ends, and\n"
    "SUITE-STAMP.json, the cells' summaries, is written at the end; a table of\n"
    "the cells follows on stdout. SIGINT or SIGTERM finishes the trial under way\n"
    "and writes the results so far, marked interrupted. --resume FILE continues\n"
    "a run of the same suite from its .json, or from the .trials.ndjson a killed\n"
    "run left (its trials stay; each cell runs the trials it lacks, on fresh\n"
    "hosts). --shard K/N runs the cells whose index modulo N is K-1, the\n"
    "same on every machine; `punchlab merge` joins the shards' files. --dry-run\n"
    "checks what the run would (each cell's topology loads with the roles\n"
    "server, peer-a and peer-b) and lists the cells it would run, with --shard\n"
    "and --trials applied, building nothing; it does not take --resume.\n"
    "Every trial records the SYNs and RSTs that libpcap saw on each NAT's outside\n"
    "interface (the peers' with no NAT), the external port each NAT used, and\n"
    "whether the two SYNs crossed; --pcap DIR also writes the packets, one\n"
    ".pcap file per cell and capture point, for tcpdump, tshark or Wireshark.\n";

/* What a run of S under O would do, checked as run_suite checks it. */
static int dry_run(const struct suite *s, const struct run_opts *o)
{
	struct perr err;
	if (run_check(s, o, &err) < 0) {
		fprintf(stderr, "punchlab run: %s\n", err.msg);
		return EXIT_FAIL;
	}
	int n = run_shard_cells(s, o), trials = run_trials(s, o);
	printf("%s: %d cells", s->path, n);
	if (o->shard_n)
		printf(" (shard %d/%d of %d)", o->shard_k, o->shard_n, s->ncells);
	printf(" x %d trials = %lld trials, up to %d rounds of %d probes, seed %llu\n", trials,
	       (long long)n * trials, s->rounds, s->probes, (unsigned long long)s->seed);
	if (s->description) {
		fputs("  ", stdout);
		cmd_put_text(stdout, s->description);
		putchar('\n');
	}
	for (int i = 0; i < s->ncells; i++) {
		if (!run_in_shard(o, i))
			continue;
		char *f = json_dumps(s->cells[i].fields, JSON_COMPACT | JSON_SORT_KEYS);
		printf("%-12s %s\n", s->cells[i].id, f ? f : "?");
		free(f);
	}
	return EXIT_OK;
}

/* --shard K/N: two whole numbers, 1 <= K <= N, and nothing else. */
static int parse_shard(const char *s, int *k, int *n)
{
	char *end;
	errno = 0;
	long kk = s[0] >= '0' && s[0] <= '9' ? strtol(s, &end, 10) : 0;
	if (!kk || *end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	long nn = strtol(end + 1, &end, 10);
	if (*end || errno || kk < 1 || nn > 100000 || kk > nn)
		return -1;
	*k = (int)kk;
	*n = (int)nn;
	return 0;
}

/* What the command line asked for, beyond struct run_opts. */
struct run_args {
	struct run_opts o;
	bool dry, quiet;
	const char *resume;
};

/* The value of option OPT into A: 0, or the exit code when it is wrong. */
static int run_opt(int opt, const char *prog, struct run_args *a)
{
	switch (opt) {
	case 'n':
		a->dry = true;
		return 0;
	case 'q':
		a->quiet = true;
		return 0;
	case 'o':
		a->o.outdir = optarg;
		return 0;
	case 'j':
		if (cmd_int_arg(prog, "-j", optarg, 1, 64, &a->o.jobs) < 0)
			return EXIT_USAGE;
		return 0;
	case 't':
		if (cmd_int_arg(prog, "--trials", optarg, 1, 1000000, &a->o.trials) < 0)
			return EXIT_USAGE;
		return 0;
	case 's':
		if (parse_shard(optarg, &a->o.shard_k, &a->o.shard_n) < 0) {
			fprintf(stderr,
				"%s: --shard wants K/N with 1 <= K <= N <= 100000, not \"%s\"\n",
				prog, optarg);
			return EXIT_USAGE;
		}
		return 0;
	case 'r':
		a->resume = optarg;
		return 0;
	case 'p':
		a->o.pcap_dir = optarg; /* created when the run starts: a dry run makes nothing */
		return 0;
	case 'F':
		a->o.fresh_labs = true;
		return 0;
	}
	return EXIT_USAGE;
}

/* The command line, recorded in the results' metadata: "punchlab run ...". */
static void run_cmdline(int argc, char *argv[], char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < argc && n < len - 2; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", argv[i]);
}

int run_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"dry-run", no_argument, NULL, 'n'},
	    {"trials", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"shard", required_argument, NULL, 's'},
	    {"resume", required_argument, NULL, 'r'},
	    {"pcap", required_argument, NULL, 'p'},
	    {"fresh-labs", no_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	struct run_args a = {.o = {.outdir = "results/runs", .jobs = 1}};
	int opt, rc;

	/* many labs hold many descriptors; punchlab's own go above 1024 (util/fs.h) */
	fd_raise_limit();

	optind = 0;
	while ((opt = getopt_long(argc, argv, "ho:j:", opts, NULL)) != -1) {
		if (opt == 'h')
			return cmd_help(run_usage);
		if (opt == '?')
			return cmd_usage_error(run_usage);
		if ((rc = run_opt(opt, argv[0], &a)) != 0)
			return rc;
	}
	if (optind != argc - 1)
		return cmd_usage_error(run_usage);
	if (a.dry && a.resume) {
		fprintf(stderr, "%s: --dry-run lists a fresh run; it does not take --resume\n",
			argv[0]);
		return EXIT_USAGE;
	}
	struct suite *s;
	struct perr err;
	if (suite_load(argv[optind], &s, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_FAIL;
	}
	if (a.dry) {
		rc = dry_run(s, &a.o);
		suite_free(s);
		return rc;
	}
	if (a.o.pcap_dir && mkdir_p(a.o.pcap_dir) < 0) {
		fprintf(stderr, "%s: cannot create %s: %s\n", argv[0], a.o.pcap_dir,
			strerror(errno));
		suite_free(s);
		return EXIT_FAIL;
	}
	a.o.resume = a.resume; /* checked by the runner: a run of this suite? */
	char cmdline[1024], path[4096];
	run_cmdline(argc, argv, cmdline, sizeof(cmdline));
	a.o.command_line = cmdline;
	a.o.progress = !a.quiet && isatty(2);
	a.o.stop = cmd_stop_on_signal();
	lab_set_stop(a.o.stop); /* a cell's lab being built stops where it is */
	struct results *res;
	rc = run_suite(s, &a.o, path, sizeof(path), &res, &err);
	suite_free(s);
	if (rc < 0) {
		fprintf(stderr, "punchlab run: %s\n", err.msg);
		return EXIT_FAIL;
	}
	cmd_show_results(res, path, !a.quiet,
			 rc == 1 ? "interrupted; results so far in " : "results: ");
	results_free(res);
	return rc == 1 ? 130 : EXIT_OK;
}
