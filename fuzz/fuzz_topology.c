// SPDX-License-Identifier: MIT
/* libFuzzer target: the topology parser and validator. */
#include "lab/topology.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topology *t = NULL;
	struct perr err;
	if (topo_parse_buffer("fuzz.json", (const char *)data, size, &t, &err) == 0)
		topo_free(t);
	else if (!strchr(err.msg, ':'))
		abort(); /* every error names its place */
	return 0;
}
