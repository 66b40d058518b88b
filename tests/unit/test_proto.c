// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <string.h>
#include "punch/proto.h"
#include "util/jsonesc.h"

static struct pmsg roundtrip(const struct pmsg *m)
{
	char line[PROTO_MAX_LINE + 1], err[128];
	int n = proto_format(m, line, sizeof(line));
	cr_assert_gt(n, 0, "cannot format %s", proto_type_name(m->type));
	cr_assert_eq(line[n - 1], '\n');
	struct pmsg back;
	cr_assert_eq(proto_parse(line, (size_t)n, &back, err, sizeof(err)), 0, "%s: %s", line, err);
	cr_assert_eq(back.type, m->type);
	return back;
}

Test(proto, every_message_round_trips)
{
	struct pmsg m = {.type = PM_HELLO, .role = 'b', .probes = 5, .rounds = 7};
	memset(m.session, 0xab, sizeof(m.session));
	struct pmsg b = roundtrip(&m);
	cr_assert_eq(b.role, 'b');
	cr_assert_eq(b.probes, 5);
	cr_assert_eq(b.rounds, 7);
	cr_assert_eq(memcmp(b.session, m.session, 16), 0);

	m = (struct pmsg){.type = PM_PUNCH,
			  .addr = inet_addr("198.18.0.3"),
			  .nports = 3,
			  .ports = {1029, 1030, 65535},
			  .go_ms = 80,
			  .round = 2};
	memset(m.nonce, 0x5a, sizeof(m.nonce));
	b = roundtrip(&m);
	cr_assert_eq(b.addr, m.addr);
	cr_assert_eq(b.nports, 3);
	cr_assert_eq(b.ports[2], 65535);
	cr_assert_eq(b.go_ms, 80);
	cr_assert_eq(memcmp(b.nonce, m.nonce, 16), 0);

	m = (struct pmsg){.type = PM_SEEN, .addr = inet_addr("198.18.0.2"), .port = 4242, .seq = 2};
	b = roundtrip(&m);
	cr_assert_eq(b.port, 4242);
	cr_assert_eq(b.seq, 2);

	m = (struct pmsg){.type = PM_RESULT,
			  .ok = false,
			  .reason = "rst",
			  .local_port = 1030,
			  .connect_ms = 12.5};
	b = roundtrip(&m);
	cr_assert_str_eq(b.reason, "rst");
	cr_assert_eq(b.local_port, 1030);
	cr_assert_float_eq(b.connect_ms, 12.5, 1e-9);

	m = (struct pmsg){
	    .type = PM_ERROR, .code = "unknown-session", .text = "quote \" and \\ kept"};
	b = roundtrip(&m);
	cr_assert_str_eq(b.text, "quote \" and \\ kept");

	enum pmsg_type simple[] = {PM_OPEN,   PM_READY,	  PM_RETRY, PM_DONE,
				   PM_VERIFY, PM_WELCOME, PM_PROBE, PM_OPENED};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		m = (struct pmsg){.type = simple[i], .round = 1, .role = 'a'};
		roundtrip(&m);
	}
}

static void refused(const char *line, const char *want)
{
	struct pmsg m;
	char err[128] = "";
	cr_assert_lt(proto_parse(line, strlen(line), &m, err, sizeof(err)), 0, "accepted: %s",
		     line);
	cr_assert(strstr(err, want), "for %s: got \"%s\", wanted \"%s\"", line, err, want);
}

Test(proto, bad_lines_are_refused_with_a_reason)
{
	refused("", "not JSON");
	refused("{\"v\":1", "not JSON");
	refused("[1]", "not a JSON object");
	refused("{\"type\":\"open\"}", "missing field \"v\"");
	refused("{\"v\":2,\"type\":\"open\"}", "protocol version 2");
	refused("{\"v\":1,\"type\":\"steal\"}", "unknown message type");
	refused("{\"v\":1,\"type\":\"hello\",\"role\":\"a\",\"probes\":3}",
		"missing field \"session\"");
	refused("{\"v\":1,\"type\":\"hello\",\"session\":\"00\",\"role\":\"a\",\"probes\":3}",
		"\"session\" must be 32 hex digits");
	refused("{\"v\":1,\"type\":\"hello\",\"session\":\"000102030405060708090a0b0c0d0e0f\","
		"\"role\":\"c\",\"probes\":3}",
		"\"role\" must be");
	refused("{\"v\":1,\"type\":\"hello\",\"session\":\"000102030405060708090a0b0c0d0e0f\","
		"\"role\":\"a\",\"probes\":99}",
		"\"probes\" must be");
	refused("{\"v\":1,\"v\":1,\"type\":\"open\"}", "not JSON");
	refused("{\"v\":1,\"type\":\"punch\",\"addr\":\"1.2.3.4\",\"ports\":[0],\"go_ms\":1,"
		"\"nonce\":\"000102030405060708090a0b0c0d0e0f\",\"round\":1}",
		"ports 1 to 65535");
	refused("{\"v\":1,\"type\":\"seen\",\"addr\":\"1.2.3\",\"port\":1,\"seq\":0}", "IPv4");
	refused("{\"v\":1,\"type\":\"error\",\"code\":\"a\\u0001\"}", "printable");
	refused("{\"v\":1,\"type\":\"open\"}\n{\"v\":1,\"type\":\"open\"}", "more than one line");
	char big[2000];
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"v\":1,\"type\":\"open\"", 20);
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = 0;
	refused(big, "longer than 1024");
}

Test(proto, hex)
{
	uint8_t b[16], back[16];
	char h[33];
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)(i * 17);
	proto_hex(b, 16, h);
	cr_assert_str_eq(h, "00112233445566778899aabbccddeeff");
	cr_assert_eq(proto_unhex(h, back, 16), 0);
	cr_assert_eq(memcmp(b, back, 16), 0);
	cr_assert_lt(proto_unhex("0011", back, 16), 0);
	cr_assert_lt(proto_unhex("zz112233445566778899aabbccddeeff", back, 16), 0);
}

/* util/jsonesc: the one escaper of the protocol lines, classify's and the
 * external heuristics' log */
Test(proto, json_escape_never_cuts_an_escape)
{
	char out[16];
	cr_assert_eq(json_escape(out, sizeof(out), "a\"b\\c\n", 6, false), 13);
	cr_assert_str_eq(out, "a\\\"b\\\\c\\u000a");
	/* 9 bytes of room: "x", then \u0001 (6) fits with its NUL, \u0002 does not */
	cr_assert_eq(json_escape(out, 9, "x\001\002", 3, false), 7);
	cr_assert_str_eq(out, "x\\u0001");
	/* cut, marked: what fits with "..." after it */
	cr_assert_eq(json_escape(out, 8, "abcdefgh", 8, true), 7);
	cr_assert_str_eq(out, "abcd...");
	cr_assert_eq(json_escape(out, 1, "abc", 3, false), 0);
	cr_assert_str_eq(out, "");
}
