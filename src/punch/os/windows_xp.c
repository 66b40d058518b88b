// SPDX-License-Identifier: MIT
/* Windows XP: one global counter, +1 per allocation, 1025-5000, wrapping. */
#include "punch/osprof.h"

struct counter {
	uint16_t next;
};

static void init(void *st, struct os_rng *rng)
{
	/* 1025 at boot; where it stands now depends on what the host did since:
	 * anywhere (two XP hosts behind one NAT must not march in step) */
	((struct counter *)st)->next = (uint16_t)(1025 + os_rng_below(rng, 5000 - 1025 + 1));
}

/* The counter is shared by every destination, TCP and UDP alike. */
static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	(void)rng, (void)d, (void)now;
	return os_counter_next(&((struct counter *)st)->next, 1025, 5000, in_use, arg);
}

const struct os_ops os_windows_xp = {
    .name = "windows-xp",
    .lo = 1025,
    .hi = 5000,
    .rule = "one global counter, +1 per allocation (TCP and UDP), wraps 5000 -> 1025",
    .source = "Microsoft KB 929851 (dynamic port range 1025-5000 before Vista)",
    .state_size = sizeof(struct counter),
    .init = init,
    .next = next,
};
