// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <string.h>
#include "punch/heurexec.h"

static int parse(const char *line, long id, int k, uint16_t *out, char *err)
{
	return heurx_parse_answer(line, strlen(line), id, k, out, err, 200);
}

Test(heurexec, a_good_answer_in_order)
{
	uint16_t out[4];
	char err[200];
	cr_assert_eq(parse("{\"id\":7,\"candidates\":[1029,1030,1028]}\n", 7, 4, out, err), 3);
	cr_assert_eq(out[0], 1029);
	cr_assert_eq(out[1], 1030);
	cr_assert_eq(out[2], 1028);
	/* unknown members are ignored, CRLF is taken */
	cr_assert_eq(parse("{\"candidates\":[5],\"id\":7,\"note\":\"x\"}\r\n", 7, 1, out, err), 1);
}

Test(heurexec, a_late_answer_is_dropped_not_an_error)
{
	uint16_t out[1];
	char err[200];
	cr_assert_eq(parse("{\"id\":6,\"candidates\":[1029]}", 7, 1, out, err), 0);
	cr_assert_eq(parse("{\"id\":8,\"candidates\":[1029]}", 7, 1, out, err), -1);
	cr_assert(strstr(err, "\"id\" 8"), "%s", err);
}

/* each bad answer is refused, with a reason containing WANT */
static void refused(const char *line, int k, const char *want)
{
	uint16_t out[16];
	char err[200] = "";
	cr_assert_eq(parse(line, 1, k, out, err), -1, "took %s", line);
	cr_assert(strstr(err, want), "%s: \"%s\" does not say \"%s\"", line, err, want);
}

Test(heurexec, bad_answers_say_why)
{
	refused("", 1, "not JSON");
	refused("the port after the last", 1, "not JSON");
	refused("[1029]", 1, "not a JSON object");
	refused("{\"candidates\":[1029]}", 1, "no \"id\"");
	refused("{\"id\":\"1\",\"candidates\":[1029]}", 1, "no \"id\"");
	refused("{\"id\":1}", 1, "\"candidates\" must be an array of 1 to 1 ports");
	refused("{\"id\":1,\"candidates\":[]}", 1, "1 to 1 ports");
	refused("{\"id\":1,\"candidates\":[1,2]}", 1, "1 to 1 ports");
	refused("{\"id\":1,\"candidates\":[0]}", 1, "candidate 1 is not a port");
	refused("{\"id\":1,\"candidates\":[65536]}", 1, "not a port");
	refused("{\"id\":1,\"candidates\":[-5]}", 1, "not a port");
	refused("{\"id\":1,\"candidates\":[1029.5]}", 1, "not a port");
	refused("{\"id\":1,\"candidates\":[\"1029\"]}", 1, "not a port");
	refused("{\"id\":1,\"candidates\":[7,8,7]}", 4, "candidate 7 twice");
	refused("{\"id\":1,\"id\":1,\"candidates\":[7]}", 1, "not JSON");
	refused("{\"id\":1,\"candidates\":[7]}\n{\"id\":1,\"candidates\":[7]}", 1,
		"more than one line");
}

Test(heurexec, the_request_line)
{
	struct heur_obs obs[] = {{1026, 0}, {1027, 0.05}, {1028, 0.1}};
	char buf[256];
	int n = heurx_format_request(12, 2, 4, obs, 3, buf, sizeof(buf));
	const char *want = "{\"id\":12,\"round\":2,\"k\":4,\"ports\":[1026,1027,1028],"
			   "\"t\":[0.000,0.050,0.100]}\n";
	cr_assert_str_eq(buf, want);
	cr_assert_eq(n, (int)strlen(want));
	cr_assert_eq(heurx_format_request(12, 2, 4, obs, 3, buf, 20), -1, "too small a buffer");
}

Test(heurexec, the_spec_is_split_on_spaces)
{
	char buf[256], err[160], *argv[HEURX_MAX_ARGS + 1];
	cr_assert_eq(heurx_parse_spec("exec:python3  my.py\t--k 4", buf, sizeof(buf), argv, err,
				      sizeof(err)),
		     4);
	cr_assert_str_eq(argv[0], "python3");
	cr_assert_str_eq(argv[1], "my.py");
	cr_assert_str_eq(argv[3], "4");
	cr_assert_null(argv[4]);
	cr_assert_eq(heurx_parse_spec("exec:", buf, sizeof(buf), argv, err, sizeof(err)), -1);
	cr_assert(strstr(err, "no program"), "%s", err);
	cr_assert_eq(heurx_parse_spec("exec:   ", buf, sizeof(buf), argv, err, sizeof(err)), -1);
	cr_assert_eq(heurx_parse_spec("delta", buf, sizeof(buf), argv, err, sizeof(err)), -1);
	cr_assert(heurx_is_spec("exec:x"));
	cr_assert(!heurx_is_spec("delta"));
}

Test(heurexec, logged_text_is_json_safe)
{
	char out[32];
	heurx_json_text("a\"b\\c\n\x01\xff", 8, out, sizeof(out));
	cr_assert_str_eq(out, "a\\\"b\\\\c\\u000a\\u0001\\u00ff");
	char small[12];
	heurx_json_text("xxxxxxxxxxxxxxxxxxxx", 20, small, sizeof(small));
	cr_assert_str_eq(small, "xxxxxxxx...");
}

/* the process side: a program whose first answer is wrong, one that never
 * answers, one that cannot run */
Test(heurexec, a_program_is_refused_at_start_with_why)
{
	struct heurx *x;
	char err[300];
	cr_assert_eq(heurx_start("exec:cat", 50, &x, err, sizeof(err)), -1,
		     "cat echoes the request: not an answer");
	cr_assert(strstr(err, "\"candidates\" must be"), "%s", err);
	cr_assert_eq(heurx_start("exec:sleep 5", 50, &x, err, sizeof(err)), -1);
	cr_assert(strstr(err, "no answer within"), "%s", err);
	cr_assert_eq(heurx_start("exec:/nonexistent", 50, &x, err, sizeof(err)), -1);
	cr_assert(strstr(err, "No such file"), "%s", err);
}
