/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A real HTTP/1.1 origin for the integration tests, forked by the test: one
 * process per connection (so a slow response never holds up another), with
 * keep-alive, both request body framings and a few scripted routes.  It
 * counts connections and requests in a small shared file and appends every
 * request head it receives to a log, so tests can see what lintel sent.
 */
/* memmem, strcasestr. */
#define _GNU_SOURCE
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "th.h"

#define TH_MAXORIGINS	8
#define ORIGIN_IDLE_MS	60000		/* a kept-alive connection's bound */
#define SLOW_BODY	10000		/* bytes of a /slow response */

/* Slots of the shared counts page. */
#define C_CONNS		0	/* connections accepted */
#define C_REQS		1	/* request heads received */
#define C_COMPLETE	2	/* requests received with their whole body */
#define C_IDLE_MS	3	/* th_origin_idle_close(); 0: ORIGIN_IDLE_MS */
#define C_TUNNEL_EOFS	4	/* /upgrade tunnels that saw the client's EOF */
#define C_IDLE_CLOSES	5	/* connections closed for idling */

struct th_origin {
	pid_t		 pid;
	int		 port;
	char		 id[64];
	uint64_t	*counts;	/* shared page, C_* slots */
	const char	*log;		/* request heads, appended */
	bool		 stopped;
};

/* One parsed request. */
struct oreq {
	char		 method[16];
	char		 target[1024];
	int		 minor;		/* HTTP/1.<minor> */
	bool		 keepalive;
	const char	*framing;	/* "length", "chunked", "none" */
	char		*head;		/* raw, malloc'd */
	size_t		 head_len;
	char		*body;
	size_t		 body_len;
	uint64_t	 discarded;	/* /discard: body bytes counted */
	int64_t		 bad;		/* /discard: first wrong byte, or -1 */
};

static th_origin_t	*origins[TH_MAXORIGINS];
static size_t		 norigins;

/* Send or die: the peer went away and this connection is over. */
static void
osend(int fd, const void *buf, size_t len)
{
	if (th__send_all(fd, buf, len) == -1)
		_exit(0);
}

static void
ohead(int fd, const th_origin_t *o, const struct oreq *q, int status,
    const char *reason, const char *extra, int64_t length)
{
	char	 head[4096], cl[64] = "";
	int	 n;

	if (length >= 0)
		snprintf(cl, sizeof(cl), "Content-Length: %" PRId64 "\r\n",
		    length);
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Server: th-origin\r\nX-Origin-Id: %s\r\n%s%s%s\r\n", status,
	    reason, o->id, cl, extra, q->keepalive ? "" :
	    "Connection: close\r\n");
	osend(fd, head, (size_t)n);
}

/* <len> pattern bytes, in pieces as a real server would write them. */
static void
opattern(int fd, uint64_t len, bool chunked)
{
	static const size_t sizes[] = { 1, 10, 100, 1000, 4096, 16384, 65536 };
	char		 buf[65536 + 32];
	uint64_t	 off = 0;
	size_t		 n, i = 0;
	int		 h;

	while (off < len) {
		n = chunked ? sizes[i++ % TH_NELEM(sizes)] : 65536;
		if (n > len - off)
			n = (size_t)(len - off);
		h = chunked ? snprintf(buf, 32, "%zx\r\n", n) : 0;
		th_pattern_fill(buf + h, n, off);
		if (chunked) {
			memcpy(buf + h + n, "\r\n", 2);
			osend(fd, buf, (size_t)h + n + 2);
		} else
			osend(fd, buf, n);
		off += n;
	}
	if (chunked)
		osend(fd, "0\r\n\r\n", 5);
}

/* <len> bytes of the /bulk body: the th_bulk() block over and over. */
static void
obulk(int fd, uint64_t len)
{
	const char	*block = th_bulk();
	uint64_t	 off = 0;
	size_t		 n;

	while (off < len) {
		n = len - off < TH_BULK_BLOCK ? (size_t)(len - off) :
		    TH_BULK_BLOCK;
		osend(fd, block, n);
		off += n;
	}
}

static void
osleep(uint64_t ms)
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Decode the %XX escapes and '+' of a query component in place. */
static void
pct_decode(char *s)
{
	char		*w = s;
	unsigned int	 v;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2]) &&
		    sscanf(s + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			s += 2;
		} else
			*w++ = *s == '+' ? ' ' : *s;
	}
	*w = '\0';
}

/* "Name=value&..." (<qs>, changed) as "Name: value\r\n" lines in <out>. */
static void
query_headers(char *qs, char *out, size_t outlen)
{
	char	*pair, *val, *save = NULL;
	size_t	 used = 0;
	int	 n;

	out[0] = '\0';
	for (pair = strtok_r(qs, "&", &save); pair != NULL;
	    pair = strtok_r(NULL, "&", &save)) {
		if ((val = strchr(pair, '=')) == NULL)
			continue;
		*val++ = '\0';
		pct_decode(pair);
		pct_decode(val);
		n = snprintf(out + used, outlen - used, "%s: %s\r\n", pair,
		    val);
		if (n < 0 || (size_t)n >= outlen - used) {
			out[used] = '\0';
			break;
		}
		used += (size_t)n;
	}
}

static void
respond(int fd, const th_origin_t *o, struct oreq *q)
{
	bool		 head_only = strcmp(q->method, "HEAD") == 0;
	char		 path[1024], extra[2048], *qs, *text;
	unsigned long long n;
	struct linger	 lg = { 1, 0 };

	snprintf(path, sizeof(path), "%s", q->target);
	if ((qs = strchr(path, '?')) != NULL)
		*qs++ = '\0';

	if (sscanf(path, "/size/%llu", &n) == 1) {
		ohead(fd, o, q, 200, "OK", "Content-Type: application/"
		    "octet-stream\r\n", (int64_t)n);
		if (!head_only)
			opattern(fd, n, false);
	} else if (sscanf(path, "/chunked/%llu", &n) == 1) {
		/* HTTP/1.0 has no chunked coding: close-delimited then. */
		if (q->minor == 0)
			q->keepalive = false;
		ohead(fd, o, q, 200, "OK", q->minor == 0 ? "" :
		    "Transfer-Encoding: chunked\r\n", -1);
		if (!head_only)
			opattern(fd, n, q->minor != 0);
	} else if (sscanf(path, "/close/%llu", &n) == 1) {
		q->keepalive = false;
		ohead(fd, o, q, 200, "OK", "", -1);
		if (!head_only)
			opattern(fd, n, false);
	} else if (sscanf(path, "/slow/%llu", &n) == 1) {
		unsigned long long len = SLOW_BODY;

		sscanf(path, "/slow/%*u/%llu", &len);
		ohead(fd, o, q, 200, "OK", "", (int64_t)len);
		osleep(n);
		if (!head_only)
			opattern(fd, len, false);
	} else if (sscanf(path, "/delay/%llu", &n) == 1) {
		static const char d[] = "delayed\n";

		osleep(n);
		ohead(fd, o, q, 200, "OK", "Content-Type: text/plain\r\n",
		    (int64_t)sizeof(d) - 1);
		if (!head_only)
			osend(fd, d, sizeof(d) - 1);
	} else if (sscanf(path, "/reset/%llu", &n) == 1) {
		ohead(fd, o, q, 200, "OK", "", (int64_t)(2 * n));
		opattern(fd, n, false);
		/* An abortive close: the peer gets a reset, not an EOF. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		_exit(0);
	} else if (sscanf(path, "/bulk/%llu", &n) == 1) {
		ohead(fd, o, q, 200, "OK", "Content-Type: application/"
		    "octet-stream\r\n", (int64_t)n);
		if (!head_only)
			obulk(fd, n);
	} else if (strcmp(path, "/discard") == 0) {
		/* A body not streamed past (chunked, none) was kept. */
		if (q->body != NULL) {
			q->discarded = q->body_len;
			q->bad = th_bulk_check(q->body, q->body_len, 0);
		}
		snprintf(extra, sizeof(extra), "X-Discard-Bad: %" PRId64
		    "\r\n", q->bad);
		if (asprintf(&text, "%" PRIu64 "\n", q->discarded) == -1)
			_exit(1);
		ohead(fd, o, q, 200, "OK", extra, (int64_t)strlen(text));
		if (!head_only)
			osend(fd, text, strlen(text));
		free(text);
	} else if (strcmp(path, "/respond") == 0 ||
	    strncmp(path, "/respond/", 9) == 0) {
		static const char r[] = "respond\n";

		query_headers(qs != NULL ? qs : path + strlen(path), extra,
		    sizeof(extra));
		ohead(fd, o, q, 200, "OK", extra, (int64_t)sizeof(r) - 1);
		if (!head_only)
			osend(fd, r, sizeof(r) - 1);
	} else if (strcmp(path, "/upgrade") == 0) {
		/* Reached only when no upgrade was asked for properly. */
		static const char ur[] = "upgrade required\n";

		ohead(fd, o, q, 426, "Upgrade Required", "Content-Type: "
		    "text/plain\r\n", (int64_t)sizeof(ur) - 1);
		if (!head_only)
			osend(fd, ur, sizeof(ur) - 1);
	} else if (strcmp(path, "/echo") == 0) {
		snprintf(extra, sizeof(extra), "X-Echo-Method: %s\r\n"
		    "X-Echo-Target: %s\r\nX-Echo-Version: HTTP/1.%d\r\n"
		    "X-Echo-Framing: %s\r\nX-Echo-Body-Length: %zu\r\n",
		    q->method, q->target, q->minor, q->framing, q->body_len);
		ohead(fd, o, q, 200, "OK", extra, (int64_t)q->body_len);
		if (!head_only)
			osend(fd, q->body, q->body_len);
	} else if (strcmp(path, "/headers") == 0 ||
	    strncmp(path, "/headers/", 9) == 0) {
		ohead(fd, o, q, 200, "OK", "Content-Type: text/plain\r\n",
		    (int64_t)q->head_len);
		if (!head_only)
			osend(fd, q->head, q->head_len);
	} else if (strcmp(path, "/id") == 0 || strcmp(path, "/") == 0) {
		text = strcmp(path, "/id") == 0 ? strdup(o->id) : NULL;
		if (text == NULL && asprintf(&text, "hello from origin %s\n",
		    o->id) == -1)
			_exit(1);
		ohead(fd, o, q, 200, "OK", "Content-Type: text/plain\r\n",
		    (int64_t)strlen(text));
		if (!head_only)
			osend(fd, text, strlen(text));
		free(text);
	} else {
		static const char nf[] = "not found on the origin\n";

		ohead(fd, o, q, 404, "Not Found",
		    "Content-Type: text/plain\r\n",
		    (int64_t)sizeof(nf) - 1);
		if (!head_only)
			osend(fd, nf, sizeof(nf) - 1);
	}
}

/* Parse the head at r->buf+off (<hlen> bytes) into <q>; false if bad. */
static bool
parse_request(th_rd_t *r, size_t hlen, struct oreq *q, int64_t *length,
    bool *chunked, bool *expect)
{
	char	 val[256], fmt[64];

	memset(q, 0, sizeof(*q));
	snprintf(fmt, sizeof(fmt), "%%%zus %%%zus HTTP/1.%%d",
	    sizeof(q->method) - 1, sizeof(q->target) - 1);
	if (sscanf(r->buf + r->off, fmt, q->method, q->target, &q->minor) !=
	    3)
		return false;
	if ((q->head = malloc(hlen + 1)) == NULL)
		abort();
	memcpy(q->head, r->buf + r->off, hlen);
	q->head[hlen] = '\0';
	q->head_len = hlen;

	q->keepalive = q->minor >= 1;
	if (th__hdr(q->head, hlen, "Connection", 0, val, sizeof(val))) {
		if (strcasestr(val, "close") != NULL)
			q->keepalive = false;
		else if (strcasestr(val, "keep-alive") != NULL)
			q->keepalive = true;
	}
	*expect = th__hdr(q->head, hlen, "Expect", 0, val, sizeof(val)) &&
	    strcasecmp(val, "100-continue") == 0;
	*length = -1;
	*chunked = th__hdr(q->head, hlen, "Transfer-Encoding", 0, val,
	    sizeof(val)) && strcasestr(val, "chunked") != NULL;
	if (!*chunked && th__hdr(q->head, hlen, "Content-Length", 0, val,
	    sizeof(val)))
		*length = strtoll(val, NULL, 10);
	q->framing = *chunked ? "chunked" : *length >= 0 ? "length" : "none";
	return true;
}

/* Is <q> a proper request to switch /upgrade to another protocol? */
static bool
wants_upgrade(const struct oreq *q)
{
	char	 val[256];

	return (strcmp(q->target, "/upgrade") == 0 ||
	    strncmp(q->target, "/upgrade?", 9) == 0) && q->minor >= 1 &&
	    th__hdr(q->head, q->head_len, "Upgrade", 0, val, sizeof(val)) &&
	    th__hdr(q->head, q->head_len, "Connection", 0, val,
	    sizeof(val)) && strcasestr(val, "upgrade") != NULL;
}

/*
 * Answer 101 and echo every byte back until the client's EOF, which is
 * counted and answered with ours.
 */
static void __attribute__((noreturn))
tunnel(int fd, th_origin_t *o, th_rd_t *r, const struct oreq *q)
{
	char	 head[512], proto[256];
	ssize_t	 n;
	int	 len;

	if (!th__hdr(q->head, q->head_len, "Upgrade", 0, proto,
	    sizeof(proto)))
		_exit(1);
	len = snprintf(head, sizeof(head), "HTTP/1.1 101 Switching Protocols"
	    "\r\nUpgrade: %s\r\nConnection: Upgrade\r\nX-Origin-Id: %s\r\n"
	    "\r\n", proto, o->id);
	osend(fd, head, (size_t)len);
	/* Bytes that came with the head already belong to the tunnel. */
	for (;;) {
		if (r->len > r->off)
			osend(fd, r->buf + r->off, r->len - r->off);
		r->off = r->len;
		r->deadline = th_deadline(ORIGIN_IDLE_MS);
		if ((n = th__rd_fill(r)) < 0)
			_exit(0);
		if (n == 0)
			break;
	}
	__atomic_add_fetch(&o->counts[C_TUNNEL_EOFS], 1, __ATOMIC_SEQ_CST);
	shutdown(fd, SHUT_WR);
	_exit(0);
}

/* POST /discard with a Content-Length: the body is counted, not kept. */
static bool
discarding(const struct oreq *q, bool chunked, int64_t length)
{
	return !chunked && length >= 0 && (strcmp(q->target, "/discard") ==
	    0 || strncmp(q->target, "/discard?", 9) == 0);
}

/* Count and check <length> body bytes, each read checked and dropped. */
static int
discard_body(th_rd_t *r, int64_t length, struct oreq *q)
{
	int64_t	 bad;
	size_t	 n;

	q->bad = -1;
	while ((int64_t)q->discarded < length) {
		if (r->len == r->off) {
			/* Each read is bounded, not the whole body. */
			r->deadline = th_deadline(TH_IO_MS);
			if (th__rd_fill(r) <= 0)
				return -1;
		}
		n = r->len - r->off;
		if ((int64_t)n > length - (int64_t)q->discarded)
			n = (size_t)(length - (int64_t)q->discarded);
		if (q->bad == -1 && (bad = th_bulk_check(r->buf + r->off, n,
		    q->discarded)) != -1)
			q->bad = (int64_t)q->discarded + bad;
		r->off += n;
		q->discarded += n;
	}
	return 0;
}

/* Serve one connection until it closes, idles out or asks to close. */
static void __attribute__((noreturn))
serve(int fd, th_origin_t *o)
{
	static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	th_rd_t		 r;
	struct oreq	 q;
	int64_t		 length;
	bool		 chunked, expect;
	ssize_t		 hlen;
	uint64_t	 idle;
	bool		 idled = false;
	int		 logfd;

	__atomic_add_fetch(&o->counts[C_CONNS], 1, __ATOMIC_SEQ_CST);
	memset(&r, 0, sizeof(r));
	r.fd = fd;
	logfd = open(o->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	for (;;) {
		idle = __atomic_load_n(&o->counts[C_IDLE_MS],
		    __ATOMIC_SEQ_CST);
		r.deadline = th_deadline(idle > 0 ? (int)idle :
		    ORIGIN_IDLE_MS);
		if ((hlen = th__rd_head(&r, 64 * 1024)) == -1) {
			idled = r.err == ETIMEDOUT && r.len == r.off;
			break;
		}
		if (!parse_request(&r, (size_t)hlen, &q, &length, &chunked,
		    &expect)) {
			osend(fd, bad_request, sizeof(bad_request) - 1);
			break;
		}
		r.off += (size_t)hlen;
		if (logfd != -1 && write(logfd, q.head, q.head_len) == -1)
			_exit(1);
		__atomic_add_fetch(&o->counts[C_REQS], 1, __ATOMIC_SEQ_CST);
		if (wants_upgrade(&q))
			tunnel(fd, o, &r, &q);
		if (expect)
			osend(fd, cont, sizeof(cont) - 1);
		r.deadline = th_deadline(TH_IO_MS);
		if (discarding(&q, chunked, length)) {
			if (discard_body(&r, length, &q) == -1)
				break;
		} else if (th__rd_body(&r, chunked ? TH_FRAME_CHUNKED :
		    length >= 0 ? TH_FRAME_LENGTH : TH_FRAME_NONE, length,
		    &q.body, &q.body_len) == -1)
			break;
		/* Before the answer, so a client that has it sees the count. */
		__atomic_add_fetch(&o->counts[C_COMPLETE], 1, __ATOMIC_SEQ_CST);
		respond(fd, o, &q);
		free(q.head);
		free(q.body);
		if (!q.keepalive)
			break;
	}
	/* Let the last bytes drain rather than reset them on close. */
	shutdown(fd, SHUT_WR);
	/* Counted once the peer can see it. */
	if (idled)
		__atomic_add_fetch(&o->counts[C_IDLE_CLOSES], 1,
		    __ATOMIC_SEQ_CST);
	_exit(0);
}

static void __attribute__((noreturn))
accept_loop(int lfd, th_origin_t *o)
{
	pid_t	 me = getpid();
	int	 fd, on = 1;

	/* Connection processes are never waited for. */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EINTR)
				th_nap();
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		switch (fork()) {
		case 0:
			th__die_with_parent(me);
			close(lfd);
			serve(fd, o);
		case -1:
			th_nap();
			break;
		default:
			break;
		}
		close(fd);
	}
}

th_origin_t *
th_origin_start(int port, const char *id)
{
	struct sockaddr_in	 sin;
	th_origin_t		*o;
	const char		*cfile;
	pid_t			 parent = getpid();
	int			 lfd, cfd, on = 1;

	ck_assert(norigins < TH_MAXORIGINS);
	o = th_alloc(sizeof(*o));
	memset(o, 0, sizeof(*o));
	o->port = port;
	snprintf(o->id, sizeof(o->id), "%s", id);
	o->log = th_path(th_printf("origin-%s.requests", id));
	/*
	 * The C_* counters, native uint64_t in a file mapped shared by every
	 * connection process and by the test, which uses th_origin_*().
	 */
	cfile = th_path(th_printf("origin-%s.counts", id));
	cfd = open(cfile, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(cfd != -1 && ftruncate(cfd, 4096) == 0, "%s: %s", cfile,
	    strerror(errno));
	o->counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cfd,
	    0);
	ck_assert_msg(o->counts != MAP_FAILED, "mmap: %s", strerror(errno));
	close(cfd);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(lfd != -1, "socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "origin %s: bind 127.0.0.1:%d: %s", id, port, strerror(errno));
	ck_assert_msg(listen(lfd, 1024) == 0, "listen: %s", strerror(errno));

	o->pid = fork();
	ck_assert_msg(o->pid != -1, "fork: %s", strerror(errno));
	if (o->pid == 0) {
		th__die_with_parent(parent);
		accept_loop(lfd, o);
	}
	close(lfd);
	origins[norigins++] = o;
	return o;
}

uint64_t
th_origin_conns(const th_origin_t *o)
{
	return __atomic_load_n(&o->counts[C_CONNS], __ATOMIC_SEQ_CST);
}

uint64_t
th_origin_reqs(const th_origin_t *o)
{
	return __atomic_load_n(&o->counts[C_REQS], __ATOMIC_SEQ_CST);
}

uint64_t
th_origin_complete(const th_origin_t *o)
{
	return __atomic_load_n(&o->counts[C_COMPLETE], __ATOMIC_SEQ_CST);
}

uint64_t
th_origin_tunnel_eofs(const th_origin_t *o)
{
	return __atomic_load_n(&o->counts[C_TUNNEL_EOFS], __ATOMIC_SEQ_CST);
}

uint64_t
th_origin_idle_closes(const th_origin_t *o)
{
	return __atomic_load_n(&o->counts[C_IDLE_CLOSES], __ATOMIC_SEQ_CST);
}

void
th_origin_idle_close(th_origin_t *o, int ms)
{
	__atomic_store_n(&o->counts[C_IDLE_MS], (uint64_t)(ms > 0 ? ms : 0),
	    __ATOMIC_SEQ_CST);
}

long
th_origin_count(const th_origin_t *o, const char *prefix)
{
	const char	*s, *p;
	size_t		 len = strlen(prefix);
	long		 n = 0;

	if ((s = th_read_file(o->log)) == NULL)
		return 0;
	/* Each head starts a line: at the start or after a blank line. */
	for (p = s; p != NULL; p = strstr(p, "\r\n\r\n")) {
		if (p != s)
			p += 4;
		if (strncmp(p, prefix, len) == 0)
			n++;
	}
	return n;
}

const char *
th_origin_log(const th_origin_t *o)
{
	return o->log;
}

void
th_origin_stop(th_origin_t *o)
{
	int	 st;

	if (o->stopped)
		return;
	/* Its connection processes follow it (PR_SET_PDEATHSIG). */
	kill(o->pid, SIGKILL);
	waitpid(o->pid, &st, 0);
	o->stopped = true;
}

void
th__origins_stop(void)
{
	size_t	 i;

	for (i = 0; i < norigins; i++) {
		th_origin_stop(origins[i]);
		munmap(origins[i]->counts, 4096);
	}
	norigins = 0;
}
