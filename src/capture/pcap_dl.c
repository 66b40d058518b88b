// SPDX-License-Identifier: MIT
#include "pcap_dl.h"
#include "util/dl.h"
#include <pthread.h>
#include <stdio.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static union {
	struct pcap_dl fns;
	void *ptr[sizeof(struct pcap_dl) / sizeof(void *)];
} table;
static const struct pcap_dl *loaded;
static char load_error[512];

static void load(void)
{
	/* Debian's soname, the upstream one, then the development link */
	static const char *const names[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"};
#define PCAP_DL_NAME(f) #f,
	static const char *const syms[] = {PCAP_DL_FUNCTIONS(PCAP_DL_NAME)};
#undef PCAP_DL_NAME
	_Static_assert(sizeof(syms) / sizeof(syms[0]) == sizeof(table.ptr) / sizeof(table.ptr[0]),
		       "a name for every function");
	if (dl_load(names, 3, "pcap_", syms, table.ptr, sizeof(syms) / sizeof(syms[0]),
		    load_error, sizeof(load_error)) == 0)
		loaded = &table.fns;
}

const struct pcap_dl *pcap_dl_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded && err && errlen)
		snprintf(err, errlen, "%s", load_error);
	return loaded;
}
