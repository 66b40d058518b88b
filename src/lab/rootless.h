/* SPDX-License-Identifier: MIT */
/*
 * Labs without root. A user who is not root gets a user namespace (uid 0
 * inside mapped to theirs) and a mount namespace of their own, in which
 * punchlab has the capabilities it needs over the network namespaces it
 * creates. One small process per user, the keeper (`punchlab keeper BASE`),
 * holds both alive while labs are up; every lab command joins them before
 * it starts a thread, and the last one to leave with no lab up ends the
 * keeper. Everything lives under BASE: $PUNCHLAB_RUNTIME_DIR, else
 * $XDG_RUNTIME_DIR/punchlab, else /tmp/punchlab-UID; the namespaces' handles
 * in BASE/netns (bind mounts seen only inside the keeper's mount namespace),
 * the labs' state in BASE/labs, the keeper's pid and locks in BASE.
 */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "util/perr.h"

/* Where the namespaces' handles are: /run/netns as root. */
const char *lab_netns_dir(void);
/* Where the labs' state is: /run/punchlab as root. */
const char *lab_state_dir(void);

/* Not root, or PUNCHLAB_ROOTLESS=1 (root trying the rootless path). */
bool rootless_wanted(void);
/* This process has joined a user's lab namespaces (rootless_enter). */
bool rootless_on(void);

enum rootless_mode {
	ROOTLESS_SHARED,  /* the user's keeper's: labs that outlive the command (topo up) */
	ROOTLESS_PRIVATE, /* the process's own: labs that end with it (a run) */
};

/*
 * For a command that works on labs, while the process has one thread: when
 * rootless_wanted(), points lab_netns_dir() and lab_state_dir() under BASE
 * and moves the process into user, mount and network namespaces where it may
 * build labs: the user's shared ones (starting the keeper if none runs), or
 * with ROOTLESS_PRIVATE new ones of its own, which the kernel removes with
 * the process, and which no other command of the user can enter. A run is
 * private: a batch system that kills a finished task's processes (Slurm)
 * would otherwise kill a keeper that other tasks' labs depend on. The
 * working directory stays what it was. 0, or -errno with ERR saying what
 * failed, and where the kernel refuses user namespaces, which setting to
 * check. Does nothing as root.
 */
int rootless_enter(enum rootless_mode mode, struct perr *err);
/* At the end of such a command: ends the keeper when no lab is left and no
 * other punchlab is inside. */
void rootless_release(void);

/* The keeper's body: waits, in the namespaces it was started in, until
 * SIGTERM. The hidden command `punchlab keeper BASE`. */
int rootless_keeper(const char *base);

/*
 * As root: calls FN for every user's keeper found running (its pid, uid, gid
 * and BASE, read from /proc). Returns how many, or -errno.
 */
int rootless_each_keeper(int (*fn)(pid_t pid, uid_t uid, gid_t gid, const char *base, void *ctx),
			 void *ctx);
/* As root, in a child process: becomes UID/GID and joins keeper PID's
 * namespaces with BASE as its base (what rootless_enter does for that
 * user). 0 or -errno with ERR. */
int rootless_join_user(pid_t pid, uid_t uid, gid_t gid, const char *base, struct perr *err);
