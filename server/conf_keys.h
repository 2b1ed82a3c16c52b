/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core key table: one row per config key with its type, scopes, field,
 * range, default and help.  The loader, `-T` and the man-page coverage test
 * all read it; nothing dispatches on a row's position.
 */
#ifndef LNT_CONF_KEYS_H
#define LNT_CONF_KEYS_H

#include <stdio.h>
#include <sys/types.h>

#include "conf.h"

struct config_setting_t;		/* libconfig, kept out of this header */

typedef enum lnt_key_type {
	LNT_KEY_STR,		/* non-empty string */
	LNT_KEY_INT,		/* integer in [min, max] */
	LNT_KEY_BOOL,
	LNT_KEY_DURATION,	/* "1h30m" or integer seconds; in ms */
	LNT_KEY_SIZE,		/* "16k" or integer bytes */
	LNT_KEY_ENUM,		/* one word of <values>, stored as its index */
	LNT_KEY_STR_OR_LIST,	/* a string or a list of strings */
	LNT_KEY_STR_LIST,	/* a list of strings */
	LNT_KEY_GROUP,		/* { ... } of the <child> scope */
	LNT_KEY_LIST,		/* ( { ... }, ... ) of the <child> scope */
	LNT_KEY_BOOL_OR_GROUP	/* true/false or a group (module keys) */
} lnt_key_type_t;

/* Where a key may appear: bits, so a row can serve several scopes. */
enum lnt_key_scope {
	LNT_SCOPE_TOP		= 0x01,
	LNT_SCOPE_SITE		= 0x02,
	LNT_SCOPE_ROUTE		= 0x04,
	LNT_SCOPE_UPSTREAM	= 0x08,
	LNT_SCOPE_SERVER	= 0x10,
	LNT_SCOPE_ACCESS_LOG	= 0x20,
	LNT_SCOPE_RETURN	= 0x40,	/* a route's return group */
	LNT_SCOPE_ERROR_PAGE	= 0x80	/* one entry of error_pages */
};

/* Row flags. */
#define LNT_KEY_REQUIRED	0x01	/* the scope's group must have it */
#define LNT_KEY_LIMIT		0x02	/* <offset> is into lnt_limits_t */
#define LNT_KEY_CUSTOM_DEFAULT	0x04	/* <def> is for docs; code applies it */
#define LNT_KEY_NO_FIELD	0x08	/* no struct field (<offset> unused) */

typedef struct lnt_key_s lnt_key_t;
typedef struct lnt_cf_s lnt_cf_t;

/*
 * A setter stores the value of setting <s> for row <key> into the scope
 * struct <base>, reporting problems with lnt_conf_error().
 */
typedef void	(*lnt_key_set_pt)(lnt_cf_t *cf, const lnt_key_t *key,
		    struct config_setting_t *s, void *base);
/* A printer writes row <key> of <base> as libconfig text for `-T`. */
typedef void	(*lnt_key_print_pt)(FILE *out, const lnt_key_t *key,
		    const void *base, int depth);

struct lnt_key_s {
	const char		*name;
	lnt_key_type_t		 type;
	unsigned		 scopes;	/* LNT_SCOPE_* bits */
	unsigned		 flags;		/* LNT_KEY_* */
	size_t			 offset;	/* field in the scope struct */
	size_t			 count_offset;	/* lists: their size_t count */
	int64_t			 min;		/* INT value, DURATION ms, */
	int64_t			 max;		/* SIZE bytes, LIST length */
	const char		*def;		/* default as text, or NULL */
	const char *const	*values;	/* ENUM words, NULL-ended */
	unsigned		 child;		/* GROUP, LIST: scope inside */
	const char		*module;	/* owner; NULL = core */
	lnt_key_set_pt		 set;		/* NULL: generic for <type> */
	lnt_key_print_pt	 print;		/* NULL: generic for <type> */
	const char		*help;		/* one line, for docs and -T */
};

/* What each scope is: its struct and where its bookkeeping fields live. */
typedef struct lnt_scope_s {
	unsigned	 scope;		/* one LNT_SCOPE_* bit */
	const char	*name;		/* "site" */
	const char	*where;		/* "in a site", "at the top level" */
	size_t		 size;		/* sizeof the struct */
	ssize_t		 limits_offset;	/* lnt_limits_t in it, or -1 */
	ssize_t		 file_offset;	/* const char *file, or -1 */
	ssize_t		 line_offset;	/* int line, or -1 */
} lnt_scope_t;

/* The loader's view of an access_log group before it is compiled. */
typedef struct lnt_access_log_conf_s {
	char	*path;
	char	*format;
} lnt_access_log_conf_t;

/*
 * Every core key, in documentation order; <*n> receives the count.  Rows
 * with several scopes serve all of them; one name may have two rows when
 * it means different fields in different scopes (send_timeout).
 */
const lnt_key_t		*lnt_conf_keys(size_t *n);

/* The row for <name> that is valid in <scope>, or NULL. */
const lnt_key_t		*lnt_conf_key_find(const char *name, unsigned scope);

/* The description of the single scope bit <scope>. */
const lnt_scope_t	*lnt_conf_scope(unsigned scope);

/* Address of row <key>'s field in the <scope> struct <base>. */
void			*lnt_conf_key_field(const lnt_key_t *key,
			    unsigned scope, const void *base);

/* Format <ms> as "1h30m", "250ms", "0s" into <buf> of <len> bytes. */
void		 lnt_conf_format_duration(lnt_msec_t ms, char *buf,
		    size_t len);
/* Format <bytes> as "16k", "1m" or "1500" into <buf> of <len> bytes. */
void		 lnt_conf_format_size(int64_t bytes, char *buf, size_t len);

/*
 * Loader internals shared by conf.c (the engine), conf_keys.c (the table
 * and the setters that need more than a generic one) and conf_dump.c.
 * Nothing outside those three files calls them.
 */

/*
 * Report a problem with setting <s> as "file:line: <fmt...>" (just the
 * config path when <s> is NULL or has no line), count it, and go on.
 */
void		 lnt_conf_error(lnt_cf_t *cf,
		    const struct config_setting_t *s, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Report "<key>: expected <what the row takes>, got <s's value>". */
void		 lnt_conf_type_error(lnt_cf_t *cf, const lnt_key_t *key,
		    const struct config_setting_t *s);
/* Store <s> into <base> by the generic rule for <key>'s type. */
void		 lnt_conf_set_generic(lnt_cf_t *cf, const lnt_key_t *key,
		    struct config_setting_t *s, void *base);
/* Apply every member of <group> to the <scope> struct <base>. */
void		 lnt_conf_walk(lnt_cf_t *cf, struct config_setting_t *group,
		    unsigned scope, void *base);
/* Mark <base>'s fields unset; take file and line from <s> if any. */
void		 lnt_conf_scope_init(lnt_cf_t *cf, unsigned scope,
		    void *base, const struct config_setting_t *s);
/* Fill the unset fields of <base> from the defaults (and the top level). */
void		 lnt_conf_scope_defaults(lnt_cf_t *cf, unsigned scope,
		    void *base);
/* The conf being built. */
lnt_conf_t	*lnt_conf_current(lnt_cf_t *cf);
/* <path> made absolute against the main file's directory (malloc'd). */
char		*lnt_conf_path(lnt_cf_t *cf, const char *path);
/* <s>'s value as a config writer would read it: 5, "x", a group. */
void		 lnt_conf_describe(const struct config_setting_t *s,
		    char *buf, size_t len);
/* Compile <pattern> of setting <s> for row <key>, reporting errors. */
pcre2_code	*lnt_conf_regex(lnt_cf_t *cf, const lnt_key_t *key,
		    const struct config_setting_t *s, const char *pattern,
		    uint32_t options);
/* Queue a listen entry of <site>; listeners are built after the walk. */
void		 lnt_conf_add_listen(lnt_cf_t *cf, lnt_site_t *site,
		    const struct sockaddr_storage *addr, socklen_t len,
		    int backlog, bool tls, bool proxy_protocol,
		    const struct config_setting_t *s);
/* Report "<file>:<line>: <fmt...>" (for what no setting holds), count it. */
void		 lnt_conf_error_at(lnt_cf_t *cf, const char *file, int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Queue <route>'s reference to the upstream <name> (copied). */
void		 lnt_conf_add_upstream_ref(lnt_cf_t *cf, lnt_route_t *route,
		    const char *name, const struct config_setting_t *s);
/* Best "did you mean" among <n> <cands> for <name>; NULL if none. */
const char	*lnt_conf_suggest(const char *name, const char *const *cands,
		    size_t n);

/* Printers for keys with no generic form (conf_dump.c). */
/* -T helpers: <depth> tabs; a libconfig string literal of <s>. */
void	lnt_conf_indent(FILE *out, int depth);
void	lnt_conf_print_string(FILE *out, const char *s);
/* "<name> = { every key of the single <scope> in <base> };" */
void	lnt_conf_print_group(FILE *out, const char *name, unsigned scope,
	    const void *base, int depth);
/* <s> as libconfig text "name = value;\n" of any type (malloc'd). */
char	*lnt_conf_setting_text(const struct config_setting_t *s);

/* conf_headers.c: forward_headers, request/response_headers. */
void	lnt_conf_set_forward_headers(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_conf_print_forward_headers(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_set_header_rules(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_conf_print_header_rules(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_free_header_rules(lnt_hdr_rules_t *rules);

/*
 * conf_static.c: root, index, allow_symlinks, return, error_pages and
 * mime_types.  lnt_conf_static_route_check() runs once a route's <group>
 * has been walked into <route>: one of upstream, root and return, and the
 * default index.
 */
void	lnt_conf_set_root(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_conf_set_return(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_conf_set_error_page_status(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_conf_set_error_page_file(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_conf_set_mime_types(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_conf_print_route_static(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_print_return(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_print_error_page_status(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_static_route_check(lnt_cf_t *cf,
	    const struct config_setting_t *group, lnt_route_t *route);
void	lnt_conf_static_free_route(lnt_route_t *route);
void	lnt_conf_static_free_error_page(lnt_error_page_t *page);

void	lnt_conf_print_listen(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_print_names(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_print_route_path(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_print_route_upstream(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_conf_print_access_log(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);

#endif /* LNT_CONF_KEYS_H */
