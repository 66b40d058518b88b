/* SPDX-License-Identifier: MIT */
/*
 * Drawing a scene (figure.h) with cairo, its text measured and set by pango,
 * as SVG, PDF or PNG onto a stdio stream (util/outfile's, or a memory
 * stream for the report). Metrics are unhinted, so the widths the layout
 * measured are the widths drawn, on every surface.
 */
#pragma once
#include <stdio.h>
#include "figure.h"
#include "util/perr.h"

enum fig_format { FF_SVG, FF_PDF, FF_PNG };

/* The format a file's name asks for: ".svg", ".pdf" or ".png" (any case). */
int fig_format_of(const char *path, enum fig_format *out);

struct fig_render;
/* NULL when the renderer cannot be loaded (fig_render_error says why) or
 * out of memory. */
struct fig_render *fig_render_new(void);
/* Why the renderer module did not load, or NULL when it did. */
const char *fig_render_error(void);
void fig_render_free(struct fig_render *r);
/* A font of SIZE px (bold or not) that R measures. */
struct fig_font fig_render_font(struct fig_render *r, double size, bool bold);
/* S in FMT on F (PNG at twice the scene's size, for screens): 0, or -errno
 * with ERR ("NAME: cannot write: REASON"). */
int fig_render_write(struct fig_render *r, const struct fig_scene *s, enum fig_format fmt, FILE *f,
		     const char *name, struct perr *err);
