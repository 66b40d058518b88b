// SPDX-License-Identifier: MIT
#include "table.h"
#include "common.h"
#include "util/strbuf.h"
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

int table_layout_parse(const char *s, enum table_layout *out)
{
	static const char *const names[] = {"paper", "matrix", "summary"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum table_layout)i;
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

char *table_value_label(json_t *v)
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
	/* 0.3, not jansson's 0.29999999999999999 */
	if (json_is_real(v))
		return asprintf(&s, "%.10g", json_real_value(v)) < 0 ? NULL : s;
	s = json_dumps(v, JSON_ENCODE_ANY);
	return s ? s : strdup("?");
}

char *table_field_label(json_t *fields, const char *field)
{
	if (!strcmp(field, "os_a") || !strcmp(field, "peer_a"))
		return peer_label(fields, 'a', " + local proxy");
	if (!strcmp(field, "os_b") || !strcmp(field, "peer_b"))
		return peer_label(fields, 'b', " + local proxy");
	return table_value_label(json_object_get(fields, field));
}

static char *result_text(const struct rcell *c, enum table_symbols sym)
{
	char *s;
	if (sym == TS_PAPER) {
		if (asprintf(&s, "%s", table_symbol(c->k, c->n)) < 0)
			return NULL;
	} else if (asprintf(&s, "%.0f%% [%.0f–%.0f] (%u/%u)", c->n ? 100.0 * c->k / c->n : 0,
			    100 * c->lo, 100 * c->hi, c->k, c->n) < 0) {
		return NULL;
	}
	/* connected through the relay: said beside, never counted as punched */
	char *r;
	if (c->relayed && asprintf(&r, "%s, %u relayed", s, c->relayed) >= 0) {
		free(s);
		s = r;
	}
	return s;
}

static const char *const field_order[] = {"topology",	     "nat",
					  "hairpin",	     "os_a",
					  "proxy_a",	     "os_b",
					  "proxy_b",	     "method",
					  "runtime",
					  "heuristic",
					  "guesses",	     "delay_ms",
					  "jitter_ms",	     "jitter_dist",
					  "skew_ms",	     "skew_jitter_ms",
					  "skew_dist",	     "background_a",
					  "background_b",    "background_tcp",
					  "background_on_s", "background_off_s"};
#define NFIELDS (sizeof(field_order) / sizeof(field_order[0]))

int table_varying(const struct rcell *const *cells, size_t n, const char **out)
{
	int nv = 0;
	for (size_t f = 0; f < NFIELDS; f++) {
		json_t *first = n ? json_object_get(cells[0]->fields, field_order[f]) : NULL;
		bool differs = false;
		for (size_t i = 1; i < n && !differs; i++) {
			json_t *v = json_object_get(cells[i]->fields, field_order[f]);
			differs = !(v && first ? json_equal(v, first) : v == first);
		}
		if (differs)
			out[nv++] = field_order[f];
	}
	return nv;
}

static char *caption_for(const struct results *res, const char *extra, enum table_symbols sym)
{
	const char *desc = json_string_value(json_object_get(res->suite, "description"));
	char *s;
	if (asprintf(&s, "%s%s%s (%lld trials per cell; %s)", desc ? desc : "punchlab results",
		     extra ? " — " : "", extra ? extra : "",
		     (long long)json_integer_value(json_object_get(res->suite, "trials")),
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
		/* text lines end at their last non-empty column: no trailing blanks */
		int last = m->ncols - 1;
		while (!md && last > 0 && !*row[last])
			last--;
		for (int c = 0; c <= last; c++) {
			pad(f, row[c], c == last && !md ? 0 : w[c]);
			if (c < last)
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

static char **row_new(const struct model *m)
{
	return calloc((size_t)m->ncols + 1, sizeof(char *));
}

static void paper_layout(const struct results *res, const struct table_opts *o, struct model *m)
{
	const struct rcell **cells = calloc(res->ncells + 1, sizeof(*cells));
	const char *vary[NFIELDS], *cols[NFIELDS];
	int extra = 0;
	for (size_t i = 0; cells && i < res->ncells; i++)
		cells[i] = &res->cells[i];
	int nv = cells ? table_varying(cells, res->ncells, vary) : 0;
	for (int i = 0; i < nv; i++)
		if (strcmp(vary[i], "os_a") && strcmp(vary[i], "os_b") &&
		    strcmp(vary[i], "proxy_a") && strcmp(vary[i], "proxy_b"))
			cols[extra++] = vary[i];
	m->ncols = 3 + extra;
	m->head = row_new(m);
	m->head[0] = strdup("Peer A");
	m->head[1] = strdup("Peer B");
	for (int i = 0; i < extra; i++)
		m->head[2 + i] = strdup(cols[i]);
	m->head[2 + extra] = strdup("Result");
	m->first_result = 2 + extra;
	m->caption = caption_for(res, NULL, o->symbols);
	for (size_t i = 0; i < res->ncells; i++) {
		const struct rcell *c = &res->cells[i];
		char **row = row_new(m);
		row[0] = peer_label(c->fields, 'a', " + local proxy");
		row[1] = peer_label(c->fields, 'b', " + local proxy");
		for (int k = 0; k < extra; k++)
			row[2 + k] = table_field_label(c->fields, cols[k]);
		row[2 + extra] = result_text(c, o->symbols);
		model_row(m, row);
	}
	free(cells);
}

/* "two-nats home-2009 A=linux-2.6+proxy B=windows-xp skew_ms=5" */
static char *cell_name(json_t *fl)
{
	struct strbuf sb = STRBUF_INIT;
	const char *topo = json_string_value(json_object_get(fl, "topology")), *k;
	json_t *v;
	if (topo)
		strbuf_addf(&sb, "%.*s", (int)strcspn(results_base(topo), "."), results_base(topo));
	if (json_object_get(fl, "nat"))
		strbuf_addf(&sb, " %s", json_string_value(json_object_get(fl, "nat")));
	if (json_is_boolean(json_object_get(fl, "hairpin")))
		strbuf_addf(&sb, " hairpin-%s",
			    json_is_true(json_object_get(fl, "hairpin")) ? "on" : "off");
	for (char side = 'a'; side <= 'b'; side++) {
		char *l = peer_label(fl, side, "+proxy");
		strbuf_addf(&sb, " %c=%s", side - 'a' + 'A', l ? l : "?");
		free(l);
	}
	static const char *const shown[] = {"topology", "nat",	   "hairpin", "os_a",
					    "os_b",	"proxy_a", "proxy_b", NULL};
	json_object_foreach(fl, k, v)
	{
		bool skip = false;
		for (int i = 0; shown[i]; i++)
			skip |= !strcmp(shown[i], k);
		char *d = skip ? NULL : table_value_label(v);
		if (d)
			strbuf_addf(&sb, " %s=%s", k, d);
		free(d);
	}
	return strbuf_detach(&sb);
}

/* One line per cell with its counts, interval and failures: what a run prints. */
static void summary_layout(const struct results *res, struct model *m)
{
	static const char *const head[] = {"cell", "connected", "rate", "95% interval", "failures"};
	m->ncols = 5;
	m->first_result = 1;
	m->head = row_new(m);
	for (int i = 0; i < 5; i++)
		m->head[i] = strdup(head[i]);
	if (asprintf(&m->caption, "%zu cells, %zu trials", res->ncells, res->ntrials) < 0)
		m->caption = NULL;
	for (size_t i = 0; i < res->ncells; i++) {
		const struct rcell *c = &res->cells[i];
		char **row = row_new(m);
		struct strbuf fails = STRBUF_INIT;
		/* connected through the relay: beside the failures, never a success */
		if (c->relayed)
			strbuf_addf(&fails, "relayed x%u", c->relayed);
		for (size_t f = 0; f < c->nfail; f++)
			strbuf_addf(&fails, "%s%s x%u", f || c->relayed ? ", " : "",
				    c->fail[f].reason, c->fail[f].count);
		row[0] = cell_name(c->fields);
		if (asprintf(&row[1], "%u/%u", c->k, c->n) < 0)
			row[1] = NULL;
		if (asprintf(&row[2], "%.0f%%", c->n ? 100.0 * c->k / c->n : 0.0) < 0)
			row[2] = NULL;
		if (asprintf(&row[3], "[%.2f, %.2f]", c->lo, c->hi) < 0)
			row[3] = NULL;
		row[4] = strbuf_detach(&fails);
		model_row(m, row);
	}
}

static char *group_key(json_t *fields, const char **gf, int ng)
{
	struct strbuf sb = STRBUF_INIT;
	for (int g = 0; g < ng; g++) {
		char *l = table_field_label(fields, gf[g]);
		strbuf_addf(&sb, "%s%s %s", g ? ", " : "", gf[g], l ? l : "");
		free(l);
	}
	return strbuf_detach(&sb);
}

int table_check_field(const char *fld, struct perr *err)
{
	static const char *const extra[] = {"peer_a", "peer_b"};
	for (size_t i = 0; i < NFIELDS; i++)
		if (!strcmp(field_order[i], fld))
			return 0;
	for (size_t i = 0; i < 2; i++)
		if (!strcmp(extra[i], fld))
			return 0;
	char known[512] = "";
	for (size_t i = 0; i < NFIELDS; i++)
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "",
			 field_order[i]);
	perr_set(err, fld, 0, 0, "unknown field (known: %s, peer_a, peer_b)", known);
	return -1;
}

/* The fields that vary besides rows and columns: one table per combination. */
static int group_fields(const struct results *res, const struct table_opts *o, const char **gf)
{
	const struct rcell **cells = calloc(res->ncells + 1, sizeof(*cells));
	const char *vary[NFIELDS];
	int ng = 0;
	for (size_t i = 0; cells && i < res->ncells; i++)
		cells[i] = &res->cells[i];
	int nv = cells ? table_varying(cells, res->ncells, vary) : 0;
	free(cells);
	for (int i = 0; i < nv; i++) {
		bool axis = !strcmp(vary[i], o->rows) || !strcmp(vary[i], o->cols);
		/* proxies are part of the peer's label on an os axis */
		for (char side = 'a'; side <= 'b'; side++) {
			char os[8], px[10];
			snprintf(os, sizeof(os), "os_%c", side);
			snprintf(px, sizeof(px), "proxy_%c", side);
			axis |=
			    !strcmp(vary[i], px) && (!strcmp(o->rows, os) || !strcmp(o->cols, os));
		}
		if (!axis)
			gf[ng++] = vary[i];
	}
	return ng;
}

/* One matrix: the cells of group KEY, o->rows down and o->cols across. */
static void matrix_model(const struct results *res, const struct table_opts *o, const char **gf,
			 int ng, const char *key, struct model *m)
{
	struct strlist rl = {0}, cl = {0};
	int *ri = calloc(res->ncells + 1, sizeof(int)), *ci = calloc(res->ncells + 1, sizeof(int));
	for (size_t i = 0; ri && ci && i < res->ncells; i++) {
		json_t *fl = res->cells[i].fields;
		char *k = group_key(fl, gf, ng);
		bool mine = k && !strcmp(k, key);
		free(k);
		ri[i] = ci[i] = -1;
		if (!mine)
			continue;
		ri[i] = strlist_add(&rl, table_field_label(fl, o->rows));
		ci[i] = strlist_add(&cl, table_field_label(fl, o->cols));
	}
	m->ncols = cl.n + 1;
	m->first_result = 1;
	m->head = row_new(m);
	if (asprintf(&m->head[0], "%s \\ %s", o->rows, o->cols) < 0)
		m->head[0] = strdup("");
	for (int k = 0; k < cl.n; k++)
		m->head[k + 1] = strdup(cl.s[k]);
	m->caption = caption_for(res, ng ? key : NULL, o->symbols);
	for (int r = 0; r < rl.n; r++) {
		char **row = row_new(m);
		row[0] = strdup(rl.s[r]);
		for (size_t i = 0; ri && ci && i < res->ncells; i++)
			if (ri[i] == r && ci[i] >= 0 && !row[ci[i] + 1])
				row[ci[i] + 1] = result_text(&res->cells[i], o->symbols);
		for (int k = 0; k < cl.n; k++)
			if (!row[k + 1])
				row[k + 1] = strdup("");
		model_row(m, row);
	}
	free(ri);
	free(ci);
	strlist_free(&rl);
	strlist_free(&cl);
}

static int matrix_layout(const struct results *res, const struct table_opts *o, FILE *f,
			 struct perr *err)
{
	if (table_check_field(o->rows, err) < 0 || table_check_field(o->cols, err) < 0)
		return -1;
	const char *gf[NFIELDS];
	int ng = group_fields(res, o, gf);
	struct strlist groups = {0};
	for (size_t i = 0; i < res->ncells; i++)
		strlist_add(&groups, group_key(res->cells[i].fields, gf, ng));
	for (int g = 0; g < groups.n; g++) {
		struct model m = {0};
		matrix_model(res, o, gf, ng, groups.s[g], &m);
		if (g && o->format != TF_CSV && o->format != TF_HTML)
			fputc('\n', f);
		render(&m, o->format, f);
		model_free(&m);
	}
	strlist_free(&groups);
	return 0;
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>punchlab results</title>\n<style>\nbody { font-family: sans-serif; }\n"
    "table { border-collapse: collapse; margin: 1em 0; }\n"
    "th, td { border: 1px solid #999; padding: 0.3em 0.7em; text-align: center; }\n"
    "caption { caption-side: bottom; font-size: 90%; padding-top: 0.5em; }\n"
    "</style>\n</head>\n<body>\n";

/* A merge that lacks shards says so before the table (its text is numbers
 * and words of ours: nothing to escape); CSV stays data only. */
static void incomplete_head(const struct results *res, enum table_format fmt, FILE *f)
{
	char why[512];
	if (!results_incomplete(res, why, sizeof(why)))
		return;
	switch (fmt) {
	case TF_TEXT:
		fprintf(f, "INCOMPLETE: %s\n", why);
		break;
	case TF_MD:
		fprintf(f, "**Incomplete**: %s\n\n", why);
		break;
	case TF_LATEX:
		fprintf(f, "%% INCOMPLETE: %s\n", why);
		break;
	case TF_HTML:
		fprintf(f, "<p><strong>Incomplete</strong>: %s</p>\n", why);
		break;
	case TF_CSV:
		break;
	}
}

int table_render(const struct results *res, const struct table_opts *o, FILE *f, struct perr *err)
{
	if (o->format == TF_HTML)
		fputs(html_head, f);
	incomplete_head(res, o->format, f);
	int rc = 0;
	if (o->layout == TL_MATRIX || (o->rows && o->cols)) {
		rc = matrix_layout(res, o, f, err);
	} else {
		struct model m = {0};
		if (o->layout == TL_SUMMARY)
			summary_layout(res, &m);
		else
			paper_layout(res, o, &m);
		render(&m, o->format, f);
		model_free(&m);
	}
	if (o->format == TF_HTML)
		fputs("</body>\n</html>\n", f);
	return rc;
}
