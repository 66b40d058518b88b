// SPDX-License-Identifier: MIT
#include "osprof.h"
#include "util/registry.h"
#include <math.h>
#include <stdlib.h>

/* one declaration and one registry entry per line of os/profiles.def */
#define OS_PROFILE(id) extern const struct os_ops os_##id;
#include "os/profiles.def"
#undef OS_PROFILE

const struct os_ops *const os_profiles[] = {
#define OS_PROFILE(id) &os_##id,
#include "os/profiles.def"
#undef OS_PROFILE
    NULL,
};

#define OS_REGISTRY REGISTRY_POINTERS(os_profiles)

const struct os_ops *os_by_name(const char *name)
{
	return registry_find(OS_REGISTRY, name);
}

const char *os_names(void)
{
	static _Thread_local char buf[REGISTRY_NAMES_MAX];

	return registry_names(OS_REGISTRY, buf, sizeof(buf));
}

uint64_t os_rng_next(struct os_rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t os_rng_below(struct os_rng *r, uint32_t n)
{
	return n ? (uint32_t)(((os_rng_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

double os_rng_unit(struct os_rng *r)
{
	return (double)(os_rng_next(r) >> 11) / 9007199254740992.0;
}

uint32_t os_hash(uint64_t key, uint32_t saddr, uint32_t daddr, uint16_t dport)
{
	struct os_rng r = {key ^ ((uint64_t)saddr << 32 | daddr)};
	r.s ^= os_rng_next(&r) + dport;
	return (uint32_t)(os_rng_next(&r) >> 32);
}

uint64_t os_hash64(uint64_t key, uint32_t saddr, uint32_t daddr, uint16_t dport, uint32_t salt)
{
	struct os_rng r = {key ^ ((uint64_t)saddr << 32 | daddr)};
	r.s ^= os_rng_next(&r) + ((uint64_t)salt << 16 | dport);
	return os_rng_next(&r);
}

struct os_host *os_host_new(const struct os_ops *ops, uint64_t seed, const struct os_load *load)
{
	struct os_host *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->ops = ops;
	h->rng.s = seed;
	if (load)
		h->load = *load;
	h->last = -1;
	if (ops->state_size && !(h->state = calloc(1, ops->state_size))) {
		free(h);
		return NULL;
	}
	if (ops->init)
		ops->init(h->state, &h->rng);
	return h;
}

void os_host_free(struct os_host *h)
{
	if (!h)
		return;
	free(h->state);
	free(h);
}

/* Poisson-distributed count with mean LAMBDA (Knuth; the means here are small). */
static unsigned poisson(struct os_rng *r, double lambda)
{
	if (lambda <= 0)
		return 0;
	if (lambda > 500)
		return (unsigned)lambda; /* past any range, the exact count no longer matters */
	double l = exp(-lambda), p = 1;
	unsigned k = 0;
	do {
		k++;
		p *= os_rng_unit(r);
	} while (p > l);
	return k - 1;
}

/* Exponentially distributed with mean MEAN. */
static double expo(struct os_rng *r, double mean)
{
	return -mean * log(1 - os_rng_unit(r));
}

static bool bursty(const struct os_load *l)
{
	return l->on_s > 0 && l->off_s > 0;
}

/* Other programs' allocations in [FROM, TO), while the load is on. */
static void background_span(struct os_host *h, const struct os_dest *d, double from, double to)
{
	unsigned k = poisson(&h->rng, h->load.rate * (to - from));
	for (unsigned i = 0; i < k; i++) {
		h->background_taken++;
		/* a UDP port comes from another table: it moves none of TCP's */
		if (h->load.tcp_share < 1 && os_rng_unit(&h->rng) >= h->load.tcp_share)
			continue;
		/* other programs talk to anyone: a random destination each */
		struct os_dest bg = {d->saddr, (uint32_t)os_rng_next(&h->rng),
				     (uint16_t)(1 + os_rng_below(&h->rng, 65535))};
		/* other programs' ports: they take them, we only count; IN_USE binds
		 * the caller's socket, so it is not for them */
		h->ops->next(h->state, &h->rng, &bg, from + (to - from) * (i + 1) / (k + 1), NULL,
			     NULL);
		h->background_tcp++;
	}
}

/* The background between the last allocation and NOW, burst by burst. */
static void background(struct os_host *h, const struct os_dest *d, double now)
{
	const struct os_load *l = &h->load;
	if (!bursty(l)) {
		background_span(h, d, h->last, now);
		return;
	}
	for (double t = h->last; t < now;) {
		double end = h->switch_at < now ? h->switch_at : now;
		if (h->on && end > t)
			background_span(h, d, t, end);
		if (end == h->switch_at) {
			h->on = !h->on;
			h->switch_at = end + expo(&h->rng, h->on ? l->on_s : l->off_s);
		}
		t = end > t ? end : t;
	}
}

uint16_t os_host_port(struct os_host *h, const struct os_dest *d, double now, os_in_use_fn in_use,
		      void *arg)
{
	if (!h->ops->next)
		return 0;
	if (h->last < 0 && bursty(&h->load)) {
		/* the process in its steady state: on for the share of time it is */
		const struct os_load *l = &h->load;
		h->on = os_rng_unit(&h->rng) < l->on_s / (l->on_s + l->off_s);
		h->switch_at = now + expo(&h->rng, h->on ? l->on_s : l->off_s);
	}
	if (h->last >= 0 && h->load.rate > 0 && now > h->last)
		background(h, d, now);
	h->last = now;
	return h->ops->next(h->state, &h->rng, d, now, in_use, arg);
}

uint16_t os_counter_next(uint16_t *next, uint16_t lo, uint16_t hi, os_in_use_fn in_use, void *arg)
{
	for (uint32_t tries = 0; tries <= (uint32_t)(hi - lo); tries++) {
		uint16_t p = *next < lo || *next > hi ? lo : *next;
		*next = p >= hi ? lo : p + 1;
		if (!in_use || !in_use(p, arg))
			return p;
	}
	return 0;
}

void os_alg3_init(struct os_alg3 *a, struct os_rng *rng, uint32_t hint_mask, double rekey_s)
{
	a->rekey_s = rekey_s;
	a->hint = (uint32_t)os_rng_next(rng) & hint_mask;
	a->secret = os_rng_next(rng);
	a->keyed_at = -1;
}

uint16_t os_alg3_next(struct os_alg3 *a, struct os_rng *rng, const struct os_dest *d, double now,
		      uint16_t lo, uint16_t hi, uint32_t first, uint32_t step, uint32_t hint_extra,
		      os_in_use_fn in_use, void *arg)
{
	const uint32_t n = (uint32_t)(hi - lo) + 1;
	const uint32_t even = step == 2 ? ~1u : ~0u;

	if (a->keyed_at < 0)
		a->keyed_at = now;
	if (a->rekey_s > 0 && now - a->keyed_at >= a->rekey_s) {
		a->secret = os_rng_next(rng);
		a->keyed_at = now;
	}
	uint32_t offset = (a->hint + os_hash(a->secret, d->saddr, d->daddr, d->dport)) & even;
	for (uint32_t i = first; i < n + first; i += step) {
		uint16_t p = (uint16_t)(lo + ((offset + i) % n & even));
		if (!in_use || !in_use(p, arg)) {
			a->hint += i + hint_extra;
			return p;
		}
	}
	return 0;
}

uint16_t os_parity_scan(uint16_t lo, uint16_t hi, uint32_t offset, os_in_use_fn in_use, void *arg,
			uint32_t *i)
{
	uint32_t n = (uint32_t)(hi - lo) + 1;
	if (n > 1)
		n &= ~1u;
	offset = offset % n & ~1u;
	for (int pass = 0; pass < 2; pass++, offset++)
		for (*i = 0; *i < n; *i += 2) {
			uint16_t p = (uint16_t)(lo + (offset + *i) % n);
			if (!in_use || !in_use(p, arg))
				return p;
		}
	return 0;
}
