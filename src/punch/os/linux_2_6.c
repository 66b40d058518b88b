// SPDX-License-Identifier: MIT
/*
 * Linux 2.6: RFC 6056 Algorithm 3 (__inet_hash_connect):
 * port = low + (hint + F(saddr, daddr, dport, secret) + i) % n, the first i
 * from 1 whose port is free; then hint += i. Consecutive ports to one
 * destination, unrelated ports to another: why S cannot predict it.
 */
#include "punch/osprof.h"

static void init(void *st, struct os_rng *rng)
{
	/* F's key: drivers/char/random.c get_keyptr(), re-keyed every
	 * REKEY_INTERVAL (300 s) until 3.0 moved it to net/core/secure_seq.c */
	os_alg3_init(st, rng, ~0u, 300);
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	return os_alg3_next(st, rng, d, now, 32768, 61000, 1, 1, 0, in_use, arg);
}

const struct os_ops os_linux_2_6 = {
    .name = "linux-2.6",
    .lo = 32768,
    .hi = 61000,
    .rule = "RFC 6056 Alg. 3: low + (hint + F(saddr,daddr,dport,secret) + i) % n; hint += i",
    .source = "Linux 2.6 net/ipv4/inet_hashtables.c __inet_hash_connect; RFC 6056 3.3.3",
    .state_size = sizeof(struct os_alg3),
    .init = init,
    .next = next,
};
