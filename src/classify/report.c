// SPDX-License-Identifier: MIT
/* cv_report: the verdicts and their evidence as one JSON object. */
#include "verdict.h"
#include <arpa/inet.h>
#include <stdio.h>

static json_t *ep_json(const struct sockaddr_in *sa)
{
	char b[24];
	return json_string(cl_ep_str(sa, b, sizeof(b)));
}

static json_t *probe_json(const struct cv_probe *p)
{
	json_t *j = json_pack("{s:i, s:o}", "local_port", p->local_port, "to", ep_json(&p->to));
	if (p->ok)
		json_object_set_new(j, "seen", ep_json(&p->ext));
	else
		json_object_set_new(j, "error", json_string(p->why[0] ? p->why : "no reply"));
	return j;
}

static json_t *outcome_json(const struct cv_outcome *c)
{
	json_t *j = json_pack("{s:o, s:b}", "from", ep_json(&c->from), "arrived", c->arrived);
	if (!c->answered) {
		json_object_set_new(j, "server", json_string("no report"));
		return j;
	}
	json_object_set_new(j, "to", ep_json(&c->to));
	json_object_set_new(j, "result", json_string(cl_result_name(c->result)));
	json_object_set_new(j, "ms", json_integer(c->ms));
	if (c->err[0])
		json_object_set_new(j, "errno", json_string(c->err));
	if (c->icmp_type >= 0) {
		json_object_set_new(j, "icmp_type", json_integer(c->icmp_type));
		json_object_set_new(j, "icmp_code", json_integer(c->icmp_code));
	}
	if (c->icmp_from) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &c->icmp_from, a, sizeof(a));
		json_object_set_new(j, "icmp_from", json_string(a));
	}
	return j;
}

/* the evidence object of one field, with its reason */
static json_t *evidence(const char *why)
{
	return json_pack("{s:s}", "why", why);
}

static void add_mapping(json_t *top, json_t *obs, const struct cv_obs *o)
{
	char why[CV_WHY];
	enum cv_mapping v = cv_mapping(&o->mapping, why);
	json_t *e = evidence(why), *a = json_array();

	for (int i = 0; i < CL_NENDPOINTS; i++)
		json_array_append_new(a, probe_json(&o->mapping.p[i]));
	json_object_set_new(e, "probes", a);
	json_object_set_new(top, "mapping", json_string(cv_mapping_name(v)));
	json_object_set_new(obs, "mapping", e);
}

static void add_filtering(json_t *top, json_t *obs, const struct cv_obs *o)
{
	char why[CV_WHY];
	enum cv_filtering v = cv_filtering(&o->filtering, why);
	json_t *e = evidence(why), *a = json_array();

	json_object_set_new(e, "base", probe_json(&o->filtering.base));
	for (int i = 0; i < 3; i++)
		if (o->filtering.o[i].asked)
			json_array_append_new(a, outcome_json(&o->filtering.o[i]));
	json_object_set_new(e, "attempts", a);
	json_object_set_new(top, "filtering", json_string(cv_filtering_name(v)));
	json_object_set_new(obs, "filtering", e);
}

static void add_port(json_t *top, json_t *obs, const struct cv_obs *o)
{
	char why[CV_WHY];
	int delta, lo = 65536, hi = -1;
	enum cv_port v = cv_port(&o->port, &delta, why);
	json_t *e = evidence(why), *loc = json_array(), *ext = json_array();

	for (int i = 0; i < o->port.n && i < CV_MAX_PORTS; i++) {
		const struct cv_probe *p = &o->port.p[i];
		int x = p->ok ? ntohs(p->ext.sin_port) : -1;
		json_array_append_new(loc, json_integer(p->local_port));
		json_array_append_new(ext, x < 0 ? json_null() : json_integer(x));
		if (x >= 0 && x < lo)
			lo = x;
		if (x > hi)
			hi = x;
	}
	json_object_set_new(e, "local", loc);
	json_object_set_new(e, "external", ext);
	/* an observation only: the ports a few connections got, not the NAT's range */
	if (hi >= 0)
		json_object_set_new(e, "range", json_pack("[i, i]", lo, hi));
	json_object_set_new(top, "port_assignment", json_string(cv_port_name(v)));
	if (v == CV_PORT_SEQUENTIAL)
		json_object_set_new(top, "delta", json_integer(delta));
	json_object_set_new(obs, "port_assignment", e);
}

static void add_unsol(json_t *top, json_t *obs, const struct cv_obs *o)
{
	char why[CV_WHY];
	enum cv_unsol v = cv_unsol(&o->unsol, why);
	json_t *e = evidence(why);

	json_object_set_new(e, "port", json_integer(o->unsol.port));
	if (o->unsol.o.asked)
		json_object_set_new(e, "attempt", outcome_json(&o->unsol.o));
	json_object_set_new(top, "unsolicited_syn", json_string(cv_unsol_name(v)));
	json_object_set_new(obs, "unsolicited_syn", e);
}

static void add_hairpin(json_t *top, json_t *obs, const struct cv_obs *o)
{
	char why[CV_WHY];
	enum cv_hairpin v = cv_hairpin(&o->hairpin, why);
	json_t *e = evidence(why);

	json_object_set_new(e, "base", probe_json(&o->hairpin.base));
	json_object_set_new(e, "connected", json_boolean(o->hairpin.connected));
	json_object_set_new(e, "accepted", json_boolean(o->hairpin.accepted));
	json_object_set_new(top, "hairpin",
			    v == CV_HP_UNKNOWN ? json_string("unknown")
					       : json_boolean(v == CV_HP_TRUE));
	json_object_set_new(obs, "hairpin", e);
}

static json_t *life_json(const struct cv_life_obs *l, json_t *verdicts, const char *key)
{
	char why[CV_WHY];
	struct cv_life r = cv_life(l, why);
	json_t *e = evidence(why), *h = json_array();

	for (int i = 0; i < l->n && i < CV_MAX_HOLDS; i++)
		json_array_append_new(
		    h, json_pack("{s:i, s:o}", "idle_s", l->hold_s[i], "alive",
				 l->alive[i] < 0 ? json_null() : json_boolean(l->alive[i])));
	json_object_set_new(e, "holds", h);
	if (r.lo_s >= 0)
		json_object_set_new(e, "alive_after_s", json_integer(r.lo_s));
	if (r.hi_s >= 0)
		json_object_set_new(e, "gone_after_s", json_integer(r.hi_s));
	json_object_set_new(verdicts, key,
			    r.known ? json_integer(r.seconds) : json_string("unknown"));
	return e;
}

json_t *cv_report(const struct cv_obs *o)
{
	json_t *top = json_object(), *obs = json_object();

	if (o->welcomed) {
		json_t *eps = json_array();
		for (int i = 0; i < CL_NENDPOINTS; i++)
			json_array_append_new(eps, ep_json(&o->ep[i]));
		json_object_set_new(obs, "server",
				    json_pack("{s:o, s:o, s:o}", "control", ep_json(&o->server),
					      "endpoints", eps, "you", ep_json(&o->you)));
		if (o->sink.sin_port)
			json_object_set_new(json_object_get(obs, "server"), "sink",
					    ep_json(&o->sink));
		if (o->lost[0])
			json_object_set_new(json_object_get(obs, "server"), "lost",
					    json_string(o->lost));
	} else {
		json_object_set_new(
		    obs, "server",
		    json_pack("{s:o, s:s}", "control", ep_json(&o->server), "why", o->why));
	}
	add_mapping(top, obs, o);
	add_filtering(top, obs, o);
	add_port(top, obs, o);
	add_unsol(top, obs, o);
	add_hairpin(top, obs, o);
	if (o->lng) {
		json_t *t = json_object(), *e = json_object();
		json_object_set_new(e, "syn_sent", life_json(&o->syn_sent, t, "syn_sent"));
		json_object_set_new(e, "established", life_json(&o->established, t, "established"));
		json_object_set_new(e, "budget_s", json_integer(o->long_budget_s));
		json_object_set_new(top, "timeouts", t);
		json_object_set_new(obs, "timeouts", e);
	}
	json_object_set_new(obs, "elapsed_ms", json_integer(o->elapsed_ms));
	json_object_set_new(top, "observations", obs);
	return top;
}
