// SPDX-License-Identifier: MIT
/* libFuzzer target: the results reader (through a file, as the commands read it). */
#include "results/results.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/punchlab-fuzz-results-%d.json", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	struct results *r = NULL;
	struct perr err;
	if (results_load(path, &r, &err) == 0)
		results_free(r);
	return 0;
}
