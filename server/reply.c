/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Replies lintel writes itself: a head, then a body from memory or a file
 * range sent with sendfile(2) (or read into a buffer when the transport,
 * TLS say, needs the bytes), with back-pressure from the client socket.
 * Also the `return` routes and the sites' error pages, which are such
 * replies.  Reply state is recycled through a per-worker free list.
 */
#include "config.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "body_filter.h"
#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "event.h"
#include "http_date.h"
#include "http_status.h"
#include "io.h"
#include "log.h"
#include "module.h"
#include "mime.h"
#include "reply.h"
#include "tls.h"
#include "worker.h"

#define LNT_REPLY_MAGIC	0x6c6e7472u	/* "lntr" */

/* A programmer error, never client input: log where, then abort. */
#define CHECK_REPLY(r) do {						\
	if ((r) == NULL || (r)->magic != LNT_REPLY_MAGIC) {		\
		lnt_log(LNT_LOG_ALERT, "%s:%d: not a reply", __FILE__,	\
		    __LINE__);						\
		abort();						\
	}								\
} while (0)

#define HEAD_ROOM	1024		/* usual header fields */
#define HEAD_RESERVE	80		/* Content-Length, Connection, CRLF */
#define SEND_CHUNK	(512 * 1024)	/* bytes asked of one sendfile() */
/* Bytes sent to one client in a loop turn before letting others run. */
#define TURN_BUDGET	(1024 * 1024)

struct lnt_reply_s {
	unsigned	 magic;
	lnt_reply_t	*next;		/* free list link */
	int		 status;
	lnt_buf_t	*head;		/* status line and header fields */
	const char	*body;		/* in-memory body still to send */
	size_t		 body_len;
	int		 fd;		/* file body, or -1 */
	off_t		 off;		/* next file byte to send */
	off_t		 left;		/* file bytes still to send */
	bool		 copy;		/* file through <buf>, not sendfile */
	lnt_buf_t	*buf;		/* copy: file bytes read, not yet sent */
	bool		 no_body;	/* no Content-Length, no body */
	bool		 overflow;	/* a header field did not fit */
	char		 page[384];	/* lintel's own small page */
};

static lnt_reply_t	*free_replies;	/* per worker */

static void	reply_event(lnt_conn_t *c);
static void	reply_timeout(lnt_conn_t *c);
static void	reply_release(lnt_conn_t *c);

static const lnt_handler_t reply_handler = {
	.name = "reply",
	.event = reply_event,
	.timeout = reply_timeout,
	.release = reply_release,
};

static const char *const var_names[] = {
	[LNT_VAR_SCHEME] = "scheme",
	[LNT_VAR_HOST] = "host",
	[LNT_VAR_REQUEST_URI] = "request_uri",
};

/* The variable named at <p>; <*len> receives the name's length. */
int
lnt_reply_var(const char *p, size_t *len)
{
	size_t n = 0, i;

	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	*len = n;
	for (i = 0; i < LNT_NELEM(var_names); i++)
		if (strlen(var_names[i]) == n && memcmp(p, var_names[i],
		    n) == 0)
			return (int)i;
	return -1;
}

/* Append <len> bytes at <p> to the head of <r>, keeping the reserve. */
static void
head_put(lnt_reply_t *r, const char *p, size_t len)
{
	if (r->overflow || lnt_buf_room(r->head) < len + HEAD_RESERVE) {
		r->overflow = true;
		return;
	}
	memcpy(r->head->last, p, len);
	r->head->last += len;
}

/*
 * Begin a reply of <status> on <c> with <room> bytes for header fields
 * beyond the usual; NULL when out of memory.
 */
lnt_reply_t *
lnt_reply_start(lnt_conn_t *c, int status, size_t room)
{
	lnt_reply_t *r = free_replies;
	const char *hsts;

	if (r != NULL)
		free_replies = r->next;
	else if ((r = malloc(sizeof(*r))) == NULL)
		return NULL;
	r->magic = LNT_REPLY_MAGIC;
	r->next = NULL;
	r->status = status;
	r->body = NULL;
	r->body_len = 0;
	r->fd = -1;
	r->off = r->left = 0;
	r->copy = false;
	r->buf = NULL;
	r->no_body = status == 204 || status == 304;
	r->overflow = false;
	if ((r->head = lnt_buf_get(room + HEAD_ROOM)) == NULL) {
		r->next = free_replies;
		free_replies = r;
		return NULL;
	}
	lnt_reply_header(r, "HTTP/1.1 %d %s", status, lnt_http_reason(status));
	lnt_reply_header(r, "Server: lintel");
	lnt_reply_header(r, "Date: %s", lnt_http_date_now());
	if ((hsts = lnt_tls_hsts(c)) != NULL)
		lnt_reply_header(r, "Strict-Transport-Security: %s", hsts);
	return r;
}

/* Append the header line <fmt...> and CRLF to <r>'s head. */
int
lnt_reply_header(lnt_reply_t *r, const char *fmt, ...)
{
	size_t room = lnt_buf_room(r->head);
	va_list ap;
	int n;

	if (r->overflow || room < HEAD_RESERVE + 2) {
		r->overflow = true;
		return -1;
	}
	va_start(ap, fmt);
	n = vsnprintf(r->head->last, room - HEAD_RESERVE, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 2 >= room - HEAD_RESERVE) {
		r->overflow = true;
		return -1;
	}
	r->head->last += n;
	head_put(r, "\r\n", 2);
	return 0;
}

/* An in-memory body of <len> bytes at <p>, typed <type> if not NULL. */
void
lnt_reply_body(lnt_reply_t *r, const char *p, size_t len, const char *type)
{
	r->body = p;
	r->body_len = len;
	if (type != NULL)
		lnt_reply_header(r, "Content-Type: %s", type);
}

/* <len> bytes of <fd> from <off> as the body; <r> owns <fd> now. */
void
lnt_reply_file(lnt_reply_t *r, int fd, off_t off, off_t len)
{
	r->fd = fd;
	r->off = off;
	r->left = len;
}

/* No Content-Length and no body (a 304 made for a GET). */
void
lnt_reply_no_body(lnt_reply_t *r)
{
	r->no_body = true;
}

/* Put <r> back on the free list, closing its file. */
void
lnt_reply_free(lnt_reply_t *r)
{
	if (r == NULL)
		return;
	CHECK_REPLY(r);
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
	lnt_buf_put(r->head);
	lnt_buf_put(r->buf);
	r->head = r->buf = NULL;
	r->magic = 0;
	r->next = free_replies;
	free_replies = r;
}

static bool
is_head(const lnt_conn_t *c)
{
	return c->req.started && c->req.method.len == 4 &&
	    memcmp(c->req.method.p, "HEAD", 4) == 0;
}

/* The reply is written: on to the next request. */
static void
reply_done(lnt_conn_t *c)
{
	/* lnt_conn_request_done also looks at bytes that came meanwhile. */
	lnt_timer_stop(&c->timer);
	lnt_conn_request_done(c);
}

/* Send the head and the in-memory body. */
static ssize_t
write_head(lnt_conn_t *c, lnt_reply_t *r)
{
	struct iovec iov[2];
	struct msghdr msg;
	size_t hlen = lnt_buf_len(r->head), k;
	ssize_t n;
	int cnt = 0;

	if (hlen > 0)
		iov[cnt++] = (struct iovec){ r->head->pos, hlen };
	if (r->body_len > 0)
		iov[cnt++] = (struct iovec){ (void *)(uintptr_t)r->body,
		    r->body_len };
	if (c->io->zero_copy && r->left > 0 && !r->copy) {
		/* The plain socket: head and first file bytes share a
		 * segment, as MSG_MORE holds the head for sendfile. */
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)cnt;
		n = sendmsg(c->ev.fd, &msg, MSG_NOSIGNAL | MSG_MORE);
	} else {
		n = lnt_io_sendv(c->io, c->ev.fd, c->io_ctx, iov, cnt);
	}
	if (n <= 0)
		return n;
	k = (size_t)n < hlen ? (size_t)n : hlen;
	r->head->pos += k;
	k = (size_t)n - k;
	r->body += k;
	r->body_len -= k;
	c->body_sent += (int64_t)k;
	return n;
}

/*
 * Send file bytes through a buffer read with pread(): for transports that
 * must see the bytes and files that sendfile() refuses.  Returns as a
 * send does; 0 when the file ended early.
 */
static ssize_t
send_copy(lnt_conn_t *c, lnt_reply_t *r)
{
	ssize_t n;
	size_t want;

	if (r->buf == NULL && (r->buf = lnt_buf_get(0)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (lnt_buf_len(r->buf) == 0) {
		r->buf->pos = r->buf->last = r->buf->start;
		want = lnt_buf_room(r->buf);
		if ((off_t)want > r->left)
			want = (size_t)r->left;
		do
			n = pread(r->fd, r->buf->last, want, r->off);
		while (n == -1 && errno == EINTR);
		if (n <= 0)
			return n;
		r->buf->last += n;
		r->off += n;
	}
	n = lnt_io_send(c->io, c->ev.fd, c->io_ctx, r->buf->pos,
	    lnt_buf_len(r->buf));
	if (n > 0) {
		r->buf->pos += n;
		r->left -= n;
		c->body_sent += n;
	}
	return n;
}

/* sendfile() from the file; falls back to copying if the file says no. */
static ssize_t
send_file(lnt_conn_t *c, lnt_reply_t *r)
{
	ssize_t n;

	if (r->copy || !c->io->zero_copy)
		return send_copy(c, r);
	n = sendfile(c->ev.fd, r->fd, &r->off, r->left > SEND_CHUNK ?
	    SEND_CHUNK : (size_t)r->left);
	if (n == -1 && (errno == EINVAL || errno == ENOSYS)) {
		/* A file system without splice support. */
		r->copy = true;
		return send_copy(c, r);
	}
	if (n > 0) {
		r->left -= n;
		c->body_sent += n;
	}
	return n;
}

/* send_timeout counts from the last byte the client took. */
static void
send_timer(lnt_conn_t *c, bool progress)
{
	if (progress)
		lnt_timer_stop(&c->timer);
	if (!c->writable && !lnt_timer_armed(&c->timer))
		lnt_timer_in(&c->timer, c->limits->send_timeout);
}

/*
 * The next piece of the body for the body filters, at <*p>, <*len> bytes
 * (0 at the end): from memory, or read from the file into r->buf, as the
 * filters must see the bytes.  -1 on a read error or a file that shrank,
 * logged.
 */
static int
next_piece(lnt_conn_t *c, lnt_reply_t *r, const char **p, size_t *len)
{
	ssize_t n;
	size_t want;

	*len = 0;
	if (r->body_len > 0) {
		*p = r->body;
		*len = r->body_len < LNT_BUF_SIZE ? r->body_len : LNT_BUF_SIZE;
		r->body += *len;
		r->body_len -= *len;
		return 0;
	}
	if (r->left == 0)
		return 0;
	if (r->buf == NULL && (r->buf = lnt_buf_get(0)) == NULL) {
		lnt_conn_log(c, LNT_LOG_ERR, "out of memory reading a file");
		return -1;
	}
	want = lnt_buf_capacity(r->buf);
	if ((off_t)want > r->left)
		want = (size_t)r->left;
	do
		n = pread(r->fd, r->buf->start, want, r->off);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		lnt_conn_log(c, LNT_LOG_ERR, "%s", n == 0 ? "file shrank "
		    "while being sent" : strerror(errno));
		return -1;
	}
	r->off += n;
	r->left -= n;
	*p = r->buf->start;
	*len = (size_t)n;
	return 0;
}

/*
 * A body that modules filter: feed it a piece at a time while the output
 * waiting for the client is small, and write the head with the first
 * output.  No sendfile: the filters see every byte.
 */
static void
pump_filtered(lnt_conn_t *c, lnt_reply_t *r)
{
	size_t sent = 0, fed = 0;
	const char *p = NULL;
	size_t len;

	for (;;) {
		if (!lnt_bf_fed_last(c) && !lnt_bf_full(c)) {
			if (next_piece(c, r, &p, &len) == -1 ||
			    lnt_bf_feed(c, len > 0 ? p : NULL, len,
			    len == 0) == -1) {
				lnt_conn_close(c);
				return;
			}
			fed += len;
		}
		if (lnt_bf_send(c, r->head, &sent) == -1)
			return;
		if (lnt_bf_fed_last(c) && lnt_buf_len(r->head) == 0 &&
		    !lnt_bf_pending(c)) {
			reply_done(c);
			return;
		}
		/* Blocked: an EAGAIN left output, EPOLLOUT resumes. */
		if (!c->writable)
			break;
		/* A filter that holds everything sends nothing for a
		 * while: what it was fed counts too. */
		if (sent >= TURN_BUDGET || fed >= TURN_BUDGET) {
			lnt_event_post(&c->ev);
			break;
		}
	}
	send_timer(c, sent > 0);
}

/*
 * Write what the client socket takes, at most TURN_BUDGET bytes a turn;
 * finish the request once all is written.
 */
static void
pump(lnt_conn_t *c)
{
	lnt_reply_t *r = c->handler_data;
	size_t sent = 0;
	bool progress = false;
	ssize_t n;

	CHECK_REPLY(r);
	/* The one test unfiltered replies pay. */
	if (c->bf != NULL) {
		pump_filtered(c, r);
		return;
	}
	for (;;) {
		if (lnt_buf_len(r->head) == 0 && r->body_len == 0 &&
		    r->left == 0) {
			reply_done(c);
			return;
		}
		if (!c->writable)
			break;
		if (lnt_buf_len(r->head) > 0 || r->body_len > 0) {
			n = write_head(c, r);
		} else if ((n = send_file(c, r)) == 0) {
			/* Content-Length was promised: cut it. */
			lnt_conn_log(c, LNT_LOG_ERR, "file shrank while "
			    "being sent");
			lnt_conn_close(c);
			return;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->writable = false;
			break;
		}
		if (n == -1) {
			lnt_conn_log(c, LNT_LOG_INFO, "writing response: %s",
			    strerror(errno));
			lnt_conn_close(c);
			return;
		}
		progress = true;
		sent += (size_t)n;
		if (sent >= TURN_BUDGET) {
			/* Still writable: come back after the others. */
			lnt_event_post(&c->ev);
			break;
		}
	}
	send_timer(c, progress);
}

static void
reply_event(lnt_conn_t *c)
{
	pump(c);
}

static void
reply_timeout(lnt_conn_t *c)
{
	lnt_conn_log(c, LNT_LOG_INFO, "send_timeout expired");
	lnt_conn_close(c);
}

static void
reply_release(lnt_conn_t *c)
{
	lnt_reply_free(c->handler_data);
}

/* Finish <r>'s head and hand <c> to the reply handler. */
void
lnt_reply_send(lnt_conn_t *c, lnt_reply_t *r)
{
	int64_t len = r->fd != -1 ? (int64_t)r->left : (int64_t)r->body_len;
	bool filtered;

	/* lnt_req_redirect() from HEADER_FILTER or a body filter: too
	 * late. */
	if (lnt_bf_answer_too_late(c)) {
		lnt_reply_free(r);
		return;
	}
	/* Modules see the status and may add fields before the head ends,
	 * or ask to filter the body. */
	c->status = r->status;
	lnt_bf_begin_head(c, !r->no_body && !is_head(c));
	lnt_phase_run(c, LNT_PHASE_HEADER_FILTER);
	filtered = lnt_bf_end_head(c);
	if (c->resp_extra != NULL && lnt_buf_len(c->resp_extra) > 2)
		lnt_reply_header(r, "%.*s", (int)lnt_buf_len(c->resp_extra) - 2,
		    c->resp_extra->pos);
	if (r->overflow) {
		lnt_reply_free(r);
		lnt_conn_respond(c, 500, "response head too large");
		return;
	}
	/* head_put() kept room for these three lines. */
	r->overflow = false;
	if (filtered && lnt_bf_chunked(c))
		r->head->last += sprintf(r->head->last,
		    "Transfer-Encoding: chunked\r\n");
	else if (!r->no_body && !filtered)
		r->head->last += sprintf(r->head->last,
		    "Content-Length: %lld\r\n", (long long)len);
	if (!c->keepalive || lnt_conn_draining)
		r->head->last += sprintf(r->head->last,
		    "Connection: close\r\n");
	else if (c->req.version == 10)
		r->head->last += sprintf(r->head->last,
		    "Connection: keep-alive\r\n");
	r->head->last += sprintf(r->head->last, "\r\n");
	if (r->no_body || is_head(c)) {
		r->body_len = 0;
		r->left = 0;
	}
	c->status = r->status;
	c->body_sent = 0;
	lnt_timer_stop(&c->timer);
	lnt_conn_set_handler(c, &reply_handler, r);
	/* Try at once: a fresh response usually fits the socket buffer. */
	c->writable = true;
	pump(c);
}

/* lintel's small HTML page for <r>'s status as its body. */
void
lnt_reply_page(lnt_reply_t *r)
{
	const char *reason = lnt_http_reason(r->status);
	int status = r->status, n;

	n = snprintf(r->page, sizeof(r->page), "<html>\r\n<head><title>%d %s"
	    "</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
	    "<hr><center>lintel</center>\r\n</body>\r\n</html>\r\n",
	    status, reason, status, reason);
	lnt_reply_body(r, r->page, n > 0 ? (size_t)n : 0, "text/html");
}

/* The site whose error pages apply to <c>. */
static const lnt_site_t *
error_site(const lnt_conn_t *c)
{
	if (c->site != NULL)
		return c->site;
	return c->listen != NULL ? c->listen->default_site : NULL;
}

static const lnt_error_page_t *
find_error_page(const lnt_site_t *site, int status)
{
	size_t i, j;

	if (site == NULL)
		return NULL;
	for (i = 0; i < site->nerror_pages; i++)
		for (j = 0; j < site->error_pages[i].nstatuses; j++)
			if (site->error_pages[i].statuses[j] == status)
				return &site->error_pages[i];
	return NULL;
}

/* The media type of <file> for <site>: its mime_types, the top's, ours. */
const char *
lnt_reply_type(const lnt_site_t *site, const char *file)
{
	const lnt_mime_t *m = site != NULL ? site->mime : NULL;

	if (m == NULL && lnt_worker_conf != NULL)
		m = lnt_worker_conf->mime;
	return lnt_mime_type(m, file, strlen(file));
}

/*
 * Send the error page for <status> of <c>'s site, if there is one; or
 * lintel's own page when a module may want to filter its body (the
 * shortcut of lnt_conn_respond() writes it without a reply).
 */
bool
lnt_reply_error_page(lnt_conn_t *c, int status)
{
	static bool busy;
	const lnt_site_t *site = error_site(c);
	const lnt_error_page_t *page = find_error_page(site, status);
	lnt_reply_t *r;

	/* A page whose head cannot be made answers 500 from inside: that
	 * one takes the shortcut, or it would recurse. */
	if (busy || (page == NULL &&
	    !lnt_phase_hooked(LNT_PHASE_BODY_FILTER)) ||
	    (r = lnt_reply_start(c, status, 0)) == NULL)
		return false;
	if (page != NULL)
		lnt_reply_body(r, page->body, page->len,
		    lnt_reply_type(site, page->file));
	else
		lnt_reply_page(r);
	busy = true;
	lnt_reply_send(c, r);
	busy = false;
	return true;
}

/* An error response with the extra header lines <extra>. */
void
lnt_reply_error(lnt_conn_t *c, int status, const char *extra,
    const char *why)
{
	const lnt_site_t *site;
	const lnt_error_page_t *page;
	lnt_reply_t *r;

	if (extra == NULL) {
		lnt_conn_respond(c, status, why);
		return;
	}
	if (why != NULL)
		lnt_conn_log(c, status >= 500 ? LNT_LOG_ERR : LNT_LOG_INFO,
		    "%d: %s", status, why);
	if ((r = lnt_reply_start(c, status, strlen(extra))) == NULL) {
		/* Without the extra fields, but an answer all the same. */
		lnt_conn_respond(c, status, NULL);
		return;
	}
	head_put(r, extra, strlen(extra));
	site = error_site(c);
	if ((page = find_error_page(site, status)) != NULL)
		lnt_reply_body(r, page->body, page->len,
		    lnt_reply_type(site, page->file));
	else
		lnt_reply_page(r);
	lnt_reply_send(c, r);
}

/* The request target as sent, path and query, for $request_uri. */
static lnt_str_t
request_uri(const lnt_conn_t *c)
{
	const lnt_http_msg_t *m = &c->req;

	/* An absolute-form target: from its path on. */
	if (m->path.p >= m->target.p &&
	    m->path.p < m->target.p + m->target.len)
		return (lnt_str_t){ m->path.p, (size_t)(m->target.p +
		    m->target.len - m->path.p) };
	/* "http://host" alone: the path is "/". */
	return LNT_STR("/");
}

static lnt_str_t
host_of(const lnt_conn_t *c)
{
	const char *name;

	if (c->req.host.len > 0)
		return c->req.host;
	name = c->site->nnames > 0 ? c->site->names[0] : c->listen->text;
	return (lnt_str_t){ name, strlen(name) };
}

/* The value of variable <var> for <c>. */
static lnt_str_t
var_value(const lnt_conn_t *c, int var)
{
	switch (var) {
	case LNT_VAR_SCHEME:
		return lnt_conn_scheme(c);
	case LNT_VAR_HOST:
		return host_of(c);
	case LNT_VAR_REQUEST_URI:
		return request_uri(c);
	default:
		return (lnt_str_t){ "", 0 };
	}
}

/*
 * Expand <loc> for <c> into <out> (NULL: just measure); returns the
 * length.  Unknown names were refused at load time; a '$' not followed by
 * a name is kept.
 */
static size_t
expand_location(const lnt_conn_t *c, const char *loc, char *out)
{
	size_t n = 0, len;
	lnt_str_t v;
	int var;

	while (*loc != '\0') {
		if (*loc == '$' && (var = lnt_reply_var(loc + 1, &len)) >= 0) {
			v = var_value(c, var);
			if (out != NULL)
				memcpy(out + n, v.p, v.len);
			n += v.len;
			loc += 1 + len;
			continue;
		}
		if (out != NULL)
			out[n] = *loc;
		n++;
		loc++;
	}
	return n;
}

/* Answer <c> from its route's return group. */
void
lnt_reply_return(lnt_conn_t *c)
{
	const lnt_return_t *ret = &c->route->ret;
	lnt_reply_t *r;
	size_t len = 0;

	if (ret->status >= 400 && ret->body == NULL) {
		/* The site's error page, or lintel's. */
		lnt_conn_respond(c, ret->status, NULL);
		return;
	}
	if (ret->location != NULL)
		len = expand_location(c, ret->location, NULL);
	if ((r = lnt_reply_start(c, ret->status, len + 16)) == NULL) {
		lnt_conn_respond(c, 500, "out of memory");
		return;
	}
	if (ret->location != NULL) {
		head_put(r, "Location: ", 10);
		if (lnt_buf_room(r->head) < len + 2 + HEAD_RESERVE)
			r->overflow = true;
		if (!r->overflow)
			r->head->last += expand_location(c, ret->location,
			    r->head->last);
		head_put(r, "\r\n", 2);
	}
	if (ret->body != NULL)
		lnt_reply_body(r, ret->body, strlen(ret->body), "text/plain");
	else if (ret->status >= 300 && !r->no_body)
		lnt_reply_page(r);
	lnt_reply_send(c, r);
}
