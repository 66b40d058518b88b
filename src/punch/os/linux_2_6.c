// SPDX-License-Identifier: MIT
/*
 * Linux 2.6: RFC 6056 Algorithm 3 (__inet_hash_connect):
 * port = low + (hint + F(saddr, daddr, dport, secret) + i) % n, the first i
 * from 1 whose port is free; then hint += i. Consecutive ports to one
 * destination, unrelated ports to another: why S cannot predict it.
 */
#include "punch/osprof.h"

#define LO 32768
#define HI 61000

struct alg3 {
	uint32_t hint;
	uint64_t secret;
	double keyed_at;
};

static void init(void *st, struct os_rng *rng)
{
	struct alg3 *a = st;
	a->hint = (uint32_t)os_rng_next(rng);
	a->secret = os_rng_next(rng);
	a->keyed_at = -1;
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	struct alg3 *a = st;
	const uint32_t n = HI - LO + 1;

	/* the secret of F is re-drawn every 300 s (net/core/secure_seq.c) */
	if (a->keyed_at < 0)
		a->keyed_at = now;
	if (now - a->keyed_at >= 300) {
		a->secret = os_rng_next(rng);
		a->keyed_at = now;
	}
	uint32_t offset = a->hint + os_hash(a->secret, d->saddr, d->daddr, d->dport);
	for (uint32_t i = 1; i <= n; i++) {
		uint16_t p = (uint16_t)(LO + (offset + i) % n);
		if (!in_use || !in_use(p, arg)) {
			a->hint += i;
			return p;
		}
	}
	return 0;
}

const struct os_ops os_linux_2_6 = {
    .name = "linux-2.6",
    .lo = LO,
    .hi = HI,
    .rule = "RFC 6056 Alg. 3: low + (hint + F(saddr,daddr,dport,secret) + i) % n; hint += i",
    .source = "Linux 2.6 net/ipv4/inet_hashtables.c __inet_hash_connect; RFC 6056 3.3.3",
    .state_size = sizeof(struct alg3),
    .init = init,
    .next = next,
};
