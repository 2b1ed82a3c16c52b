/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loadable modules through the real daemon: the example module's header
 * at each scope, the loader's errors, and reloads that add and remove a
 * module.
 */
#include "config.h"

#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "th.h"
#include "lintel/module.h"

#define LNT_STRINGIFY_(x)	#x
#define LNT_STRINGIFY(x)	LNT_STRINGIFY_(x)

static th_origin_t	*origin;

/* The config of these tests: <mods> and <top> at the top level. */
static const char *
modules_conf(const char *mods, const char *top)
{
	return th_conf(th_printf(TH_BASE
	    "module_path = \"@MODDIR@\";\n"
	    "%s\n"
	    "%s\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/r/\"; upstream = \"o\";\n"
	    "               example_header = \"X-Example: route\"; },\n"
	    "             { path = \"/ret\"; return = { status = 204; }; },\n"
	    "             { path = \"/\"; upstream = \"o\"; } ); } );\n",
	    mods, top));
}

START_TEST(example_header_scopes)
{
	th_resp_t	*r;
	th_conn_t	*c;
	int		 port;

	origin = th_origin_start(th_portn(2), "A");
	th_start(modules_conf("modules = [ \"example\" ];",
	    "example_header = \"X-Example: top\";"));
	port = th_portn(1);

	/* The route's own value wins over the top level's. */
	r = th_get(port, "/r/x");
	ck_assert_pstr_eq(th_header(r, "X-Example"), "route");
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
	/* Another route inherits the top level through its site. */
	r = th_get(port, "/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "X-Example"), "top");
	/* Responses lintel makes itself go through the filter too. */
	r = th_get(port, "/ret");
	ck_assert_int_eq(r->status, 204);
	ck_assert_pstr_eq(th_header(r, "X-Example"), "top");
	/* So does a 101 before a tunnel. */
	c = th_conn_open(port);
	th_conn_sendf(c, "GET /upgrade HTTP/1.1\r\nHost: localhost\r\n"
	    "Upgrade: echo\r\nConnection: Upgrade\r\n\r\n");
	r = th_conn_try_read(c, true, TH_IO_MS);
	ck_assert_msg(r != NULL, "no answer to the upgrade: %s", th_error());
	ck_assert_int_eq(r->status, 101);
	ck_assert_pstr_eq(th_header(r, "X-Example"), "top");
	th_conn_close(c);
}
END_TEST

START_TEST(load_errors)
{
	/* No such file: the path and the system's reason. */
	th_refused(TH_BASE "module_path = \"@MODDIR@\";\n"
	    "modules = [ \"nosuch\" ];\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    "lintel\\.conf:3: modules: cannot load .*/nosuch\\.so: cannot "
	    "open shared object file: No such file or directory");
	/* Built for another API version: both numbers. */
	th_refused(th_printf(TH_BASE "modules = [ \"%s/t/modules/.libs/"
	    "badabi.so\" ];\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    getenv("LNT_BUILDDIR")),
	    "lintel\\.conf:2: modules: .*badabi\\.so was built for module "
	    "API 1000; this lintel has API " LNT_STRINGIFY(LNT_MODULE_ABI));
	/* The module's own check, with its name, file and line. */
	th_refused(TH_BASE "module_path = \"@MODDIR@\";\n"
	    "modules = [ \"example\" ];\n"
	    "example_header = \"no colon\";\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    "lintel\\.conf:4: example: example_header: expected "
	    "\"Name: value\"");
	/* A module key outside the scopes it declared. */
	th_refused(TH_BASE "module_path = \"@MODDIR@\";\n"
	    "modules = [ \"example\" ];\n"
	    "upstreams = ( { name = \"o\"; example_header = \"X: 1\";\n"
	    "  servers = ( { address = \"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    "lintel\\.conf:4: example_header: key of module 'example' not "
	    "allowed in an upstream");
	/* Without the module its key is unknown. */
	th_refused(TH_BASE "example_header = \"X: 1\";\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    "lintel\\.conf:2: example_header: unknown key at the top level");
}
END_TEST

/* GET / until its X-Example header is <want> (NULL: absent), bounded. */
static void
wait_header(int port, const char *want)
{
	for (int i = 0; i < 100; i++) {
		th_resp_t *r = th_get(port, "/");
		const char *h = th_header(r, "X-Example");

		if (want == NULL ? h == NULL : h != NULL &&
		    strcmp(h, want) == 0)
			return;
		usleep(50 * 1000);
	}
	ck_abort_msg("X-Example never became %s", want ? want : "absent");
}

START_TEST(reload_adds_and_removes)
{
	const char	*conf;
	int		 port;

	origin = th_origin_start(th_portn(2), "A");
	conf = th_conf(TH_BASE
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n");
	th_start(conf);
	port = th_portn(1);
	wait_header(port, NULL);

	th_conf(th_printf(TH_BASE
	    "module_path = \"@MODDIR@\"; modules = [ \"example\" ];\n"
	    "example_header = \"X-Example: loaded\";\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n"));
	th_signal(SIGHUP);
	th_wait_ready();
	wait_header(port, "loaded");

	th_conf(TH_BASE
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n");
	th_signal(SIGHUP);
	th_wait_ready();
	wait_header(port, NULL);
}
END_TEST

/*
 * `lintel -T` prints the keys modules own, in their scopes, with their
 * values as written; what it prints passes `-t` and, run, serves the
 * same: the rewrite redirect, the acl denial, the example header.
 */
START_TEST(T_prints_module_keys)
{
	const char	*conf, *dumped;
	char		*out, *err;
	th_resp_t	*r;
	int		 rc, port;

	conf = th_conf(TH_BASE
	    "module_path = \"@MODDIR@\";\n"
	    "modules = [ \"example\",\n"
	    "  \"@BUILDDIR@/modules/rewrite/.libs/rewrite.so\",\n"
	    "  \"@BUILDDIR@/modules/acl/.libs/acl.so\" ];\n"
	    "example_header = \"X-Example: top \\\"q\\\" \\\\\";\n"
	    "trusted_proxies = [ \"10.0.0.0/8\", \"192.0.2.1\" ];\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  rewrite = ( { match = \"^/old/(.*)$\"; to = \"/new/$1\";\n"
	    "                flag = 308; } );\n"
	    "  routes = ( { path = \"/deny/\"; upstream = \"o\";\n"
	    "               acl = ( { allow = [ \"192.0.2.0/24\" ]; },\n"
	    "                       { deny = \"all\"; } ); },\n"
	    "             { path = \"/r/\"; upstream = \"o\";\n"
	    "               example_header = \"X-Example: route\"; },\n"
	    "             { path = \"/\"; upstream = \"o\"; } ); } );\n");
	rc = th_lintel(&out, &err, "-T", "-c", conf, NULL);
	ck_assert_msg(rc == 0, "lintel -T exited %d:\n%s", rc, err);
	/* Each module key, as written, in the scope it was read in. */
	ck_assert_msg(th_match(out, "\nexample_header = \"X-Example: top "
	    "\\\\\"q\\\\\" \\\\\\\\\";\n"), "top example_header:\n%s", out);
	ck_assert_msg(th_match(out, "\ntrusted_proxies = \\[ "
	    "\"10\\.0\\.0\\.0/8\", \"192\\.0\\.2\\.1\" \\];\n"),
	    "trusted_proxies:\n%s", out);
	ck_assert_msg(th_match(out, "\n\t\trewrite = \\(\n\t\t\t\\{\n"
	    "\t\t\t\tmatch = \"\\^/old/\\(\\.\\*\\)\\$\";\n"
	    "\t\t\t\tto = \"/new/\\$1\";\n\t\t\t\tflag = 308;\n"
	    "\t\t\t}\n\t\t\\);\n"), "site rewrite:\n%s", out);
	ck_assert_msg(th_match(out, "\n\t\t\t\tacl = \\(\n"),
	    "route acl:\n%s", out);
	ck_assert_msg(th_match(out, "\n\t\t\t\texample_header = "
	    "\"X-Example: route\";\n"), "route example_header:\n%s", out);

	dumped = th_path("dumped.conf");
	th_write_file(dumped, out);
	rc = th_lintel(NULL, &err, "-t", "-c", dumped, NULL);
	ck_assert_msg(rc == 0, "-t rejects what -T printed (exit %d):\n%s"
	    "\n--- dumped ---\n%s", rc, err, out);

	origin = th_origin_start(th_portn(2), "A");
	th_start(dumped);
	port = th_portn(1);
	r = th_get(port, "/old/x");
	ck_assert_int_eq(r->status, 308);
	ck_assert_pstr_eq(th_header(r, "Location"), "/new/x");
	r = th_get(port, "/deny/x");
	ck_assert_int_eq(r->status, 403);
	r = th_get(port, "/r/x");
	ck_assert_int_eq(r->status, 404);
	ck_assert_pstr_eq(th_header(r, "X-Origin-Id"), "A");
	ck_assert_pstr_eq(th_header(r, "X-Example"), "route");
	r = th_get(port, "/");
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "X-Example"), "top \"q\" \\");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("50-modules");

	TH_TEST(s, example_header_scopes);
	TH_TEST(s, load_errors);
	TH_TEST(s, reload_adds_and_removes);
	TH_TEST(s, T_prints_module_keys);
	return th_run(s);
}
