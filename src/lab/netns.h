/* SPDX-License-Identifier: MIT */
/*
 * Named network namespaces, made the way `ip netns add` makes them: a bind
 * mount of the namespace onto /run/netns/NAME, so `ip netns exec` works.
 * setns() changes only the calling thread, so every helper here saves and
 * restores the thread's namespace; sockets keep the namespace they were
 * opened in.
 */
#pragma once
#include <spawn.h>
#include <stdbool.h>
#include <sys/types.h>

#include "rootless.h" /* lab_netns_dir(): /run/netns as root */

/*
 * Makes lab_netns_dir() a shared mount point in a peer group of its own, as
 * `ip netns add` does. Once per process (pthread_once), under an flock on
 * the directory (iproute2's lock), so that threads, concurrent punchlabs and
 * `ip netns add` never stack mounts there. netns_create() calls it. Returns
 * 0 or -errno; then *STEP, if STEP, names what failed ("mkdir", "flock",
 * "mount --make-rshared", ...). A failure is kept: later calls return it.
 */
int netns_prepare(const char **step);
/* Creates NAME under lab_netns_dir() (prepared first); 0 or -errno. */
int netns_create(const char *name);
int netns_delete(const char *name);
bool netns_exists(const char *name);
/* O_RDONLY|O_CLOEXEC fd of /run/netns/NAME, or -errno. */
int netns_open(const char *name);
/* Enter NSFD; *saved gets an fd of the thread's former namespace. */
int netns_enter(int nsfd, int *saved);
/* Go back to SAVED and close it. */
int netns_leave(int saved);
/* A socket(DOMAIN, TYPE, PROTOCOL) made inside NSFD (a socket stays in the
 * namespace it was made in): the fd, or -errno. */
int netns_socket(int nsfd, int domain, int type, int protocol);
/* Write VALUE to /proc/sys/KEY ("net/ipv4/ip_forward") as seen inside NSFD. */
int netns_sysctl_write(int nsfd, const char *key, const char *value);
int netns_sysctl_read(int nsfd, const char *key, char *buf, size_t len);
/* SIGKILL every process whose network namespace is one of /run/netns/NAMES[i]
 * (any number); returns how many, or -errno. */
int netns_kill_procs(const char *const *names, int n);
/* Runs ARGV (searched in $PATH) in NSFD with INPUT (NULL: nothing) on its
 * stdin, started by netns_spawn(); returns the exit status, or -errno (one
 * that could not start). Its stdout and stderr
 * go to OUTBUF (up to OUTLEN, NUL-terminated; NULL: discarded). */
int netns_run(int nsfd, char *const argv[], const char *input, char *outbuf, size_t outlen);
/* The same in two halves, so that several can run at once. */
int netns_run_start(int nsfd, char *const argv[], const char *input, pid_t *pid, int *outfd);
/*
 * Starts PATH (searched in $PATH with SEARCH) with ARGV in namespace NSFD,
 * as posix_spawn() does with FA and AT (either may be NULL): the child
 * shares this process's memory until it execs, where fork() would copy its
 * page tables first. That copy, and its undoing at exec, grew with a run's
 * memory (hundreds of MB with many labs). The calling thread enters NSFD for
 * the spawn and comes back. 0 with *PID, or -errno.
 */
int netns_spawn(int nsfd, const char *path, bool search, char *const argv[],
		const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *at, pid_t *pid);
int netns_run_finish(pid_t pid, int outfd, char *outbuf, size_t outlen);
