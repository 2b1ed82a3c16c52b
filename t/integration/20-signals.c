/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Operating the daemon with signals: HUP reloads (a bad config keeps the
 * old one; no request is lost under load), QUIT drains in-flight requests,
 * a killed worker is replaced, USR1 reopens logs, and `lintel -s` signals
 * the master named in the pid file.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "th.h"

/*
 * One site on @PORT_1@ routing to the origin on @PORT_<n>@: "A" listens on
 * @PORT_2@ and "B" on @PORT_3@, so a reload shows in /id.
 */
static const char *
conf_to(int n, const char *extra)
{
	return th_printf(TH_BASE
	    "upstreams = ( { name = \"origin\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_%d@\"; } ); } );\n"
	    "sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n"
	    "  routes = ( { path = \"/\"; upstream = \"origin\"; } ); } );\n"
	    "%s", n, extra);
}

static th_origin_t	*origin_a, *origin_b;

static void
start_origins(void)
{
	origin_a = th_origin_start(th_portn(2), "A");
	origin_b = th_origin_start(th_portn(3), "B");
}

/* Poll /id on new connections until it answers <id>; false on timeout. */
static bool
wait_id(const char *id)
{
	int64_t		 end = th_deadline(TH_START_MS);
	th_resp_t	*r;

	do {
		r = th_try_get(th_portn(1), "/id");
		if (r != NULL && r->status == 200 && strcmp(r->body, id) == 0)
			return true;
		th_nap();
	} while (!th_expired(end));
	return false;
}

static void
assert_id(const char *id)
{
	th_resp_t	*r;

	r = th_get(th_portn(1), "/id");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, id);
}

static void
assert_exit_0(int st)
{
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "lintel ended with %s", th_status_str(st));
}

START_TEST(hup_reloads)
{
	pid_t	 master;

	start_origins();
	master = th_start(th_conf(conf_to(2, "")));
	assert_id("A");

	th_conf(conf_to(3, ""));
	th_signal(SIGHUP);
	ck_assert_msg(wait_id("B"), "/id still not from B after HUP");
	ck_assert_msg(th_alive(master), "the master is gone");
	ck_assert_int_eq(th_read_pid(th_path("lintel.pid")), master);
	/* systemd (Type=notify-reload) waits for this after a reload. */
	th_wait_ready();
	assert_id("B");
}
END_TEST

START_TEST(hup_invalid_keeps_old_config)
{
	const char	*conf, *bad, *where;
	int		 line = 1, i;

	start_origins();
	conf = th_conf(conf_to(2, ""));
	th_start(conf);
	assert_id("A");

	/* The new route would go to B, but the last line is wrong. */
	bad = conf_to(3, "no_such_key = 1;\n");
	for (i = 0; bad[i] != '\0'; i++)
		if (bad[i] == '\n' && bad[i + 1] != '\0')
			line++;
	th_conf(bad);
	th_signal(SIGHUP);
	where = th_printf("%s:%d:", conf, line);
	ck_assert_msg(th_wait_file_line(th_path("error.log"), where,
	    TH_START_MS) != NULL, "the error log does not say %s...:\n%s",
	    where, th_read_file(th_path("error.log")));
	for (i = 0; i < 10; i++)
		assert_id("A");
	ck_assert_msg(th_alive(th_master()), "the master is gone");

	/* And a good config after a bad one still loads. */
	th_conf(conf_to(3, ""));
	th_signal(SIGHUP);
	ck_assert_msg(wait_id("B"), "/id not from B after fixing the config");
}
END_TEST

START_TEST(hup_under_load_loses_nothing)
{
	struct th_load_result	 res;
	th_load_t		*load;
	long			 forwarded;
	int			 i;

	start_origins();
	th_start(th_conf(conf_to(2, "")));
	load = th_load_start(th_portn(1), "/size/2000", 1000000, 90000);
	th_load_expect_progress(load, 100, "before any reload");
	for (i = 0; i < 4; i++) {
		th_conf(conf_to(i % 2 == 0 ? 3 : 2, ""));
		th_signal(SIGHUP);
		ck_assert_msg(wait_id(i % 2 == 0 ? "B" : "A"),
		    "reload %d did not take", i + 1);
		th_load_expect_progress(load, 100, "after a reload");
	}
	th_load_finish(load, &res);
	fprintf(stderr, "hup_under_load: %s\n", th_load_str(&res));
	ck_assert_msg(res.failed == 0, "requests lost across reloads: %s",
	    th_load_str(&res));
	ck_assert(res.ok > 0);
	/*
	 * A retry is harmless only if the first try never reached an
	 * origin (an idle keep-alive connection closed under the client);
	 * otherwise lintel forwarded a request and dropped its answer.
	 */
	forwarded = th_origin_count(origin_a, "GET /size/2000 ") +
	    th_origin_count(origin_b, "GET /size/2000 ");
	ck_assert_msg(forwarded == res.ok, "the origins answered %ld load "
	    "requests, the client got %ld: %s", forwarded, res.ok,
	    th_load_str(&res));
}
END_TEST

START_TEST(quit_finishes_inflight)
{
	th_origin_t	*a;
	th_conn_t	*c;
	th_resp_t	*r;
	int64_t		 end;

	a = th_origin_start(th_portn(2), "A");
	th_start(th_conf(conf_to(2, "")));
	c = th_conn_open(th_portn(1));
	th_conn_sendf(c, "GET /slow/2000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
	/* QUIT only once the request is at the origin: in flight. */
	end = th_deadline(TH_IO_MS);
	while (th_origin_reqs(a) < 1 && !th_expired(end))
		th_nap();
	ck_assert_msg(th_origin_reqs(a) >= 1, "the request never reached "
	    "the origin");
	th_signal(SIGQUIT);

	r = th_conn_read(c);
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(r->body_len == 10000 &&
	    th_pattern_check(r->body, r->body_len, 0) == -1,
	    "the in-flight body was cut: %zu bytes", r->body_len);
	th_conn_close(c);
	assert_exit_0(th_wait_master_exit(TH_STOP_MS));
	ck_assert_msg(th_conn_try_open(th_portn(1)) == NULL,
	    "still accepting after exit");
}
END_TEST

/*
 * A worker of <master>.  Processes carry no title, so the helper is told
 * apart by the role in its error log lines ("1234#helper: ..."), which it
 * writes when it starts (at info).
 */
static pid_t
pick_worker(pid_t master, size_t *nkids)
{
	const char	*log;
	pid_t		 kids[64];
	size_t		 i;
	int64_t		 end;

	end = th_deadline(TH_START_MS);
	do {
		log = th_read_file(th_path("error.log"));
		if (log != NULL && strstr(log, "#helper:") != NULL)
			break;
		th_nap();
	} while (!th_expired(end));
	*nkids = th_children(master, kids, TH_NELEM(kids));
	for (i = 0; i < *nkids; i++) {
		if (strstr(th_cmdline(kids[i]), "worker") != NULL)
			return kids[i];
		if (log == NULL || strstr(log, th_printf(" %d#helper:",
		    (int)kids[i])) == NULL)
			return kids[i];
	}
	return -1;
}

static bool
has_child(pid_t master, pid_t pid, size_t *n)
{
	pid_t	 kids[64];
	size_t	 i;

	*n = th_children(master, kids, TH_NELEM(kids));
	for (i = 0; i < *n; i++)
		if (kids[i] == pid)
			return true;
	return false;
}

START_TEST(killed_worker_is_replaced)
{
	pid_t		 master, worker;
	size_t		 before, now = 0;
	int64_t		 end;
	int		 i;

	/* The master reports the death: expected here. */
	th_allow_log("signal 9");
	th_origin_start(th_portn(2), "A");
	master = th_start(th_conf(conf_to(2, "")));
	assert_id("A");
	worker = pick_worker(master, &before);
	ck_assert_msg(worker > 0, "no worker among the master's %zu "
	    "children", before);
	ck_assert_int_eq(kill(worker, SIGKILL), 0);

	end = th_deadline(TH_START_MS);
	while ((has_child(master, worker, &now) || now < before) &&
	    !th_expired(end))
		th_nap();
	ck_assert_msg(!has_child(master, worker, &now) && now >= before,
	    "worker %d not replaced: %zu children, %zu before", (int)worker,
	    now, before);
	for (i = 0; i < 20; i++)
		assert_id("A");
	ck_assert(th_alive(master));
}
END_TEST

START_TEST(usr1_reopens_logs)
{
	const char	*log = th_path("access.log"), *moved;
	th_resp_t	*r;
	int64_t		 end;
	bool		 found = false;

	th_origin_start(th_portn(2), "A");
	th_start(th_conf(conf_to(2, "access_log = { path = "
	    "\"@TMPDIR@/access.log\"; format = \"combined\"; };\n")));
	ck_assert_int_eq(th_get(th_portn(1), "/size/1")->status, 200);
	ck_assert_msg(th_wait_file_line(log, "/size/1 ", TH_IO_MS) != NULL,
	    "no access log line before the move");

	/* What logrotate does: move, then USR1. */
	moved = th_path("access.log.1");
	ck_assert_int_eq(rename(log, moved), 0);
	th_signal(SIGUSR1);
	/* Workers reopen on their own time: poll with new requests. */
	end = th_deadline(TH_START_MS);
	do {
		r = th_get(th_portn(1), "/size/2");
		ck_assert_int_eq(r->status, 200);
		if (th_find_line(th_read_file(log), "/size/2 ") != NULL)
			found = true;
		else
			th_nap();
	} while (!found && !th_expired(end));
	ck_assert_msg(found, "no new %s with the request after USR1", log);
	ck_assert_msg(th_find_line(th_read_file(moved), "/size/1 ") != NULL,
	    "the moved log lost its line");
}
END_TEST

START_TEST(s_reload_and_quit)
{
	const char	*conf;
	char		*out, *err;
	int		 rc;

	start_origins();
	conf = th_conf(conf_to(2, ""));
	th_start(conf);
	assert_id("A");

	th_conf(conf_to(3, ""));
	rc = th_lintel(&out, &err, "-s", "reload", "-c", conf, NULL);
	ck_assert_msg(rc == 0, "lintel -s reload exited %d: %s%s", rc, out,
	    err);
	ck_assert_msg(wait_id("B"), "/id not from B after -s reload");

	rc = th_lintel(&out, &err, "-s", "quit", "-c", conf, NULL);
	ck_assert_msg(rc == 0, "lintel -s quit exited %d: %s%s", rc, out, err);
	assert_exit_0(th_wait_master_exit(TH_STOP_MS));
}
END_TEST

int
main(void)
{
	Suite	*s;

	s = suite_create("20-signals");
	TH_TEST(s, hup_reloads);
	TH_TEST(s, hup_invalid_keeps_old_config);
	TH_TEST(s, hup_under_load_loses_nothing);
	TH_TEST(s, quit_finishes_inflight);
	TH_TEST(s, killed_worker_is_replaced);
	TH_TEST(s, usr1_reopens_logs);
	TH_TEST(s, s_reload_and_quit);
	return th_run(s);
}
