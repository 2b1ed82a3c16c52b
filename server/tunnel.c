/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The tunnel that follows a "101 Switching Protocols": lintel no longer
 * parses anything and copies bytes in both directions, one buffer each way,
 * so a slow reader holds back its writer.  A half-close on one side is
 * passed on with shutdown(SHUT_WR); the tunnel ends when both sides are
 * done.  The upstream's read_timeout is the idle limit, as for responses.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "event.h"
#include "io.h"
#include "log.h"
#include "tunnel.h"

/* One side of the tunnel: its transport and readiness flags. */
typedef struct end {
	const lnt_io_t	*io;
	int		 fd;
	void		*ctx;
	bool		*readable;
	bool		*writable;
} end_t;

/* Send what <b> holds to <to>; 1 if bytes moved, 0 blocked, -1 error. */
static int
flush(lnt_buf_t *b, const end_t *to, int64_t *counted)
{
	bool moved = false;

	while (lnt_buf_len(b) > 0) {
		ssize_t n;

		if (!*to->writable)
			return moved;
		n = lnt_io_send(to->io, to->fd, to->ctx, b->pos,
		    lnt_buf_len(b));
		if (n > 0) {
			b->pos += n;
			if (counted != NULL)
				*counted += n;
			moved = true;
		} else if (n == -1 && errno == EAGAIN) {
			*to->writable = false;
		} else {
			return -1;
		}
	}
	return moved;
}

/*
 * Copy from <from> through <b> to <to> until blocked: 1 if bytes moved, 0
 * if not, -1 on an error.  An orderly close is passed on as a half-close.
 */
static int
copy(const end_t *from, bool *eof, lnt_buf_t *b, const end_t *to,
    int64_t *counted)
{
	bool moved = false;

	for (;;) {
		ssize_t n;
		int r = flush(b, to, counted);

		if (r == -1)
			return -1;
		moved |= r;
		if (lnt_buf_len(b) > 0)
			return moved;
		b->pos = b->last = b->start;
		if (*eof || !*from->readable)
			return moved;
		n = lnt_io_recv(from->io, from->fd, from->ctx, b->last,
		    lnt_buf_room(b));
		if (n > 0) {
			b->last += n;
			moved = true;
		} else if (n == -1 && errno == EAGAIN) {
			*from->readable = false;
			return moved;
		} else if (n == -1) {
			return -1;
		} else {
			*eof = true;
			lnt_io_shutdown(to->io, to->fd, to->ctx);
			shutdown(to->fd, SHUT_WR);
			return moved;
		}
	}
}

void
lnt_tunnel_pump(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	end_t client = { c->io, c->ev.fd, c->io_ctx, &c->readable,
	    &c->writable };
	end_t upstream = { u->pc->io, u->pc->ev.fd, u->pc->io_ctx,
	    &u->readable, &u->writable };
	int down, upw;

	/* The 101 head goes to the client before any tunnelled byte. */
	if (flush(u->chead, &client, NULL) == -1) {
		lnt_conn_close(c);
		return;
	}
	if (lnt_buf_len(u->chead) > 0)
		return;
	down = copy(&upstream, &u->upstream_eof, u->in, &client,
	    &c->body_sent);
	upw = copy(&client, &u->client_eof, c->in, &upstream, NULL);
	if (down == -1 || upw == -1) {
		lnt_conn_log(c, LNT_LOG_INFO, "tunnel closed: %s",
		    strerror(errno));
		lnt_conn_close(c);
		return;
	}
	if (u->client_eof && u->upstream_eof && lnt_buf_len(u->in) == 0 &&
	    lnt_buf_len(c->in) == 0) {
		lnt_conn_close(c);
		return;
	}
	if (down || upw || !lnt_timer_armed(&u->timer))
		lnt_timer_in(&u->timer, u->upstream->read_timeout);
}

void
lnt_tunnel_timeout(lnt_conn_t *c)
{
	lnt_conn_log(c, LNT_LOG_INFO, "tunnel idle for read_timeout; closing");
	lnt_conn_close(c);
}
