/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * splice(2) relay for response bodies.  The pipe is filled while it has
 * room, also while the client is blocked, and never beyond its capacity,
 * so a slow client simply stops the reads from the upstream (back-pressure)
 * and memory stays one pipe per connection.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "log.h"
#include "proxy.h"
#include "splice.h"

#define PIPE_SIZE	(256 * 1024)	/* asked of F_SETPIPE_SZ */
#define MAX_FREE_PIPES	64

static lnt_pipe_t	*free_pipes;
static unsigned		 nfree_pipes;
static size_t		 pipe_capacity = PIPE_SIZE;

static lnt_pipe_t *
pipe_get(void)
{
	lnt_pipe_t *p = free_pipes;
	int fds[2];

	if (p != NULL) {
		free_pipes = p->next;
		nfree_pipes--;
		return p;
	}
	if ((p = malloc(sizeof(*p))) == NULL)
		return NULL;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
		free(p);
		return NULL;
	}
	/* A bigger pipe means fewer splices; keep whatever we are given. */
	if (fcntl(fds[1], F_SETPIPE_SZ, PIPE_SIZE) == -1) {
		int got = fcntl(fds[1], F_GETPIPE_SZ);

		if (got > 0 && (size_t)got < pipe_capacity)
			pipe_capacity = (size_t)got;
	}
	*p = (lnt_pipe_t){ .rd = fds[0], .wr = fds[1] };
	return p;
}

static void
pipe_put(lnt_pipe_t *p)
{
	/* Bytes left in a pipe belong to an aborted body: never reuse it. */
	if (p->len > 0 || nfree_pipes >= MAX_FREE_PIPES) {
		close(p->rd);
		close(p->wr);
		free(p);
		return;
	}
	p->next = free_pipes;
	free_pipes = p;
	nfree_pipes++;
}

bool
lnt_splice_begin(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;

	/* Both ends must be plain sockets: TLS bytes need user space. */
	if (!c->io->zero_copy || !u->pc->io->zero_copy ||
	    u->resp_mode != LNT_RESP_PASS || u->resp_done ||
	    lnt_buf_len(u->in) > 0)
		return false;
	if (!(u->resp_body == LNT_BODY_CLOSE ||
	    (u->resp_body == LNT_BODY_LENGTH &&
	    u->resp_left >= LNT_SPLICE_MIN)))
		return false;
	u->pipe = pipe_get();
	return u->pipe != NULL;
}

/* Pipe to client; 1 once it is empty, 0 blocked, -1 closed. */
static int
drain_pipe(lnt_conn_t *c, lnt_pipe_t *p)
{
	while (p->len > 0) {
		ssize_t n;

		if (!c->writable)
			return 0;
		n = splice(p->rd, NULL, c->ev.fd, NULL, p->len,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			p->len -= (size_t)n;
			c->body_sent += n;
			c->progress = true;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return lnt_conn_write_stopped(c, n);
	}
	return 1;
}

/*
 * Upstream to pipe, into the room the pipe has left; 1 on bytes, 0
 * blocked, -1 on EOF (*err 0) or error.
 */
static int
fill_pipe(lnt_conn_t *c, lnt_pipe_t *p, int *err)
{
	lnt_up_t *u = &c->up;
	size_t want = pipe_capacity - p->len;
	ssize_t n;

	if (u->resp_body == LNT_BODY_LENGTH && (int64_t)want > u->resp_left)
		want = (size_t)u->resp_left;
	n = splice(u->pc->ev.fd, NULL, p->wr, NULL, want,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		p->len += (size_t)n;
		u->progress = true;
		if (u->resp_body == LNT_BODY_LENGTH) {
			u->resp_left -= n;
			u->resp_done = u->resp_left == 0;
		}
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		/*
		 * Into an empty pipe EAGAIN means the socket is empty.  Into
		 * one that holds bytes it may instead mean that the pipe has
		 * no free slot (a slot holds a fragment of a page, so it can
		 * be full below its capacity in bytes): the socket stays
		 * readable as far as we know, since edge-triggered epoll
		 * would not tell again, and the next drain retries it.
		 */
		if (errno == EAGAIN && p->len == 0)
			u->readable = false;
		return 0;
	}
	*err = n == 0 ? 0 : errno;
	return -1;
}

/*
 * The response head, still in u->chead; with <more> (body bytes wait in
 * the pipe and are spliced right after) it is sent with MSG_MORE so that
 * head and first body bytes share a segment.  1 when it is all out, 0
 * blocked, -1 closed.
 */
static int
send_head(lnt_conn_t *c, bool more)
{
	lnt_buf_t *h = c->up.chead;

	while (lnt_buf_len(h) > 0) {
		ssize_t n;

		if (!c->writable)
			return 0;
		n = send(c->ev.fd, h->pos, lnt_buf_len(h),
		    MSG_NOSIGNAL | (more ? MSG_MORE : 0));
		if (n > 0) {
			h->pos += n;
			c->progress = true;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return lnt_conn_write_stopped(c, n);
	}
	return 1;
}

/*
 * The head first: when body bytes can be had at once they are put in the
 * pipe before it goes, so that it goes with them; when none are there yet
 * it goes alone rather than wait for them.
 */
static int
relay_head(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	int err;

	if (u->pipe->len == 0 && !u->resp_done && u->readable &&
	    fill_pipe(c, u->pipe, &err) == -1 &&
	    lnt_proxy_upstream_ended(c, err) == -1)
		return -1;
	return send_head(c, u->pipe->len > 0);
}

int
lnt_splice_relay(lnt_conn_t *c)
{
	lnt_up_t *u = &c->up;
	lnt_pipe_t *p = u->pipe;
	int err;

	for (;;) {
		int r;

		if (u->chead != NULL && lnt_buf_len(u->chead) > 0) {
			if ((r = relay_head(c)) <= 0)
				return r;
			continue;
		}
		if ((r = drain_pipe(c, p)) == -1)
			return -1;
		if (p->len == 0 && u->resp_done)
			return 1;
		/* Blocked client or not, the pipe takes what it has room
		 * for: the next drain moves more at once. */
		if (u->resp_done || !u->readable || p->len >= pipe_capacity)
			return 0;
		r = fill_pipe(c, p, &err);
		if (r == 0)
			return 0;
		if (r == -1 && lnt_proxy_upstream_ended(c, err) == -1)
			return -1;
	}
}

void
lnt_splice_release(lnt_conn_t *c)
{
	if (c->up.pipe != NULL)
		pipe_put(c->up.pipe);
	c->up.pipe = NULL;
}
