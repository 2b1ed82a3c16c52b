/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The proxy engine through the real daemon: hop-by-hop and forwarding
 * fields, header rules, pipelining, the upstream keep-alive pool,
 * 100-continue, Upgrade tunnels, every timeout, retries on connect
 * failures, bounded memory over 1 GiB transfers, the head of a spliced
 * body, and malformed requests refused before they reach the origin.
 */
/* strcasestr. */
#define _GNU_SOURCE
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th.h"

/* TH_BASE with one worker: one keep-alive pool to count, one RSS to watch. */
#define BASE_1W \
	"error_log = \"@TMPDIR@/error.log\"; " \
	"pid_file = \"@TMPDIR@/lintel.pid\"; " \
	"user = \"nobody\"; group = \"nogroup\"; workers = 1; " \
	"shutdown_timeout = \"10s\"; log_level = \"info\";\n"

/* The upstream "origin" (@PORT_2@) with <extra> settings. */
#define UPSTREAM(extra) \
	"upstreams = ( { name = \"origin\"; " extra "\n" \
	"  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"

/* One site on @PORT_1@ with <extra> settings, everything to "origin". */
#define SITE(extra) \
	"sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ]; " extra "\n" \
	"  routes = ( { path = \"/\"; upstream = \"origin\"; } ); } );\n"

#define GIB		((uint64_t)1 << 30)
#define SAMPLE_EVERY	(64 * 1024 * 1024)	/* bytes between RSS samples */
#define RSS_SLACK_KB	(16 * 1024)		/* allowed worker growth */

/*
 * The request head the origin received, out of the body of a /headers
 * response, as a response whose head it is: th_header() reads its fields.
 */
static th_resp_t *
upstream_head(const th_resp_t *r)
{
	th_resp_t	*up;

	ck_assert_msg(r->status == 200, "GET /headers: status %d", r->status);
	up = th_alloc(sizeof(*up));
	memset(up, 0, sizeof(*up));
	up->head = r->body;
	up->head_len = r->body_len;
	return up;
}

/* <r>'s head has the field line <line> ("Name: value") exactly. */
static bool
has_line(const th_resp_t *r, const char *line)
{
	return strstr(r->head, th_printf("\r\n%s\r\n", line)) != NULL;
}

/* Header <name> of <r> is absent. */
#define assert_absent(r, name, what) \
	ck_assert_msg(th_header((r), (name)) == NULL, "%s: %s: %s present\n%s", \
	    (what), (name), th_header((r), (name)), (r)->head)

/* Header <name> of <r> appears once, with <value>. */
#define assert_field(r, name, value, what) \
	assert_field_at(__LINE__, (r), (name), (value), (what))
static void
assert_field_at(int line, const th_resp_t *r, const char *name,
    const char *value, const char *what)
{
	const char	*got = th_header(r, name);

	ck_assert_msg(got != NULL && strcmp(got, value) == 0 &&
	    th_header_count(r, name) == 1, "line %d: %s: expected one "
	    "\"%s: %s\", got %d, the first \"%s\", in\n%s", line, what, name,
	    value, th_header_count(r, name), got ? got : "(none)", r->head);
}

/* <r> carries <len> pattern bytes. */
static void
assert_pattern(const th_resp_t *r, size_t len, const char *what)
{
	int64_t	 bad;

	ck_assert_msg(r->status == 200, "%s: status %d", what, r->status);
	ck_assert_msg(r->body_len == len, "%s: %zu body bytes, expected %zu",
	    what, r->body_len, len);
	bad = th_pattern_check(r->body, r->body_len, 0);
	ck_assert_msg(bad == -1, "%s: body differs at byte %lld", what,
	    (long long)bad);
}

/* How many times <needle> occurs in <text>. */
static long
occurrences(const char *text, const char *needle)
{
	long	 n = 0;

	while (text != NULL && (text = strstr(text, needle)) != NULL) {
		n++;
		text += strlen(needle);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Forwarding */

START_TEST(forward_default)
{
	th_resp_t	*r, *up;
	int		 port;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("")));
	port = th_portn(1);

	r = th_req(port, "GET /headers HTTP/1.1\r\nHost: client.test\r\n"
	    "Connection: keep-alive, X-Named\r\nKeep-Alive: timeout=5\r\n"
	    "TE: trailers\r\nTrailer: X-Sum\r\nUpgrade: echo\r\n"
	    "Proxy-Connection: keep-alive\r\nX-Named: 1\r\nX-Kept: 2\r\n"
	    "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Host: spoofed.test\r\n\r\n");
	up = upstream_head(r);
	ck_assert_msg(strncmp(up->head, "GET /headers HTTP/1.1\r\n", 23) == 0,
	    "request line sent upstream: %.60s", up->head);
	/* Hop-by-hop fields, and those named in Connection, stay here. */
	assert_absent(up, "Connection", "upstream");
	assert_absent(up, "Keep-Alive", "upstream");
	assert_absent(up, "TE", "upstream");
	assert_absent(up, "Trailer", "upstream");
	assert_absent(up, "Upgrade", "upstream");
	assert_absent(up, "Proxy-Connection", "upstream");
	assert_absent(up, "X-Named", "upstream");
	assert_field(up, "X-Kept", "2", "upstream");
	assert_field(up, "Host", "client.test", "upstream");
	/* The default forward_headers. */
	assert_field(up, "Via", "1.1 lintel", "upstream");
	assert_field(up, "X-Forwarded-For", "1.2.3.4, 127.0.0.1", "upstream");
	assert_field(up, "X-Forwarded-Proto", "http", "upstream");
	assert_field(up, "X-Forwarded-Host", "client.test", "upstream");
	assert_absent(up, "Forwarded", "upstream");
	/* And the response says it came through a proxy. */
	assert_field(r, "Via", "1.1 lintel", "response");
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
}
END_TEST

/*
 * GET /headers from the loopback address <src> (all of 127/8 is local),
 * Connection: close: the request head the origin received.
 */
static const char *
headers_from(int port, const char *src)
{
	static const char req[] = "GET /headers HTTP/1.1\r\nHost: a.test\r\n"
	    "Connection: close\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET };
	char buf[16384];
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	ck_assert(inet_pton(AF_INET, src, &a.sin_addr) == 1);
	ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "bind to %s: %s", src, strerror(errno));
	a.sin_port = htons((uint16_t)port);
	ck_assert(inet_pton(AF_INET, "127.0.0.1", &a.sin_addr) == 1);
	ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0,
	    "connect: %s", strerror(errno));
	ck_assert(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(req) - 1);
	/* Until the close that ends the response (bounded by SO_RCVTIMEO). */
	ck_assert(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){
	    .tv_sec = TH_IO_MS / 1000 }, sizeof(struct timeval)) == 0);
	while (got < sizeof(buf) - 1 &&
	    (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return th_printf("%s", buf);
}

/* The client's address as text, whatever the width of its numbers. */
START_TEST(forward_client_address)
{
	static const char *const srcs[] = { "127.0.0.1", "127.10.99.5",
	    "127.255.100.10", "127.1.20.255" };
	const char *head, *xff;
	int port;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("")));
	port = th_portn(1);
	for (size_t i = 0; i < TH_NELEM(srcs); i++) {
		head = headers_from(port, srcs[i]);
		xff = th_printf("\r\nX-Forwarded-For: %s\r\n", srcs[i]);
		ck_assert_msg(strstr(head, xff) != NULL, "from %s, the origin "
		    "got: %.400s", srcs[i], head);
	}
}
END_TEST

START_TEST(forward_rfc7239)
{
	th_resp_t	*r, *up;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("")
	    SITE("forward_headers = [ \"forwarded\" ];")));

	r = th_req(th_portn(1), "GET /headers HTTP/1.1\r\n"
	    "Host: client.test\r\nForwarded: for=1.2.3.4\r\n"
	    "Connection: close\r\n\r\n");
	up = upstream_head(r);
	assert_field(up, "Forwarded",
	    "for=1.2.3.4, for=127.0.0.1;host=\"client.test\";proto=http",
	    "upstream");
	assert_absent(up, "X-Forwarded-For", "upstream");
	assert_absent(up, "X-Forwarded-Proto", "upstream");
	assert_absent(up, "X-Forwarded-Host", "upstream");
	assert_absent(up, "Via", "upstream");
	assert_absent(r, "Via", "response");
}
END_TEST

START_TEST(forward_none)
{
	th_resp_t	*r, *up;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("forward_headers = [ ];")));

	r = th_req(th_portn(1), "GET /headers HTTP/1.1\r\n"
	    "Host: client.test\r\nX-Forwarded-For: 1.2.3.4\r\n"
	    "Connection: close\r\n\r\n");
	up = upstream_head(r);
	/* The client's own field passes as it is: nothing is appended. */
	assert_field(up, "X-Forwarded-For", "1.2.3.4", "upstream");
	assert_absent(up, "X-Forwarded-Proto", "upstream");
	assert_absent(up, "X-Forwarded-Host", "upstream");
	assert_absent(up, "Forwarded", "upstream");
	assert_absent(up, "Via", "upstream");
	assert_field(up, "Host", "client.test", "upstream");
	assert_absent(r, "Via", "response");
}
END_TEST

START_TEST(header_rules)
{
	static const char hop[] = "X-Powered-By=PHP%2F8&Connection=X-Hop&"
	    "X-Hop=1&Keep-Alive=timeout%3D5&X-Kept=yes";
	static const char ask[] = "Host: client.test\r\n"
	    "X-Real-IP: 9.9.9.9\r\nX-A: 0\r\nX-Debug: yes\r\n"
	    "Connection: close\r\n\r\n";
	th_resp_t	*r, *up;
	int		 port;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("")
	    "sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n"
	    "  upstream_host = \"backend.local\";\n"
	    "  request_headers = { set = [ \"X-Real-IP: $remote_addr\" ];\n"
	    "    add = [ \"X-A: 1\" ]; remove = [ \"X-Debug\" ]; };\n"
	    "  response_headers = { remove = [ \"Server\", \"X-Powered-By\" ];\n"
	    "    add = [ \"X-Frame-Options: DENY\" ]; };\n"
	    "  routes = (\n"
	    "    { path = \"~/route\"; upstream = \"origin\";\n"
	    "      upstream_host = \"route.local\";\n"
	    "      request_headers = { add = [ \"X-Route: 1\" ]; };\n"
	    "      response_headers = { add = [ \"X-Route-Resp: 1\" ]; }; },\n"
	    "    { path = \"/\"; upstream = \"origin\"; } ); } );\n"));
	port = th_portn(1);

	/* The site's rules. */
	r = th_req(port, "GET /headers HTTP/1.1\r\n%s", ask);
	up = upstream_head(r);
	assert_field(up, "Host", "backend.local", "site rules");
	assert_field(up, "X-Forwarded-Host", "client.test", "site rules");
	assert_field(up, "X-Real-IP", "127.0.0.1", "site rules");
	ck_assert_msg(th_header_count(up, "X-A") == 2 && has_line(up,
	    "X-A: 0") && has_line(up, "X-A: 1"), "site rules: X-A should be "
	    "0 then 1:\n%s", up->head);
	assert_absent(up, "X-Debug", "site rules");

	/* A route's rules replace the site's, they do not add to them. */
	r = th_req(port, "GET /headers/route HTTP/1.1\r\n%s", ask);
	up = upstream_head(r);
	assert_field(up, "Host", "route.local", "route rules");
	assert_field(up, "X-Real-IP", "9.9.9.9", "route rules");
	assert_field(up, "X-A", "0", "route rules");
	assert_field(up, "X-Debug", "yes", "route rules");
	assert_field(up, "X-Route", "1", "route rules");

	/* Response rules, and hop-by-hop fields of the upstream's answer. */
	r = th_req(port, "GET /respond?%s HTTP/1.1\r\n%s", hop, ask);
	ck_assert_int_eq(r->status, 200);
	assert_absent(r, "Server", "site response rules");
	assert_absent(r, "X-Powered-By", "site response rules");
	assert_field(r, "X-Frame-Options", "DENY", "site response rules");
	assert_absent(r, "X-Hop", "site response rules");
	assert_absent(r, "Keep-Alive", "site response rules");
	ck_assert_msg(strcasestr(r->head, "x-hop") == NULL, "X-Hop named in "
	    "the response:\n%s", r->head);
	assert_field(r, "X-Kept", "yes", "site response rules");
	assert_field(r, "Via", "1.1 lintel", "site response rules");

	r = th_req(port, "GET /respond/route?%s HTTP/1.1\r\n%s", hop, ask);
	ck_assert_int_eq(r->status, 200);
	assert_field(r, "Server", "th-origin", "route response rules");
	assert_field(r, "X-Powered-By", "PHP/8", "route response rules");
	assert_absent(r, "X-Frame-Options", "route response rules");
	assert_field(r, "X-Route-Resp", "1", "route response rules");
	assert_absent(r, "X-Hop", "route response rules");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Pipelining and the upstream pool */

START_TEST(pipelining)
{
	th_origin_t	*o;
	th_conn_t	*c;
	th_resp_t	*r;
	int		 port;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("")));
	port = th_portn(1);

	c = th_conn_open(port);
	/* Three requests in one send. */
	th_conn_sendf(c, "GET /size/10 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
	    "\r\nhello"
	    "GET /chunked/30 HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	r = th_conn_read(c);
	assert_pattern(r, 10, "1st pipelined response");
	ck_assert_msg(!r->conn_close, "closed after the 1st request");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "hello");
	ck_assert_msg(!r->conn_close, "closed after the 2nd request");
	r = th_conn_read(c);
	assert_pattern(r, 30, "3rd pipelined response");
	ck_assert_msg(r->conn_close, "no Connection: close on the 3rd");
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "open after the 3rd");
	ck_assert_msg(th_conn_pending(c) == 0, "%zu stray bytes",
	    th_conn_pending(c));
	th_conn_close(c);
	ck_assert_int_eq(th_origin_complete(o), 3);
}
END_TEST

START_TEST(pool_shared)
{
	th_origin_t	*o;
	th_conn_t	*c;
	th_resp_t	*r;
	int		 port, i;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(BASE_1W UPSTREAM("") SITE("")));
	port = th_portn(1);

	/* 20 requests on one client connection... */
	c = th_conn_open(port);
	for (i = 0; i < 20; i++) {
		th_conn_sendf(c, "GET /size/100 HTTP/1.1\r\nHost: localhost"
		    "\r\n\r\n");
		r = th_conn_read(c);
		assert_pattern(r, 100, th_printf("request %d", i + 1));
	}
	th_conn_close(c);
	ck_assert_msg(th_origin_conns(o) == 1, "20 requests on one client "
	    "connection took %" PRIu64 " upstream connections",
	    th_origin_conns(o));

	/* ...then on 20 client connections: the same upstream one. */
	for (i = 0; i < 20; i++) {
		r = th_get(port, "/size/100");
		assert_pattern(r, 100, th_printf("connection %d", i + 1));
	}
	ck_assert_msg(th_origin_conns(o) == 1, "40 requests took %" PRIu64
	    " upstream connections", th_origin_conns(o));
	ck_assert_int_eq(th_origin_reqs(o), 40);
	ck_assert_int_eq(occurrences(th_read_file(th_origin_log(o)),
	    "\r\nConnection: close\r\n"), 0);
}
END_TEST

START_TEST(pool_keepalive_requests)
{
	th_origin_t	*o;
	th_resp_t	*r;
	int		 port, i;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(BASE_1W UPSTREAM("keepalive_requests = 5;") SITE("")));
	port = th_portn(1);

	for (i = 0; i < 20; i++) {
		r = th_get(port, "/id");
		ck_assert_int_eq(r->status, 200);
		ck_assert_str_eq(r->body, "A");
	}
	ck_assert_msg(th_origin_conns(o) == 4, "20 requests, 5 per "
	    "connection, took %" PRIu64 " upstream connections",
	    th_origin_conns(o));
}
END_TEST

START_TEST(pool_off)
{
	th_origin_t	*o;
	th_resp_t	*r;
	int		 port, i;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(BASE_1W UPSTREAM("keepalive = 0;") SITE("")));
	port = th_portn(1);

	for (i = 0; i < 20; i++) {
		r = th_get(port, "/id");
		ck_assert_int_eq(r->status, 200);
	}
	ck_assert_msg(th_origin_conns(o) == 20, "keepalive = 0: 20 requests "
	    "took %" PRIu64 " upstream connections", th_origin_conns(o));
	ck_assert_int_eq(occurrences(th_read_file(th_origin_log(o)),
	    "\r\nConnection: close\r\n"), 20);
}
END_TEST

/* Wait (bounded) until <o> has closed <n> idle connections in all. */
static void
wait_idle_closes(const th_origin_t *o, uint64_t n)
{
	int64_t	 end = th_deadline(TH_IO_MS);

	while (th_origin_idle_closes(o) < n && !th_expired(end))
		th_nap();
	ck_assert_msg(th_origin_idle_closes(o) >= n, "the origin closed "
	    "%" PRIu64 " idle connections, expected %" PRIu64,
	    th_origin_idle_closes(o), n);
}

START_TEST(pool_stale)
{
	th_origin_t	*o;
	th_resp_t	*r;
	const char	*head;
	char		 body[5000];
	int		 port;

	o = th_origin_start(th_portn(2), "A");
	th_origin_idle_close(o, 200);
	th_start(th_conf(BASE_1W UPSTREAM("") SITE("")));
	port = th_portn(1);

	r = th_get(port, "/id");
	ck_assert_int_eq(r->status, 200);
	/* The pooled connection is closed by the origin meanwhile. */
	wait_idle_closes(o, 1);
	r = th_get(port, "/id");
	ck_assert_msg(r->status == 200, "GET after the origin closed the "
	    "pooled connection: status %d", r->status);
	ck_assert_str_eq(r->body, "A");

	/* A POST may not be retried: the pool must have dropped it. */
	wait_idle_closes(o, 2);
	th_pattern_fill(body, sizeof(body), 0);
	head = th_printf("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", sizeof(body));
	r = th_req(port, "%s%.*s", head, (int)sizeof(body), body);
	ck_assert_msg(r->status == 200, "POST after the origin closed the "
	    "pooled connection: status %d", r->status);
	assert_pattern(r, sizeof(body), "POST /echo");
	ck_assert_int_eq(th_origin_conns(o), 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* 100-continue */

START_TEST(expect_continue)
{
	const size_t	 len = 300000;
	const char	*in = th_path("upload.bin"), *got = th_path("got.bin");
	const char	*s;
	char		*body, *out, *err;
	int		 rc;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("")));

	body = th_alloc(len + 1);
	th_pattern_fill(body, len, 0);
	body[len] = '\0';
	th_write_file(in, body);
	/* curl waits for the 100 (up to 15s) before it sends the body. */
	rc = th_curl(&out, &err, "-v", "--data-binary", th_printf("@%s", in),
	    "-H", "Expect: 100-continue", "--expect100-timeout", "15",
	    "-H", "Content-Type: application/octet-stream", "-o", got,
	    "-w", "%{http_code}",
	    th_printf("http://127.0.0.1:%d/echo", th_portn(1)), NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	ck_assert_str_eq(out, "200");
	ck_assert_msg(strstr(err, "< HTTP/1.1 100 Continue") != NULL,
	    "curl got no 100 Continue:\n%s", err);
	s = th_read_file(got);
	ck_assert_msg(s != NULL && strlen(s) == len &&
	    th_pattern_check(s, len, 0) == -1, "the body came back altered");
}
END_TEST

START_TEST(expect_too_large)
{
	th_origin_t	*o;
	th_conn_t	*c;
	th_resp_t	*r;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("max_body_size = \"64k\";")));

	/* The head alone: the body is never sent. */
	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 413);
	ck_assert_msg(r->ninterim == 0, "a 100 Continue before the 413");
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "open after the 413");
	th_conn_close(c);
	ck_assert_int_eq(th_origin_reqs(o), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Upgrade */

/* Read exactly <len> tunnelled bytes into <buf>. */
static void
recv_exact(th_conn_t *c, char *buf, size_t len, const char *what)
{
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len) {
		n = th_conn_recv(c, buf + got, len - got, TH_IO_MS);
		ck_assert_msg(n > 0, "%s: %s after %zu of %zu bytes", what,
		    n == 0 ? "EOF" : th_error(), got, len);
		got += (size_t)n;
	}
}

START_TEST(upgrade_tunnel)
{
	static const size_t sizes[] = { 1, 100, 16384, 65536, 7 };
	static char	 out[65536], in[65536];
	th_origin_t	*o;
	th_conn_t	*c;
	th_resp_t	*r;
	uint64_t	 off = 0;
	size_t		 i;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("")));

	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /upgrade HTTP/1.1\r\nHost: localhost\r\n"
	    "Upgrade: echo\r\nConnection: Upgrade\r\n\r\n");
	r = th_conn_try_read(c, true, TH_IO_MS);
	ck_assert_msg(r != NULL, "no answer to the upgrade: %s", th_error());
	ck_assert_int_eq(r->status, 101);
	ck_assert_pstr_eq(th_header(r, "Upgrade"), "echo");
	ck_assert_msg(th_header(r, "Connection") != NULL &&
	    strcasecmp(th_header(r, "Connection"), "upgrade") == 0,
	    "Connection: %s", th_header(r, "Connection"));

	/* Round trips through the tunnel. */
	for (i = 0; i < TH_NELEM(sizes); i++) {
		th_pattern_fill(out, sizes[i], off);
		ck_assert(th_conn_send(c, out, sizes[i]) == 0);
		recv_exact(c, in, sizes[i], th_printf("round trip %zu", i));
		ck_assert_msg(memcmp(in, out, sizes[i]) == 0, "round trip "
		    "%zu: %zu bytes came back altered", i, sizes[i]);
		off += sizes[i];
	}

	/* Our half-close reaches the origin; its echo and EOF come back. */
	ck_assert(th_conn_send(c, "bye", 3) == 0);
	ck_assert(shutdown(th_conn_fd(c), SHUT_WR) == 0);
	recv_exact(c, in, 3, "after the half-close");
	ck_assert_msg(memcmp(in, "bye", 3) == 0, "the last echo differs");
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "no EOF after the "
	    "half-close");
	ck_assert_msg(th_conn_pending(c) == 0, "%zu stray bytes",
	    th_conn_pending(c));
	th_conn_close(c);
	ck_assert_msg(th_origin_tunnel_eofs(o) == 1, "the origin saw no EOF");
}
END_TEST

START_TEST(upgrade_refused)
{
	th_origin_t	*o;
	th_resp_t	*r;
	const char	*log;
	int		 port;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("")));
	port = th_portn(1);

	/* HTTP/1.0 has no Upgrade. */
	r = th_req(port, "GET /upgrade HTTP/1.0\r\nHost: localhost\r\n"
	    "Upgrade: echo\r\nConnection: Upgrade\r\n\r\n");
	ck_assert_msg(r->status == 426, "HTTP/1.0 upgrade: status %d",
	    r->status);
	/* Nor does Upgrade without "Connection: upgrade". */
	r = th_req(port, "GET /upgrade HTTP/1.1\r\nHost: localhost\r\n"
	    "Upgrade: echo\r\n\r\n");
	ck_assert_msg(r->status == 426, "Upgrade without Connection: status "
	    "%d", r->status);
	ck_assert_int_eq(th_origin_complete(o), 2);
	log = th_read_file(th_origin_log(o));
	ck_assert_msg(strcasestr(log, "\nupgrade:") == NULL, "Upgrade was "
	    "forwarded:\n%s", log);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Timeouts and upstream failures */

START_TEST(timeout_client_header)
{
	th_origin_t	*o;
	th_conn_t	*c;
	th_resp_t	*r;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("")
	    SITE("client_header_timeout = \"300ms\";")));

	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /id HTTP/1.1\r\nHost: loc");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 408);
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "open after the 408");
	th_conn_close(c);
	ck_assert_int_eq(th_origin_reqs(o), 0);
}
END_TEST

START_TEST(timeout_client_body)
{
	th_origin_t	*o;
	th_conn_t	*c;
	th_resp_t	*r;
	char		 part[100];

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("")
	    SITE("client_body_timeout = \"300ms\";")));

	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: 1000\r\n\r\n");
	th_pattern_fill(part, sizeof(part), 0);
	ck_assert(th_conn_send(c, part, sizeof(part)) == 0);
	/* No response has begun: 408, then the close. */
	r = th_conn_try_read(c, false, TH_IO_MS);
	ck_assert_msg(r != NULL, "no 408 for a stalled body: %s",
	    th_error());
	ck_assert_int_eq(r->status, 408);
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "open after the 408");
	th_conn_close(c);
	ck_assert_msg(th_origin_complete(o) == 0, "the origin got a whole "
	    "request");
}
END_TEST

START_TEST(timeout_keepalive)
{
	th_conn_t	*c;
	th_resp_t	*r;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("")
	    SITE("keepalive_timeout = \"300ms\";")));

	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /id HTTP/1.1\r\nHost: localhost\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(!r->conn_close, "keep-alive refused");
	/* Idle now: closed without a byte. */
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "idle connection kept");
	ck_assert_msg(th_conn_pending(c) == 0, "%zu bytes before the idle "
	    "close", th_conn_pending(c));
	th_conn_close(c);
}
END_TEST

START_TEST(timeout_upstream_read)
{
	th_conn_t	*c;
	th_resp_t	*r;
	int		 port;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("read_timeout = \"500ms\";")
	    SITE("")));
	port = th_portn(1);

	/* No head in time: 504. */
	r = th_get(port, "/delay/3000");
	ck_assert_int_eq(r->status, 504);
	ck_assert_msg(th_wait_file_line(th_path("error.log"), "read_timeout",
	    TH_IO_MS) != NULL, "no read_timeout in the error log");

	/* The head in time, then silence: the body is cut short. */
	c = th_conn_open(port);
	th_conn_sendf(c, "GET /slow/3000 HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	r = th_conn_try_read(c, false, TH_IO_MS);
	ck_assert_msg(r == NULL, "a whole /slow/3000 response (status %d) "
	    "despite read_timeout", r ? r->status : 0);
	ck_assert_msg(th_match(th_error(), " after [0-9]+ of 10000 body "
	    "bytes$"), "not a truncated body: %s", th_error());
	th_conn_close(c);
}
END_TEST

/*
 * A listener on <port> that never accepts, with a full queue: listen(fd, 0)
 * queues one connection and the kernel drops the SYNs of later ones, so a
 * connection to it neither fails nor completes.  The sockets stay open until
 * the test process exits.
 */
static void
blackhole(int port)
{
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	int			 lfd, fd, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(lfd != -1 && bind(lfd, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && listen(lfd, 0) == 0, "blackhole on %d: %s",
	    port, strerror(errno));
	/* Fill the queue, and check that a third connection waits. */
	for (i = 0; i < 3; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
		ck_assert(fd != -1);
		ck_assert_msg(connect(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == 0 || errno == EINPROGRESS, "connect: %s",
		    strerror(errno));
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (i == 0)
			ck_assert_msg(poll(&pfd, 1, TH_IO_MS) == 1,
			    "the blackhole queued no connection");
		else if (i == 2)
			ck_assert_msg(poll(&pfd, 1, 300) == 0, "the blackhole "
			    "on %d accepts connections", port);
	}
}

START_TEST(timeout_connect)
{
	th_resp_t	*r;
	const char	*log = th_path("error.log");

	blackhole(th_portn(3));
	blackhole(th_portn(4));
	th_start(th_conf(TH_BASE
	    "upstreams = ( { name = \"origin\"; connect_timeout = \"300ms\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_3@\"; },\n"
	    "    { address = \"127.0.0.1:@PORT_4@\"; } ); } );\n"
	    SITE("")));

	r = th_get(th_portn(1), "/id");
	ck_assert_int_eq(r->status, 502);
	/* Each server was tried. */
	ck_assert_msg(th_wait_file_line(log, th_printf("127.0.0.1:%d: timed "
	    "out", th_portn(3)), TH_IO_MS) != NULL, "no connect timeout for "
	    "the 1st server:\n%s", th_read_file(log));
	ck_assert_msg(th_wait_file_line(log, th_printf("127.0.0.1:%d: timed "
	    "out", th_portn(4)), TH_IO_MS) != NULL, "no connect timeout for "
	    "the 2nd server:\n%s", th_read_file(log));
}
END_TEST

START_TEST(upstream_refused)
{
	th_resp_t	*r;

	/* Nothing listens on @PORT_2@. */
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("")));
	r = th_get(th_portn(1), "/id");
	ck_assert_int_eq(r->status, 502);
	ck_assert_msg(th_wait_file_line(th_path("error.log"),
	    th_printf("127.0.0.1:%d: Connection refused", th_portn(2)),
	    TH_IO_MS) != NULL, "no refused connection in the error log");
}
END_TEST

START_TEST(upstream_reset)
{
	th_conn_t	*c;
	th_resp_t	*r;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("") SITE("")));

	/* 100000 bytes of the announced 200000, then a reset. */
	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /reset/100000 HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	r = th_conn_try_read(c, false, TH_IO_MS);
	ck_assert_msg(r == NULL, "a whole response (status %d) from an "
	    "upstream that reset", r ? r->status : 0);
	ck_assert_msg(th_match(th_error(), " after [0-9]+ of 200000 "
	    "body bytes$"), "not a truncated body: %s", th_error());
	th_conn_close(c);
	ck_assert_msg(th_wait_file_line(th_path("error.log"),
	    "before the response was complete", TH_IO_MS) != NULL,
	    "the cut was not logged:\n%s",
	    th_read_file(th_path("error.log")));
}
END_TEST

START_TEST(retry_next_server)
{
	th_resp_t	*r;
	char		 body[1000];
	int		 port, i;

	/* The first server refuses (nothing on @PORT_3@). */
	th_origin_start(th_portn(2), "B");
	th_start(th_conf(TH_BASE
	    "upstreams = ( { name = \"origin\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_3@\"; },\n"
	    "    { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    SITE("")));
	port = th_portn(1);

	for (i = 0; i < 10; i++) {
		r = th_get(port, "/id");
		ck_assert_msg(r->status == 200, "GET %d: status %d", i + 1,
		    r->status);
		ck_assert_str_eq(r->body, "B");
	}
	/* Nothing was sent to the refusing server: a POST moves on too. */
	th_pattern_fill(body, sizeof(body), 0);
	for (i = 0; i < 2; i++) {
		r = th_req(port, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
		    sizeof(body), (int)sizeof(body), body);
		assert_pattern(r, sizeof(body), "POST /echo");
	}
	ck_assert_msg(th_find_line(th_read_file(th_path("error.log")),
	    th_printf("127.0.0.1:%d: Connection refused", th_portn(3))) !=
	    NULL, "the refusing server was never tried");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bounded memory */

/* VmRSS of <pid>, in kB. */
static long
vmrss_kb(pid_t pid)
{
	const char	*s, *line;
	long		 kb;

	s = th_read_file(th_printf("/proc/%d/status", (int)pid));
	ck_assert_msg(s != NULL, "no /proc/%d/status: the worker is gone",
	    (int)pid);
	line = th_find_line(s, "VmRSS:");
	ck_assert_msg(line != NULL && sscanf(line, "VmRSS: %ld", &kb) == 1,
	    "no VmRSS in /proc/%d/status", (int)pid);
	return kb;
}

static void
sample_rss(pid_t pid, long *max_kb)
{
	long	 kb = vmrss_kb(pid);

	if (kb > *max_kb)
		*max_kb = kb;
}

/* GET /bulk/<len> read as it comes, checked, sampling <worker>'s RSS. */
static void
download(int port, uint64_t len, pid_t worker, long *max_kb)
{
	static char	 buf[TH_BULK_BLOCK];
	th_conn_t	*c;
	th_resp_t	*r;
	uint64_t	 got = 0, next = 0;
	int64_t		 bad;
	ssize_t		 n;

	c = th_conn_open(port);
	th_conn_sendf(c, "GET /bulk/%" PRIu64 " HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n", len);
	r = th_conn_try_read(c, true, TH_IO_MS);
	ck_assert_msg(r != NULL, "GET /bulk/%" PRIu64 ": %s", len,
	    th_error());
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "Content-Length"),
	    th_printf("%" PRIu64, len));
	while (got < len) {
		n = th_conn_recv(c, buf, len - got < sizeof(buf) ?
		    (size_t)(len - got) : sizeof(buf), TH_IO_MS);
		ck_assert_msg(n > 0, "download: %s after %" PRIu64 " of %"
		    PRIu64 " bytes", n == 0 ? "EOF" : th_error(), got, len);
		bad = th_bulk_check(buf, (size_t)n, got);
		ck_assert_msg(bad == -1, "download: wrong byte at %" PRIu64,
		    got + (uint64_t)bad);
		got += (uint64_t)n;
		if (got >= next) {
			sample_rss(worker, max_kb);
			next += SAMPLE_EVERY;
		}
	}
	ck_assert_msg(th_conn_closed(c, TH_IO_MS) && th_conn_pending(c) == 0,
	    "download: no close, or bytes past the announced length");
	th_conn_close(c);
}

/* POST /discard of <len> bulk bytes written as fast as they go. */
static void
upload(int port, uint64_t len, pid_t worker, long *max_kb)
{
	static char	 buf[16 * TH_BULK_BLOCK];
	th_conn_t	*c;
	th_resp_t	*r;
	uint64_t	 sent = 0, next = 0;
	size_t		 i, n;

	for (i = 0; i < sizeof(buf) / TH_BULK_BLOCK; i++)
		memcpy(buf + i * TH_BULK_BLOCK, th_bulk(), TH_BULK_BLOCK);
	c = th_conn_open(port);
	th_conn_sendf(c, "POST /discard HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n", len);
	while (sent < len) {
		n = len - sent < sizeof(buf) ? (size_t)(len - sent) :
		    sizeof(buf);
		ck_assert_msg(th_conn_send(c, buf, n) == 0, "upload: %s after "
		    "%" PRIu64 " of %" PRIu64 " bytes", th_error(), sent, len);
		sent += n;
		if (sent >= next) {
			sample_rss(worker, max_kb);
			next += SAMPLE_EVERY;
		}
	}
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, th_printf("%" PRIu64 "\n", len));
	ck_assert_pstr_eq(th_header(r, "X-Discard-Bad"), "-1");
	th_conn_close(c);
}

START_TEST(bounded_memory)
{
	pid_t	 master, worker;
	long	 before, max_kb, after;
	int	 port;

	th_origin_start(th_portn(2), "A");
	master = th_start(th_conf(BASE_1W UPSTREAM("")
	    SITE("max_body_size = 0;")));
	port = th_portn(1);
	worker = th_worker(master);

	/* Warm up: the buffers and pipes a transfer uses now exist. */
	max_kb = 0;
	download(port, 8 << 20, worker, &max_kb);
	upload(port, 8 << 20, worker, &max_kb);
	before = max_kb = vmrss_kb(worker);

	download(port, GIB, worker, &max_kb);
	upload(port, GIB, worker, &max_kb);
	after = vmrss_kb(worker);
	if (after > max_kb)
		max_kb = after;
	fprintf(stderr, "bounded_memory: worker %d VmRSS %ld kB before, "
	    "at most %ld kB during 1 GiB each way, %ld kB after\n",
	    (int)worker, before, max_kb, after);
	ck_assert_msg(max_kb - before <= RSS_SLACK_KB, "the worker grew by "
	    "%ld kB (from %ld kB) over 1 GiB each way", max_kb - before,
	    before);
}
END_TEST

/*
 * A body large enough to be spliced: the head goes out with its first
 * bytes when they are there, but does not wait for them when the upstream
 * sends the head and then nothing for a while.
 */
START_TEST(splice_head)
{
	th_conn_t	*c;
	th_resp_t	*r;
	int64_t		 bad;
	int		 port;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(BASE_1W UPSTREAM("") SITE("")));
	port = th_portn(1);

	/* The head, then 60 s of silence: the client has the head long
	 * before the body starts. */
	c = th_conn_open(port);
	th_conn_sendf(c, "GET /slow/60000/1000000 HTTP/1.1\r\n"
	    "Host: localhost\r\nConnection: close\r\n\r\n");
	r = th_conn_try_read(c, true, TH_IO_MS);
	ck_assert_msg(r != NULL, "no head while the upstream holds back the "
	    "body: %s", th_error());
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "Content-Length"), "1000000");
	th_conn_close(c);

	/* Head and body a moment apart, and at once: the bytes arrive
	 * whole and in order either way. */
	r = th_get(port, "/slow/20/1000000");
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->body_len, 1000000);
	bad = th_pattern_check(r->body, r->body_len, 0);
	ck_assert_msg(bad == -1, "/slow/20/1000000: wrong byte at %" PRId64,
	    bad);
	r = th_get(port, "/size/1000000");
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->body_len, 1000000);
	bad = th_pattern_check(r->body, r->body_len, 0);
	ck_assert_msg(bad == -1, "/size/1000000: wrong byte at %" PRId64,
	    bad);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed requests */

/* <raw> on a new connection is answered with <status>, then closed. */
static void
refused(int port, int status, const char *what, const char *raw)
{
	th_conn_t	*c;
	th_resp_t	*r;

	c = th_conn_open(port);
	ck_assert_msg(th_conn_send(c, raw, strlen(raw)) == 0, "%s: %s", what,
	    th_error());
	r = th_conn_try_read(c, false, TH_IO_MS);
	ck_assert_msg(r != NULL, "%s: no response: %s", what, th_error());
	ck_assert_msg(r->status == status, "%s: status %d, expected %d", what,
	    r->status, status);
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "%s: connection left open",
	    what);
	th_conn_close(c);
}

START_TEST(malformed)
{
	th_origin_t	*o;
	char		*big, *p;
	int		 port, i;

	o = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE UPSTREAM("")
	    SITE("max_header_size = \"4k\";")));
	port = th_portn(1);

	refused(port, 400, "Content-Length with Transfer-Encoding",
	    "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
	refused(port, 400, "two equal Content-Length",
	    "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\nhello");
	refused(port, 400, "two different Content-Length",
	    "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\nhello!");
	refused(port, 400, "obs-fold",
	    "GET /id HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n");
	refused(port, 400, "a bare LF ending a field",
	    "GET /id HTTP/1.1\r\nHost: localhost\nX-A: 1\r\n\r\n");
	refused(port, 400, "bare LFs only",
	    "GET /id HTTP/1.1\nHost: localhost\n\n");

	/* A head of about 6k against max_header_size 4k. */
	big = th_alloc(8192);
	p = big + sprintf(big, "GET /id HTTP/1.1\r\nHost: localhost\r\n");
	for (i = 0; i < 6; i++) {
		p += sprintf(p, "X-Big-%d: ", i);
		memset(p, 'a', 1000);
		p += 1000;
		p += sprintf(p, "\r\n");
	}
	sprintf(p, "\r\n");
	refused(port, 431, "a 6k head", big);
	/* A request line longer than max_header_size. */
	p = big + sprintf(big, "GET /");
	memset(p, 'a', 5000);
	sprintf(p + 5000, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
	refused(port, 414, "a 5k request line", big);
	ck_assert_msg(th_origin_reqs(o) == 0, "the origin saw %" PRIu64
	    " of these requests:\n%s", th_origin_reqs(o),
	    th_read_file(th_origin_log(o)));

	/* The head is sound and may go ahead; the body is not. */
	refused(port, 400, "an invalid chunk size",
	    "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
	ck_assert_msg(th_origin_complete(o) == 0, "the origin answered a "
	    "request with an invalid chunk size");
}
END_TEST

int
main(void)
{
	Suite	*s;

	s = suite_create("30-engine");
	TH_TEST(s, forward_default);
	TH_TEST(s, forward_client_address);
	TH_TEST(s, forward_rfc7239);
	TH_TEST(s, forward_none);
	TH_TEST(s, header_rules);
	TH_TEST(s, pipelining);
	TH_TEST(s, pool_shared);
	TH_TEST(s, pool_keepalive_requests);
	TH_TEST(s, pool_off);
	TH_TEST(s, pool_stale);
	TH_TEST(s, expect_continue);
	TH_TEST(s, expect_too_large);
	TH_TEST(s, upgrade_tunnel);
	TH_TEST(s, upgrade_refused);
	TH_TEST(s, timeout_client_header);
	TH_TEST(s, timeout_client_body);
	TH_TEST(s, timeout_keepalive);
	TH_TEST(s, timeout_upstream_read);
	TH_TEST(s, timeout_connect);
	TH_TEST(s, upstream_refused);
	TH_TEST(s, upstream_reset);
	TH_TEST(s, retry_next_server);
	TH_TEST(s, bounded_memory);
	TH_TEST(s, splice_head);
	TH_TEST(s, malformed);
	return th_run(s);
}
