/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets: binding them, carrying them over a reload (same
 * address, same socket, so no connection is refused) and over a binary
 * upgrade (inherited descriptors matched by getsockname).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "listen.h"
#include "log.h"
#include "util.h"

/* Fill <err> with "<what> ADDR failed: strerror(errno)", keeping errno. */
static void
fail_msg(char *err, size_t errlen, const char *what, const lnt_listen_t *l)
{
	int saved = errno;

	snprintf(err, errlen, "%s %s failed: %s", what, l->text,
	    strerror(saved));
	errno = saved;
}

static int
set_opt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

/*
 * Bind and listen on <l>'s address (see listen.h); <err> gets the failing
 * step and the reason.
 */
int
lnt_listen_open(lnt_listen_t *l, char *err, size_t errlen)
{
	int fd, family = l->addr.ss_family;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		fail_msg(err, errlen, "socket() for", l);
		return -1;
	}
	if (set_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1) == -1) {
		fail_msg(err, errlen, "setsockopt(SO_REUSEADDR) on", l);
		goto fail;
	}
	if (family == AF_INET6 &&
	    set_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == -1) {
		fail_msg(err, errlen, "setsockopt(IPV6_V6ONLY) on", l);
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&l->addr, l->addrlen) == -1) {
		fail_msg(err, errlen, "bind() to", l);
		goto fail;
	}
	if (listen(fd, l->backlog) == -1) {
		fail_msg(err, errlen, "listen() on", l);
		goto fail;
	}
	l->fd = fd;
	return 0;
fail:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

/*
 * Bind each listener of <conf> still without a socket; on failure close
 * the ones this call opened and report the first error in <err>.
 */
int
lnt_listen_open_missing(lnt_conf_t *conf, char *err, size_t errlen)
{
	bool *opened = lnt_xcalloc(conf->nlistens ? conf->nlistens : 1,
	    sizeof(*opened));
	int rc = 0;

	for (size_t i = 0; i < conf->nlistens; i++) {
		if (conf->listens[i].fd != -1)
			continue;
		if (lnt_listen_open(&conf->listens[i], err, errlen) == -1) {
			rc = -1;
			break;
		}
		opened[i] = true;
	}
	if (rc == -1) {
		for (size_t i = 0; i < conf->nlistens; i++) {
			if (!opened[i])
				continue;
			close(conf->listens[i].fd);
			conf->listens[i].fd = -1;
		}
	}
	free(opened);
	return rc;
}

/* The listener of <conf> configured with <l>'s address, or NULL. */
static const lnt_listen_t *
find_same(const lnt_conf_t *conf, const lnt_listen_t *l)
{
	for (size_t i = 0; i < conf->nlistens; i++) {
		const lnt_listen_t *o = &conf->listens[i];

		if (lnt_sockaddr_equal((const struct sockaddr *)&o->addr,
		    o->addrlen, (const struct sockaddr *)&l->addr, l->addrlen))
			return o;
	}
	return NULL;
}

/* Whether <fd> is one of <conf>'s listening sockets. */
static bool
conf_has_fd(const lnt_conf_t *conf, int fd)
{
	if (conf == NULL || fd == -1)
		return false;
	for (size_t i = 0; i < conf->nlistens; i++)
		if (conf->listens[i].fd == fd)
			return true;
	return false;
}

/*
 * Reuse <old>'s sockets for the addresses <conf> still has.  listen() is
 * called again so that a changed backlog takes effect on the same socket.
 */
void
lnt_listen_reuse(lnt_conf_t *conf, const lnt_conf_t *old)
{
	for (size_t i = 0; i < conf->nlistens; i++) {
		lnt_listen_t *l = &conf->listens[i];
		const lnt_listen_t *o = find_same(old, l);

		if (l->fd != -1 || o == NULL || o->fd == -1)
			continue;
		l->fd = o->fd;
		if (listen(l->fd, l->backlog) == -1)
			lnt_log_errno(LNT_LOG_WARN, errno,
			    "listen() on %s with backlog %d failed", l->text,
			    l->backlog);
	}
}

/* Close <conf>'s sockets that <old> does not own; forget them all. */
void
lnt_listen_abandon(lnt_conf_t *conf, const lnt_conf_t *old)
{
	for (size_t i = 0; i < conf->nlistens; i++) {
		lnt_listen_t *l = &conf->listens[i];

		if (l->fd != -1 && !conf_has_fd(old, l->fd))
			close(l->fd);
		l->fd = -1;
	}
}

/* <old> hands its sockets to <conf>, closing those <conf> did not take. */
void
lnt_listen_release(lnt_conf_t *old, const lnt_conf_t *conf)
{
	for (size_t i = 0; i < old->nlistens; i++) {
		lnt_listen_t *l = &old->listens[i];

		if (l->fd != -1 && !conf_has_fd(conf, l->fd))
			close(l->fd);
		l->fd = -1;
	}
}

/* Close every listening socket of <conf>. */
void
lnt_listen_close_all(lnt_conf_t *conf)
{
	for (size_t i = 0; i < conf->nlistens; i++) {
		if (conf->listens[i].fd != -1)
			close(conf->listens[i].fd);
		conf->listens[i].fd = -1;
	}
}

/* Whether <fd> is an open, listening stream socket. */
static bool
is_listener(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1)
		return false;
	return on != 0;
}

/*
 * Give inherited socket <fd> to the listener of <conf> bound to the same
 * address.  Returns false if none wants it.
 */
static bool
adopt_one(lnt_conf_t *conf, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return false;
	for (size_t i = 0; i < conf->nlistens; i++) {
		lnt_listen_t *l = &conf->listens[i];

		if (l->fd != -1 || !lnt_sockaddr_equal(
		    (const struct sockaddr *)&l->addr, l->addrlen,
		    (const struct sockaddr *)&ss, len))
			continue;
		l->fd = fd;
		/* The old binary cleared close-on-exec to hand it over. */
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
			lnt_log_errno(LNT_LOG_WARN, errno,
			    "fcntl() on inherited socket %s", l->text);
		if (listen(fd, l->backlog) == -1)
			lnt_log_errno(LNT_LOG_WARN, errno,
			    "listen() on inherited socket %s", l->text);
		lnt_log(LNT_LOG_INFO, "using inherited socket %d for %s", fd,
		    l->text);
		return true;
	}
	return false;
}

/*
 * Take over the inherited sockets <fds> (<n>): match each to a configured
 * listener by address, close the rest, then bind what is still missing.
 */
int
lnt_listen_adopt(lnt_conf_t *conf, const int *fds, size_t n, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int fd = fds[i];

		if (conf_has_fd(conf, fd))
			continue;	/* listed twice */
		if (!is_listener(fd)) {
			lnt_log(LNT_LOG_WARN, "inherited fd %d is not a "
			    "listening socket, ignored", fd);
			continue;
		}
		if (!adopt_one(conf, fd)) {
			lnt_log(LNT_LOG_NOTICE, "closing inherited socket %d: "
			    "its address is no longer configured", fd);
			close(fd);
		}
	}
	return lnt_listen_open_missing(conf, err, errlen);
}

/* Parse "3;4;5" (see listen.h) into <*fds>/<*n>. */
int
lnt_listen_parse_fds(const char *s, int **fds, size_t *n)
{
	size_t cap = strlen(s) / 2 + 1, count = 0;
	int *out = lnt_xcalloc(cap, sizeof(*out));
	const char *p = s;

	while (*p != '\0') {
		char *end;
		long v;

		if (*p == ';') {
			p++;
			continue;
		}
		if (*p < '0' || *p > '9')
			goto bad;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || v > 65535 || (*end != ';' && *end != '\0'))
			goto bad;
		if (count == cap)
			goto bad;
		out[count++] = (int)v;
		p = end;
	}
	*fds = out;
	*n = count;
	return 0;
bad:
	free(out);
	return -1;
}

/* "3;4;5" for <conf>'s sockets (the LINTEL_LISTEN_FDS value). */
char *
lnt_listen_format_fds(const lnt_conf_t *conf)
{
	size_t len = conf->nlistens * 12 + 1, off = 0;
	char *s = lnt_xmalloc(len);

	s[0] = '\0';
	for (size_t i = 0; i < conf->nlistens; i++) {
		if (conf->listens[i].fd == -1)
			continue;
		off += (size_t)snprintf(s + off, len - off, "%s%d",
		    off ? ";" : "", conf->listens[i].fd);
	}
	return s;
}

/* Turn close-on-exec on or off (<on>) for each socket of <conf>. */
int
lnt_listen_set_cloexec(const lnt_conf_t *conf, bool on)
{
	for (size_t i = 0; i < conf->nlistens; i++) {
		int fd = conf->listens[i].fd;

		if (fd != -1 && fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) == -1)
			return -1;
	}
	return 0;
}

/* Compare two socket addresses by family, address and port. */
bool
lnt_sockaddr_equal(const struct sockaddr *a, socklen_t alen,
    const struct sockaddr *b, socklen_t blen)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    x->sin6_scope_id == y->sin6_scope_id &&
		    memcmp(&x->sin6_addr, &y->sin6_addr,
		    sizeof(x->sin6_addr)) == 0;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}
