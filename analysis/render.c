// SPDX-License-Identifier: MIT
#include "render.h"
#include "render_api.h"
#include <stdio.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIG_FAMILY "DejaVu Sans"

struct fig_render {
	cairo_surface_t *scratch;
	cairo_t *cr;
	PangoLayout *layout;
	PangoFontDescription *font;
};

static cairo_font_options_t *unhinted(void)
{
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	return fo;
}

/* R's layout on CR, with R's options: what is measured is what is drawn */
static PangoLayout *layout_for(cairo_t *cr)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	cairo_font_options_t *fo = unhinted();
	pango_cairo_context_set_font_options(pango_layout_get_context(l), fo);
	pango_layout_context_changed(l);
	cairo_font_options_destroy(fo);
	return l;
}


static struct fig_render *render_new(void)
{
	struct fig_render *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
	r->cr = cairo_create(r->scratch);
	r->layout = layout_for(r->cr);
	r->font = pango_font_description_from_string(FIG_FAMILY);
	return r;
}

static void render_free(struct fig_render *r)
{
	if (!r)
		return;
	pango_font_description_free(r->font);
	g_object_unref(r->layout);
	cairo_destroy(r->cr);
	cairo_surface_destroy(r->scratch);
	free(r);
}

static void set_font(PangoLayout *l, PangoFontDescription *fd, double size, bool bold)
{
	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(l, fd);
}

static double measure(const char *text, double size, bool bold, void *ctx)
{
	struct fig_render *r = ctx;
	PangoRectangle ink, logical;
	set_font(r->layout, r->font, size, bold);
	pango_layout_set_text(r->layout, text, -1);
	pango_layout_get_extents(r->layout, &ink, &logical);
	/* the wider of the two: an italic or a wide glyph may overhang */
	int w = logical.width > ink.x + ink.width ? logical.width : ink.x + ink.width;
	return (double)w / PANGO_SCALE;
}

static struct fig_font render_font(struct fig_render *r, double size, bool bold)
{
	return (struct fig_font){.size = size, .bold = bold, .measure = measure, .ctx = r};
}

static void draw_dot(cairo_t *cr, const struct fig_item *it)
{
	double x = it->x, y = it->y, d = it->size;
	switch (it->shape) {
	case 1:
		cairo_rectangle(cr, x - d, y - d, 2 * d, 2 * d);
		break;
	case 2:
		cairo_move_to(cr, x, y - 1.2 * d);
		cairo_line_to(cr, x + 1.1 * d, y + 0.8 * d);
		cairo_line_to(cr, x - 1.1 * d, y + 0.8 * d);
		cairo_close_path(cr);
		break;
	case 3:
		cairo_move_to(cr, x, y - 1.3 * d);
		cairo_line_to(cr, x + 1.3 * d, y);
		cairo_line_to(cr, x, y + 1.3 * d);
		cairo_line_to(cr, x - 1.3 * d, y);
		cairo_close_path(cr);
		break;
	default:
		cairo_arc(cr, x, y, d, 0, 2 * M_PI);
	}
	cairo_fill(cr);
}

static void draw_item(cairo_t *cr, PangoLayout *l, PangoFontDescription *fd,
		      const struct fig_item *it)
{
	cairo_set_source_rgb(cr, it->rgb[0], it->rgb[1], it->rgb[2]);
	switch (it->kind) {
	case FIG_RECT:
		cairo_rectangle(cr, it->x, it->y, it->w, it->h);
		cairo_fill(cr);
		break;
	case FIG_LINE:
		cairo_set_line_width(cr, it->size > 0 ? it->size : 1);
		cairo_move_to(cr, it->x, it->y);
		cairo_line_to(cr, it->x + it->w, it->y + it->h);
		cairo_stroke(cr);
		break;
	case FIG_DOT:
		draw_dot(cr, it);
		break;
	case FIG_TEXT:
		set_font(l, fd, it->size, it->bold);
		pango_layout_set_text(l, it->text, -1);
		cairo_move_to(cr, it->x, it->y);
		pango_cairo_show_layout(cr, l);
		break;
	}
}

/* cairo's write callback: the stream, and the errno of its first failure
 * (cairo itself keeps only "write error") */
struct sink {
	FILE *f;
	int err;
};

static cairo_status_t to_stream(void *closure, const unsigned char *data, unsigned int len)
{
	struct sink *k = closure;
	if (fwrite(data, 1, len, k->f) == len)
		return CAIRO_STATUS_SUCCESS;
	if (!k->err)
		k->err = errno ? errno : EIO;
	return CAIRO_STATUS_WRITE_ERROR;
}

static void draw_scene(cairo_t *cr, const struct fig_scene *s)
{
	PangoLayout *l = layout_for(cr);
	PangoFontDescription *fd = pango_font_description_from_string(FIG_FAMILY);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	for (size_t i = 0; i < s->n; i++)
		draw_item(cr, l, fd, &s->it[i]);
	pango_font_description_free(fd);
	g_object_unref(l);
}

static int render_write(struct fig_render *r, const struct fig_scene *s, enum fig_format fmt,
			FILE *f, char *why, size_t whylen)
{
	(void)r;
	struct sink k = {.f = f};
	double w = ceil(s->width), h = ceil(s->height);
	cairo_surface_t *sf;
	if (fmt == FF_SVG) {
		sf = cairo_svg_surface_create_for_stream(to_stream, &k, w, h);
		cairo_svg_surface_set_document_unit(sf, CAIRO_SVG_UNIT_PX);
	} else if (fmt == FF_PDF) {
		sf = cairo_pdf_surface_create_for_stream(to_stream, &k, w, h);
	} else {
		sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w * 2, (int)h * 2);
	}
	cairo_t *cr = cairo_create(sf);
	if (fmt == FF_PNG)
		cairo_scale(cr, 2, 2);
	draw_scene(cr, s);
	cairo_status_t st = cairo_status(cr);
	cairo_destroy(cr);
	if (st == CAIRO_STATUS_SUCCESS && fmt == FF_PNG)
		st = cairo_surface_write_to_png_stream(sf, to_stream, &k);
	cairo_surface_finish(sf);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(sf);
	cairo_surface_destroy(sf);
	if (k.err) {
		snprintf(why, whylen, "cannot write: %s", strerror(k.err));
		return -k.err;
	}
	if (st != CAIRO_STATUS_SUCCESS) {
		snprintf(why, whylen, "cannot draw: %s", cairo_status_to_string(st));
		return -EIO;
	}
	return 0;
}

/* The module's one exported symbol (render_api.h): render_dl.c finds it. */
const struct fig_render_api punchlab_render_api = {
    .abi = FIG_RENDER_ABI,
    .new_ = render_new,
    .free_ = render_free,
    .font = render_font,
    .write = render_write,
};
