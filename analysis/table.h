/* SPDX-License-Identifier: MIT */
/*
 * OS-compatibility tables from results: the paper's Table 1 layout (peer A,
 * peer B, result), a matrix (one field down, one across, one table per
 * combination of the other fields that vary), or the run's summary (one line
 * per cell with counts, interval and failures), in text, Markdown, LaTeX
 * (booktabs), CSV or a standalone HTML page.
 */
#pragma once
#include <stdio.h>
#include "results/results.h"
#include "util/perr.h"

enum table_format { TF_TEXT, TF_MD, TF_LATEX, TF_CSV, TF_HTML };
enum table_symbols { TS_PAPER, TS_RATE };
enum table_layout { TL_PAPER, TL_MATRIX, TL_SUMMARY };

struct table_opts {
	enum table_format format;
	enum table_symbols symbols;
	enum table_layout layout; /* TL_MATRIX needs rows and cols */
	const char *rows, *cols;  /* both set: the matrix layout */
};

int table_format_parse(const char *s, enum table_format *out);
int table_layout_parse(const char *s, enum table_layout *out);
/* The paper's symbol for K of N: ◎ at least 95 %, ○ at least 50 %, △ above 0, × none. */
const char *table_symbol(unsigned k, unsigned n);
/* Writes the table(s) of RES to F; -1 with ERR when a field is unknown. */
int table_render(const struct results *res, const struct table_opts *o, FILE *f,
		 struct perr *err);

/* The fields (in the order tables show them) whose values differ among the
 * N CELLS; OUT has room for every field. */
int table_varying(const struct rcell *const *cells, size_t n, const char **out);
/* A field's value as tables show it (malloc'd): peers with "+ local proxy",
 * topologies by file name. */
char *table_field_label(json_t *fields, const char *field);
char *table_value_label(json_t *v);
/* 0 if FIELD is one a table (or plot) can put on an axis, else -1 with ERR
 * listing the known ones. */
int table_check_field(const char *field, struct perr *err);
