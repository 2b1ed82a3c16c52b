/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Site and route selection.  Names are few per address, so a linear scan
 * in config order is both simplest and fast enough; it also makes "first
 * match wins" obvious.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "conf.h"
#include "route.h"

/* The host part of a Host value: no port, no trailing dot. */
static lnt_str_t
host_name(lnt_str_t host)
{
	size_t len = host.len;

	if (len > 0 && host.p[0] == '[') {
		const char *close = memchr(host.p, ']', len);

		return (lnt_str_t){ host.p, close ? (size_t)(close - host.p) + 1 :
		    len };
	}
	for (size_t i = 0; i < len; i++) {
		if (host.p[i] == ':') {
			len = i;
			break;
		}
	}
	if (len > 0 && host.p[len - 1] == '.')
		len--;
	return (lnt_str_t){ host.p, len };
}

static bool
name_is(const char *name, lnt_str_t host)
{
	return strlen(name) == host.len &&
	    strncasecmp(name, host.p, host.len) == 0;
}

/* "*.example.com" matches "a.example.com" and "a.b.example.com". */
static size_t
wildcard_match(const char *name, lnt_str_t host)
{
	size_t suffix = strlen(name) - 1;	/* ".example.com" */

	if (name[0] != '*' || host.len <= suffix)
		return 0;
	return strncasecmp(host.p + host.len - suffix, name + 1, suffix) == 0 ?
	    suffix : 0;
}

/*
 * Only "does it match" matters here, so one match block with a single pair
 * serves every pattern (pcre2_match returns 0, still a match, when the
 * pattern has more groups) and is made once per process, not per request.
 */
static bool
regex_match(pcre2_code *re, lnt_str_t s)
{
	static pcre2_match_data *md;

	if (md == NULL && (md = pcre2_match_data_create(1, NULL)) == NULL)
		return false;
	return pcre2_match(re, (PCRE2_SPTR)s.p, s.len, 0, 0, md, NULL) >= 0;
}

lnt_site_t *
lnt_route_site(const lnt_listen_t *l, lnt_str_t host)
{
	lnt_site_t *best = NULL;
	size_t best_len = 0;

	if (host.len == 0 || l->nsites == 1)
		return l->default_site;
	host = host_name(host);
	for (size_t i = 0; i < l->nsites; i++) {
		lnt_site_t *s = l->sites[i];

		for (size_t j = 0; j < s->nnames; j++) {
			size_t w;

			if (name_is(s->names[j], host))
				return s;
			w = wildcard_match(s->names[j], host);
			if (w > best_len) {
				best = s;
				best_len = w;
			}
		}
	}
	if (best != NULL)
		return best;
	for (size_t i = 0; i < l->nsites; i++) {
		lnt_site_t *s = l->sites[i];

		for (size_t j = 0; j < s->nname_regexes; j++) {
			if (regex_match(s->name_regexes[j], host))
				return s;
		}
	}
	return l->default_site;
}

lnt_route_t *
lnt_route_match(const lnt_site_t *site, lnt_str_t path)
{
	for (size_t i = 0; i < site->nroutes; i++) {
		lnt_route_t *r = &site->routes[i];

		if (r->regex != NULL) {
			if (regex_match(r->regex, path))
				return r;
		} else if (path.len >= r->path_len &&
		    memcmp(path.p, r->path, r->path_len) == 0) {
			return r;
		}
	}
	return NULL;
}
