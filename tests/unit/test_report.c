// SPDX-License-Identifier: MIT
/* analysis/report.c: one page, nothing to fetch, a user's text escaped. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

static char *page_of(struct results *r)
{
	char *buf = NULL;
	size_t len = 0;
	struct perr err;
	FILE *f = open_memstream(&buf, &len);
	int rc = report_write(r, f, &err);
	fclose(f);
	cr_assert_eq(rc, 0, "%s", err.msg);
	return buf;
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

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(report, one_page_with_a_policy_and_a_ladder_blob_per_cell)
{
	struct results *r = load("tests/data/results/ladder.json");
	char *page = page_of(r);
	cr_assert(!strncmp(page, "<!DOCTYPE html>", 15));
	cr_assert_not_null(strstr(page, "Content-Security-Policy\" content=\"default-src 'none'"));
	cr_assert_eq(count(page, "<script type=\"application/json\" id=\"L-"), 3);
	cr_assert_eq(count(page, "<details class=\"cell\""), 3);
	cr_assert_eq(count(page, "<img class=\"fig\""), 1);
	cr_assert_eq(count(page, "<script"), 4, "3 blobs and the page's script");
	/* the culprit of aa27/5 travels to the page: the RST from the wrong port */
	const char *blob = strstr(page, "id=\"L-aa2730001c5a\">");
	cr_assert_not_null(blob);
	cr_assert_not_null(strstr(blob, "\"why\":\"B aimed at 198.18.0.2:2544"));
	for (const char *p = page; (p = strstr(p, "://")); p++)
		cr_assert(!strncmp(p, "://www.w3.org/", 14), "a URL: %.40s", p - 5);
	free(page);
	results_free(r);
}

Test(report, a_users_text_cannot_close_a_script_or_a_tag)
{
	struct results *r = load("tests/data/results/ladder.json");
	static const char evil[] = "</script><script>alert(1)</script><b>";
	json_object_set_new(r->suite, "description", json_string(evil));
	json_object_set_new(r->metadata, "host", json_string(evil));
	json_object_set_new(r->cells[0].fields, "nat", json_string(evil));
	char *page = page_of(r);
	cr_assert_null(strstr(page, "alert(1)</script>"), "raw text reached the page");
	cr_assert_null(strstr(page, "<b>"));
	cr_assert_not_null(strstr(page, "&lt;/script&gt;&lt;script&gt;alert(1)"));
	cr_assert_eq(count(page, "<script"), 4);
	free(page);
	results_free(r);
}

Test(report, a_run_without_cells_is_a_page)
{
	struct results *r = load("tests/data/results/ladder.json");
	size_t n = r->ncells;
	r->ncells = 0;
	char *page = page_of(r);
	cr_assert_not_null(strstr(page, "No cell has a trial"));
	cr_assert_not_null(strstr(page, "</html>"));
	r->ncells = n;
	free(page);
	results_free(r);
}
