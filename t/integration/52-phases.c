/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Module phases through the real daemon, with the phases test module
 * (t/modules/phases.c): a request suspended in ACCESS and resumed by a
 * timer, alone, several at once and on keep-alive; a client leaving while
 * suspended; per-request state carried across phases; variables in a
 * handler and in the access log; CONNECT refusing; a reload refused by a
 * module; variable names that clash.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th.h"

#define NCONC	8	/* requests suspended at the same time */

/* The trail of a proxied request that waited in ACCESS. */
#define RESUMED_TRAIL \
	"post_read,rewrite,access,resumed,access_after,content"

static th_origin_t	*origin;

/*
 * The test config, with <top> at the top level: /size/ waits 200 ms in
 * ACCESS, /long/ a minute, /answer/ is answered by the module while
 * suspended, /nothing/ is dropped by it, /early/ is resumed by the
 * handler before it suspends, /vars answers from CONTENT.
 */
static const char *
phases_conf(const char *top)
{
	return th_conf(th_printf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"phases\" ];\n"
	    "%s\n"
	    "access_log = { path = \"@TMPDIR@/access.log\";\n"
	    "  format = \"$request $status calls=$phases_calls "
	    "note=$phases_note ua=$http_user_agent\"; };\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = (\n"
	    "  { path = \"/size/\"; upstream = \"o\"; phases_delay = 200; },\n"
	    "  { path = \"/long/\"; upstream = \"o\";\n"
	    "    phases_delay = 60000; },\n"
	    "  { path = \"/answer/\"; upstream = \"o\"; phases_delay = 50;\n"
	    "    phases_resume = \"answer\"; },\n"
	    "  { path = \"/nothing/\"; upstream = \"o\"; phases_delay = 50;\n"
	    "    phases_resume = \"nothing\"; },\n"
	    "  { path = \"/vars\"; upstream = \"o\";\n"
	    "    phases_content = true; },\n"
	    "  { path = \"/early/\"; upstream = \"o\";\n"
	    "    phases_resume = \"early\"; },\n"
	    "  { path = \"/\"; upstream = \"o\"; } ); } );\n", top));
}

static int
start(const char *top)
{
	origin = th_origin_start(th_portn(2), "A");
	th_start(phases_conf(top));
	return th_portn(1);
}

/* A suspended request resumes after the handler that suspended it. */
START_TEST(suspend_and_resume)
{
	int		 port = start("");
	th_conn_t	*c;
	th_resp_t	*r;

	r = th_get(port, "/size/1000");
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->body_len, 1000);
	ck_assert_int_eq(th_pattern_check(r->body, r->body_len, 0), -1);
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
	/* The state the module keeps in the request arena went from
	 * POST_READ to HEADER_FILTER, through the suspension. */
	ck_assert_pstr_eq(th_header(r, "X-Phases-Trail"), RESUMED_TRAIL);
	th_wait_file_line(th_path("error.log"), "phases: suspended /size/1000",
	    TH_IO_MS);

	/* Keep-alive after a suspended request: two on one connection. */
	c = th_conn_open(port);
	for (int i = 0; i < 2; i++) {
		th_conn_sendf(c, "GET /size/%d HTTP/1.1\r\nHost: x\r\n\r\n",
		    10 + i);
		r = th_conn_read(c);
		ck_assert_int_eq(r->status, 200);
		ck_assert_uint_eq(r->body_len, (size_t)(10 + i));
		ck_assert(!r->conn_close);
		ck_assert_pstr_eq(th_header(r, "X-Phases-Trail"),
		    RESUMED_TRAIL);
	}
	/* And a request that does not wait, on the same connection. */
	th_conn_sendf(c, "GET /id HTTP/1.1\r\nHost: x\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(r->body, "A");
	ck_assert_pstr_eq(th_header(r, "X-Phases-Trail"),
	    "post_read,rewrite,access,access_after,content");
	th_conn_close(c);
}
END_TEST

/* Several suspended at once, spread over the workers, all answered. */
START_TEST(concurrent_suspended)
{
	int		 port = start("");
	th_conn_t	*c[NCONC];
	th_resp_t	*r;

	for (int i = 0; i < NCONC; i++) {
		c[i] = th_conn_open(port);
		th_conn_sendf(c[i], "GET /size/%d HTTP/1.1\r\nHost: x\r\n\r\n",
		    100 + i);
	}
	for (int i = 0; i < NCONC; i++) {
		r = th_conn_read(c[i]);
		ck_assert_int_eq(r->status, 200);
		ck_assert_uint_eq(r->body_len, (size_t)(100 + i));
		ck_assert_int_eq(th_pattern_check(r->body, r->body_len, 0),
		    -1);
		ck_assert_pstr_eq(th_header(r, "X-Phases-Trail"),
		    RESUMED_TRAIL);
		/* Still usable afterwards. */
		th_conn_sendf(c[i], "GET /id HTTP/1.1\r\nHost: x\r\n\r\n");
		r = th_conn_read(c[i]);
		ck_assert_int_eq(r->status, 200);
		ck_assert_pstr_eq(r->body, "A");
		th_conn_close(c[i]);
	}
	ck_assert_int_eq(th_origin_count(origin, "GET /size/"), NCONC);
}
END_TEST

/*
 * The client goes away while its request waits a minute: the request
 * ends at once (499 in the access log), the module's cleanup runs and
 * cancels the timer, and the worker goes on serving.
 */
START_TEST(client_leaves_while_suspended)
{
	int		 port = start("");
	const char	*line;
	th_conn_t	*c;
	th_resp_t	*r;

	c = th_conn_open(port);
	th_conn_sendf(c, "GET /long/x HTTP/1.1\r\nHost: x\r\n\r\n");
	th_wait_file_line(th_path("error.log"), "phases: suspended /long/x",
	    TH_IO_MS);
	th_conn_close(c);
	/* Well before the minute is up. */
	line = th_wait_file_line(th_path("error.log"),
	    "phases: cleanup of /long/x", TH_IO_MS);
	ck_assert_msg(strstr(line, "(timer cancelled)") != NULL, "%s", line);
	line = th_wait_file_line(th_path("access.log"), "GET /long/x",
	    TH_IO_MS);
	ck_assert_msg(th_match(line, "^GET /long/x HTTP/1.1 499 "), "%s",
	    line);
	ck_assert_int_eq(th_origin_count(origin, "GET /long/"), 0);
	r = th_get(port, "/size/5");
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->body_len, 5);
}
END_TEST

/* The module answers while the request is suspended, or gives up. */
START_TEST(resume_done)
{
	int		 port = start("");
	th_conn_t	*c;
	th_resp_t	*r;

	c = th_conn_open(port);
	th_conn_sendf(c, "GET /answer/x HTTP/1.1\r\nHost: x\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(r->body, "answered while suspended\n");
	/* Its own answer went through HEADER_FILTER as well. */
	ck_assert_pstr_eq(th_header(r, "X-Phases-Trail"),
	    "post_read,rewrite,access,resumed");
	ck_assert(!r->conn_close);
	/* Resumed with DONE but no answer: lintel's 500. */
	th_conn_sendf(c, "GET /nothing/x HTTP/1.1\r\nHost: x\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 500);
	/* Resumed by the handler itself before it returned SUSPEND. */
	th_conn_sendf(c, "GET /early/x HTTP/1.1\r\nHost: x\r\n\r\n");
	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 404);
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
	ck_assert_pstr_eq(th_header(r, "X-Phases-Trail"),
	    "post_read,rewrite,access,access_after,content");
	th_conn_close(c);
	ck_assert_int_eq(th_origin_count(origin, "GET /answer/"), 0);
	ck_assert_int_eq(th_origin_count(origin, "GET /nothing/"), 0);
	th_wait_file_line(th_path("error.log"), "a module stopped the request "
	    "without answering it", TH_IO_MS);
}
END_TEST

/* lnt_req_var in a handler, and the same names in the access log. */
START_TEST(variables)
{
	int		 port = start("");
	const char	*line;
	th_resp_t	*r;

	r = th_req(port, "GET /vars?a=1 HTTP/1.1\r\nHost: example.test\r\n"
	    "User-Agent: phases-test/1.0\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(strstr(r->body, "trail=post_read,rewrite,access,"
	    "access_after,content\n") != NULL, "%s", r->body);
	/* Computed when asked: five handlers had run by then. */
	ck_assert_msg(strstr(r->body, "\ncalls=5\n") != NULL, "%s", r->body);
	ck_assert_msg(strstr(r->body, "\nnote=direct\n") != NULL, "%s",
	    r->body);
	ck_assert_msg(strstr(r->body, "\nhost=example.test\n") != NULL, "%s",
	    r->body);
	ck_assert_msg(strstr(r->body, "\nuri=/vars\n") != NULL, "%s",
	    r->body);
	ck_assert_msg(strstr(r->body, "\nargs=a=1\n") != NULL, "%s",
	    r->body);
	ck_assert_msg(strstr(r->body, "\nua=phases-test/1.0\n") != NULL,
	    "%s", r->body);
	ck_assert_msg(strstr(r->body, "\nremote=127.0.0.1\n") != NULL, "%s",
	    r->body);
	ck_assert_msg(strstr(r->body, "\nmethod=GET\n") != NULL, "%s",
	    r->body);
	ck_assert_int_eq(th_origin_count(origin, "GET /vars"), 0);

	line = th_wait_file_line(th_path("access.log"), "GET /vars",
	    TH_IO_MS);
	ck_assert_msg(th_match(line, "^GET /vars\\?a=1 HTTP/1.1 200 calls=5 "
	    "note=direct ua=phases-test/1.0$"), "%s", line);

	/* A resumed request: the value set from the timer callback. */
	r = th_req(port, "GET /size/3 HTTP/1.1\r\nHost: x\r\n"
	    "User-Agent: ua2\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 200);
	line = th_wait_file_line(th_path("access.log"), "GET /size/3",
	    TH_IO_MS);
	ck_assert_msg(th_match(line, "^GET /size/3 HTTP/1.1 200 calls=6 "
	    "note=resumed ua=ua2$"), "%s", line);
}
END_TEST

/* CONNECT refuses: the connection is closed before any byte is sent. */
START_TEST(connect_refused)
{
	int		 port = start("phases_refuse_connect = true;");
	const char	*req = "GET /id HTTP/1.1\r\nHost: x\r\n\r\n";
	th_conn_t	*c;

	c = th_conn_open(port);
	/* The request may or may not be taken before the close. */
	(void)th_conn_send(c, req, strlen(req));
	ck_assert(th_conn_closed(c, TH_IO_MS));
	ck_assert_uint_eq(th_conn_pending(c), 0);
	th_conn_close(c);
	th_wait_file_line(th_path("error.log"), "phases: refusing 127.0.0.1",
	    TH_IO_MS);
	th_wait_file_line(th_path("error.log"), "connection from 127.0.0.1 "
	    "refused by a module", TH_IO_MS);
	ck_assert_int_eq(th_origin_conns(origin), 0);
}
END_TEST

/*
 * A module's reload callback refuses the new config: the old one keeps
 * serving.  Without the refusal the same change is taken.
 */
START_TEST(reload_refused)
{
	int		 port = start("");
	const char	*changed;
	th_resp_t	*r;

	changed = "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/\";\n"
	    "    return = { status = 204; }; } ); } );\n";
	th_conf(th_printf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"phases\" ];\n"
	    "phases_refuse_reload = true;\n%s", changed));
	th_signal(SIGHUP);
	th_wait_ready();
	th_wait_file_line(th_path("error.log"), "phases: phases_refuse_reload "
	    "is set", TH_IO_MS);
	th_wait_file_line(th_path("error.log"), "module 'phases' refused the "
	    "reload", TH_IO_MS);
	th_wait_file_line(th_path("error.log"), "reload failed, still running",
	    TH_IO_MS);
	r = th_get(port, "/id");
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(r->body, "A");

	th_conf(th_printf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"phases\" ];\n%s", changed));
	th_signal(SIGHUP);
	th_wait_ready();
	th_wait_file_line(th_path("error.log"), "reloaded: generation",
	    TH_IO_MS);
	/* The old workers may answer a last few: wait for the new ones. */
	for (int64_t end = th_deadline(TH_START_MS);; th_nap()) {
		r = th_get(port, "/id");
		if (r->status == 204)
			break;
		ck_assert_msg(!th_expired(end), "still the old config");
	}
}
END_TEST

/* `lintel -t`: <text> is refused with every message in <want>. */
static void
refused(const char *text, const char *const *want, size_t nwant)
{
	const char	*conf = th_conf(text);
	char		*err;
	int		 rc;

	rc = th_lintel(NULL, &err, "-t", "-c", conf, NULL);
	ck_assert_msg(rc == 1, "lintel -t exited %d:\n%s", rc, err);
	for (size_t i = 0; i < nwant; i++)
		ck_assert_msg(th_match(err, want[i]), "expected /%s/ in:\n%s",
		    want[i], err);
}

/* A variable defined twice is a config error, wherever it is from. */
START_TEST(variable_clash)
{
	static const char *const clash[] = {
		"lintel\\.conf:3: varclash: variable '\\$host' is already "
		    "defined by lintel",
		"lintel\\.conf:3: varclash: variable '\\$phases_calls' is "
		    "already defined by module 'phases'",
	};
	static const char *const unknown[] = {
		"lintel\\.conf:[0-9]+: format: unknown variable "
		    "'\\$varclash_nope'",
	};
	const char	*sites =
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/\";\n"
	    "    return = { status = 204; }; } ); } );\n";
	char		*err;

	refused(th_printf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"phases\", \"varclash\" ];\n%s", sites),
	    clash, TH_NELEM(clash));
	/* A name no module defines stays unknown to templates. */
	refused(th_printf(TH_BASE
	    "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"phases\" ];\n"
	    "access_log = { path = \"@TMPDIR@/a.log\";\n"
	    "  format = \"$phases_note $varclash_nope\"; };\n%s", sites),
	    unknown, TH_NELEM(unknown));
	/* While one a loaded module defines is fine. */
	ck_assert_int_eq(th_lintel(NULL, &err, "-t", "-c", th_conf(th_printf(
	    TH_BASE "module_path = \"@BUILDDIR@/t/modules/.libs\";\n"
	    "modules = [ \"phases\" ];\n"
	    "access_log = { path = \"@TMPDIR@/a.log\";\n"
	    "  format = \"$phases_note $phases_calls\"; };\n%s", sites)),
	    NULL), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("52-phases");

	TH_TEST(s, suspend_and_resume);
	TH_TEST(s, concurrent_suspended);
	TH_TEST(s, client_leaves_while_suspended);
	TH_TEST(s, resume_done);
	TH_TEST(s, variables);
	TH_TEST(s, connect_refused);
	TH_TEST(s, reload_refused);
	TH_TEST(s, variable_clash);
	return th_run(s);
}
