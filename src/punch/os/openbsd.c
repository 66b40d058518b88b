// SPDX-License-Identifier: MIT
/* OpenBSD: a uniformly random port, probing on while in use. */
#include "punch/osprof.h"

#define LO 1024
#define HI 49151

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	const uint32_t n = HI - LO + 1;
	(void)st, (void)d, (void)now;
	uint32_t start = os_rng_below(rng, n);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(LO + (start + i) % n);
		if (!in_use || !in_use(p, arg))
			return p;
	}
	return 0;
}

const struct os_ops os_openbsd = {
    .name = "openbsd",
    .lo = LO,
    .hi = HI,
    .rule = "arc4random_uniform over the range, then probe",
    .source = "OpenBSD sys/netinet/in_pcb.c in_pcbpickport",
    .next = next,
};
