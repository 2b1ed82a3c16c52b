/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for the rewrite rule engine (modules/rewrite/rules.c):
 * templates, variables, query handling, flags and conditions applied to
 * requests, the rules refused at load with their messages, and the
 * Location and Refresh rewriting.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rules.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The request every row starts from; rows override some fields. */
#define HOST		"example.com"
#define SCHEME		"https"
#define REMOTE		"192.0.2.1"

/* Request headers that every row's request carries. */
static const struct {
	const char	*name;		/* lower case, as rules.c asks */
	const char	*value;
} headers[] = {
	{ "x-a", "yes" },
	{ "user-agent", "curl/8.0" },
	{ "x-forwarded-for", "10.1.2.3" },
	{ "x-space", "a b" },
	{ "x-hash", "#top" },
	{ "x-empty", "" },
};

static const char *
header(void *arg, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < NELEM(headers); i++) {
		if (strcmp(headers[i].name, name) == 0) {
			*len = strlen(headers[i].value);
			return headers[i].value;
		}
	}
	return NULL;
}

/* The test's file system: the row's <file> through ctx.arg. */
static int
file_exists(void *arg, const char *path, size_t len)
{
	return *(const int *)arg;
}

#define F_NONE	(-1)		/* not a root route */
#define F_NO	0
#define F_YES	1

#define METHODS(...)	(const char *[]){ __VA_ARGS__ }
#define NMETHODS(...)	NELEM(((const char *[]){ __VA_ARGS__ }))
#define HEADER(n, m)	(const lnt_rw_header_spec_t[]){ { (n), (m) } }

/* One rule, one request, and what applying the rule gives. */
static const struct {
	lnt_rw_spec_t	 spec;
	const char	*path;
	const char	*query;		/* NULL: none */
	const char	*method;	/* NULL: "GET" */
	const char	*host;		/* NULL: HOST */
	int		 file;		/* F_NONE, F_NO, F_YES */
	lnt_rw_rc_t	 rc;
	const char	*out;		/* the new URI; NULL for no match */
	int		 status;
} rows[] = {
	/* Captures. */
	{ { .match = "^/old/(.*)$", .to = "/new/$1" }, "/old/a/b", NULL,
	  NULL, NULL, F_NONE, LNT_RW_REWRITTEN, "/new/a/b", 0 },
	{ { .match = "^/x", .to = "/y$0" }, "/x/z", NULL, NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/y/x", 0 },
	{ { .match = "^/(\\w+)/(\\w+)$", .to = "/$2/$1" }, "/ab/cd", NULL,
	  NULL, NULL, F_NONE, LNT_RW_REWRITTEN, "/cd/ab", 0 },
	/* A group that takes no part is empty. */
	{ { .match = "^/a(b)?(c)$", .to = "/[$1][$2]" }, "/ac", NULL, NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/[][c]", 0 },
	{ { .match = "^/(a)(b)?$", .to = "/<$2>" }, "/a", NULL, NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/<>", 0 },
	/* One digit only: $10 is $1 then "0". */
	{ { .match = "^/(a)", .to = "/$10" }, "/a", NULL, NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/a0", 0 },
	{ { .match = "^/u/(?<id>\\d+)$", .to = "/user/${id}" }, "/u/42",
	  NULL, NULL, NULL, F_NONE, LNT_RW_REWRITTEN, "/user/42", 0 },
	{ { .match = "^/(?<a>\\w)(?<b>\\w)$", .to = "/${b}${a}$1" }, "/xy",
	  NULL, NULL, NULL, F_NONE, LNT_RW_REWRITTEN, "/yxx", 0 },
	/* Escapes from the path are copied as they are. */
	{ { .match = "^/s/(.*)", .to = "/t/$1" }, "/s/a%20b%2F", NULL, NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/t/a%20b%2F", 0 },
	{ { .match = "^/p", .to = "/%41$$1" }, "/p", NULL, NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/%41$1", 0 },
	/* Captures come from the path only, never the query. */
	{ { .match = "a=(\\d)", .to = "/$1" }, "/x", "a=1", NULL, NULL,
	  F_NONE, LNT_RW_NO_MATCH, NULL, 0 },

	/* Variables. */
	{ { .match = "^", .to = "/h/$host" }, "/", NULL, NULL, NULL, F_NONE,
	  LNT_RW_REWRITTEN, "/h/example.com", 0 },
	{ { .match = "^", .to = "/h/${host}x" }, "/", NULL, NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/h/example.comx", 0 },
	{ { .match = "^/u", .to = "/v$uri" }, "/u/1", NULL, NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/v/u/1", 0 },
	{ { .match = "^", .to = "/a?$args?" }, "/", "q=1&r=2", NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/a?q=1&r=2", 0 },
	{ { .match = "^", .to = "$scheme://$host/x", .flag = "redirect" },
	  "/", NULL, NULL, NULL, F_NONE, LNT_RW_REDIRECT,
	  "https://example.com/x", 302 },
	{ { .match = "^", .to = "/r/$remote_addr" }, "/", NULL, NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/r/192.0.2.1", 0 },
	{ { .match = "^", .to = "/m/$request_method" }, "/", NULL, "PUT",
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/m/PUT", 0 },
	{ { .match = "^", .to = "/h/$http_x_a" }, "/", NULL, NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/h/yes", 0 },
	{ { .match = "^", .to = "/ua/$http_User_Agent" }, "/", NULL, NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/ua/curl/8.0", 0 },
	{ { .match = "^", .to = "/f/$http_x_forwarded_for" }, "/", NULL,
	  NULL, NULL, F_NONE, LNT_RW_REWRITTEN, "/f/10.1.2.3", 0 },
	{ { .match = "^", .to = "/h/$http_x_missing" }, "/", NULL, NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/h/", 0 },

	/* Query string. */
	{ { .match = "^/o/(.*)", .to = "/new/$1" }, "/o/x", NULL, NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/new/x", 0 },
	{ { .match = "^/o/(.*)", .to = "/new/$1" }, "/o/x", "", NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/new/x", 0 },
	{ { .match = "^/o/(.*)", .to = "/new/$1" }, "/o/x", "a=1", NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/new/x?a=1", 0 },
	{ { .match = "^/o/(.*)", .to = "/new?id=$1" }, "/o/x", "a=1", NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/new?id=x&a=1", 0 },
	{ { .match = "^/o/(.*)", .to = "/new?id=$1?" }, "/o/x", "a=1", NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/new?id=x", 0 },
	{ { .match = "^/o/(.*)", .to = "/new?" }, "/o/x", "a=1", NULL, NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/new", 0 },
	{ { .match = "^/o/", .to = "/new#top", .flag = "redirect" }, "/o/",
	  "a=1", NULL, NULL, F_NONE, LNT_RW_REDIRECT, "/new?a=1#top", 302 },
	{ { .match = "^/o/", .to = "/new?b=2#top", .flag = "redirect" },
	  "/o/", "a=1", NULL, NULL, F_NONE, LNT_RW_REDIRECT,
	  "/new?b=2&a=1#top", 302 },

	/* Flags. */
	{ { .match = "^/f", .to = "/g", .flag = "last" }, "/f", NULL, NULL,
	  NULL, F_NONE, LNT_RW_REWRITTEN, "/g", 0 },
	{ { .match = "^/f", .to = "/g", .flag = "break" }, "/f", "a", NULL,
	  NULL, F_NONE, LNT_RW_BREAK, "/g?a", 0 },
	{ { .match = "^/f", .to = "/g", .flag = "redirect" }, "/f", NULL,
	  NULL, NULL, F_NONE, LNT_RW_REDIRECT, "/g", 302 },
	{ { .match = "^/f(.*)", .to = "https://example.org/g$1",
	    .flag = "permanent" }, "/f/h", "a=1", NULL, NULL, F_NONE,
	  LNT_RW_REDIRECT, "https://example.org/g/h?a=1", 301 },
	{ { .match = "^/f", .to = "/g", .flag = "307" }, "/f", NULL, NULL,
	  NULL, F_NONE, LNT_RW_REDIRECT, "/g", 307 },
	{ { .match = "^/f", .to = "/g", .flag = "308" }, "/f", NULL, NULL,
	  NULL, F_NONE, LNT_RW_REDIRECT, "/g", 308 },
	{ { .match = "^/f", .to = "//cdn.example.net/g", .flag = "308" },
	  "/f", NULL, NULL, NULL, F_NONE, LNT_RW_REDIRECT,
	  "//cdn.example.net/g", 308 },
	{ { .match = "^/f$", .to = "/g" }, "/ff", NULL, NULL, NULL, F_NONE,
	  LNT_RW_NO_MATCH, NULL, 0 },

	/* Conditions: method. */
	{ { .match = "^", .to = "/m", .methods = METHODS("GET", "HEAD"),
	    .nmethods = NMETHODS("GET", "HEAD") }, "/", NULL, "HEAD", NULL,
	  F_NONE, LNT_RW_REWRITTEN, "/m", 0 },
	{ { .match = "^", .to = "/m", .methods = METHODS("GET", "HEAD"),
	    .nmethods = NMETHODS("GET", "HEAD") }, "/", NULL, "POST", NULL,
	  F_NONE, LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/m", .methods = METHODS("GET"),
	    .nmethods = 1 }, "/", NULL, "get", NULL, F_NONE,
	  LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/m", .methods = METHODS("GET"),
	    .nmethods = 1 }, "/", NULL, "GETX", NULL, F_NONE,
	  LNT_RW_NO_MATCH, NULL, 0 },
	/* Host. */
	{ { .match = "^", .to = "/h", .host = "Example.COM" }, "/", NULL,
	  NULL, NULL, F_NONE, LNT_RW_REWRITTEN, "/h", 0 },
	{ { .match = "^", .to = "/h", .host = "example.com" }, "/", NULL,
	  NULL, "example.org", F_NONE, LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/h", .host = "example.com" }, "/", NULL,
	  NULL, "www.example.com", F_NONE, LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/h", .host = "~^(www\\.)?example\\.com$" },
	  "/", NULL, NULL, "WWW.example.com", F_NONE, LNT_RW_REWRITTEN, "/h",
	  0 },
	{ { .match = "^", .to = "/h", .host = "~^www\\." }, "/", NULL, NULL,
	  NULL, F_NONE, LNT_RW_NO_MATCH, NULL, 0 },
	/* Header. */
	{ { .match = "^", .to = "/x", .headers = HEADER("X-A", "yes"),
	    .nheaders = 1 }, "/", NULL, NULL, NULL, F_NONE,
	  LNT_RW_REWRITTEN, "/x", 0 },
	{ { .match = "^", .to = "/x", .headers = HEADER("X-A", "YES"),
	    .nheaders = 1 }, "/", NULL, NULL, NULL, F_NONE,
	  LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/x", .headers = HEADER("x-a", "ye"),
	    .nheaders = 1 }, "/", NULL, NULL, NULL, F_NONE,
	  LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/x",
	    .headers = HEADER("User-Agent", "~^curl/"), .nheaders = 1 }, "/",
	  NULL, NULL, NULL, F_NONE, LNT_RW_REWRITTEN, "/x", 0 },
	{ { .match = "^", .to = "/x",
	    .headers = HEADER("User-Agent", "~^wget/"), .nheaders = 1 }, "/",
	  NULL, NULL, NULL, F_NONE, LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/x", .headers = HEADER("X-Empty", NULL),
	    .nheaders = 1 }, "/", NULL, NULL, NULL, F_NONE,
	  LNT_RW_REWRITTEN, "/x", 0 },
	{ { .match = "^", .to = "/x", .headers = HEADER("X-Empty", ""),
	    .nheaders = 1 }, "/", NULL, NULL, NULL, F_NONE,
	  LNT_RW_REWRITTEN, "/x", 0 },
	/* An absent header holds for no match, even one for "". */
	{ { .match = "^", .to = "/x", .headers = HEADER("X-None", NULL),
	    .nheaders = 1 }, "/", NULL, NULL, NULL, F_NONE,
	  LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/x", .headers = HEADER("X-None", "~"),
	    .nheaders = 1 }, "/", NULL, NULL, NULL, F_NONE,
	  LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/x",
	    .headers = (const lnt_rw_header_spec_t[]){ { "x-a", "yes" },
	    { "user-agent", "~wget" } }, .nheaders = 2 }, "/", NULL, NULL,
	  NULL, F_NONE, LNT_RW_NO_MATCH, NULL, 0 },
	/* File existence: the front controller. */
	{ { .match = "^/(.*)$", .to = "/index.php?q=$1",
	    .file_exists = LNT_RW_FILE_MISSING }, "/a/b", NULL, NULL, NULL,
	  F_NO, LNT_RW_REWRITTEN, "/index.php?q=a/b", 0 },
	{ { .match = "^/(.*)$", .to = "/index.php?q=$1",
	    .file_exists = LNT_RW_FILE_MISSING }, "/a/b", NULL, NULL, NULL,
	  F_YES, LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^/(.*)$", .to = "/cached/$1",
	    .file_exists = LNT_RW_FILE_EXISTS }, "/a", NULL, NULL, NULL,
	  F_YES, LNT_RW_REWRITTEN, "/cached/a", 0 },
	{ { .match = "^/(.*)$", .to = "/cached/$1",
	    .file_exists = LNT_RW_FILE_EXISTS }, "/a", NULL, NULL, NULL,
	  F_NO, LNT_RW_NO_MATCH, NULL, 0 },
	/* No file behind the request: neither way holds. */
	{ { .match = "^", .to = "/x", .file_exists = LNT_RW_FILE_EXISTS },
	  "/a", NULL, NULL, NULL, F_NONE, LNT_RW_NO_MATCH, NULL, 0 },
	{ { .match = "^", .to = "/x", .file_exists = LNT_RW_FILE_MISSING },
	  "/a", NULL, NULL, NULL, F_NONE, LNT_RW_NO_MATCH, NULL, 0 },

	/* Results that are no URI: 500. */
	{ { .match = "^", .to = "$http_x_a" }, "/", NULL, NULL, NULL,
	  F_NONE, LNT_RW_ERROR, NULL, 500 },
	{ { .match = "^", .to = "$http_x_a", .flag = "redirect" }, "/",
	  NULL, NULL, NULL, F_NONE, LNT_RW_ERROR, NULL, 500 },
	{ { .match = "^", .to = "$http_x_empty" }, "/", NULL, NULL, NULL,
	  F_NONE, LNT_RW_ERROR, NULL, 500 },
	{ { .match = "^", .to = "$scheme://$host/" }, "/", NULL, NULL, NULL,
	  F_NONE, LNT_RW_ERROR, NULL, 500 },
	{ { .match = "^", .to = "/h/$http_x_space" }, "/", NULL, NULL, NULL,
	  F_NONE, LNT_RW_ERROR, NULL, 500 },
	{ { .match = "^", .to = "/h/$http_x_space", .flag = "redirect" }, "/",
	  NULL, NULL, NULL, F_NONE, LNT_RW_ERROR, NULL, 500 },
	{ { .match = "^", .to = "/h$http_x_hash" }, "/", NULL, NULL, NULL,
	  F_NONE, LNT_RW_ERROR, NULL, 500 },
	{ { .match = "^", .to = "/h$http_x_hash", .flag = "redirect" }, "/",
	  NULL, NULL, NULL, F_NONE, LNT_RW_REDIRECT, "/h#top", 302 },
	{ { .match = "^/(.*)$", .to = "$1x" }, "/a", NULL, NULL, NULL,
	  F_NONE, LNT_RW_ERROR, NULL, 500 },
};

/* Fill <ctx> for row <i>; <file> must outlive the call. */
static void
row_ctx(lnt_rw_ctx_t *ctx, size_t i, int *file)
{
	const char *method = rows[i].method != NULL ? rows[i].method : "GET";
	const char *host = rows[i].host != NULL ? rows[i].host : HOST;

	*file = rows[i].file;
	*ctx = (lnt_rw_ctx_t){
		.path = rows[i].path, .path_len = strlen(rows[i].path),
		.query = rows[i].query,
		.query_len = rows[i].query != NULL ? strlen(rows[i].query) : 0,
		.method = method, .method_len = strlen(method),
		.host = host, .host_len = strlen(host),
		.scheme = SCHEME, .scheme_len = strlen(SCHEME),
		.remote_addr = REMOTE, .remote_addr_len = strlen(REMOTE),
		.header = header, .file_exists = file_exists, .arg = file,
	};
}

/* A set of the one rule <spec>, which must compile. */
static lnt_rw_set_t *
one_rule_set(const lnt_rw_spec_t *spec)
{
	lnt_rw_rule_t *r;
	lnt_rw_set_t *set;
	char err[256] = "";

	r = lnt_rw_compile(spec, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s -> %s: %s", spec->match, spec->to, err);
	set = lnt_rw_set_new(&r, 1);
	ck_assert_ptr_nonnull(set);
	return set;
}

/* Printing a row's failure needs a name for rc. */
static const char *
rc_name(lnt_rw_rc_t rc)
{
	static const char *names[] = { "NO_MATCH", "REWRITTEN", "BREAK",
	    "REDIRECT", "ERROR" };

	return (size_t)rc < NELEM(names) ? names[rc] : "?";
}

START_TEST(apply_table)
{
	lnt_rw_result_t res;
	lnt_rw_ctx_t ctx;
	lnt_rw_set_t *set;
	lnt_rw_rc_t rc;
	char out[256];
	int file;

	set = one_rule_set(&rows[_i].spec);
	row_ctx(&ctx, (size_t)_i, &file);
	rc = lnt_rw_apply(set, &ctx, out, sizeof(out), &res);
	ck_assert_msg(rc == rows[_i].rc, "row %d (%s -> %s): %s, expected %s%s"
	    "%s", _i, rows[_i].spec.match, rows[_i].spec.to, rc_name(rc),
	    rc_name(rows[_i].rc), rc == LNT_RW_ERROR ? ": " : "",
	    rc == LNT_RW_ERROR ? res.why : "");
	ck_assert_int_eq(res.status, rows[_i].status);
	if (rc == LNT_RW_ERROR)
		ck_assert_ptr_nonnull(res.why);
	if (rows[_i].out != NULL) {
		ck_assert_str_eq(out, rows[_i].out);
		ck_assert_uint_eq(res.len, strlen(rows[_i].out));
		ck_assert_uint_eq(res.path_len, strcspn(rows[_i].out, "?"));
		ck_assert_uint_eq(res.rule, 0);
	}
	lnt_rw_set_free(set);
}
END_TEST

/* The first rule whose conditions and match hold decides. */
START_TEST(apply_order)
{
	const lnt_rw_spec_t specs[] = {
		{ .match = "^/a", .to = "/1", .methods = METHODS("POST"),
		  .nmethods = 1 },
		{ .match = "^/b", .to = "/2" },
		{ .match = "^/a", .to = "/3", .flag = "break" },
		{ .match = "^/a", .to = "/4" },
	};
	lnt_rw_rule_t *rules[NELEM(specs)];
	lnt_rw_result_t res;
	lnt_rw_ctx_t ctx = { .path = "/a", .path_len = 2, .method = "GET",
	    .method_len = 3 };
	lnt_rw_set_t *set;
	char out[64], err[256];
	size_t i;

	for (i = 0; i < NELEM(specs); i++) {
		rules[i] = lnt_rw_compile(&specs[i], err, sizeof(err));
		ck_assert_msg(rules[i] != NULL, "%s", err);
	}
	set = lnt_rw_set_new(rules, NELEM(rules));
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(lnt_rw_set_count(set), NELEM(specs));
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, sizeof(out), &res),
	    LNT_RW_BREAK);
	ck_assert_str_eq(out, "/3");
	ck_assert_uint_eq(res.rule, 2);
	ctx.method = "POST";
	ctx.method_len = 4;
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, sizeof(out), &res),
	    LNT_RW_REWRITTEN);
	ck_assert_str_eq(out, "/1");
	ck_assert_uint_eq(res.rule, 0);
	ctx.path = "/c";
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, sizeof(out), &res),
	    LNT_RW_NO_MATCH);
	lnt_rw_set_free(set);

	/* An empty set, and a ctx with no callbacks nor strings. */
	set = lnt_rw_set_new(NULL, 0);
	ck_assert_ptr_nonnull(set);
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, sizeof(out), &res),
	    LNT_RW_NO_MATCH);
	lnt_rw_set_free(set);
	set = one_rule_set(&(lnt_rw_spec_t){ .match = "^$",
	    .to = "/e$uri$args$host$http_x_a",
	    .headers = HEADER("x-a", NULL), .nheaders = 0 });
	memset(&ctx, 0, sizeof(ctx));
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, sizeof(out), &res),
	    LNT_RW_REWRITTEN);
	ck_assert_str_eq(out, "/e");
	lnt_rw_set_free(set);
}
END_TEST

/* The match data is sized for the rule with the most groups. */
START_TEST(apply_many_groups)
{
	lnt_rw_rule_t *rules[2];
	lnt_rw_result_t res;
	lnt_rw_ctx_t ctx = { .path = "/abcdefghi", .path_len = 10 };
	lnt_rw_set_t *set;
	char out[64], err[256];

	rules[0] = lnt_rw_compile(&(lnt_rw_spec_t){ .match = "^/z",
	    .to = "/z" }, err, sizeof(err));
	rules[1] = lnt_rw_compile(&(lnt_rw_spec_t){
	    .match = "^/(.)(.)(.)(.)(.)(.)(.)(.)(.)$",
	    .to = "/$9$8$7$6$5$4$3$2$1$0" }, err, sizeof(err));
	ck_assert_ptr_nonnull(rules[0]);
	ck_assert_ptr_nonnull(rules[1]);
	set = lnt_rw_set_new(rules, 2);
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, sizeof(out), &res),
	    LNT_RW_REWRITTEN);
	ck_assert_str_eq(out, "/ihgfedcba/abcdefghi");
	lnt_rw_set_free(set);
}
END_TEST

/* A result that does not fit is an error, one that just fits is not. */
START_TEST(apply_overlong)
{
	lnt_rw_result_t res;
	lnt_rw_ctx_t ctx = { .path = "/0123456789", .path_len = 11,
	    .query = "q=1", .query_len = 3 };
	lnt_rw_set_t *set;
	char out[64];

	set = one_rule_set(&(lnt_rw_spec_t){ .match = "^/(.*)",
	    .to = "/$1$1" });
	/* "/01234567890123456789?q=1" is 25 bytes. */
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, 26, &res),
	    LNT_RW_REWRITTEN);
	ck_assert_uint_eq(res.len, 25);
	ck_assert_uint_eq(res.path_len, 21);
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, 25, &res),
	    LNT_RW_ERROR);
	ck_assert_int_eq(res.status, 500);
	ck_assert_str_eq(res.why, "rewrite result too long");
	/* The query is what does not fit. */
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, 22, &res),
	    LNT_RW_ERROR);
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, 21, &res),
	    LNT_RW_ERROR);
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, 1, &res),
	    LNT_RW_ERROR);
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, 0, &res),
	    LNT_RW_ERROR);
	lnt_rw_set_free(set);
}
END_TEST

/* Output into the input's own buffer is refused, not garbled. */
START_TEST(apply_overlap)
{
	lnt_rw_result_t res;
	lnt_rw_ctx_t ctx;
	lnt_rw_set_t *set;
	char buf[64] = "/a/b";

	set = one_rule_set(&(lnt_rw_spec_t){ .match = "^/a/(.*)",
	    .to = "/x/$1" });
	ctx = (lnt_rw_ctx_t){ .path = buf, .path_len = 4 };
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, buf, sizeof(buf), &res),
	    LNT_RW_ERROR);
	ck_assert_str_eq(res.why, "rewrite output overlaps its input");
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, buf + 4, sizeof(buf) - 4,
	    &res), LNT_RW_REWRITTEN);
	ck_assert_str_eq(buf + 4, "/x/b");
	lnt_rw_set_free(set);
}
END_TEST

/* A regex that backtracks without end costs a 500, not the worker. */
START_TEST(apply_match_limit)
{
	lnt_rw_result_t res;
	lnt_rw_ctx_t ctx;
	lnt_rw_set_t *set;
	char path[64], out[128];

	memset(path, 'a', sizeof(path) - 2);
	path[0] = '/';
	path[sizeof(path) - 2] = '!';
	path[sizeof(path) - 1] = '\0';
	ctx = (lnt_rw_ctx_t){ .path = path, .path_len = strlen(path) };
	set = one_rule_set(&(lnt_rw_spec_t){ .match = "^/(a|aa)+$",
	    .to = "/x" });
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, sizeof(out), &res),
	    LNT_RW_ERROR);
	ck_assert_str_eq(res.why, "rewrite regex hit its match limit");
	lnt_rw_set_free(set);
	/* The same in a header condition. */
	set = one_rule_set(&(lnt_rw_spec_t){ .match = "^", .to = "/x",
	    .host = "~^(a|aa)+$" });
	ctx.host = path + 1;
	ctx.host_len = strlen(path + 1);
	ck_assert_int_eq(lnt_rw_apply(set, &ctx, out, sizeof(out), &res),
	    LNT_RW_ERROR);
	lnt_rw_set_free(set);
}
END_TEST

/* Rules refused at load, and the message each gets. */
static const struct {
	lnt_rw_spec_t	 spec;
	const char	*err;
} bad[] = {
	{ { .match = "^/(a", .to = "/" },
	  "match: invalid regex at offset 4: missing closing parenthesis" },
	{ { .match = "^/a)", .to = "/" },
	  "match: invalid regex at offset 3: unmatched closing parenthesis" },
	{ { .match = "x{2,1}", .to = "/" },
	  "match: invalid regex at offset 5: numbers out of order in {} "
	  "quantifier" },
	{ { .to = "/" }, "match: required" },
	{ { .match = "^" }, "to: required" },
	{ { .match = "^", .to = "" }, "to: empty" },
	{ { .match = "^", .to = "?" }, "to: empty" },
	{ { .match = "^", .to = "/x/$foo" },
	  "to: unknown variable $foo at offset 3" },
	{ { .match = "^", .to = "/$request_uri" },
	  "to: unknown variable $request_uri at offset 1" },
	{ { .match = "^", .to = "/$Host" },
	  "to: unknown variable $Host at offset 1" },
	{ { .match = "^", .to = "/ua/$HTTP_User_Agent" },
	  "to: unknown variable $HTTP_User_Agent at offset 4" },
	{ { .match = "^", .to = "/$http_" },
	  "to: $http_ at offset 1 needs a header name" },
	{ { .match = "^/(a)(b)", .to = "/$1/$5" },
	  "to: $5 at offset 4, but match has 2 groups" },
	{ { .match = "^/(a)", .to = "/$2" },
	  "to: $2 at offset 1, but match has 1 group" },
	{ { .match = "^/a", .to = "/$1" },
	  "to: $1 at offset 1, but match has 0 groups" },
	{ { .match = "^/(?<id>\\d+)", .to = "/${idx}" },
	  "to: ${idx} at offset 1: match has no group named \"idx\" and "
	  "there is no such variable" },
	{ { .match = "(?J)(?<n>a)|(?<n>b)", .to = "/${n}" },
	  "to: ${n} at offset 1: match has several groups named \"n\"" },
	{ { .match = "^", .to = "/${id" },
	  "to: \"${\" at offset 1 must be followed by a name and '}'" },
	{ { .match = "^", .to = "/${}" },
	  "to: \"${\" at offset 1 must be followed by a name and '}'" },
	{ { .match = "^", .to = "/${a-b}" },
	  "to: \"${\" at offset 1 must be followed by a name and '}'" },
	{ { .match = "^", .to = "/a$" },
	  "to: '$' at offset 2 must be followed by a digit, a name, '{' or "
	  "'$'" },
	{ { .match = "^", .to = "/a$?" },
	  "to: '$' at offset 2 must be followed by a digit, a name, '{' or "
	  "'$'" },
	{ { .match = "^", .to = "/a$-" },
	  "to: '$' at offset 2 must be followed by a digit, a name, '{' or "
	  "'$'" },
	{ { .match = "^", .to = "new/x" },
	  "to: must start with '/', an absolute URL or a variable such as "
	  "$scheme" },
	{ { .match = "^", .to = "mailto:a@b", .flag = "redirect" },
	  "to: must start with '/', an absolute URL or a variable such as "
	  "$scheme" },
	{ { .match = "^", .to = "https://example.org/" },
	  "to: an absolute URL needs flag redirect, permanent, 307 or 308" },
	{ { .match = "^", .to = "https://example.org/", .flag = "break" },
	  "to: an absolute URL needs flag redirect, permanent, 307 or 308" },
	{ { .match = "^", .to = "/a b" },
	  "to: control character or space at offset 2" },
	{ { .match = "^", .to = "/a\r\nX: y" },
	  "to: control character or space at offset 2" },
	{ { .match = "^", .to = "/a\tb", .flag = "redirect" },
	  "to: control character or space at offset 2" },
	{ { .match = "^", .to = "/a%zz" },
	  "to: '%' at offset 2 does not begin a %XX escape" },
	{ { .match = "^", .to = "/a%2" },
	  "to: '%' at offset 2 does not begin a %XX escape" },
	{ { .match = "^", .to = "/a%2?" },
	  "to: '%' at offset 2 does not begin a %XX escape" },
	{ { .match = "^(.)", .to = "/a%$1" },
	  "to: '%' at offset 2 does not begin a %XX escape" },
	{ { .match = "^", .to = "/a#b" },
	  "to: '#' at offset 2: only a redirect may have a fragment" },
	{ { .match = "^", .to = "/", .flag = "stop" },
	  "flag: unknown flag \"stop\" (expected last, break, redirect, "
	  "permanent, 307 or 308)" },
	{ { .match = "^", .to = "/", .flag = "301" },
	  "flag: unknown flag \"301\" (expected last, break, redirect, "
	  "permanent, 307 or 308)" },
	{ { .match = "^", .to = "/", .flag = "" },
	  "flag: unknown flag \"\" (expected last, break, redirect, "
	  "permanent, 307 or 308)" },
	{ { .match = "^", .to = "/", .methods = METHODS("GET"),
	    .nmethods = 0 }, "method: an empty list matches no request" },
	{ { .match = "^", .to = "/", .methods = METHODS("GET", "GE T"),
	    .nmethods = 2 }, "method: \"GE T\" is not a method" },
	{ { .match = "^", .to = "/", .methods = METHODS(""),
	    .nmethods = 1 }, "method: \"\" is not a method" },
	{ { .match = "^", .to = "/", .host = "" }, "host: empty" },
	{ { .match = "^", .to = "/", .host = "a b" },
	  "host: \"a b\" is not a host name" },
	{ { .match = "^", .to = "/", .host = "~(" },
	  "host: invalid regex at offset 1: missing closing parenthesis" },
	{ { .match = "^", .to = "/", .headers = HEADER(NULL, "x"),
	    .nheaders = 1 }, "header: name is required" },
	{ { .match = "^", .to = "/", .headers = HEADER("X A", "x"),
	    .nheaders = 1 }, "header: \"X A\" is not a field name" },
	{ { .match = "^", .to = "/", .headers = HEADER("", "x"),
	    .nheaders = 1 }, "header: \"\" is not a field name" },
	{ { .match = "^", .to = "/", .headers = HEADER("X-A", "~a[b"),
	    .nheaders = 1 },
	  "header: invalid regex at offset 3: missing terminating ] for "
	  "character class" },
	{ { .match = "^", .to = "/", .file_exists = (lnt_rw_file_t)7 },
	  "file_exists: expected true or false" },
};

START_TEST(bad_table)
{
	char err[256];

	memset(err, 0, sizeof(err));
	ck_assert_ptr_null(lnt_rw_compile(&bad[_i].spec, err, sizeof(err)));
	ck_assert_str_eq(err, bad[_i].err);
}
END_TEST

/* A short error buffer truncates; none at all is fine too. */
START_TEST(bad_short_buffer)
{
	const lnt_rw_spec_t spec = { .match = "(", .to = "/" };
	char err[8];

	ck_assert_ptr_null(lnt_rw_compile(&spec, err, sizeof(err)));
	ck_assert_str_eq(err, "match: ");
	ck_assert_ptr_null(lnt_rw_compile(&spec, NULL, 0));
	lnt_rw_rule_free(NULL);
	lnt_rw_set_free(NULL);
}
END_TEST

#define UP	"http://10.0.0.1:8080"
#define PUB	"https://example.com"

/* Location values and what they become. */
static const struct {
	const char	*value;
	const char	*from;
	const char	*to;
	const char	*out;		/* NULL: kept */
} locations[] = {
	{ UP "/x", UP, PUB, PUB "/x" },
	{ UP "/x", UP "/", PUB "/", PUB "/x" },
	{ UP "/x?a=1#f", UP, PUB, PUB "/x?a=1#f" },
	{ UP, UP, PUB, PUB },
	{ UP "?a", UP, PUB, PUB "?a" },
	{ "HTTP://10.0.0.1:8080/Mixed", UP, PUB, PUB "/Mixed" },
	{ "http://10.0.0.1:80801/x", UP, PUB, NULL },
	{ "http://10.0.0.1:808/x", UP, PUB, NULL },
	{ "http://10.0.0.1:8080@evil.example/x", UP, PUB, NULL },
	{ "https://10.0.0.1:8080/x", UP, PUB, NULL },
	{ "/relative", UP, PUB, NULL },
	{ "", UP, PUB, NULL },
	{ "http:", UP, PUB, NULL },
	/* Default ports, either way. */
	{ "http://app/x", "http://app:80", PUB, PUB "/x" },
	{ "http://app:80/x", "http://app", PUB, PUB "/x" },
	{ "http://app:8080/x", "http://app", PUB, NULL },
	{ "https://app/x", "https://app:443", "http://example.com",
	  "http://example.com/x" },
	{ "https://app:80/x", "https://app", PUB, NULL },
	{ "http://[::1]:8080/x", "http://[::1]:8080", PUB, PUB "/x" },
	/* A path in from: whole segments, with case. */
	{ UP "/app/x", UP "/app/", PUB "/pub/", PUB "/pub/x" },
	{ UP "/app/x", UP "/app", PUB "/pub", PUB "/pub/x" },
	{ UP "/app", UP "/app/", PUB "/pub/", PUB "/pub" },
	{ UP "/app?x", UP "/app", PUB "/pub", PUB "/pub?x" },
	{ UP "/apple", UP "/app", PUB "/pub", NULL },
	{ UP "/APP/x", UP "/app", PUB "/pub", NULL },
	{ UP "/ap", UP "/app", PUB "/pub", NULL },
	{ UP "/x", UP, PUB "/pub", PUB "/pub/x" },
};

START_TEST(location_table)
{
	char out[128];
	size_t len = 0;
	lnt_rw_loc_rc_t rc;

	rc = lnt_rw_location(locations[_i].value, strlen(locations[_i].value),
	    locations[_i].from, locations[_i].to, out, sizeof(out), &len);
	if (locations[_i].out == NULL) {
		ck_assert_msg(rc == LNT_RW_LOC_KEEP, "%s rewritten",
		    locations[_i].value);
		return;
	}
	ck_assert_msg(rc == LNT_RW_LOC_REWRITTEN, "%s kept",
	    locations[_i].value);
	ck_assert_str_eq(out, locations[_i].out);
	ck_assert_uint_eq(len, strlen(locations[_i].out));
}
END_TEST

/* Refresh values and what they become. */
static const struct {
	const char	*value;
	const char	*out;		/* NULL: kept */
} refreshes[] = {
	{ "5; url=" UP "/x", "5; url=" PUB "/x" },
	{ "0;URL='" UP "/x'", "0;URL='" PUB "/x'" },
	{ "5; url = \"" UP "/\" ", "5; url = \"" PUB "/\" " },
	{ "3, " UP "/y", "3, " PUB "/y" },
	{ " 2.5 ;url=" UP, " 2.5 ;url=" PUB },
	{ "5", NULL },
	{ "5;", NULL },
	{ "5; url=", NULL },
	{ "5; url=''", NULL },
	{ "5; url=/local", NULL },
	{ "5; url=http://other.example/", NULL },
	{ "soon; url=" UP "/x", NULL },
};

START_TEST(refresh_table)
{
	char out[128];
	size_t len = 0;
	lnt_rw_loc_rc_t rc;

	rc = lnt_rw_refresh(refreshes[_i].value, strlen(refreshes[_i].value),
	    UP, PUB, out, sizeof(out), &len);
	if (refreshes[_i].out == NULL) {
		ck_assert_msg(rc == LNT_RW_LOC_KEEP, "%s rewritten",
		    refreshes[_i].value);
		return;
	}
	ck_assert_msg(rc == LNT_RW_LOC_REWRITTEN, "%s kept",
	    refreshes[_i].value);
	ck_assert_str_eq(out, refreshes[_i].out);
	ck_assert_uint_eq(len, strlen(refreshes[_i].out));
}
END_TEST

/* Both helpers say when the new value would not fit. */
START_TEST(location_too_long)
{
	static const char v[] = UP "/abc";
	static const char r[] = "1; url=" UP "/abc";
	char out[64];
	size_t len;

	/* PUB "/abc" is 23 bytes. */
	ck_assert_int_eq(lnt_rw_location(v, strlen(v), UP, PUB, out, 24,
	    &len), LNT_RW_LOC_REWRITTEN);
	ck_assert_uint_eq(len, 23);
	ck_assert_int_eq(lnt_rw_location(v, strlen(v), UP, PUB, out, 23,
	    &len), LNT_RW_LOC_TOO_LONG);
	ck_assert_int_eq(lnt_rw_location(v, strlen(v), UP, PUB, out, 0,
	    &len), LNT_RW_LOC_TOO_LONG);
	/* "1; url=" PUB "/abc" is 30 bytes. */
	ck_assert_int_eq(lnt_rw_refresh(r, strlen(r), UP, PUB, out, 31,
	    &len), LNT_RW_LOC_REWRITTEN);
	ck_assert_str_eq(out, "1; url=" PUB "/abc");
	ck_assert_int_eq(lnt_rw_refresh(r, strlen(r), UP, PUB, out, 30,
	    &len), LNT_RW_LOC_TOO_LONG);
	ck_assert_int_eq(lnt_rw_refresh(r, strlen(r), UP, PUB, out, 5,
	    &len), LNT_RW_LOC_TOO_LONG);
}
END_TEST

static Suite *
rewrite_rules_suite(void)
{
	Suite *s = suite_create("rewrite_rules");
	TCase *tc;

	tc = tcase_create("apply");
	tcase_add_loop_test(tc, apply_table, 0, (int)NELEM(rows));
	tcase_add_test(tc, apply_order);
	tcase_add_test(tc, apply_many_groups);
	tcase_add_test(tc, apply_overlong);
	tcase_add_test(tc, apply_overlap);
	tcase_add_test(tc, apply_match_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("compile");
	tcase_add_loop_test(tc, bad_table, 0, (int)NELEM(bad));
	tcase_add_test(tc, bad_short_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("location");
	tcase_add_loop_test(tc, location_table, 0, (int)NELEM(locations));
	tcase_add_loop_test(tc, refresh_table, 0, (int)NELEM(refreshes));
	tcase_add_test(tc, location_too_long);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rewrite_rules_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
