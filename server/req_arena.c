/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The request arena (nginx pool semantics with a hard cap, as Varnish's
 * workspace has): bump allocation from a chain of blocks, freed at once
 * when the request ends, after the cleanups registered on it.
 */
#include "config.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "req_arena.h"

#define ALIGN		alignof(max_align_t)
#define ROUND(n)	(((n) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

struct lnt_arena_block_s {
	lnt_arena_block_t *next;
	size_t		   size;	/* usable bytes after the header */
	size_t		   used;
	alignas(max_align_t) unsigned char data[];
};

struct lnt_cleanup_s {
	void		(*fn)(void *data);
	void		*data;
	lnt_cleanup_t	*next;
};

/* Standard blocks given back by finished requests, reused first. */
static lnt_arena_block_t	*free_blocks;
static size_t			 nfree_blocks;

#define STD_USABLE	(LNT_ARENA_BLOCK - sizeof(lnt_arena_block_t))

static lnt_arena_block_t *
block_new(size_t usable)
{
	lnt_arena_block_t *b;

	if (usable <= STD_USABLE && free_blocks != NULL) {
		b = free_blocks;
		free_blocks = b->next;
		nfree_blocks--;
	} else {
		if (usable < STD_USABLE)
			usable = STD_USABLE;
		if ((b = malloc(sizeof(*b) + usable)) == NULL)
			return NULL;
		b->size = usable;
	}
	b->used = 0;
	b->next = NULL;
	return b;
}

static void
block_free(lnt_arena_block_t *b)
{
	if (b->size == STD_USABLE && nfree_blocks < LNT_ARENA_FREE_MAX) {
		b->next = free_blocks;
		free_blocks = b;
		nfree_blocks++;
	} else
		free(b);
}

void *
lnt_arena_alloc(lnt_req_arena_t *a, size_t size)
{
	lnt_arena_block_t *b = a->blocks;
	void *p;

	if (size > LNT_ARENA_MAX)
		return NULL;
	size = ROUND(size == 0 ? 1 : size);
	if (b == NULL || b->size - b->used < size) {
		size_t usable = size > STD_USABLE ? size : STD_USABLE;

		if (a->held + usable > LNT_ARENA_MAX ||
		    (b = block_new(usable)) == NULL)
			return NULL;
		a->held += b->size;
		/* A big block is used up at once: keep filling the current
		 * one, so a large request does not waste its free space. */
		if (size > STD_USABLE && a->blocks != NULL) {
			b->next = a->blocks->next;
			a->blocks->next = b;
		} else {
			b->next = a->blocks;
			a->blocks = b;
		}
	}
	p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

int
lnt_arena_cleanup_add(lnt_req_arena_t *a, void (*fn)(void *), void *data)
{
	lnt_cleanup_t *cl = lnt_arena_alloc(a, sizeof(*cl));

	if (cl == NULL)
		return -1;
	cl->fn = fn;
	cl->data = data;
	cl->next = a->cleanups;
	a->cleanups = cl;
	return 0;
}

void
lnt_arena_clear(lnt_req_arena_t *a)
{
	lnt_arena_block_t *b, *next;

	/* One at a time: a cleanup may add another, which runs too. */
	while (a->cleanups != NULL) {
		lnt_cleanup_t *cl = a->cleanups;

		a->cleanups = cl->next;
		cl->fn(cl->data);
	}
	for (b = a->blocks; b != NULL; b = next) {
		next = b->next;
		block_free(b);
	}
	a->blocks = NULL;
	a->held = 0;
}

void
lnt_arena_free_cache(void)
{
	while (free_blocks != NULL) {
		lnt_arena_block_t *b = free_blocks;

		free_blocks = b->next;
		free(b);
	}
	nfree_blocks = 0;
}
