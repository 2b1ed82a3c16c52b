/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Request fields changed by modules (lnt_req_add_header,
 * lnt_req_set_header): kept in order in the request arena, applied to the
 * head sent upstream and seen by the module API's field lookups.
 */
#ifndef LNT_REQ_HEADERS_H
#define LNT_REQ_HEADERS_H

#include <stdbool.h>

#include "core.h"

/* One change: add a field, or replace every field of the name (value NULL:
 * remove them). */
typedef struct lnt_req_hdr_op_s {
	lnt_str_t			 name;
	const char			*value;	/* NUL-ended, or NULL */
	size_t				 vlen;
	bool				 replace;
	struct lnt_req_hdr_op_s		*next;
} lnt_req_hdr_op_t;

/*
 * Record a change on request <c>; -1 for a name that is not a token or is
 * one lintel owns for framing, a value with control characters, Host added
 * or removed (it can only be set), or no memory.
 */
int	 lnt_req_hdr_change(lnt_conn_t *c, const char *name, const char *value,
	    bool replace);

/* Whether a module replaced or removed the client's fields <name>. */
bool	 lnt_req_hdr_replaced(const lnt_conn_t *c, lnt_str_t name);

/*
 * Value number <n> (from 0) of field <name> as modules left the request,
 * with <*len>; NULL when it has fewer.
 */
const char *lnt_req_hdr_nth(const lnt_conn_t *c, const char *name,
	    unsigned n, size_t *len);

#endif /* LNT_REQ_HEADERS_H */
