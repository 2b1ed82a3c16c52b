/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Zero-copy relay of response bodies that pass through unchanged:
 * splice(2) from the upstream socket into a pipe and from the pipe into the
 * client socket, so the bytes never visit user space.
 */
#ifndef LNT_SPLICE_H
#define LNT_SPLICE_H

#include "core.h"

/* A kernel pipe used as the splice buffer, pooled per worker. */
typedef struct lnt_pipe_s {
	int			 rd;
	int			 wr;
	size_t			 len;	/* bytes in the pipe */
	struct lnt_pipe_s	*next;
} lnt_pipe_t;

/* Bodies with fewer bytes left than this are not worth a pipe. */
#define LNT_SPLICE_MIN	(16 * 1024)

/*
 * Start splicing <c>'s response body if it passes through unchanged,
 * nothing is buffered in user space and enough of it is left; false when
 * it should be copied instead (also when no pipe could be had).
 */
bool	lnt_splice_begin(lnt_conn_t *c);

/*
 * Move response body bytes until blocked or done: 0 to wait for an
 * event, 1 when the whole body went out, -1 when the request failed and
 * <c> was closed.
 */
int	lnt_splice_relay(lnt_conn_t *c);

/* Give the pipe of <c>'s request back (or close it if it holds bytes). */
void	lnt_splice_release(lnt_conn_t *c);

#endif /* LNT_SPLICE_H */
