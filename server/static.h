/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The static content handler: files under a route's root (conditional
 * requests, single ranges, index files), and the route's `return`.
 */
#ifndef LNT_STATIC_H
#define LNT_STATIC_H

#include <time.h>

#include "core.h"
#include "http_parse.h"

/*
 * Answer <c>, routed to a route with root or return, from the request's
 * parsed head; the connection's handler API carries the reply.
 */
void		 lnt_static_start(lnt_conn_t *c);

/* What a request path is, once decoded. */
typedef enum lnt_path_rc {
	LNT_PATH_OK,
	LNT_PATH_BAD,			/* malformed %-escape or NUL: 400 */
	LNT_PATH_REFUSED		/* "..", encoded '/', too long: 404 */
} lnt_path_rc_t;

/*
 * Decode the request path of <len> bytes at <p> (starting with '/') into
 * <out> of <outlen> bytes as a path relative to root: segments joined by
 * '/', without empty and "." segments, "" for root itself.  <*dir> says
 * whether the path ended with '/' (or "/.").
 */
lnt_path_rc_t	 lnt_static_path(const char *p, size_t len, char *out,
		    size_t outlen, bool *dir);

/*
 * Whether the entity-tag list <list> (an If-None-Match or If-Match value)
 * holds "*" or a tag matching <etag> (a strong tag, quotes included), by
 * the weak comparison, or the strong one if <strong> (RFC 9110 §8.8.3.2).
 * A malformed list matches nothing after its first error.
 */
bool		 lnt_static_etag_match(lnt_str_t list, const char *etag,
		    bool strong);

/*
 * Whether a GET or HEAD of <req> is answered 304 for a file with <etag>
 * and <mtime>: If-None-Match (every field line of it) when present, else
 * If-Modified-Since (RFC 9110 §13.2.2).
 */
bool		 lnt_static_not_modified(const lnt_http_msg_t *req,
		    const char *etag, time_t mtime);

/* Whether the If-Range value <v> lets a Range apply (RFC 9110 §13.1.5). */
bool		 lnt_static_if_range(lnt_str_t v, const char *etag,
		    time_t mtime);

typedef enum lnt_range_rc {
	LNT_RANGE_FULL,			/* ignore Range: 200 with everything */
	LNT_RANGE_PARTIAL,		/* 206 with <*start>, <*len> */
	LNT_RANGE_UNSATISFIABLE		/* 416 */
} lnt_range_rc_t;

/*
 * Evaluate the Range value <v> for a file of <size> bytes.  A single
 * "bytes=a-b", "a-" or "-n" gives PARTIAL or UNSATISFIABLE; several
 * ranges, another unit or a malformed value give FULL (RFC 9110 §14.2
 * lets a server ignore Range).
 */
lnt_range_rc_t	 lnt_static_range(lnt_str_t v, int64_t size, int64_t *start,
		    int64_t *len);

#endif /* LNT_STATIC_H */
