// SPDX-License-Identifier: MIT
/*
 * Linux 4.6: Algorithm 3 as in 2.6, but connect() takes even ports only (odd
 * ones are left for bind()), so one destination sees steps of 2.
 */
#include "punch/osprof.h"

static void init(void *st, struct os_rng *rng)
{
	/* F's key: net_secret, drawn once at boot since 3.0 (6e5714eaf77d "net:
	 * Compute protocol sequence numbers and fragment IDs using MD5",
	 * net/core/secure_seq.c net_secret_init): no re-keying */
	os_alg3_init(st, rng, ~1u, 0);
}

static uint16_t next(void *st, struct os_rng *rng, const struct os_dest *d, double now,
		     os_in_use_fn in_use, void *arg)
{
	return os_alg3_next(st, rng, d, now, 32768, 60999, 0, 2, 2, in_use, arg);
}

const struct os_ops os_linux_4_6 = {
    .name = "linux-4.6",
    .lo = 32768,
    .hi = 60999,
    .rule = "Alg. 3 with even ports for connect(): steps of 2 to one destination",
    .source = "Linux 4.6, commit \"tcp/dccp: better use of ephemeral ports in connect()\"; F's "
	      "key fixed from boot since 3.0 (6e5714eaf77d, net/core/secure_seq.c)",
    .state_size = sizeof(struct os_alg3),
    .init = init,
    .next = next,
};
