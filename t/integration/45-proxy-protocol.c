/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PROXY protocol through the real daemon: raw clients that send a
 * version 1 or version 2 header (whole or in pieces) and then requests;
 * the access log's $proxy_protocol_addr and $proxy_protocol_port; a
 * missing, invalid, truncated or late header closing the connection
 * without a response; a tls listener, where the header comes before the
 * handshake (OpenSSL in this process, on the socket the header went out
 * on); and the acl module taking the announced client from a trusted
 * peer only.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "th.h"

#define V2_SIG		"\r\n\r\n\0\r\nQUIT\n"

/* The origin "A" on @PORT_9@. */
#define UPS \
	"upstreams = ( { name = \"o\";\n" \
	"  servers = ( { address = \"127.0.0.1:@PORT_9@\"; } ); } );\n"
#define ROUTES	"routes = ( { path = \"/\"; upstream = \"o\"; } );"
#define ACCESS_LOG \
	"access_log = { path = \"@TMPDIR@/access.log\"; format = " \
	"\"$remote_addr pp=$proxy_protocol_addr port=$proxy_protocol_port " \
	"$request $status\"; };\n"

static th_origin_t	*origin;

/* A GET of <path> on a kept-alive connection. */
static const char *
get(const char *path)
{
	return th_printf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
}

/* A version 2 header into <out>: <ver_cmd>, <fam>, <blen> bytes of block. */
static size_t
v2(char *out, unsigned char ver_cmd, unsigned char fam, const void *block,
    size_t blen)
{
	memcpy(out, V2_SIG, 12);
	out[12] = (char)ver_cmd;
	out[13] = (char)fam;
	out[14] = (char)(blen >> 8);
	out[15] = (char)blen;
	if (blen > 0)
		memcpy(out + 16, block, blen);
	return 16 + blen;
}

/* A v2 PROXY TCP6 header from <src> port <sport>, with one TLV. */
static size_t
v2_tcp6(char *out, const char *src, unsigned sport)
{
	unsigned char block[64];

	memset(block, 0, sizeof(block));
	ck_assert(inet_pton(AF_INET6, src, block) == 1);
	ck_assert(inet_pton(AF_INET6, "2001:db8::1", block + 16) == 1);
	block[32] = (unsigned char)(sport >> 8);
	block[33] = (unsigned char)sport;
	block[34] = 0x01;
	block[35] = 0xbb;
	/* An AWS-style TLV (type 0xEA) the server must skip. */
	memcpy(block + 36, "\xea\x00\x05vpc-1", 8);
	return v2(out, 0x21, 0x21, block, 44);
}

/* Send <len> bytes of <buf> on <c>, failing the test on an error. */
static void
send_raw(th_conn_t *c, const void *buf, size_t len)
{
	ck_assert_msg(th_conn_send(c, buf, len) == 0, "send: %s",
	    strerror(errno));
}

/* The access log line holding <needle>, waited for. */
static const char *
access_line(const char *needle)
{
	const char *line = th_wait_file_line(th_path("access.log"), needle,
	    TH_IO_MS);

	ck_assert_msg(line != NULL, "no \"%s\" in the access log:\n%s", needle,
	    th_read_file(th_path("access.log")));
	return line;
}

/* The error log line holding <needle>, waited for. */
static const char *
error_line(const char *needle)
{
	const char *line = th_wait_file_line(th_path("error.log"), needle,
	    TH_IO_MS);

	ck_assert_msg(line != NULL, "no \"%s\" in the error log:\n%s", needle,
	    th_read_file(th_path("error.log")));
	return line;
}

/* <c> is closed by lintel without a byte of response. */
static void
closed_silently(th_conn_t *c, const char *what)
{
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "%s: still open", what);
	ck_assert_msg(th_conn_pending(c) == 0, "%s: %zu bytes of response",
	    what, th_conn_pending(c));
	th_conn_close(c);
}

/* A proxy_protocol listener on @PORT_1@ and a plain one on @PORT_2@. */
static void
start_pp(const char *site_extra)
{
	origin = th_origin_start(th_portn(9), "A");
	th_start(th_conf(th_printf(TH_BASE ACCESS_LOG UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ proxy_protocol\"; %s "
	    ROUTES " },\n"
	    "  { listen = \"127.0.0.1:@PORT_2@\"; " ROUTES " } );\n",
	    site_extra)));
}

START_TEST(v1_and_v2_headers)
{
	int port = th_portn(1);
	th_conn_t *c;
	th_resp_t *r;
	char hdr[128];
	size_t n;
	const char *line;

	start_pp("request_headers = { set = [ "
	    "\"X-Real-IP: $proxy_protocol_addr\", "
	    "\"X-Real-Port: $proxy_protocol_port\" ]; };");
	/* v1 TCP4, then a second request on the same connection: the
	 * header came once and names the client for both. */
	c = th_conn_open(port);
	th_conn_sendf(c, "PROXY TCP4 192.0.2.10 127.0.0.1 56324 %d\r\n%s",
	    port, get("/id?v1-first"));
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "A");
	th_conn_sendf(c, "%s", get("/headers?v1-second"));
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	/* $remote_addr and X-Forwarded-For stay the TCP peer. */
	ck_assert_msg(strstr(r->body, "X-Forwarded-For: 127.0.0.1\r\n") !=
	    NULL, "%s", r->body);
	/* The announced client goes upstream where the config says. */
	ck_assert_msg(strstr(r->body, "X-Real-IP: 192.0.2.10\r\n") != NULL &&
	    strstr(r->body, "X-Real-Port: 56324\r\n") != NULL, "%s", r->body);
	th_conn_close(c);
	line = access_line("v1-first");
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 pp=192\\.0\\.2\\.10 "
	    "port=56324 GET /id\\?v1-first HTTP/1\\.1 200$"), "%s", line);
	line = access_line("v1-second");
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 pp=192\\.0\\.2\\.10 "
	    "port=56324 "), "%s", line);

	/* v2 TCP6 with a TLV, sent in three pieces. */
	n = v2_tcp6(hdr, "2001:db8::42", 40000);
	c = th_conn_open(port);
	send_raw(c, hdr, 5);
	th_nap();
	send_raw(c, hdr + 5, 20);
	th_nap();
	send_raw(c, hdr + 25, n - 25);
	th_conn_sendf(c, "GET /id?v2-tcp6 HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	th_conn_close(c);
	line = access_line("v2-tcp6");
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 pp=2001:db8::42 "
	    "port=40000 GET "), "%s", line);

	/* v2 LOCAL (a balancer's health check) and v1 UNKNOWN: no
	 * address, the request is served all the same. */
	n = v2(hdr, 0x20, 0x00, NULL, 0);
	n += (size_t)snprintf(hdr + n, sizeof(hdr) - n, "GET /id?v2-local "
	    "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	r = th_try_request(port, hdr, n);
	ck_assert_msg(r != NULL, "%s", th_error());
	ck_assert_int_eq(r->status, 200);
	line = access_line("v2-local");
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 pp=- port=- GET "),
	    "%s", line);
	r = th_req(port, "PROXY UNKNOWN\r\nGET /id?v1-unknown HTTP/1.1\r\n"
	    "Host: x\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);
	line = access_line("v1-unknown");
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 pp=- port=- GET "),
	    "%s", line);

	/* The listener without the flag takes plain requests, and a
	 * PROXY line there is just a bad request. */
	r = th_req(th_portn(2), "GET /id?plain HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);
	line = access_line("plain");
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 pp=- port=- GET "),
	    "%s", line);
	r = th_req(th_portn(2), "PROXY TCP4 192.0.2.10 127.0.0.1 1 2\r\n"
	    "GET /id HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 400);
	ck_assert_int_eq(th_origin_count(origin, "GET /id?"), 5);
}
END_TEST

START_TEST(bad_headers_close)
{
	int port = th_portn(1);
	th_conn_t *c;
	char hdr[128];
	size_t n;

	start_pp("client_header_timeout = \"1s\";");
	/* No header at all: a plain request is not answered. */
	c = th_conn_open(port);
	th_conn_sendf(c, "%s", get("/id"));
	closed_silently(c, "no header");
	error_line("PROXY protocol: not a PROXY protocol header; connection "
	    "closed");

	/* A broken v1 line. */
	c = th_conn_open(port);
	th_conn_sendf(c, "PROXY TCP4 192.0.2.300 127.0.0.1 1 2\r\n%s",
	    get("/id"));
	closed_silently(c, "bad v1 address");
	error_line("PROXY protocol: PROXY v1: bad source address");

	/* A v2 header of an unknown version. */
	n = v2(hdr, 0x31, 0x11, "123456789012", 12);
	c = th_conn_open(port);
	send_raw(c, hdr, n);
	closed_silently(c, "v2 version 3");
	error_line("PROXY protocol: PROXY v2: unsupported version");

	/* Truncated: the client shuts down in the middle of the header. */
	c = th_conn_open(port);
	th_conn_sendf(c, "PROXY TCP4 192.0.2.1 ");
	th_nap();
	ck_assert(shutdown(th_conn_fd(c), SHUT_WR) == 0);
	closed_silently(c, "truncated");
	error_line("in the middle of the header");

	/* Too slow: client_header_timeout bounds the header. */
	c = th_conn_open(port);
	th_conn_sendf(c, "PROXY TCP4 192.0.2.1 ");
	closed_silently(c, "stalled");
	error_line("PROXY protocol: no complete header within "
	    "client_header_timeout");

	/* Nothing got through to the origin, and lintel still serves. */
	ck_assert_int_eq(th_origin_reqs(origin), 0);
	ck_assert_int_eq(th_req(port, "PROXY TCP4 192.0.2.1 127.0.0.1 1 2\r\n"
	    "GET /id HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")->status,
	    200);
}
END_TEST

/* ------------------------------------------------------------------ */
/* TLS after the header */

/* A self-signed certificate for pp.test, made with the openssl CLI. */
static void
make_cert(void)
{
	const char *argv[] = { "sh", "-c", NULL, NULL };
	char *out, *err;
	int rc;

	argv[2] = th_printf("cd '%s' && openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout pp.key "
	    "-out pp.pem -days 2 -subj /CN=pp.test "
	    "-addext subjectAltName=DNS:pp.test 2>&1 && chmod 600 pp.key",
	    th_tmpdir());
	rc = th_exec(argv, &out, &err);
	ck_assert_msg(rc == 0, "openssl exited %d: %s%s", rc, out, err);
}

static int
connect_port(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 15 };
	int fd;

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	/* Every wait is bounded: a stuck server fails the test. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect: %s", strerror(errno));
	return fd;
}

/*
 * Send the <hlen> bytes <hdr> in the clear, then do a TLS handshake on
 * the same socket and GET <path>: the whole response, or NULL with the
 * reason in <why> when the handshake or the exchange failed.
 */
static const char *
tls_get(int port, const void *hdr, size_t hlen, const char *path,
    char *why, size_t whylen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int fd = connect_port(port);
	char buf[8192], *req;
	size_t len = 0, n;
	const char *res = NULL;
	SSL *ssl;

	ck_assert_ptr_nonnull(ctx);
	ck_assert(SSL_CTX_load_verify_locations(ctx, th_path("pp.pem"),
	    NULL) == 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ck_assert(hlen == 0 || write(fd, hdr, hlen) == (ssize_t)hlen);
	ssl = SSL_new(ctx);
	ck_assert_ptr_nonnull(ssl);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "pp.test");
	SSL_set1_host(ssl, "pp.test");
	if (SSL_connect(ssl) != 1) {
		snprintf(why, whylen, "handshake: %s",
		    ERR_error_string(ERR_get_error(), NULL));
		goto out;
	}
	req = th_printf("GET %s HTTP/1.1\r\nHost: pp.test\r\n"
	    "Connection: close\r\n\r\n", path);
	if (SSL_write_ex(ssl, req, strlen(req), &n) != 1) {
		snprintf(why, whylen, "SSL_write failed");
		goto out;
	}
	while (len < sizeof(buf) - 1 &&
	    SSL_read_ex(ssl, buf + len, sizeof(buf) - 1 - len, &n) == 1)
		len += n;
	buf[len] = '\0';
	res = th_strdup(buf);
out:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return res;
}

START_TEST(tls_after_header)
{
	int port = th_portn(1);
	char hdr[128], why[512] = "";
	const char *res, *line;
	size_t n;

	make_cert();
	origin = th_origin_start(th_portn(9), "A");
	th_start(th_conf(TH_BASE ACCESS_LOG UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls proxy_protocol\";\n"
	    "  names = \"pp.test\";\n"
	    "  tls = { certificates = ( { cert = \"@TMPDIR@/pp.pem\"; "
	    "key = \"@TMPDIR@/pp.key\"; } ); };\n"
	    "  " ROUTES " } );\n"));

	n = (size_t)snprintf(hdr, sizeof(hdr), "PROXY TCP4 198.51.100.9 "
	    "127.0.0.1 4242 443\r\n");
	res = tls_get(port, hdr, n, "/id?tls-v1", why, sizeof(why));
	ck_assert_msg(res != NULL, "%s", why);
	ck_assert_msg(strncmp(res, "HTTP/1.1 200 ", 13) == 0, "%s", res);
	line = access_line("tls-v1");
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 pp=198\\.51\\.100\\.9 "
	    "port=4242 GET "), "%s", line);

	n = v2_tcp6(hdr, "2001:db8::77", 1234);
	res = tls_get(port, hdr, n, "/id?tls-v2", why, sizeof(why));
	ck_assert_msg(res != NULL, "%s", why);
	ck_assert_msg(strncmp(res, "HTTP/1.1 200 ", 13) == 0, "%s", res);
	line = access_line("tls-v2");
	ck_assert_msg(th_match(line, "^127\\.0\\.0\\.1 pp=2001:db8::77 "
	    "port=1234 GET "), "%s", line);

	/* A client that starts with its ClientHello is refused. */
	res = tls_get(port, NULL, 0, "/id?tls-none", why, sizeof(why));
	ck_assert_msg(res == NULL, "served without a header: %s", res);
	error_line("PROXY protocol: not a PROXY protocol header");
	ck_assert_int_eq(th_origin_count(origin, "GET /id?tls-none"), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* acl: the announced client, from trusted peers only */

START_TEST(acl_trusted_peer)
{
	const char *line;
	int trusting = th_portn(1), other = th_portn(3);

	origin = th_origin_start(th_portn(9), "A");
	th_start(th_conf(TH_BASE ACCESS_LOG
	    "module_path = \"@BUILDDIR@/modules/acl/.libs\";\n"
	    "modules = [ \"acl\" ];\n"
	    "trusted_proxies = [ \"127.0.0.1\", \"10.0.0.0/8\" ];\n" UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ proxy_protocol\";\n"
	    "    acl = ( { allow = \"192.0.2.0/24\"; },\n"
	    "      { deny = \"all\"; } );\n"
	    "    " ROUTES " },\n"
	    "  { listen = \"127.0.0.1:@PORT_3@ proxy_protocol\";\n"
	    "    trusted_proxies = \"10.0.0.0/8\";\n"
	    "    acl = ( { allow = \"192.0.2.0/24\"; },\n"
	    "      { deny = \"all\"; } );\n"
	    "    " ROUTES " } );\n"));

#define PP_GET(port, src, hdrs) \
	th_req((port), "PROXY TCP4 %s 127.0.0.1 5555 80\r\n" \
	    "GET /id HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", \
	    (src), (hdrs))->status

	/* The trusted peer (127.0.0.1) names the client. */
	ck_assert_int_eq(PP_GET(trusting, "192.0.2.7", ""), 200);
	ck_assert_int_eq(PP_GET(trusting, "198.51.100.1", ""), 403);
	line = error_line("via a trusted proxy");
	ck_assert_msg(th_match(line, "403: acl: denied .*\\(client "
	    "198\\.51\\.100\\.1 via a trusted proxy\\)"), "%s", line);
	/* The announced client is itself a trusted proxy: X-Forwarded-For
	 * goes on from it. */
	ck_assert_int_eq(PP_GET(trusting, "10.1.2.3",
	    "X-Forwarded-For: 192.0.2.8\r\n"), 200);
	ck_assert_int_eq(PP_GET(trusting, "10.1.2.3", ""), 403);
	/* It is not: what it forwards is not believed. */
	ck_assert_int_eq(PP_GET(trusting, "198.51.100.1",
	    "X-Forwarded-For: 192.0.2.8\r\n"), 403);
	/* LOCAL: no address announced, the peer is the client. */
	ck_assert_int_eq(th_req(trusting, "PROXY UNKNOWN\r\nGET /id HTTP/1.1"
	    "\r\nHost: x\r\nConnection: close\r\n\r\n")->status, 403);

	/* A site whose trusted_proxies leave out the peer ignores it. */
	ck_assert_int_eq(PP_GET(other, "192.0.2.7", ""), 403);
	ck_assert_int_eq(PP_GET(other, "192.0.2.7",
	    "X-Forwarded-For: 192.0.2.8\r\n"), 403);
#undef PP_GET
	ck_assert_int_eq(th_origin_count(origin, "GET /id "), 2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("45-proxy-protocol");

	TH_TEST(s, v1_and_v2_headers);
	TH_TEST(s, bad_headers_close);
	TH_TEST(s, tls_after_header);
	TH_TEST(s, acl_trusted_peer);
	return th_run(s);
}
