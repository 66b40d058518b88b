// SPDX-License-Identifier: MIT
/* analysis/ladder.c: a trial's capture as rows of packets seen at columns of
 * capture points, the ports, and the packet that shows why a trial failed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ladder.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	cr_assert_not_null(j, "%d:%d: %s", e.line, e.column, e.text);
	return j;
}

static void build(const char *text, struct ladder *l)
{
	json_t *t = parse(text);
	struct perr err;
	cr_assert_eq(ladder_build(t, l, &err), 0, "%s", err.msg);
	json_decref(t);
}

/* The two peers of two-nats: A behind nat-a (198.18.0.2), B behind nat-b
 * (198.18.0.3), S at 198.18.0.1:7777. */
#define PEERS(a_remote, b_remote)                                                                  \
	"\"a\": {\"ports_seen\": [[3000, 3001]], \"remote\": \"" a_remote "\"},"                   \
	"\"b\": {\"ports_seen\": [[4000, 4001]], \"remote\": \"" b_remote "\"}"
#define EV(ms, at, src, dst, flags)                                                                \
	"{\"ms\": " #ms ", \"at\": \"" at "\", \"src\": \"" src "\", \"dst\": \"" dst              \
	"\", \"flags\": \"" flags "\"}"

/* The failure of table 1's linux-2.6 x windows-xp, cut short: B aims at
 * 58082, but A's NAT sends A's SYN from 37645; nat-a resets B's SYN. */
static const char mispredicted[] =
    "{\"cell\": \"c1\", \"trial\": 4, \"connected\": false, \"rounds\": 3, \"reason\": "
    "\"mispredicted\"," PEERS(
	"198.18.0.3:2076",
	"198.18.0.2:58082") ", \"capture\": "
			    "{\"timeline\": [" EV(1.0, "nat-a", "198.18.0.2:3000", "198.18.0.1:7777", "S") "," EV(
				1.2, "nat-a", "198.18.0.1:7777", "198.18.0.2:3000",
				"SA") "," EV(448.682, "nat-a", "198.18.0.2:37645",
					     "198.18.0.3:2076",
					     "S") "," EV(448.682, "nat-b", "198.18.0.3:2076",
							 "198.18.0.2:58082",
							 "S") "," EV(448.692, "nat-a",
								     "198.18.0.3:2076",
								     "198.18.0.2:58082",
								     "S") "," EV(448.693, "nat-b",
										 "198.18.0.2:37645",
										 "198.18.0.3:2076",
										 "S") "," EV(459.743,
											     "nat-"
											     "b",
											     "198."
											     "18.0."
											     "3:"
											     "2076",
											     "198."
											     "18.0."
											     "2:"
											     "3764"
											     "5",
											     "AR") "," EV(459.775,
													  "nat-a",
													  "198.18.0.2:58082",
													  "198.18.0.3:2076",
													  "AR") "]}}";

Test(ladder, sightings_of_one_packet_make_one_row)
{
	struct ladder l;
	build(mispredicted, &l);
	cr_assert_eq(l.ncols, 2);
	cr_assert_str_eq(l.cols[0], "nat-a");
	cr_assert_str_eq(l.cols[1], "nat-b");
	/* 2 probes, 2 SYNs seen twice each, 2 RSTs seen once */
	cr_assert_eq(l.n, 6, "%zu rows", l.n);
	const struct ladder_pkt *syn = &l.pkt[2];
	cr_assert_str_eq(syn->src, "198.18.0.2:37645");
	cr_assert_eq(syn->first, 0);
	cr_assert_float_eq(syn->at[1] - syn->at[0], 0.011, 1e-9);
	cr_assert_str_eq(l.server, "198.18.0.1:7777");
	cr_assert(l.pkt[0].server && l.pkt[1].server && !syn->server);
	ladder_free(&l);
}

Test(ladder, a_later_copy_is_another_packet)
{
	struct ladder l;
	cr_assert_lt(LADDER_JOIN_MS, 6, "16 ms is past the join window from 10");
	build("{\"cell\": \"c\", \"trial\": 0, \"connected\": false, \"capture\": {\"timeline\": "
	      "[" EV(10, "nat-a", "1.1.1.1:1", "2.2.2.2:2", "S") "," EV(
		  16, "nat-b", "1.1.1.1:1", "2.2.2.2:2",
		  "S") "," EV(30, "nat-a", "1.1.1.1:1", "2.2.2.2:2",
			      "S") "," EV(31, "nat-a", "1.1.1.1:1", "2.2.2.2:2", "S") "]}}",
	      &l);
	cr_assert_eq(l.n, 4, "a retransmission, or one seen again at the same point, is a new row");
	ladder_free(&l);
}

Test(ladder, a_misprediction_is_blamed_on_the_rst_of_the_wrong_port)
{
	struct ladder l;
	build(mispredicted, &l);
	cr_assert_eq(l.peer[0].predicted, 58082);
	cr_assert_eq(l.peer[0].actual, 37645);
	cr_assert_str_eq(l.peer[0].nat, "nat-a");
	cr_assert_eq(l.peer[1].predicted, 2076);
	cr_assert_eq(l.peer[1].actual, 2076);
	cr_assert_eq(l.culprit, 5);
	cr_assert_str_eq(l.pkt[l.culprit].src, "198.18.0.2:58082");
	cr_assert_not_null(strstr(l.why, "S's prediction of A's external port"), "%s", l.why);
	cr_assert_not_null(strstr(l.why, "from port 37645"), "%s", l.why);
	cr_assert_not_null(strstr(l.why, "RST-ACK from 198.18.0.2:58082 at nat-a (459.775 ms)"),
			   "%s", l.why);
	ladder_free(&l);
}

Test(ladder, a_rst_before_the_nats_own_syn_is_the_race)
{
	struct ladder l;
	/* ports right, but A's SYN reached nat-b 3 ms before B's SYN left it */
	build(
	    "{\"cell\": \"c\", \"trial\": 1, \"connected\": false, \"reason\": \"rst\"," PEERS(
		"198.18.0.3:4001",
		"198.18.0.2:3001") ", \"capture\": {\"timeline\": [" EV(100, "nat-a",
									"198.18.0.2:3001",
									"198.18.0.3:4001",
									"S") "," EV(100.01, "nat-b",
										    "198.18.0.2:"
										    "3001",
										    "198.18.0.3:"
										    "4001",
										    "S") "," EV(100.02,
												"na"
												"t-"
												"b",
												"19"
												"8."
												"18"
												".0"
												".3"
												":4"
												"00"
												"1",
												"19"
												"8."
												"18"
												".0"
												".2"
												":3"
												"00"
												"1",
												"R") "," EV(103.02,
													    "nat-b",
													    "198.18.0.3:4001",
													    "198.18.0.2:3001",
													    "S") "]}}",
	    &l);
	cr_assert_eq(l.peer[0].actual, l.peer[0].predicted);
	cr_assert_eq(l.culprit, 1);
	cr_assert_str_eq(ladder_flag_name(l.pkt[l.culprit].flags), "RST");
	cr_assert_not_null(strstr(l.why, "left nat-b at 100.020 ms, 3.000 ms before "
					 "198.18.0.3:4001's own SYN"),
			   "%s", l.why);
	ladder_free(&l);
}

Test(ladder, nothing_captured_behind_one_nat_says_hairpin)
{
	struct ladder l;
	build("{\"cell\": \"c\", \"trial\": 0, \"connected\": false, \"reason\": "
	      "\"no-hairpin\"," PEERS(
		  "198.18.0.2:3697",
		  "198.18.0.2:3160") ", \"capture\": {\"timeline\": [" EV(1, "nat",
									  "198.18.0.2:3000",
									  "198.18.0.1:7777",
									  "S") "]}}",
	      &l);
	cr_assert_eq(l.culprit, -1);
	cr_assert_eq(l.peer[0].actual, -1);
	cr_assert_not_null(strstr(l.why, "no SYN of the punch reached a capture point"), "%s",
			   l.why);
	cr_assert_not_null(strstr(l.why, "did not send them back in"), "%s", l.why);
	ladder_free(&l);
}

Test(ladder, connected_blames_nothing)
{
	struct ladder l;
	char v[128];
	build("{\"cell\": \"c\", \"trial\": 2, \"connected\": true, \"rounds\": 1, "
	      "\"time_to_connect_ms\": 185.9, \"capture\": {\"timeline\": []}}",
	      &l);
	cr_assert_eq(l.culprit, -1);
	ladder_verdict(&l, v, sizeof(v));
	cr_assert_str_eq(v, "connected in 1 round, 185.9 ms");
	ladder_free(&l);
	/* a version 1 trial may lack rounds and time: no "0 rounds, nan ms" */
	build("{\"cell\": \"c\", \"trial\": 0, \"connected\": true}", &l);
	ladder_verdict(&l, v, sizeof(v));
	cr_assert_str_eq(v, "connected");
	ladder_free(&l);
}

Test(ladder, a_malformed_event_is_refused_with_its_index)
{
	json_t *t = parse("{\"cell\": \"c\", \"trial\": 3, \"capture\": {\"timeline\": "
			  "[" EV(1, "x", "a:1", "b:2", "S") ", {\"ms\": \"soon\"}]}}");
	struct ladder l;
	struct perr err;
	cr_assert_eq(ladder_build(t, &l, &err), -1);
	cr_assert_not_null(strstr(err.msg, "trial 3: capture.timeline[1]"), "%s", err.msg);
	json_decref(t);
}

Test(ladder, text_has_a_column_per_point_and_marks_the_cause)
{
	struct ladder l;
	char *buf;
	size_t len;
	build(mispredicted, &l);
	FILE *f = open_memstream(&buf, &len);
	ladder_text(&l, false, f);
	fclose(f);
	cr_assert_not_null(strstr(buf, "A: predicted port 58082"), "%s", buf);
	cr_assert_not_null(strstr(buf, ": MISS"), "%s", buf);
	char *head = strstr(buf, "      ms  packet");
	cr_assert_not_null(head, "%s", buf);
	cr_assert(strstr(head, "nat-a") && strstr(head, "nat-b"), "%s", buf);
	char *mark = strstr(buf, "<== why it failed");
	cr_assert_not_null(mark, "%s", buf);
	char *row = mark;
	while (row > buf && row[-1] != '\n')
		row--;
	cr_assert(!strncmp(row, "  459.775  RST-ACK  198.18.0.2:58082", 36), "%.80s", row);
	cr_assert_null(strstr(buf, "7777 >"), "the probes are left out:\n%s", buf);
	cr_assert_not_null(strstr(buf, "2 packets to or from S at 198.18.0.1:7777 not shown"), "%s",
			   buf);
	free(buf);
	f = open_memstream(&buf, &len);
	ladder_text(&l, true, f);
	fclose(f);
	cr_assert_not_null(strstr(buf, "198.18.0.2:3000  > 198.18.0.1:7777"), "--all:\n%s", buf);
	free(buf);
	ladder_free(&l);
}

Test(ladder, json_for_the_report_keeps_the_punch_and_its_culprit)
{
	struct ladder l;
	build(mispredicted, &l);
	json_t *j = ladder_json(&l);
	json_t *p = json_object_get(j, "p");
	cr_assert_eq(json_array_size(p), 4, "the probes are counted, not drawn");
	cr_assert_eq(json_integer_value(json_object_get(j, "probes")), 2);
	json_int_t c = json_integer_value(json_object_get(j, "c"));
	cr_assert_eq(c, 3);
	cr_assert_str_eq(json_string_value(json_array_get(json_array_get(p, c), 1)),
			 "198.18.0.2:58082");
	json_t *at = json_array_get(json_array_get(p, 0), 3);
	cr_assert_float_eq(json_real_value(json_array_get(at, 0)), 448.682, 1e-9);
	cr_assert_float_eq(json_real_value(json_array_get(at, 1)), 448.693, 1e-9);
	json_decref(j);
	ladder_free(&l);
}
