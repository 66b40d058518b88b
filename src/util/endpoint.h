/* SPDX-License-Identifier: MIT */
#pragma once
#include <netinet/in.h>

/* "A.B.C.D:PORT" (PORT 0 allowed with ALLOW_ZERO) into OUT; -1 if malformed. */
int endpoint_parse(const char *s, struct sockaddr_in *out, int allow_zero);

/* A non-blocking, close-on-exec TCP socket listening on ADDR (SO_REUSEADDR);
 * *BOUND (if not NULL) gets the bound address. The fd, or -errno. */
int endpoint_listen(const struct sockaddr_in *addr, int backlog, struct sockaddr_in *bound);
