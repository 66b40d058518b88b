// SPDX-License-Identifier: MIT
#include "suite.h"
#include "lab/natprofile.h"
#include "punch/heuristic.h"
#include "punch/osprof.h"
#include "util/jdoc.h"
#include "util/sha256.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_MAX_CELLS 100000

enum ftype { F_STR, F_BOOL, F_INT, F_NUM };

/* The fields a cell has, in the order cells are crossed. */
static const struct field {
	const char *name;
	enum ftype type;
	double lo, hi; /* numbers */
} fields[] = {
    {"topology", F_STR, 0, 0},
    {"nat", F_STR, 0, 0},
    {"hairpin", F_BOOL, 0, 0},
    {"os_a", F_STR, 0, 0},
    {"os_b", F_STR, 0, 0},
    {"proxy_a", F_BOOL, 0, 0},
    {"proxy_b", F_BOOL, 0, 0},
    {"heuristic", F_STR, 0, 0},
    {"guesses", F_INT, 1, 16},
    {"delay_ms", F_NUM, 0, 10000},
    {"skew_ms", F_NUM, 0, 10000},
    {"background_a", F_NUM, 0, 100000},
    {"background_b", F_NUM, 0, 100000},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct sp {
	struct jdoc *doc;
	struct perr *err;
	const char *dir;
};

/* Checks one value of field F; OBJ/KEY locate it for errors. */
static int check_value(struct sp *sp, const struct field *f, json_t *v, const char *where)
{
	char known[512];
	switch (f->type) {
	case F_STR:
		if (!json_is_string(v)) {
			jdoc_err(sp->doc, sp->err, v, "%s: \"%s\" must be a string", where,
				 f->name);
			return -EINVAL;
		}
		break;
	case F_BOOL:
		if (!json_is_boolean(v)) {
			jdoc_err(sp->doc, sp->err, v, "%s: \"%s\" must be true or false", where,
				 f->name);
			return -EINVAL;
		}
		return 0;
	case F_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->lo ||
		    json_integer_value(v) > f->hi) {
			jdoc_err(sp->doc, sp->err, v,
				 "%s: \"%s\" must be a whole number from %g to %g", where, f->name,
				 f->lo, f->hi);
			return -EINVAL;
		}
		return 0;
	case F_NUM:
		if (!json_is_number(v) || json_number_value(v) < f->lo ||
		    json_number_value(v) > f->hi) {
			jdoc_err(sp->doc, sp->err, v, "%s: \"%s\" must be a number from %g to %g",
				 where, f->name, f->lo, f->hi);
			return -EINVAL;
		}
		return 0;
	}
	const char *s = json_string_value(v);
	if ((!strcmp(f->name, "os_a") || !strcmp(f->name, "os_b")) && !os_by_name(s)) {
		jdoc_err(sp->doc, sp->err, v, "%s: unknown OS profile \"%s\" (known: %s)", where, s,
			 os_names());
		return -EINVAL;
	}
	if (!strcmp(f->name, "nat") && !nat_preset_by_name(s)) {
		jdoc_err(sp->doc, sp->err, v, "%s: unknown NAT profile \"%s\" (known: %s)", where,
			 s, nat_preset_names());
		return -EINVAL;
	}
	if (!strcmp(f->name, "heuristic") && !heuristic_by_name(s)) {
		snprintf(known, sizeof(known), "%s", heuristic_names());
		jdoc_err(sp->doc, sp->err, v, "%s: unknown heuristic \"%s\" (known: %s)", where, s,
			 known);
		return -EINVAL;
	}
	if (!strcmp(f->name, "topology")) {
		char path[PATH_MAX];
		if (s[0] == '/')
			snprintf(path, sizeof(path), "%s", s);
		else
			snprintf(path, sizeof(path), "%s/%s", sp->dir, s);
		FILE *fp = fopen(path, "r");
		if (!fp) {
			jdoc_err(sp->doc, sp->err, v, "%s: topology %s: %s", where, path,
				 strerror(errno));
			return -EINVAL;
		}
		fclose(fp);
	}
	return 0;
}

static const struct field *field_by_name(const char *name)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

static const char *field_names(void)
{
	static char buf[512];
	if (!buf[0]) {
		size_t n = 0;
		for (size_t i = 0; i < NFIELDS; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "",
					      fields[i].name);
	}
	return buf;
}

/* A cell (object) whose every member is a known field with a valid value. */
static int check_cell_object(struct sp *sp, json_t *o, const char *where)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o)) {
		jdoc_err(sp->doc, sp->err, o, "%s: must be an object of cell fields", where);
		return -EINVAL;
	}
	json_object_foreach(o, k, v)
	{
		const struct field *f = field_by_name(k);
		if (!f) {
			jdoc_err_member(sp->doc, sp->err, o, k,
					"%s: unknown field \"%s\" (known: %s)", where, k,
					field_names());
			return -EINVAL;
		}
		if (check_value(sp, f, v, where) < 0)
			return -EINVAL;
	}
	return 0;
}

/* OUT: PATH_MAX bytes */
static void resolve_topology(const char *dir, const char *s, char *out)
{
	char tmp[2 * PATH_MAX];
	if (s[0] == '/')
		snprintf(tmp, sizeof(tmp), "%s", s);
	else
		snprintf(tmp, sizeof(tmp), "%s/%s", dir, s);
	if (!realpath(tmp, out))
		snprintf(out, PATH_MAX, "%.*s", PATH_MAX - 1, tmp);
}

/* Fills the struct cell from its fields object (already valid). */
static void cell_from_fields(struct cell *c, json_t *o, const char *dir)
{
	json_t *v;
	memset(c, 0, offsetof(struct cell, fields));
	snprintf(c->os_a, sizeof(c->os_a), "native");
	snprintf(c->os_b, sizeof(c->os_b), "native");
	snprintf(c->heuristic, sizeof(c->heuristic), "delta");
	c->hairpin = -1;
	c->guesses = 1;
	c->delay_ms = -1;
	if ((v = json_object_get(o, "topology")))
		resolve_topology(dir, json_string_value(v), c->topology);
	if ((v = json_object_get(o, "os_a")))
		snprintf(c->os_a, sizeof(c->os_a), "%s", json_string_value(v));
	if ((v = json_object_get(o, "os_b")))
		snprintf(c->os_b, sizeof(c->os_b), "%s", json_string_value(v));
	if ((v = json_object_get(o, "nat")))
		snprintf(c->nat, sizeof(c->nat), "%s", json_string_value(v));
	if ((v = json_object_get(o, "heuristic")))
		snprintf(c->heuristic, sizeof(c->heuristic), "%s", json_string_value(v));
	c->proxy_a = json_is_true(json_object_get(o, "proxy_a"));
	c->proxy_b = json_is_true(json_object_get(o, "proxy_b"));
	if ((v = json_object_get(o, "hairpin")))
		c->hairpin = json_is_true(v);
	if ((v = json_object_get(o, "guesses")))
		c->guesses = (int)json_integer_value(v);
	if ((v = json_object_get(o, "delay_ms")))
		c->delay_ms = json_number_value(v);
	if ((v = json_object_get(o, "skew_ms")))
		c->skew_ms = json_number_value(v);
	if ((v = json_object_get(o, "background_a")))
		c->background_a = json_number_value(v);
	if ((v = json_object_get(o, "background_b")))
		c->background_b = json_number_value(v);
	/* the id names the combination, not its position: stable across edits,
	 * shards and resumes */
	char *canon = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	char h[65];
	sha256_hex(canon, strlen(canon), h);
	free(canon);
	snprintf(c->id, sizeof(c->id), "%.12s", h);
	c->fields = json_incref(o);
}

struct expand {
	struct sp *sp;
	json_t *matrix;	 /* field -> array of values */
	json_t *exclude; /* array or NULL */
	json_t *cells;	 /* array of field objects */
};

static bool excluded(json_t *excl, json_t *cell)
{
	size_t i;
	json_t *e;
	json_array_foreach(excl, i, e)
	{
		const char *k;
		json_t *v;
		bool all = true;
		json_object_foreach(e, k, v)
		{
			json_t *cv = json_object_get(cell, k);
			if (!cv || !json_equal(cv, v))
				all = false;
		}
		if (all)
			return true;
	}
	return false;
}

/* Crosses the matrix fields from index I on into CUR. */
static int cross(struct expand *x, size_t i, json_t *cur)
{
	if (json_array_size(x->cells) > SUITE_MAX_CELLS)
		return -E2BIG;
	if (i == NFIELDS) {
		if (!x->exclude || !excluded(x->exclude, cur))
			json_array_append_new(x->cells, json_deep_copy(cur));
		return 0;
	}
	json_t *vals = json_object_get(x->matrix, fields[i].name);
	if (!vals)
		return cross(x, i + 1, cur);
	size_t k;
	json_t *v;
	json_array_foreach(vals, k, v)
	{
		json_object_set(cur, fields[i].name, v);
		int rc = cross(x, i + 1, cur);
		if (rc < 0)
			return rc;
	}
	json_object_del(cur, fields[i].name);
	return 0;
}

static int get_int(struct sp *sp, json_t *root, const char *key, long lo, long hi, int *out)
{
	json_t *v = json_object_get(root, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		jdoc_err(sp->doc, sp->err, v,
			 "suite: \"%s\" must be a whole number from %ld to %ld", key, lo, hi);
		return -EINVAL;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* The suite's settings: description, trials, rounds, probes, seed, keep_conntrack. */
static int suite_settings(struct sp *sp, json_t *root, struct suite *s)
{
	json_t *v;
	int seed = 1;

	if ((v = json_object_get(root, "description"))) {
		if (!json_is_string(v)) {
			jdoc_err(sp->doc, sp->err, v, "suite: \"description\" must be a string");
			return -EINVAL;
		}
		s->description = strdup(json_string_value(v));
	}
	s->trials = 10;
	s->rounds = 3;
	s->probes = 3;
	s->seed = 1;
	if (get_int(sp, root, "trials", 1, 1000000, &s->trials) < 0 ||
	    get_int(sp, root, "rounds", 1, 100, &s->rounds) < 0 ||
	    get_int(sp, root, "probes", 1, 32, &s->probes) < 0 ||
	    get_int(sp, root, "seed", 0, INT_MAX, &seed) < 0)
		return -EINVAL;
	s->seed = (uint64_t)seed;
	if ((v = json_object_get(root, "keep_conntrack"))) {
		if (!json_is_boolean(v)) {
			jdoc_err(sp->doc, sp->err, v,
				 "suite: \"keep_conntrack\" must be true or false");
			return -EINVAL;
		}
		s->keep_conntrack = json_is_true(v);
	}
	return 0;
}

/* The matrix, checked, as *MP: every field's values as an array (the caller
 * releases *MP, also on error). */
static int suite_matrix(struct sp *sp, json_t *root, json_t **mp)
{
	json_t *matrix = json_object_get(root, "matrix"), *v;
	const char *k;

	if (!matrix) {
		jdoc_err(sp->doc, sp->err, root, "suite: missing field \"matrix\"");
		return -EINVAL;
	}
	if (!json_is_object(matrix)) {
		jdoc_err(sp->doc, sp->err, matrix,
			 "suite: \"matrix\" must be an object of field: [values]");
		return -EINVAL;
	}
	/* a scalar in the matrix is a one-value list; the suite's "topology" is a default */
	json_t *m = *mp = json_object();
	json_object_foreach(matrix, k, v)
	{
		const struct field *f = field_by_name(k);
		if (!f) {
			jdoc_err_member(sp->doc, sp->err, matrix, k,
					"matrix: unknown field \"%s\" (known: %s)", k,
					field_names());
			return -EINVAL;
		}
		json_t *arr = json_is_array(v) ? json_incref(v) : json_pack("[O]", v);
		if (json_array_size(arr) == 0) {
			jdoc_err(sp->doc, sp->err, v, "matrix: \"%s\" has no values", k);
			json_decref(arr);
			return -EINVAL;
		}
		size_t i;
		json_t *e;
		char where[64];
		snprintf(where, sizeof(where), "matrix.%s", k);
		json_array_foreach(arr, i, e)
		{
			if (check_value(sp, f, e, where) < 0) {
				json_decref(arr);
				return -EINVAL;
			}
		}
		json_object_set_new(m, k, arr);
	}
	return 0;
}

/* The suite's own topology, its defaults, and its exclude and include cells. */
static int suite_check_cells(struct sp *sp, json_t *root)
{
	json_t *topo = json_object_get(root, "topology");
	json_t *defaults = json_object_get(root, "defaults");
	json_t *excl = json_object_get(root, "exclude"), *incl = json_object_get(root, "include");

	if (topo && check_value(sp, field_by_name("topology"), topo, "suite") < 0)
		return -EINVAL;
	if (defaults && check_cell_object(sp, defaults, "defaults") < 0)
		return -EINVAL;
	for (int pass = 0; pass < 2; pass++) {
		json_t *list = pass ? incl : excl;
		if (!list)
			continue;
		if (!json_is_array(list)) {
			jdoc_err(sp->doc, sp->err, list, "suite: \"%s\" must be an array of cells",
				 pass ? "include" : "exclude");
			return -EINVAL;
		}
		size_t i;
		json_t *e;
		json_array_foreach(list, i, e)
		{
			if (check_cell_object(sp, e, pass ? "include" : "exclude") < 0)
				return -EINVAL;
		}
	}
	return 0;
}

/* The cells' field objects as *CELLS: the matrix M crossed over the defaults,
 * less the excluded ones, then the include entries over the defaults. */
static int suite_expand(struct sp *sp, json_t *root, json_t *m, json_t **cells)
{
	json_t *matrix = json_object_get(root, "matrix"), *topo = json_object_get(root, "topology");
	json_t *defaults = json_object_get(root, "defaults");
	json_t *excl = json_object_get(root, "exclude"), *incl = json_object_get(root, "include");

	/* the suite's topology is a default like the others */
	json_t *defs = defaults ? json_deep_copy(defaults) : json_object();
	if (topo && !json_object_get(defs, "topology"))
		json_object_set(defs, "topology", topo);
	json_object_del(m, "topology");
	if (json_object_get(matrix, "topology"))
		json_object_set(m, "topology", json_object_get(matrix, "topology"));
	struct expand x = {sp, m, excl, json_array()};
	/* an empty matrix crosses nothing: the cells are the include list */
	json_t *cur = json_deep_copy(defs);
	int rc = json_object_size(m) ? cross(&x, 0, cur) : 0;
	json_decref(cur);
	if (rc < 0) {
		jdoc_err(sp->doc, sp->err, matrix, "matrix: more than %d cells", SUITE_MAX_CELLS);
		json_decref(x.cells);
		json_decref(defs);
		return rc;
	}
	/* include: the matrix's single values, then the entry's own fields */
	size_t i;
	json_t *e;
	json_array_foreach(incl, i, e)
	{
		json_t *c = json_deep_copy(defs);
		json_object_update(c, e);
		json_array_append_new(x.cells, c);
	}
	json_decref(defs);
	*cells = x.cells;
	return 0;
}

/* S's cells from their field objects CELLS: each names a topology, none twice. */
static int suite_cells(struct sp *sp, json_t *root, json_t *cells, struct suite *s)
{
	json_t *matrix = json_object_get(root, "matrix"), *incl = json_object_get(root, "include");
	size_t i;
	json_t *e;

	s->ncells = (int)json_array_size(cells);
	s->cells = calloc((size_t)s->ncells + 1, sizeof(*s->cells));
	if (!s->cells)
		return -ENOMEM;
	json_array_foreach(cells, i, e)
	{
		if (!json_object_get(e, "topology")) {
			jdoc_err(sp->doc, sp->err, root,
				 "suite: say which topology (\"topology\": FILE at the top, "
				 "in \"defaults\", in the matrix, or in each include entry)");
			return -EINVAL;
		}
		cell_from_fields(&s->cells[i], e, sp->dir);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->cells[j].id, s->cells[i].id)) {
				size_t from =
				    i >= json_array_size(cells) - json_array_size(incl)
					? i - (json_array_size(cells) - json_array_size(incl))
					: 0;
				jdoc_err(sp->doc, sp->err,
					 incl ? json_array_get(incl, from) : matrix,
					 "suite: the same cell twice (%s)", s->cells[i].id);
				return -EINVAL;
			}
	}
	if (s->ncells == 0) {
		jdoc_err(sp->doc, sp->err, matrix,
			 "suite: no cells (an empty matrix and no include, or "
			 "exclude removed them all)");
		return -EINVAL;
	}
	return 0;
}

static int suite_from_doc(struct jdoc *doc, const char *dir, struct suite *s, struct perr *err)
{
	static const char *const top[] = {"description", "topology", "defaults",       "matrix",
					  "include",	 "exclude",  "trials",	       "rounds",
					  "probes",	 "seed",     "keep_conntrack", NULL};
	struct sp sp = {doc, err, dir};
	json_t *root = jdoc_root(doc), *m = NULL, *cells = NULL;
	int rc;

	if (!json_is_object(root)) {
		jdoc_err(doc, err, root, "a suite must be a JSON object with a \"matrix\"");
		return -EINVAL;
	}
	if (jdoc_check_fields(doc, err, root, "suite", top) < 0 || suite_settings(&sp, root, s) < 0)
		return -EINVAL;
	rc = suite_matrix(&sp, root, &m);
	if (rc == 0)
		rc = suite_check_cells(&sp, root);
	if (rc == 0)
		rc = suite_expand(&sp, root, m, &cells);
	if (rc == 0)
		rc = suite_cells(&sp, root, cells, s);
	json_decref(cells);
	json_decref(m);
	return rc;
}

static int suite_finish(const char *name, const char *buf, size_t len, struct suite **out,
			struct perr *err)
{
	struct jdoc *doc;
	struct suite *s;
	char dir[PATH_MAX];
	int rc = jdoc_load_buffer(name, buf, len, &doc, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(name))) {
		free(s);
		jdoc_free(doc);
		perr_set(err, name, 0, 0, "out of memory");
		return -ENOMEM;
	}
	snprintf(dir, sizeof(dir), "%s", name);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	sha256_hex(buf, len, s->hash);
	rc = suite_from_doc(doc, dir, s, err);
	jdoc_free(doc);
	if (rc < 0) {
		suite_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int suite_parse_buffer(const char *name, const char *buf, size_t len, struct suite **out,
		       struct perr *err)
{
	return suite_finish(name, buf, len, out, err);
}

int suite_load(const char *path, struct suite **out, struct perr *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perr_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
		return -errno;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (len == cap) {
			char *nb =
			    cap < (16u << 20) ? realloc(buf, cap = cap ? cap * 2 : 8192) : NULL;
			if (!nb) {
				free(buf);
				fclose(f);
				perr_set(err, path, 0, 0, "file too large");
				return -EFBIG;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	int rc = suite_finish(path, buf ? buf : "", len, out, err);
	free(buf);
	return rc;
}

void suite_free(struct suite *s)
{
	if (!s)
		return;
	for (int i = 0; s->cells && i < s->ncells; i++)
		json_decref(s->cells[i].fields);
	free(s->cells);
	free(s->description);
	free(s->path);
	free(s);
}
