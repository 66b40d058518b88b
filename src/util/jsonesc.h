/* SPDX-License-Identifier: MIT */
/*
 * JSON string content from untrusted bytes, for lines we write by hand: a
 * quote or backslash escaped, anything outside printable ASCII as \u00XX.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/*
 * Escapes the SLEN bytes at S into OUT (OUTLEN bytes, NUL-terminated),
 * never cutting an escape in two; where the rest does not fit it stops,
 * ending with "..." when MARK_CUT. Returns the length written.
 */
size_t json_escape(char *out, size_t outlen, const char *s, size_t slen, bool mark_cut);
