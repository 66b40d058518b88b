// SPDX-License-Identifier: MIT
#include "netns.h"
#include "util/fs.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int netns_path(const char *name, char *buf, size_t len)
{
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", lab_netns_dir(), name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static pthread_once_t prepare_once = PTHREAD_ONCE_INIT;
static int prepare_rc;		 /* what preparing gave, for every later call */
static const char *prepare_step; /* the step that failed */

/* STEP failed with errno: remember which, return -errno. */
static int step_failed(const char *step)
{
	int rc = -errno;

	prepare_step = step;
	return rc;
}

/*
 * Makes lab_netns_dir() a shared mount point, so that the namespaces bound
 * there (and their removal) show in other mount namespaces. Where it is not
 * a mount point yet (EINVAL), it is bound onto itself and made private, then
 * shared: private first gives it a peer group of its own; joining the one of
 * a shared /run (systemd's default) would mount every namespace twice, once
 * more under /run (iproute2 commit 82c8b9fe). The caller holds the lock:
 * two processes doing this at once can each bind the directory onto itself,
 * again and again (iproute2 commit 975c4944, Debian bug 949235).
 */
static int make_shared_locked(void)
{
	bool bound = false;

	while (mount("", lab_netns_dir(), "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || bound)
			return step_failed("mount --make-rshared");
		if (mount(lab_netns_dir(), lab_netns_dir(), "none", MS_BIND | MS_REC, NULL) < 0)
			return step_failed("mount --rbind");
		if (mount("", lab_netns_dir(), "none", MS_PRIVATE | MS_REC, NULL) < 0)
			return step_failed("mount --make-rprivate");
		bound = true;
	}
	return 0;
}

/* Once per process (pthread_once); across processes, under the flock that
 * `ip netns add` takes on the directory itself, so punchlab and iproute2
 * exclude each other too. */
static void prepare(void)
{
	int lock;

	if (mkdir(lab_netns_dir(), 0755) < 0 && errno != EEXIST) {
		prepare_rc = step_failed("mkdir");
		return;
	}
	if ((lock = fs_lock_dir(lab_netns_dir())) < 0) {
		prepare_rc = lock;
		prepare_step = "flock";
		return;
	}
	prepare_rc = make_shared_locked();
	fs_unlock_dir(lock);
}

int netns_prepare(const char **step)
{
	int rc = pthread_once(&prepare_once, prepare);

	if (rc) {
		if (step)
			*step = "pthread_once";
		return -rc;
	}
	if (prepare_rc < 0 && step)
		*step = prepare_step;
	return prepare_rc;
}

int netns_create(const char *name)
{
	char path[256];
	int rc, fd, saved;

	if ((rc = netns_path(name, path, sizeof(path))) < 0 || (rc = netns_prepare(NULL)) < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		rc = -errno;
		unlink(path);
		return rc;
	}
	/* unshare() moves only this thread; the bind mount keeps the namespace
	 * alive after we go back */
	rc = 0;
	if (unshare(CLONE_NEWNET) < 0 ||
	    mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		rc = -errno;
	/* back whatever happened (a failed mount leaves us in the new namespace);
	 * netns_leave() aborts rather than let this thread go on elsewhere */
	netns_leave(saved);
	if (rc < 0)
		unlink(path);
	return rc;
}

int netns_delete(const char *name)
{
	char path[256];
	int rc;

	if ((rc = netns_path(name, path, sizeof(path))) < 0)
		return rc;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

bool netns_exists(const char *name)
{
	char path[256];

	return netns_path(name, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

int netns_open(const char *name)
{
	char path[256];
	int rc, fd;

	if ((rc = netns_path(name, path, sizeof(path))) < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* held as long as the lab or the cell: above the descriptors select() takes */
	return fd < 0 ? -errno : fd_park(fd);
}

int netns_enter(int nsfd, int *saved)
{
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int rc = -errno;
		close(*saved);
		*saved = -1;
		return rc;
	}
	return 0;
}

int netns_leave(int saved)
{
	if (saved < 0)
		return 0;
	if (setns(saved, CLONE_NEWNET) < 0) {
		perror("setns back to the original network namespace");
		abort();
	}
	close(saved);
	return 0;
}

int netns_socket(int nsfd, int domain, int type, int protocol)
{
	int saved, rc = netns_enter(nsfd, &saved);
	if (rc < 0)
		return rc;
	int fd = socket(domain, type, protocol);
	rc = fd < 0 ? -errno : fd;
	netns_leave(saved);
	return rc;
}

static int sysctl_io(int nsfd, const char *key, const char *wval, char *rbuf, size_t rlen)
{
	char path[256];
	int saved, fd, rc = 0;

	if (strstr(key, "..") ||
	    (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", key) >= sizeof(path))
		return -EINVAL;
	/* /proc/sys/net resolves to the namespace of the task that opens it */
	if ((rc = netns_enter(nsfd, &saved)) < 0)
		return rc;
	fd = open(path, (wval ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	netns_leave(saved);
	if (fd < 0)
		return -errno;
	if (wval) {
		size_t n = strlen(wval);
		if (write(fd, wval, n) != (ssize_t)n)
			rc = -errno ? -errno : -EIO;
	} else {
		ssize_t n = read(fd, rbuf, rlen - 1);
		if (n < 0) {
			rc = -errno;
		} else {
			while (n > 0 && (rbuf[n - 1] == '\n' || rbuf[n - 1] == ' '))
				n--;
			rbuf[n] = 0;
		}
	}
	close(fd);
	return rc;
}

int netns_sysctl_write(int nsfd, const char *key, const char *value)
{
	return sysctl_io(nsfd, key, value, NULL, 0);
}

int netns_sysctl_read(int nsfd, const char *key, char *buf, size_t len)
{
	return sysctl_io(nsfd, key, NULL, buf, len);
}

int netns_kill_procs(const char *const *names, int n)
{
	struct stat *targets = calloc((size_t)n + 1, sizeof(*targets)), st;
	int nt = 0, killed = 0;
	char path[256], link[64];

	if (!targets)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (netns_path(names[i], path, sizeof(path)) == 0 && stat(path, &targets[nt]) == 0)
			nt++;
	DIR *d = nt ? opendir("/proc") : NULL;
	if (!d) {
		int rc = nt ? -errno : 0;
		free(targets);
		return rc;
	}
	struct dirent *de;
	pid_t self = getpid();
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 1 || pid == self)
			continue;
		snprintf(link, sizeof(link), "/proc/%ld/ns/net", pid);
		if (stat(link, &st) < 0)
			continue;
		for (int i = 0; i < nt; i++)
			if (st.st_ino == targets[i].st_ino && st.st_dev == targets[i].st_dev &&
			    kill((pid_t)pid, SIGKILL) == 0)
				killed++;
	}
	closedir(d);
	free(targets);
	return killed;
}

int netns_run_start(int nsfd, char *const argv[], const char *input, pid_t *pidp, int *outfd)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, rc;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		rc = -errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	posix_spawn_file_actions_t fa;
	rc = -posix_spawn_file_actions_init(&fa);
	if (rc == 0) {
		/* the pipes' own descriptors close at exec */
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
		posix_spawn_file_actions_adddup2(&fa, out[1], 1);
		posix_spawn_file_actions_adddup2(&fa, out[1], 2);
		rc = netns_spawn(nsfd, argv[0], true, argv, &fa, NULL, &pid);
		posix_spawn_file_actions_destroy(&fa);
	}
	close(in[0]);
	close(out[1]);
	if (rc < 0) {
		close(in[1]);
		close(out[0]);
		return rc;
	}
	if (input) {
		/* small inputs (rulesets): the pipe holds them without blocking */
		size_t n = strlen(input), off = 0;
		signal(SIGPIPE, SIG_IGN);
		while (off < n) {
			ssize_t w = write(in[1], input + off, n - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	close(in[1]);
	*pidp = pid;
	*outfd = out[0];
	return 0;
}

int netns_spawn(int nsfd, const char *path, bool search, char *const argv[],
		const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *at, pid_t *pid)
{
	extern char **environ;
	int saved, rc = netns_enter(nsfd, &saved);
	if (rc < 0)
		return rc;
	rc = search ? posix_spawnp(pid, path, fa, at, argv, environ)
		    : posix_spawn(pid, path, fa, at, argv, environ);
	netns_leave(saved);
	return -rc;
}

int netns_run_finish(pid_t pid, int outfd, char *outbuf, size_t outlen)
{
	size_t got = 0;
	int status;

	for (;;) {
		char tmp[512];
		ssize_t r = read(outfd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r;
		if (outbuf && got + take >= outlen)
			take = outlen - 1 - got;
		if (outbuf)
			memcpy(outbuf + got, tmp, take);
		got += take;
	}
	if (outbuf && outlen)
		outbuf[got] = 0;
	close(outfd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int netns_run(int nsfd, char *const argv[], const char *input, char *outbuf, size_t outlen)
{
	pid_t pid;
	int outfd, rc = netns_run_start(nsfd, argv, input, &pid, &outfd);

	return rc < 0 ? rc : netns_run_finish(pid, outfd, outbuf, outlen);
}
