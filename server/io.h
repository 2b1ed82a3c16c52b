/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Byte I/O on a connected socket through a small table of functions, so
 * the HTTP code reads and writes the same way whether the socket is plain
 * or wrapped in TLS.  Both ends use it: client connections and upstream
 * connections.
 */
#ifndef LNT_IO_H
#define LNT_IO_H

#include <sys/uio.h>

#include "core.h"

/*
 * Each function returns the bytes moved, 0 for end of stream (recv), or -1
 * with errno set: EAGAIN means "wait for the socket", anything else is
 * fatal for the connection.  <ctx> is the transport's state (an SSL object
 * for TLS, NULL when plain).
 */
typedef struct lnt_io_s {
	const char	*name;
	ssize_t		(*recv)(int fd, void *ctx, void *buf, size_t len);
	ssize_t		(*sendv)(int fd, void *ctx, const struct iovec *iov,
			    int cnt);
	/* splice(2) and sendfile(2) may bypass this table. */
	bool		 zero_copy;
} lnt_io_t;

/* Plain sockets: read(2), writev(2). */
extern const lnt_io_t	lnt_io_plain;

static inline ssize_t
lnt_io_recv(const lnt_io_t *io, int fd, void *ctx, void *buf, size_t len)
{
	return io->recv(fd, ctx, buf, len);
}

static inline ssize_t
lnt_io_send(const lnt_io_t *io, int fd, void *ctx, const void *buf,
    size_t len)
{
	struct iovec iov = { (void *)(uintptr_t)buf, len };

	return io->sendv(fd, ctx, &iov, 1);
}

static inline ssize_t
lnt_io_sendv(const lnt_io_t *io, int fd, void *ctx, const struct iovec *iov,
    int cnt)
{
	return io->sendv(fd, ctx, iov, cnt);
}

#endif /* LNT_IO_H */
