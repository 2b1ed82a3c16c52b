/* SPDX-License-Identifier: BSD-2-Clause */
/* Choosing the site for a request, then the route within the site. */
#ifndef LNT_ROUTE_H
#define LNT_ROUTE_H

#include "core.h"

/*
 * The site on listener <l> for the Host value <host> (port, if any, and a
 * trailing dot ignored): an exact name, then the longest matching
 * "*.suffix" wildcard, then the first matching "~regex" name in config
 * order, else the listener's default site.  Never NULL.
 */
lnt_site_t	*lnt_route_site(const lnt_listen_t *l, lnt_str_t host);

/* The first route of <site> matching <path> in config order, or NULL. */
lnt_route_t	*lnt_route_match(const lnt_site_t *site, lnt_str_t path);

#endif /* LNT_ROUTE_H */
