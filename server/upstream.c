/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Server choice and per-worker keep-alive pools.  Pools are per server and
 * last-in first-out, so the warmest connection is reused and the others
 * age out by keepalive_timeout.  An idle connection is watched: any byte
 * or EOF from the server while idle means it cannot be reused, so it is
 * closed at once rather than found broken by the next request.
 */
#include "config.h"

#include <stdlib.h>

#include "conf.h"
#include "conn.h"
#include "log.h"
#include "upstream.h"
#include "worker.h"

static lnt_pconn_t	*free_pconns;
static lnt_pconn_t	*reap_pconns;

lnt_server_t *
lnt_upstream_pick(lnt_upstream_t *up, uint64_t *tried)
{
	lnt_server_t *best = NULL;
	int total = 0;

	for (int backup = 0; backup <= 1 && best == NULL; backup++) {
		for (size_t i = 0; i < up->nservers; i++) {
			lnt_server_t *s = &up->servers[i];

			if (s->backup != backup || lnt_tried_has(tried, i))
				continue;
			s->rr_current += s->weight;
			total += s->weight;
			if (best == NULL || s->rr_current > best->rr_current)
				best = s;
		}
	}
	if (best != NULL) {
		best->rr_current -= total;
		lnt_tried_add(tried, (size_t)(best - up->servers));
	}
	return best;
}

static void
idle_unlink(lnt_pconn_t *pc)
{
	if (pc->prev != NULL)
		pc->prev->next = pc->next;
	else
		pc->server->idle = pc->next;
	if (pc->next != NULL)
		pc->next->prev = pc->prev;
	pc->prev = pc->next = NULL;
	pc->idle = false;
	pc->upstream->nidle--;
	lnt_timer_stop(&pc->idle_timer);
}

void
lnt_pconn_close(lnt_pconn_t *pc)
{
	if (pc->idle)
		idle_unlink(pc);
	lnt_timer_stop(&pc->idle_timer);
	lnt_io_close(pc->io, pc->ev.fd, pc->io_ctx);
	pc->io = &lnt_io_plain;
	pc->io_ctx = NULL;
	lnt_event_close(&pc->ev);
	/* Late events of this turn may still point here: reuse later. */
	pc->next = reap_pconns;
	reap_pconns = pc;
}

void
lnt_pool_reap(void)
{
	while (reap_pconns != NULL) {
		lnt_pconn_t *pc = reap_pconns;

		reap_pconns = pc->next;
		pc->next = free_pconns;
		free_pconns = pc;
	}
}

/*
 * While idle, readable means closed by the server (or a protocol error).
 * A writable edge is harmless: the send buffer drained after the last
 * request.
 */
static void
idle_event(lnt_event_t *ev, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		lnt_pconn_close(ev->data);
}

static void
idle_expired(lnt_timer_t *t)
{
	lnt_pconn_close(t->data);
}

lnt_pconn_t *
lnt_pconn_new(lnt_upstream_t *up, lnt_server_t *s, int fd)
{
	lnt_pconn_t *pc = free_pconns;

	if (pc != NULL)
		free_pconns = pc->next;
	else if ((pc = malloc(sizeof(*pc))) == NULL)
		return NULL;
	*pc = (lnt_pconn_t){ .upstream = up, .server = s };
	pc->ev.fd = fd;
	pc->io = &lnt_io_plain;
	lnt_timer_init(&pc->idle_timer, idle_expired, pc);
	return pc;
}

lnt_pconn_t *
lnt_pool_take(lnt_server_t *s)
{
	lnt_pconn_t *pc = s->idle;

	if (pc == NULL)
		return NULL;
	idle_unlink(pc);
	return pc;
}

void
lnt_pool_put(lnt_pconn_t *pc)
{
	lnt_upstream_t *up = pc->upstream;
	lnt_server_t *s = pc->server;

	if (lnt_conn_draining || up->nidle >= up->keepalive ||
	    pc->requests >= (unsigned)up->keepalive_requests) {
		lnt_pconn_close(pc);
		return;
	}
	pc->ev.handler = idle_event;
	pc->ev.data = pc;
	pc->idle = true;
	pc->prev = NULL;
	pc->next = s->idle;
	if (s->idle != NULL)
		s->idle->prev = pc;
	s->idle = pc;
	up->nidle++;
	lnt_timer_in(&pc->idle_timer, up->keepalive_timeout);
}

void
lnt_pool_close_idle(void)
{
	lnt_conf_t *conf = lnt_worker_conf;

	for (size_t i = 0; i < conf->nupstreams; i++) {
		lnt_upstream_t *up = &conf->upstreams[i];

		for (size_t j = 0; j < up->nservers; j++) {
			while (up->servers[j].idle != NULL)
				lnt_pconn_close(up->servers[j].idle);
		}
	}
}
