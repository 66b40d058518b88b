// SPDX-License-Identifier: MIT
/* native: no allocator at all; the peer never bind()s and this kernel chooses. */
#include "punch/osprof.h"

const struct os_ops os_native = {
    .name = "native",
    .rule = "whatever the running kernel does (no bind(); ip_local_port_range)",
    .source = "the kernel the lab runs on",
};
