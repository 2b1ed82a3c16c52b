/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A worker process.  Every worker adds the master's listening sockets to its
 * own epoll set with EPOLLEXCLUSIVE, so the kernel wakes one waiting worker
 * per new connection instead of all of them.  That was chosen over one
 * SO_REUSEPORT socket per worker: closing a reuseport socket drops the
 * connections queued on it, while a shared socket keeps its queue when
 * workers come and go on reload and upgrade.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access_log.h"
#include "conf.h"
#include "conn.h"
#include "event.h"
#include "log.h"
#include "module.h"
#include "req_arena.h"
#include "upstream.h"
#include "worker.h"

#define ACCEPTS_PER_WAKE	64
#define ACCEPT_PAUSE_MS		500	/* after EMFILE: let fds free up */

lnt_conf_t		*lnt_worker_conf;

static lnt_event_t	*listen_evs;	/* one per conf->listens[] */
static lnt_event_t	 signal_ev;
static lnt_timer_t	 accept_timer;	/* resumes accepting after a pause */
static lnt_timer_t	 shutdown_timer;
static bool		 accepting;
static bool		 stopping;
static bool		 limit_logged;

static void
set_accepting(bool on)
{
	lnt_conf_t *conf = lnt_worker_conf;

	if (on == accepting)
		return;
	for (size_t i = 0; i < conf->nlistens; i++) {
		lnt_event_t *ev = &listen_evs[i];
		int rc = on ? lnt_event_add(ev, EPOLLIN | EPOLLEXCLUSIVE) :
		    lnt_event_del(ev);

		if (rc == -1)
			lnt_log_errno(LNT_LOG_ALERT, errno, "epoll_ctl() for "
			    "listener %s", conf->listens[i].text);
	}
	accepting = on;
}

static void
accept_resume(lnt_timer_t *t)
{
	if (!stopping)
		set_accepting(true);
}

static void
accept_handler(lnt_event_t *ev, uint32_t events)
{
	lnt_listen_t *l = ev->data;

	for (int i = 0; i < ACCEPTS_PER_WAKE && accepting; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd;

		if (lnt_conn_count() >= (size_t)lnt_worker_conf->
		    worker_connections) {
			if (!limit_logged)
				lnt_log(LNT_LOG_WARN, "worker_connections "
				    "(%d) reached; not accepting until one "
				    "closes",
				    lnt_worker_conf->worker_connections);
			limit_logged = true;
			set_accepting(false);
			return;
		}
		fd = accept4(ev->fd, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				return;
			lnt_log_errno(errno == EMFILE || errno == ENFILE ?
			    LNT_LOG_CRIT : LNT_LOG_ERR, errno,
			    "accept() on %s", l->text);
			set_accepting(false);
			lnt_timer_in(&accept_timer, ACCEPT_PAUSE_MS);
			return;
		}
		lnt_conn_accept(l, fd, (struct sockaddr *)&peer);
	}
}

/*
 * Connections inherit TCP_NODELAY from their listener (Linux copies the
 * listener's TCP options to the sockets it accepts), which saves a
 * setsockopt() per connection.  Every worker sets it, so that sockets
 * inherited from an older binary over an upgrade have it too.
 */
static void
listeners_nodelay(const lnt_conf_t *conf)
{
	int one = 1;

	for (size_t i = 0; i < conf->nlistens; i++)
		if (setsockopt(conf->listens[i].fd, IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof(one)) == -1)
			lnt_log_errno(LNT_LOG_WARN, errno, "setsockopt("
			    "TCP_NODELAY) on %s", conf->listens[i].text);
}

static void
shutdown_expired(lnt_timer_t *t)
{
	lnt_log(LNT_LOG_NOTICE, "shutdown_timeout expired; closing %zu "
	    "connection(s)", lnt_conn_count());
	lnt_conn_close_all();
}

/* Graceful stop: the master keeps the sockets, so nothing queued is lost. */
static void
stop_gracefully(void)
{
	lnt_conf_t *conf = lnt_worker_conf;

	if (stopping)
		return;
	stopping = true;
	set_accepting(false);
	lnt_timer_stop(&accept_timer);
	for (size_t i = 0; i < conf->nlistens; i++)
		lnt_event_close(&listen_evs[i]);
	lnt_conn_drain_all();
	lnt_pool_close_idle();
	lnt_timer_in(&shutdown_timer, conf->shutdown_timeout);
}

static void
reopen_logs(void)
{
	if (lnt_log_reopen() == -1)
		lnt_log_errno(LNT_LOG_ERR, errno, "reopening the error log");
	if (lnt_worker_conf->access_log != NULL &&
	    lnt_access_log_reopen(lnt_worker_conf->access_log) == -1)
		lnt_log_errno(LNT_LOG_ERR, errno, "reopening the access log");
}

static void
signal_handler(lnt_event_t *ev, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(ev->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGQUIT:
			stop_gracefully();
			break;
		case SIGTERM:
		case SIGINT:
			lnt_conn_close_all();
			lnt_module_worker_exit(lnt_worker_conf);
			lnt_arena_free_cache();
			exit(0);
		case SIGUSR1:
			reopen_logs();
			break;
		default:
			break;
		}
	}
}

static int
setup_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	/* Make sure they stay blocked whatever the parent left us. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -1;
	signal_ev = (lnt_event_t){ .fd = fd, .handler = signal_handler };
	return lnt_event_add(&signal_ev, EPOLLIN);
}

static void
end_of_turn(void)
{
	lnt_conn_reap();
	lnt_pool_reap();
	if (!accepting && !stopping && !lnt_timer_armed(&accept_timer) &&
	    lnt_conn_count() < (size_t)lnt_worker_conf->worker_connections) {
		limit_logged = false;
		set_accepting(true);
	}
}

void
lnt_worker_main(lnt_conf_t *conf, int slot)
{
	lnt_worker_conf = conf;
	if (lnt_loop_init() == -1 || setup_signals() == -1) {
		lnt_log_errno(LNT_LOG_EMERG, errno, "worker %d cannot start",
		    slot);
		exit(1);
	}
	lnt_loop.end_of_turn = end_of_turn;
	lnt_timer_init(&accept_timer, accept_resume, NULL);
	lnt_timer_init(&shutdown_timer, shutdown_expired, NULL);
	listen_evs = calloc(conf->nlistens ? conf->nlistens : 1,
	    sizeof(*listen_evs));
	if (listen_evs == NULL) {
		lnt_log(LNT_LOG_EMERG, "worker %d: out of memory", slot);
		exit(1);
	}
	for (size_t i = 0; i < conf->nlistens; i++)
		listen_evs[i] = (lnt_event_t){ .fd = conf->listens[i].fd,
		    .handler = accept_handler, .data = &conf->listens[i] };
	if (lnt_module_worker_init(conf) == -1)
		exit(1);
	listeners_nodelay(conf);
	set_accepting(true);
	lnt_log(LNT_LOG_DEBUG, "worker %d started", slot);
	while (!stopping || lnt_conn_count() > 0)
		lnt_loop_turn(-1);
	lnt_module_worker_exit(conf);
	/* Leak checkers see a clean exit. */
	lnt_arena_free_cache();
	lnt_log(LNT_LOG_DEBUG, "worker %d exiting", slot);
	exit(0);
}
