/* SPDX-License-Identifier: MIT */
/*
 * NAT profiles: a NAT behaviour as data (RFC 4787 / RFC 5382 axes), the named
 * presets, and the nftables ruleset that makes a Linux namespace behave so.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum nat_mapping { NAT_MAP_EIM, NAT_MAP_ADM, NAT_MAP_APDM };
enum nat_port { NAT_PORT_PRESERVE, NAT_PORT_SEQUENTIAL, NAT_PORT_RANDOM };
/* rfc5382: RFC 5382 REQ-4 exactly: the SYN is held NAT_REQ4_HOLD_MS, then
 * dropped if an outbound SYN of that connection went out meanwhile, else
 * answered with ICMP port unreachable */
enum nat_unsolicited { NAT_UNSOL_RST, NAT_UNSOL_DROP, NAT_UNSOL_ICMP, NAT_UNSOL_RFC5382 };
enum nat_filtering { NAT_FILT_APDF, NAT_FILT_ADF, NAT_FILT_EIF };
/* What the NAT does with a mapping when an ICMP time-exceeded for it comes
 * in from outside (stunt1's low-TTL SYN): keep it (Linux conntrack: the
 * ICMP is RELATED, passed to the inside, the entry untouched) or drop it */
enum nat_icmp_te { NAT_ICMP_TE_KEEP, NAT_ICMP_TE_DROP };
/* the conntrack mark of a mapping dropped so (NAT_ICMP_TE_DROP) */
#define NAT_ICMP_TE_MARK 0x7e1u

/* REQ-4's hold: the lab's delay helper keeps the unsolicited SYN this long
 * (an NFQUEUE on the outside interface's INPUT) and gives it back marked */
#define NAT_REQ4_HOLD_MS 6000
#define NAT_REQ4_MARK 0x5382u
/* the binding lifetime when no established timeout is given: RFC 5382
 * REQ-5's least idle time for an established connection, 2 h 4 min */
#define NAT_BINDING_DEFAULT_S 7440

/* the conntrack TCP timeouts a profile may set, in the order of nat_timeout_names */
enum {
	NAT_TO_SYN_SENT,
	NAT_TO_SYN_RECV,
	NAT_TO_ESTABLISHED,
	NAT_TO_FIN_WAIT,
	NAT_TO_CLOSE_WAIT,
	NAT_TO_LAST_ACK,
	NAT_TO_TIME_WAIT,
	NAT_TO_CLOSE,
	NAT_TO_COUNT
};
extern const char *const nat_timeout_names[NAT_TO_COUNT];

struct nat_profile {
	const char *name; /* the preset it started from; "ruleset" for a ruleset file */
	enum nat_mapping mapping;
	enum nat_port port;
	unsigned delta;		     /* sequential: step between connections */
	uint16_t range_lo, range_hi; /* sequential/random: external port range */
	enum nat_unsolicited unsolicited;
	enum nat_filtering filtering;
	bool hairpin;
	enum nat_icmp_te icmp_te;   /* "icmp_time_exceeded" */
	unsigned port_quota;	    /* TCP connections per inside address at once; 0: no limit */
	int timeouts[NAT_TO_COUNT]; /* seconds, -1 = kernel default */
};

/* A named profile: its name is profile.name, which leads the struct, so
 * nat_presets[] is a registry (util/registry.h) of one entry per preset.
 * An old name (alias_of set) still loads, as the preset it names. */
struct nat_preset {
	struct nat_profile profile;
	const char *help;
	const char *meets; /* the RFC requirements it meets, for the docs and topo show */
	const char *alias_of;
};

extern const struct nat_preset nat_presets[];
extern const size_t nat_presets_count;
const struct nat_preset *nat_preset_by_name(const char *name);
/* "home-2009, rfc5382, ..." for error messages */
const char *nat_preset_names(void);

const char *nat_mapping_str(enum nat_mapping m);
const char *nat_port_str(enum nat_port p);
const char *nat_unsolicited_str(enum nat_unsolicited u);
const char *nat_filtering_str(enum nat_filtering f);
const char *nat_icmp_te_str(enum nat_icmp_te v);
int nat_mapping_parse(const char *s, enum nat_mapping *out);
int nat_port_parse(const char *s, enum nat_port *out);
int nat_unsolicited_parse(const char *s, enum nat_unsolicited *out);
int nat_filtering_parse(const char *s, enum nat_filtering *out);
int nat_icmp_te_parse(const char *s, enum nat_icmp_te *out);

/* What the ruleset generator needs to know about one NAT node. */
struct nat_site {
	const char *outside_if;
	uint32_t outside_addr; /* network byte order */
	size_t ninside;
	const char *const *inside_ifs;
	const uint32_t *inside_nets; /* network byte order */
	const int *inside_plens;
};

/* The names nat_ruleset() gives: natstate.c flushes the owners map between trials. */
#define NAT_TABLE_NAME "punchlab_nat"
#define NAT_TABLE "ip " NAT_TABLE_NAME
#define NAT_OWNERS_MAP "owners"

/*
 * Why PROFILE cannot be built on this kernel (a static string naming the
 * fields), or NULL when it can.
 */
const char *nat_profile_unbuildable(const struct nat_profile *profile);

/*
 * The dynamic maps and sets of NAT_TABLE that PROFILE's rules fill (the state
 * a trial leaves besides conntrack), which a reset empties: their names into
 * NAMES (NAT_RESET_SETS at most); returns how many.
 */
#define NAT_RESET_SETS 4
int nat_reset_sets(const struct nat_profile *profile, const char *names[NAT_RESET_SETS]);

/*
 * The nft script (one table, "ip punchlab_nat") for SITE under PROFILE,
 * including the statement that first deletes any earlier version of that
 * table so that applying it is atomic and repeatable. Returns a malloc'd
 * string or NULL on allocation failure.
 */
char *nat_ruleset(const struct nat_profile *profile, const struct nat_site *site);
