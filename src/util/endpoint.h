/* SPDX-License-Identifier: MIT */
#pragma once
#include <netinet/in.h>

/* "A.B.C.D:PORT" (PORT 0 allowed with ALLOW_ZERO) into OUT; -1 if malformed. */
int endpoint_parse(const char *s, struct sockaddr_in *out, int allow_zero);
