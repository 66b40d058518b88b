// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <string.h>
#include "punch/osprof.h"

static const struct os_dest S = {0x0201a8c0, 0x010012c6, 7777}; /* to the server */
static const struct os_dest P = {0x0201a8c0, 0x030012c6, 1029}; /* to the other peer */

static struct os_host *host(const char *name)
{
	const struct os_ops *o = os_by_name(name);
	cr_assert_not_null(o, "no profile %s", name);
	struct os_host *h = os_host_new(o, 42, NULL);
	cr_assert_not_null(h);
	return h;
}

Test(osprof, registry)
{
	/* the shipped profiles in this order; a new one may go anywhere */
	static const char *const shipped[] = {
	    "windows-xp", "windows-vista", "windows-7", "macosx-10.5", "linux-2.6", "linux-4.6",
	    "linux-5.12", "linux-5.18",	   "freebsd",	"openbsd",     "native"};
	size_t k = 0, n = sizeof(shipped) / sizeof(shipped[0]);
	for (size_t i = 0; os_profiles[i] && k < n; i++)
		k += !strcmp(os_profiles[i]->name, shipped[k]);
	cr_assert_eq(k, n, "not the shipped profiles in order: %s", os_names());
	for (size_t i = 0; os_profiles[i]; i++) {
		const struct os_ops *o = os_profiles[i];
		cr_assert(o->rule && o->source, "%s lacks its rule or source", o->name);
		if (o->next)
			cr_assert_lt(o->lo, o->hi);
	}
	/* no public source gives the Windows counters */
	cr_assert(os_by_name("windows-xp")->assumed);
	cr_assert(os_by_name("windows-vista")->assumed);
	cr_assert(os_by_name("windows-7")->assumed);
	cr_assert_eq(os_by_name("windows-vista")->lo, 49152);
	cr_assert_eq(os_by_name("windows-vista")->hi, 65535);
	cr_assert_null(os_by_name("native")->next);
}

Test(osprof, windows_xp_is_one_global_counter_that_wraps)
{
	struct os_host *h = host("windows-xp");
	uint16_t a = os_host_port(h, &S, 0, NULL, NULL);
	cr_assert(a >= 1025 && a <= 5000);
	uint16_t b = os_host_port(h, &P, 0, NULL, NULL), c = os_host_port(h, &S, 0, NULL, NULL);
	cr_assert_eq(b, a == 5000 ? 1025 : a + 1, "+1 whatever the destination");
	cr_assert_eq(c, b == 5000 ? 1025 : b + 1);
	uint16_t p = c;
	while (p != 5000)
		p = os_host_port(h, &S, 0, NULL, NULL);
	cr_assert_eq(os_host_port(h, &S, 0, NULL, NULL), 1025, "wraps from 5000 to 1025");
	os_host_free(h);
}

static bool taken(uint16_t port, void *arg)
{
	const uint16_t *busy = arg;
	for (; *busy; busy++)
		if (*busy == port)
			return true;
	return false;
}

Test(osprof, macosx_skips_ports_in_use)
{
	struct os_host *h = host("macosx-10.5");
	uint16_t first = os_host_port(h, &S, 0, NULL, NULL);
	cr_assert(first >= 49152);
	uint16_t busy[] = {(uint16_t)(first + 1), (uint16_t)(first + 2), 0};
	if (first >= 65533) {
		os_host_free(h);
		return; /* the seed put us at the end of the range: the wrap test covers it */
	}
	cr_assert_eq(os_host_port(h, &S, 0, taken, busy), first + 3);
	cr_assert_eq(os_host_port(h, &S, 0, taken, busy), first + 4);
	os_host_free(h);
}

Test(osprof, linux_2_6_is_sequential_per_destination_only)
{
	struct os_host *h = host("linux-2.6");
	uint16_t s1 = os_host_port(h, &S, 0, NULL, NULL), s2 = os_host_port(h, &S, 0, NULL, NULL),
		 s3 = os_host_port(h, &S, 0, NULL, NULL);
	cr_assert_eq(s2, s1 + 1);
	cr_assert_eq(s3, s2 + 1);
	uint16_t p = os_host_port(h, &P, 0, NULL, NULL);
	cr_assert(p >= 32768 && p <= 61000);
	cr_assert(p != s3 + 1 && p != s3 + 2, "a new destination gets an unrelated port");
	/* and back to the server, the sequence goes on past the hint */
	cr_assert_eq(os_host_port(h, &S, 0, NULL, NULL), s3 + 2);
	os_host_free(h);
}

Test(osprof, linux_2_6_rekeys_every_300_s_and_4_6_never)
{
	struct os_host *old = host("linux-2.6"), *new = host("linux-4.6");
	uint16_t o1 = os_host_port(old, &S, 0, NULL, NULL),
		 n1 = os_host_port(new, &S, 0, NULL, NULL);
	uint16_t o2 = os_host_port(old, &S, 299, NULL, NULL),
		 n2 = os_host_port(new, &S, 299, NULL, NULL);
	cr_assert_eq(o2, o1 + 1);
	cr_assert_eq(n2, n1 + 2);
	uint16_t o3 = os_host_port(old, &S, 301, NULL, NULL),
		 n3 = os_host_port(new, &S, 3600, NULL, NULL);
	cr_assert_neq(o3, o2 + 1, "2.6 re-keyed F after 300 s: a new offset");
	cr_assert_eq(n3, n2 + 2, "4.6's net_secret never changes");
	os_host_free(old);
	os_host_free(new);
}

Test(osprof, linux_4_6_takes_even_ports_in_steps_of_two)
{
	struct os_host *h = host("linux-4.6");
	uint16_t prev = os_host_port(h, &S, 0, NULL, NULL);
	cr_assert_eq(prev % 2, 0);
	for (int i = 0; i < 5; i++) {
		uint16_t p = os_host_port(h, &S, 0, NULL, NULL);
		cr_assert_eq(p % 2, 0);
		cr_assert_eq(p, prev + 2);
		prev = p;
	}
	os_host_free(h);
}

/* Steps between successive ports to S, N connections at times T0 + k * DT. */
static void steps(struct os_host *h, int n, double t0, double dt, int *out)
{
	uint16_t prev = os_host_port(h, &S, t0, NULL, NULL);
	for (int k = 0; k < n; k++) {
		uint16_t p = os_host_port(h, &S, t0 + (k + 1) * dt, NULL, NULL);
		cr_assert_eq(p % 2, 0, "connect() takes even ports first");
		out[k] = (int)p - (int)prev;
		prev = p;
	}
}

Test(osprof, linux_5_12_steps_by_two_and_now_and_then_four)
{
	/* 5.12: the slot moves by i + 2, i = 2 in 1/16 of first-try successes */
	struct os_host *h = host("linux-5.12");
	int d[400], fours = 0;
	steps(h, 400, 0, 0.1, d);
	for (int k = 0; k < 400; k++) {
		cr_assert(d[k] == 2 || d[k] == 4 || d[k] < -28000, "step %d: %d", k, d[k]);
		fours += d[k] == 4;
	}
	/* 25 expected; a binomial(400, 1/16) is within 8-45 but for 1e-5 */
	cr_assert(fours >= 8 && fours <= 45, "%d steps of 4 in 400", fours);
	/* no time in 5.12's F: an hour later the sequence goes on */
	uint16_t before = os_host_port(h, &S, 41, NULL, NULL);
	uint16_t after = os_host_port(h, &S, 3641, NULL, NULL);
	cr_assert(after == before + 2 || after == before + 4, "%u then %u", before, after);
	os_host_free(h);
}

Test(osprof, linux_5_18_steps_randomly_and_jumps_every_10_s)
{
	struct os_host *h = host("linux-5.18");
	int d[40], seen[17] = {0}, distinct = 0, jumps = 0;
	/* 4 s: at most one of the host's 10 s boundaries falls inside */
	steps(h, 40, 0, 0.1, d);
	for (int k = 0; k < 40; k++) {
		if (d[k] < 2 || d[k] > 16) {
			jumps++;
			continue;
		}
		cr_assert_eq(d[k] % 2, 0);
		distinct += !seen[d[k]]++;
	}
	cr_assert_leq(jumps, 1, "%d jumps within 4 s", jumps);
	cr_assert_geq(distinct, 4, "steps are not random: %d distinct", distinct);
	/* the last 30 ports lie in three different 10 s periods: each boundary
	 * re-salts F, and the sequence lands anywhere */
	steps(h, 30, 10, 1, d);
	jumps = 0;
	for (int k = 0; k < 30; k++)
		jumps += d[k] < 2 || d[k] > 16;
	cr_assert(jumps >= 2 && jumps <= 4, "%d jumps in 30 s", jumps);
	os_host_free(h);
}

Test(osprof, freebsd_turns_sequential_under_load)
{
	struct os_host *h = host("freebsd");
	uint16_t a = os_host_port(h, &S, 0, NULL, NULL), b = os_host_port(h, &S, 1.5, NULL, NULL);
	cr_assert(a >= 10000 && b >= 10000);
	cr_assert_neq(b, a + 1, "one port a second: still random");
	/* 20 ports within a second: past randomcps (10), it counts up */
	uint16_t p[20];
	for (int i = 0; i < 20; i++)
		p[i] = os_host_port(h, &S, 3 + i * 0.01, NULL, NULL);
	for (int i = 12; i < 20; i++)
		cr_assert_eq(p[i], p[i - 1] + 1, "port %d: %u after %u", i, p[i], p[i - 1]);
	/* and stays sequential for 45 s, even when quiet */
	uint16_t q = os_host_port(h, &S, 20, NULL, NULL);
	cr_assert_eq(q, p[19] + 1);
	os_host_free(h);
}

Test(osprof, openbsd_is_random_in_range)
{
	struct os_host *h = host("openbsd");
	int seq = 0;
	uint16_t prev = os_host_port(h, &S, 0, NULL, NULL);
	for (int i = 0; i < 50; i++) {
		uint16_t p = os_host_port(h, &S, 0, NULL, NULL);
		cr_assert(p >= 1024 && p <= 49151);
		seq += p == prev + 1;
		prev = p;
	}
	cr_assert_leq(seq, 1);
	os_host_free(h);
}

Test(osprof, background_programs_take_ports)
{
	const struct os_ops *xp = os_by_name("windows-xp");
	const struct os_load twenty = {.rate = 20, .tcp_share = 1};
	struct os_host *quiet = os_host_new(xp, 7, NULL), *busy = os_host_new(xp, 7, &twenty);
	os_host_port(quiet, &S, 0, NULL, NULL);
	os_host_port(busy, &S, 0, NULL, NULL);
	/* the same seed starts both at the same port; a second later 20 ports/s
	 * of other programs have moved the busy host's counter on */
	uint16_t q = os_host_port(quiet, &S, 1, NULL, NULL),
		 b = os_host_port(busy, &S, 1, NULL, NULL);
	unsigned ahead = (unsigned)(b + 3976 - q) % 3976; /* 3976 ports in 1025-5000 */
	cr_assert_gt(ahead, 5, "busy host at %u, quiet at %u", b, q);
	cr_assert_eq(busy->background_taken, (uint64_t)ahead);
	os_host_free(quiet);
	os_host_free(busy);
}

Test(osprof, same_seed_same_ports)
{
	const struct os_ops *o = os_by_name("linux-5.18");
	const struct os_load load = {.rate = 3, .tcp_share = 0.5, .on_s = 1, .off_s = 2};
	struct os_host *a = os_host_new(o, 99, &load), *b = os_host_new(o, 99, &load);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(os_host_port(a, &S, i * 0.3, NULL, NULL),
			     os_host_port(b, &S, i * 0.3, NULL, NULL));
	os_host_free(a);
	os_host_free(b);
}

/* How far the windows-xp host H's counter is ahead of Q's (3976 ports in 1025-5000). */
static unsigned xp_ahead(uint16_t h, uint16_t q)
{
	return (unsigned)(h + 3976 - q) % 3976;
}

Test(osprof, udp_allocations_move_no_tcp_counter)
{
	const struct os_ops *xp = os_by_name("windows-xp");
	const struct os_load udp = {.rate = 20, .tcp_share = 0},
			     half = {.rate = 200, .tcp_share = 0.5};
	struct os_host *quiet = os_host_new(xp, 7, NULL), *u = os_host_new(xp, 7, &udp),
		       *m = os_host_new(xp, 7, &half);
	os_host_port(quiet, &S, 0, NULL, NULL);
	os_host_port(u, &S, 0, NULL, NULL);
	os_host_port(m, &S, 0, NULL, NULL);
	uint16_t q = os_host_port(quiet, &S, 1, NULL, NULL);
	uint16_t pu = os_host_port(u, &S, 1, NULL, NULL), pm = os_host_port(m, &S, 1, NULL, NULL);
	cr_assert_gt(u->background_taken, 5, "other programs took %lu ports",
		     (unsigned long)u->background_taken);
	cr_assert_eq(u->background_tcp, 0);
	cr_assert_eq(pu, q, "UDP moved TCP's counter: %u, not %u", pu, q);
	/* half of 200 a second are TCP, and only they move it */
	cr_assert_eq(xp_ahead(pm, q), m->background_tcp);
	double share = (double)m->background_tcp / (double)m->background_taken;
	cr_assert(share > 0.35 && share < 0.65, "TCP share %g", share);
	os_host_free(quiet);
	os_host_free(u);
	os_host_free(m);
}

Test(osprof, bursty_load_comes_on_and_off)
{
	/* 100 a second for 1 s in 10 on average: a mean of 10 a second, but most
	 * seconds quiet, where a steady 10 a second would leave none quiet */
	const struct os_ops *xp = os_by_name("windows-xp");
	const struct os_load bursts = {.rate = 100, .tcp_share = 1, .on_s = 1, .off_s = 9};
	const struct os_load steady = {.rate = 10, .tcp_share = 1};
	struct os_host *b = os_host_new(xp, 3, &bursts), *s = os_host_new(xp, 3, &steady);
	int quiet_b = 0, quiet_s = 0;
	uint64_t before_b = 0, before_s = 0;
	for (int t = 0; t <= 1000; t++) {
		os_host_port(b, &S, t, NULL, NULL);
		os_host_port(s, &S, t, NULL, NULL);
		quiet_b += t && b->background_taken == before_b;
		quiet_s += t && s->background_taken == before_s;
		before_b = b->background_taken;
		before_s = s->background_taken;
	}
	cr_assert(b->background_taken > 6000 && b->background_taken < 14000, "%lu in 1000 s",
		  (unsigned long)b->background_taken);
	cr_assert_gt(quiet_b, 600, "%d quiet seconds of 1000", quiet_b);
	cr_assert_lt(quiet_s, 5, "steady load: %d quiet seconds", quiet_s);
	os_host_free(b);
	os_host_free(s);
}
