// SPDX-License-Identifier: MIT
#include "suite.h"
#include "lab/natprofile.h"
#include "punch/heuristic.h"
#include "punch/heurexec.h"
#include "punch/osprof.h"
#include "punch/method.h"
#include "punch/peer.h"
#include "util/jdoc.h"
#include "util/registry.h"
#include "util/sha256.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUITE_MAX_CELLS 100000
#define SUITE_MAX_ARGS 64

enum ftype { F_STR, F_BOOL, F_INT, F_NUM, F_ARGV };

/* The fields a cell has, in the order cells are crossed: a registry. */
static const struct field {
	const char *name;
	enum ftype type;
	double lo, hi; /* numbers */
} fields[] = {
    {.name = "topology", .type = F_STR},
    {.name = "nat", .type = F_STR},
    {.name = "hairpin", .type = F_BOOL},
    {.name = "os_a", .type = F_STR},
    {.name = "os_b", .type = F_STR},
    {.name = "proxy_a", .type = F_BOOL},
    {.name = "proxy_b", .type = F_BOOL},
    {.name = "heuristic", .type = F_STR},
    {.name = "method", .type = F_STR},
    {.name = "runtime", .type = F_STR},
    {.name = "guesses", .type = F_INT, .lo = 1, .hi = 16},
    {.name = "delay_ms", .type = F_NUM, .lo = 0, .hi = 10000},
    {.name = "jitter_ms", .type = F_NUM, .lo = 0, .hi = 10000},
    {.name = "jitter_dist", .type = F_STR},
    {.name = "skew_ms", .type = F_NUM, .lo = 0, .hi = 10000},
    {.name = "skew_jitter_ms", .type = F_NUM, .lo = 0, .hi = 10000},
    {.name = "skew_dist", .type = F_STR},
    {.name = "background_a", .type = F_NUM, .lo = 0, .hi = 100000},
    {.name = "background_b", .type = F_NUM, .lo = 0, .hi = 100000},
    {.name = "background_tcp", .type = F_NUM, .lo = 0, .hi = 1},
    {.name = "background_on_s", .type = F_NUM, .lo = 0, .hi = 86400},
    {.name = "background_off_s", .type = F_NUM, .lo = 0, .hi = 86400},
    {.name = "heuristic_timeout_ms", .type = F_INT, .lo = 1, .hi = 60000},
    {.name = "stunt_ttl", .type = F_INT, .lo = 1, .hi = 255},
    {.name = "peer_a_command", .type = F_ARGV},
    {.name = "peer_b_command", .type = F_ARGV},
    {.name = "command_timeout_ms", .type = F_INT, .lo = 100, .hi = 600000},
    {.name = "command_go_ms", .type = F_INT, .lo = 0, .hi = 60000},
    {.name = "command_rendezvous", .type = F_STR},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct sp {
	struct jdoc *doc;
	struct perr *err;
	const char *dir;
};

/* argv[0] of a command: with a slash, a path (relative ones from the suite's
 * directory DIR, as topologies are); without, looked up in PATH. A new
 * string, or NULL when no executable file is there. */
char *suite_command_path(const char *dir, const char *word)
{
	char path[PATH_MAX];
	if (strchr(word, '/')) {
		snprintf(path, sizeof(path), "%s%s%s", word[0] == '/' ? "" : dir,
			 word[0] == '/' ? "" : "/", word);
		return access(path, X_OK) == 0 ? realpath(path, NULL) : NULL;
	}
	const char *env = getenv("PATH");
	const char *p = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		size_t n = strcspn(p, ":");
		snprintf(path, sizeof(path), "%.*s/%s", (int)n, n ? p : ".", word);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
			return strdup(path);
		p += n + (p[n] == ':');
	}
	return NULL;
}

/* A command: a non-empty array of at most SUITE_MAX_ARGS strings without
 * NUL, whose first word names an executable file (checked here, so that a
 * missing program is one error before the run, not a failure per trial). */
static int check_argv(struct sp *sp, const struct field *f, json_t *v, const char *where)
{
	size_t i;
	json_t *w;
	if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > SUITE_MAX_ARGS) {
		jdoc_err(sp->doc, sp->err, v,
			 "%s: \"%s\" must be a command: an array of 1 to %d strings, the program "
			 "and its arguments (in a matrix, a list of such arrays)",
			 where, f->name, SUITE_MAX_ARGS);
		return -EINVAL;
	}
	json_array_foreach(v, i, w)
	{
		if (!json_is_string(w) || strlen(json_string_value(w)) != json_string_length(w) ||
		    (i == 0 && !json_string_length(w))) {
			jdoc_err(sp->doc, sp->err, w,
				 "%s: \"%s\": word %zu must be a string without NUL%s", where,
				 f->name, i, i ? "" : ", not empty");
			return -EINVAL;
		}
	}
	const char *prog = json_string_value(json_array_get(v, 0));
	char *exe = suite_command_path(sp->dir, prog);
	if (!exe) {
		jdoc_err(sp->doc, sp->err, json_array_get(v, 0),
			 "%s: \"%s\": command \"%s\" not found%s", where, f->name, prog,
			 strchr(prog, '/') ? " or not executable (a relative path is from the "
					     "suite's directory)"
					   : " in PATH");
		return -EINVAL;
	}
	free(exe);
	return 0;
}

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
	case F_ARGV:
		return check_argv(sp, f, v, where);
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
	if (!strcmp(f->name, "heuristic") && heurx_is_spec(s)) {
		char words[1024], *argv[HEURX_MAX_ARGS + 1];
		if (heurx_parse_spec(s, words, sizeof(words), argv, known, sizeof(known)) < 0) {
			jdoc_err(sp->doc, sp->err, v, "%s: heuristic \"%s\": %s", where, s, known);
			return -EINVAL;
		}
	} else if (!strcmp(f->name, "heuristic") && !heuristic_by_name(s)) {
		snprintf(known, sizeof(known), "%s", heuristic_names());
		jdoc_err(sp->doc, sp->err, v, "%s: unknown heuristic \"%s\" (known: %s)", where, s,
			 known);
		return -EINVAL;
	}
	if ((!strcmp(f->name, "jitter_dist") || !strcmp(f->name, "skew_dist")) &&
	    strcmp(s, "uniform") && strcmp(s, "normal")) {
		jdoc_err(sp->doc, sp->err, v, "%s: unknown %s \"%s\" (known: uniform, normal)",
			 where, f->name, s);
		return -EINVAL;
	}
	if (!strcmp(f->name, "runtime") && strcmp(s, "plain") && strcmp(s, "flash")) {
		jdoc_err(sp->doc, sp->err, v, "%s: unknown runtime \"%s\" (known: plain, flash)",
			 where, s);
		return -EINVAL;
	}
	if (!strcmp(f->name, "command_rendezvous") && strcmp(s, "command") && strcmp(s, "runner")) {
		jdoc_err(sp->doc, sp->err, v,
			 "%s: unknown command_rendezvous \"%s\" (known: command, runner)", where, s);
		return -EINVAL;
	}
	enum punch_method m;
	if (!strcmp(f->name, "method") && punch_method_parse(s, &m) < 0) {
		jdoc_err(sp->doc, sp->err, v, "%s: unknown method \"%s\" (known: %s)", where, s,
			 method_names());
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

#define FIELD_REGISTRY REGISTRY_ARRAY(fields, NFIELDS)

static const struct field *field_by_name(const char *name)
{
	return registry_find(FIELD_REGISTRY, name);
}

static const char *field_names(void)
{
	static _Thread_local char buf[REGISTRY_NAMES_MAX];

	return registry_names(FIELD_REGISTRY, buf, sizeof(buf));
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

/* The topology S, from the suite's directory DIR: a new string, or NULL. */
static char *resolve_topology(const char *dir, const char *s)
{
	char tmp[2 * PATH_MAX], *real;
	if (s[0] == '/')
		snprintf(tmp, sizeof(tmp), "%s", s);
	else
		snprintf(tmp, sizeof(tmp), "%s/%s", dir, s);
	if ((real = realpath(tmp, NULL)))
		return real;
	return strndup(tmp, PATH_MAX - 1);
}

/* Fills the struct cell from its fields object (already valid): 0 or -ENOMEM. */
static int cell_from_fields(struct cell *c, json_t *o, const char *dir)
{
	json_t *v;
	memset(c, 0, offsetof(struct cell, fields));
	snprintf(c->os_a, sizeof(c->os_a), "native");
	snprintf(c->os_b, sizeof(c->os_b), "native");
	c->heuristic = "delta";
	c->hairpin = -1;
	c->guesses = 1;
	c->delay_ms = -1;
	c->jitter_ms = -1;
	if ((v = json_object_get(o, "topology")) &&
	    !(c->topology = resolve_topology(dir, json_string_value(v))))
		return -ENOMEM;
	if ((v = json_object_get(o, "os_a")))
		snprintf(c->os_a, sizeof(c->os_a), "%s", json_string_value(v));
	if ((v = json_object_get(o, "os_b")))
		snprintf(c->os_b, sizeof(c->os_b), "%s", json_string_value(v));
	if ((v = json_object_get(o, "nat")))
		snprintf(c->nat, sizeof(c->nat), "%s", json_string_value(v));
	/* a name, or an external program's "exec:..." of any length: the
	 * string lives in the cell's fields, as long as the cell */
	if ((v = json_object_get(o, "heuristic")))
		c->heuristic = json_string_value(v);
	enum punch_method m = METHOD_PREDICT;
	if ((v = json_object_get(o, "method")))
		punch_method_parse(json_string_value(v), &m);
	c->method = (int)m;
	c->stunt_ttl = (v = json_object_get(o, "stunt_ttl")) ? (int)json_integer_value(v) : 0;
	c->flash = (v = json_object_get(o, "runtime")) && !strcmp(json_string_value(v), "flash");
	c->jitter_dist = !(v = json_object_get(o, "jitter_dist"))	  ? -1
			 : !strcmp(json_string_value(v), "normal") ? 1
								  : 0;
	c->skew_normal = (v = json_object_get(o, "skew_dist")) &&
			 !strcmp(json_string_value(v), "normal");
	c->proxy_a = json_is_true(json_object_get(o, "proxy_a"));
	c->proxy_b = json_is_true(json_object_get(o, "proxy_b"));
	if ((v = json_object_get(o, "hairpin")))
		c->hairpin = json_is_true(v);
	if ((v = json_object_get(o, "guesses")))
		c->guesses = (int)json_integer_value(v);
	if ((v = json_object_get(o, "delay_ms")))
		c->delay_ms = json_number_value(v);
	if ((v = json_object_get(o, "jitter_ms")))
		c->jitter_ms = json_number_value(v);
	if ((v = json_object_get(o, "skew_ms")))
		c->skew_ms = json_number_value(v);
	if ((v = json_object_get(o, "skew_jitter_ms")))
		c->skew_jitter_ms = json_number_value(v);
	if ((v = json_object_get(o, "background_a")))
		c->background_a = json_number_value(v);
	if ((v = json_object_get(o, "background_b")))
		c->background_b = json_number_value(v);
	c->background_tcp = 1;
	if ((v = json_object_get(o, "background_tcp")))
		c->background_tcp = json_number_value(v);
	if ((v = json_object_get(o, "background_on_s")))
		c->background_on_s = json_number_value(v);
	if ((v = json_object_get(o, "background_off_s")))
		c->background_off_s = json_number_value(v);
	c->command_timeout_ms = 10000;
	c->command_go_ms = 500;
	c->command_rendezvous = (v = json_object_get(o, "command_rendezvous")) &&
				!strcmp(json_string_value(v), "runner");
	if ((v = json_object_get(o, "command_go_ms")))
		c->command_go_ms = (int)json_integer_value(v);
	if ((v = json_object_get(o, "command_timeout_ms")))
		c->command_timeout_ms = (int)json_integer_value(v);
	for (int k = 0; k < 2; k++)
		if ((v = json_object_get(o, k ? "peer_b_command" : "peer_a_command"))) {
			c->command[k] = v;
			c->command_exe[k] =
			    suite_command_path(dir, json_string_value(json_array_get(v, 0)));
			if (!c->command_exe[k])
				return -ENOENT;
		}
	c->heuristic_timeout_ms = HEURX_DEFAULT_TIMEOUT_MS;
	if ((v = json_object_get(o, "heuristic_timeout_ms")))
		c->heuristic_timeout_ms = (int)json_integer_value(v);
	/* the id names the combination, not its position: stable across edits,
	 * shards and resumes */
	char *canon = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	char h[65];
	if (!canon)
		return -ENOMEM;
	sha256_hex(canon, strlen(canon), h);
	free(canon);
	snprintf(c->id, sizeof(c->id), "%.12s", h);
	c->fields = json_incref(o);
	return 0;
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

/* The suite's own settings: description, trials, rounds, probes, seed, keep_conntrack. */
static int parse_settings(struct sp *sp, json_t *root, struct suite *s)
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

/* The matrix as field -> [values], every value checked; a scalar is a
 * one-value list. A new object in *OUT. */
static int parse_matrix(struct sp *sp, json_t *root, json_t **out)
{
	json_t *matrix = json_object_get(root, "matrix"), *v;
	const char *k;

	if (!matrix && json_object_get(root, "include")) {
		*out = json_object(); /* the cells are the include list */
		return *out ? 0 : -ENOMEM;
	}
	if (!matrix) {
		jdoc_err(sp->doc, sp->err, root,
			 "suite: give a \"matrix\" (fields and the values to cross) or an "
			 "\"include\" list of cells");
		return -EINVAL;
	}
	if (!json_is_object(matrix)) {
		jdoc_err(sp->doc, sp->err, matrix,
			 "suite: \"matrix\" must be an object of field: [values]");
		return -EINVAL;
	}
	json_t *m = json_object();
	json_object_foreach(matrix, k, v)
	{
		const struct field *f = field_by_name(k);
		if (!f) {
			jdoc_err_member(sp->doc, sp->err, matrix, k,
					"matrix: unknown field \"%s\" (known: %s)", k,
					field_names());
			json_decref(m);
			return -EINVAL;
		}
		json_t *arr = json_is_array(v) ? json_incref(v) : json_pack("[O]", v);
		json_object_set_new(m, k, arr);
		if (json_array_size(arr) == 0) {
			jdoc_err(sp->doc, sp->err, v, "matrix: \"%s\" has no values", k);
			json_decref(m);
			return -EINVAL;
		}
		size_t i;
		json_t *e;
		char where[64];
		snprintf(where, sizeof(where), "matrix.%s", k);
		json_array_foreach(arr, i, e) if (check_value(sp, f, e, where) < 0)
		{
			json_decref(m);
			return -EINVAL;
		}
	}
	*out = m;
	return 0;
}

/* The suite's topology, its defaults, and its exclude and include cells. */
static int check_cell_lists(struct sp *sp, json_t *root)
{
	json_t *topo = json_object_get(root, "topology");
	json_t *defaults = json_object_get(root, "defaults");

	if (topo && check_value(sp, field_by_name("topology"), topo, "suite") < 0)
		return -EINVAL;
	if (defaults && check_cell_object(sp, defaults, "defaults") < 0)
		return -EINVAL;
	for (int pass = 0; pass < 2; pass++) {
		const char *key = pass ? "include" : "exclude";
		json_t *list = json_object_get(root, key), *e;
		size_t i;
		if (!list)
			continue;
		if (!json_is_array(list)) {
			jdoc_err(sp->doc, sp->err, list, "suite: \"%s\" must be an array of cells",
				 key);
			return -EINVAL;
		}
		json_array_foreach(list, i,
				   e) if (check_cell_object(sp, e, key) < 0) return -EINVAL;
	}
	return 0;
}

/* The cells' field objects: the matrix M crossed over the defaults (the
 * suite's topology among them) less exclude, then include. A new array in
 * *OUT. */
static int expand_cells(struct sp *sp, json_t *root, json_t *m, json_t **out)
{
	json_t *matrix = json_object_get(root, "matrix"), *topo = json_object_get(root, "topology");
	json_t *defaults = json_object_get(root, "defaults"), *e;
	size_t i;

	/* the suite's topology is a default like the others */
	json_t *defs = defaults ? json_deep_copy(defaults) : json_object();
	if (topo && !json_object_get(defs, "topology"))
		json_object_set(defs, "topology", topo);
	/* the topology is crossed last (its values, as check_matrix made them
	 * an array: a single "topology": FILE in the matrix is one value) */
	json_t *topos = json_incref(json_object_get(m, "topology"));
	json_object_del(m, "topology");
	if (topos)
		json_object_set_new(m, "topology", topos);
	struct expand x = {sp, m, json_object_get(root, "exclude"), json_array()};
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
	json_array_foreach(json_object_get(root, "include"), i, e)
	{
		json_t *c = json_deep_copy(defs);
		json_object_update(c, e);
		json_array_append_new(x.cells, c);
	}
	json_decref(defs);
	*out = x.cells;
	return 0;
}

/* The error for CELLS[I], the second of two equal cells: at its include
 * entry, or at the matrix that made it. */
static int duplicate_cell(struct sp *sp, json_t *root, json_t *cells, size_t i, const char *id)
{
	json_t *matrix = json_object_get(root, "matrix"), *incl = json_object_get(root, "include");
	size_t first_incl = json_array_size(cells) - json_array_size(incl);
	jdoc_err(sp->doc, sp->err,
		 incl && i >= first_incl ? json_array_get(incl, i - first_incl) : matrix,
		 "suite: the same cell twice (%s)", id);
	return -EINVAL;
}

/* S's cells from their field objects CELLS: each with a topology, none twice
 * (a hash set of the ids: 100,000 cells were 5e9 comparisons). */
static int fill_cells(struct sp *sp, json_t *root, json_t *cells, struct suite *s)
{
	json_t *matrix = json_object_get(root, "matrix"), *e, *seen = json_object();
	size_t i;
	int rc = 0;

	s->ncells = (int)json_array_size(cells);
	s->cells = calloc((size_t)s->ncells + 1, sizeof(*s->cells));
	if (!s->cells || !seen) {
		json_decref(seen);
		return -ENOMEM;
	}
	json_array_foreach(cells, i, e)
	{
		if (!json_object_get(e, "topology")) {
			jdoc_err(sp->doc, sp->err, root,
				 "suite: say which topology (\"topology\": FILE at the top, "
				 "in \"defaults\", in the matrix, or in each include entry)");
			rc = -EINVAL;
			break;
		}
		if ((rc = cell_from_fields(&s->cells[i], e, sp->dir)) < 0) {
			if (rc == -ENOENT) /* it was there when checked a moment ago */
				jdoc_err(sp->doc, sp->err, e, "suite: a command is gone");
			break;
		}
		if (json_object_get(seen, s->cells[i].id)) {
			rc = duplicate_cell(sp, root, cells, i, s->cells[i].id);
			break;
		}
		if (json_object_set_new(seen, s->cells[i].id, json_true()) < 0) {
			rc = -ENOMEM;
			break;
		}
	}
	json_decref(seen);
	if (rc == 0 && s->ncells == 0) {
		jdoc_err(sp->doc, sp->err, matrix,
			 "suite: no cells (an empty matrix and no include, or "
			 "exclude removed them all)");
		rc = -EINVAL;
	}
	return rc;
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
	if (jdoc_check_fields(doc, err, root, "suite", top) < 0)
		return -EINVAL;
	if ((rc = parse_settings(&sp, root, s)) < 0 || (rc = parse_matrix(&sp, root, &m)) < 0)
		return rc;
	if ((rc = check_cell_lists(&sp, root)) == 0 &&
	    (rc = expand_cells(&sp, root, m, &cells)) == 0)
		rc = fill_cells(&sp, root, cells, s);
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
	for (int i = 0; s->cells && i < s->ncells; i++) {
		json_decref(s->cells[i].fields);
		free(s->cells[i].topology);
		free(s->cells[i].command_exe[0]);
		free(s->cells[i].command_exe[1]);
	}
	free(s->cells);
	free(s->description);
	free(s->path);
	free(s);
}
