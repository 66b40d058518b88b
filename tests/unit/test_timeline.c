// SPDX-License-Identifier: MIT
/* capture/timeline.c: what the wire saw in a trial, from synthetic events. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include "capture/timeline.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static struct cap_event ev(double t, const char *src, uint16_t sp, const char *dst, uint16_t dp,
			   uint8_t flags)
{
	return (struct cap_event){.t = t,
				  .saddr = ip(src),
				  .daddr = ip(dst),
				  .sport = sp,
				  .dport = dp,
				  .flags = flags};
}

#define A "198.18.0.2"
#define B "198.18.0.3"
#define S "198.18.0.1"

Test(timeline, syns_each_way_before_any_synack_cross)
{
	struct cap_event e[] = {ev(1.000, A, 1000, B, 2000, CAP_SYN),
				ev(1.001, B, 2000, A, 1000, CAP_SYN),
				ev(1.020, A, 1000, B, 2000, CAP_SYN | CAP_ACK)};
	cr_assert(cap_syns_crossed(e, 3, ip(S)));
}

Test(timeline, a_synack_before_the_second_syn_is_listen_accept)
{
	struct cap_event e[] = {ev(1.000, A, 1000, B, 2000, CAP_SYN),
				ev(1.010, B, 2000, A, 1000, CAP_SYN | CAP_ACK),
				ev(1.020, B, 2000, A, 1000, CAP_SYN)};
	cr_assert_not(cap_syns_crossed(e, 3, ip(S)));
}

Test(timeline, other_ports_and_the_server_do_not_count)
{
	struct cap_event e[] = {ev(1.000, A, 1000, B, 2000, CAP_SYN),
				ev(1.001, B, 2000, A, 1001, CAP_SYN),
				ev(1.002, A, 1000, S, 7777, CAP_SYN),
				ev(1.003, S, 7777, A, 1000, CAP_SYN)};
	cr_assert_not(cap_syns_crossed(e, 4, ip(S)));
	cr_assert_not(cap_syns_crossed(e, 0, ip(S)));
}

Test(timeline, record_merges_points_in_time_order)
{
	struct cap_event na[] = {ev(0.5, A, 999, B, 2000, CAP_SYN), /* before the trial */
				 ev(1.000, A, 1000, S, 7777, CAP_SYN),
				 ev(1.003, A, 1000, B, 2000, CAP_SYN),
				 ev(1.004, A, 1001, B, 2000, CAP_SYN)};
	struct cap_event nb[] = {ev(1.002, B, 2000, A, 1000, CAP_SYN),
				 ev(1.010, B, 2000, A, 1000, CAP_RST | CAP_ACK)};
	struct cap_point_events pts[] = {{.node = "nat-a", .addr = ip(A), .ev = na, .n = 4},
					 {.node = "nat-b", .addr = ip(B), .ev = nb, .n = 2}};
	json_t *r = cap_trial_record(pts, 2, 1.0, ip(S));
	cr_assert(json_is_true(json_object_get(r, "syns_crossed")));
	json_t *ext = json_object_get(r, "external_ports");
	cr_assert_eq(json_integer_value(json_object_get(ext, "nat-a")), 1001,
		     "the last SYN to a peer, not the one to S");
	cr_assert_eq(json_integer_value(json_object_get(ext, "nat-b")), 2000);
	json_t *tl = json_object_get(r, "timeline");
	cr_assert_eq(json_array_size(tl), 5, "the event before the trial is left out");
	const char *at[] = {"nat-a", "nat-b", "nat-a", "nat-a", "nat-b"};
	const char *fl[] = {"S", "S", "S", "S", "AR"};
	double ms[] = {0, 2, 3, 4, 10};
	for (size_t i = 0; i < 5; i++) {
		json_t *x = json_array_get(tl, i);
		cr_assert_str_eq(json_string_value(json_object_get(x, "at")), at[i], "event %zu", i);
		cr_assert_str_eq(json_string_value(json_object_get(x, "flags")), fl[i]);
		cr_assert_float_eq(json_number_value(json_object_get(x, "ms")), ms[i], 1e-6);
	}
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tl, 1), "src")),
			 B ":2000");
	json_decref(r);
}
