/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Static files: map the request path under a route's root, refuse any way
 * out of it, answer conditional requests and single ranges, and hand the
 * file to a reply (sent with sendfile).  Also starts `return` routes.
 *
 * Containment: the decoded path has no ".." segment and no encoded '/',
 * and the file is opened relative to a descriptor of root with openat2()'s
 * RESOLVE_BENEATH, which makes the kernel refuse, race-free, any symlink
 * (or mount trick) whose resolution leaves root, while symlinks that stay
 * inside it work.  Root is opened for each request, so swapping it for a
 * new release (a "current" symlink) takes effect at once.  Where openat2()
 * is missing, the opened file's /proc/self/fd path is checked instead.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#endif

#include "conf.h"
#include "conn.h"
#include "http_date.h"
#include "log.h"
#include "reply.h"
#include "static.h"

#define ETAG_MAX	48		/* "\"<16 hex>-<16 hex>\"" */

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Decode the path <p> of <len> bytes into <out> relative to root.  An
 * encoded '/' is refused rather than decoded: no file name holds one, and
 * decoding it would let "a%2f..%2fb" look different to route matching
 * than to the file system.  ".." is refused outright, not resolved: a
 * client that normalises paths never sends it, and resolving it would let
 * "/static/../private" escape the route's prefix while staying in root.
 */
lnt_path_rc_t
lnt_static_path(const char *p, size_t len, char *out, size_t outlen,
    bool *dir)
{
	const char *end = p + len;
	size_t n = 0, start;
	int hi, lo;
	char ch;

	if (len == 0 || p[0] != '/' || outlen == 0)
		return LNT_PATH_BAD;
	*dir = false;
	while (p < end) {
		p++;			/* the '/' before the segment */
		start = n;
		if (n > 0) {
			if (n + 1 >= outlen)
				return LNT_PATH_REFUSED;
			out[n++] = '/';
		}
		for (; p < end && *p != '/'; p++) {
			ch = *p;
			if (ch == '%') {
				if (end - p < 3 || (hi = hexval(p[1])) < 0 ||
				    (lo = hexval(p[2])) < 0)
					return LNT_PATH_BAD;
				ch = (char)(hi << 4 | lo);
				p += 2;
				if (ch == '\0')
					return LNT_PATH_BAD;
				if (ch == '/')
					return LNT_PATH_REFUSED;
			} else if (ch == '\0') {
				return LNT_PATH_BAD;
			}
			if (n + 1 >= outlen)
				return LNT_PATH_REFUSED;
			out[n++] = ch;
		}
		/* The segment as decoded, without the '/' put before it. */
		if (n - start - (start > 0) == 2 &&
		    memcmp(out + n - 2, "..", 2) == 0)
			return LNT_PATH_REFUSED;
		*dir = n - start - (start > 0) == 0 ||
		    (n - start - (start > 0) == 1 && out[n - 1] == '.');
		if (*dir)
			n = start;	/* drop an empty or "." segment */
	}
	out[n] = '\0';
	return LNT_PATH_OK;
}

/* Skip optional white space and commas of a list at *<p>. */
static void
skip_list_sep(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == ','))
		(*p)++;
}

/* Whether the entity-tag list <list> matches <etag>. */
bool
lnt_static_etag_match(lnt_str_t list, const char *etag, bool strong)
{
	const char *p = list.p, *end = list.p + list.len, *open;
	size_t elen = strlen(etag);
	bool weak;

	for (skip_list_sep(&p, end); p < end; skip_list_sep(&p, end)) {
		if (*p == '*')
			return true;
		weak = end - p >= 2 && p[0] == 'W' && p[1] == '/';
		if (weak)
			p += 2;
		if (p >= end || *p != '"')
			return false;
		open = p++;
		while (p < end && *p != '"')
			p++;
		if (p >= end)
			return false;
		p++;
		if (!(strong && weak) && (size_t)(p - open) == elen &&
		    memcmp(open, etag, elen) == 0)
			return true;
	}
	return false;
}

/* Whether a GET or HEAD of <req> gets 304 for <etag> and <mtime>. */
bool
lnt_static_not_modified(const lnt_http_msg_t *req, const char *etag,
    time_t mtime)
{
	const lnt_http_header_t *h;
	bool inm = false;
	time_t since;
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		if (h->name.len != 13 ||
		    strncasecmp(h->name.p, "If-None-Match", 13) != 0)
			continue;
		if (lnt_static_etag_match(h->value, etag, false))
			return true;
		inm = true;
	}
	/* If-None-Match present and not matched: If-Modified-Since is moot. */
	if (inm)
		return false;
	h = lnt_http_header(req, "If-Modified-Since", 17);
	return h != NULL && lnt_http_date_parse(h->value.p, h->value.len,
	    &since) == 0 && mtime <= since;
}

/* Whether If-Range <v> lets the Range of a request for the file apply. */
bool
lnt_static_if_range(lnt_str_t v, const char *etag, time_t mtime)
{
	time_t t;

	if (v.len > 0 && (v.p[0] == '"' || v.p[0] == 'W'))
		return lnt_static_etag_match(v, etag, true);
	return lnt_http_date_parse(v.p, v.len, &t) == 0 && t == mtime;
}

/* Digits at *<p> as a saturating int64; -1 if there are none. */
static int64_t
number(const char **p, const char *end)
{
	int64_t v = 0;
	const char *start = *p;

	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++)
		v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (**p - '0');
	return *p == start ? -1 : v;
}

/* Evaluate the Range value <v> against a file of <size> bytes. */
lnt_range_rc_t
lnt_static_range(lnt_str_t v, int64_t size, int64_t *start, int64_t *len)
{
	const char *p = v.p, *end = v.p + v.len;
	int64_t first, last;

	if (v.len < 6 || strncasecmp(p, "bytes=", 6) != 0)
		return LNT_RANGE_FULL;
	p += 6;
	skip_list_sep(&p, end);
	if (p < end && *p == '-') {
		/* "-n": the last n bytes. */
		p++;
		if ((last = number(&p, end)) < 0)
			return LNT_RANGE_FULL;
		first = -1;
	} else {
		if ((first = number(&p, end)) < 0 || p >= end || *p++ != '-')
			return LNT_RANGE_FULL;
		last = number(&p, end);
		if (last >= 0 && last < first)
			return LNT_RANGE_FULL;
	}
	skip_list_sep(&p, end);
	/* Anything after the first spec: several ranges, or garbage. */
	if (p != end)
		return LNT_RANGE_FULL;
	if (first < 0) {
		if (last == 0 || size == 0)
			return LNT_RANGE_UNSATISFIABLE;
		*start = last >= size ? 0 : size - last;
		*len = size - *start;
		return LNT_RANGE_PARTIAL;
	}
	if (first >= size)
		return LNT_RANGE_UNSATISFIABLE;
	if (last < 0 || last >= size)
		last = size - 1;
	*start = first;
	*len = last - first + 1;
	return LNT_RANGE_PARTIAL;
}

/*
 * Whether the descriptor <fd> names a file under the directory <rootfd>,
 * by their /proc/self/fd links: the fallback where openat2() is missing.
 */
static bool
beneath(int rootfd, int fd)
{
	char link[64], root[PATH_MAX], file[PATH_MAX];
	ssize_t rn, fn;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", rootfd);
	if ((rn = readlink(link, root, sizeof(root))) <= 0 ||
	    (size_t)rn >= sizeof(root))
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((fn = readlink(link, file, sizeof(file))) <= 0 ||
	    (size_t)fn >= sizeof(file))
		return false;
	if (rn == 1)		/* root is "/" */
		return true;
	return fn >= rn && memcmp(root, file, (size_t)rn) == 0 &&
	    (fn == rn || file[rn] == '/');
}

/*
 * Open <rel> ("" for root itself) under the directory <rootfd> for
 * reading, refusing with EXDEV a resolution that leaves root unless
 * <allow_symlinks>.  Returns the descriptor or -1 with errno set.
 */
static int
open_beneath(int rootfd, const char *rel, bool allow_symlinks)
{
	static bool no_openat2;
	int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, fd;

	if (rel[0] == '\0')
		rel = ".";
	if (allow_symlinks)
		return openat(rootfd, rel, flags);
#if defined(SYS_openat2) && defined(RESOLVE_BENEATH)
	if (!no_openat2) {
		struct open_how how = {
			.flags = (uint64_t)flags,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};

		fd = (int)syscall(SYS_openat2, rootfd, rel, &how,
		    sizeof(how));
		/* Old kernels say ENOSYS, some seccomp filters EPERM. */
		if (fd != -1 || (errno != ENOSYS && errno != EPERM))
			return fd;
		no_openat2 = true;
	}
#else
	no_openat2 = true;
#endif
	if ((fd = openat(rootfd, rel, flags)) == -1)
		return -1;
	if (!beneath(rootfd, fd)) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

/* Answer <c> after failing to open <what> with <err>. */
static void
open_failed(lnt_conn_t *c, int err, const char *what)
{
	char why[PATH_MAX + 64];
	int status;

	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		status = 404;
		break;
	case EXDEV:
	case ELOOP:
		status = 404;
		snprintf(why, sizeof(why), "\"%s\" leads out of root "
		    "(allow_symlinks is off)", what);
		lnt_conn_respond(c, status, why);
		return;
	case EACCES:
	case EPERM:
		status = 403;
		break;
	default:
		status = 500;
		break;
	}
	snprintf(why, sizeof(why), "cannot open \"%s\": %s", what,
	    strerror(err));
	lnt_conn_respond(c, status, why);
}

/* 301 to the same path with a '/' added, query kept. */
static void
redirect_to_dir(lnt_conn_t *c)
{
	const lnt_http_msg_t *m = &c->req;
	lnt_reply_t *r;

	r = lnt_reply_start(c, 301, m->path.len + m->query.len + 16);
	if (r == NULL) {
		lnt_conn_respond(c, 500, "out of memory");
		return;
	}
	lnt_reply_header(r, "Location: %.*s/%s%.*s", (int)m->path.len,
	    m->path.p, m->query.len > 0 ? "?" : "", (int)m->query.len,
	    m->query.p);
	lnt_reply_page(r);
	lnt_reply_send(c, r);
}

/*
 * The first index file of the directory <rel> that is a regular file:
 * its descriptor, with <st> filled and <name> set; or -1 with <*status>
 * to answer (403: none, listing is off).
 */
static int
open_index(lnt_conn_t *c, int rootfd, const char *rel, struct stat *st,
    const char **name, int *status)
{
	const lnt_route_t *rt = c->route;
	char path[PATH_MAX];
	size_t i;
	int fd, n;

	*status = 403;
	for (i = 0; i < rt->nindex; i++) {
		n = snprintf(path, sizeof(path), "%s%s%s", rel,
		    rel[0] != '\0' ? "/" : "", rt->index[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if ((fd = open_beneath(rootfd, path, rt->allow_symlinks)) ==
		    -1) {
			if (errno != ENOENT && errno != ENOTDIR &&
			    errno != EXDEV && errno != ELOOP)
				lnt_conn_log(c, LNT_LOG_INFO, "cannot open "
				    "\"%s\": %s", path, strerror(errno));
			continue;
		}
		if (fstat(fd, st) == 0 && S_ISREG(st->st_mode)) {
			*name = rt->index[i];
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* Send the regular file <fd> (<st>, named <name> for its type). */
static void
send_file(lnt_conn_t *c, int fd, const struct stat *st, const char *name)
{
	char etag[ETAG_MAX], lm[LNT_HTTP_DATE_LEN + 1], extra[64];
	const lnt_http_header_t *range, *ifr;
	int64_t start = 0, len = st->st_size;
	lnt_reply_t *r;
	int status = 200;
	bool get = c->req.method.len == 3;

	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	    (unsigned long long)st->st_mtime,
	    (unsigned long long)st->st_size);
	lnt_http_date_format(st->st_mtime, lm, sizeof(lm));
	if (lnt_static_not_modified(&c->req, etag, st->st_mtime)) {
		close(fd);
		if ((r = lnt_reply_start(c, 304, 128)) == NULL) {
			lnt_conn_respond(c, 500, "out of memory");
			return;
		}
		lnt_reply_header(r, "Last-Modified: %s", lm);
		lnt_reply_header(r, "ETag: %s", etag);
		lnt_reply_send(c, r);
		return;
	}
	/* Range is defined for GET only (RFC 9110 §14.2). */
	range = get ? lnt_http_header(&c->req, "Range", 5) : NULL;
	ifr = lnt_http_header(&c->req, "If-Range", 8);
	if (range != NULL && (ifr == NULL ||
	    lnt_static_if_range(ifr->value, etag, st->st_mtime))) {
		switch (lnt_static_range(range->value, st->st_size, &start,
		    &len)) {
		case LNT_RANGE_PARTIAL:
			status = 206;
			break;
		case LNT_RANGE_UNSATISFIABLE:
			close(fd);
			snprintf(extra, sizeof(extra), "Content-Range: bytes "
			    "*/%lld\r\n", (long long)st->st_size);
			lnt_reply_error(c, 416, extra, NULL);
			return;
		case LNT_RANGE_FULL:
			break;
		}
	}
	if ((r = lnt_reply_start(c, status, 256)) == NULL) {
		close(fd);
		lnt_conn_respond(c, 500, "out of memory");
		return;
	}
	lnt_reply_header(r, "Content-Type: %s", lnt_reply_type(c->site, name));
	lnt_reply_header(r, "Last-Modified: %s", lm);
	lnt_reply_header(r, "ETag: %s", etag);
	lnt_reply_header(r, "Accept-Ranges: bytes");
	if (status == 206)
		lnt_reply_header(r, "Content-Range: bytes %lld-%lld/%lld",
		    (long long)start, (long long)(start + len - 1),
		    (long long)st->st_size);
	lnt_reply_file(r, fd, start, len);
	lnt_reply_send(c, r);
}

/* Serve the file the request path names under the route's root. */
static void
serve(lnt_conn_t *c)
{
	const lnt_http_msg_t *m = &c->req;
	const lnt_route_t *rt = c->route;
	char rel[PATH_MAX], why[PATH_MAX + 64];
	const char *name = rel;
	struct stat st;
	int rootfd, fd, status;
	bool dir;

	if (!(m->method.len == 3 && memcmp(m->method.p, "GET", 3) == 0) &&
	    !(m->method.len == 4 && memcmp(m->method.p, "HEAD", 4) == 0)) {
		lnt_reply_error(c, 405, "Allow: GET, HEAD\r\n", NULL);
		return;
	}
	switch (lnt_static_path(m->path.p, m->path.len, rel, sizeof(rel),
	    &dir)) {
	case LNT_PATH_BAD:
		lnt_conn_respond(c, 400, "malformed path: bad %-escape or NUL");
		return;
	case LNT_PATH_REFUSED:
		lnt_conn_respond(c, 404, "path refused: \"..\", encoded '/' "
		    "or too long");
		return;
	case LNT_PATH_OK:
		break;
	}
	if ((rootfd = open(rt->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		snprintf(why, sizeof(why), "cannot open root \"%s\": %s",
		    rt->root, strerror(errno));
		lnt_conn_respond(c, 500, why);
		return;
	}
	if ((fd = open_beneath(rootfd, rel, rt->allow_symlinks)) == -1) {
		open_failed(c, errno, rel);
		close(rootfd);
		return;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, sizeof(why), "fstat \"%s\": %s", rel,
		    strerror(errno));
		close(fd);
		close(rootfd);
		lnt_conn_respond(c, 500, why);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		if (!dir) {
			close(rootfd);
			redirect_to_dir(c);
			return;
		}
		fd = open_index(c, rootfd, rel, &st, &name, &status);
		if (fd == -1) {
			close(rootfd);
			lnt_conn_respond(c, status, "no index file in the "
			    "directory (listing is off)");
			return;
		}
	}
	close(rootfd);
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		lnt_conn_respond(c, 404, "not a regular file");
		return;
	}
	send_file(c, fd, &st, name);
}

/* Answer <c> from its route: a return, or a file under root. */
void
lnt_static_start(lnt_conn_t *c)
{
	/* A body left unread makes the connection unusable afterwards. */
	if (lnt_http_request_body(&c->req) != LNT_BODY_NONE)
		c->keepalive = false;
	if (c->route->ret.status != 0) {
		lnt_reply_return(c);
		return;
	}
	serve(c);
}
