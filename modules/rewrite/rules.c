/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rewrite rule engine: compiles rules from config strings at load
 * (refusing anything it could not apply safely), applies them to a
 * request without allocating, and rewrites upstream Location and Refresh
 * values to the public address.  See rules.h for the rule language.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules.h"

/* What a piece of a compiled template stands for. */
typedef enum piece_kind {
	P_LIT,				/* literal text */
	P_GROUP,			/* a group of match */
	P_HOST,
	P_URI,
	P_ARGS,
	P_SCHEME,
	P_REMOTE_ADDR,
	P_METHOD,
	P_HTTP				/* a request header */
} piece_kind_t;

struct piece {
	piece_kind_t	 kind;
	const char	*p;		/* P_LIT: bytes in rule->tpl */
	size_t		 len;		/* P_LIT: byte count */
	uint32_t	 group;		/* P_GROUP: 0..capture count */
	char		*name;		/* P_HTTP: lower-case field name */
};

/* A host or header condition: a regex, or exact bytes. */
struct strmatch {
	pcre2_code	*re;		/* NULL: compare with exact */
	char		*exact;
	size_t		 len;		/* of exact */
};

struct hdr_cond {
	char		*name;		/* lower case */
	bool		 any;		/* no match given: presence is enough */
	struct strmatch	 m;
};

struct lnt_rw_rule {
	pcre2_code	*re;		/* match */
	uint32_t	 ngroups;	/* capture groups in re */
	char		*tpl;		/* copy of to, for P_LIT pieces */
	struct piece	*pieces;
	size_t		 npieces;
	bool		 drop_args;	/* to ended in '?' */
	lnt_rw_rc_t	 rc;		/* REWRITTEN, BREAK or REDIRECT */
	int		 status;	/* for REDIRECT */
	char		**methods;	/* NULL: any */
	size_t		 nmethods;
	bool		 has_host;
	struct strmatch	 host;
	struct hdr_cond	*headers;
	size_t		 nheaders;
	lnt_rw_file_t	 file;
};

struct lnt_rw_set {
	lnt_rw_rule_t	**rules;
	size_t		 n;
	pcre2_match_data *md;		/* shared by every match in the set */
	pcre2_match_context *mctx;	/* the LNT_RW_*_LIMIT bounds */
};

static const struct {
	const char	*name;
	lnt_rw_rc_t	 rc;
	int		 status;
} flags[] = {
	{ "last", LNT_RW_REWRITTEN, 0 },
	{ "break", LNT_RW_BREAK, 0 },
	{ "redirect", LNT_RW_REDIRECT, 302 },
	{ "permanent", LNT_RW_REDIRECT, 301 },
	{ "307", LNT_RW_REDIRECT, 307 },
	{ "308", LNT_RW_REDIRECT, 308 },
};

static const struct {
	const char	*name;
	piece_kind_t	 kind;
} variables[] = {
	{ "host", P_HOST },
	{ "uri", P_URI },
	{ "args", P_ARGS },
	{ "scheme", P_SCHEME },
	{ "remote_addr", P_REMOTE_ADDR },
	{ "request_method", P_METHOD },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define HTTP_PREFIX	"http_"

static void
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write the compile error <fmt> to <err> of <errlen> bytes. */
static void
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool
is_name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_';
}

static bool
is_hex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* An RFC 9110 token character: what methods and field names are made of. */
static bool
is_tchar(int ch)
{
	return is_name_char(ch) || (ch != '\0' &&
	    strchr("!#$%&'*+-.^`|~", ch) != NULL);
}

static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* A byte that may never appear in a URI we produce. */
static bool
is_bad_uri_byte(int ch)
{
	return ch <= 0x20 || ch == 0x7f;
}

static bool
ieq(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* The length of the "scheme://" that <s> of <len> bytes starts with, or 0. */
static size_t
absolute_prefix(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; i < len; i++) {
		if (is_name_char((unsigned char)s[i]) && s[i] != '_')
			continue;
		if (s[i] == '+' || s[i] == '-' || s[i] == '.')
			continue;
		break;
	}
	if (len - i >= 3 && memcmp(s + i, "://", 3) == 0)
		return i + 3;
	return 0;
}

static char *
dup_lower(const char *s)
{
	size_t i, len = strlen(s);
	char *d;

	if ((d = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i <= len; i++)
		d[i] = (char)lower((unsigned char)s[i]);
	return d;
}

/*
 * Compile <pattern> with <options> for key <key>, JIT too when PCRE2 can;
 * NULL and the PCRE2 message with its offset in <err> when it is bad.
 */
static pcre2_code *
compile_regex(const char *key, const char *pattern, uint32_t options,
    char *err, size_t errlen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *re;
	int rc;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    options, &rc, &off, NULL);
	if (re == NULL) {
		if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", rc);
		fail(err, errlen, "%s: invalid regex at offset %zu: %s", key,
		    (size_t)off, (char *)msg);
		return NULL;
	}
	/* No JIT (not built in, or no executable memory): interpret. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

/* Compile a "~regex" or exact value <v> of condition <key> into <m>. */
static bool
compile_strmatch(struct strmatch *m, const char *key, const char *v,
    uint32_t options, char *err, size_t errlen)
{
	if (v[0] == '~') {
		m->re = compile_regex(key, v + 1, options, err, errlen);
		return m->re != NULL;
	}
	m->len = strlen(v);
	if ((m->exact = strdup(v)) == NULL) {
		fail(err, errlen, "%s: out of memory", key);
		return false;
	}
	return true;
}

static void
free_strmatch(struct strmatch *m)
{
	pcre2_code_free(m->re);
	free(m->exact);
}

static struct piece *
add_piece(lnt_rw_rule_t *r, piece_kind_t kind)
{
	struct piece *p;

	/* The template's length bounds the pieces: allocated up front. */
	p = &r->pieces[r->npieces++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	return p;
}

/* Resolve the variable <name> of <len> bytes into piece <p>. */
static bool
resolve_variable(struct piece *p, const char *name, size_t len)
{
	size_t i, plen = sizeof(HTTP_PREFIX) - 1;

	for (i = 0; i < NELEM(variables); i++) {
		if (strlen(variables[i].name) == len &&
		    memcmp(variables[i].name, name, len) == 0) {
			p->kind = variables[i].kind;
			return true;
		}
	}
	if (len > plen && memcmp(name, HTTP_PREFIX, plen) == 0) {
		p->kind = P_HTTP;
		if ((p->name = malloc(len - plen + 1)) == NULL)
			return false;
		for (i = plen; i < len; i++)
			p->name[i - plen] = name[i] == '_' ? '-' :
			    (char)lower((unsigned char)name[i]);
		p->name[len - plen] = '\0';
		return true;
	}
	return false;
}

/*
 * Parse a "${name}" reference whose name of <len> bytes starts at <name>
 * (at offset <off> of the template): a named group of <r>->re first,
 * else a variable.
 */
static bool
parse_braced(lnt_rw_rule_t *r, const char *name, size_t len, size_t off,
    char *err, size_t errlen)
{
	char buf[64];
	struct piece *p;
	int n;

	if (len >= sizeof(buf)) {
		fail(err, errlen, "to: name at offset %zu is too long", off);
		return false;
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	p = add_piece(r, P_GROUP);
	n = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)buf);
	if (n > 0) {
		p->group = (uint32_t)n;
		return true;
	}
	if (n == PCRE2_ERROR_NOUNIQUESUBSTRING) {
		fail(err, errlen, "to: ${%s} at offset %zu: match has several "
		    "groups named \"%s\"", buf, off, buf);
		return false;
	}
	if (resolve_variable(p, name, len))
		return true;
	if (p->kind == P_HTTP)
		fail(err, errlen, "to: out of memory");
	else
		fail(err, errlen, "to: ${%s} at offset %zu: match has no "
		    "group named \"%s\" and there is no such variable", buf,
		    off, buf);
	return false;
}

/*
 * Parse the reference after the '$' at offset <i> of r->tpl (<len>
 * bytes); return the offset just past it, or 0 with <err> set.
 */
static size_t
parse_ref(lnt_rw_rule_t *r, size_t i, size_t len, char *err, size_t errlen)
{
	const char *t = r->tpl;
	struct piece *p;
	size_t j;
	int ch;

	ch = i + 1 < len ? (unsigned char)t[i + 1] : '\0';
	if (ch >= '0' && ch <= '9') {
		if ((uint32_t)(ch - '0') > r->ngroups) {
			fail(err, errlen, "to: $%c at offset %zu, but match "
			    "has %u group%s", ch, i, r->ngroups,
			    r->ngroups == 1 ? "" : "s");
			return 0;
		}
		add_piece(r, P_GROUP)->group = (uint32_t)(ch - '0');
		return i + 2;
	}
	if (ch == '$') {
		p = add_piece(r, P_LIT);
		p->p = t + i + 1;
		p->len = 1;
		return i + 2;
	}
	if (ch == '{') {
		for (j = i + 2; j < len && is_name_char((unsigned char)t[j]);
		    j++)
			;
		if (j == i + 2 || j == len || t[j] != '}') {
			fail(err, errlen, "to: \"${\" at offset %zu must be "
			    "followed by a name and '}'", i);
			return 0;
		}
		if (!parse_braced(r, t + i + 2, j - i - 2, i, err, errlen))
			return 0;
		return j + 1;
	}
	if (ch != '\0' && is_name_char(ch)) {
		for (j = i + 1; j < len && is_name_char((unsigned char)t[j]);
		    j++)
			;
		p = add_piece(r, P_LIT);
		if (resolve_variable(p, t + i + 1, j - i - 1))
			return j;
		if (p->kind == P_HTTP) {
			fail(err, errlen, "to: out of memory");
			return 0;
		}
		if (j - i - 1 == sizeof(HTTP_PREFIX) - 1 &&
		    memcmp(t + i + 1, HTTP_PREFIX, j - i - 1) == 0)
			fail(err, errlen, "to: $http_ at offset %zu needs a "
			    "header name", i);
		else
			fail(err, errlen, "to: unknown variable $%.*s at "
			    "offset %zu", (int)(j - i - 1), t + i + 1, i);
		return 0;
	}
	fail(err, errlen, "to: '$' at offset %zu must be followed by a digit, "
	    "a name, '{' or '$'", i);
	return 0;
}

/* Parse r->tpl into pieces, checking every literal byte. */
static bool
parse_template(lnt_rw_rule_t *r, char *err, size_t errlen)
{
	size_t i, lit, len, abs;
	bool redirect = r->rc == LNT_RW_REDIRECT;
	struct piece *p;
	const char *t;

	t = r->tpl;
	len = strlen(t);
	if (len > 0 && t[len - 1] == '?') {
		r->drop_args = true;
		len--;
	}
	if (len == 0) {
		fail(err, errlen, "to: empty");
		return false;
	}
	/* At most one piece per byte. */
	if ((r->pieces = calloc(len, sizeof(*r->pieces))) == NULL) {
		fail(err, errlen, "to: out of memory");
		return false;
	}
	if (t[0] != '/' && t[0] != '$') {
		abs = absolute_prefix(t, len);
		if (abs == 0) {
			fail(err, errlen, "to: must start with '/', an "
			    "absolute URL or a variable such as $scheme");
			return false;
		}
		if (!redirect) {
			fail(err, errlen, "to: an absolute URL needs flag "
			    "redirect, permanent, 307 or 308");
			return false;
		}
	}
	for (i = lit = 0; i < len;) {
		if (t[i] == '$') {
			if (i > lit) {
				p = add_piece(r, P_LIT);
				p->p = t + lit;
				p->len = i - lit;
			}
			if ((i = parse_ref(r, i, len, err, errlen)) == 0)
				return false;
			lit = i;
			continue;
		}
		if (is_bad_uri_byte((unsigned char)t[i])) {
			fail(err, errlen, "to: control character or space at "
			    "offset %zu", i);
			return false;
		}
		if (t[i] == '%' && (i + 2 >= len ||
		    !is_hex((unsigned char)t[i + 1]) ||
		    !is_hex((unsigned char)t[i + 2]))) {
			fail(err, errlen, "to: '%%' at offset %zu does not "
			    "begin a %%XX escape", i);
			return false;
		}
		if (t[i] == '#' && !redirect) {
			fail(err, errlen, "to: '#' at offset %zu: only a "
			    "redirect may have a fragment", i);
			return false;
		}
		i++;
	}
	if (i > lit) {
		p = add_piece(r, P_LIT);
		p->p = t + lit;
		p->len = i - lit;
	}
	return true;
}

static bool
compile_flag(lnt_rw_rule_t *r, const char *flag, char *err, size_t errlen)
{
	size_t i;

	if (flag == NULL)
		flag = "last";
	for (i = 0; i < NELEM(flags); i++) {
		if (strcmp(flags[i].name, flag) == 0) {
			r->rc = flags[i].rc;
			r->status = flags[i].status;
			return true;
		}
	}
	fail(err, errlen, "flag: unknown flag \"%s\" (expected last, break, "
	    "redirect, permanent, 307 or 308)", flag);
	return false;
}

static bool
compile_methods(lnt_rw_rule_t *r, const lnt_rw_spec_t *spec, char *err,
    size_t errlen)
{
	size_t i;

	if (spec->methods == NULL)
		return true;
	if (spec->nmethods == 0) {
		fail(err, errlen, "method: an empty list matches no request");
		return false;
	}
	if ((r->methods = calloc(spec->nmethods, sizeof(char *))) == NULL)
		goto nomem;
	for (i = 0; i < spec->nmethods; i++) {
		if (spec->methods[i] == NULL || !is_token(spec->methods[i])) {
			fail(err, errlen, "method: \"%s\" is not a method",
			    spec->methods[i] != NULL ? spec->methods[i] : "");
			return false;
		}
		if ((r->methods[r->nmethods] = strdup(spec->methods[i])) ==
		    NULL)
			goto nomem;
		r->nmethods++;
	}
	return true;
nomem:
	fail(err, errlen, "method: out of memory");
	return false;
}

static bool
compile_host(lnt_rw_rule_t *r, const char *host, char *err, size_t errlen)
{
	const char *s;

	if (host == NULL)
		return true;
	if (host[0] == '\0') {
		fail(err, errlen, "host: empty");
		return false;
	}
	if (host[0] != '~') {
		for (s = host; *s != '\0'; s++) {
			if (is_bad_uri_byte((unsigned char)*s)) {
				fail(err, errlen, "host: \"%s\" is not a host "
				    "name", host);
				return false;
			}
		}
	}
	r->has_host = true;
	/* Host names compare without case, so a host regex does too. */
	return compile_strmatch(&r->host, "host", host, PCRE2_CASELESS, err,
	    errlen);
}

static bool
compile_headers(lnt_rw_rule_t *r, const lnt_rw_spec_t *spec, char *err,
    size_t errlen)
{
	const lnt_rw_header_spec_t *hs;
	struct hdr_cond *h;
	size_t i;

	if (spec->nheaders == 0)
		return true;
	if ((r->headers = calloc(spec->nheaders, sizeof(*h))) == NULL)
		goto nomem;
	for (i = 0; i < spec->nheaders; i++) {
		hs = &spec->headers[i];
		if (hs->name == NULL) {
			fail(err, errlen, "header: name is required");
			return false;
		}
		if (!is_token(hs->name)) {
			fail(err, errlen, "header: \"%s\" is not a field name",
			    hs->name);
			return false;
		}
		h = &r->headers[r->nheaders++];
		if ((h->name = dup_lower(hs->name)) == NULL)
			goto nomem;
		if (hs->match == NULL) {
			h->any = true;
			continue;
		}
		if (!compile_strmatch(&h->m, "header", hs->match, 0, err,
		    errlen))
			return false;
	}
	return true;
nomem:
	fail(err, errlen, "header: out of memory");
	return false;
}

lnt_rw_rule_t *
lnt_rw_compile(const lnt_rw_spec_t *spec, char *err, size_t errlen)
{
	lnt_rw_rule_t *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		fail(err, errlen, "match: out of memory");
		return NULL;
	}
	if (spec->match == NULL) {
		fail(err, errlen, "match: required");
		goto bad;
	}
	if (spec->to == NULL) {
		fail(err, errlen, "to: required");
		goto bad;
	}
	if (spec->file_exists != LNT_RW_FILE_ANY &&
	    spec->file_exists != LNT_RW_FILE_EXISTS &&
	    spec->file_exists != LNT_RW_FILE_MISSING) {
		fail(err, errlen, "file_exists: expected true or false");
		goto bad;
	}
	r->file = spec->file_exists;
	if (!compile_flag(r, spec->flag, err, errlen))
		goto bad;
	if ((r->re = compile_regex("match", spec->match, 0, err, errlen)) ==
	    NULL)
		goto bad;
	if (pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT,
	    &r->ngroups) != 0) {
		fail(err, errlen, "match: cannot count its groups");
		goto bad;
	}
	if ((r->tpl = strdup(spec->to)) == NULL) {
		fail(err, errlen, "to: out of memory");
		goto bad;
	}
	if (!parse_template(r, err, errlen) ||
	    !compile_methods(r, spec, err, errlen) ||
	    !compile_host(r, spec->host, err, errlen) ||
	    !compile_headers(r, spec, err, errlen))
		goto bad;
	return r;
bad:
	lnt_rw_rule_free(r);
	return NULL;
}

void
lnt_rw_rule_free(lnt_rw_rule_t *r)
{
	size_t i;

	if (r == NULL)
		return;
	pcre2_code_free(r->re);
	for (i = 0; i < r->npieces; i++)
		free(r->pieces[i].name);
	free(r->pieces);
	free(r->tpl);
	for (i = 0; i < r->nmethods; i++)
		free(r->methods[i]);
	free(r->methods);
	free_strmatch(&r->host);
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free_strmatch(&r->headers[i].m);
	}
	free(r->headers);
	free(r);
}

lnt_rw_set_t *
lnt_rw_set_new(lnt_rw_rule_t **rules, size_t n)
{
	lnt_rw_set_t *set;
	uint32_t pairs = 1;
	size_t i;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		goto nomem;
	if (n > 0 && (set->rules = calloc(n, sizeof(*rules))) == NULL)
		goto nomem;
	set->n = n;
	for (i = 0; i < n; i++) {
		set->rules[i] = rules[i];
		if (rules[i]->ngroups + 1 > pairs)
			pairs = rules[i]->ngroups + 1;
	}
	/*
	 * Condition regexes only ask whether they match, and a match data
	 * too small for their groups still says so (pcre2_match gives 0).
	 */
	if ((set->md = pcre2_match_data_create(pairs, NULL)) == NULL ||
	    (set->mctx = pcre2_match_context_create(NULL)) == NULL) {
		lnt_rw_set_free(set);
		return NULL;
	}
	pcre2_set_match_limit(set->mctx, LNT_RW_MATCH_LIMIT);
	pcre2_set_depth_limit(set->mctx, LNT_RW_DEPTH_LIMIT);
	pcre2_set_heap_limit(set->mctx, LNT_RW_HEAP_LIMIT);
	return set;
nomem:
	for (i = 0; i < n; i++)
		lnt_rw_rule_free(rules[i]);
	free(set);
	return NULL;
}

void
lnt_rw_set_free(lnt_rw_set_t *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		lnt_rw_rule_free(set->rules[i]);
	free(set->rules);
	pcre2_match_data_free(set->md);
	pcre2_match_context_free(set->mctx);
	free(set);
}

size_t
lnt_rw_set_count(const lnt_rw_set_t *set)
{
	return set->n;
}

/*
 * Run <re> on <s> of <len> bytes; 1 on a match, 0 on none, -1 when PCRE2
 * gave up (a limit, or memory) and the request must fail.
 */
static int
run(const lnt_rw_set_t *set, const pcre2_code *re, const char *s,
    size_t len)
{
	int rc;

	/* A NULL subject is only accepted by newer PCRE2 releases. */
	if (s == NULL)
		s = "";
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, set->md, set->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return rc >= 0 ? 1 : -1;
}

static int
match_str(const lnt_rw_set_t *set, const struct strmatch *m, const char *s,
    size_t len, bool caseless)
{
	if (m->re != NULL)
		return run(set, m->re, s, len);
	if (len != m->len)
		return 0;
	if (caseless)
		return ieq(s, m->exact, len);
	return memcmp(s, m->exact, len) == 0;
}

/*
 * Whether the method, host and header conditions of <r> hold for <ctx>:
 * 1 yes, 0 no, -1 when a regex gave up.
 */
static int
conditions_hold(const lnt_rw_set_t *set, const lnt_rw_rule_t *r,
    const lnt_rw_ctx_t *ctx)
{
	const struct hdr_cond *h;
	const char *v;
	size_t i, len;
	int rc;

	if (r->methods != NULL) {
		for (i = 0; i < r->nmethods; i++)
			if (strlen(r->methods[i]) == ctx->method_len &&
			    memcmp(r->methods[i], ctx->method,
			    ctx->method_len) == 0)
				break;
		if (i == r->nmethods)
			return 0;
	}
	if (r->has_host && (rc = match_str(set, &r->host, ctx->host,
	    ctx->host_len, true)) != 1)
		return rc;
	for (i = 0; i < r->nheaders; i++) {
		h = &r->headers[i];
		len = 0;
		v = ctx->header != NULL ? ctx->header(ctx->arg, h->name,
		    &len) : NULL;
		if (v == NULL)
			return 0;
		if (!h->any && (rc = match_str(set, &h->m, v, len, false)) != 1)
			return rc;
	}
	return 1;
}

/* An output buffer that remembers overflowing instead of writing past. */
struct out {
	char		*p;
	size_t		 cap;
	size_t		 len;
	bool		 over;
};

static void
put(struct out *o, const char *s, size_t len)
{
	if (o->over || len >= o->cap - o->len) {
		o->over = true;
		return;
	}
	if (len > 0)
		memcpy(o->p + o->len, s, len);
	o->len += len;
}

/* Expand the pieces of <r> after a match of <ctx>'s path into <o>. */
static void
render(const lnt_rw_set_t *set, const lnt_rw_rule_t *r,
    const lnt_rw_ctx_t *ctx, int nmatched, struct out *o)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(set->md);
	const struct piece *p;
	const char *v;
	size_t i, len;

	for (i = 0; i < r->npieces; i++) {
		p = &r->pieces[i];
		switch (p->kind) {
		case P_LIT:
			put(o, p->p, p->len);
			break;
		case P_GROUP:
			/*
			 * A group that took no part is empty; so is a \K
			 * whole match that starts after its end.
			 */
			if ((int)p->group >= nmatched ||
			    ov[2 * p->group] == PCRE2_UNSET ||
			    ov[2 * p->group + 1] < ov[2 * p->group])
				break;
			put(o, ctx->path + ov[2 * p->group],
			    ov[2 * p->group + 1] - ov[2 * p->group]);
			break;
		case P_HOST:
			put(o, ctx->host, ctx->host_len);
			break;
		case P_URI:
			put(o, ctx->path, ctx->path_len);
			break;
		case P_ARGS:
			put(o, ctx->query, ctx->query_len);
			break;
		case P_SCHEME:
			put(o, ctx->scheme, ctx->scheme_len);
			break;
		case P_REMOTE_ADDR:
			put(o, ctx->remote_addr, ctx->remote_addr_len);
			break;
		case P_METHOD:
			put(o, ctx->method, ctx->method_len);
			break;
		case P_HTTP:
			len = 0;
			v = ctx->header != NULL ? ctx->header(ctx->arg,
			    p->name, &len) : NULL;
			if (v != NULL)
				put(o, v, len);
			break;
		}
	}
}

/*
 * Append the query <q> of <qlen> bytes to <o> as rules.h says: after '&'
 * or '?', before a fragment.
 */
static void
append_query(struct out *o, const char *q, size_t qlen)
{
	const char *hash;
	size_t at;
	char sep;

	if (o->over || qlen == 0)
		return;
	hash = memchr(o->p, '#', o->len);
	at = hash != NULL ? (size_t)(hash - o->p) : o->len;
	sep = memchr(o->p, '?', at) != NULL ? '&' : '?';
	if (qlen + 1 >= o->cap - o->len) {
		o->over = true;
		return;
	}
	memmove(o->p + at + 1 + qlen, o->p + at, o->len - at);
	o->p[at] = sep;
	memcpy(o->p + at + 1, q, qlen);
	o->len += qlen + 1;
}

/* Why the result <s> of <len> bytes is not a URI we may use, or NULL. */
static const char *
invalid_uri(const char *s, size_t len, bool redirect)
{
	size_t i;

	if (len == 0)
		return "rewrite result is empty";
	if (s[0] != '/') {
		if (!redirect)
			return "rewrite result does not start with '/'";
		if (absolute_prefix(s, len) == 0)
			return "redirect target is neither a path nor an "
			    "absolute URL";
	}
	for (i = 0; i < len; i++) {
		if (is_bad_uri_byte((unsigned char)s[i]))
			return "rewrite result holds a control character, "
			    "space or NUL";
		if (s[i] == '#' && !redirect)
			return "rewrite result holds '#'";
	}
	return NULL;
}

static bool
overlaps(const char *a, size_t alen, const char *b, size_t blen)
{
	uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;

	if (a == NULL || b == NULL || alen == 0 || blen == 0)
		return false;
	return pa < pb + blen && pb < pa + alen;
}

static lnt_rw_rc_t
fail_request(lnt_rw_result_t *res, const char *why)
{
	res->status = 500;
	res->why = why;
	return LNT_RW_ERROR;
}

lnt_rw_rc_t
lnt_rw_apply(const lnt_rw_set_t *set, const lnt_rw_ctx_t *ctx, char *out,
    size_t cap, lnt_rw_result_t *res)
{
	const lnt_rw_rule_t *r;
	struct out o;
	const char *why, *q;
	size_t i;
	int rc, fe;

	memset(res, 0, sizeof(*res));
	if (cap == 0)
		return fail_request(res, "no room for the rewrite result");
	if (overlaps(out, cap, ctx->path, ctx->path_len) ||
	    overlaps(out, cap, ctx->query, ctx->query_len))
		return fail_request(res, "rewrite output overlaps its input");
	for (i = 0; i < set->n; i++) {
		r = set->rules[i];
		if ((rc = conditions_hold(set, r, ctx)) < 0)
			goto gave_up;
		if (rc == 0)
			continue;
		rc = pcre2_match(r->re, (PCRE2_SPTR)(ctx->path != NULL ?
		    ctx->path : ""), ctx->path_len, 0, 0, set->md, set->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		/* The match data has room for every group: 0 cannot be. */
		if (rc <= 0)
			goto gave_up;
		if (r->file != LNT_RW_FILE_ANY) {
			fe = ctx->file_exists != NULL ?
			    ctx->file_exists(ctx->arg, ctx->path,
			    ctx->path_len) : -1;
			if (fe < 0 || (fe == 1) != (r->file ==
			    LNT_RW_FILE_EXISTS))
				continue;
		}
		res->rule = i;
		o = (struct out){ out, cap, 0, false };
		render(set, r, ctx, rc, &o);
		if (!r->drop_args)
			append_query(&o, ctx->query, ctx->query_len);
		if (o.over)
			return fail_request(res, "rewrite result too long");
		out[o.len] = '\0';
		why = invalid_uri(out, o.len, r->rc == LNT_RW_REDIRECT);
		if (why != NULL)
			return fail_request(res, why);
		res->len = o.len;
		q = memchr(out, '?', o.len);
		res->path_len = q != NULL ? (size_t)(q - out) : o.len;
		res->status = r->status;
		return r->rc;
	}
	return LNT_RW_NO_MATCH;
gave_up:
	/* The caller's log names the rule whose regex is to blame. */
	res->rule = i;
	return fail_request(res, "rewrite regex hit its match limit");
}

/* The default port of <scheme> of <len> bytes, with its ':', or NULL. */
static const char *
default_port(const char *scheme, size_t len)
{
	if (len == 4 && ieq(scheme, "http", 4))
		return ":80";
	if (len == 5 && ieq(scheme, "https", 5))
		return ":443";
	return NULL;
}

/* <len> of authority <a> without <port> (":80") if it ends with it. */
static size_t
strip_port(const char *a, size_t len, const char *port)
{
	size_t plen;

	if (port == NULL)
		return len;
	plen = strlen(port);
	if (len > plen && memcmp(a + len - plen, port, plen) == 0)
		return len - plen;
	return len;
}

static bool
ends_authority(char ch)
{
	return ch == '/' || ch == '?' || ch == '#';
}

/*
 * How many bytes of <v> of <len> bytes the upstream URL <from> takes (0:
 * none), with the rules lnt_rw_location() documents.
 */
static size_t
from_prefix(const char *v, size_t len, const char *from)
{
	size_t fs, vs, fa, va, fa2, va2, fp, flen = strlen(from);
	const char *port;

	/* Scheme, "://" included. */
	if ((fs = absolute_prefix(from, flen)) == 0 ||
	    (vs = absolute_prefix(v, len)) != fs || !ieq(v, from, fs))
		return 0;
	/* Authority, up to the path. */
	fa = strcspn(from + fs, "/?#");
	for (va = 0; vs + va < len && !ends_authority(v[vs + va]); va++)
		;
	port = default_port(from, fs - 3);
	fa2 = strip_port(from + fs, fa, port);
	va2 = strip_port(v + vs, va, port);
	if (fa2 != va2 || !ieq(from + fs, v + vs, fa2))
		return 0;
	/* Path: whole segments, a trailing '/' ignored. */
	fp = flen - fs - fa;
	if (fp > 0 && from[flen - 1] == '/')
		fp--;
	if (fp == 0)
		return vs + va;
	if (len - vs - va < fp || memcmp(v + vs + va, from + fs + fa, fp) != 0)
		return 0;
	if (vs + va + fp < len && !ends_authority(v[vs + va + fp]))
		return 0;
	return vs + va + fp;
}

lnt_rw_loc_rc_t
lnt_rw_location(const char *value, size_t len, const char *from,
    const char *to, char *out, size_t cap, size_t *outlen)
{
	size_t n, tlen = strlen(to);

	if ((n = from_prefix(value, len, from)) == 0)
		return LNT_RW_LOC_KEEP;
	/* The remainder starts with '/' or nothing: no '/' to double. */
	if (tlen > 0 && to[tlen - 1] == '/')
		tlen--;
	if (tlen + len - n >= cap)
		return LNT_RW_LOC_TOO_LONG;
	memcpy(out, to, tlen);
	memcpy(out + tlen, value + n, len - n);
	out[tlen + len - n] = '\0';
	*outlen = tlen + len - n;
	return LNT_RW_LOC_REWRITTEN;
}

static size_t
skip_ws(const char *v, size_t i, size_t len)
{
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	return i;
}

lnt_rw_loc_rc_t
lnt_rw_refresh(const char *value, size_t len, const char *from,
    const char *to, char *out, size_t cap, size_t *outlen)
{
	lnt_rw_loc_rc_t rc;
	size_t i, j, end, n;

	/* The delay, as HTML parses it: digits and dots. */
	i = skip_ws(value, 0, len);
	while (i < len && ((value[i] >= '0' && value[i] <= '9') ||
	    value[i] == '.'))
		i++;
	i = skip_ws(value, i, len);
	if (i == len || (value[i] != ';' && value[i] != ','))
		return LNT_RW_LOC_KEEP;
	i = skip_ws(value, i + 1, len);
	if (len - i >= 3 && ieq(value + i, "url", 3)) {
		j = skip_ws(value, i + 3, len);
		if (j < len && value[j] == '=')
			i = skip_ws(value, j + 1, len);
	}
	end = len;
	if (i < len && (value[i] == '"' || value[i] == '\'')) {
		for (end = i + 1; end < len && value[end] != value[i]; end++)
			;
		i++;
	}
	if (i >= end)
		return LNT_RW_LOC_KEEP;
	/* The URL is rewritten in place in <out>, after the head kept. */
	if (i >= cap)
		return LNT_RW_LOC_TOO_LONG;
	rc = lnt_rw_location(value + i, end - i, from, to, out + i, cap - i,
	    &n);
	if (rc != LNT_RW_LOC_REWRITTEN)
		return rc;
	if (i + n + len - end >= cap)
		return LNT_RW_LOC_TOO_LONG;
	memcpy(out, value, i);
	memcpy(out + i + n, value + end, len - end);
	*outlen = i + n + len - end;
	out[*outlen] = '\0';
	return LNT_RW_LOC_REWRITTEN;
}
