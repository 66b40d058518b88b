// SPDX-License-Identifier: MIT
#include "timeline.h"
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>

static bool is_syn(const struct cap_event *e)
{
	return (e->flags & (CAP_SYN | CAP_ACK)) == CAP_SYN;
}

static bool same_flow(const struct cap_event *a, const struct cap_event *b)
{
	return a->saddr == b->saddr && a->sport == b->sport && a->daddr == b->daddr &&
	       a->dport == b->dport;
}

static bool reverse_flow(const struct cap_event *a, const struct cap_event *b)
{
	return a->saddr == b->daddr && a->sport == b->dport && a->daddr == b->saddr &&
	       a->dport == b->sport;
}

/* A SYN-ACK on either of X's and Y's flows before time T? */
static bool synack_before(const struct cap_event *ev, size_t n, const struct cap_event *x,
			  const struct cap_event *y, double t)
{
	for (size_t k = 0; k < n; k++)
		if ((ev[k].flags & (CAP_SYN | CAP_ACK)) == (CAP_SYN | CAP_ACK) && ev[k].t < t &&
		    (same_flow(&ev[k], x) || same_flow(&ev[k], y)))
			return true;
	return false;
}

bool cap_syns_crossed(const struct cap_event *ev, size_t n, uint32_t server)
{
	for (size_t i = 0; i < n; i++) {
		const struct cap_event *x = &ev[i];
		if (!is_syn(x) || x->daddr == server || x->saddr == server)
			continue;
		for (size_t j = 0; j < n; j++) {
			const struct cap_event *y = &ev[j];
			if (is_syn(y) && reverse_flow(x, y) &&
			    !synack_before(ev, n, x, y, x->t > y->t ? x->t : y->t))
				return true;
		}
	}
	return false;
}

struct tagged {
	struct cap_event e;
	int point;
	size_t seq; /* order of arrival: ties in time keep it */
};

static int by_time(const void *a, const void *b)
{
	const struct tagged *x = a, *y = b;
	double tx = round((x->e.t) * 1e6), ty = round((y->e.t) * 1e6);
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static const char *endpoint(uint32_t a, uint16_t p, char *buf, size_t len)
{
	char s[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, s, sizeof(s));
	snprintf(buf, len, "%s:%u", s, p);
	return buf;
}

static json_t *event_json(const struct tagged *t, const struct cap_point_events *pts, double t0)
{
	char s[32], d[32], fl[4] = "";
	size_t f = 0;
	if (t->e.flags & CAP_SYN)
		fl[f++] = 'S';
	if (t->e.flags & CAP_ACK)
		fl[f++] = 'A';
	if (t->e.flags & CAP_RST)
		fl[f++] = 'R';
	return json_pack("{s:f, s:s, s:s, s:s, s:s}", "ms", round((t->e.t - t0) * 1e6) / 1e3, "at",
			 pts[t->point].node, "src",
			 endpoint(t->e.saddr, t->e.sport, s, sizeof(s)), "dst",
			 endpoint(t->e.daddr, t->e.dport, d, sizeof(d)), "flags", fl);
}

json_t *cap_trial_record(const struct cap_point_events *pts, int npts, double t0, uint32_t server)
{
	size_t total = 0, n = 0;
	for (int i = 0; i < npts; i++)
		total += pts[i].n;
	struct tagged *all = calloc(total + 1, sizeof(*all));
	struct cap_event *plain = calloc(total + 1, sizeof(*plain));
	json_t *timeline = json_array(), *ext = json_object();
	for (int i = 0; all && plain && i < npts; i++)
		for (size_t k = 0; k < pts[i].n; k++) {
			const struct cap_event *e = &pts[i].ev[k];
			if (e->t < t0)
				continue;
			all[n] = (struct tagged){.e = *e, .point = i, .seq = n};
			plain[n++] = *e;
			if (is_syn(e) && e->saddr == pts[i].addr && e->daddr != server)
				json_object_set_new(ext, pts[i].node, json_integer(e->sport));
		}
	bool crossed = plain && cap_syns_crossed(plain, n, server);
	if (all)
		qsort(all, n, sizeof(*all), by_time);
	for (size_t i = 0; all && i < n; i++)
		json_array_append_new(timeline, event_json(&all[i], pts, t0));
	free(all);
	free(plain);
	return json_pack("{s:b, s:o, s:o}", "syns_crossed", crossed, "external_ports", ext,
			 "timeline", timeline);
}
