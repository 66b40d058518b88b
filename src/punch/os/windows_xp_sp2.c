// SPDX-License-Identifier: MIT
/* Windows XP Service Pack 2: XP's allocator, and at most 10 half-open
 * outbound connections at once. */
#include "punch/osprof.h"

const struct os_ops os_windows_xp_sp2 = {
    .name = "windows-xp-sp2",
    .lo = 1025,
    .hi = 5000,
    .rule = "windows-xp's counter; at most 10 connections in SYN_SENT, the rest queued",
    .source = "range: Microsoft KB 929851; the +1 rule is not documented",
    .assumed = true,
    .state_size = OS_XP_STATE_SIZE,
    .init = os_xp_init,
    .next = os_xp_next,
    .max_half_open = 10,
    .quirk_source = "Microsoft, Changes to Functionality in Microsoft Windows XP Service "
		    "Pack 2, part 2: Network Protection Technologies (TCP/IP: the number of "
		    "simultaneous incomplete outbound connection attempts is limited to 10; "
		    "further attempts are queued, event 4226)",
};
