// SPDX-License-Identifier: MIT
#include "plot.h"
#include "common.h"
#include "table.h"
#include "util/strbuf.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN 16.0
#define GAP 28.0
#define MAX_WIDTH 1100.0
#define LINE(font) ((font)->size * 1.25)

static const double ink[3] = {0.1, 0.1, 0.1}, grey[3] = {0.45, 0.45, 0.45},
		    blank[3] = {0.93, 0.93, 0.93};

/* The fonts of a figure: all measured by one renderer. */
struct fonts {
	struct fig_font title, head, body, small, rate;
};

static void fonts_init(struct fonts *f, struct fig_render *r)
{
	f->title = fig_render_font(r, 15, true);
	f->head = fig_render_font(r, 13, true);
	f->body = fig_render_font(r, 12, false);
	f->small = fig_render_font(r, 10.5, false);
	f->rate = fig_render_font(r, 13, true);
}

/* TEXT wrapped to WIDTH in at most MAXLINES lines at (X, Y), each line
 * aligned by ALIGN (0 left, 1 centre, 2 right) in WIDTH: the height used. */
static double para(struct fig_scene *s, enum fig_role role, const char *text, double x, double y,
		   double width, int maxlines, int align, const struct fig_font *font,
		   const double rgb[3])
{
	struct fig_lines l;
	if (fig_wrap(text, width, maxlines, font, &l) < 0)
		return 0;
	for (int i = 0; i < l.n; i++) {
		struct fig_item *it = fig_text(s, role, l.s[i], x, y + i * LINE(font), font);
		if (!it)
			break;
		it->x += align == 1 ? (width - it->w) / 2 : align == 2 ? width - it->w : 0;
		memcpy(it->rgb, rgb, sizeof(it->rgb));
	}
	double h = l.n * LINE(font);
	fig_lines_free(&l);
	return h;
}

/* How many lines TEXT takes at WIDTH (at most MAXLINES). */
static int para_lines(const char *text, double width, int maxlines, const struct fig_font *font)
{
	struct fig_lines l;
	if (fig_wrap(text, width, maxlines, font, &l) < 0)
		return 1;
	int n = l.n ? l.n : 1;
	fig_lines_free(&l);
	return n;
}

static void rect(struct fig_scene *s, enum fig_role role, double x, double y, double w, double h,
		 const double rgb[3])
{
	struct fig_item *it = fig_add(s, FIG_RECT, role);
	if (!it)
		return;
	*it = (struct fig_item){.kind = FIG_RECT, .role = role, .x = x, .y = y, .w = w, .h = h};
	memcpy(it->rgb, rgb, sizeof(it->rgb));
}

static void line(struct fig_scene *s, enum fig_role role, double x0, double y0, double x1,
		 double y1, double width, const double rgb[3])
{
	struct fig_item *it = fig_add(s, FIG_LINE, role);
	if (!it)
		return;
	*it = (struct fig_item){.kind = FIG_LINE,
				.role = role,
				.x = x0,
				.y = y0,
				.w = x1 - x0,
				.h = y1 - y0,
				.size = width};
	memcpy(it->rgb, rgb, sizeof(it->rgb));
}

/* A field's value on an axis: "(not set)" for a cell without it. */
static char *axis_label(json_t *fields, const char *field)
{
	if (!field)
		return strdup("all cells");
	char *l = table_field_label(fields, field);
	if (l && !*l) {
		free(l);
		return strdup("(not set)");
	}
	return l;
}

/* "topology two-nats, nat home-2009": a panel's (or a series') fields */
static char *group_label(json_t *fields, const char **gf, int ng)
{
	struct strbuf sb = STRBUF_INIT;
	for (int g = 0; g < ng; g++) {
		char *l = axis_label(fields, gf[g]);
		strbuf_addf(&sb, "%s%s %s", g ? ", " : "", gf[g], l ? l : "");
		free(l);
	}
	if (!ng)
		strbuf_addf(&sb, "all cells");
	return strbuf_detach(&sb);
}

/* "100 trials per cell", or "2–4 trials per cell": as the cells have them
 * (the suite's count is what was asked, not what a shard or a cut holds) */
static void trials_per_cell(const struct results *res, char *buf, size_t len)
{
	unsigned lo = res->ncells ? res->cells[0].n : 0, hi = lo;
	for (size_t i = 1; i < res->ncells; i++) {
		lo = res->cells[i].n < lo ? res->cells[i].n : lo;
		hi = res->cells[i].n > hi ? res->cells[i].n : hi;
	}
	if (lo == hi)
		snprintf(buf, len, "%u trial%s per cell", lo, lo == 1 ? "" : "s");
	else
		snprintf(buf, len, "%u–%u trials per cell", lo, hi);
}

/* The figure's title and a line under it: the height used. */
static double title_block(struct fig_scene *s, const struct results *res, const char *sub,
			  double width, const struct fonts *ft)
{
	const char *desc = json_string_value(json_object_get(res->suite, "description"));
	double y = MARGIN;
	y += para(s, FR_TITLE, desc ? desc : results_base(res->path), MARGIN, y, width - 2 * MARGIN,
		  4, 0, &ft->title, ink);
	y += 2;
	y += para(s, FR_TITLE, sub, MARGIN, y, width - 2 * MARGIN, 3, 0, &ft->small, grey);
	return y + 10;
}

/* ---- heat map ---- */

struct heat {
	const struct results *res;
	const char *rows, *cols, *gf[16];
	int ng;
	struct strlist groups, rl, cl;
	int *gi, *ri, *ci; /* per cell: its panel, row and column */
	double cell_w, cell_h, row_w, col_h, title_h, panel_w, panel_h;
	struct fonts ft;
};

static void heat_free(struct heat *h)
{
	strlist_free(&h->groups);
	strlist_free(&h->rl);
	strlist_free(&h->cl);
	free(h->gi);
	free(h->ri);
	free(h->ci);
}

static int heat_collect(struct heat *h)
{
	size_t n = h->res->ncells;
	h->gi = calloc(n + 1, sizeof(int));
	h->ri = calloc(n + 1, sizeof(int));
	h->ci = calloc(n + 1, sizeof(int));
	if (!h->gi || !h->ri || !h->ci)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *fl = h->res->cells[i].fields;
		h->gi[i] = strlist_add(&h->groups, group_label(fl, h->gf, h->ng));
		h->ri[i] = strlist_add(&h->rl, axis_label(fl, h->rows));
		h->ci[i] = strlist_add(&h->cl, axis_label(fl, h->cols));
	}
	return 0;
}

static double widest(const struct strlist *l, const struct fig_font *f)
{
	double w = 0;
	for (int i = 0; i < l->n; i++) {
		double x = f->measure(l->s[i], f->size, f->bold, f->ctx);
		w = x > w ? x : w;
	}
	return w;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void corner_text(const struct heat *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s ↓ %s →", h->rows ? h->rows : "", h->cols ? h->cols : "");
}

static void heat_measure(struct heat *h)
{
	const struct fonts *ft = &h->ft;
	char corner[128];
	h->cell_w = clamp(widest(&h->cl, &ft->body) + 12, 72, 130);
	h->row_w = clamp(widest(&h->rl, &ft->body) + 4, 60, 190);
	int cl = 1, rl = 1, tl = 1;
	for (int k = 0; k < h->cl.n; k++) {
		int n = para_lines(h->cl.s[k], h->cell_w - 8, 3, &ft->body);
		cl = n > cl ? n : cl;
	}
	for (int r = 0; r < h->rl.n; r++) {
		int n = para_lines(h->rl.s[r], h->row_w, 2, &ft->body);
		rl = n > rl ? n : rl;
	}
	corner_text(h, corner, sizeof(corner));
	int nc = para_lines(corner, h->row_w, 3, &ft->small);
	h->col_h = fmax(cl * LINE(&ft->body), nc * LINE(&ft->small)) + 8;
	h->cell_h = fmax(42, rl * LINE(&ft->body) + 8);
	h->panel_w = h->row_w + 8 + h->cl.n * h->cell_w;
	for (int g = 0; g < h->groups.n; g++) {
		int n = para_lines(h->groups.s[g], h->panel_w, 3, &ft->head);
		tl = n > tl ? n : tl;
	}
	h->title_h = h->ng ? tl * LINE(&ft->head) + 6 : 0;
	h->panel_h = h->title_h + h->col_h + h->rl.n * h->cell_h;
}

/* One cell of the map at (X, Y): its colour, its rate and counts. */
static void heat_cell(struct fig_scene *s, const struct heat *h, const struct rcell *c, double x,
		      double y)
{
	double bg[3] = {0.75, 0.75, 0.75}, fg[3];
	char rate[16], counts[48];
	if (c->n)
		fig_viridis((double)c->k / c->n, bg);
	fig_text_on(bg, fg);
	rect(s, FR_CELL, x + 1, y + 1, h->cell_w - 2, h->cell_h - 2, bg);
	snprintf(rate, sizeof(rate), c->n ? "%.0f%%" : "–", c->n ? 100.0 * c->k / c->n : 0);
	/* connected through the relay: said, never coloured as punched */
	if (c->relayed && !c->k)
		snprintf(counts, sizeof(counts), "%u relayed", c->relayed);
	else if (c->relayed)
		snprintf(counts, sizeof(counts), "%u/%u +%u relayed", c->k, c->n, c->relayed);
	else
		snprintf(counts, sizeof(counts), "%u/%u", c->k, c->n);
	double mid = y + h->cell_h / 2;
	double top = mid - (LINE(&h->ft.rate) + LINE(&h->ft.small)) / 2;
	para(s, FR_CELL_TEXT, rate, x + 4, top, h->cell_w - 8, 1, 1, &h->ft.rate, fg);
	para(s, FR_CELL_TEXT, counts, x + 4, top + LINE(&h->ft.rate), h->cell_w - 8, 1, 1,
	     &h->ft.small, fg);
}

static void heat_panel(struct fig_scene *s, const struct heat *h, int g, double x0, double y0)
{
	const struct fonts *ft = &h->ft;
	char corner[128];
	if (h->ng)
		para(s, FR_TITLE, h->groups.s[g], x0, y0, h->panel_w, 3, 0, &ft->head, ink);
	double yc = y0 + h->title_h, yr = yc + h->col_h, xc = x0 + h->row_w + 8;
	corner_text(h, corner, sizeof(corner));
	para(s, FR_LABEL, corner, x0, yc, h->row_w, 3, 2, &ft->small, grey);
	for (int k = 0; k < h->cl.n; k++) {
		int n = para_lines(h->cl.s[k], h->cell_w - 8, 3, &ft->body);
		double y = yr - 4 - n * LINE(&ft->body);
		para(s, FR_LABEL, h->cl.s[k], xc + k * h->cell_w + 4, y, h->cell_w - 8, 3, 1,
		     &ft->body, ink);
	}
	for (int r = 0; r < h->rl.n; r++) {
		int n = para_lines(h->rl.s[r], h->row_w, 2, &ft->body);
		double y = yr + r * h->cell_h + (h->cell_h - n * LINE(&ft->body)) / 2;
		para(s, FR_LABEL, h->rl.s[r], x0, y, h->row_w, 2, 2, &ft->body, ink);
		for (int k = 0; k < h->cl.n; k++)
			rect(s, FR_NONE, xc + k * h->cell_w + 1, yr + r * h->cell_h + 1,
			     h->cell_w - 2, h->cell_h - 2, blank);
	}
	for (size_t i = 0; i < h->res->ncells; i++)
		if (h->gi[i] == g && h->ri[i] >= 0 && h->ci[i] >= 0)
			heat_cell(s, h, &h->res->cells[i], xc + h->ci[i] * h->cell_w,
				  yr + h->ri[i] * h->cell_h);
}

static double legend(struct fig_scene *s, const struct fonts *ft, double x, double y)
{
	const double w = 240, bh = 12;
	y += para(s, FR_LEGEND, "success rate (viridis); each cell: rate, connected/trials", x, y,
		  420, 2, 0, &ft->small, grey);
	for (int i = 0; i < 60; i++) {
		double rgb[3];
		fig_viridis(i / 59.0, rgb);
		rect(s, FR_LEGEND, x + i * w / 60, y + 2, w / 60 + 0.5, bh, rgb);
	}
	for (int t = 0; t <= 4; t++) {
		char lab[8];
		snprintf(lab, sizeof(lab), "%d%%", t * 25);
		double tw = ft->small.measure(lab, ft->small.size, false, ft->small.ctx);
		double tx = clamp(x + t * w / 4 - tw / 2, x, x + w - tw);
		line(s, FR_LEGEND, x + t * w / 4, y + 2 + bh, x + t * w / 4, y + bh + 5, 1, ink);
		para(s, FR_LEGEND, lab, tx, y + bh + 6, tw + 1, 1, 0, &ft->small, ink);
	}
	return y + bh + 6 + LINE(&ft->small);
}

static int heat_scene(const struct results *res, const struct plot_opts *o, struct fig_render *r,
		      struct fig_scene *s)
{
	struct heat h = {.res = res, .rows = o->rows, .cols = o->cols};
	fonts_init(&h.ft, r);
	h.ng = fig_axes(res, &h.rows, &h.cols, h.gf);
	if (heat_collect(&h) < 0) {
		heat_free(&h);
		return -1;
	}
	heat_measure(&h);
	int np = h.groups.n, k = fig_grid_cols(np, h.panel_w, GAP, MAX_WIDTH);
	int gr = (np + k - 1) / k;
	s->width = fmax(2 * MARGIN + k * h.panel_w + (k - 1) * GAP, 2 * MARGIN + 420);
	char sub[256];
	char per[48];
	trials_per_cell(res, per, sizeof(per));
	snprintf(sub, sizeof(sub), "success rate by %s and %s, %s; %s", h.rows ? h.rows : "nothing",
		 h.cols ? h.cols : "nothing", per, results_base(res->path));
	double y0 = title_block(s, res, sub, s->width, &h.ft);
	for (int g = 0; g < np; g++)
		heat_panel(s, &h, g, MARGIN + (g % k) * (h.panel_w + GAP),
			   y0 + (g / k) * (h.panel_h + GAP));
	double y = y0 + gr * h.panel_h + (gr - 1) * GAP + 18;
	s->height = legend(s, &h.ft, MARGIN, y) + MARGIN;
	heat_free(&h);
	return 0;
}

/* ---- curve ---- */

struct point {
	double x, rate, lo, hi;
};

struct series {
	char *label;
	struct point *p;
	size_t n;
};

static int by_x(const void *a, const void *b)
{
	const struct point *p = a, *q = b;
	return (p->x > q->x) - (p->x < q->x);
}

/* Series of the cells, each with its points in order of X; -1 with ERR
 * when a cell has no numeric X. */
static int curve_series(const struct results *res, const char *x, struct series **out, int *ns,
			double *xmin, double *xmax, struct perr *err)
{
	const char *vary[32], *gf[16];
	const struct rcell **cells = calloc(res->ncells + 1, sizeof(*cells));
	int nv = 0, ng = 0;
	for (size_t i = 0; cells && i < res->ncells; i++)
		cells[i] = &res->cells[i];
	nv = cells ? table_varying(cells, res->ncells, vary) : 0;
	free(cells);
	for (int i = 0; i < nv && ng < 16; i++)
		if (strcmp(vary[i], x))
			gf[ng++] = vary[i];
	struct strlist keys = {0};
	struct series *ser = calloc(res->ncells + 1, sizeof(*ser));
	*xmin = INFINITY, *xmax = -INFINITY;
	for (size_t i = 0; ser && i < res->ncells; i++) {
		const struct rcell *c = &res->cells[i];
		json_t *v = json_object_get(c->fields, x);
		if (!json_is_number(v)) {
			perr_set(err, x, 0, 0,
				 "cell %s has no numeric \"%s\": a curve needs a numeric field "
				 "that every cell sets (delay_ms, skew_ms, background_a, ...)",
				 c->id, x);
			*ns = keys.n;
			strlist_free(&keys);
			*out = ser;
			return -1;
		}
		int k = strlist_add(&keys, group_label(c->fields, gf, ng));
		struct series *sr = &ser[k];
		if (!sr->label)
			sr->label = strdup(keys.s[k]);
		sr->p = realloc(sr->p, (sr->n + 1) * sizeof(*sr->p));
		double xv = json_number_value(v);
		sr->p[sr->n++] = (struct point){xv, c->n ? (double)c->k / c->n : 0, c->lo, c->hi};
		*xmin = fmin(*xmin, xv);
		*xmax = fmax(*xmax, xv);
	}
	for (int k = 0; ser && k < keys.n; k++)
		qsort(ser[k].p, ser[k].n, sizeof(*ser[k].p), by_x);
	*ns = keys.n;
	strlist_free(&keys);
	*out = ser;
	return ser ? 0 : -1;
}

static void series_free(struct series *ser, int ns)
{
	for (int k = 0; ser && k < ns; k++) {
		free(ser[k].label);
		free(ser[k].p);
	}
	free(ser);
}

/* Ticks at 1, 2 or 5 times a power of ten: the step for at most MAXT. */
static double tick_step(double span, int maxt)
{
	double step = pow(10, floor(log10(span)));
	static const double mult[] = {1, 2, 5, 10};
	for (int i = 0; i < 4; i++)
		if (span / (step * mult[i]) <= maxt)
			return step * mult[i];
	return step * 10;
}

struct frame {
	double L, T, W, H, xmin, xmax;
};

static double px(const struct frame *f, double v)
{
	return f->L + (v - f->xmin) / (f->xmax - f->xmin) * f->W;
}

static double py(const struct frame *f, double r)
{
	return f->T + (1 - r) * f->H;
}

static void curve_axes(struct fig_scene *s, const struct frame *f, const char *x,
		       const struct fonts *ft)
{
	para(s, FR_LABEL, "success rate (dots), Wilson 95 % interval (bars)", f->L, f->T - 26, f->W,
	     1, 0, &ft->small, grey);
	line(s, FR_NONE, f->L, f->T + f->H, f->L + f->W, f->T + f->H, 1, ink);
	line(s, FR_NONE, f->L, f->T, f->L, f->T + f->H, 1, ink);
	for (int t = 0; t <= 4; t++) {
		char lab[8];
		snprintf(lab, sizeof(lab), "%d%%", t * 25);
		double y = py(f, t / 4.0);
		line(s, FR_NONE, f->L - 4, y, f->L, y, 1, ink);
		line(s, FR_NONE, f->L, y, f->L + f->W, y, 0.5, blank);
		para(s, FR_LABEL, lab, f->L - 52, y - LINE(&ft->small) / 2, 44, 1, 2, &ft->small,
		     ink);
	}
	/* x ticks: fewer when their labels would touch */
	double span = f->xmax - f->xmin, step = tick_step(span, 8);
	char lab[32];
	snprintf(lab, sizeof(lab), "%g", f->xmax);
	double lw = ft->small.measure(lab, ft->small.size, false, ft->small.ctx) + 10;
	while (step / span * f->W < lw)
		step *= 2;
	for (double v = ceil(f->xmin / step) * step; v <= f->xmax + 1e-9 * span; v += step) {
		double xx = px(f, v);
		snprintf(lab, sizeof(lab), "%g", fabs(v) < 1e-12 ? 0 : v);
		line(s, FR_NONE, xx, f->T + f->H, xx, f->T + f->H + 4, 1, ink);
		para(s, FR_LABEL, lab, xx - 40, f->T + f->H + 6, 80, 1, 1, &ft->small, ink);
	}
	para(s, FR_LABEL, x, f->L, f->T + f->H + 8 + LINE(&ft->small), f->W, 1, 1, &ft->body, ink);
}

static void curve_points(struct fig_scene *s, const struct frame *f, const struct series *sr, int k,
			 int ns)
{
	double rgb[3], dx = (k - (ns - 1) / 2.0) * 5;
	fig_series_colour(k, rgb);
	for (size_t i = 0; i < sr->n; i++) {
		const struct point *p = &sr->p[i];
		double x = px(f, p->x) + dx;
		line(s, FR_BAR, x, py(f, p->lo), x, py(f, p->hi), 1.2, rgb);
		line(s, FR_BAR, x - 3, py(f, p->lo), x + 3, py(f, p->lo), 1.2, rgb);
		line(s, FR_BAR, x - 3, py(f, p->hi), x + 3, py(f, p->hi), 1.2, rgb);
		if (i)
			line(s, FR_NONE, px(f, sr->p[i - 1].x) + dx, py(f, sr->p[i - 1].rate), x,
			     py(f, p->rate), 1.5, rgb);
		struct fig_item *it = fig_add(s, FIG_DOT, FR_POINT);
		if (it) {
			*it = (struct fig_item){.kind = FIG_DOT,
						.role = FR_POINT,
						.x = x,
						.y = py(f, p->rate),
						.size = 4,
						.shape = k % 4};
			memcpy(it->rgb, rgb, sizeof(rgb));
		}
	}
}

static int curve_scene(const struct results *res, const struct plot_opts *o, struct fig_render *r,
		       struct fig_scene *s, struct perr *err)
{
	struct fonts ft;
	struct series *ser = NULL;
	int ns = 0;
	struct frame f = {.W = 560, .H = 300};
	fonts_init(&ft, r);
	if (curve_series(res, o->x, &ser, &ns, &f.xmin, &f.xmax, err) < 0) {
		series_free(ser, ns);
		return -1;
	}
	if (f.xmax == f.xmin)
		f.xmax = f.xmin + 1;
	/* room for the markers and their dodge at both ends */
	double pad = (f.xmax - f.xmin) * 0.04;
	f.xmin -= pad;
	f.xmax += pad;
	s->width = 2 * MARGIN + 60 + f.W + 20;
	char sub[256];
	char per[48];
	trials_per_cell(res, per, sizeof(per));
	snprintf(sub, sizeof(sub), "success rate against %s, %s; %s", o->x, per,
		 results_base(res->path));
	f.L = MARGIN + 60;
	f.T = title_block(s, res, sub, s->width, &ft) + 30;
	curve_axes(s, &f, o->x, &ft);
	double y = f.T + f.H + 16 + 2 * LINE(&ft.small) + 8;
	for (int k = 0; k < ns; k++) {
		double rgb[3];
		curve_points(s, &f, &ser[k], k, ns);
		fig_series_colour(k, rgb);
		struct fig_item *it = fig_add(s, FIG_DOT, FR_LEGEND);
		if (it) {
			*it = (struct fig_item){.kind = FIG_DOT,
						.role = FR_LEGEND,
						.x = MARGIN + 6,
						.y = y + LINE(&ft.body) / 2,
						.size = 4,
						.shape = k % 4};
			memcpy(it->rgb, rgb, sizeof(rgb));
		}
		y += para(s, FR_LEGEND, ser[k].label, MARGIN + 18, y, s->width - 2 * MARGIN - 18, 2,
			  0, &ft.body, ink) +
		     4;
	}
	s->height = y + MARGIN;
	series_free(ser, ns);
	return 0;
}

int plot_scene(const struct results *res, const struct plot_opts *o, struct fig_render *r,
	       struct fig_scene *out, struct perr *err)
{
	memset(out, 0, sizeof(*out));
	if (!res->ncells) {
		perr_set(err, "plot", 0, 0, "the results have no cells");
		return -1;
	}
	int rc =
	    o->kind == PK_CURVE ? curve_scene(res, o, r, out, err) : heat_scene(res, o, r, out);
	if (rc < 0 && o->kind != PK_CURVE)
		perr_set(err, "plot", 0, 0, "cannot lay out the heat map: out of memory");
	if (rc < 0)
		fig_scene_free(out);
	return rc;
}

int plot_write(const struct results *res, const struct plot_opts *o, enum fig_format fmt, FILE *f,
	       const char *name, struct perr *err)
{
	struct fig_render *r = fig_render_new();
	struct fig_scene s;
	int rc = -1;
	if (!r)
		perr_set(err, "plot", 0, 0, "%s",
			 fig_render_error() ? fig_render_error() : "cannot start cairo: out of memory");
	else if (plot_scene(res, o, r, &s, err) == 0) {
		rc = fig_render_write(r, &s, fmt, f, name, err);
		fig_scene_free(&s);
	}
	fig_render_free(r);
	return rc;
}
