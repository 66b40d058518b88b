// SPDX-License-Identifier: MIT
/* The classify control protocol and every verdict, on recorded observations. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <string.h>
#include "classify/ctl.h"
#include "classify/verdict.h"

static struct sockaddr_in ep(const char *a, int port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static struct cl_msg roundtrip(const struct cl_msg *m)
{
	char line[CL_MAX_LINE + 1], err[160];
	struct cl_msg back;
	int n = cl_format(m, line, sizeof(line));
	cr_assert_gt(n, 0, "cannot format %s", cl_type_name(m->type));
	cr_assert_eq(line[n - 1], '\n');
	cr_assert_eq(cl_parse(line, (size_t)n, &back, err, sizeof(err)), 0, "%s: %s", line, err);
	cr_assert_eq(back.type, m->type);
	return back;
}

Test(ctl, every_message_round_trips)
{
	struct cl_msg m = {.type = CL_WELCOME, .you = ep("198.18.0.9", 4000)};
	for (int i = 0; i < CL_NENDPOINTS; i++)
		m.ep[i] = ep(i < 2 ? "198.18.0.1" : "198.18.0.2", i % 2 ? 3479 : 3478);
	memset(m.token, 0xa5, sizeof(m.token));
	struct cl_msg b = roundtrip(&m);
	cr_assert_eq(memcmp(b.token, m.token, CL_TOKEN_LEN), 0);
	cr_assert_eq(b.sink.sin_port, 0, "no sink unless one is offered");
	m.sink = ep("198.18.0.1", 3480);
	b = roundtrip(&m);
	cr_assert_eq(b.sink.sin_port, htons(3480));
	cr_assert_eq(b.ep[3].sin_port, htons(3479));
	cr_assert_eq(b.ep[2].sin_addr.s_addr, m.ep[2].sin_addr.s_addr);

	m = (struct cl_msg){.type = CL_PROBE, .seq = 7, .hold_ms = 30000};
	b = roundtrip(&m);
	cr_assert_eq(b.seq, 7);
	cr_assert_eq(b.hold_ms, 30000);

	m = (struct cl_msg){.type = CL_CONNECT, .id = 3, .from = 2, .port = 61000, .wait_ms = 9000};
	b = roundtrip(&m);
	cr_assert(b.id == 3 && b.from == 2 && b.port == 61000 && b.wait_ms == 9000);
	m.from = CL_FROM_SINK;
	cr_assert_eq(roundtrip(&m).from, CL_FROM_SINK);

	m = (struct cl_msg){.type = CL_OUTCOME,
			    .id = 3,
			    .at = ep("198.18.0.2", 3478),
			    .to = ep("198.18.0.9", 61000),
			    .result = CL_R_ICMP,
			    .ms = 6012,
			    .icmp_type = 3,
			    .icmp_code = 3,
			    .icmp_from = inet_addr("198.18.0.9")};
	strcpy(m.err, "ECONNREFUSED");
	b = roundtrip(&m);
	cr_assert(b.result == CL_R_ICMP && b.ms == 6012 && b.icmp_code == 3);
	cr_assert_str_eq(b.err, "ECONNREFUSED");
	cr_assert_eq(b.icmp_from, m.icmp_from);

	m = (struct cl_msg){
	    .type = CL_SEEN, .seq = 1, .you = ep("1.2.3.4", 5), .at = ep("5.6.7.8", 9)};
	b = roundtrip(&m);
	cr_assert_eq(b.you.sin_port, htons(5));
	m = (struct cl_msg){.type = CL_ERROR};
	strcpy(m.code, "busy");
	strcpy(m.text, "too many clients");
	b = roundtrip(&m);
	cr_assert_str_eq(b.text, "too many clients");
	roundtrip(&(struct cl_msg){.type = CL_HELLO});
	roundtrip(&(struct cl_msg){.type = CL_PING, .seq = 4});
	roundtrip(&(struct cl_msg){.type = CL_KNOCK, .id = 9});
}

Test(ctl, bad_lines_are_refused_with_the_reason)
{
	static const struct {
		const char *line, *err;
	} cases[] = {
	    {"garbage", "not JSON"},
	    {"[1]", "not a JSON object"},
	    {"{\"type\":\"hello\"}", "missing field \"v\""},
	    {"{\"v\":2,\"type\":\"hello\"}", "\"v\" must be"},
	    {"{\"v\":1,\"type\":\"nope\"}", "unknown message type"},
	    {"{\"v\":1,\"v\":1,\"type\":\"hello\"}", "not JSON"},
	    {"{\"v\":1,\"type\":\"probe\",\"token\":\"zz\",\"seq\":1}", "token"},
	    {"{\"v\":1,\"type\":\"connect\",\"id\":1,\"from\":5,\"port\":1,\"wait_ms\":100}",
	     "\"from\""},
	    {"{\"v\":1,\"type\":\"connect\",\"id\":1,\"from\":0,\"port\":0,\"wait_ms\":100}",
	     "\"port\""},
	    {"{\"v\":1,\"type\":\"connect\",\"id\":1,\"from\":0,\"port\":1,\"wait_ms\":99999}",
	     "\"wait_ms\""},
	    {"{\"v\":1,\"type\":\"welcome\",\"token\":\"00000000000000000000000000000000\","
	     "\"you\":\"1.2.3.4:5\",\"endpoints\":[\"1.2.3.4:1\"]}",
	     "endpoints"},
	    {"{\"v\":1,\"type\":\"error\",\"code\":\"a\\\"b\"}", "code"},
	    {"{\"v\":1,\"type\":\"hello\"}\n{}", "more than one line"},
	};
	char err[160];
	struct cl_msg m;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(cl_parse(cases[i].line, strlen(cases[i].line), &m, err, sizeof(err)),
			     -1, "%s parsed", cases[i].line);
		cr_assert(strstr(err, cases[i].err), "%s: \"%s\" does not say %s", cases[i].line,
			  err, cases[i].err);
	}
	char longl[CL_MAX_LINE + 8];
	memset(longl, ' ', sizeof(longl));
	cr_assert_eq(cl_parse(longl, sizeof(longl), &m, err, sizeof(err)), -1);
	cr_assert(strstr(err, "longer than"));
}

/* ---- mapping ---- */

static struct cv_mapping_obs mapping_obs(int p0, int p1, int p2, int p3)
{
	struct cv_mapping_obs o = {0};
	int ports[4] = {p0, p1, p2, p3};
	for (int i = 0; i < 4; i++) {
		o.p[i].ok = ports[i] > 0;
		o.p[i].local_port = 5000;
		o.p[i].ext = ep("203.0.113.7", ports[i] > 0 ? ports[i] : 1);
		if (!o.p[i].ok)
			strcpy(o.p[i].why, "timed out");
	}
	return o;
}

Test(verdict, mapping_every_value)
{
	char why[CV_WHY];
	struct cv_mapping_obs o = mapping_obs(5000, 5000, 5000, 5000);
	cr_assert_eq(cv_mapping(&o, why), CV_MAP_EIM, "%s", why);
	o = mapping_obs(5000, 5000, 5000, -1); /* A2:P2 unanswered: the three decide */
	cr_assert_eq(cv_mapping(&o, why), CV_MAP_EIM, "%s", why);
	o = mapping_obs(6000, 6000, 6001, 6001);
	cr_assert_eq(cv_mapping(&o, why), CV_MAP_ADM, "%s", why);
	o = mapping_obs(6000, 6001, 6002, 6003);
	cr_assert_eq(cv_mapping(&o, why), CV_MAP_APDM, "%s", why);
	cr_assert(strstr(why, "A1:P2 saw 203.0.113.7:6001"), "%s", why);
	/* the same port on another external address is another mapping */
	o = mapping_obs(5000, 5000, 5000, 5000);
	o.p[2].ext = o.p[3].ext = ep("203.0.113.8", 5000);
	cr_assert_eq(cv_mapping(&o, why), CV_MAP_ADM, "%s", why);
}

Test(verdict, mapping_unknown)
{
	char why[CV_WHY];
	struct cv_mapping_obs o = mapping_obs(5000, -1, 5000, 5000);
	cr_assert_eq(cv_mapping(&o, why), CV_MAP_UNKNOWN);
	cr_assert(strstr(why, "A1:P2: timed out"), "%s", why);
	o = mapping_obs(6000, 6000, 6001, 6002); /* port-dependent towards A2 only */
	cr_assert_eq(cv_mapping(&o, why), CV_MAP_UNKNOWN);
	cr_assert(strstr(why, "inconsistent"), "%s", why);
	o = mapping_obs(6000, 6001, 6002, 6002); /* port-dependent towards A1 only */
	cr_assert_eq(cv_mapping(&o, why), CV_MAP_UNKNOWN);
}

/* ---- filtering ---- */

static struct cv_filtering_obs filt_obs(bool a, bool b, bool c)
{
	struct cv_filtering_obs o = {.base = {.ok = true, .local_port = 7000}};
	bool in[3] = {a, b, c};
	o.base.ext = ep("203.0.113.7", 7000);
	for (int i = 0; i < 3; i++) {
		o.o[i] = (struct cv_outcome){.asked = true,
					     .answered = true,
					     .arrived = in[i],
					     .result = in[i] ? CL_R_CONNECTED : CL_R_TIMEOUT,
					     .ms = in[i] ? 2 : 3000,
					     .icmp_type = -1,
					     .icmp_code = -1,
					     .to = o.base.ext};
	}
	return o;
}

Test(verdict, filtering_every_value)
{
	char why[CV_WHY];
	struct cv_filtering_obs o = filt_obs(true, true, true);
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_EIF, "%s", why);
	o = filt_obs(true, false, false);
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_ADF, "%s", why);
	o = filt_obs(false, false, false);
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_APDF, "%s", why);
	/* refused by RST rather than silence: still not arrived */
	o.o[1].result = CL_R_RST;
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_APDF, "%s", why);
	/* the server's report lost, but the knock arrived: our own evidence counts */
	o = filt_obs(true, true, true);
	o.o[2].answered = false;
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_EIF, "%s", why);
}

Test(verdict, filtering_unknown)
{
	char why[CV_WHY];
	struct cv_filtering_obs o = filt_obs(true, true, true);
	o.base.ok = false;
	strcpy(o.base.why, "connection refused");
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_UNKNOWN);
	cr_assert(strstr(why, "connection refused"), "%s", why);
	o = filt_obs(false, false, false);
	o.o[1].answered = false;
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_UNKNOWN);
	cr_assert(strstr(why, "A2:P1"), "%s", why);
	/* a server that claims to connect while nothing arrives is not believed */
	o = filt_obs(false, false, false);
	o.o[0].result = CL_R_CONNECTED;
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_UNKNOWN);
	o = filt_obs(false, false, false);
	o.o[0].result = CL_R_ERROR;
	strcpy(o.o[0].err, "EADDRINUSE");
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_UNKNOWN);
	cr_assert(strstr(why, "EADDRINUSE"), "%s", why);
	/* the mapping is on another external address than the control connection */
	o = filt_obs(false, false, false);
	o.o[0].to = ep("203.0.113.8", 7000);
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_UNKNOWN);
	cr_assert(strstr(why, "tried 203.0.113.8:7000, not the mapping"), "%s", why);
	o = filt_obs(false, true, false); /* other address only */
	cr_assert_eq(cv_filtering(&o, why), CV_FILT_UNKNOWN);
	cr_assert(strstr(why, "inconsistent"), "%s", why);
}

/* ---- port assignment ---- */

static struct cv_port_obs port_obs(const int *local, const int *ext, int n)
{
	struct cv_port_obs o = {.n = n};
	for (int i = 0; i < n; i++) {
		o.p[i].ok = ext[i] >= 0;
		o.p[i].local_port = (uint16_t)local[i];
		o.p[i].ext = ep("203.0.113.7", ext[i] >= 0 ? ext[i] : 1);
	}
	return o;
}

Test(verdict, port_every_value)
{
	static const int local[] = {30000, 30003, 30004, 30009, 30011, 30017};
	static const int seq[] = {40000, 40001, 40002, 40003, 40004, 40005};
	static const int seq7[] = {65530, 1, 8, 15, 22, 29}; /* wraps at 2^16 */
	static const int rnd[] = {51234, 1099, 40211, 60001, 33333, 2048};
	char why[CV_WHY];
	int d;
	struct cv_port_obs o = port_obs(local, local, 6);
	cr_assert_eq(cv_port(&o, &d, why), CV_PORT_PRESERVE, "%s", why);
	o = port_obs(local, seq, 6);
	cr_assert_eq(cv_port(&o, &d, why), CV_PORT_SEQUENTIAL, "%s", why);
	cr_assert_eq(d, 1);
	o = port_obs(local, seq7, 6);
	cr_assert_eq(cv_port(&o, &d, why), CV_PORT_SEQUENTIAL, "%s", why);
	cr_assert_eq(d, 7);
	o = port_obs(local, rnd, 6);
	cr_assert_eq(cv_port(&o, &d, why), CV_PORT_RANDOM, "%s", why);
	cr_assert_eq(d, 0);
	/* a failed connection in between is skipped, not counted as a step */
	static const int gap[] = {40000, 40001, -1, 40002, 40003, 40004};
	o = port_obs(local, gap, 6);
	cr_assert_eq(cv_port(&o, &d, why), CV_PORT_SEQUENTIAL, "%s", why);
	/* a step above 1000 is no delta a topology takes */
	static const int big[] = {1000, 3000, 5000, 7000, 9000, 11000};
	o = port_obs(local, big, 6);
	cr_assert_eq(cv_port(&o, &d, why), CV_PORT_RANDOM, "%s", why);
}

Test(verdict, port_unknown)
{
	static const int local[] = {30000, 30003, 30004};
	static const int ext[] = {30000, -1, -1};
	char why[CV_WHY];
	int d;
	struct cv_port_obs o = port_obs(local, ext, 3);
	cr_assert_eq(cv_port(&o, &d, why), CV_PORT_UNKNOWN);
	cr_assert(strstr(why, "1 of 3"), "%s", why);
}

/* ---- unsolicited SYN ---- */

static struct cv_unsol_obs unsol(enum cl_result r, int ms, int type, int code, const char *err)
{
	struct cv_unsol_obs o = {.port = 9999,
				 .o = {.asked = true,
				       .answered = true,
				       .result = r,
				       .ms = ms,
				       .icmp_type = type,
				       .icmp_code = code}};
	strcpy(o.o.err, err);
	return o;
}

Test(verdict, unsolicited_every_value)
{
	char why[CV_WHY];
	struct cv_unsol_obs o = unsol(CL_R_RST, 1, -1, -1, "ECONNREFUSED");
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_RST, "%s", why);
	o = unsol(CL_R_TIMEOUT, 8000, -1, -1, "");
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_DROP, "%s", why);
	o = unsol(CL_R_ICMP, 3, 3, 13, "EHOSTUNREACH"); /* admin-prohibited, at once */
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_ICMP, "%s", why);
	o = unsol(CL_R_ICMP, 6004, 3, 3, "ECONNREFUSED");
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_RFC5382, "%s", why);
	/* no error queue on the server: a late ECONNREFUSED is the port unreachable */
	o = unsol(CL_R_ICMP, 6004, -1, -1, "ECONNREFUSED");
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_RFC5382, "%s", why);
}

Test(verdict, unsolicited_unknown)
{
	char why[CV_WHY];
	struct cv_unsol_obs o = unsol(CL_R_CONNECTED, 1, -1, -1, "");
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_UNKNOWN);
	cr_assert(strstr(why, "accepted"), "%s", why);
	o = unsol(CL_R_ICMP, 6004, 3, 1, "EHOSTUNREACH"); /* late, but host unreachable */
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_UNKNOWN);
	o = unsol(CL_R_ERROR, 0, -1, -1, "EADDRNOTAVAIL");
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_UNKNOWN);
	cr_assert(strstr(why, "EADDRNOTAVAIL"), "%s", why);
	o.o.answered = false;
	cr_assert_eq(cv_unsol(&o, why), CV_UNSOL_UNKNOWN);
}

/* ---- hairpin ---- */

Test(verdict, hairpin_every_value)
{
	char why[CV_WHY];
	struct cv_hairpin_obs o = {.base = {.ok = true, .ext = ep("203.0.113.7", 8000)},
				   .tried = true,
				   .connected = true,
				   .accepted = true};
	cr_assert_eq(cv_hairpin(&o, why), CV_HP_TRUE, "%s", why);
	o.accepted = false;
	cr_assert_eq(cv_hairpin(&o, why), CV_HP_FALSE, "%s", why);
	o.connected = false;
	strcpy(o.why, "timed out after 3000 ms");
	cr_assert_eq(cv_hairpin(&o, why), CV_HP_FALSE, "%s", why);
	cr_assert(strstr(why, "timed out"), "%s", why);
	o.tried = false;
	strcpy(o.why, "socket: EMFILE");
	cr_assert_eq(cv_hairpin(&o, why), CV_HP_UNKNOWN);
	o.base.ok = false;
	cr_assert_eq(cv_hairpin(&o, why), CV_HP_UNKNOWN);
}

/* ---- lifetimes ---- */

Test(verdict, lifetimes)
{
	char why[CV_WHY];
	struct cv_life_obs o = {.n = 4, .hold_s = {30, 60, 120, 240}, .alive = {1, 1, 0, 0}};
	struct cv_life r = cv_life(&o, why);
	cr_assert(r.known, "%s", why);
	cr_assert_eq(r.lo_s, 60);
	cr_assert_eq(r.hi_s, 120);
	cr_assert_eq(r.seconds, 90);
	o.alive[2] = o.alive[3] = 1;
	r = cv_life(&o, why);
	cr_assert(!r.known);
	cr_assert(strstr(why, "longer than 240"), "%s", why);
	o.alive[0] = o.alive[1] = o.alive[2] = o.alive[3] = 0;
	r = cv_life(&o, why);
	cr_assert(!r.known);
	cr_assert(strstr(why, "shorter than 30"), "%s", why);
	struct cv_life_obs bad = {.n = 2, .hold_s = {30, 60}, .alive = {0, 1}};
	r = cv_life(&bad, why);
	cr_assert(!r.known);
	cr_assert(strstr(why, "inconsistent"), "%s", why);
	struct cv_life_obs none = {.n = 0};
	strcpy(none.why, "no sink");
	r = cv_life(&none, why);
	cr_assert(!r.known);
	cr_assert(strstr(why, "no sink"), "%s", why);
}

/* ---- the report ---- */

Test(report, verdict_keys_are_the_nat_fields)
{
	struct cv_obs o = {.welcomed = true, .lng = true};
	o.mapping = mapping_obs(5000, 5000, 5000, 5000);
	o.filtering = filt_obs(true, false, false);
	static const int local[] = {30000, 30003, 30004, 30009};
	static const int seq[] = {40000, 40002, 40004, 40006};
	o.port = port_obs(local, seq, 4);
	o.unsol = unsol(CL_R_TIMEOUT, 8000, -1, -1, "");
	o.hairpin = (struct cv_hairpin_obs){.base = {.ok = true}, .tried = true};
	o.established = (struct cv_life_obs){.n = 2, .hold_s = {30, 60}, .alive = {1, 0}};
	json_t *j = cv_report(&o);
	const char *key;
	json_t *v;
	static const char *const want[] = {"mapping",  "filtering",	  "port_assignment",
					   "delta",    "unsolicited_syn", "hairpin",
					   "timeouts", "observations"};
	json_object_foreach(j, key, v)
	{
		size_t i = 0;
		while (i < 8 && strcmp(want[i], key))
			i++;
		cr_assert_lt(i, 8, "unexpected key %s", key);
	}
	cr_assert_str_eq(json_string_value(json_object_get(j, "mapping")), "endpoint-independent");
	cr_assert_str_eq(json_string_value(json_object_get(j, "filtering")), "address-dependent");
	cr_assert_str_eq(json_string_value(json_object_get(j, "port_assignment")), "sequential");
	cr_assert_eq(json_integer_value(json_object_get(j, "delta")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(j, "unsolicited_syn")), "drop");
	cr_assert(json_is_false(json_object_get(j, "hairpin")));
	json_t *t = json_object_get(j, "timeouts");
	cr_assert_eq(json_integer_value(json_object_get(t, "established")), 45);
	cr_assert_str_eq(json_string_value(json_object_get(t, "syn_sent")), "unknown");
	json_t *obs = json_object_get(j, "observations");
	json_t *pa = json_object_get(obs, "port_assignment");
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(pa, "range"), 1)), 40006);
	json_decref(j);

	/* no server at all: every field unknown, and no delta */
	struct cv_obs none = {0};
	strcpy(none.why, "connection refused");
	j = cv_report(&none);
	cr_assert_str_eq(json_string_value(json_object_get(j, "mapping")), "unknown");
	cr_assert_str_eq(json_string_value(json_object_get(j, "hairpin")), "unknown");
	cr_assert_null(json_object_get(j, "delta"));
	cr_assert_null(json_object_get(j, "timeouts"));
	json_decref(j);
}
