/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Processes: forking children that run unprivileged, naming how they ended,
 * respawn backoff, the pid file and daemonizing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "process.h"
#include "util.h"

/* Fork <entry> as <role> (see process.h). */
pid_t
lnt_process_spawn(const char *role, lnt_child_main_t entry, lnt_conf_t *conf,
    int slot, int close_fd)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);	/* or the child would write buffered output again */
	if ((pid = fork()) != 0)
		return pid;

	lnt_log_set_role(role);
	/* A worker outliving its master would hold the ports forever. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		lnt_log_errno(LNT_LOG_WARN, errno, "prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		_exit(0);	/* the master died before prctl() */
	if (close_fd != -1)
		close(close_fd);
	if (geteuid() == 0 && lnt_process_drop(conf->user, conf->uid,
	    conf->gid) == -1)
		_exit(1);
	entry(conf, slot);
	_exit(1);
}

/* Switch to <user> <uid>/<gid> for good (see process.h). */
int
lnt_process_drop(const char *user, uid_t uid, gid_t gid)
{
	/* Supplementary groups first: they need root, as does setgid. */
	if ((user == NULL || initgroups(user, gid) == -1) &&
	    setgroups(1, &gid) == -1) {
		lnt_log_errno(LNT_LOG_EMERG, errno, "setgroups(%ld) failed",
		    (long)gid);
		return -1;
	}
	if (setgid(gid) == -1) {
		lnt_log_errno(LNT_LOG_EMERG, errno, "setgid(%ld) failed",
		    (long)gid);
		return -1;
	}
	if (setuid(uid) == -1) {
		lnt_log_errno(LNT_LOG_EMERG, errno, "setuid(%ld) failed",
		    (long)uid);
		return -1;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || (uid != 0 && setuid(0) != -1)) {
		lnt_log(LNT_LOG_EMERG, "privileges not dropped to uid %ld "
		    "gid %ld", (long)uid, (long)gid);
		return -1;
	}
	return 0;
}

/* Put "exited with status N" or "exited on signal N (Name)" in <buf>. */
void
lnt_process_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		snprintf(buf, len, "exited on signal %d (%s)%s", sig,
		    strsignal(sig), WCOREDUMP(status) ? " (core dumped)" : "");
	} else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, len, "changed state (wait status %#x)", status);
}

/* The next respawn delay after <prev> for a child that lived <lived> ms. */
lnt_msec_t
lnt_process_backoff(lnt_msec_t prev, lnt_msec_t lived)
{
	if (lived >= LNT_BACKOFF_STABLE)
		return 0;
	if (prev < LNT_BACKOFF_MIN)
		return LNT_BACKOFF_MIN;
	return prev * 2 > LNT_BACKOFF_MAX ? LNT_BACKOFF_MAX : prev * 2;
}

/* Write our pid to <path> through a temporary file and rename(2). */
int
lnt_pidfile_write(const char *path)
{
	char *tmp = lnt_xasprintf("%s.new", path);
	char buf[32];
	int fd, n, err = 0;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		err = errno;
	else {
		if (write(fd, buf, (size_t)n) != n)
			err = errno ? errno : EIO;
		if (close(fd) == -1 && err == 0)
			err = errno;
		if (err == 0 && rename(tmp, path) == -1)
			err = errno;
		if (err != 0)
			unlink(tmp);
	}
	free(tmp);
	errno = err;
	return err ? -1 : 0;
}

/* The pid in <path>, or -1 with errno (EINVAL if it holds no pid). */
pid_t
lnt_pidfile_read(const char *path)
{
	char buf[32], *end;
	ssize_t n;
	long v;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == -1)
		return -1;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	while (*end == '\n' || *end == ' ' || *end == '\t' || *end == '\r')
		end++;
	if (errno != 0 || end == buf || *end != '\0' || v <= 0 ||
	    v > 0x7fffffffL) {
		errno = EINVAL;
		return -1;
	}
	return (pid_t)v;
}

/* Unlink <path> only if it is still ours. */
void
lnt_pidfile_remove(const char *path)
{
	if (lnt_pidfile_read(path) == getpid() && unlink(path) == -1)
		lnt_log_errno(LNT_LOG_WARN, errno, "unlink(\"%s\") failed",
		    path);
}

/* Whether <pid> names a live process. */
bool
lnt_process_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Point <fd> at /dev/null. */
static void
to_devnull(int fd, int flags)
{
	int null = open("/dev/null", flags | O_CLOEXEC);

	if (null == -1)
		return;
	if (null != fd)
		dup2(null, fd);	/* dup2 clears close-on-exec on <fd> */
	if (null != fd)
		close(null);
}

/* Detach from the terminal (see process.h); the parent exits here. */
int
lnt_process_daemonize(void)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		ssize_t n;

		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n == -1 && errno == EINTR);
		/* EOF: the daemon died, after saying why on stderr. */
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1)
		lnt_log_errno(LNT_LOG_WARN, errno, "setsid() failed");
	if (chdir("/") == -1)
		lnt_log_errno(LNT_LOG_WARN, errno, "chdir(\"/\") failed");
	to_devnull(STDIN_FILENO, O_RDONLY);
	return p[1];
}

/* Release the parent waiting on <fd>, then let go of the terminal. */
void
lnt_process_ready(int fd)
{
	ssize_t n;

	if (fd == -1)
		return;
	do
		n = write(fd, "1", 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	to_devnull(STDOUT_FILENO, O_WRONLY);
	to_devnull(STDERR_FILENO, O_WRONLY);
}
