/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The BODY_FILTER chain: the modules that asked in HEADER_FILTER
 * (lnt_resp_filter_body) see the response body piece by piece; what the
 * last of them emits is copied into lintel buffers, framed (chunked for an
 * HTTP/1.1 client, close-delimited for HTTP/1.0) and written to the client.
 * The producers (proxy.c, reply.c) feed the chain and stop feeding it while
 * lnt_bf_full() says the client is behind: memory stays a few buffers.
 */
#ifndef LNT_BODY_FILTER_H
#define LNT_BODY_FILTER_H

#include "core.h"

typedef struct lnt_bf_s	lnt_bf_t;

/* Filtered output waiting for the client above this stops the input. */
#define LNT_BF_HIGH	(4 * 16 * 1024)

/*
 * Around the HEADER_FILTER phase of a response of <c> that may be
 * filtered: <has_body> is false for one without a body (HEAD, 1xx, 204,
 * 304), where lnt_resp_filter_body() refuses.  lnt_bf_end_head() returns
 * true when a module asked: c->bf is then the response's chain, the head
 * must carry neither Content-Length nor the body's own framing, and for
 * an HTTP/1.0 client c->keepalive has been turned off.
 */
void		 lnt_bf_begin_head(lnt_conn_t *c, bool has_body);
bool		 lnt_bf_end_head(lnt_conn_t *c);

/* "Transfer-Encoding: chunked" is to go in the head (HTTP/1.1 client). */
bool		 lnt_bf_chunked(const lnt_conn_t *c);

/*
 * Pass <len> bytes at <data> of the body (decoded) through the chain;
 * <last> once, at the end.  0, or -1 when a filter failed or memory ran
 * out: logged with the request context, the caller closes <c>.
 */
int		 lnt_bf_feed(lnt_conn_t *c, const void *data, size_t len,
		    bool last);

/*
 * Write <head> (the response head, may be NULL or empty) and the filtered
 * output to the client while it takes them.  0 when all was written or
 * the socket is full (c->writable cleared), -1 when <c> was closed.
 * <*sent> (may be NULL) grows by the bytes written.
 */
int		 lnt_bf_send(lnt_conn_t *c, lnt_buf_t *head, size_t *sent);

/* Output waits for the client; more than LNT_BF_HIGH bytes of it, or
 * more than a few buffers (lnt_bf_full: feed no more). */
bool		 lnt_bf_pending(const lnt_conn_t *c);
bool		 lnt_bf_full(const lnt_conn_t *c);
/* The last piece went through the chain: no more feeding. */
bool		 lnt_bf_fed_last(const lnt_conn_t *c);

/*
 * A module answers <c> (lnt_req_fail, lnt_req_respond...) while lintel
 * makes a response head (HEADER_FILTER) or filters a body: too late.  In
 * HEADER_FILTER the answer is ignored and the response goes on; from a
 * BODY_FILTER call, with the head out, the chain fails and the producer
 * closes the connection.  True, logged, in both cases (the caller then
 * writes nothing); false otherwise.
 */
bool		 lnt_bf_answer_too_late(lnt_conn_t *c);

/* Drop the chain of <c>'s response and its buffers (idempotent). */
void		 lnt_bf_release(lnt_conn_t *c);

#endif /* LNT_BODY_FILTER_H */
