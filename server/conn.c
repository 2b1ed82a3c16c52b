/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Client connections: reading request heads, choosing site and route,
 * answering with lintel's own responses, keep-alive, graceful drain and the
 * access log.  The proxy (proxy.c) takes a request once it is routed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "http_status.h"
#include "log.h"
#include "module.h"
#include "body_filter.h"
#include "proxy.h"
#include "proxy_protocol.h"
#include "reply.h"
#include "route.h"
#include "static.h"
#include "tls.h"
#include "util.h"
#include "var.h"
#include "worker.h"

#define LINGER_MS	5000		/* how long to drain after a close */

bool			 lnt_conn_draining;

static lnt_conn_t	*conns;		/* open connections */
static lnt_conn_t	*reap_list;	/* closed this turn, freed at its end */
static lnt_conn_t	*free_conns;
static size_t		 nconns;
static uint64_t		 next_id = 1;

static void	client_event(lnt_event_t *ev, uint32_t events);
static void	client_timeout(lnt_timer_t *t);
static void	read_head(lnt_conn_t *c);
static void	start_tls(lnt_conn_t *c);
static void	conn_start(lnt_conn_t *c);
static void	pp_start(lnt_conn_t *c);

static lnt_conn_t *
conn_alloc(void)
{
	lnt_conn_t *c = free_conns;

	if (c != NULL)
		free_conns = c->next;
	else if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	/* All but the header arrays of the request and of the upstream
	 * response (6 KiB of the 8): each is read only up to a count that
	 * is zeroed here and reset by lnt_http_msg_init(). */
	_Static_assert(offsetof(lnt_conn_t, req) < offsetof(lnt_conn_t, up),
	    "the request comes before the upstream side");
	lnt_zero_but(c, offsetof(lnt_conn_t, up), c->req.headers,
	    sizeof(c->req.headers));
	lnt_zero_but(&c->up, sizeof(*c) - offsetof(lnt_conn_t, up),
	    c->up.resp.headers, sizeof(c->up.resp.headers));
	c->magic = LNT_CONN_MAGIC;
	return c;
}

/* The dotted quad of <a> in <buf>, which has room for 16 bytes. */
static void
ipv4_text(const struct in_addr *a, char *buf)
{
	const uint8_t *b = (const uint8_t *)&a->s_addr;

	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (v >= 100)
			*buf++ = (char)('0' + v / 100);
		if (v >= 10)
			*buf++ = (char)('0' + v / 10 % 10);
		*buf++ = (char)('0' + v % 10);
		*buf++ = i < 3 ? '.' : '\0';
	}
}

static void
peer_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = sa->sa_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	/* At every accept: IPv4 without inet_ntop()'s trip through a
	 * printf format. */
	if (sa->sa_family == AF_INET && len >= INET_ADDRSTRLEN)
		ipv4_text(a, buf);
	else if (inet_ntop(sa->sa_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

static void
start_request(lnt_conn_t *c)
{
	c->state = LNT_CONN_HEAD;
	c->site = NULL;
	c->route = NULL;
	c->limits = &c->listen->default_site->limits;
	c->status = 0;
	c->logged = false;
	c->body_sent = 0;
	c->bytes_in = 0;
	c->req_start = 0;
	/* lnt_proxy_start() zeroes the upstream side of a proxied request;
	 * one answered by lintel must not log the previous one's. */
	c->up.addr[0] = '\0';
	c->up.resp.status = 0;
	c->up.server = NULL;
	lnt_http_msg_init(&c->req, false);
}

void
lnt_conn_accept(lnt_listen_t *l, int fd, const struct sockaddr *peer)
{
	lnt_conn_t *c = conn_alloc();

	if (c == NULL) {
		lnt_log(LNT_LOG_CRIT, "out of memory accepting a connection");
		close(fd);
		return;
	}
	c->listen = l;
	c->id = next_id++;
	peer_text(peer, c->peer, sizeof(c->peer));
	/* TCP_NODELAY comes from the listener (lnt_worker_main()). */
	c->ev = (lnt_event_t){ .fd = fd, .handler = client_event, .data = c };
	c->io = &lnt_io_plain;
	c->io_ctx = NULL;
	lnt_timer_init(&c->timer, client_timeout, c);
	lnt_timer_init(&c->up.timer, NULL, c);
	start_request(c);
	c->keepalive = true;
	if (lnt_event_add(&c->ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP |
	    EPOLLET) == -1) {
		lnt_log_errno(LNT_LOG_ERR, errno, "epoll_ctl(ADD) failed");
		close(fd);
		c->next = free_conns;
		free_conns = c;
		return;
	}
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	nconns++;
	if (l->proxy_protocol)
		pp_start(c);
	else
		conn_start(c);
}

/*
 * The connection is accepted (and any PROXY protocol header read): TLS
 * handshake or first request next.
 */
static void
conn_start(lnt_conn_t *c)
{
	if (lnt_phase_hooked(LNT_PHASE_CONNECT) &&
	    lnt_phase_run(c, LNT_PHASE_CONNECT) != LNT_MOD_CONTINUE) {
		lnt_log(LNT_LOG_INFO, "connection from %s refused by a module "
		    "(CONNECT phase), conn=%llu", c->peer,
		    (unsigned long long)c->id);
		lnt_conn_close(c);
		return;
	}
	if (c->listen->tls) {
		start_tls(c);
		return;
	}
	lnt_timer_in(&c->timer, c->limits->client_header_timeout);
	/*
	 * Fresh from accept(), the socket was just added to epoll, which
	 * reports bytes already there in the next turn: reading now would
	 * mostly cost an EAGAIN.  After a PROXY header its edge is spent,
	 * and what followed the header may be waiting: read now.
	 */
	if (!c->listen->proxy_protocol)
		return;
	c->readable = true;
	read_head(c);
}

void
lnt_conn_log(const lnt_conn_t *c, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > lnt_log_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lnt_log(level, "%s, conn=%llu client=%s site=%s req=\"%.*s %.*s\""
	    " upstream=%s", msg, (unsigned long long)c->id, c->peer,
	    c->site ? c->site->label : "-",
	    (int)c->req.method.len, c->req.method.p ? c->req.method.p : "",
	    (int)(c->req.target.len > 200 ? 200 : c->req.target.len),
	    c->req.target.p ? c->req.target.p : "",
	    c->up.addr[0] ? c->up.addr : "-");
}

/* $http_user_agent names User-Agent: '_' stands for '-' in <name>. */
static bool
var_names_header(const char *name, size_t len, lnt_str_t field)
{
	if (field.len != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char a = name[i] == '_' ? '-' : name[i];

		if (tolower((unsigned char)a) !=
		    tolower((unsigned char)field.p[i]))
			return false;
	}
	return true;
}

static lnt_str_t
header_lookup(const void *req, const char *name, size_t len)
{
	const lnt_http_msg_t *m = req;

	for (size_t i = 0; i < m->nheaders; i++) {
		if (var_names_header(name, len, m->headers[i].name))
			return m->headers[i].value;
	}
	return (lnt_str_t){ NULL, 0 };
}

void
lnt_conn_access_rec(lnt_conn_t *c, lnt_access_rec_t *rec)
{
	*rec = (lnt_access_rec_t){
		.remote_addr = c->peer,
		.start_wall = c->req_start_wall,
		.duration = lnt_loop.now - c->req_start,
		.method = c->req.method,
		.target = c->log_target.p != NULL ? c->log_target :
		    c->req.target,
		.protocol = c->req.version == 10 ? LNT_STR("HTTP/1.0") :
		    LNT_STR("HTTP/1.1"),
		.host = c->req.host,
		.status = c->status,
		.body_bytes_sent = c->body_sent,
		.bytes_received = c->bytes_in,
		.upstream_addr = c->up.addr[0] ? c->up.addr : NULL,
		.upstream_status = c->up.resp.status,
		.upstream_time = c->up.addr[0] ?
		    lnt_loop.now - c->up.start : -1,
		.site = c->site ? c->site->label : NULL,
		.conn_id = c->id,
		.proxy_protocol_addr = c->pp_addr[0] ? c->pp_addr : NULL,
		.proxy_protocol_port = c->pp_addr[0] ? c->pp_port : -1,
		.header = header_lookup,
		.req = &c->req,
		.ext = lnt_var_ext_value,
		.ext_ctx = c,
	};
}

static void
access_log(lnt_conn_t *c)
{
	lnt_access_log_t *log = lnt_worker_conf->access_log;
	lnt_access_rec_t rec;

	if (c->logged)
		return;
	c->logged = true;
	if (c->req.started)
		lnt_phase_run(c, LNT_PHASE_LOG);
	if (log == NULL || !c->req.started)
		return;
	lnt_conn_access_rec(c, &rec);
	lnt_access_log_write(log, &rec);
}

static void
unlink_conn(lnt_conn_t *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	nconns--;
}

static void
release_handler(lnt_conn_t *c)
{
	const lnt_handler_t *h = c->handler;

	c->handler = NULL;
	if (h != NULL && h->release != NULL)
		h->release(c);
	c->handler_data = NULL;
}

/*
 * The request's module memory goes, after its cleanups ran (they may still
 * look at their ctx and variables); not under a handler that is still
 * running (lnt_conn_hook_leave does it then).
 */
static void
end_request_memory(lnt_conn_t *c)
{
	if (c->hook_depth > 0) {
		c->memory_pending = true;
		return;
	}
	lnt_arena_clear(&c->arena);
	c->mctx = NULL;
	c->setvars = NULL;
	c->req_ops = NULL;
}

void
lnt_conn_hook_leave(lnt_conn_t *c)
{
	if (--c->hook_depth == 0 && c->memory_pending) {
		c->memory_pending = false;
		end_request_memory(c);
	}
}

void
lnt_conn_set_handler(lnt_conn_t *c, const lnt_handler_t *h, void *data)
{
	c->handler = h;
	c->handler_data = data;
	c->state = LNT_CONN_HANDLER;
}

void
lnt_conn_close(lnt_conn_t *c)
{
	if (c->state == LNT_CONN_CLOSED)
		return;
	/* A request cut short is logged too: 499 if nothing was sent. */
	if (c->state == LNT_CONN_PROXY) {
		c->status = c->up.resp_started ? c->up.resp.status : 499;
		access_log(c);
	} else if (c->state == LNT_CONN_HANDLER ||
	    c->state == LNT_CONN_RESPOND ||
	    c->state == LNT_CONN_SUSPENDED) {
		/* An answer that could not be written is still a request. */
		if (c->status == 0)
			c->status = 499;
		access_log(c);
	}
	release_handler(c);
	lnt_proxy_release(c);
	end_request_memory(c);
	lnt_timer_stop(&c->timer);
	lnt_io_close(c->io, c->ev.fd, c->io_ctx);
	c->io = &lnt_io_plain;
	c->io_ctx = NULL;
	lnt_event_close(&c->ev);
	lnt_buf_put(c->in);
	lnt_buf_put(c->reqhead);
	lnt_buf_put(c->out);
	lnt_buf_put(c->resp_extra);
	lnt_buf_put(c->uri_buf);
	c->in = c->reqhead = c->out = c->resp_extra = c->uri_buf = NULL;
	c->state = LNT_CONN_CLOSED;
	unlink_conn(c);
	/* Late events of this turn may still point here: free at its end. */
	c->next = reap_list;
	reap_list = c;
}

void
lnt_conn_reap(void)
{
	lnt_conn_t *queued = NULL;

	while (reap_list != NULL) {
		lnt_conn_t *c = reap_list;

		reap_list = c->next;
		/* Posted in this turn's deferred events for the next turn:
		 * reused now, its link in that queue would be zeroed by
		 * conn_alloc() and the queue cut.  Freed after it ran. */
		if (c->ev.posted) {
			c->next = queued;
			queued = c;
			continue;
		}
		c->magic = 0;
		c->next = free_conns;
		free_conns = c;
	}
	reap_list = queued;
}

size_t
lnt_conn_count(void)
{
	return nconns;
}

/* Stop sending, then read and drop what the client still sends, so that
 * closing with unread bytes does not reset the response we just sent. */
static void
linger(lnt_conn_t *c)
{
	lnt_io_shutdown(c->io, c->ev.fd, c->io_ctx);
	if (shutdown(c->ev.fd, SHUT_WR) == -1) {
		lnt_conn_close(c);
		return;
	}
	c->state = LNT_CONN_LINGER;
	lnt_timer_in(&c->timer, LINGER_MS);
	c->readable = true;
	lnt_event_post(&c->ev);
}

static void
linger_read(lnt_conn_t *c)
{
	char sink[4096];

	for (;;) {
		ssize_t n = lnt_io_recv(c->io, c->ev.fd, c->io_ctx, sink,
		    sizeof(sink));

		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->readable = false;
			return;
		}
		lnt_conn_close(c);
		return;
	}
}

void
lnt_conn_request_done(lnt_conn_t *c)
{
	access_log(c);
	release_handler(c);
	lnt_proxy_release(c);
	end_request_memory(c);
	lnt_buf_put(c->reqhead);
	lnt_buf_put(c->out);
	lnt_buf_put(c->resp_extra);
	lnt_buf_put(c->uri_buf);
	c->reqhead = c->out = c->resp_extra = c->uri_buf = NULL;
	c->log_target = (lnt_str_t){ NULL, 0 };
	c->nresp_drop = 0;
	c->reroutes = 0;
	c->requests++;
	if (!c->keepalive || lnt_conn_draining || c->eof ||
	    c->limits->keepalive_timeout == 0) {
		bool nothing_unread = (c->in == NULL ||
		    lnt_buf_len(c->in) == 0) && !c->readable;
		/* The client asked to close, sent no body and nothing after:
		 * it will send no more, so a plain close loses nothing. */
		bool client_closes = c->req.started && (c->req.conn_close ||
		    (c->req.version == 10 && !c->req.conn_keepalive)) &&
		    lnt_http_request_body(&c->req) == LNT_BODY_NONE;

		/* Otherwise unread request bytes would turn close() into a
		 * reset that can destroy the response: linger first. */
		if (nothing_unread && (c->eof || client_closes))
			lnt_conn_close(c);
		else
			linger(c);
		return;
	}
	start_request(c);
	if ((c->in != NULL && lnt_buf_len(c->in) > 0) || c->readable) {
		/* A pipelined request is here, or bytes arrived while the
		 * response went out: their edge has passed, so look now. */
		lnt_timer_in(&c->timer, c->in != NULL && lnt_buf_len(c->in) ?
		    c->limits->client_header_timeout :
		    c->limits->keepalive_timeout);
		lnt_event_post(&c->ev);
		return;
	}
	/* Idle keep-alive: give the buffer back until bytes arrive. */
	lnt_buf_put(c->in);
	c->in = NULL;
	lnt_timer_in(&c->timer, c->limits->keepalive_timeout);
}

static void
write_out(lnt_conn_t *c)
{
	while (lnt_buf_len(c->out) > 0) {
		ssize_t n = lnt_io_send(c->io, c->ev.fd, c->io_ctx,
		    c->out->pos, lnt_buf_len(c->out));

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->writable = false;
			lnt_timer_in(&c->timer, c->limits->send_timeout);
			return;
		}
		if (n == -1) {
			lnt_conn_log(c, LNT_LOG_INFO, "writing response: %s",
			    strerror(errno));
			lnt_conn_close(c);
			return;
		}
		c->out->pos += n;
	}
	lnt_conn_request_done(c);
}

/* An RFC 9110 IMF-fixdate for "now", refreshed once a second. */
static const char *
http_date(void)
{
	static char date[40];
	static time_t last;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return date;
}

void
lnt_conn_respond(lnt_conn_t *c, int status, const char *why)
{
	const char *reason = lnt_http_reason(status);
	const char *hsts = lnt_tls_hsts(c);
	bool head = c->req.started && c->req.method.len == 4 &&
	    memcmp(c->req.method.p, "HEAD", 4) == 0;
	char body[256];
	int blen;

	if (why != NULL)
		lnt_conn_log(c, status >= 500 ? LNT_LOG_ERR : LNT_LOG_INFO,
		    "%d: %s", status, why);
	/* From HEADER_FILTER or a body filter: too late to answer. */
	if (lnt_bf_answer_too_late(c))
		return;
	release_handler(c);
	lnt_proxy_release(c);
	lnt_timer_stop(&c->timer);
	c->status = status;
	/* An error page goes through lnt_reply_send, which runs the filter. */
	if (lnt_reply_error_page(c, status))
		return;
	/* Bracketed so that a module cannot answer from inside. */
	lnt_bf_begin_head(c, false);
	lnt_phase_run(c, LNT_PHASE_HEADER_FILTER);
	lnt_bf_end_head(c);
	if (c->out == NULL && (c->out = lnt_buf_get(0)) == NULL) {
		lnt_conn_close(c);
		return;
	}
	c->out->pos = c->out->last = c->out->start;
	blen = snprintf(body, sizeof(body), "<html>\r\n<head><title>%d %s"
	    "</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
	    "<hr><center>lintel</center>\r\n</body>\r\n</html>\r\n",
	    status, reason, status, reason);
	c->out->last += snprintf(c->out->last, lnt_buf_room(c->out),
	    "HTTP/1.1 %d %s\r\nServer: lintel\r\nDate: %s\r\n%s%s%s%.*s"
	    "Content-Type: text/html\r\nContent-Length: %d\r\n%s\r\n%s",
	    status, reason, http_date(),
	    hsts ? "Strict-Transport-Security: " : "", hsts ? hsts : "",
	    hsts ? "\r\n" : "",
	    c->resp_extra ? (int)lnt_buf_len(c->resp_extra) : 0,
	    c->resp_extra ? c->resp_extra->pos : "", blen,
	    c->keepalive && !lnt_conn_draining ? "" : "Connection: close\r\n",
	    head ? "" : body);
	c->status = status;
	c->body_sent = head ? 0 : blen;
	c->state = LNT_CONN_RESPOND;
	c->writable = true;
	write_out(c);
}

/*
 * Keep the parsed head where it is (c->reqhead: the request's slices point
 * into it) and move the bytes after it, body or pipelined requests, to a
 * fresh c->in.
 */
static int
take_head(lnt_conn_t *c)
{
	lnt_buf_t *rest = lnt_buf_get(0);
	size_t extra;

	if (rest == NULL)
		return -1;
	extra = lnt_buf_len(c->in) - c->req.head_len;
	memcpy(rest->last, c->in->pos + c->req.head_len, extra);
	rest->last += extra;
	c->reqhead = c->in;
	c->reqhead->last = c->reqhead->pos + c->req.head_len;
	c->in = rest;
	return 0;
}

/* Whether the client lets the connection serve another request. */
static bool
client_keeps(const lnt_conn_t *c)
{
	return !(c->req.conn_close || (c->req.version == 10 &&
	    !c->req.conn_keepalive));
}

/*
 * Stop the request where it is: a handler returned LNT_MOD_SUSPEND.  The
 * client is not read and no client timeout runs (a client_header_timeout
 * firing would answer 408 to a request that was read in time): the module
 * bounds the wait and calls lnt_req_resume().  A client that goes away
 * meanwhile ends the request.
 */
static void
suspend(lnt_conn_t *c)
{
	c->state = LNT_CONN_SUSPENDED;
	lnt_timer_stop(&c->timer);
}

/* The next module phase starts with its first handler. */
static void
enter_phase(lnt_conn_t *c, lnt_phase_t phase)
{
	c->phase = phase;
	c->hook_next = 0;
}

/*
 * Run the module handlers of c->phase from c->hook_next on; true when one
 * of them stopped the request: suspended it, or ended it with its answer
 * (lintel's 500 if the handler gave none).
 */
static bool
module_phase(lnt_conn_t *c)
{
	unsigned served = c->requests;
	lnt_mod_rc_t rc;

	/* A handler may resume its request before it returns SUSPEND. */
	c->resume_pending = false;
	c->in_handler = true;
	rc = lnt_phase_run_from(c, c->phase, &c->hook_next);
	c->in_handler = false;
	if (rc == LNT_MOD_CONTINUE)
		return false;
	/* An answer may be written, and keep-alive already waiting for the
	 * next request, by the time the handler returns: count, not state. */
	if (c->requests != served || c->state != LNT_CONN_HEAD)
		return true;
	if (rc == LNT_MOD_SUSPEND)
		suspend(c);
	else
		lnt_conn_respond(c, 500, "a module stopped the request "
		    "without answering it");
	return true;
}

/* Choose the route for the request's path: false after a 404. */
static bool
match_route(lnt_conn_t *c)
{
	c->route = lnt_route_match(c->site, c->req.path);
	if (c->route == NULL) {
		/* Answering without reading a body leaves it unread. */
		c->keepalive = client_keeps(c) &&
		    lnt_http_request_body(&c->req) == LNT_BODY_NONE;
		lnt_conn_respond(c, 404, NULL);
		return false;
	}
	c->reroute = false;
	enter_phase(c, LNT_PHASE_ROUTE_REWRITE);
	return true;
}

/* Modules are done with the request: lintel's content, or the proxy. */
static void
hand_on(lnt_conn_t *c)
{
	c->keepalive = client_keeps(c);
	lnt_timer_stop(&c->timer);
	if (c->route->upstream == NULL) {
		/* root or return: lintel answers itself. */
		lnt_static_start(c);
		return;
	}
	c->state = LNT_CONN_PROXY;
	lnt_proxy_start(c);
}

/*
 * Go through the module phases from where the request is (c->phase and
 * c->hook_next): from POST_READ for a new request, from the handler after
 * the one that suspended it for a resumed one.  Each case falls through to
 * the next phase.
 */
static void
run_phases(lnt_conn_t *c)
{
	switch (c->phase) {
	case LNT_PHASE_POST_READ:
		if (module_phase(c))
			return;
		enter_phase(c, LNT_PHASE_REWRITE);
		/* FALLTHROUGH */
	case LNT_PHASE_REWRITE:
		if (module_phase(c) || !match_route(c))
			return;
		/* FALLTHROUGH */
	case LNT_PHASE_ROUTE_REWRITE:
		for (;;) {
			if (module_phase(c))
				return;
			if (!c->reroute)
				break;
			if (++c->reroutes > LNT_MAX_REROUTES) {
				lnt_conn_respond(c, 500, "rewrite loop: the "
				    "URI was routed again more than 10 times");
				return;
			}
			if (!match_route(c))
				return;
		}
		if (c->limits->max_body_size > 0 &&
		    c->req.content_length > c->limits->max_body_size) {
			c->keepalive = false;
			lnt_conn_respond(c, 413, "request body larger than "
			    "max_body_size");
			return;
		}
		enter_phase(c, LNT_PHASE_ACCESS);
		/* FALLTHROUGH */
	case LNT_PHASE_ACCESS:
		if (module_phase(c))
			return;
		enter_phase(c, LNT_PHASE_CONTENT);
		/* FALLTHROUGH */
	case LNT_PHASE_CONTENT:
		if (module_phase(c))
			return;
		break;
	default:
		/* Only the phases above suspend a request. */
		lnt_conn_respond(c, 500, "resumed in a phase that cannot "
		    "wait");
		return;
	}
	hand_on(c);
}

/* Choose site and route for the parsed request and hand it on. */
static void
dispatch(lnt_conn_t *c)
{
	lnt_body_kind_t body = lnt_http_request_body(&c->req);
	bool keep = client_keeps(c);

	/* The head is consumed before anything answers it, or keep-alive
	 * would parse it again. */
	if (take_head(c) == -1) {
		c->keepalive = false;
		lnt_conn_respond(c, 500, "out of memory");
		return;
	}
	c->site = lnt_route_site(c->listen, c->req.host);
	c->limits = &c->site->limits;
	c->bytes_in = (int64_t)c->req.head_len;
	/* Misdirected (421) or plain HTTP sent to https. */
	if (lnt_tls_intercept(c, keep && body == LNT_BODY_NONE))
		return;
	/* A module that answers leaves any body unread: no keep-alive. */
	c->keepalive = keep && body == LNT_BODY_NONE;
	c->log_target = c->req.target;
	enter_phase(c, LNT_PHASE_POST_READ);
	run_phases(c);
}

/*
 * lnt_req_resume() was called and the loop came round: go on after the
 * handler that suspended, or end the request if the module gave up on it
 * (had it answered, the request would not be suspended any more).
 */
static void
resume(lnt_conn_t *c)
{
	c->resume_pending = false;
	c->state = LNT_CONN_HEAD;
	if (c->resume_rc == LNT_MOD_CONTINUE)
		run_phases(c);
	else
		lnt_conn_respond(c, 500, "a module stopped the request "
		    "without answering it");
}

/*
 * An event on a suspended request: its resumption, or the client going
 * away (as nginx does, a half-close counts: a client that stops sending
 * while its request waits has given up on it).  Other input stays unread.
 */
static void
suspended_event(lnt_conn_t *c, uint32_t events)
{
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		lnt_conn_log(c, LNT_LOG_INFO, "client closed the connection "
		    "while the request was suspended");
		lnt_conn_close(c);
		return;
	}
	if (c->resume_pending)
		resume(c);
}

/*
 * Module side of resuming (lnt_req_resume): remember <rc> and go on from
 * the event loop, never from inside the module's own call.
 */
void
lnt_conn_resume(lnt_conn_t *c, lnt_mod_rc_t rc)
{
	bool early = c->in_handler && c->state == LNT_CONN_HEAD;

	if (c->state != LNT_CONN_SUSPENDED && !early) {
		/* Answered meanwhile (then DONE or ERROR is what the module
		 * says) or already ended: nothing to go on with. */
		if (rc == LNT_MOD_CONTINUE || rc == LNT_MOD_SUSPEND)
			lnt_conn_log(c, LNT_LOG_ERR, "lnt_req_resume: the "
			    "request is not suspended");
		return;
	}
	if (rc == LNT_MOD_SUSPEND) {
		lnt_conn_log(c, LNT_LOG_ERR, "lnt_req_resume with "
		    "LNT_MOD_SUSPEND: taken as an error");
		rc = LNT_MOD_ERROR;
	}
	c->resume_rc = rc;
	c->resume_pending = true;
	lnt_event_post(&c->ev);
}

static int
ensure_in(lnt_conn_t *c)
{
	size_t size = (size_t)c->limits->max_header_size;

	if (c->in == NULL) {
		c->in = lnt_buf_get(size);
		return c->in ? 0 : -1;
	}
	if (lnt_buf_capacity(c->in) < size && lnt_buf_room(c->in) == 0) {
		/* Head larger than a pooled buffer: move to a big one and
		 * parse again from its start (slices pointed at the old). */
		lnt_buf_t *big = lnt_buf_get(size);

		if (big == NULL)
			return -1;
		memcpy(big->last, c->in->pos, lnt_buf_len(c->in));
		big->last += lnt_buf_len(c->in);
		lnt_buf_put(c->in);
		c->in = big;
		lnt_http_msg_init(&c->req, false);
	} else if (lnt_buf_room(c->in) == 0) {
		lnt_buf_compact(c->in);
	}
	return 0;
}

static void
parse_head(lnt_conn_t *c)
{
	int status;
	const char *why;
	lnt_http_rc_t rc = lnt_http_parse_head(&c->req, c->in->pos,
	    lnt_buf_len(c->in), (size_t)c->limits->max_header_size,
	    &status, &why);

	if (rc == LNT_HTTP_AGAIN)
		return;
	if (rc == LNT_HTTP_BAD) {
		/* The framing can't be trusted: never read another request. */
		c->keepalive = false;
		lnt_conn_respond(c, status, why);
		return;
	}
	dispatch(c);
}

static void
read_head(lnt_conn_t *c)
{
	unsigned served = c->requests;

	/* Bytes left by the previous request (pipelining) come first. */
	if (c->in != NULL && lnt_buf_len(c->in) > 0 && !c->req.started &&
	    c->req.scan == 0)
		parse_head(c);
	while (c->state == LNT_CONN_HEAD) {
		ssize_t n;
		size_t room;

		if (!c->readable)
			return;
		/*
		 * A request was answered at once and the next one waits in
		 * c->in: lnt_conn_request_done() posted it.  Reading first
		 * could meet the client's end of stream and close with it
		 * unanswered.
		 */
		if (c->requests != served && c->in != NULL &&
		    lnt_buf_len(c->in) > 0)
			return;
		if (ensure_in(c) == -1) {
			lnt_conn_close(c);
			return;
		}
		room = lnt_buf_room(c->in);
		n = lnt_io_recv(c->io, c->ev.fd, c->io_ctx, c->in->last, room);
		if (n > 0) {
			if (c->req_start == 0) {
				c->req_start = lnt_loop.now;
				c->req_start_wall = lnt_now_wall();
				lnt_timer_in(&c->timer,
				    c->limits->client_header_timeout);
			}
			c->in->last += n;
			/*
			 * A short read drained a plain socket: more bytes
			 * bring a new edge, and an end of stream was told
			 * as EPOLLRDHUP.  Saves a recv() per request, and
			 * lets a Connection: close end without lingering.
			 * (TLS may hold decrypted bytes back: not there.)
			 */
			if ((size_t)n < room && c->io == &lnt_io_plain &&
			    !c->rdhup)
				c->readable = false;
			parse_head(c);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->readable = false;
			if (lnt_buf_len(c->in) == 0) {
				lnt_buf_put(c->in);
				c->in = NULL;
			}
			if (lnt_conn_draining && c->in == NULL &&
			    c->requests > 0)
				lnt_conn_close(c);
			return;
		}
		/* EOF or error: a partial head is logged, an idle close not. */
		if (c->in != NULL && lnt_buf_len(c->in) > 0)
			lnt_conn_log(c, LNT_LOG_INFO, "client closed the "
			    "connection while sending the request head");
		lnt_conn_close(c);
		return;
	}
}

/* Drive the TLS handshake; the first request follows it. */
static void
handshake(lnt_conn_t *c)
{
	char why[256];

	switch (lnt_io_handshake(c->io, c->ev.fd, c->io_ctx, why,
	    sizeof(why))) {
	case 0:
		return;
	case -1:
		/* Scanners, plain HTTP, old clients: routine, not errors. */
		lnt_conn_log(c, LNT_LOG_INFO, "TLS handshake failed: %s", why);
		lnt_conn_close(c);
		return;
	default:
		break;
	}
	if (lnt_log_level() >= LNT_LOG_DEBUG)
		lnt_conn_log(c, LNT_LOG_DEBUG, "TLS handshake done%s",
		    lnt_tls_resumed(c->io_ctx) ? ", session resumed" : "");
	c->state = LNT_CONN_HEAD;
	lnt_timer_in(&c->timer, c->limits->client_header_timeout);
	/* The request may have come with the handshake's last flight. */
	c->readable = true;
	read_head(c);
}

/* A tls listener: the handshake comes before the first request. */
static void
start_tls(lnt_conn_t *c)
{
	if ((c->io_ctx = lnt_tls_accept(c->listen, c->ev.fd)) == NULL) {
		lnt_log(LNT_LOG_CRIT, "out of memory starting TLS");
		lnt_conn_close(c);
		return;
	}
	c->io = &lnt_io_tls;
	c->state = LNT_CONN_HANDSHAKE;
	lnt_timer_in(&c->timer, c->limits->handshake_timeout);
	handshake(c);
}

/* --- the PROXY protocol header ------------------------------------ */

/* Which timeout bounds the header: the one of the step it comes before. */
static const char *
pp_timeout_name(const lnt_conn_t *c)
{
	return c->listen->tls ? "handshake_timeout" : "client_header_timeout";
}

/* Refuse the connection: no valid PROXY header, so no response either. */
static void
pp_fail(lnt_conn_t *c, const char *why)
{
	lnt_conn_log(c, LNT_LOG_INFO, "PROXY protocol: %s; connection closed",
	    why);
	lnt_conn_close(c);
}

/*
 * Peek at what the client sent and, once a whole PROXY protocol header is
 * there, consume exactly its bytes: what follows belongs to the TLS
 * handshake or to the first request, which read the socket themselves.
 * Nothing is kept between calls (a header is parsed again from its start
 * as bytes arrive), so the only cost is a stack buffer.  <hup>: the client
 * has shut down its side, so no more bytes will come.
 */
static void
pp_read(lnt_conn_t *c, bool hup)
{
	uint8_t buf[LNT_PP_MAX];
	const char *why = "invalid header";
	lnt_pp_t pp;
	ssize_t n;

	if (!c->readable)
		return;
	do
		n = recv(c->ev.fd, buf, sizeof(buf), MSG_PEEK);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN) {
		c->readable = false;
		return;
	}
	if (n <= 0) {
		pp_fail(c, n == 0 ? "the client closed the connection before "
		    "sending a header" : strerror(errno));
		return;
	}
	switch (lnt_pp_parse(buf, (size_t)n, &pp, &why)) {
	case LNT_PP_AGAIN:
		/* Edge-triggered: the next bytes to arrive wake us again. */
		c->readable = false;
		if (hup)
			pp_fail(c, "the client closed the connection in the "
			    "middle of the header");
		return;
	case LNT_PP_BAD:
		pp_fail(c, why);
		return;
	case LNT_PP_DONE:
		break;
	}
	/* The bytes are in the socket buffer: this read cannot fall short. */
	do
		n = recv(c->ev.fd, buf, pp.len, 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)pp.len) {
		pp_fail(c, n == -1 ? strerror(errno) : "short read");
		return;
	}
	if (lnt_pp_src_text(&pp, c->pp_addr, sizeof(c->pp_addr)) != NULL)
		c->pp_port = pp.src_port;
	else
		c->pp_addr[0] = '\0';
	if (lnt_log_level() >= LNT_LOG_DEBUG)
		lnt_conn_log(c, LNT_LOG_DEBUG, "PROXY protocol v%d header: "
		    "client %s", pp.version, c->pp_addr[0] ? c->pp_addr :
		    "not given");
	lnt_timer_stop(&c->timer);
	/* Where lnt_conn_accept() leaves a connection for conn_start(). */
	c->state = LNT_CONN_HEAD;
	c->readable = true;
	conn_start(c);
}

/* A proxy_protocol listener: the header comes before anything else. */
static void
pp_start(lnt_conn_t *c)
{
	c->state = LNT_CONN_PP_HEADER;
	lnt_timer_in(&c->timer, c->listen->tls ?
	    c->limits->handshake_timeout : c->limits->client_header_timeout);
	/* A balancer sends the header at once: try before the next turn. */
	c->readable = true;
	pp_read(c, false);
}

static void
client_event(lnt_event_t *ev, uint32_t events)
{
	lnt_conn_t *c = ev->data;

	events = lnt_io_events(c->io, c->io_ctx, events);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rdhup = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->writable = true;
	switch (c->state) {
	case LNT_CONN_HEAD:
		read_head(c);
		break;
	case LNT_CONN_PROXY:
		lnt_proxy_client_event(c);
		break;
	case LNT_CONN_HANDLER:
		c->handler->event(c);
		break;
	case LNT_CONN_RESPOND:
		if (c->writable)
			write_out(c);
		break;
	case LNT_CONN_LINGER:
		if (c->readable)
			linger_read(c);
		break;
	case LNT_CONN_HANDSHAKE:
		handshake(c);
		break;
	case LNT_CONN_PP_HEADER:
		pp_read(c, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
		break;
	case LNT_CONN_SUSPENDED:
		suspended_event(c, events);
		break;
	case LNT_CONN_CLOSED:
		break;
	}
}

static void
client_timeout(lnt_timer_t *t)
{
	lnt_conn_t *c = t->data;

	switch (c->state) {
	case LNT_CONN_HEAD:
		if (c->in == NULL || lnt_buf_len(c->in) == 0) {
			lnt_conn_close(c);	/* idle keep-alive */
			return;
		}
		c->keepalive = false;
		lnt_conn_respond(c, 408, "client_header_timeout expired");
		return;
	case LNT_CONN_PROXY:
		lnt_proxy_client_timeout(c);
		return;
	case LNT_CONN_HANDLER:
		c->handler->timeout(c);
		return;
	case LNT_CONN_RESPOND:
		lnt_conn_log(c, LNT_LOG_INFO, "send_timeout expired");
		lnt_conn_close(c);
		return;
	case LNT_CONN_HANDSHAKE:
		lnt_conn_log(c, LNT_LOG_INFO, "TLS handshake timed out "
		    "(handshake_timeout)");
		lnt_conn_close(c);
		return;
	case LNT_CONN_PP_HEADER:
		lnt_conn_log(c, LNT_LOG_INFO, "PROXY protocol: no complete "
		    "header within %s; connection closed", pp_timeout_name(c));
		lnt_conn_close(c);
		return;
	default:
		lnt_conn_close(c);
		return;
	}
}

void
lnt_conn_drain_all(void)
{
	lnt_conn_t *c = conns, *next;

	lnt_conn_draining = true;
	for (; c != NULL; c = next) {
		next = c->next;
		/*
		 * Idle between requests: a client may close such a connection
		 * at any time and must retry, so closing loses nothing.  A
		 * fresh connection is not idle: its first request is on the
		 * way and no client retries that; it is served, with
		 * Connection: close.
		 */
		if (c->state == LNT_CONN_HEAD && c->requests > 0 &&
		    (c->in == NULL || lnt_buf_len(c->in) == 0)) {
			c->readable = true;
			lnt_event_post(&c->ev);
		}
	}
}

void
lnt_conn_close_all(void)
{
	while (conns != NULL)
		lnt_conn_close(conns);
}
