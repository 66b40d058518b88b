// SPDX-License-Identifier: MIT
/* Windows XP before Service Pack 2: XP's allocator, and no simultaneous open. */
#include "punch/osprof.h"

const struct os_ops os_windows_xp_sp1 = {
    .name = "windows-xp-sp1",
    .lo = 1025,
    .hi = 5000,
    .rule = "windows-xp's counter; a SYN for a socket in SYN_SENT is answered with a RST",
    .source = "range: Microsoft KB 929851; the +1 rule is not documented",
    .assumed = true,
    .state_size = OS_XP_STATE_SIZE,
    .init = os_xp_init,
    .next = os_xp_next,
    .syn_sent_rst = true,
    .quirk_source = "Ford, Srisuresh & Kegel, Peer-to-Peer Communication Across Network "
		    "Address Translators, USENIX 2005, 4.5: Windows XP before SP2 does not "
		    "handle a SYN arriving for a socket in SYN_SENT",
};
