// SPDX-License-Identifier: MIT
#include "jdoc.h"
#include "hex.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JDOC_MAX_DEPTH 64
#define JDOC_MAX_FILE (16u << 20)

struct jpos {
	const void *obj; /* value, or the object holding KEY */
	char *key;	 /* NULL for a value's own position */
	int line, col;
};

struct jdoc {
	char *name;
	json_t *root;
	struct jpos *tab;
	size_t cap, used;
};

struct jparser {
	struct jdoc *doc;
	const char *p, *end;
	int line, col;
	struct perr *err;
};

static uint64_t jpos_hash(const void *obj, const char *key)
{
	uint64_t h = (uint64_t)(uintptr_t)obj * 0x9e3779b97f4a7c15ull;

	if (key)
		for (const unsigned char *s = (const unsigned char *)key; *s; s++)
			h = (h ^ *s) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int jpos_grow(struct jdoc *doc)
{
	size_t ncap = doc->cap ? doc->cap * 2 : 256;
	struct jpos *ntab = calloc(ncap, sizeof(*ntab));

	if (!ntab)
		return -ENOMEM;
	for (size_t i = 0; i < doc->cap; i++) {
		struct jpos *e = &doc->tab[i];
		if (!e->obj)
			continue;
		size_t j = jpos_hash(e->obj, e->key) & (ncap - 1);
		while (ntab[j].obj)
			j = (j + 1) & (ncap - 1);
		ntab[j] = *e;
	}
	free(doc->tab);
	doc->tab = ntab;
	doc->cap = ncap;
	return 0;
}

static int jpos_put(struct jdoc *doc, const void *obj, const char *key, int line, int col)
{
	if ((doc->used + 1) * 2 > doc->cap && jpos_grow(doc) < 0)
		return -ENOMEM;
	size_t j = jpos_hash(obj, key) & (doc->cap - 1);
	while (doc->tab[j].obj) {
		struct jpos *e = &doc->tab[j];
		if (e->obj == obj &&
		    ((!e->key && !key) || (e->key && key && !strcmp(e->key, key)))) {
			e->line = line;
			e->col = col;
			return 0;
		}
		j = (j + 1) & (doc->cap - 1);
	}
	char *k = NULL;
	if (key && !(k = strdup(key)))
		return -ENOMEM;
	doc->tab[j] = (struct jpos){obj, k, line, col};
	doc->used++;
	return 0;
}

static const struct jpos *jpos_get(const struct jdoc *doc, const void *obj, const char *key)
{
	if (!doc->cap)
		return NULL;
	size_t j = jpos_hash(obj, key) & (doc->cap - 1);
	while (doc->tab[j].obj) {
		const struct jpos *e = &doc->tab[j];
		if (e->obj == obj && ((!e->key && !key) || (e->key && key && !strcmp(e->key, key))))
			return e;
		j = (j + 1) & (doc->cap - 1);
	}
	return NULL;
}

static int jp_fail(struct jparser *jp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jp_fail(struct jparser *jp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	perr_vset(jp->err, jp->doc->name, jp->line, jp->col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void jp_adv(struct jparser *jp)
{
	if (*jp->p == '\n') {
		jp->line++;
		jp->col = 1;
	} else if (((unsigned char)*jp->p & 0xc0) != 0x80) {
		jp->col++; /* count characters, not UTF-8 continuation bytes */
	}
	jp->p++;
}

static void jp_ws(struct jparser *jp)
{
	while (jp->p < jp->end &&
	       (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
		jp_adv(jp);
}

static const char *jp_what(const struct jparser *jp)
{
	static __thread char buf[32];

	if (jp->p >= jp->end)
		return "end of file";
	unsigned char c = (unsigned char)*jp->p;
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, sizeof(buf), "'%c'", c);
	else
		snprintf(buf, sizeof(buf), "byte 0x%02x", c);
	return buf;
}

static int jp_value(struct jparser *jp, json_t **out, int depth);

static int jp_hex4(struct jparser *jp, unsigned *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++) {
		int h = jp->p < jp->end ? hexdigit(*jp->p) : -1;
		if (h < 0)
			return jp_fail(jp, "expected 4 hex digits after \\u");
		*u = *u * 16 + (unsigned)h;
		jp_adv(jp);
	}
	return 0;
}

static void utf8_put(char *buf, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		buf[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		buf[(*n)++] = (char)(0xc0 | (cp >> 6));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		buf[(*n)++] = (char)(0xe0 | (cp >> 12));
		buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		buf[(*n)++] = (char)(0xf0 | (cp >> 18));
		buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Decodes the 4 hex digits of a \u escape at jp->p, and the low half that
 * must follow a high surrogate, into the code point *CP. */
static int jp_uescape(struct jparser *jp, unsigned *cp)
{
	unsigned lo;

	if (jp_hex4(jp, cp) < 0)
		return -EINVAL;
	if (*cp >= 0xd800 && *cp < 0xdc00) {
		if (jp->end - jp->p < 2 || jp->p[0] != '\\' || jp->p[1] != 'u')
			return jp_fail(jp, "lone UTF-16 surrogate in \\u escape");
		jp_adv(jp);
		jp_adv(jp);
		if (jp_hex4(jp, &lo) < 0)
			return -EINVAL;
		if (lo < 0xdc00 || lo > 0xdfff)
			return jp_fail(jp, "lone UTF-16 surrogate in \\u escape");
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (*cp >= 0xdc00 && *cp < 0xe000) {
		return jp_fail(jp, "lone UTF-16 surrogate in \\u escape");
	}
	if (*cp == 0)
		return jp_fail(jp, "\\u0000 is not allowed in strings");
	return 0;
}

/* Decodes the escape at jp->p (just past its backslash) onto BUF at *N. */
static int jp_escape(struct jparser *jp, char *buf, size_t *n)
{
	unsigned cp;

	if (jp->p >= jp->end)
		return jp_fail(jp, "unterminated string");
	char e = *jp->p;
	switch (e) {
	case '"':
	case '\\':
	case '/':
		buf[(*n)++] = e;
		break;
	case 'b':
		buf[(*n)++] = '\b';
		break;
	case 'f':
		buf[(*n)++] = '\f';
		break;
	case 'n':
		buf[(*n)++] = '\n';
		break;
	case 'r':
		buf[(*n)++] = '\r';
		break;
	case 't':
		buf[(*n)++] = '\t';
		break;
	case 'u':
		jp_adv(jp);
		if (jp_uescape(jp, &cp) < 0)
			return -EINVAL;
		utf8_put(buf, n, cp);
		return 0;
	default:
		return jp_fail(jp, "invalid escape '\\%c' in string", e);
	}
	jp_adv(jp);
	return 0;
}

/* Parses a string at jp->p (which is '"'); returns a malloc'd NUL-free string. */
static int jp_string(struct jparser *jp, char **out, size_t *outlen)
{
	int sl = jp->line, sc = jp->col;
	/* room is kept for the longest escape (4 bytes of UTF-8) and the NUL */
	size_t cap = 16, n = 0;
	char *buf = malloc(cap);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	jp_adv(jp);
	for (;;) {
		if (jp->p >= jp->end) {
			jp->line = sl;
			jp->col = sc;
			rc = jp_fail(jp, "unterminated string");
			break;
		}
		if (n + 8 >= cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		unsigned char c = (unsigned char)*jp->p;
		if (c == '"') {
			jp_adv(jp);
			break;
		}
		if (c == '\n') {
			rc = jp_fail(
			    jp, "unterminated string (a newline inside a string is written \\n)");
			break;
		}
		if (c < 0x20) {
			rc = jp_fail(jp, "control character in string (escape it)");
			break;
		}
		jp_adv(jp);
		if (c != '\\')
			buf[n++] = (char)c;
		else if ((rc = jp_escape(jp, buf, &n)) < 0)
			break;
	}
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[n] = 0;
	*out = buf;
	*outlen = n;
	return 0;
}

static int jp_number(struct jparser *jp, json_t **out)
{
	const char *s = jp->p;
	int sl = jp->line, sc = jp->col;
	bool real = false;

	if (jp->p < jp->end && *jp->p == '-')
		jp_adv(jp);
	if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
		return jp_fail(jp, "expected a digit");
	if (*jp->p == '0') {
		jp_adv(jp);
	} else {
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp_adv(jp);
	}
	if (jp->p < jp->end && *jp->p == '.') {
		real = true;
		jp_adv(jp);
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			return jp_fail(jp, "expected a digit after '.'");
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp_adv(jp);
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		real = true;
		jp_adv(jp);
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp_adv(jp);
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			return jp_fail(jp, "expected a digit in exponent");
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp_adv(jp);
	}
	size_t len = (size_t)(jp->p - s);
	char tmp[64];
	if (len >= sizeof(tmp))
		return jp_fail(jp, "number too long");
	memcpy(tmp, s, len);
	tmp[len] = 0;
	if (!real) {
		errno = 0;
		long long v = strtoll(tmp, NULL, 10);
		if (errno == 0) {
			*out = json_integer(v);
			return *out ? 0 : -ENOMEM;
		}
	}
	double d = strtod(tmp, NULL);
	if (!isfinite(d)) {
		/* jansson holds no infinity: json_real would fail like malloc */
		jp->line = sl;
		jp->col = sc;
		return jp_fail(jp, "number %s out of range", tmp);
	}
	*out = json_real(d);
	return *out ? 0 : -ENOMEM;
}

static int jp_literal(struct jparser *jp, const char *word, json_t *v, json_t **out)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
		return jp_fail(jp, "expected a value, got %s", jp_what(jp));
	for (size_t i = 0; i < n; i++)
		jp_adv(jp);
	*out = v;
	return 0;
}

static int jp_object(struct jparser *jp, json_t **out, int depth)
{
	json_t *obj = json_object();
	int rc;

	if (!obj)
		return -ENOMEM;
	jp_adv(jp); /* '{' */
	jp_ws(jp);
	if (jp->p < jp->end && *jp->p == '}') {
		jp_adv(jp);
		*out = obj;
		return 0;
	}
	for (;;) {
		jp_ws(jp);
		if (jp->p >= jp->end || *jp->p != '"') {
			rc = jp_fail(jp, "expected a member name in quotes, got %s", jp_what(jp));
			goto fail;
		}
		int kl = jp->line, kc = jp->col;
		char *key;
		size_t klen;
		if ((rc = jp_string(jp, &key, &klen)) < 0)
			goto fail;
		if (json_object_get(obj, key)) {
			jp->line = kl;
			jp->col = kc;
			rc = jp_fail(jp, "duplicate member \"%s\"", key);
			free(key);
			goto fail;
		}
		jp_ws(jp);
		if (jp->p >= jp->end || *jp->p != ':') {
			free(key);
			rc = jp_fail(jp, "expected ':' after member name, got %s", jp_what(jp));
			goto fail;
		}
		jp_adv(jp);
		jp_ws(jp);
		json_t *v;
		if ((rc = jp_value(jp, &v, depth + 1)) < 0) {
			free(key);
			goto fail;
		}
		if (json_object_set_new(obj, key, v) < 0 ||
		    jpos_put(jp->doc, obj, key, kl, kc) < 0) {
			rc = jp_fail(jp, "invalid member \"%s\" (bad UTF-8?)", key);
			free(key);
			goto fail;
		}
		free(key);
		jp_ws(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp_adv(jp);
			continue;
		}
		if (jp->p < jp->end && *jp->p == '}') {
			jp_adv(jp);
			break;
		}
		rc = jp_fail(jp, "expected ',' or '}' in object, got %s", jp_what(jp));
		goto fail;
	}
	*out = obj;
	return 0;
fail:
	json_decref(obj);
	return rc;
}

static int jp_array(struct jparser *jp, json_t **out, int depth)
{
	json_t *arr = json_array();
	int rc;

	if (!arr)
		return -ENOMEM;
	jp_adv(jp);
	jp_ws(jp);
	if (jp->p < jp->end && *jp->p == ']') {
		jp_adv(jp);
		*out = arr;
		return 0;
	}
	for (;;) {
		jp_ws(jp);
		json_t *v;
		if ((rc = jp_value(jp, &v, depth + 1)) < 0)
			goto fail;
		if (json_array_append_new(arr, v) < 0) {
			rc = -ENOMEM;
			goto fail;
		}
		jp_ws(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp_adv(jp);
			continue;
		}
		if (jp->p < jp->end && *jp->p == ']') {
			jp_adv(jp);
			break;
		}
		rc = jp_fail(jp, "expected ',' or ']' in array, got %s", jp_what(jp));
		goto fail;
	}
	*out = arr;
	return 0;
fail:
	json_decref(arr);
	return rc;
}

static int jp_value(struct jparser *jp, json_t **out, int depth)
{
	int line = jp->line, col = jp->col, rc;

	if (depth > JDOC_MAX_DEPTH)
		return jp_fail(jp, "nested deeper than %d levels", JDOC_MAX_DEPTH);
	jp_ws(jp);
	if (jp->p >= jp->end)
		return jp_fail(jp, "expected a value, got end of file");
	line = jp->line;
	col = jp->col;
	switch (*jp->p) {
	case '{':
		rc = jp_object(jp, out, depth);
		break;
	case '[':
		rc = jp_array(jp, out, depth);
		break;
	case '"': {
		char *s;
		size_t n;
		if ((rc = jp_string(jp, &s, &n)) < 0)
			return rc;
		*out = json_stringn(s, n);
		free(s);
		if (!*out) {
			jp->line = line;
			jp->col = col;
			return jp_fail(jp, "string is not valid UTF-8");
		}
		break;
	}
	case 't':
		return jp_literal(jp, "true", json_true(), out);
	case 'f':
		return jp_literal(jp, "false", json_false(), out);
	case 'n':
		return jp_literal(jp, "null", json_null(), out);
	default:
		if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9'))
			rc = jp_number(jp, out);
		else
			return jp_fail(jp, "expected a value, got %s", jp_what(jp));
	}
	if (rc < 0)
		return rc;
	if (jpos_put(jp->doc, *out, NULL, line, col) < 0) {
		json_decref(*out);
		return -ENOMEM;
	}
	return 0;
}

int jdoc_load_buffer(const char *name, const char *buf, size_t len, struct jdoc **out,
		     struct perr *err)
{
	struct jdoc *doc = calloc(1, sizeof(*doc));
	int rc;

	*out = NULL;
	if (!doc || !(doc->name = strdup(name))) {
		free(doc);
		perr_set(err, name, 0, 0, "out of memory");
		return -ENOMEM;
	}
	struct jparser jp = {doc, buf, buf + len, 1, 1, err};
	/* a UTF-8 byte order mark is tolerated, as editors write one */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		jp.p += 3;
	rc = jp_value(&jp, &doc->root, 0);
	if (rc == 0) {
		jp_ws(&jp);
		if (jp.p < jp.end)
			rc = jp_fail(&jp, "expected end of file after the top-level value, got %s",
				     jp_what(&jp));
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			perr_set(err, name, 0, 0, "out of memory");
		jdoc_free(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

int jdoc_load_file(const char *path, struct jdoc **out, struct perr *err)
{
	return jdoc_load_file_max(path, JDOC_MAX_FILE, out, err);
}

int jdoc_load_file_max(const char *path, size_t max, struct jdoc **out, struct perr *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;

	*out = NULL;
	if (!f) {
		rc = -errno;
		perr_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return rc;
	}
	for (;;) {
		if (len == cap) {
			if (max && cap >= max) {
				perr_set(err, path, 0, 0, "file larger than %zu bytes", max);
				rc = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				perr_set(err, path, 0, 0, "out of memory");
				goto out;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		perr_set(err, path, 0, 0, "read error");
		goto out;
	}
	rc = jdoc_load_buffer(path, buf ? buf : "", len, out, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

void jdoc_free(struct jdoc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->cap; i++)
		free(doc->tab[i].key);
	free(doc->tab);
	json_decref(doc->root);
	free(doc->name);
	free(doc);
}

json_t *jdoc_root(const struct jdoc *doc)
{
	return doc->root;
}

const char *jdoc_name(const struct jdoc *doc)
{
	return doc->name;
}

bool jdoc_pos(const struct jdoc *doc, const json_t *v, int *line, int *col)
{
	if (!v || v == json_true() || v == json_false() || v == json_null())
		return false;
	const struct jpos *e = jpos_get(doc, v, NULL);
	if (!e)
		return false;
	*line = e->line;
	*col = e->col;
	return true;
}

void jdoc_member_pos(const struct jdoc *doc, const json_t *obj, const char *key, int *line,
		     int *col)
{
	const struct jpos *e = key ? jpos_get(doc, obj, key) : NULL;

	*line = *col = 0;
	if (key && jdoc_pos(doc, json_object_get(obj, key), line, col))
		return;
	if (e) {
		*line = e->line;
		*col = e->col;
		return;
	}
	jdoc_pos(doc, obj, line, col);
}

void jdoc_err(const struct jdoc *doc, struct perr *err, const json_t *v, const char *fmt, ...)
{
	int line = 0, col = 0;
	va_list ap;

	jdoc_pos(doc, v, &line, &col);
	va_start(ap, fmt);
	perr_vset(err, doc->name, line, col, fmt, ap);
	va_end(ap);
}

void jdoc_err_member(const struct jdoc *doc, struct perr *err, const json_t *obj, const char *key,
		     const char *fmt, ...)
{
	int line, col;
	va_list ap;

	jdoc_member_pos(doc, obj, key, &line, &col);
	va_start(ap, fmt);
	perr_vset(err, doc->name, line, col, fmt, ap);
	va_end(ap);
}

int jdoc_check_fields(const struct jdoc *doc, struct perr *err, const json_t *obj, const char *what,
		      const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			if (!strcmp(*k, key))
				ok = true;
		if (ok)
			continue;
		char list[512] = "";
		size_t n = 0;
		for (const char *const *k = known; *k && n < sizeof(list); k++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
					      k == known ? "" : ", ", *k);
		const struct jpos *e = jpos_get(doc, obj, key);
		int line = e ? e->line : 0, col = e ? e->col : 0;
		/* point at the key rather than its value: the name is what is wrong */
		perr_set(err, doc->name, line, col, "%s: unknown field \"%s\" (known: %s)", what,
			 key, list);
		return -EINVAL;
	}
	return 0;
}
