/* SPDX-License-Identifier: MIT */
/* What the analysis commands share: labels for cells, escaping, lists of labels. */
#pragma once
#include <jansson.h>
#include <stdio.h>

/* "windows-xp", or with the proxy "linux-2.6" PROXY_SUFFIX (malloc'd). */
char *peer_label(json_t *fields, char side, const char *proxy_suffix);
/* S with < > & " escaped, for XML and HTML text and attributes. */
void xml_text(FILE *f, const char *s);
/* S as one CSV field (RFC 4180): quoted when it holds , " CR or LF. */
void csv_field(FILE *f, const char *s);

/* Distinct strings in order of first appearance. */
struct strlist {
	char **s;
	int n;
};
/* The index of S, or -1. */
int strlist_find(const struct strlist *l, const char *s);
/* Adds S (taking it; NULL is refused) unless it is there: its index, or -1. */
int strlist_add(struct strlist *l, char *s);
void strlist_free(struct strlist *l);
