// SPDX-License-Identifier: MIT
/*
 * FreeBSD: a random port, then probing upwards while in use; when more than
 * randomcps (10) ports a second are taken, it turns sequential for
 * randomtime (45 s): busy hosts become predictable.
 */
#include "punch/osprof.h"

#define LO 10000
#define HI 65535
#define RANDOMCPS 10
#define RANDOMTIME 45.0

struct bsd {
	uint16_t last;
	double second; /* start of the current one-second window */
	unsigned in_second;
	double sequential_until;
};

static void init(void *st, struct os_rng *rng)
{
	struct bsd *b = st;
	b->last = (uint16_t)(LO + os_rng_below(rng, HI - LO + 1));
	b->second = -1e9;
	b->sequential_until = -1;
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	struct bsd *b = st;
	const uint32_t n = HI - LO + 1;
	(void)d;

	if (now - b->second >= 1) {
		b->second = now;
		b->in_second = 0;
	}
	if (++b->in_second > RANDOMCPS)
		b->sequential_until = now + RANDOMTIME;
	bool sequential = now < b->sequential_until;
	uint32_t start = sequential ? (uint32_t)(b->last - LO + 1) : os_rng_below(rng, n);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(LO + (start + i) % n);
		if (!in_use || !in_use(p, arg)) {
			b->last = p;
			return p;
		}
	}
	return 0;
}

const struct os_ops os_freebsd = {
    .name = "freebsd",
    .lo = LO,
    .hi = HI,
    .rule = "random + probe; sequential for 45 s once more than 10 ports/s are taken",
    .source = "FreeBSD sys/netinet/in_pcb.c in_pcb_lport (ipport_randomcps, ipport_randomtime)",
    .state_size = sizeof(struct bsd),
    .init = init,
    .next = next,
};
