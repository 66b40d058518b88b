// SPDX-License-Identifier: MIT
#include "endpoint.h"
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
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

int endpoint_listen(const struct sockaddr_in *addr, int backlog, struct sockaddr_in *bound)
{
	int one = 1, rc, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, backlog) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (bound) {
		socklen_t len = sizeof(*bound);
		getsockname(fd, (struct sockaddr *)bound, &len);
	}
	return fd;
}
