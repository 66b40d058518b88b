// SPDX-License-Identifier: MIT
/* libFuzzer target: the classify control-line parser (what classify-server
 * reads from any client, and classify from any server), and
 * format(parse(x)) parsing back to the same message. */
#include "classify/ctl.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_msg m, back;
	char err[160], line[CL_MAX_LINE + 1], again[CL_MAX_LINE + 1];

	if (cl_parse((const char *)data, size, &m, err, sizeof(err)) < 0)
		return 0;
	int n = cl_format(&m, line, sizeof(line));
	if (n < 0 || cl_parse(line, (size_t)n, &back, err, sizeof(err)) < 0 || back.type != m.type)
		abort();
	/* and formats to the very same line: nothing lost or changed */
	int n2 = cl_format(&back, again, sizeof(again));
	if (n2 != n || memcmp(line, again, (size_t)n))
		abort();
	return 0;
}
