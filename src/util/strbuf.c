// SPDX-License-Identifier: MIT
#include "strbuf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool strbuf_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->failed)
		return false;
	if (sb->len + extra + 1 <= sb->cap)
		return true;
	size_t ncap = sb->cap ? sb->cap : 256;
	while (ncap < sb->len + extra + 1)
		ncap *= 2;
	char *nb = realloc(sb->buf, ncap);
	if (!nb) {
		sb->failed = true;
		return false;
	}
	sb->buf = nb;
	sb->cap = ncap;
	return true;
}

void strbuf_add(struct strbuf *sb, const char *s, size_t n)
{
	if (!strbuf_reserve(sb, n))
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !strbuf_reserve(sb, (size_t)n)) {
		sb->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *strbuf_detach(struct strbuf *sb)
{
	char *s = sb->buf;

	if (!s)
		s = calloc(1, 1);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->failed = false;
}

void strbuf_add_sh_word(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, "'", 1);
	for (const char *q; (q = strchr(s, '\'')); s = q + 1) {
		strbuf_add(sb, s, (size_t)(q - s));
		strbuf_add(sb, "'\\''", 4); /* close the quotes, an escaped ', open again */
	}
	strbuf_add(sb, s, strlen(s));
	strbuf_add(sb, "'", 1);
}
