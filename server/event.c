/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The worker's event loop.  Connections are edge-triggered, so a handler
 * reads or writes until EAGAIN.  The clock is read once per turn: timeouts
 * are coarse by design and every handler in a turn sees the same "now".
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "util.h"

#define LNT_EVENTS_PER_TURN	256

lnt_loop_t	lnt_loop = { .epfd = -1 };

int
lnt_loop_init(void)
{
	lnt_loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lnt_loop.epfd == -1)
		return -1;
	lnt_loop.now = lnt_now_mono();
	lnt_loop.posted = NULL;
	lnt_loop.posted_tail = &lnt_loop.posted;
	return 0;
}

int
lnt_event_add(lnt_event_t *ev, uint32_t events)
{
	struct epoll_event ee = { .events = events, .data.ptr = ev };

	return epoll_ctl(lnt_loop.epfd, EPOLL_CTL_ADD, ev->fd, &ee);
}

int
lnt_event_del(lnt_event_t *ev)
{
	return epoll_ctl(lnt_loop.epfd, EPOLL_CTL_DEL, ev->fd, NULL);
}

void
lnt_event_post(lnt_event_t *ev)
{
	if (ev->posted)
		return;
	ev->posted = true;
	ev->posted_next = NULL;
	*lnt_loop.posted_tail = ev;
	lnt_loop.posted_tail = &ev->posted_next;
}

void
lnt_event_close(lnt_event_t *ev)
{
	if (ev->fd == -1)
		return;
	/* close() drops the epoll registration of a descriptor we alone hold. */
	close(ev->fd);
	ev->fd = -1;
}

void
lnt_timer_in(lnt_timer_t *timer, lnt_msec_t ms)
{
	if (lnt_timer_arm(&lnt_loop.timers, timer, lnt_loop.now + ms) == -1)
		lnt_log(LNT_LOG_CRIT, "cannot arm a timer: out of memory");
}

void
lnt_timer_stop(lnt_timer_t *timer)
{
	lnt_timer_disarm(&lnt_loop.timers, timer);
}

static void
run_posted(void)
{
	/* Handlers may post again: those run in the next turn. */
	lnt_event_t *ev = lnt_loop.posted;

	lnt_loop.posted = NULL;
	lnt_loop.posted_tail = &lnt_loop.posted;
	while (ev != NULL) {
		lnt_event_t *next = ev->posted_next;

		ev->posted = false;
		if (ev->fd != -1)
			ev->handler(ev, EPOLLIN | EPOLLOUT);
		ev = next;
	}
}

void
lnt_loop_turn(lnt_msec_t max_wait)
{
	struct epoll_event evs[LNT_EVENTS_PER_TURN];
	lnt_msec_t next = lnt_timer_next(&lnt_loop.timers);
	int timeout = (int)max_wait, n;

	if (next != -1) {
		lnt_msec_t until = next > lnt_loop.now ? next - lnt_loop.now : 0;

		if (timeout < 0 || until < timeout)
			timeout = (int)until;
	}
	if (lnt_loop.posted != NULL)
		timeout = 0;
	n = epoll_wait(lnt_loop.epfd, evs, LNT_EVENTS_PER_TURN, timeout);
	if (n == -1 && errno != EINTR)
		lnt_log_errno(LNT_LOG_ALERT, errno, "epoll_wait() failed");
	lnt_loop.now = lnt_now_mono();
	for (int i = 0; i < n; i++) {
		lnt_event_t *ev = evs[i].data.ptr;

		/* Closed earlier in this turn: its owner is still allocated. */
		if (ev->fd != -1)
			ev->handler(ev, evs[i].events);
	}
	lnt_timer_expire(&lnt_loop.timers, lnt_loop.now);
	run_posted();
	if (lnt_loop.end_of_turn != NULL)
		lnt_loop.end_of_turn();
}
