// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "lab/nft.h"
#include "commands.h"
#include "punch/method.h"
#include "punch/peer.h"
#include "util/endpoint.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>

const char peer_usage[] =
    "usage: punchlab peer --server ADDR:PORT --session TOKEN --role a|b [--os PROFILE]\n"
    "                     [--background-rate R] [--background-tcp SHARE]\n"
    "                     [--background-on S --background-off S] [--seed N]\n"
    "                     [--proxy ADDR:PORT] [--probes N] [--rounds R] [--bytes N]\n"
    "                     [--attempt-ms MS] [--method NAME] [--ttl N] [--relay ADDR:PORT]\n"
    "\n"
    "The connect-only peer. It probes S, waits for the punch, connect()s to the\n"
    "other's predicted endpoint at the given moment, checks the other side with\n"
    "the session nonce, exchanges --bytes each way, and prints one JSON result\n"
    "line. Without --os (or with native) it never bind()s; with a profile, the\n"
    "profile's port allocator plays the kernel (`--os help` lists them). With\n"
    "--proxy every outside connection goes through that SOCKS5 proxy.\n"
    "--method reuse is P2PNAT's port reuse (Ford et al. 2005, 4) instead of the\n"
    "paper's prediction: one local port for its single probe (kept open) and its\n"
    "punch, listened on too; S should answer with the port it saw (`server\n"
    "--method reuse`). --method stunt1 is the low-TTL SYN (Guha & Francis 2005):\n"
    "peer A sends its SYN with IP_TTL --ttl (default 2: one hop past its gateway)\n"
    "so that it opens A's NAT and dies before B's; B's SYN, 10 ms later, meets\n"
    "A's socket still in SYN_SENT (A's host ignores the ICMP time-exceeded: an\n"
    "nft rule in its namespace). S answers as for reuse. --method relay meets\n"
    "the other peer at the relay beside S (--relay, default S's address, port\n"
    "+ 1: `server --method relay`). `--method help` lists the methods.\n"
    "Other programs on the host take --background-rate ports a second (a Poisson\n"
    "process), --background-tcp of them TCP (default 1; UDP ones move no TCP\n"
    "counter); with --background-on and --background-off (mean seconds, both\n"
    "> 0) they come in bursts: on and off for exponential times of those means.\n"
    "Defaults: 3 probes, 3 rounds, 1024 bytes; an attempt lasts eight round trips\n"
    "to S and 30 ms, at least 50 ms (--attempt-ms sets it).\n"
    "Exit: 0 connected, 1 not, 2 usage.\n";

static void os_help(void)
{
	int w = (int)strlen("PROFILE");
	for (size_t i = 0; os_profiles[i]; i++)
		if ((int)strlen(os_profiles[i]->name) > w)
			w = (int)strlen(os_profiles[i]->name);
	printf("%-*s %-13s %s\n", w, "PROFILE", "RANGE", "RULE / SOURCE");
	for (size_t i = 0; os_profiles[i]; i++) {
		const struct os_ops *o = os_profiles[i];
		char range[24] = "kernel's";
		if (o->next)
			snprintf(range, sizeof(range), "%u-%u", o->lo, o->hi);
		printf("%-*s %-13s %s\n%-*s source: %s%s\n", w, o->name, range, o->rule, w + 14, "",
		       o->source, o->assumed ? " (ASSUMED: not documented)" : "");
		if (o->quirk_source)
			printf("%-*s quirk: %s\n", w + 14, "", o->quirk_source);
	}
}

/* Loads the nft script RULES into this namespace; OPT VALUE asked for it. */
static int host_rule(const char *rules, const char *opt, const char *value)
{
	char why[1024];
	int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns < 0 || nft_apply_in(ns, rules, why, sizeof(why), NULL) < 0) {
		fprintf(stderr, "punchlab peer: %s %s needs its rule in this namespace: %s\n", opt,
			value, ns < 0 ? strerror(errno) : why);
		if (ns >= 0)
			close(ns);
		return -1;
	}
	close(ns);
	return 0;
}

static void method_help(void)
{
	for (size_t i = 0; punch_methods[i]; i++)
		printf("%-8s %s\n%-8s source: %s\n", punch_methods[i]->name, punch_methods[i]->help,
		       "", punch_methods[i]->citation);
}

/* A number from 0 to MAX into *OUT: 0, or -1 when it is not (said on stderr). */
static int num_arg(const char *prog, const char *name, const char *arg, double max, double *out)
{
	char *end;
	double v = strtod(arg, &end);
	if (end == arg || *end || !(v >= 0) || v > max) {
		fprintf(stderr, "%s: %s must be 0 to %g, not \"%s\"\n", prog, name, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int peer_common_opt(int opt, const char *prog, struct peer_config *c)
{
	switch (opt) {
	case 's':
		return cmd_endpoint_arg(prog, "--server", optarg, false, &c->server);
	case 'S':
		if (proto_unhex(optarg, c->session, PROTO_TOKEN_LEN) < 0) {
			fprintf(stderr, "%s: --session wants 32 hex digits, not \"%s\"\n", prog,
				optarg);
			return -1;
		}
		return 0;
	case 'r':
		if (strcmp(optarg, "a") && strcmp(optarg, "b")) {
			fprintf(stderr, "%s: --role is a or b, not \"%s\"\n", prog, optarg);
			return -1;
		}
		c->role = optarg[0];
		return 0;
	case 'o':
		if (!(c->os = os_by_name(optarg))) {
			fprintf(stderr, "%s: unknown OS profile \"%s\" (known: %s)\n", prog, optarg,
				os_names());
			return -1;
		}
		return 0;
	case 'n':
		return cmd_int_arg(prog, "--probes", optarg, 1, PROTO_MAX_PROBES, &c->probes);
	case 'e':
		return cmd_u64_arg(prog, "--seed", optarg, &c->seed);
	}
	return -1;
}

/* The value of option OPT into C: 0, or -1 when it is wrong (said on stderr). */
static int peer_opt(int opt, const char *prog, struct peer_config *c)
{
	switch (opt) {
	case 'p':
		c->use_proxy = true;
		return cmd_endpoint_arg(prog, "--proxy", optarg, false, &c->proxy);
	case 'R':
		return cmd_int_arg(prog, "--rounds", optarg, 1, 1000, &c->rounds);
	case 'b':
		return cmd_int_arg(prog, "--bytes", optarg, 0, 1 << 30, &c->bytes);
	case 'a':
		return cmd_int_arg(prog, "--attempt-ms", optarg, 10, 600000,
				   &c->attempt_timeout_ms);
	case 'm':
		if (punch_method_parse(optarg, &c->method) < 0) {
			fprintf(stderr, "%s: unknown method \"%s\" (known: %s)\n", prog, optarg,
				method_names());
			return -1;
		}
		return 0;
	case 'T':
		return cmd_int_arg(prog, "--ttl", optarg, 1, 255, &c->stunt_ttl);
	case 'L':
		return cmd_endpoint_arg(prog, "--relay", optarg, false, &c->relay);
	case 'g':
		return num_arg(prog, "--background-rate", optarg, 1e5, &c->load.rate);
	case 't':
		return num_arg(prog, "--background-tcp", optarg, 1, &c->load.tcp_share);
	case 'N':
		return num_arg(prog, "--background-on", optarg, 86400, &c->load.on_s);
	case 'F':
		return num_arg(prog, "--background-off", optarg, 86400, &c->load.off_s);
	}
	return peer_common_opt(opt, prog, c);
}

int peer_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
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
	    {"background-tcp", required_argument, NULL, 't'},
	    {"background-on", required_argument, NULL, 'N'},
	    {"background-off", required_argument, NULL, 'F'},
	    {"attempt-ms", required_argument, NULL, 'a'},
	    {"method", required_argument, NULL, 'm'},
	    {"ttl", required_argument, NULL, 'T'},
	    {"relay", required_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	struct peer_config c;
	bool have_server = false, have_session = false;
	int opt, rc;

	peer_config_defaults(&c);
	if (getrandom(&c.seed, sizeof(c.seed), 0) != sizeof(c.seed))
		c.seed = 1;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h')
			return cmd_help(peer_usage);
		if (opt == '?')
			return cmd_usage_error(peer_usage);
		if (opt == 'o' && !strcmp(optarg, "help")) {
			os_help();
			return EXIT_OK;
		}
		if (opt == 'm' && !strcmp(optarg, "help")) {
			method_help();
			return EXIT_OK;
		}
		if (peer_opt(opt, argv[0], &c) < 0)
			return EXIT_USAGE;
		have_server |= opt == 's';
		have_session |= opt == 'S';
	}
	if (!have_server || !have_session || !c.role || optind != argc)
		return cmd_usage_error(peer_usage);
	const struct punch_method_ops *m = method_of((int)c.method);
	char buf[256];
	const char *bad = m->check ? m->check(&c, buf, sizeof(buf)) : NULL;
	if (bad) {
		fprintf(stderr, "%s: --method %s: %s\n", argv[0], m->name, bad);
		return EXIT_USAGE;
	}
	if (c.relay.sin_port && !m->connect_other) {
		fprintf(stderr, "%s: --relay is where --method relay meets the other peer: it needs "
				"--method relay\n",
			argv[0]);
		return EXIT_USAGE;
	}
	if (c.stunt_ttl && m != &method_stunt1) {
		fprintf(stderr, "%s: --ttl is the TTL of stunt1's SYN: it needs --method stunt1\n",
			argv[0]);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	/* the quirk is a rule of this host's (namespace's) firewall */
	if (c.os && c.os->syn_sent_rst &&
	    host_rule(OS_SYN_SENT_RST_NFT, "--os", c.os->name) < 0)
		return EXIT_FAIL;
	if (m->host_nft && m->host_nft(c.role) &&
	    host_rule(m->host_nft(c.role), "--method", m->name) < 0)
		return EXIT_FAIL;
	json_t *res = NULL;
	rc = peer_run(&c, &res);
	json_t *err = json_object_get(res, "error");
	if (err)
		fprintf(stderr, "punchlab peer: %s\n", json_string_value(err));
	json_dumpf(res, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	putchar('\n');
	fflush(stdout);
	json_decref(res);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
