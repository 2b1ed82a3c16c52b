/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The lintel module API: the only header a module includes.  A module is a
 * shared object exporting one descriptor, `lnt_module_<name>`, which names
 * the config keys it owns, its lifecycle callbacks and the request phases
 * it hooks.  Core structures stay opaque; modules use the accessors below.
 * See lintel-modules(7).
 */
#ifndef LINTEL_MODULE_H
#define LINTEL_MODULE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bumped whenever a change here breaks compiled modules. */
#define LNT_MODULE_ABI		1

/* Where a key may appear (bits). */
#define LNT_MOD_TOP		0x01
#define LNT_MOD_SITE		0x02
#define LNT_MOD_ROUTE		0x04
#define LNT_MOD_UPSTREAM	0x08

typedef struct lnt_conn_s	lnt_req_t;	/* a request (opaque) */
typedef struct lnt_cf_s		lnt_mod_cf_t;	/* config being loaded (opaque) */
typedef struct config_setting_t	lnt_setting_t;	/* a config value (opaque) */

/* The request phases, in the order a request goes through them. */
typedef enum lnt_phase {
	LNT_PHASE_POST_READ,	/* head read, before the site's rules */
	LNT_PHASE_REWRITE,	/* site chosen; may change the URI */
	LNT_PHASE_ROUTE_REWRITE, /* route chosen; may change the URI and
				   ask for routing again (lnt_req_set_uri) */
	LNT_PHASE_ACCESS,	/* route chosen; may refuse */
	LNT_PHASE_CONTENT,	/* may answer instead of the route */
	LNT_PHASE_HEADER_FILTER, /* response head about to be sent */
	LNT_PHASE_LOG,		/* request finished */
	LNT_PHASE_COUNT
} lnt_phase_t;

/* What a phase handler tells the core. */
typedef enum lnt_mod_rc {
	LNT_MOD_CONTINUE,	/* next handler, then next phase */
	LNT_MOD_DONE,		/* a response was produced: skip the rest */
	LNT_MOD_ERROR		/* failed: lnt_req_fail() said how */
} lnt_mod_rc_t;

/*
 * A phase handler.  <conf> is the module's configuration for the request's
 * route (merged from site and top level by the module's merge callback),
 * or for its site in POST_READ and REWRITE; NULL if the module has none.
 */
typedef lnt_mod_rc_t (*lnt_mod_handler_t)(lnt_req_t *r, void *conf);

typedef struct lnt_mod_hook_s {
	lnt_phase_t		 phase;
	lnt_mod_handler_t	 handler;
	int			 order;		/* lower runs first */
} lnt_mod_hook_t;

/*
 * A key the module owns.  parse() reads <s> (found in <scope>, one
 * LNT_MOD_* bit) into <conf>, the module's config for that scope, reports
 * problems with lnt_cf_error() and returns 0, or -1 on error.
 */
typedef struct lnt_mod_key_s {
	const char	*name;
	unsigned	 scopes;
	int		(*parse)(lnt_mod_cf_t *cf, const lnt_setting_t *s,
			    unsigned scope, void *conf);
	const char	*def;		/* default, as text, for docs */
	const char	*help;		/* one line */
} lnt_mod_key_t;

typedef struct lnt_module_s {
	unsigned		 abi;		/* LNT_MODULE_ABI */
	size_t			 size;		/* sizeof(lnt_module_t) */
	const char		*name;
	const char		*version;
	const lnt_mod_key_t	*keys;		/* ended by a NULL name */
	/* A fresh config for <scope>; NULL if the module needs none. */
	void			*(*create_conf)(unsigned scope);
	/* Fill what <child> left unset from <parent> (top→site→route). */
	void			 (*merge_conf)(const void *parent, void *child);
	void			 (*free_conf)(unsigned scope, void *conf);
	/* In the master after the config loaded, before fork; -1 refuses
	 * the config (report with lnt_cf_error first). */
	int			 (*master_init)(lnt_mod_cf_t *cf);
	/* In each worker before it serves; -1 makes the worker exit. */
	int			 (*worker_init)(void);
	void			 (*worker_exit)(void);
	const lnt_mod_hook_t	*hooks;		/* ended by a NULL handler */
} lnt_module_t;

/* --- config values -------------------------------------------------- */

/* Report "file:line: <module>: message" for <s> (NULL: no line). */
void		 lnt_cf_error(lnt_mod_cf_t *cf, const lnt_setting_t *s,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The string value of <s>, or NULL if it is not a string. */
const char	*lnt_setting_string(const lnt_setting_t *s);
/* Integer value into <*v>; -1 if <s> is not an integer. */
int		 lnt_setting_int(const lnt_setting_t *s, int64_t *v);
/* Boolean value into <*v>; -1 if <s> is not a boolean. */
int		 lnt_setting_bool(const lnt_setting_t *s, bool *v);
/* Lists and groups: their length and members. */
int		 lnt_setting_length(const lnt_setting_t *s);
const lnt_setting_t *lnt_setting_elem(const lnt_setting_t *s, int i);
const lnt_setting_t *lnt_setting_member(const lnt_setting_t *s,
		    const char *name);
bool		 lnt_setting_is_group(const lnt_setting_t *s);
bool		 lnt_setting_is_list(const lnt_setting_t *s);
const char	*lnt_setting_name(const lnt_setting_t *s);
/*
 * The line of <s> in the config (0 if unknown), and in <*file> (if <file>
 * is not NULL) the path of the file holding it, or NULL; the path lives
 * only while the config is read.
 */
int		 lnt_setting_line(const lnt_setting_t *s, const char **file);
/* A path from the config resolved against its directory (malloc'd). */
char		*lnt_cf_path(lnt_mod_cf_t *cf, const char *path);

/* --- requests ------------------------------------------------------- */

/* Request line parts and the client; the slices are not NUL-ended. */
const char	*lnt_req_method(const lnt_req_t *r, size_t *len);
const char	*lnt_req_path(const lnt_req_t *r, size_t *len);
const char	*lnt_req_query(const lnt_req_t *r, size_t *len);
const char	*lnt_req_host(const lnt_req_t *r, size_t *len);
const char	*lnt_req_remote_addr(const lnt_req_t *r);
/* The first request header <name> (case-insensitive), or NULL. */
const char	*lnt_req_header(const lnt_req_t *r, const char *name,
		    size_t *len);
/*
 * Field <name> number <n> (from 0) of the request, or NULL when it has
 * fewer: for fields such as X-Forwarded-For, sent on several lines.
 */
const char	*lnt_req_header_nth(const lnt_req_t *r, const char *name,
		    unsigned n, size_t *len);

/*
 * Answer the request from a module: <status>, optional <content_type> and
 * body of <len> bytes (copied).  The handler then returns LNT_MOD_DONE.
 */
int		 lnt_req_respond(lnt_req_t *r, int status,
		    const char *content_type, const void *body, size_t len);
/*
 * Fail the request with <status> (lintel's error page); the reason is
 * logged with the request context.  The handler then returns
 * LNT_MOD_ERROR.
 */
void		 lnt_req_fail(lnt_req_t *r, int status, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * Replace the request's path and query (both as sent on the wire,
 * percent-escapes kept; <query> NULL for none).  With <reroute>, in
 * ROUTE_REWRITE, the route is chosen again for the new path and its
 * ROUTE_REWRITE handlers run; after LNT_MAX_REROUTES re-routes the request
 * fails with 500.  Returns -1 if the URI is too long or not a path.
 */
#define LNT_MAX_REROUTES	10
int		 lnt_req_set_uri(lnt_req_t *r, const char *path, size_t plen,
		    const char *query, size_t qlen, bool reroute);

/* Answer with a redirect: <status> (301, 302, 303, 307, 308) to <loc>. */
int		 lnt_req_redirect(lnt_req_t *r, int status, const char *loc,
		    size_t len);

/*
 * The route's static file root (absolute, no final '/'), or NULL when the
 * route does not serve files; and the scheme the client used ("http" or
 * "https").
 */
const char	*lnt_req_root(const lnt_req_t *r);
const char	*lnt_req_scheme(const lnt_req_t *r);

/*
 * The upstream server answering the request, as "address:port" with its
 * scheme ("http" or "https"), or NULL before one is chosen.
 */
const char	*lnt_req_upstream_addr(const lnt_req_t *r, const char **scheme);

/* Response, from HEADER_FILTER on: its status, and a header to add. */
int		 lnt_resp_status(const lnt_req_t *r);
int		 lnt_resp_add_header(lnt_req_t *r, const char *name,
		    const char *value);
/* The first field <name> of the upstream's response head, or NULL. */
const char	*lnt_resp_header(const lnt_req_t *r, const char *name,
		    size_t *len);
/* Send <value> instead of every upstream field <name>. */
int		 lnt_resp_set_header(lnt_req_t *r, const char *name,
		    const char *value);

/* --- shared memory and time ---------------------------------------- */

typedef struct lnt_shm_zone_s	lnt_zone_t;

/*
 * From a key's parse callback or master_init: the shared-memory zone
 * <name> (global: prefix it with the module's name) of <size> bytes,
 * zeroed when new.  Every worker sees the same bytes.  A reload that asks
 * for the same name and size gets the same zone with its contents.
 * NULL, reported, if it cannot be created.
 */
lnt_zone_t	*lnt_zone_get(lnt_mod_cf_t *cf, const char *name, size_t size);
void		*lnt_zone_data(lnt_zone_t *zone);
/* A robust lock shared by all processes; hold it briefly. */
void		 lnt_zone_lock(lnt_zone_t *zone);
void		 lnt_zone_unlock(lnt_zone_t *zone);

/* Monotonic milliseconds, the same clock in every process. */
int64_t		 lnt_mod_now(void);

/* --- logging -------------------------------------------------------- */

/* Syslog-numbered levels, as in log_level. */
#define LNT_MOD_LOG_ERR		3
#define LNT_MOD_LOG_WARN	4
#define LNT_MOD_LOG_NOTICE	5
#define LNT_MOD_LOG_INFO	6
#define LNT_MOD_LOG_DEBUG	7

/* Log with the request context appended (conn, client, site, request). */
void		 lnt_req_log(const lnt_req_t *r, int level, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* Log without a request. */
void		 lnt_mod_log(int level, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#endif /* LINTEL_MODULE_H */
