// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "table.h"
#include "util/endpoint.h"
#include "util/outfile.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int cmd_help(const char *usage)
{
	fputs(usage, stdout);
	return EXIT_OK;
}

int cmd_usage_error(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

int cmd_int_arg(const char *prog, const char *opt, const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi) {
		fprintf(stderr, "%s: %s must be %d to %d, not \"%s\"\n", prog, opt, lo, hi, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int cmd_u64_arg(const char *prog, const char *opt, const char *s, uint64_t *out)
{
	char *end = (char *)s;
	errno = 0;
	/* strtoull takes "-5" (and " -5") as 2^64-5: only a digit may lead */
	unsigned long long v = isdigit((unsigned char)s[0]) ? strtoull(s, &end, 0) : 0;
	if (end == s || *end || errno) {
		fprintf(stderr, "%s: %s wants a number from 0 to %llu, not \"%s\"\n", prog, opt,
			(unsigned long long)UINT64_MAX, s);
		return -1;
	}
	*out = v;
	return 0;
}

void cmd_put_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		/* C0 controls and DEL; C1 controls (U+0080 to U+009F, 0xc2 0x80 to
		 * 0xc2 0x9f in UTF-8) too: some terminals take U+009B as CSI */
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fprintf(f, "\\xc2\\x%02x", p[1]);
			p++;
		} else
			fputc(*p, f);
	}
}

int cmd_endpoint_arg(const char *prog, const char *opt, const char *s, bool allow_zero,
		     struct sockaddr_in *out)
{
	if (endpoint_parse(s, out, allow_zero) < 0) {
		fprintf(stderr, "%s: %s wants ADDR:PORT (A.B.C.D:%s-65535), not \"%s\"\n", prog,
			opt, allow_zero ? "0" : "1", s);
		return -1;
	}
	return 0;
}

/* The one call of the results reader in the command layer: when the results
 * API changes, this is the body to change. */
int cmd_load_results(const char *path, struct results **out)
{
	struct perr err;

	*out = NULL;
	if (results_load(path, out, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		*out = NULL;
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_int_opts(const char *prog, int opt, const char *arg, const struct cmd_int_opt *t,
		 size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].opt == opt)
			return cmd_int_arg(prog, t[i].name, arg, t[i].lo, t[i].hi, t[i].field);
	return -1;
}

int cmd_write_file(const char *prog, const char *path, struct results *res,
		   int (*write)(const struct results *res, FILE *f, void *arg, struct perr *err),
		   void *arg)
{
	struct outfile of;
	struct perr err;
	int rc = outfile_open(&of, path, &err);
	if (rc == 0) {
		rc = write(res, of.f, arg, &err);
		if (rc < 0)
			outfile_abort(&of);
		else
			rc = outfile_commit(&of, &err);
	}
	results_free(res);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

void cmd_show_results(const struct results *res, const char *path, bool table, const char *lead)
{
	struct table_opts o = {.format = TF_TEXT, .layout = TL_SUMMARY};
	struct perr err;
	/* the writer's own view of what it wrote: the file is not read again */
	if (table && res)
		table_render(res, &o, stdout, &err);
	fflush(stdout);
	fprintf(stderr, "%s%s\n", lead, path);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

volatile sig_atomic_t *cmd_stop_on_signal(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	struct sigaction hup;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed terminal stops the work the same way, unless nohup said not to */
	if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return &stop;
}
