// SPDX-License-Identifier: MIT
#include "natprofile.h"
#include "util/registry.h"
#include "util/strbuf.h"
#include <arpa/inet.h>
#include <errno.h>
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

/* The registry: one entry per preset, in the order error messages list them. */
const struct nat_preset nat_presets[] = {
    {
	.profile =
	    {
		.name = "home-2009",
		.mapping = NAT_MAP_EIM,
		.port = NAT_PORT_PRESERVE,
		.delta = 1,
		.range_lo = 1024,
		.range_hi = 65535,
		.unsolicited = NAT_UNSOL_RST,
		.filtering = NAT_FILT_APDF,
		.hairpin = false,
		.timeouts = NO_TIMEOUTS,
	    },
	.help = "endpoint-independent mapping, source port preserved; the box's own stack "
		"answers an unsolicited SYN with RST (typical of 2009 home routers)",
    },
    {
	.profile =
	    {
		.name = "rfc5382",
		.mapping = NAT_MAP_EIM,
		.port = NAT_PORT_PRESERVE,
		.delta = 1,
		.range_lo = 1024,
		.range_hi = 65535,
		.unsolicited = NAT_UNSOL_DROP,
		.filtering = NAT_FILT_APDF,
		.hairpin = false,
		.timeouts = NO_TIMEOUTS,
	    },
	.help = "endpoint-independent mapping, source port preserved; an unsolicited SYN is "
		"dropped silently (RFC 5382 REQ-4)",
    },
    {
	.profile =
	    {
		.name = "sequential",
		.mapping = NAT_MAP_APDM,
		.port = NAT_PORT_SEQUENTIAL,
		.delta = 1,
		.range_lo = 40000,
		.range_hi = 41023,
		.unsolicited = NAT_UNSOL_RST,
		.filtering = NAT_FILT_APDF,
		.hairpin = false,
		.timeouts = NO_TIMEOUTS,
	    },
	.help = "a new external port per connection, one more than the last (40000-41023, "
		"then wraps); unsolicited SYN answered with RST",
    },
    {
	.profile =
	    {
		.name = "random",
		.mapping = NAT_MAP_APDM,
		.port = NAT_PORT_RANDOM,
		.delta = 1,
		.range_lo = 1024,
		.range_hi = 65535,
		.unsolicited = NAT_UNSOL_RST,
		.filtering = NAT_FILT_APDF,
		.hairpin = false,
		.timeouts = NO_TIMEOUTS,
	    },
	.help = "a new random external port per connection (1024-65535); unsolicited SYN "
		"answered with RST",
    },
};
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

static const char *const mapping_names[] = {"endpoint-independent", "address-and-port-dependent"};
static const char *const port_names[] = {"preserve", "sequential", "random"};
static const char *const unsol_names[] = {"rst", "drop", "icmp"};
static const char *const filt_names[] = {"address-and-port-dependent", "address-dependent",
					 "endpoint-independent"};

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

static const char *ip4(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Source NAT: the hairpin's return path, then the port assignment (see
 * nat_ruleset). */
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

/* The input hook: SYNs addressed to the NAT itself (see nat_ruleset). */
static void add_input(struct strbuf *sb, const struct nat_profile *pr, const struct nat_site *site,
		      const char *out)
{
	strbuf_addf(sb, "\tchain input {\n\t\ttype filter hook input priority filter; "
			"policy accept;\n");
	if (pr->unsolicited != NAT_UNSOL_RST)
		strbuf_addf(
		    sb, "\t\tiifname \"%s\" ct state new tcp flags & (syn | ack) == syn %s\n",
		    site->outside_if,
		    pr->unsolicited == NAT_UNSOL_DROP ? "drop"
						      : "reject with icmp type admin-prohibited");
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

/*
 * Why each piece is there:
 * - Hairpinning: Linux does not hairpin dynamic mappings, so we keep our own
 *   map from external port to inside endpoint. It is filled after source NAT
 *   (postrouting, priority srcnat + 10, where the packet already carries the
 *   external port) from the conntrack original tuple, which works for every
 *   port assignment; a port-preserving NAT also fills it from every inside SYN
 *   in prerouting, so that a SYN towards the NAT's own address, which never
 *   reaches postrouting, still claims its port. A packet from inside to the
 *   outside address is DNATed through the map, and its source rewritten to the
 *   outside address (masquerade would pick the inside address and the open
 *   fails with RST).
 * - Sequential ports: "snat to ADDR : numgen inc" writes the counter in host
 *   byte order (ports step by 256 on x86), so we generate an explicit map from
 *   counter to address . port.
 * - Unsolicited SYN: with "rst" nothing is needed (the NAT's own stack
 *   answers a SYN to a closed port); "drop" and "icmp" act in the input hook
 *   on the outside interface, where only unsolicited packets arrive (replies
 *   to mapped connections are forwarded, not delivered locally).
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
	if (pr->hairpin)
		strbuf_addf(&sb, "\tmap " NAT_OWNERS_MAP " { type inet_service : ipv4_addr . inet_service; "
				 "flags dynamic,timeout; timeout 10m; }\n");

	strbuf_addf(&sb, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; "
			 "policy accept;\n");
	if (pr->hairpin) {
		if (pr->port == NAT_PORT_PRESERVE)
			strbuf_addf(&sb, "\t\tiifname @inside_ifs tcp flags & (syn | ack) == syn "
					 "update @" NAT_OWNERS_MAP " { tcp sport : ip saddr . tcp sport }\n");
		strbuf_addf(&sb,
			    "\t\tiifname @inside_ifs ip daddr %s "
			    "dnat ip to tcp dport map @" NAT_OWNERS_MAP "\n",
			    out);
	}
	strbuf_addf(&sb, "\t}\n");

	add_postrouting(&sb, pr, site, out);

	if (pr->hairpin)
		strbuf_addf(&sb, "\tchain mappings {\n\t\ttype filter hook postrouting priority "
				 "srcnat + 10; policy accept;\n"
				 "\t\tct status snat tcp flags & (syn | ack) == syn "
				 "update @" NAT_OWNERS_MAP " { tcp sport : ct original ip saddr . "
				 "ct original proto-src }\n\t}\n");

	if (pr->unsolicited != NAT_UNSOL_RST || pr->hairpin)
		add_input(&sb, pr, site, out);
	strbuf_addf(&sb, "}\n");
	if (sb.failed) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}
