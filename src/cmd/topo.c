// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "lab/lab.h"
#include "lab/netns.h"
#include "lab/topology.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_SYN "punchlab topo check FILE..."
#define UP_SYN "punchlab topo up FILE [--name NAME]"
#define DOWN_SYN "punchlab topo down NAME... [--force]"
#define LS_SYN "punchlab topo ls [--json]"
#define SHOW_SYN "punchlab topo show NAME [--json]"
#define EXEC_SYN "punchlab topo exec NAME NODE -- CMD [ARGS...]"

const char topo_usage[] =
    "usage: " CHECK_SYN "\n"
    "       " UP_SYN "\n"
    "       " DOWN_SYN "\n"
    "       " LS_SYN "\n"
    "       " SHOW_SYN "\n"
    "       " EXEC_SYN "\n"
    "\n"
    "check  validate topology files; errors as FILE:LINE:COL: what is wrong\n"
    "up     build the topology in network namespaces pl-NAME-NODE (under /run/netns,\n"
    "       so `ip netns exec` works too) and print NAME; the lab stays up until\n"
    "       `topo down NAME` or `punchlab cleanup`\n"
    "down   remove labs: their processes, namespaces, bridges and state; a lab\n"
    "       that a running process owns (IN-USE in `topo ls`) only with --force\n"
    "ls     list labs, with the delay mechanism each uses\n"
    "show   what a lab is made of: nodes, interfaces, addresses, NATs, impairments\n"
    "exec   run a command inside NODE's namespace of lab NAME\n"
    "\n"
    "Without root, labs live in user namespaces of the user's own, under\n"
    "$XDG_RUNTIME_DIR/punchlab (docs/scale.md): `ip netns` does not see them,\n"
    "`topo exec` enters them, and each user sees only their own.\n";

/* What a subcommand's options said. */
struct topo_flags {
	bool json, force;
	const char *name;
};

static int topo_bad(const char *syn)
{
	fprintf(stderr, "usage: %s\n", syn);
	return EXIT_USAGE;
}

static void topo_dump_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
}

static int topo_check(int n, char *files[], const struct topo_flags *f)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		struct topology *t;
		struct perr err;
		if (topo_load(files[i], &t, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
			continue;
		}
		printf("%s: ok: %d node%s, %d segment%s%s", files[i], t->nnodes,
		       t->nnodes == 1 ? "" : "s", t->nsegs, t->nsegs == 1 ? "" : "s",
		       t->description ? ": " : "");
		if (t->description)
			cmd_put_text(stdout, t->description);
		putchar('\n');
		topo_free(t);
	}
	return bad ? EXIT_FAIL : EXIT_OK;
}

static int topo_up(int n, char *file[], const struct topo_flags *f)
{
	struct topology *t;
	struct perr err;
	if (topo_load(file[0], &t, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_FAIL;
	}
	/* a signal stops the build between two steps (or cuts a wait short):
	 * what was made is removed, and nothing of the lab is left */
	volatile sig_atomic_t *stop = cmd_stop_on_signal();
	lab_set_stop(stop);
	char built[LAB_NAME_MAX + 1];
	int rc = lab_up(t, f->name, LAB_DETACHED, built, &err);
	topo_free(t);
	if (rc < 0) {
		fprintf(stderr, "punchlab topo up: %s\n", err.msg);
		return rc == -EINTR ? 130 : EXIT_FAIL;
	}
	if (*stop) { /* came after the last step: the whole lab goes */
		sigset_t block;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGHUP);
		sigprocmask(SIG_BLOCK, &block, NULL);
		lab_down(built, false, &err);
		fprintf(stderr, "punchlab topo up: interrupted; lab %s removed\n", built);
		return 130;
	}
	printf("%s\n", built);
	return EXIT_OK;
}

static int topo_down(int n, char *names[], const struct topo_flags *f)
{
	int rc = EXIT_OK;

	for (int i = 0; i < n; i++) {
		struct perr err;
		if (lab_down(names[i], f->force, &err) < 0) {
			fprintf(stderr, "punchlab topo down: %s\n", err.msg);
			rc = EXIT_FAIL;
		}
	}
	return rc;
}

static int topo_ls(int n, char *none[], const struct topo_flags *f)
{
	json_t *labs = lab_list();
	size_t i;
	json_t *st;

	if (f->json) {
		topo_dump_json(labs);
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

/* One node of `topo show`: its namespace, NAT or role, and interfaces. */
static void show_node(json_t *n)
{
	const char *role = json_string_value(json_object_get(n, "role"));
	const char *nat = json_string_value(json_object_get(n, "nat"));
	size_t k;
	json_t *ifc;

	printf("%-10s %-22s", json_string_value(json_object_get(n, "name")),
	       json_string_value(json_object_get(n, "ns")));
	json_t *np = json_object_get(n, "nat_profile");
	if (nat && np)
		/* a lab built by an older punchlab may lack a field: "?" */
		printf(" NAT %s: %s mapping, %s filtering, %s ports, unsolicited SYN %s, "
		       "hairpin %s, ICMP time-exceeded: %s mapping",
		       nat, json_string_value(json_object_get(np, "mapping")) ?: "?",
		       json_string_value(json_object_get(np, "filtering")) ?: "?",
		       json_string_value(json_object_get(np, "port_assignment")) ?: "?",
		       json_string_value(json_object_get(np, "unsolicited_syn")) ?: "?",
		       json_is_true(json_object_get(np, "hairpin")) ? "on" : "off",
		       json_string_value(json_object_get(np, "icmp_time_exceeded")) ?: "?");
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

static int topo_show(int n, char *name[], const struct topo_flags *f)
{
	json_t *st = lab_state(name[0]);
	if (!st) {
		fprintf(stderr, "punchlab topo show: %s: no such lab\n", name[0]);
		return EXIT_FAIL;
	}
	if (f->json) {
		topo_dump_json(st);
		json_decref(st);
		return EXIT_OK;
	}
	const char *desc = json_string_value(json_object_get(st, "description"));
	printf("lab %s (%s), from %s\n", name[0], json_string_value(json_object_get(st, "status")),
	       json_string_value(json_object_get(st, "topology")));
	if (desc) {
		fputs("  ", stdout);
		cmd_put_text(stdout, desc);
		putchar('\n');
	}
	printf("delay mechanism: %s\n", json_string_value(json_object_get(st, "delay_mechanism")));
	size_t i;
	json_t *node;
	json_array_foreach(json_object_get(st, "nodes"), i, node)
	{
		show_node(node);
	}
	json_decref(st);
	return EXIT_OK;
}

/* NAME NODE [--] CMD [ARGS...]: the "--" is optional, as ever. */
static int topo_exec(int n, char *arg[], const struct topo_flags *f)
{
	int dd = 2;

	if (n >= 3 && !strcmp(arg[2], "--"))
		dd = 3;
	if (n <= dd)
		return topo_bad(EXEC_SYN);
	int fd = lab_node_nsfd(arg[0], arg[1]);
	if (fd < 0) {
		fprintf(stderr, "punchlab topo exec: lab %s has no node %s: %s\n", arg[0], arg[1],
			strerror(-fd));
		return EXIT_FAIL;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "punchlab topo exec: cannot enter pl-%s-%s: %s\n", arg[0], arg[1],
			strerror(errno));
		return EXIT_FAIL;
	}
	close(fd);
	execvp(arg[dd], arg + dd);
	fprintf(stderr, "punchlab topo exec: cannot run %s: %s\n", arg[dd], strerror(errno));
	return 127;
}

static const struct option help_opts[] = {CMD_OPT_HELP, {NULL, 0, NULL, 0}};
static const struct option json_opts[] = {
    CMD_OPT_HELP, {"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
static const struct option down_opts[] = {
    CMD_OPT_HELP, {"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
static const struct option up_opts[] = {
    CMD_OPT_HELP, {"name", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};

/* A subcommand: its options, how many operands it takes, and the function
 * that gets them (argv without the options). */
static const struct topo_sub {
	const char *name;
	int (*fn)(int n, char *operands[], const struct topo_flags *f);
	const char *shortopts; /* '+' first: options only before the operands */
	const struct option *longopts;
	int min, max; /* operands; max -1: no limit */
	const char *syn;
} topo_subs[] = {
    {"check", topo_check, "h", help_opts, 1, -1, CHECK_SYN},
    {"up", topo_up, "hn:", up_opts, 1, 1, UP_SYN},
    {"down", topo_down, "h", down_opts, 1, -1, DOWN_SYN},
    {"ls", topo_ls, "h", json_opts, 0, 0, LS_SYN},
    {"show", topo_show, "h", json_opts, 1, 1, SHOW_SYN},
    /* exec: what follows NAME is the command's, options and all */
    {"exec", topo_exec, "+h", help_opts, 3, -1, EXEC_SYN},
};

static int topo_run_sub(const struct topo_sub *s, int argc, char *argv[])
{
	struct topo_flags f = {false, false, NULL};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, s->shortopts, s->longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			f.json = true;
			break;
		case 'n':
			f.name = optarg;
			break;
		case 'f':
			f.force = true;
			break;
		case 'h':
			return cmd_help(topo_usage);
		default:
			return topo_bad(s->syn);
		}
	}
	int n = argc - optind;
	if (n < s->min || (s->max >= 0 && n > s->max))
		return topo_bad(s->syn);
	return s->fn(n, argv + optind, &f);
}

int topo_main(int argc, char *argv[])
{
	int opt;

	optind = 0;
	/* '+': the options after the subcommand are the subcommand's */
	if ((opt = getopt_long(argc, argv, "+h", help_opts, NULL)) != -1)
		return opt == 'h' ? cmd_help(topo_usage) : cmd_usage_error(topo_usage);
	if (optind == argc)
		return cmd_usage_error(topo_usage);
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(topo_subs) / sizeof(topo_subs[0]); i++) {
		if (strcmp(topo_subs[i].name, name))
			continue;
		char prog[64];
		snprintf(prog, sizeof(prog), "punchlab topo %s", name);
		argv[optind] = prog;
		return topo_run_sub(&topo_subs[i], argc - optind, argv + optind);
	}
	fprintf(stderr, "punchlab topo: no subcommand \"%s\"\n%s", name, topo_usage);
	return EXIT_USAGE;
}
