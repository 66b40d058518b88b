// SPDX-License-Identifier: MIT
/* Windows XP: a counter, +1 per allocation, 1025-5000, wrapping (assumed). */
#include "punch/osprof.h"

struct counter {
	uint16_t next;
};

_Static_assert(sizeof(struct counter) == OS_XP_STATE_SIZE, "the state the service packs share");

void os_xp_init(void *st, struct os_rng *rng)
{
	/* where it stands now depends on what the host did since boot:
	 * anywhere (two XP hosts behind one NAT must not march in step) */
	((struct counter *)st)->next = (uint16_t)(1025 + os_rng_below(rng, 5000 - 1025 + 1));
}

/* One counter for every destination. No public source gives the +1 rule, nor
 * whether UDP shares the counter: the host keeps one per protocol, and only
 * TCP allocations reach this one. */
uint16_t os_xp_next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		    os_in_use_fn in_use, void *arg)
{
	(void)rng, (void)d, (void)now;
	return os_counter_next(&((struct counter *)st)->next, 1025, 5000, in_use, arg);
}

const struct os_ops os_windows_xp = {
    .name = "windows-xp",
    .lo = 1025,
    .hi = 5000,
    .rule = "one counter for every destination, +1 per TCP allocation, wraps 5000 -> 1025",
    .source = "range: Microsoft KB 929851 (1025-5000 before Vista); the +1 rule and its "
	      "protocols are not documented",
    .assumed = true,
    .state_size = sizeof(struct counter),
    .init = os_xp_init,
    .next = os_xp_next,
};
