/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Binary upgrade under load: USR2 starts a new master on the same listening
 * sockets, WINCH retires the old workers, QUIT ends the old master, and no
 * request is lost on the way.  The pid files tell operators which is which.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "th.h"

#define UPGRADE_CONF \
	TH_BASE \
	"upstreams = ( { name = \"origin\";\n" \
	"  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } ); } );\n" \
	"sites = ( { listen = [ \"127.0.0.1:@PORT_1@\" ];\n" \
	"  routes = ( { path = \"/\"; upstream = \"origin\"; } ); } );\n"

START_TEST(upgrade_under_load)
{
	struct th_load_result	 res;
	const char		*pidf = th_path("lintel.pid");
	const char		*oldbin = th_path("lintel.pid.oldbin");
	th_origin_t		*origin;
	th_load_t		*load;
	th_resp_t		*r;
	long			 forwarded;
	pid_t			 old, new = -1, kids[16];
	int64_t			 end;
	int			 st;

	origin = th_origin_start(th_portn(2), "A");
	old = th_start(th_conf(UPGRADE_CONF));
	ck_assert_int_eq(th_read_pid(pidf), old);
	load = th_load_start(th_portn(1), "/size/2000", 1000000, 120000);
	th_load_expect_progress(load, 100, "before USR2");

	/* Step 1: a new master beside the old one. */
	th_signal(SIGUSR2);
	end = th_deadline(TH_START_MS);
	do {
		new = th_read_pid(pidf);
		if (new > 0 && new != old && th_read_pid(oldbin) == old)
			break;
		th_nap();
	} while (!th_expired(end));
	ck_assert_msg(new > 0 && new != old, "no new pid in %s (%d; old %d)",
	    pidf, (int)new, (int)old);
	ck_assert_msg(th_read_pid(oldbin) == old, "%s does not hold the old "
	    "master %d", oldbin, (int)old);
	ck_assert_msg(th_alive(old) && th_alive(new), "both masters should "
	    "run (old %d, new %d)", (int)old, (int)new);
	/* The new master is serving once its workers are up. */
	if (!th_try_wait_ready(TH_START_MS))
		fprintf(stderr, "note: no READY=1 from the new master\n");
	end = th_deadline(TH_START_MS);
	while (th_children(new, kids, TH_NELEM(kids)) < 2 && !th_expired(end))
		th_nap();
	ck_assert_msg(th_children(new, kids, TH_NELEM(kids)) >= 2,
	    "the new master has no workers");
	th_load_expect_progress(load, 100, "after USR2");

	/* Step 2: the old workers go. */
	th_signal(SIGWINCH);
	th_load_expect_progress(load, 200, "after WINCH");

	/* Step 3: the old master goes; the new one keeps serving. */
	th_signal(SIGQUIT);
	st = th_wait_master_exit(TH_STOP_MS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the old master ended with %s", th_status_str(st));
	th_adopt_master(new);
	th_load_expect_progress(load, 200, "after the old master left");
	th_load_finish(load, &res);
	fprintf(stderr, "upgrade_under_load: %s\n", th_load_str(&res));
	ck_assert_msg(res.failed == 0, "requests lost in the upgrade: %s",
	    th_load_str(&res));
	/* A retried request must not have reached the origin (20-signals). */
	forwarded = th_origin_count(origin, "GET /size/2000 ");
	ck_assert_msg(forwarded == res.ok, "the origin answered %ld load "
	    "requests, the client got %ld: %s", forwarded, res.ok,
	    th_load_str(&res));

	ck_assert_int_eq(th_read_pid(pidf), new);
	ck_assert_msg(th_alive(new), "the new master is gone");
	if (th_exists(oldbin))
		fprintf(stderr, "note: %s still exists after the old master "
		    "exited\n", oldbin);
	r = th_get(th_portn(1), "/id");
	ck_assert_int_eq(r->status, 200);
	ck_assert_str_eq(r->body, "A");
}
END_TEST

int
main(void)
{
	Suite	*s;

	s = suite_create("25-upgrade");
	TH_TEST(s, upgrade_under_load);
	return th_run(s);
}
