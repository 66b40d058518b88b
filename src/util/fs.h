/* SPDX-License-Identifier: MIT */
#pragma once

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
