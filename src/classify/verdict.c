// SPDX-License-Identifier: MIT
#include "verdict.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const char *cv_mapping_name(enum cv_mapping v)
{
	static const char *const n[] = {"unknown", "endpoint-independent", "address-dependent",
					"address-and-port-dependent"};
	return (unsigned)v < 4 ? n[v] : "unknown";
}

const char *cv_filtering_name(enum cv_filtering v)
{
	static const char *const n[] = {"unknown", "endpoint-independent", "address-dependent",
					"address-and-port-dependent"};
	return (unsigned)v < 4 ? n[v] : "unknown";
}

const char *cv_port_name(enum cv_port v)
{
	static const char *const n[] = {"unknown", "preserve", "sequential", "random"};
	return (unsigned)v < 4 ? n[v] : "unknown";
}

const char *cv_unsol_name(enum cv_unsol v)
{
	static const char *const n[] = {"unknown", "rst", "drop", "icmp", "rfc5382"};
	return (unsigned)v < 5 ? n[v] : "unknown";
}

static bool ep_eq(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static const char *const ep_label[CL_NENDPOINTS] = {"A1:P1", "A1:P2", "A2:P1", "A2:P2"};

/*
 * RFC 4787 section 4.1 (RFC 5382 REQ-1), tested as RFC 5780 section 4.3 does:
 * one local port to A1:P1, A1:P2 and A2:P1 (and A2:P2 when it answered).
 */
enum cv_mapping cv_mapping(const struct cv_mapping_obs *o, char *why)
{
	const struct cv_probe *p = o->p;
	char a[24], b[24];

	for (int i = 0; i < 3; i++)
		if (!p[i].ok) {
			snprintf(why, CV_WHY, "no mapping seen towards %s: %s", ep_label[i],
				 p[i].why[0] ? p[i].why : "no reply");
			return CV_MAP_UNKNOWN;
		}
	bool same_port = ep_eq(&p[0].ext, &p[1].ext); /* A1:P1 vs A1:P2 */
	bool same_addr = ep_eq(&p[0].ext, &p[2].ext); /* A1:P1 vs A2:P1 */
	bool a2 = p[3].ok, a2_same = a2 && ep_eq(&p[2].ext, &p[3].ext);
	if (same_port && same_addr && (!a2 || a2_same)) {
		snprintf(why, CV_WHY, "every destination saw %s",
			 cl_ep_str(&p[0].ext, a, sizeof(a)));
		return CV_MAP_EIM;
	}
	if (same_port && !same_addr && (!a2 || a2_same)) {
		snprintf(why, CV_WHY, "%s towards A1, %s towards A2",
			 cl_ep_str(&p[0].ext, a, sizeof(a)), cl_ep_str(&p[2].ext, b, sizeof(b)));
		return CV_MAP_ADM;
	}
	if (!same_port && (!a2 || !a2_same)) {
		snprintf(why, CV_WHY, "A1:P1 saw %s, A1:P2 saw %s",
			 cl_ep_str(&p[0].ext, a, sizeof(a)), cl_ep_str(&p[1].ext, b, sizeof(b)));
		return CV_MAP_APDM;
	}
	snprintf(why, CV_WHY,
		 "inconsistent: the mapping %s with the port towards A1 but %s towards A2",
		 same_port ? "kept" : "changed", a2_same ? "kept" : "changed");
	return CV_MAP_UNKNOWN;
}

/*
 * RFC 4787 section 5 (RFC 5382 REQ-3), RFC 5780 section 4.4 over TCP: the
 * mapping made towards A1:P1 is then connected to from A1:P2 (other port)
 * and A2:P1, A2:P2 (other address). What arrived at our listener decides;
 * the server's own report is the cross-check.
 */
enum cv_filtering cv_filtering(const struct cv_filtering_obs *o, char *why)
{
	char a[24], b[24];
	bool in[3];

	if (!o->base.ok) {
		snprintf(why, CV_WHY, "no mapping towards A1:P1: %s",
			 o->base.why[0] ? o->base.why : "no reply");
		return CV_FILT_UNKNOWN;
	}
	for (int i = 0; i < 3; i++) {
		const struct cv_outcome *c = &o->o[i];
		if (!c->asked || (!c->answered && !c->arrived)) {
			snprintf(why, CV_WHY, "the server did not report its attempt from %s",
				 ep_label[i + 1]);
			return CV_FILT_UNKNOWN;
		}
		/* it connects to the control connection's address only: a mapping
		 * on another external address (no paired pooling) is out of reach */
		if (c->answered && !ep_eq(&c->to, &o->base.ext)) {
			snprintf(why, CV_WHY, "the server tried %s, not the mapping %s",
				 cl_ep_str(&c->to, a, sizeof(a)),
				 cl_ep_str(&o->base.ext, b, sizeof(b)));
			return CV_FILT_UNKNOWN;
		}
		if (c->answered && c->result == CL_R_ERROR && !c->arrived) {
			snprintf(why, CV_WHY, "the server could not try from %s: %s",
				 ep_label[i + 1], c->err[0] ? c->err : "error");
			return CV_FILT_UNKNOWN;
		}
		if (c->answered && c->result == CL_R_CONNECTED && !c->arrived) {
			snprintf(why, CV_WHY,
				 "the server connected from %s but nothing arrived at our listener",
				 ep_label[i + 1]);
			return CV_FILT_UNKNOWN;
		}
		in[i] = c->arrived;
	}
	if (in[0] && in[1] && in[2]) {
		snprintf(why, CV_WHY, "other port and other address both arrived");
		return CV_FILT_EIF;
	}
	if (in[0] && !in[1] && !in[2]) {
		snprintf(why, CV_WHY, "other port arrived, other address did not");
		return CV_FILT_ADF;
	}
	if (!in[0] && !in[1] && !in[2]) {
		snprintf(why, CV_WHY, "neither other port nor other address arrived");
		return CV_FILT_APDF;
	}
	snprintf(why, CV_WHY, "inconsistent: from A1:P2 %s, A2:P1 %s, A2:P2 %s",
		 in[0] ? "arrived" : "not", in[1] ? "arrived" : "not", in[2] ? "arrived" : "not");
	return CV_FILT_UNKNOWN;
}

/* RFC 4787 section 4.2.1: port preservation; sequential: a constant step
 * between consecutive connections (the topology's delta, 1 to 1000). */
enum cv_port cv_port(const struct cv_port_obs *o, int *delta, char *why)
{
	int n = o->n < CV_MAX_PORTS ? o->n : CV_MAX_PORTS, ok = 0, step = 0;
	bool preserve = true, constant = true;
	uint16_t prev = 0;

	*delta = 0;
	for (int i = 0; i < n; i++) {
		const struct cv_probe *p = &o->p[i];
		if (!p->ok)
			continue;
		uint16_t e = ntohs(p->ext.sin_port);
		preserve &= e == p->local_port;
		if (ok) {
			int d = (uint16_t)(e - prev); /* modulo 2^16: a wrap is a step too */
			if (ok == 1)
				step = d;
			constant &= d == step;
		}
		prev = e;
		ok++;
	}
	if (ok < 3) {
		snprintf(why, CV_WHY, "%d of %d connections saw a mapping, 3 are needed", ok, n);
		return CV_PORT_UNKNOWN;
	}
	if (preserve) {
		snprintf(why, CV_WHY, "%d connections kept their local port", ok);
		return CV_PORT_PRESERVE;
	}
	if (constant && step >= 1 && step <= 1000) {
		*delta = step;
		snprintf(why, CV_WHY, "%d connections, each %d above the one before", ok, step);
		return CV_PORT_SEQUENTIAL;
	}
	snprintf(why, CV_WHY, "%d connections, neither the local port nor a constant step", ok);
	return CV_PORT_RANDOM;
}

static bool icmp_port_unreachable(const struct cv_outcome *c)
{
	if (c->icmp_type >= 0)
		return c->icmp_type == 3 && c->icmp_code == 3;
	return !strcmp(c->err, "ECONNREFUSED"); /* no error queue: the errno is all */
}

/* RFC 5382 REQ-4 and section 7.1: the answer to an unsolicited inbound SYN. */
enum cv_unsol cv_unsol(const struct cv_unsol_obs *o, char *why)
{
	const struct cv_outcome *c = &o->o;

	if (!c->asked || !c->answered) {
		snprintf(why, CV_WHY, "the server did not report its attempt");
		return CV_UNSOL_UNKNOWN;
	}
	switch (c->result) {
	case CL_R_RST:
		snprintf(why, CV_WHY, "RST after %d ms", c->ms);
		return CV_UNSOL_RST;
	case CL_R_TIMEOUT:
		snprintf(why, CV_WHY, "no answer in %d ms", c->ms);
		return CV_UNSOL_DROP;
	case CL_R_ICMP:
		if (c->ms < CV_RFC5382_MIN_MS) {
			snprintf(why, CV_WHY, "ICMP type %d code %d (%s) after %d ms", c->icmp_type,
				 c->icmp_code, c->err[0] ? c->err : "-", c->ms);
			return CV_UNSOL_ICMP;
		}
		if (icmp_port_unreachable(c)) {
			snprintf(why, CV_WHY, "silence, then ICMP port unreachable after %d ms",
				 c->ms);
			return CV_UNSOL_RFC5382;
		}
		snprintf(why, CV_WHY,
			 "ICMP type %d code %d after %d ms: late, not port unreachable",
			 c->icmp_type, c->icmp_code, c->ms);
		return CV_UNSOL_UNKNOWN;
	case CL_R_CONNECTED:
		snprintf(why, CV_WHY, "something accepted the connection (a forwarded port?)");
		return CV_UNSOL_UNKNOWN;
	default:
		snprintf(why, CV_WHY, "the server could not try: %s", c->err[0] ? c->err : "error");
		return CV_UNSOL_UNKNOWN;
	}
}

/* RFC 5382 REQ-8 (RFC 4787 REQ-9): a connection from inside to the mapping
 * of another inside endpoint. */
enum cv_hairpin cv_hairpin(const struct cv_hairpin_obs *o, char *why)
{
	char a[24];

	if (!o->base.ok) {
		snprintf(why, CV_WHY, "no mapping of the listening socket: %s",
			 o->base.why[0] ? o->base.why : "no reply");
		return CV_HP_UNKNOWN;
	}
	if (!o->tried) {
		snprintf(why, CV_WHY, "not tried: %s", o->why[0] ? o->why : "?");
		return CV_HP_UNKNOWN;
	}
	cl_ep_str(&o->base.ext, a, sizeof(a));
	if (o->accepted) {
		snprintf(why, CV_WHY, "a connection to %s reached our own listener in %d ms", a,
			 o->ms);
		return CV_HP_TRUE;
	}
	if (o->connected)
		snprintf(why, CV_WHY, "a connection to %s was accepted, not by our listener", a);
	else
		snprintf(why, CV_WHY, "a connection to %s failed: %s", a, o->why[0] ? o->why : "?");
	return CV_HP_FALSE;
}

/* The lifetime from idle connections: alive after each hold shorter than it,
 * gone after each longer. */
struct cv_life cv_life(const struct cv_life_obs *o, char *why)
{
	struct cv_life r = {.lo_s = -1, .hi_s = -1};

	if (!o->n) {
		snprintf(why, CV_WHY, "not measured: %s", o->why[0] ? o->why : "no probes");
		return r;
	}
	for (int i = 0; i < o->n && i < CV_MAX_HOLDS; i++) {
		if (o->alive[i] == 1 && o->hold_s[i] > r.lo_s)
			r.lo_s = o->hold_s[i];
		if (o->alive[i] == 0 && (r.hi_s < 0 || o->hold_s[i] < r.hi_s))
			r.hi_s = o->hold_s[i];
	}
	if (r.hi_s >= 0 && r.lo_s >= r.hi_s) {
		snprintf(why, CV_WHY, "inconsistent: alive after %d s, gone after %d s", r.lo_s,
			 r.hi_s);
		return r;
	}
	if (r.hi_s < 0) {
		snprintf(why, CV_WHY, "longer than %d s, the longest hold tried", r.lo_s);
		return r;
	}
	if (r.lo_s < 0) {
		snprintf(why, CV_WHY, "shorter than %d s, the shortest hold tried", r.hi_s);
		return r;
	}
	r.known = true;
	r.seconds = (r.lo_s + r.hi_s) / 2;
	snprintf(why, CV_WHY, "alive after %d s idle, gone after %d s", r.lo_s, r.hi_s);
	return r;
}
