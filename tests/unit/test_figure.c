// SPDX-License-Identifier: MIT
/* analysis/figure.c and plot.c: wrapping, palettes, the grid, the axes, and
 * scenes of real results in which no label overlaps another or leaves the
 * canvas (measured by pango, as drawn). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "figure.h"
#include "plot.h"
#include "render.h"

/* A fake measure: every character (not byte) is 0.6 of the size wide. */
static double fake_measure(const char *s, double size, bool bold, void *ctx)
{
	(void)bold;
	(void)ctx;
	size_t chars = 0;
	for (; *s; s++)
		chars += ((unsigned char)*s & 0xc0) != 0x80;
	return chars * size * 0.6;
}

static const struct fig_font fake = {.size = 10, .measure = fake_measure};

static bool valid_utf8(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : 3;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

Test(figure, wrapped_lines_fit_and_keep_the_words_in_order)
{
	const char *text = "nat=home-2009 heuristic=delta topology=../topologies/two-nats.json "
			   "hairpin=false os_a=windows-xp";
	for (double w = 6; w <= 400; w += 7) {
		struct fig_lines l;
		cr_assert_eq(fig_wrap(text, w, 50, &fake, &l), 0);
		cr_assert_gt(l.n, 0);
		for (int i = 0; i < l.n; i++) {
			cr_assert_leq(fake_measure(l.s[i], 10, false, NULL), w, "width %g: \"%s\"",
				      w, l.s[i]);
			cr_assert(valid_utf8(l.s[i]), "width %g: line %d", w, i);
		}
		if (w >= 216) { /* room for the longest word: nothing is lost */
			char joined[512] = "";
			for (int i = 0; i < l.n; i++)
				snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined),
					 "%s%s", i ? " " : "", l.s[i]);
			cr_assert_str_eq(joined, text, "width %g", w);
		}
		fig_lines_free(&l);
	}
}

Test(figure, wrap_stops_at_maxlines_with_an_ellipsis)
{
	struct fig_lines l;
	const char *text = "one two three four five six seven eight nine ten eleven twelve";
	cr_assert_eq(fig_wrap(text, 60, 2, &fake, &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.s[0], "one two");
	size_t n = strlen(l.s[1]);
	cr_assert(n >= 3 && !strcmp(l.s[1] + n - 3, "…"), "\"%s\"", l.s[1]);
	cr_assert_leq(fake_measure(l.s[1], 10, false, NULL), 60);
	fig_lines_free(&l);
}

Test(figure, a_too_long_word_breaks_at_a_slash_or_is_abbreviated)
{
	struct fig_lines l;
	cr_assert_eq(fig_wrap("topology=../topologies/two-nats.json", 90, 5, &fake, &l), 0);
	cr_assert_str_eq(l.s[0], "topology=../");
	for (int i = 0; i < l.n; i++)
		cr_assert_leq(fake_measure(l.s[i], 10, false, NULL), 90, "\"%s\"", l.s[i]);
	fig_lines_free(&l);
	char *a = fig_abbrev("supercalifragilistic", 60, &fake);
	cr_assert_str_eq(a, "supercali…", "9 characters and the ellipsis: 60 wide");
	free(a);
	a = fig_abbrev("ééééééé", 24, &fake); /* two-byte characters: cut whole */
	cr_assert_str_eq(a, "ééé…", "3 characters (6 bytes) and the ellipsis: 24 wide");
	free(a);
	a = fig_abbrev("fits", 100, &fake);
	cr_assert_str_eq(a, "fits");
	free(a);
	a = fig_abbrev("nothing fits", 1, &fake);
	cr_assert_str_eq(a, "…");
	free(a);
}

Test(figure, viridis_runs_dark_to_light_and_its_labels_stay_readable)
{
	double prev = -1, rgb[3], fg[3];
	static const double white[3] = {1, 1, 1};
	for (int i = 0; i <= 100; i++) {
		fig_viridis(i / 100.0, rgb);
		/* lightness rises monotonically: the order reads without hue */
		double l = fig_contrast(rgb, (const double[3]){0, 0, 0});
		cr_assert_lt(prev, l, "rate %d%%", i);
		prev = l;
		fig_text_on(rgb, fg);
		cr_assert_geq(fig_contrast(rgb, fg), 4.5, "rate %d%%: the printed rate (WCAG AA)",
			      i);
	}
	fig_viridis(-3, rgb);
	cr_assert_float_eq(rgb[0], 0.267004, 1e-6);
	fig_viridis(NAN, rgb);
	cr_assert_float_eq(rgb[0], 0.267004, 1e-6);
	fig_viridis(7, rgb);
	cr_assert_float_eq(rgb[1], 0.906157, 1e-6);
	cr_assert_float_eq(fig_contrast(white, white), 1, 1e-9);
}

Test(figure, panels_fill_balanced_rows)
{
	cr_assert_eq(fig_grid_cols(5, 200, 28, 1100), 3, "5 panels: 3 + 2, not 4 + 1");
	cr_assert_eq(fig_grid_cols(4, 200, 28, 1100), 4);
	cr_assert_eq(fig_grid_cols(1, 200, 28, 1100), 1);
	cr_assert_eq(fig_grid_cols(3, 2000, 28, 1100), 1, "a panel wider than the page");
	cr_assert_eq(fig_grid_cols(9, 300, 28, 1100), 3);
}

static struct results *load(const char *rel)
{
	struct results *r;
	struct perr err;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", SOURCE_ROOT, rel);
	cr_assert_eq(results_load(path, &r, &err), 0, "%s", err.msg);
	return r;
}

#define FIG2 "results/reference/paper-fig2-20261125T230516Z.json"
#define TABLE1 "results/reference/paper-table1-20261125T230516Z.json"

Test(figure, default_axes_are_the_fields_that_vary_most)
{
	const char *rows = NULL, *cols = NULL, *groups[16];
	struct results *r = load(FIG2);
	cr_assert_eq(fig_axes(r, &rows, &cols, groups), 0);
	cr_assert_str_eq(rows, "topology", "the network cases: topology x hairpin");
	cr_assert_str_eq(cols, "hairpin");
	results_free(r);
	r = load(TABLE1);
	rows = cols = NULL;
	cr_assert_eq(fig_axes(r, &rows, &cols, groups), 0);
	cr_assert_str_eq(rows, "os_a", "proxy_a counts with os_a");
	cr_assert_str_eq(cols, "os_b");
	results_free(r);
	r = load("tests/data/results/fixture.json");
	rows = "os_a", cols = "os_b";
	cr_assert_eq(fig_axes(r, &rows, &cols, groups), 1, "given axes: nat makes the panels");
	cr_assert_str_eq(groups[0], "nat");
	results_free(r);
}

static void scene_ok(struct results *r, const struct plot_opts *o, int cells)
{
	struct fig_render *rd = fig_render_new();
	struct fig_scene s;
	struct perr err;
	char why[512];
	cr_assert_eq(plot_scene(r, o, rd, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(fig_scene_check(&s, why, sizeof(why)), 0, "%s: %s", r->path, why);
	int n = 0;
	for (size_t i = 0; i < s.n; i++)
		n += s.it[i].role == (o->kind == PK_CURVE ? FR_POINT : FR_CELL);
	cr_assert_eq(n, cells, "%s: cells drawn", r->path);
	cr_assert_leq(s.width, 1200, "%s: %g wide", r->path, s.width);
	fig_scene_free(&s);
	fig_render_free(rd);
}

Test(figure, heat_maps_of_the_reference_runs_have_no_overlap)
{
	static const char *const files[] = {
	    FIG2, TABLE1, "results/reference/paper-table1-busy-20261125T230608Z.json",
	    "tests/data/results/fixture.json"};
	struct plot_opts o = {.kind = PK_HEATMAP};
	for (size_t i = 0; i < 4; i++) {
		struct results *r = load(files[i]);
		scene_ok(r, &o, (int)r->ncells);
		results_free(r);
	}
}

Test(figure, long_titles_and_values_are_wrapped_or_abbreviated)
{
	struct results *r = load("tests/data/results/fixture.json");
	char longer[1200] = "";
	for (int i = 0; i < 30; i++)
		strcat(longer, "A description that goes on and on, ");
	json_object_set_new(r->suite, "description", json_string(longer));
	json_object_set_new(r->cells[0].fields, "os_a",
			    json_string("an-os-profile-with-a-name-much-too-long-for-any-label"));
	json_object_set_new(r->cells[1].fields, "nat",
			    json_string("a NAT preset named at length, in many words, to wrap"));
	struct plot_opts o = {.kind = PK_HEATMAP, .rows = "nat", .cols = "os_a"};
	scene_ok(r, &o, 6);
	o.rows = o.cols = NULL;
	scene_ok(r, &o, 6);
	results_free(r);
}

Test(figure, curve_has_a_point_and_a_bar_per_cell)
{
	struct results *r = load("tests/data/results/fixture-skew.json");
	struct plot_opts o = {.kind = PK_CURVE, .x = "skew_ms"};
	scene_ok(r, &o, 8);
	results_free(r);
}

Test(figure, the_check_finds_an_overlap_and_a_label_off_the_canvas)
{
	struct fig_scene s = {.width = 100, .height = 50};
	char why[256];
	fig_text(&s, FR_LABEL, "left", 0, 0, &fake);
	cr_assert_eq(fig_scene_check(&s, why, sizeof(why)), 0, "%s", why);
	fig_text(&s, FR_LABEL, "over", 10, 5, &fake);
	cr_assert_eq(fig_scene_check(&s, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "overlaps"), "%s", why);
	s.it[1].y = 40; /* 12.5 high from 40: past the bottom */
	cr_assert_eq(fig_scene_check(&s, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "leaves"), "%s", why);
	fig_scene_free(&s);
}

Test(figure, format_by_name)
{
	enum fig_format f;
	cr_assert_eq(fig_format_of("a.svg", &f), 0);
	cr_assert_eq(f, FF_SVG);
	cr_assert_eq(fig_format_of("dir.x/a.PDF", &f), 0);
	cr_assert_eq(f, FF_PDF);
	cr_assert_eq(fig_format_of("a.png", &f), 0);
	cr_assert_eq(f, FF_PNG);
	cr_assert_eq(fig_format_of("a.jpg", &f), -1);
	cr_assert_eq(fig_format_of(".svg", &f), -1);
}
