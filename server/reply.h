/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Responses lintel writes itself with a body: static files, `return`
 * routes, error pages.  A reply is a head plus an in-memory body or a file
 * range, sent from the event loop with back-pressure (sendfile for files);
 * its state comes from a per-worker free list.
 */
#ifndef LNT_REPLY_H
#define LNT_REPLY_H

#include <sys/types.h>

#include "core.h"

typedef struct lnt_reply_s lnt_reply_t;

/* The variables a return location may hold ($name). */
enum lnt_reply_var {
	LNT_VAR_SCHEME,			/* "http" */
	LNT_VAR_HOST,			/* Host, else the site's first name */
	LNT_VAR_REQUEST_URI		/* the target as sent, with its query */
};

/*
 * The variable whose name starts at <p> (just after a '$'): its
 * LNT_REPLY_VAR, or -1 if unknown.  <*len> receives the length of the name
 * (letters, digits and '_'; 0 if there is none).
 */
int		 lnt_reply_var(const char *p, size_t *len);

/*
 * Begin a response of <status> to <c>'s request: the status line, Server
 * and Date, with room for <room> more bytes of header fields.  Returns
 * NULL when out of memory (the caller answers 500).  The caller adds
 * fields with lnt_reply_header(), a body, then calls lnt_reply_send();
 * or gives up with lnt_reply_free().
 */
lnt_reply_t	*lnt_reply_start(lnt_conn_t *c, int status, size_t room);

/* Append the header line <fmt...> (without CRLF); -1 if it does not fit. */
int		 lnt_reply_header(lnt_reply_t *r, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * The body: <len> bytes at <p>, which must outlive the request (config
 * memory), sent with Content-Type <type> (NULL: none).
 */
void		 lnt_reply_body(lnt_reply_t *r, const char *p, size_t len,
		    const char *type);

/*
 * The body: <len> bytes of the open file <fd> from <off>.  The reply owns
 * <fd> from now on and closes it.  The caller adds Content-Type.
 */
void		 lnt_reply_file(lnt_reply_t *r, int fd, off_t off, off_t len);

/* lintel's small HTML page for <r>'s status as the body. */
void		 lnt_reply_page(lnt_reply_t *r);

/*
 * The media type of the file named <file> for <site> (may be NULL): by the
 * site's mime_types, else the top level's, else the built-in table.
 */
const char	*lnt_reply_type(const lnt_site_t *site, const char *file);

/* Send no Content-Length and no body (304). */
void		 lnt_reply_no_body(lnt_reply_t *r);

/*
 * Finish the head (Content-Length, Connection) and send <r> on <c>, which
 * goes to LNT_CONN_HANDLER until the reply is written (then
 * lnt_conn_request_done()) or the client fails to read it within
 * send_timeout (then lnt_conn_close()).  A HEAD request gets the head only.
 */
void		 lnt_reply_send(lnt_conn_t *c, lnt_reply_t *r);

/* Give up <r> before sending it (closes its file). */
void		 lnt_reply_free(lnt_reply_t *r);

/*
 * Answer <c> with the error <status>: the site's error page for it if any,
 * else lintel's small page, with the extra header lines <extra> (each
 * ending in CRLF; may be NULL), logging <why> (may be NULL) at info level.
 */
void		 lnt_reply_error(lnt_conn_t *c, int status, const char *extra,
		    const char *why);

/*
 * For lnt_conn_respond(): when the site of <c> (or, before one is chosen,
 * the default site of its address) has an error page for <status>, send it
 * and return true; also lintel's own small page when a module has a body
 * filter (so it may filter that body).  Otherwise, or when out of memory,
 * return false.
 */
bool		 lnt_reply_error_page(lnt_conn_t *c, int status);

/* Answer <c> from its route's `return`. */
void		 lnt_reply_return(lnt_conn_t *c);

#endif /* LNT_REPLY_H */
