// SPDX-License-Identifier: MIT
#include "common.h"
#include <stdlib.h>
#include <string.h>

char *peer_label(json_t *fields, char side, const char *proxy_suffix)
{
	char key[8], pkey[10], *s;
	snprintf(key, sizeof(key), "os_%c", side);
	snprintf(pkey, sizeof(pkey), "proxy_%c", side);
	const char *os = json_string_value(json_object_get(fields, key));
	if (asprintf(&s, "%s%s", os ? os : "native",
		     json_is_true(json_object_get(fields, pkey)) ? proxy_suffix : "") < 0)
		return NULL;
	return s;
}

void xml_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int strlist_find(const struct strlist *l, const char *s)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->s[i], s))
			return i;
	return -1;
}

int strlist_add(struct strlist *l, char *s)
{
	int i = s ? strlist_find(l, s) : -1;
	if (!s || i >= 0) {
		free(s);
		return i;
	}
	char **ns = realloc(l->s, (size_t)(l->n + 1) * sizeof(*ns));
	if (!ns) {
		free(s);
		return -1;
	}
	l->s = ns;
	l->s[l->n] = s;
	return l->n++;
}

void strlist_free(struct strlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	l->s = NULL;
	l->n = 0;
}
