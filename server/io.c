/* SPDX-License-Identifier: BSD-2-Clause */
/* Plain socket I/O, the default transport of lnt_io_t. */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

static ssize_t
plain_recv(int fd, void *ctx, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n == -1 && errno == EINTR);
	return n;
}

static ssize_t
plain_sendv(int fd, void *ctx, const struct iovec *iov, int cnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)(uintptr_t)iov,
	    .msg_iovlen = (size_t)cnt };
	ssize_t n;

	/* sendmsg rather than writev: MSG_NOSIGNAL, no SIGPIPE. */
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n;
}

const lnt_io_t lnt_io_plain = {
	.name = "plain",
	.recv = plain_recv,
	.sendv = plain_sendv,
	.zero_copy = true,
};
