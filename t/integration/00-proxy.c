/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Basic proxying through the real daemon: requests and bodies in both
 * directions reach the other side intact, keep-alive, HTTP/1.0 framing,
 * 404 for no route, 502 for a dead upstream, and the access log formats.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "th.h"

/* One site on @PORT_1@ routing everything to the origin on @PORT_2@. */
#define PROXY_CONF \
	TH_BASE \
	"upstreams = ( { name = \"origin\";\n" \
	"  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n" \
	"sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n" \
	"  routes = ( { path = \"/\"; upstream = \"origin\"; } ); } );\n"

static th_origin_t	*origin;

/* Origin "A" on @PORT_2@, lintel with PROXY_CONF plus <extra>; its port. */
static int
start_proxy(const char *extra)
{
	origin = th_origin_start(th_portn(2), "A");
	th_start(th_conf(th_printf("%s%s", PROXY_CONF, extra)));
	return th_portn(1);
}

/*
 * <r> (the answer to <what>) carries <len> pattern bytes, whatever the
 * framing.
 */
#define assert_pattern_body(r, len, what) \
	assert_pattern_body_at(__LINE__, (r), (len), (what))
static void
assert_pattern_body_at(int line, const th_resp_t *r, size_t len,
    const char *what)
{
	int64_t	 bad;

	ck_assert_msg(r->status == 200, "line %d: %s: status %d", line, what,
	    r->status);
	ck_assert_msg(r->body_len == len, "line %d: %s: body of %zu bytes, "
	    "expected %zu", line, what, r->body_len, len);
	bad = th_pattern_check(r->body, r->body_len, 0);
	ck_assert_msg(bad == -1, "line %d: %s: body differs at byte %lld",
	    line, what, (long long)bad);
}

/* The file <path> (a body curl saved) holds <len> pattern bytes. */
static void
assert_pattern_file(const char *path, size_t len)
{
	const char	*s;
	int64_t		 bad;

	s = th_read_file(path);
	ck_assert_msg(s != NULL, "curl saved no %s", path);
	ck_assert_msg(strlen(s) == len, "%s: %zu bytes, expected %zu", path,
	    strlen(s), len);
	bad = th_pattern_check(s, len, 0);
	ck_assert_msg(bad == -1, "%s differs at byte %lld", path,
	    (long long)bad);
}

START_TEST(get_is_proxied)
{
	th_resp_t	*r;
	const char	*cl;
	char		*out, *err;
	int		 port, rc;

	port = start_proxy("");
	r = th_get(port, "/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "hello from origin A\n");
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
	ck_assert_pstr_eq(th_header(r, "Content-Type"), "text/plain");
	if ((cl = th_header(r, "Content-Length")) != NULL)
		ck_assert_str_eq(cl, "20");
	ck_assert_msg(th_origin_reqs(origin) >= 1, "the origin saw nothing");
	/* What went upstream is a GET for the same target. */
	ck_assert_ptr_nonnull(th_find_line(th_read_file(th_origin_log(origin)),
	    "GET / HTTP/1."));

	/* And a real client agrees. */
	rc = th_curl(&out, &err, th_printf("http://127.0.0.1:%d/id", port),
	    NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	ck_assert_str_eq(out, "A");
}
END_TEST

START_TEST(post_content_length)
{
	const size_t	 len = 100000;
	const char	*head;
	char		*raw;
	size_t		 hlen;
	th_resp_t	*r;
	int		 port;

	port = start_proxy("");
	head = th_printf("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", len);
	hlen = strlen(head);
	raw = th_alloc(hlen + len);
	memcpy(raw, head, hlen);
	th_pattern_fill(raw + hlen, len, 0);
	r = th_try_request(port, raw, hlen + len);
	ck_assert_msg(r != NULL, "%s", th_error());
	assert_pattern_body(r, len, "POST /echo");
	ck_assert_pstr_eq(th_header(r, "X-Echo-Method"), "POST");
	ck_assert_pstr_eq(th_header(r, "X-Echo-Body-Length"),
	    th_printf("%zu", len));
}
END_TEST

START_TEST(post_chunked)
{
	static const size_t sizes[] = { 1, 15, 16, 255, 4096, 10000, 33 };
	char		*raw, *p;
	size_t		 i, off = 0, total = 0;
	th_resp_t	*r;
	int		 port;

	port = start_proxy("");
	for (i = 0; i < TH_NELEM(sizes); i++)
		total += sizes[i];
	raw = th_alloc(total + 4096);
	p = raw + sprintf(raw, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
	for (i = 0; i < TH_NELEM(sizes); i++) {
		p += sprintf(p, "%zx\r\n", sizes[i]);
		th_pattern_fill(p, sizes[i], off);
		p += sizes[i];
		off += sizes[i];
		p += sprintf(p, "\r\n");
	}
	p += sprintf(p, "0\r\n\r\n");
	r = th_try_request(port, raw, (size_t)(p - raw));
	ck_assert_msg(r != NULL, "%s", th_error());
	assert_pattern_body(r, total, "chunked POST /echo");
	ck_assert_pstr_eq(th_header(r, "X-Echo-Body-Length"),
	    th_printf("%zu", total));
}
END_TEST

START_TEST(post_with_curl)
{
	const size_t	 len = 3 * 1024 * 1024 + 17;
	const char	*in = th_path("upload.bin"), *got = th_path("got.bin");
	char		*body, *out, *err;
	int		 port, rc;

	/* A big upload: curl sends Expect: 100-continue for it. */
	port = start_proxy("max_body_size = \"16m\";\n");
	body = th_alloc(len + 1);
	th_pattern_fill(body, len, 0);
	body[len] = '\0';
	th_write_file(in, body);
	rc = th_curl(&out, &err, "--data-binary", th_printf("@%s", in),
	    "-H", "Content-Type: application/octet-stream", "-o", got,
	    "-w", "%{http_code} %{size_download}",
	    th_printf("http://127.0.0.1:%d/echo", port), NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	ck_assert_str_eq(out, th_printf("200 %zu", len));
	assert_pattern_file(got, len);
}
END_TEST

START_TEST(chunked_response)
{
	th_resp_t	*r;
	int		 port;

	port = start_proxy("");
	r = th_get(port, "/chunked/300001");
	assert_pattern_body(r, 300001, "GET /chunked/300001");
}
END_TEST

START_TEST(large_response)
{
	th_resp_t	*r;
	char		*out, *err;
	int		 port, rc;

	port = start_proxy("");
	r = th_get(port, "/size/1048576");
	assert_pattern_body(r, 1048576, "GET /size/1048576");

	rc = th_curl(&out, &err, "-o", th_path("large.bin"), "-w",
	    "%{http_code} %{size_download}",
	    th_printf("http://127.0.0.1:%d/size/1048576", port), NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	ck_assert_str_eq(out, "200 1048576");
	assert_pattern_file(th_path("large.bin"), 1048576);
}
END_TEST

START_TEST(keepalive)
{
	th_conn_t	*c;
	th_resp_t	*r;
	char		 body[5000];
	int		 port;

	port = start_proxy("");
	c = th_conn_open(port);

	th_conn_sendf(c, "GET /size/1000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
	r = th_conn_read(c);
	assert_pattern_body(r, 1000, "GET /size/1000");
	ck_assert_msg(!r->conn_close, "closed after the 1st request");

	th_pattern_fill(body, sizeof(body), 0);
	th_conn_sendf(c, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: %zu\r\n\r\n", sizeof(body));
	ck_assert(th_conn_send(c, body, sizeof(body)) == 0);
	r = th_conn_read(c);
	assert_pattern_body(r, sizeof(body), "POST /echo");
	ck_assert_msg(!r->conn_close, "closed after the 2nd request");

	th_conn_sendf(c, "GET /chunked/7000 HTTP/1.1\r\nHost: localhost\r\n"
	    "\r\n");
	r = th_conn_read(c);
	assert_pattern_body(r, 7000, "GET /chunked/7000");
	ck_assert_msg(!r->conn_close, "closed after the 3rd request");

	th_conn_sendf(c, "GET /id HTTP/1.1\r\nHost: localhost\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "A");

	th_conn_sendf(c, "GET /size/10 HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	r = th_conn_read(c);
	assert_pattern_body(r, 10, "GET /size/10");
	ck_assert_msg(th_conn_closed(c, TH_IO_MS),
	    "still open after Connection: close");
	ck_assert_msg(th_conn_pending(c) == 0, "%zu stray bytes after the "
	    "last response", th_conn_pending(c));
	th_conn_close(c);
}
END_TEST

/* HTTP/1.0 GET of <path>: framed without chunking, then closed. */
static void
http10_get(int port, const char *path, size_t len)
{
	th_conn_t	*c;
	th_resp_t	*r;

	c = th_conn_open(port);
	th_conn_sendf(c, "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	r = th_conn_read(c);
	ck_assert_msg(r->framing != TH_FRAME_CHUNKED,
	    "chunked response to an HTTP/1.0 request for %s", path);
	ck_assert_msg(strncmp(r->version, "HTTP/1.", 7) == 0, "version %s",
	    r->version);
	assert_pattern_body(r, len, th_printf("HTTP/1.0 GET %s", path));
	ck_assert_msg(th_conn_closed(c, TH_IO_MS),
	    "HTTP/1.0 connection without keep-alive left open (%s)", path);
	th_conn_close(c);
}

START_TEST(http10_client)
{
	int	 port;

	port = start_proxy("");
	http10_get(port, "/size/5000", 5000);
	/* The origin answers lintel chunked: lintel must reframe. */
	http10_get(port, "/chunked/5000", 5000);
}
END_TEST

/* Origin A, and lintel with a single route: /app/ to it. */
static void
start_app_route(void)
{
	origin = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE
	    "upstreams = ( { name = \"origin\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n"
	    "  routes = ( { path = \"/app/\"; upstream = \"origin\"; } ); "
	    "} );\n"));
}

START_TEST(no_route_404)
{
	th_resp_t	*r;
	int		 port;

	start_app_route();
	port = th_portn(1);

	r = th_get(port, "/elsewhere");
	ck_assert_int_eq(r->status, 404);
	ck_assert_msg(th_header(r, "X-Origin-Id") == NULL,
	    "the 404 came from the origin");
	ck_assert_msg(th_origin_reqs(origin) == 0, "the origin was asked");

	/* The route itself works (the origin has no /app/x: its own 404). */
	r = th_get(port, "/app/x");
	ck_assert_int_eq(r->status, 404);
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
}
END_TEST

/*
 * Pipelined requests that lintel answers at once (404: no route), sent
 * with the client's end of stream: every one is answered before the
 * close.  The first goes to the origin, so the others are taken up after
 * it, from the loop's deferred events.
 */
START_TEST(pipelined_404_then_half_close)
{
	th_conn_t	*c;
	th_resp_t	*r;
	int		 port;

	start_app_route();
	port = th_portn(1);

	c = th_conn_open(port);
	th_conn_sendf(c, "GET /app/x HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    "GET /c HTTP/1.1\r\nHost: localhost\r\n\r\n");
	ck_assert_int_eq(shutdown(th_conn_fd(c), SHUT_WR), 0);
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 404);
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
	for (int i = 0; i < 3; i++) {
		r = th_conn_read(c);
		ck_assert_int_eq(r->status, 404);
		ck_assert_msg(th_header(r, "X-Origin-Id") == NULL,
		    "pipelined request %d went to the origin", i + 2);
	}
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "open after the last");
	th_conn_close(c);
}
END_TEST

/*
 * On a keep-alive connection, a request lintel answers itself after a
 * proxied one has no upstream of its own in the access log.
 */
START_TEST(keepalive_local_answer_no_upstream)
{
	const char	*line;
	th_conn_t	*c;
	th_resp_t	*r;
	int		 port;

	origin = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE
	    "access_log = { path = \"@TMPDIR@/access.log\";\n"
	    "  format = \"$request $status up=$upstream_addr "
	    "ups=$upstream_status\"; };\n"
	    "upstreams = ( { name = \"origin\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n"
	    "  routes = ( { path = \"/app/\"; upstream = \"origin\"; } ); "
	    "} );\n"));
	port = th_portn(1);

	c = th_conn_open(port);
	th_conn_sendf(c, "GET /app/x HTTP/1.1\r\nHost: localhost\r\n"
	    "\r\n");
	r = th_conn_read(c);
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
	th_conn_sendf(c, "GET /elsewhere HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 404);
	th_conn_close(c);
	line = th_wait_file_line(th_path("access.log"), "/elsewhere",
	    TH_IO_MS);
	ck_assert_msg(line != NULL, "no access log line for /elsewhere");
	ck_assert_msg(th_match(line, " 404 up=- ups=-$"),
	    "the upstream of the previous request logged: %s", line);
}
END_TEST

START_TEST(refused_upstream_502)
{
	th_resp_t	*r;
	int		 port, i;

	/* Nothing listens on @PORT_3@. */
	th_start(th_conf(TH_BASE
	    "upstreams = ( { name = \"dead\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_3@\"; } ); } );\n"
	    "sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n"
	    "  routes = ( { path = \"/\"; upstream = \"dead\"; } ); } );\n"));
	port = th_portn(1);
	for (i = 0; i < 3; i++) {
		r = th_get(port, "/");
		ck_assert_int_eq(r->status, 502);
	}
}
END_TEST

START_TEST(access_log_combined)
{
	const char	*line;
	th_resp_t	*r;
	int		 port;

	port = start_proxy("access_log = { path = \"@TMPDIR@/access.log\"; "
	    "format = \"combined\"; };\n");
	r = th_req(port, "GET /size/123 HTTP/1.1\r\nHost: localhost\r\n"
	    "User-Agent: th-client/1\r\nReferer: http://ref.example/\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);
	line = th_wait_file_line(th_path("access.log"), "/size/123", TH_IO_MS);
	ck_assert_msg(line != NULL, "no access log line for /size/123:\n%s",
	    th_read_file(th_path("access.log")));
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 - - \\[[0-9]{2}/[A-Z]"
	    "[a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\\] "
	    "\"GET /size/123 HTTP/1\\.1\" 200 123 \"http://ref\\.example/\" "
	    "\"th-client/1\"$"), "not a combined line: %s", line);
}
END_TEST

START_TEST(access_log_json)
{
	const char	*line;
	char		 val[64];
	th_resp_t	*r;
	int		 port;

	port = start_proxy("access_log = { path = \"@TMPDIR@/access.log\"; "
	    "format = \"json\"; };\n");
	r = th_get(port, "/size/77");
	ck_assert_int_eq(r->status, 200);
	r = th_get(port, "/nothing-here");
	ck_assert_int_eq(r->status, 404);
	line = th_wait_file_line(th_path("access.log"), "/size/77", TH_IO_MS);
	ck_assert_msg(line != NULL, "no access log line for /size/77:\n%s",
	    th_read_file(th_path("access.log")));
	ck_assert_msg(th_json(line, "status", val, sizeof(val)),
	    "not a JSON object with a status: %s", line);
	ck_assert_msg(strcmp(val, "200") == 0, "status %s in %s", val, line);
	/* The origin's 404 is logged as such. */
	line = th_wait_file_line(th_path("access.log"), "/nothing-here",
	    TH_IO_MS);
	ck_assert_msg(line != NULL, "no access log line for /nothing-here");
	ck_assert_msg(th_json(line, "status", val, sizeof(val)) &&
	    strcmp(val, "404") == 0, "not status 404: %s", line);
}
END_TEST

int
main(void)
{
	Suite	*s;

	s = suite_create("00-proxy");
	TH_TEST(s, get_is_proxied);
	TH_TEST(s, post_content_length);
	TH_TEST(s, post_chunked);
	TH_TEST(s, post_with_curl);
	TH_TEST(s, chunked_response);
	TH_TEST(s, large_response);
	TH_TEST(s, keepalive);
	TH_TEST(s, http10_client);
	TH_TEST(s, no_route_404);
	TH_TEST(s, pipelined_404_then_half_close);
	TH_TEST(s, keepalive_local_answer_no_upstream);
	TH_TEST(s, refused_upstream_502);
	TH_TEST(s, access_log_combined);
	TH_TEST(s, access_log_json);
	return th_run(s);
}
