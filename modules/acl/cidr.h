/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Client addresses and CIDR sets for the acl module.  IPv4 and IPv6 share
 * one 128-bit key space (IPv4 as ::ffff:a.b.c.d), and a set answers
 * longest-prefix matches in O(log n) from a sorted array of disjoint ranges.
 */
#ifndef LNT_ACL_CIDR_H
#define LNT_ACL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Text forms need at most this much room, NUL included. */
#define LNT_IP_STRLEN	46
#define LNT_CIDR_STRLEN	(LNT_IP_STRLEN + 4)

/* Longest line of a list file, and of an entry given in text. */
#define LNT_CIDR_MAXLINE	256

/* An address in network byte order; IPv4 is stored v4-mapped. */
typedef struct lnt_ip_s {
	uint8_t		 b[16];
} lnt_ip_t;

/* A network: <net> has no bits set past <plen>. */
typedef struct lnt_cidr_s {
	lnt_ip_t	 net;
	unsigned	 plen;		/* 0-128, in the 128-bit space */
} lnt_cidr_t;

typedef struct lnt_cidr_set_s lnt_cidr_set_t;

/* What a lookup found: the most specific network holding the address. */
typedef struct lnt_cidr_match_s {
	lnt_cidr_t	 cidr;
	const char	*origin;	/* its file or NULL; owned by the set */
	unsigned	 line;		/* line in <origin>, 0 if none */
	uint32_t	 value;		/* the caller's, given when adding */
} lnt_cidr_match_t;

/*
 * Parse the address <s> of <len> bytes (no NUL needed): an IPv4 dotted quad
 * without leading zeros, or an IPv6 address.  Stores it in <ip> and
 * returns 0, or returns -1 if <s> is anything else (brackets, ports, scope
 * ids and surrounding spaces included).
 */
int		lnt_ip_parse(const char *s, size_t len, lnt_ip_t *ip);

/*
 * Convert the AF_INET or AF_INET6 address <sa> into <ip>.  Returns 0, or
 * -1 for another family.
 */
int		lnt_ip_from_sockaddr(const struct sockaddr *sa, lnt_ip_t *ip);

/* True if <ip> is an IPv4 address (v4-mapped). */
bool		lnt_ip_is_v4(const lnt_ip_t *ip);

/*
 * Write <ip> into <buf> of <size> bytes (LNT_IP_STRLEN is enough): IPv4 as
 * a dotted quad, IPv6 in its RFC 5952 form.  Returns <buf>.
 */
char		*lnt_ip_format(const lnt_ip_t *ip, char *buf, size_t size);

/*
 * Parse the NUL-terminated <s> into <cidr>: "all" (every address, IPv4
 * and IPv6), an address alone (a /32 or /128), or ADDRESS/LENGTH with a
 * decimal length of at most 32 for IPv4 and 128 for IPv6 (IPv6 syntax,
 * even ::ffff:a.b.c.d, counts in 128 bits).  Bits set past the length are
 * refused rather than masked, since "10.0.0.1/8" is more likely a typo for
 * a /32 than a way to say 10.0.0.0/8.  Returns 0, or -1 with a message (no
 * location) in <err> of <errlen> bytes.
 */
int		lnt_cidr_parse(const char *s, lnt_cidr_t *cidr, char *err,
		    size_t errlen);

/* True if <ip> lies in <cidr>. */
bool		lnt_cidr_contains(const lnt_cidr_t *cidr, const lnt_ip_t *ip);

/*
 * Write <cidr> into <buf> of <size> bytes (LNT_CIDR_STRLEN is enough), in
 * IPv4 form when it lies in the v4-mapped range.  Returns <buf>.
 */
char		*lnt_cidr_format(const lnt_cidr_t *cidr, char *buf,
		    size_t size);

/*
 * An empty set, to be filled with lnt_cidr_set_add() or _load(), then
 * frozen by lnt_cidr_set_build() before any lookup.  Returns NULL when out
 * of memory.  The caller frees it with lnt_cidr_set_free().
 */
lnt_cidr_set_t	*lnt_cidr_set_new(void);
void		 lnt_cidr_set_free(lnt_cidr_set_t *set);

/*
 * Add <cidr> to <set>, remembering <origin> (copied; may be NULL), <line>
 * and <value> for lookups that land on it.  When the same network is added
 * twice, the first one added is the one lookups report.  Returns 0, or -1
 * with errno ENOMEM, or EINVAL if <set> was already built.
 */
int		lnt_cidr_set_add(lnt_cidr_set_t *set, const lnt_cidr_t *cidr,
		    const char *origin, unsigned line, uint32_t value);

/*
 * Add every network listed in the file <path> to <set>, each with its line
 * number and <value>.  A line holds one lnt_cidr_parse() entry; blank
 * lines and "#" comments (whole-line, or after the entry and a space) are
 * skipped.  On any error nothing from the file is kept and -1 is returned
 * with "PATH:LINE: message" (or "PATH: reason" for I/O) in <err> of
 * <errlen> bytes, naming the first bad line and how many more there are.
 * Returns the number of networks read otherwise.
 */
long		lnt_cidr_set_load(lnt_cidr_set_t *set, const char *path,
		    uint32_t value, char *err, size_t errlen);

/*
 * Freeze <set> for lookups: sort it and flatten nested networks into
 * disjoint ranges, in O(n log n).  Returns 0, or -1 with errno ENOMEM (the
 * set stays unbuilt and may be built again).
 */
int		lnt_cidr_set_build(lnt_cidr_set_t *set);

/* How many networks <set> holds (duplicates included). */
size_t		lnt_cidr_set_count(const lnt_cidr_set_t *set);

/*
 * Find the most specific network of the built <set> holding <ip>: fills
 * <match> (may be NULL) and returns true, or returns false.  O(log n), no
 * allocation; <match>->origin lives as long as <set>.  Aborts if <set> is
 * not built, since an unbuilt set would answer "no match" for everyone.
 */
bool		lnt_cidr_set_lookup(const lnt_cidr_set_t *set,
		    const lnt_ip_t *ip, lnt_cidr_match_t *match);

/*
 * The client behind <peer>: while the address in hand is in <trusted> (a
 * built set), take the next address from the right of the
 * X-Forwarded-For value <xff> of <len> bytes (all the header's lines
 * joined with ","), which the trusted hop appended.  Stops at the first
 * untrusted address, or at an entry that is not an address (IPv6 may be
 * in brackets; ports are refused), in which case the last trusted hop is
 * the answer: an address that no trusted hop vouched for is never
 * returned.  <xff> may be NULL.  Stores the result in <client> and returns
 * true if it differs from <peer>.
 */
bool		lnt_cidr_real_client(const lnt_cidr_set_t *trusted,
		    const lnt_ip_t *peer, const char *xff, size_t len,
		    lnt_ip_t *client);

#endif /* LNT_ACL_CIDR_H */
