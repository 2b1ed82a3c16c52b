/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Config keys of the static content a route or a site serves itself: root,
 * index, allow_symlinks, return, error_pages and mime_types.  Files named by
 * them are checked, and error pages and mime.types read, at load time, so
 * a mistake is a config error rather than a failure on some request.
 */
#include "config.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "conf_keys.h"
#include "mime.h"
#include "reply.h"
#include "util.h"

#define ERROR_PAGE_MAX	(64 * 1024)	/* bytes an error page may have */

/* The string of row <key> just stored in <base>, made absolute. */
static char *
set_abs_path(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base, unsigned scope)
{
	char **field = lnt_conf_key_field(key, scope, base);
	char *abs;

	lnt_conf_set_generic(cf, key, s, base);
	if (*field == NULL)
		return NULL;
	abs = lnt_conf_path(cf, *field);
	free(*field);
	*field = abs;
	return abs;
}

/*
 * root: an existing directory, absolute, kept without a final '/' (the
 * request path supplies it).
 */
void
lnt_conf_set_root(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	struct stat st;
	char *root;
	size_t len;

	if ((root = set_abs_path(cf, key, s, base, LNT_SCOPE_ROUTE)) == NULL)
		return;
	len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		root[--len] = '\0';
	if (stat(root, &st) == -1)
		lnt_conf_error(cf, s, "%s: cannot use '%s': %s", key->name,
		    root, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		lnt_conf_error(cf, s, "%s: '%s' is not a directory",
		    key->name, root);
}

static bool
is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	    status == 307 || status == 308;
}

/* Report the first unknown $variable of the location <loc> at <s>. */
static void
check_location(lnt_cf_t *cf, const config_setting_t *s, const char *loc)
{
	const char *p;
	size_t len;

	for (p = strchr(loc, '$'); p != NULL; p = strchr(p + 1, '$')) {
		if (lnt_reply_var(p + 1, &len) >= 0 || len == 0)
			continue;
		lnt_conf_error(cf, s, "location: unknown variable '$%.*s' "
		    "(expected $scheme, $host or $request_uri)", (int)len,
		    p + 1);
		return;
	}
}

/*
 * return = { status; body; location; }: a redirect status needs a
 * location and only a redirect may have one; 204 and 304 have no body.
 */
void
lnt_conf_set_return(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *s,
    void *base)
{
	lnt_return_t *ret = lnt_conf_key_field(key, LNT_SCOPE_ROUTE, base);
	config_setting_t *loc;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	lnt_conf_scope_init(cf, key->child, ret, s);
	lnt_conf_walk(cf, s, key->child, ret);
	/* A missing or bad status was reported; it still counts as given. */
	if (ret->status == LNT_UNSET)
		return;
	loc = config_setting_get_member(s, "location");
	if (is_redirect(ret->status) && ret->location == NULL)
		lnt_conf_error(cf, s, "%s: status %d needs a location",
		    key->name, ret->status);
	else if (!is_redirect(ret->status) && ret->location != NULL)
		lnt_conf_error(cf, loc, "%s: location needs a redirect status "
		    "(301, 302, 303, 307 or 308), got %d", key->name,
		    ret->status);
	else if (ret->location != NULL)
		check_location(cf, loc, ret->location);
	if ((ret->status == 204 || ret->status == 304) && ret->body != NULL)
		lnt_conf_error(cf, config_setting_get_member(s, "body"),
		    "%s: status %d has no body", key->name, ret->status);
}

/* The site being read: the loader stores list counts before each walk. */
static lnt_site_t *
current_site(lnt_cf_t *cf)
{
	lnt_conf_t *conf = lnt_conf_current(cf);

	return conf->nsites > 0 ? &conf->sites[conf->nsites - 1] : NULL;
}

/* Report <status> if an earlier entry of the site has a page for it. */
static bool
status_taken(lnt_cf_t *cf, const config_setting_t *e,
    const lnt_error_page_t *page, int status)
{
	lnt_site_t *site = current_site(cf);
	const lnt_error_page_t *p;
	size_t i;

	if (site == NULL || page < site->error_pages ||
	    page >= site->error_pages + site->nerror_pages)
		return false;
	for (p = site->error_pages; p <= page; p++)
		for (i = 0; i < p->nstatuses; i++)
			if (p->statuses[i] == status) {
				lnt_conf_error(cf, e, "status: %d already has "
				    "a page at %s:%d", status, p->conf_file,
				    p->conf_line);
				return true;
			}
	return false;
}

/* error_pages status: one integer from 400 to 599, or a list of them. */
void
lnt_conf_set_error_page_status(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	lnt_error_page_t *page = base;
	config_setting_t *e;
	char got[96];
	unsigned i, n = 1;
	long long v;
	bool list;

	list = config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	    config_setting_type(s) == CONFIG_TYPE_LIST;
	if (list)
		n = (unsigned)config_setting_length(s);
	if (list && n == 0) {
		lnt_conf_error(cf, s, "%s: expected at least one status, got "
		    "an empty list", key->name);
		return;
	}
	page->statuses = lnt_xcalloc(n, sizeof(*page->statuses));
	for (i = 0; i < n; i++) {
		e = list ? config_setting_get_elem(s, i) : s;
		if ((config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64) ||
		    (v = config_setting_get_int64(e)) < key->min ||
		    v > key->max) {
			lnt_conf_describe(e, got, sizeof(got));
			lnt_conf_error(cf, e, "%s: expected an integer from "
			    "%lld to %lld or a list of them, got %s",
			    key->name, (long long)key->min,
			    (long long)key->max, got);
			return;
		}
		if (status_taken(cf, e, page, (int)v))
			return;
		page->statuses[page->nstatuses++] = (int)v;
	}
}

/* error_pages file: read into memory now; 64 KiB at most. */
void
lnt_conf_set_error_page_file(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	lnt_error_page_t *page = base;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	char *path;
	int fd, err;

	path = set_abs_path(cf, key, s, base, LNT_SCOPE_ERROR_PAGE);
	if (path == NULL)
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		err = errno;
		lnt_conf_error(cf, s, "%s: cannot read '%s': %s", key->name,
		    path, strerror(err));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		lnt_conf_error(cf, s, "%s: '%s' is not a regular file",
		    key->name, path);
		goto out;
	}
	if (st.st_size > ERROR_PAGE_MAX) {
		lnt_conf_error(cf, s, "%s: '%s' is larger than 64k",
		    key->name, path);
		goto out;
	}
	page->body = lnt_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, page->body + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			lnt_conf_error(cf, s, "%s: cannot read '%s': %s",
			    key->name, path, n == 0 ? "file shrank" :
			    strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	page->len = got;
out:
	if (fd != -1)
		close(fd);
}

/* mime_types: parsed now; a site's replaces the top level's. */
void
lnt_conf_set_mime_types(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	unsigned scope = (key->scopes & LNT_SCOPE_TOP) ? LNT_SCOPE_TOP :
	    LNT_SCOPE_SITE;
	lnt_mime_t **table = scope == LNT_SCOPE_TOP ?
	    &((lnt_conf_t *)base)->mime : &((lnt_site_t *)base)->mime;
	char *path, *err = NULL;

	if ((path = set_abs_path(cf, key, s, base, scope)) == NULL)
		return;
	if ((*table = lnt_mime_load(path, &err)) == NULL) {
		lnt_conf_error(cf, s, "%s: %s", key->name, err);
		free(err);
	}
}

/* Report the names of <present> (bits 1, 2, 4) as "a, b and c". */
static void
route_keys_error(lnt_cf_t *cf, const config_setting_t *group,
    unsigned present)
{
	static const char *const names[] = { "upstream", "root", "return" };
	char buf[64];
	size_t off = 0, i, n = 0, k = 0;

	for (i = 0; i < LNT_NELEM(names); i++)
		n += (present >> i) & 1;
	for (i = 0; i < LNT_NELEM(names); i++) {
		if (!(present & (1u << i)))
			continue;
		k++;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    k == 1 ? "" : k == n ? " and " : ", ", names[i]);
	}
	lnt_conf_error(cf, group, "route: %s are exclusive", buf);
}

/*
 * Once the route <group> has been walked into <route>: exactly one of
 * upstream, root and return, and index names (default "index.html") that
 * are plain file names.
 */
void
lnt_conf_static_route_check(lnt_cf_t *cf, const config_setting_t *group,
    lnt_route_t *route)
{
	config_setting_t *idx;
	unsigned present = 0;
	size_t i;

	/* Given, not valid: a bad value was reported once already. */
	if (config_setting_get_member(group, "upstream") != NULL)
		present |= 1;
	if (config_setting_get_member(group, "root") != NULL)
		present |= 2;
	if (config_setting_get_member(group, "return") != NULL)
		present |= 4;
	if (present == 0)
		lnt_conf_error(cf, group, "route: needs one of upstream, root "
		    "or return");
	else if (present & (present - 1))
		route_keys_error(cf, group, present);
	idx = config_setting_get_member(group, "index");
	for (i = 0; i < route->nindex; i++)
		if (strchr(route->index[i], '/') != NULL ||
		    strcmp(route->index[i], ".") == 0 ||
		    strcmp(route->index[i], "..") == 0) {
			lnt_conf_error(cf, idx, "index: expected a file name "
			    "without '/', got \"%s\"", route->index[i]);
			break;
		}
	if (route->nindex == 0 && idx == NULL) {
		route->index = lnt_xcalloc(1, sizeof(char *));
		route->index[0] = lnt_xstrdup("index.html");
		route->nindex = 1;
	}
}

/*
 * Print root, index or allow_symlinks (row <key>) of the route <base> at
 * <depth> tabs: only for a route with root, where they mean something.
 */
void
lnt_conf_print_route_static(FILE *out, const lnt_key_t *key,
    const void *base, int depth)
{
	const lnt_route_t *route = base;
	size_t i;

	if (route->root == NULL)
		return;
	lnt_conf_indent(out, depth);
	fprintf(out, "%s = ", key->name);
	switch (key->type) {
	case LNT_KEY_STR:
		lnt_conf_print_string(out, route->root);
		break;
	case LNT_KEY_BOOL:
		fputs(route->allow_symlinks ? "true" : "false", out);
		break;
	default:
		fputs("[ ", out);
		for (i = 0; i < route->nindex; i++) {
			lnt_conf_print_string(out, route->index[i]);
			fputs(i + 1 < route->nindex ? ", " : " ", out);
		}
		fputs("]", out);
		break;
	}
	fputs(";\n", out);
}

/* Print the return group of the route <base> at <depth> tabs, if any. */
void
lnt_conf_print_return(FILE *out, const lnt_key_t *key, const void *base,
    int depth)
{
	const lnt_route_t *route = base;

	if (route->ret.status <= 0)
		return;
	lnt_conf_indent(out, depth);
	fprintf(out, "%s = {\n", key->name);
	lnt_conf_indent(out, depth + 1);
	fprintf(out, "status = %d;\n", route->ret.status);
	if (route->ret.body != NULL) {
		lnt_conf_indent(out, depth + 1);
		fputs("body = ", out);
		lnt_conf_print_string(out, route->ret.body);
		fputs(";\n", out);
	}
	if (route->ret.location != NULL) {
		lnt_conf_indent(out, depth + 1);
		fputs("location = ", out);
		lnt_conf_print_string(out, route->ret.location);
		fputs(";\n", out);
	}
	lnt_conf_indent(out, depth);
	fputs("};\n", out);
}

/* Print the statuses of the error page <base> at <depth> tabs. */
void
lnt_conf_print_error_page_status(FILE *out, const lnt_key_t *key,
    const void *base, int depth)
{
	const lnt_error_page_t *page = base;
	size_t i;

	lnt_conf_indent(out, depth);
	fprintf(out, "%s = [ ", key->name);
	for (i = 0; i < page->nstatuses; i++)
		fprintf(out, "%d%s", page->statuses[i],
		    i + 1 < page->nstatuses ? ", " : " ");
	fputs("];\n", out);
}

/* Free what <route>'s static keys own beyond the table's strings. */
void
lnt_conf_static_free_route(lnt_route_t *route)
{
	free(route->ret.body);
	free(route->ret.location);
}

/* Free what the error page <page> owns beyond the table's strings. */
void
lnt_conf_static_free_error_page(lnt_error_page_t *page)
{
	free(page->statuses);
	free(page->body);
}
