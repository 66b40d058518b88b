// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "punch/tracer.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

const char trace_usage[] =
    "usage: punchlab trace --server ADDR:PORT [--to ADDR:PORT]... [--count N] [--interval MS]\n"
    "                      [--os NAME] [--nat NAME] [--host NAME] [--timeout MS]\n"
    "\n"
    "Records this host's port allocation as a punchlab server sees it: N fresh\n"
    "connections (default 8, at most 64), to the server and each --to in turn\n"
    "(each a `punchlab server`), --interval MS apart (default 0), each a probe\n"
    "of the protocol that says which external port arrived. Prints a trace\n"
    "(docs/traces.md): a header of '#' lines (the OS as `uname -srm` says, the\n"
    "date, the destinations, the local ports) and one line whose source is\n"
    "HOST:OS/NAT (HOST: --host or the host name; OS: --os, else the kernel's\n"
    "name and release; NAT: --nat, else unknown). The kernel chooses every\n"
    "local port: append the output to a corpus for `punchlab predict`\n"
    "(docs/traces.md).\n";

struct trace_opts {
	struct tracer_config c;
	const char *os, *nat, *host;
};

/* NAME with the characters a source cannot hold (':', '#', spaces) as '-'. */
static void trace_label(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s", name);
	for (char *p = out; *p; p++)
		if (*p == ':' || *p == '#' || isspace((unsigned char)*p))
			*p = '-';
}

static void trace_print(const struct trace_opts *o, const struct tracer_obs *obs)
{
	struct utsname u;
	char now[32], a[INET_ADDRSTRLEN], host[256] = "host", kernel[2 * sizeof(u.release)];
	char os[sizeof(kernel)], nat[64], src[256];
	time_t t = time(NULL);

	uname(&u);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	if (o->host)
		snprintf(host, sizeof(host), "%s", o->host);
	else
		gethostname(host, sizeof(host) - 1);
	snprintf(kernel, sizeof(kernel), "%s-%s", u.sysname, u.release);
	trace_label(o->os ? o->os : kernel, os, sizeof(os));
	trace_label(o->nat ? o->nat : "unknown", nat, sizeof(nat));
	trace_label(host, src, sizeof(src));
	printf("# punchlab trace on %s %s %s (uname -srm), %s\n", u.sysname, u.release, u.machine,
	       now);
	printf("# %d connections, %d ms apart, in turn to", o->c.count, o->c.interval_ms);
	for (int d = 0; d < o->c.ndest; d++) {
		inet_ntop(AF_INET, &o->c.dest[d].sin_addr, a, sizeof(a));
		printf(" %s:%u", a, ntohs(o->c.dest[d].sin_port));
	}
	printf("\n# local ports:");
	for (int i = 0; i < o->c.count; i++)
		printf(" %u", obs[i].local);
	printf("\n%s:%s/%s:", src, os, nat);
	for (int i = 0; i < o->c.count; i++)
		printf(" %u", obs[i].external);
	printf("\n");
}

static int trace_opt(int opt, const char *prog, struct trace_opts *o)
{
	switch (opt) {
	case 's':
	case 't':
		if (o->c.ndest == TRACER_MAX_DEST) {
			fprintf(stderr, "%s: at most %d destinations\n", prog, TRACER_MAX_DEST);
			return -1;
		}
		/* --server is the first destination whatever the order */
		if (opt == 's' && o->c.ndest) {
			o->c.dest[o->c.ndest] = o->c.dest[0];
			o->c.ndest++;
			return cmd_endpoint_arg(prog, "--server", optarg, false, &o->c.dest[0]);
		}
		return cmd_endpoint_arg(prog, opt == 's' ? "--server" : "--to", optarg, false,
					&o->c.dest[o->c.ndest++]);
	case 'n':
		return cmd_int_arg(prog, "--count", optarg, 1, TRACER_MAX_COUNT, &o->c.count);
	case 'i':
		return cmd_int_arg(prog, "--interval", optarg, 0, 60000, &o->c.interval_ms);
	case 'T':
		return cmd_int_arg(prog, "--timeout", optarg, 1, 60000, &o->c.timeout_ms);
	case 'o':
		o->os = optarg;
		return 0;
	case 'N':
		o->nat = optarg;
		return 0;
	case 'H':
		o->host = optarg;
		return 0;
	}
	return -1;
}

int trace_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"server", required_argument, NULL, 's'},
	    {"to", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'n'},
	    {"interval", required_argument, NULL, 'i'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"os", required_argument, NULL, 'o'},
	    {"nat", required_argument, NULL, 'N'},
	    {"host", required_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	struct trace_opts o = {.c = {.count = 8, .timeout_ms = 5000}};
	bool server = false;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h')
			return cmd_help(trace_usage);
		if (opt == '?')
			return cmd_usage_error(trace_usage);
		server |= opt == 's';
		if (trace_opt(opt, argv[0], &o) < 0)
			return EXIT_USAGE;
	}
	if (!server || optind != argc)
		return cmd_usage_error(trace_usage);
	struct tracer_obs obs[TRACER_MAX_COUNT];
	char err[512];
	if (tracer_run(&o.c, obs, err, sizeof(err)) < 0) {
		fprintf(stderr, "punchlab trace: %s\n", err);
		return EXIT_FAIL;
	}
	trace_print(&o, obs);
	return EXIT_OK;
}
