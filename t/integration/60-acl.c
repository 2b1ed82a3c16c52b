/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The acl module through the real daemon with two workers: allow and deny
 * by address, method, path and header; a list file of 100k networks and
 * its re-reading on HUP; X-Forwarded-For from trusted proxies only; basic
 * authentication with bcrypt and SHA-512-crypt entries made at test time;
 * rate and concurrency limits that hold across the workers and a reload;
 * and the load errors `lintel -t` reports with file and line.
 */
#include "config.h"

#include <crypt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th.h"

static th_origin_t	*origin;

/*
 * A config loading the module from the build tree: <top> at the top
 * level (line 4), one upstream "o" (the origin on @PORT_2@), one site on
 * @PORT_1@ whose keys <site> start on line 8, then its <routes>.
 */
static const char *
acl_conf(const char *top, const char *site, const char *routes)
{
	return th_conf(th_printf(TH_BASE
	    "module_path = \"@BUILDDIR@/modules/acl/.libs\";\n"
	    "modules = [ \"acl\" ];\n"
	    "%s\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "%s\n"
	    "  routes = (\n%s\n  ); } );\n", top, site, routes));
}

/* Start the origin and lintel with acl_conf(<top>, <site>, <routes>). */
static void
acl_start(const char *top, const char *site, const char *routes)
{
	origin = th_origin_start(th_portn(2), "A");
	th_start(acl_conf(top, site, routes));
}

/* <method> <path> with the extra header lines <hdrs> ("Name: v\r\n"). */
static th_resp_t *
req(const char *method, const char *path, const char *hdrs)
{
	return th_req(th_portn(1), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "%sContent-Length: 0\r\nConnection: close\r\n\r\n", method, path,
	    hdrs);
}

static int
status_of(const char *method, const char *path, const char *hdrs)
{
	return req(method, path, hdrs)->status;
}

START_TEST(allow_deny_by_address)
{
	const char	*line;

	acl_start("", "",
	    "    { path = \"/in\"; return = { status = 204; };\n"
	    "      acl = ( { allow = \"127.0.0.1/32\"; }, { deny = \"all\"; } ); },\n"
	    "    { path = \"/out\"; return = { status = 204; };\n"
	    "      acl = ( { allow = [ \"10.0.0.0/8\" ]; },\n"
	    "              { deny = \"all\"; } ); },\n"
	    "    { path = \"/other\"; return = { status = 204; };\n"
	    "      acl = ( { deny = [ \"10.0.0.0/8\", \"::1\" ]; } ); },\n"
	    "    { path = \"/\"; upstream = \"o\"; }");
	/* Allowed by the first rule; denied by "all" after a miss. */
	ck_assert_int_eq(status_of("GET", "/in", ""), 204);
	ck_assert_int_eq(status_of("GET", "/out", ""), 403);
	/* No rule matches: allowed. */
	ck_assert_int_eq(status_of("GET", "/other", ""), 204);
	/* No acl at all. */
	ck_assert_int_eq(status_of("GET", "/id", ""), 200);
	/* The log names the rule that denied, by file and line. */
	line = th_log_line("403: acl: denied");
	ck_assert_msg(th_match(line, "denied by the rule at [^ ]*/lintel\\."
	    "conf:14 \\(all\\).*client=127\\.0\\.0\\.1"), "%s", line);
	ck_assert_msg(th_match(line, "^[^ ]+ [^ ]+ \\[info\\]"), "%s", line);
}
END_TEST

START_TEST(site_rules_and_conditions)
{
	acl_start("",
	    "  acl = ( { deny = \"all\"; method = [ \"POST\", \"DELETE\" ]; },\n"
	    "          { deny = \"all\"; path = \"~^/adm(in)?/\"; },\n"
	    "          { deny = \"127.0.0.0/8\"; path = \"/private/\"; },\n"
	    "          { deny = \"all\"; header = { name = \"X-Block\";\n"
	    "                                     match = \"yes\"; }; },\n"
	    "          { deny = \"all\"; header = { name = \"X-Token\";\n"
	    "                                     match = \"~^bad\"; }; },\n"
	    "          { allow = \"all\"; } );",
	    "    { path = \"/open/\"; upstream = \"o\"; acl = ( ); },\n"
	    "    { path = \"/\"; upstream = \"o\"; }");
	ck_assert_int_eq(status_of("GET", "/id", ""), 200);
	ck_assert_int_eq(status_of("POST", "/id", ""), 403);
	ck_assert_int_eq(status_of("DELETE", "/id", ""), 403);
	ck_assert_int_eq(status_of("GET", "/admin/x", ""), 403);
	ck_assert_int_eq(status_of("GET", "/adm/", ""), 403);
	ck_assert_int_eq(status_of("GET", "/administrator", ""), 404);
	ck_assert_int_eq(status_of("GET", "/private/a", ""), 403);
	ck_assert_int_eq(status_of("GET", "/privatex", ""), 404);
	ck_assert_int_eq(status_of("GET", "/id", "X-Block: yes\r\n"), 403);
	ck_assert_int_eq(status_of("GET", "/id", "X-Block: yes!\r\n"), 200);
	ck_assert_int_eq(status_of("GET", "/id", "X-Token: badge\r\n"), 403);
	ck_assert_int_eq(status_of("GET", "/id", "X-Token: a-bad\r\n"), 200);
	/* A route's own acl, even empty, replaces the site's. */
	ck_assert_int_eq(status_of("POST", "/open/x", ""), 404);
	ck_assert_msg(th_match(th_log_line("403: acl: denied"),
	    "rule at [^ ]*/lintel\\.conf:8 \\(all\\)"), "wrong rule");
}
END_TEST

/* Write <n> networks 10.x.y.z to <name>, with 127.0.0.1 at line <at>. */
static const char *
write_list(const char *name, int n, int at)
{
	const char	*path = th_path(name);
	FILE		*f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "# %d networks\n", n);
	for (int i = 0; i < n; i++) {
		if (i + 2 == at)
			fprintf(f, "127.0.0.1   # the test client\n");
		fprintf(f, "10.%d.%d.%d/32\n", i >> 16, (i >> 8) & 0xff,
		    i & 0xff);
	}
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(list_file_100k)
{
	const char	*line;

	write_list("block.list", 100000, 50001);
	acl_start("trusted_proxies = \"127.0.0.1\";",
	    "  acl = ( { deny = \"file:block.list\"; } );",
	    "    { path = \"/\"; upstream = \"o\"; }");
	/* The test's own address, from the middle of the file. */
	ck_assert_int_eq(status_of("GET", "/id", ""), 403);
	line = th_log_line("403: acl: denied");
	ck_assert_msg(th_match(line, "\\(127\\.0\\.0\\.1/32, [^ ]*/block\\."
	    "list:50001\\)"), "%s", line);
	/* The first, the last, and one past it, through a trusted proxy. */
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 10.0.0.0\r\n"), 403);
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 10.1.134.159\r\n"), 403);
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 10.1.134.160\r\n"), 200);
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 10.200.0.1\r\n"), 200);
}
END_TEST

/* GET /id until its status is <want>, bounded (a reload is under way). */
static void
wait_status(int want)
{
	int	 st = 0;

	for (int i = 0; i < 100; i++) {
		if ((st = status_of("GET", "/id", "")) == want)
			return;
		usleep(50 * 1000);
	}
	ck_abort_msg("GET /id stayed %d, never %d", st, want);
}

START_TEST(list_file_reread_on_hup)
{
	const char	*list = th_path("block.list");

	th_write_file(list, "10.0.0.0/8\n");
	acl_start("", "  acl = ( { deny = \"file:block.list\"; } );",
	    "    { path = \"/\"; upstream = \"o\"; }");
	ck_assert_int_eq(status_of("GET", "/id", ""), 200);

	/* Same config, new list: the reload reads it again. */
	th_write_file(list, "10.0.0.0/8\n127.0.0.0/8\n");
	th_signal(SIGHUP);
	th_wait_ready();
	wait_status(403);

	/* A broken list fails the reload; the old rules stay. */
	th_write_file(list, "127.0.0.0/8\n10.0.0.1/8\n");
	th_signal(SIGHUP);
	th_wait_ready();
	ck_assert_msg(th_match(th_log_line("reload failed:"),
	    "lintel\\.conf:8: acl: deny: [^ ]*/block\\.list:2: .*host bits"),
	    "no line");
	ck_assert_int_eq(status_of("GET", "/id", ""), 403);

	th_write_file(list, "# empty for now\n");
	th_signal(SIGHUP);
	th_wait_ready();
	wait_status(200);
}
END_TEST

START_TEST(trusted_proxies_xff)
{
	const char	*line;
	int		 other = th_portn(3);

	origin = th_origin_start(th_portn(2), "A");
	th_start(th_conf(TH_BASE
	    "module_path = \"@BUILDDIR@/modules/acl/.libs\";\n"
	    "modules = [ \"acl\" ];\n"
	    "trusted_proxies = [ \"127.0.0.1\", \"192.0.2.128/25\" ];\n"
	    "upstreams = ( { name = \"o\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "    acl = ( { allow = \"192.0.2.0/24\"; }, { deny = \"all\"; } );\n"
	    "    routes = ( { path = \"/\"; upstream = \"o\"; } ); },\n"
	    "  { listen = \"127.0.0.1:@PORT_3@\";\n"
	    "    trusted_proxies = \"10.0.0.0/8\";\n"
	    "    acl = ( { allow = \"192.0.2.0/24\"; }, { deny = \"all\"; } );\n"
	    "    routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n"));

	/* The peer itself, then the client the trusted peer names. */
	ck_assert_int_eq(status_of("GET", "/id", ""), 403);
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 192.0.2.7\r\n"), 200);
	/* Walked from the right while trusted: 192.0.2.200 is a proxy. */
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 198.51.100.1, 192.0.2.7, 192.0.2.200\r\n"), 200);
	/* The last hop is untrusted: what it claims is not believed. */
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 192.0.2.7, 198.51.100.1\r\n"), 403);
	line = th_log_line("via a trusted proxy");
	ck_assert_msg(th_match(line, "403: acl: denied by the rule at [^ ]*"
	    "lintel\\.conf:8 \\(all\\) \\(client 198\\.51\\.100\\.1 via "
	    "a trusted proxy\\)"), "%s", line);
	/* Lines join in order: the last line is the proxy's own. */
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 192.0.2.7\r\n"
	    "X-Forwarded-For: 198.51.100.1\r\n"), 403);
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 198.51.100.1\r\n"
	    "X-Forwarded-For: 192.0.2.7\r\n"), 200);
	/* Garbage ends the walk at the last trusted hop, the peer. */
	ck_assert_int_eq(status_of("GET", "/id",
	    "X-Forwarded-For: 192.0.2.7:80\r\n"), 403);

	/* A site whose proxies do not include the peer ignores XFF. */
	ck_assert_int_eq(th_req(other, "GET /id HTTP/1.1\r\nHost: x\r\n"
	    "X-Forwarded-For: 192.0.2.7\r\nConnection: close\r\n\r\n")->status,
	    403);
}
END_TEST

/* "Basic " and the base64 of "<user>:<pass>". */
static const char *
basic(const char *user, const char *pass)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char	*in = th_printf("%s:%s", user, pass);
	size_t		 n = strlen(in), o = 0;
	char		*out = th_alloc(n * 4 / 3 + 16);

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)(unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned long)(unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return th_printf("Authorization: Basic %s\r\n", out);
}

/* A crypt(3) hash of <pass> with <prefix> ("$2b$", "$6$") and <cost>. */
static const char *
hash_with(const char *prefix, unsigned long cost, const char *pass)
{
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data	*cd = th_alloc(sizeof(*cd));
	const char		*h;

	memset(cd, 0, sizeof(*cd));
	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, cost, NULL, 0, salt,
	    sizeof(salt)));
	h = crypt_rn(pass, salt, cd, sizeof(*cd));
	ck_assert_msg(h != NULL && h[0] == '$', "crypt %s failed", prefix);
	return th_strdup(h);
}

/*
 * SHA-512-crypt of <pass>: from `openssl passwd -6`, another
 * implementation than the one lintel verifies with, when it is there.
 */
static const char *
sha512_hash(const char *pass)
{
	const char *const argv[] = { "openssl", "passwd", "-6", pass, NULL };
	char	*out = NULL;

	if (th_exec(argv, &out, NULL) == 0 && out != NULL &&
	    strncmp(out, "$6$", 3) == 0) {
		out[strcspn(out, "\n")] = '\0';
		return out;
	}
	return hash_with("$6$", 5000, pass);
}

START_TEST(basic_auth)
{
	th_resp_t	*r;

	th_write_file(th_path("htpasswd"), th_printf(
	    "# users of the test\n"
	    "alice:%s\n"
	    "bob:%s\n", hash_with("$2b$", 5, "alice pw"),
	    sha512_hash("b0b:pw")));
	th_write_file(th_path("401.html"), "who are you?\n");
	acl_start("",
	    "  auth_basic = { realm = \"Test Realm\"; file = \"htpasswd\"; };\n"
	    "  error_pages = ( { status = 401; file = \"401.html\"; } );",
	    "    { path = \"/open/\"; upstream = \"o\"; auth_basic = false; },\n"
	    "    { path = \"/\"; upstream = \"o\"; }");

	/* The challenge goes out with the site's own error page too. */
	r = req("GET", "/id", "");
	ck_assert_int_eq(r->status, 401);
	ck_assert_pstr_eq(th_header(r, "WWW-Authenticate"),
	    "Basic realm=\"Test Realm\", charset=\"UTF-8\"");
	ck_assert_pstr_eq(r->body, "who are you?\n");
	r = req("GET", "/id", basic("alice", "wrong"));
	ck_assert_int_eq(r->status, 401);
	ck_assert_int_eq(th_header_count(r, "WWW-Authenticate"), 1);
	ck_assert_int_eq(status_of("GET", "/id", basic("carol", "alice pw")),
	    401);
	ck_assert_int_eq(status_of("GET", "/id", "Authorization: Bearer x\r\n"),
	    401);
	/* bcrypt, then SHA-512-crypt; again, from the cache. */
	for (int i = 0; i < 2; i++) {
		r = req("GET", "/id", basic("alice", "alice pw"));
		ck_assert_int_eq(r->status, 200);
		ck_assert_pstr_eq(r->body, "A");
		ck_assert_int_eq(status_of("GET", "/id", basic("bob",
		    "b0b:pw")), 200);
	}
	/* A cached password of one user is not another's. */
	ck_assert_int_eq(status_of("GET", "/id", basic("bob", "alice pw")),
	    401);
	/* A route that turns it off. */
	ck_assert_int_eq(status_of("GET", "/open/x", ""), 404);
	ck_assert_msg(th_match(th_log_line("401: acl: auth_basic"),
	    "\"Test Realm\": no credentials"), "no 401 line");
	ck_assert_msg(th_match(th_log_line("wrong password"),
	    "unknown user \"alice\""), "no failure line");
}
END_TEST

/* Password guesses: 429 once a client's checks run out. */
START_TEST(basic_auth_guessing)
{
	th_resp_t	*r = NULL;
	int		 n401 = 0;

	th_write_file(th_path("htpasswd"), th_printf("alice:%s\n",
	    hash_with("$2b$", 4, "alice pw")));
	acl_start("",
	    "  auth_basic = { realm = \"R\"; file = \"htpasswd\"; };",
	    "    { path = \"/\"; upstream = \"o\"; }");
	for (int i = 0; i < 25; i++) {
		r = req("GET", "/id", basic("alice", th_printf("guess%d", i)));
		if (r->status != 401)
			break;
		n401++;
	}
	ck_assert_int_eq(n401, 20);
	ck_assert_int_eq(r->status, 429);
	ck_assert_ptr_nonnull(th_header(r, "Retry-After"));
	/* Even the right password waits: no hash is computed. */
	ck_assert_int_eq(status_of("GET", "/id", basic("alice", "alice pw")),
	    429);
}
END_TEST

/* A distinct pid of the log lines holding <needle>, other than <not>. */
static long
pid_of_line(const char *needle, long not)
{
	const char	*text = th_read_file(th_path("error.log")), *p;
	long		 pid;

	for (p = text; p != NULL && (p = strstr(p, needle)) != NULL; p++) {
		const char *bol = p;

		while (bol > text && bol[-1] != '\n')
			bol--;
		/* "DATE TIME [level] PID#role: ..." */
		if (sscanf(bol, "%*s %*s %*s %ld#", &pid) == 1 && pid != not)
			return pid;
	}
	return -1;
}

/*
 * Of the requests of one client that pass the acl, limit_rate lets a
 * burst of 3 through and then 5 a minute, counted in shared memory: a
 * request taken by one worker counts in the other.  One worker is kept
 * busy computing a costly bcrypt hash for a request that took a token,
 * so the kernel hands the next connections to the other worker.
 */
START_TEST(rate_limit_shared)
{
	th_conn_t	*slow;
	th_resp_t	*r;
	long		 busy, other;
	int		 ok = 0, limited = 0;
	int64_t		 t0;

	th_write_file(th_path("htpasswd"), th_printf("alice:%s\n",
	    hash_with("$2b$", 13, "alice pw")));
	acl_start("",
	    "  limit_rate = { rate = \"5r/m\"; burst = 3; };",
	    "    { path = \"/auth/\"; upstream = \"o\";\n"
	    "      auth_basic = { realm = \"R\"; file = \"htpasswd\"; }; },\n"
	    "    { path = \"/\"; upstream = \"o\"; }");
	t0 = th_now();
	slow = th_conn_open(th_portn(1));
	th_conn_sendf(slow, "GET /auth/x HTTP/1.1\r\nHost: x\r\n%s"
	    "Connection: close\r\n\r\n", basic("alice", "not it"));
	usleep(100 * 1000);
	for (int i = 0; i < 10; i++) {
		r = th_get(th_portn(1), "/id");
		if (r->status == 200) {
			ok++;
			continue;
		}
		ck_assert_int_eq(r->status, 429);
		ck_assert_msg(th_match(th_header(r, "Retry-After"),
		    "^([1-9]|1[0-2])$"), "Retry-After: %s",
		    th_header(r, "Retry-After"));
		limited++;
	}
	ck_assert_int_eq(th_conn_read(slow)->status, 401);
	th_conn_close(slow);
	/* The hash outlasted the burst, or the test proves nothing. */
	busy = pid_of_line("401: acl: auth_basic", -1);
	other = pid_of_line("429: acl: limit_rate", busy);
	ck_assert_msg(busy > 0 && other > 0, "one worker served all:\n%s",
	    th_read_file(th_path("error.log")));
	/* The slow request's token counted: 2 of the 10, not 3. */
	ck_assert_int_eq(ok, 2);
	ck_assert_int_eq(limited, 8);
	ck_assert_msg(th_now() - t0 < 12000, "too slow for 5r/m");
	ck_assert_msg(th_match(th_log_line("429: acl: limit_rate"),
	    "limit_rate at [^ ]*/lintel\\.conf:8: over the rate"), "no line");
}
END_TEST

START_TEST(rate_survives_reload)
{
	acl_start("", "",
	    "    { path = \"/\"; upstream = \"o\";\n"
	    "      limit_rate = { rate = \"5r/m\"; burst = 3;\n"
	    "                     zone_size = \"64k\"; }; }");
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(status_of("GET", "/id", ""), 200);
	ck_assert_int_eq(status_of("GET", "/id", ""), 429);
	/* New workers, same zone: the client is still limited. */
	th_signal(SIGHUP);
	th_wait_ready();
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(status_of("GET", "/id", ""), 429);
}
END_TEST

START_TEST(limit_conn_slow_upstream)
{
	th_conn_t	*c[2];
	th_resp_t	*r;
	int64_t		 end;

	acl_start("", "  limit_conn = { max = 2; };",
	    "    { path = \"/\"; upstream = \"o\"; }");
	for (int i = 0; i < 2; i++) {
		c[i] = th_conn_open(th_portn(1));
		th_conn_sendf(c[i], "GET /delay/1500 HTTP/1.1\r\nHost: x\r\n"
		    "Connection: close\r\n\r\n");
	}
	end = th_deadline(TH_IO_MS);
	while (th_origin_count(origin, "GET /delay/1500 ") < 2 &&
	    !th_expired(end))
		th_nap();
	ck_assert_int_eq(th_origin_count(origin, "GET /delay/1500 "), 2);
	r = th_get(th_portn(1), "/id");
	ck_assert_int_eq(r->status, 503);
	ck_assert_msg(th_match(th_log_line("503: acl: limit_conn"),
	    "limit_conn at [^ ]*/lintel\\.conf:8: 2 requests in progress"),
	    "no 503 line");
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(th_conn_read(c[i])->status, 200);
		th_conn_close(c[i]);
	}
	/* Both counts came back when those requests ended. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(status_of("GET", "/id", ""), 200);
}
END_TEST

/*
 * A worker killed with a request counted would lock its client out for
 * good: the worker that replaces it finds the dead one's pid in the zone
 * and counts afresh.
 */
START_TEST(limit_conn_dead_worker)
{
	const char	*log;
	pid_t		 kids[64];
	size_t		 n;
	th_conn_t	*c;
	th_resp_t	*r = NULL;
	int64_t		 end;

	th_allow_log("signal 9");
	acl_start("", "  limit_conn = { max = 1; };",
	    "    { path = \"/\"; upstream = \"o\"; }");
	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /delay/10000 HTTP/1.1\r\nHost: x\r\n\r\n");
	end = th_deadline(TH_IO_MS);
	while (th_origin_count(origin, "GET /delay/") < 1 && !th_expired(end))
		th_nap();
	ck_assert_int_eq(status_of("GET", "/id", ""), 503);

	/* Kill every worker (not the helper) while the count is held. */
	log = th_log_line("#helper:");
	n = th_children(th_master(), kids, TH_NELEM(kids));
	for (size_t i = 0; i < n; i++)
		if (strstr(log, th_printf(" %d#helper:", (int)kids[i])) == NULL)
			ck_assert_int_eq(kill(kids[i], SIGKILL), 0);
	th_conn_close(c);
	end = th_deadline(TH_START_MS);
	do {
		if ((r = th_try_get(th_portn(1), "/id")) != NULL &&
		    r->status == 200)
			break;
		th_nap();
	} while (!th_expired(end));
	ck_assert_msg(r != NULL && r->status == 200, "still refused: %d",
	    r != NULL ? r->status : -1);
	th_log_line("a worker died with requests counted; counting afresh");
}
END_TEST

START_TEST(load_errors)
{
	const char *head = TH_BASE
	    "module_path = \"@BUILDDIR@/modules/acl/.libs\";\n"
	    "modules = [ \"acl\" ];\n"
	    "upstreams = ( { name = \"o\"; servers = ( { address = "
	    "\"127.0.0.1:1\"; } ); } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n";
	const char *tail =
	    "  routes = ( { path = \"/\"; upstream = \"o\"; } ); } );\n";

	/* A plain-text htpasswd line: its file and line. */
	th_write_file(th_path("plain"), "# users\nbob:secret\n");
	th_refused(th_printf("%s  auth_basic = { realm = \"r\"; "
	    "file = \"plain\"; };\n%s", head, tail),
	    "lintel\\.conf:6: acl: auth_basic: [^ ]*/plain:2: user 'bob': "
	    "unsupported or plain-text hash");
	th_refused(th_printf("%s  acl = ( { allow = \"10.0.0.1/8\"; } );\n%s",
	    head, tail), "lintel\\.conf:6: acl: allow: host bits set in "
	    "10\\.0\\.0\\.1/8 \\(the network is 10\\.0\\.0\\.0/8\\)");
	th_refused(th_printf("%s  acl = ( { deny = \"all\"; methd = \"GET\"; "
	    "} );\n%s", head, tail), "lintel\\.conf:6: acl: rule: unknown key "
	    "'methd' \\(did you mean 'method'\\?\\)");
	th_refused(th_printf("%s  acl = ( { allow = \"all\";\n"
	    "            deny = \"all\"; } );\n%s", head, tail),
	    "lintel\\.conf:7: acl: rule: holds both allow and deny");
	th_refused(th_printf("%s  acl = ( { deny = \"file:nosuch\"; } );\n%s",
	    head, tail), "lintel\\.conf:6: acl: deny: [^ ]*/nosuch: No such "
	    "file or directory");
	th_refused(th_printf("%s  acl = ( { deny = \"all\"; path = \"~([\"; "
	    "} );\n%s", head, tail), "lintel\\.conf:6: acl: path: bad regular "
	    "expression");
	th_refused(th_printf("%s  limit_rate = { rate = \"10r/q\"; "
	    "burts = 2; };\n%s", head, tail), "unknown key 'burts' \\(did "
	    "you mean 'burst'\\?\\)");
	th_refused(th_printf("%s  limit_conn = { max = 0; };\n%s", head, tail),
	    "lintel\\.conf:6: acl: limit_conn: max: expected an integer");
	th_refused(th_printf("%s  trusted_proxies = [ \"127.0.0.1/8\" ];\n%s",
	    head, tail), "lintel\\.conf:6: acl: trusted_proxies: .*host bits");
	/* Not allowed in a route. */
	th_refused(th_printf("%s  routes = ( { path = \"/\"; "
	    "upstream = \"o\";\n    trusted_proxies = \"10.0.0.0/8\"; } ); "
	    "} );\n", head),
	    "lintel\\.conf:7: trusted_proxies: key of module 'acl' not "
	    "allowed in a route");
}
END_TEST

/* Every key of the module has an entry in lintel-acl(5). */
START_TEST(man_page)
{
	static const char *const keys[] = {
		"acl", "auth_basic", "limit_rate", "limit_conn",
		"trusted_proxies", "allow", "deny", "method", "path", "header"
	};
	const char	*page, *conf5;

	page = th_read_file(th_printf("%s/man/lintel-acl.5", th_srcdir()));
	conf5 = th_read_file(th_printf("%s/man/lintel.conf.5", th_srcdir()));
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(conf5);
	for (size_t i = 0; i < TH_NELEM(keys); i++)
		ck_assert_msg(th_match(page, th_printf("\n\\.It Ic %s( |\n)",
		    keys[i])), "no entry for %s in lintel-acl.5", keys[i]);
	ck_assert_msg(th_match(conf5, "\\.Xr lintel-acl 5"),
	    "lintel.conf.5 does not refer to lintel-acl(5)");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("60-acl");

	TH_TEST(s, allow_deny_by_address);
	TH_TEST(s, site_rules_and_conditions);
	TH_TEST(s, list_file_100k);
	TH_TEST(s, list_file_reread_on_hup);
	TH_TEST(s, trusted_proxies_xff);
	TH_TEST(s, basic_auth);
	TH_TEST(s, basic_auth_guessing);
	TH_TEST(s, rate_limit_shared);
	TH_TEST(s, rate_survives_reload);
	TH_TEST(s, limit_conn_slow_upstream);
	TH_TEST(s, limit_conn_dead_worker);
	TH_TEST(s, load_errors);
	TH_TEST(s, man_page);
	return th_run(s);
}
