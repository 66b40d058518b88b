// SPDX-License-Identifier: MIT
/* libFuzzer target: an external heuristic's answer line (heurx_parse_answer)
 * and the escaping of what is logged of it. The first byte picks k (1-16). */
#include "punch/heurexec.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t out[16];
	char err[200], logged[160];

	if (!size)
		return 0;
	int k = data[0] % 16 + 1;
	const char *line = (const char *)data + 1;
	int n = heurx_parse_answer(line, size - 1, 7, k, out, err, sizeof(err));
	/* what it accepts is 1 to k distinct ports */
	if (n > k || n < -1)
		abort();
	for (int i = 0; i < n; i++) {
		if (!out[i])
			abort();
		for (int j = 0; j < i; j++)
			if (out[i] == out[j])
				abort();
	}
	heurx_json_text(line, size - 1, logged, sizeof(logged));
	/* JSON-safe: no quote unescaped, no control character */
	for (size_t i = 0; logged[i]; i++)
		if ((unsigned char)logged[i] < 0x20 || (logged[i] == '"' && (!i || logged[i - 1] != '\\')))
			abort();
	return 0;
}
