// SPDX-License-Identifier: MIT
/*
 * Linux 5.12 to 5.17: RFC 6056 Algorithm 4 as 5.12 brought it, in
 * net/ipv4/inet_hashtables.c __inet_hash_connect:
 *   190cc82489f4 "tcp: change source port randomizarion at connect() time":
 *     port_offset = F(saddr, daddr, dport) under a secret drawn once at boot
 *     (secure_ipv4_port_ephemeral, siphash_3u32: no time in it);
 *     index = hash_32(port_offset, INET_TABLE_PERTURB_SHIFT), the shift 8: a
 *     table of 256 u32 perturbations, random at first use;
 *     offset = table_perturb[index] + port_offset; then the even ports from
 *     offset % n, then the odd ones (4.6's parity search);
 *     on success table_perturb[index] += i + 2;
 *   c579bd1b4021 "tcp: add some entropy in __inet_hash_connect()" (the same
 *     merge, 3a926b0e9c58 "tcp-rfc-6056"): when the first candidate was free
 *     (i == 0), i = 2 in 1 case of 16.
 * So one destination sees steps of 2, now and then 4, for as long as the host
 * runs; destinations whose index collides share a slot and move each other.
 * The 2022 rule (linux-5.18) replaced this in 5.18 and in the stable series.
 */
#include "punch/osprof.h"

#define LO 32768
#define HI 60999
#define PERTURB_SHIFT 8

struct alg4 {
	uint32_t perturb[1u << PERTURB_SHIFT];
	uint64_t secret;
};

static void init(void *st, struct os_rng *rng)
{
	struct alg4 *a = st;
	a->secret = os_rng_next(rng);
	for (uint32_t k = 0; k < 1u << PERTURB_SHIFT; k++)
		a->perturb[k] = (uint32_t)os_rng_next(rng);
}

/* include/linux/hash.h: the top BITS of VAL times the golden ratio */
static uint32_t hash_32(uint32_t val, unsigned bits)
{
	return (uint32_t)(val * 0x61C88647u) >> (32 - bits);
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	struct alg4 *a = st;
	(void)now;
	uint32_t port_offset = os_hash(a->secret, d->saddr, d->daddr, d->dport);
	uint32_t index = hash_32(port_offset, PERTURB_SHIFT), i;
	uint16_t p = os_parity_scan(LO, HI, a->perturb[index] + port_offset, in_use, arg, &i);
	if (!p)
		return 0;
	if (i == 0 && os_rng_below(rng, 16) == 0)
		i = 2;
	a->perturb[index] += i + 2;
	return p;
}

const struct os_ops os_linux_5_12 = {
    .name = "linux-5.12",
    .lo = LO,
    .hi = HI,
    .rule = "RFC 6056 Alg. 4: table_perturb[256] indexed by hash_32(F), boot-time secret; "
	    "slot += i + 2 (i = 2 in 1/16 of first-try successes): steps of 2, sometimes 4",
    .source = "Linux 5.12 net/ipv4/inet_hashtables.c __inet_hash_connect: 190cc82489f4 \"tcp: "
	      "change source port randomizarion at connect() time\" (INET_TABLE_PERTURB_SHIFT "
	      "8) and c579bd1b4021 \"tcp: add some entropy in __inet_hash_connect()\"",
    .state_size = sizeof(struct alg4),
    .init = init,
    .next = next,
};
