/* SPDX-License-Identifier: MIT */
/*
 * Writing a named output file (a plot, a pcap, a lab's state) safely:
 *
 *	struct outfile of;
 *	if (outfile_open(&of, path, err) < 0)
 *		return ...;
 *	fprintf(of.f, ...);
 *	rc = outfile_commit(&of, err);	// or outfile_abort(&of) on a failure
 *
 * The data goes to a temporary file made by mkstemp(3) in PATH's directory
 * (O_CREAT|O_EXCL: a planted symlink or file of that name is never followed
 * or reused), then renamed over PATH once flushed, checked and fsynced. PATH
 * itself is replaced only when it is missing or a regular file: a device
 * (/dev/full), a directory, a fifo, a socket or a symlink is refused, before
 * anything is written and again just before the rename.
 *
 * Errors return -errno and put "PATH: cannot ACTION: REASON" in ERR.
 */
#pragma once
#include "perr.h"
#include <limits.h>
#include <stdio.h>

struct outfile {
	FILE *f; /* where to write, between open and commit/abort */
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	/* set after open: commit neither fsyncs the file nor its directory. For
	 * what means nothing after a reboot (a lab's state: the namespaces it
	 * describes do not survive one either); the rename still replaces the
	 * file at once for every other process, and a killed writer leaves the
	 * old file or the new one, never half of one. */
	int no_sync;
};

/* Creates the temporary file for PATH (mode 0644) and opens OF->f on it. */
int outfile_open(struct outfile *of, const char *path, struct perr *err);
/* Flushes, checks for a write error, fsyncs and closes OF->f, then renames
 * the temporary file over OF->path (if that is still missing or a regular
 * file) and fsyncs the directory. On any failure the temporary file is
 * removed and the target is left as it was. */
int outfile_commit(struct outfile *of, struct perr *err);
/* Closes OF->f (if open) and removes the temporary file; nothing is written.
 * Safe after a failed open or commit. */
void outfile_abort(struct outfile *of);
/* 0 if PATH is missing or a regular file (not a symlink to one), else
 * -EISDIR for a directory, -EEXIST for anything else, -errno if lstat fails;
 * ERR names what PATH is. */
int outfile_check_target(const char *path, struct perr *err);
