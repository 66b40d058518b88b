// SPDX-License-Identifier: MIT
#include "endpoint.h"
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int endpoint_parse(const char *s, struct sockaddr_in *out, int allow_zero)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;

	if (!colon || (size_t)(colon - s) >= sizeof(host) || !colon[1])
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < (allow_zero ? 0 : 1) || port > 65535)
		return -1;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return -1;
	return 0;
}
