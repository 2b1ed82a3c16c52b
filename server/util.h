/* SPDX-License-Identifier: BSD-2-Clause */
/* Startup-time allocation that aborts on failure, and small string helpers. */
#ifndef LNT_UTIL_H
#define LNT_UTIL_H

#include "core.h"

/* A growable list of owned strings (error messages, names). */
struct lnt_strlist_s {
	char	**items;
	size_t	  n;
	size_t	  cap;
};

/*
 * Allocate or abort with a message on stderr.  For startup and config
 * loading only: the request path never calls these.
 */
void	*lnt_xmalloc(size_t size);
void	*lnt_xcalloc(size_t n, size_t size);
void	*lnt_xrealloc(void *p, size_t size);
char	*lnt_xstrdup(const char *s);
char	*lnt_xstrndup(const char *s, size_t len);
char	*lnt_xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* Append a formatted string to <list>; the list owns it. */
void	 lnt_strlist_addf(lnt_strlist_t *list, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 lnt_strlist_free(lnt_strlist_t *list);

/* Case-insensitive comparison of <a> with the NUL-terminated <b>. */
bool	 lnt_str_ieq(lnt_str_t a, const char *b);

/* Monotonic and wall clocks in milliseconds. */
lnt_msec_t lnt_now_mono(void);
lnt_msec_t lnt_now_wall(void);

/*
 * Zero the <size> bytes at <obj> except the <hole_len> bytes at <hole>
 * inside them: for a struct that embeds a large array read only up to a
 * count kept outside it (the header arrays of lnt_http_msg_t), which
 * zeroing on every connection or request would only cost.
 */
void	 lnt_zero_but(void *obj, size_t size, const void *hole,
	    size_t hole_len);

#endif /* LNT_UTIL_H */
