/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Upstream connections of a worker: choosing a server and keeping idle
 * keep-alive connections per server for reuse.
 */
#ifndef LNT_UPSTREAM_H
#define LNT_UPSTREAM_H

#include "core.h"
#include "event.h"
#include "io.h"
#include "timer.h"

/* One connection to an upstream server, in use or idle in its pool. */
struct lnt_pconn_s {
	lnt_event_t	 ev;		/* data: the request's lnt_conn_t in use */
	lnt_timer_t	 idle_timer;	/* keepalive_timeout while idle */
	const lnt_io_t	*io;		/* plain, or TLS to the upstream */
	void		*io_ctx;
	lnt_upstream_t	*upstream;
	lnt_server_t	*server;
	unsigned	 requests;	/* requests sent on it so far */
	bool		 idle;
	lnt_pconn_t	*prev, *next;	/* the server's idle list, or reaping */
};

/*
 * The servers a request has tried, as a bit set over an upstream's
 * servers: bit i % 64 of word i / 64 for servers[i], however many there are
 * (a request makes at most one attempt per server).
 */
#define LNT_TRIED_WORDS(n)	(((size_t)(n) + 63) / 64)

static inline bool
lnt_tried_has(const uint64_t *tried, size_t i)
{
	return (tried[i / 64] >> (i % 64)) & 1;
}

static inline void
lnt_tried_add(uint64_t *tried, size_t i)
{
	tried[i / 64] |= (uint64_t)1 << (i % 64);
}

/*
 * Pick a server of <up> by smooth weighted round-robin among those not in
 * <tried> (LNT_TRIED_WORDS(up->nservers) words), then add it; backup
 * servers only once every primary is tried.  NULL when none is left.
 */
lnt_server_t	*lnt_upstream_pick(lnt_upstream_t *up, uint64_t *tried);

/* An idle connection to <s> taken out of its pool, or NULL. */
lnt_pconn_t	*lnt_pool_take(lnt_server_t *s);

/*
 * Wrap the new socket <fd> to server <s> of <up>.  NULL when out of
 * memory (the caller closes <fd>).
 */
lnt_pconn_t	*lnt_pconn_new(lnt_upstream_t *up, lnt_server_t *s, int fd);

/*
 * The request on <pc> ended cleanly: keep it idle for another request
 * unless the pool is full, it has served keepalive_requests, or the
 * worker is stopping, in which case it is closed.
 */
void		 lnt_pool_put(lnt_pconn_t *pc);

/* Close <pc> (in use or idle); its memory is reused after this turn. */
void		 lnt_pconn_close(lnt_pconn_t *pc);

/* Close every idle connection (graceful stop). */
void		 lnt_pool_close_idle(void);

/* Recycle the connections closed during this loop turn. */
void		 lnt_pool_reap(void);

#endif /* LNT_UPSTREAM_H */
