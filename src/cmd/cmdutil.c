// SPDX-License-Identifier: MIT
#include "cmdutil.h"
#include "commands.h"
#include "run/runner.h"
#include <stdio.h>

/* The one call of the results reader in the command layer: when the results
 * API changes, this is the body to change. */
int cmd_load_results(const char *path, json_t **out)
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

void cmd_show_results(const char *path, bool table, const char *lead)
{
	if (table) {
		/* the file was just written by us: no need to check it again */
		json_t *res = json_load_file(path, 0, NULL);
		if (res)
			run_print_table(res, stdout);
		json_decref(res);
	}
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

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return &stop;
}
