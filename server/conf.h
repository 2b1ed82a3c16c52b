/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The loaded configuration: what the master, the workers and the helper read
 * once lnt_conf_load() has parsed and validated lintel.conf.  A conf is
 * immutable after loading; a reload builds a new one beside it.
 */
#ifndef LNT_CONF_H
#define LNT_CONF_H

#include <stdio.h>
#include <sys/socket.h>

#include "core.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Timeouts and size limits: at top level (defaults) and per site. */
struct lnt_limits_s {
	lnt_msec_t	 client_header_timeout;	/* default 60s */
	lnt_msec_t	 client_body_timeout;	/* default 60s */
	lnt_msec_t	 keepalive_timeout;	/* default 75s; 0 = no keep-alive */
	lnt_msec_t	 send_timeout;		/* default 60s */
	int64_t		 max_header_size;	/* bytes, default 16k */
	int64_t		 max_body_size;		/* bytes, default 1m; 0 = unlimited */
	lnt_msec_t	 handshake_timeout;	/* TLS, default 10s */
};

/* One distinct listening address, shared by every site that names it. */
struct lnt_listen_s {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 text[64];	/* "127.0.0.1:8080", "[::1]:8080" */
	int			 backlog;	/* default 511 */
	bool			 tls;		/* the "tls" flag */
	bool			 proxy_protocol; /* the flag: a PROXY header
						   comes first */
	int			 fd;		/* -1 until the master binds it */
	lnt_site_t		**sites;	/* sites on this address, config order */
	size_t			 nsites;
	lnt_site_t		*default_site;	/* `default = true`, else sites[0] */
	const char		*file;		/* where first named */
	int			 line;
};

struct lnt_server_s {
	char			*address;	/* as written: "10.0.0.1:8080" */
	struct sockaddr_storage	 addr;		/* resolved at load time */
	socklen_t		 addrlen;
	int			 weight;	/* 1..1000, default 1 */
	bool			 backup;
	int			 rr_current;	/* worker-local round-robin state */
	lnt_pconn_t		*idle;		/* worker-local idle connections */
	char			 addr_text[64];	/* formatted on first use */
	void			*tls_session;	/* worker-local SSL_SESSION to
						   resume, or NULL */
};

struct lnt_upstream_s {
	char		*name;
	lnt_server_t	*servers;
	size_t		 nservers;
	int		 keepalive;		/* idle connections kept per worker */
	lnt_msec_t	 keepalive_timeout;	/* idle connection lifetime, 60s */
	int		 keepalive_requests;	/* requests per connection, 1000 */
	int		 nidle;			/* worker-local: idle now */
	void		**mconf;		/* per loaded module, or NULL */
	lnt_msec_t	 connect_timeout;	/* default 5s */
	lnt_msec_t	 send_timeout;		/* default 60s */
	lnt_msec_t	 read_timeout;		/* default 60s */
	lnt_tls_upstream_t *tls;		/* NULL: plain TCP */
	const char	*file;
	int		 line;
};

/* One header rule: "Name: value" for set/add, a bare name for remove. */
typedef struct lnt_hdr_rule_s {
	char		*name;
	size_t		 name_len;
	char		*value;		/* may hold $remote_addr $host $scheme
					   $request_uri; NULL for remove */
} lnt_hdr_rule_t;

/* request_headers / response_headers = { set; add; remove; } */
typedef struct lnt_hdr_rules_s {
	lnt_hdr_rule_t	*set;
	size_t		 nset;
	lnt_hdr_rule_t	*add;
	size_t		 nadd;
	lnt_hdr_rule_t	*remove;
	size_t		 nremove;
} lnt_hdr_rules_t;

/* forward_headers bits: what the proxy adds to requests it forwards. */
#define LNT_FWD_VIA		0x01
#define LNT_FWD_XFF		0x02	/* X-Forwarded-For */
#define LNT_FWD_XFPROTO		0x04	/* X-Forwarded-Proto */
#define LNT_FWD_XFHOST		0x08	/* X-Forwarded-Host */
#define LNT_FWD_FORWARDED	0x10	/* RFC 7239 Forwarded */
#define LNT_FWD_DEFAULT		(LNT_FWD_VIA | LNT_FWD_XFF | LNT_FWD_XFPROTO | \
				 LNT_FWD_XFHOST)

/* A route's fixed answer: return = { status; body; location; }. */
typedef struct lnt_return_s {
	int		 status;	/* 200..599; 0: the route has none */
	char		*body;		/* text/plain; NULL: lintel's page */
	char		*location;	/* with $scheme $host $request_uri */
} lnt_return_t;

/* One entry of a site's error_pages, read into memory at load time. */
typedef struct lnt_error_page_s {
	int		*statuses;	/* 400..599 */
	size_t		 nstatuses;
	char		*file;		/* absolute path */
	char		*body;		/* the file's bytes (at most 64 KiB) */
	size_t		 len;
	const char	*conf_file;	/* where it is written */
	int		 conf_line;
} lnt_error_page_t;

struct lnt_route_s {
	char		*path;		/* prefix, or the regex without its "~" */
	size_t		 path_len;
	pcre2_code	*regex;		/* NULL for a prefix route */
	lnt_upstream_t	*upstream;
	char		*upstream_host;	/* Host sent upstream; NULL: the site's */
	lnt_hdr_rules_t	*request_headers;  /* NULL: the site's */
	lnt_hdr_rules_t	*response_headers; /* NULL: the site's */
	char		*root;		/* static files: absolute, no final '/' */
	char		**index;	/* index file names, default index.html */
	size_t		 nindex;
	bool		 allow_symlinks; /* may a symlink lead out of root */
	lnt_return_t	 ret;		/* ret.status 0: no return */
	void		**mconf;	/* per loaded module, merged from site */
	const char	*file;
	int		 line;
};

struct lnt_site_s {
	lnt_listen_t	**listens;
	size_t		  nlistens;
	char		**names;	/* lower case; "*.x.com" wildcards kept as written */
	size_t		  nnames;
	pcre2_code	**name_regexes;	/* names written "~regex" */
	size_t		  nname_regexes;
	char		**name_regex_src; /* their patterns, without "~" */
	bool		  is_default;
	lnt_route_t	 *routes;
	size_t		  nroutes;
	lnt_limits_t	  limits;	/* merged with the top level */
	unsigned	  forward_headers; /* LNT_FWD_* bits */
	bool		  forward_headers_set;
	char		 *upstream_host; /* NULL: the client's Host */
	lnt_hdr_rules_t	 *request_headers;
	lnt_hdr_rules_t	 *response_headers;
	void		**mconf;	/* per loaded module, merged from top */
	char		 *mime_types;	/* path; NULL: the top level's */
	lnt_mime_t	 *mime;		/* parsed mime_types, or NULL */
	lnt_error_page_t *error_pages;
	size_t		  nerror_pages;
	lnt_tls_site_t	 *tls;		/* certificates etc.; NULL: none */
	int		  redirect_https; /* port to redirect to; 0: none */
	char		 *label;	/* first name, or "file:line", for logs */
	const char	 *file;
	int		  line;
};

struct lnt_conf_s {
	char		*path;		/* the file this was read from */
	int		 workers;	/* "auto" resolved to the CPU count */
	int		 worker_connections; /* per worker, default 1024 */
	char		*user;		/* default "nobody" */
	char		*group;		/* default: the user's primary group */
	uid_t		 uid;		/* resolved from user/group at load */
	gid_t		 gid;
	char		*pid_file;
	char		*error_log;	/* path, "stderr" or "syslog" */
	int		 log_level;	/* LNT_LOG_*, default notice */
	lnt_msec_t	 shutdown_timeout; /* default 30s */
	lnt_msec_t	 tls_session_timeout; /* default 1h; 0: no resumption */
	char		**modules;
	size_t		  nmodules;
	char		 *module_path;	/* where "name" modules are found */
	struct lnt_mod_s *mods;		/* loaded, in `modules` order */
	size_t		  nmods;
	void		**mconf;	/* per loaded module: top-level conf */
	struct lnt_hooks_s *hooks;	/* phase handlers, sorted */
	struct lnt_var_s *vars;		/* variables modules define */
	size_t		  nvars;
	struct lnt_mod_setting_s *mod_settings; /* module keys, for -T */
	size_t		  nmod_settings;
	struct lnt_shm_zone_s **zones;	/* shared zones this config holds */
	size_t		  nzones;
	lnt_access_log_t *access_log;	/* NULL: no access log */
	char		 *mime_types;	/* path of a mime.types file, or NULL */
	lnt_mime_t	 *mime;		/* parsed mime_types, or NULL */
	lnt_limits_t	  limits;
	lnt_upstream_t	 *upstreams;
	size_t		  nupstreams;
	lnt_site_t	 *sites;
	size_t		  nsites;
	lnt_listen_t	 *listens;	/* every distinct address, config order */
	size_t		  nlistens;
	char		**files;	/* config file names that file/line */
	size_t		  nfiles;	/* fields above point into */
};

/*
 * Read and validate the config file at <path>.  Every problem found is
 * appended to <errors> as "file:line: message" (or "path: message" when no
 * line applies) and loading goes on so that all of them are reported.
 * Returns the config, or NULL if there was any error.  The caller owns the
 * result and frees it with lnt_conf_free().
 */
lnt_conf_t	*lnt_conf_load(const char *path, lnt_strlist_t *errors);
/* The same for a reload (HUP): the modules' reload callbacks run last and
 * may refuse the new config. */
lnt_conf_t	*lnt_conf_reload(const char *path, lnt_strlist_t *errors);

/* Free <conf> and everything it owns (listening fds are not closed). */
void		 lnt_conf_free(lnt_conf_t *conf);

/* Print <conf> as an effective, complete libconfig file (for `-T`). */
void		 lnt_conf_dump(const lnt_conf_t *conf, FILE *out);

#endif /* LNT_CONF_H */
