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

#include "body_filter.h"
#include "buf.h"
#include "conf.h"
#include "conf_value.h"
#include "conn.h"
#include "http_status.h"
#include "log.h"
#include "module.h"
#include "proxy.h"
#include "splice.h"
#include "tls.h"
#include "tunnel.h"
#include "util.h"
#include "worker.h"

static void	upstream_event(lnt_event_t *ev, uint32_t events);
static void	upstream_timeout(lnt_timer_t *t);
static void	connect_next(lnt_conn_t *c);
static void	fail(lnt_conn_t *c, int status, const char *why);
static void	pump(lnt_conn_t *c);

static const char last_chunk[] = "0\r\n\r\n";

/* The request head as sent upstream, in a buffer sized for the head and
 * what lintel adds to it. */
static int
build_request_head(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;

	if ((u->head = lnt_buf_get(c->req.head_len + 4096)) == NULL)
		return -1;
	return lnt_proxy_request_head(c, u->head);
}

void
lnt_proxy_start(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;

	/* A fresh upstream side per request; the client timer is separate.
	 * The response's header array is emptied by lnt_http_msg_init()
	 * below. */
	lnt_zero_but(u, sizeof(*u), u->resp.headers, sizeof(u->resp.headers));
	lnt_timer_init(&u->timer, upstream_timeout, c);
	u->upstream = c->route->upstream;
	u->start = lnt_loop.now;
	/* One bit per server, so that each is tried at most once. */
	u->tried_set = &u->tried;
	if (u->upstream->nservers > 64 && (u->tried_set =
	    lnt_arena_alloc(&c->arena, LNT_TRIED_WORDS(u->upstream->nservers) *
	    sizeof(uint64_t))) == NULL) {
		fail(c, 500, "out of memory for the servers tried");
		return;
	}
	u->req_body = lnt_http_request_body(&c->req);
	u->req_left = c->req.content_length;
	u->req_done = u->req_body == LNT_BODY_NONE;
	/* Upgrade needs HTTP/1.1 and "Connection: upgrade" (RFC 9110 §7.8). */
	u->upgrade = c->req.version == 11 && c->req.conn_upgrade &&
	    lnt_http_header(&c->req, "upgrade", 7) != NULL;
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
	if (u->pc != NULL)
		lnt_pconn_close(u->pc);
	u->pc = NULL;
	u->connected = false;
}

void
lnt_proxy_release(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;

	close_upstream(u);
	lnt_splice_release(c);
	/* The response ends with the request: so does its filter chain. */
	lnt_bf_release(c);
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

/* Use <pc> for the request: it is connected (pooled) or connecting. */
static void
attach(lnt_conn_t *c, lnt_pconn_t *pc, bool connected)
{
	lnt_up_t *u = &c->up;

	u->pc = pc;
	pc->ev.handler = upstream_event;
	pc->ev.data = c;
	pc->requests++;
	u->connected = u->reused = connected;
	u->readable = false;
	u->writable = connected;
	u->progress = true;
}

/* Open a new connection to u->server; 0 when connecting. */
static int
open_connection(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	lnt_pconn_t *pc;
	int fd, one = 1;

	fd = socket(u->server->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		lnt_conn_log(c, LNT_LOG_ERR, "socket(): %s", strerror(errno));
		fail(c, 502, "cannot create a socket");
		return -1;
	}
	if ((pc = lnt_pconn_new(u->upstream, u->server, fd)) == NULL) {
		close(fd);
		fail(c, 500, "out of memory");
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	attach(c, pc, false);
	if (u->upstream->tls != NULL) {
		/* Its handshake follows the TCP connect (upstream_event). */
		if ((pc->io_ctx = lnt_tls_connect(u->upstream, u->server,
		    fd)) == NULL) {
			close_upstream(u);
			fail(c, 502, "cannot set up TLS to the upstream");
			return -1;
		}
		pc->io = &lnt_io_tls;
	}
	if (connect(fd, (struct sockaddr *)&u->server->addr,
	    u->server->addrlen) == -1 && errno != EINPROGRESS) {
		connect_failed(c, errno, "connect() to");
		return -1;
	}
	if (lnt_event_add(&pc->ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP |
	    EPOLLET) == -1) {
		connect_failed(c, errno, "epoll_ctl() for");
		return -1;
	}
	lnt_timer_in(&u->timer, u->upstream->connect_timeout);
	return 0;
}

/*
 * The server for the next attempt: a module's UPSTREAM_SELECT choice, else
 * lintel's weighted round-robin.  False when a module ended the request
 * instead (it answered, or lintel did for it).
 */
static bool
choose_server(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	unsigned served = c->requests;
	bool keep = c->keepalive;
	lnt_mod_rc_t rc;

	u->server = NULL;
	if (lnt_phase_hooked(LNT_PHASE_UPSTREAM_SELECT)) {
		/* An answer from here leaves any request body unread. */
		if (!u->req_done && u->req_body != LNT_BODY_NONE)
			c->keepalive = false;
		rc = lnt_phase_run(c, LNT_PHASE_UPSTREAM_SELECT);
		if (rc != LNT_MOD_CONTINUE) {
			if (c->requests == served &&
			    c->state == LNT_CONN_PROXY)
				fail(c, 500, rc == LNT_MOD_SUSPEND ?
				    "a module suspended UPSTREAM_SELECT" :
				    "a module stopped the request without "
				    "answering it");
			return false;
		}
		c->keepalive = keep;
	}
	if (u->server == NULL)
		u->server = lnt_upstream_pick(u->upstream, u->tried_set);
	return true;
}

static void
connect_next(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	lnt_pconn_t *pc;

	if (!choose_server(c))
		return;
	if (u->server == NULL) {
		fail(c, 502, "no server of the upstream could be reached");
		return;
	}
	/* Formatted once per server and worker, not per request. */
	if (u->server->addr_text[0] == '\0')
		lnt_addr_format((struct sockaddr *)&u->server->addr,
		    u->server->addr_text, sizeof(u->server->addr_text));
	memcpy(u->addr, u->server->addr_text, sizeof(u->addr));
	if (build_request_head(c) == -1) {
		fail(c, 500, "cannot build the upstream request head");
		return;
	}
	if ((pc = lnt_pool_take(u->server)) != NULL) {
		attach(c, pc, true);
		pump(c);
		return;
	}
	open_connection(c);
}

/*
 * A pooled connection the server had closed meanwhile fails before any
 * response byte.  Sending the request again on a fresh connection is safe
 * only for an idempotent request whose body was not consumed (RFC 9110
 * §9.2.2); returns true if it did so.
 */
static bool
retry_stale(lnt_conn_t *c)
{
	static const char *const idempotent[] = { "GET", "HEAD", "OPTIONS",
	    "TRACE", "PUT", "DELETE" };
	lnt_up_t *u = &c->up;
	bool safe = false;

	if (!u->reused || u->retried || u->req_body != LNT_BODY_NONE ||
	    (u->in != NULL && lnt_buf_len(u->in) > 0) || u->resp.scan > 0)
		return false;
	for (size_t i = 0; i < LNT_NELEM(idempotent); i++)
		safe |= lnt_str_ieq(c->req.method, idempotent[i]);
	if (!safe)
		return false;
	lnt_conn_log(c, LNT_LOG_INFO, "pooled connection to %s was closed "
	    "by the server; retrying on a new one", u->addr);
	u->retried = true;
	close_upstream(u);
	u->head->pos = u->head->start;
	open_connection(c);
	return true;
}

/*
 * TLS to the upstream: the handshake follows the TCP connect, within
 * connect_timeout.  1 when done (or plain TCP), 0 to wait.  A failure (a
 * certificate that does not verify, say) moves on to the next server as a
 * refused connection does; -1 then.
 */
static int
upstream_handshake(lnt_conn_t *c)
{
	lnt_pconn_t *pc = c->up.pc;
	char why[256];
	int rc;

	rc = lnt_io_handshake(pc->io, pc->ev.fd, pc->io_ctx, why, sizeof(why));
	if (rc == 1 && pc->io->secure && lnt_log_level() >= LNT_LOG_DEBUG)
		lnt_conn_log(c, LNT_LOG_DEBUG, "TLS handshake with %s done%s",
		    c->up.addr, lnt_tls_resumed(pc->io_ctx) ?
		    ", session resumed" : "");
	if (rc != -1)
		return rc;
	lnt_conn_log(c, LNT_LOG_ERR, "TLS handshake with %s failed: %s",
	    c->up.addr, why);
	close_upstream(&c->up);
	lnt_buf_put(c->up.head);
	c->up.head = NULL;
	connect_next(c);
	return -1;
}

static void
upstream_event(lnt_event_t *ev, uint32_t events)
{
	lnt_conn_t *c = ev->data;
	lnt_up_t *u = &c->up;

	if (u->pc != NULL)
		events = lnt_io_events(u->pc->io, u->pc->io_ctx, events);
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
		if (upstream_handshake(c) != 1)
			return;
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
	n = lnt_io_recv(c->io, c->ev.fd, c->io_ctx, c->in->last,
	    lnt_buf_room(c->in));
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
	lnt_pconn_t *pc = c->up.pc;
	ssize_t n = lnt_io_send(pc->io, pc->ev.fd, pc->io_ctx, p, len);

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
	if (retry_stale(c))
		return -1;
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

	while (u->writable && u->pc != NULL) {
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

/* Choose the client framing and append the response head to u->chead. */
static int
build_response_head(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	lnt_http_msg_t *m = &u->resp;
	bool head_req = c->req.method.len == 4 &&
	    memcmp(c->req.method.p, "HEAD", 4) == 0;
	bool old_client = c->req.version == 10;
	bool keep = client_wants_keepalive(c);

	u->resp_body = lnt_http_response_body(m, head_req);
	u->resp_left = m->content_length;
	u->resp_mode = LNT_RESP_PASS;
	lnt_chunked_init(&u->resp_chunk);
	if (u->resp_body == LNT_BODY_CHUNKED && old_client) {
		u->resp_mode = LNT_RESP_DECHUNK;
		keep = false;
	} else if (u->resp_body == LNT_BODY_CLOSE && old_client) {
		keep = false;
	} else if (u->resp_body == LNT_BODY_CLOSE) {
		/* Re-chunk so a 1.1 client can keep its connection. */
		u->resp_mode = LNT_RESP_RECHUNK;
	}
	c->status = m->status;
	/* An empty body (Content-Length: 0) may still be filtered. */
	lnt_bf_begin_head(c, !(head_req || m->status == 204 ||
	    m->status == 304));
	lnt_phase_run(c, LNT_PHASE_HEADER_FILTER);
	if (lnt_bf_end_head(c)) {
		/* Data only for the filters; chunked out, or until close. */
		u->resp_mode = LNT_RESP_FILTER;
		keep = keep && lnt_bf_chunked(c);
	}
	if (lnt_proxy_response_head(c, u->chead, &keep) == -1)
		return -1;
	c->keepalive = keep;
	return 0;
}

static bool
output_pending(const lnt_up_t *u)
{
	return (u->chead != NULL && lnt_buf_len(u->chead) > 0) ||
	    u->pfx_len > 0 || u->resp_ready > 0 || u->sfx_len > 0;
}

/* Response bytes waiting for the client, in user space or in a pipe. */
static bool
client_send_pending(const lnt_conn_t *c)
{
	const lnt_up_t *u = &c->up;

	return output_pending(u) || (u->pipe != NULL && u->pipe->len > 0) ||
	    (c->bf != NULL && lnt_bf_pending(c));
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
		n = lnt_io_sendv(c->io, c->ev.fd, c->io_ctx, iov, cnt);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return lnt_conn_write_stopped(c, n);
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
	n = lnt_io_recv(u->pc->io, u->pc->ev.fd, u->pc->io_ctx, u->in->last,
	    lnt_buf_room(u->in));
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
	    (u->chead = lnt_buf_get(m->head_len + 4096)) == NULL) {
		fail(c, 500, "out of memory");
		return -1;
	}
	if (m->status == 101 && !u->upgrade) {
		fail(c, 502, "upstream switched protocols unasked");
		return -1;
	}
	if (m->status == 101) {
		bool keep = false;

		u->resp_mode = LNT_RESP_PASS;
		c->status = 101;
		/* Modules may add fields; what follows is no HTTP body. */
		lnt_bf_begin_head(c, false);
		lnt_phase_run(c, LNT_PHASE_HEADER_FILTER);
		(void)lnt_bf_end_head(c);
		if (lnt_proxy_response_head(c, u->chead, &keep) == -1) {
			fail(c, 502, "upstream response head too large");
			return -1;
		}
		/* Bytes after the head already belong to the new protocol. */
		u->in->pos += m->head_len;
		u->resp_started = u->tunnel = true;
		c->status = 101;
		c->keepalive = false;
		lnt_timer_stop(&c->timer);
		return 0;
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
			if (retry_stale(c))
				return -1;
			lnt_conn_log(c, LNT_LOG_ERR, "reading the response "
			    "head: %s", err ? strerror(err) :
			    "upstream closed the connection");
			fail(c, 502, "upstream sent no valid response head");
			return -1;
		}
	}
	return 0;
}

/*
 * The response is complete: put the connection back in the pool when both
 * messages were framed so that the next one starts cleanly on it.
 */
static void
keep_upstream(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	lnt_http_msg_t *m = &u->resp;

	if (u->pc == NULL || u->upstream->keepalive == 0 ||
	    u->resp_body == LNT_BODY_CLOSE || m->conn_close ||
	    (m->version == 10 && !m->conn_keepalive) ||
	    !u->req_done || u->req_ready > 0 || lnt_buf_len(u->in) > 0)
		return;
	lnt_timer_stop(&u->timer);
	lnt_pool_put(u->pc);
	u->pc = NULL;
	u->connected = false;
}

int
lnt_proxy_upstream_ended(lnt_conn_t *c, int err)
{
	lnt_up_t *u = &c->up;

	if (err == 0 && u->resp_body == LNT_BODY_CLOSE) {
		u->resp_done = true;
		return 1;
	}
	lnt_conn_log(c, LNT_LOG_ERR, "upstream %s before the response was "
	    "complete", err ? strerror(err) : "closed the connection");
	lnt_conn_close(c);
	return -1;
}

/* A filter failed (logged): the head is out, so the client is closed. */
static int
filter_failed(lnt_conn_t *c)
{
	lnt_conn_close(c);
	return -1;
}

/*
 * The body through the BODY_FILTER chain: each decoded piece (chunked
 * framing removed) is fed in as it comes, and the upstream is read only
 * while the filtered output waiting for the client stays small.
 */
static int
relay_filtered(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	int err;

	for (;;) {
		/* Feed what is buffered first: the head goes out with the
		 * first output. */
		if (!u->resp_done && lnt_buf_len(u->in) > 0 &&
		    !lnt_bf_full(c)) {
			if (next_segment(c) == -1)
				return -1;
			if (u->resp_ready > 0 && lnt_bf_feed(c, u->in->pos,
			    u->resp_ready, false) == -1)
				return filter_failed(c);
			u->in->pos += u->resp_ready;
			u->resp_ready = 0;
			continue;
		}
		if (u->resp_done && !lnt_bf_fed_last(c)) {
			if (lnt_bf_feed(c, NULL, 0, true) == -1)
				return filter_failed(c);
			continue;
		}
		if (lnt_bf_send(c, u->chead, NULL) == -1)
			return -1;
		if (lnt_buf_len(u->chead) > 0 || lnt_bf_pending(c)) {
			/* The client is behind: the upstream is read
			 * meanwhile only while the output is below the
			 * bound. */
			if (lnt_bf_full(c) || lnt_bf_fed_last(c))
				return 0;
		} else if (lnt_bf_fed_last(c)) {
			keep_upstream(c);
			lnt_conn_request_done(c);
			return -1;
		}
		/* Input left while the output was full goes in first: u->in
		 * may have no room to read into, and nothing else would come
		 * back to it. */
		if (!u->resp_done && lnt_buf_len(u->in) > 0)
			continue;
		if (u->resp_done || !u->readable)
			return 0;
		switch (read_upstream(c, &err)) {
		case 1:
			continue;
		case 0:
			return 0;
		default:
			if (lnt_proxy_upstream_ended(c, err) == -1)
				return -1;
			continue;
		}
	}
}

/* Move response body bytes to the client until blocked or done. */
static int
relay_response(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	int err;

	/* The one test unfiltered responses pay. */
	if (c->bf != NULL)
		return relay_filtered(c);
	for (;;) {
		if (u->pipe != NULL) {
			int r = lnt_splice_relay(c);

			if (r <= 0)
				return r;
			keep_upstream(c);
			lnt_conn_request_done(c);
			return -1;
		}
		/* Prepare body bytes first so the head goes out with them. */
		if (!u->resp_done && lnt_buf_len(u->in) > 0 &&
		    u->resp_ready == 0 && u->pfx_len == 0 && u->sfx_len == 0) {
			if (next_segment(c) == -1)
				return -1;
			continue;
		}
		/* Nothing of a large body is buffered: it is spliced, and
		 * the head waits to go out with its first bytes. */
		if (lnt_buf_len(u->in) == 0 && u->resp_ready == 0 &&
		    lnt_splice_begin(c))
			continue;
		if (write_client(c) == -1)
			return -1;
		if (output_pending(u))
			return 0;
		if (u->resp_done) {
			keep_upstream(c);
			lnt_conn_request_done(c);
			return -1;
		}
		/* What is buffered goes first: an EOF read now would look
		 * like a truncated response. */
		if (lnt_buf_len(u->in) > 0)
			continue;
		/* The rest of a large body that passes through unchanged
		 * skips user space. */
		if (lnt_splice_begin(c))
			continue;
		if (!u->readable)
			return 0;
		switch (read_upstream(c, &err)) {
		case 1:
			continue;
		case 0:
			return 0;
		default:
			if (lnt_proxy_upstream_ended(c, err) == -1)
				return -1;
			/* A close-delimited body re-chunked for the client
			 * ends with the last chunk. */
			if (u->resp_mode == LNT_RESP_RECHUNK) {
				u->sfx = last_chunk;
				u->sfx_len = sizeof(last_chunk) - 1;
			}
			continue;
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
	    !client_send_pending(c);
	bool cl_send = client_send_pending(c) && !c->writable;
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
	if (c->up.tunnel) {
		lnt_tunnel_pump(c);
		return;
	}
	if (send_request(c) == -1)
		return;
	if (read_response_head(c) == -1)
		return;
	if (c->up.tunnel) {
		lnt_tunnel_pump(c);
		return;
	}
	if (c->up.resp_started && relay_response(c) == -1)
		return;
	update_timers(c);
}

/*
 * The client became readable after its whole request was read: either
 * the next pipelined request, or EOF because it gave up.  A peek tells
 * which without consuming anything; on EOF the upstream work is abandoned
 * (logged as 499), as nobody will read the answer.  TLS bytes cannot be
 * judged this way, so TLS connections find out when they write.
 */
static bool
client_gone(lnt_conn_t *c)
{
	char b;
	ssize_t n;

	if (!c->readable || !c->up.req_done || c->up.tunnel ||
	    !c->io->zero_copy || lnt_buf_len(c->in) > 0)
		return false;
	n = recv(c->ev.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && errno == EAGAIN)
		c->readable = false;
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR);
}

void
lnt_proxy_client_event(lnt_conn_t *c)
{
	if (client_gone(c)) {
		lnt_conn_log(c, LNT_LOG_INFO, "client closed the connection "
		    "before the response was complete");
		lnt_conn_close(c);
		return;
	}
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
	if (u->tunnel) {
		lnt_tunnel_timeout(c);
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
	if (client_send_pending(c)) {
		lnt_conn_log(c, LNT_LOG_INFO, "send_timeout expired");
		lnt_conn_close(c);
		return;
	}
	c->keepalive = false;
	fail(c, 408, "client_body_timeout expired");
}
