/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The harness's HTTP/1.1 client: raw bytes out, whole responses in (status
 * line, headers, body by Content-Length, chunked or close), every read
 * bounded; and the load loop, a forked client that counts every kind of
 * failure while the daemon is reloaded or upgraded under it.
 */
/* memmem, strcasestr, vasprintf. */
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "th.h"

#define TH_MAXHEAD	(64 * 1024)
#define TH_MAXLOADS	8
#define LOAD_REQ_MS	10000		/* one request of the load loop */
#define LOAD_KEEPALIVE	5		/* requests per keep-alive connection */

struct th_conn {
	th_rd_t		 rd;
	int		 port;
};

/* What the load child and the parent share. */
struct load_shared {
	long		 progress;	/* requests completed, atomically */
	int		 stop;		/* set by the parent */
};

struct th_load {
	pid_t			 pid;
	int			 fd;		/* result pipe, read end */
	struct load_shared	*sh;
	bool			 done;
};

static char		 errbuf[512];
static th_load_t	*loads[TH_MAXLOADS];
static size_t		 nloads;

void
th__set_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *
th_error(void)
{
	return errbuf;
}

/* ------------------------------------------------------------------ */
/* Reader */

ssize_t
th__rd_fill(th_rd_t *r)
{
	struct pollfd	 pfd = { r->fd, POLLIN, 0 };
	int64_t		 left;
	ssize_t		 n;
	char		*nbuf;

	if (r->off > 0 && r->off == r->len)
		r->off = r->len = 0;
	if (r->cap - r->len < 16384) {
		/* Slide the unconsumed bytes down before growing. */
		if (r->off > 0) {
			memmove(r->buf, r->buf + r->off, r->len - r->off);
			r->len -= r->off;
			r->off = 0;
		}
		if (r->cap - r->len < 16384) {
			r->cap = r->cap ? r->cap * 2 : 65536;
			if ((nbuf = realloc(r->buf, r->cap + 1)) == NULL)
				abort();
			r->buf = nbuf;
		}
	}
	for (;;) {
		left = r->deadline - th_now();
		if (left <= 0) {
			r->err = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (n == -1 && errno != EINTR) {
			r->err = errno;
			return -1;
		}
		if (n <= 0)
			continue;
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			r->total += (uint64_t)n;
			r->buf[r->len] = '\0';
			return n;
		}
		if (n == 0) {
			r->eof = true;
			return 0;
		}
		if (errno == EINTR || errno == EAGAIN)
			continue;
		r->err = errno;
		return -1;
	}
}

ssize_t
th__rd_head(th_rd_t *r, size_t max)
{
	char	*end;
	ssize_t	 n;

	for (;;) {
		if (r->len > r->off) {
			r->buf[r->len] = '\0';
			end = memmem(r->buf + r->off, r->len - r->off,
			    "\r\n\r\n", 4);
			if (end != NULL)
				return end + 4 - (r->buf + r->off);
			if (r->len - r->off > max) {
				th__set_error("head longer than %zu bytes",
				    max);
				return -1;
			}
		}
		if ((n = th__rd_fill(r)) <= 0) {
			th__set_error("%s before the end of the head (%zu "
			    "bytes of it)", n == 0 ? "EOF" :
			    strerror(r->err), r->len - r->off);
			return -1;
		}
	}
}

/* Make sure <need> bytes are buffered at off; false on EOF or error. */
static bool
rd_need(th_rd_t *r, size_t need)
{
	while (r->len - r->off < need)
		if (th__rd_fill(r) <= 0)
			return false;
	return true;
}

/* A CRLF-ended line at off (without the CRLF) into <line>; consumes it. */
static bool
rd_line(th_rd_t *r, char *line, size_t max)
{
	char	*eol;
	size_t	 len;

	for (;;) {
		if (r->len > r->off && (eol = memmem(r->buf + r->off,
		    r->len - r->off, "\r\n", 2)) != NULL)
			break;
		if (r->len - r->off > max || th__rd_fill(r) <= 0)
			return false;
	}
	len = (size_t)(eol - (r->buf + r->off));
	if (len >= max)
		return false;
	memcpy(line, r->buf + r->off, len);
	line[len] = '\0';
	r->off += len + 2;
	return true;
}

/* Append <n> buffered bytes at off to the growing body. */
static void
body_take(th_rd_t *r, size_t n, char **body, size_t *len, size_t *cap)
{
	char	*nb;

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		if ((nb = realloc(*body, *cap)) == NULL)
			abort();
		*body = nb;
	}
	memcpy(*body + *len, r->buf + r->off, n);
	*len += n;
	r->off += n;
}

static const char *
rd_why(const th_rd_t *r)
{
	return r->eof ? "EOF" : strerror(r->err);
}

int
th__rd_body(th_rd_t *r, enum th_framing framing, int64_t length,
    char **body, size_t *len)
{
	char		 line[256], *end;
	size_t		 cap = 0, n;
	unsigned long long size;

	*body = NULL;
	*len = 0;
	switch (framing) {
	case TH_FRAME_NONE:
		break;
	case TH_FRAME_LENGTH:
		while ((int64_t)*len < length) {
			if (r->len == r->off && th__rd_fill(r) <= 0) {
				th__set_error("%s after %zu of %" PRId64
				    " body bytes", rd_why(r), *len, length);
				goto fail;
			}
			n = r->len - r->off;
			if ((int64_t)n > length - (int64_t)*len)
				n = (size_t)(length - (int64_t)*len);
			body_take(r, n, body, len, &cap);
		}
		break;
	case TH_FRAME_CHUNKED:
		for (;;) {
			if (!rd_line(r, line, sizeof(line))) {
				th__set_error("%s reading a chunk size line "
				    "after %zu body bytes", rd_why(r), *len);
				goto fail;
			}
			errno = 0;
			size = strtoull(line, &end, 16);
			if (end == line || errno != 0 ||
			    (*end != '\0' && *end != ';' && *end != ' ' &&
			    *end != '\t')) {
				th__set_error("bad chunk size line \"%s\"",
				    line);
				goto fail;
			}
			if (size == 0)
				break;
			while (size > 0) {
				if (r->len == r->off && th__rd_fill(r) <= 0) {
					th__set_error("%s inside a chunk after "
					    "%zu body bytes", rd_why(r), *len);
					goto fail;
				}
				n = r->len - r->off;
				if (n > size)
					n = (size_t)size;
				body_take(r, n, body, len, &cap);
				size -= n;
			}
			if (!rd_need(r, 2) || memcmp(r->buf + r->off, "\r\n",
			    2) != 0) {
				th__set_error("chunk not followed by CRLF "
				    "after %zu body bytes", *len);
				goto fail;
			}
			r->off += 2;
		}
		/* Trailer fields, then the empty line. */
		for (;;) {
			if (!rd_line(r, line, sizeof(line))) {
				th__set_error("%s in the chunked trailer",
				    rd_why(r));
				goto fail;
			}
			if (line[0] == '\0')
				break;
		}
		break;
	case TH_FRAME_CLOSE:
		for (;;) {
			if (r->len > r->off)
				body_take(r, r->len - r->off, body, len, &cap);
			if (th__rd_fill(r) > 0)
				continue;
			if (r->eof)
				break;
			th__set_error("%s before the close ending the body "
			    "(%zu bytes)", rd_why(r), *len);
			goto fail;
		}
		break;
	}
	if (*body == NULL && (*body = malloc(1)) == NULL)
		abort();
	(*body)[*len] = '\0';
	return 0;
fail:
	free(*body);
	*body = NULL;
	return -1;
}

bool
th__hdr(const char *head, size_t len, const char *name, int nth, char *out,
    size_t outlen)
{
	const char	*p, *end = head + len, *eol, *colon, *v, *ve;
	size_t		 nlen = strlen(name), vlen;

	/* Skip the start line. */
	if ((p = memmem(head, len, "\r\n", 2)) == NULL)
		return false;
	for (p += 2; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || (size_t)(colon - p) != nlen ||
		    strncasecmp(p, name, nlen) != 0)
			continue;
		if (nth-- > 0)
			continue;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		vlen = (size_t)(ve - v);
		if (vlen >= outlen)
			vlen = outlen - 1;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return true;
	}
	return false;
}

int
th__send_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Connections and responses */

th_conn_t *
th_conn_try_open(int port)
{
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	struct timeval		 tv = { TH_IO_MS / 1000, 0 };
	socklen_t		 len;
	th_conn_t		*c;
	int			 fd, err, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		th__set_error("socket: %s", strerror(errno));
		return NULL;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != EINPROGRESS) {
			th__set_error("connect 127.0.0.1:%d: %s", port,
			    strerror(errno));
			close(fd);
			return NULL;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 10000) != 1) {
			th__set_error("connect 127.0.0.1:%d: timed out", port);
			close(fd);
			return NULL;
		}
		len = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			th__set_error("connect 127.0.0.1:%d: %s", port,
			    strerror(err));
			close(fd);
			return NULL;
		}
	}
	/* Blocking from here on; sends are bounded by SO_SNDTIMEO. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->rd.fd = fd;
	c->port = port;
	return c;
}

th_conn_t *
th__conn_open(const char *file, int line, int port)
{
	th_conn_t	*c;

	c = th_conn_try_open(port);
	ck_assert_msg(c != NULL, "%s:%d: %s", file, line, th_error());
	return c;
}

int
th_conn_send(th_conn_t *c, const void *buf, size_t len)
{
	if (th__send_all(c->rd.fd, buf, len) == -1) {
		th__set_error("send: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
th__conn_sendf(const char *file, int line, th_conn_t *c, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0);
	n = th_conn_send(c, s, (size_t)n);
	free(s);
	ck_assert_msg(n == 0, "%s:%d: %s", file, line, th_error());
}

static void
resp_clear(th_resp_t *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * Read one response into <resp> (fields malloc'd, not owned by the
 * harness: the load loop reads thousands).  0, or -1 with the reason.
 */
static int
read_resp(th_conn_t *c, bool head_only, int ms, th_resp_t *resp)
{
	th_rd_t		*r = &c->rd;
	char		 val[256], *end;
	ssize_t		 hlen;
	int64_t		 length = -1, v;
	int		 i, minor;
	enum th_framing	 framing;

	memset(resp, 0, sizeof(*resp));
	r->deadline = th_deadline(ms);
	r->eof = false;
	r->err = 0;
	for (;;) {
		if ((hlen = th__rd_head(r, TH_MAXHEAD)) == -1)
			return -1;
		if (sscanf(r->buf + r->off, "HTTP/1.%d %3d", &minor,
		    &resp->status) != 2 || resp->status < 100 ||
		    resp->status > 999 || (r->buf[r->off + 12] != ' ' &&
		    r->buf[r->off + 12] != '\r')) {
			th__set_error("bad status line: %.60s", r->buf +
			    r->off);
			return -1;
		}
		/* 1xx are interim: the final response follows (not 101). */
		if (resp->status >= 200 || resp->status == 101)
			break;
		resp->ninterim++;
		r->off += (size_t)hlen;
	}
	snprintf(resp->version, sizeof(resp->version), "HTTP/1.%d", minor);
	if ((resp->head = malloc((size_t)hlen + 1)) == NULL)
		abort();
	memcpy(resp->head, r->buf + r->off, (size_t)hlen);
	resp->head[hlen] = '\0';
	resp->head_len = (size_t)hlen;
	r->off += (size_t)hlen;

	if (th__hdr(resp->head, resp->head_len, "Connection", 0, val,
	    sizeof(val)) && strcasestr(val, "close") != NULL)
		resp->conn_close = true;
	/* Several Content-Length fields must agree (RFC 9112 6.3). */
	for (i = 0; th__hdr(resp->head, resp->head_len, "Content-Length", i,
	    val, sizeof(val)); i++) {
		errno = 0;
		v = strtoll(val, &end, 10);
		if (end == val || *end != '\0' || v < 0 || errno != 0 ||
		    (length != -1 && v != length)) {
			th__set_error("bad Content-Length \"%s\"", val);
			goto fail;
		}
		length = v;
	}
	if (head_only || resp->status == 204 || resp->status == 304)
		framing = TH_FRAME_NONE;
	else if (th__hdr(resp->head, resp->head_len, "Transfer-Encoding", 0,
	    val, sizeof(val))) {
		if (length != -1) {
			th__set_error("both Transfer-Encoding and "
			    "Content-Length in the response");
			goto fail;
		}
		end = val + strlen(val);
		framing = end - val >= 7 && strcasecmp(end - 7, "chunked") ==
		    0 ? TH_FRAME_CHUNKED : TH_FRAME_CLOSE;
	} else if (length != -1)
		framing = TH_FRAME_LENGTH;
	else
		framing = TH_FRAME_CLOSE;
	resp->framing = framing;
	if (th__rd_body(r, framing, length, &resp->body, &resp->body_len) ==
	    -1)
		goto fail;
	return 0;
fail:
	resp_clear(resp);
	return -1;
}

/* Hand a response read by read_resp() over to the harness. */
static th_resp_t *
resp_own(const th_resp_t *tmp)
{
	th_resp_t	*r;

	r = th_alloc(sizeof(*r));
	*r = *tmp;
	th__own(r->head);
	th__own(r->body);
	return r;
}

th_resp_t *
th_conn_try_read(th_conn_t *c, bool head_only, int ms)
{
	th_resp_t	 tmp;

	if (read_resp(c, head_only, ms, &tmp) == -1)
		return NULL;
	return resp_own(&tmp);
}

th_resp_t *
th__conn_read(const char *file, int line, th_conn_t *c)
{
	th_resp_t	*r;

	r = th_conn_try_read(c, false, TH_IO_MS);
	ck_assert_msg(r != NULL, "%s:%d: reading a response from port %d: %s",
	    file, line, c->port, th_error());
	return r;
}

bool
th_conn_closed(th_conn_t *c, int ms)
{
	c->rd.deadline = th_deadline(ms);
	for (;;) {
		if (th__rd_fill(&c->rd) > 0)
			continue;	/* unexpected bytes stay pending */
		if (c->rd.eof)
			return true;
		return c->rd.err != ETIMEDOUT;
	}
}

size_t
th_conn_pending(const th_conn_t *c)
{
	return c->rd.len - c->rd.off;
}

ssize_t
th_conn_recv(th_conn_t *c, void *buf, size_t len, int ms)
{
	th_rd_t		*r = &c->rd;
	struct pollfd	 pfd = { r->fd, POLLIN, 0 };
	int64_t		 end = th_deadline(ms), left;
	ssize_t		 n;

	if (r->len > r->off) {
		n = (ssize_t)(r->len - r->off < len ? r->len - r->off : len);
		memcpy(buf, r->buf + r->off, (size_t)n);
		r->off += (size_t)n;
		return n;
	}
	/* Straight into <buf>: this is the path of large transfers. */
	for (;;) {
		if ((left = end - th_now()) <= 0) {
			th__set_error("no bytes within %d ms", ms);
			return -1;
		}
		n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (n == -1 && errno != EINTR) {
			th__set_error("poll: %s", strerror(errno));
			return -1;
		}
		if (n <= 0)
			continue;
		n = read(r->fd, buf, len);
		if (n > 0) {
			r->total += (uint64_t)n;
			return n;
		}
		if (n == 0) {
			r->eof = true;
			return 0;
		}
		if (errno == EINTR || errno == EAGAIN)
			continue;
		th__set_error("read: %s", strerror(errno));
		return -1;
	}
}

int
th_conn_fd(const th_conn_t *c)
{
	return c->rd.fd;
}

void
th_conn_close(th_conn_t *c)
{
	if (c == NULL)
		return;
	close(c->rd.fd);
	free(c->rd.buf);
	free(c);
}

th_resp_t *
th_try_request(int port, const void *raw, size_t len)
{
	th_conn_t	*c;
	th_resp_t	*r = NULL;
	bool		 head_only;

	if ((c = th_conn_try_open(port)) == NULL)
		return NULL;
	head_only = len >= 5 && memcmp(raw, "HEAD ", 5) == 0;
	if (th_conn_send(c, raw, len) == 0)
		r = th_conn_try_read(c, head_only, TH_IO_MS);
	th_conn_close(c);
	return r;
}

th_resp_t *
th__req(const char *file, int line, int port, const char *fmt, ...)
{
	th_resp_t	*r;
	va_list		 ap;
	char		*s;
	int		 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0);
	r = th_try_request(port, s, (size_t)n);
	ck_assert_msg(r != NULL, "%s:%d: request to port %d failed: %s\n"
	    "request: %.200s", file, line, port, th_error(), s);
	free(s);
	return r;
}

static const char *
get_request(const char *path)
{
	return th_printf("GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "User-Agent: th-client/1\r\nConnection: close\r\n\r\n", path);
}

th_resp_t *
th_try_get(int port, const char *path)
{
	const char	*req = get_request(path);

	return th_try_request(port, req, strlen(req));
}

th_resp_t *
th__get(const char *file, int line, int port, const char *path)
{
	th_resp_t	*r;

	r = th_try_get(port, path);
	ck_assert_msg(r != NULL, "%s:%d: GET %s on port %d failed: %s", file,
	    line, path, port, th_error());
	return r;
}

const char *
th_header(const th_resp_t *r, const char *name)
{
	char	 val[8192];

	if (r == NULL || r->head == NULL ||
	    !th__hdr(r->head, r->head_len, name, 0, val, sizeof(val)))
		return NULL;
	return th_strdup(val);
}

int
th_header_count(const th_resp_t *r, const char *name)
{
	char	 val[16];
	int	 n = 0;

	while (th__hdr(r->head, r->head_len, name, n, val, sizeof(val)))
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* The load loop */

enum outcome {
	OUT_OK,
	OUT_RETRY,	/* reused connection closed before any byte came */
	OUT_CONNECT,
	OUT_RESET,
	OUT_TRUNCATED,
	OUT_TIMEOUT,
	OUT_STATUS,
	OUT_BODY
};

struct load_spec {
	int		 port;
	const char	*path;
	int64_t		 expect_len;	/* -1: do not check the body */
	bool		 close_after;	/* response said Connection: close */
};

static void
note(struct th_load_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct th_load_result *res, const char *fmt, ...)
{
	va_list	 ap;

	if (res->first_error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(res->first_error, sizeof(res->first_error), fmt, ap);
	va_end(ap);
}

/*
 * One request on <c>; <reused> when the connection already carried one,
 * so an immediate close is the keep-alive race every client retries.
 */
static enum outcome
load_one(th_conn_t *c, struct load_spec *sp, bool last, bool reused,
    struct th_load_result *res)
{
	char		 req[512];
	th_resp_t	 resp;
	uint64_t	 before = c->rd.total;
	int		 n;
	int64_t		 bad;
	enum outcome	 out = OUT_OK;

	sp->close_after = false;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "User-Agent: th-load/1\r\n%s\r\n", sp->path,
	    last ? "Connection: close\r\n" : "");
	if (th__send_all(c->rd.fd, req, (size_t)n) == -1) {
		if (reused && (errno == EPIPE || errno == ECONNRESET))
			return OUT_RETRY;
		note(res, "send: %s", strerror(errno));
		return OUT_RESET;
	}
	if (read_resp(c, false, LOAD_REQ_MS, &resp) == -1) {
		if (reused && c->rd.total == before &&
		    (c->rd.eof || c->rd.err == ECONNRESET))
			return OUT_RETRY;
		note(res, "%s%s", reused ? "(reused connection) " : "",
		    th_error());
		if (c->rd.err == ETIMEDOUT)
			return OUT_TIMEOUT;
		if (c->rd.total > before && c->rd.eof)
			return OUT_TRUNCATED;
		return OUT_RESET;
	}
	sp->close_after = resp.conn_close;
	if (resp.status != 200) {
		note(res, "status %d for %s", resp.status, sp->path);
		out = OUT_STATUS;
	} else if (sp->expect_len >= 0 &&
	    (int64_t)resp.body_len != sp->expect_len) {
		note(res, "%zu body bytes for %s", resp.body_len, sp->path);
		out = OUT_BODY;
	} else if (sp->expect_len >= 0 && (bad = th_pattern_check(resp.body,
	    resp.body_len, 0)) != -1) {
		note(res, "wrong body byte at %" PRId64 " for %s", bad,
		    sp->path);
		out = OUT_BODY;
	}
	resp_clear(&resp);
	return out;
}

static void
count(struct th_load_result *res, enum outcome out)
{
	switch (out) {
	case OUT_OK:		res->ok++; return;
	case OUT_RETRY:		res->retried++; return;
	case OUT_CONNECT:	res->connect++; break;
	case OUT_RESET:		res->reset++; break;
	case OUT_TRUNCATED:	res->truncated++; break;
	case OUT_TIMEOUT:	res->timeout++; break;
	case OUT_STATUS:	res->bad_status++; break;
	case OUT_BODY:		res->bad_body++; break;
	}
	res->failed++;
}

static th_conn_t *
load_connect(struct load_spec *sp, struct th_load_result *res)
{
	th_conn_t	*c;

	if ((c = th_conn_try_open(sp->port)) == NULL)
		note(res, "%s", th_error());
	else
		res->conns++;
	return c;
}

static void __attribute__((noreturn))
load_child(struct load_shared *sh, int wfd, struct load_spec *sp,
    long max_reqs, int max_ms)
{
	struct th_load_result	 res;
	th_conn_t		*c;
	int64_t			 end = th_deadline(max_ms);
	long			 done = 0, cycle, k, per_conn;
	enum outcome		 out;
	ssize_t			 n;

	memset(&res, 0, sizeof(res));
	for (cycle = 0; done < max_reqs && !__atomic_load_n(&sh->stop,
	    __ATOMIC_SEQ_CST) && !th_expired(end); cycle++) {
		/* Alternate one-shot connections and keep-alive ones. */
		per_conn = cycle % 2 == 0 ? 1 : LOAD_KEEPALIVE;
		if ((c = load_connect(sp, &res)) == NULL) {
			count(&res, OUT_CONNECT);
			done++;
			__atomic_add_fetch(&sh->progress, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		for (k = 0; k < per_conn && done < max_reqs; k++) {
			out = load_one(c, sp, k == per_conn - 1, k > 0, &res);
			if (out == OUT_RETRY) {
				/* Once, on a new connection, as clients do. */
				count(&res, out);
				th_conn_close(c);
				if ((c = load_connect(sp, &res)) == NULL)
					out = OUT_CONNECT;
				else
					out = load_one(c, sp, true, false,
					    &res);
				k = per_conn;
			}
			count(&res, out);
			done++;
			__atomic_add_fetch(&sh->progress, 1, __ATOMIC_SEQ_CST);
			if (c == NULL || out != OUT_OK || sp->close_after)
				break;
		}
		th_conn_close(c);
	}
	n = write(wfd, &res, sizeof(res));
	_exit(n == (ssize_t)sizeof(res) ? 0 : 1);
}

th_load_t *
th_load_start(int port, const char *path, long max_reqs, int max_ms)
{
	struct load_spec	 spec;
	th_load_t		*l;
	int			 p[2];
	pid_t			 parent = getpid();
	long			 v;

	ck_assert(nloads < TH_MAXLOADS);
	memset(&spec, 0, sizeof(spec));
	spec.port = port;
	spec.path = path;
	spec.expect_len = -1;
	if (sscanf(path, "/size/%ld", &v) == 1 ||
	    sscanf(path, "/chunked/%ld", &v) == 1)
		spec.expect_len = v;
	l = th_alloc(sizeof(*l));
	memset(l, 0, sizeof(*l));
	l->sh = mmap(NULL, sizeof(*l->sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(l->sh != MAP_FAILED, "mmap: %s", strerror(errno));
	ck_assert_msg(pipe2(p, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	l->pid = fork();
	ck_assert_msg(l->pid != -1, "fork: %s", strerror(errno));
	if (l->pid == 0) {
		th__die_with_parent(parent);
		close(p[0]);
		load_child(l->sh, p[1], &spec, max_reqs, max_ms);
	}
	close(p[1]);
	l->fd = p[0];
	loads[nloads++] = l;
	return l;
}

long
th_load_progress(const th_load_t *l)
{
	return __atomic_load_n(&l->sh->progress, __ATOMIC_SEQ_CST);
}

bool
th_load_wait_progress(const th_load_t *l, long n, int ms)
{
	long	 target = th_load_progress(l) + n;
	int64_t	 end = th_deadline(ms);
	struct pollfd pfd = { l->fd, POLLIN, 0 };

	while (th_load_progress(l) < target) {
		/* The loop ended on its own (count or time bound). */
		if (poll(&pfd, 1, 0) == 1 || th_expired(end))
			return false;
		th_nap();
	}
	return true;
}

void
th__load_expect_progress(const char *file, int line, th_load_t *l, long n,
    const char *what)
{
	struct th_load_result	 res;
	long			 before = th_load_progress(l);

	if (th_load_wait_progress(l, n, TH_START_MS))
		return;
	th_load_finish(l, &res);
	ck_abort_msg("%s:%d: the load loop did %ld of %ld more requests in "
	    "%d ms %s: %s", file, line, th_load_progress(l) - before, n,
	    TH_START_MS, what, th_load_str(&res));
}

void
th_load_finish(th_load_t *l, struct th_load_result *res)
{
	struct pollfd	 pfd = { l->fd, POLLIN, 0 };
	ssize_t		 n = -1;
	int		 st;

	ck_assert(!l->done);
	__atomic_store_n(&l->sh->stop, 1, __ATOMIC_SEQ_CST);
	/* It finishes the request in progress first. */
	if (poll(&pfd, 1, LOAD_REQ_MS * 2 + 5000) == 1)
		n = read(l->fd, res, sizeof(*res));
	if (n != (ssize_t)sizeof(*res))
		kill(l->pid, SIGKILL);
	waitpid(l->pid, &st, 0);
	close(l->fd);
	l->done = true;
	ck_assert_msg(n == (ssize_t)sizeof(*res), "the load loop did not "
	    "report its counts");
}

const char *
th_load_str(const struct th_load_result *r)
{
	return th_printf("ok=%ld failed=%ld (connect=%ld reset=%ld "
	    "truncated=%ld timeout=%ld status=%ld body=%ld) retried=%ld "
	    "conns=%ld%s%s", r->ok, r->failed, r->connect, r->reset,
	    r->truncated, r->timeout, r->bad_status, r->bad_body, r->retried,
	    r->conns, r->first_error[0] ? "; first error: " : "",
	    r->first_error);
}

void
th__loads_stop(void)
{
	size_t	 i;
	int	 st;

	for (i = 0; i < nloads; i++) {
		if (!loads[i]->done) {
			kill(loads[i]->pid, SIGKILL);
			waitpid(loads[i]->pid, &st, 0);
			close(loads[i]->fd);
			loads[i]->done = true;
		}
		munmap(loads[i]->sh, sizeof(*loads[i]->sh));
	}
	nloads = 0;
}
