// SPDX-License-Identifier: MIT
/* Windows 7: as windows-vista (the same range; the +1 counter assumed). */
#include "punch/osprof.h"

struct counter {
	uint16_t next;
};

static void init(void *st, struct os_rng *rng)
{
	/* where the counter stands at boot is not documented: anywhere */
	((struct counter *)st)->next = (uint16_t)(49152 + os_rng_below(rng, 65535 - 49152 + 1));
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	(void)rng, (void)d, (void)now;
	return os_counter_next(&((struct counter *)st)->next, 49152, 65535, in_use, arg);
}

const struct os_ops os_windows_7 = {
    .name = "windows-7",
    .lo = 49152,
    .hi = 65535,
    .rule = "one counter for every destination, +1 per TCP allocation, 49152-65535",
    .source = "range: Microsoft KB 929851; the +1 rule is not documented by Microsoft",
    .assumed = true,
    .state_size = sizeof(struct counter),
    .init = init,
    .next = next,
};
