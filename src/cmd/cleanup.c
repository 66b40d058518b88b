// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "lab/lab.h"
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char cleanup_usage[] =
    "usage: punchlab cleanup [--force] [NAME...]\n"
    "\n"
    "Removes every lab that no running punchlab process owns: labs left by a\n"
    "killed `topo up` or run, and labs brought up with `topo up`. For each: the\n"
    "processes inside its namespaces (delay helpers, servers, peers), the\n"
    "namespaces (which takes their links and bridges with them) and its state\n"
    "under /run/punchlab. Only what punchlab recorded there is touched.\n"
    "With NAMEs, only those labs. --force also removes labs whose owner (a run\n"
    "in progress) is alive.\n"
    "\n"
    "Without root it sees and removes only the user's own labs (their state is\n"
    "under the user's runtime directory, docs/scale.md). As root it also goes\n"
    "through every user's rootless labs and says whose each one is.\n";

struct sweep {
	bool force;
	int nnames;
	const char *const *names;
	int removed;
};

/* In a child that becomes the user: their labs, each line "(user NAME)". */
static int sweep_child(pid_t pid, uid_t uid, gid_t gid, const char *base, const struct sweep *sw,
		       const char *who)
{
	struct perr err;
	char *buf = NULL;
	size_t len = 0;

	if (rootless_join_user(pid, uid, gid, base, &err) < 0) {
		fprintf(stderr, "punchlab cleanup: labs of user %s: %s\n", who, err.msg);
		return 0;
	}
	FILE *log = open_memstream(&buf, &len);
	if (!log)
		return 0;
	int n = lab_cleanup(sw->force, sw->nnames, sw->names, log);
	fclose(log);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		printf("%s (user %s)\n", line, who);
	free(buf);
	rootless_release();
	return n;
}

/* rootless_each_keeper's callback, as root: one user's labs. */
static int sweep_user(pid_t pid, uid_t uid, gid_t gid, const char *base, void *ctx)
{
	struct sweep *sw = ctx;
	struct passwd *pw = getpwuid(uid);
	char who[64];
	int p[2], n = 0;

	if (pw)
		snprintf(who, sizeof(who), "%s", pw->pw_name);
	else
		snprintf(who, sizeof(who), "%u", (unsigned)uid);
	fflush(stdout);
	if (pipe2(p, O_CLOEXEC) < 0)
		return 0;
	pid_t child = fork();
	if (child == 0) {
		close(p[0]);
		n = sweep_child(pid, uid, gid, base, sw, who);
		fflush(stdout);
		_exit(write(p[1], &n, sizeof(n)) == sizeof(n) ? 0 : 1);
	}
	close(p[1]);
	if (child > 0 && read(p[0], &n, sizeof(n)) == sizeof(n))
		sw->removed += n;
	close(p[0]);
	if (child > 0)
		waitpid(child, NULL, 0);
	return 0;
}

int cleanup_main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"force", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	bool force = false;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			force = true;
			break;
		case 'h':
			return cmd_help(cleanup_usage);
		default:
			return cmd_usage_error(cleanup_usage);
		}
	}
	/* any number of names: no array of a fixed size to outgrow */
	for (int i = optind; i < argc; i++)
		if (!lab_name_ok(argv[i]))
			return cmd_usage_error(cleanup_usage);
	struct sweep sw = {force, argc - optind, (const char *const *)argv + optind, 0};
	sw.removed = lab_cleanup(force, sw.nnames, sw.names, stdout);
	if (!rootless_on() && geteuid() == 0)
		rootless_each_keeper(sweep_user, &sw);
	printf("%d lab%s removed\n", sw.removed, sw.removed == 1 ? "" : "s");
	return EXIT_OK;
}
