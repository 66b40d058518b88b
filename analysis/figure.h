/* SPDX-License-Identifier: MIT */
/*
 * What a figure is made of before any library draws it: a scene (a display
 * list of rectangles, lines, markers and lines of text, each text item with
 * its measured box), the palettes, text wrapped or abbreviated to a width,
 * panels in a grid, and the choice of the fields on a heat map's axes.
 * Nothing here knows cairo: text is measured through a callback, so the
 * layout rules are tested with a fake measure and drawn with pango's.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "results/results.h"

/* Viridis at T (clamped to [0, 1]): a perceptually uniform scale that the
 * common colour-vision deficiencies read in order. RGB in [0, 1]. */
void fig_viridis(double t, double rgb[3]);
/* One of 8 colours (Okabe & Ito's, colour-blind-safe), for series I. */
void fig_series_colour(int i, double rgb[3]);
/* WCAG 2 contrast ratio of two colours (1 to 21). */
double fig_contrast(const double a[3], const double b[3]);
/* White or black, whichever contrasts more with BG. */
void fig_text_on(const double bg[3], double rgb[3]);

/* The width of TEXT in the figure's units, as the renderer will draw it. */
typedef double (*fig_measure_fn)(const char *text, double size, bool bold, void *ctx);
struct fig_font {
	double size;
	bool bold;
	fig_measure_fn measure;
	void *ctx;
};

struct fig_lines {
	char **s;
	int n;
};
void fig_lines_free(struct fig_lines *l);
/* The longest start of TEXT (whole UTF-8 characters) that with "…" fits
 * WIDTH; TEXT itself if it fits; "…" alone at worst (malloc'd). */
char *fig_abbrev(const char *text, double width, const struct fig_font *font);
/* TEXT in at most MAXLINES lines no wider than WIDTH: broken at spaces
 * (and after ',' '/' '=' when a word is too wide), a word wider than a line
 * abbreviated, and the last line abbreviated when text is left over. */
int fig_wrap(const char *text, double width, int maxlines, const struct fig_font *font,
	     struct fig_lines *out);

/* How many panels of width W go across, GAP apart, in MAXW (at least 1,
 * at most N); the rows follow. */
int fig_grid_cols(int n, double w, double gap, double maxw);

/* ---- the scene ---- */

enum fig_kind { FIG_RECT, FIG_LINE, FIG_DOT, FIG_TEXT };
/* What an item is for: tests look for the cells and the labels. */
enum fig_role { FR_NONE, FR_TITLE, FR_LABEL, FR_CELL, FR_CELL_TEXT, FR_LEGEND, FR_POINT, FR_BAR };

struct fig_item {
	enum fig_kind kind;
	enum fig_role role;
	double x, y, w, h; /* a line: from (x, y) to (x + w, y + h) */
	double rgb[3];
	double size; /* text: font size; a line: its width; a dot: radius */
	bool bold;
	int shape; /* a dot: 0 circle, 1 square, 2 triangle, 3 diamond */
	char *text;
};

struct fig_scene {
	struct fig_item *it;
	size_t n, cap;
	double width, height;
};

struct fig_item *fig_add(struct fig_scene *s, enum fig_kind kind, enum fig_role role);
/* A line of text at (X, Y) (top left), measured with FONT. */
struct fig_item *fig_text(struct fig_scene *s, enum fig_role role, const char *text, double x,
			  double y, const struct fig_font *font);
void fig_scene_free(struct fig_scene *s);
/* 0 when every text box lies inside the canvas and no two overlap; else -1
 * and WHY names the first offender. */
int fig_scene_check(const struct fig_scene *s, char *why, size_t len);

/* ---- heat map axes ---- */

/* The fields a heat map of RES shows: *ROWS and *COLS as given, or (when
 * NULL) the two fields with the most distinct values among the cells (ties
 * in table order; a proxy field counts with its peer's os field). *COLS is
 * NULL when only one field varies, both when none does. The other varying
 * fields make the panels: written to GROUPS (room for 16), their number
 * returned. */
int fig_axes(const struct results *res, const char **rows, const char **cols, const char **groups);
