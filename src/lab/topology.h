/* SPDX-License-Identifier: MIT */
/*
 * A topology: hosts and NAT nodes joined by segments, read from a JSON file
 * (format in docs/topology.md) and validated before anything is built.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "natprofile.h"
#include "util/perr.h"

#define TOPO_NAME_MAX 20   /* node names: pl-LAB-NODE must stay a sane file name */
#define TOPO_IFNAME_MAX 15 /* segment names become interface names (IFNAMSIZ - 1) */
/* The limits of a topology. Every array sized by one of them counts what it
 * holds from these: a lab has TOPO_NODES_MAX + 1 namespaces (the fabric), a
 * node up to 2 * TOPO_SEGS_MAX delayed directions. */
#define TOPO_NODES_MAX 64
#define TOPO_SEGS_MAX 64
#define TOPO_MEMBERS_MAX 64	       /* per segment */
#define TOPO_RULESET_MAX (1024 * 1024) /* bytes of a ruleset file */

/* One-way impairment of packets crossing a link. */
struct impair {
	double delay_ms, jitter_ms, loss; /* loss: probability 0..1 per packet */
	bool jitter_normal; /* jitter_ms is a normal's standard deviation, not a uniform's +- */
};

static inline bool impair_any(const struct impair *i)
{
	return i->delay_ms > 0 || i->jitter_ms > 0 || i->loss > 0;
}

struct topo_member {
	int node;	    /* index into topology.nodes */
	uint32_t addr;	    /* network byte order */
	struct impair link; /* this member's access link, both directions */
	/* asymmetric links: the delay up (from the member onto the segment) and
	 * down (towards it) instead of link.delay_ms; < 0: link.delay_ms */
	double up_ms, down_ms;
};

struct topo_segment {
	char name[TOPO_IFNAME_MAX + 1];
	uint32_t net; /* network byte order */
	int plen;
	struct impair medium; /* every packet crossing the segment, once */
	bool bridge;	      /* force a bridge even with two members */
	int nmembers;
	struct topo_member *members;
};

struct topo_route {
	uint32_t dst; /* network byte order */
	int plen;
	uint32_t via;
};

struct topo_sysctl {
	char *key; /* "net/ipv4/..." */
	char *value;
};

enum topo_role { ROLE_NONE, ROLE_SERVER, ROLE_PEER_A, ROLE_PEER_B };
const char *topo_role_str(enum topo_role r);

enum topo_ruleset_fmt { RULESET_NFT, RULESET_IPTABLES };

struct topo_node {
	char name[TOPO_NAME_MAX + 1];
	enum topo_role role;
	bool is_nat;
	struct nat_profile nat; /* when is_nat and no ruleset file */
	int outside;		/* segment index, NAT only */
	char *ruleset;		/* a ruleset file of the node's own, resolved path */
	enum topo_ruleset_fmt ruleset_fmt;
	uint32_t gateway; /* 0 = none */
	int nroutes;
	struct topo_route *routes;
	int nsysctls;
	struct topo_sysctl *sysctls;
};

struct topology {
	char *path;
	char *description;
	int nnodes;
	struct topo_node *nodes;
	int nsegs;
	struct topo_segment *segs;
};

int topo_load(const char *path, struct topology **out, struct perr *err);
int topo_parse_buffer(const char *name, const char *buf, size_t len, struct topology **out,
		      struct perr *err);
void topo_free(struct topology *t);

/*
 * Reads the ruleset file PATH: a regular file (opened without blocking, so a
 * FIFO or a device cannot hold us) of at most TOPO_RULESET_MAX bytes, text
 * without NUL bytes. With BUF NULL, only checks it; else *BUF gets it,
 * NUL-terminated (free it). Returns 0, or -errno with WHY saying what is wrong.
 */
int topo_ruleset_read(const char *path, char **buf, char *why, size_t whylen);

int topo_node_by_name(const struct topology *t, const char *name);
int topo_node_by_role(const struct topology *t, enum topo_role role);
/* This node's address on segment SEG, or 0 if it is not a member. */
uint32_t topo_addr_on(const struct topology *t, int node, int seg);
/* The address the world outside the NATs reaches NODE by; 0 if none. */
uint32_t topo_primary_addr(const struct topology *t, int node);
bool topo_name_ok(const char *s, size_t max);

/*
 * The nodes a packet from node FROM to address DST is forwarded by, in
 * order (neither FROM nor DST's owner), following each node's segments,
 * routes and gateway as its routing table would. Returns how many (at most
 * MAX) into PATH, or -1 when some node has no route or the path loops.
 */
int topo_path(const struct topology *t, int from, uint32_t dst, int *path, int max);
