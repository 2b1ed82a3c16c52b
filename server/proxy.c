/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The proxy: connect to an upstream server (the next one on a connect
 * failure: nothing was sent, so any method may be retried), send the
 * rewritten head and stream the body, read the response head, rewrite it
 * and stream the body back.  Each direction holds at most one buffer: when
 * the receiver is slow the sender is not read (back-pressure), so memory
 * per connection stays bounded whatever the peers do.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_value.h"
#include "conn.h"
#include "http_status.h"
#include "log.h"
#include "proxy.h"
#include "worker.h"

static void	upstream_event(lnt_event_t *ev, uint32_t events);
static void	upstream_timeout(lnt_timer_t *t);
static void	connect_next(lnt_conn_t *c);
static void	pump(lnt_conn_t *c);

static const char last_chunk[] = "0\r\n\r\n";

/*
 * Smooth weighted round-robin over the servers not yet tried for this
 * request; backups only once every primary has failed.
 */
static lnt_server_t *
pick_server(lnt_up_t *u, uint64_t *tried)
{
	lnt_upstream_t *up = u->upstream;
	lnt_server_t *best = NULL;
	int total = 0;

	for (int backup = 0; backup <= 1 && best == NULL; backup++) {
		for (size_t i = 0; i < up->nservers; i++) {
			lnt_server_t *s = &up->servers[i];

			if (s->backup != backup ||
			    (i < 64 && (*tried & ((uint64_t)1 << i))))
				continue;
			s->rr_current += s->weight;
			total += s->weight;
			if (best == NULL || s->rr_current > best->rr_current)
				best = s;
		}
	}
	if (best != NULL) {
		size_t i = (size_t)(best - up->servers);

		best->rr_current -= total;
		if (i < 64)
			*tried |= (uint64_t)1 << i;
	}
	return best;
}

/* The request head as sent upstream: hop-by-hop fields removed. */
static int
build_request_head(lnt_conn_t *c)
{
	lnt_http_msg_t *r = &c->req;
	lnt_up_t *u = &c->up;
	bool absolute = r->target.p[0] != '/' && r->target.p[0] != '*';
	bool host_sent = false;
	lnt_buf_t *b = lnt_buf_get(r->head_len + 1024);
	int n;

	if (b == NULL)
		return -1;
	u->head = b;
#define PUT(...) do {							\
	n = snprintf(b->last, lnt_buf_room(b), __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= lnt_buf_room(b))			\
		return -1;						\
	b->last += n;							\
} while (0)
	if (absolute)
		PUT("%.*s %.*s%s%.*s HTTP/1.1\r\n", (int)r->method.len,
		    r->method.p, (int)r->path.len, r->path.p,
		    r->query.len ? "?" : "", (int)r->query.len, r->query.p);
	else
		PUT("%.*s %.*s HTTP/1.1\r\n", (int)r->method.len, r->method.p,
		    (int)r->target.len, r->target.p);
	for (size_t i = 0; i < r->nheaders; i++) {
		lnt_http_header_t *h = &r->headers[i];
		bool is_host = h->name.len == 4 &&
		    strncasecmp(h->name.p, "host", 4) == 0;

		if (h->hop || (is_host && absolute))
			continue;
		host_sent |= is_host;
		PUT("%.*s: %.*s\r\n", (int)h->name.len, h->name.p,
		    (int)h->value.len, h->value.p);
	}
	if (!host_sent) {
		if (r->host.len > 0)
			PUT("Host: %.*s\r\n", (int)r->host.len, r->host.p);
		else
			PUT("Host: %s\r\n", u->server->address);
	}
	if (r->chunked)
		PUT("Transfer-Encoding: chunked\r\n");
	/* One upstream connection per request until pooling arrives. */
	PUT("Connection: close\r\n\r\n");
#undef PUT
	return 0;
}

void
lnt_proxy_start(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;

	/* A fresh upstream side per request; the client timer is separate. */
	memset(u, 0, sizeof(*u));
	u->ev.fd = -1;
	lnt_timer_init(&u->timer, upstream_timeout, c);
	u->upstream = c->route->upstream;
	u->start = lnt_loop.now;
	u->req_body = lnt_http_request_body(&c->req);
	u->req_left = c->req.content_length;
	u->req_done = u->req_body == LNT_BODY_NONE;
	u->req_ready = 0;
	lnt_chunked_init(&u->req_chunk);
	lnt_http_msg_init(&u->resp, true);
	connect_next(c);
}

/* Fail the request with <status>: lintel's own answer, or a close when
 * part of the upstream's answer has already gone out. */
static void
fail(lnt_conn_t *c, int status, const char *why)
{
	if (c->up.resp_started) {
		lnt_conn_log(c, LNT_LOG_ERR, "%s; response cut short", why);
		lnt_conn_close(c);
		return;
	}
	/* Unread request body bytes make the connection unusable. */
	if (!c->up.req_done)
		c->keepalive = false;
	lnt_conn_respond(c, status, why);
}

static void
close_upstream(lnt_up_t *u)
{
	lnt_timer_stop(&u->timer);
	lnt_event_close(&u->ev);
	u->connected = false;
}

void
lnt_proxy_release(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;

	close_upstream(u);
	lnt_buf_put(u->head);
	lnt_buf_put(u->in);
	lnt_buf_put(u->chead);
	u->head = u->in = u->chead = NULL;
}

static void
connect_failed(lnt_conn_t *c, int err, const char *what)
{
	lnt_conn_log(c, LNT_LOG_ERR, "%s %s: %s", what, c->up.addr,
	    err ? strerror(err) : "timed out");
	close_upstream(&c->up);
	lnt_buf_put(c->up.head);
	c->up.head = NULL;
	connect_next(c);
}

static void
connect_next(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	uint64_t tried = u->tries;
	int fd, one = 1;

	u->server = pick_server(u, &tried);
	u->tries = (size_t)tried;
	if (u->server == NULL) {
		fail(c, 502, "no server of the upstream could be reached");
		return;
	}
	lnt_addr_format((struct sockaddr *)&u->server->addr, u->addr,
	    sizeof(u->addr));
	if (build_request_head(c) == -1) {
		fail(c, 500, "cannot build the upstream request head");
		return;
	}
	fd = socket(u->server->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		lnt_conn_log(c, LNT_LOG_ERR, "socket(): %s", strerror(errno));
		fail(c, 502, "cannot create a socket");
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	u->ev = (lnt_event_t){ .fd = fd, .handler = upstream_event,
	    .data = c };
	u->connected = u->readable = u->writable = false;
	if (connect(fd, (struct sockaddr *)&u->server->addr,
	    u->server->addrlen) == -1 && errno != EINPROGRESS) {
		connect_failed(c, errno, "connect() to");
		return;
	}
	if (lnt_event_add(&u->ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP |
	    EPOLLET) == -1) {
		connect_failed(c, errno, "epoll_ctl() for");
		return;
	}
	lnt_timer_in(&u->timer, u->upstream->connect_timeout);
}

static void
upstream_event(lnt_event_t *ev, uint32_t events)
{
	lnt_conn_t *c = ev->data;
	lnt_up_t *u = &c->up;

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		u->readable = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		u->writable = true;
	if (!u->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!u->writable && !(events & (EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(ev->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			connect_failed(c, err, "connect() to");
			return;
		}
		u->connected = true;
		u->progress = true;
		lnt_timer_stop(&u->timer);
	}
	pump(c);
}

/* Find the next run of request body bytes that may be sent. */
static int
parse_request_body(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	size_t avail = lnt_buf_len(c->in), n;
	const char *why;

	if (u->req_body == LNT_BODY_LENGTH) {
		n = (int64_t)avail < u->req_left ? avail : (size_t)u->req_left;
		u->req_left -= (int64_t)n;
		u->req_ready = n;
		u->req_done = u->req_left == 0;
		return 0;
	}
	while (u->req_ready < avail && !u->req_done) {
		switch (lnt_chunked_step(&u->req_chunk, c->in->pos +
		    u->req_ready, avail - u->req_ready, &n, &why)) {
		case LNT_CHUNK_BAD:
			c->keepalive = false;
			fail(c, 400, why);
			return -1;
		case LNT_CHUNK_DONE:
			u->req_done = true;
			break;
		default:
			break;
		}
		u->req_ready += n;
		if (c->limits->max_body_size > 0 &&
		    u->req_chunk.total > c->limits->max_body_size) {
			c->keepalive = false;
			fail(c, 413, "chunked request body larger than "
			    "max_body_size");
			return -1;
		}
	}
	return 0;
}

/* Read more request body from the client; 0 on progress or would-block. */
static int
read_client(lnt_conn_t *c)
{
	ssize_t n;

	if (lnt_buf_len(c->in) == 0)
		c->in->pos = c->in->last = c->in->start;
	else
		lnt_buf_compact(c->in);
	n = read(c->ev.fd, c->in->last, lnt_buf_room(c->in));
	if (n > 0) {
		c->in->last += n;
		c->bytes_in += n;
		c->progress = true;
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		if (errno == EAGAIN)
			c->readable = false;
		return 0;
	}
	c->eof = true;
	c->keepalive = false;
	lnt_conn_log(c, LNT_LOG_INFO, "client closed the connection "
	    "before sending the whole request body");
	lnt_conn_close(c);
	return -1;
}

static int
send_upstream(lnt_conn_t *c, const char *p, size_t len, size_t *sent)
{
	ssize_t n = send(c->up.ev.fd, p, len, MSG_NOSIGNAL);

	*sent = 0;
	if (n >= 0) {
		*sent = (size_t)n;
		c->up.progress = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR) {
		if (errno == EAGAIN)
			c->up.writable = false;
		return 0;
	}
	if (c->up.resp_started) {
		/* The upstream answered early and stopped reading: fine. */
		c->up.req_done = true;
		c->up.req_ready = 0;
		c->keepalive = false;
		return 0;
	}
	lnt_conn_log(c, LNT_LOG_ERR, "sending to upstream: %s",
	    strerror(errno));
	fail(c, 502, "upstream closed the connection while the request was "
	    "sent");
	return -1;
}

/* Send the head and as much body as the sockets allow. */
static int
send_request(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	size_t sent;

	while (u->writable && u->ev.fd != -1) {
		if (lnt_buf_len(u->head) > 0) {
			if (send_upstream(c, u->head->pos, lnt_buf_len(u->head),
			    &sent) == -1)
				return -1;
			u->head->pos += sent;
			continue;
		}
		if (u->req_ready > 0) {
			if (send_upstream(c, c->in->pos, u->req_ready,
			    &sent) == -1)
				return -1;
			c->in->pos += sent;
			u->req_ready -= sent;
			continue;
		}
		if (u->req_done)
			return 0;
		if (lnt_buf_len(c->in) > 0) {
			if (parse_request_body(c) == -1)
				return -1;
			continue;
		}
		if (!c->readable)
			return 0;
		if (read_client(c) == -1)
			return -1;
		if (!c->readable)
			return 0;
	}
	return 0;
}

static bool
client_wants_keepalive(lnt_conn_t *c)
{
	return c->keepalive && !lnt_conn_draining && !c->eof &&
	    c->up.req_done && c->up.req_ready == 0;
}

/* Append the response head for the client to u->chead. */
static int
build_response_head(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	lnt_http_msg_t *m = &u->resp;
	lnt_buf_t *b = u->chead;
	bool head_req = c->req.method.len == 4 &&
	    memcmp(c->req.method.p, "HEAD", 4) == 0;
	bool old_client = c->req.version == 10;
	bool keep = client_wants_keepalive(c);
	int n;

	u->resp_body = lnt_http_response_body(m, head_req);
	u->resp_left = m->content_length;
	u->resp_mode = LNT_RESP_PASS;
	lnt_chunked_init(&u->resp_chunk);
#define PUT(...) do {							\
	n = snprintf(b->last, lnt_buf_room(b), __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= lnt_buf_room(b))			\
		return -1;						\
	b->last += n;							\
} while (0)
	PUT("HTTP/1.1 %d %.*s\r\n", m->status,
	    m->reason.len ? (int)m->reason.len : -1,
	    m->reason.len ? m->reason.p : lnt_http_reason(m->status));
	for (size_t i = 0; i < m->nheaders; i++) {
		lnt_http_header_t *h = &m->headers[i];

		if (!h->hop)
			PUT("%.*s: %.*s\r\n", (int)h->name.len, h->name.p,
			    (int)h->value.len, h->value.p);
	}
	if (u->resp_body == LNT_BODY_CHUNKED && old_client) {
		u->resp_mode = LNT_RESP_DECHUNK;
		keep = false;
	} else if (u->resp_body == LNT_BODY_CHUNKED) {
		PUT("Transfer-Encoding: chunked\r\n");
	} else if (u->resp_body == LNT_BODY_CLOSE && old_client) {
		keep = false;
	} else if (u->resp_body == LNT_BODY_CLOSE) {
		/* Re-chunk so a 1.1 client can keep its connection. */
		u->resp_mode = LNT_RESP_RECHUNK;
		PUT("Transfer-Encoding: chunked\r\n");
	}
	if (!keep)
		PUT("Connection: close\r\n");
	else if (old_client)
		PUT("Connection: keep-alive\r\n");
	PUT("\r\n");
#undef PUT
	c->keepalive = keep;
	return 0;
}

static bool
output_pending(const lnt_up_t *u)
{
	return (u->chead != NULL && lnt_buf_len(u->chead) > 0) ||
	    u->pfx_len > 0 || u->resp_ready > 0 || u->sfx_len > 0;
}

/* writev() the pending head, chunk prefix, data and suffix. */
static int
write_client(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;

	while (output_pending(u)) {
		struct iovec iov[4];
		int cnt = 0;
		ssize_t n;
		size_t left;

		if (!c->writable)
			return 0;
		if (u->chead != NULL && lnt_buf_len(u->chead) > 0)
			iov[cnt++] = (struct iovec){ u->chead->pos,
			    lnt_buf_len(u->chead) };
		if (u->pfx_len > 0)
			iov[cnt++] = (struct iovec){ u->pfx + strlen(u->pfx) -
			    u->pfx_len, u->pfx_len };
		if (u->resp_ready > 0)
			iov[cnt++] = (struct iovec){ u->in->pos,
			    u->resp_ready };
		if (u->sfx_len > 0)
			iov[cnt++] = (struct iovec){ (void *)(uintptr_t)u->sfx,
			    u->sfx_len };
		n = writev(c->ev.fd, iov, cnt);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->writable = false;
			return 0;
		}
		if (n == -1) {
			lnt_conn_log(c, LNT_LOG_INFO, "writing to client: %s",
			    strerror(errno));
			lnt_conn_close(c);
			return -1;
		}
		c->progress = true;
		left = (size_t)n;
		if (u->chead != NULL && lnt_buf_len(u->chead) > 0) {
			size_t k = left < lnt_buf_len(u->chead) ? left :
			    lnt_buf_len(u->chead);

			u->chead->pos += k;
			left -= k;
		}
		if (u->pfx_len > 0) {
			size_t k = left < u->pfx_len ? left : u->pfx_len;

			u->pfx_len -= k;
			left -= k;
		}
		if (u->resp_ready > 0) {
			size_t k = left < u->resp_ready ? left : u->resp_ready;

			u->in->pos += k;
			u->resp_ready -= k;
			c->body_sent += (int64_t)k;
			left -= k;
		}
		if (u->sfx_len > 0) {
			size_t k = left < u->sfx_len ? left : u->sfx_len;

			u->sfx += k;
			u->sfx_len -= k;
		}
	}
	return 0;
}

/* Turn the bytes at u->in->pos into the next thing to send. */
static int
next_segment(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	size_t avail = lnt_buf_len(u->in), n;
	const char *why;

	switch (u->resp_body) {
	case LNT_BODY_LENGTH:
		n = (int64_t)avail < u->resp_left ? avail :
		    (size_t)u->resp_left;
		u->resp_left -= (int64_t)n;
		u->resp_ready = n;
		u->resp_done = u->resp_left == 0;
		return 0;
	case LNT_BODY_CHUNKED:
		while (u->resp_ready < avail && !u->resp_done) {
			lnt_chunk_rc_t rc = lnt_chunked_step(&u->resp_chunk,
			    u->in->pos + u->resp_ready, avail - u->resp_ready,
			    &n, &why);

			if (rc == LNT_CHUNK_BAD) {
				fail(c, 502, why);
				return -1;
			}
			if (rc == LNT_CHUNK_DONE)
				u->resp_done = true;
			if (u->resp_mode == LNT_RESP_PASS) {
				u->resp_ready += n;
			} else if (rc == LNT_CHUNK_DATA) {
				u->resp_ready = n;	/* data only */
				return 0;
			} else if (u->resp_ready == 0) {
				u->in->pos += n;	/* drop framing */
				avail -= n;
			}
		}
		return 0;
	case LNT_BODY_CLOSE:
		u->resp_ready = avail;
		if (u->resp_mode == LNT_RESP_RECHUNK) {
			snprintf(u->pfx, sizeof(u->pfx), "%zx\r\n", avail);
			u->pfx_len = strlen(u->pfx);
			u->sfx = "\r\n";
			u->sfx_len = 2;
		}
		return 0;
	default:
		u->in->pos = u->in->last;
		u->resp_done = true;
		return 0;
	}
}

/* Read from the upstream into u->in; 1 on bytes, 0 would-block, -1 EOF
 * (<*err> set on an error, 0 on an orderly close). */
static int
read_upstream(lnt_conn_t *c, int *err)
{
	lnt_up_t *u = &c->up;
	ssize_t n;

	if (u->in == NULL && (u->in = lnt_buf_get(0)) == NULL) {
		*err = ENOMEM;
		return -1;
	}
	if (lnt_buf_len(u->in) == 0 && u->resp_started)
		u->in->pos = u->in->last = u->in->start;
	if (lnt_buf_room(u->in) == 0) {
		*err = 0;
		return 0;
	}
	n = recv(u->ev.fd, u->in->last, lnt_buf_room(u->in), 0);
	if (n > 0) {
		u->in->last += n;
		u->progress = true;
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		if (errno == EAGAIN)
			u->readable = false;
		return 0;
	}
	*err = n == 0 ? 0 : errno;
	return -1;
}

/* Handle a complete head in u->in: 1xx is passed on, the final one
 * starts the body.  Returns -1 if the request ended. */
static int
take_response_head(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	lnt_http_msg_t *m = &u->resp;

	if (u->chead == NULL &&
	    (u->chead = lnt_buf_get(m->head_len + 1024)) == NULL) {
		fail(c, 500, "out of memory");
		return -1;
	}
	if (m->status == 101) {
		fail(c, 502, "upstream switched protocols unasked");
		return -1;
	}
	if (m->status < 200) {
		/* Interim (100 Continue, 103): only a 1.1 client may get it. */
		if (c->req.version == 11 && lnt_buf_room(u->chead) >
		    m->head_len) {
			memcpy(u->chead->last, u->in->pos, m->head_len);
			u->chead->last += m->head_len;
		}
		u->in->pos += m->head_len;
		lnt_http_msg_init(m, true);
		return 0;
	}
	if (build_response_head(c) == -1) {
		fail(c, 502, "upstream response head too large");
		return -1;
	}
	u->in->pos += m->head_len;
	u->resp_started = true;
	c->status = m->status;
	if (u->resp_body == LNT_BODY_NONE)
		u->resp_done = true;
	return 0;
}

static int
read_response_head(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	int status, err;
	const char *why;

	while (!u->resp_started) {
		if (u->in != NULL && u->resp.scan < lnt_buf_len(u->in)) {
			lnt_http_rc_t rc = lnt_http_parse_head(&u->resp,
			    u->in->pos, lnt_buf_len(u->in), LNT_BUF_SIZE,
			    &status, &why);

			if (rc == LNT_HTTP_BAD) {
				fail(c, 502, why);
				return -1;
			}
			if (rc == LNT_HTTP_DONE) {
				if (take_response_head(c) == -1)
					return -1;
				continue;
			}
		}
		if (!u->readable)
			return 0;
		switch (read_upstream(c, &err)) {
		case 1:
			continue;
		case 0:
			if (u->in != NULL && lnt_buf_room(u->in) == 0) {
				fail(c, 502, "upstream response head too large");
				return -1;
			}
			return 0;
		default:
			lnt_conn_log(c, LNT_LOG_ERR, "reading the response "
			    "head: %s", err ? strerror(err) :
			    "upstream closed the connection");
			fail(c, 502, "upstream sent no valid response head");
			return -1;
		}
	}
	return 0;
}

/* Move response body bytes to the client until blocked or done. */
static int
relay_response(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	int err;

	for (;;) {
		/* Prepare body bytes first so the head goes out with them. */
		if (!u->resp_done && lnt_buf_len(u->in) > 0 &&
		    u->resp_ready == 0 && u->pfx_len == 0 && u->sfx_len == 0) {
			if (next_segment(c) == -1)
				return -1;
			continue;
		}
		if (write_client(c) == -1)
			return -1;
		if (output_pending(u))
			return 0;
		if (u->resp_done) {
			lnt_conn_request_done(c);
			return -1;
		}
		/* What is buffered goes first: an EOF read now would look
		 * like a truncated response. */
		if (lnt_buf_len(u->in) > 0)
			continue;
		if (!u->readable)
			return 0;
		switch (read_upstream(c, &err)) {
		case 1:
			continue;
		case 0:
			return 0;
		default:
			if (err == 0 && u->resp_body == LNT_BODY_CLOSE) {
				u->resp_done = true;
				if (u->resp_mode == LNT_RESP_RECHUNK) {
					u->sfx = last_chunk;
					u->sfx_len = sizeof(last_chunk) - 1;
				}
				continue;
			}
			lnt_conn_log(c, LNT_LOG_ERR, "upstream %s before the "
			    "response was complete", err ? strerror(err) :
			    "closed the connection");
			lnt_conn_close(c);
			return -1;
		}
	}
}

static void
arm(lnt_timer_t *t, bool waiting, bool *progress, lnt_msec_t timeout)
{
	if (!waiting) {
		lnt_timer_stop(t);
	} else if (!lnt_timer_armed(t) || *progress) {
		lnt_timer_in(t, timeout);
	}
	*progress = false;
}

/* Arm the timeout of whatever the request now waits for. */
static void
update_timers(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	bool up_send = u->head != NULL && (lnt_buf_len(u->head) > 0 ||
	    u->req_ready > 0) && !u->writable;
	bool up_read = !u->resp_done && !u->readable &&
	    !output_pending(u);
	bool cl_send = output_pending(u) && !c->writable;
	bool cl_read = !u->req_done && u->req_ready == 0 &&
	    lnt_buf_len(c->in) == 0 && !c->readable;

	if (!u->connected)
		return;
	arm(&u->timer, up_send || up_read, &u->progress,
	    up_send ? u->upstream->send_timeout : u->upstream->read_timeout);
	arm(&c->timer, cl_send || cl_read, &c->progress,
	    cl_send ? c->limits->send_timeout :
	    c->limits->client_body_timeout);
}

static void
pump(lnt_conn_t *c)
{
	if (!c->up.connected)
		return;
	if (send_request(c) == -1)
		return;
	if (read_response_head(c) == -1)
		return;
	if (c->up.resp_started && relay_response(c) == -1)
		return;
	update_timers(c);
}

void
lnt_proxy_client_event(lnt_conn_t *c)
{
	pump(c);
}

static void
upstream_timeout(lnt_timer_t *t)
{
	lnt_conn_t *c = t->data;
	lnt_up_t *u = &c->up;

	if (!u->connected) {
		connect_failed(c, 0, "connect() to");
		return;
	}
	lnt_conn_log(c, LNT_LOG_ERR, "upstream timed out (%s)",
	    lnt_buf_len(u->head) > 0 || u->req_ready > 0 ? "send_timeout" :
	    "read_timeout");
	fail(c, 504, "upstream timed out");
}

void
lnt_proxy_client_timeout(lnt_conn_t *c)
{
	if (output_pending(&c->up)) {
		lnt_conn_log(c, LNT_LOG_INFO, "send_timeout expired");
		lnt_conn_close(c);
		return;
	}
	c->keepalive = false;
	fail(c, 408, "client_body_timeout expired");
}
