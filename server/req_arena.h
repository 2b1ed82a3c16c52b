/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The request arena: memory that lives until a request ends, handed out
 * by bumping a pointer through a chain of blocks, with cleanup callbacks
 * run when it is cleared.  Nothing is allocated until first use, and
 * blocks go back to a per-worker free list, so a request that asks for
 * nothing costs nothing.
 */
#ifndef LNT_REQ_ARENA_H
#define LNT_REQ_ARENA_H

#include "core.h"

#define LNT_ARENA_BLOCK		4096		/* bytes of a standard block */
#define LNT_ARENA_MAX		(1024 * 1024)	/* bytes one request may hold */
#define LNT_ARENA_FREE_MAX	64		/* standard blocks kept free */

typedef struct lnt_arena_block_s lnt_arena_block_t;
typedef struct lnt_cleanup_s	lnt_cleanup_t;

typedef struct lnt_req_arena_s {
	lnt_arena_block_t *blocks;	/* the one being filled first */
	lnt_cleanup_t	  *cleanups;	/* last added first */
	size_t		   held;	/* bytes of blocks, for LNT_ARENA_MAX */
} lnt_req_arena_t;

/*
 * <size> zeroed bytes from <a>, aligned for any type; NULL when out of
 * memory or when the request would hold more than LNT_ARENA_MAX bytes.
 */
void	*lnt_arena_alloc(lnt_req_arena_t *a, size_t size);

/*
 * Call <fn>(<data>) when <a> is cleared, before its memory goes (so <data>
 * may live in it); the last added is called first.  -1 if out of memory.
 */
int	 lnt_arena_cleanup_add(lnt_req_arena_t *a, void (*fn)(void *),
	    void *data);

/*
 * Run <a>'s cleanups (those they add too), then give its blocks back: <a>
 * is empty and ready for the next request.
 */
void	 lnt_arena_clear(lnt_req_arena_t *a);

/* Free the worker's cached blocks (at exit, for leak checkers). */
void	 lnt_arena_free_cache(void);

#endif /* LNT_REQ_ARENA_H */
