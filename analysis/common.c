// SPDX-License-Identifier: MIT
#include "common.h"
#include <stdlib.h>

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
