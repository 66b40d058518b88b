/* SPDX-License-Identifier: MIT */
/*
 * Traversal methods as plug-ins: one file per method in src/punch/method/,
 * each a const struct punch_method_ops, listed in punch_methods[]
 * (method.c). The peer's procedure (peer.c) is probe -> signal -> [local
 * port, remote endpoint, go time known] -> punch; a method only changes it
 * at the points below. docs/protocol.md describes each method.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "osprof.h"

struct peer_config;

/*
 * The one local port of a method that reuses it (reuse, stunt1): probes and
 * punch bind it with SO_REUSEADDR and SO_REUSEPORT, as P2PNAT asks. The
 * peer owns one per run.
 */
struct method_port {
	uint16_t port;	      /* 0 until the first socket picks it */
	int keep_fd;	      /* the last probe connection, kept open on it (or -1) */
	struct os_host *host; /* the emulated host's allocator, or NULL: the kernel's */
	uint32_t local_addr;  /* ours, for the allocator's destination */
	uint32_t server_addr; /* S's, idem */
	uint16_t server_port;
};

/* Binds FD to MP's port (the first call picks it). 0, or -1 with errno. */
int method_port_bind(struct method_port *mp, int fd);
/* Keeps FD (a probe connection on the port) open until the next call, which
 * closes the one before abortively (no TIME_WAIT on the port); FD -1 only
 * closes. */
void method_port_keep(struct method_port *mp, int fd);
/* A listener on MP's port, non-blocking, or -1. */
int method_port_listen(struct method_port *mp);
/* os_host_port()'s in_use callback: binds *ARG (an fd) to PORT, true when taken. */
bool method_port_taken(uint16_t port, void *arg);

/*
 * A method. NULL callbacks and zero fields mean "as the paper's method":
 * fresh ports from the host, the configured probes, S's configured
 * heuristic, no listener, nothing at go time.
 */
struct punch_method_ops {
	const char *name; /* first: the registry reads it (util/registry.h) */
	const char *help;
	const char *citation;
	int id; /* enum punch_method (peer.h) */
	/* probes per round; 0: the configured --probes */
	int probes;
	/* the heuristic S must use for it (e.g. "preserve": S names the port
	 * it saw); NULL: the configured one */
	const char *server_heuristic;
	/* probes and punch share one local port (struct method_port) */
	bool one_port;
	/* a listener on the one port during the attempt */
	bool (*listens)(const struct peer_config *c);
	/* an nft script the host of the peer of ROLE ('a' or 'b') needs in its
	 * namespace for the whole run (the runner and `punchlab peer` load it),
	 * or NULL */
	const char *(*host_nft)(char role);
	/* on a punch socket, bound, before its connect(): 0 or -errno */
	int (*before_connect)(const struct peer_config *c, int fd);
	/* right after that connect() put the SYN on its way */
	void (*after_connect)(const struct peer_config *c, int fd);
	/* how much later than S's go time this side connects, in ms */
	double (*go_delay_ms)(const struct peer_config *c);
	/* instead of the punch, a connection to the other peer another way (a
	 * relay): at S's go time, with the punch's NONCE, within TIMEOUT_MS; a
	 * connected blocking fd, or -errno. The trial's path is then "relay". */
	int (*connect_other)(const struct peer_config *c, const uint8_t *nonce, int timeout_ms);
	/* the peer's configuration refused for this method: the error (in BUF
	 * of LEN bytes, or a static string), or NULL */
	const char *(*check)(const struct peer_config *c, char *buf, size_t len);
};

extern const struct punch_method_ops method_predict, method_reuse, method_stunt1, method_relay;
/* NULL-terminated, in the order of `--method help` */
extern const struct punch_method_ops *const punch_methods[];

const struct punch_method_ops *method_by_name(const char *name);
/* The method of enum punch_method ID (predict for an unknown one). */
const struct punch_method_ops *method_of(int id);
/* "predict, reuse, ..." for "unknown method" errors */
const char *method_names(void);

/* stunt1: the TTL of the low-TTL SYN when none is configured: one hop
 * past the peer's gateway, the NAT in every shipped topology */
#define STUNT1_DEFAULT_TTL 2
/* stunt1: peer A's host ignores ICMP time-exceeded, as RFC 1122 4.2.3.9
 * asks of TCP (a soft error, never an abort). Linux's tcp_v4_err() instead
 * ends a SYN_SENT socket on it (EHOSTUNREACH), which would take the
 * low-TTL SYN's socket before the other's SYN arrives. */
#define STUNT1_HOST_NFT                                                                            \
	"table inet punchlab_stunt1\ndelete table inet punchlab_stunt1\n"                          \
	"table inet punchlab_stunt1 {\n\tchain input {\n\t\ttype filter hook input priority "      \
	"filter; policy accept;\n\t\ticmp type time-exceeded drop\n\t}\n}\n"
/* stunt1: how long after the go time the accepting side connects, so that
 * the other's low-TTL SYN has opened its NAT's mapping first. 10 ms was
 * overrun under load (the test suite's labs side by side on two cores: A's
 * SYN left after B's had arrived, 1 run in about 10); 50 ms leaves room for
 * that, and lets a RST from the other NAT (a TTL that reached it, 20 ms
 * behind in two-nats-router) come back first, as it would over any real
 * path longer than the margin. */
#define STUNT1_DELAY_MS 50
