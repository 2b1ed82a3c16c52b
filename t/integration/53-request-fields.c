/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Modules changing the request the upstream receives (lnt_req_add_header,
 * lnt_req_set_header) through the real daemon, with t/modules/reqhdr.c:
 * what the origin gets, what the module reads back, what lintel refuses.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "th.h"

/* How many lines of <head> start with <prefix>. */
static int
count_lines(const char *head, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *p = head; p != NULL && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		n += strncmp(p, prefix, len) == 0;
	}
	return n;
}

static void
reqhdr_start(void)
{
	th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"reqhdr\" ];\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = (\n"
	    "    { path = \"/headers/\"; upstream = \"o\";\n"
	    "      request_headers = { set = [ \"X-Rule: rule\","
	    " \"X-Kept: rule\" ]; };\n"
	    "      reqhdr = ( \"set X-A: one\", \"add X-B: two\",\n"
	    "                 \"add X-B: three\", \"remove X-C\",\n"
	    "                 \"set X-Rule: module\",\n"
	    "                 \"set X-Forwarded-For: 192.0.2.9\",\n"
	    "                 \"set Host: backend.test\",\n"
	    "                 \"add X-D: first\", \"set X-D: second\",\n"
	    "                 \"set Content-Length: 5\", \"add Host: x\",\n"
	    "                 \"set Bad Name: x\" ); },\n"
	    "    { path = \"/answer\"; upstream = \"o\";\n"
	    "      reqhdr_answer = true; },\n"
	    "    { path = \"/\"; upstream = \"o\"; } ); } );\n"));
}

/* The origin's copy of the request head, for /headers/<tag>. */
static th_resp_t *
get_headers(const char *tag)
{
	return th_req(th_portn(1), "GET /headers/%s HTTP/1.1\r\n"
	    "Host: front.test\r\nX-B: client-b\r\nX-C: client-c\r\n"
	    "X-A: client-a\r\nX-Forwarded-For: 203.0.113.1\r\n"
	    "Connection: close\r\n\r\n", tag);
}

START_TEST(upstream_gets_the_changes)
{
	th_resp_t *r;
	const char *head;

	reqhdr_start();
	r = get_headers("one");
	ck_assert_int_eq(r->status, 200);
	head = r->body;
	/* Replaced, added after the client's, removed. */
	ck_assert_ptr_nonnull(th_find_line(head, "X-A: one"));
	ck_assert_ptr_null(strstr(head, "client-a"));
	ck_assert_ptr_nonnull(th_find_line(head, "X-B: client-b"));
	ck_assert_ptr_nonnull(th_find_line(head, "X-B: two"));
	ck_assert_ptr_nonnull(th_find_line(head, "X-B: three"));
	ck_assert_ptr_null(strstr(head, "X-C:"));
	/* A module's set beats the route's rule of that name only. */
	ck_assert_ptr_nonnull(th_find_line(head, "X-Rule: module"));
	ck_assert_ptr_null(strstr(head, "X-Rule: rule"));
	ck_assert_ptr_nonnull(th_find_line(head, "X-Kept: rule"));
	/* lintel's own X-Forwarded-For and Host give way. */
	ck_assert_ptr_nonnull(th_find_line(head,
	    "X-Forwarded-For: 192.0.2.9"));
	ck_assert_int_eq(count_lines(head, "X-Forwarded-For:"), 1);
	ck_assert_ptr_nonnull(th_find_line(head, "Host: backend.test"));
	ck_assert_int_eq(count_lines(head, "Host:"), 1);
	/* A set after an add of the same name leaves the set. */
	ck_assert_ptr_nonnull(th_find_line(head, "X-D: second"));
	ck_assert_ptr_null(strstr(head, "X-D: first"));
	/* Framing fields and bad names are refused, and not sent. */
	ck_assert_ptr_null(strstr(head, "Content-Length"));
	ck_assert_pstr_eq(th_header(r, "X-Reqhdr-Refused"),
	    "Content-Length;Host;Bad Name;");
}
END_TEST

START_TEST(module_reads_the_changes)
{
	th_resp_t *r;

	reqhdr_start();
	r = get_headers("two");
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "X-Reqhdr-Seen"),
	    "X-A=one;X-B=client-b|two|three;X-B=client-b|two|three;X-C=;"
	    "X-Rule=module;X-Forwarded-For=192.0.2.9;Host=backend.test;"
	    "X-D=second;X-D=second;Content-Length=;Host=backend.test;"
	    "Bad Name=;");
	/* The next request starts from what its client sent. */
	r = th_get(th_portn(1), "/headers");
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_null(th_header(r, "X-Reqhdr-Seen"));
	ck_assert_ptr_null(strstr(r->body, "X-A:"));
}
END_TEST

START_TEST(keepalive_requests_do_not_share_changes)
{
	th_conn_t *c;
	th_resp_t *r;

	reqhdr_start();
	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /headers/a HTTP/1.1\r\nHost: h\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(th_find_line(r->body, "X-A: one"));
	th_conn_sendf(c, "GET /headers HTTP/1.1\r\nHost: h\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_null(th_header(r, "X-Reqhdr-Seen"));
	ck_assert_ptr_null(strstr(r->body, "X-A:"));
	ck_assert_ptr_nonnull(th_find_line(r->body, "Host: h"));
	th_conn_close(c);
}
END_TEST

START_TEST(request_memory_outlives_an_answering_handler)
{
	th_resp_t *r;
	const char *log, *after, *cleanup;

	reqhdr_start();
	r = th_get(th_portn(1), "/answer");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "answered\n");
	after = th_log_line("reqhdr: after the answer: ctx kept, tag answered");
	ck_assert_ptr_nonnull(after);
	th_log_line("reqhdr: cleanup of answered");
	/* The cleanup runs once the handler has returned, not under it. */
	log = th_read_file(th_path("error.log"));
	after = strstr(log, "reqhdr: after the answer");
	cleanup = strstr(log, "reqhdr: cleanup of answered");
	ck_assert(after != NULL && cleanup != NULL && after < cleanup);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("53-request-fields");

	TH_TEST(s, upstream_gets_the_changes);
	TH_TEST(s, module_reads_the_changes);
	TH_TEST(s, keepalive_requests_do_not_share_changes);
	TH_TEST(s, request_memory_outlives_an_answering_handler);
	return th_run(s);
}
