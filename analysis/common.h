/* SPDX-License-Identifier: MIT */
/* What the analysis commands share: labels for cells and XML/HTML escaping. */
#pragma once
#include <jansson.h>
#include <stdio.h>

/* "windows-xp", or with the proxy "linux-2.6" PROXY_SUFFIX (malloc'd). */
char *peer_label(json_t *fields, char side, const char *proxy_suffix);
/* S with < > & " escaped, for XML and HTML text and attributes. */
void xml_text(FILE *f, const char *s);
