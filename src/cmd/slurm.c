// SPDX-License-Identifier: MIT
/*
 * punchlab slurm: a suite's shards as one Slurm array job, and a merge job
 * after it (docs/scale.md). The scripts are all that Slurm sees: every path
 * in them is absolute and quoted, so they run from any directory, on any
 * node that shares the file system.
 */
#include "cmdutil.h"
#include "commands.h"
#include "run/runner.h"
#include "run/suite.h"
#include "util/fs.h"
#include "util/outfile.h"
#include "util/strbuf.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char slurm_usage[] =
    "usage: punchlab slurm SUITE --shards N -o DIR [--partition P] [--time T]\n"
    "                      [--trials N] [-j N] [--submit]\n"
    "\n"
    "Runs a suite on a Slurm cluster (docs/scale.md). Writes into DIR (new or\n"
    "empty) shards.sbatch, an array job of N tasks, task K running `punchlab run\n"
    "SUITE --shard K/N -o DIR/shard-K`, and merge.sbatch, which runs after every\n"
    "task has ended, however it ended (--dependency=afterany): it merges the\n"
    "shards' results into DIR/merged (`merge --expect-shards N`), writes the\n"
    "table to DIR/table.txt, names each shard that failed in DIR/logs/merge.out,\n"
    "and exits 1 then (the merge of the others is written, marked incomplete).\n"
    "Logs go to DIR/logs. --partition and --time (Slurm's formats: MINUTES,\n"
    "HH:MM:SS, D-HH:MM...) go to both jobs; --trials and -j to each shard's run\n"
    "(-j N asks Slurm for N CPUs per task). Paths are made absolute: DIR, the\n"
    "suite and this punchlab binary must be where the nodes see them. Without\n"
    "--submit the commands to submit are printed; with it, sbatch is run (the\n"
    "array, then the merge with the array's job id) and the job ids printed.\n"
    "N is at most the suite's number of cells.\n";

/* Seconds before a shard's time limit that punchlab is asked to stop:
 * a trial or two, and the results written (sbatch(1): Slurm may send it up to
 * 60 s earlier still). */
#define SLURM_TERM_AFTER 120

struct slurm_args {
	const char *suite, *outdir, *partition, *time;
	int shards, trials, jobs;
	bool submit;
	/* absolute: what the scripts use */
	char dir[PATH_MAX], suite_abs[PATH_MAX], exe[PATH_MAX], cwd[PATH_MAX], name[64];
};

/* DIR/logs/LOG as the value of an #SBATCH --output line, which sbatch reads
 * with its own rules: "..." with \ and " escaped, and DIR's % as %%, since
 * the value is a filename pattern (sbatch(1)); LOG's own %a stays one. */
static void sbatch_log(struct strbuf *sb, const char *dir, const char *log)
{
	strbuf_add(sb, "\"", 1);
	for (const char *s = dir; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_add(sb, "\\", 1);
		if (*s == '%')
			strbuf_add(sb, "%", 1);
		strbuf_add(sb, s, 1);
	}
	strbuf_addf(sb, "/logs/%s\"", log);
}

/* Only these characters in a partition name (a comma list) and a time
 * limit: they go into #SBATCH lines unquoted. */
static bool only(const char *s, const char *allowed)
{
	return *s && strspn(s, allowed) == strlen(s);
}

#define PARTITION_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,-"

static int slurm_opt(int opt, const char *prog, struct slurm_args *a)
{
	switch (opt) {
	case 'o':
		a->outdir = optarg;
		return 0;
	case 'N':
		return cmd_int_arg(prog, "--shards", optarg, 1, 100000, &a->shards) < 0 ? EXIT_USAGE
											: 0;
	case 't':
		return cmd_int_arg(prog, "--trials", optarg, 1, 1000000, &a->trials) < 0
			   ? EXIT_USAGE
			   : 0;
	case 'j':
		return cmd_int_arg(prog, "-j", optarg, 1, 64, &a->jobs) < 0 ? EXIT_USAGE : 0;
	case 'S':
		a->submit = true;
		return 0;
	case 'p':
		a->partition = optarg;
		if (!only(optarg, PARTITION_CHARS)) {
			fprintf(
			    stderr,
			    "%s: --partition wants a name (letters, digits, _ . - ,), not \"%s\"\n",
			    prog, optarg);
			return EXIT_USAGE;
		}
		return 0;
	case 'T':
		a->time = optarg;
		if (!only(optarg, "0123456789:-") && strcmp(optarg, "UNLIMITED") &&
		    strcmp(optarg, "INFINITE")) {
			fprintf(stderr,
				"%s: --time wants a Slurm time limit (MINUTES, HH:MM:SS, D-HH:MM, "
				"UNLIMITED...), not \"%s\"\n",
				prog, optarg);
			return EXIT_USAGE;
		}
		return 0;
	}
	return EXIT_USAGE;
}

/* sbatch on PATH, into BUF: 0, or -1 when there is none. */
static int find_sbatch(char *buf, size_t len)
{
	const char *path = getenv("PATH");
	while (path && *path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, len, "%.*s/sbatch", (int)n, n ? path : ".");
		if (access(buf, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -1;
}

/* Whether S can go into an #SBATCH --output pattern: no backslash (sbatch
 * would then take no pattern at all) and no control character. */
static bool scriptable(const char *s)
{
	for (; *s; s++)
		if (*s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* DIR made (if missing), checked to be an empty directory we can write, and
 * made absolute into A->dir: 0, or -1 with the reason on stderr. */
static int prepare_dir(struct slurm_args *a, const char *prog)
{
	static const char unsafe[] = "%s: -o %s: a path with a backslash or a control character "
				     "cannot be named in an #SBATCH line\n";
	if (!scriptable(a->outdir)) {
		fprintf(stderr, unsafe, prog, a->outdir);
		return -1;
	}
	if (mkdir_p(a->outdir) < 0 || !realpath(a->outdir, a->dir)) {
		fprintf(stderr, "%s: cannot create directory %s: %s\n", prog, a->outdir,
			strerror(errno));
		return -1;
	}
	if (!scriptable(a->dir)) { /* through a symbolic link */
		fprintf(stderr, unsafe, prog, a->dir);
		return -1;
	}
	struct stat st;
	if (stat(a->dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: -o %s: not a directory\n", prog, a->outdir);
		return -1;
	}
	DIR *d = opendir(a->dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	int err = errno;
	if (d)
		closedir(d);
	if (!d) {
		fprintf(stderr, "%s: cannot read directory %s: %s\n", prog, a->outdir,
			strerror(err));
		return -1;
	}
	if (n) {
		fprintf(stderr,
			"%s: %s is not empty: the merge job takes every shard's results in it, so "
			"each campaign needs a new -o DIR\n",
			prog, a->outdir);
		return -1;
	}
	char logs[PATH_MAX + 8];
	snprintf(logs, sizeof(logs), "%s/logs", a->dir);
	if (mkdir(logs, 0755) < 0) {
		fprintf(stderr, "%s: cannot write in %s: %s\n", prog, a->outdir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The #SBATCH lines both jobs share: name, log, partition, time. */
static void sbatch_head(struct strbuf *sb, const struct slurm_args *a, const char *what,
			const char *log, const char *suffix)
{
	strbuf_addf(sb, "#!/bin/sh\n# %s, written by punchlab slurm (docs/scale.md).\n", what);
	strbuf_addf(sb, "#SBATCH --job-name=%s%s\n", a->name, suffix);
	strbuf_addf(sb, "#SBATCH --output=");
	sbatch_log(sb, a->dir, log);
	strbuf_addf(sb, "\n");
	if (a->partition)
		strbuf_addf(sb, "#SBATCH --partition=%s\n", a->partition);
	if (a->time)
		strbuf_addf(sb, "#SBATCH --time=%s\n", a->time);
}

/* shards.sbatch: task K runs shard K/N into DIR/shard-K and leaves its exit
 * status in DIR/logs/shard-K.status for the merge job. */
static void shards_script(struct strbuf *sb, const struct slurm_args *a)
{
	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "The %d shards of %s, one array task each", a->shards,
		 a->suite_abs);
	sbatch_head(sb, a, what, "shard-%a.out", "");
	strbuf_addf(sb, "#SBATCH --array=1-%d\n", a->shards);
	/* to the batch shell only: Slurm's own SIGTERM at the limit goes to every
	 * process of the task, the labs' delay helpers too, and a trial without
	 * them stalls; KillWait later everything is killed */
	strbuf_addf(sb, "#SBATCH --signal=B:TERM@%d\n", SLURM_TERM_AFTER);
	if (a->jobs)
		strbuf_addf(sb, "#SBATCH --cpus-per-task=%d\n", a->jobs);
	strbuf_addf(sb, "set -u\nk=${SLURM_ARRAY_TASK_ID:?run me with sbatch: I am an array job}\n"
			"dir=");
	strbuf_add_sh_word(sb, a->dir);
	strbuf_addf(sb, "\ncd ");
	strbuf_add_sh_word(sb, a->cwd);
	strbuf_addf(sb,
		    " || exit 1\n"
		    "# SIGTERM (--signal above, before the time limit, or scancel -b -s TERM)\n"
		    "# goes to punchlab alone, which finishes its trial and writes its results\n"
		    "# marked interrupted (exit 130); its labs' helpers keep running until it\n"
		    "# takes them down\n"
		    "pid=\n"
		    "trap '[ -z \"$pid\" ] || kill -TERM \"$pid\" 2>/dev/null' TERM\n");
	strbuf_add_sh_word(sb, a->exe);
	strbuf_addf(sb, " run ");
	strbuf_add_sh_word(sb, a->suite_abs);
	strbuf_addf(sb, " --shard \"$k/%d\" -o \"$dir/shard-$k\" --quiet", a->shards);
	if (a->trials)
		strbuf_addf(sb, " --trials %d", a->trials);
	if (a->jobs)
		strbuf_addf(sb, " -j %d", a->jobs);
	/* wait ends early when the trap runs: wait again for the run's own status */
	strbuf_addf(sb, " &\npid=$!\n"
			"while :; do\n\twait \"$pid\"\n\trc=$?\n"
			"\tkill -0 \"$pid\" 2>/dev/null || break\ndone\n"
			"echo \"$rc\" > \"$dir/logs/shard-$k.status\"\nexit \"$rc\"\n");
}

/* merge.sbatch: what each shard left, the failures named, the merge and its
 * table; exit 1 when a shard failed. */
static void merge_script(struct strbuf *sb, const struct slurm_args *a)
{
	sbatch_head(sb, a, "The merge of the shards, after the array job", "merge.out", "-merge");
	strbuf_addf(sb, "set -u\ndir=");
	strbuf_add_sh_word(sb, a->dir);
	strbuf_addf(sb, "\npl=");
	strbuf_add_sh_word(sb, a->exe);
	strbuf_addf(sb, "\nn=%d\ncd ", a->shards);
	strbuf_add_sh_word(sb, a->cwd);
	strbuf_addf(
	    sb,
	    " || exit 1\n"
	    "failed=0\nset --\nk=1\n"
	    "while [ \"$k\" -le \"$n\" ]; do\n"
	    "\tfound=\n"
	    "\tfor f in \"$dir/shard-$k\"/*.json; do\n"
	    "\t\t[ -f \"$f\" ] || continue\n"
	    "\t\tset -- \"$@\" \"$f\"\n\t\tfound=$f\n\tdone\n"
	    "\t# a shard failed: no results, or a failed status newer than them (a\n"
	    "\t# shard resumed by hand since is not named)\n"
	    "\tstatus=\"$dir/logs/shard-$k.status\"\n"
	    "\tst=$(cat \"$status\" 2>/dev/null) || st=\n"
	    "\tif [ -z \"$found\" ] || { [ \"$st\" != 0 ] && [ \"$status\" -nt \"$found\" ]; }; "
	    "then\n"
	    "\t\tfailed=1\n"
	    "\t\thow=\"exit status $st\"\n"
	    "\t\t[ -n \"$st\" ] || how=\"no exit status (killed, cancelled or never started)\"\n"
	    "\t\twhat=\"no results\"\n"
	    "\t\tfor f in \"$dir/shard-$k\"/*.trials.ndjson; do\n"
	    "\t\t\t[ -f \"$f\" ] && what=\"no results but a killed run's trials (punchlab run "
	    "--resume $f)\"\n"
	    "\t\tdone\n"
	    "\t\t[ -z \"$found\" ] || what=\"its results so far merged\"\n"
	    "\t\techo \"punchlab slurm: shard $k/$n failed: $how, $what; its log: "
	    "$dir/logs/shard-$k.out\" >&2\n"
	    "\tfi\n\tk=$((k + 1))\ndone\n"
	    "if [ $# = 0 ]; then\n"
	    "\techo \"punchlab slurm: no shard left results: nothing to merge\" >&2\n\texit 1\nfi\n"
	    "mkdir -p \"$dir/merged\" || exit 1\n"
	    "\"$pl\" merge --expect-shards \"$n\" -o \"$dir/merged\" \"$@\" > \"$dir/summary.txt\" "
	    "|| exit 1\n"
	    "# the newest: a shard run again is merged again beside the first merge\n"
	    "merged=$(ls -t \"$dir/merged\"/*.json | head -n 1)\n"
	    "\"$pl\" table \"$merged\" > \"$dir/table.txt\" || exit 1\n"
	    "# an interrupted shard fails the job too (merge marked the file)\n"
	    "! grep -q '^INCOMPLETE' \"$dir/table.txt\" || failed=1\n"
	    "cat \"$dir/table.txt\"\n"
	    "echo \"punchlab slurm: merged results in $merged, the table in $dir/table.txt\"\n"
	    "exit \"$failed\"\n");
}

/* Writes SB to DIR/NAME: 0, or -1 with the reason on stderr. */
static int write_script(const struct slurm_args *a, const char *name, struct strbuf *sb,
			const char *prog)
{
	char path[PATH_MAX + 32];
	struct outfile of;
	struct perr err;
	snprintf(path, sizeof(path), "%s/%s", a->dir, name);
	char *text = strbuf_detach(sb);
	int rc = text ? outfile_open(&of, path, &err) : -ENOMEM;
	if (rc == 0) {
		fputs(text, of.f);
		rc = outfile_commit(&of, &err);
	} else if (!text) {
		perr_set(&err, path, 0, 0, "out of memory");
	}
	free(text);
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", prog, err.msg);
	return rc < 0 ? -1 : 0;
}

/* Runs SBATCH --parsable [DEP] SCRIPT; its job id into ID (the part before
 * a ";cluster"): 0, or -1 with the reason on stderr (sbatch's own too). */
static int submit(const char *sbatch, const char *dep, const char *script, char *id, size_t len,
		  const char *prog)
{
	int p[2];
	if (pipe(p) < 0) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		return -1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		const char *argv[] = {"sbatch", "--parsable", dep ? dep : script,
				      dep ? script : NULL, NULL};
		execv(sbatch, (char *const *)argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", prog, sbatch, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	ssize_t n = 0, r;
	while (pid > 0 && (size_t)n < len - 1 && (r = read(p[0], id + n, len - 1 - (size_t)n)) > 0)
		n += r;
	close(p[0]);
	id[n] = 0;
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s: sbatch %s failed (%s %d)\n", prog, script,
			pid < 0		  ? strerror(errno)
			: WIFSIGNALED(st) ? "signal"
					  : "exit status",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		return -1;
	}
	id[strcspn(id, ";\n")] = 0;
	if (!*id || !only(id, "0123456789")) {
		fprintf(stderr, "%s: sbatch --parsable %s printed no job id\n", prog, script);
		return -1;
	}
	return 0;
}

/* The two scripts' paths, quoted for a shell, into SHARDS and MERGE. */
static void script_words(const struct slurm_args *a, char **shards, char **merge)
{
	struct strbuf s = STRBUF_INIT, m = STRBUF_INIT;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/shards.sbatch", a->dir);
	strbuf_add_sh_word(&s, path);
	snprintf(path, sizeof(path), "%s/merge.sbatch", a->dir);
	strbuf_add_sh_word(&m, path);
	*shards = strbuf_detach(&s);
	*merge = strbuf_detach(&m);
}

/* With --submit: the array, then the merge after it; the ids printed. */
static int submit_both(const struct slurm_args *a, const char *sbatch, const char *prog)
{
	char path[PATH_MAX + 32], array[64], merge[64], dep[96];
	snprintf(path, sizeof(path), "%s/shards.sbatch", a->dir);
	if (submit(sbatch, NULL, path, array, sizeof(array), prog) < 0)
		return EXIT_FAIL;
	snprintf(dep, sizeof(dep), "--dependency=afterany:%s", array);
	snprintf(path, sizeof(path), "%s/merge.sbatch", a->dir);
	if (submit(sbatch, dep, path, merge, sizeof(merge), prog) < 0) {
		fprintf(stderr,
			"%s: the array job %s is queued without its merge: submit it with\n"
			"  sbatch %s %s/merge.sbatch\n",
			prog, array, dep, a->dir);
		return EXIT_FAIL;
	}
	printf("array job %s: %d tasks, task K runs shard K/%d into %s/shard-K\n", array, a->shards,
	       a->shards, a->dir);
	printf("merge job %s: after every task of %s ends; results in %s/merged, the table in "
	       "%s/table.txt, logs in %s/logs\n",
	       merge, array, a->dir, a->dir, a->dir);
	return EXIT_OK;
}

/* Without --submit: the command line that submits both, on stdout. */
static int print_commands(const struct slurm_args *a)
{
	char *s, *m;
	script_words(a, &s, &m);
	fprintf(stderr,
		"punchlab slurm: %s/shards.sbatch runs the %d shards (an array job), "
		"%s/merge.sbatch merges them after it; to submit both:\n",
		a->dir, a->shards, a->dir);
	printf("jid=$(sbatch --parsable %s) && sbatch --dependency=afterany:\"${jid%%%%;*}\" %s\n",
	       s ? s : "?", m ? m : "?");
	free(s);
	free(m);
	return EXIT_OK;
}

/* The suite checked as a run checks it, its cells against --shards, and the
 * absolute paths the scripts use. */
static int load_suite(struct slurm_args *a, const char *prog)
{
	struct suite *s;
	struct perr err;
	if (suite_load(a->suite, &s, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return EXIT_FAIL;
	}
	struct run_opts o = {.jobs = 1, .trials = a->trials};
	int rc = EXIT_OK;
	if (run_check(s, &o, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		rc = EXIT_FAIL;
	} else if (a->shards > s->ncells) {
		fprintf(stderr,
			"%s: --shards %d is more than the %d cells of %s: a shard would have none "
			"(at most %d)\n",
			prog, a->shards, s->ncells, a->suite, s->ncells);
		rc = EXIT_USAGE;
	} else if (!realpath(a->suite, a->suite_abs)) {
		fprintf(stderr, "%s: %s: %s\n", prog, a->suite, strerror(errno));
		rc = EXIT_FAIL;
	}
	/* the job's name: the suite's file name, letters, digits, _ . - only */
	const char *b = results_base(a->suite);
	size_t n = strcspn(b, ".");
	snprintf(a->name, sizeof(a->name), "punchlab-%.*s", (int)(n < 40 ? n : 40), b);
	for (char *c = a->name; *c; c++)
		if (!strchr(PARTITION_CHARS, *c) || *c == ',')
			*c = '_';
	suite_free(s);
	return rc;
}

/* The options into A: 0, or the exit code. */
static int parse_args(int argc, char *argv[], struct slurm_args *a)
{
	static const struct option opts[] = {
	    CMD_OPT_HELP,
	    {"shards", required_argument, NULL, 'N'},
	    {"partition", required_argument, NULL, 'p'},
	    {"time", required_argument, NULL, 'T'},
	    {"trials", required_argument, NULL, 't'},
	    {"submit", no_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "ho:j:", opts, NULL)) != -1) {
		if (opt == 'h') {
			cmd_help(slurm_usage);
			return -1; /* done, and well */
		}
		if (opt == '?')
			return cmd_usage_error(slurm_usage);
		if ((rc = slurm_opt(opt, argv[0], a)) != 0)
			return rc;
	}
	if (optind != argc - 1 || !a->outdir || !a->shards) {
		if (optind == argc - 1)
			fprintf(stderr, "%s: needs --shards N and -o DIR\n", argv[0]);
		return cmd_usage_error(slurm_usage);
	}
	a->suite = argv[optind];
	return 0;
}

int slurm_main(int argc, char *argv[])
{
	struct slurm_args a = {0};
	char sbatch[PATH_MAX];
	int rc = parse_args(argc, argv, &a);
	if (rc != 0)
		return rc == -1 ? EXIT_OK : rc;
	if (a.submit && find_sbatch(sbatch, sizeof(sbatch)) < 0) {
		fprintf(
		    stderr,
		    "%s: --submit runs sbatch, and there is none on PATH (%s); without --submit "
		    "the commands are printed\n",
		    argv[0], getenv("PATH") ? getenv("PATH") : "unset");
		return EXIT_FAIL;
	}
	if ((rc = load_suite(&a, argv[0])) != EXIT_OK)
		return rc;
	ssize_t n = readlink("/proc/self/exe", a.exe, sizeof(a.exe) - 1);
	if (n <= 0 || !getcwd(a.cwd, sizeof(a.cwd))) {
		fprintf(stderr, "%s: cannot tell %s: %s\n", argv[0],
			n <= 0 ? "this binary's path" : "the current directory", strerror(errno));
		return EXIT_FAIL;
	}
	a.exe[n] = 0;
	if (prepare_dir(&a, argv[0]) < 0)
		return EXIT_FAIL;
	struct strbuf sb = STRBUF_INIT;
	shards_script(&sb, &a);
	if (write_script(&a, "shards.sbatch", &sb, argv[0]) < 0)
		return EXIT_FAIL;
	merge_script(&sb, &a);
	if (write_script(&a, "merge.sbatch", &sb, argv[0]) < 0)
		return EXIT_FAIL;
	return a.submit ? submit_both(&a, sbatch, argv[0]) : print_commands(&a);
}
