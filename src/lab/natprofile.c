// SPDX-License-Identifier: MIT
#include "natprofile.h"
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

#define NO_TIMEOUTS                                                                                \
	{                                                                                          \
		-1, -1, -1, -1, -1, -1, -1, -1                                                     \
	}

const struct nat_preset nat_presets[] = {
    {"home-2009",
     "endpoint-independent mapping, source port preserved; the box's own stack "
     "answers an unsolicited SYN with RST (typical of 2009 home routers)",
     {"home-2009", NAT_MAP_EIM, NAT_PORT_PRESERVE, 1, 1024, 65535, NAT_UNSOL_RST, NAT_FILT_APDF,
      false, NO_TIMEOUTS}},
    {"rfc5382",
     "endpoint-independent mapping, source port preserved; an unsolicited SYN is "
     "dropped silently (RFC 5382 REQ-4)",
     {"rfc5382", NAT_MAP_EIM, NAT_PORT_PRESERVE, 1, 1024, 65535, NAT_UNSOL_DROP, NAT_FILT_APDF,
      false, NO_TIMEOUTS}},
    {"sequential",
     "a new external port per connection, one more than the last (40000-41023, then wraps); "
     "unsolicited SYN answered with RST",
     {"sequential", NAT_MAP_APDM, NAT_PORT_SEQUENTIAL, 1, 40000, 41023, NAT_UNSOL_RST,
      NAT_FILT_APDF, false, NO_TIMEOUTS}},
    {"random",
     "a new random external port per connection (1024-65535); unsolicited SYN "
     "answered with RST",
     {"random", NAT_MAP_APDM, NAT_PORT_RANDOM, 1, 1024, 65535, NAT_UNSOL_RST, NAT_FILT_APDF, false,
      NO_TIMEOUTS}},
};
const size_t nat_presets_count = sizeof(nat_presets) / sizeof(nat_presets[0]);

const struct nat_preset *nat_preset_by_name(const char *name)
{
	for (size_t i = 0; i < nat_presets_count; i++)
		if (!strcmp(nat_presets[i].name, name))
			return &nat_presets[i];
	return NULL;
}

const char *nat_preset_names(void)
{
	static char buf[256];

	if (!buf[0]) {
		size_t n = 0;
		for (size_t i = 0; i < nat_presets_count; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "",
					      nat_presets[i].name);
	}
	return buf;
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

static int parse_enum(const char *s, const char *const *names, size_t n, int *out)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, names[i])) {
			*out = (int)i;
			return 0;
		}
	return -EINVAL;
}

#define PARSER(fn, type, names)                                                                    \
	int fn(const char *s, type *out)                                                           \
	{                                                                                          \
		int v;                                                                             \
		if (parse_enum(s, names, sizeof(names) / sizeof(names[0]), &v) < 0)                \
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
	strbuf_addf(&sb, "table ip punchlab_nat\ndelete table ip punchlab_nat\n");
	strbuf_addf(&sb, "table ip punchlab_nat {\n");
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
		strbuf_addf(&sb, "\tmap owners { type inet_service : ipv4_addr . inet_service; "
				 "flags dynamic,timeout; timeout 10m; }\n");

	strbuf_addf(&sb, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; "
			 "policy accept;\n");
	if (pr->hairpin) {
		if (pr->port == NAT_PORT_PRESERVE)
			strbuf_addf(&sb, "\t\tiifname @inside_ifs tcp flags & (syn | ack) == syn "
					 "update @owners { tcp sport : ip saddr . tcp sport }\n");
		strbuf_addf(&sb,
			    "\t\tiifname @inside_ifs ip daddr %s "
			    "dnat ip to tcp dport map @owners\n",
			    out);
	}
	strbuf_addf(&sb, "\t}\n");

	strbuf_addf(&sb, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; "
			 "policy accept;\n");
	if (pr->hairpin)
		strbuf_addf(&sb,
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
		strbuf_addf(&sb,
			    "\t\toifname \"%s\" ip saddr @inside_nets meta l4proto tcp "
			    "snat ip to numgen inc mod %u map {",
			    site->outside_if, n);
		for (unsigned i = 0; i < n; i++)
			strbuf_addf(&sb, "%s%u : %s . %u", i ? ", " : " ", i, out,
				    pr->range_lo + i * delta);
		strbuf_addf(&sb, " }\n");
		break;
	}
	case NAT_PORT_RANDOM:
		strbuf_addf(&sb,
			    "\t\toifname \"%s\" ip saddr @inside_nets meta l4proto tcp "
			    "snat ip to %s:%u-%u random\n",
			    site->outside_if, out, pr->range_lo, pr->range_hi);
		break;
	}
	/* everything else (and TCP under "preserve") keeps its port where it can */
	strbuf_addf(&sb, "\t\toifname \"%s\" ip saddr @inside_nets snat ip to %s\n",
		    site->outside_if, out);
	strbuf_addf(&sb, "\t}\n");

	if (pr->hairpin)
		strbuf_addf(&sb, "\tchain mappings {\n\t\ttype filter hook postrouting priority "
				 "srcnat + 10; policy accept;\n"
				 "\t\tct status snat tcp flags & (syn | ack) == syn "
				 "update @owners { tcp sport : ct original ip saddr . "
				 "ct original proto-src }\n\t}\n");

	if (pr->unsolicited != NAT_UNSOL_RST || pr->hairpin) {
		strbuf_addf(&sb, "\tchain input {\n\t\ttype filter hook input priority filter; "
				 "policy accept;\n");
		if (pr->unsolicited != NAT_UNSOL_RST)
			strbuf_addf(
			    &sb,
			    "\t\tiifname \"%s\" ct state new tcp flags & (syn | ack) == syn %s\n",
			    site->outside_if,
			    pr->unsolicited == NAT_UNSOL_DROP
				? "drop"
				: "reject with icmp type admin-prohibited");
		/* a hairpin SYN for a port nobody inside owns yet is dropped, not
		 * answered: the RST's conntrack entry would hold the very tuple the
		 * other peer's hairpinned SYN needs a moment later */
		if (pr->hairpin)
			strbuf_addf(
			    &sb,
			    "\t\tiifname @inside_ifs ip daddr %s tcp flags & (syn | ack) == syn "
			    "drop\n",
			    out);
		strbuf_addf(&sb, "\t}\n");
	}
	strbuf_addf(&sb, "}\n");
	if (sb.failed) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}
