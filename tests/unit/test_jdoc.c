// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <string.h>
#include "util/jdoc.h"

static struct jdoc *load(const char *text, struct perr *err)
{
	struct jdoc *doc = NULL;
	jdoc_load_buffer("t.json", text, strlen(text), &doc, err);
	return doc;
}

static void expect_error(const char *text, const char *msg)
{
	struct perr err = {{0}};
	struct jdoc *doc = load(text, &err);
	cr_assert_null(doc, "parsed: %s", text);
	cr_assert_str_eq(err.msg, msg);
}

Test(jdoc, values_and_positions)
{
	struct perr err;
	struct jdoc *doc =
	    load("{\n  \"a\": [1, 2.5, \"x\\u00e9\\ud83d\\ude00\"],\n  \"b\": true\n}", &err);
	cr_assert_not_null(doc, "%s", err.msg);
	json_t *root = jdoc_root(doc);
	json_t *a = json_object_get(root, "a");
	cr_assert_eq(json_integer_value(json_array_get(a, 0)), 1);
	cr_assert_float_eq(json_real_value(json_array_get(a, 1)), 2.5, 1e-12);
	cr_assert_str_eq(json_string_value(json_array_get(a, 2)), "x\xc3\xa9\xf0\x9f\x98\x80");
	int line, col;
	cr_assert(jdoc_pos(doc, a, &line, &col));
	cr_assert_eq(line, 2);
	cr_assert_eq(col, 8);
	cr_assert(jdoc_pos(doc, json_array_get(a, 2), &line, &col));
	cr_assert_eq(col, 17);
	/* true is a shared singleton: its member position stands in */
	jdoc_member_pos(doc, root, "b", &line, &col);
	cr_assert_eq(line, 3);
	cr_assert_eq(col, 3);
	jdoc_free(doc);
}

Test(jdoc, syntax_errors)
{
	expect_error("", "t.json:1:1: expected a value, got end of file");
	expect_error("{\"a\" 1}", "t.json:1:6: expected ':' after member name, got '1'");
	expect_error("[1 2]", "t.json:1:4: expected ',' or ']' in array, got '2'");
	expect_error("{\"a\":1,\"a\":2}", "t.json:1:8: duplicate member \"a\"");
	expect_error("\"\\q\"", "t.json:1:3: invalid escape '\\q' in string");
	expect_error("\"\\ud800\"", "t.json:1:8: lone UTF-16 surrogate in \\u escape");
	expect_error("\"\\u0000\"", "t.json:1:8: \\u0000 is not allowed in strings");
	expect_error("\"\xff\"", "t.json:1:1: string is not valid UTF-8");
	expect_error("01", "t.json:1:2: expected end of file after the top-level value, got '1'");
	expect_error("-", "t.json:1:2: expected a digit");
	expect_error("1.", "t.json:1:3: expected a digit after '.'");
	expect_error("tru", "t.json:1:1: expected a value, got 't'");
	expect_error("{} x", "t.json:1:4: expected end of file after the top-level value, got 'x'");
}

Test(jdoc, depth_limit)
{
	char buf[200];
	memset(buf, '[', 100);
	memset(buf + 100, ']', 100);
	struct perr err;
	struct jdoc *doc = NULL;
	cr_assert_lt(jdoc_load_buffer("t.json", buf, sizeof(buf), &doc, &err), 0);
	cr_assert(strstr(err.msg, "nested deeper than 64 levels"), "%s", err.msg);
}

Test(jdoc, big_integers_become_reals)
{
	struct perr err;
	struct jdoc *doc = load("[9223372036854775807, 92233720368547758070]", &err);
	cr_assert_not_null(doc);
	cr_assert(json_is_integer(json_array_get(jdoc_root(doc), 0)));
	cr_assert(json_is_real(json_array_get(jdoc_root(doc), 1)));
	jdoc_free(doc);
}

Test(jdoc, numbers_beyond_a_double_point_at_the_number)
{
	/* jansson has no infinity: these were "out of memory" with no place */
	expect_error("[1,\n  1e999]", "t.json:2:3: number 1e999 out of range");
	expect_error("{\"a\": -1E+400}", "t.json:1:7: number -1E+400 out of range");
	struct perr err;
	struct jdoc *doc = load("[1e308, 1e-999]", &err);
	cr_assert_not_null(doc, "finite, or underflowing to 0, is a number: %s", err.msg);
	jdoc_free(doc);
}

Test(jdoc, unknown_fields_point_at_the_key)
{
	struct perr err;
	struct jdoc *doc = load("{\n  \"ok\": 1,\n    \"bad\": null}", &err);
	static const char *const known[] = {"ok", NULL};
	cr_assert_not_null(doc);
	cr_assert_lt(jdoc_check_fields(doc, &err, jdoc_root(doc), "thing", known), 0);
	cr_assert_str_eq(err.msg, "t.json:3:5: thing: unknown field \"bad\" (known: ok)");
	jdoc_free(doc);
}
