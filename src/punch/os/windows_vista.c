// SPDX-License-Identifier: MIT
/*
 * Windows Vista: the dynamic range moved to IANA's 49152-65535, "a change
 * from ... earlier versions of Microsoft Windows that used a default port
 * range of 1025 through 5000" (KB 929851, "The default dynamic port range for
 * TCP/IP has changed in Windows Vista and in Windows Server 2008",
 * support.microsoft.com/kb/929851); "the range is set separately for each
 * transport" (netsh int ipv4 show dynamicport tcp|udp). The paper's
 * "Windows" of 2009 may be Vista as much as XP. How a port is picked in the
 * range is not documented: assumed to be XP's +1 counter, as for windows-7.
 */
#include "punch/osprof.h"

struct counter {
	uint16_t next;
};

_Static_assert(sizeof(struct counter) == OS_VISTA_STATE_SIZE, "the state windows-7 shares");

void os_vista_init(void *st, struct os_rng *rng)
{
	/* where the counter stands at boot is not documented: anywhere */
	((struct counter *)st)->next = (uint16_t)(49152 + os_rng_below(rng, 65535 - 49152 + 1));
}

uint16_t os_vista_next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		       os_in_use_fn in_use, void *arg)
{
	(void)rng, (void)d, (void)now;
	return os_counter_next(&((struct counter *)st)->next, 49152, 65535, in_use, arg);
}

const struct os_ops os_windows_vista = {
    .name = "windows-vista",
    .lo = 49152,
    .hi = 65535,
    .rule = "one counter for every destination, +1 per TCP allocation, 49152-65535",
    .source = "range: Microsoft KB 929851 (the dynamic port range changed in Windows Vista); "
	      "the +1 rule is not documented by Microsoft",
    .assumed = true,
    .state_size = sizeof(struct counter),
    .init = os_vista_init,
    .next = os_vista_next,
};
