/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Static content through the real daemon: files with their type, length and
 * validators, conditional requests, ranges, HEAD, index files and directory
 * redirects, every way out of root refused (and symlinks allowed when asked),
 * a large file over keep-alive to a slow reader, `return` routes and a
 * site's error page.
 */
#include "config.h"

#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "th.h"

#define BIG_SIZE	(8 * 1024 * 1024)
#define HELLO		"0123456789abcdefghij\n"	/* 21 bytes */

/*
 * Site 1 on @PORT_1@: returns, then root www with an error page for 404
 * and 410.  Site 2 on @PORT_2@: the same root with allow_symlinks, two
 * index names and a short send_timeout.
 */
#define STATIC_CONF \
	TH_BASE \
	"mime_types = \"mime.types\";\n" \
	"sites = (\n" \
	" { listen = [ \"127.0.0.1:@PORT_1@\" ];\n" \
	"   error_pages = ( { status = [ 404, 410 ];\n" \
	"     file = \"404.html\"; } );\n" \
	"   routes = (\n" \
	"     { path = \"/old/\"; return = { status = 301;\n" \
	"         location = \"$scheme://$host/new$request_uri\"; }; },\n" \
	"     { path = \"/ping\";\n" \
	"       return = { status = 200; body = \"pong\\n\"; }; },\n" \
	"     { path = \"/gone\"; return = { status = 410; }; },\n" \
	"     { path = \"/\"; root = \"www\"; } ); },\n" \
	" { listen = [ \"127.0.0.1:@PORT_2@\" ]; send_timeout = \"1s\";\n" \
	"   routes = ( { path = \"/\"; root = \"@TMPDIR@/www/\";\n" \
	"     allow_symlinks = true;\n" \
	"     index = [ \"none.html\", \"index.html\" ]; } ); }\n" \
	");\n"

/* Make <rel> a directory in the test's directory. */
static void
make_dir(const char *rel)
{
	const char	*p = th_path(rel);

	ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p,
	    strerror(errno));
}

static void
make_link(const char *target, const char *rel)
{
	const char	*p = th_path(rel);

	ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p,
	    strerror(errno));
}

/* The files of the tests, in the test's directory. */
static void
make_tree(void)
{
	char		*big;
	FILE		*f;

	make_dir("www");
	make_dir("www/sub");
	make_dir("www/empty");
	make_dir("outside");
	th_write_file(th_path("www/index.html"), "<h1>home</h1>\n");
	th_write_file(th_path("www/hello.txt"), HELLO);
	th_write_file(th_path("www/style.css"), "body { color: red }\n");
	th_write_file(th_path("www/data.LNT"), "ours\n");
	th_write_file(th_path("www/sub/index.html"), "<p>sub</p>\n");
	th_write_file(th_path("outside/secret.txt"), "secret\n");
	th_write_file(th_path("404.html"), "<p>custom 404</p>\n");
	th_write_file(th_path("mime.types"), "# test types\ntext/x-lnt lnt\n");
	/* In root, pointing in; in root, pointing out (three ways). */
	make_link("hello.txt", "www/link-in.txt");
	make_link("../outside/secret.txt", "www/link-out.txt");
	make_link(th_path("outside/secret.txt"), "www/link-abs.txt");
	make_link("../outside", "www/linkdir");
	big = th_alloc(BIG_SIZE);
	th_pattern_fill(big, BIG_SIZE, 0);
	f = fopen(th_path("www/big.bin"), "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(big, 1, BIG_SIZE, f), BIG_SIZE);
	ck_assert_int_eq(fclose(f), 0);
}

static int
start_static(void)
{
	make_tree();
	th_start(th_conf(STATIC_CONF));
	return th_portn(1);
}

/* The ETag lintel gives the file <rel>: "<mtime hex>-<size hex>". */
static const char *
etag_of(const char *rel)
{
	struct stat	 st;

	ck_assert_int_eq(stat(th_path(rel), &st), 0);
	return th_printf("\"%llx-%llx\"", (unsigned long long)st.st_mtime,
	    (unsigned long long)st.st_size);
}

/* The file's modification time as an IMF-fixdate, <delta> seconds off. */
static const char *
mtime_of(const char *rel, long delta)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
		"Sep", "Oct", "Nov", "Dec"
	};
	struct stat	 st;
	struct tm	 tm;
	time_t		 t;

	ck_assert_int_eq(stat(th_path(rel), &st), 0);
	t = st.st_mtime + delta;
	gmtime_r(&t, &tm);
	return th_printf("%s, %02d %s %d %02d:%02d:%02d GMT", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/* GET <path> with the extra header lines <fields> on a new connection. */
static th_resp_t *
get_with(int port, const char *path, const char *fields)
{
	return th_req(port, "GET %s HTTP/1.1\r\nHost: localhost\r\n%s"
	    "Connection: close\r\n\r\n", path, fields);
}

START_TEST(file_served)
{
	th_resp_t	*r;
	char		*out, *err;
	int		 port, rc;

	port = start_static();
	r = th_get(port, "/hello.txt");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, HELLO);
	ck_assert_pstr_eq(th_header(r, "Content-Type"), "text/plain");
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "21");
	ck_assert_pstr_eq(th_header(r, "ETag"), etag_of("www/hello.txt"));
	ck_assert_pstr_eq(th_header(r, "Last-Modified"),
	    mtime_of("www/hello.txt", 0));
	ck_assert_pstr_eq(th_header(r, "Accept-Ranges"), "bytes");

	r = th_get(port, "/style.css");
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "Content-Type"), "text/css");
	/* From mime_types, by an extension in any case. */
	r = th_get(port, "/data.LNT");
	ck_assert_pstr_eq(th_header(r, "Content-Type"), "text/x-lnt");

	rc = th_curl(&out, &err, th_printf("http://127.0.0.1:%d/hello.txt",
	    port), NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	ck_assert_str_eq(out, HELLO);
}
END_TEST

START_TEST(conditional)
{
	const char	*etag, *lm;
	th_resp_t	*r;
	int		 port;

	port = start_static();
	etag = etag_of("www/hello.txt");
	lm = mtime_of("www/hello.txt", 0);

	r = get_with(port, "/hello.txt", th_printf("If-None-Match: %s\r\n",
	    etag));
	ck_assert_int_eq(r->status, 304);
	ck_assert_uint_eq(r->body_len, 0);
	ck_assert_pstr_eq(th_header(r, "ETag"), etag);
	ck_assert_pstr_eq(th_header(r, "Last-Modified"), lm);
	ck_assert_ptr_null(th_header(r, "Content-Length"));
	r = get_with(port, "/hello.txt", th_printf("If-None-Match: \"x\", "
	    "W/%s\r\n", etag));
	ck_assert_int_eq(r->status, 304);
	r = get_with(port, "/hello.txt", "If-None-Match: *\r\n");
	ck_assert_int_eq(r->status, 304);
	r = get_with(port, "/hello.txt", "If-None-Match: \"other\"\r\n");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, HELLO);

	r = get_with(port, "/hello.txt", th_printf("If-Modified-Since: %s\r\n",
	    lm));
	ck_assert_int_eq(r->status, 304);
	r = get_with(port, "/hello.txt", th_printf("If-Modified-Since: %s\r\n",
	    mtime_of("www/hello.txt", 3600)));
	ck_assert_int_eq(r->status, 304);
	r = get_with(port, "/hello.txt", th_printf("If-Modified-Since: %s\r\n",
	    mtime_of("www/hello.txt", -1)));
	ck_assert_int_eq(r->status, 200);
	/* If-None-Match decides when present. */
	r = get_with(port, "/hello.txt", th_printf("If-None-Match: \"other\""
	    "\r\nIf-Modified-Since: %s\r\n", lm));
	ck_assert_int_eq(r->status, 200);
}
END_TEST

START_TEST(ranges)
{
	const char	*etag;
	th_resp_t	*r;
	char		*out, *err;
	int		 port, rc;

	port = start_static();
	etag = etag_of("www/hello.txt");

	r = get_with(port, "/hello.txt", "Range: bytes=0-9\r\n");
	ck_assert_int_eq(r->status, 206);
	ck_assert_str_eq(r->body, "0123456789");
	ck_assert_pstr_eq(th_header(r, "Content-Range"), "bytes 0-9/21");
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "10");
	r = get_with(port, "/hello.txt", "Range: bytes=-5\r\n");
	ck_assert_int_eq(r->status, 206);
	ck_assert_str_eq(r->body, "ghij\n");
	ck_assert_pstr_eq(th_header(r, "Content-Range"), "bytes 16-20/21");
	r = get_with(port, "/hello.txt", "Range: bytes=10-\r\n");
	ck_assert_int_eq(r->status, 206);
	ck_assert_str_eq(r->body, "abcdefghij\n");
	ck_assert_pstr_eq(th_header(r, "Content-Range"), "bytes 10-20/21");

	r = get_with(port, "/hello.txt", "Range: bytes=21-\r\n");
	ck_assert_int_eq(r->status, 416);
	ck_assert_pstr_eq(th_header(r, "Content-Range"), "bytes */21");

	/* Several ranges: the whole file. */
	r = get_with(port, "/hello.txt", "Range: bytes=0-1,5-6\r\n");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, HELLO);
	/* If-Range: the range only for the current version. */
	r = get_with(port, "/hello.txt", th_printf("Range: bytes=0-1\r\n"
	    "If-Range: %s\r\n", etag));
	ck_assert_int_eq(r->status, 206);
	ck_assert_str_eq(r->body, "01");
	r = get_with(port, "/hello.txt", "Range: bytes=0-1\r\n"
	    "If-Range: \"old\"\r\n");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, HELLO);

	rc = th_curl(&out, &err, "-r", "2-4", th_printf("http://127.0.0.1:%d"
	    "/hello.txt", port), NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	ck_assert_str_eq(out, "234");
}
END_TEST

START_TEST(head_has_no_body)
{
	th_conn_t	*c;
	th_resp_t	*r;
	int		 port;

	port = start_static();
	r = th_req(port, "HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "21");
	ck_assert_uint_eq(r->body_len, 0);

	/* On one connection: had HEAD sent a body, GET would read it. */
	c = th_conn_open(port);
	th_conn_sendf(c, "HEAD /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
	r = th_conn_try_read(c, true, TH_IO_MS);
	ck_assert_msg(r != NULL, "%s", th_error());
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "Content-Length"),
	    th_printf("%d", BIG_SIZE));
	th_conn_sendf(c, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, HELLO);
	ck_assert_uint_eq(th_conn_pending(c), 0);
	th_conn_close(c);
}
END_TEST

START_TEST(index_and_directories)
{
	th_resp_t	*r;
	int		 port;

	port = start_static();
	r = th_get(port, "/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "<h1>home</h1>\n");
	ck_assert_pstr_eq(th_header(r, "Content-Type"), "text/html");
	r = th_get(port, "/sub/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "<p>sub</p>\n");
	r = th_get(port, "/sub");
	ck_assert_int_eq(r->status, 301);
	ck_assert_pstr_eq(th_header(r, "Location"), "/sub/");
	r = th_get(port, "/sub?a=1&b");
	ck_assert_int_eq(r->status, 301);
	ck_assert_pstr_eq(th_header(r, "Location"), "/sub/?a=1&b");
	/* No index and no listing. */
	r = th_get(port, "/empty/");
	ck_assert_int_eq(r->status, 403);
	/* The first index name that exists. */
	r = th_get(th_portn(2), "/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "<h1>home</h1>\n");
}
END_TEST

START_TEST(other_methods)
{
	th_resp_t	*r;
	int		 port;

	port = start_static();
	r = th_req(port, "POST /hello.txt HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: 3\r\n\r\nabc");
	ck_assert_int_eq(r->status, 405);
	ck_assert_pstr_eq(th_header(r, "Allow"), "GET, HEAD");
	/* Its body was not read: the connection cannot go on. */
	ck_assert(r->conn_close);
	r = th_req(port, "DELETE /hello.txt HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 405);
}
END_TEST

/* <path>, sent as is, is refused with <status> and shows no secret. */
#define assert_refused(port, path, status) \
	assert_refused_at(__LINE__, (port), (path), (status))
static void
assert_refused_at(int line, int port, const char *path, int status)
{
	th_resp_t	*r;

	r = th_req(port, "GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n", path);
	ck_assert_msg(r->status == status, "line %d: %s: status %d, expected "
	    "%d", line, path, r->status, status);
	ck_assert_msg(strstr(r->body, "secret") == NULL, "line %d: %s: the "
	    "secret leaked", line, path);
}

START_TEST(no_way_out)
{
	th_resp_t	*r;
	int		 port;

	port = start_static();
	assert_refused(port, "/../outside/secret.txt", 404);
	assert_refused(port, "/sub/../../outside/secret.txt", 404);
	assert_refused(port, "/%2e%2e/outside/secret.txt", 404);
	assert_refused(port, "/.%2E/outside/secret.txt", 404);
	assert_refused(port, "/sub/..%2f..%2foutside%2fsecret.txt", 404);
	assert_refused(port, "/sub%2findex.html", 404);
	assert_refused(port, "/hello.txt%00.html", 400);
	assert_refused(port, "/bad%zzescape", 400);
	/* Symlinks leaving root, relative, absolute, or a directory. */
	assert_refused(port, "/link-out.txt", 404);
	assert_refused(port, "/link-abs.txt", 404);
	assert_refused(port, "/linkdir/secret.txt", 404);
	/* The site's page for 404. */
	r = th_get(port, "/link-out.txt");
	ck_assert_str_eq(r->body, "<p>custom 404</p>\n");

	/* A symlink that stays inside root works. */
	r = th_get(port, "/link-in.txt");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, HELLO);
}
END_TEST

START_TEST(symlinks_allowed)
{
	th_resp_t	*r;
	int		 port;

	start_static();
	port = th_portn(2);
	r = th_get(port, "/link-out.txt");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "secret\n");
	r = th_get(port, "/linkdir/secret.txt");
	ck_assert_int_eq(r->status, 200);
	r = th_get(port, "/link-abs.txt");
	ck_assert_int_eq(r->status, 200);
	/* Dot-dot stays refused: allow_symlinks is about links only. */
	assert_refused(port, "/../outside/secret.txt", 404);
	assert_refused(port, "/%2e%2e/outside/secret.txt", 404);
}
END_TEST

START_TEST(big_file_keepalive)
{
	th_conn_t	*c;
	th_resp_t	*r;
	const char	*saved;
	int64_t		 bad;
	char		*out, *err;
	int		 port, i, rc;

	port = start_static();
	c = th_conn_open(port);
	for (i = 0; i < 2; i++) {
		th_conn_sendf(c, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n"
		    "\r\n");
		/* Read nothing for a while: lintel must wait, not give up. */
		if (i == 0)
			sleep(1);
		r = th_conn_read(c);
		ck_assert_int_eq(r->status, 200);
		ck_assert_uint_eq(r->body_len, BIG_SIZE);
		bad = th_pattern_check(r->body, r->body_len, 0);
		ck_assert_msg(bad == -1, "request %d: differs at %lld", i,
		    (long long)bad);
		ck_assert(!r->conn_close);
	}
	/* A range from the middle, on the same connection. */
	th_conn_sendf(c, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n"
	    "Range: bytes=4194304-4259839\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 206);
	ck_assert_uint_eq(r->body_len, 65536);
	ck_assert_int_eq(th_pattern_check(r->body, r->body_len, 4194304), -1);
	th_conn_close(c);

	saved = th_path("big.out");
	rc = th_curl(&out, &err, "-o", saved, th_printf("http://127.0.0.1:%d"
	    "/big.bin", port), NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	out = th_read_file(saved);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(th_pattern_check(out, BIG_SIZE, 0), -1);
}
END_TEST

START_TEST(pipelined)
{
	th_conn_t	*c;
	th_resp_t	*r;
	int		 port;

	port = start_static();
	c = th_conn_open(port);
	/* Two at once, then one sent while a big answer is under way. */
	th_conn_sendf(c, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, HELLO);
	usleep(100000);
	th_conn_sendf(c, "GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->body_len, BIG_SIZE);
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "body { color: red }\n");
	th_conn_close(c);
}
END_TEST

START_TEST(stalled_reader_closed)
{
	th_conn_t	*c;

	start_static();
	c = th_conn_open(th_portn(2));
	th_conn_sendf(c, "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
	/* Never read: after send_timeout lintel gives up on us. */
	th_wait_file_line(th_path("error.log"), "send_timeout expired",
	    TH_IO_MS);
	ck_assert(th_conn_closed(c, TH_IO_MS));
	ck_assert_uint_lt(th_conn_pending(c), BIG_SIZE);
	th_conn_close(c);
}
END_TEST

START_TEST(return_routes)
{
	th_resp_t	*r;
	int		 port;

	port = start_static();
	r = th_get(port, "/old/page?x=1");
	ck_assert_int_eq(r->status, 301);
	ck_assert_pstr_eq(th_header(r, "Location"),
	    "http://localhost/new/old/page?x=1");
	r = th_req(port, "GET http://example.test:8080/old/a HTTP/1.1\r\n"
	    "Host: ignored\r\nConnection: close\r\n\r\n");
	ck_assert_pstr_eq(th_header(r, "Location"),
	    "http://example.test:8080/new/old/a");

	r = th_get(port, "/ping");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "pong\n");
	ck_assert_pstr_eq(th_header(r, "Content-Type"), "text/plain");
	r = th_req(port, "HEAD /ping HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "5");
	ck_assert_uint_eq(r->body_len, 0);
	/* Any method. */
	r = th_req(port, "DELETE /ping HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);

	/* An error status without a body: the site's page for it. */
	r = th_get(port, "/gone");
	ck_assert_int_eq(r->status, 410);
	ck_assert_str_eq(r->body, "<p>custom 404</p>\n");
}
END_TEST

START_TEST(error_page)
{
	th_resp_t	*r;
	int		 port;

	port = start_static();
	r = th_get(port, "/nope.html");
	ck_assert_int_eq(r->status, 404);
	ck_assert_str_eq(r->body, "<p>custom 404</p>\n");
	ck_assert_pstr_eq(th_header(r, "Content-Type"), "text/html");
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "18");
	r = th_req(port, "HEAD /nope.html HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 404);
	ck_assert_uint_eq(r->body_len, 0);
	/* Other statuses keep lintel's page; site 2 has no error pages. */
	r = th_get(port, "/empty/");
	ck_assert_ptr_nonnull(strstr(r->body, "403 Forbidden"));
	r = th_get(th_portn(2), "/nope.html");
	ck_assert_ptr_nonnull(strstr(r->body, "404 Not Found"));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("35-static");

	TH_TEST(s, file_served);
	TH_TEST(s, conditional);
	TH_TEST(s, ranges);
	TH_TEST(s, head_has_no_body);
	TH_TEST(s, index_and_directories);
	TH_TEST(s, other_methods);
	TH_TEST(s, no_way_out);
	TH_TEST(s, symlinks_allowed);
	TH_TEST(s, big_file_keepalive);
	TH_TEST(s, pipelined);
	TH_TEST(s, stalled_reader_closed);
	TH_TEST(s, return_routes);
	TH_TEST(s, error_page);
	return th_run(s);
}
