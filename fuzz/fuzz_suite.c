// SPDX-License-Identifier: MIT
/* libFuzzer target: the suite parser and cell expansion. Relative topology
 * paths resolve against the directory the fuzzer runs in. */
#include "run/suite.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct suite *s = NULL;
	struct perr err;
	if (suite_parse_buffer("experiments/fuzz.json", (const char *)data, size, &s, &err) == 0)
		suite_free(s);
	return 0;
}
