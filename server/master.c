/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The master process: starts the daemon, then supervises one generation of
 * workers plus the helper and acts on signals (DESIGN.md section 2).  It
 * never serves traffic; every state change is one [notice] line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "conf.h"
#include "helper.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "process.h"
#include "tls.h"
#include "util.h"
#include "worker.h"

/* Children get this long after the stop deadline before SIGKILL. */
#define KILL_GRACE	5000		/* ms */

enum state {
	RUNNING,
	STOPPING,		/* QUIT: waiting for children to drain */
	STOPPING_FAST		/* TERM/INT */
};

/* A place in the current generation: workers 0..n-1, then the helper. */
typedef struct slot {
	pid_t		 pid;		/* 0 while empty */
	lnt_msec_t	 started;	/* monotonic ms of the last fork */
	lnt_msec_t	 backoff;	/* the last respawn delay, ms */
	lnt_msec_t	 respawn_at;	/* monotonic ms, when <respawn> */
	bool		 respawn;
} slot_t;

/* A child of an earlier generation (or after WINCH), draining. */
typedef struct retired {
	pid_t		 pid;
	bool		 helper;
	bool		 told;		/* QUIT sent */
} retired_t;

static struct {
	lnt_conf_t	 *conf;
	char		 *conf_path;	/* absolute: the daemon runs in / */
	char		 *binary;	/* absolute path, exec'd on USR2 */
	char		 *cwd;		/* at startup, restored for exec */
	char		**argv;
	bool		  foreground;
	sigset_t	  orig_mask;	/* restored for exec */
	int		  sigfd;
	int		  ready_fd;	/* lnt_process_ready(), or -1 */
	enum state	  state;
	bool		  idle;		/* after WINCH: no workers until HUP */
	bool		  killed;	/* SIGKILL sent at the deadline */
	lnt_msec_t	  kill_at;	/* monotonic ms, 0 if none */
	lnt_msec_t	  tickets_at;	/* next ticket key rotation, -1: none */
	unsigned	  generation;
	slot_t		 *slots;	/* conf->workers + 1 (the helper) */
	size_t		  nslots;
	retired_t	 *old;
	size_t		  nold;
	size_t		  capold;
	char		 *pid_path;	/* where our pid file is now */
	pid_t		  upgrade_pid;	/* new binary's master, 0 if none */
	char		 *upgrade_pidfile; /* pid_file when USR2 came */
	char		 *upgrade_oldbin; /* ... renamed to this */
} m = { .sigfd = -1, .ready_fd = -1 };

/* The helper's slot is the last one. */
static bool
is_helper(size_t i)
{
	return i + 1 == m.nslots;
}

static const char *
slot_role(size_t i)
{
	return is_helper(i) ? "helper" : "worker";
}

/*
 * A fatal startup error: on stderr, where whoever started us looks, and
 * in the error log once there is one.
 */
static void __attribute__((format(printf, 1, 2)))
startup_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "lintel: %s\n", msg);
	if (m.conf != NULL && strcmp(m.conf->error_log, "stderr") != 0)
		lnt_log(LNT_LOG_EMERG, "%s", msg);
}

/* Tell the service manager <state>; a failure is worth one warning. */
static void
notify(const char *state)
{
	static bool warned;

	if (lnt_notify(state) == -1 && !warned) {
		lnt_log_errno(LNT_LOG_WARN, errno, "cannot notify "
		    "NOTIFY_SOCKET \"%s\"", getenv("NOTIFY_SOCKET"));
		warned = true;
	}
}

static void
notify_ready(void)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "READY=1\nMAINPID=%ld", (long)getpid());
	notify(buf);
}

/* <path> made absolute against the current directory. */
static char *
absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return lnt_xstrdup(path);
	return lnt_xasprintf("%s/%s", cwd, path);
}

/*
 * The executable's path, read now: after a package upgrade replaced it,
 * /proc/self/exe would name the deleted file instead of the new one.
 */
static char *
binary_path(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return absolute(argv0);
	buf[n] = '\0';
	return lnt_xstrdup(buf);
}

/*
 * Let workers hold 2 * worker_connections descriptors (client and upstream
 * side) plus some for logs and files.  Raising the hard limit needs root.
 */
static void
raise_nofile(const lnt_conf_t *conf)
{
	rlim_t need = 2 * (rlim_t)conf->worker_connections + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need && geteuid() == 0)
		rl.rlim_max = need;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		lnt_log_errno(LNT_LOG_WARN, errno, "cannot raise "
		    "RLIMIT_NOFILE to %llu", (unsigned long long)need);
	else if (rl.rlim_cur < need)
		lnt_log(LNT_LOG_WARN, "RLIMIT_NOFILE is %llu (the hard limit), "
		    "below the %llu that worker_connections %d needs",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)need,
		    conf->worker_connections);
}

/*
 * Load <path>, sending each error to <level> in the log (with "reload
 * failed: ") when <level> >= 0, else to stderr.  Returns NULL on errors.
 */
static lnt_conf_t *
load_conf(const char *path, int level)
{
	lnt_strlist_t errors = { 0 };
	lnt_conf_t *conf;

	/* A reload lets the modules' reload callbacks judge it too. */
	conf = level >= 0 ? lnt_conf_reload(path, &errors) :
	    lnt_conf_load(path, &errors);
	for (size_t i = 0; i < errors.n; i++) {
		if (level < 0)
			fprintf(stderr, "%s\n", errors.items[i]);
		else
			lnt_log(level, "reload failed: %s", errors.items[i]);
	}
	lnt_strlist_free(&errors);
	return conf;
}

/* Fork the child of slot <i> on the current config. */
static int
spawn(size_t i)
{
	slot_t *s = &m.slots[i];
	pid_t pid;

	if (is_helper(i))
		pid = lnt_process_spawn("helper", lnt_helper_main, m.conf, 0,
		    m.sigfd);
	else
		pid = lnt_process_spawn("worker", lnt_worker_main, m.conf,
		    (int)i, m.sigfd);
	if (pid == -1) {
		lnt_log_errno(LNT_LOG_ALERT, errno, "fork() of %s %zu failed",
		    slot_role(i), i);
		return -1;
	}
	s->pid = pid;
	s->started = lnt_now_mono();
	s->respawn = false;
	return 0;
}

/* A fresh, empty set of slots for <conf>. */
static void
new_slots(const lnt_conf_t *conf)
{
	free(m.slots);
	m.nslots = (size_t)conf->workers + 1;
	m.slots = lnt_xcalloc(m.nslots, sizeof(*m.slots));
}

/* Fork every slot; one that fails is retried like a crashed child. */
static void
spawn_all(void)
{
	for (size_t i = 0; i < m.nslots; i++) {
		if (spawn(i) == -1) {
			m.slots[i].backoff = LNT_BACKOFF_MIN;
			m.slots[i].respawn_at = lnt_now_mono() +
			    LNT_BACKOFF_MIN;
			m.slots[i].respawn = true;
		}
	}
}

/* Move the current generation's children to the old list. */
static void
retire_all(void)
{
	for (size_t i = 0; i < m.nslots; i++) {
		slot_t *s = &m.slots[i];

		s->respawn = false;
		if (s->pid == 0)
			continue;
		if (m.nold == m.capold) {
			m.capold = m.capold ? m.capold * 2 : 16;
			m.old = lnt_xrealloc(m.old, m.capold * sizeof(*m.old));
		}
		m.old[m.nold++] = (retired_t){ s->pid, is_helper(i), false };
		s->pid = 0;
	}
}

/* Send QUIT to the retired children not yet told to stop. */
static void
quit_retired(void)
{
	for (size_t i = 0; i < m.nold; i++) {
		if (m.old[i].told)
			continue;
		if (kill(m.old[i].pid, SIGQUIT) == -1 && errno != ESRCH)
			lnt_log_errno(LNT_LOG_ERR, errno, "kill(%ld, SIGQUIT)",
			    (long)m.old[i].pid);
		m.old[i].told = true;
	}
}

/* Send <sig> to every child, current and old (not the upgraded master). */
static void
signal_all(int sig)
{
	for (size_t i = 0; i < m.nslots; i++)
		if (m.slots[i].pid != 0)
			kill(m.slots[i].pid, sig);
	for (size_t i = 0; i < m.nold; i++)
		kill(m.old[i].pid, sig);
}

static size_t
count_children(void)
{
	size_t n = m.nold;

	for (size_t i = 0; i < m.nslots; i++)
		n += m.slots[i].pid != 0;
	return n;
}

/*
 * Make <new> ready to take over: sockets (reused or bound), access log,
 * error log.  Returns 0, or -1 after logging why, with <new> owning
 * nothing of the current config's.
 */
static int
prepare(lnt_conf_t *new)
{
	const lnt_conf_t *cur = m.conf;
	char err[512];

	lnt_listen_reuse(new, cur);
	if (lnt_listen_open_missing(new, err, sizeof(err)) == -1) {
		lnt_log(LNT_LOG_ERR, "reload failed: %s", err);
		goto fail;
	}
	if (new->access_log != NULL &&
	    lnt_access_log_open(new->access_log, new->uid, new->gid) == -1) {
		lnt_log_errno(LNT_LOG_ERR, errno, "reload failed: cannot open "
		    "access log %s", lnt_access_log_path(new->access_log));
		goto fail;
	}
	/* Last, as it cannot be undone: the log is process-wide. */
	if ((strcmp(new->error_log, cur->error_log) != 0 ||
	    new->log_level != cur->log_level || new->uid != cur->uid ||
	    new->gid != cur->gid) && lnt_log_open(new->error_log,
	    new->log_level, new->uid, new->gid) == -1) {
		lnt_log_errno(LNT_LOG_ERR, errno, "reload failed: cannot open "
		    "error log %s", new->error_log);
		goto fail;
	}
	return 0;
fail:
	lnt_listen_abandon(new, cur);
	return -1;
}

/* HUP: switch to a fresh copy of the config file, or keep the old one. */
static void
reload(void)
{
	lnt_conf_t *new, *old = m.conf;
	char buf[96];

	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)lnt_now_mono() * 1000);
	notify(buf);
	lnt_log(LNT_LOG_NOTICE, "reloading configuration %s", m.conf_path);
	if ((new = load_conf(m.conf_path, LNT_LOG_ERR)) == NULL ||
	    prepare(new) == -1) {
		if (new != NULL)
			lnt_conf_free(new);
		lnt_log(LNT_LOG_NOTICE, "reload failed, still running "
		    "generation %u", m.generation);
		notify("READY=1");
		return;
	}
	raise_nofile(new);
	/*
	 * The master lets go of removed addresses before forking, or the new
	 * workers would inherit and keep them open; the old workers still
	 * hold their own copies until they drain.
	 */
	lnt_listen_release(old, new);
	retire_all();
	m.conf = new;
	m.tickets_at = lnt_tls_tickets_rotate(lnt_now_mono(),
	    new->tls_session_timeout);
	m.generation++;
	new_slots(new);
	spawn_all();
	/* Only now: someone accepts on every socket at every moment. */
	quit_retired();
	lnt_conf_free(old);
	lnt_log(LNT_LOG_NOTICE, "reloaded: generation %u, %d workers",
	    m.generation, new->workers);
	notify("READY=1");
}

/* HUP after WINCH: workers again, on the config already loaded. */
static void
restart_workers(void)
{
	m.idle = false;
	m.generation++;
	new_slots(m.conf);
	spawn_all();
	lnt_log(LNT_LOG_NOTICE, "workers restarted: generation %u, "
	    "%d workers", m.generation, m.conf->workers);
}

/* WINCH: drain this master's children and start none until HUP. */
static void
winch(void)
{
	retire_all();
	quit_retired();
	m.idle = true;
	lnt_log(LNT_LOG_NOTICE, "stopping workers gracefully (WINCH); "
	    "HUP starts them again");
}

/* QUIT (<fast> false) or TERM/INT (<fast>): stop every child, then exit. */
static void
stop(bool fast, int signo)
{
	lnt_msec_t deadline;

	if (m.state == STOPPING_FAST || (m.state == STOPPING && !fast))
		return;
	if (m.state == RUNNING)
		notify("STOPPING=1");
	m.state = fast ? STOPPING_FAST : STOPPING;
	for (size_t i = 0; i < m.nslots; i++)
		m.slots[i].respawn = false;
	signal_all(fast ? SIGTERM : SIGQUIT);
	for (size_t i = 0; i < m.nold; i++)
		m.old[i].told = true;
	lnt_listen_close_all(m.conf);
	/* TERM after QUIT may only bring the deadline closer. */
	deadline = lnt_now_mono() + KILL_GRACE +
	    (fast ? 0 : m.conf->shutdown_timeout);
	if (m.kill_at == 0 || deadline < m.kill_at)
		m.kill_at = deadline;
	lnt_log(LNT_LOG_NOTICE, "%s (SIG%s), %zu children to wait for",
	    fast ? "fast stop" : "graceful stop", sigabbrev_np(signo),
	    count_children());
}

/* USR1: the master reopens (it may create and chown), then the children. */
static void
reopen_logs(void)
{
	if (lnt_log_reopen() == -1)
		lnt_log_errno(LNT_LOG_ERR, errno, "cannot reopen the error "
		    "log");
	if (m.conf->access_log != NULL &&
	    lnt_access_log_reopen(m.conf->access_log) == -1)
		lnt_log_errno(LNT_LOG_ERR, errno, "cannot reopen access log %s",
		    lnt_access_log_path(m.conf->access_log));
	signal_all(SIGUSR1);
	lnt_log(LNT_LOG_NOTICE, "logs reopened");
}

/*
 * In the fork for USR2: the session ticket keys go along (in memory, named
 * by LNT_TICKETS_ENV), so clients resume on the new workers; without them
 * the new binary makes its own and every client does one full handshake.
 */
static void
pass_ticket_keys(void)
{
	char num[16];
	int fd;

	if ((fd = lnt_tls_tickets_export(lnt_now_mono())) == -1) {
		lnt_log_errno(LNT_LOG_WARN, errno, "cannot pass the session "
		    "ticket keys to the new binary");
		return;
	}
	snprintf(num, sizeof(num), "%d", fd);
	if (setenv(LNT_TICKETS_ENV, num, 1) == -1) {
		lnt_log_errno(LNT_LOG_WARN, errno, "cannot pass the session "
		    "ticket keys to the new binary");
		close(fd);
	}
}

/* In the fork for USR2: hand the sockets over and exec the binary. */
static void __attribute__((noreturn))
exec_new_binary(const char *fds)
{
	if (lnt_listen_set_cloexec(m.conf, false) == -1 ||
	    setenv(LNT_LISTEN_ENV, fds, 1) == -1) {
		lnt_log_errno(LNT_LOG_ALERT, errno, "cannot pass the listening "
		    "sockets to the new binary");
		_exit(1);
	}
	pass_ticket_keys();
	/* The original -c may be relative to where we were started. */
	if (m.cwd != NULL && chdir(m.cwd) == -1)
		lnt_log_errno(LNT_LOG_WARN, errno, "chdir(\"%s\")", m.cwd);
	sigprocmask(SIG_SETMASK, &m.orig_mask, NULL);
	execv(m.binary, m.argv);
	lnt_log_errno(LNT_LOG_ALERT, errno, "execv(\"%s\") failed", m.binary);
	_exit(1);
}

/* USR2: start the (new) binary on our sockets; we keep serving. */
static void
upgrade(void)
{
	char *fds, *oldbin;
	pid_t pid;

	if (m.upgrade_pid != 0) {
		lnt_log(LNT_LOG_NOTICE, "upgrade ignored: new master %ld is "
		    "still running", (long)m.upgrade_pid);
		return;
	}
	oldbin = lnt_xasprintf("%s.oldbin", m.pid_path);
	if (rename(m.pid_path, oldbin) == -1) {
		lnt_log_errno(LNT_LOG_ALERT, errno, "upgrade failed: cannot "
		    "rename %s to %s", m.pid_path, oldbin);
		free(oldbin);
		return;
	}
	fds = lnt_listen_format_fds(m.conf);
	fflush(NULL);
	if ((pid = fork()) == 0)
		exec_new_binary(fds);
	free(fds);
	if (pid == -1) {
		lnt_log_errno(LNT_LOG_ALERT, errno, "upgrade failed: fork()");
		if (rename(oldbin, m.pid_path) == -1)
			lnt_log_errno(LNT_LOG_ALERT, errno, "cannot rename %s "
			    "back to %s", oldbin, m.pid_path);
		free(oldbin);
		return;
	}
	m.upgrade_pid = pid;
	free(m.upgrade_pidfile);
	m.upgrade_pidfile = m.pid_path;
	m.upgrade_oldbin = oldbin;
	m.pid_path = lnt_xstrdup(oldbin);
	lnt_log(LNT_LOG_NOTICE, "upgrading: started new master %ld from %s",
	    (long)pid, m.binary);
}

/* The new binary's master is gone while we live: take the pid file back. */
static void
upgrade_ended(int status)
{
	char how[128];
	pid_t pid = m.upgrade_pid;

	m.upgrade_pid = 0;
	lnt_process_status(status, how, sizeof(how));
	if (rename(m.upgrade_oldbin, m.upgrade_pidfile) == -1)
		lnt_log_errno(LNT_LOG_ALERT, errno, "cannot rename %s back to "
		    "%s", m.upgrade_oldbin, m.upgrade_pidfile);
	else {
		free(m.pid_path);
		m.pid_path = m.upgrade_pidfile;
		m.upgrade_pidfile = NULL;
	}
	free(m.upgrade_oldbin);
	m.upgrade_oldbin = NULL;
	/* Exit status 0 is a deliberate rollback (QUIT to the new master). */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		lnt_log(LNT_LOG_NOTICE, "upgrade rolled back: new master %ld "
		    "%s", (long)pid, how);
	else
		lnt_log(LNT_LOG_ALERT, "upgrade failed: new master %ld %s",
		    (long)pid, how);
}

/* A child of the current generation in slot <i> ended with <status>. */
static void
slot_ended(size_t i, int status)
{
	slot_t *s = &m.slots[i];
	lnt_msec_t now = lnt_now_mono();
	pid_t pid = s->pid;
	char how[128];
	int level;

	s->pid = 0;
	lnt_process_status(status, how, sizeof(how));
	if (m.state != RUNNING || (WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)) {
		level = WIFSIGNALED(status) && !m.killed ? LNT_LOG_ALERT :
		    LNT_LOG_NOTICE;
		lnt_log(level, "%s %ld %s", slot_role(i), (long)pid, how);
		return;
	}
	level = WIFSIGNALED(status) ? LNT_LOG_ALERT : LNT_LOG_ERR;
	lnt_log(level, "%s %ld %s", slot_role(i), (long)pid, how);
	s->backoff = lnt_process_backoff(s->backoff, now - s->started);
	s->respawn_at = now + s->backoff;
	s->respawn = true;
}

/* Child <pid> ended with <status>: find whose it was. */
static void
child_ended(pid_t pid, int status)
{
	char how[128];

	if (pid == m.upgrade_pid) {
		upgrade_ended(status);
		return;
	}
	for (size_t i = 0; i < m.nslots; i++) {
		if (m.slots[i].pid == pid) {
			slot_ended(i, status);
			return;
		}
	}
	for (size_t i = 0; i < m.nold; i++) {
		if (m.old[i].pid != pid)
			continue;
		lnt_process_status(status, how, sizeof(how));
		lnt_log(LNT_LOG_NOTICE, "old %s %ld %s",
		    m.old[i].helper ? "helper" : "worker", (long)pid, how);
		m.old[i] = m.old[--m.nold];
		return;
	}
}

static void
reap(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		child_ended(pid, status);
}

/* Respawn the slots that are due; SIGKILL laggards at the deadline. */
static void
run_timers(void)
{
	lnt_msec_t now = lnt_now_mono();

	for (size_t i = 0; i < m.nslots; i++) {
		slot_t *s = &m.slots[i];

		if (!s->respawn || s->respawn_at > now)
			continue;
		if (spawn(i) == -1) {
			s->backoff = lnt_process_backoff(s->backoff, 0);
			s->respawn_at = now + s->backoff;
			continue;
		}
		if (is_helper(i))
			lnt_log(LNT_LOG_NOTICE, "respawned helper as pid %ld",
			    (long)s->pid);
		else
			lnt_log(LNT_LOG_NOTICE, "respawned worker %zu as pid "
			    "%ld", i, (long)s->pid);
	}
	if (m.state != RUNNING && !m.killed && now >= m.kill_at) {
		lnt_log(LNT_LOG_WARN, "%zu children still running after the "
		    "stop timeout, sending SIGKILL", count_children());
		signal_all(SIGKILL);
		m.killed = true;
	}
	if (m.tickets_at != -1 && now >= m.tickets_at)
		m.tickets_at = lnt_tls_tickets_rotate(now,
		    m.conf->tls_session_timeout);
}

/* Milliseconds until run_timers() has work, -1 for none. */
static int
next_timeout(void)
{
	lnt_msec_t now = lnt_now_mono(), next = -1;

	for (size_t i = 0; i < m.nslots; i++)
		if (m.slots[i].respawn &&
		    (next == -1 || m.slots[i].respawn_at < next))
			next = m.slots[i].respawn_at;
	if (m.state != RUNNING && !m.killed &&
	    (next == -1 || m.kill_at < next))
		next = m.kill_at;
	if (m.tickets_at != -1 && (next == -1 || m.tickets_at < next))
		next = m.tickets_at;
	if (next == -1)
		return -1;
	return next <= now ? 0 : next - now > INT_MAX ? INT_MAX :
	    (int)(next - now);
}

/* Act on signal <si>. */
static void
on_signal(const struct signalfd_siginfo *si)
{
	int signo = (int)si->ssi_signo;

	if (m.state != RUNNING && (signo == SIGHUP || signo == SIGUSR2 ||
	    signo == SIGWINCH)) {
		lnt_log(LNT_LOG_INFO, "SIG%s ignored while stopping",
		    sigabbrev_np(signo));
		return;
	}
	switch (signo) {
	case SIGHUP:
		if (m.idle)
			restart_workers();
		else
			reload();
		break;
	case SIGQUIT:
		stop(false, signo);
		break;
	case SIGTERM:
	case SIGINT:
		stop(true, signo);
		break;
	case SIGUSR1:
		reopen_logs();
		break;
	case SIGUSR2:
		upgrade();
		break;
	case SIGWINCH:
		/* A resized terminal is not an operator asking (lintel -f). */
		if (si->ssi_code == SI_KERNEL)
			lnt_log(LNT_LOG_INFO, "WINCH from the terminal "
			    "ignored");
		else if (!m.idle)
			winch();
		break;
	default:
		break;		/* SIGCHLD: reap() runs on every turn */
	}
}

static void
read_signals(void)
{
	struct signalfd_siginfo si[16];
	ssize_t n;

	while ((n = read(m.sigfd, si, sizeof(si))) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
			on_signal(&si[i]);
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		lnt_log_errno(LNT_LOG_ALERT, errno, "read(signalfd)");
}

/* Supervise until stopped and every child is gone. */
static void
loop(void)
{
	struct pollfd pfd = { .fd = m.sigfd, .events = POLLIN };

	for (;;) {
		if (poll(&pfd, 1, next_timeout()) == -1 && errno != EINTR) {
			lnt_log_errno(LNT_LOG_ALERT, errno, "poll()");
			sleep(1);	/* don't spin on a persistent error */
		}
		read_signals();
		reap();
		if (m.state != RUNNING && count_children() == 0)
			return;
		run_timers();
	}
}

/* Block every signal and take ours from a signalfd.  Returns -1 on error. */
static int
setup_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGQUIT, SIGTERM, SIGINT,
	    SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
	sigset_t all, set;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &m.orig_mask);
	sigemptyset(&set);
	for (size_t i = 0; i < LNT_NELEM(sigs); i++)
		sigaddset(&set, sigs[i]);
	m.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return m.sigfd == -1 ? -1 : 0;
}

/*
 * Undo an ignored disposition inherited from our parent (nohup ignores
 * HUP): an ignored signal is discarded before a signalfd can see it.
 */
static void
reset_dispositions(void)
{
	static const int sigs[] = { SIGHUP, SIGQUIT, SIGTERM, SIGINT,
	    SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };

	for (size_t i = 0; i < LNT_NELEM(sigs); i++)
		signal(sigs[i], SIG_DFL);
}

/* Refuse to start beside a live master; 0 if the way is clear. */
static int
check_running(const char *pid_file, bool inherited)
{
	pid_t pid = lnt_pidfile_read(pid_file);

	if (pid <= 0 || pid == getpid() || !lnt_process_alive(pid))
		return 0;
	/* The old binary renamed its pid file; if not, it is our parent. */
	if (inherited && pid == getppid())
		return 0;
	startup_error("already running (pid %ld): pid file %s", (long)pid,
	    pid_file);
	return -1;
}

/* Open the sockets: inherited from the old binary, else bound anew. */
static int
open_listeners(const char *inherited)
{
	char err[512];
	size_t n = 0;
	int *fds = NULL, rc;

	if (inherited != NULL &&
	    lnt_listen_parse_fds(inherited, &fds, &n) == -1) {
		startup_error("malformed %s=\"%s\"", LNT_LISTEN_ENV, inherited);
		return -1;
	}
	if (inherited != NULL)
		rc = lnt_listen_adopt(m.conf, fds, n, err, sizeof(err));
	else
		rc = lnt_listen_open_missing(m.conf, err, sizeof(err));
	free(fds);
	if (rc == -1)
		startup_error("%s", err);
	unsetenv(LNT_LISTEN_ENV);
	return rc;
}

/*
 * The descriptor the old binary's master passed its session ticket keys
 * in (LNT_TICKETS_ENV), or -1; the variable goes, so that no later
 * upgrade sees a stale one.
 */
static int
inherited_ticket_keys(void)
{
	const char *v = getenv(LNT_TICKETS_ENV);
	char *end;
	long fd;

	if (v == NULL)
		return -1;
	errno = 0;
	fd = strtol(v, &end, 10);
	unsetenv(LNT_TICKETS_ENV);
	if (errno != 0 || *end != '\0' || end == v || fd < 3 ||
	    fd > INT_MAX || fcntl((int)fd, F_GETFD) == -1) {
		lnt_log(LNT_LOG_WARN, "ignoring %s: not an open descriptor",
		    LNT_TICKETS_ENV);
		return -1;
	}
	/* No worker or later binary needs it. */
	(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return (int)fd;
}

/* Everything from loading the config to the first workers. */
static int
start(const lnt_master_opts_t *opts)
{
	const char *inherited = getenv(LNT_LISTEN_ENV);
	lnt_conf_t *conf;

	reset_dispositions();
	m.conf_path = absolute(opts->conf_path);
	m.binary = binary_path(opts->argv[0]);
	m.cwd = absolute(".");
	m.argv = opts->argv;
	m.foreground = opts->foreground;
	if ((conf = load_conf(m.conf_path, -1)) == NULL) {
		startup_error("configuration file %s has errors, not starting",
		    m.conf_path);
		return -1;
	}
	if (lnt_log_open(conf->error_log, conf->log_level, conf->uid,
	    conf->gid) == -1) {
		startup_error("cannot open error log %s: %s", conf->error_log,
		    strerror(errno));
		lnt_conf_free(conf);
		return -1;
	}
	m.conf = conf;
	if (conf->access_log != NULL &&
	    lnt_access_log_open(conf->access_log, conf->uid, conf->gid) == -1) {
		startup_error("cannot open access log %s: %s",
		    lnt_access_log_path(conf->access_log), strerror(errno));
		return -1;
	}
	/* Before binding, or a running master's port would hide it. */
	if (check_running(conf->pid_file, inherited != NULL) == -1)
		return -1;
	raise_nofile(conf);
	if (open_listeners(inherited) == -1)
		return -1;
	if (!opts->foreground && inherited == NULL &&
	    (m.ready_fd = lnt_process_daemonize()) == -1) {
		startup_error("cannot fork to the background: %s",
		    strerror(errno));
		return -1;
	}
	if (!opts->foreground && inherited != NULL && chdir("/") == -1)
		lnt_log_errno(LNT_LOG_WARN, errno, "chdir(\"/\")");
	if (setup_signals() == -1) {
		startup_error("signalfd() failed: %s", strerror(errno));
		return -1;
	}
	m.pid_path = lnt_xstrdup(conf->pid_file);
	if (lnt_pidfile_write(m.pid_path) == -1) {
		startup_error("cannot write pid file %s: %s", m.pid_path,
		    strerror(errno));
		free(m.pid_path);
		m.pid_path = NULL;
		return -1;
	}
	/* Before the first fork: every child shares the ticket keys. */
	lnt_tls_init();
	if (lnt_tls_tickets_init(inherited_ticket_keys()) == -1)
		lnt_log_errno(LNT_LOG_WARN, errno, "no shared session ticket "
		    "keys: TLS sessions will not resume");
	m.tickets_at = lnt_tls_tickets_rotate(lnt_now_mono(),
	    conf->tls_session_timeout);
	m.generation = 1;
	new_slots(conf);
	spawn_all();
	return 0;
}

/* Release what the master holds, for a clean exit (and a quiet ASan). */
static void
cleanup(void)
{
	if (m.pid_path != NULL)
		lnt_pidfile_remove(m.pid_path);
	if (m.conf != NULL) {
		lnt_listen_close_all(m.conf);
		lnt_conf_free(m.conf);
	}
	if (m.sigfd != -1)
		close(m.sigfd);
	free(m.slots);
	free(m.old);
	free(m.conf_path);
	free(m.binary);
	free(m.cwd);
	free(m.pid_path);
	free(m.upgrade_pidfile);
	free(m.upgrade_oldbin);
	memset(&m, 0, sizeof(m));
	m.sigfd = m.ready_fd = -1;
}

/* Run the master for <opts> (see master.h); returns the exit status. */
int
lnt_master_run(const lnt_master_opts_t *opts)
{
	if (start(opts) == -1) {
		cleanup();
		return 1;
	}
	notify_ready();
	lnt_log(LNT_LOG_NOTICE, "lintel %s started: pid %ld, %d workers, "
	    "configuration %s", PACKAGE_VERSION, (long)getpid(),
	    m.conf->workers, m.conf_path);
	lnt_process_ready(m.ready_fd);
	m.ready_fd = -1;
	loop();
	lnt_log(LNT_LOG_NOTICE, "exiting");
	cleanup();
	return 0;
}
