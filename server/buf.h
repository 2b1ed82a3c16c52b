/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fixed-size I/O buffers kept on a per-worker free list, so moving bytes
 * never calls malloc once a worker has warmed up.  Bytes to send or parse
 * are [pos, last); free space is [last, end).
 */
#ifndef LNT_BUF_H
#define LNT_BUF_H

#include "core.h"

#define LNT_BUF_SIZE	(16 * 1024)

struct lnt_buf_s {
	char		*start;
	char		*end;
	char		*pos;		/* first byte not yet consumed */
	char		*last;		/* one past the last byte held */
	lnt_buf_t	*next;		/* free-list link */
	bool		 large;		/* malloc'd for a big head, not pooled */
};

/*
 * Take a buffer of LNT_BUF_SIZE bytes, or of <size> bytes when that is
 * larger (a header buffer sized to max_header_size).  Returns NULL when out
 * of memory.
 */
lnt_buf_t	*lnt_buf_get(size_t size);
void		 lnt_buf_put(lnt_buf_t *b);

static inline size_t
lnt_buf_len(const lnt_buf_t *b)
{
	return (size_t)(b->last - b->pos);
}

static inline size_t
lnt_buf_room(const lnt_buf_t *b)
{
	return (size_t)(b->end - b->last);
}

static inline size_t
lnt_buf_capacity(const lnt_buf_t *b)
{
	return (size_t)(b->end - b->start);
}

/* Move the unconsumed bytes to the start to make room at the end. */
void		 lnt_buf_compact(lnt_buf_t *b);

#endif /* LNT_BUF_H */
