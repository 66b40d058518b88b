// SPDX-License-Identifier: MIT
#include "jsonesc.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

size_t json_escape(char *out, size_t outlen, const char *s, size_t slen, bool mark_cut)
{
	size_t o = 0;

	if (!outlen)
		return 0;
	for (size_t i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];
		int w = c == '"' || c == '\\'  ? snprintf(e, sizeof(e), "\\%c", c)
			: c < 0x20 || c > 0x7e ? snprintf(e, sizeof(e), "\\u%04x", c)
					       : snprintf(e, sizeof(e), "%c", c);
		if (o + (size_t)w + (mark_cut ? 4 : 1) > outlen) {
			if (mark_cut && outlen - o > 3) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, e, (size_t)w);
		o += (size_t)w;
	}
	out[o] = 0;
	return o;
}

json_t *json_line_load(const char *line, size_t len, size_t max, char *err, size_t errlen)
{
	json_error_t jerr;

	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (max && len + 1 > max) {
		snprintf(err, errlen, "line longer than %zu bytes", max);
		return NULL;
	}
	if (memchr(line, '\n', len)) {
		snprintf(err, errlen, "more than one line");
		return NULL;
	}
	if (memchr(line, 0, len)) {
		snprintf(err, errlen, "a NUL byte");
		return NULL;
	}
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		snprintf(err, errlen, "not JSON: %s (column %d)", jerr.text, jerr.column);
	return o;
}

void evlog_begin(FILE *f, const char *event)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "{\"ts\":%lld.%03ld,\"event\":\"%s\"", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000, event);
}

void evlog_end(FILE *f, const char *fmt, va_list ap)
{
	if (fmt) {
		fputc(',', f);
		vfprintf(f, fmt, ap);
	}
	fputs("}\n", f);
	fflush(f);
}
