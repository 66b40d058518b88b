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
	bool lab_gone; /* the lab was removed from under the cell (ERR says so) */
};

struct cell_lab;
struct topology;

/* C's topology as its trials get it: loaded, patched by the cell's fields,
 * with nodes of the roles server, peer-a and peer-b (their indexes in NODE).
 * 0, or -EINVAL with ERR. What run_check and cell_setup both use. */
int cell_topology(const struct cell *c, struct topology **out, int node[3], struct perr *err);

/* Brings cell J up (J must outlive the cell); on failure nothing of it is left. */
int cell_setup(const struct cell_job *j, struct cell_lab **out, struct perr *err);
/* Runs trial number TRIAL: *OUT gets its record (docs/results.md). */
int cell_trial(struct cell_lab *cl, int trial, json_t **out, struct perr *err);
/* Stops the threads and captures and takes the lab down; REP (if given)
 * gets the capture drops and the delay mechanism. Takes NULL. */
void cell_teardown(struct cell_lab *cl, struct cell_report *rep);

/* The three in a row, every trial handed to J's callback: 0, -errno with
 * ERR, or the callback's non-zero return. */
int cell_run(const struct cell_job *j, struct cell_report *rep, struct perr *err);
