/* SPDX-License-Identifier: MIT */
#pragma once
#include <stdbool.h>

/* mkdir -p PATH (mode 0755): 0, or -1 with errno set. */
int mkdir_p(const char *path);

/* fsync(2) of directory DIR, so that names made or renamed in it are on
 * disk: 0 or -errno. */
int fs_sync_dir(const char *dir);

/* Opens the directory DIR and takes an exclusive flock(2) on it, waiting as
 * long as another holder keeps it. The lock excludes every other open of
 * DIR, in this process or another. Returns the fd that holds it, for
 * fs_unlock_dir(), or -errno. */
int fs_lock_dir(const char *dir);
/* Drops the lock of fs_lock_dir() and closes FD (negative: nothing). */
void fs_unlock_dir(int fd);

/*
 * Descriptors and select(). libnftables waits on its netlink socket with
 * select(), and glibc ends the process ("bit out of range 0 - FD_SETSIZE on
 * fd_set") when that socket is FD_SETSIZE (1024) or above. A run with many
 * labs holds hundreds of descriptors (-j 64 held more than 1024), so the
 * long-lived ones of punchlab's own go above FD_SETSIZE, leaving the low
 * ones to the libraries.
 */
/* FD moved to FD_SETSIZE or above (close-on-exec; the original closed) when
 * the limit allows it, else FD itself; a negative FD is returned as it is. */
int fd_park(int fd);
/* Whether the lowest free descriptor leaves room below FD_SETSIZE for a
 * library that select()s (FD_SELECT_ROOM of them). */
#define FD_SELECT_ROOM 16
bool fd_select_room(void);
/* Raises the soft limit of open descriptors to the hard one (at most
 * 65536), so that fd_park() has room, and grows the descriptor table to hold
 * parked ones: call it before any thread starts. Errors are ignored (the
 * limit stays). */
void fd_raise_limit(void);
