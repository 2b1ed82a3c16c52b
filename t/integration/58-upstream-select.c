/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The UPSTREAM_SELECT phase through the real daemon: a module (t/modules/
 * pick.c) chooses the server of each attempt from a request header, sees
 * a refused server as tried on the retry, and may refuse the request; with
 * more than 64 servers each is still tried once, and the request ends.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "th.h"

/* Origins A and B, then a port nothing listens on (index 2). */
static void
pick_start(void)
{
	th_origin_start(th_portn(2), "A");
	th_origin_start(th_portn(3), "B");
	th_start(th_conf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"pick\" ];\n"
	    "upstreams = ( { name = \"o\"; pick_header = \"X-Pick\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; },\n"
	    "              { address = \"127.0.0.1:@PORT_3@\"; },\n"
	    "              { address = \"127.0.0.1:@PORT_4@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n"));
	/* Attempts on the dead server are logged; they are the point. */
	th_allow_log("refused");
}

static th_resp_t *
get_picked(const char *pick)
{
	return th_req(th_portn(1), "GET /id HTTP/1.1\r\nHost: localhost\r\n"
	    "X-Pick: %s\r\nConnection: close\r\n\r\n", pick);
}

/* The first error log line holding <needle>, waited for. */
static const char *
log_line(const char *needle)
{
	const char *line = th_wait_file_line(th_path("error.log"), needle,
	    TH_IO_MS);

	ck_assert_msg(line != NULL, "no \"%s\" in the error log:\n%s", needle,
	    th_read_file(th_path("error.log")));
	return line;
}

START_TEST(module_chooses_server)
{
	pick_start();
	/* Round-robin would alternate: the module's choice holds. */
	for (int i = 0; i < 6; i++) {
		th_resp_t *r = get_picked("1");

		ck_assert_int_eq(r->status, 200);
		ck_assert_str_eq(r->body, "B");
	}
	for (int i = 0; i < 4; i++) {
		th_resp_t *r = get_picked("0");

		ck_assert_int_eq(r->status, 200);
		ck_assert_str_eq(r->body, "A");
	}
	log_line(th_printf("pick: chose 1 (127.0.0.1:%d) of 3",
	    th_portn(3)));
}
END_TEST

START_TEST(retry_runs_the_phase_again)
{
	th_resp_t *r;

	pick_start();
	/* Server 2 refuses: the retry asks the module again, which now sees
	 * 2 as tried and takes its next choice. */
	r = get_picked("2, 1");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "B");
	log_line(th_printf("pick: chose 2 (127.0.0.1:%d) of 3",
	    th_portn(4)));
	log_line(th_printf("pick: chose 1 (127.0.0.1:%d) of 3",
	    th_portn(3)));
	/* Only the dead one listed: after it, lintel's own choice. */
	r = get_picked("2");
	ck_assert_int_eq(r->status, 200);
	ck_assert(strcmp(r->body, "A") == 0 || strcmp(r->body, "B") == 0);
	log_line("pick: none usable of 3");
}
END_TEST

START_TEST(module_refuses_and_default_stays)
{
	th_resp_t *r;
	bool seen_a = false, seen_b = false;

	pick_start();
	r = get_picked("none");
	ck_assert_int_eq(r->status, 503);
	log_line("pick: no server wanted");
	/* Without the header lintel's round-robin spreads the requests. */
	for (int i = 0; i < 9 && !(seen_a && seen_b); i++) {
		r = th_get(th_portn(1), "/id");
		ck_assert_int_eq(r->status, 200);
		seen_a |= strcmp(r->body, "A") == 0;
		seen_b |= strcmp(r->body, "B") == 0;
	}
	ck_assert(seen_a && seen_b);
	/* A request body left unread by the refusal ends keep-alive. */
	r = th_req(th_portn(1), "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
	    "X-Pick: none\r\nContent-Length: 5\r\n\r\nhello");
	ck_assert_int_eq(r->status, 503);
	ck_assert(r->conn_close);
}
END_TEST

START_TEST(key_only_in_upstreams)
{
	const char *conf = th_conf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"pick\" ];\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  pick_header = \"X-Pick\";\n"
	    "  routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n");
	char *out, *err;
	int rc = th_lintel(&out, &err, "-t", "-c", conf, NULL);

	ck_assert_int_eq(rc, 1);
	ck_assert_msg(th_match(err,
	    "lintel\\.conf:7: pick_header: .*not allowed in a site"),
	    "unexpected: %s", err);
}
END_TEST

/* <n> lines of the error log holding <needle>. */
static int
log_count(const char *needle)
{
	const char *log = th_read_file(th_path("error.log")), *p = log;
	int n = 0;

	while (p != NULL && (p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/*
 * 70 servers, more than the 64 a single word of tried bits holds, all
 * refusing: each is tried once, whether lintel or the module chooses, and
 * the request ends with 502 instead of trying the last ones forever.
 */
START_TEST(more_than_64_servers_each_tried_once)
{
	enum { NSERVERS = 70 };
	const char *servers = "";
	th_resp_t *r;

	for (int i = 0; i < NSERVERS; i++)
		servers = th_printf("%s%s{ address = \"127.0.0.1:@PORT_4@\"; }",
		    servers, i > 0 ? ", " : "");
	th_start(th_conf(th_printf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"pick\" ];\n"
	    "upstreams = ( { name = \"o\"; pick_header = \"X-Pick\";\n"
	    "  servers = ( %s ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n",
	    servers)));
	th_allow_log("refused");
	r = th_get(th_portn(1), "/id");
	ck_assert_int_eq(r->status, 502);
	ck_assert_int_eq(log_count("connect() to"), NSERVERS);
	/* The module takes server 66 first; on each retry, and once more
	 * when all are tried, it sees 66 as tried. */
	r = get_picked("66");
	ck_assert_int_eq(r->status, 502);
	ck_assert_int_eq(log_count("pick: chose 66"), 1);
	ck_assert_int_eq(log_count("pick: none usable of 70"), NSERVERS);
	ck_assert_int_eq(log_count("connect() to"), 2 * NSERVERS);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("58-upstream-select");

	TH_TEST(s, module_chooses_server);
	TH_TEST(s, retry_runs_the_phase_again);
	TH_TEST(s, module_refuses_and_default_stays);
	TH_TEST(s, key_only_in_upstreams);
	TH_TEST(s, more_than_64_servers_each_tried_once);
	return th_run(s);
}
