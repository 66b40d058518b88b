// SPDX-License-Identifier: MIT
#include "natprofile.h"
#include "util/registry.h"
#include "util/strbuf.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const nat_timeout_names[NAT_TO_COUNT] = {
    "syn_sent",	  "syn_recv", "established", "fin_wait",
    "close_wait", "last_ack", "time_wait",   "close",
};

/* every conntrack timeout at the kernel's default */
#define NO_TIMEOUTS                                                                                \
	{                                                                                          \
		[0 ... NAT_TO_COUNT - 1] = -1                                                      \
	}

/* A preset's profile, field by field; the rest as home-2009. */
#define PRESET(nm, ...)                                                                            \
	{                                                                                          \
		.name = nm, .mapping = NAT_MAP_EIM, .port = NAT_PORT_PRESERVE, .delta = 1,         \
		.range_lo = 1024, .range_hi = 65535, .unsolicited = NAT_UNSOL_RST,                 \
		.filtering = NAT_FILT_APDF, .hairpin = false, .timeouts = NO_TIMEOUTS, __VA_ARGS__ \
	}

/* what presets share: RFC 5382 REQ-5's least timeouts (4 min transitory,
 * 2 h 4 min established), and the symmetric NATs, which the old names
 * sequential and random also load */
#define REQ5_TIMEOUTS                                                                              \
	{                                                                                          \
		[0 ... NAT_TO_COUNT - 1] = -1, [NAT_TO_SYN_SENT] = 240,                            \
				      [NAT_TO_ESTABLISHED] = 7440                                  \
	}
#define SYMMETRIC_SEQUENTIAL                                                                       \
	.mapping = NAT_MAP_APDM, .port = NAT_PORT_SEQUENTIAL, .range_lo = 40000, .range_hi = 41023
#define SYMMETRIC_RANDOM .mapping = NAT_MAP_APDM, .port = NAT_PORT_RANDOM

/* PRESET's later designators override its defaults, on purpose */
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
/* The registry: one entry per preset, in the order error messages list them. */
const struct nat_preset nat_presets[] = {
    {
	.profile = PRESET("home-2009"),
	.help = "endpoint-independent mapping, source port preserved, address-and-port-dependent "
		"filtering; the box's own stack answers an unsolicited SYN with RST (typical of "
		"2009 home routers, the paper's NATs)",
	.meets = "RFC 5382 REQ-1, REQ-2; not REQ-4 (RST at once), REQ-5, REQ-8",
    },
    {
	.profile = PRESET("rfc5382", .filtering = NAT_FILT_EIF, .unsolicited = NAT_UNSOL_RFC5382,
			  .hairpin = true, .timeouts = REQ5_TIMEOUTS),
	.help = "RFC 5382 compliant: endpoint-independent mapping (port preserved), "
		"endpoint-independent filtering (REQ-3, for application transparency), REQ-4's "
		"6 s hold of an unsolicited SYN then ICMP port unreachable, 4 min transitory and "
		"2 h 4 min established timeouts, hairpinning",
	.meets = "RFC 5382 REQ-1, REQ-2, REQ-3 (EIF), REQ-4, REQ-5, REQ-8",
    },
    {
	.profile = PRESET("full-cone", .filtering = NAT_FILT_EIF),
	.help = "endpoint-independent mapping and filtering (RFC 3489's full cone): any host "
		"may open a connection to a mapped port",
	.meets = "RFC 5382 REQ-1, REQ-2, REQ-3 (EIF); not REQ-4, REQ-5, REQ-8",
    },
    {
	.profile = PRESET("restricted-cone", .filtering = NAT_FILT_ADF),
	.help = "endpoint-independent mapping, address-dependent filtering: a host the inside "
		"endpoint contacted may connect from any of its ports",
	.meets = "RFC 5382 REQ-1, REQ-2, REQ-3 (ADF); not REQ-4, REQ-5, REQ-8",
    },
    {
	.profile = PRESET("port-restricted"),
	.help = "endpoint-independent mapping, address-and-port-dependent filtering: only the "
		"very endpoint contacted may connect; an unsolicited SYN gets RST",
	.meets = "RFC 5382 REQ-1, REQ-2; not REQ-3, REQ-4, REQ-5, REQ-8",
    },
    {
	.profile = PRESET("symmetric-sequential", SYMMETRIC_SEQUENTIAL),
	.help = "a new external port per connection, one more than the last (40000-41023, "
		"then wraps); address-and-port-dependent filtering, RST",
	.meets = "RFC 5382 REQ-2; not REQ-1 (mapping), REQ-3, REQ-4, REQ-5, REQ-8",
    },
    {
	.profile = PRESET("symmetric-random", SYMMETRIC_RANDOM),
	.help = "a new random external port per connection (1024-65535); "
		"address-and-port-dependent filtering, RST",
	.meets = "RFC 5382 REQ-2; not REQ-1 (mapping), REQ-3, REQ-4, REQ-5, REQ-8",
    },
    {
	.profile = PRESET("cgnat", .port = NAT_PORT_RANDOM, .filtering = NAT_FILT_EIF,
			  .unsolicited = NAT_UNSOL_RFC5382, .hairpin = true, .port_quota = 1024,
			  .timeouts = REQ5_TIMEOUTS),
	.help = "a carrier-grade NAT after RFC 6888: RFC 5382's TCP behaviour (REQ-1) with "
		"random port assignment (endpoint-independent mapping kept by a binding map), "
		"one external address so pooling is paired (REQ-2), at most 1024 TCP "
		"connections per subscriber address at once (REQ-4)",
	.meets = "RFC 6888 REQ-1 (RFC 5382 REQ-1 to REQ-5, REQ-8), REQ-2, REQ-4",
    },
    {
	.profile = PRESET("linux-masquerade"),
	.help = "a stock Linux router (masquerade, no firewall): conntrack's own port choice "
		"(the inside port while it is free, else a random one), conntrack's filtering, "
		"and the router's own stack answers an unsolicited SYN with RST",
	.meets = "RFC 5382 REQ-1 (while the port is free), REQ-2; not REQ-3, REQ-4, REQ-5, REQ-8",
    },
    {
	.profile = PRESET("sequential", SYMMETRIC_SEQUENTIAL),
	.help = "the old name of symmetric-sequential",
	.alias_of = "symmetric-sequential",
    },
    {
	.profile = PRESET("random", SYMMETRIC_RANDOM),
	.help = "the old name of symmetric-random",
	.alias_of = "symmetric-random",
    },
};
#if defined(__clang__)
#pragma clang diagnostic pop
#else
#pragma GCC diagnostic pop
#endif
const size_t nat_presets_count = sizeof(nat_presets) / sizeof(nat_presets[0]);

#define NAT_PRESET_REGISTRY REGISTRY_ARRAY(nat_presets, nat_presets_count)

const struct nat_preset *nat_preset_by_name(const char *name)
{
	return registry_find(NAT_PRESET_REGISTRY, name);
}

const char *nat_preset_names(void)
{
	static _Thread_local char buf[REGISTRY_NAMES_MAX];

	return registry_names(NAT_PRESET_REGISTRY, buf, sizeof(buf));
}

static const char *const mapping_names[] = {"endpoint-independent", "address-dependent",
					    "address-and-port-dependent"};
static const char *const port_names[] = {"preserve", "sequential", "random"};
static const char *const unsol_names[] = {"rst", "drop", "icmp", "rfc5382"};
static const char *const filt_names[] = {"address-and-port-dependent", "address-dependent",
					 "endpoint-independent"};
static const char *const icmp_te_names[] = {"keep", "drop"};

const char *nat_mapping_str(enum nat_mapping m)
{
	return mapping_names[m];
}
const char *nat_port_str(enum nat_port p)
{
	return port_names[p];
}
const char *nat_unsolicited_str(enum nat_unsolicited u)
{
	return unsol_names[u];
}
const char *nat_filtering_str(enum nat_filtering f)
{
	return filt_names[f];
}
const char *nat_icmp_te_str(enum nat_icmp_te v)
{
	return icmp_te_names[v];
}

#define PARSER(fn, type, names)                                                                    \
	int fn(const char *s, type *out)                                                           \
	{                                                                                          \
		long v =                                                                           \
		    registry_index(REGISTRY_ARRAY(names, sizeof(names) / sizeof(names[0])), s);    \
		if (v < 0)                                                                         \
			return -EINVAL;                                                            \
		*out = (type)v;                                                                    \
		return 0;                                                                          \
	}
PARSER(nat_mapping_parse, enum nat_mapping, mapping_names)
PARSER(nat_port_parse, enum nat_port, port_names)
PARSER(nat_unsolicited_parse, enum nat_unsolicited, unsol_names)
PARSER(nat_filtering_parse, enum nat_filtering, filt_names)
PARSER(nat_icmp_te_parse, enum nat_icmp_te, icmp_te_names)

static const char *ip4(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Which dynamic state a profile keeps in its table. */
static bool has_owners(const struct nat_profile *pr)
{
	return pr->hairpin || pr->filtering != NAT_FILT_APDF;
}
static bool has_bindings(const struct nat_profile *pr)
{
	return pr->mapping != NAT_MAP_APDM && pr->port != NAT_PORT_PRESERVE;
}

const char *nat_profile_unbuildable(const struct nat_profile *pr)
{
	if (pr->port == NAT_PORT_PRESERVE && pr->mapping != NAT_MAP_EIM)
		return "port_assignment \"preserve\" keeps the inside port towards every "
		       "destination, so the mapping is endpoint-independent: a dependent mapping "
		       "needs \"sequential\" or \"random\"";
	return NULL;
}

int nat_reset_sets(const struct nat_profile *pr, const char *names[NAT_RESET_SETS])
{
	int n = 0;
	if (has_owners(pr))
		names[n++] = NAT_OWNERS_MAP;
	if (has_bindings(pr))
		names[n++] = "bindings";
	if (pr->filtering == NAT_FILT_ADF)
		names[n++] = "contacted";
	if (pr->unsolicited == NAT_UNSOL_RFC5382)
		names[n++] = "answered";
	return n;
}

/* the key of a binding: the inside endpoint, and the destination address
 * when the mapping depends on it (at postrouting, before or after SNAT) */
static const char *binding_key(const struct nat_profile *pr, bool after_snat)
{
	if (pr->mapping == NAT_MAP_ADM)
		return after_snat ? "ct original ip saddr . ct original proto-src . ip daddr"
				  : "ip saddr . tcp sport . ip daddr";
	return after_snat ? "ct original ip saddr . ct original proto-src" : "ip saddr . tcp sport";
}

/* The dynamic maps and sets (see nat_ruleset). */
static void add_state(struct strbuf *sb, const struct nat_profile *pr)
{
	if (has_owners(pr))
		strbuf_addf(sb, "\tmap " NAT_OWNERS_MAP " { type inet_service : ipv4_addr . "
				"inet_service; flags dynamic,timeout; timeout 10m; }\n");
	if (has_bindings(pr)) {
		int life = pr->timeouts[NAT_TO_ESTABLISHED];
		strbuf_addf(sb,
			    "\tmap bindings { type ipv4_addr . inet_service%s : ipv4_addr . "
			    "inet_service; flags dynamic,timeout; timeout %ds; }\n",
			    pr->mapping == NAT_MAP_ADM ? " . ipv4_addr" : "",
			    life > 0 ? life : NAT_BINDING_DEFAULT_S);
	}
	if (pr->filtering == NAT_FILT_ADF)
		strbuf_addf(sb, "\tset contacted { type inet_service . ipv4_addr; flags "
				"dynamic,timeout; timeout 10m; }\n");
	if (pr->unsolicited == NAT_UNSOL_RFC5382)
		strbuf_addf(sb,
			    "\tset answered { type ipv4_addr . inet_service . inet_service; "
			    "flags dynamic,timeout; timeout %ds; }\n",
			    NAT_REQ4_HOLD_MS / 1000 + 4);
	if (pr->port_quota)
		strbuf_addf(sb, "\tset subscribers { type ipv4_addr; flags dynamic; }\n");
}

/* Destination NAT: hairpinning, and the filter's admitted inbound SYNs. */
static void add_prerouting(struct strbuf *sb, const struct nat_profile *pr,
			   const struct nat_site *site, const char *out)
{
	strbuf_addf(sb, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; "
			"policy accept;\n");
	if (pr->hairpin) {
		if (pr->port == NAT_PORT_PRESERVE)
			strbuf_addf(sb, "\t\tiifname @inside_ifs tcp flags & (syn | ack) == syn "
					"update @" NAT_OWNERS_MAP
					" { tcp sport : ip saddr . tcp sport }\n");
		strbuf_addf(sb,
			    "\t\tiifname @inside_ifs ip daddr %s "
			    "dnat ip to tcp dport map @" NAT_OWNERS_MAP "\n",
			    out);
	}
	if (pr->filtering != NAT_FILT_APDF)
		strbuf_addf(sb,
			    "\t\tiifname \"%s\" ip daddr %s tcp flags & (syn | ack) == syn %s"
			    "dnat ip to tcp dport map @" NAT_OWNERS_MAP "\n",
			    site->outside_if, out,
			    pr->filtering == NAT_FILT_ADF ? "tcp dport . ip saddr @contacted "
							  : "");
	strbuf_addf(sb, "\t}\n");
}

/* Source NAT: the hairpin's return path, the bindings, then the port
 * assignment (see nat_ruleset). */
static void add_postrouting(struct strbuf *sb, const struct nat_profile *pr,
			    const struct nat_site *site, const char *out)
{
	strbuf_addf(sb, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; "
			"policy accept;\n");
	if (pr->hairpin)
		strbuf_addf(sb,
			    "\t\tct status dnat ip saddr @inside_nets ip daddr @inside_nets "
			    "snat ip to %s\n",
			    out);
	if (has_bindings(pr))
		strbuf_addf(sb,
			    "\t\toifname \"%s\" ip saddr @inside_nets meta l4proto tcp "
			    "snat ip to %s map @bindings\n",
			    site->outside_if, binding_key(pr, false));
	switch (pr->port) {
	case NAT_PORT_PRESERVE:
		break;
	case NAT_PORT_SEQUENTIAL: {
		unsigned delta = pr->delta ? pr->delta : 1;
		unsigned n = ((unsigned)(pr->range_hi - pr->range_lo) + 1) / delta;
		if (n == 0)
			n = 1;
		strbuf_addf(sb,
			    "\t\toifname \"%s\" ip saddr @inside_nets meta l4proto tcp "
			    "snat ip to numgen inc mod %u map {",
			    site->outside_if, n);
		for (unsigned i = 0; i < n; i++)
			strbuf_addf(sb, "%s%u : %s . %u", i ? ", " : " ", i, out,
				    pr->range_lo + i * delta);
		strbuf_addf(sb, " }\n");
		break;
	}
	case NAT_PORT_RANDOM:
		strbuf_addf(sb,
			    "\t\toifname \"%s\" ip saddr @inside_nets meta l4proto tcp "
			    "snat ip to %s:%u-%u random\n",
			    site->outside_if, out, pr->range_lo, pr->range_hi);
		break;
	}
	/* everything else (and TCP under "preserve") keeps its port where it can */
	strbuf_addf(sb, "\t\toifname \"%s\" ip saddr @inside_nets snat ip to %s\n",
		    site->outside_if, out);
	strbuf_addf(sb, "\t}\n");
}

/* After source NAT, what the outbound packets teach the dynamic state. */
static void add_mappings(struct strbuf *sb, const struct nat_profile *pr)
{
	if (!has_owners(pr) && !has_bindings(pr) && pr->filtering != NAT_FILT_ADF &&
	    pr->unsolicited != NAT_UNSOL_RFC5382)
		return;
	strbuf_addf(sb, "\tchain mappings {\n\t\ttype filter hook postrouting priority srcnat + "
			"10; policy accept;\n");
	const char *syn_out = "ct status snat ct direction original tcp flags & (syn | ack) == syn";
	if (has_owners(pr))
		strbuf_addf(sb,
			    "\t\t%s update @" NAT_OWNERS_MAP " { tcp sport : ct original ip saddr "
			    ". ct original proto-src }\n",
			    syn_out);
	if (has_bindings(pr))
		strbuf_addf(sb, "\t\t%s update @bindings { %s : ip saddr . tcp sport }\n", syn_out,
			    binding_key(pr, true));
	if (pr->filtering == NAT_FILT_ADF)
		strbuf_addf(sb, "\t\tct status snat ct direction original meta l4proto tcp "
				"update @contacted { tcp sport . ip daddr }\n");
	if (pr->unsolicited == NAT_UNSOL_RFC5382)
		strbuf_addf(sb, "\t\t%s update @answered { ip daddr . tcp dport . tcp sport }\n",
			    syn_out);
	strbuf_addf(sb, "\t}\n");
}

/* The input hook: SYNs addressed to the NAT itself (see nat_ruleset). */
static void add_input(struct strbuf *sb, const struct nat_profile *pr, const struct nat_site *site,
		      const char *out)
{
	const char *oif = site->outside_if;

	if (pr->unsolicited == NAT_UNSOL_RST && !pr->hairpin)
		return;
	strbuf_addf(sb, "\tchain input {\n\t\ttype filter hook input priority filter; "
			"policy accept;\n");
	if (pr->unsolicited == NAT_UNSOL_DROP || pr->unsolicited == NAT_UNSOL_ICMP)
		strbuf_addf(
		    sb, "\t\tiifname \"%s\" ct state new tcp flags & (syn | ack) == syn %s\n", oif,
		    pr->unsolicited == NAT_UNSOL_DROP ? "drop"
						      : "reject with icmp type port-unreachable");
	/* REQ-4: the delay helper held the SYN and gave it back marked */
	if (pr->unsolicited == NAT_UNSOL_RFC5382)
		strbuf_addf(sb,
			    "\t\tiifname \"%s\" meta mark 0x%x ip saddr . tcp sport . tcp dport "
			    "@answered drop\n"
			    "\t\tiifname \"%s\" meta mark 0x%x reject with icmp type "
			    "port-unreachable\n",
			    oif, NAT_REQ4_MARK, oif, NAT_REQ4_MARK);
	/* a hairpin SYN for a port nobody inside owns yet is dropped, not
	 * answered: the RST's conntrack entry would hold the very tuple the
	 * other peer's hairpinned SYN needs a moment later */
	if (pr->hairpin)
		strbuf_addf(sb,
			    "\t\tiifname @inside_ifs ip daddr %s tcp flags & (syn | ack) == syn "
			    "drop\n",
			    out);
	strbuf_addf(sb, "\t}\n");
}

/* RFC 6888 REQ-4: at most port_quota TCP connections per inside address;
 * icmp_time_exceeded "drop" (see nat_ruleset). */
static void add_forward(struct strbuf *sb, const struct nat_profile *pr,
			const struct nat_site *site)
{
	static const char *const unsolicited[] = {
	    [NAT_UNSOL_RST] = "reject with tcp reset",
	    [NAT_UNSOL_DROP] = "drop",
	    [NAT_UNSOL_ICMP] = "reject with icmp type port-unreachable",
	    [NAT_UNSOL_RFC5382] = "drop",
	};
	if (!pr->port_quota && pr->icmp_te != NAT_ICMP_TE_DROP)
		return;
	strbuf_addf(sb, "\tchain forward {\n\t\ttype filter hook forward priority filter; "
			"policy accept;\n");
	if (pr->port_quota)
		strbuf_addf(sb,
			    "\t\tiifname @inside_ifs meta l4proto tcp ct state new add "
			    "@subscribers { ip saddr ct count over %u } drop\n",
			    pr->port_quota);
	if (pr->icmp_te == NAT_ICMP_TE_DROP)
		strbuf_addf(sb,
			    "\t\tiifname \"%s\" icmp type time-exceeded ct state related "
			    "ct mark set ct mark | 0x%x drop\n"
			    "\t\tiifname \"%s\" ct mark & 0x%x == 0x%x meta l4proto tcp %s\n"
			    "\t\tiifname \"%s\" ct mark & 0x%x == 0x%x drop\n",
			    site->outside_if, NAT_ICMP_TE_MARK, site->outside_if, NAT_ICMP_TE_MARK,
			    NAT_ICMP_TE_MARK, unsolicited[pr->unsolicited], site->outside_if,
			    NAT_ICMP_TE_MARK, NAT_ICMP_TE_MARK);
	strbuf_addf(sb, "\t}\n");
}

/*
 * Why each piece is there:
 * - Mapping. "preserve" is conntrack's own choice: the inside port while the
 *   tuple is free (endpoint-independent), else a random one. Sequential and
 *   random ports with a dependent-free mapping keep a binding map from the
 *   inside endpoint (and, address-dependent, the destination address) to
 *   the external endpoint: filled after source NAT from the conntrack
 *   original tuple, and looked up before the port assignment rule, which
 *   runs only for endpoints without a binding (a lookup that misses does
 *   not match).
 * - Filtering. Address-and-port-dependent is conntrack's own: only replies
 *   reach the inside. Endpoint-independent and address-dependent forward an
 *   inbound SYN through the owners map (external port -> inside endpoint);
 *   address-dependent only from an address in "contacted" (external port .
 *   destination address of every outbound packet). What the filter refuses
 *   reaches the NAT's input hook: the unsolicited-SYN treatment.
 * - Hairpinning: Linux does not hairpin dynamic mappings, so the owners map
 *   is also filled from every inside SYN in prerouting when ports are
 *   preserved, so that a SYN towards the NAT's own address, which never
 *   reaches postrouting, still claims its port. A packet from inside to the
 *   outside address is DNATed through the map, and its source rewritten to
 *   the outside address (masquerade would pick the inside address and the
 *   open fails with RST).
 * - Sequential ports: "snat to ADDR : numgen inc" writes the counter in host
 *   byte order (ports step by 256 on x86), so we generate an explicit map from
 *   counter to address . port.
 * - Unsolicited SYN: with "rst" nothing is needed (the NAT's own stack
 *   answers a SYN to a closed port); "drop" and "icmp" act in the input hook
 *   on the outside interface, where only unsolicited packets arrive (replies
 *   to mapped connections are forwarded, not delivered locally). "rfc5382"
 *   needs a packet held 6 s, which nft cannot do: an NFQUEUE rule of the
 *   lab's delay helper (lab.c) holds it and gives it back with a mark; the
 *   input hook then drops it if an outbound SYN of its connection left
 *   meanwhile ("answered"), else rejects it with ICMP port unreachable.
 * - Quota: a connlimit per inside address in the forward hook.
 * - icmp_time_exceeded "drop": conntrack gives an ICMP error the entry of
 *   the connection it quotes (RELATED), so "ct mark set" in the forward
 *   hook marks that very mapping; the ICMP is dropped (nothing is mapped
 *   for it any more), and every later inbound packet of a marked entry is
 *   treated as unsolicited: a RST from the NAT (reject), a drop, or ICMP
 *   port unreachable ("rfc5382": a drop, without the 6 s hold). Conntrack
 *   keeps the entry itself, which nft cannot delete; it only never
 *   forwards inbound again.
 */
char *nat_ruleset(const struct nat_profile *pr, const struct nat_site *site)
{
	struct strbuf sb = STRBUF_INIT;
	char out[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];

	ip4(site->outside_addr, out);
	strbuf_addf(&sb, "table " NAT_TABLE "\ndelete table " NAT_TABLE "\n");
	strbuf_addf(&sb, "table " NAT_TABLE " {\n");
	strbuf_addf(&sb, "\tset inside_nets { type ipv4_addr; flags interval; elements = { ");
	for (size_t i = 0; i < site->ninside; i++)
		strbuf_addf(&sb, "%s%s/%d", i ? ", " : "", ip4(site->inside_nets[i], net),
			    site->inside_plens[i]);
	strbuf_addf(&sb, " }; }\n");
	strbuf_addf(&sb, "\tset inside_ifs { type ifname; elements = { ");
	for (size_t i = 0; i < site->ninside; i++)
		strbuf_addf(&sb, "%s\"%s\"", i ? ", " : "", site->inside_ifs[i]);
	strbuf_addf(&sb, " }; }\n");
	add_state(&sb, pr);
	add_prerouting(&sb, pr, site, out);
	add_postrouting(&sb, pr, site, out);
	add_mappings(&sb, pr);
	add_input(&sb, pr, site, out);
	add_forward(&sb, pr, site);
	strbuf_addf(&sb, "}\n");
	if (sb.failed) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}
