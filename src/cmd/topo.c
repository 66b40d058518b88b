// SPDX-License-Identifier: MIT
#include "commands.h"
#include "lab/lab.h"
#include "lab/netns.h"
#include "lab/topology.h"
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char topo_usage[] =
    "usage: punchlab topo check FILE...\n"
    "       punchlab topo up FILE [--name NAME]\n"
    "       punchlab topo down NAME...\n"
    "       punchlab topo ls [--json]\n"
    "       punchlab topo show NAME [--json]\n"
    "       punchlab topo exec NAME NODE -- CMD [ARGS...]\n"
    "\n"
    "check  validate topology files; errors as FILE:LINE:COL: what is wrong\n"
    "up     build the topology in network namespaces pl-NAME-NODE (under /run/netns,\n"
    "       so `ip netns exec` works too) and print NAME; the lab stays up until\n"
    "       `topo down NAME` or `punchlab cleanup`\n"
    "down   remove labs: their processes, namespaces, bridges and state\n"
    "ls     list labs, with the delay mechanism each uses\n"
    "show   what a lab is made of: nodes, interfaces, addresses, NATs, impairments\n"
    "exec   run a command inside NODE's namespace of lab NAME\n";

static int topo_check(int argc, char *argv[])
{
	int bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: punchlab topo check FILE...\n");
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		struct topology *t;
		struct perr err;
		if (topo_load(argv[i], &t, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
			continue;
		}
		printf("%s: ok: %d node%s, %d segment%s%s%s\n", argv[i], t->nnodes,
		       t->nnodes == 1 ? "" : "s", t->nsegs, t->nsegs == 1 ? "" : "s",
		       t->description ? ": " : "", t->description ? t->description : "");
		topo_free(t);
	}
	return bad ? EXIT_FAIL : EXIT_OK;
}

static int topo_up(int argc, char *argv[])
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	const char *name = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (c == 'n')
			name = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: punchlab topo up FILE [--name NAME]\n");
		return EXIT_USAGE;
	}
	struct topology *t;
	struct perr err;
	if (topo_load(argv[optind], &t, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_FAIL;
	}
	/* an interrupt while building is honoured once the lab is whole, by
	 * taking it down again: never leave half a lab behind */
	sigset_t block, old, pending;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	char built[LAB_NAME_MAX + 1];
	int rc = lab_up(t, name, LAB_DETACHED, built, &err);
	topo_free(t);
	sigpending(&pending);
	bool interrupted = sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
			   sigismember(&pending, SIGHUP);
	if (rc < 0) {
		fprintf(stderr, "punchlab topo up: %s\n", err.msg);
		return EXIT_FAIL;
	}
	if (interrupted) {
		lab_down(built, &err);
		fprintf(stderr, "punchlab topo up: interrupted; lab %s removed\n", built);
		return 130;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("%s\n", built);
	return EXIT_OK;
}

static int topo_down(int argc, char *argv[])
{
	int rc = EXIT_OK;

	if (argc < 2) {
		fprintf(stderr, "usage: punchlab topo down NAME...\n");
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		struct perr err;
		if (lab_down(argv[i], &err) < 0) {
			fprintf(stderr, "punchlab topo down: %s\n", err.msg);
			rc = EXIT_FAIL;
		}
	}
	return rc;
}

static int topo_ls(int argc, char *argv[])
{
	bool js = argc > 1 && !strcmp(argv[1], "--json");
	json_t *labs = lab_list();
	size_t i;
	json_t *st;

	if (js) {
		json_dumpf(labs, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(labs);
		return EXIT_OK;
	}
	printf("%-24s %-9s %-6s %-6s %-8s %s\n", "LAB", "STATUS", "IN-USE", "NODES", "DELAY",
	       "TOPOLOGY");
	json_array_foreach(labs, i, st)
	{
		printf("%-24s %-9s %-6s %-6zu %-8s %s\n",
		       json_string_value(json_object_get(st, "lab")),
		       json_string_value(json_object_get(st, "status")) ?: "?",
		       json_is_true(json_object_get(st, "in_use")) ? "yes" : "no",
		       json_array_size(json_object_get(st, "nodes")),
		       json_string_value(json_object_get(st, "delay_mechanism")) ?: "?",
		       json_string_value(json_object_get(st, "topology")) ?: "?");
	}
	json_decref(labs);
	return EXIT_OK;
}

static void show_impair(const char *dir, json_t *im)
{
	if (!im)
		return;
	printf("  %s %gms", dir, json_number_value(json_object_get(im, "delay_ms")));
	double j = json_number_value(json_object_get(im, "jitter_ms"));
	double l = json_number_value(json_object_get(im, "loss"));
	if (j > 0)
		printf(" ±%gms", j);
	if (l > 0)
		printf(" loss %g%%", l * 100);
}

static int topo_show(int argc, char *argv[])
{
	if (argc < 2) {
		fprintf(stderr, "usage: punchlab topo show NAME [--json]\n");
		return EXIT_USAGE;
	}
	json_t *st = lab_state(argv[1]);
	if (!st) {
		fprintf(stderr, "punchlab topo show: %s: no such lab\n", argv[1]);
		return EXIT_FAIL;
	}
	if (argc > 2 && !strcmp(argv[2], "--json")) {
		json_dumpf(st, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(st);
		return EXIT_OK;
	}
	const char *desc = json_string_value(json_object_get(st, "description"));
	printf("lab %s (%s), from %s\n", argv[1], json_string_value(json_object_get(st, "status")),
	       json_string_value(json_object_get(st, "topology")));
	if (desc)
		printf("  %s\n", desc);
	printf("delay mechanism: %s\n", json_string_value(json_object_get(st, "delay_mechanism")));
	size_t i, k;
	json_t *n, *ifc;
	json_array_foreach(json_object_get(st, "nodes"), i, n)
	{
		const char *role = json_string_value(json_object_get(n, "role"));
		const char *nat = json_string_value(json_object_get(n, "nat"));
		printf("%-10s %-22s", json_string_value(json_object_get(n, "name")),
		       json_string_value(json_object_get(n, "ns")));
		json_t *np = json_object_get(n, "nat_profile");
		if (nat && np)
			printf(" NAT %s: %s ports, unsolicited SYN %s, hairpin %s", nat,
			       json_string_value(json_object_get(np, "port_assignment")),
			       json_string_value(json_object_get(np, "unsolicited_syn")),
			       json_is_true(json_object_get(np, "hairpin")) ? "on" : "off");
		else if (nat)
			printf(" NAT %s", nat);
		else if (role && strcmp(role, "none"))
			printf(" role %s", role);
		putchar('\n');
		json_array_foreach(json_object_get(n, "interfaces"), k, ifc)
		{
			printf("    %-10s %s/%lld", json_string_value(json_object_get(ifc, "name")),
			       json_string_value(json_object_get(ifc, "address")),
			       (long long)json_integer_value(json_object_get(ifc, "prefix")));
			show_impair("out", json_object_get(ifc, "egress"));
			show_impair("in", json_object_get(ifc, "ingress"));
			putchar('\n');
		}
	}
	json_decref(st);
	return EXIT_OK;
}

static int topo_exec(int argc, char *argv[])
{
	int dd = 3;

	if (argc >= 4 && !strcmp(argv[3], "--"))
		dd = 4;
	if (argc <= dd) {
		fprintf(stderr, "usage: punchlab topo exec NAME NODE -- CMD [ARGS...]\n");
		return EXIT_USAGE;
	}
	int fd = lab_node_nsfd(argv[1], argv[2]);
	if (fd < 0) {
		fprintf(stderr, "punchlab topo exec: lab %s has no node %s: %s\n", argv[1], argv[2],
			strerror(-fd));
		return EXIT_FAIL;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "punchlab topo exec: cannot enter pl-%s-%s: %s\n", argv[1], argv[2],
			strerror(errno));
		return EXIT_FAIL;
	}
	close(fd);
	execvp(argv[dd], argv + dd);
	fprintf(stderr, "punchlab topo exec: cannot run %s: %s\n", argv[dd], strerror(errno));
	return 127;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} topo_cmds[] = {
    {"check", topo_check}, {"up", topo_up},	{"down", topo_down},
    {"ls", topo_ls},	   {"show", topo_show}, {"exec", topo_exec},
};

int topo_main(int argc, char *argv[])
{
	if (argc < 2) {
		fputs(topo_usage, stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(topo_cmds) / sizeof(topo_cmds[0]); i++)
		if (!strcmp(topo_cmds[i].name, argv[1]))
			return topo_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "punchlab topo: no subcommand \"%s\"\n%s", argv[1], topo_usage);
	return EXIT_USAGE;
}
