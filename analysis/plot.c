// SPDX-License-Identifier: MIT
#include "plot.h"
#include "common.h"
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* red (0 %) through yellow to green (100 %) */
static void colour(double r, char *buf)
{
	int red = r < 0.5 ? 215 : (int)(215 - (r - 0.5) * 2 * 189);
	int green = r < 0.5 ? (int)(48 + r * 2 * 143) : (int)(191 - (r - 0.5) * 2 * 39);
	int blue = r < 0.5 ? 39 : (int)(39 + (r - 0.5) * 2 * 41);
	sprintf(buf, "#%02x%02x%02x", red, green, blue);
}

/* "nat=home-2009 topology=two-nats": the fields other than the OS pair */
static char *group_of(json_t *fl, const char *skip)
{
	char buf[512] = "";
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(fl, k, v)
	{
		if (!strncmp(k, "os_", 3) || !strncmp(k, "proxy_", 6) || (skip && !strcmp(k, skip)))
			continue;
		char *d = json_is_string(v) ? strdup(json_string_value(v))
					    : json_dumps(v, JSON_ENCODE_ANY);
		const char *shown = d;
		if (json_is_string(v) && strrchr(d, '/'))
			shown = strrchr(d, '/') + 1;
		if (n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s=%s", n ? " " : "", k,
					      shown);
		free(d);
	}
	return strdup(buf);
}

/* The rate a plot shows: 0 for a cell without trials. */
static double shown_rate(const struct rcell *c)
{
	return c->n ? (double)c->k / c->n : 0;
}

static void heat_cell(FILE *f, const struct rcell *c, const char *a, const char *b, int x, int y,
		      int cw, int ch)
{
	char col[8];
	double rate = shown_rate(c);
	colour(rate, col);
	fprintf(f,
		"<rect class=\"cell\" data-id=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" "
		"height=\"%d\" fill=\"%s\" stroke=\"white\"><title>",
		c->id, x, y, cw, ch, col);
	xml_text(f, a);
	fputs(" x ", f);
	xml_text(f, b);
	fprintf(f, ": %u/%u, 95%% %.2f-%.2f</title></rect>\n", c->k, c->n, c->lo, c->hi);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.0f%%</text>\n",
		x + cw / 2, y + ch / 2 + 4, 100 * rate);
}

int plot_heatmap(const struct results *res, FILE *f, struct perr *err)
{
	struct strlist groups = {0}, rows = {0}, cols = {0};
	for (size_t i = 0; i < res->ncells; i++) {
		json_t *fl = res->cells[i].fields;
		strlist_add(&groups, group_of(fl, NULL));
		strlist_add(&rows, peer_label(fl, 'a', "+proxy"));
		strlist_add(&cols, peer_label(fl, 'b', "+proxy"));
	}
	int ng = groups.n, nr = rows.n, nc = cols.n;
	if (!ng) {
		perr_set(err, "plot", 0, 0, "the results have no cells");
		return -1;
	}
	const int cw = 90, ch = 34, left = 170, top = 110;
	int pw = left + nc * cw + 20, ph = top + nr * ch + 20;
	int width = ng * pw + 20, height = ph + 90;
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		width, height, width, height);
	fprintf(f, "<title>");
	xml_text(f, json_string_value(json_object_get(res->suite, "description")) ?: "punchlab");
	fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	for (int g = 0; g < ng; g++) {
		int x0 = 10 + g * pw;
		fprintf(f, "<g class=\"panel\">\n<text x=\"%d\" y=\"20\" font-weight=\"bold\">",
			x0);
		xml_text(f, groups.s[g][0] ? groups.s[g] : "all cells");
		fprintf(f,
			"</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">peer B</text>\n",
			x0 + left + nc * cw / 2, top - 62);
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 %d "
			"%d)\">"
			"peer A</text>\n",
			x0 + 14, top + nr * ch / 2, x0 + 14, top + nr * ch / 2);
		for (int k = 0; k < nc; k++) {
			fprintf(f,
				"<text x=\"%d\" y=\"%d\" text-anchor=\"start\" "
				"transform=\"rotate(-30 %d %d)\">",
				x0 + left + k * cw + cw / 2, top - 8, x0 + left + k * cw + cw / 2,
				top - 8);
			xml_text(f, cols.s[k]);
			fputs("</text>\n", f);
		}
		for (int r = 0; r < nr; r++) {
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", x0 + left - 8,
				top + r * ch + ch / 2 + 4);
			xml_text(f, rows.s[r]);
			fputs("</text>\n", f);
		}
		for (size_t i = 0; i < res->ncells; i++) {
			const struct rcell *c = &res->cells[i];
			char *gk = group_of(c->fields, NULL), *a = peer_label(c->fields, 'a', "+proxy"),
			     *b = peer_label(c->fields, 'b', "+proxy");
			int r = strlist_find(&rows, a), k = strlist_find(&cols, b);
			if (!strcmp(gk, groups.s[g]) && r >= 0 && k >= 0)
				heat_cell(f, c, a, b, x0 + left + k * cw, top + r * ch, cw, ch);
			free(gk);
			free(a);
			free(b);
		}
		fputs("</g>\n", f);
	}
	/* the colour legend */
	int ly = ph + 30;
	fprintf(f, "<g class=\"legend\"><text x=\"10\" y=\"%d\">success rate</text>\n", ly - 8);
	for (int s = 0; s <= 20; s++) {
		char col[8];
		colour(s / 20.0, col);
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"14\" fill=\"%s\"/>\n",
			10 + s * 12, ly, col);
	}
	fprintf(f,
		"<text x=\"10\" y=\"%d\">0%%</text><text x=\"%d\" y=\"%d\" "
		"text-anchor=\"end\">100%%</text>"
		"</g>\n</svg>\n",
		ly + 30, 10 + 21 * 12, ly + 30);
	strlist_free(&groups);
	strlist_free(&rows);
	strlist_free(&cols);
	return 0;
}

/* "windows-xp x macosx-10.5 nat=home-2009": a curve's series */
static char *series_of(json_t *fl, const char *x)
{
	char *g = group_of(fl, x), *a = peer_label(fl, 'a', "+proxy"),
	     *b = peer_label(fl, 'b', "+proxy"), *s;
	if (asprintf(&s, "%s x %s%s%s", a, b, g[0] ? " " : "", g) < 0)
		s = NULL;
	free(g);
	free(a);
	free(b);
	return s;
}

int plot_curve(const struct results *res, const char *x, FILE *f, struct perr *err)
{
	double xmin = INFINITY, xmax = -INFINITY;
	struct strlist series = {0};
	for (size_t i = 0; i < res->ncells; i++) {
		const struct rcell *c = &res->cells[i];
		json_t *v = json_object_get(c->fields, x);
		if (!json_is_number(v)) {
			perr_set(err, x, 0, 0,
				 "cell %s has no numeric \"%s\": a curve needs a numeric field "
				 "that every cell sets (delay_ms, skew_ms, background_a, ...)",
				 c->id, x);
			strlist_free(&series);
			return -1;
		}
		double xv = json_number_value(v);
		xmin = xv < xmin ? xv : xmin;
		xmax = xv > xmax ? xv : xmax;
		strlist_add(&series, series_of(c->fields, x));
	}
	int ns = series.n;
	if (xmax == xmin)
		xmax = xmin + 1;
	const int W = 720, H = 420, L = 60, R = 20, T = 30, B = 50;
	static const char *const pal[] = {"#1b6ac9", "#d7301f", "#238b45", "#6a51a3",
					  "#e6550d", "#3182bd", "#636363", "#c51b8a"};
	fprintf(
	    f,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
	    "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
	    W, H + 20 * ns, W, H + 20 * ns);
#define PX(v) (L + ((v)-xmin) / (xmax - xmin) * (W - L - R))
#define PY(r) (T + (1 - (r)) * (H - T - B))
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H - B,
		W - R, H - B);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L,
		H - B);
	for (int t = 0; t <= 4; t++) {
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>\n", L - 6,
			PY(t / 4.0) + 4, t * 25);
		double xv = xmin + (xmax - xmin) * t / 4;
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", PX(xv),
			H - B + 18, xv);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (L + W - R) / 2, H - 10);
	xml_text(f, x);
	fprintf(f,
		"</text>\n<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
		"text-anchor=\"middle\">"
		"success rate (Wilson 95 %%)</text>\n",
		(T + H - B) / 2, (T + H - B) / 2);
	for (int s = 0; s < ns; s++) {
		const char *col = pal[s % 8];
		fprintf(f, "<g class=\"series\" stroke=\"%s\" fill=\"%s\">\n", col, col);
		double lastx = NAN, lasty = NAN;
		for (size_t i = 0; i < res->ncells; i++) {
			const struct rcell *c = &res->cells[i];
			char *key = series_of(c->fields, x);
			if (key && !strcmp(key, series.s[s])) {
				double xv = json_number_value(json_object_get(c->fields, x));
				double r = shown_rate(c);
				fprintf(f,
					"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
					PX(xv), PY(c->lo), PX(xv), PY(c->hi));
				fprintf(f,
					"<circle class=\"cell\" data-id=\"%s\" cx=\"%.1f\" "
					"cy=\"%.1f\" r=\"4\"/>\n",
					c->id, PX(xv), PY(r));
				if (!isnan(lastx))
					fprintf(f,
						"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
						"y2=\"%.1f\"/>\n",
						lastx, lasty, PX(xv), PY(r));
				lastx = PX(xv);
				lasty = PY(r);
			}
			free(key);
		}
		fprintf(f, "</g>\n<text x=\"%d\" y=\"%d\" fill=\"%s\">", L, H + 14 + 20 * s, col);
		xml_text(f, series.s[s]);
		fputs("</text>\n", f);
	}
	strlist_free(&series);
#undef PX
#undef PY
	fputs("</svg>\n", f);
	return 0;
}
