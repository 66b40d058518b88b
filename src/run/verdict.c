// SPDX-License-Identifier: MIT
#include "verdict.h"
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int verdict_hit(const struct verdict_side *s)
{
	if (!s->nused)
		return -1;
	for (int u = 0; u < s->nused; u++)
		for (int p = 0; p < s->npredicted; p++)
			if (s->used[u] == s->predicted[p])
				return 1;
	return 0;
}

const char *verdict_reason(const struct verdict_in *in)
{
	static const char *const kept[] = {"verify-failed", "proxy-error",  "no-hairpin",
					   "peer-gone",	    "server-error", NULL};
	for (int k = 0; in->peers && kept[k]; k++)
		if (!strcmp(in->peers, kept[k]))
			return kept[k];
	int a = verdict_hit(&in->side[0]), b = verdict_hit(&in->side[1]);
	if (a == 0 || b == 0)
		return "mispredicted";
	if (a == 1 && b == 1)
		return in->rst ? "rst" : "timeout";
	return in->peers ? in->peers : "timeout";
}

/* "198.18.0.2:1029" into *ADDR (network order) and *PORT; false if it is not that. */
static bool endpoint_parse(const char *s, uint32_t *addr, uint16_t *port)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = s ? strrchr(s, ':') : NULL;
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535 || inet_pton(AF_INET, host, addr) != 1)
		return false;
	*port = (uint16_t)p;
	return true;
}

/* The ports of the last array of ROUNDS into OUT (at most VERDICT_MAX_PORTS). */
static int last_round(json_t *rounds, uint16_t *out)
{
	json_t *last = json_array_get(rounds, json_array_size(rounds) - 1), *p;
	size_t i;
	int n = 0;
	json_array_foreach(last, i, p) if (n < VERDICT_MAX_PORTS && json_is_integer(p)) out[n++] =
	    (uint16_t)json_integer_value(p);
	return n;
}

struct tl_event {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	bool syn, rst;
};

static bool tl_event(json_t *e, struct tl_event *out)
{
	const char *fl = json_string_value(json_object_get(e, "flags"));
	if (!fl ||
	    !endpoint_parse(json_string_value(json_object_get(e, "src")), &out->saddr,
			    &out->sport) ||
	    !endpoint_parse(json_string_value(json_object_get(e, "dst")), &out->daddr, &out->dport))
		return false;
	out->syn = !strcmp(fl, "S");
	out->rst = strchr(fl, 'R') != NULL;
	return true;
}

static void add_used(struct verdict_side *s, uint16_t port)
{
	for (int k = 0; k < s->nused; k++)
		if (s->used[k] == port)
			return;
	if (s->nused < VERDICT_MAX_PORTS)
		s->used[s->nused++] = port;
}

/* The last round's punch SYNs and RSTs between EXT[0] and EXT[1] in TIMELINE. */
static void punch_from_timeline(json_t *timeline, const uint32_t ext[2], struct verdict_in *in)
{
	size_t i, start = 0;
	json_t *e;
	struct tl_event t;
	/* the last round's punch follows the last probe: a SYN of either side elsewhere */
	json_array_foreach(timeline, i, e) if (tl_event(e, &t) && t.syn &&
					       (t.saddr == ext[0] || t.saddr == ext[1]) &&
					       t.daddr != ext[0] && t.daddr != ext[1]) start =
	    i + 1;
	for (i = start; i < json_array_size(timeline); i++) {
		if (!tl_event(json_array_get(timeline, i), &t))
			continue;
		for (int k = 0; k < 2; k++) {
			if (t.saddr != ext[k] || t.daddr != ext[!k])
				continue;
			if (t.syn)
				add_used(&in->side[k], t.sport);
			in->rst |= t.rst;
		}
	}
}

void verdict_from_trial(json_t *trial, struct verdict_in *in)
{
	static const char *const role[2] = {"a", "b"};
	uint32_t ext[2];
	bool known = true;
	memset(in, 0, sizeof(*in));
	in->peers = json_string_value(json_object_get(trial, "reason"));
	for (int k = 0; k < 2; k++) {
		json_t *other = json_object_get(trial, role[!k]);
		uint16_t port;
		in->side[k].npredicted =
		    last_round(json_object_get(other, "ports_predicted"), in->side[k].predicted);
		/* where the other side connected to: this side's external address */
		known &= endpoint_parse(json_string_value(json_object_get(other, "remote")),
					&ext[k], &port);
	}
	/* one external address for both: hairpinning, which no outside capture sees */
	if (known && ext[0] != ext[1])
		punch_from_timeline(json_object_get(json_object_get(trial, "capture"), "timeline"),
				    ext, in);
}

void verdict_apply(json_t *trial)
{
	static const char *const role[2] = {"a", "b"};
	struct verdict_in in;
	verdict_from_trial(trial, &in);
	json_t *hit = json_object_get(trial, "prediction_hit");
	for (int k = 0; json_is_object(hit) && k < 2; k++) {
		int h = verdict_hit(&in.side[k]);
		if (h >= 0)
			json_object_set_new(hit, role[k], json_boolean(h));
	}
	if (!json_is_true(json_object_get(trial, "connected")))
		json_object_set_new(trial, "reason", json_string(verdict_reason(&in)));
}
