// SPDX-License-Identifier: MIT
/* Mac OS X 10.5: XNU in_pcbbind with net.inet.tcp.randomize_ports=0. */
#include "punch/osprof.h"

struct lastport {
	uint16_t last;
};

static void init(void *st, struct os_rng *rng)
{
	((struct lastport *)st)->last = (uint16_t)(49152 + os_rng_below(rng, 65535 - 49152 + 1));
}

/* ++lastport, wrap to the first port, and go on while the port is in use:
 * unlike a plain counter, a port some other program holds is stepped over. */
static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	struct lastport *l = st;
	(void)rng, (void)d, (void)now;
	for (int tries = 0; tries <= 65535 - 49152; tries++) {
		l->last = l->last >= 65535 || l->last < 49152 ? 49152 : l->last + 1;
		if (!in_use || !in_use(l->last, arg))
			return l->last;
	}
	return 0;
}

const struct os_ops os_macosx_10_5 = {
    .name = "macosx-10.5",
    .lo = 49152,
    .hi = 65535,
    .rule = "++lastport, wrapping to 49152, skipping ports in use",
    .source = "XNU bsd/netinet/in_pcb.c in_pcbbind (xnu-1228, randomize_ports=0)",
    .state_size = sizeof(struct lastport),
    .init = init,
    .next = next,
};
