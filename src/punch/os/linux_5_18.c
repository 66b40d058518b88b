// SPDX-License-Identifier: MIT
/*
 * Linux 5.18 and later: the 2022 rule, from the series merged as
 * ef562489818 "insufficient-tcp-source-port-randomness" (Willy Tarreau, Eric
 * Dumazet; after Moshe Kol, Yossi Gilad and Amit Klein's tracking attack) for
 * 5.18, and backported in May-June 2022 to the 4.9 to 5.17 stable series:
 *   b2d057560b8 "secure_seq: use the 64 bits of the siphash for port offset
 *     calculation";
 *   4dfa9b438ee "tcp: resalt the secret every 10 seconds": port_offset =
 *     siphash_4u32(saddr, daddr, dport, jiffies / EPHEMERAL_PORT_SHUFFLE_PERIOD)
 *     with the period 10 * HZ, so F changes at every 10 s boundary of the
 *     host's clock (not 10 s after some event);
 *   9e9b70ae923 "tcp: use different parts of the port_offset for index and
 *     offset" and e8161345ddb "tcp: drop the hash_32() part from the index
 *     calculation": index = port_offset & (table size - 1), offset =
 *     table_perturb[index] + (port_offset >> 32);
 *   4c2c8f03a5a "tcp: increase source port perturb table to 2^16";
 *   ca7af040255 "tcp: add small random increments to the source port":
 *     i = max(i, (prandom_u32() & 7) * 2); table_perturb[index] += i + 2.
 * Then the parity search of 4.6 from offset % n. One destination sees even
 * steps of 2 to 16 within a 10 s period, and an unrelated port after it.
 */
#include "punch/osprof.h"

#define LO 32768
#define HI 60999
#define PERTURB_SIZE (1u << 16)
#define SHUFFLE_PERIOD 10.0

struct alg4 {
	uint32_t perturb[PERTURB_SIZE];
	uint64_t secret;
	double phase; /* where the host's 10 s periods start: jiffies count from boot */
};

static void init(void *st, struct os_rng *rng)
{
	struct alg4 *a = st;
	a->secret = os_rng_next(rng);
	a->phase = SHUFFLE_PERIOD * os_rng_unit(rng);
	for (uint32_t k = 0; k < PERTURB_SIZE; k++)
		a->perturb[k] = (uint32_t)os_rng_next(rng);
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	struct alg4 *a = st;
	uint32_t period = (uint32_t)(int64_t)((now + a->phase) / SHUFFLE_PERIOD);
	uint64_t port_offset = os_hash64(a->secret, d->saddr, d->daddr, d->dport, period);
	uint32_t index = (uint32_t)port_offset & (PERTURB_SIZE - 1), i;
	uint16_t p = os_parity_scan(LO, HI, a->perturb[index] + (uint32_t)(port_offset >> 32),
				    in_use, arg, &i);
	if (!p)
		return 0;
	uint32_t noise = 2 * os_rng_below(rng, 8);
	a->perturb[index] += (i > noise ? i : noise) + 2;
	return p;
}

const struct os_ops os_linux_5_18 = {
    .name = "linux-5.18",
    .lo = LO,
    .hi = HI,
    .rule = "RFC 6056 Alg. 4: table_perturb[2^16], F re-salted every 10 s; slot += max(i, "
	    "2 * rand(0..7)) + 2: even steps of 2-16, unrelated after each 10 s boundary",
    .source = "Linux 5.18 net/ipv4/inet_hashtables.c __inet_hash_connect and "
	      "net/core/secure_seq.c: \"tcp: increase source port perturb table to 2^16\" "
	      "(4c2c8f03a5a), \"tcp: resalt the secret every 10 seconds\" (4dfa9b438ee), \"tcp: "
	      "add small random increments to the source port\" (ca7af040255); also in the "
	      "4.9-5.17 stable series since May-June 2022",
    .state_size = sizeof(struct alg4),
    .init = init,
    .next = next,
};
