/* SPDX-License-Identifier: MIT */
/*
 * A JSON document that remembers where every value came from.
 *
 * jansson reports line and column only for syntax errors; a topology or suite
 * that parses but means nothing ("unknown NAT profile") must point at the
 * offending value too. So we parse ourselves into jansson values and keep a
 * side table value -> (line, col), plus (object, key) -> position of the
 * key, which also stands in for the shared true/false/null singletons.
 * Duplicate keys are an error, not a silent last-one-wins.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "perr.h"

struct jdoc;

/* Files over 16 MiB are refused (topologies, suites); jdoc_load_file_max
 * takes another bound (0: none). */
int jdoc_load_file(const char *path, struct jdoc **out, struct perr *err);
int jdoc_load_file_max(const char *path, size_t max, struct jdoc **out, struct perr *err);
int jdoc_load_buffer(const char *name, const char *buf, size_t len, struct jdoc **out,
		     struct perr *err);
void jdoc_free(struct jdoc *doc);

json_t *jdoc_root(const struct jdoc *doc);
const char *jdoc_name(const struct jdoc *doc);

/* Position of a value (not of a singleton); false if unknown. */
bool jdoc_pos(const struct jdoc *doc, const json_t *v, int *line, int *col);
/* Position of member KEY's value in OBJ (of its key for true/false/null),
 * or of OBJ itself when KEY is absent. */
void jdoc_member_pos(const struct jdoc *doc, const json_t *obj, const char *key, int *line,
		     int *col);

/* Set ERR to "file:line:col: msg" pointing at V (or at OBJ's member KEY). */
void jdoc_err(const struct jdoc *doc, struct perr *err, const json_t *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void jdoc_err_member(const struct jdoc *doc, struct perr *err, const json_t *obj, const char *key,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reject members of OBJ not in the NULL-terminated list KNOWN. */
int jdoc_check_fields(const struct jdoc *doc, struct perr *err, const json_t *obj, const char *what,
		      const char *const *known);
