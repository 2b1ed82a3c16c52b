/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for access_log.c: the combined, JSON and template formats,
 * escaping against log injection, $http_ header lookups, compile errors,
 * and opening and reopening the file.
 */
#include "config.h"

#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "access_log.h"
#include "util.h"

static char tmpdir[] = "/tmp/lnt-check-alog-XXXXXX";

/* Request headers for the lookup callback: name, value. */
static const char *const headers[][2] = {
	{ "Referer",		"http://ref.example/" },
	{ "User-Agent",		"curl/8.0" },
	{ "X-Forwarded-For",	"198.51.100.7" },
};

static char last_lookup[64];

/* Match <name> of <len> to a header: any case, '_' for '-'. */
static lnt_str_t
lookup(const void *req, const char *name, size_t len)
{
	const char *const (*h)[2] = req;
	size_t i, j;

	snprintf(last_lookup, sizeof(last_lookup), "%.*s", (int)len, name);
	for (i = 0; i < LNT_NELEM(headers); i++) {
		if (strlen(h[i][0]) != len)
			continue;
		for (j = 0; j < len; j++)
			if (tolower((unsigned char)h[i][0][j]) !=
			    (name[j] == '_' ? '-' : tolower((unsigned char)
			    name[j])))
				break;
		if (j == len)
			return (lnt_str_t){ h[i][1], strlen(h[i][1]) };
	}
	return (lnt_str_t){ NULL, 0 };
}

/* A complete record: 2023-11-14 22:13:20.123 UTC. */
static lnt_access_rec_t
sample(void)
{
	lnt_access_rec_t r;

	memset(&r, 0, sizeof(r));
	r.remote_addr = "192.0.2.1";
	r.start_wall = 1700000000123LL;
	r.duration = 1234;
	r.method = LNT_STR("GET");
	r.target = LNT_STR("/a/b?x=1&y=2");
	r.protocol = LNT_STR("HTTP/1.1");
	r.host = LNT_STR("example.com");
	r.status = 200;
	r.body_bytes_sent = 512;
	r.bytes_received = 100;
	r.upstream_addr = "10.0.0.1:8080";
	r.upstream_status = 201;
	r.upstream_time = 56;
	r.site = "example.com";
	r.conn_id = 7;
	r.header = lookup;
	r.req = headers;
	return r;
}

/* A record with nothing but the status: what a 400 may have. */
static lnt_access_rec_t
sparse(void)
{
	lnt_access_rec_t r;

	memset(&r, 0, sizeof(r));
	r.start_wall = 1700000000123LL;
	r.status = 400;
	r.upstream_time = -1;
	return r;
}

/*
 * Compile <format>, write <rec> through it into a fresh file and return
 * what the file holds (malloc'd).
 */
static char *
render(const char *format, const lnt_access_rec_t *rec)
{
	char *path = lnt_xasprintf("%s/access.log", tmpdir), *err, *buf;
	lnt_access_log_t *log;
	FILE *f;
	long len;

	unlink(path);
	log = lnt_access_log_compile(path, format, &err);
	ck_assert_msg(log != NULL, "%s", err);
	ck_assert_int_eq(lnt_access_log_open(log, getuid(), getgid()), 0);
	lnt_access_log_write(log, rec);
	lnt_access_log_free(log);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = lnt_xmalloc((size_t)len + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	unlink(path);
	free(path);
	return buf;
}

static void
expect(const char *format, const lnt_access_rec_t *rec, const char *want)
{
	char *got = render(format, rec);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(combined)
{
	lnt_access_rec_t r = sample();

	expect("combined", &r, "192.0.2.1 - - [14/Nov/2023:22:13:20 +0000] "
	    "\"GET /a/b?x=1&y=2 HTTP/1.1\" 200 512 \"http://ref.example/\" "
	    "\"curl/8.0\"\n");
	r = sparse();
	expect("combined", &r, "- - - [14/Nov/2023:22:13:20 +0000] \"-\" 400 0 "
	    "\"-\" \"-\"\n");
}
END_TEST

/* The PROXY header's client, "-" on a connection without one. */
START_TEST(proxy_protocol_vars)
{
	lnt_access_rec_t r = sample();

	expect("$remote_addr $proxy_protocol_addr $proxy_protocol_port", &r,
	    "192.0.2.1 - -\n");
	r.proxy_protocol_addr = "2001:db8::5";
	r.proxy_protocol_port = 40000;
	expect("$remote_addr $proxy_protocol_addr $proxy_protocol_port", &r,
	    "192.0.2.1 2001:db8::5 40000\n");
}
END_TEST

START_TEST(json)
{
	lnt_access_rec_t r = sample();

	expect("json", &r, "{\"time\":\"2023-11-14T22:13:20+00:00\","
	    "\"remote_addr\":\"192.0.2.1\",\"method\":\"GET\","
	    "\"uri\":\"/a/b?x=1&y=2\",\"protocol\":\"HTTP/1.1\","
	    "\"host\":\"example.com\",\"status\":200,\"body_bytes_sent\":512,"
	    "\"bytes_received\":100,\"request_time\":1.234,"
	    "\"upstream_addr\":\"10.0.0.1:8080\",\"upstream_status\":201,"
	    "\"upstream_response_time\":0.056,\"site\":\"example.com\","
	    "\"http_referer\":\"http://ref.example/\","
	    "\"http_user_agent\":\"curl/8.0\",\"connection\":7}\n");
	r = sparse();
	expect("json", &r, "{\"time\":\"2023-11-14T22:13:20+00:00\","
	    "\"remote_addr\":null,\"method\":null,\"uri\":null,"
	    "\"protocol\":null,\"host\":null,\"status\":400,"
	    "\"body_bytes_sent\":0,\"bytes_received\":0,"
	    "\"request_time\":0.000,\"upstream_addr\":null,"
	    "\"upstream_status\":null,\"upstream_response_time\":null,"
	    "\"site\":null,\"http_referer\":null,\"http_user_agent\":null,"
	    "\"connection\":0}\n");
}
END_TEST

START_TEST(template_vars)
{
	lnt_access_rec_t r = sample();

	expect("$remote_addr|$time_local|$time_iso8601|$msec|$request|"
	    "$request_method|$request_uri|$uri|$args|$server_protocol|$host|"
	    "$status|$body_bytes_sent|$bytes_received|$request_time|"
	    "$upstream_addr|$upstream_status|$upstream_response_time|$site|"
	    "$connection", &r,
	    "192.0.2.1|14/Nov/2023:22:13:20 +0000|2023-11-14T22:13:20+00:00|"
	    "1700000000.123|GET /a/b?x=1&y=2 HTTP/1.1|GET|/a/b?x=1&y=2|/a/b|"
	    "x=1&y=2|HTTP/1.1|example.com|200|512|100|1.234|10.0.0.1:8080|201|"
	    "0.056|example.com|7\n");
	/* Braces let a name run into text; "$$" is not special. */
	expect("${status}ms ${uri}x", &r, "200ms /a/bx\n");
	expect("no variables", &r, "no variables\n");
}
END_TEST

START_TEST(template_missing)
{
	lnt_access_rec_t r = sparse();

	expect("$remote_addr $request $request_method $request_uri $uri $args "
	    "$server_protocol $host $upstream_addr $upstream_status "
	    "$upstream_response_time $site $http_referer", &r,
	    "- - - - - - - - - - - - -\n");
	r = sample();
	r.target = LNT_STR("/plain");
	r.status = 0;
	expect("$uri $args $status", &r, "/plain - -\n");
}
END_TEST

START_TEST(http_headers)
{
	lnt_access_rec_t r = sample();

	expect("$http_x_forwarded_for", &r, "198.51.100.7\n");
	ck_assert_str_eq(last_lookup, "x_forwarded_for");
	expect("[${http_USER_AGENT}]", &r, "[curl/8.0]\n");
	expect("$http_x_none", &r, "-\n");
	r.header = NULL;
	expect("$http_referer", &r, "-\n");
}
END_TEST

START_TEST(escape_text)
{
	lnt_access_rec_t r = sample();

	/* A forged line, a quote to break out, a backslash, UTF-8, DEL. */
	r.target = LNT_STR("/a\"b\\c\nGET /x\x7f\xc3\xa9\x01");
	r.host = LNT_STR("h\t");
	expect("\"$request_uri\" $host", &r,
	    "\"/a\\x22b\\x5Cc\\x0AGET /x\\x7F\\xC3\\xA9\\x01\" h\\x09\n");
}
END_TEST

START_TEST(escape_json)
{
	lnt_access_rec_t r = sample();
	char *got;

	r.target = LNT_STR("/\"q\\\n\x01\x1f\x7f\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80\xff\xc3\xc0\xaf\xed\xa0\x80");
	got = render("json", &r);
	ck_assert_msg(strstr(got, "\"uri\":\"/\\\"q\\\\\\u000a\\u0001\\u001f"
	    "\\u007f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\u00ff\\u00c3\\u00c0"
	    "\\u00af\\u00ed\\u00a0\\u0080\",") != NULL, "%s", got);
	free(got);
}
END_TEST

START_TEST(long_fields)
{
	lnt_access_rec_t r = sample();
	char *big = lnt_xmalloc(20000), *got;
	size_t len;

	memset(big, '\n', 20000);
	r.target = (lnt_str_t){ big, 20000 };
	r.host = (lnt_str_t){ big, 20000 };
	/* Each field is cut on its own, so the fields after it survive. */
	got = render("combined", &r);
	len = strlen(got);
	ck_assert_uint_le(len, 8192);
	ck_assert_ptr_eq(strchr(got, '\n'), got + len - 1);
	ck_assert_ptr_nonnull(strstr(got, "\\x0A HTTP/1.1\" 200 512 "));
	free(got);
	got = render("$host|$request_uri|$host|$request_uri|$host|$status", &r);
	len = strlen(got);
	ck_assert_uint_eq(len, 8192);
	ck_assert_int_eq(got[len - 1], '\n');
	free(got);
	/* JSON is cut inside the strings and stays one valid object. */
	got = render("json", &r);
	len = strlen(got);
	ck_assert_uint_le(len, 8192);
	ck_assert_str_eq(got + len - 16, "\"connection\":7}\n");
	ck_assert_ptr_nonnull(strstr(got, "\\u000a\",\"protocol\":"
	    "\"HTTP/1.1\",\"host\":\"\\u000a"));
	free(got);
	free(big);
}
END_TEST

static const struct {
	const char	*format;
	const char	*err;
} bad_formats[] = {
	{ "$nope",		"unknown variable '$nope'" },
	{ "x ${request_tim} y",	"unknown variable '$request_tim'" },
	{ "$http_",		"unknown variable '$http_'" },
	{ "${status",		"missing '}' after '${status'" },
	{ "cost: $ 5",	"expected a variable name after '$' at offset 7" },
	{ "${}",	"expected a variable name after '$' at offset 2" },
	{ "",		"expected \"combined\", \"json\" or a template, got "
			"an empty format" },
};

START_TEST(compile_errors)
{
	lnt_access_log_t *log;
	char *err = NULL;

	log = lnt_access_log_compile("/x", bad_formats[_i].format, &err);
	ck_assert_ptr_null(log);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err, bad_formats[_i].err);
	free(err);
}
END_TEST

START_TEST(accessors_and_unopened)
{
	lnt_access_rec_t r = sample();
	lnt_access_log_t *log;
	char *err;

	log = lnt_access_log_compile("/nonexistent/dir/a.log", "combined",
	    &err);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(lnt_access_log_path(log), "/nonexistent/dir/a.log");
	ck_assert_str_eq(lnt_access_log_format(log), "combined");
	/* Not open: writing is a no-op, opening fails with errno. */
	lnt_access_log_write(log, &r);
	ck_assert_int_eq(lnt_access_log_open(log, getuid(), getgid()), -1);
	ck_assert_int_eq(errno, ENOENT);
	lnt_access_log_free(log);
	lnt_access_log_free(NULL);
}
END_TEST

static size_t
file_size(const char *path)
{
	FILE *f = fopen(path, "r");
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return (size_t)n;
}

START_TEST(reopen)
{
	lnt_access_rec_t r = sample();
	char *dir = lnt_xasprintf("%s/d", tmpdir), *err;
	char *path = lnt_xasprintf("%s/a.log", dir);
	char *moved = lnt_xasprintf("%s/a.log.1", tmpdir);
	lnt_access_log_t *log;
	struct stat st;
	size_t one;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	log = lnt_access_log_compile(path, "$status", &err);
	ck_assert_int_eq(lnt_access_log_open(log, getuid(), getgid()), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	lnt_access_log_write(log, &r);
	one = file_size(path);
	ck_assert_uint_eq(one, 4);

	/* logrotate: move the file, reopen, write to the new one. */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(lnt_access_log_reopen(log), 0);
	lnt_access_log_write(log, &r);
	lnt_access_log_write(log, &r);
	ck_assert_uint_eq(file_size(moved), 4);
	ck_assert_uint_eq(file_size(path), 8);

	/* The directory is gone: reopen fails and the old file stays. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(lnt_access_log_reopen(log), -1);
	ck_assert_int_eq(errno, ENOENT);
	lnt_access_log_write(log, &r);
	lnt_access_log_free(log);
	unlink(moved);
	free(dir);
	free(path);
	free(moved);
}
END_TEST

/* lnt_access_var_text: one value, unescaped, for lnt_req_var(). */
START_TEST(var_text)
{
	lnt_access_rec_t r = sample();
	char buf[64];

	r.target = LNT_STR("/a\"b?q=1");
	ck_assert_int_eq(lnt_access_var_text(&r, "uri", 3, buf, sizeof(buf)),
	    4);
	ck_assert_str_eq(buf, "/a\"b");
	ck_assert_int_eq(lnt_access_var_text(&r, "status", 6, buf,
	    sizeof(buf)), 3);
	ck_assert_str_eq(buf, "200");
	ck_assert_int_gt(lnt_access_var_text(&r, "http_user_agent", 15, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "curl/8.0");
	/* Missing: empty, not "-". */
	ck_assert_int_eq(lnt_access_var_text(&r, "http_cookie", 11, buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	r = sparse();
	ck_assert_int_eq(lnt_access_var_text(&r, "upstream_addr", 13, buf,
	    sizeof(buf)), 0);
	/* Cut to the buffer, NUL-ended. */
	r = sample();
	ck_assert_int_eq(lnt_access_var_text(&r, "request", 7, buf, 8), 7);
	ck_assert_str_eq(buf, "GET /a/");
	ck_assert_int_eq(lnt_access_var_text(&r, "nope", 4, buf,
	    sizeof(buf)), -1);
	ck_assert(lnt_access_var_known("host", 4));
	ck_assert(lnt_access_var_known("http_x", 6));
	ck_assert(!lnt_access_var_known("http_", 5));
	ck_assert(!lnt_access_var_known("hostx", 5));
}
END_TEST

/* Variables found by the lookup: their values come from the ext call. */
static long
ext_lookup(const void *ctx, const char *name, size_t len)
{
	if (len == 4 && memcmp(name, "mod1", 4) == 0)
		return 1;
	if (len == 4 && memcmp(name, "mod2", 4) == 0)
		return 2;
	return -1;
}

static lnt_str_t
ext_value(const void *ctx, size_t idx)
{
	ck_assert_str_eq(ctx, "request");
	return idx == 1 ? LNT_STR("v\"1") : (lnt_str_t){ NULL, 0 };
}

/* The first line of <path> (malloc'd), newline kept. */
static char *
read_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = lnt_xmalloc(256);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, 256, f));
	fclose(f);
	return line;
}

START_TEST(template_ext_vars)
{
	char *path = lnt_xasprintf("%s/access.log", tmpdir), *err, *got;
	lnt_access_rec_t r = sample();
	lnt_access_log_t *log;

	/* Without the lookup, or not found by it: unknown. */
	ck_assert_ptr_null(lnt_access_log_compile(path, "$mod1", &err));
	free(err);
	ck_assert_ptr_null(lnt_access_log_compile_ext(path, "$mod3",
	    ext_lookup, NULL, &err));
	ck_assert_str_eq(err, "unknown variable '$mod3'");
	free(err);
	/* Written escaped like any value; no value is "-". */
	r.ext = ext_value;
	r.ext_ctx = "request";
	unlink(path);
	log = lnt_access_log_compile_ext(path, "$status $mod1 ${mod2}.",
	    ext_lookup, NULL, &err);
	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(lnt_access_log_open(log, getuid(), getgid()), 0);
	lnt_access_log_write(log, &r);
	lnt_access_log_free(log);
	got = read_line(path);
	ck_assert_str_eq(got, "200 v\\x221 -.\n");
	unlink(path);
	free(path);
	free(got);
}
END_TEST

static Suite *
access_log_suite(void)
{
	Suite *s = suite_create("access_log");
	TCase *tc;

	tc = tcase_create("formats");
	tcase_add_test(tc, combined);
	tcase_add_test(tc, proxy_protocol_vars);
	tcase_add_test(tc, json);
	tcase_add_test(tc, template_vars);
	tcase_add_test(tc, template_missing);
	tcase_add_test(tc, http_headers);
	tcase_add_test(tc, var_text);
	tcase_add_test(tc, template_ext_vars);
	suite_add_tcase(s, tc);

	tc = tcase_create("escaping");
	tcase_add_test(tc, escape_text);
	tcase_add_test(tc, escape_json);
	tcase_add_test(tc, long_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("compile");
	tcase_add_loop_test(tc, compile_errors, 0, (int)LNT_NELEM(bad_formats));
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_test(tc, accessors_and_unopened);
	tcase_add_test(tc, reopen);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* Times in the expected lines are in UTC. */
	setenv("TZ", "UTC", 1);
	tzset();
	umask(022);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	sr = srunner_create(access_log_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rmdir(tmpdir);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
