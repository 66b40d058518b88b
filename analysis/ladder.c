// SPDX-License-Identifier: MIT
#include "ladder.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *ladder_flag_name(const char *flags)
{
	static const struct {
		const char *flags, *name;
	} names[] = {{"S", "SYN"},	{"SA", "SYN-ACK"}, {"R", "RST"},
		     {"AR", "RST-ACK"}, {"RA", "RST-ACK"}, {"A", "ACK"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(flags, names[i].flags))
			return names[i].name;
	return flags;
}

static bool is_rst(const struct ladder_pkt *p)
{
	return strchr(p->flags, 'R') != NULL;
}

static bool is_syn(const struct ladder_pkt *p)
{
	return !strcmp(p->flags, "S");
}

static int port_of(const char *ep)
{
	const char *c = strrchr(ep, ':');
	return c ? atoi(c + 1) : -1;
}

static void copy(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ? s : "");
}

static int column(struct ladder *l, const char *at)
{
	for (int i = 0; i < l->ncols; i++)
		if (!strcmp(l->cols[i], at))
			return i;
	if (l->ncols == LADDER_MAXCOLS)
		return -1;
	l->cols[l->ncols] = strdup(at);
	return l->cols[l->ncols] ? l->ncols++ : -1;
}

/* A sighting joins the packet seen just before at another point: same
 * endpoints and flags, within LADDER_JOIN_MS, not yet seen at COL. */
static struct ladder_pkt *joins(struct ladder *l, double ms, int col, const char *src,
				const char *dst, const char *flags)
{
	for (size_t i = l->n; i-- > 0;) {
		struct ladder_pkt *p = &l->pkt[i];
		if (ms - p->ms > LADDER_JOIN_MS)
			break;
		if (isnan(p->at[col]) && !strcmp(p->src, src) && !strcmp(p->dst, dst) &&
		    !strcmp(p->flags, flags))
			return p;
	}
	return NULL;
}

static int add_event(struct ladder *l, json_t *e, size_t *cap)
{
	const char *at = json_string_value(json_object_get(e, "at"));
	const char *src = json_string_value(json_object_get(e, "src"));
	const char *dst = json_string_value(json_object_get(e, "dst"));
	const char *flags = json_string_value(json_object_get(e, "flags"));
	json_t *ms = json_object_get(e, "ms");
	if (!at || !src || !dst || !flags || !json_is_number(ms))
		return -1;
	int col = column(l, at);
	if (col < 0)
		return 0; /* more points than a ladder shows: not drawn */
	double t = json_number_value(ms);
	struct ladder_pkt *p = joins(l, t, col, src, dst, flags);
	if (!p) {
		if (l->n == *cap) {
			size_t nc = *cap ? 2 * *cap : 64;
			struct ladder_pkt *np = realloc(l->pkt, nc * sizeof(*np));
			if (!np)
				return -1;
			l->pkt = np;
			*cap = nc;
		}
		p = &l->pkt[l->n++];
		memset(p, 0, sizeof(*p));
		for (int i = 0; i < LADDER_MAXCOLS; i++)
			p->at[i] = NAN;
		p->ms = t;
		p->first = col;
		copy(p->flags, sizeof(p->flags), flags);
		copy(p->src, sizeof(p->src), src);
		copy(p->dst, sizeof(p->dst), dst);
	}
	p->at[col] = t;
	return 0;
}

/* Did S see PORT among a peer's probes (ports_seen, per round)? */
static bool port_seen(json_t *trial, int port)
{
	static const char *const sides[] = {"a", "b"};
	for (int s = 0; s < 2; s++) {
		json_t *rounds = json_object_get(json_object_get(trial, sides[s]), "ports_seen");
		json_t *ports, *p;
		size_t r, k;
		json_array_foreach(rounds, r, ports)
		{
			json_array_foreach(ports, k, p)
			{
				if (json_integer_value(p) == port)
					return true;
			}
		}
	}
	return false;
}

static bool is_remote(json_t *trial, const char *ep)
{
	static const char *const sides[] = {"a", "b"};
	for (int s = 0; s < 2; s++) {
		const char *r =
		    json_string_value(json_object_get(json_object_get(trial, sides[s]), "remote"));
		if (r && !strcmp(r, ep))
			return true;
	}
	return false;
}

/* S's endpoint: where the SYNs from the ports S saw went (a port S saw may
 * be used again for the punch: where a peer aimed is never S). */
static void find_server(struct ladder *l, json_t *trial)
{
	for (size_t i = 0; i < l->n && !l->server[0]; i++)
		if (is_syn(&l->pkt[i]) && port_seen(trial, port_of(l->pkt[i].src)) &&
		    !is_remote(trial, l->pkt[i].dst))
			copy(l->server, sizeof(l->server), l->pkt[i].dst);
	for (size_t i = 0; i < l->n && l->server[0]; i++)
		l->pkt[i].server =
		    !strcmp(l->pkt[i].src, l->server) || !strcmp(l->pkt[i].dst, l->server);
}

/* A peer's last SYN to its remote, as captured: its actual external port. */
static void find_ports(struct ladder *l, json_t *trial)
{
	for (int s = 0; s < 2; s++) {
		struct ladder_peer *pe = &l->peer[s];
		pe->role = s ? 'B' : 'A';
		pe->actual = pe->predicted = -1;
		copy(pe->remote, sizeof(pe->remote),
		     json_string_value(
			 json_object_get(json_object_get(trial, s ? "b" : "a"), "remote")));
		for (size_t i = l->n; pe->remote[0] && i-- > 0;)
			if (is_syn(&l->pkt[i]) && !strcmp(l->pkt[i].dst, pe->remote)) {
				pe->actual = port_of(l->pkt[i].src);
				copy(pe->nat, sizeof(pe->nat), l->cols[l->pkt[i].first]);
				break;
			}
	}
	/* what A aimed at is S's prediction of B's port, and the other way */
	l->peer[0].predicted = l->peer[1].remote[0] ? port_of(l->peer[1].remote) : -1;
	l->peer[1].predicted = l->peer[0].remote[0] ? port_of(l->peer[0].remote) : -1;
}

static long first_where(const struct ladder *l, bool (*pred)(const struct ladder_pkt *),
			const char *src, const char *dst, bool last)
{
	long found = -1;
	for (size_t i = 0; i < l->n; i++) {
		const struct ladder_pkt *p = &l->pkt[i];
		if (pred(p) && (!src || !strcmp(p->src, src)) && (!dst || !strcmp(p->dst, dst))) {
			found = (long)i;
			if (!last)
				break;
		}
	}
	return found;
}

static void blame_misprediction(struct ladder *l, int s)
{
	const struct ladder_peer *me = &l->peer[s], *other = &l->peer[!s];
	long c = first_where(l, is_rst, other->remote, NULL, false);
	if (c < 0)
		c = first_where(l, is_syn, NULL, other->remote, true);
	l->culprit = c;
	int n = snprintf(l->why, sizeof(l->why),
			 "%c aimed at %s, S's prediction of %c's external port, but %c's SYN left "
			 "%s from port %d",
			 other->role, other->remote, me->role, me->role, me->nat[0] ? me->nat : "?",
			 me->actual);
	if (c >= 0 && is_rst(&l->pkt[c]) && n > 0 && (size_t)n < sizeof(l->why))
		snprintf(l->why + n, sizeof(l->why) - n,
			 ": the %s from %s at %s (%.3f ms) answered %c's SYN to a port with no "
			 "mapping",
			 ladder_flag_name(l->pkt[c].flags), l->pkt[c].src, l->cols[l->pkt[c].first],
			 l->pkt[c].ms, other->role);
}

static bool punch_rst(const struct ladder *l, const struct ladder_pkt *p)
{
	if (!is_rst(p) || p->server)
		return false;
	for (int s = 0; s < 2; s++)
		if (l->peer[s].remote[0] &&
		    (!strcmp(p->src, l->peer[s].remote) || !strcmp(p->dst, l->peer[s].remote)))
			return true;
	return false;
}

/* A RST in the punch: when it left before its own endpoint's SYN did, the
 * NAT refused the other peer's SYN that came too early (the race). */
static void blame_rst(struct ladder *l, long c)
{
	const struct ladder_pkt *r = &l->pkt[c];
	long own = first_where(l, is_syn, r->src, NULL, false);
	l->culprit = c;
	int n = snprintf(l->why, sizeof(l->why), "the %s from %s to %s left %s at %.3f ms",
			 ladder_flag_name(r->flags), r->src, r->dst, l->cols[r->first], r->ms);
	if (own >= 0 && l->pkt[own].ms > r->ms && n > 0 && (size_t)n < sizeof(l->why))
		snprintf(l->why + n, sizeof(l->why) - n,
			 ", %.3f ms before %s's own SYN (%.3f ms): the other peer's SYN came "
			 "before the mapping was made",
			 l->pkt[own].ms - r->ms, r->src, l->pkt[own].ms);
	else if (n > 0 && (size_t)n < sizeof(l->why))
		snprintf(l->why + n, sizeof(l->why) - n, ": it reset the punch's connection");
}

static void blame(struct ladder *l)
{
	l->culprit = -1;
	if (l->connected) {
		snprintf(l->why, sizeof(l->why), "connected");
		return;
	}
	for (int s = 0; s < 2; s++)
		if (l->peer[s].actual >= 0 && l->peer[s].predicted >= 0 &&
		    l->peer[s].actual != l->peer[s].predicted) {
			blame_misprediction(l, s);
			return;
		}
	for (size_t i = 0; i < l->n; i++)
		if (punch_rst(l, &l->pkt[i])) {
			blame_rst(l, (long)i);
			return;
		}
	long c = -1;
	for (int s = 0; s < 2 && c < 0; s++)
		if (l->peer[s].remote[0])
			c = first_where(l, is_syn, NULL, l->peer[s].remote, true);
	if (c >= 0) {
		l->culprit = c;
		snprintf(l->why, sizeof(l->why),
			 "the SYN from %s to %s (%.3f ms) got no SYN-ACK and no RST", l->pkt[c].src,
			 l->pkt[c].dst, l->pkt[c].ms);
		return;
	}
	snprintf(l->why, sizeof(l->why),
		 "no SYN of the punch reached a capture point (A aimed at %s, B at %s)%s",
		 l->peer[0].remote[0] ? l->peer[0].remote : "?",
		 l->peer[1].remote[0] ? l->peer[1].remote : "?",
		 !strcmp(l->reason, "no-hairpin")
		     ? ": both peers are behind one NAT, which did not send them back in"
		     : "");
}

static void read_outcome(struct ladder *l, json_t *trial)
{
	copy(l->cell, sizeof(l->cell), json_string_value(json_object_get(trial, "cell")));
	l->trial = (int)json_integer_value(json_object_get(trial, "trial"));
	l->rounds = (int)json_integer_value(json_object_get(trial, "rounds"));
	l->connected = json_is_true(json_object_get(trial, "connected"));
	copy(l->reason, sizeof(l->reason), json_string_value(json_object_get(trial, "reason")));
	json_t *t = json_object_get(trial, "time_to_connect_ms");
	l->ttc_ms = json_is_number(t) ? json_number_value(t) : NAN;
}

int ladder_build(json_t *trial, struct ladder *out, struct perr *err)
{
	memset(out, 0, sizeof(*out));
	read_outcome(out, trial);
	json_t *tl = json_object_get(json_object_get(trial, "capture"), "timeline"), *e;
	size_t i, cap = 0;
	if (tl && !json_is_array(tl)) {
		perr_set(err, out->cell, 0, 0, "trial %d: capture.timeline is not an array",
			 out->trial);
		return -1;
	}
	json_array_foreach(tl, i, e) if (add_event(out, e, &cap) < 0)
	{
		perr_set(err, out->cell, 0, 0,
			 "trial %d: capture.timeline[%zu] wants ms, at, src, dst and flags",
			 out->trial, i);
		ladder_free(out);
		return -1;
	}
	find_server(out, trial);
	find_ports(out, trial);
	blame(out);
	return 0;
}

void ladder_free(struct ladder *l)
{
	for (int i = 0; i < l->ncols; i++)
		free(l->cols[i]);
	free(l->pkt);
	memset(l, 0, sizeof(*l));
}

void ladder_verdict(const struct ladder *l, char *buf, size_t len)
{
	char rounds[32] = "", ms[32] = "";
	if (l->rounds > 0)
		snprintf(rounds, sizeof(rounds), " %s %d round%s", l->connected ? "in" : "after",
			 l->rounds, l->rounds == 1 ? "" : "s");
	if (l->connected && !isnan(l->ttc_ms))
		snprintf(ms, sizeof(ms), "%s %.1f ms", rounds[0] ? "," : "", l->ttc_ms);
	if (l->connected)
		snprintf(buf, len, "connected%s%s", rounds, ms);
	else
		snprintf(buf, len, "failed: %s%s", l->reason[0] ? l->reason : "?", rounds);
}

static void peer_line(const struct ladder *l, int s, FILE *f)
{
	const struct ladder_peer *pe = &l->peer[s], *other = &l->peer[!s];
	fprintf(f, "%c: predicted port ", pe->role);
	if (pe->predicted >= 0)
		fprintf(f, "%d (%c aimed at %s)", pe->predicted, other->role, other->remote);
	else
		fputs("unknown", f);
	fputs(", actual ", f);
	if (pe->actual >= 0)
		fprintf(f, "%d (its last SYN as it left %s)", pe->actual, pe->nat);
	else
		fputs("not captured", f);
	if (pe->actual >= 0 && pe->predicted >= 0)
		fputs(pe->actual == pe->predicted ? ": hit" : ": MISS", f);
	fputc('\n', f);
}

static void text_row(const struct ladder *l, size_t i, int ws, int wc, FILE *f)
{
	const struct ladder_pkt *p = &l->pkt[i];
	fprintf(f, "%9.3f  %-7s  %-*s > %-*s", p->ms, ladder_flag_name(p->flags), ws, p->src, ws,
		p->dst);
	for (int c = 0; c < l->ncols; c++) {
		char cell[32];
		if (isnan(p->at[c]))
			snprintf(cell, sizeof(cell), ".");
		else if (c == p->first)
			snprintf(cell, sizeof(cell), "seen");
		else
			snprintf(cell, sizeof(cell), "+%.3f", p->at[c] - p->ms);
		fprintf(f, "  %-*s", c + 1 < l->ncols || (long)i == l->culprit ? wc : 0, cell);
	}
	if ((long)i == l->culprit)
		fputs("  <== why it failed", f);
	fputc('\n', f);
}

void ladder_text(const struct ladder *l, bool all, FILE *f)
{
	char verdict[128];
	int ws = 11, wc = 8;
	size_t hidden = 0;
	ladder_verdict(l, verdict, sizeof(verdict));
	fprintf(f, "trial %s/%d: %s\n", l->cell, l->trial, verdict);
	peer_line(l, 0, f);
	peer_line(l, 1, f);
	if (!l->connected)
		fprintf(f, "why: %s\n", l->why);
	for (size_t i = 0; i < l->n; i++) {
		int a = (int)strlen(l->pkt[i].src), b = (int)strlen(l->pkt[i].dst);
		ws = a > ws ? a : ws;
		ws = b > ws ? b : ws;
	}
	for (int c = 0; c < l->ncols; c++)
		wc = (int)strlen(l->cols[c]) > wc ? (int)strlen(l->cols[c]) : wc;
	fprintf(f, "\n%9s  %-7s  %-*s   %-*s", "ms", "packet", ws, "source", ws, "destination");
	for (int c = 0; c < l->ncols; c++)
		fprintf(f, "  %-*s", c + 1 < l->ncols ? wc : 0, l->cols[c]);
	fputc('\n', f);
	for (size_t i = 0; i < l->n; i++) {
		if (l->pkt[i].server && !all) {
			hidden++;
			continue;
		}
		text_row(l, i, ws, wc, f);
	}
	if (hidden == l->n)
		fputs("(no packet of the punch captured)\n", f);
	if (hidden)
		fprintf(f, "(%zu packets to or from S at %s not shown; --all shows them)\n", hidden,
			l->server);
}

json_t *ladder_json(const struct ladder *l)
{
	json_t *cols = json_array(), *pk = json_array(), *peers = json_array();
	long culprit = -1, hidden = 0;
	for (int c = 0; c < l->ncols; c++)
		json_array_append_new(cols, json_string(l->cols[c]));
	for (size_t i = 0; i < l->n; i++) {
		const struct ladder_pkt *p = &l->pkt[i];
		if (p->server) {
			hidden++;
			continue;
		}
		if ((long)i == l->culprit)
			culprit = (long)json_array_size(pk);
		json_t *at = json_array();
		for (int c = 0; c < l->ncols; c++)
			json_array_append_new(at, isnan(p->at[c])
						      ? json_null()
						      : json_real(round(p->at[c] * 1e3) / 1e3));
		json_array_append_new(
		    pk, json_pack("[s, s, s, o]", ladder_flag_name(p->flags), p->src, p->dst, at));
	}
	for (int s = 0; s < 2; s++)
		json_array_append_new(peers,
				      json_pack("{s:s, s:i, s:i, s:s}", "remote", l->peer[s].remote,
						"pred", l->peer[s].predicted, "act",
						l->peer[s].actual, "nat", l->peer[s].nat));
	char verdict[128];
	ladder_verdict(l, verdict, sizeof(verdict));
	return json_pack("{s:i, s:b, s:s, s:o, s:o, s:o, s:I, s:s, s:I, s:s}", "t", l->trial, "ok",
			 l->connected, "v", verdict, "cols", cols, "p", pk, "peers", peers, "c",
			 (json_int_t)culprit, "why", l->connected ? "" : l->why, "probes",
			 (json_int_t)hidden, "server", l->server);
}
