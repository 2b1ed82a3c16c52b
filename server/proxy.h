/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forwarding a request to an upstream server and streaming the response
 * back, with back-pressure both ways.
 */
#ifndef LNT_PROXY_H
#define LNT_PROXY_H

#include "core.h"

/*
 * Start proxying <c>'s parsed request to its route's upstream.  The
 * request head is in c->reqhead, any body bytes already read in c->in.
 * Ends with lnt_conn_request_done(), lnt_conn_respond() or
 * lnt_conn_close().
 */
void	lnt_proxy_start(lnt_conn_t *c);

/* Client socket events while the proxy owns the request. */
void	lnt_proxy_client_event(lnt_conn_t *c);

/* Client-side timer fired while the proxy owns the request. */
void	lnt_proxy_client_timeout(lnt_conn_t *c);

/* Release the upstream side of <c> (socket, buffers, timer). */
void	lnt_proxy_release(lnt_conn_t *c);

/*
 * proxy_head.c, for proxy.c: append to <b> the head sent upstream for
 * <c>'s request, or the head sent to the client for its upstream response
 * (<*keep>: the client connection stays open).  -1 if <b> is too small.
 */
int	lnt_proxy_request_head(lnt_conn_t *c, lnt_buf_t *b);
int	lnt_proxy_response_head(lnt_conn_t *c, lnt_buf_t *b, bool *keep);

/*
 * For the copying, filtered and spliced relays alike: the upstream ended
 * the response body (<err> 0: EOF) or failed with errno <err>.  1 when
 * that ends a close-delimited body (u->resp_done set), else -1 with the
 * truncation logged and <c> closed.
 */
int	lnt_proxy_upstream_ended(lnt_conn_t *c, int err);

#endif /* LNT_PROXY_H */
