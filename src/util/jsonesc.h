/* SPDX-License-Identifier: MIT */
/*
 * JSON lines, both ways: string content from untrusted bytes for lines we
 * write by hand (a quote or backslash escaped, anything outside printable
 * ASCII as \u00XX), and one received line read as JSON.
 */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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
