// SPDX-License-Identifier: MIT
#include "ctl.h"
#include "util/jsonesc.h"
#include "util/endpoint.h"
#include "util/hex.h"
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[CL_TYPE_COUNT] = {
    [CL_HELLO] = "hello",     [CL_WELCOME] = "welcome", [CL_PROBE] = "probe",
    [CL_SEEN] = "seen",	      [CL_PING] = "ping",	[CL_CONNECT] = "connect",
    [CL_OUTCOME] = "outcome", [CL_KNOCK] = "knock",	[CL_ERROR] = "error",
};

static const char *const result_names[CL_R_COUNT] = {
    [CL_R_CONNECTED] = "connected", [CL_R_RST] = "rst",	    [CL_R_ICMP] = "icmp",
    [CL_R_TIMEOUT] = "timeout",	    [CL_R_ERROR] = "error",
};

const char *cl_type_name(enum cl_type t)
{
	return (unsigned)t < CL_TYPE_COUNT ? type_names[t] : "?";
}

const char *cl_result_name(enum cl_result r)
{
	return (unsigned)r < CL_R_COUNT ? result_names[r] : "?";
}

const char *cl_ep_str(const struct sockaddr_in *sa, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa->sin_addr, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, ntohs(sa->sin_port));
	return buf;
}

/* one parse: the object, and where the message of an error goes */
struct pc {
	json_t *o;
	char *err;
	size_t errlen;
};

static int bad(struct pc *c, const char *what, const char *key)
{
	snprintf(c->err, c->errlen, "%s \"%s\"", what, key);
	return -1;
}

/* An integer field from LO to HI; absent: DEF, or an error when DEF < LO. */
static int get_int(struct pc *c, const char *key, long lo, long hi, long def, int *out)
{
	json_t *v = json_object_get(c->o, key);
	if (!v) {
		if (def < lo)
			return bad(c, "missing field", key);
		*out = (int)def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(c->err, c->errlen, "field \"%s\" must be an integer from %ld to %ld", key,
			 lo, hi);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* A string field of at most LEN-1 printable ASCII characters, no quote or
 * backslash: what parses formats back unescaped, to the same length. */
static int get_str(struct pc *c, const char *key, bool required, char *out, size_t len)
{
	json_t *v = json_object_get(c->o, key);
	out[0] = 0;
	if (!v)
		return required ? bad(c, "missing field", key) : 0;
	const char *s = json_string_value(v);
	if (!s || strlen(s) >= len)
		return bad(c, "too long or not a string:", key);
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			return bad(c, "not printable ASCII without quotes:", key);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int ep_parse(struct pc *c, json_t *v, const char *key, struct sockaddr_in *out)
{
	const char *s = json_string_value(v);
	if (!s || endpoint_parse(s, out, 0) < 0)
		return bad(c, "not ADDR:PORT:", key);
	return 0;
}

static int get_ep(struct pc *c, const char *key, struct sockaddr_in *out)
{
	json_t *v = json_object_get(c->o, key);
	if (!v)
		return bad(c, "missing field", key);
	return ep_parse(c, v, key, out);
}

static int get_token(struct pc *c, uint8_t *tok)
{
	char h[2 * CL_TOKEN_LEN + 1];
	if (get_str(c, "token", true, h, sizeof(h)) < 0)
		return -1;
	if (strlen(h) != 2 * CL_TOKEN_LEN)
		return bad(c, "not 32 hex digits:", "token");
	for (int i = 0; i < CL_TOKEN_LEN; i++) {
		int hi = hexdigit(h[2 * i]), lo = hexdigit(h[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return bad(c, "not 32 hex digits:", "token");
		tok[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int parse_welcome(struct pc *c, struct cl_msg *m)
{
	json_t *eps = json_object_get(c->o, "endpoints");
	if (get_token(c, m->token) < 0 || get_ep(c, "you", &m->you) < 0)
		return -1;
	if (!json_is_array(eps) || json_array_size(eps) != CL_NENDPOINTS)
		return bad(c, "not an array of 4 endpoints:", "endpoints");
	for (int i = 0; i < CL_NENDPOINTS; i++)
		if (ep_parse(c, json_array_get(eps, (size_t)i), "endpoints", &m->ep[i]) < 0)
			return -1;
	if (json_object_get(c->o, "sink"))
		return get_ep(c, "sink", &m->sink);
	return 0;
}

static int parse_outcome(struct pc *c, struct cl_msg *m)
{
	char r[16], from[INET_ADDRSTRLEN];
	int i;

	if (get_int(c, "id", 0, 1000000, -1, &m->id) < 0 || get_ep(c, "from", &m->at) < 0 ||
	    get_ep(c, "to", &m->to) < 0 || get_str(c, "result", true, r, sizeof(r)) < 0 ||
	    get_int(c, "ms", 0, 86400000, -1, &m->ms) < 0 ||
	    get_str(c, "errno", false, m->err, sizeof(m->err)) < 0 ||
	    get_int(c, "icmp_type", -1, 255, -1, &m->icmp_type) < 0 ||
	    get_int(c, "icmp_code", -1, 255, -1, &m->icmp_code) < 0 ||
	    get_str(c, "icmp_from", false, from, sizeof(from)) < 0)
		return -1;
	for (i = 0; i < CL_R_COUNT && strcmp(r, result_names[i]); i++)
		;
	if (i == CL_R_COUNT)
		return bad(c, "unknown result in", "result");
	m->result = (enum cl_result)i;
	if (from[0] && inet_pton(AF_INET, from, &m->icmp_from) != 1)
		return bad(c, "not an address:", "icmp_from");
	return 0;
}

static int parse_fields(struct pc *c, struct cl_msg *m)
{
	int port;

	switch (m->type) {
	case CL_HELLO:
		return 0;
	case CL_WELCOME:
		return parse_welcome(c, m);
	case CL_PROBE:
		if (get_token(c, m->token) < 0 || get_int(c, "seq", 0, 1000000, -1, &m->seq) < 0)
			return -1;
		return get_int(c, "hold_ms", 0, CL_MAX_HOLD_MS, 0, &m->hold_ms);
	case CL_SEEN:
		if (get_int(c, "seq", 0, 1000000, -1, &m->seq) < 0 || get_ep(c, "you", &m->you) < 0)
			return -1;
		return get_ep(c, "at", &m->at);
	case CL_PING:
		return get_int(c, "seq", 0, 1000000, -1, &m->seq);
	case CL_CONNECT:
		if (get_int(c, "id", 0, 1000000, -1, &m->id) < 0 ||
		    get_int(c, "from", 0, CL_FROM_SINK, -1, &m->from) < 0 ||
		    get_int(c, "port", 1, 65535, -1, &port) < 0)
			return -1;
		m->port = (uint16_t)port;
		return get_int(c, "wait_ms", 100, CL_MAX_WAIT_MS, -1, &m->wait_ms);
	case CL_OUTCOME:
		return parse_outcome(c, m);
	case CL_KNOCK:
		if (get_int(c, "id", 0, 1000000, -1, &m->id) < 0)
			return -1;
		return get_token(c, m->token);
	case CL_ERROR:
		if (get_str(c, "code", true, m->code, sizeof(m->code)) < 0)
			return -1;
		return get_str(c, "text", false, m->text, sizeof(m->text));
	case CL_TYPE_COUNT:
		break;
	}
	return -1;
}

static int parse_head(struct pc *c, struct cl_msg *m)
{
	char t[16];
	int v, i;

	if (!json_is_object(c->o)) {
		snprintf(c->err, c->errlen, "not a JSON object");
		return -1;
	}
	if (get_int(c, "v", CL_VERSION, CL_VERSION, -1, &v) < 0 ||
	    get_str(c, "type", true, t, sizeof(t)) < 0)
		return -1;
	for (i = 0; i < CL_TYPE_COUNT && strcmp(t, type_names[i]); i++)
		;
	if (i == CL_TYPE_COUNT)
		return bad(c, "unknown message type", t);
	m->type = (enum cl_type)i;
	return 0;
}

int cl_parse(const char *line, size_t len, struct cl_msg *m, char *err, size_t errlen)
{
	struct pc c = {.err = err, .errlen = errlen};
	int rc = -1;

	memset(m, 0, sizeof(*m));
	m->icmp_type = m->icmp_code = -1;
	if (!(c.o = json_line_load(line, len, CL_MAX_LINE, err, errlen)))
		return -1;
	if (parse_head(&c, m) == 0 && parse_fields(&c, m) == 0)
		rc = 0;
	json_decref(c.o);
	return rc;
}

/* S as JSON string content: quotes, backslashes and non-printables escaped */
static void put_str(char *buf, size_t len, const char *s)
{
	json_escape(buf, len, s, strlen(s), false);
}

static void hex(const uint8_t *b, char *out)
{
	for (int i = 0; i < CL_TOKEN_LEN; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

int cl_format(const struct cl_msg *m, char *buf, size_t len)
{
	char h[2 * CL_TOKEN_LEN + 1], e[4][24], s1[64], s2[400];
	int n;

	if ((unsigned)m->type >= CL_TYPE_COUNT)
		return -1;
	n = snprintf(buf, len, "{\"v\":%d,\"type\":\"%s\"", CL_VERSION, type_names[m->type]);
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (n < 0 || (size_t)n >= len)                                                     \
			return -1;                                                                 \
		n += snprintf(buf + n, len - (size_t)n, __VA_ARGS__);                              \
	} while (0)
	switch (m->type) {
	case CL_HELLO:
		break;
	case CL_WELCOME:
		hex(m->token, h);
		ADD(",\"token\":\"%s\",\"you\":\"%s\",\"endpoints\":[", h,
		    cl_ep_str(&m->you, e[0], sizeof(e[0])));
		for (int i = 0; i < CL_NENDPOINTS; i++)
			ADD("%s\"%s\"", i ? "," : "", cl_ep_str(&m->ep[i], e[1], sizeof(e[1])));
		ADD("]");
		if (m->sink.sin_port)
			ADD(",\"sink\":\"%s\"", cl_ep_str(&m->sink, e[1], sizeof(e[1])));
		break;
	case CL_PROBE:
		hex(m->token, h);
		ADD(",\"token\":\"%s\",\"seq\":%d", h, m->seq);
		if (m->hold_ms)
			ADD(",\"hold_ms\":%d", m->hold_ms);
		break;
	case CL_SEEN:
		ADD(",\"seq\":%d,\"you\":\"%s\",\"at\":\"%s\"", m->seq,
		    cl_ep_str(&m->you, e[0], sizeof(e[0])), cl_ep_str(&m->at, e[1], sizeof(e[1])));
		break;
	case CL_PING:
		ADD(",\"seq\":%d", m->seq);
		break;
	case CL_CONNECT:
		ADD(",\"id\":%d,\"from\":%d,\"port\":%u,\"wait_ms\":%d", m->id, m->from, m->port,
		    m->wait_ms);
		break;
	case CL_OUTCOME:
		ADD(",\"id\":%d,\"from\":\"%s\",\"to\":\"%s\",\"result\":\"%s\",\"ms\":%d", m->id,
		    cl_ep_str(&m->at, e[0], sizeof(e[0])), cl_ep_str(&m->to, e[1], sizeof(e[1])),
		    cl_result_name(m->result), m->ms);
		if (m->err[0]) {
			put_str(s1, sizeof(s1), m->err);
			ADD(",\"errno\":\"%s\"", s1);
		}
		if (m->icmp_type >= 0)
			ADD(",\"icmp_type\":%d,\"icmp_code\":%d", m->icmp_type, m->icmp_code);
		if (m->icmp_from) {
			inet_ntop(AF_INET, &m->icmp_from, e[2], sizeof(e[2]));
			ADD(",\"icmp_from\":\"%s\"", e[2]);
		}
		break;
	case CL_KNOCK:
		hex(m->token, h);
		ADD(",\"id\":%d,\"token\":\"%s\"", m->id, h);
		break;
	case CL_ERROR:
		put_str(s1, sizeof(s1), m->code);
		put_str(s2, sizeof(s2), m->text);
		ADD(",\"code\":\"%s\",\"text\":\"%s\"", s1, s2);
		break;
	case CL_TYPE_COUNT:
		return -1;
	}
	ADD("}\n");
#undef ADD
	if (n < 0 || (size_t)n >= len || n > CL_MAX_LINE)
		return -1;
	return n;
}
