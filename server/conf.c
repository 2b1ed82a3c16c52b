/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The config loader: reads lintel.conf with libconfig, applies each setting
 * through the key table (conf_keys.c), then checks what spans settings
 * (listeners, upstream references, users).  Every error is reported with its
 * file and line, and loading goes on so that all of them are seen at once.
 */
#include "config.h"

#include <sys/stat.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "access_log.h"
#include "conf.h"
#include "conf_keys.h"
#include "module.h"
#include "conf_value.h"
#include "mime.h"
#include "tls_conf.h"
#include "util.h"

#define BACKLOG_DEFAULT	511

/* A listen entry waiting for every site to be read. */
struct pending_listen {
	lnt_site_t			*site;
	struct sockaddr_storage		 addr;
	socklen_t			 len;
	char				 text[64];
	int				 backlog;	/* or LNT_UNSET */
	bool				 tls;		/* the "tls" flag */
	bool				 proxy_protocol;
	const config_setting_t		*s;
};

/* A route's upstream name waiting for every upstream to be read. */
struct pending_ref {
	lnt_route_t			*route;
	char				*name;
	const config_setting_t		*s;
};

struct lnt_cf_s {
	lnt_conf_t		*conf;
	lnt_strlist_t		*errors;
	size_t			 nerrors;
	char			*dir;		/* main file's dir, absolute */
	char			*shown_dir;	/* as written; NULL for "." */
	config_setting_t	*root;
	struct pending_listen	*listens;
	size_t			 nlistens;
	struct pending_ref	*refs;
	size_t			 nrefs;
	const config_setting_t	**backlog_at;	/* per listener: who set it */
	const char		*module;	/* whose key is being read */
};

void
lnt_conf_set_module(lnt_cf_t *cf, const char *name)
{
	cf->module = name;
}

const char *
lnt_conf_module(const lnt_cf_t *cf)
{
	return cf->module;
}

/*
 * The file name to show for <name>, a name libconfig recorded: it keeps
 * included files as written in @include, relative to the include dir.
 * Interned in the conf so file/line fields outlive libconfig.
 */
static const char *
intern_file(lnt_cf_t *cf, const char *name)
{
	lnt_conf_t *conf = cf->conf;
	char *shown;
	size_t i;

	if (name == NULL || strcmp(name, conf->path) == 0)
		shown = lnt_xstrdup(conf->path);
	else if (name[0] == '/' || cf->shown_dir == NULL)
		shown = lnt_xstrdup(name);
	else
		shown = lnt_xasprintf("%s/%s", cf->shown_dir, name);
	for (i = 0; i < conf->nfiles; i++)
		if (strcmp(conf->files[i], shown) == 0) {
			free(shown);
			return conf->files[i];
		}
	conf->files = lnt_xrealloc(conf->files,
	    (conf->nfiles + 1) * sizeof(*conf->files));
	conf->files[conf->nfiles++] = shown;
	return shown;
}

/* Report "<file>:<line>: message"; the common end of every error. */
static void
verror_at(lnt_cf_t *cf, const char *file, int line, const char *fmt,
    va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		lnt_strlist_addf(cf->errors, "%s:%d: %s", file, line, msg);
	else
		lnt_strlist_addf(cf->errors, "%s: %s", cf->conf->path, msg);
	cf->nerrors++;
}

static void
error_at(lnt_cf_t *cf, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
error_at(lnt_cf_t *cf, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(cf, file, line, fmt, ap);
	va_end(ap);
}

/*
 * Report "<file>:<line>: message" for the config loaded by <cf> when no
 * setting is at hand (<file> as interned in the conf); counts the error.
 */
void
lnt_conf_error_at(lnt_cf_t *cf, const char *file, int line, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(cf, file, line, fmt, ap);
	va_end(ap);
}

/*
 * Report "file:line: message" for setting <s> of the config being loaded
 * by <cf>, or "path: message" when <s> is NULL or the root; <fmt> is a
 * printf format.  Counts the error; the caller carries on.
 */
void
lnt_conf_error(lnt_cf_t *cf, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int line;

	line = s != NULL ? (int)config_setting_source_line(s) : 0;
	va_start(ap, fmt);
	verror_at(cf, line > 0 ? intern_file(cf,
	    config_setting_source_file(s)) : NULL, line, fmt, ap);
	va_end(ap);
}

/*
 * Describe the value of setting <s> into <buf> of <len> bytes the way it
 * was written: 5, 1.5, true, "text" (cut at 64 bytes), a group, a list.
 */
void
lnt_conf_describe(const config_setting_t *s, char *buf, size_t len)
{
	const char *v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, len, "%lld", config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, len, "%g", config_setting_get_float(s));
		break;
	case CONFIG_TYPE_BOOL:
		snprintf(buf, len, "%s",
		    config_setting_get_bool(s) ? "true" : "false");
		break;
	case CONFIG_TYPE_STRING:
		v = config_setting_get_string(s);
		snprintf(buf, len, "\"%.64s%s\"", v,
		    strlen(v) > 64 ? "..." : "");
		break;
	case CONFIG_TYPE_GROUP:
		snprintf(buf, len, "a group");
		break;
	case CONFIG_TYPE_ARRAY:
		snprintf(buf, len, "an array");
		break;
	default:
		snprintf(buf, len, "a list");
		break;
	}
}

/* Append ", from X to Y" style bounds of <key> for <type> to <buf>. */
static void
describe_range(const lnt_key_t *key, char *buf, size_t len)
{
	char lo[32], hi[32];

	if (key->type == LNT_KEY_DURATION) {
		lnt_conf_format_duration(key->min, lo, sizeof(lo));
		lnt_conf_format_duration(key->max, hi, sizeof(hi));
	} else if (key->type == LNT_KEY_SIZE) {
		lnt_conf_format_size(key->min, lo, sizeof(lo));
		lnt_conf_format_size(key->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%lld", (long long)key->min);
		snprintf(hi, sizeof(hi), "%lld", (long long)key->max);
	}
	if (key->max == INT64_MAX && key->min == 0)
		buf[0] = '\0';
	else if (key->max == INT64_MAX)
		snprintf(buf, len, " of at least %s", lo);
	else
		snprintf(buf, len, " from %s to %s", lo, hi);
}

/* What row <key> takes, as "expected ..." text, into <buf>. */
static void
describe_expected(const lnt_key_t *key, char *buf, size_t len)
{
	char range[80];
	size_t i, off;

	describe_range(key, range, sizeof(range));
	switch (key->type) {
	case LNT_KEY_STR:
		snprintf(buf, len, "a non-empty string");
		break;
	case LNT_KEY_INT:
		snprintf(buf, len, "an integer%s", range);
		break;
	case LNT_KEY_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case LNT_KEY_DURATION:
		snprintf(buf, len, "a duration%s such as \"30s\" or an "
		    "integer of seconds", range);
		break;
	case LNT_KEY_SIZE:
		snprintf(buf, len, "a size%s such as \"16k\" or an integer "
		    "of bytes", range);
		break;
	case LNT_KEY_ENUM:
		off = (size_t)snprintf(buf, len, "one of");
		for (i = 0; key->values[i] != NULL && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s %s",
			    i == 0 ? "" : ",", key->values[i]);
		break;
	case LNT_KEY_STR_OR_LIST:
		snprintf(buf, len, "a string or a list of strings");
		break;
	case LNT_KEY_STR_LIST:
		snprintf(buf, len, "a list of strings");
		break;
	case LNT_KEY_GROUP:
		snprintf(buf, len, "a group { ... }");
		break;
	case LNT_KEY_LIST:
		snprintf(buf, len, "a list of groups ( { ... }, ... )");
		break;
	case LNT_KEY_BOOL_OR_GROUP:
		snprintf(buf, len, "true, false or a group { ... }");
		break;
	}
}

/*
 * Report that setting <s> does not have the type or value row <key> of
 * the config loaded by <cf> takes: "key: expected X, got Y".
 */
void
lnt_conf_type_error(lnt_cf_t *cf, const lnt_key_t *key,
    const config_setting_t *s)
{
	char want[256], got[96];

	describe_expected(key, want, sizeof(want));
	lnt_conf_describe(s, got, sizeof(got));
	lnt_conf_error(cf, s, "%s: expected %s, got %s", key->name, want,
	    got);
}

static bool
get_integer(const config_setting_t *s, int64_t *v)
{
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return false;
	*v = config_setting_get_int64(s);
	return true;
}

static bool
in_range(const lnt_key_t *key, int64_t v)
{
	return v >= key->min && v <= key->max;
}

static void
set_str(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *field)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    config_setting_get_string(s)[0] == '\0') {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	free(*(char **)field);
	*(char **)field = lnt_xstrdup(config_setting_get_string(s));
}

static void
set_int(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *field)
{
	int64_t v;

	if (!get_integer(s, &v) || !in_range(key, v)) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	*(int *)field = (int)v;
}

static void
set_bool(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *field)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	*(bool *)field = config_setting_get_bool(s);
}

/*
 * A duration or a size: an integer counts <unit> (1000 ms a second, 1
 * byte), a string goes through <parse>.  Floats and booleans are refused
 * rather than guessed at.
 */
static void
set_quantity(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *field, int64_t unit, const char *(*parse)(const char *, int64_t *))
{
	const char *msg;
	int64_t v;

	if (get_integer(s, &v)) {
		if (v < 0) {
			lnt_conf_type_error(cf, key, s);
			return;
		}
		if (v > INT64_MAX / unit) {
			lnt_conf_error(cf, s, "%s: %s is too large, got %lld",
			    key->name, key->type == LNT_KEY_SIZE ? "size" :
			    "duration", (long long)v);
			return;
		}
		v *= unit;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if ((msg = parse(config_setting_get_string(s), &v)) != NULL) {
			lnt_conf_error(cf, s, "%s: %s, got \"%s\"", key->name,
			    msg, config_setting_get_string(s));
			return;
		}
	} else {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	if (!in_range(key, v)) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	*(int64_t *)field = v;
}

static void
set_enum(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *field)
{
	const char *v;
	int i;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		for (i = 0; key->values[i] != NULL; i++)
			if (strcmp(key->values[i], v) == 0) {
				*(int *)field = i;
				return;
			}
	}
	lnt_conf_type_error(cf, key, s);
}

/* A string or a list of strings into a char ** field and its count. */
static void
set_str_list(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *field, size_t *count)
{
	char ***items = field;
	config_setting_t *e;
	int type = config_setting_type(s);
	unsigned i, n;

	if (type == CONFIG_TYPE_STRING && key->type == LNT_KEY_STR_OR_LIST) {
		*items = lnt_xcalloc(1, sizeof(char *));
		(*items)[0] = lnt_xstrdup(config_setting_get_string(s));
		*count = 1;
		return;
	}
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	n = (unsigned)config_setting_length(s);
	*items = lnt_xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			lnt_conf_type_error(cf, key, e);
			continue;
		}
		(*items)[(*count)++] =
		    lnt_xstrdup(config_setting_get_string(e));
	}
}

/*
 * A list of groups: an array of the child scope's structs, each walked in
 * turn.  The array and its count are stored before the walk so setters can
 * see the entries already read (duplicate names).
 */
static void
set_group_list(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *field, size_t *count)
{
	const lnt_scope_t *sc = lnt_conf_scope(key->child);
	config_setting_t *e;
	unsigned i, n;
	char *elem, got[96];

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	n = (unsigned)config_setting_length(s);
	if ((int64_t)n < key->min) {
		lnt_conf_error(cf, s, "%s: expected at least %lld %s, got an "
		    "empty list", key->name, (long long)key->min,
		    key->min == 1 ? "entry" : "entries");
		return;
	}
	*(void **)field = lnt_xcalloc(n, sc->size);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			lnt_conf_describe(e, got, sizeof(got));
			lnt_conf_error(cf, e, "%s: expected a group { ... } "
			    "in the list, got %s", key->name, got);
			continue;
		}
		elem = (char *)*(void **)field + *count * sc->size;
		lnt_conf_scope_init(cf, key->child, elem, e);
		(*count)++;
		lnt_conf_walk(cf, e, key->child, elem);
	}
}

/*
 * Store setting <s> by the generic rule for row <key>'s type into the
 * struct <base> (the scope's lnt_limits_t for a limit row), reporting a
 * type, unit or range error through <cf>.
 */
void
lnt_conf_set_generic(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	void *field = (char *)base + key->offset;

	switch (key->type) {
	case LNT_KEY_STR:
		set_str(cf, key, s, field);
		break;
	case LNT_KEY_INT:
		set_int(cf, key, s, field);
		break;
	case LNT_KEY_BOOL:
		set_bool(cf, key, s, field);
		break;
	case LNT_KEY_DURATION:
		set_quantity(cf, key, s, field, 1000, lnt_parse_duration);
		break;
	case LNT_KEY_SIZE:
		set_quantity(cf, key, s, field, 1, lnt_parse_size);
		break;
	case LNT_KEY_ENUM:
		set_enum(cf, key, s, field);
		break;
	case LNT_KEY_STR_OR_LIST:
	case LNT_KEY_STR_LIST:
		set_str_list(cf, key, s, field,
		    (size_t *)((char *)base + key->count_offset));
		break;
	case LNT_KEY_LIST:
		set_group_list(cf, key, s, field,
		    (size_t *)((char *)base + key->count_offset));
		break;
	case LNT_KEY_GROUP:
	case LNT_KEY_BOOL_OR_GROUP:
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			lnt_conf_type_error(cf, key, s);
		else
			lnt_conf_walk(cf, s, key->child, field);
		break;
	}
}

/* Edit distance of <a> and <b>, both shorter than 64 bytes. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, d[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = d[j];
			d[j] = prev + (a[i - 1] != b[j - 1]);
			if (d[j] > d[j - 1] + 1)
				d[j] = d[j - 1] + 1;
			if (d[j] > cur + 1)
				d[j] = cur + 1;
			prev = cur;
		}
	}
	return d[lb];
}

/*
 * The candidate among <n> <cands> that <name> most likely misspells: the
 * closest within an edit distance of 2, else one that <name> is a prefix
 * of (or the other way round).  NULL if none is close.
 */
const char *
lnt_conf_suggest(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t i, d, bestd = 3, len = strlen(name);

	for (i = 0; i < n; i++)
		if ((d = edit_distance(name, cands[i])) < bestd) {
			bestd = d;
			best = cands[i];
		}
	if (best != NULL || len < 3)
		return best;
	for (i = 0; i < n; i++)
		if (strncmp(name, cands[i], len) == 0 ||
		    strncmp(name, cands[i], strlen(cands[i])) == 0)
			return cands[i];
	return NULL;
}

/* Report the member <s> named <name> that <scope> has no row for. */
static void
unknown_key(lnt_cf_t *cf, const config_setting_t *s, const char *name,
    unsigned scope)
{
	const char *cands[64], *hint;
	char where[256];
	const lnt_key_t *keys;
	unsigned other = 0, bit;
	size_t i, n, nc = 0, off = 0;

	keys = lnt_conf_keys(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].name, name) == 0)
			other |= keys[i].scopes;
		else if ((keys[i].scopes & scope) && nc < LNT_NELEM(cands))
			cands[nc++] = keys[i].name;
	}
	if (other != 0) {
		for (bit = 1; bit <= other; bit <<= 1)
			if ((other & bit) && off < sizeof(where))
				off += (size_t)snprintf(where + off,
				    sizeof(where) - off, "%s%s",
				    off ? ", " : "",
				    lnt_conf_scope(bit)->where);
		lnt_conf_error(cf, s, "%s: not allowed %s (allowed %s)", name,
		    lnt_conf_scope(scope)->where, where);
		return;
	}
	if ((hint = lnt_conf_suggest(name, cands, nc)) != NULL)
		lnt_conf_error(cf, s, "%s: unknown key %s (did you mean "
		    "'%s'?)", name, lnt_conf_scope(scope)->where, hint);
	else
		lnt_conf_error(cf, s, "%s: unknown key %s", name,
		    lnt_conf_scope(scope)->where);
}

/* Report each key <scope> requires that <group> lacks. */
static void
check_required(lnt_cf_t *cf, const config_setting_t *group, unsigned scope)
{
	const lnt_key_t *keys;
	size_t i, n;

	keys = lnt_conf_keys(&n);
	for (i = 0; i < n; i++)
		if ((keys[i].scopes & scope) &&
		    (keys[i].flags & LNT_KEY_REQUIRED) &&
		    config_setting_get_member(group, keys[i].name) == NULL)
			lnt_conf_error(cf, group, "%s: missing required key "
			    "'%s'", lnt_conf_scope(scope)->name,
			    keys[i].name);
}

/*
 * Apply each member of the libconfig group <group> to <base>, a struct of
 * the single scope <scope>, through the setter of its row in the key
 * table; unknown, misplaced and module-owned keys are reported to <cf>.
 */
void
lnt_conf_walk(lnt_cf_t *cf, config_setting_t *group, unsigned scope,
    void *base)
{
	const lnt_scope_t *sc = lnt_conf_scope(scope);
	const lnt_key_t *key;
	config_setting_t *m;
	const char *name;
	char *b;
	unsigned i;

	for (i = 0; (m = config_setting_get_elem(group, i)) != NULL; i++) {
		name = config_setting_name(m);
		if (lnt_module_key(cf, m, name, scope, base))
			continue;
		if ((key = lnt_conf_key_find(name, scope)) == NULL) {
			unknown_key(cf, m, name, scope);
			continue;
		}
		if (key->module != NULL) {
			/* Module keys will go to the module once it loads. */
			lnt_conf_error(cf, m, "%s: belongs to module '%s', "
			    "which is not loaded (add \"%s\" to modules)",
			    name, key->module, key->module);
			continue;
		}
		b = base;
		if (key->flags & LNT_KEY_LIMIT)
			b += sc->limits_offset;
		if (key->set != NULL)
			key->set(cf, key, m, b);
		else
			lnt_conf_set_generic(cf, key, m, b);
	}
	check_required(cf, group, scope);
	if (scope == LNT_SCOPE_ROUTE)
		lnt_conf_static_route_check(cf, group, base);
	else if (scope == LNT_SCOPE_SITE)
		lnt_tls_conf_site_check(cf, group, base);
}

/* Whether row <key> has a field the generic code may touch. */
static bool
has_field(const lnt_key_t *key)
{
	return key->module == NULL && !(key->flags & LNT_KEY_NO_FIELD);
}

/*
 * Mark every field of <base>, a zeroed struct of the single scope <scope>,
 * as unset, and record the file and line of its group <s> (may be NULL).
 */
void
lnt_conf_scope_init(lnt_cf_t *cf, unsigned scope, void *base,
    const config_setting_t *s)
{
	const lnt_scope_t *sc = lnt_conf_scope(scope);
	const lnt_key_t *keys;
	size_t i, n;
	void *f;

	keys = lnt_conf_keys(&n);
	for (i = 0; i < n; i++) {
		if (!(keys[i].scopes & scope) || !has_field(&keys[i]))
			continue;
		f = lnt_conf_key_field(&keys[i], scope, base);
		if (keys[i].type == LNT_KEY_INT || keys[i].type == LNT_KEY_ENUM)
			*(int *)f = LNT_UNSET;
		else if (keys[i].type == LNT_KEY_DURATION ||
		    keys[i].type == LNT_KEY_SIZE)
			*(int64_t *)f = LNT_UNSET;
	}
	if (s != NULL && sc->file_offset >= 0) {
		*(const char **)((char *)base + sc->file_offset) =
		    intern_file(cf, config_setting_source_file(s));
		*(int *)((char *)base + sc->line_offset) =
		    (int)config_setting_source_line(s);
	}
}

/* Give the unset field <f> of row <key> its default, parsed from text. */
static void
default_from_text(const lnt_key_t *key, void *f)
{
	int64_t v;
	int i;

	switch (key->type) {
	case LNT_KEY_STR:
		if (*(char **)f == NULL)
			*(char **)f = lnt_xstrdup(key->def);
		break;
	case LNT_KEY_INT:
		if (*(int *)f == LNT_UNSET)
			*(int *)f = atoi(key->def);
		break;
	case LNT_KEY_ENUM:
		for (i = 0; *(int *)f == LNT_UNSET && key->values[i]; i++)
			if (strcmp(key->values[i], key->def) == 0)
				*(int *)f = i;
		break;
	case LNT_KEY_DURATION:
		if (*(int64_t *)f == LNT_UNSET &&
		    lnt_parse_duration(key->def, &v) == NULL)
			*(int64_t *)f = v;
		break;
	case LNT_KEY_SIZE:
		if (*(int64_t *)f == LNT_UNSET &&
		    lnt_parse_size(key->def, &v) == NULL)
			*(int64_t *)f = v;
		break;
	default:
		/* Booleans start false; lists start empty. */
		break;
	}
}

/*
 * Fill the unset fields of <base>, a struct of the single scope <scope>,
 * from the table's defaults; a site's limits come from the top level.
 * Lists of groups are filled in turn, after the scope's own fields.
 */
void
lnt_conf_scope_defaults(lnt_cf_t *cf, unsigned scope, void *base)
{
	const lnt_scope_t *sc;
	const lnt_key_t *keys, *k;
	size_t i, j, n, cnt;
	char *arr;
	void *f;

	keys = lnt_conf_keys(&n);
	for (i = 0; i < n; i++) {
		k = &keys[i];
		if (!(k->scopes & scope) || !has_field(k) || k->def == NULL ||
		    (k->flags & LNT_KEY_CUSTOM_DEFAULT))
			continue;
		f = lnt_conf_key_field(k, scope, base);
		if ((k->flags & LNT_KEY_LIMIT) && scope != LNT_SCOPE_TOP &&
		    *(int64_t *)f == LNT_UNSET)
			*(int64_t *)f = *(int64_t *)lnt_conf_key_field(k,
			    LNT_SCOPE_TOP, cf->conf);
		default_from_text(k, f);
	}
	for (i = 0; i < n; i++) {
		k = &keys[i];
		if (!(k->scopes & scope) || !has_field(k) ||
		    k->type != LNT_KEY_LIST)
			continue;
		sc = lnt_conf_scope(k->child);
		arr = *(char **)((char *)base + k->offset);
		cnt = *(size_t *)((char *)base + k->count_offset);
		for (j = 0; j < cnt; j++)
			lnt_conf_scope_defaults(cf, k->child,
			    arr + j * sc->size);
	}
}

/* The conf that <cf> is building. */
lnt_conf_t *
lnt_conf_current(lnt_cf_t *cf)
{
	return cf->conf;
}

/*
 * <path> as an absolute path, relative ones taken from the directory of
 * the main config file of <cf>.  Returns a malloc'd string.
 */
char *
lnt_conf_path(lnt_cf_t *cf, const char *path)
{
	if (path[0] == '/')
		return lnt_xstrdup(path);
	return lnt_xasprintf("%s/%s", cf->dir, path);
}

/*
 * Compile <pattern> (setting <s> of row <key>) with PCRE2 and <options>;
 * on failure report the PCRE2 message and offset and return NULL.
 */
pcre2_code *
lnt_conf_regex(lnt_cf_t *cf, const lnt_key_t *key, const config_setting_t *s,
    const char *pattern, uint32_t options)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *re;
	int rc;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    options, &rc, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(rc, msg, sizeof(msg));
		lnt_conf_error(cf, s, "%s: invalid regex \"%s\" at offset %zu: "
		    "%s", key->name, pattern, (size_t)off, (char *)msg);
	}
	return re;
}

/*
 * Queue the listen address <addr> of <len> bytes of <site>, with
 * <backlog> (LNT_UNSET if not given) and the <tls> flag, written at
 * setting <s>.  An address the site already lists is reported here.
 */
void
lnt_conf_add_listen(lnt_cf_t *cf, lnt_site_t *site,
    const struct sockaddr_storage *addr, socklen_t len, int backlog,
    bool tls, bool proxy_protocol, const config_setting_t *s)
{
	struct pending_listen *p;
	char text[64];
	size_t i;

	lnt_addr_format((const struct sockaddr *)addr, text, sizeof(text));
	for (i = 0; i < cf->nlistens; i++)
		if (cf->listens[i].site == site &&
		    strcmp(cf->listens[i].text, text) == 0) {
			lnt_conf_error(cf, s, "listen: %s is listed twice in "
			    "this site", text);
			return;
		}
	cf->listens = lnt_xrealloc(cf->listens,
	    (cf->nlistens + 1) * sizeof(*cf->listens));
	p = &cf->listens[cf->nlistens++];
	p->site = site;
	p->addr = *addr;
	p->len = len;
	memcpy(p->text, text, sizeof(text));
	p->backlog = backlog;
	p->tls = tls;
	p->proxy_protocol = proxy_protocol;
	p->s = s;
}

/* Queue <route>'s use of the upstream <name>, written at setting <s>. */
void
lnt_conf_add_upstream_ref(lnt_cf_t *cf, lnt_route_t *route, const char *name,
    const config_setting_t *s)
{
	struct pending_ref *r;

	cf->refs = lnt_xrealloc(cf->refs, (cf->nrefs + 1) * sizeof(*cf->refs));
	r = &cf->refs[cf->nrefs++];
	r->route = route;
	r->name = lnt_xstrdup(name);
	r->s = s;
}

/* Point each route at the upstream it names, or report the name. */
static void
resolve_upstreams(lnt_cf_t *cf)
{
	lnt_conf_t *conf = cf->conf;
	const char **names, *hint;
	struct pending_ref *r;
	size_t i, j;

	names = lnt_xcalloc(conf->nupstreams, sizeof(*names));
	for (j = 0; j < conf->nupstreams; j++)
		names[j] = conf->upstreams[j].name != NULL ?
		    conf->upstreams[j].name : "";
	for (i = 0; i < cf->nrefs; i++) {
		r = &cf->refs[i];
		for (j = 0; j < conf->nupstreams; j++)
			if (strcmp(names[j], r->name) == 0)
				r->route->upstream = &conf->upstreams[j];
		if (r->route->upstream != NULL)
			continue;
		hint = lnt_conf_suggest(r->name, names, conf->nupstreams);
		if (hint != NULL)
			lnt_conf_error(cf, r->s, "upstream: upstream '%s' is "
			    "not defined (did you mean '%s'?)", r->name, hint);
		else
			lnt_conf_error(cf, r->s, "upstream: upstream '%s' is "
			    "not defined", r->name);
	}
	free(names);
}

static bool
is_wildcard(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static in_port_t
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/*
 * Whether the new address <p> and the listener <l> cannot both be bound:
 * a wildcard and a specific address of one family on one port.
 */
static bool
overlaps(const struct pending_listen *p, const lnt_listen_t *l)
{
	return p->addr.ss_family == l->addr.ss_family &&
	    port_of(&p->addr) == port_of(&l->addr) &&
	    is_wildcard(&p->addr) != is_wildcard(&l->addr);
}

/* The listener for the pending entry <p>, created if new; NULL if not. */
static lnt_listen_t *
listener_for(lnt_cf_t *cf, const struct pending_listen *p)
{
	lnt_conf_t *conf = cf->conf;
	lnt_listen_t *l;
	size_t i;

	for (i = 0; i < conf->nlistens; i++)
		if (strcmp(conf->listens[i].text, p->text) == 0)
			return &conf->listens[i];
	for (i = 0; i < conf->nlistens; i++) {
		l = &conf->listens[i];
		if (overlaps(p, l)) {
			lnt_conf_error(cf, p->s,
			    "listen %s overlaps %s (%s:%d)", p->text, l->text,
			    l->file, l->line);
			return NULL;
		}
	}
	l = &conf->listens[conf->nlistens++];
	l->addr = p->addr;
	l->addrlen = p->len;
	memcpy(l->text, p->text, sizeof(l->text));
	l->backlog = LNT_UNSET;
	l->tls = p->tls;
	l->proxy_protocol = p->proxy_protocol;
	l->fd = -1;
	l->file = intern_file(cf, config_setting_source_file(p->s));
	l->line = (int)config_setting_source_line(p->s);
	return l;
}

/* Add the pending entry <p> to its listener <l>. */
static void
join_listener(lnt_cf_t *cf, const struct pending_listen *p, lnt_listen_t *l)
{
	lnt_site_t *site = p->site;
	const config_setting_t **at = &cf->backlog_at[l - cf->conf->listens];

	/* One socket speaks TLS to every client or to none. */
	if (p->tls != l->tls)
		lnt_conf_error(cf, p->s, "listen: %s is %s here but %s at "
		    "%s:%d", l->text, p->tls ? "tls" : "not tls",
		    l->tls ? "tls" : "not tls", l->file, l->line);
	/* Nor can a socket tell which clients send a PROXY header. */
	if (p->proxy_protocol != l->proxy_protocol)
		lnt_conf_error(cf, p->s, "listen: %s is %s here but %s at "
		    "%s:%d", l->text, p->proxy_protocol ? "proxy_protocol" :
		    "not proxy_protocol", l->proxy_protocol ?
		    "proxy_protocol" : "not proxy_protocol", l->file, l->line);
	if (p->backlog != LNT_UNSET) {
		if (l->backlog != LNT_UNSET && l->backlog != p->backlog) {
			lnt_conf_error(cf, p->s, "listen: backlog=%d for %s "
			    "conflicts with backlog=%d at %s:%d", p->backlog,
			    l->text, l->backlog,
			    intern_file(cf, config_setting_source_file(*at)),
			    (int)config_setting_source_line(*at));
		} else {
			l->backlog = p->backlog;
			*at = p->s;
		}
	}
	l->sites = lnt_xrealloc(l->sites, (l->nsites + 1) * sizeof(*l->sites));
	l->sites[l->nsites++] = site;
	site->listens = lnt_xrealloc(site->listens,
	    (site->nlistens + 1) * sizeof(*site->listens));
	site->listens[site->nlistens++] = l;
}

/* Report the names that <b> shares with <a>, an earlier site on <l>. */
static void
check_shared_names(lnt_cf_t *cf, const lnt_listen_t *l, const lnt_site_t *a,
    const lnt_site_t *b)
{
	size_t i, j;

	for (i = 0; i < b->nnames; i++)
		for (j = 0; j < a->nnames; j++)
			if (strcmp(b->names[i], a->names[j]) == 0)
				error_at(cf, b->file, b->line, "names: '%s' is "
				    "already used on %s by the site at %s:%d",
				    b->names[i], l->text, a->file, a->line);
	for (i = 0; i < b->nname_regexes; i++)
		for (j = 0; j < a->nname_regexes; j++)
			if (strcmp(b->name_regex_src[i],
			    a->name_regex_src[j]) == 0)
				error_at(cf, b->file, b->line,
				    "names: '~%s' is already used on %s by "
				    "the site at %s:%d",
				    b->name_regex_src[i], l->text, a->file,
				    a->line);
}

/* Pick the default site of <l> and check its sites' names. */
static void
finish_listener(lnt_cf_t *cf, lnt_listen_t *l)
{
	lnt_site_t *site;
	size_t i, j;

	if (l->backlog == LNT_UNSET)
		l->backlog = BACKLOG_DEFAULT;
	for (i = 0; i < l->nsites; i++) {
		site = l->sites[i];
		for (j = 0; j < i; j++)
			check_shared_names(cf, l, l->sites[j], site);
		if (!site->is_default)
			continue;
		if (l->default_site != NULL)
			error_at(cf, site->file, site->line, "default: %s "
			    "already has a default site at %s:%d", l->text,
			    l->default_site->file, l->default_site->line);
		else
			l->default_site = site;
	}
	if (l->default_site == NULL && l->nsites > 0)
		l->default_site = l->sites[0];
}

/*
 * Gather the listen entries of every site into one listener per distinct
 * address.  The array is sized for the worst case up front because sites
 * keep pointers into it.
 */
static void
build_listeners(lnt_cf_t *cf)
{
	lnt_conf_t *conf = cf->conf;
	lnt_listen_t *l;
	size_t i;

	if (cf->nlistens == 0)
		return;
	conf->listens = lnt_xcalloc(cf->nlistens, sizeof(*conf->listens));
	cf->backlog_at = lnt_xcalloc(cf->nlistens, sizeof(*cf->backlog_at));
	for (i = 0; i < cf->nlistens; i++)
		if ((l = listener_for(cf, &cf->listens[i])) != NULL)
			join_listener(cf, &cf->listens[i], l);
	for (i = 0; i < conf->nlistens; i++)
		finish_listener(cf, &conf->listens[i]);
}

/* Name each site for logs: its first name, else where it is written. */
static void
label_sites(lnt_conf_t *conf)
{
	lnt_site_t *site;
	size_t i;

	for (i = 0; i < conf->nsites; i++) {
		site = &conf->sites[i];
		if (site->nnames > 0)
			site->label = lnt_xstrdup(site->names[0]);
		else if (site->nname_regexes > 0)
			site->label = lnt_xasprintf("~%s",
			    site->name_regex_src[0]);
		else
			site->label = lnt_xasprintf("%s:%d", site->file,
			    site->line);
	}
}

/* Resolve user and group to ids; the group defaults to the user's. */
static void
resolve_ids(lnt_cf_t *cf)
{
	lnt_conf_t *conf = cf->conf;
	config_setting_t *su, *sg;
	struct passwd *pw;
	struct group *gr;

	su = config_setting_get_member(cf->root, "user");
	sg = config_setting_get_member(cf->root, "group");
	/* A user setting already refused says enough: no follow-on error
	 * about the default that stood in for it. */
	if (su != NULL && (config_setting_type(su) != CONFIG_TYPE_STRING ||
	    *config_setting_get_string(su) == '\0'))
		return;
	if ((pw = getpwnam(conf->user)) == NULL)
		lnt_conf_error(cf, su, "user: unknown user '%s'", conf->user);
	else
		conf->uid = pw->pw_uid;
	if (conf->group != NULL) {
		if ((gr = getgrnam(conf->group)) == NULL)
			lnt_conf_error(cf, sg, "group: unknown group '%s'",
			    conf->group);
		else
			conf->gid = gr->gr_gid;
	} else if (pw != NULL) {
		conf->gid = pw->pw_gid;
		gr = getgrgid(pw->pw_gid);
		conf->group = gr != NULL ? lnt_xstrdup(gr->gr_name) :
		    lnt_xasprintf("%u", (unsigned)pw->pw_gid);
	}
}

/* What no single setting can check, once the whole file is read. */
static void
finish(lnt_cf_t *cf)
{
	lnt_conf_t *conf = cf->conf;
	long n;

	lnt_conf_scope_defaults(cf, LNT_SCOPE_TOP, conf);
	if (conf->workers == LNT_UNSET) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		conf->workers = n < 1 ? 1 : n > 512 ? 512 : (int)n;
	}
	if (config_setting_get_member(cf->root, "sites") == NULL)
		lnt_conf_error(cf, NULL, "no sites defined");
	resolve_ids(cf);
	resolve_upstreams(cf);
	build_listeners(cf);
	label_sites(conf);
	lnt_tls_conf_finish(cf);
	lnt_module_finish(cf);
}

/*
 * Read <cf>'s file into <cfg>: check that it can be opened first so the
 * error carries errno, then let libconfig parse it with @include relative
 * to the file's directory.
 */
static bool
read_file(lnt_cf_t *cf, config_t *cfg)
{
	const char *path = cf->conf->path, *text, *file;
	struct stat st;
	FILE *f;
	int err;

	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) == -1 ||
	    S_ISDIR(st.st_mode)) {
		err = f == NULL ? errno : S_ISDIR(st.st_mode) ? EISDIR : errno;
		if (f != NULL)
			fclose(f);
		lnt_strlist_addf(cf->errors, "%s: cannot read: %s", path,
		    strerror(err));
		cf->nerrors++;
		return false;
	}
	fclose(f);
	config_set_include_dir(cfg, cf->dir);
	if (config_read_file(cfg, path) == CONFIG_TRUE)
		return true;
	text = config_error_text(cfg);
	file = intern_file(cf, config_error_file(cfg));
	/* libconfig 1.5 reports a missing @include as a parse error. */
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO ||
	    strncmp(text, "cannot open", 11) == 0)
		lnt_strlist_addf(cf->errors, "%s:%d: %s", file,
		    config_error_line(cfg), text);
	else if (strcmp(text, "syntax error") == 0)
		lnt_strlist_addf(cf->errors, "%s:%d: syntax error", file,
		    config_error_line(cfg));
	else
		lnt_strlist_addf(cf->errors, "%s:%d: syntax error: %s", file,
		    config_error_line(cfg), text);
	cf->nerrors++;
	return false;
}

/* Set the directories <cf> resolves relative paths and file names with. */
static void
set_dirs(lnt_cf_t *cf, const char *path)
{
	char *copy, *dir, *abs;

	copy = lnt_xstrdup(path);
	dir = dirname(copy);
	cf->shown_dir = strcmp(dir, ".") == 0 ? NULL : lnt_xstrdup(dir);
	free(copy);
	/* Daemons chdir("/"), so relative paths must become absolute. */
	if ((abs = realpath(path, NULL)) == NULL)
		abs = lnt_xstrdup(path);
	copy = lnt_xstrdup(dirname(abs));
	free(abs);
	if (copy[0] != '/') {
		abs = getcwd(NULL, 0);
		cf->dir = lnt_xasprintf("%s/%s", abs != NULL ? abs : "",
		    copy);
		free(abs);
		free(copy);
	} else
		cf->dir = copy;
}

static void
cf_free(lnt_cf_t *cf)
{
	size_t i;

	for (i = 0; i < cf->nrefs; i++)
		free(cf->refs[i].name);
	free(cf->refs);
	free(cf->listens);
	free(cf->backlog_at);
	free(cf->dir);
	free(cf->shown_dir);
}

/*
 * Read and validate the config file at <path>, appending every problem to
 * <errors> as "file:line: message".  Returns the new conf, owned by the
 * caller (lnt_conf_free()), or NULL if there was any error.
 */
static lnt_conf_t *
load(const char *path, lnt_strlist_t *errors, bool reloading)
{
	lnt_cf_t cf;
	config_t cfg;

	memset(&cf, 0, sizeof(cf));
	cf.errors = errors;
	cf.conf = lnt_xcalloc(1, sizeof(*cf.conf));
	cf.conf->path = lnt_xstrdup(path);
	set_dirs(&cf, path);
	lnt_conf_scope_init(&cf, LNT_SCOPE_TOP, cf.conf, NULL);
	config_init(&cfg);
	if (read_file(&cf, &cfg)) {
		cf.root = config_root_setting(&cfg);
		/* Modules first, so their keys are known wherever they are. */
		lnt_module_load_all(&cf, cf.root);
		lnt_conf_walk(&cf, cf.root, LNT_SCOPE_TOP, cf.conf);
		finish(&cf);
		/* Modules see a reload only of a config that is valid. */
		if (reloading && cf.nerrors == 0)
			lnt_module_reload(&cf);
	}
	config_destroy(&cfg);
	cf_free(&cf);
	if (cf.nerrors > 0) {
		lnt_conf_free(cf.conf);
		return NULL;
	}
	return cf.conf;
}

lnt_conf_t *
lnt_conf_load(const char *path, lnt_strlist_t *errors)
{
	return load(path, errors, false);
}

lnt_conf_t *
lnt_conf_reload(const char *path, lnt_strlist_t *errors)
{
	return load(path, errors, true);
}

static void
free_site_extras(lnt_site_t *site)
{
	size_t i;

	for (i = 0; i < site->nnames; i++)
		free(site->names[i]);
	free(site->names);
	for (i = 0; i < site->nname_regexes; i++) {
		pcre2_code_free(site->name_regexes[i]);
		free(site->name_regex_src[i]);
	}
	free(site->name_regexes);
	free(site->name_regex_src);
	free(site->listens);
	free(site->label);
}

/*
 * Free what the table's rows own in <base>, a struct of the single scope
 * <scope>: strings, string lists and lists of groups, recursively.
 */
static void
free_scope(unsigned scope, void *base)
{
	const lnt_scope_t *sc;
	const lnt_key_t *keys, *k;
	size_t i, j, n, cnt;
	char **strs, *arr;
	void *f;

	keys = lnt_conf_keys(&n);
	for (i = 0; i < n; i++) {
		k = &keys[i];
		if (!(k->scopes & scope) || !has_field(k))
			continue;
		f = lnt_conf_key_field(k, scope, base);
		if (k->type == LNT_KEY_STR) {
			free(*(char **)f);
		} else if (k->type == LNT_KEY_STR_LIST ||
		    k->type == LNT_KEY_STR_OR_LIST) {
			strs = *(char ***)f;
			cnt = *(size_t *)((char *)base + k->count_offset);
			for (j = 0; j < cnt; j++)
				free(strs[j]);
			free(strs);
		} else if (k->type == LNT_KEY_LIST) {
			sc = lnt_conf_scope(k->child);
			arr = *(char **)f;
			cnt = *(size_t *)((char *)base + k->count_offset);
			for (j = 0; j < cnt; j++)
				free_scope(k->child, arr + j * sc->size);
			free(arr);
		}
	}
	if (scope == LNT_SCOPE_SITE) {
		lnt_tls_conf_free_site(((lnt_site_t *)base)->tls);
		free_site_extras(base);
		lnt_mime_free(((lnt_site_t *)base)->mime);
		lnt_conf_free_header_rules(((lnt_site_t *)base)->
		    request_headers);
		lnt_conf_free_header_rules(((lnt_site_t *)base)->
		    response_headers);
	} else if (scope == LNT_SCOPE_ROUTE) {
		pcre2_code_free(((lnt_route_t *)base)->regex);
		lnt_conf_free_header_rules(((lnt_route_t *)base)->
		    request_headers);
		lnt_conf_free_header_rules(((lnt_route_t *)base)->
		    response_headers);
		lnt_conf_static_free_route(base);
	} else if (scope == LNT_SCOPE_ERROR_PAGE) {
		lnt_conf_static_free_error_page(base);
	} else if (scope == LNT_SCOPE_UPSTREAM) {
		lnt_tls_conf_free_upstream(((lnt_upstream_t *)base)->tls);
	}
}

/*
 * Free <conf> (may be NULL) and everything it owns.  Listening sockets are
 * not closed: the master owns them.
 */
void
lnt_conf_free(lnt_conf_t *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	/* Module configs first: they hang off the sites and routes. */
	lnt_module_free(conf);
	free_scope(LNT_SCOPE_TOP, conf);
	for (i = 0; i < conf->nlistens; i++)
		free(conf->listens[i].sites);
	free(conf->listens);
	if (conf->access_log != NULL)
		lnt_access_log_free(conf->access_log);
	lnt_mime_free(conf->mime);
	for (i = 0; i < conf->nfiles; i++)
		free(conf->files[i]);
	free(conf->files);
	free(conf->path);
	free(conf);
}
