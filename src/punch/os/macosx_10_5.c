// SPDX-License-Identifier: MIT
/*
 * Mac OS X 10.5: XNU xnu-1228, bsd/netinet/in_pcb.c in_pcbbind. A connect()
 * on an unbound socket takes, with neither INP_HIGHPORT nor INP_LOWPORT,
 * first = ipport_firstauto = 49152 and last = ipport_lastauto = 65535 (the
 * __APPLE__ values, lines 129-130) and lastport = &pcbinfo->lastport (line
 * 507): the counter of the protocol's own table (tcbinfo for TCP, udbinfo for
 * UDP), so UDP traffic does not move TCP's. Then (lines 539-553) ++*lastport,
 * back to first past last, while in_pcblookup_local_and_cleanup() finds a pcb
 * on that port. There is no randomization in 1228: the sysctl
 * net.inet.tcp.randomize_ports first appears in xnu-1456 (10.6), and even
 * there TCP's default is 0 (tcp_subr.c tcp_use_randomport).
 * A TCP connection in TIME_WAIT keeps its pcb in tcbinfo until the 2*MSL
 * timer (TCPTV_MSL 15 s, tcp_timer.h:120) disposes of it, so its port is
 * stepped over too; here IN_USE is a real bind() on the lab's Linux, which
 * also fails while the port is in TIME_WAIT there.
 */
#include "punch/osprof.h"

struct lastport {
	uint16_t last;
};

static void init(void *st, struct os_rng *rng)
{
	((struct lastport *)st)->last = (uint16_t)(49152 + os_rng_below(rng, 65535 - 49152 + 1));
}

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
    .rule = "++lastport of the TCP table, wrapping to 49152, skipping ports in use (TIME_WAIT "
	    "too); no randomization",
    .source = "XNU xnu-1228 bsd/netinet/in_pcb.c in_pcbbind, lines 507 and 539-553 "
	      "(&pcbinfo->lastport, ++*lastport); randomize_ports only from xnu-1456 (10.6)",
    .state_size = sizeof(struct lastport),
    .init = init,
    .next = next,
};
