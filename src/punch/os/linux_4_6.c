// SPDX-License-Identifier: MIT
/*
 * Linux 4.6: Algorithm 3 as in 2.6, but connect() takes even ports only (odd
 * ones are left for bind()), so one destination sees steps of 2.
 */
#include "punch/osprof.h"

#define LO 32768
#define HI 60999

struct alg3 {
	uint32_t hint;
	uint64_t secret;
	double keyed_at;
};

static void init(void *st, struct os_rng *rng)
{
	struct alg3 *a = st;
	a->hint = (uint32_t)os_rng_next(rng) & ~1u;
	a->secret = os_rng_next(rng);
	a->keyed_at = -1;
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	struct alg3 *a = st;
	const uint32_t n = HI - LO + 1;

	if (a->keyed_at < 0)
		a->keyed_at = now;
	if (now - a->keyed_at >= 300) {
		a->secret = os_rng_next(rng);
		a->keyed_at = now;
	}
	uint32_t offset = (a->hint + os_hash(a->secret, d->saddr, d->daddr, d->dport)) & ~1u;
	for (uint32_t i = 0; i < n; i += 2) {
		uint16_t p = (uint16_t)(LO + ((offset + i) % n & ~1u));
		if (!in_use || !in_use(p, arg)) {
			a->hint += i + 2;
			return p;
		}
	}
	return 0;
}

const struct os_ops os_linux_4_6 = {
    .name = "linux-4.6",
    .lo = LO,
    .hi = HI,
    .rule = "Alg. 3 with even ports for connect(): steps of 2 to one destination",
    .source =
	"Linux 4.6, commit \"tcp/dccp: better use of ephemeral ports in connect()\"",
    .state_size = sizeof(struct alg3),
    .init = init,
    .next = next,
};
