/* SPDX-License-Identifier: BSD-2-Clause */
/* Parsing of the value syntaxes the config shares: durations, sizes, addresses. */
#ifndef LNT_CONF_VALUE_H
#define LNT_CONF_VALUE_H

#include <sys/socket.h>

#include "core.h"

/*
 * Parse a duration: one or more <number><unit> with unit ms, s, m, h, d
 * ("250ms", "30s", "1h30m").  Returns NULL and sets <*out> in milliseconds,
 * or returns a static message saying what was expected.
 */
const char	*lnt_parse_duration(const char *s, lnt_msec_t *out);

/*
 * Parse a size: <number> with an optional unit k, m or g (powers of 1024,
 * either case): "16k", "10m", "2g", "512".  Returns NULL and sets <*out> in
 * bytes, or a static message saying what was expected.
 */
const char	*lnt_parse_size(const char *s, int64_t *out);

/*
 * Parse "ADDR:PORT" where ADDR is an IPv4 address, "[IPv6]" or "*" (all
 * IPv4 addresses).  With <resolve>, ADDR may also be a host name, looked up
 * with getaddrinfo (first address).  Returns NULL and fills <addr>/<len>, or
 * returns a message (static or in <errbuf> of <errlen> bytes).
 */
const char	*lnt_parse_addr(const char *s, bool resolve,
		    struct sockaddr_storage *addr, socklen_t *len,
		    char *errbuf, size_t errlen);

/* Format <addr> as "1.2.3.4:80" or "[::1]:80" into <buf> of <len> bytes. */
void		 lnt_addr_format(const struct sockaddr *addr, char *buf,
		    size_t len);

#endif /* LNT_CONF_VALUE_H */
