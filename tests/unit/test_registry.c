// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <string.h>
#include "util/registry.h"

struct part {
	const char *name;
	int value;
};

static const struct part parts[] = {
    {.name = "alpha", .value = 1},
    {.name = "beta", .value = 2},
    {.name = "gamma", .value = 3},
};
static const struct part *const part_ptrs[] = {&parts[2], &parts[0], NULL};
static const char *const colours[] = {"red", "green", "blue"};
static const struct part with_sentinel[] = {{.name = "one"}, {.name = "two"}, {.name = NULL}};

Test(registry, finds_by_name_in_an_array_of_structs)
{
	struct registry r = REGISTRY_ARRAY(parts, 3);
	const struct part *p = registry_find(r, "beta");
	cr_assert_eq(p, &parts[1]);
	cr_assert_eq(p->value, 2);
	cr_assert_eq(registry_index(r, "gamma"), 2);
	cr_assert_eq(registry_count(r), 3);
	cr_assert_eq(registry_at(r, 0), &parts[0]);
}

Test(registry, finds_by_name_through_pointers)
{
	struct registry r = REGISTRY_POINTERS(part_ptrs);
	cr_assert_eq(registry_count(r), 2);
	cr_assert_eq(registry_find(r, "gamma"), &parts[2]);
	cr_assert_eq(registry_find(r, "alpha"), &parts[0]);
	cr_assert_eq(registry_index(r, "alpha"), 1);
	/* in parts[] but not in this registry */
	cr_assert_null(registry_find(r, "beta"));
}

Test(registry, an_array_of_names_is_a_registry)
{
	struct registry r = REGISTRY_ARRAY(colours, 3);
	cr_assert_eq(registry_index(r, "blue"), 2);
	cr_assert_eq(registry_find(r, "red"), &colours[0]);
	cr_assert_eq(registry_index(r, "purple"), -1);
}

Test(registry, a_null_name_ends_an_open_array)
{
	struct registry r = REGISTRY_ARRAY(with_sentinel, REGISTRY_UNTIL_NULL);
	cr_assert_eq(registry_count(r), 2);
	cr_assert_eq(registry_index(r, "two"), 1);
	cr_assert_eq(registry_index(r, "three"), -1);
}

Test(registry, not_found)
{
	cr_assert_null(registry_find(REGISTRY_ARRAY(parts, 3), "delta"));
	cr_assert_eq(registry_index(REGISTRY_ARRAY(parts, 3), "delta"), -1);
	/* names are whole and case matters */
	cr_assert_null(registry_find(REGISTRY_ARRAY(parts, 3), "alph"));
	cr_assert_null(registry_find(REGISTRY_ARRAY(parts, 3), "Alpha"));
	cr_assert_null(registry_find(REGISTRY_ARRAY(parts, 3), ""));
	cr_assert_null(registry_find(REGISTRY_ARRAY(parts, 0), "alpha"));
	cr_assert_null(registry_find(REGISTRY_POINTERS(part_ptrs), "delta"));
}

Test(registry, names_for_error_messages)
{
	char buf[REGISTRY_NAMES_MAX];
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(parts, 3), buf, sizeof(buf)),
			 "alpha, beta, gamma");
	cr_assert_str_eq(registry_names(REGISTRY_POINTERS(part_ptrs), buf, sizeof(buf)),
			 "gamma, alpha");
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(colours, 3), buf, sizeof(buf)),
			 "red, green, blue");
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(parts, 0), buf, sizeof(buf)), "");
}

Test(registry, names_too_long_for_the_buffer_end_in_an_ellipsis)
{
	char buf[12];
	/* "alpha, beta, gamma" needs 19 bytes */
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(parts, 3), buf, sizeof(buf)),
			 "alpha, b...");
	char exact[19];
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(parts, 3), exact, sizeof(exact)),
			 "alpha, beta, gamma");
	char tiny[2];
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(parts, 3), tiny, sizeof(tiny)), "a");
}
