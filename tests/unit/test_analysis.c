// SPDX-License-Identifier: MIT
/* analysis/: the pieces the tables, plots and exports share. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "diff.h"
#include "table.h"

/* What FN wrote to a memory stream. */
#define CAPTURE(buf, len, call)                                                                    \
	do {                                                                                       \
		FILE *f = open_memstream(&(buf), &(len));                                          \
		call;                                                                              \
		fclose(f);                                                                         \
	} while (0)

Test(analysis, csv_quotes_what_rfc_4180_says)
{
	static const struct {
		const char *in, *out;
	} cases[] = {{"plain", "plain"},   {"a,b", "\"a,b\""},	   {"say \"x\"", "\"say \"\"x\"\"\""},
		     {"two\nlines", "\"two\nlines\""}, {"cr\r", "\"cr\r\""}, {"", ""}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf;
		size_t len;
		CAPTURE(buf, len, csv_field(f, cases[i].in));
		cr_assert_str_eq(buf, cases[i].out, "case %zu", i);
		free(buf);
	}
}

Test(analysis, strlist_keeps_first_appearance)
{
	struct strlist l = {0};
	cr_assert_eq(strlist_add(&l, strdup("b")), 0);
	cr_assert_eq(strlist_add(&l, strdup("a")), 1);
	cr_assert_eq(strlist_add(&l, strdup("b")), 0);
	cr_assert_eq(strlist_add(&l, NULL), -1);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(strlist_find(&l, "a"), 1);
	cr_assert_eq(strlist_find(&l, "c"), -1);
	strlist_free(&l);
	cr_assert_eq(l.n, 0);
}

static struct results *fixture(void)
{
	struct results *r;
	struct perr err;
	cr_assert_eq(results_load(SOURCE_ROOT "/tests/data/results/fixture.json", &r, &err), 0,
		     "%s", err.msg);
	return r;
}

Test(analysis, varying_fields_in_table_order)
{
	struct results *r = fixture();
	const struct rcell **cells = calloc(r->ncells, sizeof(*cells));
	for (size_t i = 0; i < r->ncells; i++)
		cells[i] = &r->cells[i];
	const char *out[16];
	int n = table_varying(cells, r->ncells, out);
	cr_assert_eq(n, 4);
	const char *want[] = {"nat", "os_a", "proxy_a", "os_b"};
	for (int i = 0; i < n; i++)
		cr_assert_str_eq(out[i], want[i]);
	cr_assert_eq(table_varying(cells, 1, out), 0, "one cell varies in nothing");
	free(cells);
	results_free(r);
}

Test(analysis, summary_layout_has_a_line_per_cell)
{
	struct results *r = fixture();
	struct table_opts o = {.format = TF_TEXT, .layout = TL_SUMMARY};
	struct perr err;
	char *buf;
	size_t len;
	int rc;
	CAPTURE(buf, len, rc = table_render(r, &o, f, &err));
	cr_assert_eq(rc, 0);
	cr_assert(!strncmp(buf, "cell ", 5), "%s", buf);
	cr_assert_not_null(strstr(buf, "two-nats home-2009 A=linux-2.6 B=windows-xp"), "%s", buf);
	cr_assert_not_null(strstr(buf, "0/20"), "%s", buf);
	cr_assert_not_null(strstr(buf, "A=linux-2.6+proxy B=macosx-10.5"), "%s", buf);
	int lines = 0;
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 1 + 6 + 1, "a header, six cells, a caption:\n%s", buf);
	free(buf);
	results_free(r);
}

Test(analysis, unknown_matrix_field_is_refused)
{
	struct results *r = fixture();
	struct table_opts o = {.format = TF_TEXT, .rows = "os_a", .cols = "colour"};
	struct perr err;
	char *buf;
	size_t len;
	int rc;
	CAPTURE(buf, len, rc = table_render(r, &o, f, &err));
	cr_assert_lt(rc, 0);
	cr_assert_not_null(strstr(err.msg, "colour: unknown field"), "%s", err.msg);
	free(buf);
	results_free(r);
}

Test(analysis, diff_sees_no_change_in_a_file_against_itself_at_any_alpha)
{
	struct results *r = fixture();
	/* NaN compares false both ways: an alpha of NaN once made every cell BETTER */
	const double alphas[] = {0.05, 0.999, NAN};
	for (size_t i = 0; i < sizeof(alphas) / sizeof(alphas[0]); i++) {
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		struct diff_opts o = {.alpha = alphas[i]};
		cr_assert_eq(diff_results(r, r, &o, f), 0, "alpha %g", alphas[i]);
		fclose(f);
		cr_assert_null(strstr(out, "BETTER"), "alpha %g: %s", alphas[i], out);
		cr_assert_null(strstr(out, "WORSE"), "alpha %g: %s", alphas[i], out);
		free(out);
	}
	results_free(r);
}

Test(analysis, value_labels_are_short)
{
	json_t *v = json_real(0.3);
	char *s = table_value_label(v);
	cr_assert_str_eq(s, "0.3"); /* not jansson's 0.29999999999999999 */
	free(s);
	json_decref(v);
	v = json_integer(20);
	s = table_value_label(v);
	cr_assert_str_eq(s, "20");
	free(s);
	json_decref(v);
}
