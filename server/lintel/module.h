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
#define LNT_MODULE_ABI		2

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
	LNT_PHASE_CONNECT,	/* connection accepted (after any PROXY
				   protocol header, before TLS and the first
				   request); may close it */
	LNT_PHASE_POST_READ,	/* head read, before the site's rules */
	LNT_PHASE_REWRITE,	/* site chosen; may change the URI */
	LNT_PHASE_ROUTE_REWRITE, /* route chosen; may change the URI and
				   ask for routing again (lnt_req_set_uri) */
	LNT_PHASE_ACCESS,	/* route chosen; may refuse */
	LNT_PHASE_CONTENT,	/* may answer instead of the route */
	LNT_PHASE_UPSTREAM_SELECT, /* before each attempt to connect to the
				   route's upstream: may choose the server */
	LNT_PHASE_HEADER_FILTER, /* response head about to be sent */
	LNT_PHASE_BODY_FILTER,	/* response body, piece by piece, for the
				   modules that asked (lnt_resp_filter_body) */
	LNT_PHASE_LOG,		/* request finished */
	LNT_PHASE_COUNT
} lnt_phase_t;

/* What a phase handler tells the core. */
typedef enum lnt_mod_rc {
	LNT_MOD_CONTINUE,	/* next handler, then next phase */
	LNT_MOD_DONE,		/* a response was produced: skip the rest */
	LNT_MOD_ERROR,		/* failed: lnt_req_fail() said how */
	LNT_MOD_SUSPEND		/* waiting for something (a timer…): the
				   module calls lnt_req_resume() later */
} lnt_mod_rc_t;

/*
 * A phase handler.  <conf> is the module's configuration for the request's
 * route (merged from site and top level by the module's merge callback),
 * or for its site in POST_READ and REWRITE; NULL if the module has none.
 */
typedef lnt_mod_rc_t (*lnt_mod_handler_t)(lnt_req_t *r, void *conf);

/*
 * A BODY_FILTER handler: <data>, <len> is the next piece of the response
 * body (any chunked framing already removed); <last> is set on the final
 * call, whose piece may be empty.  The filter passes its output on with
 * lnt_body_emit(), at once or on a later call; what it does not emit is
 * dropped.  LNT_MOD_ERROR aborts the response (the head is out: the
 * connection is closed).
 */
typedef lnt_mod_rc_t (*lnt_mod_body_filter_t)(lnt_req_t *r, void *conf,
		    const void *data, size_t len, bool last);

typedef struct lnt_mod_hook_s {
	lnt_phase_t		 phase;
	lnt_mod_handler_t	 handler;	/* every phase but BODY_FILTER */
	int			 order;		/* lower runs first */
	lnt_mod_body_filter_t	 body;		/* BODY_FILTER */
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
	/* In the master right after loading, before any key is read: the
	 * place for lnt_var_define(); -1 refuses the config. */
	int			 (*preconfig)(lnt_mod_cf_t *cf);
	/* In the master after the config loaded, before fork; -1 refuses
	 * the config (report with lnt_cf_error first). */
	int			 (*master_init)(lnt_mod_cf_t *cf);
	/* In the master on a reload (HUP), after master_init of the new
	 * config; -1 refuses the new config and the old one keeps serving. */
	int			 (*reload)(lnt_mod_cf_t *cf);
	/* In each worker before it serves; -1 makes the worker exit. */
	int			 (*worker_init)(void);
	void			 (*worker_exit)(void);
	/* Ended by an entry with neither handler nor body. */
	const lnt_mod_hook_t	*hooks;
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
 * Change the request the upstream will receive, from any phase before its
 * head is built (up to UPSTREAM_SELECT): add a field <name>, or replace
 * every field <name> the client sent, those of request_headers and those
 * lintel adds (X-Forwarded-For…) with one (<value> NULL: remove them).
 * lnt_req_header() and lnt_req_header_nth() then see the changed request;
 * the site, route and $host were chosen from the request as received.
 * -1 for a name that is not a token, a field lintel frames the request
 * with (Content-Length, Transfer-Encoding, Connection, Keep-Alive,
 * Upgrade, TE, Trailer, Proxy-Connection), Host added or removed (it can
 * only be replaced), a value with control characters, or no memory.
 */
int		 lnt_req_add_header(lnt_req_t *r, const char *name,
		    const char *value);
int		 lnt_req_set_header(lnt_req_t *r, const char *name,
		    const char *value);

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

/* --- suspending, request memory, variables --------------------------- */

/*
 * Go on with a request whose handler returned LNT_MOD_SUSPEND, at the next
 * turn of the event loop: with LNT_MOD_CONTINUE the handler after it runs;
 * with LNT_MOD_DONE or LNT_MOD_ERROR the module answered meanwhile
 * (lnt_req_respond, lnt_req_fail).  While suspended the client is not
 * read; if it goes away the request ends and its cleanups run, so a
 * module cancels what would resume it from a cleanup.
 */
void		 lnt_req_resume(lnt_req_t *r, lnt_mod_rc_t rc);

/* <size> zeroed bytes that live until the request ends; NULL if out of
 * memory. */
void		*lnt_req_alloc(lnt_req_t *r, size_t size);
/* Call <fn>(<data>) when the request ends, however it ends (last added,
 * first called); -1 if out of memory. */
int		 lnt_req_cleanup_add(lnt_req_t *r, void (*fn)(void *data),
		    void *data);
/* Per-request state of module <m> (its descriptor), NULL until set. */
void		*lnt_req_ctx(const lnt_req_t *r, const lnt_module_t *m);
int		 lnt_req_set_ctx(lnt_req_t *r, const lnt_module_t *m,
		    void *ctx);

/*
 * The value of variable <name> (without '$') for the request: lintel's
 * (those of access_log templates: host, uri, args, scheme, remote_addr,
 * request_method, status, http_NAME…), those modules define and those set
 * with lnt_req_set_var().  NULL when unknown or empty.  The value lives
 * until the request ends.
 */
const char	*lnt_req_var(lnt_req_t *r, const char *name, size_t *len);
/* Set request variable <name> (copied) for later phases and the access
 * log; -1 if out of memory. */
int		 lnt_req_set_var(lnt_req_t *r, const char *name,
		    const char *value, size_t len);
/*
 * From preconfig: define variable <name>, computed by <get> for a request
 * when asked for; <get> returns NULL for "not set".  Known to every
 * module and to access_log templates.  -1 (reported) if lintel or another
 * module already defines it.
 */
typedef const char *(*lnt_var_get_t)(lnt_req_t *r, void *data, size_t *len);
int		 lnt_var_define(lnt_mod_cf_t *cf, const char *name,
		    lnt_var_get_t get, void *data);

/* --- connections, upstream choice, body filters ---------------------- */

/* The address of the TCP peer (a load balancer when the PROXY protocol
 * is on), and the client address announced in its PROXY header (NULL
 * without one). */
const char	*lnt_req_peer_addr(const lnt_req_t *r);
const char	*lnt_req_proxy_protocol_addr(const lnt_req_t *r);

/*
 * UPSTREAM_SELECT: the route's upstream servers, server <i> as
 * "address:port" with its weight, and whether it may be tried now (not
 * already tried for this request); choose one for this attempt (-1 when it
 * may not be tried).  Without a choice lintel uses its weighted
 * round-robin.
 */
unsigned	 lnt_req_upstream_servers(const lnt_req_t *r);
const char	*lnt_req_upstream_server(const lnt_req_t *r, unsigned i,
		    int *weight, bool *usable);
int		 lnt_req_select_server(lnt_req_t *r, unsigned i);

/*
 * From HEADER_FILTER: module <m>'s BODY_FILTER handler is to see this
 * response's body.  lintel then drops Content-Length and sends the body
 * chunked (close-delimited to HTTP/1.0 clients).  -1 if the response has
 * no body (HEAD, 204, 304) or it cannot be filtered.
 */
int		 lnt_resp_filter_body(lnt_req_t *r, const lnt_module_t *m);
/* From a BODY_FILTER handler: pass <len> bytes on to the next filter or
 * the client (copied); -1 if out of memory. */
int		 lnt_body_emit(lnt_req_t *r, const void *data, size_t len);

/* --- timers ----------------------------------------------------------- */

typedef struct lnt_mod_timer_s	lnt_mod_timer_t;

/* In a worker: call <fn>(<data>) once, <msec> from now; NULL if out of
 * memory.  The handle is freed after the call or by the cancel. */
lnt_mod_timer_t	*lnt_mod_timer_add(int64_t msec, void (*fn)(void *data),
		    void *data);
void		 lnt_mod_timer_cancel(lnt_mod_timer_t *t);

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
