// SPDX-License-Identifier: MIT
/* libFuzzer target: the protocol line parser, and format(parse(x)) re-parsing. */
#include "punch/proto.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmsg m, back;
	char err[160], line[PROTO_MAX_LINE + 1];

	if (proto_parse((const char *)data, size, &m, err, sizeof(err)) < 0)
		return 0;
	int n = proto_format(&m, line, sizeof(line));
	/* whatever parses must format, and the formatted line parse back the same type */
	if (n < 0 || proto_parse(line, (size_t)n, &back, err, sizeof(err)) < 0 || back.type != m.type)
		abort();
	return 0;
}
