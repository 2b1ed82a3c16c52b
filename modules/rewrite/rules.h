/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rewrite module's rule engine: rules compiled once from config
 * strings (a PCRE2 match, a target template, a flag, conditions), applied
 * to a request's path, and the Location/Refresh response rewriting.  It
 * needs only libc and PCRE2, so the module's glue stays thin.
 */
#ifndef LNT_RW_RULES_H
#define LNT_RW_RULES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Re-routes allowed per request.  The caller counts REWRITTEN results
 * (each re-route re-runs the rules of the new route); the one that would
 * make LNT_RW_MAX_LOOPS + 1 answers 500 with a "rewrite loop" log line.
 */
#define LNT_RW_MAX_LOOPS	10

/*
 * Bounds on one pcre2_match() so that a rule that backtracks badly costs
 * a 500, not a worker: match limit (backtracking steps), depth limit and
 * heap limit (KiB).
 */
#define LNT_RW_MATCH_LIMIT	1000000
#define LNT_RW_DEPTH_LIMIT	10000
#define LNT_RW_HEAP_LIMIT	4096

/* A file_exists condition. */
typedef enum lnt_rw_file {
	LNT_RW_FILE_ANY = 0,		/* no condition (the zero value) */
	LNT_RW_FILE_EXISTS,		/* file_exists = true */
	LNT_RW_FILE_MISSING		/* file_exists = false */
} lnt_rw_file_t;

/* A header condition: header = { name = "X-A"; match = "~re"; }. */
typedef struct lnt_rw_header_spec {
	const char	*name;		/* field name, any case */
	const char	*match;		/* "~regex", exact value, or NULL:
					   present with any value */
} lnt_rw_header_spec_t;

/*
 * One rule as the config writes it, every string NUL-terminated and only
 * borrowed by lnt_rw_compile().  A zeroed spec with match and to set is
 * a rule with flag "last" and no conditions.
 */
typedef struct lnt_rw_spec {
	const char	*match;		/* PCRE2 pattern tried on the path */
	const char	*to;		/* target template */
	const char	*flag;		/* NULL: "last" */
	const char * const *methods;	/* NULL: any method */
	size_t		 nmethods;	/* entries in methods */
	const char	*host;		/* "~regex" or exact; NULL: any */
	const lnt_rw_header_spec_t *headers; /* all must hold */
	size_t		 nheaders;	/* entries in headers */
	lnt_rw_file_t	 file_exists;
} lnt_rw_spec_t;

typedef struct lnt_rw_rule	lnt_rw_rule_t;
typedef struct lnt_rw_set	lnt_rw_set_t;

/*
 * Compile <spec> into a rule, or return NULL with a message in <err> of
 * <errlen> bytes.  The message starts with the rule key at fault and ": "
 * ("match", "to", "flag", "method", "host", "header", "file_exists") and
 * has no file or line: the caller adds those, e.g.
 *   match: invalid regex at offset 3: missing closing parenthesis
 *   to: unknown variable $hots at offset 6
 *   to: $5 at offset 6, but match has 2 groups
 *   flag: unknown flag "stop" (expected last, break, redirect,
 *     permanent, 307 or 308)
 *
 * match is a PCRE2 pattern (no options; write (?i) for caseless) tried
 * on the path as received: percent-escapes undecoded, no query.  It is
 * JIT-compiled when PCRE2 has JIT, else interpreted, silently.
 *
 * to is a template of literal text and references, resolved at match
 * time:
 *   $0 .. $9	the whole match and groups 1..9 of match, one digit only
 *		("$10" is $1 then "0"); a group that did not take part is
 *		empty; a group beyond match's count is a load error
 *   ${name}	the named group <name> of match, else the variable <name>
 *		(so ${host}x works); neither is a load error
 *   $host	the request's host, as the context gives it
 *   $uri	the current path (before this rule), without query
 *   $args	the current query, without '?'
 *   $scheme $remote_addr $request_method
 *   $http_NAME	request header NAME, '_' read as '-', any case; empty
 *		when absent
 *   $$		a literal '$'
 * Any other '$' is a load error.  Substituted values are copied as they
 * are: captures come from the raw path, so escapes stay escaped.
 * Literal text may not hold control characters or spaces, and each '%'
 * in it must begin a %XX escape.
 *
 * Query string, as nginx does it: the current query is appended to the
 * result, after '&' if the result already holds a '?', else after '?'
 * (before any "#fragment" of a redirect); a template ending in '?' drops
 * the current query, and that last '?' is not output.  An empty query is
 * never appended.  E.g. with query "a=1":
 *   "/new/$1"		-> /new/x?a=1
 *   "/new?id=$1"	-> /new?id=x&a=1
 *   "/new?id=$1?"	-> /new?id=x
 *   "/new?"		-> /new
 *
 * flag: "last" (the default: the caller re-routes), "break" (stop
 * rewriting, keep the new URI), "redirect" (302), "permanent" (301),
 * "307", "308".  A template whose literal start is an absolute URL
 * ("https://...") needs a redirect flag; any other literal start must be
 * '/'.
 *
 * Conditions, all of which must hold, cheapest first: methods (exact,
 * case-sensitive tokens; a non-NULL empty list is a load error), host
 * ("~regex", caseless, or an exact name compared without case), headers
 * (an absent header never holds, whatever the match), then the match
 * regex, then file_exists (through the context's callback, last because
 * it may touch the file system).  Captures come from match only.
 *
 * Allocates with malloc(3); never aborts: out of memory is an error too.
 */
lnt_rw_rule_t	*lnt_rw_compile(const lnt_rw_spec_t *spec, char *err,
		    size_t errlen);

/* Free <rule> (NULL is fine); for rules never given to a set. */
void		 lnt_rw_rule_free(lnt_rw_rule_t *rule);

/*
 * Make an ordered set of the <n> rules in <rules> (the array is copied,
 * the rules are owned by the set from now on, even on failure) and
 * allocate the one match data that every lookup in the set uses, sized
 * for the rule with the most groups.  Returns NULL when out of memory.
 * <n> may be 0.  Build sets at config load, before fork.
 */
lnt_rw_set_t	*lnt_rw_set_new(lnt_rw_rule_t **rules, size_t n);

/* Free <set> and its rules (NULL is fine). */
void		 lnt_rw_set_free(lnt_rw_set_t *set);

/* Rules in <set>. */
size_t		 lnt_rw_set_count(const lnt_rw_set_t *set);

/*
 * What lnt_rw_apply() needs from the request.  Strings are byte ranges,
 * not NUL-terminated; a NULL pointer with length 0 is an empty value.
 */
typedef struct lnt_rw_ctx {
	const char	*path;		/* current path, starting with '/' */
	size_t		 path_len;
	const char	*query;		/* without '?'; empty when none */
	size_t		 query_len;
	const char	*method;
	size_t		 method_len;
	const char	*host;		/* Host without port, lower case */
	size_t		 host_len;
	const char	*scheme;	/* "http" or "https" */
	size_t		 scheme_len;
	const char	*remote_addr;	/* client address, no port */
	size_t		 remote_addr_len;

	/*
	 * The value of request header <name> (lower case, NUL-terminated),
	 * its length in <*len>, or NULL when absent.  Several field lines
	 * are the caller's to combine.  NULL callback: no headers.
	 */
	const char	*(*header)(void *arg, const char *name, size_t *len);

	/*
	 * Whether the file that <path> (<len> bytes, raw as in the request)
	 * names under the route's root exists: 1 yes, 0 no, -1 when the
	 * request maps to no file (no root route).  -1, or a NULL callback,
	 * fails a file_exists condition whichever way it is written.
	 */
	int		 (*file_exists)(void *arg, const char *path,
			    size_t len);

	void		*arg;		/* passed to both callbacks */
} lnt_rw_ctx_t;

typedef enum lnt_rw_rc {
	LNT_RW_NO_MATCH,		/* no rule applied: carry on */
	LNT_RW_REWRITTEN,		/* flag last: re-route to the new URI */
	LNT_RW_BREAK,			/* flag break: keep the new URI, stop */
	LNT_RW_REDIRECT,		/* answer status with Location */
	LNT_RW_ERROR			/* answer 500 and log why */
} lnt_rw_rc_t;

typedef struct lnt_rw_result {
	int		 status;	/* 301 302 307 308, or 500 on ERROR */
	size_t		 rule;		/* index of the rule that matched,
					   or on ERROR the one at fault */
	size_t		 len;		/* bytes in <out>, NUL not counted */
	size_t		 path_len;	/* bytes of <out> before a '?' */
	const char	*why;		/* ERROR: static reason for the log */
} lnt_rw_result_t;

/*
 * Apply the rules of <set> in order to the request in <ctx>: the first
 * rule whose conditions and match hold decides.  The new URI (path, then
 * '?' and the query if any; for a redirect, the Location value) goes to
 * <out> of <cap> bytes, NUL-terminated, and <res> says what it is.
 *
 * ERROR (status 500, <res>->why set, <out> unspecified) when the result
 * would not fit in <cap>, when it is not a valid URI (an internal
 * rewrite must start with '/' and hold no '#'; a redirect must start with
 * '/' or be an absolute URL; neither may hold control characters, spaces
 * or NUL), when a regex hits a LNT_RW_MATCH_LIMIT bound, or when <out>
 * overlaps ctx's path or query: after REWRITTEN, call again with the
 * path in one buffer and the output in another.
 *
 * Uses the set's match data, so calls on one set must not overlap (one
 * worker, one thread).  Never allocates, never suspends.
 */
lnt_rw_rc_t	 lnt_rw_apply(const lnt_rw_set_t *set, const lnt_rw_ctx_t *ctx,
		    char *out, size_t cap, lnt_rw_result_t *res);

typedef enum lnt_rw_loc_rc {
	LNT_RW_LOC_KEEP,		/* not the upstream's: leave as is */
	LNT_RW_LOC_REWRITTEN,		/* <out> holds the new value */
	LNT_RW_LOC_TOO_LONG		/* would not fit: leave as is, log */
} lnt_rw_loc_rc_t;

/*
 * Rewrite a Location value <value> of <len> bytes that points at the
 * upstream <from> (e.g. "http://10.0.0.1:8080", optionally with a path)
 * so that it points at the public <to> (the request's
 * "https://example.com", optionally with a path), both NUL-terminated.
 * The scheme and authority of <from> compare without case, its path with
 * case and by whole segments: "http://a:8080/app" takes
 * "http://a:8080/app" and "http://a:8080/app/x", not
 * "http://a:8080/apple", and "http://a:80" never takes "http://a:8080/".
 * A trailing '/' on <from> or <to> is ignored, so "/" and "" are the
 * same.  An authority with its scheme's default port (":80" for http,
 * ":443" for https) also matches the value without the port, and the
 * other way round.  "http://a@evil/" is not "http://a".  The new value
 * goes to <out> of <cap> bytes (not overlapping <value>),
 * NUL-terminated, its length in <*outlen>.
 */
lnt_rw_loc_rc_t	 lnt_rw_location(const char *value, size_t len,
		    const char *from, const char *to, char *out, size_t cap,
		    size_t *outlen);

/*
 * The same for a Refresh value such as "5; url=http://10.0.0.1:8080/x"
 * (delay, ';' or ',', "url" in any case, '=', the URL, optionally
 * quoted): the URL is rewritten as by lnt_rw_location(), the rest kept.
 * A value with no URL is kept.
 */
lnt_rw_loc_rc_t	 lnt_rw_refresh(const char *value, size_t len,
		    const char *from, const char *to, char *out, size_t cap,
		    size_t *outlen);

#endif /* LNT_RW_RULES_H */
