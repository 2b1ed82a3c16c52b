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
#include "log.h"
#include "tunnel.h"

/* Copy from <from> through <b> to <to>; 1 if bytes moved, 0 if blocked or
 * ended, -1 on an error.  <*from_ok>/<*to_ok> track readiness. */
static int
copy(int from, bool *from_ok, bool *eof, lnt_buf_t *b, int to, bool *to_ok,
    int64_t *counted)
{
	bool moved = false;

	for (;;) {
		ssize_t n;

		if (lnt_buf_len(b) > 0) {
			if (!*to_ok)
				return moved;
			n = send(to, b->pos, lnt_buf_len(b), MSG_NOSIGNAL);
			if (n > 0) {
				b->pos += n;
				if (counted != NULL)
					*counted += n;
				moved = true;
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN) {
				*to_ok = false;
				return moved;
			}
			return -1;
		}
		b->pos = b->last = b->start;
		if (*eof || !*from_ok)
			return moved;
		n = recv(from, b->last, lnt_buf_room(b), 0);
		if (n > 0) {
			b->last += n;
			moved = true;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			*from_ok = false;
			return moved;
		}
		if (n == -1)
			return -1;
		/* Orderly close: pass the half-close on. */
		*eof = true;
		shutdown(to, SHUT_WR);
		return moved;
	}
}

void
lnt_tunnel_pump(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	int up_fd = u->pc->ev.fd;
	int down, upw;

	/* The 101 head and any bytes after it go to the client first. */
	while (lnt_buf_len(u->chead) > 0 && c->writable) {
		ssize_t n = send(c->ev.fd, u->chead->pos,
		    lnt_buf_len(u->chead), MSG_NOSIGNAL);

		if (n > 0)
			u->chead->pos += n;
		else if (n == -1 && errno == EAGAIN)
			c->writable = false;
		else if (!(n == -1 && errno == EINTR)) {
			lnt_conn_close(c);
			return;
		}
	}
	if (lnt_buf_len(u->chead) > 0)
		return;
	down = copy(up_fd, &u->readable, &u->upstream_eof, u->in, c->ev.fd,
	    &c->writable, &c->body_sent);
	upw = copy(c->ev.fd, &c->readable, &u->client_eof, c->in, up_fd,
	    &u->writable, NULL);
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
