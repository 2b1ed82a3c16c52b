/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The error log: formats one line per event and hands it to a file or
 * stderr with a single write(2), so lines from the master, the workers and
 * the helper never interleave, or to syslog(3).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Longer messages are cut and end in "..."; a line is one write(2). */
#define LOG_LINE_MAX	4096

enum log_target {
	TARGET_STDERR,
	TARGET_FILE,
	TARGET_SYSLOG
};

static struct {
	enum log_target	 target;
	int		 fd;		/* file target's descriptor, or -1 */
	char		 path[PATH_MAX];
	int		 level;		/* lines above it are dropped */
	uid_t		 uid;		/* owner of files the master creates */
	gid_t		 gid;
	char		 role[16];	/* "master", "worker", "helper" */
} lg = {
	.target = TARGET_STDERR,
	.fd = -1,
	.level = LNT_LOG_NOTICE,
	.role = "master",
};

static const char *const level_names[] = {
	[LNT_LOG_EMERG] = "emerg",
	[LNT_LOG_ALERT] = "alert",
	[LNT_LOG_CRIT] = "crit",
	[LNT_LOG_ERR] = "error",
	[LNT_LOG_WARN] = "warn",
	[LNT_LOG_NOTICE] = "notice",
	[LNT_LOG_INFO] = "info",
	[LNT_LOG_DEBUG] = "debug",
};

/*
 * Map a level name <name> to its LNT_LOG_* number, accepting the syslog
 * spellings "warning" and "err" too.  Returns -1 for an unknown name.
 */
int
lnt_log_level_parse(const char *name)
{
	if (strcasecmp(name, "warning") == 0)
		return LNT_LOG_WARN;
	if (strcasecmp(name, "err") == 0)
		return LNT_LOG_ERR;
	for (size_t i = 0; i < LNT_NELEM(level_names); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* The name of <level> as it appears in a line; "?" when out of range. */
const char *
lnt_log_level_name(int level)
{
	if (level < 0 || (size_t)level >= LNT_NELEM(level_names))
		return "?";
	return level_names[level];
}

/*
 * Open <path> for appending; as root, give it to <uid>/<gid> so that
 * unprivileged workers can reopen it after a rotation.
 */
static int
open_file(const char *path, uid_t uid, gid_t gid)
{
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd == -1)
		return -1;
	if (geteuid() == 0 && fchown(fd, uid, gid) == -1) {
		/* Best effort: it only matters to a worker's reopen. */
	}
	return fd;
}

/* Release whatever the current target holds, before switching. */
static void
close_target(void)
{
	if (lg.target == TARGET_FILE && lg.fd != -1)
		close(lg.fd);
	else if (lg.target == TARGET_SYSLOG)
		closelog();
	lg.fd = -1;
}

/*
 * Send the error log to <target> ("stderr", "syslog" or a file path) at
 * <level>; files are chowned to <uid>/<gid> when running as root.  Returns 0,
 * or -1 with errno set and the previous target kept.
 */
int
lnt_log_open(const char *target, int level, uid_t uid, gid_t gid)
{
	int fd;

	if (strcmp(target, "stderr") == 0) {
		close_target();
		lg.target = TARGET_STDERR;
	} else if (strcmp(target, "syslog") == 0) {
		close_target();
		openlog("lintel", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.target = TARGET_SYSLOG;
	} else {
		if (strlen(target) >= sizeof(lg.path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if ((fd = open_file(target, uid, gid)) == -1)
			return -1;
		close_target();
		lg.target = TARGET_FILE;
		lg.fd = fd;
		strcpy(lg.path, target);
	}
	lg.level = level;
	lg.uid = uid;
	lg.gid = gid;
	return 0;
}

/*
 * Reopen the file target by name, after logrotate moved it away.  Returns 0
 * (also for stderr and syslog, which need nothing), or -1 with errno set and
 * the old descriptor kept.
 */
int
lnt_log_reopen(void)
{
	int fd;

	if (lg.target != TARGET_FILE)
		return 0;
	if ((fd = open_file(lg.path, lg.uid, lg.gid)) == -1)
		return -1;
	close(lg.fd);
	lg.fd = fd;
	return 0;
}

/* Name this process <role> in every line it writes from now on. */
void
lnt_log_set_role(const char *role)
{
	snprintf(lg.role, sizeof(lg.role), "%s", role);
}

/* The current level: lines above it are not written. */
int
lnt_log_level(void)
{
	return lg.level;
}

/* A line is one line: control characters inside it would split it. */
static void
flatten(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/* Format the message part: <fmt>, then ": strerror(<err>)" if <err>. */
static void
format_message(char *buf, size_t len, int err, const char *fmt, va_list ap)
{
	size_t n;
	int r;

	r = vsnprintf(buf, len, fmt, ap);
	n = r < 0 ? 0 : (size_t)r;
	if (err != 0 && n < len) {
		r = snprintf(buf + n, len - n, ": %s", strerror(err));
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n >= len)
		memcpy(buf + len - 4, "...", 4);
	flatten(buf);
}

static void
write_line(int level, const char *msg)
{
	char line[LOG_LINE_MAX + 128];
	struct timespec ts;
	struct tm tm;
	size_t n;
	ssize_t w;
	int fd;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, " [%s] %ld#%s: %s\n",
	    lnt_log_level_name(level), (long)getpid(), lg.role, msg);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	fd = lg.target == TARGET_FILE ? lg.fd : STDERR_FILENO;
	/* Nowhere to report a failure to log: the line is lost. */
	do
		w = write(fd, line, n);
	while (w == -1 && errno == EINTR);
}

static void
vlog(int level, int err, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	int saved = errno;

	if (level > lg.level)
		return;
	format_message(msg, sizeof(msg), err, fmt, ap);
	if (lg.target == TARGET_SYSLOG)
		syslog(LOG_DAEMON | (level < 0 ? LOG_EMERG : level),
		    "[%s] %s: %s", lnt_log_level_name(level), lg.role, msg);
	else
		write_line(level, msg);
	/* Callers log between a failing call and their own use of errno. */
	errno = saved;
}

/* Log the printf-style <fmt> at <level> (LNT_LOG_*). */
void
lnt_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, 0, fmt, ap);
	va_end(ap);
}

/* Log <fmt> at <level>, followed by ": " and strerror(<err>). */
void
lnt_log_errno(int level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, err, fmt, ap);
	va_end(ap);
}
