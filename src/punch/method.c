// SPDX-License-Identifier: MIT
/* The registry of traversal methods, and what their files share. */
#include "method.h"
#include "peer.h"
#include "util/registry.h"
#include <sys/socket.h>

/* clang-format off */
const struct punch_method_ops *const punch_methods[] = {
	&method_predict,
	&method_reuse,
	&method_stunt1,
	&method_relay,
	NULL,
};
/* clang-format on */

#define METHOD_REGISTRY REGISTRY_POINTERS(punch_methods)

const struct punch_method_ops *method_by_name(const char *name)
{
	return registry_find(METHOD_REGISTRY, name);
}

const struct punch_method_ops *method_of(int id)
{
	for (size_t i = 0; punch_methods[i]; i++)
		if (punch_methods[i]->id == id)
			return punch_methods[i];
	return &method_predict;
}

const char *method_names(void)
{
	static _Thread_local char buf[REGISTRY_NAMES_MAX];

	return registry_names(METHOD_REGISTRY, buf, sizeof(buf));
}

bool method_port_taken(uint16_t port, void *arg)
{
	int fd = *(int *)arg;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	/* the allocator asks; binding answers, and leaves the port bound when free */
	return bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0;
}
