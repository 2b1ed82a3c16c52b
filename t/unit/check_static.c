/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for static content (static.c, http_date.c, mime.c): request
 * path decoding and the ways out of root it refuses, entity-tag and date
 * conditionals, Range parsing, HTTP-dates, and media type lookup.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "http_date.h"
#include "http_parse.h"
#include "mime.h"
#include "static.h"
#include "util.h"

/* A request path and what it decodes to. */
static const struct {
	const char	*path;
	lnt_path_rc_t	 rc;
	const char	*rel;		/* for LNT_PATH_OK */
	bool		 dir;
} paths[] = {
	{ "/", LNT_PATH_OK, "", true },
	{ "/index.html", LNT_PATH_OK, "index.html", false },
	{ "/a/b/c.txt", LNT_PATH_OK, "a/b/c.txt", false },
	{ "/a/b/", LNT_PATH_OK, "a/b", true },
	{ "/a//b", LNT_PATH_OK, "a/b", false },
	{ "//a", LNT_PATH_OK, "a", false },
	{ "/a/./b", LNT_PATH_OK, "a/b", false },
	{ "/a/.", LNT_PATH_OK, "a", true },
	{ "/.", LNT_PATH_OK, "", true },
	{ "/a%20b", LNT_PATH_OK, "a b", false },
	{ "/%41%62c", LNT_PATH_OK, "Abc", false },
	{ "/caf%C3%A9", LNT_PATH_OK, "caf\xc3\xa9", false },
	{ "/%2e", LNT_PATH_OK, "", true },
	{ "/...", LNT_PATH_OK, "...", false },
	{ "/..a", LNT_PATH_OK, "..a", false },
	{ "/a..", LNT_PATH_OK, "a..", false },
	{ "/.hidden", LNT_PATH_OK, ".hidden", false },
	/* Ways out: refused, whatever their spelling. */
	{ "/..", LNT_PATH_REFUSED, NULL, false },
	{ "/../etc/passwd", LNT_PATH_REFUSED, NULL, false },
	{ "/a/../b", LNT_PATH_REFUSED, NULL, false },
	{ "/a/..", LNT_PATH_REFUSED, NULL, false },
	{ "/a/../", LNT_PATH_REFUSED, NULL, false },
	{ "/%2e%2e/etc/passwd", LNT_PATH_REFUSED, NULL, false },
	{ "/%2E%2E/x", LNT_PATH_REFUSED, NULL, false },
	{ "/.%2e/x", LNT_PATH_REFUSED, NULL, false },
	{ "/%2e./x", LNT_PATH_REFUSED, NULL, false },
	{ "/a%2fb", LNT_PATH_REFUSED, NULL, false },
	{ "/a%2F..%2Fb", LNT_PATH_REFUSED, NULL, false },
	{ "/..%2fetc", LNT_PATH_REFUSED, NULL, false },
	/* Malformed. */
	{ "/a%00b", LNT_PATH_BAD, NULL, false },
	{ "/a%0", LNT_PATH_BAD, NULL, false },
	{ "/a%", LNT_PATH_BAD, NULL, false },
	{ "/a%zz", LNT_PATH_BAD, NULL, false },
	{ "/a%g1", LNT_PATH_BAD, NULL, false },
	{ "a/b", LNT_PATH_BAD, NULL, false },
	{ "", LNT_PATH_BAD, NULL, false },
};

START_TEST(path_table)
{
	char out[256];
	bool dir = !paths[_i].dir;
	lnt_path_rc_t rc;

	rc = lnt_static_path(paths[_i].path, strlen(paths[_i].path), out,
	    sizeof(out), &dir);
	ck_assert_msg(rc == paths[_i].rc, "%s: rc %d, expected %d",
	    paths[_i].path, rc, paths[_i].rc);
	if (rc != LNT_PATH_OK)
		return;
	ck_assert_str_eq(out, paths[_i].rel);
	ck_assert_msg(dir == paths[_i].dir, "%s: dir %d", paths[_i].path,
	    dir);
}
END_TEST

START_TEST(path_literal_nul)
{
	static const char p[] = "/a\0b";
	char out[16];
	bool dir;

	ck_assert_int_eq(lnt_static_path(p, sizeof(p) - 1, out, sizeof(out),
	    &dir), LNT_PATH_BAD);
}
END_TEST

START_TEST(path_too_long)
{
	char out[8];
	bool dir;

	ck_assert_int_eq(lnt_static_path("/abcdefgh", 9, out, sizeof(out),
	    &dir), LNT_PATH_REFUSED);
	ck_assert_int_eq(lnt_static_path("/abc/defg", 9, out, sizeof(out),
	    &dir), LNT_PATH_REFUSED);
	ck_assert_int_eq(lnt_static_path("/abc/def", 8, out, sizeof(out),
	    &dir), LNT_PATH_OK);
	ck_assert_str_eq(out, "abc/def");
}
END_TEST

#define ETAG	"\"5f1e-c\""

/* An If-None-Match / If-Range list and whether it matches ETAG. */
static const struct {
	const char	*list;
	bool		 weak;		/* by the weak comparison */
	bool		 strong;	/* by the strong comparison */
} etags[] = {
	{ "\"5f1e-c\"", true, true },
	{ "W/\"5f1e-c\"", true, false },
	{ "*", true, true },
	{ "\"x\", \"5f1e-c\"", true, true },
	{ "\"x\",W/\"5f1e-c\"", true, false },
	{ " , \"x\" ,, \"5f1e-c\" ", true, true },
	{ "\"5f1e-d\"", false, false },
	{ "\"5f1e-c", false, false },
	{ "5f1e-c", false, false },
	{ "w/\"5f1e-c\"", false, false },
	{ "\"\"", false, false },
	{ "", false, false },
	{ "bogus, \"5f1e-c\"", false, false },
};

START_TEST(etag_table)
{
	lnt_str_t l = { etags[_i].list, strlen(etags[_i].list) };

	ck_assert_msg(lnt_static_etag_match(l, ETAG, false) == etags[_i].weak,
	    "weak %s", etags[_i].list);
	ck_assert_msg(lnt_static_etag_match(l, ETAG, true) ==
	    etags[_i].strong, "strong %s", etags[_i].list);
}
END_TEST

/* 1994-11-06 08:49:37 UTC, the RFC's example date. */
#define T0	((time_t)784111777)

/* Parse the request head <head> into <m> (which keeps pointing at it). */
static void
parse(lnt_http_msg_t *m, const char *head)
{
	const char *why;
	int status;

	lnt_http_msg_init(m, false);
	ck_assert_int_eq(lnt_http_parse_head(m, head, strlen(head), 65536,
	    &status, &why), LNT_HTTP_DONE);
}

/* Request header fields and whether they give 304 for (ETAG, T0). */
static const struct {
	const char	*fields;
	bool		 not_modified;
} conds[] = {
	{ "", false },
	{ "If-None-Match: " ETAG "\r\n", true },
	{ "If-None-Match: W/" ETAG "\r\n", true },
	{ "If-None-Match: *\r\n", true },
	{ "If-None-Match: \"other\"\r\n", false },
	/* Across several field lines. */
	{ "If-None-Match: \"a\"\r\nIf-None-Match: " ETAG "\r\n", true },
	/* If-None-Match wins over If-Modified-Since, either way. */
	{ "If-None-Match: \"other\"\r\n"
	  "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", false },
	{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n"
	  "If-None-Match: " ETAG "\r\n", true },
	{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", true },
	{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:38 GMT\r\n", true },
	{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", false },
	{ "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n", true },
	{ "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n", true },
	{ "If-Modified-Since: yesterday\r\n", false },
	{ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT; x\r\n", false },
};

START_TEST(cond_table)
{
	lnt_http_msg_t m;
	char *head;

	head = lnt_xasprintf("GET /f HTTP/1.1\r\nHost: x\r\n%s\r\n",
	    conds[_i].fields);
	parse(&m, head);
	ck_assert_msg(lnt_static_not_modified(&m, ETAG, T0) ==
	    conds[_i].not_modified, "%s", conds[_i].fields);
	free(head);
}
END_TEST

START_TEST(if_range)
{
	ck_assert(lnt_static_if_range(LNT_STR(ETAG), ETAG, T0));
	ck_assert(!lnt_static_if_range(LNT_STR("W/" ETAG), ETAG, T0));
	ck_assert(!lnt_static_if_range(LNT_STR("\"old\""), ETAG, T0));
	ck_assert(lnt_static_if_range(LNT_STR("Sun, 06 Nov 1994 08:49:37 GMT"),
	    ETAG, T0));
	/* A date must match exactly, not merely be later. */
	ck_assert(!lnt_static_if_range(
	    LNT_STR("Sun, 06 Nov 1994 08:49:38 GMT"), ETAG, T0));
	ck_assert(!lnt_static_if_range(LNT_STR("soon"), ETAG, T0));
}
END_TEST

/* A Range value against a 100-byte file. */
static const struct {
	const char	*value;
	lnt_range_rc_t	 rc;
	int64_t		 start, len;
} ranges[] = {
	{ "bytes=0-9", LNT_RANGE_PARTIAL, 0, 10 },
	{ "bytes=10-", LNT_RANGE_PARTIAL, 10, 90 },
	{ "bytes=-5", LNT_RANGE_PARTIAL, 95, 5 },
	{ "bytes=-100", LNT_RANGE_PARTIAL, 0, 100 },
	{ "bytes=-500", LNT_RANGE_PARTIAL, 0, 100 },
	{ "bytes=99-", LNT_RANGE_PARTIAL, 99, 1 },
	{ "bytes=50-500", LNT_RANGE_PARTIAL, 50, 50 },
	{ "bytes=0-0", LNT_RANGE_PARTIAL, 0, 1 },
	{ "BYTES=0-9", LNT_RANGE_PARTIAL, 0, 10 },
	{ "bytes= 0-9 ", LNT_RANGE_PARTIAL, 0, 10 },
	{ "bytes=0-9,", LNT_RANGE_PARTIAL, 0, 10 },
	{ "bytes=0-99999999999999999999999", LNT_RANGE_PARTIAL, 0, 100 },
	{ "bytes=100-", LNT_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=100-200", LNT_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=99999999999999999999-", LNT_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=-0", LNT_RANGE_UNSATISFIABLE, 0, 0 },
	/* Ignored: several ranges, other units, malformed values. */
	{ "bytes=0-1,5-9", LNT_RANGE_FULL, 0, 0 },
	{ "bytes=0-1, 200-300", LNT_RANGE_FULL, 0, 0 },
	{ "items=0-9", LNT_RANGE_FULL, 0, 0 },
	{ "bytes=9-0", LNT_RANGE_FULL, 0, 0 },
	{ "bytes=a-b", LNT_RANGE_FULL, 0, 0 },
	{ "bytes=-", LNT_RANGE_FULL, 0, 0 },
	{ "bytes=", LNT_RANGE_FULL, 0, 0 },
	{ "bytes=5", LNT_RANGE_FULL, 0, 0 },
	{ "bytes=--5", LNT_RANGE_FULL, 0, 0 },
	{ "bytes=0-9x", LNT_RANGE_FULL, 0, 0 },
	{ "", LNT_RANGE_FULL, 0, 0 },
};

START_TEST(range_table)
{
	lnt_str_t v = { ranges[_i].value, strlen(ranges[_i].value) };
	int64_t start = -1, len = -1;
	lnt_range_rc_t rc;

	rc = lnt_static_range(v, 100, &start, &len);
	ck_assert_msg(rc == ranges[_i].rc, "%s: rc %d, expected %d",
	    ranges[_i].value, rc, ranges[_i].rc);
	if (rc != LNT_RANGE_PARTIAL)
		return;
	ck_assert_msg(start == ranges[_i].start && len == ranges[_i].len,
	    "%s: %lld+%lld", ranges[_i].value, (long long)start,
	    (long long)len);
}
END_TEST

START_TEST(range_empty_file)
{
	int64_t start, len;

	ck_assert_int_eq(lnt_static_range(LNT_STR("bytes=0-"), 0, &start,
	    &len), LNT_RANGE_UNSATISFIABLE);
	ck_assert_int_eq(lnt_static_range(LNT_STR("bytes=-5"), 0, &start,
	    &len), LNT_RANGE_UNSATISFIABLE);
}
END_TEST

START_TEST(dates)
{
	char buf[LNT_HTTP_DATE_LEN + 1];
	time_t t;

	lnt_http_date_format(T0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	lnt_http_date_format(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	ck_assert_int_eq(strlen(lnt_http_date_now()), LNT_HTTP_DATE_LEN);

	ck_assert_int_eq(lnt_http_date_parse(LNT_STR(
	    "Sun, 06 Nov 1994 08:49:37 GMT").p, 29, &t), 0);
	ck_assert_int_eq(t, T0);
	ck_assert_int_eq(lnt_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT",
	    30, &t), 0);
	ck_assert_int_eq(t, T0);
	ck_assert_int_eq(lnt_http_date_parse("Sun Nov  6 08:49:37 1994", 24,
	    &t), 0);
	ck_assert_int_eq(t, T0);
	ck_assert_int_eq(lnt_http_date_parse("Mon, 01 Jan 2035 00:00:00 GMT",
	    29, &t), 0);
	ck_assert_int_eq(t, (time_t)2051222400);
	/* Two-digit years before 70 are this century's. */
	ck_assert_int_eq(lnt_http_date_parse("Monday, 01-Jan-35 00:00:00 GMT",
	    30, &t), 0);
	ck_assert_int_eq(t, (time_t)2051222400);

	ck_assert_int_eq(lnt_http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC",
	    29, &t), -1);
	ck_assert_int_eq(lnt_http_date_parse("Sun, 6 Nov 1994 08:49:37 GMT",
	    28, &t), -1);
	ck_assert_int_eq(lnt_http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT",
	    29, &t), -1);
	ck_assert_int_eq(lnt_http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT",
	    29, &t), -1);
	ck_assert_int_eq(lnt_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMTx",
	    30, &t), -1);
	ck_assert_int_eq(lnt_http_date_parse("Sun, 06 Nov 1994", 16, &t), -1);
	ck_assert_int_eq(lnt_http_date_parse("", 0, &t), -1);
}
END_TEST

START_TEST(mime_builtin)
{
	const char *const (*b)[2];
	char name[64];
	size_t n, i;

	b = lnt_mime_builtin(&n);
	ck_assert_uint_gt(n, 50);
	/* Sorted and unique, or bisection misses entries. */
	for (i = 1; i < n; i++)
		ck_assert_msg(strcmp(b[i - 1][0], b[i][0]) < 0, "%s before %s",
		    b[i - 1][0], b[i][0]);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f.%s", b[i][0]);
		ck_assert_str_eq(lnt_mime_type(NULL, name, strlen(name)),
		    b[i][1]);
	}
	ck_assert_str_eq(lnt_mime_type(NULL, "index.html", 10), "text/html");
	ck_assert_str_eq(lnt_mime_type(NULL, "A/B/STYLE.CSS", 13), "text/css");
	ck_assert_str_eq(lnt_mime_type(NULL, "x.tar.gz", 8),
	    "application/gzip");
	ck_assert_str_eq(lnt_mime_type(NULL, "app.js", 6),
	    "text/javascript");
	ck_assert_str_eq(lnt_mime_type(NULL, "f.woff2", 7), "font/woff2");
	ck_assert_str_eq(lnt_mime_type(NULL, "README", 6), LNT_MIME_DEFAULT);
	ck_assert_str_eq(lnt_mime_type(NULL, ".html", 5), LNT_MIME_DEFAULT);
	ck_assert_str_eq(lnt_mime_type(NULL, "d/.html", 7), LNT_MIME_DEFAULT);
	ck_assert_str_eq(lnt_mime_type(NULL, "x.", 2), LNT_MIME_DEFAULT);
	ck_assert_str_eq(lnt_mime_type(NULL, "a.html/b", 8), LNT_MIME_DEFAULT);
	ck_assert_str_eq(lnt_mime_type(NULL, "x.nosuchext", 11),
	    LNT_MIME_DEFAULT);
	/* Only <len> bytes count. */
	ck_assert_str_eq(lnt_mime_type(NULL, "a.cssx", 5), "text/css");
}
END_TEST

START_TEST(mime_file)
{
	char path[] = "/tmp/lnt-check-static-XXXXXX";
	const char *text = "# comment\n"
	    "text/x-lnt\tlnt LNTB # trailing\n"
	    "\n"
	    "application/x-empty\n"
	    "text/x-first dup\n"
	    "text/x-second dup\n"
	    "text/x-html html\n";
	lnt_mime_t *m;
	char *err = NULL;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	m = lnt_mime_load(path, &err);
	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_str_eq(lnt_mime_type(m, "a.lnt", 5), "text/x-lnt");
	ck_assert_str_eq(lnt_mime_type(m, "a.lntb", 6), "text/x-lnt");
	ck_assert_str_eq(lnt_mime_type(m, "a.LNTB", 6), "text/x-lnt");
	ck_assert_str_eq(lnt_mime_type(m, "a.dup", 5), "text/x-first");
	/* The file overrides the built-in table, which fills the gaps. */
	ck_assert_str_eq(lnt_mime_type(m, "a.html", 6), "text/x-html");
	ck_assert_str_eq(lnt_mime_type(m, "a.css", 5), "text/css");
	lnt_mime_free(m);

	f = fopen(path, "w");
	fputs("text/html html\n\nhtml text/plain\n", f);
	fclose(f);
	ck_assert_ptr_null(lnt_mime_load(path, &err));
	ck_assert_ptr_nonnull(strstr(err, ":3: expected a media type such as "
	    "\"text/html\" before the extensions, got \"html\""));
	free(err);
	f = fopen(path, "w");
	fputs("text/ html\n", f);
	fclose(f);
	ck_assert_ptr_null(lnt_mime_load(path, &err));
	free(err);
	unlink(path);
	ck_assert_ptr_null(lnt_mime_load(path, &err));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	free(err);
}
END_TEST

static Suite *
static_suite(void)
{
	Suite *s = suite_create("static");
	TCase *tc;

	tc = tcase_create("path");
	tcase_add_loop_test(tc, path_table, 0, (int)LNT_NELEM(paths));
	tcase_add_test(tc, path_literal_nul);
	tcase_add_test(tc, path_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("conditional");
	tcase_add_loop_test(tc, etag_table, 0, (int)LNT_NELEM(etags));
	tcase_add_loop_test(tc, cond_table, 0, (int)LNT_NELEM(conds));
	tcase_add_test(tc, if_range);
	tcase_add_test(tc, dates);
	suite_add_tcase(s, tc);

	tc = tcase_create("range");
	tcase_add_loop_test(tc, range_table, 0, (int)LNT_NELEM(ranges));
	tcase_add_test(tc, range_empty_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("mime");
	tcase_add_test(tc, mime_builtin);
	tcase_add_test(tc, mime_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(static_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
