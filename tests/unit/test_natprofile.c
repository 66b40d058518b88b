// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "lab/natprofile.h"

static char *ruleset_for(const char *preset, bool hairpin)
{
	const struct nat_preset *p = nat_preset_by_name(preset);
	cr_assert_not_null(p);
	struct nat_profile pr = p->profile;
	pr.hairpin = hairpin;
	const char *ifs[] = {"lan-a"};
	uint32_t nets[] = {inet_addr("198.19.1.0")};
	int plens[] = {24};
	struct nat_site site = {"internet", inet_addr("198.18.0.2"), 1, ifs, nets, plens};
	char *rs = nat_ruleset(&pr, &site);
	cr_assert_not_null(rs);
	return rs;
}

Test(natprofile, presets_exist)
{
	/* the shipped presets in this order; a new one may go anywhere */
	static const char *const shipped[] = {"home-2009", "rfc5382", "sequential", "random"};
	size_t k = 0, n = sizeof(shipped) / sizeof(shipped[0]);
	for (size_t i = 0; i < nat_presets_count && k < n; i++)
		k += !strcmp(nat_presets[i].profile.name, shipped[k]);
	cr_assert_eq(k, n, "not the shipped presets in order: %s", nat_preset_names());
	cr_assert_null(nat_preset_by_name("fullcone"));
	cr_assert_eq(nat_preset_by_name("home-2009")->profile.unsolicited, NAT_UNSOL_RST);
	cr_assert_eq(nat_preset_by_name("rfc5382")->profile.unsolicited, NAT_UNSOL_DROP);
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

Test(natprofile, rfc5382_drops_unsolicited_syn_on_the_outside)
{
	char *rs = ruleset_for("rfc5382", false);
	cr_assert(
	    strstr(rs, "iifname \"internet\" ct state new tcp flags & (syn | ack) == syn drop"));
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
}
