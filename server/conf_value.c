/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parsing of the value syntaxes the config shares: durations ("1h30m"),
 * sizes ("16k") and socket addresses ("[::1]:80").  Every parser checks for
 * overflow and answers with a static message a config error can quote.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_value.h"

#define DURATION_SYNTAX \
	"expected a duration such as \"30s\", \"250ms\" or \"1h30m\""

/* Duration units, largest first: each may appear once, in this order. */
static const struct {
	const char	*name;
	size_t		 len;
	lnt_msec_t	 ms;
	int		 rank;	/* position in d, h, m, s, ms */
} duration_units[] = {
	{ "d",	1, 86400000,	0 },
	{ "h",	1, 3600000,	1 },
	{ "ms",	2, 1,		4 },	/* before "m": "5ms" is not "5m" "s" */
	{ "m",	1, 60000,	2 },
	{ "s",	1, 1000,	3 },
};

/*
 * Read the decimal digits at <*sp> into <*out>, advancing <*sp>.  Returns
 * false when there is no digit or the number overflows an int64.
 */
static bool
read_digits(const char **sp, int64_t *out, bool *overflow)
{
	const char *s = *sp;
	int64_t v = 0;

	*overflow = false;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			*overflow = true;
		else
			v = v * 10 + (*s - '0');
	}
	*sp = s;
	*out = v;
	return !*overflow;
}

static int
match_unit(const char *s, size_t *len)
{
	size_t i;

	for (i = 0; i < LNT_NELEM(duration_units); i++)
		if (strncmp(s, duration_units[i].name,
		    duration_units[i].len) == 0) {
			*len = duration_units[i].len;
			return (int)i;
		}
	return -1;
}

/*
 * Parse the duration <s>: one or more <number><unit> with units d, h, m, s
 * and ms, largest first, each at most once.  Returns NULL and stores the
 * milliseconds in <*out>, or returns a static message.
 */
const char *
lnt_parse_duration(const char *s, lnt_msec_t *out)
{
	lnt_msec_t total = 0, part;
	int last_rank = -1, u, rank;
	size_t ulen;
	bool overflow;

	if (*s == '\0')
		return DURATION_SYNTAX;
	while (*s != '\0') {
		if (!read_digits(&s, &part, &overflow))
			return overflow ? "duration is too large" :
			    DURATION_SYNTAX;
		if ((u = match_unit(s, &ulen)) == -1)
			return "expected a unit (ms, s, m, h or d) after "
			    "each number";
		rank = duration_units[u].rank;
		if (rank <= last_rank)
			return "expected each unit once, largest first "
			    "(d, h, m, s, ms)";
		last_rank = rank;
		if (part > (INT64_MAX - total) / duration_units[u].ms)
			return "duration is too large";
		total += part * duration_units[u].ms;
		s += ulen;
	}
	*out = total;
	return NULL;
}

/*
 * Parse the size <s>: digits with an optional unit k, m or g in either
 * case, in powers of 1024.  Returns NULL and stores the bytes in <*out>, or
 * returns a static message.
 */
const char *
lnt_parse_size(const char *s, int64_t *out)
{
	int64_t v, mul = 1;
	bool overflow;

	if (!read_digits(&s, &v, &overflow))
		return overflow ? "size is too large" :
		    "expected a size such as \"16k\", \"10m\", \"2g\" or a "
		    "number of bytes";
	switch (*s) {
	case 'k': case 'K':
		mul = 1024;
		s++;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		s++;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		s++;
		break;
	}
	if (*s != '\0')
		return "expected a size unit k, m or g after the number";
	if (v > INT64_MAX / mul)
		return "size is too large";
	*out = v * mul;
	return NULL;
}

/* Parse the decimal port <s> (1..65535); -1 if it is not one. */
static int
parse_port(const char *s)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return -1;
	}
	return v == 0 ? -1 : (int)v;
}

static void
set_inet(struct sockaddr_storage *addr, socklen_t *len,
    const struct in_addr *in, int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)addr;

	memset(addr, 0, sizeof(*addr));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr = *in;
	*len = sizeof(*sin);
}

static void
set_inet6(struct sockaddr_storage *addr, socklen_t *len,
    const struct in6_addr *in6, int port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr;

	memset(addr, 0, sizeof(*addr));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	sin6->sin6_addr = *in6;
	*len = sizeof(*sin6);
}

/* Look <host> up with getaddrinfo and take the first stream address. */
static const char *
resolve_host(const char *host, int port, struct sockaddr_storage *addr,
    socklen_t *len, char *errbuf, size_t errlen)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(errbuf, errlen, "cannot resolve '%s': %s", host,
		    gai_strerror(rc));
		return errbuf;
	}
	if (res->ai_family == AF_INET6)
		set_inet6(addr, len,
		    &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, port);
	else
		set_inet(addr, len,
		    &((struct sockaddr_in *)res->ai_addr)->sin_addr, port);
	freeaddrinfo(res);
	return NULL;
}

/* Parse "[v6]" (brackets included) at <host> of <hlen> bytes. */
static const char *
parse_v6(const char *host, size_t hlen, int port,
    struct sockaddr_storage *addr, socklen_t *len)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr in6;

	if (host[hlen - 1] != ']' || hlen - 2 >= sizeof(buf))
		return "expected an IPv6 address in brackets, "
		    "as in \"[::1]:80\"";
	memcpy(buf, host + 1, hlen - 2);
	buf[hlen - 2] = '\0';
	if (inet_pton(AF_INET6, buf, &in6) != 1)
		return "expected an IPv6 address in brackets, "
		    "as in \"[::1]:80\"";
	set_inet6(addr, len, &in6, port);
	return NULL;
}

/*
 * Parse <s> as "ADDR:PORT": an IPv4 address, "[IPv6]", "*" (all IPv4
 * addresses) or, with <resolve>, a host name.  Returns NULL and fills
 * <addr> and <len>, or returns a static message or one written into
 * <errbuf> of <errlen> bytes.
 */
const char *
lnt_parse_addr(const char *s, bool resolve, struct sockaddr_storage *addr,
    socklen_t *len, char *errbuf, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	char host[256];
	struct in_addr in;
	size_t hlen;
	int port;

	if (colon == NULL || colon == s)
		return "expected ADDRESS:PORT, as in \"127.0.0.1:80\"";
	if ((port = parse_port(colon + 1)) == -1)
		return "expected a port from 1 to 65535 after the ':'";
	hlen = (size_t)(colon - s);
	if (s[0] == '[')
		return parse_v6(s, hlen, port, addr, len);
	if (hlen >= sizeof(host))
		return "host name is too long";
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (strchr(host, ':') != NULL)
		return "expected an IPv6 address in brackets, "
		    "as in \"[::1]:80\"";
	if (strcmp(host, "*") == 0) {
		in.s_addr = htonl(INADDR_ANY);
		set_inet(addr, len, &in, port);
		return NULL;
	}
	if (inet_pton(AF_INET, host, &in) == 1) {
		set_inet(addr, len, &in, port);
		return NULL;
	}
	if (!resolve)
		return "expected an IPv4 address, an [IPv6] address or '*' "
		    "before the port";
	return resolve_host(host, port, addr, len, errbuf, errlen);
}

/*
 * Format <addr> (AF_INET or AF_INET6) as "1.2.3.4:80" or "[::1]:80" into
 * <buf> of <len> bytes; another family gives "?".
 */
void
lnt_addr_format(const struct sockaddr *addr, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	switch (addr->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)addr;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)addr;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
}
