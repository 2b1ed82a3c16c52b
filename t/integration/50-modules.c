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
}
END_TEST

/* `lintel -t` on <text>: exits 1 and prints <want> (a regex). */
static void
refused(const char *text, const char *want)
{
	const char	*conf = th_conf(text);
	char		*out, *err;
	int		 rc;

	rc = th_lintel(&out, &err, "-t", "-c", conf, NULL);
	ck_assert_msg(rc == 1, "lintel -t exited %d:\n%s", rc, err);
	ck_assert_msg(th_match(err, want), "expected /%s/ in:\n%s", want, err);
}

START_TEST(load_errors)
{
	/* No such file: the path and the system's reason. */
	refused(TH_BASE "module_path = \"@MODDIR@\";\n"
	    "modules = [ \"nosuch\" ];\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    "lintel\\.conf:3: modules: cannot load .*/nosuch\\.so: cannot "
	    "open shared object file: No such file or directory");
	/* Built for another API version: both numbers. */
	refused(th_printf(TH_BASE "modules = [ \"%s/t/modules/.libs/"
	    "badabi.so\" ];\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    getenv("LNT_BUILDDIR")),
	    "lintel\\.conf:2: modules: .*badabi\\.so was built for module "
	    "API 1000; this lintel has API " LNT_STRINGIFY(LNT_MODULE_ABI));
	/* The module's own check, with its name, file and line. */
	refused(TH_BASE "module_path = \"@MODDIR@\";\n"
	    "modules = [ \"example\" ];\n"
	    "example_header = \"no colon\";\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    "lintel\\.conf:4: example: example_header: expected "
	    "\"Name: value\"");
	/* A module key outside the scopes it declared. */
	refused(TH_BASE "module_path = \"@MODDIR@\";\n"
	    "modules = [ \"example\" ];\n"
	    "upstreams = ( { name = \"o\"; example_header = \"X: 1\";\n"
	    "  servers = ( { address = \"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( { "
	    "path = \"/\"; upstream = \"o\"; } ); } );\n",
	    "lintel\\.conf:4: example_header: key of module 'example' not "
	    "allowed in an upstream");
	/* Without the module its key is unknown. */
	refused(TH_BASE "example_header = \"X: 1\";\n"
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

int
main(void)
{
	Suite *s = suite_create("50-modules");

	TH_TEST(s, example_header_scopes);
	TH_TEST(s, load_errors);
	TH_TEST(s, reload_adds_and_removes);
	return th_run(s);
}
