/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening sockets: the master binds them (or takes them over from the
 * previous configuration or the previous binary) and the workers share
 * them.  One socket per distinct configured address.
 */
#ifndef LNT_LISTEN_H
#define LNT_LISTEN_H

#include <sys/socket.h>

#include "core.h"

/* The environment variable that hands listeners to a new binary. */
#define LNT_LISTEN_ENV	"LINTEL_LISTEN_FDS"

/*
 * Create, bind and listen on <l>'s address, setting l->fd.  The socket is
 * non-blocking and close-on-exec, with SO_REUSEADDR (and IPV6_V6ONLY for
 * IPv6, so "[::]:80" and "0.0.0.0:80" can coexist).  On failure returns -1
 * with errno set, l->fd left at -1 and "bind() to ADDR failed: reason" in
 * <err> (<errlen> bytes).
 */
int	 lnt_listen_open(lnt_listen_t *l, char *err, size_t errlen);

/*
 * Bind every listener of <conf> that has no socket yet.  All or nothing:
 * on failure the sockets opened by this call are closed again, -1 is
 * returned and <err> says which address failed and why.
 */
int	 lnt_listen_open_missing(lnt_conf_t *conf, char *err, size_t errlen);

/*
 * For a reload: give each listener of <conf> the socket of the listener of
 * <old> configured with the same address.  <old> keeps its fds until
 * lnt_listen_release() (the old workers still accept on them).
 */
void	 lnt_listen_reuse(lnt_conf_t *conf, const lnt_conf_t *old);

/*
 * Undo a reload that will not happen: close the sockets of <conf> that are
 * not also <old>'s (<old> may be NULL) and set every fd of <conf> to -1.
 */
void	 lnt_listen_abandon(lnt_conf_t *conf, const lnt_conf_t *old);

/*
 * Commit a reload: the listeners of <old> whose socket <conf> now uses
 * forget it, and the master's copy of the others is closed.
 */
void	 lnt_listen_release(lnt_conf_t *old, const lnt_conf_t *conf);

/* Close every socket of <conf> and set the fds to -1. */
void	 lnt_listen_close_all(lnt_conf_t *conf);

/*
 * Take over the sockets <fds> (<n> of them) inherited from the previous
 * binary: each one listening on a configured address becomes that
 * listener's socket, the others are closed (and logged).  Listeners left
 * without a socket are then bound.  Returns 0, or -1 with <err> filled.
 */
int	 lnt_listen_adopt(lnt_conf_t *conf, const int *fds, size_t n,
	    char *err, size_t errlen);

/*
 * Parse the LINTEL_LISTEN_FDS value <s> ("3;4;5", a trailing ';' allowed)
 * into a malloc'd array <*fds> of <*n> descriptors.  Returns 0, or -1 if
 * the value is malformed (nothing allocated then).
 */
int	 lnt_listen_parse_fds(const char *s, int **fds, size_t *n);

/* Format <conf>'s listening fds as "3;4;5"; malloc'd, the caller frees. */
char	*lnt_listen_format_fds(const lnt_conf_t *conf);

/* Set (<on>) or clear FD_CLOEXEC on every listening socket of <conf>. */
int	 lnt_listen_set_cloexec(const lnt_conf_t *conf, bool on);

/* Whether <a>/<alen> and <b>/<blen> are the same address and port. */
bool	 lnt_sockaddr_equal(const struct sockaddr *a, socklen_t alen,
	    const struct sockaddr *b, socklen_t blen);

#endif /* LNT_LISTEN_H */
