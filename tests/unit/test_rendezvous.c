// SPDX-License-Identifier: MIT
/* What `punchlab rendezvous` prints: shell quoting, and the variables read
 * back by a real /bin/sh, as a wrapper's eval reads them. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "punch/rendezvous.h"

Test(rendezvous, shell_quote)
{
	char out[64];
	cr_assert_eq(rdv_shell_quote("abc", out, sizeof(out)), 5);
	cr_assert_str_eq(out, "'abc'");
	rdv_shell_quote("", out, sizeof(out));
	cr_assert_str_eq(out, "''");
	rdv_shell_quote("it's", out, sizeof(out));
	cr_assert_str_eq(out, "'it'\\''s'");
	rdv_shell_quote("$(rm -rf /) `x` \"q\" \\", out, sizeof(out));
	cr_assert_str_eq(out, "'$(rm -rf /) `x` \"q\" \\'");
	/* exactly enough room, and one byte too little */
	cr_assert_eq(rdv_shell_quote("ab", out, 5), 4);
	cr_assert_eq(rdv_shell_quote("ab", out, 4), -1);
	cr_assert_eq(rdv_shell_quote("'", out, 6), -1);
	cr_assert_eq(rdv_shell_quote("'", out, 7), 6);
}

/* Runs TEXT then ECHO through sh; the output's first line. */
static void sh_eval(const char *text, const char *echo, char *out, size_t len)
{
	char path[] = "/tmp/punchlab-rdv-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "set -eu\n%s%s\n", text, echo);
	fclose(f);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "sh %s", path);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	out[0] = 0;
	cr_assert_not_null(fgets(out, (int)len, p));
	out[strcspn(out, "\n")] = 0;
	cr_assert_eq(pclose(p), 0);
	unlink(path);
}

Test(rendezvous, format_evals_in_sh)
{
	struct rdv_outcome o = {.role = 'b',
				.method = METHOD_REUSE,
				.local_port = 40001,
				.nports = 3,
				.remote_ports = {3361, 3362, 3363},
				.go_at = 1764118400.25};
	inet_pton(AF_INET, "198.19.2.2", &o.local_addr);
	inet_pton(AF_INET, "198.18.0.2", &o.remote_addr);
	char *text = rdv_format(&o), got[512];
	cr_assert_not_null(text);
	cr_assert(strstr(text, "PUNCHLAB_LOCAL_PORT='40001'\n"), "%s", text);
	sh_eval(text,
		"echo \"$PUNCHLAB_ROLE|$PUNCHLAB_METHOD|$PUNCHLAB_LOCAL_ADDR|$PUNCHLAB_LOCAL_PORT|"
		"$PUNCHLAB_REMOTE|$PUNCHLAB_REMOTE_ADDR|$PUNCHLAB_REMOTE_PORT|"
		"$PUNCHLAB_REMOTE_PORTS|$PUNCHLAB_GO_AT\"",
		got, sizeof(got));
	cr_assert_str_eq(got, "b|reuse|198.19.2.2|40001|198.18.0.2:3361|198.18.0.2|3361|"
			      "3361 3362 3363|1764118400.250000");
	/* exported: a child sees them */
	sh_eval(text, "sh -c 'echo $PUNCHLAB_REMOTE $PUNCHLAB_GO_AT'", got, sizeof(got));
	cr_assert_str_eq(got, "198.18.0.2:3361 1764118400.250000");
	free(text);

	/* predict without an allocator: port 0, the kernel's choice */
	o = (struct rdv_outcome){
	    .role = 'a', .method = METHOD_PREDICT, .nports = 1, .remote_ports = {5000}};
	text = rdv_format(&o);
	sh_eval(text, "echo \"$PUNCHLAB_ROLE $PUNCHLAB_METHOD $PUNCHLAB_LOCAL_PORT\"", got,
		sizeof(got));
	cr_assert_str_eq(got, "a predict 0");
	free(text);
}
