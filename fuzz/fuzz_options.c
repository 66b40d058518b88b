// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the option parsing of the commands that only read files
 * (table, diff, export, plot, predict, timeline, report) and of run --dry-run. The first byte
 * picks the command, the rest is its words, one a line. The fuzzer runs in
 * an empty directory of its own, emptied after each input, and words that
 * could name anything outside it (a '/', a leading '.', a lone '-' for
 * stdin) are dropped, and so are words with "exec:", an external heuristic
 * predict would start: every file a command is given is missing, so it
 * parses its options and then fails to load, without doing real work.
 * Commands return; they never exit. Run with -close_fd_mask=3 (as scripts/fuzz
 * does), or their messages flood the log.
 */
#include "cmd/commands.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORDS_MAX 32

static const struct {
	const char *prog;
	int (*main)(int argc, char *argv[]);
	const char *first; /* a word always given first, or NULL */
} cmds[] = {
    {"punchlab table", table_main, NULL},	{"punchlab diff", diff_main, NULL},
    {"punchlab export", export_main, NULL},	{"punchlab plot", plot_main, NULL},
    {"punchlab predict", predict_main, NULL},	{"punchlab run", run_main, "--dry-run"},
    {"punchlab timeline", timeline_main, NULL}, {"punchlab report", report_main, NULL},
};

static char dir[] = "/tmp/punchlab-fuzz-options-XXXXXX";

static void empty_cwd(void);

/* at libFuzzer's exit: the directory goes (a crash leaves it, to look at) */
static void remove_dir(void)
{
	empty_cwd();
	if (chdir("/") == 0)
		rmdir(dir);
}

static void setup_once(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	int null = open("/dev/null", O_RDWR);
	if (!mkdtemp(dir) || chdir(dir) < 0 || null < 0)
		abort();
	atexit(remove_dir);
	/* nothing reads the fuzzer's stdin; stdout and stderr are closed by
	 * libFuzzer's -close_fd_mask=3 (scripts/fuzz), which keeps its own and
	 * the sanitizers' reports */
	dup2(null, 0);
	close(null);
}

/* Whatever a command left in the directory, so that no later input finds it. */
static void empty_cwd(void)
{
	DIR *d = opendir(".");
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlink(de->d_name);
	if (d)
		closedir(d);
}

static bool word_ok(const char *w)
{
	/* and "exec:": predict would run it (exec:kill -9 -1 is a word) */
	return !strchr(w, '/') && w[0] != '.' && strcmp(w, "-") && !strstr(w, "exec:");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[WORDS_MAX + 3] = {0}, *own[WORDS_MAX];
	int argc = 0, nown = 0;

	if (!size)
		return 0;
	setup_once();
	size_t c = data[0] % (sizeof(cmds) / sizeof(cmds[0]));
	argv[argc++] = (char *)cmds[c].prog;
	if (cmds[c].first)
		argv[argc++] = (char *)cmds[c].first;
	for (size_t i = 1, start = 1; i <= size && nown < WORDS_MAX; i++) {
		if (i < size && data[i] != '\n')
			continue;
		char *w = strndup((const char *)data + start, i - start);
		start = i + 1;
		if (!w)
			break;
		if (!word_ok(w)) {
			free(w);
			continue;
		}
		argv[argc++] = own[nown++] = w;
	}
	/* getopt_long permutes argv: free the words from their own list */
	cmds[c].main(argc, argv);
	for (int i = 0; i < nown; i++)
		free(own[i]);
	empty_cwd();
	return 0;
}
