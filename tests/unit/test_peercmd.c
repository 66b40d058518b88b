// SPDX-License-Identifier: MIT
/* The pure parts of running a program as a peer: the environment it gets,
 * and whether a capture shows the two peers connecting. */
#include <criterion/criterion.h>
#include <string.h>
#include "run/peercmd.h"

static json_t *capture(const char *text)
{
	json_error_t e;
	json_t *c = json_loads(text, 0, &e);
	cr_assert_not_null(c, "%s", e.text);
	return c;
}

Test(peercmd, capture_connected)
{
	/* only S's probes: no crossing, no handshake between the peers */
	json_t *c = capture(
	    "{\"syns_crossed\": false, \"timeline\": ["
	    "{\"src\": \"198.18.0.2:4000\", \"dst\": \"198.18.0.1:7777\", \"flags\": \"S\"},"
	    "{\"src\": \"198.18.0.1:7777\", \"dst\": \"198.18.0.2:4000\", \"flags\": \"SA\"}]}");
	cr_assert_not(peercmd_capture_connected(c, "198.18.0.1"));
	/* the same with S elsewhere: that SYN-ACK was between peers */
	cr_assert(peercmd_capture_connected(c, "198.18.0.9"));
	/* a prefix of S's address is not S */
	cr_assert(peercmd_capture_connected(c, "198.18.0.10"));
	json_decref(c);
	/* SYNs that crossed */
	c = capture("{\"syns_crossed\": true, \"timeline\": []}");
	cr_assert(peercmd_capture_connected(c, "198.18.0.1"));
	json_decref(c);
	/* a SYN to the other peer answered by a RST: no connection */
	c = capture(
	    "{\"syns_crossed\": false, \"timeline\": ["
	    "{\"src\": \"198.18.0.2:4000\", \"dst\": \"198.18.0.3:5000\", \"flags\": \"S\"},"
	    "{\"src\": \"198.18.0.3:5000\", \"dst\": \"198.18.0.2:4000\", \"flags\": \"AR\"}]}");
	cr_assert_not(peercmd_capture_connected(c, "198.18.0.1"));
	json_decref(c);
	cr_assert_not(peercmd_capture_connected(NULL, "198.18.0.1"));
}

Test(peercmd, env_overrides)
{
	char *env[] = {"PATH=/bin", "PUNCHLAB_ROLE=x", "PUNCHLAB_ROLEX=keep", "HOME=/root", NULL};
	const char *set[] = {"PUNCHLAB_ROLE=a", "PUNCHLAB_TRIAL=3"};
	char **e = peercmd_env(env, set, 2);
	cr_assert_not_null(e);
	int n = 0, role = 0;
	for (; e[n]; n++)
		role += !strncmp(e[n], "PUNCHLAB_ROLE=", 14);
	cr_assert_eq(n, 5);
	cr_assert_eq(role, 1);
	cr_assert_str_eq(e[0], "PATH=/bin");
	cr_assert_str_eq(e[1], "PUNCHLAB_ROLEX=keep");
	cr_assert_str_eq(e[3], "PUNCHLAB_ROLE=a");
	cr_assert_str_eq(e[4], "PUNCHLAB_TRIAL=3");
	peercmd_env_free(e);
}
