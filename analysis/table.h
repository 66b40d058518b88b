/* SPDX-License-Identifier: MIT */
/*
 * OS-compatibility tables from a results file: the paper's Table 1 layout
 * (peer A, peer B, result) or a matrix (one field down, one across, one
 * table per combination of the other fields that vary), in text, Markdown,
 * LaTeX (booktabs), CSV or a standalone HTML page.
 */
#pragma once
#include <jansson.h>
#include <stdio.h>
#include "util/perr.h"

enum table_format { TF_TEXT, TF_MD, TF_LATEX, TF_CSV, TF_HTML };
enum table_symbols { TS_PAPER, TS_RATE };

struct table_opts {
	enum table_format format;
	enum table_symbols symbols;
	const char *rows, *cols; /* both set: the matrix layout */
};

int table_format_parse(const char *s, enum table_format *out);
/* The paper's symbol for K of N: ◎ at least 95 %, ○ at least 50 %, △ above 0, × none. */
const char *table_symbol(unsigned k, unsigned n);
/* Writes the table(s) of RESULTS to F; -1 with ERR when a field is unknown. */
int table_render(json_t *results, const struct table_opts *o, FILE *f, struct perr *err);
