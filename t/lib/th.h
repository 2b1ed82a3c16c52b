/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The integration test harness: every test gets a fresh temporary directory,
 * its own lintel daemon started from a config written there, real origins and
 * real clients, all on loopback ports chosen at run time.  Teardown fails the
 * test on any alert, crit, emerg or sanitizer line lintel logged.
 *
 * Everything the harness returns (strings, responses, origins) is owned by
 * the harness and freed at teardown: tests never free.  Functions without
 * "try" in their name fail the test (ck_abort) when they cannot do their job;
 * every wait is bounded.
 */
#ifndef TH_H
#define TH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>

#define TH_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Bounds for every wait, in milliseconds. */
#define TH_START_MS	20000	/* lintel readiness, a reload, a new master */
#define TH_STOP_MS	40000	/* exit after QUIT (> shutdown_timeout) */
#define TH_IO_MS	20000	/* one request/response exchange */
#define TH_EXEC_MS	30000	/* a command run to completion (-t, curl) */

/*
 * The first line of every test config: logs and pid file in the test's
 * directory, workers as nobody (tests run as root on CI), a fixed number of
 * workers so a test can count them, and a short shutdown bound.
 */
#define TH_BASE \
	"error_log = \"@TMPDIR@/error.log\"; " \
	"pid_file = \"@TMPDIR@/lintel.pid\"; " \
	"user = \"nobody\"; group = \"nogroup\"; workers = 2; " \
	"shutdown_timeout = \"10s\"; log_level = \"info\";\n"

/* ------------------------------------------------------------------ */
/* Suites and fixtures (th.c) */

/*
 * Add <fn> to <s> in its own TCase named after the function (so the
 * temporary directory and check's output carry the test's name), with the
 * harness fixtures and a generous timeout.
 */
#define TH_TEST(s, fn)	th_add_test((s), #fn, (fn))
void		 th_add_test(Suite *s, const char *name, const TTest *fn);

/*
 * Run <s> and return the process exit status for automake (0 or 1).  The
 * directories of failed tests are kept under one base directory, whose path
 * is printed with the tail of each kept error log.  With TH_KEEP=1 in the
 * environment, passing tests keep theirs too.
 */
int		 th_run(Suite *s);

/* The test's fresh directory (mode 0777 so workers can reopen logs). */
const char	*th_tmpdir(void);
/* "<tmpdir>/<name>", harness-owned. */
const char	*th_path(const char *name);
/* A free loopback port: bind 127.0.0.1:0, read it, close. */
int		 th_port(void);
/* The port behind @PORT_<n>@ (0 <= n < 32), allocated on first use. */
int		 th_portn(int n);

/*
 * Expand @PORT_n@, @TMPDIR@, @MODDIR@ (the example module's directory) and
 * @BUILDDIR@ (the top of the build tree) in <text>, write the result to
 * "<tmpdir>/lintel.conf" (atomically, by rename: lintel may be reading it on
 * a reload) and return its path.  th_conf_file() writes to <name> instead.
 */
const char	*th_conf(const char *text);
const char	*th_conf_file(const char *name, const char *text);
/* The expansion alone, harness-owned. */
const char	*th_expand(const char *text);

/* ------------------------------------------------------------------ */
/* The daemon (th.c) */

/*
 * Start `$LINTEL -f -c <conf>` with NOTIFY_SOCKET pointing at the test's
 * datagram socket, stderr captured to "<tmpdir>/stderr.log"; wait for
 * READY=1.  Fails the test with the error log if lintel exits first or is
 * not ready in time.  Returns the master's pid.
 */
pid_t		 th_start(const char *conf);
/* Start without waiting: for configs expected to fail. */
pid_t		 th_spawn(const char *conf);
/* Wait for the next READY=1 on the notify socket (after th_signal). */
void		 th_wait_ready(void);
/* The same without failing: false on timeout. */
bool		 th_try_wait_ready(int ms);
/* Drain queued notify datagrams: true if one of them held READY=1. */
bool		 th_ready_pending(void);
/* Send <sig> to the master, first dropping notify datagrams already queued. */
void		 th_signal(int sig);
/* The master the harness signals and stops. */
pid_t		 th_master(void);
/* Make <pid> the master (after a binary upgrade). */
void		 th_adopt_master(pid_t pid);
/*
 * QUIT the master and wait for its exit (SIGKILL everything and fail if it
 * hangs).  Returns the wait status.
 */
int		 th_stop(void);
/*
 * Wait up to <ms> for <pid> to exit; true with its wait status in <*status>
 * (-1 when it is not our child, so the status is unknown).
 */
bool		 th_wait_exit(pid_t pid, int ms, int *status);
/* Wait for the master to exit after a signal the test sent itself. */
int		 th_wait_master_exit(int ms);
/* "exit 0" / "exit 3" / "signal 9": for messages. */
const char	*th_status_str(int status);

/* Read a pid file: the pid, or -1 if missing or malformed. */
pid_t		 th_read_pid(const char *path);
/* Children of <pid> (from /proc/<pid>/task/<pid>/children), up to <max>. */
size_t		 th_children(pid_t pid, pid_t *out, size_t max);
/*
 * The worker of <master> started with one worker: once its helper has
 * logged ("1234#helper: ..." at info), the child that is not the helper.
 * Fails the test unless there is exactly one.
 */
pid_t		 th_worker(pid_t master);
/* True if <pid> exists and is not a zombie. */
bool		 th_alive(pid_t pid);
/* Contents of /proc/<pid>/cmdline with NULs as spaces, harness-owned. */
const char	*th_cmdline(pid_t pid);

/*
 * Log lines containing <substr> do not fail the test even with [alert] and
 * friends (for a worker killed on purpose).
 */
void		 th_allow_log(const char *substr);

/* ------------------------------------------------------------------ */
/* Files, waits, commands (th.c) */

/* Monotonic milliseconds; a deadline <ms> from now; whether it has passed. */
int64_t		 th_now(void);
int64_t		 th_deadline(int ms);
bool		 th_expired(int64_t deadline);
/* Sleep a short while inside a polling loop. */
void		 th_nap(void);

/* Whole file, NUL-terminated, harness-owned; NULL if it cannot be read. */
char		*th_read_file(const char *path);
void		 th_write_file(const char *path, const char *text);
bool		 th_exists(const char *path);
/* Wait up to <ms> for <path> to contain <needle>; returns the matching line. */
const char	*th_wait_file_line(const char *path, const char *needle,
		    int ms);
/* The first line of <text> containing <needle>, harness-owned, or NULL. */
const char	*th_find_line(const char *text, const char *needle);
/* Whether <s> matches the POSIX extended regex <re>. */
bool		 th_match(const char *s, const char *re);

/*
 * Run <argv> (argv[0] searched in PATH) with stdin from /dev/null, capturing
 * stdout and stderr (harness-owned; either pointer may be NULL), bounded by
 * TH_EXEC_MS.  Returns the exit code, or -1 if killed by a signal.
 */
int		 th_exec(const char *const *argv, char **out, char **err);
/* th_exec of `$LINTEL arg...` (NULL-terminated). */
int		 th_lintel(char **out, char **err, ...)
		    __attribute__((sentinel));
/*
 * `lintel -t` on the config <text>, written with th_conf(): fails the test
 * unless lintel exits 1 and, if <want> is not NULL, its stderr matches the
 * regex <want>.  Returns that stderr.
 */
const char	*th__refused(const char *file, int line, const char *text,
		    const char *want);
#define th_refused(text, want) \
	th__refused(__FILE__, __LINE__, (text), (want))
/*
 * The first line of the test's error.log holding <needle>, waited for up
 * to TH_IO_MS; fails the test, showing the log, if none comes.
 */
const char	*th__log_line(const char *file, int line, const char *needle);
#define th_log_line(needle)	th__log_line(__FILE__, __LINE__, (needle))
/* th_exec of `curl -sS --max-time 20 arg...` (NULL-terminated). */
int		 th_curl(char **out, char **err, ...) __attribute__((sentinel));

/* The lintel binary ($LINTEL) and the source tree ($LNT_SRCDIR). */
const char	*th_lintel_path(void);
const char	*th_srcdir(void);

/* Memory the harness frees at teardown; aborts on exhaustion. */
void		*th_alloc(size_t size);
char		*th_strdup(const char *s);
char		*th_printf(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/*
 * Minimal JSON check: true if <s> is one valid JSON value (trailing
 * whitespace allowed).  With <key>, it must also be an object with that
 * top-level member, whose value is copied to <val> (a string without its
 * quotes and escapes left as written, anything else as written).
 */
bool		 th_json(const char *s, const char *key, char *val,
		    size_t vallen);

/* ------------------------------------------------------------------ */
/* Body pattern shared by the origin, the client and the load loop */

/* Byte <i> of every generated body: depends on the absolute offset. */
char		 th_pattern(uint64_t i);
void		 th_pattern_fill(char *buf, size_t len, uint64_t off);
/* Offset of the first byte of <buf> not matching the pattern, or -1. */
int64_t		 th_pattern_check(const char *buf, size_t len, uint64_t off);

/*
 * The bulk body, for transfers too large to generate byte by byte: byte <i>
 * is th_pattern(i % TH_BULK_BLOCK).  th_bulk() is that block twice over, so
 * th_bulk() + (off % TH_BULK_BLOCK) starts TH_BULK_BLOCK bytes of it at
 * offset <off>.  th_bulk_check() is th_pattern_check() for it.
 */
#define TH_BULK_BLOCK	65536
const char	*th_bulk(void);
int64_t		 th_bulk_check(const char *buf, size_t len, uint64_t off);

/* ------------------------------------------------------------------ */
/* Origin (th_origin.c) */

/*
 * A real HTTP/1.1 origin on 127.0.0.1:<port>, answering as <id>, forked by
 * the test (one process per connection) and killed at teardown.  Keep-alive,
 * Content-Length and chunked request bodies, Expect: 100-continue.  Every
 * response carries "X-Origin-Id: <id>".  Routes:
 *   /            small text page naming <id>
 *   /id          <id> as the whole body
 *   /size/N      N pattern bytes, Content-Length
 *   /chunked/N   N pattern bytes, chunked in varied sizes (close-delimited
 *                for an HTTP/1.0 request)
 *   /close/N     N pattern bytes, no length: delimited by closing
 *   /slow/MS     head, MS ms of silence, then 10000 pattern bytes
 *                (/slow/MS/N: N bytes)
 *   /echo        the request body; X-Echo-Method, X-Echo-Target,
 *                X-Echo-Version, X-Echo-Framing (length|chunked|none) and
 *                X-Echo-Body-Length say what arrived
 *   /headers     the raw request head received, as the body (also
 *                /headers/anything)
 *   /respond?Name=value&...  200 with those response header fields added
 *                (%XX decoded; also /respond/anything)
 *   /delay/MS    MS ms of silence, then a small 200 response
 *   /reset/N     head announcing 2N bytes, N pattern bytes, then a reset
 *   /bulk/N      N bytes of the bulk body (th_bulk()), Content-Length
 *   /discard     the request body counted (streamed when it has a
 *                Content-Length) and checked against the bulk body, not
 *                kept: the count as the body, X-Discard-Bad: the offset
 *                of the first wrong byte or -1
 *   /upgrade     with Upgrade: <proto> and Connection: upgrade on HTTP/1.1,
 *                101 and then every byte echoed back until the client's
 *                EOF, answered with ours; otherwise 426
 *   other        404 with the X-Origin-Id header
 * Each request head is appended to "<tmpdir>/origin-<id>.requests".
 * The port is listening when this returns.
 */
typedef struct th_origin th_origin_t;
th_origin_t	*th_origin_start(int port, const char *id);
/* Connections accepted and requests answered so far. */
uint64_t	 th_origin_conns(const th_origin_t *o);
uint64_t	 th_origin_reqs(const th_origin_t *o);
/*
 * Requests received whole, head and body (counted before the answer is
 * written; a request whose body never came is not counted).
 */
uint64_t	 th_origin_complete(const th_origin_t *o);
/* /upgrade tunnels that saw the client's EOF (passed on by the proxy). */
uint64_t	 th_origin_tunnel_eofs(const th_origin_t *o);
/*
 * From now on close a connection that sits <ms> ms without a request
 * (keep-alive between requests; 0: the default, a minute).
 */
void		 th_origin_idle_close(th_origin_t *o, int ms);
/* Connections it closed for idling so far (counted once closed). */
uint64_t	 th_origin_idle_closes(const th_origin_t *o);
/* How many request heads it received start with <prefix> ("GET /x "). */
long		 th_origin_count(const th_origin_t *o, const char *prefix);
/* Kill it and its connections (teardown does this for every origin). */
void		 th_origin_stop(th_origin_t *o);
/* The file its request heads are appended to. */
const char	*th_origin_log(const th_origin_t *o);

/* ------------------------------------------------------------------ */
/* Client (th_client.c) */

enum th_framing {
	TH_FRAME_NONE,		/* no body: HEAD, 1xx, 204, 304 */
	TH_FRAME_LENGTH,
	TH_FRAME_CHUNKED,
	TH_FRAME_CLOSE		/* delimited by the server closing */
};

typedef struct th_resp {
	int		 status;
	char		 version[16];	/* "HTTP/1.1" */
	char		*head;		/* raw head up to CRLFCRLF, NUL-ended */
	size_t		 head_len;
	char		*body;		/* decoded, NUL-ended (may hold NULs) */
	size_t		 body_len;
	enum th_framing	 framing;
	bool		 conn_close;	/* "Connection: close" in the head */
	int		 ninterim;	/* 1xx responses skipped */
} th_resp_t;

/*
 * A client connection and its read buffer.  A response is read in full:
 * status line, headers, body by Content-Length, chunked or close, with a
 * bounded timeout; 1xx responses are skipped.
 */
typedef struct th_conn th_conn_t;

/* Connect to 127.0.0.1:<port>; NULL (th_error() says why) on failure. */
th_conn_t	*th_conn_try_open(int port);
/* The same, failing the test (at the caller's line). */
th_conn_t	*th__conn_open(const char *file, int line, int port);
#define th_conn_open(port)	th__conn_open(__FILE__, __LINE__, (port))
/* Send exactly <len> bytes; -1 on error. */
int		 th_conn_send(th_conn_t *c, const void *buf, size_t len);
/* Send a formatted string, failing the test on error. */
void		 th__conn_sendf(const char *file, int line, th_conn_t *c,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define th_conn_sendf(c, ...) \
	th__conn_sendf(__FILE__, __LINE__, (c), __VA_ARGS__)
/*
 * Read one response (<head_only> for an answer to HEAD) within <ms>; NULL
 * with th_error() on a transport or framing error.
 */
th_resp_t	*th_conn_try_read(th_conn_t *c, bool head_only, int ms);
/* The same, failing the test (at the caller's line). */
th_resp_t	*th__conn_read(const char *file, int line, th_conn_t *c);
#define th_conn_read(c)		th__conn_read(__FILE__, __LINE__, (c))
/* True if the server closes the connection (EOF or reset) within <ms>. */
bool		 th_conn_closed(th_conn_t *c, int ms);
/* Bytes received on <c> but not consumed by a response. */
size_t		 th_conn_pending(const th_conn_t *c);
/*
 * Raw bytes after a response head (a tunnel, a body read with <head_only>):
 * up to <len> of them, those pending first, else what one read brings
 * within <ms>.  Returns the count, 0 on EOF, -1 (th_error()) on an error or
 * the deadline.
 */
ssize_t		 th_conn_recv(th_conn_t *c, void *buf, size_t len, int ms);
/* The socket, for shutdown() and the like; <c> still owns it. */
int		 th_conn_fd(const th_conn_t *c);
void		 th_conn_close(th_conn_t *c);

/* Send <len> raw bytes on a new connection, read one response, close. */
th_resp_t	*th_try_request(int port, const void *raw, size_t len);
/* A formatted raw request (fails the test on transport errors). */
th_resp_t	*th__req(const char *file, int line, int port, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));
#define th_req(port, ...)	th__req(__FILE__, __LINE__, (port), __VA_ARGS__)
/* "GET <path> HTTP/1.1" with Host and Connection: close. */
th_resp_t	*th__get(const char *file, int line, int port,
		    const char *path);
#define th_get(port, path)	th__get(__FILE__, __LINE__, (port), (path))
th_resp_t	*th_try_get(int port, const char *path);

/* First value of header <name> (any case), trimmed, harness-owned; or NULL. */
const char	*th_header(const th_resp_t *r, const char *name);
/* How many times header <name> appears. */
int		 th_header_count(const th_resp_t *r, const char *name);
/* Why the last "try" function failed. */
const char	*th_error(void);

/* ------------------------------------------------------------------ */
/* Load loop (th_client.c) */

struct th_load_result {
	long	 ok;		/* complete, correct responses */
	long	 failed;	/* sum of the classes below */
	long	 connect;	/* refused or timed out connecting */
	long	 reset;		/* reset, EOF or send error mid-exchange */
	long	 truncated;	/* body shorter than announced */
	long	 timeout;	/* no complete response in time */
	long	 bad_status;	/* status other than 200 */
	long	 bad_body;	/* wrong length or bytes */
	long	 retried;	/* reused keep-alive connection closed before
				   any response byte: retried as real clients
				   do (RFC 9112 9.3.1); not a failure */
	long	 conns;		/* connections opened */
	char	 first_error[256];
};

/*
 * Fork a process sending GET <path> to <port> until stopped, until
 * <max_reqs> requests or <max_ms> have passed, alternating a fresh
 * connection per request with keep-alive connections carrying several.
 * <path> should be /size/N, /chunked/N or /id-like (status checked; bodies
 * of /size and /chunked checked byte for byte).
 */
typedef struct th_load th_load_t;
th_load_t	*th_load_start(int port, const char *path, long max_reqs,
		    int max_ms);
/* Requests completed so far (correct or not). */
long		 th_load_progress(const th_load_t *l);
/* Wait (bounded) until <n> more requests completed; false on timeout. */
bool		 th_load_wait_progress(const th_load_t *l, long n, int ms);
/*
 * The same, failing the test (with the loop's counts so far) on timeout;
 * <what> says when, for the message ("after HUP").
 */
#define th_load_expect_progress(l, n, what) \
	th__load_expect_progress(__FILE__, __LINE__, (l), (n), (what))
void		 th__load_expect_progress(const char *file, int line,
		    th_load_t *l, long n, const char *what);
/* Ask it to stop, collect its counts; fails the test if it hangs. */
void		 th_load_finish(th_load_t *l, struct th_load_result *res);
/* "ok=.. failed=.. (connect=.. ...) first error: ..." for messages. */
const char	*th_load_str(const struct th_load_result *res);

/* ------------------------------------------------------------------ */
/* Internals shared between the harness files */

/*
 * A buffered reader over a socket with a deadline, shared by the client,
 * the load loop and the origin.
 */
typedef struct th_rd {
	int		 fd;
	char		*buf;		/* unconsumed bytes are buf[off..len) */
	size_t		 off, len, cap;
	int64_t		 deadline;	/* th_now() milliseconds */
	int		 err;		/* errno of the failure, ETIMEDOUT */
	bool		 eof;
	uint64_t	 total;		/* bytes received in all */
} th_rd_t;

/* Read more: >0 bytes, 0 on EOF, -1 on error or deadline (err set). */
ssize_t		 th__rd_fill(th_rd_t *r);
/*
 * Make sure a whole head (up to CRLFCRLF, at most <max> bytes) is buffered
 * at buf+off; return its length, or -1 (EOF, error, too long).
 */
ssize_t		 th__rd_head(th_rd_t *r, size_t max);
/*
 * Read a body framed as <framing> (<length> for TH_FRAME_LENGTH), decoded,
 * into a malloc'd NUL-ended <*body> of <*len> bytes; 0, or -1 with the
 * reason set (th_error()).  Chunk trailers are skipped.
 */
int		 th__rd_body(th_rd_t *r, enum th_framing framing,
		    int64_t length, char **body, size_t *len);
/*
 * Value of the <nth> header <name> in the head [<head>, <head>+<len>) copied
 * trimmed into <out>; false if absent.
 */
bool		 th__hdr(const char *head, size_t len, const char *name,
		    int nth, char *out, size_t outlen);
/* Send all of <buf>; -1 on error. */
int		 th__send_all(int fd, const void *buf, size_t len);

/* Record something for teardown. */
void		 th__own(void *p);
void		 th__origins_stop(void);
void		 th__loads_stop(void);
void		 th__set_error(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* Die with <parent>, so nothing outlives a test that failed. */
void		 th__die_with_parent(pid_t parent);

#endif /* TH_H */
