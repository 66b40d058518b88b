// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the results readers, through files as the commands read
 * them. The first byte picks what the rest is: a RUN.json (even) or a
 * trials file (odd), streamed whole, with and without its timelines.
 */
#include "results/results.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void stream(const char *path, unsigned flags)
{
	struct trial_reader *tr;
	struct perr err;
	json_t *t;
	if (trials_open_file(path, &tr, &err) < 0)
		return;
	trials_set_flags(tr, flags);
	while (trials_next(tr, &t, &err) > 0) {
		size_t len;
		(void)trials_raw(tr, &len);
	}
	trials_close(tr);
}

static char path[64];

/* the input's file goes with the fuzzer: nothing left in /tmp */
static void remove_input(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/punchlab-fuzz-results-%d.json", (int)getpid());
		atexit(remove_input);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	if (data[0] & 1) {
		stream(path, 0);
		stream(path, TRIALS_NO_TIMELINE);
		return 0;
	}
	struct results *r = NULL;
	struct perr err;
	if (results_load(path, &r, &err) == 0)
		results_free(r);
	return 0;
}
