// SPDX-License-Identifier: MIT
/* libFuzzer target: the SOCKS5 greeting and request parsers. */
#include "punch/proxy.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int noauth;
	uint32_t addr;
	uint16_t port;
	int g = socks_parse_greeting(data, size, &noauth);
	if (g > (int)size)
		abort();
	int r = socks_parse_request(data, size, &addr, &port);
	if (r > (int)size || r < -8)
		abort();
	return 0;
}
