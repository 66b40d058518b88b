// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "punch/method.h"
#include "punch/relay.h"
#include <errno.h>
#include <pthread.h>
#include "punch/server.h"
#include "util/endpoint.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char server_usage[] =
    "usage: punchlab server --listen ADDR:PORT [--heuristic NAME|'exec:PROGRAM [ARGS...]']\n"
    "                       [--heuristic-timeout MS] [--guesses K] [--quiet] [--go-ms MS]\n"
    "                       [--max-rounds R] [--idle-ms MS] [--session-ttl-ms MS]\n"
    "                       [--max-per-addr N] [--max-conns N] [--max-sessions N] [--seed N]\n"
    "                       [--method NAME]\n"
    "\n"
    "The rendezvous server S (docs/protocol.md). It learns each peer's external\n"
    "ports from its probes, predicts the next one with the heuristic (default\n"
    "delta; `--heuristic help` lists them), sends each peer K candidates for the\n"
    "other and the moment to go, and repeats on failure. `exec:PROGRAM ARGS...`\n"
    "(one argument, its words split on spaces) runs an external heuristic: one\n"
    "JSON line per prediction on its stdin, one back, within --heuristic-timeout\n"
    "(default 50 ms), else the round fails with heuristic-error (docs/heuristics.md).\n"
    "--method reuse serves P2PNAT's port-reusing peers (`peer --method reuse`),\n"
    "--method stunt1 the low-TTL SYN's: their punch goes to the very port S saw,\n"
    "so S names it (the heuristic `preserve`; another --heuristic is refused).\n"
    "--method relay also runs the relay (like TURN over TCP, RFC 6062) on the\n"
    "same address, port + 1: it joins the two peers' connections and copies\n"
    "their bytes (docs/protocol.md).\n"
    "One JSON line per event\n"
    "on stderr unless --quiet. Port 0 picks a free port (printed in the listen event).\n"
    "Defaults: go twice the larger peer round trip + 2 ms after the punch (or\n"
    "--go-ms), 10 rounds at most, idle 10 s, sessions\n"
    "120 s, 64 connections per address, 16384 connections, 100000 sessions.\n";

/* --heuristic NAME into C; "help" lists them. -1 to go on, else the exit code. */
static int server_heuristic(const char *name, struct srv_config *c, const char **exec)
{
	char err[160], words[1024], *argv[HEURX_MAX_ARGS + 1];

	if (heurx_is_spec(name)) {
		if (heurx_parse_spec(name, words, sizeof(words), argv, err, sizeof(err)) < 0) {
			fprintf(stderr, "punchlab server: --heuristic \"%s\": %s\n", name, err);
			return EXIT_USAGE;
		}
		*exec = name;
		return -1;
	}
	*exec = NULL;
	c->heuristic = heuristic_by_name(name);
	if (c->heuristic)
		return -1;
	if (!strcmp(name, "help")) {
		for (size_t i = 0; heuristics[i]; i++)
			printf("%-11s %s\n", heuristics[i]->name, heuristics[i]->help);
		printf("%-11s %s\n", "exec:PROG",
		       "an external program, PROG ARGS... (docs/heuristics.md)");
		return EXIT_OK;
	}
	fprintf(stderr, "punchlab server: unknown heuristic \"%s\" (known: %s)\n", name,
		heuristic_names());
	return EXIT_USAGE;
}

/* The options whose value is a number in a range: into their field of C. */
static int server_int_opt(int opt, const char *prog, struct srv_config *c, int *timeout_ms)
{
	const struct cmd_int_opt ints[] = {
	    {'k', "--guesses", 1, 16, &c->guesses},
	    {'g', "--go-ms", 0, 60000, &c->go_ms},
	    {'r', "--max-rounds", 1, 1000, &c->max_rounds},
	    {'i', "--idle-ms", 100, 3600000, &c->idle_ms},
	    {'t', "--session-ttl-ms", 100, 86400000, &c->session_ttl_ms},
	    {'a', "--max-per-addr", 1, 1000000, &c->max_per_addr},
	    {'c', "--max-conns", 1, 1000000, &c->max_conns},
	    {'s', "--max-sessions", 1, 10000000, &c->max_sessions},
	    {'T', "--heuristic-timeout", 1, 60000, timeout_ms},
	};
	return cmd_int_opts(prog, opt, optarg, ints, sizeof(ints) / sizeof(ints[0]));
}

/* Starts the external heuristic EXEC (if any), then serves. */
/* --method relay: the relay beside S, in a thread of its own */
struct relay_thread {
	pthread_t t;
	struct relay_config rc;
	volatile sig_atomic_t *stop;
	uint16_t port;
	int rv;
};

static void *relay_main(void *arg)
{
	struct relay_thread *r = arg;
	r->rv = relay_run(&r->rc, r->stop, &r->port);
	return NULL;
}

static int server_serve(struct srv_config *c, const char *listen_s, const char *exec,
			int timeout_ms, bool relay)
{
	char err[512];
	volatile sig_atomic_t *stop = cmd_stop_on_signal();
	struct relay_thread r = {.rc = {.listen = c->listen, .log = c->log}, .stop = stop};

	if (exec && heurx_start(exec, timeout_ms, &c->exec, err, sizeof(err)) < 0) {
		fprintf(stderr, "punchlab server: cannot start the heuristic \"%s\": %s\n", exec,
			err);
		return EXIT_FAIL;
	}
	/* on S's address, S's port + 1: where `peer --method relay` looks */
	if (ntohs(c->listen.sin_port))
		r.rc.listen.sin_port = htons((uint16_t)(ntohs(c->listen.sin_port) + 1));
	if (relay && (errno = pthread_create(&r.t, NULL, relay_main, &r))) {
		fprintf(stderr, "punchlab server: cannot start the relay: %s\n", strerror(errno));
		heurx_free(c->exec);
		return EXIT_FAIL;
	}
	int rc = srv_run(c, stop, NULL);
	if (relay) {
		*stop = 1;
		pthread_join(r.t, NULL);
		if (r.rv < 0)
			fprintf(stderr, "punchlab server: the relay could not listen: %s\n",
				strerror(-r.rv));
	}
	heurx_free(c->exec);
	if (rc < 0) {
		fprintf(stderr, "punchlab server: cannot listen on %s: %s\n", listen_s,
			strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int server_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"listen", required_argument, NULL, 'l'},
	    {"heuristic", required_argument, NULL, 'H'},
	    {"heuristic-timeout", required_argument, NULL, 'T'},
	    {"guesses", required_argument, NULL, 'k'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"go-ms", required_argument, NULL, 'g'},
	    {"max-rounds", required_argument, NULL, 'r'},
	    {"idle-ms", required_argument, NULL, 'i'},
	    {"session-ttl-ms", required_argument, NULL, 't'},
	    {"max-per-addr", required_argument, NULL, 'a'},
	    {"max-conns", required_argument, NULL, 'c'},
	    {"max-sessions", required_argument, NULL, 's'},
	    {"seed", required_argument, NULL, 'S'},
	    {"method", required_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	struct srv_config c;
	const char *listen_s = NULL, *exec = NULL;
	int opt, rc, timeout_ms = HEURX_DEFAULT_TIMEOUT_MS;
	bool heuristic_given = false;
	const struct punch_method_ops *method = &method_predict;

	srv_config_defaults(&c);
	c.log = stderr;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (cmd_endpoint_arg(argv[0], "--listen", optarg, true, &c.listen) < 0)
				return EXIT_USAGE;
			listen_s = optarg;
			break;
		case 'H':
			if ((rc = server_heuristic(optarg, &c, &exec)) >= 0)
				return rc;
			heuristic_given = true;
			break;
		case 'm':
			if (!(method = method_by_name(optarg))) {
				fprintf(stderr, "%s: unknown method \"%s\" (known: %s)\n", argv[0],
					optarg, method_names());
				return EXIT_USAGE;
			}
			break;
		case 'q':
			c.log = NULL;
			break;
		case 'S':
			if (cmd_u64_arg(argv[0], "--seed", optarg, &c.seed) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(server_usage);
		case '?':
			return cmd_usage_error(server_usage);
		default:
			if (server_int_opt(opt, argv[0], &c, &timeout_ms) < 0)
				return EXIT_USAGE;
		}
	}
	if (!listen_s || optind != argc)
		return cmd_usage_error(server_usage);
	if (method->server_heuristic && heuristic_given) {
		fprintf(stderr, "%s: --method %s takes S's heuristic %s: it takes no --heuristic\n",
			argv[0], method->name, method->server_heuristic);
		return EXIT_USAGE;
	}
	if (method->server_heuristic)
		c.heuristic = heuristic_by_name(method->server_heuristic);
	return server_serve(&c, listen_s, exec, timeout_ms, method->connect_other != NULL);
}
