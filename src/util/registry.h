/* SPDX-License-Identifier: MIT */
/*
 * Registries of named parts: OS profiles, prediction heuristics, NAT
 * presets, a suite's fields, the names of an enum. One lookup by name and
 * one list of the names (for "unknown X (known: a, b, c)") serve them all.
 *
 * An entry is anything whose first member is its name as a `const char *`:
 * a struct in the manner of zmap's modules, or the name itself (an array of
 * names). C17 6.7.2.1p15: a pointer to a struct, suitably converted, points
 * to its first member, so the name is read without knowing the type.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct registry {
	const void *items; /* the array */
	size_t size;	   /* of one item */
	size_t count;	   /* of items; REGISTRY_UNTIL_NULL: up to a NULL item or name */
	bool indirect;	   /* the items are pointers to the entries */
};
#define REGISTRY_UNTIL_NULL SIZE_MAX

/* N entries (structs, or names) in the array A. */
#define REGISTRY_ARRAY(a, n) ((struct registry){.items = (a), .size = sizeof((a)[0]), .count = (n)})
/* A NULL-terminated array A of pointers to entries. */
#define REGISTRY_POINTERS(a)                                                                       \
	((struct registry){                                                                        \
	    .items = (a), .size = sizeof((a)[0]), .count = REGISTRY_UNTIL_NULL, .indirect = true})

/* Enough for registry_names() of any registry punchlab has. */
#define REGISTRY_NAMES_MAX 512

size_t registry_count(struct registry r);
/* The entry at index I (< registry_count()). */
const void *registry_at(struct registry r, size_t i);
/* The entry called NAME, or NULL. */
const void *registry_find(struct registry r, const char *name);
/* Its index, or -1. */
long registry_index(struct registry r, const char *name);
/* "a, b, c" in BUF (LEN > 0 bytes), ending in "..." where it does not fit.
 * Returns BUF. */
const char *registry_names(struct registry r, char *buf, size_t len);
