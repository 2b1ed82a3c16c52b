/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rewrite module through the real daemon and the harness origin: each
 * flag, captures and variables, conditions, site and route rules, the
 * re-route bound, upstream Location and Refresh rewriting, and the config
 * errors `lintel -t` reports with file and line.  The origin's /headers
 * answers with the request head it received, so a test reads there the
 * URI the rules produced.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "th.h"

static th_origin_t	*origin;

/*
 * A config loading the module from the build tree, one upstream "o" (the
 * origin on @PORT_2@) and one site on @PORT_1@ with the site keys <site>
 * and the routes <routes>.
 */
static const char *
rw_conf(const char *site, const char *routes)
{
	return th_conf(th_printf(TH_BASE
	    "module_path = \"@BUILDDIR@/modules/rewrite/.libs\";\n"
	    "modules = [ \"rewrite\" ];\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "%s\n"
	    "  routes = (\n%s\n  ); } );\n", site, routes));
}

/* Start the origin and lintel with rw_conf(<site>, <routes>). */
static void
rw_start(const char *site, const char *routes)
{
	origin = th_origin_start(th_portn(2), "A");
	th_start(rw_conf(site, routes));
}

/* GET <path> with the extra header lines <hdrs> ("Name: v\r\n" each). */
static th_resp_t *
get_with(const char *path, const char *hdrs)
{
	return th_req(th_portn(1), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "%sConnection: close\r\n\r\n", path, hdrs);
}

/*
 * The target of the request line the origin received, from the body of
 * its /headers answer <r>; "" when <r> is not such an answer.
 */
static const char *
seen(const th_resp_t *r)
{
	const char *sp, *end;

	if (r->status != 200 || r->body == NULL ||
	    (sp = strchr(r->body, ' ')) == NULL ||
	    (end = strchr(sp + 1, ' ')) == NULL)
		return "";
	return th_printf("%.*s", (int)(end - sp - 1), sp + 1);
}

START_TEST(flags_last_and_break)
{
	th_resp_t	*r;

	rw_start("", "    { path = \"/a/\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/a/(.*)$\"; to = \"/b/$1\"; } ); },\n"
	    "    { path = \"/b/\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/b/(.*)$\"; to = \"/headers/b/$1\";\n"
	    "          flag = \"break\"; } ); },\n"
	    "    { path = \"/headers/\"; return = { status = 204; }; },\n"
	    "    { path = \"/\"; upstream = \"o\"; }");

	/*
	 * "last" routes /a/x again, to /b/, whose "break" keeps the new URI
	 * on /b/ (routed again, /headers/ would answer 204); the query
	 * follows the path throughout.
	 */
	r = th_get(th_portn(1), "/a/x?q=1");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(seen(r), "/headers/b/x?q=1");
	r = th_get(th_portn(1), "/b/y");
	ck_assert_str_eq(seen(r), "/headers/b/y");
	/* No rule matches: the request goes as it came. */
	r = th_get(th_portn(1), "/headers/z");
	ck_assert_int_eq(r->status, 204);
	ck_assert_int_eq(th_origin_count(origin, "GET /a/"), 0);
	ck_assert_int_eq(th_origin_count(origin, "GET /b/"), 0);
}
END_TEST

START_TEST(redirects)
{
	th_resp_t	*r;

	rw_start("  rewrite = (\n"
	    "    { match = \"^/r302/(.*)$\"; to = \"/new/$1\";"
	    " flag = \"redirect\"; },\n"
	    "    { match = \"^/r301/(.*)$\";"
	    " to = \"https://example.com/p?id=$1\"; flag = \"permanent\"; },\n"
	    "    { match = \"^/r307/\"; to = \"/t?\"; flag = \"307\"; },\n"
	    "    { match = \"^/r308/(.*)$\"; to = \"/u/$1#top\"; flag = 308; }"
	    " );",
	    "    { path = \"/\"; upstream = \"o\"; }");

	r = th_get(th_portn(1), "/r302/x?a=1");
	ck_assert_int_eq(r->status, 302);
	ck_assert_pstr_eq(th_header(r, "Location"), "/new/x?a=1");
	/* The template's own query comes first, the request's after '&'. */
	r = th_get(th_portn(1), "/r301/x?a=1");
	ck_assert_int_eq(r->status, 301);
	ck_assert_pstr_eq(th_header(r, "Location"),
	    "https://example.com/p?id=x&a=1");
	/* A final '?' drops the request's query. */
	r = th_get(th_portn(1), "/r307/x?a=1");
	ck_assert_int_eq(r->status, 307);
	ck_assert_pstr_eq(th_header(r, "Location"), "/t");
	/* The query goes before the fragment; 308 written as a number. */
	r = th_get(th_portn(1), "/r308/x?a=1");
	ck_assert_int_eq(r->status, 308);
	ck_assert_pstr_eq(th_header(r, "Location"), "/u/x?a=1#top");
	r = th_get(th_portn(1), "/r302/");
	ck_assert_pstr_eq(th_header(r, "Location"), "/new/");
	ck_assert_int_eq(th_origin_reqs(origin), 0);
}
END_TEST

START_TEST(captures_and_variables)
{
	th_resp_t	*r;

	rw_start("", "    { path = \"/\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/v/(?<year>[0-9]{4})/([a-z]+)$\";\n"
	    "          to = \"/headers/${year}/$2/$host/$remote_addr/"
	    "$http_x_foo/$request_method/$scheme/$$?a=$args?\";\n"
	    "          flag = \"break\"; },\n"
	    "        { match = \"^/w/(x)?(y)$\"; to = \"/headers/w[$1][$2]"
	    "[${host}z][$0]\"; flag = \"break\"; } ); }");

	/* The Host loses its port and its case; the query is $args only. */
	r = th_req(th_portn(1), "GET /v/2026/post?k=v HTTP/1.1\r\n"
	    "Host: Example.COM:8080\r\nX-Foo: bar\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_str_eq(seen(r), "/headers/2026/post/example.com/127.0.0.1/"
	    "bar/GET/http/$?a=k=v");
	/* An absent header is empty; so is a group that took no part. */
	r = th_get(th_portn(1), "/v/2026/post");
	ck_assert_str_eq(seen(r), "/headers/2026/post/localhost/127.0.0.1//"
	    "GET/http/$?a=");
	r = th_get(th_portn(1), "/w/y");
	ck_assert_str_eq(seen(r), "/headers/w[][y][localhostz][/w/y]");
	/* The year must be four digits: no rule, the origin's 404. */
	r = th_get(th_portn(1), "/v/26/post");
	ck_assert_int_eq(r->status, 404);
}
END_TEST

START_TEST(conditions)
{
	th_resp_t	*r;

	ck_assert_int_eq(mkdir(th_path("www"), 0755), 0);
	ck_assert_int_eq(mkdir(th_path("www/files"), 0755), 0);
	th_write_file(th_path("www/files/present.txt"), "present\n");
	th_write_file(th_path("www/files/fallback.txt"), "fallback\n");
	ck_assert_int_eq(chmod(th_path("www/files/present.txt"), 0644), 0);
	ck_assert_int_eq(chmod(th_path("www/files/fallback.txt"), 0644), 0);
	rw_start("", "    { path = \"/c/\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/c/(.*)$\"; to = \"/headers/post/$1\";\n"
	    "          method = [ \"POST\", \"PUT\" ]; flag = \"break\"; },\n"
	    "        { match = \"^/c/(.*)$\"; to = \"/headers/api/$1\";\n"
	    "          host = \"~^api[.]\"; flag = \"break\"; },\n"
	    "        { match = \"^/c/(.*)$\"; to = \"/headers/beta/$1\";\n"
	    "          header = { name = \"X-Mode\"; match = \"~^beta$\"; };\n"
	    "          flag = \"break\"; },\n"
	    "        { match = \"^/c/(.*)$\"; to = \"/headers/both/$1\";\n"
	    "          header = ( { name = \"X-A\"; },\n"
	    "                     { name = \"X-B\"; match = \"yes\"; } );\n"
	    "          flag = \"break\"; },\n"
	    "        { match = \"^/c/(.*)$\"; to = \"/headers/get/$1\";\n"
	    "          method = \"GET\"; flag = \"break\"; } ); },\n"
	    "    { path = \"/files/\"; root = \"@TMPDIR@/www\"; rewrite = (\n"
	    "        { match = \"^/files/\"; to = \"/files/fallback.txt\";\n"
	    "          file_exists = false; flag = \"break\"; } ); },\n"
	    "    { path = \"/\"; upstream = \"o\"; }");

	r = th_req(th_portn(1), "POST /c/x HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	ck_assert_str_eq(seen(r), "/headers/post/x");
	r = th_req(th_portn(1), "GET /c/x HTTP/1.1\r\nHost: API.example:80\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_str_eq(seen(r), "/headers/api/x");
	r = get_with("/c/x", "X-Mode: beta\r\n");
	ck_assert_str_eq(seen(r), "/headers/beta/x");
	r = get_with("/c/x", "X-Mode: alpha\r\n");
	ck_assert_str_eq(seen(r), "/headers/get/x");
	r = get_with("/c/x", "X-A: 1\r\nX-B: yes\r\n");
	ck_assert_str_eq(seen(r), "/headers/both/x");
	r = get_with("/c/x", "X-A: 1\r\n");
	ck_assert_str_eq(seen(r), "/headers/get/x");
	/* No rule holds for DELETE: the origin's 404 for /c/x. */
	r = th_req(th_portn(1), "DELETE /c/x HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 404);

	/* A file that is there is served; any other path falls back. */
	r = th_get(th_portn(1), "/files/present.txt");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "present\n");
	r = th_get(th_portn(1), "/files/missing.txt");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "fallback\n");
	/* Escapes are decoded to look the file up. */
	r = th_get(th_portn(1), "/files/pres%65nt.txt");
	ck_assert_str_eq(r->body, "present\n");
	/* A path that can name no file: neither exists nor is missing. */
	r = th_get(th_portn(1), "/files/a%2fb");
	ck_assert_int_eq(r->status, 404);
	r = th_get(th_portn(1), "/files/../files/missing");
	ck_assert_int_eq(r->status, 404);
}
END_TEST

START_TEST(site_and_route_rules)
{
	th_resp_t	*r;

	rw_start("  rewrite = ( { match = \"^/old/(.*)$\"; to = \"/new/$1\"; }"
	    " );",
	    "    { path = \"/go\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/go$\"; to = \"/old/from-route\"; } ); },\n"
	    "    { path = \"/new/\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/new/(.*)$\"; to = \"/headers/new/$1\";\n"
	    "          flag = \"break\"; } ); },\n"
	    "    { path = \"/old/\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/old/(.*)$\"; to = \"/headers/old/$1\";\n"
	    "          flag = \"break\"; } ); },\n"
	    "    { path = \"/\"; upstream = \"o\"; }");

	/* The site's rule, then the rules of the route it leads to. */
	r = th_get(th_portn(1), "/old/x");
	ck_assert_str_eq(seen(r), "/headers/new/x");
	/* Routing again runs the new route's rules, not the site's. */
	r = th_get(th_portn(1), "/go");
	ck_assert_str_eq(seen(r), "/headers/old/from-route");
	/* The site's rules do not run again in a route (/headers/ is "/"). */
	r = th_get(th_portn(1), "/headers/old/y");
	ck_assert_str_eq(seen(r), "/headers/old/y");
}
END_TEST

START_TEST(loop_and_errors)
{
	th_resp_t	*r;
	char		*path;

	rw_start("", "    { path = \"/la\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/la$\"; to = \"/lb\"; } ); },\n"
	    "    { path = \"/lb\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/lb$\"; to = \"/la\"; } ); },\n"
	    "    { path = \"/long/\"; upstream = \"o\"; rewrite = (\n"
	    "        { match = \"^/long/(.*)$\";\n"
	    "          to = \"/$1$1$1$1$1\"; } ); },\n"
	    "    { path = \"/\"; upstream = \"o\"; }");

	r = th_get(th_portn(1), "/la");
	ck_assert_int_eq(r->status, 500);
	th_wait_file_line(th_path("error.log"), "rewrite loop", TH_IO_MS);

	/* A result longer than a URI may be: 500, the rule named. */
	path = th_alloc(4000);
	memcpy(path, "/long/", 6);
	memset(path + 6, 'a', 3993 - 6);
	path[3993] = '\0';
	r = th_get(th_portn(1), path);
	ck_assert_int_eq(r->status, 500);
	th_wait_file_line(th_path("error.log"), "rewrite rule 1: rewrite "
	    "result too long", TH_IO_MS);
	ck_assert_int_eq(th_origin_reqs(origin), 0);
}
END_TEST

START_TEST(upstream_location)
{
	th_resp_t	*r;
	const char	*q;
	int		 up = th_portn(2);

	origin = th_origin_start(up, "A");
	th_start(th_conf(TH_BASE
	    "module_path = \"@BUILDDIR@/modules/rewrite/.libs\";\n"
	    "modules = [ \"rewrite\" ];\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = (\n"
	    "  { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "    routes = (\n"
	    "      { path = \"/off/\"; upstream = \"o\"; "
	    "rewrite_location = false;\n"
	    "        rewrite = ( { match = \"^/off(/.*)$\"; to = \"$1\";\n"
	    "                      flag = \"break\"; } ); },\n"
	    "      { path = \"/\"; upstream = \"o\"; } ); },\n"
	    "  { listen = \"127.0.0.1:@PORT_3@\"; rewrite_location = false;\n"
	    "    routes = (\n"
	    "      { path = \"/on/\"; upstream = \"o\"; "
	    "rewrite_location = true;\n"
	    "        rewrite = ( { match = \"^/on(/.*)$\"; to = \"$1\";\n"
	    "                      flag = \"break\"; } ); },\n"
	    "      { path = \"/\"; upstream = \"o\"; } ); } );\n"));

	/* By default the upstream's own address becomes the public one. */
	q = th_printf("/respond?Location=http://127.0.0.1:%d/x%%3Fa=1&"
	    "Refresh=5;%%20url=http://127.0.0.1:%d/y", up, up);
	r = th_req(th_portn(1), "GET %s HTTP/1.1\r\nHost: www.example.test\r\n"
	    "Connection: close\r\n\r\n", q);
	ck_assert_int_eq(r->status, 200);
	ck_assert_pstr_eq(th_header(r, "Location"),
	    "http://www.example.test/x?a=1");
	ck_assert_pstr_eq(th_header(r, "Refresh"),
	    "5; url=http://www.example.test/y");
	ck_assert_int_eq(th_header_count(r, "Location"), 1);
	/* The Host's port is kept: it is where the client came. */
	r = th_req(th_portn(1), "GET %s HTTP/1.1\r\nHost: localhost:%d\r\n"
	    "Connection: close\r\n\r\n", q, th_portn(1));
	ck_assert_pstr_eq(th_header(r, "Location"),
	    th_printf("http://localhost:%d/x?a=1", th_portn(1)));
	/* Another server's address is left alone. */
	r = th_get(th_portn(1), "/respond?Location=http://127.0.0.2:1/x");
	ck_assert_pstr_eq(th_header(r, "Location"), "http://127.0.0.2:1/x");
	/* Off in the route. */
	r = th_get(th_portn(1), th_printf("/off%s", q));
	ck_assert_pstr_eq(th_header(r, "Location"),
	    th_printf("http://127.0.0.1:%d/x?a=1", up));
	/* Off in the site, inherited by its route "/"; on in "/on/". */
	r = th_get(th_portn(3), q);
	ck_assert_pstr_eq(th_header(r, "Location"),
	    th_printf("http://127.0.0.1:%d/x?a=1", up));
	r = th_get(th_portn(3), th_printf("/on%s", q));
	ck_assert_pstr_eq(th_header(r, "Location"), "http://localhost/x?a=1");
}
END_TEST

/* <err> has a line matching the regex <want>. */
static void
expect(const char *err, const char *want)
{
	ck_assert_msg(th_match(err, want), "expected /%s/ in:\n%s", want, err);
}

START_TEST(config_errors)
{
	const char	*err;

	/* Every rule is compiled and every error reported, each at the
	 * line of the key at fault. */
	err = th_refused(TH_BASE
	    "module_path = \"@BUILDDIR@/modules/rewrite/.libs\";\n"
	    "modules = [ \"rewrite\" ];\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\"; routes = ( {\n"
	    "  path = \"/\"; upstream = \"o\"; rewrite = (\n"
	    "  { match = \"^/(a\"; to = \"/x\"; },\n"
	    "  { match = \"^/(a)\"; to = \"/x/$hots\"; },\n"
	    "  { match = \"^/(a)\"; to = \"/x/$3\"; },\n"
	    "  { match = \"^/\"; to = \"/x\";\n"
	    "    flag = \"stop\"; },\n"
	    "  { match = \"^/\"; to = \"/x\"; flag = 302; },\n"
	    "  { match = \"^/\"; to = \"/x\"; color = \"red\"; },\n"
	    "  { match = 5; to = \"/x\"; },\n"
	    "  { to = \"/x\"; },\n"
	    "  { match = \"^/\"; to = \"/x\"; method = [ ]; },\n"
	    "  { match = \"^/\"; to = \"http://a/\"; },\n"
	    "  { match = \"^/\"; to = \"/x\"; header = { match = \"y\"; }; },\n"
	    "  { match = \"^/\"; to = \"/x\"; file_exists = \"yes\"; } );\n"
	    "  rewrite_location = 1; } ); } );\n", NULL);
	expect(err, "lintel\\.conf:7: rewrite: match: invalid regex at "
	    "offset 4: missing closing parenthesis");
	expect(err, "lintel\\.conf:8: rewrite: to: unknown variable \\$hots "
	    "at offset 3");
	expect(err, "lintel\\.conf:9: rewrite: to: \\$3 at offset 3, but "
	    "match has 1 group\n");
	expect(err, "lintel\\.conf:11: rewrite: flag: unknown flag \"stop\" "
	    "\\(expected last, break, redirect, permanent, 307 or 308\\)");
	expect(err, "lintel\\.conf:12: rewrite: flag: unknown flag \"302\"");
	expect(err, "lintel\\.conf:13: rewrite: unknown key \"color\" in a "
	    "rule");
	expect(err, "lintel\\.conf:14: rewrite: match: expected a string");
	expect(err, "lintel\\.conf:15: rewrite: match: required");
	expect(err, "lintel\\.conf:16: rewrite: method: an empty list "
	    "matches no request");
	expect(err, "lintel\\.conf:17: rewrite: to: an absolute URL needs "
	    "flag redirect");
	expect(err, "lintel\\.conf:18: rewrite: header: name is required");
	expect(err, "lintel\\.conf:19: rewrite: file_exists: expected true "
	    "or false");
	expect(err, "lintel\\.conf:20: rewrite: rewrite_location: expected "
	    "true or false");

	/* Not a list of groups; a key outside its scopes. */
	err = th_refused(TH_BASE
	    "module_path = \"@BUILDDIR@/modules/rewrite/.libs\";\n"
	    "modules = [ \"rewrite\" ];\n"
	    "rewrite_location = true;\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  rewrite = \"^/ /x\";\n"
	    "  routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n", NULL);
	expect(err, "lintel\\.conf:4: rewrite_location: key of module "
	    "'rewrite' not allowed at the top level");
	expect(err, "lintel\\.conf:7: rewrite: expected a list of rule "
	    "groups");

	/* Without the module, its keys are refused with its name. */
	err = th_refused(TH_BASE
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  rewrite = ( { match = \"^/\"; to = \"/x\"; } );\n"
	    "  routes = ( { path = \"/\"; upstream = \"o\";\n"
	    "    rewrite_location = false; } ); } );\n", NULL);
	expect(err, "lintel\\.conf:4: rewrite: belongs to module 'rewrite', "
	    "which is not loaded");
	expect(err, "lintel\\.conf:6: rewrite_location: belongs to module "
	    "'rewrite', which is not loaded");
}
END_TEST

/* Every key of the module has an entry in lintel-rewrite(5). */
START_TEST(man_page)
{
	static const char *const keys[] = {
		"rewrite", "rewrite_location", "match", "to", "flag",
		"method", "host", "header", "file_exists"
	};
	const char	*page, *conf5;

	page = th_read_file(th_printf("%s/man/lintel-rewrite.5",
	    th_srcdir()));
	conf5 = th_read_file(th_printf("%s/man/lintel.conf.5", th_srcdir()));
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(conf5);
	for (size_t i = 0; i < TH_NELEM(keys); i++)
		ck_assert_msg(th_match(page, th_printf("\n\\.It Ic %s( |\n)",
		    keys[i])), "no entry for %s in lintel-rewrite.5", keys[i]);
	ck_assert_msg(th_match(conf5, "\\.Xr lintel-rewrite 5"),
	    "lintel.conf.5 does not refer to lintel-rewrite(5)");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("55-rewrite");

	TH_TEST(s, flags_last_and_break);
	TH_TEST(s, redirects);
	TH_TEST(s, captures_and_variables);
	TH_TEST(s, conditions);
	TH_TEST(s, site_and_route_rules);
	TH_TEST(s, loop_and_errors);
	TH_TEST(s, upstream_location);
	TH_TEST(s, config_errors);
	TH_TEST(s, man_page);
	return th_run(s);
}
