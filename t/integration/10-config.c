/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The command line around the config: -t accepts good configs (and the one
 * we ship) and lists every error of a bad one as file:line, -T prints a
 * config -t accepts again, -V, and a daemon started on a bad or missing
 * config exits without binding anything.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "th.h"

#define GOOD_CONF \
	TH_BASE \
	"upstreams = ( { name = \"app\";\n" \
	"  servers = ( { address = \"127.0.0.1:@PORT_2@\"; weight = 2; },\n" \
	"              { address = \"127.0.0.1:@PORT_3@\";\n" \
	"                backup = true; } );\n" \
	"  keepalive = 8; connect_timeout = \"3s\";\n" \
	"  read_timeout = \"1m\"; } );\n" \
	"access_log = { path = \"@TMPDIR@/access.log\";\n" \
	"  format = \"combined\"; };\n" \
	"sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n" \
	"  names = [ \"example.test\", \"*.example.test\" ];\n" \
	"  keepalive_timeout = \"30s\"; max_body_size = \"2m\";\n" \
	"  routes = ( { path = \"~^/api/v[12]/\"; upstream = \"app\"; },\n" \
	"             { path = \"/\"; upstream = \"app\"; } ); } );\n"

/*
 * Three errors on known lines (TH_BASE is line 1): an unknown key close to
 * "workers", a bad duration, an upstream nobody defined.
 */
#define BAD_CONF \
	TH_BASE \
	"workrs = 2;\n" \
	"keepalive_timeout = \"10 parsecs\";\n" \
	"upstreams = ( { name = \"app\";\n" \
	"  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n" \
	"sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n" \
	"  routes = ( { path = \"/\"; upstream = \"nope\"; } ); } );\n"

/* The line of <out> reporting "<conf>:<line>:", or fail. */
static const char *
error_line(const char *out, const char *conf, int line)
{
	const char	*l;

	l = th_find_line(out, th_printf("%s:%d:", conf, line));
	ck_assert_msg(l != NULL, "no error reported as %s:%d: in:\n%s", conf,
	    line, out);
	return l;
}

START_TEST(t_good_config)
{
	const char	*conf = th_conf(GOOD_CONF);
	char		*out, *err;
	int		 rc;

	rc = th_lintel(&out, &err, "-t", "-c", conf, NULL);
	ck_assert_msg(rc == 0, "lintel -t exited %d:\n%s%s", rc, out, err);
}
END_TEST

START_TEST(t_shipped_config)
{
	const char	*conf;
	char		*out, *err;
	int		 rc;

	conf = th_printf("%s/etc/lintel.conf", th_srcdir());
	ck_assert_msg(th_exists(conf), "%s: %s", conf, strerror(errno));
	rc = th_lintel(&out, &err, "-t", "-c", conf, NULL);
	/*
	 * The shipped config runs as the build's default user (configure
	 * --with-user): where that user does not exist, -t must say so.
	 */
	if (getpwnam(LNT_DEFAULT_USER) == NULL) {
		ck_assert_msg(rc == 1 && strstr(err, "unknown user") != NULL,
		    "lintel -t -c %s without user %s exited %d:\n%s%s", conf,
		    LNT_DEFAULT_USER, rc, out, err);
		return;
	}
	ck_assert_msg(rc == 0, "lintel -t -c %s exited %d:\n%s%s", conf, rc,
	    out, err);
}
END_TEST

START_TEST(t_lists_every_error)
{
	const char	*conf = th_conf(BAD_CONF), *l, *p;
	char		*out, *err, *all;
	int		 rc, line;

	rc = th_lintel(&out, &err, "-t", "-c", conf, NULL);
	all = th_printf("%s%s", out, err);
	ck_assert_msg(rc == 1, "lintel -t exited %d on a bad config:\n%s", rc,
	    all);

	l = error_line(all, conf, 2);
	ck_assert_msg(strstr(l, "did you mean") != NULL &&
	    strstr(l, "workers") != NULL, "no suggestion: %s", l);
	l = error_line(all, conf, 3);
	ck_assert_msg(strstr(l, "keepalive_timeout") != NULL,
	    "the key is not named: %s", l);
	l = error_line(all, conf, 7);
	ck_assert_msg(strstr(l, "nope") != NULL,
	    "the missing upstream is not named: %s", l);

	/* No error is blamed on a line that has none. */
	for (p = all; (p = strstr(p, conf)) != NULL; p++) {
		if (p[strlen(conf)] != ':' ||
		    sscanf(p + strlen(conf) + 1, "%d:", &line) != 1)
			continue;
		ck_assert_msg(line == 2 || line == 3 || line == 7,
		    "an error blamed on line %d, which has none:\n%s", line,
		    all);
	}
}
END_TEST

START_TEST(T_prints_a_valid_config)
{
	const char	*conf = th_conf(GOOD_CONF), *dumped;
	char		*out, *err, *out2, *err2;
	int		 rc;

	rc = th_lintel(&out, &err, "-T", "-c", conf, NULL);
	ck_assert_msg(rc == 0, "lintel -T exited %d:\n%s", rc, err);
	ck_assert_msg(strstr(out, "upstreams") != NULL &&
	    strstr(out, "sites") != NULL, "-T printed no config:\n%s", out);
	dumped = th_path("dumped.conf");
	th_write_file(dumped, out);
	rc = th_lintel(&out2, &err2, "-t", "-c", dumped, NULL);
	ck_assert_msg(rc == 0, "-t rejects what -T printed (exit %d):\n%s%s"
	    "\n--- dumped ---\n%s", rc, out2, err2, out);
}
END_TEST

START_TEST(V_prints_the_version)
{
	char	*out, *err;
	int	 rc;

	rc = th_lintel(&out, &err, "-V", NULL);
	ck_assert_msg(rc == 0, "lintel -V exited %d: %s", rc, err);
	ck_assert_msg(strstr(out, PACKAGE_VERSION) != NULL ||
	    strstr(err, PACKAGE_VERSION) != NULL, "no version %s in: %s%s",
	    PACKAGE_VERSION, out, err);
}
END_TEST

START_TEST(bad_config_binds_nothing)
{
	const char	*conf = th_conf(BAD_CONF), *logs;
	th_conn_t	*c;
	pid_t		 pid;
	int		 st;

	pid = th_spawn(conf);
	ck_assert_msg(th_wait_exit(pid, TH_START_MS, &st),
	    "lintel keeps running on a bad config");
	ck_assert_msg(!(WIFEXITED(st) && WEXITSTATUS(st) == 0),
	    "lintel exited 0 on a bad config");
	ck_assert_msg(!th_ready_pending(), "READY=1 sent for a bad config");
	ck_assert_msg(!th_exists(th_path("lintel.pid")),
	    "a pid file was written");
	c = th_conn_try_open(th_portn(1));
	ck_assert_msg(c == NULL, "something listens on the site's port");
	/* It said why, where an operator looks. */
	logs = th_printf("%s%s", th_read_file(th_path("stderr.log")) ?: "",
	    th_read_file(th_path("error.log")) ?: "");
	error_line(logs, conf, 2);
}
END_TEST

START_TEST(missing_config)
{
	const char	*conf = th_path("nonexistent.conf"), *logs;
	char		*out, *err, *all;
	pid_t		 pid;
	int		 rc, st;

	rc = th_lintel(&out, &err, "-t", "-c", conf, NULL);
	all = th_printf("%s%s", out, err);
	ck_assert_msg(rc == 1, "lintel -t on a missing file exited %d", rc);
	ck_assert_msg(strstr(all, conf) != NULL &&
	    strstr(all, strerror(ENOENT)) != NULL,
	    "the path and \"%s\" are not both named: %s", strerror(ENOENT),
	    all);

	pid = th_spawn(conf);
	ck_assert_msg(th_wait_exit(pid, TH_START_MS, &st),
	    "lintel keeps running without its config");
	ck_assert_msg(!(WIFEXITED(st) && WEXITSTATUS(st) == 0),
	    "lintel exited 0 without its config");
	logs = th_printf("%s", th_read_file(th_path("stderr.log")) ?: "");
	ck_assert_msg(strstr(logs, conf) != NULL &&
	    strstr(logs, strerror(ENOENT)) != NULL,
	    "the path and \"%s\" are not both on stderr: %s",
	    strerror(ENOENT), logs);
}
END_TEST

int
main(void)
{
	Suite	*s;

	s = suite_create("10-config");
	TH_TEST(s, t_good_config);
	TH_TEST(s, t_shipped_config);
	TH_TEST(s, t_lists_every_error);
	TH_TEST(s, T_prints_a_valid_config);
	TH_TEST(s, V_prints_the_version);
	TH_TEST(s, bad_config_binds_nothing);
	TH_TEST(s, missing_config);
	return th_run(s);
}
