/* SPDX-License-Identifier: MIT */
/*
 * A cell's lifecycle: setup (its lab, the NATs' state handles, the capture
 * points, the server and proxy threads, the emulated hosts), one trial at a
 * time, and teardown. The runner drives many of them side by side.
 */
#pragma once
#include <jansson.h>
#include <signal.h>
#include "suite.h"
#include "util/perr.h"

struct cell_job {
	const struct suite *s;
	const struct cell *c;
	int worker;		     /* part of the lab's name: r<pid>-<worker>-<cell> */
	int index;		     /* the cell's index in the suite */
	int first_trial, trials;     /* run trials first_trial .. trials - 1 */
	const char *pcap_dir;	     /* also write the packets there (NULL: no) */
	volatile sig_atomic_t *stop; /* set: no further trial starts */
	/* Each finished trial (the callee may keep a reference); non-zero
	 * stops the cell, and cell_run returns it. */
	int (*on_trial)(void *ctx, json_t *trial);
	void *ctx;
};

/* What a cell leaves behind besides its trials. */
struct cell_report {
	char delay_mechanism[32]; /* the lab's ("nfqueue", "none") */
	/* {NAT node: {sysctl: value}}, read in each NAT's own namespace once its
	 * lab was up (conntrack's settings are per namespace); the caller owns it */
	json_t *nat_sysctls;
	unsigned capture_drops;
	int labs_built; /* labs this cell built (0: it ran in its worker's last one) */
	bool lab_gone; /* the lab was removed from under the cell (ERR says so) */
};

struct cell_lab;
struct topology;

/* C's topology as its trials get it: loaded, patched by the cell's fields,
 * with nodes of the roles server, peer-a and peer-b (their indexes in NODE).
 * 0, or -EINVAL with ERR. What run_check and the cell's lab both use. */
int cell_topology(const struct cell *c, struct topology **out, int node[3], struct perr *err);

/* Runs trial number TRIAL: *OUT gets its record (docs/results.md). */
int cell_trial(struct cell_lab *cl, int trial, json_t **out, struct perr *err);

/*
 * Cell J's trials, each handed to J's callback: 0, -errno with ERR, or the
 * callback's non-zero return. KEEP (NULL: a lab of the cell's own, taken
 * down after it) is a worker's lab between its cells: one whose
 * cell_lab_key is J's is used again, with its NATs reset and the last
 * cell's quirk rules, threads and hosts gone; another is taken down and J
 * gets a new one. After a cell that ended well *KEEP holds its lab for the
 * next; after one that did not, the lab is gone and *KEEP is NULL.
 */
int cell_run(const struct cell_job *j, struct cell_lab **keep, struct cell_report *rep,
	     struct perr *err);
/* Takes a kept lab down (NULL: nothing); REP (if given) gets its capture drops. */
void cell_lab_free(struct cell_lab *cl, struct cell_report *rep);

/* What C's lab is built from (its topology file and the cell fields that
 * patch it): cells with the same key can run in one lab. malloc'd, or NULL. */
char *cell_lab_key(const struct cell *c);
