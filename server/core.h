/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forward typedefs and the few definitions every subject shares, so headers
 * can name each other's types without including each other.
 */
#ifndef LNT_CORE_H
#define LNT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef int64_t lnt_msec_t;		/* milliseconds */

typedef struct lnt_conf_s	lnt_conf_t;
typedef struct lnt_limits_s	lnt_limits_t;
typedef struct lnt_listen_s	lnt_listen_t;
typedef struct lnt_server_s	lnt_server_t;
typedef struct lnt_upstream_s	lnt_upstream_t;
typedef struct lnt_route_s	lnt_route_t;
typedef struct lnt_site_s	lnt_site_t;
typedef struct lnt_access_log_s	lnt_access_log_t;
typedef struct lnt_access_rec_s	lnt_access_rec_t;
typedef struct lnt_event_s	lnt_event_t;
typedef struct lnt_timer_s	lnt_timer_t;
typedef struct lnt_buf_s	lnt_buf_t;
typedef struct lnt_conn_s	lnt_conn_t;
typedef struct lnt_pconn_s	lnt_pconn_t;
typedef struct lnt_strlist_s	lnt_strlist_t;
typedef struct lnt_mime_s	lnt_mime_t;
typedef struct lnt_tls_site_s	lnt_tls_site_t;
typedef struct lnt_tls_upstream_s lnt_tls_upstream_t;

/* A byte string that does not own its bytes (a slice of a buffer). */
typedef struct lnt_str_s {
	const char	*p;
	size_t		 len;
} lnt_str_t;

#define LNT_STR(s)	((lnt_str_t){ (s), sizeof(s) - 1 })

/* "Not set in the config": merged later with the parent scope's value. */
#define LNT_UNSET	(-1)

#define LNT_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#endif /* LNT_CORE_H */
