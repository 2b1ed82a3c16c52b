/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The access log: a format ("combined", "json" or a $variable template) is
 * compiled once into a list of ops; each request is then formatted into a
 * fixed stack buffer and written with a single write(2), so lines from
 * several workers never interleave.
 */
#include "config.h"

#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "util.h"

#define LINE_MAX_BYTES	8192	/* longest line written, newline included */
#define FIELD_MAX	2048	/* escaped bytes of one field; more is cut */
#define JSON_RESERVE	1024	/* room kept for the JSON keys still to come */

#define COMBINED_FORMAT \
	"$remote_addr - - [$time_local] \"$request\" $status " \
	"$body_bytes_sent \"$http_referer\" \"$http_user_agent\""

/* The line being built: writes past the end are dropped. */
struct out {
	char	 buf[LINE_MAX_BYTES];
	size_t	 len;
	size_t	 cap;		/* bytes usable before the final newline */
	bool	 raw;		/* one value for lnt_req_var: unescaped,
				   nothing for a missing one */
};

typedef void	(*var_fn)(struct out *, const lnt_access_rec_t *, bool);

struct var {
	const char	*name;
	var_fn		 fn;
};

enum op_kind { OP_LITERAL, OP_VAR, OP_HEADER, OP_EXT };

struct op {
	enum op_kind	 kind;
	char		*text;		/* literal, or the header name */
	size_t		 len;		/* OP_EXT: the variable's index */
	var_fn		 fn;
};

struct lnt_access_log_s {
	char		*path;
	char		*format;	/* as configured, for -T */
	bool		 json;
	struct op	*ops;		/* template ops (also for "combined") */
	size_t		 nops;
	int		 fd;		/* -1 until opened */
	uid_t		 uid;
	gid_t		 gid;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - o->len)
		n = o->cap - o->len;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
put_s(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/*
 * Text fields in combined and template lines: '"', '\' and bytes outside
 * printable ASCII become \xHH so a client cannot forge or split lines.
 */
static void
put_text(struct out *o, const char *s, size_t n)
{
	size_t i, end = o->len + FIELD_MAX;
	char hex[5];
	unsigned char c;

	if (o->raw) {
		put(o, s, n);
		return;
	}
	if (end > o->cap)
		end = o->cap;
	for (i = 0; i < n && o->len < end; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
			if (end - o->len < 4)
				break;
			snprintf(hex, sizeof(hex), "\\x%02X", c);
			put(o, hex, 4);
		} else
			o->buf[o->len++] = (char)c;
	}
}

/* Length of the valid UTF-8 sequence at <s> (<n> bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * A JSON string body: quotes and backslashes escaped, control characters
 * and bytes that are not valid UTF-8 as \u00XX.  Cut at FIELD_MAX bytes,
 * and <limit> bytes before the end of the line so later fields still fit.
 */
static void
put_json_text(struct out *o, const char *s, size_t n, size_t limit)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, seq, end;
	char esc[8];

	end = o->cap > limit ? o->cap - limit : 0;
	if (end > o->len + FIELD_MAX)
		end = o->len + FIELD_MAX;
	while (i < n && o->len + 6 <= end) {
		if (u[i] == '"' || u[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[i];
			put(o, esc, 2);
			i++;
		} else if (u[i] >= 0x20 && u[i] < 0x7f) {
			o->buf[o->len++] = (char)u[i++];
		} else if (u[i] >= 0x80 && (seq = utf8_len(u + i, n - i))) {
			put(o, s + i, seq);
			i += seq;
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", u[i++]);
			put(o, esc, 6);
		}
	}
}

/* A missing value: "-", null in JSON, nothing for lnt_req_var. */
static void
put_none(struct out *o, bool json)
{
	if (!o->raw)
		put_s(o, json ? "null" : "-");
}

/* A text field, "-" when missing, escaped for the mode <json>. */
static void
put_field(struct out *o, const char *s, size_t n, bool json)
{
	if (json) {
		put_s(o, "\"");
		put_json_text(o, s, n, JSON_RESERVE);
		put_s(o, "\"");
	} else if (s == NULL || n == 0)
		put_none(o, false);
	else
		put_text(o, s, n);
}

static void
put_cstr(struct out *o, const char *s, bool json)
{
	if (s == NULL || *s == '\0')
		put_none(o, json);
	else
		put_field(o, s, strlen(s), json);
}

static void
put_str(struct out *o, lnt_str_t s, bool json)
{
	if (s.len == 0)
		put_none(o, json);
	else
		put_field(o, s.p, s.len, json);
}

/* Milliseconds as seconds with three decimals: 1234 is "1.234". */
static void
put_seconds(struct out *o, lnt_msec_t ms, bool json)
{
	if (ms < 0)
		put_none(o, json);
	else
		putf(o, "%lld.%03lld", (long long)(ms / 1000),
		    (long long)(ms % 1000));
}

static void
local_tm(lnt_msec_t ms, struct tm *tm)
{
	time_t t = (time_t)(ms / 1000);

	localtime_r(&t, tm);
}

/* "+0100" or, with <colon>, "+01:00". */
static void
put_tz(struct out *o, const struct tm *tm, bool colon)
{
	long off = tm->tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';

	if (off < 0)
		off = -off;
	putf(o, colon ? "%c%02ld:%02ld" : "%c%02ld%02ld", sign, off / 60,
	    off % 60);
}

static void
put_iso8601(struct out *o, lnt_msec_t ms)
{
	struct tm tm;
	char buf[32];

	local_tm(ms, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	put_s(o, buf);
	put_tz(o, &tm, true);
}

static void
v_remote_addr(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_cstr(o, r->remote_addr, json);
}

static void
v_time_local(struct out *o, const lnt_access_rec_t *r, bool json)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;

	local_tm(r->start_wall, &tm);
	putf(o, "%02d/%.3s/%04d:%02d:%02d:%02d ", tm.tm_mday,
	    months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	put_tz(o, &tm, false);
}

static void
v_time_iso8601(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_iso8601(o, r->start_wall);
}

static void
v_msec(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_seconds(o, r->start_wall, json);
}

static void
v_request(struct out *o, const lnt_access_rec_t *r, bool json)
{
	if (r->method.len == 0) {
		put_none(o, false);
		return;
	}
	put_text(o, r->method.p, r->method.len);
	put_s(o, " ");
	put_text(o, r->target.p, r->target.len);
	put_s(o, " ");
	put_text(o, r->protocol.p, r->protocol.len);
}

static void
v_request_method(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_str(o, r->method, json);
}

static void
v_request_uri(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_str(o, r->target, json);
}

/* Split the target at '?': the path, or the query after it. */
static lnt_str_t
target_part(const lnt_access_rec_t *r, bool query)
{
	const char *q = r->target.len ? memchr(r->target.p, '?',
	    r->target.len) : NULL;
	size_t plen = q != NULL ? (size_t)(q - r->target.p) : r->target.len;

	if (!query)
		return (lnt_str_t){ r->target.p, plen };
	if (q == NULL)
		return (lnt_str_t){ NULL, 0 };
	return (lnt_str_t){ q + 1, r->target.len - plen - 1 };
}

static void
v_uri(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_str(o, target_part(r, false), json);
}

static void
v_args(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_str(o, target_part(r, true), json);
}

static void
v_server_protocol(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_str(o, r->protocol, json);
}

static void
v_host(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_str(o, r->host, json);
}

static void
v_status(struct out *o, const lnt_access_rec_t *r, bool json)
{
	if (r->status <= 0)
		put_none(o, json);
	else
		putf(o, "%d", r->status);
}

static void
v_body_bytes_sent(struct out *o, const lnt_access_rec_t *r, bool json)
{
	putf(o, "%lld", (long long)r->body_bytes_sent);
}

static void
v_bytes_received(struct out *o, const lnt_access_rec_t *r, bool json)
{
	putf(o, "%lld", (long long)r->bytes_received);
}

static void
v_request_time(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_seconds(o, r->duration, json);
}

static void
v_upstream_addr(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_cstr(o, r->upstream_addr, json);
}

static void
v_upstream_status(struct out *o, const lnt_access_rec_t *r, bool json)
{
	if (r->upstream_status <= 0)
		put_none(o, json);
	else
		putf(o, "%d", r->upstream_status);
}

static void
v_upstream_response_time(struct out *o, const lnt_access_rec_t *r,
    bool json)
{
	put_seconds(o, r->upstream_time, json);
}

static void
v_site(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_cstr(o, r->site, json);
}

static void
v_connection(struct out *o, const lnt_access_rec_t *r, bool json)
{
	putf(o, "%llu", (unsigned long long)r->conn_id);
}

static void
v_proxy_protocol_addr(struct out *o, const lnt_access_rec_t *r, bool json)
{
	put_cstr(o, r->proxy_protocol_addr, json);
}

static void
v_proxy_protocol_port(struct out *o, const lnt_access_rec_t *r, bool json)
{
	if (r->proxy_protocol_addr == NULL || r->proxy_protocol_port < 0)
		put_cstr(o, NULL, json);
	else
		putf(o, "%d", r->proxy_protocol_port);
}

static const struct var vars[] = {
	{ "remote_addr",		v_remote_addr },
	{ "time_local",			v_time_local },
	{ "time_iso8601",		v_time_iso8601 },
	{ "msec",			v_msec },
	{ "request",			v_request },
	{ "request_method",		v_request_method },
	{ "request_uri",		v_request_uri },
	{ "uri",			v_uri },
	{ "args",			v_args },
	{ "server_protocol",		v_server_protocol },
	{ "host",			v_host },
	{ "status",			v_status },
	{ "body_bytes_sent",		v_body_bytes_sent },
	{ "bytes_received",		v_bytes_received },
	{ "request_time",		v_request_time },
	{ "upstream_addr",		v_upstream_addr },
	{ "upstream_status",		v_upstream_status },
	{ "upstream_response_time",	v_upstream_response_time },
	{ "site",			v_site },
	{ "connection",			v_connection },
	{ "proxy_protocol_addr",	v_proxy_protocol_addr },
	{ "proxy_protocol_port",	v_proxy_protocol_port },
};

/* A request header, "-" (or null) if absent or no lookup is wired. */
static void
put_header(struct out *o, const lnt_access_rec_t *r, const char *name,
    size_t len, bool json)
{
	lnt_str_t v = { NULL, 0 };

	if (r->header != NULL)
		v = r->header(r->req, name, len);
	put_str(o, v, json);
}

static void
add_op(lnt_access_log_t *log, enum op_kind kind, const char *text,
    size_t len, var_fn fn)
{
	struct op *op;

	log->ops = lnt_xrealloc(log->ops, (log->nops + 1) * sizeof(*log->ops));
	op = &log->ops[log->nops++];
	op->kind = kind;
	op->text = text != NULL ? lnt_xstrndup(text, len) : NULL;
	op->len = len;
	op->fn = fn;
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* The formatter of lintel's variable <name> (<len> bytes), or NULL. */
static var_fn
core_var(const char *name, size_t len)
{
	for (size_t i = 0; i < LNT_NELEM(vars); i++)
		if (strlen(vars[i].name) == len &&
		    strncmp(vars[i].name, name, len) == 0)
			return vars[i].fn;
	return NULL;
}

/* $http_NAME: a request header. */
static bool
is_header_var(const char *name, size_t len)
{
	return len > 5 && strncmp(name, "http_", 5) == 0;
}

/* Whether lintel itself defines variable <name> of <len> bytes. */
bool
lnt_access_var_known(const char *name, size_t len)
{
	return is_header_var(name, len) || core_var(name, len) != NULL;
}

/*
 * Lintel's variable <name> (<len> bytes) for <rec>, unescaped, into <buf>
 * of <cap> bytes (cut to fit, NUL-ended).  Returns its length, 0 when it
 * has no value, or -1 when lintel has no such variable.
 */
ssize_t
lnt_access_var_text(const lnt_access_rec_t *rec, const char *name,
    size_t len, char *buf, size_t cap)
{
	var_fn fn = core_var(name, len);
	struct out o;

	if (fn == NULL && !is_header_var(name, len))
		return -1;
	o.len = 0;
	o.cap = sizeof(o.buf);
	o.raw = true;
	if (fn != NULL)
		fn(&o, rec, false);
	else
		put_header(&o, rec, name + 5, len - 5, false);
	if (o.len >= cap)
		o.len = cap - 1;
	memcpy(buf, o.buf, o.len);
	buf[o.len] = '\0';
	return (ssize_t)o.len;
}

/* Turn the variable <name> of <len> bytes into an op; false if unknown. */
static bool
add_var(lnt_access_log_t *log, const char *name, size_t len,
    lnt_access_var_lookup_t lookup, const void *ctx)
{
	var_fn fn;
	long ext;

	if (is_header_var(name, len)) {
		add_op(log, OP_HEADER, name + 5, len - 5, NULL);
		return true;
	}
	if ((fn = core_var(name, len)) != NULL) {
		add_op(log, OP_VAR, NULL, 0, fn);
		return true;
	}
	if (lookup != NULL && (ext = lookup(ctx, name, len)) >= 0) {
		add_op(log, OP_EXT, NULL, (size_t)ext, NULL);
		return true;
	}
	return false;
}

/*
 * Compile the template <fmt> into <log>'s ops.  Returns NULL, or a
 * malloc'd message naming what is wrong.
 */
static char *
compile_template(lnt_access_log_t *log, const char *fmt,
    lnt_access_var_lookup_t lookup, const void *ctx)
{
	const char *p = fmt, *lit, *name;
	size_t len;
	bool braced;

	while (*p != '\0') {
		for (lit = p; *p != '\0' && *p != '$'; p++)
			;
		if (p > lit)
			add_op(log, OP_LITERAL, lit, (size_t)(p - lit), NULL);
		if (*p == '\0')
			break;
		braced = *++p == '{';
		name = p += braced;
		while (is_name_char(*p))
			p++;
		len = (size_t)(p - name);
		if (len == 0)
			return lnt_xasprintf("expected a variable name after "
			    "'$' at offset %zu", (size_t)(name - fmt));
		if (braced && *p++ != '}')
			return lnt_xasprintf("missing '}' after '${%.*s'",
			    (int)len, name);
		if (!add_var(log, name, len, lookup, ctx))
			return lnt_xasprintf("unknown variable '$%.*s'",
			    (int)len, name);
	}
	return NULL;
}

/*
 * Compile an access log for <path> with <format>: "combined", "json" or a
 * template of $name / ${name} variables.  Returns the log (not yet open),
 * or NULL with a malloc'd message in <*err> that the caller frees.
 */
lnt_access_log_t *
lnt_access_log_compile(const char *path, const char *format, char **err)
{
	return lnt_access_log_compile_ext(path, format, NULL, NULL, err);
}

/*
 * The same, knowing the variables <lookup> finds with <ctx> as well: at
 * write time their values come from the record's ext callback.
 */
lnt_access_log_t *
lnt_access_log_compile_ext(const char *path, const char *format,
    lnt_access_var_lookup_t lookup, const void *ctx, char **err)
{
	lnt_access_log_t *log;

	*err = NULL;
	log = lnt_xcalloc(1, sizeof(*log));
	log->path = lnt_xstrdup(path);
	log->format = lnt_xstrdup(format);
	log->fd = -1;
	if (strcmp(format, "json") == 0)
		log->json = true;
	else if (*format == '\0')
		*err = lnt_xstrdup("expected \"combined\", \"json\" or a "
		    "template, got an empty format");
	else
		*err = compile_template(log, strcmp(format, "combined") == 0 ?
		    COMBINED_FORMAT : format, lookup, ctx);
	if (*err != NULL) {
		lnt_access_log_free(log);
		return NULL;
	}
	return log;
}

/* The file <log> writes to. */
const char *
lnt_access_log_path(const lnt_access_log_t *log)
{
	return log->path;
}

/* The format <log> was compiled from, as configured. */
const char *
lnt_access_log_format(const lnt_access_log_t *log)
{
	return log->format;
}

static int
open_file(const lnt_access_log_t *log)
{
	int fd;

	fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	/* Workers run unprivileged and must be able to reopen the file. */
	if (geteuid() == 0 && fchown(fd, log->uid, log->gid) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Open <log>'s file for appending, owned by <uid>/<gid> when running as
 * root.  Returns 0, or -1 with errno set and the previous descriptor (if
 * any) kept.
 */
int
lnt_access_log_open(lnt_access_log_t *log, uid_t uid, gid_t gid)
{
	log->uid = uid;
	log->gid = gid;
	return lnt_access_log_reopen(log);
}

/*
 * Reopen <log>'s file (after logrotate moved it).  The new descriptor
 * takes the old one's number, so nothing holding it needs to change.
 * Returns 0, or -1 with errno set and the old descriptor still in use.
 */
int
lnt_access_log_reopen(lnt_access_log_t *log)
{
	int fd;

	if ((fd = open_file(log)) == -1)
		return -1;
	if (log->fd == -1) {
		log->fd = fd;
		return 0;
	}
	if (dup3(fd, log->fd, O_CLOEXEC) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

static void
json_key(struct out *o, const char *key, bool first)
{
	if (!first)
		put_s(o, ",");
	put_s(o, "\"");
	put_s(o, key);
	put_s(o, "\":");
}

/* The fixed JSON object: {"time":..., ...}. */
static void
format_json(struct out *o, const lnt_access_rec_t *r)
{
	put_s(o, "{\"time\":\"");
	put_iso8601(o, r->start_wall);
	put_s(o, "\"");
	json_key(o, "remote_addr", false);
	v_remote_addr(o, r, true);
	json_key(o, "method", false);
	put_str(o, r->method, true);
	json_key(o, "uri", false);
	put_str(o, r->target, true);
	json_key(o, "protocol", false);
	put_str(o, r->protocol, true);
	json_key(o, "host", false);
	put_str(o, r->host, true);
	json_key(o, "status", false);
	v_status(o, r, true);
	json_key(o, "body_bytes_sent", false);
	v_body_bytes_sent(o, r, true);
	json_key(o, "bytes_received", false);
	v_bytes_received(o, r, true);
	json_key(o, "request_time", false);
	put_seconds(o, r->duration, true);
	json_key(o, "upstream_addr", false);
	v_upstream_addr(o, r, true);
	json_key(o, "upstream_status", false);
	v_upstream_status(o, r, true);
	json_key(o, "upstream_response_time", false);
	put_seconds(o, r->upstream_time, true);
	json_key(o, "site", false);
	v_site(o, r, true);
	json_key(o, "http_referer", false);
	put_header(o, r, "referer", 7, true);
	json_key(o, "http_user_agent", false);
	put_header(o, r, "user_agent", 10, true);
	json_key(o, "connection", false);
	v_connection(o, r, true);
	put_s(o, "}");
}

static void
format_template(const lnt_access_log_t *log, struct out *o,
    const lnt_access_rec_t *r)
{
	const struct op *op;
	size_t i;

	for (i = 0; i < log->nops; i++) {
		op = &log->ops[i];
		if (op->kind == OP_LITERAL)
			put(o, op->text, op->len);
		else if (op->kind == OP_HEADER)
			put_header(o, r, op->text, op->len, false);
		else if (op->kind == OP_EXT)
			put_str(o, r->ext != NULL ?
			    r->ext(r->ext_ctx, op->len) :
			    (lnt_str_t){ NULL, 0 }, false);
		else
			op->fn(o, r, false);
	}
}

/*
 * Format <rec> with <log>'s format and append it to the file with one
 * write(2).  Does nothing before the log is opened; write errors are
 * dropped because the request path has nowhere better to report them.
 */
void
lnt_access_log_write(lnt_access_log_t *log, const lnt_access_rec_t *rec)
{
	struct out o;
	ssize_t n;

	if (log->fd == -1)
		return;
	o.len = 0;
	o.cap = sizeof(o.buf) - 1;
	o.raw = false;
	if (log->json)
		format_json(&o, rec);
	else
		format_template(log, &o, rec);
	o.buf[o.len++] = '\n';
	do
		n = write(log->fd, o.buf, o.len);
	while (n == -1 && errno == EINTR);
}

/* Close <log>'s file (if open) and free <log> (may be NULL). */
void
lnt_access_log_free(lnt_access_log_t *log)
{
	size_t i;

	if (log == NULL)
		return;
	if (log->fd != -1)
		close(log->fd);
	for (i = 0; i < log->nops; i++)
		free(log->ops[i].text);
	free(log->ops);
	free(log->path);
	free(log->format);
	free(log);
}
