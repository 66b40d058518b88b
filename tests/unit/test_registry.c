// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include "lab/natprofile.h"
#include "punch/heuristic.h"
#include "punch/method.h"
#include "punch/osprof.h"
#include "run/suite.h"
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
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(parts, 3), buf, sizeof(buf)), "alpha, b...");
	char exact[19];
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(parts, 3), exact, sizeof(exact)),
			 "alpha, beta, gamma");
	char tiny[2];
	cr_assert_str_eq(registry_names(REGISTRY_ARRAY(parts, 3), tiny, sizeof(tiny)), "a");
}

/* ---- the plug-in registries ---- */

/* Every entry is found by its name, so no two share one (the lookup would
 * find the first), and the name can stand in a list, a suite and a cell. */
static void check_names(struct registry r, const char *what, size_t cell_field)
{
	char names[REGISTRY_NAMES_MAX];
	size_t n = registry_count(r), listed = 0;

	cr_assert_gt(n, 0, "no %s at all", what);
	registry_names(r, names, sizeof(names));
	cr_assert_null(strstr(names, "..."), "%s: the list of names does not fit", what);
	for (size_t i = 0; i < n; i++) {
		const void *e = registry_at(r, i);
		const char *name = *(const char *const *)e;
		cr_assert(name && name[0], "%s #%zu has no name", what, i);
		cr_assert_eq(registry_find(r, name), e, "two %ss are called \"%s\"", what, name);
		cr_assert_eq(strcspn(name, ", \"\\"), strlen(name), "%s \"%s\": odd characters",
			     what, name);
		cr_assert_lt(strlen(name), cell_field, "%s \"%s\" is too long for a cell", what,
			     name);
		listed += strlen(name) + (i ? 2 : 0);
	}
	cr_assert_eq(strlen(names), listed, "%s: the list of names is not every name", what);
}

Test(plugins, every_os_profile_is_reachable_by_its_own_name)
{
	check_names(REGISTRY_POINTERS(os_profiles), "OS profile", sizeof(((struct cell *)0)->os_a));
	for (size_t i = 0; os_profiles[i]; i++) {
		const struct os_ops *o = os_profiles[i];
		cr_assert_eq(os_by_name(o->name), o);
		cr_assert(o->rule && o->rule[0] && o->source && o->source[0], "%s", o->name);
		cr_assert(!o->next || o->lo <= o->hi, "%s: empty range", o->name);
	}
	cr_assert_eq(
	    strcmp(os_names(), registry_names(REGISTRY_POINTERS(os_profiles),
					      (char[REGISTRY_NAMES_MAX]){0}, REGISTRY_NAMES_MAX)),
	    0);
}

Test(plugins, every_heuristic_is_reachable_by_its_own_name)
{
	/* a cell's heuristic is a pointer into its fields (any length, for
	 * "exec:..."): a built-in's name need only fit the tables' column */
	check_names(REGISTRY_POINTERS(heuristics), "heuristic", 12);
	for (size_t i = 0; heuristics[i]; i++) {
		cr_assert_eq(heuristic_by_name(heuristics[i]->name), heuristics[i]);
		cr_assert_not_null(heuristics[i]->predict, "%s", heuristics[i]->name);
		cr_assert(heuristics[i]->help && heuristics[i]->help[0], "%s", heuristics[i]->name);
	}
}

/* Methods: every one found by its name and by its enum value, cited, and
 * each file in src/punch/method/ registered (one file, one method). */
Test(plugins, every_method_is_reachable_by_its_own_name)
{
	check_names(REGISTRY_POINTERS(punch_methods), "method", 12);
	size_t n = 0;
	for (; punch_methods[n]; n++) {
		const struct punch_method_ops *m = punch_methods[n];
		cr_assert_eq(method_by_name(m->name), m);
		cr_assert_eq(method_of(m->id), m, "%s", m->name);
		cr_assert(m->help && m->help[0] && m->citation && m->citation[0], "%s", m->name);
		cr_assert(!m->listens || m->one_port, "%s listens on no port of its own", m->name);
	}
	DIR *d = opendir(SOURCE_ROOT "/src/punch/method");
	cr_assert_not_null(d);
	struct dirent *de;
	size_t files = 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 3 || strcmp(de->d_name + l - 2, ".c"))
			continue;
		files++;
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)(l - 2), de->d_name);
		cr_assert_not_null(method_by_name(name), "src/punch/method/%s is not registered",
				   de->d_name);
	}
	closedir(d);
	cr_assert_eq(files, n);
}

Test(plugins, every_nat_preset_is_reachable_by_its_own_name)
{
	check_names(REGISTRY_ARRAY(nat_presets, nat_presets_count), "NAT preset",
		    sizeof(((struct cell *)0)->nat));
	for (size_t i = 0; i < nat_presets_count; i++) {
		const struct nat_preset *p = &nat_presets[i];
		cr_assert_eq(nat_preset_by_name(p->profile.name), p);
		cr_assert(p->help && p->help[0], "%s", p->profile.name);
		for (int k = 0; k < NAT_TO_COUNT; k++)
			cr_assert(p->profile.timeouts[k] == -1 || p->profile.timeouts[k] > 0,
				  "%s: timeout %s of 0 s", p->profile.name, nat_timeout_names[k]);
	}
}

/* The OS registry is src/punch/os/profiles.def: every file in src/punch/os/
 * is on it, everything on it is a file that defines its profile, and
 * os_profiles[] holds as many as it lists. */
Test(plugins, the_os_registry_lists_every_file)
{
	const char *dir = SOURCE_ROOT "/src/punch/os";
	char line[256], path[512], listed[64][64];
	int nlisted = 0, nfiles = 0;

	snprintf(path, sizeof(path), "%s/profiles.def", dir);
	FILE *def = fopen(path, "r");
	cr_assert_not_null(def, "%s", path);
	while (fgets(line, sizeof(line), def)) {
		char id[64];
		if (sscanf(line, "OS_PROFILE(%63[a-z0-9_])", id) != 1)
			continue;
		cr_assert_lt(nlisted, 64);
		snprintf(listed[nlisted++], sizeof(listed[0]), "%s", id);
		/* the file is there and defines os_ID */
		snprintf(path, sizeof(path), "%s/%s.c", dir, id);
		FILE *f = fopen(path, "r");
		cr_assert_not_null(f, "profiles.def lists %s, but there is no %s", id, path);
		char want[128], text[8192];
		size_t len = fread(text, 1, sizeof(text) - 1, f);
		text[len] = 0;
		fclose(f);
		snprintf(want, sizeof(want), "const struct os_ops os_%s = {", id);
		cr_assert_not_null(strstr(text, want), "%s does not define os_%s", path, id);
	}
	fclose(def);
	size_t registered = registry_count(REGISTRY_POINTERS(os_profiles));
	cr_assert_eq((size_t)nlisted, registered, "profiles.def lists %d, os_profiles[] holds %zu",
		     nlisted, registered);

	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 3 || strcmp(de->d_name + l - 2, ".c"))
			continue;
		nfiles++;
		bool found = false;
		for (int i = 0; i < nlisted; i++)
			found |=
			    strlen(listed[i]) == l - 2 && !strncmp(listed[i], de->d_name, l - 2);
		cr_assert(found, "src/punch/os/%s is not in profiles.def: no build compiles it",
			  de->d_name);
	}
	closedir(d);
	cr_assert_eq(nfiles, nlisted);
}
