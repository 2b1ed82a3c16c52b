/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for the config loader (conf.c, conf_keys.c, conf_dump.c): good
 * configs with their values, defaults and merges, one row per error message
 * the loader can print, and the -T dump read back.
 */
#include "config.h"

#include <sys/stat.h>
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libconfig.h>

#include "access_log.h"
#include "conf.h"
#include "conf_keys.h"
#include "log.h"
#include "mime.h"
#include "util.h"

static char tmpdir[] = "/tmp/lnt-check-conf-XXXXXX";

/* Write <text> to <name> in the temp dir; returns the malloc'd path. */
static char *
write_file(const char *name, const char *text)
{
	char *path = lnt_xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/*
 * Load <text> as t.conf; <errors> receives what the loader reports.  A
 * build's default user (configure --with-user) need not exist where the
 * tests run: then a config that names no user gets "nobody", appended so
 * that every line number stays where the text puts it.
 */
static lnt_conf_t *
load_text(const char *text, lnt_strlist_t *errors)
{
	bool add_user = strstr(text, "user") == NULL &&
	    getpwnam(LNT_DEFAULT_USER) == NULL;
	char *full = lnt_xasprintf("%s%s", text, add_user ?
	    "\nuser = \"nobody\";\n" : "");
	char *path = write_file("t.conf", full);
	lnt_conf_t *conf = lnt_conf_load(path, errors);

	free(full);
	free(path);
	return conf;
}

/* Load <text> and fail the test, listing the errors, if it is refused. */
static lnt_conf_t *
load_ok(const char *text)
{
	lnt_strlist_t errors = { 0 };
	lnt_conf_t *conf = load_text(text, &errors);

	ck_assert_msg(conf != NULL && errors.n == 0, "refused: %s",
	    errors.n > 0 ? errors.items[0] : "(no message)");
	lnt_strlist_free(&errors);
	return conf;
}

/*
 * <msg> with every "<tmpdir>/" taken out, so expectations read "t.conf:1:
 * ... at t.conf:2".  Returns a static buffer.
 */
static const char *
strip_dir(const char *msg)
{
	static char buf[2048];
	size_t len = strlen(tmpdir), n = 0;

	while (*msg != '\0' && n < sizeof(buf) - 1) {
		if (strncmp(msg, tmpdir, len) == 0 && msg[len] == '/')
			msg += len + 1;
		else
			buf[n++] = *msg++;
	}
	buf[n] = '\0';
	return buf;
}

/* One upstream "app" and one site using it: a valid config on 2 lines. */
#define UPS \
	"upstreams = ( { name = \"app\"; servers = ( { address = " \
	"\"127.0.0.1:8080\"; } ); } );\n"
#define UPS_WITH(x) \
	"upstreams = ( { name = \"app\"; servers = ( { address = " \
	"\"127.0.0.1:8080\"; } ); " x " } );\n"
#define SERVER_WITH(x) \
	"upstreams = ( { name = \"app\"; servers = ( { address = " \
	"\"127.0.0.1:8080\"; " x " } ); } );\n"
#define ROUTES \
	"routes = ( { path = \"/\"; upstream = \"app\"; } );"
#define SITE_WITH(x) \
	"sites = ( { listen = \"127.0.0.1:8000\"; " ROUTES " " x " } );\n"
#define SITE	SITE_WITH("")
#define ROUTE_WITH(x) \
	"sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = " \
	"\"/\"; upstream = \"app\"; " x " } ); } );\n"
#define STATIC_ROUTE(x) \
	"sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = " \
	"\"/\"; " x " } ); } );\n"
#define LISTEN_SITE(l, x) \
	"{ listen = \"" l "\"; " ROUTES " " x " }"
#define TWO_SITES(a, b) \
	"sites = (\n" a ",\n" b "\n);\n"

#define DURATION_OF(x) "expected a duration" x " such as \"30s\" or an " \
	"integer of seconds"
#define SIZE_OF(x) "expected a size" x " such as \"16k\" or an integer " \
	"of bytes"

#define MODULE_KEY(k, m) \
	k ": belongs to module '" m "', which is not loaded (add \"" m \
	"\" to modules)"

/* A config and the one error it must produce, as "file:line: message". */
static const struct {
	const char	*text;
	const char	*error;
} bad[] = {
	/* Reading. */
	{ "workers = ;\n" UPS SITE, "t.conf:1: syntax error" },
	{ "workers = 1;\nworkers = 2;\n" UPS SITE,
	  "t.conf:2: syntax error: duplicate setting name" },
	{ UPS SITE "@include \"lnt-missing.conf\"\n",
	  "t.conf:3: cannot open include file" },

	/* Top level. */
	{ "workers = 0;\n" UPS SITE,
	  "t.conf:1: workers: expected an integer from 1 to 512, got 0" },
	{ "workers = 513;\n" UPS SITE,
	  "t.conf:1: workers: expected an integer from 1 to 512, got 513" },
	{ "workers = \"many\";\n" UPS SITE,
	  "t.conf:1: workers: expected \"auto\" or an integer from 1 to 512, "
	  "got \"many\"" },
	{ "worker_connections = 8;\n" UPS SITE,
	  "t.conf:1: worker_connections: expected an integer from 16 to "
	  "1048576, got 8" },
	{ "worker_connections = 1.5;\n" UPS SITE,
	  "t.conf:1: worker_connections: expected an integer from 16 to "
	  "1048576, got 1.5" },
	{ "user = \"\";\n" UPS SITE,
	  "t.conf:1: user: expected a non-empty string, got \"\"" },
	{ "user = \"lnt-no-such-user\";\n" UPS SITE,
	  "t.conf:1: user: unknown user 'lnt-no-such-user'" },
	{ "\n" UPS SITE "group = \"lnt-no-such-group\";\n",
	  "t.conf:4: group: unknown group 'lnt-no-such-group'" },
	{ "pid_file = 5;\n" UPS SITE,
	  "t.conf:1: pid_file: expected a non-empty string, got 5" },
	{ "error_log = [ \"a\" ];\n" UPS SITE,
	  "t.conf:1: error_log: expected a non-empty string, got an array" },
	{ "log_level = \"loud\";\n" UPS SITE,
	  "t.conf:1: log_level: expected one of emerg, alert, crit, error, "
	  "warn, notice, info, debug, got \"loud\"" },
	{ "log_level = 3;\n" UPS SITE,
	  "t.conf:1: log_level: expected one of emerg, alert, crit, error, "
	  "warn, notice, info, debug, got 3" },
	{ "shutdown_timeout = 1.5;\n" UPS SITE,
	  "t.conf:1: shutdown_timeout: " DURATION_OF("") ", got 1.5" },
	{ "shutdown_timeout = true;\n" UPS SITE,
	  "t.conf:1: shutdown_timeout: " DURATION_OF("") ", got true" },
	{ "shutdown_timeout = -1;\n" UPS SITE,
	  "t.conf:1: shutdown_timeout: " DURATION_OF("") ", got -1" },
	{ "shutdown_timeout = \"5x\";\n" UPS SITE,
	  "t.conf:1: shutdown_timeout: expected a unit (ms, s, m, h or d) "
	  "after each number, got \"5x\"" },
	{ "shutdown_timeout = \"999999999999d\";\n" UPS SITE,
	  "t.conf:1: shutdown_timeout: duration is too large, got "
	  "\"999999999999d\"" },
	{ "shutdown_timeout = 9223372036854775807L;\n" UPS SITE,
	  "t.conf:1: shutdown_timeout: duration is too large, got "
	  "9223372036854775807" },
	{ "client_header_timeout = 0;\n" UPS SITE,
	  "t.conf:1: client_header_timeout: " DURATION_OF(" of at least 1ms")
	  ", got 0" },
	{ "max_header_size = \"2m\";\n" UPS SITE,
	  "t.conf:1: max_header_size: " SIZE_OF(" from 1k to 1m")
	  ", got \"2m\"" },
	{ "max_header_size = 512;\n" UPS SITE,
	  "t.conf:1: max_header_size: " SIZE_OF(" from 1k to 1m") ", got 512" },
	{ "max_body_size = 1.5;\n" UPS SITE,
	  "t.conf:1: max_body_size: " SIZE_OF("") ", got 1.5" },
	{ "max_body_size = \"1x\";\n" UPS SITE,
	  "t.conf:1: max_body_size: expected a size unit k, m or g after the "
	  "number, got \"1x\"" },
	{ "max_body_size = \"x\";\n" UPS SITE,
	  "t.conf:1: max_body_size: expected a size such as \"16k\", \"10m\", "
	  "\"2g\" or a number of bytes, got \"x\"" },
	{ "max_body_size = \"9999999999g\";\n" UPS SITE,
	  "t.conf:1: max_body_size: size is too large, got \"9999999999g\"" },
	{ "modules = [ \"acl\" ]; module_path = \"/nonexistent\";\n" UPS SITE,
	  "t.conf:1: modules: cannot load /nonexistent/acl.so: cannot open "
	  "shared object file: No such file or directory" },
	{ "modules = \"acl\";\n" UPS SITE,
	  "t.conf:1: modules: expected a list of strings, got \"acl\"" },
	{ "modules = ( 5 );\n" UPS SITE,
	  "t.conf:1: modules: expected a list of strings, got 5" },
	{ "access_log = \"x.log\";\n" UPS SITE,
	  "t.conf:1: access_log: expected a group { ... }, got \"x.log\"" },
	{ "access_log = {\n format = \"json\";\n};\n" UPS SITE,
	  "t.conf:1: access_log: missing required key 'path'" },
	{ "access_log = {\n path = \"a.log\";\n format = \"$nope\";\n};\n"
	  UPS SITE, "t.conf:3: format: unknown variable '$nope'" },
	{ "access_log = { path = \"a.log\"; size = 1; };\n" UPS SITE,
	  "t.conf:1: size: unknown key in access_log" },
	{ "workrs = 2;\n" UPS SITE,
	  "t.conf:1: workrs: unknown key at the top level (did you mean "
	  "'workers'?)" },
	{ "max_header = 5;\n" UPS SITE,
	  "t.conf:1: max_header: unknown key at the top level (did you mean "
	  "'max_header_size'?)" },
	{ "frobnicate = 1;\n" UPS SITE,
	  "t.conf:1: frobnicate: unknown key at the top level" },
	{ "keepalive = 5;\n" UPS SITE,
	  "t.conf:1: keepalive: not allowed at the top level (allowed in an "
	  "upstream)" },
	{ "cache = { };\n" UPS SITE,
	  "t.conf:1: " MODULE_KEY("cache", "cache") },
	{ UPS "sites = 5;\n",
	  "t.conf:2: sites: expected a list of groups ( { ... }, ... ), "
	  "got 5" },
	{ "upstreams = ( { name = \"app\"; servers = ( { address = "
	  "\"127.0.0.1:8080\"; } ); },\n 5 );\n" SITE,
	  "t.conf:2: upstreams: expected a group { ... } in the list, got 5" },
	{ UPS "sites = ();\n",
	  "t.conf:2: sites: expected at least 1 entry, got an empty list" },
	{ UPS, "t.conf: no sites defined" },

	/* Upstreams and their servers. */
	{ UPS_WITH("keepalive = 70000;") SITE,
	  "t.conf:1: keepalive: expected an integer from 0 to 65535, "
	  "got 70000" },
	{ UPS_WITH("connect_timeout = \"0s\";") SITE,
	  "t.conf:1: connect_timeout: " DURATION_OF(" of at least 1ms")
	  ", got \"0s\"" },
	{ UPS_WITH("balance = \"random\";") SITE,
	  "t.conf:1: " MODULE_KEY("balance", "balancer") },
	{ UPS_WITH("hash_key = \"$remote_addr\";") SITE,
	  "t.conf:1: " MODULE_KEY("hash_key", "balancer") },
	{ UPS_WITH("health_check = { path = \"/\"; };") SITE,
	  "t.conf:1: " MODULE_KEY("health_check", "balancer") },
	{ UPS_WITH("nmae = \"x\";") SITE,
	  "t.conf:1: nmae: unknown key in an upstream (did you mean "
	  "'name'?)" },
	{ UPS_WITH("names = \"x\";") SITE,
	  "t.conf:1: names: not allowed in an upstream (allowed in a site)" },
	{ "upstreams = (\n { servers = ( { address = \"127.0.0.1:8080\"; } ); "
	  "},\n { name = \"app\"; servers = ( { address = \"127.0.0.1:8080\"; "
	  "} ); } );\n" SITE,
	  "t.conf:2: upstream: missing required key 'name'" },
	{ "upstreams = ( { name = \"app\"; } );\n" SITE,
	  "t.conf:1: upstream: missing required key 'servers'" },
	{ "upstreams = ( { name = \"a b\"; servers = ( { address = "
	  "\"127.0.0.1:8080\"; } ); } );\n"
	  "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = "
	  "\"/\"; upstream = \"a b\"; } ); } );\n",
	  "t.conf:1: name: expected letters, digits, '_', '.' and '-', got "
	  "\"a b\"" },
	{ "upstreams = (\n { name = \"app\"; servers = ( { address = "
	  "\"127.0.0.1:8080\"; } ); },\n { name = \"app\"; servers = ( { "
	  "address = \"127.0.0.1:8081\"; } ); } );\n" SITE,
	  "t.conf:3: name: upstream 'app' is already defined at t.conf:2" },
	{ "upstreams = ( { name = \"app\"; servers = (); } );\n" SITE,
	  "t.conf:1: servers: expected at least 1 entry, got an empty list" },
	{ SERVER_WITH("weight = 0;") SITE,
	  "t.conf:1: weight: expected an integer from 1 to 1000, got 0" },
	{ SERVER_WITH("backup = \"yes\";") SITE,
	  "t.conf:1: backup: expected true or false, got \"yes\"" },
	{ "upstreams = ( { name = \"app\"; servers = ( { weight = 2; } ); "
	  "} );\n" SITE, "t.conf:1: server: missing required key 'address'" },
	{ "upstreams = ( { name = \"app\"; servers = ( { address = "
	  "\"1.2.3.4\"; } ); } );\n" SITE,
	  "t.conf:1: address: expected ADDRESS:PORT, as in \"127.0.0.1:80\", "
	  "got \"1.2.3.4\"" },
	{ "upstreams = ( { name = \"app\"; servers = ( { address = "
	  "\"127.0.0.1:0\"; } ); } );\n" SITE,
	  "t.conf:1: address: expected a port from 1 to 65535 after the ':', "
	  "got \"127.0.0.1:0\"" },

	/* Sites. */
	{ UPS "sites = ( { " ROUTES " } );\n",
	  "t.conf:2: site: missing required key 'listen'" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; } );\n",
	  "t.conf:2: site: missing required key 'routes'" },
	{ UPS "sites = ( { listen = 5; " ROUTES " } );\n",
	  "t.conf:2: listen: expected a string or a list of strings, got 5" },
	{ UPS "sites = ( { listen = []; " ROUTES " } );\n",
	  "t.conf:2: listen: expected at least one string, got an empty list" },
	{ UPS "sites = ( { listen = \"\"; " ROUTES " } );\n",
	  "t.conf:2: listen: expected \"ADDRESS:PORT [flag ...]\", got \"\"" },
	{ UPS "sites = ( { listen = \"localhost:80\"; " ROUTES " } );\n",
	  "t.conf:2: listen: expected an IPv4 address, an [IPv6] address or "
	  "'*' before the port, got \"localhost:80\"" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000 tls\"; " ROUTES " } );\n",
	  "t.conf:2: tls: the site listens on 127.0.0.1:8000 with tls but has "
	  "no tls group" },
	{ UPS TWO_SITES(LISTEN_SITE("127.0.0.1:8000 proxy_protocol", ""),
	  LISTEN_SITE("127.0.0.1:8000", "names = \"b\";")),
	  "t.conf:4: listen: 127.0.0.1:8000 is not proxy_protocol here but "
	  "proxy_protocol at t.conf:3" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000 backlog=0\"; " ROUTES
	  " } );\n", "t.conf:2: listen: expected backlog=N with N from 1 to "
	  "65535, got \"backlog=0\"" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000 ssl\"; " ROUTES " } );\n",
	  "t.conf:2: listen: unknown flag 'ssl' (expected backlog=N, tls or "
	  "proxy_protocol)" },
	{ UPS "sites = ( { listen = [ \"*:8000\",\n \"0.0.0.0:8000\" ]; "
	  ROUTES " } );\n",
	  "t.conf:3: listen: 0.0.0.0:8000 is listed twice in this site" },
	{ UPS TWO_SITES(LISTEN_SITE("0.0.0.0:8000", ""),
	  LISTEN_SITE("127.0.0.1:8000", "")),
	  "t.conf:4: listen 127.0.0.1:8000 overlaps 0.0.0.0:8000 (t.conf:3)" },
	{ UPS TWO_SITES(LISTEN_SITE("[::1]:8000", ""),
	  LISTEN_SITE("[::]:8000", "")),
	  "t.conf:4: listen [::]:8000 overlaps [::1]:8000 (t.conf:3)" },
	{ UPS TWO_SITES(LISTEN_SITE("127.0.0.1:8000 backlog=5", ""),
	  LISTEN_SITE("127.0.0.1:8000 backlog=6", "")),
	  "t.conf:4: listen: backlog=6 for 127.0.0.1:8000 conflicts with "
	  "backlog=5 at t.conf:3" },
	{ UPS TWO_SITES(LISTEN_SITE("127.0.0.1:8000", "default = true;"),
	  LISTEN_SITE("127.0.0.1:8000", "default = true;")),
	  "t.conf:4: default: 127.0.0.1:8000 already has a default site at "
	  "t.conf:3" },
	{ UPS TWO_SITES(LISTEN_SITE("127.0.0.1:8000", "names = \"a.example\";"),
	  LISTEN_SITE("127.0.0.1:8000", "names = \"A.Example\";")),
	  "t.conf:4: names: 'a.example' is already used on 127.0.0.1:8000 by "
	  "the site at t.conf:3" },
	{ UPS TWO_SITES(LISTEN_SITE("127.0.0.1:8000", "names = \"~^a\";"),
	  LISTEN_SITE("127.0.0.1:8000", "names = \"~^a\";")),
	  "t.conf:4: names: '~^a' is already used on 127.0.0.1:8000 by the "
	  "site at t.conf:3" },
	{ UPS SITE_WITH("names = [ \"A.example\", \"a.example\" ];"),
	  "t.conf:2: names: 'a.example' is listed twice in this site" },
	{ UPS SITE_WITH("names = \"a b\";"),
	  "t.conf:2: names: expected a host name, \"*.domain\" or \"~regex\", "
	  "got \"a b\"" },
	{ UPS SITE_WITH("names = \"~(\";"),
	  "t.conf:2: names: invalid regex \"(\" at offset 1: missing closing "
	  "parenthesis" },
	{ UPS SITE_WITH("names = ( 5 );"),
	  "t.conf:2: names: expected a string or a list of strings, got 5" },
	{ UPS SITE_WITH("default = 1;"),
	  "t.conf:2: default: expected true or false, got 1" },
	{ UPS SITE_WITH("tls = { };"),
	  "t.conf:2: tls: missing required key 'certificates'" },
	{ UPS SITE_WITH("rewrite = ( );"),
	  "t.conf:2: " MODULE_KEY("rewrite", "rewrite") },
	{ UPS SITE_WITH("acl = ( );"), "t.conf:2: " MODULE_KEY("acl", "acl") },
	{ UPS SITE_WITH("max_body_size = -1;"),
	  "t.conf:2: max_body_size: " SIZE_OF("") ", got -1" },
	{ UPS SITE_WITH("upstream = \"app\";"),
	  "t.conf:2: upstream: not allowed in a site (allowed in a route)" },
	{ UPS SITE_WITH("cache = { };"),
	  "t.conf:2: cache: not allowed in a site (allowed at the top level, "
	  "in a route)" },
	{ UPS SITE_WITH("nmaes = \"a\";"),
	  "t.conf:2: nmaes: unknown key in a site (did you mean 'names'?)" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; routes = (); } );\n",
	  "t.conf:2: routes: expected at least 1 entry, got an empty list" },

	/* Routes. */
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { upstream "
	  "= \"app\"; } ); } );\n",
	  "t.conf:2: route: missing required key 'path'" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = "
	  "\"/\"; } ); } );\n",
	  "t.conf:2: route: needs one of upstream, root or return" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = "
	  "\"x\"; upstream = \"app\"; } ); } );\n",
	  "t.conf:2: path: expected a path starting with \"/\" or \"~regex\", "
	  "got \"x\"" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = "
	  "\"~(\"; upstream = \"app\"; } ); } );\n",
	  "t.conf:2: path: invalid regex \"(\" at offset 1: missing closing "
	  "parenthesis" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = "
	  "5; upstream = \"app\"; } ); } );\n",
	  "t.conf:2: path: expected a non-empty string, got 5" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = "
	  "\"/\";\n upstream = \"ap\"; } ); } );\n",
	  "t.conf:3: upstream: upstream 'ap' is not defined (did you mean "
	  "'app'?)" },
	{ "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = "
	  "\"/\"; upstream = \"zzz\"; } ); } );\n" UPS,
	  "t.conf:1: upstream: upstream 'zzz' is not defined" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8000\"; routes = ( { path = "
	  "\"/\"; upstream = 5; } ); } );\n",
	  "t.conf:2: upstream: expected a non-empty string, got 5" },
	{ UPS ROUTE_WITH("cache = { valid = \"60s\"; };"),
	  "t.conf:2: " MODULE_KEY("cache", "cache") },
	{ UPS ROUTE_WITH("compress = true;"),
	  "t.conf:2: " MODULE_KEY("compress", "compress") },
	{ UPS ROUTE_WITH("acl = ( );"), "t.conf:2: " MODULE_KEY("acl", "acl") },
	{ UPS ROUTE_WITH("listen = \"127.0.0.1:1\";"),
	  "t.conf:2: listen: not allowed in a route (allowed in a site)" },
	{ UPS ROUTE_WITH("send_timeout = 5;"),
	  "t.conf:2: send_timeout: not allowed in a route (allowed at the top "
	  "level, in a site, in an upstream)" },
	{ UPS ROUTE_WITH("upstraem = \"app\";"),
	  "t.conf:2: upstraem: unknown key in a route (did you mean "
	  "'upstream'?)" },

	/* Static routes, return and error pages (fixtures: write_fixtures). */
	{ UPS ROUTE_WITH("root = \".\";"),
	  "t.conf:2: route: upstream and root are exclusive" },
	{ STATIC_ROUTE("root = \".\"; return = { status = 204; };"),
	  "t.conf:1: route: root and return are exclusive" },
	{ UPS ROUTE_WITH("root = \".\"; return = { status = 204; };"),
	  "t.conf:2: route: upstream, root and return are exclusive" },
	{ STATIC_ROUTE("root = \"lnt-nowhere\";"),
	  "t.conf:1: root: cannot use 'lnt-nowhere': No such file or "
	  "directory" },
	{ STATIC_ROUTE("root = \"t.conf\";"),
	  "t.conf:1: root: 't.conf' is not a directory" },
	{ STATIC_ROUTE("root = 5;"),
	  "t.conf:1: root: expected a non-empty string, got 5" },
	{ STATIC_ROUTE("root = \".\"; index = [ \"a/b\" ];"),
	  "t.conf:1: index: expected a file name without '/', got \"a/b\"" },
	{ STATIC_ROUTE("root = \".\"; index = 5;"),
	  "t.conf:1: index: expected a string or a list of strings, got 5" },
	{ STATIC_ROUTE("root = \".\"; allow_symlinks = \"yes\";"),
	  "t.conf:1: allow_symlinks: expected true or false, got \"yes\"" },
	{ STATIC_ROUTE("return = 301;"),
	  "t.conf:1: return: expected a group { ... }, got 301" },
	{ STATIC_ROUTE("return = { body = \"x\"; };"),
	  "t.conf:1: return: missing required key 'status'" },
	{ STATIC_ROUTE("return = { status = 100; };"),
	  "t.conf:1: status: expected an integer from 200 to 599, got 100" },
	{ STATIC_ROUTE("return = { status = 301; };"),
	  "t.conf:1: return: status 301 needs a location" },
	{ STATIC_ROUTE("return = { status = 200; location = \"/x\"; };"),
	  "t.conf:1: return: location needs a redirect status (301, 302, 303, "
	  "307 or 308), got 200" },
	{ STATIC_ROUTE("return = { status = 302; location = \"/$foo/x\"; };"),
	  "t.conf:1: location: unknown variable '$foo' (expected $scheme, "
	  "$host or $request_uri)" },
	{ STATIC_ROUTE("return = { status = 204; body = \"x\"; };"),
	  "t.conf:1: return: status 204 has no body" },
	{ STATIC_ROUTE("return = { status = 200; size = 1; };"),
	  "t.conf:1: size: unknown key in return" },
	{ "mime_types = \"lnt-none.types\";\n" UPS SITE,
	  "t.conf:1: mime_types: cannot read 'lnt-none.types': No such file "
	  "or directory" },
	{ "mime_types = \"bad.types\";\n" UPS SITE,
	  "t.conf:1: mime_types: bad.types:3: expected a media type such as "
	  "\"text/html\" before the extensions, got \"nonsense\"" },
	{ UPS SITE_WITH("mime_types = 5;"),
	  "t.conf:2: mime_types: expected a non-empty string, got 5" },
	{ UPS SITE_WITH("error_pages = 5;"),
	  "t.conf:2: error_pages: expected a list of groups ( { ... }, ... ), "
	  "got 5" },
	{ UPS SITE_WITH("error_pages = ( { file = \"page.html\"; } );"),
	  "t.conf:2: error page: missing required key 'status'" },
	{ UPS SITE_WITH("error_pages = ( { status = 404; } );"),
	  "t.conf:2: error page: missing required key 'file'" },
	{ UPS SITE_WITH("error_pages = ( { status = 200; file = "
	  "\"page.html\"; } );"),
	  "t.conf:2: status: expected an integer from 400 to 599 or a list of "
	  "them, got 200" },
	{ UPS SITE_WITH("error_pages = ( { status = ( 404, \"410\" ); file = "
	  "\"page.html\"; } );"),
	  "t.conf:2: status: expected an integer from 400 to 599 or a list of "
	  "them, got \"410\"" },
	{ UPS SITE_WITH("error_pages = ( { status = []; file = "
	  "\"page.html\"; } );"),
	  "t.conf:2: status: expected at least one status, got an empty list" },
	{ UPS SITE_WITH("error_pages = (\n { status = 404; file = "
	  "\"page.html\"; },\n { status = [ 410, 404 ]; file = "
	  "\"page.html\"; } );"),
	  "t.conf:4: status: 404 already has a page at t.conf:3" },
	{ UPS SITE_WITH("error_pages = ( { status = 404; file = "
	  "\"lnt-none.html\"; } );"),
	  "t.conf:2: file: cannot read 'lnt-none.html': No such file or "
	  "directory" },
	{ UPS SITE_WITH("error_pages = ( { status = 404; file = "
	  "\"big.html\"; } );"),
	  "t.conf:2: file: 'big.html' is larger than 64k" },
	{ UPS SITE_WITH("error_pages = ( { status = 404; file = \"www\"; } );"),
	  "t.conf:2: file: 'www' is not a regular file" },
	{ UPS ROUTE_WITH("error_pages = ( );"),
	  "t.conf:2: error_pages: not allowed in a route (allowed in a site)" },
	{ UPS SITE_WITH("root = \".\";"),
	  "t.conf:2: root: not allowed in a site (allowed in a route)" },
};

START_TEST(bad_config)
{
	lnt_strlist_t errors = { 0 };
	lnt_conf_t *conf;
	size_t i;

	conf = load_text(bad[_i].text, &errors);
	ck_assert_ptr_null(conf);
	for (i = 0; i < errors.n; i++)
		ck_assert_msg(errors.n == 1, "row %d: %zu errors; #%zu: %s",
		    _i, errors.n, i, errors.items[i]);
	ck_assert_uint_eq(errors.n, 1);
	ck_assert_str_eq(strip_dir(errors.items[0]), bad[_i].error);
	lnt_strlist_free(&errors);
}
END_TEST

START_TEST(unresolvable_server)
{
	lnt_strlist_t errors = { 0 };
	const char *want =
	    "t.conf:1: address: cannot resolve 'nosuch.invalid': ";

	ck_assert_ptr_null(load_text("upstreams = ( { name = \"app\"; "
	    "servers = ( { address = \"nosuch.invalid:80\"; } ); } );\n" SITE,
	    &errors));
	ck_assert_uint_eq(errors.n, 1);
	/* The resolver's own words vary with the network; the rest does not. */
	ck_assert_msg(strncmp(strip_dir(errors.items[0]), want,
	    strlen(want)) == 0, "%s", errors.items[0]);
	ck_assert_msg(strstr(errors.items[0], ", got \"nosuch.invalid:80\"") !=
	    NULL, "%s", errors.items[0]);
	lnt_strlist_free(&errors);
}
END_TEST

START_TEST(unreadable)
{
	lnt_strlist_t errors = { 0 };
	char *path = lnt_xasprintf("%s/lnt-none.conf", tmpdir), *want;

	ck_assert_ptr_null(lnt_conf_load(path, &errors));
	ck_assert_uint_eq(errors.n, 1);
	want = lnt_xasprintf("%s: cannot read: No such file or directory",
	    path);
	ck_assert_str_eq(errors.items[0], want);
	free(want);
	lnt_strlist_free(&errors);

	ck_assert_ptr_null(lnt_conf_load(tmpdir, &errors));
	ck_assert_uint_eq(errors.n, 1);
	want = lnt_xasprintf("%s: cannot read: Is a directory", tmpdir);
	ck_assert_str_eq(errors.items[0], want);
	free(want);
	lnt_strlist_free(&errors);
	free(path);
}
END_TEST

START_TEST(all_errors_reported)
{
	static const char *const want[] = {
		"t.conf:1: workers: expected an integer from 1 to 512, got 0",
		"t.conf:2: frob: unknown key at the top level",
		"t.conf:4: weight: expected an integer from 1 to 1000, got 0",
		"t.conf:8: path: expected a path starting with \"/\" or "
		    "\"~regex\", got \"x\"",
		"t.conf:9: upstream: upstream 'nope' is not defined",
		"t.conf:5: tls: the site listens on 127.0.0.1:8000 with tls "
		    "but has no tls group",
	};
	lnt_strlist_t errors = { 0 };
	size_t i;

	ck_assert_ptr_null(load_text(
	    "workers = 0;\n"
	    "frob = 1;\n"
	    "upstreams = ( { name = \"app\";\n"
	    "  servers = ( { address = \"127.0.0.1:1\"; weight = 0; } ); } );\n"
	    "sites = ( {\n"
	    "  listen = \"127.0.0.1:8000 tls\";\n"
	    "  routes = (\n"
	    "    { path = \"x\"; upstream = \"app\"; },\n"
	    "    { path = \"/\"; upstream = \"nope\"; } );\n"
	    "} );\n", &errors));
	ck_assert_uint_eq(errors.n, LNT_NELEM(want));
	for (i = 0; i < LNT_NELEM(want); i++)
		ck_assert_str_eq(strip_dir(errors.items[i]), want[i]);
	lnt_strlist_free(&errors);
}
END_TEST

/* The primary group of <user>, as a name. */
static char *
primary_group(const char *user)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr;

	ck_assert_ptr_nonnull(pw);
	gr = getgrgid(pw->pw_gid);
	ck_assert_ptr_nonnull(gr);
	return lnt_xstrdup(gr->gr_name);
}

/* Without the build's default user on this machine, loading must say so. */
START_TEST(default_user_missing)
{
	lnt_strlist_t errors = { 0 };
	char *path, *want;

	if (getpwnam(LNT_DEFAULT_USER) != NULL)
		return;		/* covered by "defaults" */
	path = write_file("t.conf", UPS SITE);
	ck_assert_ptr_null(lnt_conf_load(path, &errors));
	want = lnt_xasprintf("unknown user '%s'", LNT_DEFAULT_USER);
	ck_assert_uint_eq(errors.n, 1);
	ck_assert_msg(strstr(errors.items[0], want) != NULL, "%s",
	    errors.items[0]);
	free(want);
	free(path);
	lnt_strlist_free(&errors);
}
END_TEST

START_TEST(defaults)
{
	lnt_conf_t *conf;
	struct passwd *pw = getpwnam(LNT_DEFAULT_USER);
	lnt_upstream_t *up;
	lnt_site_t *site;
	char *group, *label;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (pw == NULL)
		return;		/* see default_user_missing */
	conf = load_ok(UPS SITE);

	ck_assert_int_eq(conf->workers, cpus > 512 ? 512 : cpus < 1 ? 1 :
	    (int)cpus);
	ck_assert_int_eq(conf->worker_connections, 1024);
	ck_assert_str_eq(conf->user, LNT_DEFAULT_USER);
	group = primary_group(LNT_DEFAULT_USER);
	ck_assert_str_eq(conf->group, group);
	free(group);
	ck_assert_int_eq(conf->uid, pw->pw_uid);
	ck_assert_int_eq(conf->gid, pw->pw_gid);
	ck_assert_str_eq(conf->pid_file, LNT_PID_PATH);
	ck_assert_str_eq(conf->error_log, LNT_ERROR_LOG_PATH);
	ck_assert_int_eq(conf->log_level, LNT_LOG_NOTICE);
	ck_assert_int_eq(conf->shutdown_timeout, 30000);
	ck_assert_uint_eq(conf->nmodules, 0);
	ck_assert_ptr_null(conf->access_log);
	ck_assert_int_eq(conf->limits.client_header_timeout, 60000);
	ck_assert_int_eq(conf->limits.client_body_timeout, 60000);
	ck_assert_int_eq(conf->limits.keepalive_timeout, 75000);
	ck_assert_int_eq(conf->limits.send_timeout, 60000);
	ck_assert_int_eq(conf->limits.max_header_size, 16384);
	ck_assert_int_eq(conf->limits.max_body_size, 1048576);

	ck_assert_uint_eq(conf->nupstreams, 1);
	up = &conf->upstreams[0];
	ck_assert_str_eq(up->name, "app");
	ck_assert_int_eq(up->keepalive, 32);
	ck_assert_int_eq(up->connect_timeout, 5000);
	ck_assert_int_eq(up->send_timeout, 60000);
	ck_assert_int_eq(up->read_timeout, 60000);
	ck_assert_int_eq(up->line, 1);
	ck_assert_str_eq(strip_dir(up->file), "t.conf");
	ck_assert_uint_eq(up->nservers, 1);
	ck_assert_str_eq(up->servers[0].address, "127.0.0.1:8080");
	ck_assert_int_eq(up->servers[0].addr.ss_family, AF_INET);
	ck_assert_int_eq(up->servers[0].weight, 1);
	ck_assert(!up->servers[0].backup);

	ck_assert_uint_eq(conf->nsites, 1);
	site = &conf->sites[0];
	ck_assert_mem_eq(&site->limits, &conf->limits, sizeof(site->limits));
	ck_assert(!site->is_default);
	ck_assert_uint_eq(site->nnames, 0);
	label = lnt_xasprintf("%s/t.conf:2", tmpdir);
	ck_assert_str_eq(site->label, label);
	free(label);
	ck_assert_uint_eq(site->nroutes, 1);
	ck_assert_str_eq(site->routes[0].path, "/");
	ck_assert_uint_eq(site->routes[0].path_len, 1);
	ck_assert_ptr_null(site->routes[0].regex);
	ck_assert_ptr_eq(site->routes[0].upstream, up);

	ck_assert_uint_eq(conf->nlistens, 1);
	ck_assert_str_eq(conf->listens[0].text, "127.0.0.1:8000");
	ck_assert_int_eq(conf->listens[0].fd, -1);
	ck_assert_int_eq(conf->listens[0].backlog, 511);
	ck_assert_uint_eq(conf->listens[0].nsites, 1);
	ck_assert_ptr_eq(conf->listens[0].default_site, site);
	ck_assert_uint_eq(site->nlistens, 1);
	ck_assert_ptr_eq(site->listens[0], &conf->listens[0]);
	lnt_conf_free(conf);
}
END_TEST

#define FULL_CONFIG \
	"workers = 3;\n" \
	"worker_connections = 2048;\n" \
	"user = \"nobody\";\n" \
	"pid_file = \"run/lintel.pid\";\n" \
	"error_log = \"stderr\";\n" \
	"log_level = \"debug\";\n" \
	"shutdown_timeout = \"1m30s\";\n" \
	"modules = [];\n" \
	"access_log = { path = \"logs/access.log\"; format = \"json\"; };\n" \
	"client_header_timeout = 10;\n" \
	"client_body_timeout = \"250ms\";\n" \
	"keepalive_timeout = 0;\n" \
	"send_timeout = \"1h\";\n" \
	"max_header_size = 4096;\n" \
	"max_body_size = \"2g\";\n" \
	"upstreams = (\n" \
	"  { name = \"app\";\n" \
	"    servers = ( { address = \"10.0.0.11:8080\"; weight = 3; },\n" \
	"                { address = \"[::1]:8081\"; backup = true; } );\n" \
	"    keepalive = 0; connect_timeout = \"3s\";\n" \
	"    send_timeout = 7; read_timeout = \"1d\"; },\n" \
	"  { name = \"static.v2\"; servers = ( { address = " \
	"\"127.0.0.1:9000\"; } ); }\n" \
	");\n" \
	"sites = (\n" \
	"  { listen = [ \"0.0.0.0:8000\", \"[::]:8000 backlog=128\" ];\n" \
	"    names = [ \"Example.COM\", \"*.example.com\", " \
	"\"~^www\\\\d+\\\\.x$\" ];\n" \
	"    keepalive_timeout = \"5s\";\n" \
	"    max_body_size = 0;\n" \
	"    routes = (\n" \
	"      { path = \"~^/api/v[12]/\"; upstream = \"app\"; },\n" \
	"      { path = \"/static/\"; upstream = \"static.v2\"; }\n" \
	"    ); },\n" \
	"  { listen = \"*:8000\"; names = \"other.example\";\n" \
	"    default = true;\n" \
	"    routes = ( { path = \"/\"; upstream = \"app\"; } ); },\n" \
	"  { listen = [ \"127.0.0.1:8001\", \"127.0.0.2:8001\" ];\n" \
	"    routes = ( { path = \"/\"; upstream = \"app\"; } ); }\n" \
	");\n"

START_TEST(values)
{
	lnt_conf_t *conf = load_ok(FULL_CONFIG);
	lnt_site_t *s0, *s1, *s2;
	lnt_upstream_t *up;
	pcre2_match_data *md;
	char *want;

	ck_assert_int_eq(conf->workers, 3);
	ck_assert_int_eq(conf->worker_connections, 2048);
	ck_assert_str_eq(conf->user, "nobody");
	want = lnt_xasprintf("%s/run/lintel.pid", tmpdir);
	ck_assert_str_eq(conf->pid_file, want);
	free(want);
	ck_assert_str_eq(conf->error_log, "stderr");
	ck_assert_int_eq(conf->log_level, LNT_LOG_DEBUG);
	ck_assert_int_eq(conf->shutdown_timeout, 90000);
	ck_assert_ptr_nonnull(conf->access_log);
	want = lnt_xasprintf("%s/logs/access.log", tmpdir);
	ck_assert_str_eq(lnt_access_log_path(conf->access_log), want);
	free(want);
	ck_assert_str_eq(lnt_access_log_format(conf->access_log), "json");
	ck_assert_int_eq(conf->limits.client_header_timeout, 10000);
	ck_assert_int_eq(conf->limits.client_body_timeout, 250);
	ck_assert_int_eq(conf->limits.keepalive_timeout, 0);
	ck_assert_int_eq(conf->limits.send_timeout, 3600000);
	ck_assert_int_eq(conf->limits.max_header_size, 4096);
	ck_assert_int_eq(conf->limits.max_body_size, 2147483648LL);

	ck_assert_uint_eq(conf->nupstreams, 2);
	up = &conf->upstreams[0];
	ck_assert_int_eq(up->keepalive, 0);
	ck_assert_int_eq(up->connect_timeout, 3000);
	ck_assert_int_eq(up->send_timeout, 7000);
	ck_assert_int_eq(up->read_timeout, 86400000);
	ck_assert_uint_eq(up->nservers, 2);
	ck_assert_int_eq(up->servers[0].weight, 3);
	ck_assert_int_eq(up->servers[1].addr.ss_family, AF_INET6);
	ck_assert(up->servers[1].backup);
	ck_assert_str_eq(conf->upstreams[1].name, "static.v2");
	ck_assert_int_eq(conf->upstreams[1].send_timeout, 60000);

	ck_assert_uint_eq(conf->nsites, 3);
	s0 = &conf->sites[0];
	s1 = &conf->sites[1];
	s2 = &conf->sites[2];
	/* A site overrides some limits and inherits the rest. */
	ck_assert_int_eq(s0->limits.keepalive_timeout, 5000);
	ck_assert_int_eq(s0->limits.max_body_size, 0);
	ck_assert_int_eq(s0->limits.client_header_timeout, 10000);
	ck_assert_int_eq(s0->limits.send_timeout, 3600000);
	ck_assert_mem_eq(&s1->limits, &conf->limits, sizeof(s1->limits));

	ck_assert_uint_eq(s0->nnames, 2);
	ck_assert_str_eq(s0->names[0], "example.com");
	ck_assert_str_eq(s0->names[1], "*.example.com");
	ck_assert_str_eq(s0->label, "example.com");
	ck_assert_uint_eq(s0->nname_regexes, 1);
	ck_assert_str_eq(s0->name_regex_src[0], "^www\\d+\\.x$");
	md = pcre2_match_data_create(4, NULL);
	ck_assert_int_gt(pcre2_match(s0->name_regexes[0],
	    (PCRE2_SPTR)"WWW12.X", 7, 0, 0, md, NULL), 0);
	ck_assert_int_gt(pcre2_match(s0->routes[0].regex,
	    (PCRE2_SPTR)"/api/v2/x", 9, 0, 0, md, NULL), 0);
	ck_assert_int_lt(pcre2_match(s0->routes[0].regex,
	    (PCRE2_SPTR)"/API/v2/x", 9, 0, 0, md, NULL), 0);
	pcre2_match_data_free(md);
	ck_assert_str_eq(s0->routes[0].path, "^/api/v[12]/");
	ck_assert_ptr_eq(s0->routes[1].upstream, &conf->upstreams[1]);
	ck_assert_uint_eq(s0->routes[1].path_len, 8);

	/* 0.0.0.0:8000 is shared; [::]:8000 is another family; 8001 x2. */
	ck_assert_uint_eq(conf->nlistens, 4);
	ck_assert_str_eq(conf->listens[0].text, "0.0.0.0:8000");
	ck_assert_str_eq(conf->listens[1].text, "[::]:8000");
	ck_assert_str_eq(conf->listens[2].text, "127.0.0.1:8001");
	ck_assert_str_eq(conf->listens[3].text, "127.0.0.2:8001");
	ck_assert_int_eq(conf->listens[1].backlog, 128);
	ck_assert_uint_eq(conf->listens[0].nsites, 2);
	ck_assert_ptr_eq(conf->listens[0].sites[0], s0);
	ck_assert_ptr_eq(conf->listens[0].sites[1], s1);
	ck_assert_ptr_eq(conf->listens[0].default_site, s1);
	ck_assert_ptr_eq(conf->listens[1].default_site, s0);
	ck_assert_ptr_eq(s0->listens[1], &conf->listens[1]);
	ck_assert_ptr_eq(s1->listens[0], &conf->listens[0]);
	ck_assert_uint_eq(s2->nlistens, 2);
	ck_assert_ptr_eq(conf->listens[3].default_site, s2);
	ck_assert_int_eq(conf->listens[2].line, 36);
	lnt_conf_free(conf);
}
END_TEST

START_TEST(workers_auto)
{
	lnt_conf_t *conf = load_ok("workers = \"auto\";\n" UPS SITE);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ck_assert_int_eq(conf->workers, cpus > 512 ? 512 : cpus < 1 ? 1 :
	    (int)cpus);
	lnt_conf_free(conf);
}
END_TEST

START_TEST(explicit_group)
{
	lnt_conf_t *conf;
	char *text, *group = primary_group("root");

	text = lnt_xasprintf("user = \"nobody\";\ngroup = \"%s\";\n" UPS SITE,
	    group);
	conf = load_ok(text);
	ck_assert_str_eq(conf->group, group);
	ck_assert_int_eq(conf->gid, getpwnam("root")->pw_gid);
	lnt_conf_free(conf);
	free(text);
	free(group);
}
END_TEST

START_TEST(include)
{
	lnt_strlist_t errors = { 0 };
	lnt_conf_t *conf;
	char *p, *want;

	p = write_file("ups.conf", "# upstreams\n" UPS);
	free(p);
	conf = load_ok("workers = 2;\n@include \"ups.conf\"\n" SITE);
	ck_assert_uint_eq(conf->nupstreams, 1);
	want = lnt_xasprintf("%s/ups.conf", tmpdir);
	ck_assert_str_eq(conf->upstreams[0].file, want);
	ck_assert_int_eq(conf->upstreams[0].line, 2);
	lnt_conf_free(conf);

	/* An error in an included file names that file. */
	p = write_file("ups.conf", "\nupstreams = ( { name = \"app\"; "
	    "servers = ( { address = \"127.0.0.1:8080\"; weight = 0; } ); "
	    "} );\n");
	free(p);
	ck_assert_ptr_null(load_text("@include \"ups.conf\"\n" SITE, &errors));
	ck_assert_uint_eq(errors.n, 1);
	ck_assert_str_eq(strip_dir(errors.items[0]), "ups.conf:2: weight: "
	    "expected an integer from 1 to 1000, got 0");
	lnt_strlist_free(&errors);

	p = write_file("ups.conf", "upstreams = ( ;\n");
	free(p);
	ck_assert_ptr_null(load_text("@include \"ups.conf\"\n" SITE, &errors));
	ck_assert_uint_eq(errors.n, 1);
	ck_assert_str_eq(strip_dir(errors.items[0]),
	    "ups.conf:1: syntax error");
	lnt_strlist_free(&errors);
	free(want);
}
END_TEST

START_TEST(relative_paths)
{
	lnt_strlist_t errors = { 0 };
	lnt_conf_t *conf;
	char *want, *cwd = getcwd(NULL, 0);

	conf = load_ok("pid_file = \"x.pid\";\nerror_log = \"log/e.log\";\n"
	    "access_log = { path = \"a.log\"; };\n" UPS SITE);
	want = lnt_xasprintf("%s/x.pid", tmpdir);
	ck_assert_str_eq(conf->pid_file, want);
	free(want);
	want = lnt_xasprintf("%s/log/e.log", tmpdir);
	ck_assert_str_eq(conf->error_log, want);
	free(want);
	ck_assert_str_eq(lnt_access_log_format(conf->access_log), "combined");
	lnt_conf_free(conf);

	/* Loaded by a relative name, paths still end up absolute. */
	ck_assert_int_eq(chdir(tmpdir), 0);
	conf = lnt_conf_load("t.conf", &errors);
	ck_assert_ptr_nonnull(conf);
	want = lnt_xasprintf("%s/x.pid", tmpdir);
	ck_assert_str_eq(conf->pid_file, want);
	free(want);
	ck_assert_str_eq(conf->upstreams[0].file, "t.conf");
	lnt_conf_free(conf);
	ck_assert_int_eq(chdir(cwd), 0);
	free(cwd);

	conf = load_ok("error_log = \"syslog\";\n" UPS SITE);
	ck_assert_str_eq(conf->error_log, "syslog");
	lnt_conf_free(conf);
}
END_TEST

/* Dump <conf> into a string (malloc'd), without the first comment line. */
static char *
dump_text(const lnt_conf_t *conf)
{
	char *buf = NULL, *nl, *text;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	lnt_conf_dump(conf, f);
	fclose(f);
	ck_assert_int_eq(buf[0], '#');
	nl = strchr(buf, '\n');
	ck_assert_ptr_nonnull(nl);
	text = lnt_xstrdup(nl + 1);
	free(buf);
	return text;
}

START_TEST(dump_round_trip)
{
	lnt_conf_t *conf, *again;
	char *first, *second, *path;
	lnt_strlist_t errors = { 0 };

	conf = load_ok(FULL_CONFIG);
	first = dump_text(conf);
	/* Every key the table gives a field appears with its value. */
	ck_assert_ptr_nonnull(strstr(first, "max_header_size = \"4k\";"));
	ck_assert_ptr_nonnull(strstr(first, "shutdown_timeout = \"1m30s\";"));
	ck_assert_ptr_nonnull(strstr(first, "\t\tkeepalive_timeout = \"5s\";"));
	ck_assert_ptr_nonnull(strstr(first, "group = \""));
	ck_assert_ptr_nonnull(strstr(first, "\"~^www\\\\d+\\\\.x$\""));
	ck_assert_ptr_nonnull(strstr(first,
	    "[ \"0.0.0.0:8000 backlog=511\", \"[::]:8000 backlog=128\" ]"));
	path = write_file("dump.conf", first);
	again = lnt_conf_load(path, &errors);
	ck_assert_msg(again != NULL, "dump refused: %s\n%s",
	    errors.n ? errors.items[0] : "", first);
	second = dump_text(again);
	ck_assert_str_eq(second, first);
	ck_assert_int_eq(again->limits.client_body_timeout, 250);
	ck_assert_int_eq(again->sites[0].limits.keepalive_timeout, 5000);
	ck_assert_ptr_eq(again->listens[0].default_site, &again->sites[1]);
	lnt_conf_free(again);
	lnt_conf_free(conf);
	free(first);
	free(second);
	free(path);
}
END_TEST

/* Whether the libconfig settings <x> and <y> hold the same value. */
static bool
same_setting(const config_setting_t *x, const config_setting_t *y)
{
	int i, n = config_setting_length(x);

	if (config_setting_type(x) != config_setting_type(y))
		return false;
	switch (config_setting_type(x)) {
	case CONFIG_TYPE_INT:
		return config_setting_get_int(x) == config_setting_get_int(y);
	case CONFIG_TYPE_INT64:
		return config_setting_get_int64(x) ==
		    config_setting_get_int64(y);
	case CONFIG_TYPE_FLOAT:
		return config_setting_get_float(x) ==
		    config_setting_get_float(y);
	case CONFIG_TYPE_BOOL:
		return config_setting_get_bool(x) == config_setting_get_bool(y);
	case CONFIG_TYPE_STRING:
		return strcmp(config_setting_get_string(x),
		    config_setting_get_string(y)) == 0;
	default:
		if (n != config_setting_length(y))
			return false;
		for (i = 0; i < n; i++) {
			const config_setting_t *a, *b;
			const char *an, *bn;

			a = config_setting_get_elem(x, (unsigned)i);
			b = config_setting_get_elem(y, (unsigned)i);
			an = config_setting_name(a);
			bn = config_setting_name(b);
			if ((an == NULL) != (bn == NULL) ||
			    (an != NULL && strcmp(an, bn) != 0) ||
			    !same_setting(a, b))
				return false;
		}
		return true;
	}
}

/*
 * What -T prints for module keys: every libconfig type, read back as the
 * same value, in the fewest digits that do it.
 */
START_TEST(setting_text)
{
	static const char src[] =
	    "s = \"q\\\"b\\\\s\\ttab\\x01\\x7f \\xc3\\xa9\";\n"
	    "i = -42; h = 0x1F; l = 5000000000L;\n"
	    "f = 0.1; g = 1e300; w = 2.0; m = -0.5; e = 1e-5;\n"
	    "b = true; c = false;\n"
	    "a = [ 1, 2, 3 ]; ea = [ ];\n"
	    "lst = ( \"x\", 1, { k = \"v\"; }, ( ), [ \"y\" ] );\n"
	    "grp = { inner = { deep = 1.5; }; empty = { }; };\n";
	static const char *const want[][2] = {
	    { "h", "h = 31;\n" }, { "l", "l = 5000000000L;\n" },
	    { "f", "f = 0.1;\n" },
	    { "w", "w = 2.0;\n" }, { "e", "e = 1e-05;\n" },
	    { "ea", "ea = [ ];\n" }, { "a", "a = [ 1, 2, 3 ];\n" },
	    { "s", "s = \"q\\\"b\\\\s\\x09tab\\x01\x7f \xc3\xa9\";\n" },
	    { "grp", "grp = {\n\tinner = {\n\t\tdeep = 1.5;\n\t};\n"
	      "\tempty = { };\n};\n" },
	};
	config_t x, y;
	config_setting_t *root, *s;
	char *all = lnt_xstrdup(""), *text, *joined;
	size_t i;

	config_init(&x);
	config_init(&y);
	ck_assert_msg(config_read_string(&x, src) == CONFIG_TRUE,
	    "line %d: %s", config_error_line(&x), config_error_text(&x));
	root = config_root_setting(&x);
	for (i = 0; (s = config_setting_get_elem(root, (unsigned)i)); i++) {
		text = lnt_conf_setting_text(s);
		joined = lnt_xasprintf("%s%s", all, text);
		free(all);
		free(text);
		all = joined;
	}
	for (i = 0; i < LNT_NELEM(want); i++) {
		text = lnt_conf_setting_text(config_setting_get_member(root,
		    want[i][0]));
		ck_assert_str_eq(text, want[i][1]);
		free(text);
	}
	ck_assert_msg(config_read_string(&y, all) == CONFIG_TRUE,
	    "line %d: %s\n%s", config_error_line(&y), config_error_text(&y),
	    all);
	ck_assert_msg(same_setting(root, config_root_setting(&y)),
	    "read back differently:\n%s", all);
	free(all);
	config_destroy(&x);
	config_destroy(&y);
}
END_TEST

START_TEST(key_table)
{
	const lnt_key_t *keys, *k;
	size_t n, i, j;

	keys = lnt_conf_keys(&n);
	ck_assert_uint_gt(n, 30);
	for (i = 0; i < n; i++) {
		k = &keys[i];
		ck_assert_msg(k->help != NULL && k->help[0] != '\0', "%s",
		    k->name);
		ck_assert_uint_ne(k->scopes, 0);
		if (k->type == LNT_KEY_ENUM)
			ck_assert_ptr_nonnull(k->values);
		/* One meaning per name and scope, or lookup is ambiguous. */
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(keys[j].name, k->name) != 0 ||
			    !(keys[j].scopes & k->scopes), "%s twice",
			    k->name);
		ck_assert_ptr_eq(lnt_conf_key_find(k->name,
		    k->scopes & -k->scopes), k);
	}
	ck_assert_ptr_null(lnt_conf_key_find("keepalive", LNT_SCOPE_SITE));
	k = lnt_conf_key_find("send_timeout", LNT_SCOPE_UPSTREAM);
	ck_assert_ptr_nonnull(k);
	ck_assert(!(k->flags & LNT_KEY_LIMIT));
	k = lnt_conf_key_find("send_timeout", LNT_SCOPE_SITE);
	ck_assert(k->flags & LNT_KEY_LIMIT);
	k = lnt_conf_key_find("balance", LNT_SCOPE_UPSTREAM);
	ck_assert_str_eq(k->module, "balancer");
	ck_assert_str_eq(lnt_conf_scope(LNT_SCOPE_ROUTE)->name, "route");
}
END_TEST

#define STATIC_CONFIG \
	"mime_types = \"good.types\";\n" \
	"sites = ( { listen = \"127.0.0.1:8000\";\n" \
	"  error_pages = ( { status = [ 404, 410 ]; file = \"page.html\"; },\n" \
	"    { status = 500; file = \"page.html\"; } );\n" \
	"  routes = (\n" \
	"    { path = \"/s/\"; root = \"www/\"; },\n" \
	"    { path = \"/t/\"; root = \"www\"; index = [ \"a.htm\", " \
	"\"b.htm\" ];\n" \
	"      allow_symlinks = true; },\n" \
	"    { path = \"/r\"; return = { status = 302;\n" \
	"      location = \"$scheme://$host$request_uri\"; }; },\n" \
	"    { path = \"/b\"; return = { status = 200; body = \"ok\\n\"; }; }" \
	" ); } );\n"

START_TEST(static_keys)
{
	lnt_conf_t *conf = load_ok(STATIC_CONFIG), *again;
	lnt_strlist_t errors = { 0 };
	lnt_site_t *site;
	lnt_route_t *r;
	char *www = lnt_xasprintf("%s/www", tmpdir), *first, *second, *path;

	site = &conf->sites[0];
	r = site->routes;
	ck_assert_str_eq(r[0].root, www);
	ck_assert_uint_eq(r[0].nindex, 1);
	ck_assert_str_eq(r[0].index[0], "index.html");
	ck_assert(!r[0].allow_symlinks);
	ck_assert_int_eq(r[0].ret.status, 0);
	ck_assert_ptr_null(r[0].upstream);
	ck_assert_str_eq(r[1].root, www);
	ck_assert_uint_eq(r[1].nindex, 2);
	ck_assert_str_eq(r[1].index[1], "b.htm");
	ck_assert(r[1].allow_symlinks);
	ck_assert_ptr_null(r[2].root);
	ck_assert_int_eq(r[2].ret.status, 302);
	ck_assert_str_eq(r[2].ret.location, "$scheme://$host$request_uri");
	ck_assert_ptr_null(r[2].ret.body);
	ck_assert_str_eq(r[3].ret.body, "ok\n");

	/* Error pages are in memory, statuses as listed. */
	ck_assert_uint_eq(site->nerror_pages, 2);
	ck_assert_uint_eq(site->error_pages[0].nstatuses, 2);
	ck_assert_int_eq(site->error_pages[0].statuses[1], 410);
	ck_assert_uint_eq(site->error_pages[0].len, 12);
	ck_assert_mem_eq(site->error_pages[0].body, "<p>gone</p>\n", 12);
	ck_assert_int_eq(site->error_pages[1].statuses[0], 500);

	/* The file's types come first, the built-in table after. */
	ck_assert_ptr_nonnull(conf->mime);
	ck_assert_ptr_null(site->mime);
	ck_assert_str_eq(lnt_mime_type(conf->mime, "a/b.LNT", 7),
	    "text/x-lnt");
	ck_assert_str_eq(lnt_mime_type(conf->mime, "b.lntx", 6), "text/x-lnt");
	ck_assert_str_eq(lnt_mime_type(conf->mime, "b.dup", 5),
	    "application/x-first");
	ck_assert_str_eq(lnt_mime_type(conf->mime, "i.html", 6), "text/html");

	/* -T prints all of it in a form that loads to the same. */
	first = dump_text(conf);
	ck_assert_ptr_nonnull(strstr(first, "index = [ \"index.html\" ];"));
	ck_assert_ptr_nonnull(strstr(first, "status = [ 404, 410 ];"));
	path = write_file("dump.conf", first);
	again = lnt_conf_load(path, &errors);
	ck_assert_msg(again != NULL, "dump refused: %s\n%s",
	    errors.n ? errors.items[0] : "", first);
	second = dump_text(again);
	ck_assert_str_eq(second, first);
	lnt_conf_free(again);
	lnt_conf_free(conf);
	free(first);
	free(second);
	free(path);
	free(www);
}
END_TEST

/* Write <text> to <name> in the temp dir, outside any test. */
static void
fixture(const char *name, const char *text)
{
	char *path = lnt_xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(EXIT_FAILURE);
	}
	free(path);
}

/* Files that the static-content rows and tests read. */
static void
write_fixtures(void)
{
	char *big = lnt_xmalloc(70000), *www;

	fixture("bad.types", "# types\ntext/html html\nnonsense foo\n");
	fixture("good.types", "text/x-lnt lnt LNTX\t# ours\n\n"
	    "application/x-first dup\ntext/plain dup\n");
	fixture("page.html", "<p>gone</p>\n");
	memset(big, 'x', 69999);
	big[69999] = '\0';
	fixture("big.html", big);
	free(big);
	www = lnt_xasprintf("%s/www", tmpdir);
	if (mkdir(www, 0755) == -1) {
		perror(www);
		exit(EXIT_FAILURE);
	}
	free(www);
}

/* Remove the temp dir and what the tests wrote in it (one level deep). */
static void
remove_tmpdir(void)
{
	struct dirent *de;
	DIR *d = opendir(tmpdir);
	char *p;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		p = lnt_xasprintf("%s/%s", tmpdir, de->d_name);
		if (unlink(p) == -1)
			rmdir(p);
		free(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc;

	tc = tcase_create("good");
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, default_user_missing);
	tcase_add_test(tc, values);
	tcase_add_test(tc, workers_auto);
	tcase_add_test(tc, explicit_group);
	tcase_add_test(tc, include);
	tcase_add_test(tc, relative_paths);
	tcase_add_test(tc, static_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, bad_config, 0, (int)LNT_NELEM(bad));
	tcase_add_test(tc, unresolvable_server);
	tcase_add_test(tc, unreadable);
	tcase_add_test(tc, all_errors_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("dump");
	tcase_add_test(tc, dump_round_trip);
	tcase_add_test(tc, setting_text);
	tcase_add_test(tc, key_table);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	write_fixtures();
	sr = srunner_create(conf_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_tmpdir();
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
