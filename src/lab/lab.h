/* SPDX-License-Identifier: MIT */
/*
 * A lab: one topology brought up under a name. Its state lives in
 * /run/punchlab/NAME/state.json (lab_state_dir(): elsewhere without root,
 * lab/rootless.h), written before anything is created, so that
 * `punchlab cleanup` can always remove what a killed process left.
 */
#pragma once
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include "rootless.h"
#include "topology.h"
#include "util/perr.h"

#define LAB_NAME_MAX 24
#define LAB_NS_MAX (TOPO_NODES_MAX + 1) /* the nodes' namespaces and the fabric's */

bool lab_name_ok(const char *name);
/* "pl-LAB-NODE" */
int lab_ns_name(const char *lab, const char *node, char *buf, size_t len);

/* The punchlab executable that helper processes are started from. */
void lab_set_exe(const char *path);
/* A flag (set by a SIGINT/SIGTERM handler) that lab_up() checks between its
 * steps: once set, the build stops where it is, removes what it made and
 * fails with -EINTR. NULL (the default): builds always finish. */
void lab_set_stop(const volatile sig_atomic_t *stop);

enum lab_owner {
	LAB_DETACHED, /* lives on after the call (topo up) */
	LAB_OWNED,    /* belongs to this process (a run); cleanup leaves it while we live */
};

/*
 * Builds topology T as lab NAME (NULL: a free name derived from the file).
 * On success *NAME_OUT (if given, LAB_NAME_MAX + 1 bytes) holds the name.
 * On failure everything made so far is removed and ERR says what failed;
 * the return value is -EINTR when the stop flag (lab_set_stop) ended it.
 */
int lab_up(const struct topology *t, const char *name, enum lab_owner owner, char *name_out,
	   struct perr *err);
/* Removes lab NAME. Refuses (-EBUSY) a lab that another live process owns
 * or is building, as cleanup does, unless FORCE. */
int lab_down(const char *name, bool force, struct perr *err);

/* Array of the state objects of all labs, each with "owner_alive". */
json_t *lab_list(void);
/* The state object of lab NAME (new reference), or NULL. */
json_t *lab_state(const char *name);

/* Removes every lab (or the NNAMES labs NAMES) whose owner is gone, or all
 * of them with FORCE; logs to LOG; returns how many it removed. */
int lab_cleanup(bool force, int nnames, const char *const *names, FILE *log);

/* Open the namespace of NODE in LAB. */
int lab_node_nsfd(const char *lab, const char *node);
