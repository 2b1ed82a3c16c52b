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
	/*
	 * The rest is optional (NULL for plain sockets).  handshake: 1 once
	 * the transport is ready for recv/sendv, 0 to wait for the socket
	 * (either way), -1 on failure with the reason in <why> (<len>
	 * bytes).  events: the epoll <events> as the transport sees them (a
	 * TLS read that waits for the socket to be writable is woken by
	 * EPOLLOUT).  shutdown: say goodbye (TLS close_notify) before
	 * shutdown(2), best effort.  close: free <ctx>; the caller closes
	 * <fd> afterwards.
	 */
	int		(*handshake)(int fd, void *ctx, char *why, size_t len);
	uint32_t	(*events)(void *ctx, uint32_t events);
	void		(*shutdown)(int fd, void *ctx);
	void		(*close)(int fd, void *ctx);
	/* splice(2) and sendfile(2) may bypass this table. */
	bool		 zero_copy;
	bool		 secure;	/* TLS: the scheme is https */
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

static inline int
lnt_io_handshake(const lnt_io_t *io, int fd, void *ctx, char *why,
    size_t len)
{
	return io->handshake != NULL ? io->handshake(fd, ctx, why, len) : 1;
}

static inline uint32_t
lnt_io_events(const lnt_io_t *io, void *ctx, uint32_t events)
{
	return io->events != NULL ? io->events(ctx, events) : events;
}

static inline void
lnt_io_shutdown(const lnt_io_t *io, int fd, void *ctx)
{
	if (io->shutdown != NULL)
		io->shutdown(fd, ctx);
}

static inline void
lnt_io_close(const lnt_io_t *io, int fd, void *ctx)
{
	if (io->close != NULL)
		io->close(fd, ctx);
}

#endif /* LNT_IO_H */
