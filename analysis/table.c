// SPDX-License-Identifier: MIT
#include "table.h"
#include "common.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CAPTION_SYMBOLS "◎ at least 95 %, ○ at least 50 %, △ above 0, × none connected"

int table_format_parse(const char *s, enum table_format *out)
{
	static const char *const names[] = {"text", "md", "latex", "csv", "html"};
	for (int i = 0; i < 5; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum table_format)i;
			return 0;
		}
	return -1;
}

const char *table_symbol(unsigned k, unsigned n)
{
	if (n == 0 || k == 0)
		return "×";
	if (k * 100 >= 95 * n)
		return "◎";
	if (k * 2 >= n)
		return "○";
	return "△";
}

/* A table as strings: a caption, a header and rows. */
struct model {
	char *caption;
	int ncols, nrows;
	int first_result; /* columns from here on hold results */
	char **head;
	char ***rows;
};

static void model_free(struct model *m)
{
	for (int r = 0; r < m->nrows; r++) {
		for (int c = 0; c < m->ncols; c++)
			free(m->rows[r][c]);
		free(m->rows[r]);
	}
	for (int c = 0; c < m->ncols; c++)
		free(m->head[c]);
	free(m->rows);
	free(m->head);
	free(m->caption);
}

static void model_row(struct model *m, char **cells)
{
	m->rows = realloc(m->rows, (size_t)(m->nrows + 1) * sizeof(*m->rows));
	m->rows[m->nrows++] = cells;
}

static char *value_label(json_t *v)
{
	char *s;
	if (!v)
		return strdup("");
	if (json_is_string(v)) {
		const char *p = json_string_value(v), *slash = strrchr(p, '/');
		/* topology paths show as their file name */
		if (slash && strstr(p, ".json"))
			return strndup(slash + 1, strcspn(slash + 1, "."));
		return strdup(p);
	}
	s = json_dumps(v, JSON_ENCODE_ANY);
	return s ? s : strdup("?");
}

static char *field_label(json_t *fields, const char *field)
{
	if (!strcmp(field, "os_a") || !strcmp(field, "peer_a"))
		return peer_label(fields, 'a', " + local proxy");
	if (!strcmp(field, "os_b") || !strcmp(field, "peer_b"))
		return peer_label(fields, 'b', " + local proxy");
	return value_label(json_object_get(fields, field));
}

static char *result_text(json_t *cell, enum table_symbols sym)
{
	unsigned k = (unsigned)json_integer_value(json_object_get(cell, "successes"));
	unsigned n = (unsigned)json_integer_value(json_object_get(cell, "trials"));
	json_t *w = json_object_get(cell, "wilson95");
	char *s;
	if (sym == TS_PAPER) {
		if (asprintf(&s, "%s", table_symbol(k, n)) < 0)
			return NULL;
	} else if (asprintf(&s, "%.0f%% [%.0f–%.0f] (%u/%u)", n ? 100.0 * k / n : 0,
			    100 * json_number_value(json_array_get(w, 0)),
			    100 * json_number_value(json_array_get(w, 1)), k, n) < 0) {
		return NULL;
	}
	return s;
}

/* The cell fields that differ between cells (beyond those given). */
static int varying(json_t *cells, const char **out, int max)
{
	static const char *const order[] = {
	    "topology",	 "nat",	    "hairpin",	"os_a",	   "proxy_a",	   "os_b",	  "proxy_b",
	    "heuristic", "guesses", "delay_ms", "skew_ms", "background_a", "background_b"};
	int n = 0;
	for (size_t f = 0; f < sizeof(order) / sizeof(order[0]) && n < max; f++) {
		json_t *first = NULL;
		bool differs = false;
		size_t i;
		json_t *c;
		json_array_foreach(cells, i, c)
		{
			json_t *v = json_object_get(json_object_get(c, "fields"), order[f]);
			if (i == 0)
				first = v;
			else if (!(v && first ? json_equal(v, first) : v == first))
				differs = true;
		}
		if (differs)
			out[n++] = order[f];
	}
	return n;
}

static char *caption_for(json_t *res, const char *extra, enum table_symbols sym)
{
	json_t *suite = json_object_get(res, "suite");
	const char *desc = json_string_value(json_object_get(suite, "description"));
	char *s;
	if (asprintf(&s, "%s%s%s (%lld trials per cell; %s)", desc ? desc : "punchlab results",
		     extra ? " — " : "", extra ? extra : "",
		     (long long)json_integer_value(json_object_get(suite, "trials")),
		     sym == TS_PAPER ? CAPTION_SYMBOLS
				     : "rate, Wilson 95 % interval, connected/trials") < 0)
		return NULL;
	return s;
}

/* ---- renderers ---- */

static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80; /* code points, not bytes */
	return w;
}

static void pad(FILE *f, const char *s, size_t w)
{
	fputs(s, f);
	for (size_t i = width(s); i < w; i++)
		fputc(' ', f);
}

static void render_text(const struct model *m, FILE *f, bool md)
{
	size_t *w = calloc((size_t)m->ncols, sizeof(*w));
	for (int c = 0; c < m->ncols; c++) {
		w[c] = width(m->head[c]);
		for (int r = 0; r < m->nrows; r++)
			if (width(m->rows[r][c]) > w[c])
				w[c] = width(m->rows[r][c]);
	}
	if (md)
		fprintf(f, "%s\n\n", m->caption);
	for (int r = -1; r < m->nrows; r++) {
		char **row = r < 0 ? m->head : m->rows[r];
		if (md)
			fputs("| ", f);
		for (int c = 0; c < m->ncols; c++) {
			pad(f, row[c], c == m->ncols - 1 && !md ? 0 : w[c]);
			if (c < m->ncols - 1)
				fputs(md ? " | " : "  ", f);
		}
		fputs(md ? " |\n" : "\n", f);
		if (r < 0 && md) {
			fputs("|", f);
			for (int c = 0; c < m->ncols; c++) {
				for (size_t i = 0; i < w[c] + 2; i++)
					fputc('-', f);
				fputs("|", f);
			}
			fputc('\n', f);
		}
	}
	if (!md)
		fprintf(f, "%s\n", m->caption);
	free(w);
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void render_csv(const struct model *m, FILE *f)
{
	for (int r = -1; r < m->nrows; r++) {
		char **row = r < 0 ? m->head : m->rows[r];
		for (int c = 0; c < m->ncols; c++) {
			if (c)
				fputc(',', f);
			csv_field(f, row[c]);
		}
		fputs("\r\n", f);
	}
}

static void latex_text(FILE *f, const char *s)
{
	static const struct {
		const char *from, *to;
	} map[] = {{"◎", "$\\circledcirc$"}, {"○", "$\\bigcirc$"}, {"△", "$\\triangle$"},
		   {"×", "$\\times$"},	     {"–", "--"},	   {"—", "---"}};
	while (*s) {
		bool done = false;
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && !done; i++)
			if (!strncmp(s, map[i].from, strlen(map[i].from))) {
				fputs(map[i].to, f);
				s += strlen(map[i].from);
				done = true;
			}
		if (done)
			continue;
		switch (*s) {
		case '%':
		case '&':
		case '_':
		case '#':
		case '$':
		case '{':
		case '}':
			fputc('\\', f);
			fputc(*s, f);
			break;
		case '~':
			fputs("\\textasciitilde{}", f);
			break;
		case '<':
			fputs("\\textless{}", f);
			break;
		case '>':
			fputs("\\textgreater{}", f);
			break;
		case '^':
			fputs("\\textasciicircum{}", f);
			break;
		case '\\':
			fputs("\\textbackslash{}", f);
			break;
		default:
			fputc(*s, f);
		}
		s++;
	}
}

static void render_latex(const struct model *m, FILE *f)
{
	/* needs \usepackage{booktabs} and \usepackage{amssymb} (\circledcirc) */
	fputs("\\begin{table}\n\\centering\n\\begin{tabular}{", f);
	for (int c = 0; c < m->ncols; c++)
		fputc(c >= m->first_result ? 'c' : 'l', f);
	fputs("}\n\\toprule\n", f);
	for (int r = -1; r < m->nrows; r++) {
		char **row = r < 0 ? m->head : m->rows[r];
		for (int c = 0; c < m->ncols; c++) {
			if (c)
				fputs(" & ", f);
			latex_text(f, row[c]);
		}
		fputs(" \\\\\n", f);
		if (r < 0)
			fputs("\\midrule\n", f);
	}
	fputs("\\bottomrule\n\\end{tabular}\n\\caption{", f);
	latex_text(f, m->caption);
	fputs("}\n\\end{table}\n", f);
}

static void render_html(const struct model *m, FILE *f)
{
	fputs("<table>\n<caption>", f);
	xml_text(f, m->caption);
	fputs("</caption>\n<thead><tr>", f);
	for (int c = 0; c < m->ncols; c++) {
		fputs("<th>", f);
		xml_text(f, m->head[c]);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (int r = 0; r < m->nrows; r++) {
		fputs("<tr>", f);
		for (int c = 0; c < m->ncols; c++) {
			fputs(c ? "<td>" : "<th scope=\"row\">", f);
			xml_text(f, m->rows[r][c]);
			fputs(c ? "</td>" : "</th>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

static void render(const struct model *m, enum table_format fmt, FILE *f)
{
	switch (fmt) {
	case TF_TEXT:
		render_text(m, f, false);
		break;
	case TF_MD:
		render_text(m, f, true);
		break;
	case TF_LATEX:
		render_latex(m, f);
		break;
	case TF_CSV:
		render_csv(m, f);
		break;
	case TF_HTML:
		render_html(m, f);
		break;
	}
}

/* ---- layouts ---- */

static void paper_layout(json_t *res, const struct table_opts *o, struct model *m)
{
	json_t *cells = json_object_get(res, "cells");
	const char *vary[16];
	int nv = varying(cells, vary, 16), extra = 0;
	const char *cols[16];
	for (int i = 0; i < nv; i++)
		if (strcmp(vary[i], "os_a") && strcmp(vary[i], "os_b") &&
		    strcmp(vary[i], "proxy_a") && strcmp(vary[i], "proxy_b"))
			cols[extra++] = vary[i];
	m->ncols = 3 + extra;
	m->head = calloc((size_t)m->ncols, sizeof(char *));
	m->head[0] = strdup("Peer A");
	m->head[1] = strdup("Peer B");
	for (int i = 0; i < extra; i++)
		m->head[2 + i] = strdup(cols[i]);
	m->head[2 + extra] = strdup("Result");
	m->first_result = 2 + extra;
	m->caption = caption_for(res, NULL, o->symbols);
	size_t i;
	json_t *c;
	json_array_foreach(cells, i, c)
	{
		json_t *fl = json_object_get(c, "fields");
		char **row = calloc((size_t)m->ncols, sizeof(char *));
		row[0] = peer_label(fl, 'a', " + local proxy");
		row[1] = peer_label(fl, 'b', " + local proxy");
		for (int k = 0; k < extra; k++)
			row[2 + k] = field_label(fl, cols[k]);
		row[2 + extra] = result_text(c, o->symbols);
		model_row(m, row);
	}
}

/* distinct labels of FIELD over CELLS (those in GROUP only), in order of appearance */
static int labels(json_t *cells, const char *field, char **out, int max)
{
	int n = 0;
	size_t i;
	json_t *c;
	json_array_foreach(cells, i, c)
	{
		char *l = field_label(json_object_get(c, "fields"), field);
		bool seen = false;
		for (int k = 0; k < n; k++)
			seen |= !strcmp(out[k], l);
		if (seen || n == max)
			free(l);
		else
			out[n++] = l;
	}
	return n;
}

static char *group_key(json_t *fields, const char **gf, int ng)
{
	char *key = strdup("");
	for (int g = 0; g < ng; g++) {
		char *l = field_label(fields, gf[g]), *nk;
		if (asprintf(&nk, "%s%s%s %s", key, g ? ", " : "", gf[g], l) < 0)
			nk = NULL;
		free(l);
		free(key);
		key = nk ? nk : strdup("");
	}
	return key;
}

static int matrix_layout(json_t *res, const struct table_opts *o, FILE *f, struct perr *err)
{
	json_t *cells = json_object_get(res, "cells");
	static const char *const known[] = {"topology",	    "nat",	"hairpin", "os_a",
					    "os_b",	    "proxy_a",	"proxy_b", "heuristic",
					    "guesses",	    "delay_ms", "skew_ms", "background_a",
					    "background_b", "peer_a",	"peer_b",  NULL};
	for (int k = 0; k < 2; k++) {
		const char *fld = k ? o->cols : o->rows;
		bool ok = false;
		for (int i = 0; known[i]; i++)
			ok |= !strcmp(known[i], fld);
		if (!ok) {
			perr_set(err, fld, 0, 0,
				 "unknown field (known: topology, nat, hairpin, os_a, os_b, "
				 "proxy_a, proxy_b, heuristic, guesses, delay_ms, skew_ms, "
				 "background_a, background_b)");
			return -1;
		}
	}
	/* the fields that vary besides rows and columns make one table each */
	const char *vary[16], *gf[16];
	int nv = varying(cells, vary, 16), ng = 0;
	for (int i = 0; i < nv; i++) {
		bool axis = !strcmp(vary[i], o->rows) || !strcmp(vary[i], o->cols);
		/* proxies are part of the peer's label on an os axis */
		if ((!strcmp(vary[i], "proxy_a") &&
		     (!strcmp(o->rows, "os_a") || !strcmp(o->cols, "os_a"))) ||
		    (!strcmp(vary[i], "proxy_b") &&
		     (!strcmp(o->rows, "os_b") || !strcmp(o->cols, "os_b"))))
			axis = true;
		if (!axis)
			gf[ng++] = vary[i];
	}
	char *groups[256];
	int ngroups = 0;
	size_t i;
	json_t *c;
	json_array_foreach(cells, i, c)
	{
		char *k = group_key(json_object_get(c, "fields"), gf, ng);
		bool seen = false;
		for (int g = 0; g < ngroups; g++)
			seen |= !strcmp(groups[g], k);
		if (seen || ngroups == 256)
			free(k);
		else
			groups[ngroups++] = k;
	}
	for (int g = 0; g < ngroups; g++) {
		json_t *mine = json_array();
		json_array_foreach(cells, i, c)
		{
			char *k = group_key(json_object_get(c, "fields"), gf, ng);
			if (!strcmp(k, groups[g]))
				json_array_append(mine, c);
			free(k);
		}
		char *rl[256], *cl[256];
		int nr = labels(mine, o->rows, rl, 256), nc = labels(mine, o->cols, cl, 256);
		struct model m = {0};
		m.ncols = nc + 1;
		m.first_result = 1;
		m.head = calloc((size_t)m.ncols, sizeof(char *));
		if (asprintf(&m.head[0], "%s \\ %s", o->rows, o->cols) < 0)
			m.head[0] = strdup("");
		for (int k = 0; k < nc; k++)
			m.head[k + 1] = strdup(cl[k]);
		m.caption = caption_for(res, ng ? groups[g] : NULL, o->symbols);
		for (int r = 0; r < nr; r++) {
			char **row = calloc((size_t)m.ncols, sizeof(char *));
			row[0] = strdup(rl[r]);
			for (int k = 0; k < nc; k++) {
				size_t j;
				json_t *cc;
				json_array_foreach(mine, j, cc)
				{
					json_t *fl = json_object_get(cc, "fields");
					char *a = field_label(fl, o->rows),
					     *b = field_label(fl, o->cols);
					if (!row[k + 1] && !strcmp(a, rl[r]) && !strcmp(b, cl[k]))
						row[k + 1] = result_text(cc, o->symbols);
					free(a);
					free(b);
				}
				if (!row[k + 1])
					row[k + 1] = strdup("");
			}
			model_row(&m, row);
		}
		if (g && o->format != TF_CSV && o->format != TF_HTML)
			fputc('\n', f);
		render(&m, o->format, f);
		model_free(&m);
		for (int k = 0; k < nr; k++)
			free(rl[k]);
		for (int k = 0; k < nc; k++)
			free(cl[k]);
		json_decref(mine);
		free(groups[g]);
	}
	return 0;
}

int table_render(json_t *res, const struct table_opts *o, FILE *f, struct perr *err)
{
	if (o->format == TF_HTML)
		fputs(
		    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<title>punchlab results</title>\n<style>\nbody { font-family: sans-serif; }\n"
		    "table { border-collapse: collapse; margin: 1em 0; }\n"
		    "th, td { border: 1px solid #999; padding: 0.3em 0.7em; text-align: center; }\n"
		    "caption { caption-side: bottom; font-size: 90%; padding-top: 0.5em; }\n"
		    "</style>\n</head>\n<body>\n",
		    f);
	int rc = 0;
	if (o->rows && o->cols) {
		rc = matrix_layout(res, o, f, err);
	} else {
		struct model m = {0};
		paper_layout(res, o, &m);
		render(&m, o->format, f);
		model_free(&m);
	}
	if (o->format == TF_HTML)
		fputs("</body>\n</html>\n", f);
	return rc;
}
