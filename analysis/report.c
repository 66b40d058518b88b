// SPDX-License-Identifier: MIT
#include "report.h"
#include "common.h"
#include "ladder.h"
#include "plot.h"
#include "report_css.h"
#include "report_js.h"
#include "table.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* styles and the script inline, images as data: URLs, and nothing else */
#define CSP                                                                                        \
	"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

static void base64(FILE *f, const unsigned char *p, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		fputc(b64[v >> 18], f);
		fputc(b64[(v >> 12) & 63], f);
		fputc(i + 1 < n ? b64[(v >> 6) & 63] : '=', f);
		fputc(i + 2 < n ? b64[v & 63] : '=', f);
	}
}

struct collect {
	json_t *cells; /* cell id -> [ladder_json, ...] */
	struct perr *err;
};

static int collect_trial(json_t *trial, const struct rcell *cell, void *ctx)
{
	struct collect *c = ctx;
	struct ladder l;
	if (!cell)
		return 0;
	if (ladder_build(trial, &l, c->err) < 0)
		return -1;
	json_t *arr = json_object_get(c->cells, cell->id);
	if (!arr) {
		arr = json_array();
		json_object_set_new(c->cells, cell->id, arr);
	}
	json_array_append_new(arr, ladder_json(&l));
	ladder_free(&l);
	return 0;
}

static void head(const struct results *res, FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"" CSP "\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>punchlab report: ",
	      f);
	xml_text(f, results_base(res->path));
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", report_css);
}

static void meta_row(FILE *f, const char *k, json_t *v)
{
	fputs("<dt>", f);
	xml_text(f, k);
	fputs("</dt><dd>", f);
	char *s = json_is_string(v) ? strdup(json_string_value(v))
				    : json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
	xml_text(f, s ? s : "");
	free(s);
	fputs("</dd>\n", f);
}

static void metadata(const struct results *res, FILE *f)
{
	const char *k;
	json_t *v;
	fputs("<section id=\"metadata\">\n<h2>Run</h2>\n<dl class=\"meta\">\n", f);
	json_t *path = json_string(res->path);
	meta_row(f, "results", path);
	json_decref(path);
	json_object_foreach(res->metadata, k, v) meta_row(f, k, v);
	json_object_foreach(res->suite, k, v)
	{
		char key[64];
		snprintf(key, sizeof(key), "suite %s", k);
		meta_row(f, key, v);
	}
	fputs("</dl>\n</section>\n", f);
}

/* The fields that vary, a proxy field as its peer's os field (whose label
 * says "+ local proxy"). */
static int varying(const struct results *res, const char **out)
{
	const struct rcell **cells = calloc(res->ncells + 1, sizeof(*cells));
	const char *vf[32];
	int n = 0, nv = 0;
	for (size_t i = 0; cells && i < res->ncells; i++)
		cells[i] = &res->cells[i];
	if (cells)
		nv = table_varying(cells, res->ncells, vf);
	free(cells);
	for (int i = 0; i < nv; i++) {
		const char *f = !strcmp(vf[i], "proxy_a")   ? "os_a"
				: !strcmp(vf[i], "proxy_b") ? "os_b"
							    : vf[i];
		bool dup = false;
		for (int k = 0; k < n; k++)
			dup |= !strcmp(out[k], f);
		if (!dup)
			out[n++] = f;
	}
	return n;
}

static void td(FILE *f, const char *cls, const char *text)
{
	fprintf(f, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	xml_text(f, text);
	fputs("</td>", f);
}

static void summary_row(const struct rcell *c, const char **vf, int nv, FILE *f)
{
	char buf[128];
	fprintf(f, "<tr id=\"c-%s\"><td><a href=\"#cell-%s\">%s</a></td>", c->id, c->id, c->id);
	for (int i = 0; i < nv; i++) {
		char *l = table_field_label(c->fields, vf[i]);
		td(f, NULL, l ? l : "");
		free(l);
	}
	snprintf(buf, sizeof(buf), "%u/%u", c->k, c->n);
	td(f, "num", buf);
	snprintf(buf, sizeof(buf), "%.0f%%", c->n ? 100.0 * c->k / c->n : 0);
	td(f, "num", buf);
	snprintf(buf, sizeof(buf), "[%.2f, %.2f]", c->lo, c->hi);
	td(f, "num", buf);
	if (isnan(c->ttc_median_ms))
		snprintf(buf, sizeof(buf), "–");
	else
		snprintf(buf, sizeof(buf), "%.1f", c->ttc_median_ms);
	td(f, "num", buf);
	fputs("<td>", f);
	for (size_t k = 0; k < c->nfail; k++) {
		fprintf(f, "%s", k ? ", " : "");
		xml_text(f, c->fail[k].reason);
		fprintf(f, " ×%u", c->fail[k].count);
	}
	fputs("</td></tr>\n", f);
}

static void summary_table(const struct results *res, FILE *f)
{
	const char *vf[32];
	int nv = varying(res, vf);
	fputs("<section id=\"table\">\n<h2>Cells</h2>\n<table class=\"summary\">\n<thead><tr>"
	      "<th>cell</th>",
	      f);
	for (int i = 0; i < nv; i++) {
		fputs("<th>", f);
		xml_text(f, vf[i]);
		fputs("</th>", f);
	}
	fputs("<th>connected</th><th>rate</th><th>95 % interval</th><th>median ms to "
	      "connect</th><th>failures</th></tr></thead>\n<tbody>\n",
	      f);
	for (size_t i = 0; i < res->ncells; i++)
		summary_row(&res->cells[i], vf, nv, f);
	fputs("</tbody>\n</table>\n</section>\n", f);
}

static int figure(const struct results *res, const struct plot_opts *o, const char *caption,
		  FILE *f, struct perr *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc = m ? plot_write(res, o, FF_SVG, m, "figure", err) : -1;
	if (m)
		fclose(m);
	if (rc == 0) {
		fputs("<figure>\n<img class=\"fig\" alt=\"", f);
		xml_text(f, caption);
		fputs("\" src=\"data:image/svg+xml;base64,", f);
		base64(f, (const unsigned char *)buf, len);
		fputs("\">\n<figcaption>", f);
		xml_text(f, caption);
		fputs("</figcaption>\n</figure>\n", f);
	}
	free(buf);
	return rc;
}

/* The heat map, and a curve for each numeric field that varies. */
static int figures(const struct results *res, FILE *f, struct perr *err)
{
	static const char *const numeric[] = {"delay_ms", "skew_ms", "background_a", "background_b",
					      "guesses"};
	const char *vf[32];
	int nv = varying(res, vf), rc;
	struct plot_opts o = {.kind = PK_HEATMAP};
	fputs("<section id=\"figures\">\n<h2>Figures</h2>\n", f);
	if (!res->ncells) {
		fputs("<p>No cell has a trial: nothing to draw.</p>\n</section>\n", f);
		return 0;
	}
	rc = figure(res, &o, "Heat map: success rate by the two fields that vary most", f, err);
	for (int i = 0; rc == 0 && i < nv; i++)
		for (size_t k = 0; k < sizeof(numeric) / sizeof(numeric[0]); k++) {
			bool all = !strcmp(vf[i], numeric[k]);
			for (size_t c = 0; all && c < res->ncells; c++)
				all = json_is_number(json_object_get(res->cells[c].fields, vf[i]));
			if (!all)
				continue;
			char cap[96];
			snprintf(cap, sizeof(cap), "Success rate against %s, Wilson 95 %% bars",
				 vf[i]);
			o = (struct plot_opts){.kind = PK_CURVE, .x = vf[i]};
			rc = figure(res, &o, cap, f, err);
		}
	fputs("</section>\n", f);
	return rc;
}

static void failures(const struct results *res, FILE *f)
{
	struct strlist reasons = {0};
	for (size_t i = 0; i < res->ncells; i++)
		for (size_t k = 0; k < res->cells[i].nfail; k++)
			strlist_add(&reasons, strdup(res->cells[i].fail[k].reason));
	fputs("<section id=\"failures\">\n<h2>Failures by reason</h2>\n", f);
	if (!reasons.n)
		fputs("<p>No trial failed.</p>\n", f);
	else
		fputs("<table class=\"failures\">\n<thead><tr><th>cell</th>", f);
	for (int r = 0; r < reasons.n; r++) {
		fputs("<th>", f);
		xml_text(f, reasons.s[r]);
		fputs("</th>", f);
	}
	if (reasons.n)
		fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; reasons.n && i < res->ncells; i++) {
		const struct rcell *c = &res->cells[i];
		if (!c->nfail)
			continue;
		fprintf(f, "<tr><td><a href=\"#cell-%s\">%s</a></td>", c->id, c->id);
		for (int r = 0; r < reasons.n; r++) {
			unsigned n = 0;
			for (size_t k = 0; k < c->nfail; k++)
				if (!strcmp(c->fail[k].reason, reasons.s[r]))
					n = c->fail[k].count;
			fprintf(f,
				"<td class=\"num\">%u <span class=\"bar\" style=\"width:%.1fem\">"
				"</span></td>",
				n, c->n ? 6.0 * n / c->n : 0);
		}
		fputs("</tr>\n", f);
	}
	if (reasons.n)
		fputs("</tbody>\n</table>\n", f);
	fputs("</section>\n", f);
	strlist_free(&reasons);
}

static void cells(const struct results *res, json_t *ladders, FILE *f)
{
	const char *vf[32];
	int nv = varying(res, vf);
	fputs("<section id=\"trials\">\n<h2>Trials</h2>\n<p>Open a cell for its trials, a trial "
	      "for the ladder of its capture: one line per capture point, one row per packet, "
	      "the packet that shows why a trial failed marked.</p>\n",
	      f);
	for (size_t i = 0; i < res->ncells; i++) {
		const struct rcell *c = &res->cells[i];
		fprintf(f, "<details class=\"cell\" id=\"cell-%s\" data-cell=\"%s\"><summary>%s: ",
			c->id, c->id, c->id);
		for (int k = 0; k < nv; k++) {
			char *l = table_field_label(c->fields, vf[k]);
			fprintf(f, "%s%s ", k ? ", " : "", vf[k]);
			xml_text(f, l ? l : "");
			free(l);
		}
		fprintf(f,
			" — %u/%u connected</summary>\n<div class=\"trials\"></div>\n</details>\n",
			c->k, c->n);
		/* "</script>" cannot occur: JSON_ESCAPE_SLASH writes "<\/" */
		json_t *l = json_object_get(ladders, c->id);
		char *js = l ? json_dumps(l, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
		fprintf(f, "<script type=\"application/json\" id=\"L-%s\">%s</script>\n", c->id,
			js ? js : "[]");
		free(js);
	}
	fputs("</section>\n", f);
}

int report_write(const struct results *res, FILE *f, struct perr *err)
{
	struct collect c = {.cells = json_object(), .err = err};
	int rc = results_foreach_trial(res, 0, collect_trial, &c, err);
	const char *desc = json_string_value(json_object_get(res->suite, "description"));
	if (rc == 0) {
		head(res, f);
		fputs("<h1>", f);
		xml_text(f, desc ? desc : results_base(res->path));
		fprintf(
		    f,
		    "</h1>\n<p>%zu cells, %zu trials%s.</p>\n<nav><a href=\"#metadata\">run</a><a "
		    "href=\"#table\">cells</a><a href=\"#figures\">figures</a><a "
		    "href=\"#failures\">failures</a><a href=\"#trials\">trials</a></nav>\n",
		    res->ncells, res->ntrials,
		    json_is_true(json_object_get(res->metadata, "interrupted")) ? ", interrupted"
										: "");
		metadata(res, f);
		summary_table(res, f);
		rc = figures(res, f, err);
	}
	if (rc == 0) {
		failures(res, f);
		cells(res, c.cells, f);
		fprintf(f, "<script>\n%s</script>\n</body>\n</html>\n", report_js);
	}
	json_decref(c.cells);
	return rc < 0 ? -1 : 0;
}
