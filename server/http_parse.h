/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.x message heads and chunked framing (RFC 9110, RFC 9112).  The head
 * parser is resumable and zero-copy: it keeps slices of the caller's buffer,
 * which must not move while they are in use.  Anything ambiguous is rejected
 * rather than guessed at, so a second request can never hide in the first.
 */
#ifndef LNT_HTTP_PARSE_H
#define LNT_HTTP_PARSE_H

#include "core.h"

#define LNT_HTTP_MAX_HEADERS	100

typedef struct lnt_http_header_s {
	lnt_str_t	 name;
	lnt_str_t	 value;
	bool		 hop;		/* hop-by-hop: never forwarded as is */
} lnt_http_header_t;

typedef enum lnt_http_rc {
	LNT_HTTP_AGAIN,			/* the head is not complete yet */
	LNT_HTTP_DONE,			/* head_len bytes form a valid head */
	LNT_HTTP_BAD			/* rejected: see status and why */
} lnt_http_rc_t;

typedef enum lnt_body_kind {
	LNT_BODY_NONE,
	LNT_BODY_LENGTH,		/* content_length bytes */
	LNT_BODY_CHUNKED,
	LNT_BODY_CLOSE			/* until the sender closes (responses) */
} lnt_body_kind_t;

typedef struct lnt_http_msg_s {
	lnt_str_t	 method;	/* requests */
	lnt_str_t	 target;
	lnt_str_t	 path;		/* target up to '?' */
	lnt_str_t	 query;		/* after '?', empty if none */
	int		 status;	/* responses */
	lnt_str_t	 reason;
	int		 version;	/* 10 or 11 */
	lnt_http_header_t headers[LNT_HTTP_MAX_HEADERS];
	size_t		 nheaders;
	lnt_str_t	 host;		/* Host value, empty if none */
	int64_t		 content_length; /* -1 if none */
	bool		 chunked;	/* Transfer-Encoding: chunked */
	bool		 conn_close;	/* Connection: close */
	bool		 conn_keepalive; /* Connection: keep-alive */
	bool		 conn_upgrade;	/* Connection: upgrade */
	bool		 expect_continue;
	size_t		 head_len;	/* with the final CRLF */
	/* Parser state. */
	size_t		 scan;		/* offset of the next line to parse */
	bool		 started;	/* start line parsed */
	bool		 is_response;
} lnt_http_msg_t;

void		 lnt_http_msg_init(lnt_http_msg_t *m, bool is_response);

/*
 * Parse the head held in <buf> (<len> bytes, of which earlier calls may
 * have seen a prefix).  A head that is not complete within <max_head> bytes
 * is rejected (414 while still in the request line, else 431; for responses
 * the status is 502).  On LNT_HTTP_BAD, <*status> is the status to answer
 * with and <*why> a static reason for the log.
 */
lnt_http_rc_t	 lnt_http_parse_head(lnt_http_msg_t *m, const char *buf,
		    size_t len, size_t max_head, int *status, const char **why);

/* How the body of request <m> is framed (NONE, LENGTH or CHUNKED). */
lnt_body_kind_t	 lnt_http_request_body(const lnt_http_msg_t *m);

/*
 * How the body of response <m> is framed, given whether the request was
 * HEAD (RFC 9112 §6.3).
 */
lnt_body_kind_t	 lnt_http_response_body(const lnt_http_msg_t *m,
		    bool head_request);

/* The first header named <name> (case-insensitive), or NULL. */
const lnt_http_header_t *lnt_http_header(const lnt_http_msg_t *m,
		    const char *name, size_t len);

/* Chunked transfer coding, decoded incrementally. */
typedef enum lnt_chunk_rc {
	LNT_CHUNK_DATA,			/* *n bytes of chunk data */
	LNT_CHUNK_FRAME,		/* *n bytes of framing */
	LNT_CHUNK_DONE,			/* *n bytes of framing ended the body */
	LNT_CHUNK_BAD
} lnt_chunk_rc_t;

typedef struct lnt_chunked_s {
	int		 state;
	int		 digits;	/* hex digits of the size so far */
	int64_t		 left;		/* data bytes left in this chunk */
	int64_t		 total;		/* data bytes so far */
	size_t		 line;		/* bytes of the current ext/trailer line */
	size_t		 trailers;	/* bytes of trailer section */
} lnt_chunked_t;

void		 lnt_chunked_init(lnt_chunked_t *c);

/*
 * Consume the next run of data or framing from <p> (<len> > 0 bytes) and
 * say which it was; <*n> is how many bytes were consumed.  Framing that is
 * malformed, oversized (sizes beyond 2^60, extension or trailer lines
 * beyond 4 KiB, trailers beyond 16 KiB) or uses a bare LF gives
 * LNT_CHUNK_BAD with <*why> set.
 */
lnt_chunk_rc_t	 lnt_chunked_step(lnt_chunked_t *c, const char *p,
		    size_t len, size_t *n, const char **why);

#endif /* LNT_HTTP_PARSE_H */
