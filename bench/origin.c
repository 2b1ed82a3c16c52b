/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/origin: the origin server of the benchmark -- as little work per
 * request as HTTP/1.1 allows, so that the proxy in front of it is what the
 * benchmark measures.  Built by bench/run with `cc -O2`; not installed.
 *
 *   origin [-p PORT] [-f PORTFILE] [-t THREADS]
 *
 * Listens on 127.0.0.1:PORT (0, the default, lets the kernel choose) and
 * writes the port it got to PORTFILE (or to stdout).  GET /N answers N bytes
 * of body, N a decimal number with an optional k or m suffix (powers of
 * 1024): /13, /64k, /1m; any other path answers 13 bytes.  Every response
 * has a Content-Length; keep-alive unless the request says
 * "Connection: close" or is HTTP/1.0.  Request bodies are not supported
 * (the benchmark sends GETs only).
 *
 * Small bodies go out in one write() with the head; large ones are
 * sendfile()d from a memfd, so the origin never copies them.  THREADS
 * threads (default 1) each run an epoll loop on their own SO_REUSEPORT
 * listening socket.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BODY	(64u << 20)	/* largest body served */
#define SMALL_BODY	16384		/* bodies up to this go with the head */
#define IN_SIZE		8192		/* request head buffer */
#define DEFAULT_BODY	13

struct conn {
	int		 fd;
	size_t		 in_len;
	char		 in[IN_SIZE];
	/* the response being sent: out[out_off..out_len), then the file */
	size_t		 out_len, out_off;
	off_t		 file_off, file_end;
	int		 close_after;
	char		 out[256 + SMALL_BODY];
};

static int	 body_fd = -1;		/* memfd of MAX_BODY bytes */
static char	 body_mem[SMALL_BODY];
static int	 port;

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static size_t
parse_size(const char *p, const char *end)
{
	size_t n = 0;
	int digits = 0;

	while (p < end && *p >= '0' && *p <= '9' && n < MAX_BODY) {
		n = n * 10 + (size_t)(*p++ - '0');
		digits++;
	}
	if (digits == 0)
		return DEFAULT_BODY;
	if (p < end && (*p == 'k' || *p == 'K'))
		n <<= 10, p++;
	else if (p < end && (*p == 'm' || *p == 'M'))
		n <<= 20, p++;
	return n > MAX_BODY ? MAX_BODY : n;
}

/* A token in a header value list, case-insensitively. */
static int
has_close(const char *head, size_t len)
{
	const char *p = head, *end = head + len;

	while ((p = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL) {
		p += 2;
		if ((size_t)(end - p) > 11 && strncasecmp(p, "connection:", 11) == 0) {
			const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

			for (const char *q = p + 11; eol && q + 5 <= eol; q++)
				if (strncasecmp(q, "close", 5) == 0)
					return 1;
		}
	}
	return 0;
}

/* Prepare the response to the complete request head in[0..hlen). */
static void
respond(struct conn *c, size_t hlen)
{
	const char *sp1 = memchr(c->in, ' ', hlen), *sp2;
	size_t n = DEFAULT_BODY;
	int len;

	c->close_after = has_close(c->in, hlen);
	if (sp1 != NULL && (sp2 = memchr(sp1 + 1, ' ', hlen - (size_t)(sp1 + 1 - c->in))) != NULL) {
		if (sp1[1] == '/')
			n = parse_size(sp1 + 2, sp2);
		if ((size_t)(c->in + hlen - sp2) > 9 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0)
			c->close_after = 1;
	}
	len = snprintf(c->out, 256,
	    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Length: %zu\r\n%s\r\n", n,
	    c->close_after ? "Connection: close\r\n" : "");
	c->out_len = (size_t)len;
	c->out_off = 0;
	if (n <= SMALL_BODY) {
		memcpy(c->out + len, body_mem, n);
		c->out_len += n;
		c->file_off = c->file_end = 0;
	} else {
		c->file_off = 0;
		c->file_end = (off_t)n;
	}
	/* the request is consumed */
	memmove(c->in, c->in + hlen, c->in_len - hlen);
	c->in_len -= hlen;
}

/* Send what is pending: 1 done, 0 would block, -1 error. */
static int
send_pending(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL | (c->file_off < c->file_end ? MSG_MORE : 0));

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->out_off += (size_t)w;
	}
	while (c->file_off < c->file_end) {
		ssize_t w = sendfile(c->fd, body_fd, &c->file_off,
		    (size_t)(c->file_end - c->file_off));

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		if (w == 0)
			return -1;
	}
	c->out_len = c->out_off = 0;
	return 1;
}

static void
conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Serve what can be served without blocking; 0 keep, -1 closed. */
static int
serve(int ep, struct conn *c, int *want_out)
{
	for (;;) {
		int r;

		if (c->out_len > 0 || c->file_off < c->file_end) {
			r = send_pending(c);
			if (r < 0)
				goto gone;
			if (r == 0) {
				*want_out = 1;
				return 0;
			}
			if (c->close_after)
				goto gone;
		}
		*want_out = 0;
		/* the next request, maybe already buffered (pipelining) */
		char *end = c->in_len >= 4 ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;

		if (end != NULL) {
			respond(c, (size_t)(end + 4 - c->in));
			continue;
		}
		if (c->in_len == IN_SIZE)
			goto gone;	/* head too large */
		ssize_t n = read(c->fd, c->in + c->in_len, IN_SIZE - c->in_len);

		if (n == 0)
			goto gone;
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			goto gone;
		}
		c->in_len += (size_t)n;
	}
gone:
	conn_close(ep, c);
	return -1;
}

static int
listen_socket(int p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)p);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	if (getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
		die("getsockname");
	port = ntohs(sin.sin_port);
	return fd;
}

static void *
loop(void *arg)
{
	int lfd = (int)(intptr_t)arg, ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[256];

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll");
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			int want_out = 0, one = 1;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if ((c = malloc(sizeof(*c))) == NULL)
						die("malloc");
					c->fd = fd;
					c->in_len = c->out_len = c->out_off = 0;
					c->file_off = c->file_end = 0;
					c->close_after = 0;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN | EPOLLET;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
					if (serve(ep, c, &want_out) == 0 && want_out) {
						ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
						epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
					}
				}
				continue;
			}
			/* Edge-triggered on both directions: serve() runs until
			 * EAGAIN, so nothing is missed. */
			if (serve(ep, c, &want_out) == 0 && want_out) {
				ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *portfile = NULL;
	int p = 0, threads = 1, opt;
	pthread_t tid;
	FILE *f;

	while ((opt = getopt(argc, argv, "p:f:t:")) != -1) {
		switch (opt) {
		case 'p': p = atoi(optarg); break;
		case 'f': portfile = optarg; break;
		case 't': threads = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: origin [-p port] [-f portfile] [-t threads]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 64)
		threads = 1;
	signal(SIGPIPE, SIG_IGN);

	memset(body_mem, 'x', sizeof(body_mem));
	if ((body_fd = memfd_create("origin-body", MFD_CLOEXEC)) < 0)
		die("memfd_create");
	if (ftruncate(body_fd, MAX_BODY) < 0)
		die("ftruncate");
	for (off_t off = 0; off < MAX_BODY; off += SMALL_BODY)
		if (pwrite(body_fd, body_mem, SMALL_BODY, off) != SMALL_BODY)
			die("pwrite");

	int first = listen_socket(p);

	for (int i = 1; i < threads; i++) {
		int lfd = listen_socket(port);

		if (pthread_create(&tid, NULL, loop, (void *)(intptr_t)lfd) != 0)
			die("pthread_create");
	}
	if (portfile != NULL) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL)
			die(tmp);
		fprintf(f, "%d\n", port);
		fclose(f);
		if (rename(tmp, portfile) < 0)
			die("rename");
	} else {
		printf("%d\n", port);
		fflush(stdout);
	}
	loop((void *)(intptr_t)first);
	return 0;
}
