// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lab/natprofile.h"

/* PR's ruleset on nat-a of two-nats.json (outside 198.18.0.2, lan-a inside) */
static char *ruleset_of(const struct nat_profile *pr)
{
	const char *ifs[] = {"lan-a"};
	uint32_t nets[] = {inet_addr("198.19.1.0")};
	int plens[] = {24};
	struct nat_site site = {"internet", inet_addr("198.18.0.2"), 1, ifs, nets, plens};
	char *rs = nat_ruleset(pr, &site);
	cr_assert_not_null(rs);
	return rs;
}

static char *ruleset_for(const char *preset, bool hairpin)
{
	const struct nat_preset *p = nat_preset_by_name(preset);
	cr_assert_not_null(p);
	struct nat_profile pr = p->profile;
	pr.hairpin = hairpin;
	return ruleset_of(&pr);
}

Test(natprofile, presets_exist)
{
	/* the shipped presets in this order; a new one may go anywhere */
	static const char *const shipped[] = {
	    "home-2009",	"rfc5382",	   "full-cone",
	    "restricted-cone",	"port-restricted", "symmetric-sequential",
	    "symmetric-random", "cgnat",	   "linux-masquerade",
	    "sequential",	"random"};
	size_t k = 0, n = sizeof(shipped) / sizeof(shipped[0]);
	for (size_t i = 0; i < nat_presets_count && k < n; i++)
		k += !strcmp(nat_presets[i].profile.name, shipped[k]);
	cr_assert_eq(k, n, "not the shipped presets in order: %s", nat_preset_names());
	cr_assert_null(nat_preset_by_name("fullcone"));
	cr_assert_eq(nat_preset_by_name("home-2009")->profile.unsolicited, NAT_UNSOL_RST);
	cr_assert_eq(nat_preset_by_name("rfc5382")->profile.unsolicited, NAT_UNSOL_RFC5382);
	cr_assert_eq(nat_preset_by_name("rfc5382")->profile.filtering, NAT_FILT_EIF);
	cr_assert(nat_preset_by_name("rfc5382")->profile.hairpin);
	cr_assert_geq(nat_preset_by_name("rfc5382")->profile.timeouts[NAT_TO_SYN_SENT], 240);
	cr_assert_geq(nat_preset_by_name("rfc5382")->profile.timeouts[NAT_TO_ESTABLISHED], 7440);
	/* the old names load as what they were */
	cr_assert_str_eq(nat_preset_by_name("sequential")->alias_of, "symmetric-sequential");
	/* every preset can be built, and every non-alias says which requirements it meets */
	for (size_t i = 0; i < nat_presets_count; i++) {
		cr_assert_null(nat_profile_unbuildable(&nat_presets[i].profile), "%s",
			       nat_presets[i].profile.name);
		cr_assert(nat_presets[i].alias_of || nat_presets[i].meets, "%s",
			  nat_presets[i].profile.name);
	}
	cr_assert_eq(nat_preset_by_name("sequential")->profile.port, NAT_PORT_SEQUENTIAL);
	cr_assert_eq(nat_preset_by_name("random")->profile.port, NAT_PORT_RANDOM);
}

Test(natprofile, home_2009_preserves_and_lets_the_stack_answer)
{
	char *rs = ruleset_for("home-2009", false);
	cr_assert(strstr(rs, "oifname \"internet\" ip saddr @inside_nets snat ip to 198.18.0.2\n"));
	cr_assert_null(strstr(rs, "drop"));
	cr_assert_null(strstr(rs, "owners"));
	/* the first statements make re-applying atomic */
	cr_assert(!strncmp(rs, "table ip punchlab_nat\ndelete table ip punchlab_nat\n", 50));
	free(rs);
}

Test(natprofile, rfc5382_holds_an_unsolicited_syn_then_drops_or_rejects_it)
{
	char *rs = ruleset_for("rfc5382", false);
	/* the delay helper gives the SYN back marked (lab.c); then REQ-4 decides */
	cr_assert(strstr(rs,
			 "iifname \"internet\" meta mark 0x5382 ip saddr . tcp sport . tcp dport "
			 "@answered drop\n"));
	cr_assert(strstr(rs, "iifname \"internet\" meta mark 0x5382 reject with icmp type "
			     "port-unreachable\n"));
	cr_assert(strstr(rs, "update @answered { ip daddr . tcp dport . tcp sport }"));
	/* nothing answers it at once */
	cr_assert_null(strstr(rs, "ct state new tcp flags & (syn | ack) == syn drop"));
	free(rs);
}

Test(natprofile, filtering_admits_through_the_owners_map)
{
	char *rs = ruleset_for("full-cone", false);
	cr_assert(strstr(rs, "iifname \"internet\" ip daddr 198.18.0.2 tcp flags & (syn | ack) == "
			     "syn dnat ip to tcp dport map @owners"));
	cr_assert_null(strstr(rs, "@contacted"));
	free(rs);
	rs = ruleset_for("restricted-cone", false);
	cr_assert(
	    strstr(rs, "syn tcp dport . ip saddr @contacted dnat ip to tcp dport map @owners"));
	cr_assert(strstr(rs, "update @contacted { tcp sport . ip daddr }"));
	free(rs);
	/* conntrack's own filtering needs no map */
	rs = ruleset_for("port-restricted", false);
	cr_assert_null(strstr(rs, "owners"));
	free(rs);
}

Test(natprofile, dependent_free_mappings_of_new_ports_keep_bindings)
{
	struct nat_profile pr = nat_preset_by_name("full-cone")->profile;
	const char *ifs[] = {"lan-a"};
	uint32_t nets[] = {inet_addr("198.19.1.0")};
	int plens[] = {24};
	struct nat_site site = {"internet", inet_addr("198.18.0.2"), 1, ifs, nets, plens};
	pr.port = NAT_PORT_RANDOM;
	char *rs = nat_ruleset(&pr, &site);
	cr_assert(strstr(rs, "map bindings { type ipv4_addr . inet_service : ipv4_addr . "
			     "inet_service; flags dynamic,timeout; timeout 7440s; }"));
	/* looked up before the port assignment, learnt after SNAT */
	char *lookup = strstr(rs, "snat ip to ip saddr . tcp sport map @bindings");
	cr_assert(lookup && lookup < strstr(rs, ":1024-65535 random"));
	cr_assert(strstr(rs, "update @bindings { ct original ip saddr . ct original proto-src : "
			     "ip saddr . tcp sport }"));
	free(rs);
	pr.mapping = NAT_MAP_ADM;
	rs = nat_ruleset(&pr, &site);
	cr_assert(strstr(rs, "snat ip to ip saddr . tcp sport . ip daddr map @bindings"));
	cr_assert(strstr(rs, "type ipv4_addr . inet_service . ipv4_addr : ipv4_addr"));
	free(rs);
	/* preserve is conntrack's own mapping: no bindings, and no dependent mapping */
	pr.port = NAT_PORT_PRESERVE;
	cr_assert_not_null(nat_profile_unbuildable(&pr));
	pr.mapping = NAT_MAP_EIM;
	cr_assert_null(nat_profile_unbuildable(&pr));
	rs = nat_ruleset(&pr, &site);
	cr_assert_null(strstr(rs, "bindings"));
	free(rs);
}

Test(natprofile, cgnat_limits_connections_per_subscriber)
{
	char *rs = ruleset_for("cgnat", false);
	cr_assert(strstr(rs, "add @subscribers { ip saddr ct count over 1024 } drop"));
	free(rs);
}

static char *joined(const struct nat_profile *pr)
{
	static char buf[128];
	const char *names[NAT_RESET_SETS];
	int n = nat_reset_sets(pr, names);
	buf[0] = 0;
	for (int i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "",
			 names[i]);
	return buf;
}

Test(natprofile, a_reset_empties_every_dynamic_map_and_set)
{
	cr_assert_str_eq(joined(&nat_preset_by_name("home-2009")->profile), "");
	cr_assert_str_eq(joined(&nat_preset_by_name("rfc5382")->profile), "owners answered");
	struct nat_profile pr = nat_preset_by_name("restricted-cone")->profile;
	pr.port = NAT_PORT_RANDOM;
	cr_assert_str_eq(joined(&pr), "owners bindings contacted");
	pr.unsolicited = NAT_UNSOL_RFC5382;
	cr_assert_str_eq(joined(&pr), "owners bindings contacted answered");
	/* every set named is one the ruleset declares */
	pr.hairpin = true;
	char *rs = ruleset_of(&pr);
	const char *names[NAT_RESET_SETS];
	for (int i = 0, n = nat_reset_sets(&pr, names); i < n; i++) {
		char decl[64]; /* owners and bindings are maps, the others sets */
		snprintf(decl, sizeof(decl), "%s %s {", i < 2 ? "map" : "set", names[i]);
		cr_assert(strstr(rs, decl), "%s is not declared as \"%s\"", names[i], decl);
	}
	free(rs);
}

Test(natprofile, sequential_uses_a_generated_map_not_numgen_into_the_port)
{
	char *rs = ruleset_for("sequential", false);
	/* numgen straight into the port is written in host byte order: never do that */
	cr_assert_null(strstr(rs, ": numgen"));
	cr_assert(
	    strstr(rs, "0 : 198.18.0.2 . 40000, 1 : 198.18.0.2 . 40001, 2 : 198.18.0.2 . 40002"));
	cr_assert(strstr(rs, "1023 : 198.18.0.2 . 41023 }"));
	cr_assert(strstr(rs, "snat ip to numgen inc mod 1024 map { 0 : 198.18.0.2 . 40000,"));
	free(rs);
}

Test(natprofile, random_is_fully_random)
{
	char *rs = ruleset_for("random", false);
	cr_assert(strstr(rs, "snat ip to 198.18.0.2:1024-65535 random"));
	free(rs);
}

Test(natprofile, hairpin_adds_the_owner_map_and_the_lan_snat)
{
	char *rs = ruleset_for("home-2009", true);
	cr_assert(strstr(rs, "update @owners { tcp sport : ip saddr . tcp sport }"));
	cr_assert(strstr(rs, "ip daddr 198.18.0.2 dnat ip to tcp dport map @owners"));
	cr_assert(strstr(
	    rs,
	    "ct status dnat ip saddr @inside_nets ip daddr @inside_nets snat ip to 198.18.0.2"));
	cr_assert(strstr(
	    rs, "update @owners { tcp sport : ct original ip saddr . ct original proto-src }"));
	free(rs);
	rs = ruleset_for("random", true);
	/* a non-preserving NAT may not guess owners from the inside port */
	cr_assert_null(strstr(rs, "ip saddr . tcp sport }"));
	free(rs);
}

Test(natprofile, enum_strings_round_trip)
{
	enum nat_port p;
	enum nat_unsolicited u;
	cr_assert_eq(nat_port_parse("sequential", &p), 0);
	cr_assert_eq(p, NAT_PORT_SEQUENTIAL);
	cr_assert_str_eq(nat_port_str(p), "sequential");
	cr_assert_lt(nat_unsolicited_parse("reset", &u), 0);
	cr_assert_eq(nat_unsolicited_parse("rfc5382", &u), 0);
	cr_assert_eq(u, NAT_UNSOL_RFC5382);
	enum nat_mapping m;
	cr_assert_eq(nat_mapping_parse("address-dependent", &m), 0);
	cr_assert_str_eq(nat_mapping_str(m), "address-dependent");
}

/* icmp_time_exceeded: "keep" (every preset) adds nothing; "drop" marks the
 * mapping an inbound time-exceeded quotes, drops the ICMP, and treats the
 * marked mapping's later inbound packets as the profile's unsolicited SYNs */
Test(natprofile, icmp_time_exceeded_drop_marks_the_mapping)
{
	for (size_t i = 0; i < nat_presets_count; i++)
		cr_assert_eq(nat_presets[i].profile.icmp_te, NAT_ICMP_TE_KEEP, "%s",
			     nat_presets[i].profile.name);
	char *rs = ruleset_for("home-2009", false);
	cr_assert_null(strstr(rs, "time-exceeded"));
	free(rs);
	static const struct {
		enum nat_unsolicited u;
		const char *verdict;
	} cases[] = {
	    {NAT_UNSOL_RST, "meta l4proto tcp reject with tcp reset\n"},
	    {NAT_UNSOL_DROP, "meta l4proto tcp drop\n"},
	    {NAT_UNSOL_ICMP, "meta l4proto tcp reject with icmp type port-unreachable\n"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct nat_profile pr = nat_preset_by_name("home-2009")->profile;
		pr.icmp_te = NAT_ICMP_TE_DROP;
		pr.unsolicited = cases[k].u;
		const char *ifs[] = {"lan-a"};
		uint32_t nets[] = {inet_addr("198.19.1.0")};
		int plens[] = {24};
		struct nat_site site = {"wan-a", inet_addr("198.18.1.2"), 1, ifs, nets, plens};
		rs = nat_ruleset(&pr, &site);
		cr_assert_not_null(rs);
		cr_assert(strstr(rs, "iifname \"wan-a\" icmp type time-exceeded ct state related "
				     "ct mark set ct mark | 0x7e1 drop\n"),
			  "%s", rs);
		cr_assert(strstr(rs, "iifname \"wan-a\" ct mark & 0x7e1 == 0x7e1 "), "%s", rs);
		cr_assert(strstr(rs, cases[k].verdict), "%s", rs);
		free(rs);
	}
	enum nat_icmp_te v;
	cr_assert_eq(nat_icmp_te_parse("drop", &v), 0);
	cr_assert_str_eq(nat_icmp_te_str(v), "drop");
	cr_assert_lt(nat_icmp_te_parse("forget", &v), 0);
}
