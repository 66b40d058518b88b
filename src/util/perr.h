/* SPDX-License-Identifier: MIT */
/* A parse/validation error carried back to the command layer, which prints it. */
#pragma once
#include <stdarg.h>

struct perr {
	char msg[1024];
};

/* "FILE:LINE:COL: message"; line/col 0 omit the position. */
void perr_set(struct perr *e, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void perr_vset(struct perr *e, const char *file, int line, int col, const char *fmt, va_list ap);
