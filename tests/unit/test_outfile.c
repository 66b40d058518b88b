// SPDX-License-Identifier: MIT
/* util/outfile: a named output file through a temporary file beside it,
 * replacing only a missing or regular file, with every error reported. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/outfile.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/punchlab-test-outfile-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(outfile, .init = make_dir, .fini = remove_dir);

static const char *at(const char *name)
{
	static char buf[4][128];
	static int i;
	char *b = buf[i++ % 4];
	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* PATH holds exactly TEXT */
static void holds(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	cr_assert_str_eq(buf, text, "%s", path);
}

/* the number of entries in the test's directory */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static int write_file(const char *path, const char *text, struct perr *err)
{
	struct outfile of;
	int rc = outfile_open(&of, path, err);
	if (rc < 0)
		return rc;
	fputs(text, of.f);
	return outfile_commit(&of, err);
}

Test(outfile, new_file)
{
	struct perr err;
	struct stat st;
	cr_assert_eq(write_file(at("a.svg"), "new\n", &err), 0, "%s", err.msg);
	holds(at("a.svg"), "new\n");
	cr_assert_eq(stat(at("a.svg"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	cr_assert_eq(entries(), 1, "the temporary file is left");
}

Test(outfile, replaces_a_regular_file)
{
	struct perr err;
	put(at("a.svg"), "old\n");
	cr_assert_eq(write_file(at("a.svg"), "new\n", &err), 0, "%s", err.msg);
	holds(at("a.svg"), "new\n");
	cr_assert_eq(entries(), 1);
}

Test(outfile, abort_leaves_the_target)
{
	struct outfile of;
	struct perr err;
	put(at("a.svg"), "old\n");
	cr_assert_eq(outfile_open(&of, at("a.svg"), &err), 0, "%s", err.msg);
	cr_assert_eq(entries(), 2, "no temporary file beside the target");
	fputs("half", of.f);
	outfile_abort(&of);
	holds(at("a.svg"), "old\n");
	cr_assert_eq(entries(), 1, "the temporary file is left");
}

Test(outfile, refuses_dev_full)
{
	struct outfile of;
	struct perr err;
	struct stat st;
	cr_assert_eq(outfile_open(&of, "/dev/full", &err), -EEXIST);
	cr_assert_not_null(strstr(err.msg, "/dev/full: refusing to replace a character device"),
			   "%s", err.msg);
	cr_assert_eq(stat("/dev/full", &st), 0);
	cr_assert(S_ISCHR(st.st_mode));
}

Test(outfile, refuses_a_directory)
{
	struct perr err;
	cr_assert_eq(mkdir(at("d"), 0755), 0);
	cr_assert_eq(write_file(at("d"), "new\n", &err), -EISDIR);
	cr_assert_not_null(strstr(err.msg, "refusing to replace a directory"), "%s", err.msg);
	cr_assert_eq(entries(), 1);
}

Test(outfile, refuses_a_symlink)
{
	struct perr err;
	struct stat st;
	put(at("real.svg"), "old\n");
	cr_assert_eq(symlink("real.svg", at("a.svg")), 0);
	cr_assert_eq(write_file(at("a.svg"), "new\n", &err), -EEXIST);
	cr_assert_not_null(strstr(err.msg, "refusing to replace a symbolic link"), "%s", err.msg);
	cr_assert_eq(lstat(at("a.svg"), &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	holds(at("real.svg"), "old\n");
	cr_assert_eq(entries(), 2);
}

Test(outfile, refuses_a_fifo)
{
	struct perr err;
	cr_assert_eq(mkfifo(at("a.svg"), 0644), 0);
	cr_assert_eq(write_file(at("a.svg"), "new\n", &err), -EEXIST);
	cr_assert_not_null(strstr(err.msg, "refusing to replace a fifo"), "%s", err.msg);
}

/* what the target became meanwhile is checked again before the rename */
Test(outfile, refuses_a_target_that_changed)
{
	struct outfile of;
	struct perr err;
	cr_assert_eq(outfile_open(&of, at("a.svg"), &err), 0, "%s", err.msg);
	fputs("new\n", of.f);
	cr_assert_eq(mkdir(at("a.svg"), 0755), 0);
	cr_assert_eq(outfile_commit(&of, &err), -EISDIR);
	cr_assert_eq(entries(), 1, "the temporary file is left");
}

/* the old code's temporary name, planted as a link to someone's file */
Test(outfile, a_planted_link_is_not_followed)
{
	struct perr err;
	put(at("victim.txt"), "precious\n");
	cr_assert_eq(symlink("victim.txt", at("a.svg.tmp")), 0);
	cr_assert_eq(write_file(at("a.svg"), "new\n", &err), 0, "%s", err.msg);
	holds(at("victim.txt"), "precious\n");
	holds(at("a.svg"), "new\n");
}

/* a write that fails (a file size limit: EFBIG) fails the commit, names the
 * path and the cause, and leaves the old file whole */
Test(outfile, write_error)
{
	struct outfile of;
	struct perr err;
	struct rlimit rl = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
	put(at("a.svg"), "old\n");
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_assert_eq(outfile_open(&of, at("a.svg"), &err), 0, "%s", err.msg);
	for (int i = 0; i < 10000; i++)
		fputs("0123456789", of.f);
	int rc = outfile_commit(&of, &err);
	cr_assert(rc == -EFBIG || rc == -EIO, "%d", rc);
	cr_assert_not_null(strstr(err.msg, "a.svg: cannot write: "), "%s", err.msg);
	holds(at("a.svg"), "old\n");
	cr_assert_eq(entries(), 1, "the temporary file is left");
}

Test(outfile, path_too_long)
{
	struct outfile of;
	struct perr err;
	char path[PATH_MAX + 10];
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	cr_assert_lt(outfile_open(&of, path, &err), 0);
	outfile_abort(&of);
}
