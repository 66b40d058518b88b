// SPDX-License-Identifier: MIT
/* The lock /run/netns is prepared under (lab/netns.c), on a directory of our own. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util/fs.h"

static char dir[] = "/tmp/punchlab-test-fs-XXXXXX";

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	rmdir(dir);
}

/* Whether the lock on DIR is free right now, asked through another open. */
static bool lock_free(void)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(fd, 0);
	bool free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return free_now;
}

/* Waits up to MS for PID; its exit status, or -1 if it is still running. */
static int wait_ms(pid_t pid, int ms)
{
	int status;
	for (int i = 0; i < ms; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		usleep(1000);
	}
	return -1;
}

/* As wait_ms, and a child still waiting then is killed: no test leaves one
 * blocked on the lock behind it. */
static int reap_ms(pid_t pid, int ms)
{
	int rc = wait_ms(pid, ms);
	if (rc == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return rc;
}

Test(fs_lock_dir, excludes_another_process_until_unlocked, .init = make_dir, .fini = remove_dir)
{
	int fd = fs_lock_dir(dir);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_not(lock_free());
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = fs_lock_dir(dir);
		_exit(cfd >= 0 ? 0 : 1);
	}
	if (wait_ms(pid, 100) != -1)
		cr_assert_fail("the child took a lock the parent holds");
	fs_unlock_dir(fd);
	cr_assert_eq(reap_ms(pid, 5000), 0, "the child never got the lock");
	cr_assert(lock_free(), "the child's exit dropped its lock");
}

static atomic_int inside, overlaps;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++) {
		int fd = fs_lock_dir(dir);
		if (fd < 0)
			return (void *)1;
		if (atomic_fetch_add(&inside, 1) != 0)
			atomic_fetch_add(&overlaps, 1);
		usleep(100);
		atomic_fetch_sub(&inside, 1);
		fs_unlock_dir(fd);
	}
	return NULL;
}

Test(fs_lock_dir, excludes_threads_of_one_process, .init = make_dir, .fini = remove_dir)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, worker, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *ret;
		pthread_join(t[i], &ret);
		cr_assert_null(ret, "fs_lock_dir failed in a thread");
	}
	cr_assert_eq(atomic_load(&overlaps), 0, "two threads held the lock at once");
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

Test(fs_lock_dir, a_signal_does_not_break_the_wait, .init = make_dir, .fini = remove_dir)
{
	int fd = fs_lock_dir(dir);
	cr_assert_geq(fd, 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* no SA_RESTART: flock() returns EINTR at each alarm */
		struct sigaction sa = {.sa_handler = on_alarm};
		sigaction(SIGALRM, &sa, NULL);
		struct itimerval it = {{0, 20000}, {0, 20000}};
		setitimer(ITIMER_REAL, &it, NULL);
		int cfd = fs_lock_dir(dir);
		struct itimerval off = {{0, 0}, {0, 0}};
		setitimer(ITIMER_REAL, &off, NULL);
		_exit(cfd < 0 ? 1 : alarms == 0 ? 2 : 0);
	}
	if (wait_ms(pid, 200) != -1)
		cr_assert_fail("interrupted, the child went on without the lock");
	fs_unlock_dir(fd);
	cr_assert_eq(reap_ms(pid, 5000), 0, "1: no lock, 2: no signal came");
}

Test(fs_lock_dir, unlock_frees_it_while_a_forked_child_shares_the_file, .init = make_dir,
     .fini = remove_dir)
{
	int fd = fs_lock_dir(dir);
	cr_assert_geq(fd, 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* holds a copy of FD, as a helper forked by another thread would */
		usleep(2000 * 1000);
		_exit(0);
	}
	fs_unlock_dir(fd);
	bool free_now = lock_free();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert(free_now);
}

Test(fs_lock_dir, errors_are_negative_errno, .init = make_dir, .fini = remove_dir)
{
	char path[64];
	cr_assert_eq(fs_lock_dir("/nonexistent/punchlab"), -ENOENT);
	snprintf(path, sizeof(path), "%s/file", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(fs_lock_dir(path), -ENOTDIR);
	unlink(path);
	fs_unlock_dir(-1); /* nothing to do, and no harm */
}
