// SPDX-License-Identifier: MIT
#include "registry.h"
#include <stdio.h>
#include <string.h>

const void *registry_at(struct registry r, size_t i)
{
	const char *item = (const char *)r.items + i * r.size;
	const void *entry;

	if (!r.indirect)
		return item;
	/* the item is a pointer to the entry; every object pointer has the same
	 * representation on the ABIs punchlab builds for */
	memcpy(&entry, item, sizeof(entry));
	return entry;
}

/* NULL for the end of a NULL-terminated registry */
static const char *name_at(struct registry r, size_t i)
{
	const void *entry = registry_at(r, i);
	const char *name;

	if (!entry)
		return NULL;
	memcpy(&name, entry, sizeof(name));
	return name;
}

size_t registry_count(struct registry r)
{
	size_t n = 0;

	if (r.count != REGISTRY_UNTIL_NULL)
		return r.count;
	while (name_at(r, n))
		n++;
	return n;
}

long registry_index(struct registry r, const char *name)
{
	const char *s;

	for (size_t i = 0; i < r.count && (s = name_at(r, i)); i++)
		if (!strcmp(s, name))
			return (long)i;
	return -1;
}

const void *registry_find(struct registry r, const char *name)
{
	long i = registry_index(r, name);

	return i < 0 ? NULL : registry_at(r, (size_t)i);
}

const char *registry_names(struct registry r, char *buf, size_t len)
{
	static const char more[] = "...";
	size_t used = 0;
	const char *s;

	buf[0] = 0;
	for (size_t i = 0; i < r.count && (s = name_at(r, i)); i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", s);
		if (n < 0 || (size_t)n >= len - used) {
			/* too long for an error message: say so rather than cut silently */
			if (len >= sizeof(more))
				memcpy(buf + len - sizeof(more), more, sizeof(more));
			break;
		}
		used += (size_t)n;
	}
	return buf;
}
