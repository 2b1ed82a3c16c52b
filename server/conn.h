/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A client connection and the request it is serving, with the upstream side
 * of that request embedded (one request at a time per connection: pipelined
 * requests wait, unread, until the previous response is done).
 */
#ifndef LNT_CONN_H
#define LNT_CONN_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core.h"
#include "event.h"
#include "http_parse.h"
#include "io.h"
#include "lintel/module.h"
#include "log.h"
#include "req_arena.h"
#include "upstream.h"
#include "timer.h"

#define LNT_CONN_MAGIC	0x6c6e7463u	/* "lntc" */

enum lnt_conn_state {
	LNT_CONN_HEAD,		/* reading a request head (or idle) */
	LNT_CONN_PROXY,		/* the proxy owns the request */
	LNT_CONN_HANDLER,	/* a content handler (static files…) owns it */
	LNT_CONN_RESPOND,	/* writing a response lintel made */
	LNT_CONN_LINGER,	/* response sent; draining unread input */
	LNT_CONN_HANDSHAKE,	/* TLS handshake, before the first request */
	LNT_CONN_PP_HEADER,	/* reading the PROXY protocol header, first
				   of all on a proxy_protocol listener */
	LNT_CONN_SUSPENDED,	/* a module handler returned LNT_MOD_SUSPEND:
				   the client is not read until it resumes */
	LNT_CONN_CLOSED
};

/* How response bytes are framed on their way to the client. */
enum lnt_resp_mode {
	LNT_RESP_PASS,		/* as received */
	LNT_RESP_DECHUNK,	/* chunked in, close-delimited out (HTTP/1.0) */
	LNT_RESP_RECHUNK,	/* close-delimited in, chunked out */
	LNT_RESP_FILTER		/* data only, through the body filters */
};

/*
 * A content handler that answers a request itself (static files, return,
 * later module handlers).  The connection calls it for client socket
 * events and its timer while in LNT_CONN_HANDLER, and release() whenever
 * the request ends or the connection closes.  It finishes the request with
 * lnt_conn_request_done(), lnt_conn_respond() or lnt_conn_close().
 */
typedef struct lnt_handler_s {
	const char	*name;
	void		(*event)(lnt_conn_t *c);
	void		(*timeout)(lnt_conn_t *c);
	void		(*release)(lnt_conn_t *c);
} lnt_handler_t;

typedef struct lnt_up_s {
	lnt_pconn_t	*pc;		/* upstream connection, NULL if none */
	lnt_timer_t	 timer;		/* connect, send or read timeout */
	lnt_upstream_t	*upstream;
	lnt_server_t	*server;
	uint64_t	 tried;		/* tried_set of at most 64 servers */
	uint64_t	*tried_set;	/* servers tried (upstream.h): &tried,
					   or in the request arena for more */
	bool		 reused;	/* pc came from the keep-alive pool */
	bool		 retried;	/* already retried a stale pooled pc */
	bool		 connected;
	bool		 readable;	/* edge-triggered readiness */
	bool		 writable;
	bool		 progress;	/* bytes moved since the timer was set */
	lnt_buf_t	*head;		/* request head to send upstream */
	lnt_buf_t	*in;		/* response bytes from upstream */
	lnt_http_msg_t	 resp;
	lnt_body_kind_t	 req_body;
	int64_t		 req_left;	/* LENGTH: request body bytes to send */
	lnt_chunked_t	 req_chunk;
	size_t		 req_ready;	/* parsed body bytes at c->in->pos */
	bool		 req_done;
	lnt_body_kind_t	 resp_body;
	int64_t		 resp_left;
	lnt_chunked_t	 resp_chunk;
	enum lnt_resp_mode resp_mode;
	size_t		 resp_ready;	/* body bytes at in->pos to send */
	bool		 resp_started;	/* the client has had the head */
	bool		 resp_done;	/* the upstream has sent it all */
	bool		 upgrade;	/* the request asked for Upgrade */
	bool		 tunnel;	/* after 101: raw bytes both ways */
	bool		 client_eof;	/* tunnel: client sent its last byte */
	bool		 upstream_eof;	/* tunnel: upstream sent its last */
	lnt_buf_t	*chead;		/* response head for the client */
	struct lnt_pipe_s *pipe;	/* splice buffer, NULL when copying */
	char		 pfx[24];	/* RECHUNK: "size\r\n" before the data */
	size_t		 pfx_len;
	size_t		 sfx_len;	/* RECHUNK: bytes of "\r\n" (or last
					   chunk) still to send after data */
	const char	*sfx;
	lnt_msec_t	 start;		/* monotonic, when connecting began */
	char		 addr[64];	/* server address, for logs */
} lnt_up_t;

struct lnt_conn_s {
	unsigned	 magic;
	lnt_conn_t	*prev, *next;	/* every open connection of the worker */
	lnt_event_t	 ev;		/* client socket */
	const lnt_io_t	*io;		/* how bytes move on it (plain, TLS) */
	void		*io_ctx;	/* the transport's state */
	lnt_timer_t	 timer;		/* header, body, idle or send timeout */
	lnt_listen_t	*listen;
	char		 peer[48];	/* client address without port */
	char		 pp_addr[48];	/* source address of the PROXY header,
					   "" without one */
	uint16_t	 pp_port;	/* its port */
	uint64_t	 id;
	enum lnt_conn_state state;
	bool		 readable;
	bool		 writable;
	bool		 eof;		/* the client will send no more */
	bool		 rdhup;		/* epoll told of its end of stream */
	bool		 keepalive;	/* serve another request afterwards */
	bool		 progress;
	unsigned	 requests;	/* served on this connection */
	lnt_buf_t	*in;		/* bytes from the client */
	lnt_buf_t	*reqhead;	/* the parsed head of this request */
	lnt_buf_t	*out;		/* a response lintel made */
	lnt_http_msg_t	 req;
	lnt_site_t	*site;
	lnt_route_t	*route;
	const lnt_limits_t *limits;
	lnt_up_t	 up;
	lnt_buf_t	*resp_extra;	/* "Name: value\r\n" lines modules add
					   to the response head, or NULL */
	char		 resp_drop[4][48]; /* upstream fields they replace */
	unsigned	 nresp_drop;
	lnt_buf_t	*uri_buf;	/* a URI set by a module, or NULL */
	lnt_str_t	 log_target;	/* the target as received, for logs */
	bool		 reroute;	/* route again after ROUTE_REWRITE */
	bool		 logged;	/* LOG phase and access log done */
	unsigned	 reroutes;
	const lnt_handler_t *handler;	/* in LNT_CONN_HANDLER */
	void		*handler_data;	/* the handler's, per request */
	struct lnt_bf_s	*bf;		/* the response's body filter chain,
					   NULL when no module asked */
	/* Module state of the request, all gone when it ends. */
	lnt_req_arena_t	 arena;		/* lnt_req_alloc, cleanups */
	struct lnt_req_ctx_s *mctx;	/* lnt_req_set_ctx list, in arena */
	struct lnt_req_setvar_s *setvars; /* lnt_req_set_var list, in arena */
	struct lnt_req_hdr_op_s *req_ops; /* request fields modules changed,
					    in arena */
	/* Where the module phases are, so a suspended request resumes. */
	lnt_phase_t	 phase;		/* the phase running or suspended */
	size_t		 hook_next;	/* its next handler (index) */
	bool		 resume_pending; /* lnt_req_resume() posted */
	bool		 in_handler;	/* a suspendable phase's handler runs */
	unsigned	 hook_depth;	/* module handlers running now */
	bool		 memory_pending; /* the request's memory goes when
					   they have returned */
	lnt_mod_rc_t	 resume_rc;	/* what it was given */
	/* For the access log. */
	lnt_msec_t	 req_start;	/* monotonic */
	lnt_msec_t	 req_start_wall;
	int		 status;
	int64_t		 body_sent;
	int64_t		 bytes_in;
};

/* "https" on a TLS connection, else "http": $scheme, X-Forwarded-Proto. */
static inline lnt_str_t
lnt_conn_scheme(const lnt_conn_t *c)
{
	return c->io->secure ? LNT_STR("https") : LNT_STR("http");
}

/* Take over the accepted socket <fd> from <peer>, listening on <l>. */
void	 lnt_conn_accept(lnt_listen_t *l, int fd,
	    const struct sockaddr *peer);

/*
 * Answer the current request with <status> and a small body made by
 * lintel, log <why> (NULL: nothing) at info level with the request context,
 * and go on to the next request or close, as <c>->keepalive says.
 */
void	 lnt_conn_respond(lnt_conn_t *c, int status, const char *why);

/*
 * Hand the routed request to <h>: <c> goes to LNT_CONN_HANDLER with
 * <data> as its per-request state.  Bytes after the head are in c->in.
 */
void	 lnt_conn_set_handler(lnt_conn_t *c, const lnt_handler_t *h,
	    void *data);

/* The request is done (proxy or handler): log it and go on, or close. */
void	 lnt_conn_request_done(lnt_conn_t *c);

/*
 * Go on with <c>, suspended by a module handler, at the end of this loop
 * turn: after that handler with LNT_MOD_CONTINUE, else end the request
 * (lintel's 500 unless the module answered meanwhile).  Ignored when <c>
 * is not suspended.
 */
void	 lnt_conn_resume(lnt_conn_t *c, lnt_mod_rc_t rc);

/*
 * Around each call of a module handler: a handler that answers at once
 * ends its request before it returns, and the request's memory (arena,
 * ctx, variables, cleanups) must outlive the call.
 */
static inline void
lnt_conn_hook_enter(lnt_conn_t *c)
{
	c->hook_depth++;
}
void	 lnt_conn_hook_leave(lnt_conn_t *c);

/* Close <c> now (reset-free: no lingering), freeing it at end of turn. */
void	 lnt_conn_close(lnt_conn_t *c);

/* What the access log and lnt_req_var() know of <c>'s request. */
void	 lnt_conn_access_rec(lnt_conn_t *c, lnt_access_rec_t *rec);

/* Log <fmt> at <level> with the connection's request context appended. */
void	 lnt_conn_log(const lnt_conn_t *c, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * A write of response bytes to the client of <c> that stopped short: <n>
 * is what the write returned, 0 or -1 with errno set to anything but
 * EINTR (the caller retries that).  0 when it would block (EAGAIN:
 * c->writable is cleared until EPOLLOUT), else -1 with the failure logged
 * and <c> closed.  One place, so that every relay to the client (copied,
 * filtered or spliced) stops and logs alike; inline, as it sits in their
 * write loops.
 */
static inline int
lnt_conn_write_stopped(lnt_conn_t *c, ssize_t n)
{
	if (n == -1 && errno == EAGAIN) {
		c->writable = false;
		return 0;
	}
	lnt_conn_log(c, LNT_LOG_INFO, "writing to client: %s",
	    n == 0 ? "connection closed" : strerror(errno));
	lnt_conn_close(c);
	return -1;
}

/* Graceful stop: close idle connections, mark the rest to close. */
void	 lnt_conn_drain_all(void);
/* Fast stop. */
void	 lnt_conn_close_all(void);
size_t	 lnt_conn_count(void);
/* Free connections closed during this loop turn. */
void	 lnt_conn_reap(void);

/* Set by the worker on a graceful stop: no more keep-alive. */
extern bool	lnt_conn_draining;

#endif /* LNT_CONN_H */
