/* SPDX-License-Identifier: MIT */
/*
 * OS profiles: how an operating system picks the source port of a connect().
 * All peers run on this one Linux kernel, so an OS is modelled by its port
 * allocator, in user space: the peer bind()s the port the allocator chose and
 * then connect()s. A profile is one file in src/punch/os/ and one line in the
 * registry, src/punch/os/profiles.def (docs/extending.md). Profiles keep state
 * across connections, as a host does.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A small, seedable generator: runs are repeatable from the suite's seed. */
struct os_rng {
	uint64_t s;
};
uint64_t os_rng_next(struct os_rng *r);
/* Uniform in [0, n). */
uint32_t os_rng_below(struct os_rng *r, uint32_t n);
double os_rng_unit(struct os_rng *r);
/* A keyed hash of a connection's addresses (the F of RFC 6056). */
uint32_t os_hash(uint64_t key, uint32_t saddr, uint32_t daddr, uint16_t dport);
/* The same with a SALT word more and all 64 bits (Linux's port_offset since 2022). */
uint64_t os_hash64(uint64_t key, uint32_t saddr, uint32_t daddr, uint16_t dport, uint32_t salt);

struct os_dest {
	uint32_t saddr, daddr; /* network byte order */
	uint16_t dport;	       /* host byte order */
};

/* Whether PORT is taken on the host (bind() would fail). */
typedef bool (*os_in_use_fn)(uint16_t port, void *arg);

struct os_ops {
	const char *name;
	uint16_t lo, hi;    /* the ephemeral range */
	const char *rule;   /* one line: how the next port is chosen */
	const char *source; /* where that is documented */
	bool assumed;	    /* true where no source documents it */
	size_t state_size;
	/* Initialises STATE (state_size zeroed bytes). */
	void (*init)(void *state, struct os_rng *rng);
	/* The port of the next connect() to D at time NOW (seconds, any
	 * origin), skipping ports IN_USE says are taken; 0 if none is free.
	 * NULL for the native profile: the kernel chooses. */
	uint16_t (*next)(void *state, struct os_rng *rng, const struct os_dest *d, double now,
			 os_in_use_fn in_use, void *arg);
	/* Stack quirks beside the allocator (zero: none), and where they are
	 * documented. */
	bool syn_sent_rst; /* a SYN for a socket in SYN_SENT gets a RST: no simultaneous open */
	int max_half_open; /* outbound connections in SYN_SENT at once; more wait their turn */
	const char *quirk_source;
};

/* Windows XP's allocator (windows_xp.c), which its service packs share. */
void os_xp_init(void *state, struct os_rng *rng);
uint16_t os_xp_next(void *state, struct os_rng *rng, const struct os_dest *d, double now,
		    os_in_use_fn in_use, void *arg);
#define OS_XP_STATE_SIZE sizeof(uint16_t)
/* Windows Vista's (windows_vista.c), which windows-7 shares. */
void os_vista_init(void *state, struct os_rng *rng);
uint16_t os_vista_next(void *state, struct os_rng *rng, const struct os_dest *d, double now,
		       os_in_use_fn in_use, void *arg);
#define OS_VISTA_STATE_SIZE sizeof(uint16_t)

/* The nft table that gives a peer's namespace the syn_sent_rst quirk: a SYN
 * arriving in the reply direction of the peer's own outbound SYN (the other
 * side of a simultaneous open) is answered with a RST. */
#define OS_SYN_SENT_RST_NFT                                                                        \
	"table inet punchlab_quirks\ndelete table inet punchlab_quirks\n"                           \
	"table inet punchlab_quirks {\n\tchain input {\n\t\ttype filter hook input priority "        \
	"filter; policy accept;\n\t\tiif != \"lo\" tcp flags & (syn | ack) == syn ct direction "      \
	"reply reject with tcp reset\n\t}\n}\n"

extern const struct os_ops *const os_profiles[];
const struct os_ops *os_by_name(const char *name);
/* "windows-xp, windows-7, ..." */
const char *os_names(void);

/*
 * Other programs on a host (issue 12, item 2): they take ports at RATE a
 * second while their load is on, a Poisson process. TCP_SHARE of them are
 * TCP and move the profile's counters; the rest are UDP, which every
 * profile keeps apart (XNU: lastport per protocol table; Linux: UDP does not
 * go through __inet_hash_connect; Windows: assumed), so they move nothing
 * the peer's connect() reads. With ON_S and OFF_S both > 0 the load comes in
 * bursts: on and off for exponentially distributed times of those means (an
 * interrupted Poisson process, mean rate RATE * ON_S / (ON_S + OFF_S)); with
 * either 0 it is steady. No source gives a default for any OS: all are the
 * suite's (or --background-*) to set.
 */
struct os_load {
	double rate;	    /* ports/s while on */
	double tcp_share;   /* 0-1 */
	double on_s, off_s; /* mean burst and pause; 0 in either: steady */
};

/* A host running an OS profile, with other programs taking ports too. */
struct os_host {
	const struct os_ops *ops;
	void *state; /* the profile's: its TCP allocator */
	struct os_rng rng;
	struct os_load load;
	double last;		   /* time of the last allocation; < 0 before the first */
	bool on;		   /* bursts: whether the load is on since the last allocation */
	double switch_at;	   /* bursts: when it turns off or on next */
	uint64_t background_taken; /* other programs' allocations, TCP and UDP */
	uint64_t background_tcp;   /* of them TCP */
};

/* LOAD NULL: no other programs. */
struct os_host *os_host_new(const struct os_ops *ops, uint64_t seed, const struct os_load *load);
void os_host_free(struct os_host *h);
/* Background allocations since the last call, then this connection's port. */
uint16_t os_host_port(struct os_host *h, const struct os_dest *d, double now, os_in_use_fn in_use,
		      void *arg);

/* Building blocks the profiles share (osprof.c). */
/* A counter over [LO, HI]: the port *NEXT, then +1, wrapping; skips ports in use. */
uint16_t os_counter_next(uint16_t *next, uint16_t lo, uint16_t hi, os_in_use_fn in_use, void *arg);

/* RFC 6056 Algorithm 3 as Linux does it: port = LO + (offset + i) % n over
 * the candidates i = FIRST, FIRST + STEP, ..., offset = hint + F(...) (made
 * even when STEP is 2); on success hint += i + HINT_EXTRA. F's key is
 * re-drawn every REKEY_S seconds (2.6's random.c: 300), or never (0: 3.0's
 * net_secret, drawn once at boot). */
struct os_alg3 {
	uint32_t hint;
	uint64_t secret;
	double keyed_at, rekey_s;
};
void os_alg3_init(struct os_alg3 *a, struct os_rng *rng, uint32_t hint_mask, double rekey_s);
uint16_t os_alg3_next(struct os_alg3 *a, struct os_rng *rng, const struct os_dest *d, double now,
		      uint16_t lo, uint16_t hi, uint32_t first, uint32_t step, uint32_t hint_extra,
		      os_in_use_fn in_use, void *arg);

/* The search of Linux's __inet_hash_connect since 4.6 (RFC 6056 Alg. 3 and
 * 4 alike): over n = (HI - LO + 1) rounded down to even, from OFFSET % n made
 * even, every second port, wrapping; then the odd ones. The port, 0 when all
 * are in use; *I is how far the search went (the kernel's i). */
uint16_t os_parity_scan(uint16_t lo, uint16_t hi, uint32_t offset, os_in_use_fn in_use, void *arg,
			uint32_t *i);
