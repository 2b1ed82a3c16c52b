/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `lintel -T`: print the effective configuration, every key of the table
 * with its merged or default value, as libconfig text that loads again.
 */
#include "config.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_log.h"
#include "conf.h"
#include "conf_keys.h"
#include "module.h"

static void	print_scope(FILE *out, unsigned scope, const void *base,
		    int depth);

/* The conf lnt_conf_dump() prints, for the module keys of each scope. */
static const lnt_conf_t	*dumping;

/*
 * Format <ms> into <buf> of <len> bytes in the largest exact units:
 * 5400000 is "1h30m", 250 is "250ms", 0 is "0s".
 */
void
lnt_conf_format_duration(lnt_msec_t ms, char *buf, size_t len)
{
	static const struct {
		const char	*unit;
		lnt_msec_t	 ms;
	} units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	size_t i, off = 0;

	if (ms <= 0) {
		snprintf(buf, len, "%s", ms == 0 ? "0s" : "-");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < LNT_NELEM(units) && off < len; i++) {
		if (ms < units[i].ms)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%lld%s",
		    (long long)(ms / units[i].ms), units[i].unit);
		ms %= units[i].ms;
	}
}

/*
 * Format <bytes> into <buf> of <len> bytes with the largest unit that
 * divides it: 16384 is "16k", 1048576 is "1m", 1500 is "1500".
 */
void
lnt_conf_format_size(int64_t bytes, char *buf, size_t len)
{
	static const char units[] = "gmk";
	int64_t mul = 1024 * 1024 * 1024;
	size_t i;

	for (i = 0; i < 3 && bytes > 0; i++, mul /= 1024)
		if (bytes % mul == 0) {
			snprintf(buf, len, "%lld%c", (long long)(bytes / mul),
			    units[i]);
			return;
		}
	snprintf(buf, len, "%lld", (long long)bytes);
}

void
lnt_conf_indent(FILE *out, int depth)
{
	while (depth-- > 0)
		fputc('\t', out);
}

/* Print <s> as a libconfig string literal, escaping what needs it. */
void
lnt_conf_print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/*
 * Print <v> with the fewest digits that read back as the same double, and
 * a '.' or exponent so that libconfig reads a float, not an integer.
 */
static void
print_float(FILE *out, double v)
{
	char buf[64];
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*g", prec, v);
	fprintf(out, "%s%s", buf, strpbrk(buf, ".e") != NULL ? "" : ".0");
}

static void	print_setting(FILE *out, const config_setting_t *s,
		    int depth);

/*
 * Print the list or array <s>: an array (scalars only) on one line, a
 * list one element per line at <depth> + 1 tabs.
 */
static void
print_elements(FILE *out, const config_setting_t *s, int depth)
{
	bool array = config_setting_type(s) == CONFIG_TYPE_ARRAY;
	int i, n = config_setting_length(s);

	if (n == 0) {
		fputs(array ? "[ ]" : "( )", out);
		return;
	}
	fputs(array ? "[ " : "(\n", out);
	for (i = 0; i < n; i++) {
		if (!array)
			lnt_conf_indent(out, depth + 1);
		print_setting(out, config_setting_get_elem(s, (unsigned)i),
		    depth + 1);
		if (i + 1 < n)
			fputs(",", out);
		fputs(array ? " " : "\n", out);
	}
	if (!array)
		lnt_conf_indent(out, depth);
	fputs(array ? "]" : ")", out);
}

/* Print the members of the group <s>, one "name = value;" per line. */
static void
print_members(FILE *out, const config_setting_t *s, int depth)
{
	int i, n = config_setting_length(s);
	const config_setting_t *m;

	if (n == 0) {
		fputs("{ }", out);
		return;
	}
	fputs("{\n", out);
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(s, (unsigned)i);
		lnt_conf_indent(out, depth + 1);
		fprintf(out, "%s = ", config_setting_name(m));
		print_setting(out, m, depth + 1);
		fputs(";\n", out);
	}
	lnt_conf_indent(out, depth);
	fputs("}", out);
}

/*
 * Print the value of the libconfig setting <s> as libconfig reads it
 * back, whatever its type; nested lines at <depth> + 1 tabs.
 */
static void
print_setting(FILE *out, const config_setting_t *s, int depth)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		fprintf(out, "%d", config_setting_get_int(s));
		break;
	case CONFIG_TYPE_INT64:
		fprintf(out, "%lldL", config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		print_float(out, config_setting_get_float(s));
		break;
	case CONFIG_TYPE_BOOL:
		fputs(config_setting_get_bool(s) ? "true" : "false", out);
		break;
	case CONFIG_TYPE_STRING:
		lnt_conf_print_string(out, config_setting_get_string(s));
		break;
	case CONFIG_TYPE_GROUP:
		print_members(out, s, depth);
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		print_elements(out, s, depth);
		break;
	default:
		fputs("{ }", out);
		break;
	}
}

/*
 * The setting <s> as libconfig text, "name = value;\n" with nested lines
 * indented from column 0 (malloc'd): what -T prints for a key a module
 * took, since the libconfig tree does not outlive loading.
 */
char *
lnt_conf_setting_text(const struct config_setting_t *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	/* A memory stream fails only for want of memory: abort, as the
	 * other allocations of config loading do. */
	if ((out = open_memstream(&text, &len)) == NULL)
		goto oom;
	fprintf(out, "%s = ", config_setting_name(s));
	print_setting(out, s, 0);
	fputs(";\n", out);
	if (fclose(out) != 0)
		goto oom;
	return text;
oom:
	fputs("lintel: out of memory keeping a module key\n", stderr);
	abort();
}

/*
 * Print the module keys read into the scope object <base> of <scope>, in
 * file order, each line at <depth> tabs.
 */
static void
print_module_settings(FILE *out, unsigned scope, const void *base,
    int depth)
{
	const lnt_mod_setting_t *ms;
	const char *p, *nl;
	size_t i;

	if (dumping == NULL)
		return;
	for (i = 0; i < dumping->nmod_settings; i++) {
		ms = &dumping->mod_settings[i];
		if (ms->scope != scope || ms->base != base)
			continue;
		/* Strings hold no raw newline (escaped), so every one
		 * starts a line of the value's structure. */
		for (p = ms->text; *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			lnt_conf_indent(out, depth);
			fwrite(p, 1, (size_t)(nl - p) + 1, out);
		}
	}
}

static void
print_string_list(FILE *out, char *const *items, size_t n)
{
	size_t i;

	fputs("[ ", out);
	for (i = 0; i < n; i++) {
		lnt_conf_print_string(out, items[i]);
		fputs(i + 1 < n ? ", " : " ", out);
	}
	fputs("];\n", out);
}

/* Print a list of groups of the child scope of <key>. */
static void
print_group_list(FILE *out, const lnt_key_t *key, const void *base,
    const void *field, int depth)
{
	const lnt_scope_t *sc = lnt_conf_scope(key->child);
	const char *arr = *(char *const *)field;
	size_t i, n = *(const size_t *)((const char *)base +
	    key->count_offset);

	fputs("(\n", out);
	for (i = 0; i < n; i++) {
		lnt_conf_indent(out, depth + 1);
		fputs("{\n", out);
		print_scope(out, key->child, arr + i * sc->size, depth + 2);
		lnt_conf_indent(out, depth + 1);
		fputs(i + 1 < n ? "},\n" : "}\n", out);
	}
	lnt_conf_indent(out, depth);
	fputs(");\n", out);
}

/* Print the value of <key>'s field <f> in <base> after "name = ". */
static void
print_value(FILE *out, const lnt_key_t *key, const void *base,
    const void *f, int depth)
{
	char buf[64];

	switch (key->type) {
	case LNT_KEY_STR:
		lnt_conf_print_string(out, *(char *const *)f);
		fputs(";\n", out);
		break;
	case LNT_KEY_INT:
		fprintf(out, "%d;\n", *(const int *)f);
		break;
	case LNT_KEY_BOOL:
		fprintf(out, "%s;\n", *(const bool *)f ? "true" : "false");
		break;
	case LNT_KEY_DURATION:
		lnt_conf_format_duration(*(const int64_t *)f, buf,
		    sizeof(buf));
		fprintf(out, "\"%s\";\n", buf);
		break;
	case LNT_KEY_SIZE:
		lnt_conf_format_size(*(const int64_t *)f, buf, sizeof(buf));
		fprintf(out, "\"%s\";\n", buf);
		break;
	case LNT_KEY_ENUM:
		fprintf(out, "\"%s\";\n", key->values[*(const int *)f]);
		break;
	case LNT_KEY_STR_LIST:
	case LNT_KEY_STR_OR_LIST:
		print_string_list(out, *(char *const *const *)f,
		    *(const size_t *)((const char *)base + key->count_offset));
		break;
	case LNT_KEY_LIST:
		print_group_list(out, key, base, f, depth);
		break;
	default:
		fputs("{ };\n", out);
		break;
	}
}

/* Print every key of the single scope <scope> that <base> holds. */
static void
print_scope(FILE *out, unsigned scope, const void *base, int depth)
{
	const lnt_key_t *keys, *k;
	size_t i, n;
	const void *f;

	keys = lnt_conf_keys(&n);
	for (i = 0; i < n; i++) {
		k = &keys[i];
		if (!(k->scopes & scope) || k->module != NULL)
			continue;
		if (k->print != NULL) {
			k->print(out, k, base, depth);
			continue;
		}
		if (k->flags & LNT_KEY_NO_FIELD)
			continue;
		f = lnt_conf_key_field(k, scope, base);
		/* Unset strings have no default worth printing. */
		if (k->type == LNT_KEY_STR && *(char *const *)f == NULL)
			continue;
		/* Nor an empty list the loader would refuse (the routes of
		 * a site that only redirects to https). */
		if (k->type == LNT_KEY_LIST && k->min > 0 &&
		    *(const size_t *)((const char *)base + k->count_offset) == 0)
			continue;
		lnt_conf_indent(out, depth);
		fprintf(out, "%s = ", k->name);
		print_value(out, k, base, f, depth);
	}
	print_module_settings(out, scope, base, depth);
}

/*
 * Print "<name> = {", every key of the single scope <scope> that <base>
 * holds, then "};", at <depth> tabs: for the printers of group rows.
 */
void
lnt_conf_print_group(FILE *out, const char *name, unsigned scope,
    const void *base, int depth)
{
	lnt_conf_indent(out, depth);
	fprintf(out, "%s = {\n", name);
	print_scope(out, scope, base, depth + 1);
	lnt_conf_indent(out, depth);
	fputs("};\n", out);
}

/*
 * Print the listen entries of the site <base> for row <key> at <depth>
 * tabs, with the backlog of each address spelled out.
 */
void
lnt_conf_print_listen(FILE *out, const lnt_key_t *key, const void *base,
    int depth)
{
	const lnt_site_t *site = base;
	char buf[128];
	size_t i;

	lnt_conf_indent(out, depth);
	fprintf(out, "%s = [ ", key->name);
	for (i = 0; i < site->nlistens; i++) {
		snprintf(buf, sizeof(buf), "%s backlog=%d%s%s",
		    site->listens[i]->text, site->listens[i]->backlog,
		    site->listens[i]->tls ? " tls" : "",
		    site->listens[i]->proxy_protocol ? " proxy_protocol" : "");
		lnt_conf_print_string(out, buf);
		fputs(i + 1 < site->nlistens ? ", " : " ", out);
	}
	fputs("];\n", out);
}

/*
 * Print the names of the site <base> for row <key> at <depth> tabs:
 * exact and wildcard names, then regexes with their "~".
 */
void
lnt_conf_print_names(FILE *out, const lnt_key_t *key, const void *base,
    int depth)
{
	const lnt_site_t *site = base;
	size_t i, n = site->nnames + site->nname_regexes;
	char buf[1024];

	if (n == 0)
		return;
	lnt_conf_indent(out, depth);
	fprintf(out, "%s = [ ", key->name);
	for (i = 0; i < site->nnames; i++) {
		lnt_conf_print_string(out, site->names[i]);
		fputs(--n > 0 ? ", " : " ", out);
	}
	for (i = 0; i < site->nname_regexes; i++) {
		snprintf(buf, sizeof(buf), "~%s", site->name_regex_src[i]);
		lnt_conf_print_string(out, buf);
		fputs(--n > 0 ? ", " : " ", out);
	}
	fputs("];\n", out);
}

/* Print the path of the route <base> for row <key> at <depth> tabs. */
void
lnt_conf_print_route_path(FILE *out, const lnt_key_t *key, const void *base,
    int depth)
{
	const lnt_route_t *route = base;
	char buf[1024];

	lnt_conf_indent(out, depth);
	fprintf(out, "%s = ", key->name);
	snprintf(buf, sizeof(buf), "%s%s", route->regex != NULL ? "~" : "",
	    route->path != NULL ? route->path : "");
	lnt_conf_print_string(out, buf);
	fputs(";\n", out);
}

/* Print the upstream of the route <base> for row <key> at <depth> tabs. */
void
lnt_conf_print_route_upstream(FILE *out, const lnt_key_t *key,
    const void *base, int depth)
{
	const lnt_route_t *route = base;

	if (route->upstream == NULL)
		return;
	lnt_conf_indent(out, depth);
	fprintf(out, "%s = ", key->name);
	lnt_conf_print_string(out, route->upstream->name);
	fputs(";\n", out);
}

/* Print the access_log group of the conf <base> at <depth> tabs, if any. */
void
lnt_conf_print_access_log(FILE *out, const lnt_key_t *key, const void *base,
    int depth)
{
	const lnt_conf_t *conf = base;

	if (conf->access_log == NULL)
		return;
	lnt_conf_indent(out, depth);
	fprintf(out, "%s = {\n", key->name);
	lnt_conf_indent(out, depth + 1);
	fputs("path = ", out);
	lnt_conf_print_string(out, lnt_access_log_path(conf->access_log));
	fputs(";\n", out);
	lnt_conf_indent(out, depth + 1);
	fputs("format = ", out);
	lnt_conf_print_string(out, lnt_access_log_format(conf->access_log));
	fputs(";\n", out);
	lnt_conf_indent(out, depth);
	fputs("};\n", out);
}

/*
 * Print <conf> to <out> as a complete libconfig file: every key of every
 * scope with its effective value, defaults and inherited limits included.
 */
void
lnt_conf_dump(const lnt_conf_t *conf, FILE *out)
{
	fprintf(out, "# lintel: effective configuration of %s\n",
	    conf->path);
	dumping = conf;
	print_scope(out, LNT_SCOPE_TOP, conf, 0);
	dumping = NULL;
}
