/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * BODY_FILTER through the real daemon, with the test filter module
 * (t/modules/filter.c, loaded as "filter" and "filter2"): proxied bodies of
 * every origin framing re-framed chunked (close-delimited for HTTP/1.0),
 * bodies without a body left alone, two filters chained in hook order,
 * keep-alive and pipelining after filtered responses with the upstream
 * connection reused, static files and return bodies filtered, a failing
 * filter closing the connection, unfiltered responses unchanged, and
 * bounded memory over 1 GiB through a pass-through filter and over many
 * one-byte chunks to a client that waits; input left behind a full output
 * still relayed; a module answering too late (HEADER_FILTER: ignored;
 * BODY_FILTER: the response is cut short) never writes a second response.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th.h"

/* TH_BASE with one worker: one upstream pool to count, one RSS to watch. */
#define BASE_1W \
	"error_log = \"@TMPDIR@/error.log\"; " \
	"pid_file = \"@TMPDIR@/lintel.pid\"; " \
	"user = \"nobody\"; group = \"nogroup\"; workers = 1; " \
	"shutdown_timeout = \"10s\"; log_level = \"info\";\n" \
	"module_path = \"@BUILDDIR@/t/modules/.libs\";\n" \
	"access_log = { path = \"@TMPDIR@/access.log\"; };\n"

#define UPSTREAMS \
	"upstreams = (\n" \
	" { name = \"origin\"; keepalive = 8;\n" \
	"   servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); },\n" \
	" { name = \"self\";\n" \
	"   servers = ( { address = \"127.0.0.1:@PORT_3@\"; } ); } );\n"

/*
 * @PORT_1@: everything to the origin through filter_upper, files under
 * /files/ from root, /ret a return body, /self/ proxied to @PORT_3@ (the
 * same files, unfiltered: a proxied 304).  @PORT_4@: unfiltered.  <extra>
 * are more settings for the @PORT_1@ site.
 */
#define CONF(modules, extra) \
	BASE_1W "modules = [ " modules " ];\n" UPSTREAMS \
	"sites = (\n" \
	" { listen = [ \"127.0.0.1:@PORT_1@\" ]; " extra "\n" \
	"   routes = (\n" \
	"     { path = \"/files/\"; root = \"@TMPDIR@/www\"; },\n" \
	"     { path = \"/ret\"; return = { status = 200;\n" \
	"         body = \"hello from return\\n\"; }; },\n" \
	"     { path = \"/self/\"; upstream = \"self\"; },\n" \
	"     { path = \"/\"; upstream = \"origin\"; } ); },\n" \
	" { listen = [ \"127.0.0.1:@PORT_3@\" ];\n" \
	"   routes = ( { path = \"/\"; root = \"@TMPDIR@/www\"; } ); },\n" \
	" { listen = [ \"127.0.0.1:@PORT_4@\" ];\n" \
	"   routes = ( { path = \"/\"; upstream = \"origin\"; } ); } );\n"

#define UPPER	CONF("\"filter\"", "filter_upper = true;")

#define MIB	(1024 * 1024)
#define GIB	((uint64_t)1 << 30)
#define SAMPLE_EVERY	(64 * 1024 * 1024)	/* bytes between RSS samples */
#define RSS_SLACK_KB	(16 * 1024)		/* allowed worker growth */

/* <n> pattern bytes (what the origin serves), uppercased if <upper>. */
static char *
expected(size_t n, bool upper)
{
	char	*b = th_alloc(n + 1);

	th_pattern_fill(b, n, 0);
	for (size_t i = 0; upper && i < n; i++)
		b[i] = (char)toupper((unsigned char)b[i]);
	b[n] = '\0';
	return b;
}

/* <r> is a 200 whose body is <len> bytes equal to <want>. */
static void
assert_body(const th_resp_t *r, const char *want, size_t len,
    const char *what)
{
	size_t	 i;

	ck_assert_msg(r->status == 200, "%s: status %d", what, r->status);
	ck_assert_msg(r->body_len == len, "%s: %zu body bytes, expected %zu",
	    what, r->body_len, len);
	for (i = 0; i < len && r->body[i] == want[i]; i++)
		;
	ck_assert_msg(i == len, "%s: byte %zu is '%c', expected '%c'", what,
	    i, r->body[i], want[i]);
}

/* A filtered response: chunked, no Content-Length, the module said so. */
static void
assert_filtered(const th_resp_t *r, const char *what)
{
	ck_assert_msg(th_header(r, "Content-Length") == NULL,
	    "%s: Content-Length kept\n%s", what, r->head);
	ck_assert_msg(r->framing == TH_FRAME_CHUNKED, "%s: not chunked\n%s",
	    what, r->head);
	ck_assert_pstr_eq(th_header(r, "X-filter"), "on");
}

/* Make the file <rel> (under www/files or www/self). */
static void
make_file(const char *rel, const char *text)
{
	mkdir(th_path("www"), 0755);
	mkdir(th_path("www/files"), 0755);
	mkdir(th_path("www/self"), 0755);
	th_write_file(th_path(rel), text);
}

/* th_conf() with the root directory the config names. */
static const char *
conf(const char *text)
{
	mkdir(th_path("www"), 0755);
	mkdir(th_path("www/files"), 0755);
	mkdir(th_path("www/self"), 0755);
	return th_conf(text);
}

START_TEST(proxied_framings)
{
	static const char *const kinds[] = { "size", "chunked", "close" };
	static const size_t sizes[] = { 100, MIB };
	size_t	 k, s;
	th_resp_t *r;

	th_origin_start(th_portn(2), "A");
	th_start(conf(UPPER));
	for (k = 0; k < TH_NELEM(kinds); k++) {
		for (s = 0; s < TH_NELEM(sizes); s++) {
			const char *path = th_printf("/%s/%zu", kinds[k],
			    sizes[s]);

			r = th_get(th_portn(1), path);
			assert_filtered(r, path);
			assert_body(r, expected(sizes[s], true), sizes[s],
			    path);
		}
	}
	/* An empty body still ends properly. */
	r = th_get(th_portn(1), "/size/0");
	assert_filtered(r, "/size/0");
	ck_assert_uint_eq(r->body_len, 0);
}
END_TEST

START_TEST(http10_close_delimited)
{
	th_conn_t *c;
	th_resp_t *r;

	th_origin_start(th_portn(2), "A");
	th_start(conf(UPPER));
	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /chunked/70000 HTTP/1.0\r\nHost: x\r\n"
	    "Connection: keep-alive\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_msg(r->framing == TH_FRAME_CLOSE, "HTTP/1.0: not "
	    "close-delimited\n%s", r->head);
	ck_assert_msg(th_header(r, "Content-Length") == NULL &&
	    th_header(r, "Transfer-Encoding") == NULL, "HTTP/1.0: framing "
	    "fields\n%s", r->head);
	assert_body(r, expected(70000, true), 70000, "HTTP/1.0");
	th_conn_close(c);
}
END_TEST

START_TEST(no_body_untouched)
{
	th_resp_t *r;

	th_origin_start(th_portn(2), "A");
	make_file("www/files/a.txt", "some text\n");
	make_file("www/self/a.txt", "some text\n");
	th_start(conf(UPPER));
	r = th_req(th_portn(1), "HEAD /size/100 HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "X-filter"), "refused");
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "100");
	/* A proxied 304 (from the static site behind) and a static one. */
	r = th_req(th_portn(1), "GET /self/a.txt HTTP/1.1\r\nHost: x\r\n"
	    "If-None-Match: *\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 304);
	ck_assert_pstr_eq(th_header(r, "X-filter"), "refused");
	ck_assert_uint_eq(r->body_len, 0);
	r = th_req(th_portn(1), "GET /files/a.txt HTTP/1.1\r\nHost: x\r\n"
	    "If-None-Match: *\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 304);
	ck_assert_pstr_eq(th_header(r, "X-filter"), "refused");
}
END_TEST

/* filter uppercases, filter2 appends: the order of `modules` decides. */
START_TEST(chain_order)
{
	th_resp_t *r;

	th_origin_start(th_portn(2), "A");
	th_start(conf(CONF("\"filter\", \"filter2\"",
	    "filter_upper = true; filter2_append = \"tail\";")));
	r = th_get(th_portn(1), "/size/5000");
	assert_filtered(r, "chain");
	ck_assert_pstr_eq(th_header(r, "X-filter2"), "on");
	assert_body(r, th_printf("%stail", expected(5000, true)), 5004,
	    "upper, then append");
}
END_TEST

START_TEST(chain_order_reversed)
{
	th_resp_t *r;

	th_origin_start(th_portn(2), "A");
	th_start(conf(CONF("\"filter2\", \"filter\"",
	    "filter_upper = true; filter2_append = \"tail\";")));
	r = th_get(th_portn(1), "/chunked/5000");
	assert_filtered(r, "chain");
	assert_body(r, th_printf("%sTAIL", expected(5000, true)), 5004,
	    "append, then upper");
}
END_TEST

/* A filter that emits nothing until the end, then everything. */
START_TEST(hold_until_last)
{
	th_resp_t *r;

	th_origin_start(th_portn(2), "A");
	th_start(conf(CONF("\"filter\"",
	    "filter_hold = true; filter_append = \"END\";")));
	r = th_get(th_portn(1), th_printf("/close/%d", MIB));
	assert_filtered(r, "hold");
	assert_body(r, th_printf("%sEND", expected(MIB, false)), MIB + 3,
	    "hold");
}
END_TEST

START_TEST(keepalive_pipelined)
{
	static const char *const paths[] = { "/size/1000", "/chunked/20000",
	    "/size/300000", "/chunked/10", "/size/1" };
	th_origin_t *o;
	th_conn_t *c;
	th_resp_t *r;
	size_t	 i, n;

	o = th_origin_start(th_portn(2), "A");
	th_start(conf(UPPER));
	c = th_conn_open(th_portn(1));
	/* One after the other, then all at once. */
	for (i = 0; i < TH_NELEM(paths); i++) {
		th_conn_sendf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
		    paths[i]);
		r = th_conn_read(c);
		assert_filtered(r, paths[i]);
		n = strtoul(strrchr(paths[i], '/') + 1, NULL, 10);
		assert_body(r, expected(n, true), n, paths[i]);
	}
	for (i = 0; i < TH_NELEM(paths); i++)
		th_conn_sendf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
		    paths[i]);
	for (i = 0; i < TH_NELEM(paths); i++) {
		r = th_conn_read(c);
		assert_filtered(r, paths[i]);
		n = strtoul(strrchr(paths[i], '/') + 1, NULL, 10);
		assert_body(r, expected(n, true), n, paths[i]);
	}
	th_conn_close(c);
	ck_assert_msg(th_origin_conns(o) == 1, "%d filtered requests took %"
	    PRIu64 " upstream connections", (int)(2 * TH_NELEM(paths)),
	    th_origin_conns(o));
}
END_TEST

START_TEST(static_and_return)
{
	char	*text, *upper;
	size_t	 n = 100000, i;
	th_resp_t *r;

	text = th_alloc(n + 1);
	upper = th_alloc(n + 1);
	for (i = 0; i < n; i++) {
		text[i] = "abcdefghij klmnopqrstuvwxyz\n"[i % 28];
		upper[i] = (char)toupper((unsigned char)text[i]);
	}
	text[n] = upper[n] = '\0';
	make_file("www/files/big.txt", text);
	th_write_file(th_path("404.html"), "<p>not here</p>\n");
	th_origin_start(th_portn(2), "A");
	th_start(conf(CONF("\"filter\"", "filter_upper = true; "
	    "error_pages = ( { status = [ 404 ]; file = \"404.html\"; } );")));
	r = th_get(th_portn(1), "/files/big.txt");
	assert_filtered(r, "static file");
	assert_body(r, upper, n, "static file");
	ck_assert_pstr_eq(th_header(r, "Content-Type"), "text/plain");
	r = th_get(th_portn(1), "/ret");
	assert_filtered(r, "return");
	assert_body(r, "HELLO FROM RETURN\n", 18, "return");
	/* A page of error_pages is a body lintel sends too. */
	r = th_get(th_portn(1), "/files/missing");
	ck_assert_int_eq(r->status, 404);
	r->status = 200;
	assert_filtered(r, "error page");
	assert_body(r, "<P>NOT HERE</P>\n", 16, "error page");
	/* And lintel's own small page (a directory without index). */
	r = th_get(th_portn(1), "/files/");
	ck_assert_int_eq(r->status, 403);
	r->status = 200;
	assert_filtered(r, "lintel's page");
	ck_assert_msg(strstr(r->body, "<H1>403 FORBIDDEN</H1>") != NULL,
	    "lintel's page not filtered:\n%s", r->body);
	/* Unfiltered, the same file goes with its length (sendfile). */
	r = th_get(th_portn(3), "/files/big.txt");
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "100000");
	assert_body(r, text, n, "static file, unfiltered");
}
END_TEST

START_TEST(filter_error_closes)
{
	th_origin_t *o;
	th_conn_t *c;
	th_resp_t *r;
	static char buf[2 * MIB];
	size_t	 got = 0;
	ssize_t	 k;

	o = th_origin_start(th_portn(2), "A");
	th_start(conf(CONF("\"filter\"", "filter_fail_after = 50000;")));
	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /size/%d HTTP/1.1\r\nHost: x\r\n\r\n", MIB);
	r = th_conn_try_read(c, true, TH_IO_MS);
	ck_assert_msg(r != NULL, "no head: %s", th_error());
	ck_assert_int_eq(r->status, 200);
	while ((k = th_conn_recv(c, buf + got, sizeof(buf) - got,
	    TH_IO_MS)) > 0)
		got += (size_t)k;
	ck_assert_msg(k == 0, "no close after the filter failed: %s",
	    th_error());
	/* At most the 50000 bytes it passed, framed, and no last chunk: the
	 * client can tell the body was cut. */
	ck_assert_msg(got < 51000, "%zu bytes after the head", got);
	ck_assert_msg(got < 5 || memcmp(buf + got - 5, "0\r\n\r\n", 5) != 0,
	    "the cut body ends like a whole one");
	th_conn_close(c);
	ck_assert_ptr_nonnull(th_wait_file_line(th_path("error.log"),
	    "body filter of module 'filter' failed; response cut short",
	    TH_IO_MS));
	/* The request is in the access log, with the status of its head. */
	ck_assert_ptr_nonnull(th_wait_file_line(th_path("access.log"),
	    th_printf("\"GET /size/%d HTTP/1.1\" 200 ", MIB), TH_IO_MS));
	/* Nothing of that upstream connection is reused. */
	r = th_get(th_portn(1), "/size/0");
	assert_filtered(r, "after the failure");
	ck_assert_msg(th_origin_conns(o) == 2, "%" PRIu64 " upstream "
	    "connections: the failed one was reused", th_origin_conns(o));
}
END_TEST

/* An upstream body cut short reaches the client cut short too. */
START_TEST(upstream_cut_short)
{
	th_conn_t *c;
	th_resp_t *r;
	static char buf[MIB];
	size_t	 got = 0;
	ssize_t	 k;

	th_origin_start(th_portn(2), "A");
	th_start(conf(UPPER));
	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /reset/100000 HTTP/1.1\r\nHost: x\r\n\r\n");
	r = th_conn_try_read(c, true, TH_IO_MS);
	ck_assert_msg(r != NULL, "no head: %s", th_error());
	ck_assert_pstr_eq(th_header(r, "Transfer-Encoding"), "chunked");
	ck_assert_pstr_eq(th_header(r, "X-filter"), "on");
	while ((k = th_conn_recv(c, buf + got, sizeof(buf) - got,
	    TH_IO_MS)) > 0)
		got += (size_t)k;
	ck_assert_msg(got < 5 || memcmp(buf + got - 5, "0\r\n\r\n", 5) != 0,
	    "the cut body ends like a whole one");
	th_conn_close(c);
	ck_assert_ptr_nonnull(th_wait_file_line(th_path("error.log"),
	    "before the response was complete", TH_IO_MS));
}
END_TEST

START_TEST(unfiltered_identical)
{
	static const char *const kinds[] = { "size", "chunked" };
	th_resp_t *r;
	size_t	 k;

	th_origin_start(th_portn(2), "A");
	th_start(conf(UPPER));
	r = th_get(th_portn(4), "/size/300000");
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "300000");
	ck_assert_msg(th_header(r, "X-filter") == NULL, "filtered");
	assert_body(r, expected(300000, false), 300000, "unfiltered");
	for (k = 0; k < TH_NELEM(kinds); k++) {
		r = th_get(th_portn(4), th_printf("/%s/1000", kinds[k]));
		assert_body(r, expected(1000, false), 1000, kinds[k]);
	}
}
END_TEST

/* VmRSS of <pid>, in kB. */
static long
vmrss_kb(pid_t pid)
{
	const char *s, *line;
	long	 kb;

	s = th_read_file(th_printf("/proc/%d/status", (int)pid));
	ck_assert_msg(s != NULL, "no /proc/%d/status", (int)pid);
	line = th_find_line(s, "VmRSS:");
	ck_assert_msg(line != NULL && sscanf(line, "VmRSS: %ld", &kb) == 1,
	    "no VmRSS in /proc/%d/status", (int)pid);
	return kb;
}

/* GET /bulk/<len> as HTTP/1.0 (close-delimited), checked as it comes. */
static void
download(int port, uint64_t len, pid_t worker, long *max_kb)
{
	static char buf[TH_BULK_BLOCK];
	th_conn_t *c;
	th_resp_t *r;
	uint64_t got = 0, next = 0;
	int64_t	 bad;
	ssize_t	 n;
	long	 kb;

	c = th_conn_open(port);
	th_conn_sendf(c, "GET /bulk/%" PRIu64 " HTTP/1.0\r\nHost: x\r\n\r\n",
	    len);
	r = th_conn_try_read(c, true, TH_IO_MS);
	ck_assert_msg(r != NULL, "GET /bulk: %s", th_error());
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "X-filter"), "on");
	while ((n = th_conn_recv(c, buf, sizeof(buf), TH_IO_MS)) > 0) {
		bad = th_bulk_check(buf, (size_t)n, got);
		ck_assert_msg(bad == -1, "wrong byte at %" PRIu64,
		    got + (uint64_t)bad);
		got += (uint64_t)n;
		if (got >= next) {
			if ((kb = vmrss_kb(worker)) > *max_kb)
				*max_kb = kb;
			next += SAMPLE_EVERY;
		}
	}
	ck_assert_msg(n == 0 && got == len, "%s after %" PRIu64 " of %"
	    PRIu64 " bytes", n == 0 ? "EOF" : th_error(), got, len);
	th_conn_close(c);
}

/* A pass-through filter over 1 GiB: the worker does not grow. */
START_TEST(bounded_memory)
{
	pid_t	 worker;
	long	 before, max_kb = 0;

	th_origin_start(th_portn(2), "A");
	worker = th_worker(th_start(conf(CONF("\"filter\"",
	    "filter_fail_after = 1099511627776L;"))));
	download(th_portn(1), 8 << 20, worker, &max_kb);
	before = max_kb = vmrss_kb(worker);
	download(th_portn(1), GIB, worker, &max_kb);
	fprintf(stderr, "bounded_memory: worker %d VmRSS %ld kB before, at "
	    "most %ld kB during 1 GiB filtered\n", (int)worker, before,
	    max_kb);
	ck_assert_msg(max_kb - before <= RSS_SLACK_KB, "the worker grew by "
	    "%ld kB over 1 GiB through a filter", max_kb - before);
}
END_TEST

/*
 * A one-shot origin on 127.0.0.1:<port>: it reads one request head and
 * answers with <n> chunks of one byte ("x") each, then waits for the
 * close.  Listening when this returns; the caller kills it.
 */
static pid_t
tiny_chunk_origin(int port, long n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	static const char head[] = "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	static char out[6000];
	pid_t	 parent = getpid(), pid;
	int	 fd, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(fd, 4) == 0, "origin on port %d", port);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		char	 in[4096], *p = in;
		int	 c;

		th__die_with_parent(parent);
		if ((c = accept(fd, NULL, NULL)) == -1)
			_exit(1);
		/* The head ends the first read or soon after. */
		while (p < in + sizeof(in) - 1 && !memmem(in, (size_t)(p - in),
		    "\r\n\r\n", 4)) {
			ssize_t k = read(c, p, (size_t)(in + sizeof(in) - 1 -
			    p));

			if (k <= 0)
				_exit(1);
			p += k;
		}
		for (size_t i = 0; i < sizeof(out); i += 6)
			memcpy(out + i, "1\r\nx\r\n", 6);
		if (th__send_all(c, head, strlen(head)) == -1)
			_exit(1);
		for (long left = n; left > 0; left -= sizeof(out) / 6) {
			size_t k = left < (long)sizeof(out) / 6 ?
			    (size_t)left * 6 : sizeof(out);

			if (th__send_all(c, out, k) == -1)
				_exit(1);
		}
		th__send_all(c, "0\r\n\r\n", 5);
		while (read(c, in, sizeof(in)) > 0)
			;
		_exit(0);
	}
	close(fd);
	return pid;
}

/*
 * Many tiny chunks to a client that reads nothing for a while: the output
 * waiting for it stays a few buffers, not a buffer per chunk.
 */
START_TEST(tiny_chunks_bounded_memory)
{
	enum { NCHUNKS = 300000, SLACK_KB = 4096 };
	int	 small = 16384, status;
	pid_t	 origin, worker;
	long	 before, max_kb, kb;
	int64_t	 deadline;
	th_conn_t *c;
	th_resp_t *r;
	char	*want;

	origin = tiny_chunk_origin(th_portn(2), NCHUNKS);
	worker = th_worker(th_start(conf(UPPER)));
	before = max_kb = vmrss_kb(worker);
	c = th_conn_open(th_portn(1));
	/* A small window: lintel's writes block soon. */
	setsockopt(th_conn_fd(c), SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small));
	th_conn_sendf(c, "GET /tiny HTTP/1.1\r\nHost: x\r\n\r\n");
	deadline = th_deadline(3000);
	while (!th_expired(deadline) && max_kb - before <= SLACK_KB) {
		if ((kb = vmrss_kb(worker)) > max_kb)
			max_kb = kb;
		th_nap();
	}
	fprintf(stderr, "tiny_chunks_bounded_memory: worker %d VmRSS %ld kB "
	    "before, at most %ld kB while the client waited\n", (int)worker,
	    before, max_kb);
	ck_assert_msg(max_kb - before <= SLACK_KB, "the worker grew by "
	    "%ld kB while %d one-byte chunks waited for the client",
	    max_kb - before, NCHUNKS);
	r = th_conn_read(c);
	assert_filtered(r, "tiny chunks");
	want = th_alloc(NCHUNKS);
	memset(want, 'X', NCHUNKS);
	assert_body(r, want, NCHUNKS, "tiny chunks");
	th_conn_close(c);
	kill(origin, SIGKILL);
	waitpid(origin, &status, 0);
}
END_TEST

/*
 * A filter whose output outgrows its input fills the output from one read
 * of the origin: the rest of that read waits in lintel, and still goes to
 * the client once it takes the output, with nothing more from the origin
 * to wake the relay.
 */
START_TEST(input_waiting_behind_full_output)
{
	enum { LEN = 10000, TIMES = 100 };
	int	 small = 16384;
	th_conn_t *c;
	th_resp_t *r;
	char	*src, *want;

	th_origin_start(th_portn(2), "A");
	th_start(conf(CONF("\"filter\"", "filter_stretch = 100;")));
	c = th_conn_open(th_portn(1));
	setsockopt(th_conn_fd(c), SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small));
	th_conn_sendf(c, "GET /chunked/%d HTTP/1.1\r\nHost: x\r\n\r\n", LEN);
	/* The output fills up against the small window while the client
	 * reads. */
	r = th_conn_read(c);
	assert_filtered(r, "stretched");
	src = expected(LEN, false);
	want = th_alloc((size_t)LEN * TIMES);
	for (size_t i = 0; i < (size_t)LEN * TIMES; i++)
		want[i] = src[i / TIMES];
	assert_body(r, want, (size_t)LEN * TIMES, "stretched");
	th_conn_close(c);
}
END_TEST

/*
 * A filter that answers (lnt_req_fail) from inside BODY_FILTER, with part
 * of the body out: no second response goes into the body, the connection
 * closes as for any failing filter; proxied and static alike.
 */
START_TEST(filter_answer_too_late)
{
	static const char *const paths[] = { "/size/200000",
	    "/files/big" };
	static char buf[MIB];
	char	*big = th_alloc(200001);
	th_conn_t *c;
	th_resp_t *r;
	size_t	 got;
	ssize_t	 k;

	th_pattern_fill(big, 200000, 0);
	big[200000] = '\0';
	make_file("www/files/big", big);
	th_origin_start(th_portn(2), "A");
	th_start(conf(CONF("\"filter\"", "filter_fail_after = 50000; "
	    "filter_fail_status = 500;")));
	for (size_t i = 0; i < TH_NELEM(paths); i++) {
		c = th_conn_open(th_portn(1));
		th_conn_sendf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
		    paths[i]);
		r = th_conn_try_read(c, true, TH_IO_MS);
		ck_assert_msg(r != NULL, "%s: no head: %s", paths[i],
		    th_error());
		ck_assert_int_eq(r->status, 200);
		got = 0;
		while ((k = th_conn_recv(c, buf + got, sizeof(buf) - 1 - got,
		    TH_IO_MS)) > 0)
			got += (size_t)k;
		buf[got] = '\0';
		ck_assert_msg(k == 0, "%s: no close after the filter failed: "
		    "%s", paths[i], th_error());
		ck_assert_msg(memmem(buf, got, "HTTP/1.1 500", 12) == NULL,
		    "%s: a second response inside the body", paths[i]);
		ck_assert_msg(got < 51000, "%s: %zu bytes after the head",
		    paths[i], got);
		th_conn_close(c);
	}
	ck_assert_ptr_nonnull(th_wait_file_line(th_path("error.log"),
	    "a body filter answered a response already under way",
	    TH_IO_MS));
}
END_TEST

/*
 * A module that answers in HEADER_FILTER, which it may not: the answer is
 * logged and ignored, and the response goes on, proxied or static, alone
 * on its connection.
 */
START_TEST(header_filter_answer_ignored)
{
	static const char *const paths[] = { "/id", "/files/f.txt" };
	static const char *const bodies[] = { "A", "static file\n" };
	th_conn_t *c;
	th_resp_t *r;

	th_origin_start(th_portn(2), "A");
	make_file("www/files/f.txt", "static file\n");
	th_start(conf(CONF("\"filter\"", "filter_header_fail = 503;")));
	c = th_conn_open(th_portn(1));
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < TH_NELEM(paths); i++) {
			th_conn_sendf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			    paths[i]);
			r = th_conn_read(c);
			ck_assert_msg(r->status == 200, "%s: status %d",
			    paths[i], r->status);
			ck_assert_str_eq(r->body, bodies[i]);
		}
	}
	ck_assert_msg(!th_conn_closed(c, 200) && th_conn_pending(c) == 0,
	    "more than one response per request");
	th_conn_close(c);
	ck_assert_ptr_nonnull(th_wait_file_line(th_path("error.log"),
	    "a module answered in HEADER_FILTER, which it may not; answer "
	    "ignored", TH_IO_MS));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("body-filter");

	TH_TEST(s, proxied_framings);
	TH_TEST(s, http10_close_delimited);
	TH_TEST(s, no_body_untouched);
	TH_TEST(s, chain_order);
	TH_TEST(s, chain_order_reversed);
	TH_TEST(s, hold_until_last);
	TH_TEST(s, keepalive_pipelined);
	TH_TEST(s, static_and_return);
	TH_TEST(s, filter_error_closes);
	TH_TEST(s, upstream_cut_short);
	TH_TEST(s, unfiltered_identical);
	TH_TEST(s, bounded_memory);
	TH_TEST(s, tiny_chunks_bounded_memory);
	TH_TEST(s, input_waiting_behind_full_output);
	TH_TEST(s, filter_answer_too_late);
	TH_TEST(s, header_filter_answer_ignored);
	return th_run(s);
}
