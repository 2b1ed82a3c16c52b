/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core of the integration harness: per-test directories and fixtures,
 * config expansion, starting, signalling and stopping the real daemon,
 * bounded waits, commands, and the teardown scan of lintel's logs.
 */
/* program_invocation_short_name, pipe2. */
#define _GNU_SOURCE
#include "config.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "th.h"

#define TH_MAXPORTS	32
#define TH_MAXALLOW	16

/* Lines that fail a test at teardown, wherever lintel wrote them. */
static const char *const bad_markers[] = {
	"[alert]", "[crit]", "[emerg]", "AddressSanitizer", "LeakSanitizer",
	"runtime error:",
};

/* Set once by th_run() in the runner, inherited by each forked test. */
static char	 base_dir[1024];

/*
 * Test names by TCase, in the order check runs them: the unchecked setup
 * (run in the runner, once per TCase) advances <cur_test>, which the forked
 * test inherits.  tcase_name() is not set yet in a checked fixture.
 */
static const char	*test_names[256];
static int		 ntests, cur_test = -1;

/* Per test: reset by setup, undone by teardown. */
static struct {
	char		 dir[PATH_MAX];
	int		 ports[TH_MAXPORTS];	/* 0: not allocated yet */
	int		 extra_ports[64];	/* th_port() results */
	size_t		 nextra;
	pid_t		 master;		/* -1: none */
	bool		 running;		/* not seen exiting yet */
	int		 notify_fd;		/* -1 until the first start */
	const char	*allow[TH_MAXALLOW];
	size_t		 nallow;
	void		**owned;		/* freed at teardown */
	size_t		 nowned, owned_cap;
} th;

/* ------------------------------------------------------------------ */
/* Memory */

static void *
xrealloc(void *p, size_t size)
{
	void	*q;

	if ((q = realloc(p, size == 0 ? 1 : size)) == NULL) {
		fprintf(stderr, "th: out of memory\n");
		abort();
	}
	return q;
}

void
th__own(void *p)
{
	if (th.nowned == th.owned_cap) {
		th.owned_cap = th.owned_cap ? th.owned_cap * 2 : 64;
		th.owned = xrealloc(th.owned, th.owned_cap * sizeof(*th.owned));
	}
	th.owned[th.nowned++] = p;
}

void *
th_alloc(size_t size)
{
	void	*p;

	p = xrealloc(NULL, size);
	th__own(p);
	return p;
}

char *
th_strdup(const char *s)
{
	size_t	 len = strlen(s);
	char	*p;

	p = th_alloc(len + 1);
	memcpy(p, s, len + 1);
	return p;
}

char *
th_printf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = th_alloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

static void
free_owned(void)
{
	size_t	 i;

	for (i = 0; i < th.nowned; i++)
		free(th.owned[i]);
	free(th.owned);
	th.owned = NULL;
	th.nowned = th.owned_cap = 0;
}

/* ------------------------------------------------------------------ */
/* Time */

int64_t
th_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
th_deadline(int ms)
{
	return th_now() + ms;
}

bool
th_expired(int64_t deadline)
{
	return th_now() >= deadline;
}

void
th_nap(void)
{
	struct timespec	 ts = { 0, 50 * 1000000 };

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* Files */

char *
th_read_file(const char *path)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	th__own(buf);
	return buf;
}

void
th_write_file(const char *path, const char *text)
{
	FILE	*f;

	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_msg(fclose(f) == 0, "cannot write %s: %s", path,
	    strerror(errno));
}

bool
th_exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}

const char *
th_find_line(const char *text, const char *needle)
{
	const char	*hit, *bol, *eol;
	char		*line;

	if (text == NULL || (hit = strstr(text, needle)) == NULL)
		return NULL;
	for (bol = hit; bol > text && bol[-1] != '\n'; bol--)
		;
	if ((eol = strchr(hit, '\n')) == NULL)
		eol = hit + strlen(hit);
	line = th_alloc((size_t)(eol - bol) + 1);
	memcpy(line, bol, (size_t)(eol - bol));
	line[eol - bol] = '\0';
	return line;
}

const char *
th_wait_file_line(const char *path, const char *needle, int ms)
{
	int64_t		 end = th_deadline(ms);
	const char	*line;

	do {
		if ((line = th_find_line(th_read_file(path), needle)) != NULL)
			return line;
		th_nap();
	} while (!th_expired(end));
	return NULL;
}

bool
th_match(const char *s, const char *re)
{
	regex_t	 rx;
	int	 rc;

	rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	ck_assert_msg(rc == 0, "bad regex in the test: %s", re);
	rc = regexec(&rx, s, 0, NULL, 0);
	regfree(&rx);
	return rc == 0;
}

/* Remove one entry of a tree (nftw callback, depth first). */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------ */
/* Directories, ports, configs */

const char *
th_tmpdir(void)
{
	return th.dir;
}

const char *
th_path(const char *name)
{
	return th_printf("%s/%s", th.dir, name);
}

static bool
port_taken(int port)
{
	size_t	 i;

	for (i = 0; i < TH_MAXPORTS; i++)
		if (th.ports[i] == port)
			return true;
	for (i = 0; i < th.nextra; i++)
		if (th.extra_ports[i] == port)
			return true;
	return false;
}

int
th_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len;
	int			 fd, port = 0, tries;

	/* The kernel may hand the same port out twice once it is closed. */
	for (tries = 0; tries < 50; tries++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ck_assert_msg(bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == 0, "bind 127.0.0.1:0: %s", strerror(errno));
		len = sizeof(sin);
		getsockname(fd, (struct sockaddr *)&sin, &len);
		close(fd);
		port = ntohs(sin.sin_port);
		if (!port_taken(port))
			break;
	}
	if (th.nextra < TH_NELEM(th.extra_ports))
		th.extra_ports[th.nextra++] = port;
	return port;
}

int
th_portn(int n)
{
	ck_assert_msg(n >= 0 && n < TH_MAXPORTS, "@PORT_%d@ out of range", n);
	if (th.ports[n] == 0)
		th.ports[n] = th_port();
	return th.ports[n];
}

/*
 * The value of placeholder <name> (the text between two '@'), or NULL if it
 * is not one: then the '@' is copied as it is.
 */
static const char *
placeholder(const char *name)
{
	const char	*env;
	size_t		 len = strlen(name);

	if (strcmp(name, "TMPDIR") == 0)
		return th.dir;
	if (strcmp(name, "MODDIR") == 0) {
		env = getenv("LNT_MODDIR");
		return env != NULL ? env : "";
	}
	if (strcmp(name, "BUILDDIR") == 0) {
		env = getenv("LNT_BUILDDIR");
		return env != NULL ? env : "";
	}
	if (len > 5 && len < 8 && strncmp(name, "PORT_", 5) == 0 &&
	    strspn(name + 5, "0123456789") == len - 5)
		return th_printf("%d", th_portn(atoi(name + 5)));
	return NULL;
}

const char *
th_expand(const char *text)
{
	const char	*p, *end, *val;
	char		*out = NULL, name[16];
	size_t		 len = 0, cap = 0, vlen, nlen;

	for (p = text; *p != '\0'; ) {
		val = NULL;
		if (*p == '@' && (end = strchr(p + 1, '@')) != NULL &&
		    (nlen = (size_t)(end - p - 1)) < sizeof(name)) {
			memcpy(name, p + 1, nlen);
			name[nlen] = '\0';
			val = placeholder(name);
		}
		if (val != NULL) {
			p = end + 1;
			vlen = strlen(val);
		} else {
			val = p++;
			vlen = 1;
		}
		if (cap - len < vlen + 1) {
			cap = (cap + vlen + 1) * 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + len, val, vlen);
		len += vlen;
	}
	out = xrealloc(out, len + 1);
	out[len] = '\0';
	th__own(out);
	return out;
}

const char *
th_conf_file(const char *name, const char *text)
{
	const char	*path, *tmp;

	path = th_path(name);
	tmp = th_printf("%s.tmp", path);
	th_write_file(tmp, th_expand(text));
	/* Atomic, so a reload never reads half a file. */
	ck_assert_msg(rename(tmp, path) == 0, "rename %s: %s", tmp,
	    strerror(errno));
	return path;
}

const char *
th_conf(const char *text)
{
	return th_conf_file("lintel.conf", text);
}

/* ------------------------------------------------------------------ */
/* Processes */

const char *
th_lintel_path(void)
{
	const char	*p = getenv("LINTEL");

	return p != NULL && *p != '\0' ? p : "./lintel";
}

const char *
th_srcdir(void)
{
	const char	*p = getenv("LNT_SRCDIR");

	return p != NULL && *p != '\0' ? p : ".";
}

void
th__die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent may have died before prctl took effect. */
	if (getppid() != parent)
		_exit(1);
}

bool
th_alive(pid_t pid)
{
	char	 path[64], buf[512], *p;
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The state follows the command name, which may hold spaces. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0')
		return false;
	return p[2] != 'Z' && p[2] != 'X';
}

const char *
th_cmdline(pid_t pid)
{
	char	 buf[4096], *s;
	ssize_t	 n;
	size_t	 i;
	int	 fd;

	/* Arguments are NUL-separated: read the bytes, not a C string. */
	fd = open(th_printf("/proc/%d/cmdline", (int)pid),
	    O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return "";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return "";
	for (i = 0; i + 1 < (size_t)n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	s = th_strdup(buf);
	return s;
}

size_t
th_children(pid_t pid, pid_t *out, size_t max)
{
	const char	*s;
	char		*end;
	size_t		 n = 0;
	long		 v;

	s = th_read_file(th_printf("/proc/%d/task/%d/children", (int)pid,
	    (int)pid));
	if (s == NULL)
		return 0;
	while (n < max) {
		v = strtol(s, &end, 10);
		if (end == s)
			break;
		out[n++] = (pid_t)v;
		s = end;
	}
	return n;
}

pid_t
th_worker(pid_t master)
{
	const char	*line, *p;
	pid_t		 kids[8], worker = -1;
	size_t		 n, i, workers = 0;
	int		 helper;
	int64_t		 end = th_deadline(TH_START_MS);

	line = th_wait_file_line(th_path("error.log"), "#helper: ",
	    TH_START_MS);
	ck_assert_msg(line != NULL && (p = strstr(line, "] ")) != NULL &&
	    sscanf(p + 2, "%d#", &helper) == 1, "no helper in the log");
	/* The worker may be forked a moment after the helper logged. */
	do {
		n = th_children(master, kids, TH_NELEM(kids));
		for (i = 0, workers = 0; i < n; i++) {
			if (kids[i] != helper) {
				worker = kids[i];
				workers++;
			}
		}
		if (workers > 0)
			break;
		th_nap();
	} while (!th_expired(end));
	ck_assert_msg(workers == 1, "%zu workers among %zu children",
	    workers, n);
	return worker;
}

pid_t
th_read_pid(const char *path)
{
	const char	*s;
	char		*end;
	long		 v;

	if ((s = th_read_file(path)) == NULL)
		return -1;
	v = strtol(s, &end, 10);
	if (end == s || v <= 0 || (*end != '\n' && *end != '\0'))
		return -1;
	return (pid_t)v;
}

const char *
th_status_str(int status)
{
	if (status == -1)
		return "exit status unknown (not our child)";
	if (WIFEXITED(status))
		return th_printf("exit %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return th_printf("signal %d%s", WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	return th_printf("wait status %#x", status);
}

bool
th_wait_exit(pid_t pid, int ms, int *status)
{
	int64_t	 end = th_deadline(ms);
	pid_t	 r;
	int	 st;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (pid == th.master)
				th.running = false;
			*status = st;
			return true;
		}
		/*
		 * Not our child (yet): a new master of an upgrade is
		 * reparented to us, the subreaper, only when its parent
		 * exits.
		 */
		if (r == -1 && errno == ECHILD && !th_alive(pid)) {
			if (pid == th.master)
				th.running = false;
			*status = -1;
			return true;
		}
		if (th_expired(end))
			return false;
		th_nap();
	}
}

/* SIGKILL <pid> and everything below it. */
static void
kill_tree(pid_t pid)
{
	pid_t	 kids[256];
	size_t	 i, n;

	kill(pid, SIGSTOP);
	n = th_children(pid, kids, TH_NELEM(kids));
	for (i = 0; i < n; i++)
		kill_tree(kids[i]);
	kill(pid, SIGKILL);
}

/* The end of a log file, for failure messages. */
static const char *
log_tail(const char *name, size_t max)
{
	const char	*s;
	size_t		 len;

	s = th_read_file(th_path(name));
	if (s == NULL)
		return th_printf("(no %s)\n", name);
	len = strlen(s);
	if (len > max)
		s = th_printf("...%s", s + len - max);
	return th_printf("--- %s ---\n%s", name, s);
}

static const char *
logs_for_message(void)
{
	return th_printf("%s%s(kept in %s)", log_tail("error.log", 2000),
	    log_tail("stderr.log", 1500), th.dir);
}

/* ------------------------------------------------------------------ */
/* The daemon */

static void
notify_open(void)
{
	struct sockaddr_un	 sun;
	const char		*path;

	if (th.notify_fd != -1)
		return;
	path = th_path("notify.sock");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_msg(strlen(path) < sizeof(sun.sun_path),
	    "notify socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	th.notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(th.notify_fd != -1, "socket: %s", strerror(errno));
	ck_assert_msg(bind(th.notify_fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == 0, "bind %s: %s", path, strerror(errno));
	/* Whoever lintel notifies from needs write access. */
	chmod(path, 0777);
}

/*
 * Read one datagram if any arrives within <ms>; keep a copy in notify.log.
 * Returns true if it held READY=1.
 */
static bool
notify_read(int ms)
{
	struct pollfd	 pfd = { th.notify_fd, POLLIN, 0 };
	char		 buf[4096];
	ssize_t		 n;
	FILE		*f;

	if (poll(&pfd, 1, ms) <= 0)
		return false;
	n = recv(th.notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if ((f = fopen(th_path("notify.log"), "a")) != NULL) {
		fprintf(f, "%s\n--\n", buf);
		fclose(f);
	}
	return strstr(buf, "READY=1") != NULL;
}

pid_t
th_spawn(const char *conf)
{
	const char	*lintel = th_lintel_path();
	pid_t		 pid, parent = getpid();
	int		 fd;

	ck_assert_msg(!th.running, "th_spawn: lintel already running");
	notify_open();
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		th__die_with_parent(parent);
		setenv("NOTIFY_SOCKET", th_path("notify.sock"), 1);
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		fd = open(th_path("stdout.log"), O_WRONLY | O_CREAT | O_APPEND,
		    0644);
		if (fd != -1)
			dup2(fd, 1);
		fd = open(th_path("stderr.log"), O_WRONLY | O_CREAT | O_APPEND,
		    0644);
		if (fd != -1)
			dup2(fd, 2);
		execl(lintel, lintel, "-f", "-c", conf, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", lintel, strerror(errno));
		_exit(127);
	}
	th.master = pid;
	th.running = true;
	return pid;
}

/* Fail with the logs if the master has exited. */
static void
check_master_alive(const char *while_)
{
	int	 st;

	if (th_wait_exit(th.master, 0, &st)) {
		th.running = false;
		ck_abort_msg("lintel exited (%s) %s\n%s", th_status_str(st),
		    while_, logs_for_message());
	}
}

bool
th_try_wait_ready(int ms)
{
	int64_t	 end = th_deadline(ms);

	while (!th_expired(end)) {
		if (notify_read(100))
			return true;
		check_master_alive("while waiting for READY=1");
	}
	return false;
}

void
th_wait_ready(void)
{
	if (!th_try_wait_ready(TH_START_MS))
		ck_abort_msg("lintel sent no READY=1 within %d ms\n%s",
		    TH_START_MS, logs_for_message());
}

bool
th_ready_pending(void)
{
	bool	 ready = false;

	if (th.notify_fd == -1)
		return false;
	while (poll(&(struct pollfd){ th.notify_fd, POLLIN, 0 }, 1, 0) == 1)
		if (notify_read(0))
			ready = true;
	return ready;
}

pid_t
th_start(const char *conf)
{
	pid_t	 pid;

	pid = th_spawn(conf);
	check_master_alive("before it was ready");
	th_wait_ready();
	return pid;
}

pid_t
th_master(void)
{
	return th.master;
}

void
th_adopt_master(pid_t pid)
{
	th.master = pid;
	th.running = true;
}

void
th_signal(int sig)
{
	ck_assert_msg(th.master > 0, "th_signal: no master");
	/* So that th_wait_ready() sees only what this signal caused. */
	(void)th_ready_pending();
	ck_assert_msg(kill(th.master, sig) == 0, "kill %d: %s",
	    (int)th.master, strerror(errno));
}

int
th_wait_master_exit(int ms)
{
	int	 st;

	if (!th_wait_exit(th.master, ms, &st)) {
		kill_tree(th.master);
		th.running = false;
		ck_abort_msg("lintel (pid %d) did not exit within %d ms\n%s",
		    (int)th.master, ms, logs_for_message());
	}
	th.running = false;
	return st;
}

int
th_stop(void)
{
	if (!th.running)
		return 0;
	th_signal(SIGQUIT);
	return th_wait_master_exit(TH_STOP_MS);
}

void
th_allow_log(const char *substr)
{
	ck_assert(th.nallow < TH_MAXALLOW);
	th.allow[th.nallow++] = substr;
}

/*
 * The lines of <text> holding a marker of trouble and none of the allowed
 * substrings, appended to <out>.
 */
static size_t
scan_bad_lines(const char *name, const char *text, char **out)
{
	const char	*bol, *eol;
	size_t		 i, nbad = 0;
	bool		 bad;
	char		*line;

	for (bol = text; bol != NULL && *bol != '\0'; bol = eol) {
		if ((eol = strchr(bol, '\n')) != NULL)
			eol++;
		line = th_printf("%.*s", (int)(eol ? eol - bol :
		    (ptrdiff_t)strlen(bol)), bol);
		bad = false;
		for (i = 0; i < TH_NELEM(bad_markers); i++)
			if (strstr(line, bad_markers[i]) != NULL)
				bad = true;
		for (i = 0; bad && i < th.nallow; i++)
			if (strstr(line, th.allow[i]) != NULL)
				bad = false;
		if (bad) {
			nbad++;
			if (strlen(*out) < 4000)
				*out = th_printf("%s%s: %s%s", *out, name,
				    line, eol ? "" : "\n");
		}
	}
	return nbad;
}

/* ------------------------------------------------------------------ */
/* Fixtures and the runner */

static void
th_setup(void)
{
	char	 tmpl[PATH_MAX];

	memset(&th, 0, sizeof(th));
	th.master = -1;
	th.notify_fd = -1;
	/* Writes to a socket the server closed must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	/* A new master whose parent exits (upgrade) is reparented to us. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(tmpl, sizeof(tmpl), "%s/%.200s.XXXXXX", base_dir,
	    cur_test >= 0 && cur_test < ntests ? test_names[cur_test] :
	    "test");
	ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp %s: %s", tmpl,
	    strerror(errno));
	/* Workers run as nobody and reopen logs here (USR1). */
	chmod(tmpl, 0777);
	snprintf(th.dir, sizeof(th.dir), "%s", tmpl);
}

static void
th_teardown(void)
{
	const char	*names[] = { "stderr.log", "error.log", "error.log.1",
	    "error.log.old" };
	char		*bad = th_strdup(""), *text;
	const char	*exit_problem = NULL;
	size_t		 i, nbad = 0;
	int		 st;

	if (th.running) {
		st = th_stop();
		/* -1: a master we did not fork, status unknown. */
		if (st != -1 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			exit_problem = th_status_str(st);
	}
	th__loads_stop();
	th__origins_stop();
	if (th.notify_fd != -1)
		close(th.notify_fd);
	for (i = 0; i < TH_NELEM(names); i++)
		if ((text = th_read_file(th_path(names[i]))) != NULL)
			nbad += scan_bad_lines(names[i], text, &bad);
	if (nbad > 0)
		ck_abort_msg("%zu bad line(s) in lintel's logs:\n%s(kept in "
		    "%s)", nbad, bad, th.dir);
	if (exit_problem != NULL)
		ck_abort_msg("lintel exited with %s after QUIT at teardown\n%s",
		    exit_problem, logs_for_message());
	/* TH_KEEP=1 keeps passing tests' directories too, for reading. */
	if (getenv("TH_KEEP") == NULL)
		rm_tree(th.dir);
	free_owned();
}

static void
th_next_test(void)
{
	const char	*only = getenv("CK_RUN_CASE");

	/* With CK_RUN_CASE, check skips the others' fixtures too. */
	if (only != NULL && *only != '\0') {
		for (cur_test = 0; cur_test < ntests; cur_test++)
			if (strcmp(test_names[cur_test], only) == 0)
				break;
	} else
		cur_test++;
}

void
th_add_test(Suite *s, const char *name, const TTest *fn)
{
	TCase		*tc;
	const char	*env;
	double		 timeout = 180;

	tc = tcase_create(name);
	if (ntests < (int)TH_NELEM(test_names))
		test_names[ntests++] = name;
	tcase_add_unchecked_fixture(tc, th_next_test, NULL);
	tcase_add_checked_fixture(tc, th_setup, th_teardown);
	/* The daemon tests are slow under sanitizers; never below the env. */
	if ((env = getenv("CK_DEFAULT_TIMEOUT")) != NULL &&
	    atof(env) > timeout)
		timeout = atof(env);
	tcase_set_timeout(tc, timeout);
	_tcase_add_test(tc, fn, 0, 0, 0, 1);
	suite_add_tcase(s, tc);
}

/* Print the tail of <dir>/<name>, for a kept directory. */
static void
print_tail(const char *dir, const char *name)
{
	char	 path[PATH_MAX + 64], buf[2048];
	FILE	*f;
	long	 size;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 :
	    0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	printf("  --- %s ---\n%s%s", name, buf,
	    n > 0 && buf[n - 1] != '\n' ? "\n" : "");
}

int
th_run(Suite *s)
{
	SRunner		*sr;
	const char	*tmp;
	DIR		*d;
	struct dirent	*de;
	char		 sub[PATH_MAX + 256];
	int		 failed, kept = 0;

	if (access(th_lintel_path(), X_OK) != 0) {
		fprintf(stderr, "LINTEL=%s is not executable (%s): set LINTEL "
		    "to the built lintel program\n", th_lintel_path(),
		    strerror(errno));
		return 99;
	}
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(base_dir, sizeof(base_dir), "%s/lintel-%s.XXXXXX", tmp,
	    program_invocation_short_name);
	if (mkdtemp(base_dir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", base_dir, strerror(errno));
		return 99;
	}
	chmod(base_dir, 0755);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* Passing tests removed their directories: what is left failed. */
	if ((d = opendir(base_dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", base_dir,
			    de->d_name);
			printf("kept for inspection: %s\n", sub);
			print_tail(sub, "error.log");
			print_tail(sub, "stderr.log");
			kept++;
		}
		closedir(d);
	}
	if (kept == 0)
		rmdir(base_dir);
	return failed == 0 ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* Commands */

int
th_exec(const char *const *argv, char **out, char **err)
{
	int		 op[2], ep[2], st, i, open_fds;
	pid_t		 pid;
	struct pollfd	 pfd[2];
	char		*buf[2] = { NULL, NULL };
	size_t		 len[2] = { 0, 0 }, cap[2] = { 0, 0 };
	ssize_t		 n;
	int64_t		 end = th_deadline(TH_EXEC_MS);

	ck_assert_msg(pipe2(op, O_CLOEXEC) == 0 && pipe2(ep, O_CLOEXEC) == 0,
	    "pipe: %s", strerror(errno));
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		int	 fd;

		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(op[1]);
	close(ep[1]);
	pfd[0].fd = op[0];
	pfd[1].fd = ep[0];
	pfd[0].events = pfd[1].events = POLLIN;
	open_fds = 2;
	while (open_fds > 0 && !th_expired(end)) {
		if (poll(pfd, 2, 100) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (cap[i] - len[i] < 4096) {
				cap[i] = cap[i] ? cap[i] * 2 : 16384;
				buf[i] = xrealloc(buf[i], cap[i]);
			}
			n = read(pfd[i].fd, buf[i] + len[i],
			    cap[i] - len[i] - 1);
			if (n > 0) {
				len[i] += (size_t)n;
			} else if (n == 0 || errno != EINTR) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (i = 0; i < 2; i++) {
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
		buf[i] = xrealloc(buf[i], len[i] + 1);
		buf[i][len[i]] = '\0';
		th__own(buf[i]);
	}
	if (!th_wait_exit(pid, (int)(end > th_now() ? end - th_now() : 0) +
	    100, &st)) {
		kill_tree(pid);
		waitpid(pid, &st, 0);
		ck_abort_msg("%s did not finish within %d ms\nstdout: %s\n"
		    "stderr: %s", argv[0], TH_EXEC_MS, buf[0], buf[1]);
	}
	if (out != NULL)
		*out = buf[0];
	if (err != NULL)
		*err = buf[1];
	if (st != -1 && WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

/* Collect a NULL-terminated argument list after <first> into <argv>. */
static void
collect_args(const char **argv, size_t max, size_t n, va_list ap)
{
	const char	*a;

	while ((a = va_arg(ap, const char *)) != NULL) {
		ck_assert_msg(n + 1 < max, "too many arguments");
		argv[n++] = a;
	}
	argv[n] = NULL;
}

int
th_lintel(char **out, char **err, ...)
{
	const char	*argv[64];
	va_list		 ap;

	argv[0] = th_lintel_path();
	va_start(ap, err);
	collect_args(argv, TH_NELEM(argv), 1, ap);
	va_end(ap);
	return th_exec(argv, out, err);
}

const char *
th__refused(const char *file, int line, const char *text, const char *want)
{
	char	*err;
	int	 rc;

	rc = th_lintel(NULL, &err, "-t", "-c", th_conf(text), NULL);
	ck_assert_msg(rc == 1, "%s:%d: lintel -t exited %d:\n%s", file, line,
	    rc, err);
	ck_assert_msg(want == NULL || th_match(err, want),
	    "%s:%d: expected /%s/ in:\n%s", file, line, want, err);
	return err;
}

const char *
th__log_line(const char *file, int line, const char *needle)
{
	const char	*found = th_wait_file_line(th_path("error.log"),
			    needle, TH_IO_MS);

	ck_assert_msg(found != NULL, "%s:%d: no \"%s\" in the error log:\n%s",
	    file, line, needle, th_read_file(th_path("error.log")));
	return found;
}

int
th_curl(char **out, char **err, ...)
{
	const char	*argv[64] = { "curl", "-sS", "--max-time", "20" };
	va_list		 ap;

	va_start(ap, err);
	collect_args(argv, TH_NELEM(argv), 4, ap);
	va_end(ap);
	return th_exec(argv, out, err);
}

/* ------------------------------------------------------------------ */
/* Body pattern */

char
th_pattern(uint64_t i)
{
	static const char alpha[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t	 x;

	/* Each byte depends on its offset, so a shift or a gap shows. */
	x = (i + 1) * 0x9E3779B97F4A7C15ULL;
	x ^= x >> 29;
	return alpha[(x >> 32) % 62];
}

void
th_pattern_fill(char *buf, size_t len, uint64_t off)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		buf[i] = th_pattern(off + i);
}

int64_t
th_pattern_check(const char *buf, size_t len, uint64_t off)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (buf[i] != th_pattern(off + i))
			return (int64_t)i;
	return -1;
}

const char *
th_bulk(void)
{
	static char	 block[2 * TH_BULK_BLOCK];
	static bool	 filled;

	if (!filled) {
		th_pattern_fill(block, TH_BULK_BLOCK, 0);
		memcpy(block + TH_BULK_BLOCK, block, TH_BULK_BLOCK);
		filled = true;
	}
	return block;
}

int64_t
th_bulk_check(const char *buf, size_t len, uint64_t off)
{
	const char	*block = th_bulk(), *want;
	size_t		 done = 0, n, i;

	/* memcmp a block at a time; the pattern only to place a mismatch. */
	while (done < len) {
		want = block + (off + done) % TH_BULK_BLOCK;
		n = len - done < TH_BULK_BLOCK ? len - done : TH_BULK_BLOCK;
		if (memcmp(buf + done, want, n) != 0) {
			for (i = 0; buf[done + i] == want[i]; i++)
				;
			return (int64_t)(done + i);
		}
		done += n;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* A minimal JSON validator, for access log lines. */

#define JSON_MAXDEPTH	64

static void
json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool
json_string(const char **p)
{
	const char	*s = *p;
	int		 i;

	if (*s++ != '"')
		return false;
	for (;;) {
		if ((unsigned char)*s < 0x20)
			return false;	/* NUL or a raw control character */
		if (*s == '"')
			break;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
					    s[i]) || s[i] == '\0')
						return false;
				s += 5;
				continue;
			}
			if (*s == '\0' || strchr("\"\\/bfnrt", *s) == NULL)
				return false;
		}
		s++;
	}
	*p = s + 1;
	return true;
}

static bool
json_number(const char **p)
{
	const char	*s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	*p = s;
	return true;
}

static bool
json_value(const char **p, int depth)
{
	const char	*lits[] = { "true", "false", "null" };
	size_t		 i;
	char		 close;

	if (depth > JSON_MAXDEPTH)
		return false;
	json_ws(p);
	if (**p == '"')
		return json_string(p);
	if (**p == '{' || **p == '[') {
		close = **p == '{' ? '}' : ']';
		(*p)++;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		for (;;) {
			if (close == '}') {
				json_ws(p);
				if (!json_string(p))
					return false;
				json_ws(p);
				if (*(*p)++ != ':')
					return false;
			}
			if (!json_value(p, depth + 1))
				return false;
			json_ws(p);
			if (**p == ',') {
				(*p)++;
				continue;
			}
			if (**p != close)
				return false;
			(*p)++;
			return true;
		}
	}
	for (i = 0; i < TH_NELEM(lits); i++)
		if (strncmp(*p, lits[i], strlen(lits[i])) == 0) {
			*p += strlen(lits[i]);
			return true;
		}
	return json_number(p);
}

bool
th_json(const char *s, const char *key, char *val, size_t vallen)
{
	const char	*p = s, *k, *kend, *v;
	size_t		 klen, len;

	if (!json_value(&p, 0))
		return false;
	json_ws(&p);
	if (*p != '\0')
		return false;
	if (key == NULL)
		return true;
	/* Valid: walk the top-level object again, looking for <key>. */
	p = s;
	json_ws(&p);
	if (*p++ != '{')
		return false;
	klen = strlen(key);
	for (;;) {
		json_ws(&p);
		if (*p != '"')
			return false;
		k = p + 1;
		json_string(&p);
		kend = p - 1;
		json_ws(&p);
		p++;			/* ':' */
		json_ws(&p);
		v = p;
		json_value(&p, 0);
		if ((size_t)(kend - k) == klen && strncmp(k, key, klen) == 0) {
			if (*v == '"') {
				v++;
				len = (size_t)(p - v) - 1;
			} else
				len = (size_t)(p - v);
			if (len >= vallen)
				len = vallen - 1;
			memcpy(val, v, len);
			val[len] = '\0';
			return true;
		}
		json_ws(&p);
		if (*p++ != ',')
			return false;
	}
}
