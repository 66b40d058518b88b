// SPDX-License-Identifier: MIT
#include "perr.h"
#include <stdio.h>

void perr_vset(struct perr *e, const char *file, int line, int col, const char *fmt, va_list ap)
{
	int n;

	if (line > 0)
		n = snprintf(e->msg, sizeof(e->msg), "%s:%d:%d: ", file, line, col);
	else
		n = snprintf(e->msg, sizeof(e->msg), "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof(e->msg))
		return;
	vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
}

void perr_set(struct perr *e, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	perr_vset(e, file, line, col, fmt, ap);
	va_end(ap);
}
