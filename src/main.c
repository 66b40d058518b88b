// SPDX-License-Identifier: MIT
#include "cmd/cmdutil.h"
#include "cmd/commands.h"
#include "lab/lab.h"
#include "version.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* NAME_main and NAME_usage, of cmd/NAME.c: the name is written once, so an
 * entry's name, function and help cannot disagree. */
/* clang-format off */
#define COMMAND(name_, summary_) \
	{.name = #name_, .main = name_##_main, .summary = summary_, .usage = name_##_usage}
/* a name with a dash: its files are cmd/classify_server.c, NAME_main, NAME_usage */
#define COMMAND_AS(cmd_, name_, summary_) \
	{.name = cmd_, .main = name_##_main, .summary = summary_, .usage = name_##_usage}
#define HIDDEN_COMMAND(name_, summary_) \
	{.name = #name_, .main = name_##_main, .summary = summary_, .usage = name_##_usage, \
	 .hidden = 1}
/* a command that works on labs (rootless: joins the user's namespaces first,
 * or with ROOTLESS_PRIVATE makes its own) */
#define LAB_COMMAND(name_, mode_, summary_) \
	{.name = #name_, .main = name_##_main, .summary = summary_, .usage = name_##_usage, \
	 .labs = 1, .rootless = mode_}
/* clang-format on */

/* `punchlab --help` lists them in this order. */
const struct command commands[] = {
    LAB_COMMAND(topo, ROOTLESS_SHARED, "build a topology and work inside it (up, down, ls, exec, check)"),
    LAB_COMMAND(cleanup, ROOTLESS_SHARED, "remove whatever killed or finished runs left"),
    LAB_COMMAND(run, ROOTLESS_PRIVATE, "run an experiment suite, write its results"),
    COMMAND(table, "the OS-compatibility table of a results file"),
    COMMAND(diff, "the cells that changed significantly between two results"),
    COMMAND(plot, "a heat map or success-rate curve of a results file (SVG, PDF or PNG)"),
    COMMAND(report, "one self-contained HTML page of a run, down to each trial's SYNs"),
    COMMAND(timeline, "a trial's capture as a ladder in the terminal, and why it failed"),
    COMMAND(predict, "hit@k of every heuristic on recorded port sequences"),
    COMMAND(export, "one CSV row per trial, for pandas or R"),
    COMMAND(merge, "join the results files of a suite's shards"),
    COMMAND(slurm, "run a suite's shards as a Slurm array job, and merge them after it"),
    COMMAND(server, "the rendezvous server S"),
    COMMAND(peer, "a connect-only peer (with an OS profile, through a proxy)"),
    COMMAND(rendezvous, "the peer's probes and signalling for another program: shell variables"),
    COMMAND(proxy, "the local SOCKS5 proxy with predictable ports"),
    COMMAND(session, "ask a server for a new session token"),
    COMMAND(trace, "record this host's external ports, as a server sees them"),
    COMMAND(classify, "what the NAT in front of this host does (TCP, RFC 4787/5382 terms)"),
    COMMAND_AS("classify-server", classify_server, "the outside half of classify: 2 addresses x 2 ports"),
    COMMAND(help, "show the help of a command"),
    HIDDEN_COMMAND(delayq, "(internal) the NFQUEUE delay helper of a lab"),
    HIDDEN_COMMAND(keeper, "(internal) holds a user's lab namespaces without root"),
    {.name = NULL},
};

const struct command *command_by_name(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int version(void)
{
	printf("punchlab %s\n", PUNCHLAB_VERSION);
	return EXIT_OK;
}

/* What coreutils' close_stdout does, once for every command: output that
 * never arrived (a full disk, /dev/full, an I/O error) is a failure, even when
 * the command itself succeeded. RC is the command's status; returns it, or
 * EXIT_FAIL when it was EXIT_OK and stdout could not be written. A reader that
 * went away (EPIPE: `punchlab table X | head -1`, in the commands that ignore
 * SIGPIPE) is not worth a message: the status alone says the output is short. */
static int close_stdout(const char *prog, int rc)
{
	int e = 0;

	if (fflush(stdout) != 0)
		e = errno;
	else if (ferror(stdout))
		e = EIO; /* an earlier write failed; its errno is gone */
	if (fclose(stdout) != 0 && !e)
		e = errno;
	if (!e)
		return rc;
	if (e != EPIPE)
		fprintf(stderr, "%s: cannot write to standard output: %s\n", prog, strerror(e));
	return rc == EXIT_OK ? EXIT_FAIL : rc;
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
	char exe[PATH_MAX], prog[64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int opt;

	if (n > 0) {
		exe[n] = 0;
		lab_set_exe(exe);
	}
	argv[0] = "punchlab"; /* for getopt's complaints, not the path it was run by */
	/* '+': the options before COMMAND are ours, the rest are COMMAND's */
	if ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (opt == 'h') {
			help_list(stdout);
			return close_stdout("punchlab", EXIT_OK);
		}
		if (opt == 'V')
			return close_stdout("punchlab", version());
		help_list(stderr);
		return EXIT_USAGE;
	}
	if (optind == argc) {
		help_list(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "version"))
		return close_stdout("punchlab", version());
	const struct command *c = command_by_name(argv[optind]);
	if (!c) {
		fprintf(stderr, "punchlab: no command \"%s\" (punchlab --help lists them)\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	/* getopt's complaints then name the command */
	snprintf(prog, sizeof(prog), "punchlab %s", c->name);
	argv[optind] = prog;
	if (c->labs) {
		struct perr err;
		if (rootless_enter((enum rootless_mode)c->rootless, &err) < 0) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			return EXIT_FAIL;
		}
	}
	int rc = c->main(argc - optind, argv + optind);
	rootless_release();
	return close_stdout(prog, rc);
}
