/* SPDX-License-Identifier: MIT */
/*
 * JSON lines, both ways: string content from untrusted bytes for lines we
 * write by hand (a quote or backslash escaped, anything outside printable
 * ASCII as \u00XX), and one received line read as JSON.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Escapes the SLEN bytes at S into OUT (OUTLEN bytes, NUL-terminated),
 * never cutting an escape in two; where the rest does not fit it stops,
 * ending with "..." when MARK_CUT. Returns the length written.
 */
size_t json_escape(char *out, size_t outlen, const char *s, size_t slen, bool mark_cut);

/*
 * The one JSON value on LINE (LEN bytes; a trailing "\n" or "\r\n" is
 * dropped), refusing a line of MAX or more bytes (0: any length), a second
 * line, a NUL byte and duplicate keys; NULL with ERR saying which.
 */
json_t *json_line_load(const char *line, size_t len, size_t max, char *err, size_t errlen);

/*
 * One event line of a server's JSON log: evlog_begin writes
 * {"ts":SECONDS.MS,"event":"EVENT" to F; the caller adds its own ,"key":...
 * fields; evlog_end adds FMT's fields (when not NULL), closes the object,
 * ends the line and flushes.
 */
void evlog_begin(FILE *f, const char *event);
void evlog_end(FILE *f, const char *fmt, va_list ap);
