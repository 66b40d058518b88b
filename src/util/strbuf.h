/* SPDX-License-Identifier: MIT */
/* A growable string; allocation failure is sticky and checked once at the end. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, cap;
	bool failed;
};
#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0, false                                                                  \
	}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_add(struct strbuf *sb, const char *s, size_t n);
/* S as one word for a POSIX shell: between single quotes, each ' as '\''. */
void strbuf_add_sh_word(struct strbuf *sb, const char *s);
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
