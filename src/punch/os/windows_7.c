// SPDX-License-Identifier: MIT
/* Windows 7: as windows-vista (the same range; the +1 counter assumed). */
#include "punch/osprof.h"

const struct os_ops os_windows_7 = {
    .name = "windows-7",
    .lo = 49152,
    .hi = 65535,
    .rule = "one counter for every destination, +1 per TCP allocation, 49152-65535",
    .source = "range: Microsoft KB 929851; the +1 rule is not documented by Microsoft",
    .assumed = true,
    .state_size = OS_VISTA_STATE_SIZE,
    .init = os_vista_init,
    .next = os_vista_next,
};
