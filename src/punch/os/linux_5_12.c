// SPDX-License-Identifier: MIT
/*
 * Linux 5.12 and later: RFC 6056 Algorithm 4. A table of perturbations,
 * indexed by a hash of the connection; the offset's key is re-salted every
 * 10 s; each success moves the slot on by a random 2 to 16.
 */
#include "punch/osprof.h"

#define LO 32768
#define HI 60999
#define TABLE (1u << 16)

struct alg4 {
	uint32_t perturb[TABLE];
	uint64_t index_key, offset_key;
	double salted_at;
};

static void init(void *st, struct os_rng *rng)
{
	struct alg4 *a = st;
	a->index_key = os_rng_next(rng);
	a->offset_key = os_rng_next(rng);
	a->salted_at = -1;
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	struct alg4 *a = st;
	const uint32_t n = HI - LO + 1;

	if (a->salted_at < 0)
		a->salted_at = now;
	if (now - a->salted_at >= 10) {
		a->offset_key = os_rng_next(rng);
		a->salted_at = now;
	}
	uint32_t idx = os_hash(a->index_key, d->saddr, d->daddr, d->dport) & (TABLE - 1);
	uint32_t offset =
	    (os_hash(a->offset_key, d->saddr, d->daddr, d->dport) + a->perturb[idx]) & ~1u;
	for (uint32_t i = 0; i < n; i += 2) {
		uint16_t p = (uint16_t)(LO + ((offset + i) % n & ~1u));
		if (!in_use || !in_use(p, arg)) {
			a->perturb[idx] += i + 2 + os_rng_below(rng, 15);
			return p;
		}
	}
	return 0;
}

const struct os_ops os_linux_5_12 = {
    .name = "linux-5.12",
    .lo = LO,
    .hi = HI,
    .rule = "RFC 6056 Alg. 4: table_perturb[2^16], offset re-salted every 10 s, random steps 2-16",
    .source = "Linux 5.12, commit \"tcp: change source port randomizarion at connect() time\"; "
	      "the 2^16 table from \"tcp: increase source port perturb table to 2^16\"",
    .state_size = sizeof(struct alg4),
    .init = init,
    .next = next,
};
