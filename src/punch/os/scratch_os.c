// SPDX-License-Identifier: MIT
/* SCRATCH (reverted): a profile added as docs/extending.md says, to check it. */
#include "punch/osprof.h"

struct counter {
	uint16_t next;
};

static void init(void *st, struct os_rng *rng)
{
	((struct counter *)st)->next = (uint16_t)(20000 + os_rng_below(rng, 100));
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	(void)rng, (void)d, (void)now;
	return os_counter_next(&((struct counter *)st)->next, 20000, 20999, in_use, arg);
}

const struct os_ops os_scratch_os = {
    .name = "scratch-os",
    .lo = 20000,
    .hi = 20999,
    .rule = "a global counter over 20000-20999",
    .source = "none: a scratch profile",
    .assumed = true,
    .state_size = sizeof(struct counter),
    .init = init,
    .next = next,
};
