/* SPDX-License-Identifier: MIT */
/*
 * A bad file's .expected message may list the registered names as
 * @NAT_PRESETS@, @OS_PROFILES@, @HEURISTICS@ or @METHODS@: "unknown NAT profile
 * \"fullcone\" (known: @NAT_PRESETS@)". They stand for the registries' own
 * lists, so that adding a plug-in does not mean rewriting the corpus; the
 * lists themselves are tested in test_registry.c.
 */
#pragma once
#include <stdlib.h>
#include <string.h>
#include "lab/natprofile.h"
#include "punch/heuristic.h"
#include "punch/method.h"
#include "punch/osprof.h"

/* WANT with every placeholder replaced; malloc'd. */
static inline char *known_expand(const char *want)
{
	static const struct {
		const char *mark;
		const char *(*names)(void);
	} marks[] = {
	    {.mark = "@NAT_PRESETS@", .names = nat_preset_names},
	    {.mark = "@OS_PROFILES@", .names = os_names},
	    {.mark = "@HEURISTICS@", .names = heuristic_names},
	    {.mark = "@METHODS@", .names = method_names},
	};
	char *s = strdup(want), *p;

	for (size_t i = 0; s && i < sizeof(marks) / sizeof(marks[0]); i++)
		while (s && (p = strstr(s, marks[i].mark))) {
			const char *names = marks[i].names();
			size_t head = (size_t)(p - s), ml = strlen(marks[i].mark);
			size_t nl = strlen(names), tail = strlen(p + ml);
			char *t = malloc(head + nl + tail + 1);
			if (t) {
				memcpy(t, s, head);
				memcpy(t + head, names, nl);
				memcpy(t + head + nl, p + ml, tail + 1);
			}
			free(s);
			s = t;
		}
	return s;
}
