/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker's event loop: edge-triggered epoll, the timer heap, a clock
 * read once per turn, and a queue of work deferred to the end of the turn.
 */
#ifndef LNT_EVENT_H
#define LNT_EVENT_H

#include <sys/epoll.h>

#include "core.h"
#include "timer.h"

/* One file descriptor watched by the loop, embedded in its owner. */
struct lnt_event_s {
	int		 fd;		/* -1 once closed: late events are dropped */
	void		(*handler)(lnt_event_t *ev, uint32_t events);
	void		*data;		/* the owner */
	lnt_event_t	*posted_next;	/* link in the deferred queue */
	bool		 posted;
};

typedef struct lnt_loop_s {
	int		  epfd;
	lnt_msec_t	  now;		/* monotonic ms, read once per turn */
	lnt_timer_heap_t  timers;
	lnt_event_t	 *posted;	/* deferred to the end of this turn */
	lnt_event_t	**posted_tail;
	void		(*end_of_turn)(void); /* frees closed connections */
} lnt_loop_t;

/* The worker's single loop. */
extern lnt_loop_t	lnt_loop;

int	lnt_loop_init(void);

/* Watch <ev>->fd for <events> (EPOLLIN, EPOLLOUT, EPOLLET, …). */
int	lnt_event_add(lnt_event_t *ev, uint32_t events);
/* Stop watching <ev>->fd (before closing it, or for a listener). */
int	lnt_event_del(lnt_event_t *ev);

/*
 * Call <ev>'s handler with <events> at the end of this loop turn, after the
 * I/O events: used to go on with pipelined requests without recursion.
 */
void	lnt_event_post(lnt_event_t *ev);

/* Close <ev>->fd and make late events for it harmless. */
void	lnt_event_close(lnt_event_t *ev);

/* Arm a timer <ms> from now on the loop's heap. */
void	lnt_timer_in(lnt_timer_t *timer, lnt_msec_t ms);
void	lnt_timer_stop(lnt_timer_t *timer);

/* Wait for events at most <max_wait> ms (-1: until one) and handle them. */
void	lnt_loop_turn(lnt_msec_t max_wait);

#endif /* LNT_EVENT_H */
