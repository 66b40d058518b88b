// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "punch/rendezvous.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

const char rendezvous_usage[] =
    "usage: punchlab rendezvous --server ADDR:PORT --session TOKEN --role a|b\n"
    "                           [--method predict|reuse] [--os PROFILE] [--probes N]\n"
    "                           [--seed N] [--wait-ms MS]\n"
    "\n"
    "The peer's probes and signalling with S, for a program that is not punchlab:\n"
    "it stops at S's punch and prints what the program must do as shell variable\n"
    "assignments (values single-quoted, safe to eval), then an export line:\n"
    "  PUNCHLAB_LOCAL_PORT   the local port to bind (0: any, the kernel picks)\n"
    "  PUNCHLAB_LOCAL_ADDR   this host's address towards S\n"
    "  PUNCHLAB_REMOTE       ADDR:PORT to connect to (S's best candidate)\n"
    "  PUNCHLAB_REMOTE_ADDR, PUNCHLAB_REMOTE_PORT, PUNCHLAB_REMOTE_PORTS (all candidates)\n"
    "  PUNCHLAB_GO_AT        when to connect: wall-clock seconds since the epoch\n"
    "  PUNCHLAB_ROLE, PUNCHLAB_METHOD\n"
    "A two-line wrapper:\n"
    "  eval \"$(punchlab rendezvous --server \"$PUNCHLAB_SERVER\" --session ...)\"\n"
    "  socat TCP:$PUNCHLAB_REMOTE,bind=:$PUNCHLAB_LOCAL_PORT,reuseaddr -\n"
    "With --method reuse (P2PNAT) the local port is the one S saw its probe come\n"
    "from; with predict, the next port of --os's allocator (none: 0). One round;\n"
    "the local port is free for the program when it exits. See docs/protocol.md.\n"
    "Exit: 0 with the variables on stdout, 1 on failure (said on stderr), 2 usage.\n";

static int rdv_opt(int opt, const char *prog, struct peer_config *c)
{
	switch (opt) {
	case 'm':
		/* stunt1's TTL trick and relay's line need punchlab's own peer */
		if (punch_method_parse(optarg, &c->method) < 0 ||
		    (c->method != METHOD_PREDICT && c->method != METHOD_REUSE)) {
			fprintf(stderr,
				"%s: --method wants predict or reuse (a program can follow them), "
				"not \"%s\"\n",
				prog, optarg);
			return -1;
		}
		return 0;
	case 'w':
		return cmd_int_arg(prog, "--wait-ms", optarg, 100, 600000, &c->wait_timeout_ms);
	}
	return peer_common_opt(opt, prog, c); /* --server, --session, --role, --os, --probes, --seed */
}

int rendezvous_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"server", required_argument, NULL, 's'},
	    {"session", required_argument, NULL, 'S'},
	    {"role", required_argument, NULL, 'r'},
	    {"method", required_argument, NULL, 'm'},
	    {"os", required_argument, NULL, 'o'},
	    {"probes", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 'e'},
	    {"wait-ms", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct peer_config c;
	bool have_server = false, have_session = false;
	int opt;

	peer_config_defaults(&c);
	c.rounds = 1;
	if (getrandom(&c.seed, sizeof(c.seed), 0) != sizeof(c.seed))
		c.seed = 1;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h')
			return cmd_help(rendezvous_usage);
		if (opt == '?')
			return cmd_usage_error(rendezvous_usage);
		if (rdv_opt(opt, argv[0], &c) < 0)
			return EXIT_USAGE;
		have_server |= opt == 's';
		have_session |= opt == 'S';
	}
	if (!have_server || !have_session || !c.role || optind != argc)
		return cmd_usage_error(rendezvous_usage);
	signal(SIGPIPE, SIG_IGN);
	struct rdv_outcome o;
	char err[512];
	if (rdv_run(&c, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "punchlab rendezvous: %s\n", err);
		return EXIT_FAIL;
	}
	char *text = rdv_format(&o);
	if (!text) {
		fprintf(stderr, "punchlab rendezvous: out of memory\n");
		return EXIT_FAIL;
	}
	fputs(text, stdout);
	free(text);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("punchlab rendezvous: stdout");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
