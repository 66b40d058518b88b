// SPDX-License-Identifier: MIT
#include "fs.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int fs_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int fs_lock_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	/* a signal may interrupt the wait; it is not a reason to go unlocked */
	while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

void fs_unlock_dir(int fd)
{
	if (fd < 0)
		return;
	/* LOCK_UN first: a child fork()ed meanwhile shares the open file until it
	 * execs, and would otherwise hold the lock that long. Should it fail,
	 * close() drops the lock with our last reference; a read-only directory
	 * has nothing close() could fail to write. */
	flock(fd, LOCK_UN);
	close(fd);
}

int fd_park(int fd)
{
	if (fd < 0 || fd >= FD_SETSIZE)
		return fd;
	int high = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);
	if (high < 0)
		return fd; /* the limit is FD_SETSIZE or less: it stays where it is */
	close(fd);
	return high;
}

bool fd_select_room(void)
{
	int low = fcntl(0, F_DUPFD_CLOEXEC, 0);
	if (low < 0) /* no descriptor 0, or none free at all */
		low = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (low < 0)
		return false;
	close(low);
	return low < FD_SETSIZE - FD_SELECT_ROOM;
}

void fd_raise_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* The descriptor table grown to where fd_park() puts descriptors, now,
	 * while the caller has one thread: grown later, with threads sharing
	 * it, the kernel waits out an RCU grace period first (17 ms here). */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int high = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE + 256) : -1;
	if (high >= 0)
		close(high);
	if (fd >= 0)
		close(fd);
}
