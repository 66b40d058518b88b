// SPDX-License-Identifier: MIT
#include "commands.h"
#include "punch/peer.h"
#include "util/endpoint.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

const char peer_usage[] =
    "usage: punchlab peer --server ADDR:PORT --session TOKEN --role a|b [--os PROFILE]\n"
    "                     [--background-rate R] [--seed N] [--proxy ADDR:PORT] [--probes N]\n"
    "                     [--rounds R] [--bytes N] [--attempt-ms MS]\n"
    "\n"
    "The connect-only peer. It probes S, waits for the punch, connect()s to the\n"
    "other's predicted endpoint at the given moment, checks the other side with\n"
    "the session nonce, exchanges --bytes each way, and prints one JSON result\n"
    "line. Without --os (or with native) it never bind()s; with a profile, the\n"
    "profile's port allocator plays the kernel (`--os help` lists them). With\n"
    "--proxy every outside connection goes through that SOCKS5 proxy.\n"
    "Defaults: 3 probes, 3 rounds, 1024 bytes; an attempt lasts eight round trips\n"
    "to S and 30 ms, at least 50 ms (--attempt-ms sets it).\n"
    "Exit: 0 connected, 1 not, 2 usage.\n";

static void os_help(void)
{
	printf("%-12s %-13s %s\n", "PROFILE", "RANGE", "RULE / SOURCE");
	for (size_t i = 0; os_profiles[i]; i++) {
		const struct os_ops *o = os_profiles[i];
		char range[24] = "kernel's";
		if (o->next)
			snprintf(range, sizeof(range), "%u-%u", o->lo, o->hi);
		printf("%-12s %-13s %s\n%-26s source: %s%s\n", o->name, range, o->rule, "",
		       o->source, o->assumed ? " (ASSUMED: not documented)" : "");
	}
}

int peer_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"session", required_argument, NULL, 'S'},
	    {"role", required_argument, NULL, 'r'},
	    {"os", required_argument, NULL, 'o'},
	    {"proxy", required_argument, NULL, 'p'},
	    {"probes", required_argument, NULL, 'n'},
	    {"rounds", required_argument, NULL, 'R'},
	    {"bytes", required_argument, NULL, 'b'},
	    {"seed", required_argument, NULL, 'e'},
	    {"background-rate", required_argument, NULL, 'g'},
	    {"attempt-ms", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct peer_config c;
	bool have_server = false, have_session = false;
	int opt;

	peer_config_defaults(&c);
	if (getrandom(&c.seed, sizeof(c.seed), 0) != sizeof(c.seed))
		c.seed = 1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		long v;
		switch (opt) {
		case 's':
			if (endpoint_parse(optarg, &c.server, 0) < 0)
				goto bad;
			have_server = true;
			break;
		case 'S':
			if (proto_unhex(optarg, c.session, PROTO_TOKEN_LEN) < 0) {
				fprintf(stderr, "punchlab peer: --session wants 32 hex digits\n");
				return EXIT_USAGE;
			}
			have_session = true;
			break;
		case 'r':
			if (strcmp(optarg, "a") && strcmp(optarg, "b"))
				goto bad;
			c.role = optarg[0];
			break;
		case 'o':
			if (!strcmp(optarg, "help")) {
				os_help();
				return EXIT_OK;
			}
			c.os = os_by_name(optarg);
			if (!c.os) {
				fprintf(stderr,
					"punchlab peer: unknown OS profile \"%s\" (known: %s)\n",
					optarg, os_names());
				return EXIT_USAGE;
			}
			break;
		case 'p':
			if (endpoint_parse(optarg, &c.proxy, 0) < 0)
				goto bad;
			c.use_proxy = true;
			break;
		case 'n':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > PROTO_MAX_PROBES)
				goto bad;
			c.probes = (int)v;
			break;
		case 'R':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000)
				goto bad;
			c.rounds = (int)v;
			break;
		case 'b':
			v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > (1 << 30))
				goto bad;
			c.bytes = (int)v;
			break;
		case 'a':
			v = strtol(optarg, &end, 10);
			if (*end || v < 10 || v > 600000)
				goto bad;
			c.attempt_timeout_ms = (int)v;
			break;
		case 'e':
			c.seed = strtoull(optarg, &end, 0);
			if (*end)
				goto bad;
			break;
		case 'g':
			c.background_rate = strtod(optarg, &end);
			if (*end || c.background_rate < 0 || c.background_rate > 1e5)
				goto bad;
			break;
		default:
			return EXIT_USAGE;
		}
		continue;
	bad:
		fprintf(stderr, "punchlab peer: bad value \"%s\" for --%s\n", optarg,
			opts[0].name ? "option" : "");
		return EXIT_USAGE;
	}
	if (!have_server || !have_session || !c.role || optind != argc) {
		fputs(peer_usage, stderr);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	json_t *res = NULL;
	int rc = peer_run(&c, &res);
	json_t *err = json_object_get(res, "error");
	if (err)
		fprintf(stderr, "punchlab peer: %s\n", json_string_value(err));
	json_dumpf(res, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	putchar('\n');
	fflush(stdout);
	json_decref(res);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
