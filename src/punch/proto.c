// SPDX-License-Identifier: MIT
#include "proto.h"
#include "util/jsonesc.h"
#include "util/hex.h"
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[PM_TYPE_COUNT] = {
    "open",  "opened", "hello",	 "welcome", "probe", "seen",  "ready",
    "punch", "verify", "result", "retry",   "done",  "error",
};

const char *proto_type_name(enum pmsg_type t)
{
	return (unsigned)t < PM_TYPE_COUNT ? type_names[t] : "?";
}

void proto_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[2 * n] = 0;
}

int proto_unhex(const char *s, uint8_t *bytes, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int h = hexdigit(s[2 * i]), l = hexdigit(s[2 * i + 1]);
		if (h < 0 || l < 0)
			return -1;
		bytes[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

struct pctx {
	json_t *o;
	char *err;
	size_t errlen;
};

/* "missing field \"F\"" when MUST is NULL, else "\"F\" must be MUST" */
static int perr(struct pctx *c, const char *field, const char *must)
{
	if (must)
		snprintf(c->err, c->errlen, "\"%s\" must be %s", field, must);
	else
		snprintf(c->err, c->errlen, "missing field \"%s\"", field);
	return -1;
}

static int get_token(struct pctx *c, const char *field, uint8_t *out)
{
	json_t *v = json_object_get(c->o, field);
	if (!v)
		return perr(c, field, NULL);
	if (!json_is_string(v) || proto_unhex(json_string_value(v), out, PROTO_TOKEN_LEN) < 0)
		return perr(c, field, "32 hex digits");
	return 0;
}

static int get_int(struct pctx *c, const char *field, long lo, long hi, bool required, int *out)
{
	json_t *v = json_object_get(c->o, field);
	if (!v)
		return required ? perr(c, field, NULL) : 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return perr(c, field, "an integer in range");
	*out = (int)json_integer_value(v);
	return 0;
}

static int get_port(struct pctx *c, const char *field, bool required, uint16_t *out)
{
	int p = 0;
	if (get_int(c, field, 0, 65535, required, &p) < 0)
		return -1;
	if (json_object_get(c->o, field))
		*out = (uint16_t)p;
	return 0;
}

static int get_num(struct pctx *c, const char *field, double *out)
{
	json_t *v = json_object_get(c->o, field);
	if (!v)
		return 0;
	if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0 ||
	    json_number_value(v) > 1e9)
		return perr(c, field, "a non-negative number");
	*out = json_number_value(v);
	return 0;
}

static int get_str(struct pctx *c, const char *field, bool required, char *out, size_t len)
{
	json_t *v = json_object_get(c->o, field);
	if (!v)
		return required ? perr(c, field, NULL) : 0;
	if (!json_is_string(v) || json_string_length(v) >= len)
		return perr(c, field, "a short string");
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	/* these strings go into logs and results: printable ASCII only */
	for (char *p = out; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return perr(c, field, "printable ASCII");
	return 0;
}

static int get_bool(struct pctx *c, const char *field, bool *out)
{
	json_t *v = json_object_get(c->o, field);
	if (!v)
		return perr(c, field, NULL);
	if (!json_is_boolean(v))
		return perr(c, field, "true or false");
	*out = json_is_true(v);
	return 0;
}

static int get_addr(struct pctx *c, const char *field, uint32_t *out)
{
	json_t *v = json_object_get(c->o, field);
	struct in_addr a;
	if (!v)
		return perr(c, field, NULL);
	if (!json_is_string(v) || inet_pton(AF_INET, json_string_value(v), &a) != 1)
		return perr(c, field, "an IPv4 address");
	*out = a.s_addr;
	return 0;
}

static int get_role(struct pctx *c, char *out)
{
	char r[4] = "";
	if (get_str(c, "role", true, r, sizeof(r)) < 0)
		return -1;
	if (strcmp(r, "a") && strcmp(r, "b"))
		return perr(c, "role", "\"a\" or \"b\"");
	*out = r[0];
	return 0;
}

/* The version and the type, into m->type. */
static int proto_parse_head(struct pctx *c, struct pmsg *m)
{
	int v = 0, type;

	if (!json_is_object(c->o)) {
		snprintf(c->err, c->errlen, "not a JSON object");
		return -1;
	}
	if (get_int(c, "v", 0, 1000000, true, &v) < 0)
		return -1;
	if (v != PROTO_VERSION) {
		snprintf(c->err, c->errlen, "protocol version %d, this speaks %d", v,
			 PROTO_VERSION);
		return -1;
	}
	json_t *t = json_object_get(c->o, "type");
	if (!json_is_string(t)) {
		snprintf(c->err, c->errlen, "missing field \"type\"");
		return -1;
	}
	for (type = 0; type < PM_TYPE_COUNT; type++)
		if (!strcmp(json_string_value(t), type_names[type]))
			break;
	if (type == PM_TYPE_COUNT) {
		snprintf(c->err, c->errlen, "unknown message type");
		return -1;
	}
	m->type = (enum pmsg_type)type;
	return 0;
}

/* A punch's candidate ports: 1 to PROTO_MAX_PORTS of them. */
static int proto_parse_ports(struct pctx *c, struct pmsg *m)
{
	json_t *ports = json_object_get(c->o, "ports");
	size_t i;
	json_t *p;

	if (!json_is_array(ports) || json_array_size(ports) < 1 ||
	    json_array_size(ports) > PROTO_MAX_PORTS) {
		snprintf(c->err, c->errlen, "\"ports\" must be an array of 1 to %d ports",
			 PROTO_MAX_PORTS);
		return -1;
	}
	json_array_foreach(ports, i, p)
	{
		if (!json_is_integer(p) || json_integer_value(p) < 1 ||
		    json_integer_value(p) > 65535) {
			snprintf(c->err, c->errlen, "\"ports\" must hold ports 1 to 65535");
			return -1;
		}
		m->ports[m->nports++] = (uint16_t)json_integer_value(p);
	}
	return 0;
}

/* The fields of m->type's message. */
static int proto_parse_fields(struct pctx *c, struct pmsg *m)
{
	switch (m->type) {
	case PM_OPEN:
		return 0;
	case PM_OPENED:
		return get_token(c, "session", m->session);
	case PM_HELLO:
		if (get_token(c, "session", m->session) < 0 || get_role(c, &m->role) < 0 ||
		    get_int(c, "probes", 1, PROTO_MAX_PROBES, true, &m->probes) < 0 ||
		    get_int(c, "rounds", 1, 1000, false, &m->rounds) < 0)
			return -1;
		return 0;
	case PM_WELCOME:
		if (get_token(c, "token", m->token) < 0 ||
		    get_int(c, "round", 1, 1000, true, &m->round) < 0)
			return -1;
		return 0;
	case PM_PROBE:
		if (get_token(c, "token", m->token) < 0 ||
		    get_int(c, "seq", 0, PROTO_MAX_PROBES - 1, true, &m->seq) < 0 ||
		    get_port(c, "local_port", false, &m->local_port) < 0)
			return -1;
		return 0;
	case PM_SEEN:
		if (get_addr(c, "addr", &m->addr) < 0 || get_port(c, "port", true, &m->port) < 0 ||
		    get_int(c, "seq", 0, PROTO_MAX_PROBES - 1, true, &m->seq) < 0)
			return -1;
		return 0;
	case PM_READY:
		return get_num(c, "rtt_ms", &m->rtt_ms);
	case PM_PUNCH:
		if (get_addr(c, "addr", &m->addr) < 0 || get_token(c, "nonce", m->nonce) < 0 ||
		    get_int(c, "go_ms", 0, 60000, true, &m->go_ms) < 0 ||
		    get_int(c, "round", 1, 1000, true, &m->round) < 0)
			return -1;
		return proto_parse_ports(c, m);
	case PM_VERIFY:
		if (get_token(c, "nonce", m->nonce) < 0 || get_role(c, &m->role) < 0)
			return -1;
		return 0;
	case PM_RESULT:
		if (get_bool(c, "ok", &m->ok) < 0 ||
		    get_str(c, "reason", false, m->reason, sizeof(m->reason)) < 0 ||
		    get_port(c, "local_port", false, &m->local_port) < 0 ||
		    get_num(c, "connect_ms", &m->connect_ms) < 0)
			return -1;
		return 0;
	case PM_RETRY:
		if (get_int(c, "round", 1, 1000, true, &m->round) < 0 ||
		    get_str(c, "reason", false, m->reason, sizeof(m->reason)) < 0)
			return -1;
		return 0;
	case PM_DONE:
		if (get_bool(c, "ok", &m->ok) < 0 ||
		    get_int(c, "round", 0, 1000, true, &m->round) < 0 ||
		    get_str(c, "reason", false, m->reason, sizeof(m->reason)) < 0)
			return -1;
		return 0;
	case PM_ERROR:
		if (get_str(c, "code", true, m->code, sizeof(m->code)) < 0 ||
		    get_str(c, "text", false, m->text, sizeof(m->text)) < 0)
			return -1;
		return 0;
	case PM_TYPE_COUNT:
		break;
	}
	return -1;
}

int proto_parse(const char *line, size_t len, struct pmsg *m, char *err, size_t errlen)
{
	struct pctx c = {NULL, err, errlen};
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (!(c.o = json_line_load(line, len, PROTO_MAX_LINE, err, errlen)))
		return -1;
	if (proto_parse_head(&c, m) == 0 && proto_parse_fields(&c, m) == 0)
		rc = 0;
	json_decref(c.o);
	return rc;
}

/* JSON string content we emit is ours or was checked printable; still escape. */
static int put_str(char *buf, size_t len, const char *s)
{
	return (int)json_escape(buf, len, s, strlen(s), false);
}

int proto_format(const struct pmsg *m, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN], h[2 * PROTO_TOKEN_LEN + 1], s1[64], s2[400];
	int n;

	if ((unsigned)m->type >= PM_TYPE_COUNT)
		return -1;
	n = snprintf(buf, len, "{\"v\":%d,\"type\":\"%s\"", PROTO_VERSION, type_names[m->type]);
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (n < 0 || (size_t)n >= len)                                                     \
			return -1;                                                                 \
		n += snprintf(buf + n, len - (size_t)n, __VA_ARGS__);                              \
	} while (0)
	switch (m->type) {
	case PM_OPEN:
		break;
	case PM_OPENED:
		proto_hex(m->session, PROTO_TOKEN_LEN, h);
		ADD(",\"session\":\"%s\"", h);
		break;
	case PM_HELLO:
		proto_hex(m->session, PROTO_TOKEN_LEN, h);
		ADD(",\"session\":\"%s\",\"role\":\"%c\",\"probes\":%d", h, m->role, m->probes);
		if (m->rounds)
			ADD(",\"rounds\":%d", m->rounds);
		break;
	case PM_WELCOME:
		proto_hex(m->token, PROTO_TOKEN_LEN, h);
		ADD(",\"token\":\"%s\",\"round\":%d", h, m->round);
		break;
	case PM_PROBE:
		proto_hex(m->token, PROTO_TOKEN_LEN, h);
		ADD(",\"token\":\"%s\",\"seq\":%d", h, m->seq);
		if (m->local_port)
			ADD(",\"local_port\":%u", m->local_port);
		break;
	case PM_SEEN:
		inet_ntop(AF_INET, &m->addr, a, sizeof(a));
		ADD(",\"addr\":\"%s\",\"port\":%u,\"seq\":%d", a, m->port, m->seq);
		break;
	case PM_READY:
		ADD(",\"rtt_ms\":%.3f", m->rtt_ms);
		break;
	case PM_PUNCH:
		inet_ntop(AF_INET, &m->addr, a, sizeof(a));
		proto_hex(m->nonce, PROTO_TOKEN_LEN, h);
		ADD(",\"addr\":\"%s\",\"ports\":[", a);
		for (int i = 0; i < m->nports && i < PROTO_MAX_PORTS; i++)
			ADD("%s%u", i ? "," : "", m->ports[i]);
		ADD("],\"go_ms\":%d,\"nonce\":\"%s\",\"round\":%d", m->go_ms, h, m->round);
		break;
	case PM_VERIFY:
		proto_hex(m->nonce, PROTO_TOKEN_LEN, h);
		ADD(",\"nonce\":\"%s\",\"role\":\"%c\"", h, m->role);
		break;
	case PM_RESULT:
		put_str(s1, sizeof(s1), m->reason);
		ADD(",\"ok\":%s,\"reason\":\"%s\",\"local_port\":%u,\"connect_ms\":%.3f",
		    m->ok ? "true" : "false", s1, m->local_port, m->connect_ms);
		break;
	case PM_RETRY:
		ADD(",\"round\":%d", m->round);
		if (m->reason[0]) {
			put_str(s1, sizeof(s1), m->reason);
			ADD(",\"reason\":\"%s\"", s1);
		}
		break;
	case PM_DONE:
		put_str(s1, sizeof(s1), m->reason);
		ADD(",\"ok\":%s,\"round\":%d,\"reason\":\"%s\"", m->ok ? "true" : "false", m->round,
		    s1);
		break;
	case PM_ERROR:
		put_str(s1, sizeof(s1), m->code);
		put_str(s2, sizeof(s2), m->text);
		ADD(",\"code\":\"%s\",\"text\":\"%s\"", s1, s2);
		break;
	case PM_TYPE_COUNT:
		return -1;
	}
	ADD("}\n");
#undef ADD
	if (n < 0 || (size_t)n >= len || n > PROTO_MAX_LINE)
		return -1;
	return n;
}
