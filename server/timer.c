/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timers in a binary min-heap ordered by deadline.  Each timer remembers its
 * index so it can be moved or removed without a search.
 */
#include "config.h"

#include <stdlib.h>

#include "timer.h"

static void
heap_set(lnt_timer_heap_t *heap, size_t i, lnt_timer_t *t)
{
	heap->v[i] = t;
	t->heap_index = i;
}

static void
sift_up(lnt_timer_heap_t *heap, size_t i)
{
	lnt_timer_t *t = heap->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (heap->v[parent]->when <= t->when)
			break;
		heap_set(heap, i, heap->v[parent]);
		i = parent;
	}
	heap_set(heap, i, t);
}

static void
sift_down(lnt_timer_heap_t *heap, size_t i)
{
	lnt_timer_t *t = heap->v[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= heap->n)
			break;
		if (child + 1 < heap->n &&
		    heap->v[child + 1]->when < heap->v[child]->when)
			child++;
		if (t->when <= heap->v[child]->when)
			break;
		heap_set(heap, i, heap->v[child]);
		i = child;
	}
	heap_set(heap, i, t);
}

void
lnt_timer_init(lnt_timer_t *timer, void (*fire)(lnt_timer_t *), void *data)
{
	timer->when = 0;
	timer->heap_index = LNT_TIMER_IDLE;
	timer->fire = fire;
	timer->data = data;
}

int
lnt_timer_arm(lnt_timer_heap_t *heap, lnt_timer_t *timer, lnt_msec_t when)
{
	if (lnt_timer_armed(timer)) {
		lnt_msec_t old = timer->when;

		timer->when = when;
		if (when < old)
			sift_up(heap, timer->heap_index);
		else
			sift_down(heap, timer->heap_index);
		return 0;
	}
	if (heap->n == heap->cap) {
		size_t cap = heap->cap ? heap->cap * 2 : 64;
		lnt_timer_t **v = realloc(heap->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		heap->v = v;
		heap->cap = cap;
	}
	timer->when = when;
	heap_set(heap, heap->n++, timer);
	sift_up(heap, timer->heap_index);
	return 0;
}

void
lnt_timer_disarm(lnt_timer_heap_t *heap, lnt_timer_t *timer)
{
	size_t i = timer->heap_index;
	lnt_timer_t *last;

	if (i == LNT_TIMER_IDLE)
		return;
	timer->heap_index = LNT_TIMER_IDLE;
	last = heap->v[--heap->n];
	if (i == heap->n)
		return;
	heap_set(heap, i, last);
	/* The moved timer may belong above or below its new place. */
	if (i > 0 && heap->v[(i - 1) / 2]->when > last->when)
		sift_up(heap, i);
	else
		sift_down(heap, i);
}

lnt_msec_t
lnt_timer_next(const lnt_timer_heap_t *heap)
{
	return heap->n ? heap->v[0]->when : -1;
}

size_t
lnt_timer_expire(lnt_timer_heap_t *heap, lnt_msec_t now)
{
	size_t fired = 0;

	while (heap->n > 0 && heap->v[0]->when <= now) {
		lnt_timer_t *t = heap->v[0];

		lnt_timer_disarm(heap, t);
		t->fire(t);
		fired++;
	}
	return fired;
}

void
lnt_timer_heap_free(lnt_timer_heap_t *heap)
{
	free(heap->v);
	heap->v = NULL;
	heap->n = heap->cap = 0;
}
