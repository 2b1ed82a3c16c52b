/* SPDX-License-Identifier: BSD-2-Clause */
/* Fixed-size I/O buffers on a per-worker free list. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static lnt_buf_t	*free_bufs;

lnt_buf_t *
lnt_buf_get(size_t size)
{
	lnt_buf_t *b;
	bool large = size > LNT_BUF_SIZE;

	if (!large && free_bufs != NULL) {
		b = free_bufs;
		free_bufs = b->next;
	} else {
		if (!large)
			size = LNT_BUF_SIZE;
		/* The struct and its bytes in one allocation. */
		b = malloc(sizeof(*b) + size);
		if (b == NULL)
			return NULL;
		b->start = (char *)(b + 1);
		b->end = b->start + size;
		b->large = large;
	}
	b->pos = b->last = b->start;
	b->next = NULL;
	return b;
}

void
lnt_buf_put(lnt_buf_t *b)
{
	if (b == NULL)
		return;
	if (b->large) {
		free(b);
		return;
	}
	b->next = free_bufs;
	free_bufs = b;
}

void
lnt_buf_compact(lnt_buf_t *b)
{
	size_t len = lnt_buf_len(b);

	if (b->pos == b->start)
		return;
	if (len > 0)
		memmove(b->start, b->pos, len);
	b->pos = b->start;
	b->last = b->start + len;
}
