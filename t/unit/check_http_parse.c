/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the HTTP/1.x head parser and chunked decoder. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define MAX_HEAD	8192

static lnt_http_rc_t
parse(lnt_http_msg_t *m, bool response, const char *text, int *status)
{
	const char *why;

	lnt_http_msg_init(m, response);
	return lnt_http_parse_head(m, text, strlen(text), MAX_HEAD, status,
	    &why);
}

/* Feeding one byte at a time must give the same verdict as all at once. */
static lnt_http_rc_t
parse_bytewise(lnt_http_msg_t *m, const char *text, int *status)
{
	const char *why;
	size_t len = strlen(text);
	lnt_http_rc_t rc = LNT_HTTP_AGAIN;

	lnt_http_msg_init(m, false);
	for (size_t i = 1; i <= len && rc == LNT_HTTP_AGAIN; i++)
		rc = lnt_http_parse_head(m, text, i, MAX_HEAD, status, &why);
	return rc;
}

static bool
str_is(lnt_str_t s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

START_TEST(test_simple_get)
{
	lnt_http_msg_t m;
	int status;
	const char *req = "GET /a/b?x=1&y HTTP/1.1\r\nHost: Example.com:8080"
	    "\r\nUser-Agent:  curl/8 \r\nAccept: */*\r\n\r\nNEXT";

	ck_assert_int_eq(parse(&m, false, req, &status), LNT_HTTP_DONE);
	ck_assert(str_is(m.method, "GET"));
	ck_assert(str_is(m.target, "/a/b?x=1&y"));
	ck_assert(str_is(m.path, "/a/b"));
	ck_assert(str_is(m.query, "x=1&y"));
	ck_assert_int_eq(m.version, 11);
	ck_assert(str_is(m.host, "Example.com:8080"));
	ck_assert_uint_eq(m.nheaders, 3);
	ck_assert(str_is(m.headers[1].value, "curl/8"));
	ck_assert_uint_eq(m.head_len, strlen(req) - 4);
	ck_assert_int_eq(m.content_length, -1);
	ck_assert_int_eq(lnt_http_request_body(&m), LNT_BODY_NONE);
	ck_assert_int_eq(parse_bytewise(&m, req, &status), LNT_HTTP_DONE);
	ck_assert_uint_eq(m.head_len, strlen(req) - 4);
}
END_TEST

START_TEST(test_framing_and_connection)
{
	lnt_http_msg_t m;
	int status;

	ck_assert_int_eq(parse(&m, false, "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 42\r\n\r\n", &status), LNT_HTTP_DONE);
	ck_assert_int_eq(m.content_length, 42);
	ck_assert_int_eq(lnt_http_request_body(&m), LNT_BODY_LENGTH);
	ck_assert_int_eq(parse(&m, false, "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: Chunked\r\nConnection: close, X-Secret\r\n"
	    "X-Secret: 1\r\nX-Public: 2\r\nKeep-Alive: 5\r\n\r\n", &status),
	    LNT_HTTP_DONE);
	ck_assert(m.chunked);
	ck_assert(m.conn_close);
	ck_assert_int_eq(lnt_http_request_body(&m), LNT_BODY_CHUNKED);
	/* Transfer-Encoding, Connection, X-Secret, Keep-Alive are hop. */
	for (size_t i = 0; i < m.nheaders; i++)
		ck_assert_int_eq(m.headers[i].hop,
		    !str_is(m.headers[i].name, "X-Public") &&
		    !str_is(m.headers[i].name, "Host"));
	ck_assert_int_eq(parse(&m, false, "GET / HTTP/1.0\r\n"
	    "Connection: keep-alive\r\nExpect: 100-continue\r\n\r\n", &status),
	    LNT_HTTP_DONE);
	ck_assert_int_eq(m.version, 10);
	ck_assert(m.conn_keepalive);
	ck_assert(m.expect_continue);
	ck_assert_int_eq(m.host.len, 0);
}
END_TEST

START_TEST(test_absolute_form_and_leading_crlf)
{
	lnt_http_msg_t m;
	int status;

	ck_assert_int_eq(parse(&m, false, "\r\nGET http://Other.org/p?q "
	    "HTTP/1.1\r\nHost: ignored.example\r\n\r\n", &status),
	    LNT_HTTP_DONE);
	ck_assert(str_is(m.host, "Other.org"));
	ck_assert(str_is(m.path, "/p"));
	ck_assert(str_is(m.query, "q"));
	ck_assert_int_eq(parse(&m, false, "OPTIONS * HTTP/1.1\r\nHost: a\r\n"
	    "\r\n", &status), LNT_HTTP_DONE);
	ck_assert(str_is(m.path, "*"));
}
END_TEST

/* Each malformed request and the status it must get. */
static const struct {
	const char	*text;
	int		 status;
} bad_requests[] = {
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Content-Length: 5\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\n"
	  "Content-Length: 99999999999999999999999\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked"
	  "\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	  501 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip"
	  "\r\n\r\n", 501 },
	{ "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX-Bare: a\rb\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\nHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX-Nul: a\0b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX-Ctl: a\x01" "b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX-Space : b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nX(Bad): b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\n: novalue\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400 },
	{ "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
	{ "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / http/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
	{ "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505 },
	{ "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET http://user@h/ HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
	{ " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
};

START_TEST(test_bad_request)
{
	lnt_http_msg_t m;
	int status = 0;
	const char *why = NULL;
	const char *text = bad_requests[_i].text;
	/* Count the embedded NUL of the X-Nul row as part of the text. */
	size_t len = strlen(text);

	if (strstr(text, "X-Nul") != NULL)
		len += strlen(text + len + 1) + 1;
	lnt_http_msg_init(&m, false);
	ck_assert_msg(lnt_http_parse_head(&m, text, len, MAX_HEAD, &status,
	    &why) == LNT_HTTP_BAD, "row %d accepted", _i);
	ck_assert_msg(status == bad_requests[_i].status,
	    "row %d: status %d, expected %d (%s)", _i, status,
	    bad_requests[_i].status, why);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_limits)
{
	lnt_http_msg_t m;
	int status;
	const char *why;
	char big[300];

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	lnt_http_msg_init(&m, false);
	ck_assert_int_eq(lnt_http_parse_head(&m, big, sizeof(big), 256,
	    &status, &why), LNT_HTTP_BAD);
	ck_assert_int_eq(status, 414);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	lnt_http_msg_init(&m, false);
	ck_assert_int_eq(lnt_http_parse_head(&m, big, sizeof(big), 256,
	    &status, &why), LNT_HTTP_BAD);
	ck_assert_int_eq(status, 431);
	/* Under the limit it is merely incomplete. */
	lnt_http_msg_init(&m, false);
	ck_assert_int_eq(lnt_http_parse_head(&m, big, 200, 256, &status,
	    &why), LNT_HTTP_AGAIN);
}
END_TEST

START_TEST(test_too_many_headers)
{
	lnt_http_msg_t m;
	int status;
	const char *why;
	char *text = malloc(8192), *p = text;

	p += sprintf(p, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < LNT_HTTP_MAX_HEADERS; i++)
		p += sprintf(p, "X-%d: v\r\n", i);
	p += sprintf(p, "\r\n");
	lnt_http_msg_init(&m, false);
	ck_assert_int_eq(lnt_http_parse_head(&m, text, (size_t)(p - text),
	    8192, &status, &why), LNT_HTTP_BAD);
	ck_assert_int_eq(status, 431);
	free(text);
}
END_TEST

START_TEST(test_responses)
{
	lnt_http_msg_t m;
	int status;

	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 10\r\n\r\n", &status), LNT_HTTP_DONE);
	ck_assert_int_eq(m.status, 200);
	ck_assert(str_is(m.reason, "OK"));
	ck_assert_int_eq(lnt_http_response_body(&m, false), LNT_BODY_LENGTH);
	ck_assert_int_eq(lnt_http_response_body(&m, true), LNT_BODY_NONE);
	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 204\r\n\r\n", &status),
	    LNT_HTTP_DONE);
	ck_assert_int_eq(lnt_http_response_body(&m, false), LNT_BODY_NONE);
	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 304 Not Modified\r\n"
	    "Content-Length: 99\r\n\r\n", &status), LNT_HTTP_DONE);
	ck_assert_int_eq(lnt_http_response_body(&m, false), LNT_BODY_NONE);
	ck_assert_int_eq(parse(&m, true, "HTTP/1.0 200 OK\r\n\r\n", &status),
	    LNT_HTTP_DONE);
	ck_assert_int_eq(lnt_http_response_body(&m, false), LNT_BODY_CLOSE);
	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 100 Continue\r\n\r\n",
	    &status), LNT_HTTP_DONE);
	ck_assert_int_eq(lnt_http_response_body(&m, false), LNT_BODY_NONE);
	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &status), LNT_HTTP_DONE);
	ck_assert_int_eq(lnt_http_response_body(&m, false), LNT_BODY_CHUNKED);
	/* Responses need no Host; bad ones are the upstream's fault. */
	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 600 X\r\n\r\n", &status),
	    LNT_HTTP_BAD);
	ck_assert_int_eq(status, 502);
	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    &status), LNT_HTTP_BAD);
	ck_assert_int_eq(status, 502);
	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 2000 OK\r\n\r\n", &status),
	    LNT_HTTP_BAD);
	ck_assert_int_eq(parse(&m, true, "HTTP/1.1 200 OK\r\n"
	    "X: a\r\n b\r\n\r\n", &status), LNT_HTTP_BAD);
	ck_assert_int_eq(status, 502);
}
END_TEST

/* Decode <in> completely; returns the data, or NULL if it was rejected. */
static char *
dechunk(const char *in, size_t len, size_t *consumed, bool *done)
{
	lnt_chunked_t c;
	static char out[4096];
	size_t o = 0, i = 0, n;
	const char *why;

	lnt_chunked_init(&c);
	*done = false;
	while (i < len && !*done) {
		switch (lnt_chunked_step(&c, in + i, len - i, &n, &why)) {
		case LNT_CHUNK_BAD:
			return NULL;
		case LNT_CHUNK_DATA:
			memcpy(out + o, in + i, n);
			o += n;
			break;
		case LNT_CHUNK_DONE:
			*done = true;
			break;
		case LNT_CHUNK_FRAME:
			break;
		}
		i += n;
	}
	out[o] = '\0';
	*consumed = i;
	return out;
}

START_TEST(test_chunked_good)
{
	const char *in = "5\r\nhello\r\nA;ext=1\r\n, world!!!\r\n"
	    "0\r\nTrailer: x\r\n\r\nGET /next";
	size_t consumed;
	bool done;
	char *out = dechunk(in, strlen(in), &consumed, &done);

	ck_assert_ptr_nonnull(out);
	ck_assert(done);
	ck_assert_str_eq(out, "hello, world!!!");
	ck_assert_uint_eq(consumed, strlen(in) - strlen("GET /next"));
	in = "3 ;x\r\nabc\r\n0\r\n\r\n";
	out = dechunk(in, strlen(in), &consumed, &done);
	ck_assert_ptr_nonnull(out);
	ck_assert(done);
	ck_assert_str_eq(out, "abc");
}
END_TEST

static const char *const bad_chunks[] = {
	"5\nhello\r\n0\r\n\r\n",		/* bare LF after size */
	"5\r\nhelloX\r\n0\r\n\r\n",		/* data longer than size */
	"5\r\nhello\n0\r\n\r\n",		/* bare LF after data */
	"-5\r\nhello\r\n0\r\n\r\n",		/* sign */
	"\r\nhello\r\n0\r\n\r\n",		/* empty size */
	"fffffffffffffffff\r\n",		/* overflow */
	"0x5\r\nhello\r\n0\r\n\r\n",		/* 0x prefix */
	"5 \r\nhello\r\n0\r\n\r\n",		/* BWS not followed by ';' */
	"0\r\nTrailer: x\n\r\n",		/* bare LF in trailer */
	"0\r\n\rX",				/* bad final CRLF */
	"5;a\x01\r\nhello\r\n0\r\n\r\n",	/* control in extension */
};

START_TEST(test_chunked_bad)
{
	size_t consumed;
	bool done;

	ck_assert_msg(dechunk(bad_chunks[_i], strlen(bad_chunks[_i]),
	    &consumed, &done) == NULL, "row %d accepted", _i);
}
END_TEST

START_TEST(test_chunked_bytewise)
{
	const char *in = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
	lnt_chunked_t c;
	char out[64];
	size_t o = 0, n;
	const char *why;
	lnt_chunk_rc_t rc = LNT_CHUNK_FRAME;

	lnt_chunked_init(&c);
	for (size_t i = 0; i < strlen(in); i++) {
		rc = lnt_chunked_step(&c, in + i, 1, &n, &why);
		ck_assert_int_ne(rc, LNT_CHUNK_BAD);
		ck_assert_uint_eq(n, 1);
		if (rc == LNT_CHUNK_DATA)
			out[o++] = in[i];
	}
	out[o] = '\0';
	ck_assert_int_eq(rc, LNT_CHUNK_DONE);
	ck_assert_str_eq(out, "Wikipedia");
	ck_assert_int_eq(c.total, 9);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http_parse");
	TCase *head = tcase_create("head");
	TCase *chunk = tcase_create("chunked");
	SRunner *sr;
	int failed;

	tcase_add_test(head, test_simple_get);
	tcase_add_test(head, test_framing_and_connection);
	tcase_add_test(head, test_absolute_form_and_leading_crlf);
	tcase_add_loop_test(head, test_bad_request, 0,
	    (int)(sizeof(bad_requests) / sizeof(bad_requests[0])));
	tcase_add_test(head, test_limits);
	tcase_add_test(head, test_too_many_headers);
	tcase_add_test(head, test_responses);
	tcase_add_test(chunk, test_chunked_good);
	tcase_add_loop_test(chunk, test_chunked_bad, 0,
	    (int)(sizeof(bad_chunks) / sizeof(bad_chunks[0])));
	tcase_add_test(chunk, test_chunked_bytewise);
	suite_add_tcase(s, head);
	suite_add_tcase(s, chunk);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
