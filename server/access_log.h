/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The access log: one line per request, in the "combined" format, as JSON,
 * or from a template with $variables, compiled once at config load.
 */
#ifndef LNT_ACCESS_LOG_H
#define LNT_ACCESS_LOG_H

#include "core.h"

/* What the request path hands the access log when a request ends. */
struct lnt_access_rec_s {
	const char	*remote_addr;	/* "127.0.0.1" (no port) */
	lnt_msec_t	 start_wall;	/* wall clock at request start, ms since epoch */
	lnt_msec_t	 duration;	/* ms from first byte to last byte sent */
	lnt_str_t	 method;
	lnt_str_t	 target;	/* request-target as received: "/a?b=1" */
	lnt_str_t	 protocol;	/* "HTTP/1.1" */
	lnt_str_t	 host;		/* Host header, empty if none */
	int		 status;	/* status sent to the client */
	int64_t		 body_bytes_sent; /* response body bytes sent */
	int64_t		 bytes_received; /* request bytes read, head and body */
	const char	*upstream_addr;	/* "10.0.0.1:8080" or NULL */
	int		 upstream_status; /* 0 if none */
	lnt_msec_t	 upstream_time;	/* ms, -1 if no upstream */
	const char	*site;		/* site label */
	uint64_t	 conn_id;	/* connection number within the worker */
	const char	*proxy_protocol_addr; /* client the PROXY header named,
					   NULL without one */
	int		 proxy_protocol_port; /* its port, -1 without one */
	/* Request header lookup for $http_NAME (NAME with '_' for '-'). */
	lnt_str_t	(*header)(const void *req, const char *name, size_t len);
	const void	*req;
	/* Variables modules define, by the index the compile lookup gave
	 * (lnt_access_log_compile_ext); NULL: they have no value. */
	lnt_str_t	(*ext)(const void *ctx, size_t idx);
	const void	*ext_ctx;
};

/* Finds a variable lintel does not define: its index, or -1. */
typedef long	(*lnt_access_var_lookup_t)(const void *ctx, const char *name,
		    size_t len);

/*
 * Compile an access log writing to <path> with <format> ("combined",
 * "json" or a template such as "$remote_addr $status $request").  Returns
 * NULL with a message in <*err> (malloc'd, the caller frees) on an unknown
 * variable or a bad format.  Does not open the file.
 */
lnt_access_log_t *lnt_access_log_compile(const char *path, const char *format,
		    char **err);
/* The same, with the variables <lookup> finds with <ctx> as well. */
lnt_access_log_t *lnt_access_log_compile_ext(const char *path,
		    const char *format, lnt_access_var_lookup_t lookup,
		    const void *ctx, char **err);

/* Whether lintel itself defines variable <name> (<len> bytes). */
bool		 lnt_access_var_known(const char *name, size_t len);
/*
 * Lintel's variable <name> for <rec>, unescaped, into <buf> of <cap> bytes
 * (cut to fit, NUL-ended): its length, 0 when it has no value, -1 when
 * lintel has no such variable.  The same table serves templates and
 * lnt_req_var().
 */
ssize_t		 lnt_access_var_text(const lnt_access_rec_t *rec,
		    const char *name, size_t len, char *buf, size_t cap);

/* Where it writes and in which format it was compiled from (for -T). */
const char	*lnt_access_log_path(const lnt_access_log_t *log);
const char	*lnt_access_log_format(const lnt_access_log_t *log);

/*
 * Open (or reopen, on USR1) the file: O_WRONLY|O_APPEND|O_CREAT, mode 0640,
 * chowned to <uid>/<gid> when running as root.  Returns -1 with errno set on
 * failure, keeping the old descriptor.
 */
int		 lnt_access_log_open(lnt_access_log_t *log, uid_t uid,
		    gid_t gid);
int		 lnt_access_log_reopen(lnt_access_log_t *log);

/* Format <rec> and write one line with a single write(2). */
void		 lnt_access_log_write(lnt_access_log_t *log,
		    const lnt_access_rec_t *rec);

void		 lnt_access_log_free(lnt_access_log_t *log);

#endif /* LNT_ACCESS_LOG_H */
