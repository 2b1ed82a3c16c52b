/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rewrite module: the `rewrite` rules of a site (applied before
 * routing) and of a route (applied once it is chosen, re-routing on flag
 * "last"), and `rewrite_location`, which points upstream Location and
 * Refresh fields back at the public address.  The rule language and its
 * checks live in rules.c; this file reads the config into specs, hands
 * requests to the engine and acts on its verdicts.  See lintel-rewrite(5).
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lintel/module.h>

#include "rules.h"

/*
 * Room for a rewritten URI or Location: the core takes URIs of up to
 * 16 KiB (one of its buffers), so a longer result could not be used.
 */
#define RW_OUT_MAX	(16 * 1024)
/* A Host longer than this is used as sent, without lower-casing. */
#define RW_HOST_MAX	1024

typedef struct rw_conf {
	lnt_rw_set_t	*set;		/* this scope's own rules, or NULL */
	int		 location;	/* rewrite_location: -1 unset, 0, 1 */
} rw_conf_t;

/* The members a rule group may hold, for the unknown-key check. */
static const char *const rule_keys[] = {
	"match", "to", "flag", "method", "host", "header", "file_exists"
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Results are built here, never in the request's own buffers: the engine
 * refuses an output that overlaps the path it reads, and the core copies
 * a new URI (lnt_req_set_uri) or Location (lnt_req_redirect) before the
 * handler returns, so one buffer per worker serves every request.
 */
static char	rw_out[RW_OUT_MAX];

/* --- config --------------------------------------------------------- */

/*
 * A rule's spec under construction, with the arrays the spec borrows;
 * every string points into the config, which outlives the compile.
 */
typedef struct rule_build {
	lnt_rw_spec_t		 spec;
	const char		**methods;
	lnt_rw_header_spec_t	*headers;
	char			 flagbuf[24];	/* an integer flag as text */
	/* Where each key is written, for the line of an error. */
	const lnt_setting_t	*at_match, *at_to, *at_flag, *at_method,
				*at_host, *at_header, *at_file;
} rule_build_t;

static void
rule_build_free(rule_build_t *b)
{
	free(b->methods);
	free(b->headers);
}

/* The setting an engine message <err> ("<key>: ...") is about. */
static const lnt_setting_t *
error_site(const rule_build_t *b, const lnt_setting_t *group,
    const char *err)
{
	const struct {
		const char		*key;
		const lnt_setting_t	*at;
	} at[] = {
		{ "match", b->at_match }, { "to", b->at_to },
		{ "flag", b->at_flag }, { "method", b->at_method },
		{ "host", b->at_host }, { "header", b->at_header },
		{ "file_exists", b->at_file },
	};
	size_t len;

	for (size_t i = 0; i < NELEM(at); i++) {
		len = strlen(at[i].key);
		if (strncmp(err, at[i].key, len) == 0 && err[len] == ':')
			return at[i].at != NULL ? at[i].at : group;
	}
	return group;
}

/* A string member <s> of a rule for key <key>; NULL after an error. */
static const char *
rule_string(lnt_mod_cf_t *cf, const lnt_setting_t *s, const char *key)
{
	const char *v = lnt_setting_string(s);

	if (v == NULL)
		lnt_cf_error(cf, s, "%s: expected a string", key);
	return v;
}

/* method = "GET" or [ "GET", "HEAD" ]; 0, or -1 after an error. */
static int
rule_methods(lnt_mod_cf_t *cf, const lnt_setting_t *s, rule_build_t *b)
{
	const char *v;
	int n;

	if ((v = lnt_setting_string(s)) != NULL) {
		n = 1;
	} else if (lnt_setting_is_list(s)) {
		n = lnt_setting_length(s);
	} else {
		lnt_cf_error(cf, s, "method: expected a string or a list of "
		    "strings");
		return -1;
	}
	/* One slot more than needed: an empty list still gets an array. */
	if ((b->methods = calloc((size_t)n + 1, sizeof(char *))) == NULL) {
		lnt_cf_error(cf, s, "method: out of memory");
		return -1;
	}
	for (int i = 0; v == NULL && i < n; i++) {
		const lnt_setting_t *e = lnt_setting_elem(s, i);

		if ((b->methods[i] = lnt_setting_string(e)) == NULL) {
			lnt_cf_error(cf, e, "method: expected a string or a "
			    "list of strings");
			return -1;
		}
	}
	if (v != NULL)
		b->methods[0] = v;
	b->spec.methods = b->methods;
	b->spec.nmethods = (size_t)n;
	return 0;
}

/* One header = { name = "X-A"; match = "~re"; } into <h>. */
static int
rule_header(lnt_mod_cf_t *cf, const lnt_setting_t *s, lnt_rw_header_spec_t *h)
{
	const lnt_setting_t *m;
	const char *name;

	if (!lnt_setting_is_group(s)) {
		lnt_cf_error(cf, s, "header: expected a group { name = ...; "
		    "match = ...; } or a list of them");
		return -1;
	}
	for (int i = 0; (m = lnt_setting_elem(s, i)) != NULL; i++) {
		name = lnt_setting_name(m);
		if (strcmp(name, "name") != 0 && strcmp(name, "match") != 0) {
			lnt_cf_error(cf, m, "header: unknown key \"%s\" "
			    "(expected name or match)", name);
			return -1;
		}
	}
	if ((m = lnt_setting_member(s, "name")) != NULL &&
	    (h->name = rule_string(cf, m, "header: name")) == NULL)
		return -1;
	if ((m = lnt_setting_member(s, "match")) != NULL &&
	    (h->match = rule_string(cf, m, "header: match")) == NULL)
		return -1;
	return 0;
}

/* header = { ... } or ( { ... }, ... ); 0, or -1 after an error. */
static int
rule_headers(lnt_mod_cf_t *cf, const lnt_setting_t *s, rule_build_t *b)
{
	bool one = lnt_setting_is_group(s);
	int n;

	if (!one && !lnt_setting_is_list(s)) {
		lnt_cf_error(cf, s, "header: expected a group { name = ...; "
		    "match = ...; } or a list of them");
		return -1;
	}
	n = one ? 1 : lnt_setting_length(s);
	if (n == 0) {
		lnt_cf_error(cf, s, "header: an empty list; leave header out "
		    "to match any request");
		return -1;
	}
	if ((b->headers = calloc((size_t)n, sizeof(*b->headers))) == NULL) {
		lnt_cf_error(cf, s, "header: out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (rule_header(cf, one ? s : lnt_setting_elem(s, i),
		    &b->headers[i]) == -1)
			return -1;
	}
	b->spec.headers = b->headers;
	b->spec.nheaders = (size_t)n;
	return 0;
}

/* flag = "permanent", or 307 / 308 as integers; 0, or -1 after an error. */
static int
rule_flag(lnt_mod_cf_t *cf, const lnt_setting_t *s, rule_build_t *b)
{
	int64_t v;

	if ((b->spec.flag = lnt_setting_string(s)) != NULL)
		return 0;
	if (lnt_setting_int(s, &v) == -1) {
		lnt_cf_error(cf, s, "flag: expected a string such as "
		    "\"permanent\", or 307 or 308");
		return -1;
	}
	/* As text, so the engine names an unknown number as it would "302". */
	snprintf(b->flagbuf, sizeof(b->flagbuf), "%lld", (long long)v);
	b->spec.flag = b->flagbuf;
	return 0;
}

/*
 * Read the members of rule group <g> into <b>, reporting each problem;
 * 0, or -1 when the rule cannot be compiled.
 */
static int
rule_read(lnt_mod_cf_t *cf, const lnt_setting_t *g, rule_build_t *b)
{
	const lnt_setting_t *m;
	const char *name;
	bool v;
	int rc = 0;

	for (int i = 0; (m = lnt_setting_elem(g, i)) != NULL; i++) {
		size_t k;

		name = lnt_setting_name(m);
		for (k = 0; k < NELEM(rule_keys); k++)
			if (strcmp(name, rule_keys[k]) == 0)
				break;
		if (k == NELEM(rule_keys)) {
			lnt_cf_error(cf, m, "unknown key \"%s\" in a rule "
			    "(expected match, to, flag, method, host, header "
			    "or file_exists)", name);
			rc = -1;
		}
	}
	if ((b->at_match = lnt_setting_member(g, "match")) != NULL &&
	    (b->spec.match = rule_string(cf, b->at_match, "match")) == NULL)
		rc = -1;
	if ((b->at_to = lnt_setting_member(g, "to")) != NULL &&
	    (b->spec.to = rule_string(cf, b->at_to, "to")) == NULL)
		rc = -1;
	if ((b->at_flag = lnt_setting_member(g, "flag")) != NULL &&
	    rule_flag(cf, b->at_flag, b) == -1)
		rc = -1;
	if ((b->at_method = lnt_setting_member(g, "method")) != NULL &&
	    rule_methods(cf, b->at_method, b) == -1)
		rc = -1;
	if ((b->at_host = lnt_setting_member(g, "host")) != NULL &&
	    (b->spec.host = rule_string(cf, b->at_host, "host")) == NULL)
		rc = -1;
	if ((b->at_header = lnt_setting_member(g, "header")) != NULL &&
	    rule_headers(cf, b->at_header, b) == -1)
		rc = -1;
	if ((b->at_file = lnt_setting_member(g, "file_exists")) != NULL) {
		if (lnt_setting_bool(b->at_file, &v) == -1) {
			lnt_cf_error(cf, b->at_file, "file_exists: expected "
			    "true or false");
			rc = -1;
		} else {
			b->spec.file_exists = v ? LNT_RW_FILE_EXISTS :
			    LNT_RW_FILE_MISSING;
		}
	}
	return rc;
}

/*
 * rewrite = ( { match = "..."; to = "..."; ... }, ... ): compile every
 * rule, reporting the errors of all of them, then make the set.
 */
static int
parse_rewrite(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	rw_conf_t *rc = conf;
	lnt_rw_rule_t **rules;
	char err[512];
	bool one = lnt_setting_is_group(s), bad = false;
	int n;

	if (rc == NULL) {
		lnt_cf_error(cf, s, "out of memory");
		return -1;
	}
	if (!one && !lnt_setting_is_list(s)) {
		lnt_cf_error(cf, s, "expected a list of rule groups, "
		    "( { match = \"...\"; to = \"...\"; }, ... )");
		return -1;
	}
	n = one ? 1 : lnt_setting_length(s);
	if (n == 0)
		return 0;	/* no rules: nothing to run */
	if ((rules = calloc((size_t)n, sizeof(*rules))) == NULL) {
		lnt_cf_error(cf, s, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const lnt_setting_t *g = one ? s : lnt_setting_elem(s, i);
		rule_build_t b;

		memset(&b, 0, sizeof(b));
		if (!lnt_setting_is_group(g)) {
			lnt_cf_error(cf, g, "rule %d: expected a group "
			    "{ match = \"...\"; to = \"...\"; }", i + 1);
			bad = true;
			continue;
		}
		if (rule_read(cf, g, &b) == -1) {
			bad = true;
		} else if ((rules[i] = lnt_rw_compile(&b.spec, err,
		    sizeof(err))) == NULL) {
			lnt_cf_error(cf, error_site(&b, g, err), "%s", err);
			bad = true;
		}
		rule_build_free(&b);
	}
	if (bad) {
		for (int i = 0; i < n; i++)
			lnt_rw_rule_free(rules[i]);
		free(rules);
		return -1;
	}
	/* The set owns the rules from here on, even when it fails. */
	rc->set = lnt_rw_set_new(rules, (size_t)n);
	free(rules);
	if (rc->set == NULL) {
		lnt_cf_error(cf, s, "out of memory");
		return -1;
	}
	return 0;
}

static int
parse_location(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	rw_conf_t *rc = conf;
	bool v;

	if (lnt_setting_bool(s, &v) == -1) {
		lnt_cf_error(cf, s, "rewrite_location: expected true or false");
		return -1;
	}
	if (rc == NULL) {
		lnt_cf_error(cf, s, "out of memory");
		return -1;
	}
	rc->location = v;
	return 0;
}

static void *
create_conf(unsigned scope)
{
	rw_conf_t *rc = calloc(1, sizeof(*rc));

	if (rc != NULL)
		rc->location = -1;
	return rc;
}

/*
 * rewrite_location is inherited; rules are not: a site's rules run
 * before routing and a route's after, so a route that took its site's
 * would apply them twice.
 */
static void
merge_conf(const void *parent, void *child)
{
	const rw_conf_t *p = parent;
	rw_conf_t *c = child;

	if (c->location == -1)
		c->location = p->location;
}

static void
free_conf(unsigned scope, void *conf)
{
	rw_conf_t *rc = conf;

	lnt_rw_set_free(rc->set);
	free(rc);
}

/* --- requests ------------------------------------------------------- */

static const char *
req_header(void *arg, const char *name, size_t *len)
{
	return lnt_req_header(arg, name, len);
}

static int
hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Decode the request path <p> of <len> bytes into <out> of <cap> bytes,
 * relative to the root ("" for the root itself); -1 for a path that
 * names no file: a bad or NUL escape, an encoded '/' (file names hold
 * none, and decoding it would let the file system see other segments
 * than routing did), a ".." segment (never resolved, so no path leaves
 * the root), or one too long.  The same refusals as static files make.
 */
static int
decode_path(const char *p, size_t len, char *out, size_t cap)
{
	size_t i, n = 0, seg = 0;
	int hi, lo;
	char ch;

	if (len == 0 || p[0] != '/')
		return -1;
	for (i = 1; i <= len; i++) {
		if (i == len || p[i] == '/') {
			if (n - seg == 2 && memcmp(out + seg, "..", 2) == 0)
				return -1;
			if (i == len)
				break;
			if (n + 1 >= cap)
				return -1;
			out[n++] = '/';
			seg = n;
			continue;
		}
		ch = p[i];
		if (ch == '%') {
			if (len - i < 3 || (hi = hex(p[i + 1])) < 0 ||
			    (lo = hex(p[i + 2])) < 0)
				return -1;
			ch = (char)(hi << 4 | lo);
			i += 2;
			if (ch == '/')
				return -1;
		}
		if (ch == '\0' || n + 1 >= cap)
			return -1;
		out[n++] = ch;
	}
	out[n] = '\0';
	return 0;
}

/*
 * The engine's file_exists callback: whether request path <path> of
 * <len> bytes names anything (file, directory, or what a symbolic link
 * leads to) under the root of request <arg>'s route; -1 when the route
 * serves no files or the path could name none.
 */
static int
file_exists(void *arg, const char *path, size_t len)
{
	const char *root = lnt_req_root(arg);
	char rel[PATH_MAX], full[PATH_MAX];
	struct stat st;
	int n;

	if (root == NULL || decode_path(path, len, rel, sizeof(rel)) == -1)
		return -1;
	n = snprintf(full, sizeof(full), "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof(full))
		return -1;
	return stat(full, &st) == 0;
}

/*
 * Point <ctx>'s host at the request's Host without its port, lower-cased
 * into <buf> of <cap> bytes (as rules.h wants it for $host).
 */
static void
ctx_host(lnt_req_t *r, lnt_rw_ctx_t *ctx, char *buf, size_t cap)
{
	const char *h = lnt_req_host(r, &ctx->host_len), *end;

	ctx->host = h;
	if (h == NULL || ctx->host_len == 0)
		return;
	/* "[::1]:8080" keeps its brackets; "a.example:80" loses ":80". */
	if (h[0] == '[') {
		if ((end = memchr(h, ']', ctx->host_len)) != NULL)
			ctx->host_len = (size_t)(end - h) + 1;
	} else if ((end = memchr(h, ':', ctx->host_len)) != NULL) {
		ctx->host_len = (size_t)(end - h);
	}
	if (ctx->host_len >= cap)
		return;
	for (size_t i = 0; i < ctx->host_len; i++)
		buf[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' :
		    h[i]);
	ctx->host = buf;
}

/*
 * Apply the rules of <conf> to request <r>.  <route>: the route's rules,
 * after routing, where flag "last" routes again; before routing (the
 * site's rules) the route is about to be chosen anyway, so "last" and
 * "break" both just replace the URI.
 */
static lnt_mod_rc_t
apply(lnt_req_t *r, const rw_conf_t *conf, bool route)
{
	char host[RW_HOST_MAX];
	lnt_rw_result_t res;
	lnt_rw_ctx_t ctx;
	lnt_rw_rc_t rc;
	const char *q = NULL, *scope = route ? "route" : "site";
	size_t qlen = 0;

	if (conf == NULL || conf->set == NULL)
		return LNT_MOD_CONTINUE;
	memset(&ctx, 0, sizeof(ctx));
	ctx.path = lnt_req_path(r, &ctx.path_len);
	ctx.query = lnt_req_query(r, &ctx.query_len);
	ctx.method = lnt_req_method(r, &ctx.method_len);
	ctx_host(r, &ctx, host, sizeof(host));
	ctx.scheme = lnt_req_scheme(r);
	ctx.scheme_len = strlen(ctx.scheme);
	ctx.remote_addr = lnt_req_remote_addr(r);
	ctx.remote_addr_len = strlen(ctx.remote_addr);
	ctx.header = req_header;
	ctx.file_exists = file_exists;
	ctx.arg = r;

	rc = lnt_rw_apply(conf->set, &ctx, rw_out, sizeof(rw_out), &res);
	switch (rc) {
	case LNT_RW_NO_MATCH:
		return LNT_MOD_CONTINUE;
	case LNT_RW_REWRITTEN:
	case LNT_RW_BREAK:
		if (res.path_len < res.len) {
			q = rw_out + res.path_len + 1;
			qlen = res.len - res.path_len - 1;
		}
		lnt_req_log(r, LNT_MOD_LOG_DEBUG, "rewrite: %s rule %zu: %.*s "
		    "-> %s", scope, res.rule + 1, (int)ctx.path_len, ctx.path,
		    rw_out);
		if (lnt_req_set_uri(r, rw_out, res.path_len, q, qlen,
		    route && rc == LNT_RW_REWRITTEN) == -1) {
			lnt_req_fail(r, 500, "rewrite rule %zu: the new URI is "
			    "too long", res.rule + 1);
			return LNT_MOD_ERROR;
		}
		return LNT_MOD_CONTINUE;
	case LNT_RW_REDIRECT:
		if (lnt_req_redirect(r, res.status, rw_out, res.len) == -1) {
			lnt_req_fail(r, 500, "rewrite rule %zu: cannot answer "
			    "with a redirect", res.rule + 1);
			return LNT_MOD_ERROR;
		}
		return LNT_MOD_DONE;
	case LNT_RW_ERROR:
	default:
		lnt_req_fail(r, 500, "rewrite rule %zu: %s", res.rule + 1,
		    res.why != NULL ? res.why : "failed");
		return LNT_MOD_ERROR;
	}
}

static lnt_mod_rc_t
site_rewrite(lnt_req_t *r, void *conf)
{
	return apply(r, conf, false);
}

static lnt_mod_rc_t
route_rewrite(lnt_req_t *r, void *conf)
{
	return apply(r, conf, true);
}

/*
 * Rewrite upstream field <name> of request <r> from the upstream's
 * address <from> to the public <to>, with <fn> (Location or Refresh
 * syntax).
 */
static void
rewrite_field(lnt_req_t *r, const char *name, const char *from,
    const char *to, lnt_rw_loc_rc_t (*fn)(const char *, size_t,
    const char *, const char *, char *, size_t, size_t *))
{
	const char *v;
	size_t len, outlen;

	if ((v = lnt_resp_header(r, name, &len)) == NULL)
		return;
	switch (fn(v, len, from, to, rw_out, sizeof(rw_out), &outlen)) {
	case LNT_RW_LOC_KEEP:
		break;
	case LNT_RW_LOC_REWRITTEN:
		if (lnt_resp_set_header(r, name, rw_out) == -1)
			lnt_req_log(r, LNT_MOD_LOG_WARN, "rewrite: no room "
			    "to rewrite %s; sent as the upstream gave it",
			    name);
		break;
	case LNT_RW_LOC_TOO_LONG:
		lnt_req_log(r, LNT_MOD_LOG_WARN, "rewrite: %s too long to "
		    "rewrite; sent as the upstream gave it", name);
		break;
	}
}

/*
 * rewrite_location: an upstream that names its own address in Location
 * or Refresh (it cannot know the public one) would send clients around
 * the proxy; point those at the scheme and Host the client used.
 */
static lnt_mod_rc_t
fix_location(lnt_req_t *r, void *conf)
{
	const rw_conf_t *rc = conf;
	const char *addr, *upscheme, *host;
	char from[128], to[RW_HOST_MAX + 16];
	size_t hlen;
	int n;

	if (rc != NULL && rc->location == 0)
		return LNT_MOD_CONTINUE;
	if ((addr = lnt_req_upstream_addr(r, &upscheme)) == NULL ||
	    (host = lnt_req_host(r, &hlen)) == NULL || hlen == 0 ||
	    hlen > RW_HOST_MAX)
		return LNT_MOD_CONTINUE;
	n = snprintf(from, sizeof(from), "%s://%s", upscheme, addr);
	if (n < 0 || (size_t)n >= sizeof(from))
		return LNT_MOD_CONTINUE;
	snprintf(to, sizeof(to), "%s://%.*s", lnt_req_scheme(r), (int)hlen,
	    host);
	rewrite_field(r, "Location", from, to, lnt_rw_location);
	rewrite_field(r, "Refresh", from, to, lnt_rw_refresh);
	return LNT_MOD_CONTINUE;
}

static const lnt_mod_key_t keys[] = {
	{ .name = "rewrite", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_rewrite, .def = "none",
	  .help = "rules that change or redirect the request URI" },
	{ .name = "rewrite_location", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_location, .def = "true",
	  .help = "point upstream Location and Refresh at the public "
	  "address" },
	{ .name = NULL }
};

static const lnt_mod_hook_t hooks[] = {
	{ .phase = LNT_PHASE_REWRITE, .handler = site_rewrite, .order = 0 },
	{ .phase = LNT_PHASE_ROUTE_REWRITE, .handler = route_rewrite,
	  .order = 0 },
	{ .phase = LNT_PHASE_HEADER_FILTER, .handler = fix_location,
	  .order = 0 },
	{ .handler = NULL }
};

const lnt_module_t lnt_module_rewrite = {
	.abi = LNT_MODULE_ABI,
	.size = sizeof(lnt_module_t),
	.name = "rewrite",
	.version = "1.0",
	.keys = keys,
	.create_conf = create_conf,
	.merge_conf = merge_conf,
	.free_conf = free_conf,
	.hooks = hooks,
};
