// SPDX-License-Identifier: MIT
#include "figure.h"
#include "common.h"
#include "table.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* viridis, sampled at 0, 1/8, ..., 1 (matplotlib's _viridis_data) */
static const double viridis[9][3] = {
    {0.267004, 0.004874, 0.329415}, {0.282623, 0.140926, 0.457517}, {0.253935, 0.265254, 0.529983},
    {0.206756, 0.371758, 0.553117}, {0.163625, 0.471133, 0.558148}, {0.127568, 0.566949, 0.550556},
    {0.134692, 0.658636, 0.517649}, {0.477504, 0.821444, 0.318195}, {0.993248, 0.906157, 0.143936},
};

void fig_viridis(double t, double rgb[3])
{
	if (!(t > 0))
		t = 0;
	if (t > 1)
		t = 1;
	double p = t * 8;
	int i = (int)p;
	if (i >= 8)
		i = 7;
	double f = p - i;
	for (int c = 0; c < 3; c++)
		rgb[c] = viridis[i][c] + f * (viridis[i + 1][c] - viridis[i][c]);
}

void fig_series_colour(int i, double rgb[3])
{
	/* Okabe & Ito (2008), without yellow, which white paper swallows */
	static const unsigned pal[] = {0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7,
				       0x56b4e9, 0xe69f00, 0x000000, 0x999999};
	unsigned c = pal[(unsigned)i % 8];
	rgb[0] = (c >> 16) / 255.0;
	rgb[1] = ((c >> 8) & 0xff) / 255.0;
	rgb[2] = (c & 0xff) / 255.0;
}

static double luminance(const double c[3])
{
	double l[3];
	for (int i = 0; i < 3; i++)
		l[i] = c[i] <= 0.04045 ? c[i] / 12.92 : pow((c[i] + 0.055) / 1.055, 2.4);
	return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
}

double fig_contrast(const double a[3], const double b[3])
{
	double la = luminance(a), lb = luminance(b);
	return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

void fig_text_on(const double bg[3], double rgb[3])
{
	static const double white[3] = {1, 1, 1}, black[3] = {0, 0, 0};
	const double *pick = fig_contrast(bg, white) >= fig_contrast(bg, black) ? white : black;
	memcpy(rgb, pick, sizeof(white));
}

void fig_lines_free(struct fig_lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	l->s = NULL;
	l->n = 0;
}

static int lines_add(struct fig_lines *l, char *s)
{
	char **ns = s ? realloc(l->s, (size_t)(l->n + 1) * sizeof(*ns)) : NULL;
	if (!ns) {
		free(s);
		return -1;
	}
	l->s = ns;
	l->s[l->n++] = s;
	return 0;
}

static double width_of(const struct fig_font *f, const char *s)
{
	return f->measure(s, f->size, f->bold, f->ctx);
}

char *fig_abbrev(const char *text, double width, const struct fig_font *font)
{
	if (width_of(font, text) <= width)
		return strdup(text);
	size_t len = strlen(text);
	char *buf = malloc(len + sizeof("…"));
	if (!buf)
		return NULL;
	/* the longest prefix that fits: cut whole characters from the end */
	while (len > 0) {
		do
			len--;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80);
		while (len > 0 && text[len - 1] == ' ')
			len--;
		snprintf(buf, len + sizeof("…"), "%.*s…", (int)len, text);
		if (width_of(font, buf) <= width)
			return buf;
	}
	strcpy(buf, "…");
	return buf;
}

/* The longest start of WORD that ends after a soft break (',' '/' '=' '-')
 * and fits WIDTH: its length, or 0. */
static size_t soft_break(const char *word, double width, const struct fig_font *font)
{
	size_t best = 0, len = strlen(word);
	char *buf = malloc(len + 1);
	for (size_t i = 0; buf && i + 1 < len; i++) {
		if (!strchr(",/=-", word[i]))
			continue;
		memcpy(buf, word, i + 1);
		buf[i + 1] = 0;
		if (width_of(font, buf) > width)
			break;
		best = i + 1;
	}
	free(buf);
	return best;
}

/* LINE + " " + REST, abbreviated to WIDTH: the last line when text is left. */
static char *last_line(const char *line, const char *rest, double width,
		       const struct fig_font *font)
{
	char *all, *s;
	if (asprintf(&all, "%s%s%s", line, *line ? " " : "", rest) < 0)
		return NULL;
	s = fig_abbrev(all, width, font);
	free(all);
	return s;
}

int fig_wrap(const char *text, double width, int maxlines, const struct fig_font *font,
	     struct fig_lines *out)
{
	memset(out, 0, sizeof(*out));
	char *line = strdup(""), *cand = NULL;
	const char *p = text;
	int rc = 0;
	while (line && *p && rc == 0) {
		while (*p == ' ')
			p++;
		size_t wl = strcspn(p, " ");
		if (!wl)
			break;
		if (out->n == maxlines - 1 && width_of(font, p) > width && !*line) {
			rc = lines_add(out, last_line("", p, width, font));
			p += strlen(p);
			break;
		}
		if (asprintf(&cand, "%s%s%.*s", line, *line ? " " : "", (int)wl, p) < 0)
			break;
		if (width_of(font, cand) <= width) {
			free(line);
			line = cand;
			p += wl;
			continue;
		}
		free(cand);
		if (*line) { /* the word starts the next line */
			if (out->n == maxlines - 1) {
				rc = lines_add(out, last_line(line, p, width, font));
				p += strlen(p);
				free(line);
				line = strdup("");
				break;
			}
			rc = lines_add(out, line);
			line = strdup("");
			continue;
		}
		/* a word wider than a line: at a soft break, or abbreviated */
		char *word = strndup(p, wl);
		size_t cut = word ? soft_break(word, width, font) : 0;
		if (cut) {
			word[cut] = 0;
			p += cut;
		} else {
			char *ab = word ? fig_abbrev(word, width, font) : NULL;
			free(word);
			word = ab;
			p += wl;
		}
		rc = lines_add(out, word);
	}
	if (line && *line && rc == 0)
		rc = lines_add(out, line);
	else
		free(line);
	if (!line || rc < 0) {
		fig_lines_free(out);
		return -1;
	}
	return 0;
}

int fig_grid_cols(int n, double w, double gap, double maxw)
{
	int k = (int)((maxw + gap) / (w + gap));
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	/* balance the rows: 5 panels in 3 + 2, not 4 + 1 */
	if (k > 0) {
		int rows = (n + k - 1) / k;
		k = (n + rows - 1) / rows;
	}
	return k;
}

struct fig_item *fig_add(struct fig_scene *s, enum fig_kind kind, enum fig_role role)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct fig_item *ni = realloc(s->it, cap * sizeof(*ni));
		if (!ni)
			return NULL;
		s->it = ni;
		s->cap = cap;
	}
	struct fig_item *it = &s->it[s->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->role = role;
	return it;
}

struct fig_item *fig_text(struct fig_scene *s, enum fig_role role, const char *text, double x,
			  double y, const struct fig_font *font)
{
	struct fig_item *it = fig_add(s, FIG_TEXT, role);
	if (!it)
		return NULL;
	it->text = strdup(text);
	it->x = x;
	it->y = y;
	it->size = font->size;
	it->bold = font->bold;
	it->w = width_of(font, text);
	it->h = font->size * 1.25;
	return it;
}

void fig_scene_free(struct fig_scene *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->it[i].text);
	free(s->it);
	memset(s, 0, sizeof(*s));
}

static bool overlap(const struct fig_item *a, const struct fig_item *b)
{
	/* a hair of slack: adjacent lines of one paragraph touch */
	const double e = 0.01;
	return a->x + a->w > b->x + e && b->x + b->w > a->x + e && a->y + a->h > b->y + e &&
	       b->y + b->h > a->y + e;
}

int fig_scene_check(const struct fig_scene *s, char *why, size_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct fig_item *a = &s->it[i];
		if (a->kind != FIG_TEXT)
			continue;
		if (a->x < 0 || a->y < 0 || a->x + a->w > s->width || a->y + a->h > s->height) {
			snprintf(why, len,
				 "\"%s\" at %.1f,%.1f (%.1f x %.1f) leaves the %.0f x %.0f canvas",
				 a->text, a->x, a->y, a->w, a->h, s->width, s->height);
			return -1;
		}
		for (size_t j = i + 1; j < s->n; j++)
			if (s->it[j].kind == FIG_TEXT && overlap(a, &s->it[j])) {
				snprintf(why, len, "\"%s\" overlaps \"%s\"", a->text,
					 s->it[j].text);
				return -1;
			}
	}
	return 0;
}

/* How many distinct labels FIELD has among RES's cells. */
static int distinct(const struct results *res, const char *field)
{
	struct strlist l = {0};
	for (size_t i = 0; i < res->ncells; i++)
		strlist_add(&l, table_field_label(res->cells[i].fields, field));
	int n = l.n;
	strlist_free(&l);
	return n;
}

/* os_a for proxy_a: the proxy is part of the peer's label */
static const char *axis_name(const char *f)
{
	if (!strcmp(f, "proxy_a"))
		return "os_a";
	if (!strcmp(f, "proxy_b"))
		return "os_b";
	return f;
}

static bool on_axis(const char *f, const char *rows, const char *cols)
{
	const char *a = axis_name(f);
	return (rows && !strcmp(a, axis_name(rows))) || (cols && !strcmp(a, axis_name(cols)));
}

int fig_axes(const struct results *res, const char **rows, const char **cols, const char **groups)
{
	const struct rcell **cells = calloc(res->ncells + 1, sizeof(*cells));
	const char *vary[32], *cand[32];
	int nv = 0, nc = 0, ng = 0;
	for (size_t i = 0; cells && i < res->ncells; i++)
		cells[i] = &res->cells[i];
	nv = cells ? table_varying(cells, res->ncells, vary) : 0;
	free(cells);
	for (int i = 0; i < nv; i++) {
		const char *a = axis_name(vary[i]);
		bool dup = false;
		for (int k = 0; k < nc; k++)
			dup |= !strcmp(cand[k], a);
		if (!dup)
			cand[nc++] = a;
	}
	if (!*rows || !*cols) {
		int best[2] = {-1, -1}, bn[2] = {0, 0};
		for (int k = 0; k < nc; k++) {
			int d = distinct(res, cand[k]);
			if (d > bn[0]) {
				best[1] = best[0], bn[1] = bn[0];
				best[0] = k, bn[0] = d;
			} else if (d > bn[1]) {
				best[1] = k, bn[1] = d;
			}
		}
		*rows = best[0] >= 0 ? cand[best[0]] : NULL;
		*cols = best[1] >= 0 ? cand[best[1]] : NULL;
	}
	for (int i = 0; i < nv && ng < 16; i++)
		if (!on_axis(vary[i], *rows, *cols))
			groups[ng++] = vary[i];
	return ng;
}
