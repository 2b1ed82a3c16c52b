/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timers in a binary min-heap: arm, re-arm and disarm are O(log n), finding
 * the next deadline O(1).  A timer is embedded in the object it serves.
 */
#ifndef LNT_TIMER_H
#define LNT_TIMER_H

#include "core.h"

#define LNT_TIMER_IDLE	SIZE_MAX	/* heap_index of a timer not armed */

struct lnt_timer_s {
	lnt_msec_t	 when;		/* monotonic ms deadline */
	size_t		 heap_index;	/* position in the heap, or LNT_TIMER_IDLE */
	void		(*fire)(lnt_timer_t *timer);
	void		*data;		/* the owner */
};

typedef struct lnt_timer_heap_s {
	lnt_timer_t	**v;
	size_t		  n;
	size_t		  cap;
} lnt_timer_heap_t;

/* Prepare <timer> to call <fire> with <timer> when it expires. */
void		lnt_timer_init(lnt_timer_t *timer,
		    void (*fire)(lnt_timer_t *), void *data);

/*
 * Arm <timer> in <heap> for the deadline <when>, moving it if it was
 * already armed.  Returns -1 if the heap could not grow (the timer stays
 * as it was), 0 otherwise.
 */
int		lnt_timer_arm(lnt_timer_heap_t *heap, lnt_timer_t *timer,
		    lnt_msec_t when);
void		lnt_timer_disarm(lnt_timer_heap_t *heap, lnt_timer_t *timer);

static inline bool
lnt_timer_armed(const lnt_timer_t *timer)
{
	return timer->heap_index != LNT_TIMER_IDLE;
}

/* The earliest deadline in <heap>, or -1 if it is empty. */
lnt_msec_t	lnt_timer_next(const lnt_timer_heap_t *heap);

/*
 * Disarm and fire every timer whose deadline is at or before <now>, in
 * deadline order.  A fire callback may arm or disarm any timer.  Returns
 * how many fired.
 */
size_t		lnt_timer_expire(lnt_timer_heap_t *heap, lnt_msec_t now);

void		lnt_timer_heap_free(lnt_timer_heap_t *heap);

#endif /* LNT_TIMER_H */
