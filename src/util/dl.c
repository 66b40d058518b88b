// SPDX-License-Identifier: MIT
#include "dl.h"
#include <dlfcn.h>
#include <stdio.h>

int dl_load(const char *const *names, size_t nnames, const char *prefix,
	    const char *const *syms, void **out, size_t nsyms, char *err, size_t errlen)
{
	void *h = NULL;
	for (size_t i = 0; !h && i < nnames; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "cannot load %s: %s", names[0], dlerror());
		return -1;
	}
	for (size_t i = 0; i < nsyms; i++) {
		char sym[128];
		snprintf(sym, sizeof(sym), "%s%s", prefix, syms[i]);
		if (!(out[i] = dlsym(h, sym))) {
			snprintf(err, errlen, "%s has no %s", names[0], sym);
			return -1;
		}
	}
	return 0;
}
