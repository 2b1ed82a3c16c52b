/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CIDR sets for the acl module.  Networks are sorted once and flattened
 * into disjoint address ranges, each naming its most specific network, so
 * a lookup is one binary search over a flat, pointer-free array.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "msg.h"

#define NO_ENTRY	UINT32_MAX	/* a range no network covers */

/* A 128-bit address in host order, for comparisons and arithmetic. */
typedef struct u128 {
	uint64_t	 hi;
	uint64_t	 lo;
} u128_t;

typedef struct entry {
	u128_t		 net;
	uint32_t	 plen;
	uint32_t	 origin;	/* index in set->origins, or NO_ENTRY */
	uint32_t	 line;
	uint32_t	 value;
	uint32_t	 seq;		/* order of addition; first one wins */
} entry_t;

struct lnt_cidr_set_s {
	entry_t		*entries;	/* sorted by build */
	size_t		 n;
	size_t		 cap;
	char		**origins;	/* file names, owned */
	size_t		 norigins;
	u128_t		*starts;	/* where each range begins, ascending */
	uint32_t	*owners;	/* entry of each range, or NO_ENTRY */
	size_t		 nranges;
	bool		 built;
};

static const uint8_t v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static u128_t
ip_to_u128(const lnt_ip_t *ip)
{
	u128_t v = { 0, 0 };

	for (int i = 0; i < 8; i++) {
		v.hi = v.hi << 8 | ip->b[i];
		v.lo = v.lo << 8 | ip->b[i + 8];
	}
	return v;
}

static void
u128_to_ip(u128_t v, lnt_ip_t *ip)
{
	for (int i = 7; i >= 0; i--) {
		ip->b[i] = v.hi & 0xff;
		ip->b[i + 8] = v.lo & 0xff;
		v.hi >>= 8;
		v.lo >>= 8;
	}
}

static int
u128_cmp(u128_t a, u128_t b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* The bits past a prefix of <plen>: the host part. */
static u128_t
host_mask(unsigned plen)
{
	u128_t m;

	if (plen == 0)
		m.hi = UINT64_MAX;
	else if (plen < 64)
		m.hi = UINT64_MAX >> plen;
	else
		m.hi = 0;
	if (plen <= 64)
		m.lo = UINT64_MAX;
	else if (plen < 128)
		m.lo = UINT64_MAX >> (plen - 64);
	else
		m.lo = 0;
	return m;
}

static u128_t
range_end(u128_t net, unsigned plen)
{
	u128_t m = host_mask(plen);

	net.hi |= m.hi;
	net.lo |= m.lo;
	return net;
}

int
lnt_ip_parse(const char *s, size_t len, lnt_ip_t *ip)
{
	char buf[LNT_IP_STRLEN];
	struct in_addr a4;

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* glibc's inet_pton refuses leading zeros and short forms in IPv4. */
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		memcpy(ip->b, v4_mapped_prefix, 12);
		memcpy(ip->b + 12, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, ip->b) == 1)
		return 0;
	return -1;
}

int
lnt_ip_from_sockaddr(const struct sockaddr *sa, lnt_ip_t *ip)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(ip->b, v4_mapped_prefix, 12);
		memcpy(ip->b + 12, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(ip->b, &sin6->sin6_addr, 16);
		return 0;
	default:
		return -1;
	}
}

bool
lnt_ip_is_v4(const lnt_ip_t *ip)
{
	return memcmp(ip->b, v4_mapped_prefix, 12) == 0;
}

char *
lnt_ip_format(const lnt_ip_t *ip, char *buf, size_t size)
{
	const char *r;

	if (lnt_ip_is_v4(ip))
		r = inet_ntop(AF_INET, ip->b + 12, buf, size);
	else
		r = inet_ntop(AF_INET6, ip->b, buf, size);
	if (r == NULL && size > 0)
		buf[0] = '\0';
	return buf;
}

int
lnt_cidr_parse(const char *s, lnt_cidr_t *cidr, char *err, size_t errlen)
{
	char q[80];
	const char *slash;
	size_t alen, slen = strlen(s);
	unsigned plen, max;
	u128_t net, m;

	if (slen == 0) {
		lnt_acl_errf(err, errlen, "empty address");
		return -1;
	}
	if (strcmp(s, "all") == 0) {
		memset(cidr, 0, sizeof(*cidr));
		return 0;
	}
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : slen;
	if (lnt_ip_parse(s, alen, &cidr->net) != 0) {
		lnt_acl_errf(err, errlen, "'%s' is not an IPv4 or IPv6 address",
		    lnt_acl_quote(s, alen, q, sizeof(q)));
		return -1;
	}
	/* "::ffff:10.0.0.0/104" is IPv6 syntax and counts in 128 bits. */
	max = memchr(s, ':', alen) == NULL ? 32 : 128;
	plen = max;
	if (slash != NULL) {
		const char *d = slash + 1;
		size_t dlen = strlen(d);

		/* Decimal, no sign, space or leading zero: one spelling. */
		if (dlen == 0 || dlen > 3 || strspn(d, "0123456789") != dlen ||
		    (d[0] == '0' && dlen > 1) || (unsigned)atoi(d) > max) {
			lnt_acl_errf(err, errlen, "'%s': the prefix length "
			    "must be a number from 0 to %u",
			    lnt_acl_quote(s, slen, q, sizeof(q)), max);
			return -1;
		}
		plen = (unsigned)atoi(d);
	}
	cidr->plen = max == 32 ? plen + 96 : plen;
	net = ip_to_u128(&cidr->net);
	m = host_mask(cidr->plen);
	if ((net.hi & m.hi) != 0 || (net.lo & m.lo) != 0) {
		char fixed[LNT_CIDR_STRLEN];
		lnt_cidr_t c = *cidr;

		net.hi &= ~m.hi;
		net.lo &= ~m.lo;
		u128_to_ip(net, &c.net);
		lnt_acl_errf(err, errlen, "host bits set in %s (the network "
		    "is %s)",
		    lnt_acl_quote(s, slen, q, sizeof(q)),
		    lnt_cidr_format(&c, fixed, sizeof(fixed)));
		return -1;
	}
	return 0;
}

bool
lnt_cidr_contains(const lnt_cidr_t *cidr, const lnt_ip_t *ip)
{
	u128_t net = ip_to_u128(&cidr->net), a = ip_to_u128(ip);
	u128_t m = host_mask(cidr->plen);

	return (a.hi & ~m.hi) == net.hi && (a.lo & ~m.lo) == net.lo;
}

char *
lnt_cidr_format(const lnt_cidr_t *cidr, char *buf, size_t size)
{
	char ip[LNT_IP_STRLEN];
	unsigned plen = cidr->plen;

	if (plen >= 96 && lnt_ip_is_v4(&cidr->net))
		plen -= 96;
	snprintf(buf, size, "%s/%u", lnt_ip_format(&cidr->net, ip, sizeof(ip)),
	    plen);
	return buf;
}

lnt_cidr_set_t *
lnt_cidr_set_new(void)
{
	return calloc(1, sizeof(lnt_cidr_set_t));
}

static void
drop_ranges(lnt_cidr_set_t *set)
{
	free(set->starts);
	free(set->owners);
	set->starts = NULL;
	set->owners = NULL;
	set->nranges = 0;
	set->built = false;
}

void
lnt_cidr_set_free(lnt_cidr_set_t *set)
{
	if (set == NULL)
		return;
	drop_ranges(set);
	for (size_t i = 0; i < set->norigins; i++)
		free(set->origins[i]);
	free(set->origins);
	free(set->entries);
	free(set);
}

/* The index of <origin> in set->origins, added if new; NO_ENTRY for NULL. */
static int
intern_origin(lnt_cidr_set_t *set, const char *origin, uint32_t *idx)
{
	char **v, *copy;

	if (origin == NULL) {
		*idx = NO_ENTRY;
		return 0;
	}
	/* Entries come in runs from one file: the newest is the likely hit. */
	for (size_t i = set->norigins; i > 0; i--) {
		if (strcmp(set->origins[i - 1], origin) == 0) {
			*idx = (uint32_t)(i - 1);
			return 0;
		}
	}
	if ((copy = strdup(origin)) == NULL)
		return -1;
	v = realloc(set->origins, (set->norigins + 1) * sizeof(*v));
	if (v == NULL) {
		free(copy);
		return -1;
	}
	set->origins = v;
	set->origins[set->norigins] = copy;
	*idx = (uint32_t)set->norigins++;
	return 0;
}

int
lnt_cidr_set_add(lnt_cidr_set_t *set, const lnt_cidr_t *cidr,
    const char *origin, unsigned line, uint32_t value)
{
	entry_t *e;
	uint32_t oi;

	if (set->built || set->n >= NO_ENTRY - 1 || cidr->plen > 128) {
		errno = EINVAL;
		return -1;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;

		if ((e = realloc(set->entries, cap * sizeof(*e))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		set->entries = e;
		set->cap = cap;
	}
	if (intern_origin(set, origin, &oi) != 0) {
		errno = ENOMEM;
		return -1;
	}
	e = &set->entries[set->n];
	e->net = ip_to_u128(&cidr->net);
	e->plen = cidr->plen;
	e->origin = oi;
	e->line = line;
	e->value = value;
	e->seq = (uint32_t)set->n++;
	return 0;
}

/* Cut comments and surrounding spaces from <line>; returns its length. */
static size_t
strip_line(char *line, size_t len, char **start)
{
	char *s = line, *end = line + len;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	for (char *p = s; p < end; p++) {
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			end = p;
			break;
		}
	}
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*start = s;
	return (size_t)(end - s);
}

long
lnt_cidr_set_load(lnt_cidr_set_t *set, const char *path, uint32_t value,
    char *err, size_t errlen)
{
	FILE *fp;
	char *line = NULL, *s, msg[256];
	size_t cap = 0, before = set->n, len;
	ssize_t got;
	unsigned lineno = 0, nbad = 0;
	lnt_cidr_t c;

	if (set->built) {
		lnt_acl_errf(err, errlen, "%s: the set is already built", path);
		return -1;
	}
	if ((fp = fopen(path, "re")) == NULL) {
		lnt_acl_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((got = getline(&line, &cap, fp)) != -1) {
		lineno++;
		len = strip_line(line, (size_t)got, &s);
		if (len == 0)
			continue;
		msg[0] = '\0';
		if (memchr(s, '\0', len) != NULL)
			snprintf(msg, sizeof(msg), "NUL byte in the line");
		else if (len > LNT_CIDR_MAXLINE)
			snprintf(msg, sizeof(msg), "line longer than %d bytes",
			    LNT_CIDR_MAXLINE);
		else {
			s[len] = '\0';
			if (lnt_cidr_parse(s, &c, msg, sizeof(msg)) == 0 &&
			    lnt_cidr_set_add(set, &c, path, lineno, value) != 0)
				snprintf(msg, sizeof(msg), "%s",
				    strerror(errno));
		}
		if (msg[0] != '\0' && nbad++ == 0)
			lnt_acl_errf(err, errlen, "%s:%u: %s", path, lineno,
			    msg);
	}
	if (ferror(fp) && nbad++ == 0)
		lnt_acl_errf(err, errlen, "%s: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	if (nbad > 0) {
		size_t used = strnlen(err, errlen);

		if (nbad > 1 && used < errlen)
			snprintf(err + used, errlen - used,
			    " (and %u more bad lines)", nbad - 1);
		/* The caller keeps the old list: drop this file's half. */
		set->n = before;
		return -1;
	}
	return (long)(set->n - before);
}

static int
entry_cmp(const void *a, const void *b)
{
	const entry_t *x = a, *y = b;
	int c = u128_cmp(x->net, y->net);

	if (c != 0)
		return c;
	/* Wider first, so a network follows those that contain it. */
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Start a range at <start> owned by <owner>.  A range starting where the
 * last one does replaces it; one with the same owner as the last extends
 * it.  The arrays are big enough: see lnt_cidr_set_build().
 */
static void
emit(lnt_cidr_set_t *set, u128_t start, uint32_t owner)
{
	size_t n = set->nranges;

	if (n > 0 && u128_cmp(set->starts[n - 1], start) == 0) {
		set->owners[n - 1] = owner;
		if (n > 1 && set->owners[n - 2] == owner)
			set->nranges--;
		return;
	}
	if (n > 0 ? set->owners[n - 1] == owner : owner == NO_ENTRY)
		return;
	set->starts[n] = start;
	set->owners[n] = owner;
	set->nranges++;
}

/* Close the network on top of <stack>: what follows it is its parent's. */
static void
pop(lnt_cidr_set_t *set, uint32_t *stack, size_t *depth)
{
	const entry_t *e = &set->entries[stack[--*depth]];
	u128_t end = range_end(e->net, e->plen);

	if (end.hi == UINT64_MAX && end.lo == UINT64_MAX)
		return;
	if (++end.lo == 0)
		end.hi++;
	emit(set, end, *depth > 0 ? stack[*depth - 1] : NO_ENTRY);
}

int
lnt_cidr_set_build(lnt_cidr_set_t *set)
{
	/* Networks nest at most 129 deep: one per prefix length. */
	uint32_t stack[129];
	size_t depth = 0, max;

	if (set->built)
		return 0;
	if (set->n > 0)
		qsort(set->entries, set->n, sizeof(entry_t), entry_cmp);
	/* Each network opens a range and its end reopens its parent's. */
	max = 2 * set->n + 1;
	set->starts = malloc(max * sizeof(*set->starts));
	set->owners = malloc(max * sizeof(*set->owners));
	if (set->starts == NULL || set->owners == NULL) {
		drop_ranges(set);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < set->n; i++) {
		const entry_t *e = &set->entries[i];

		/* The same network again: the one added first already won. */
		if (i > 0 && u128_cmp(e[-1].net, e->net) == 0 &&
		    e[-1].plen == e->plen)
			continue;
		/*
		 * Sorted by start then width, a network either lies inside
		 * the one on top of the stack or starts past its end.
		 */
		while (depth > 0) {
			const entry_t *top = &set->entries[stack[depth - 1]];

			if (u128_cmp(range_end(top->net, top->plen),
			    e->net) >= 0)
				break;
			pop(set, stack, &depth);
		}
		emit(set, e->net, (uint32_t)i);
		stack[depth++] = (uint32_t)i;
	}
	while (depth > 0)
		pop(set, stack, &depth);
	set->built = true;
	return 0;
}

size_t
lnt_cidr_set_count(const lnt_cidr_set_t *set)
{
	return set->n;
}

bool
lnt_cidr_set_lookup(const lnt_cidr_set_t *set, const lnt_ip_t *ip,
    lnt_cidr_match_t *match)
{
	u128_t key = ip_to_u128(ip);
	size_t lo = 0, hi, i;
	const entry_t *e;

	if (!set->built) {
		fprintf(stderr, "%s: CIDR set used before it was built\n",
		    __func__);
		abort();
	}
	/* The last range starting at or before <key> holds it. */
	hi = set->nranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u128_cmp(set->starts[mid], key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || (i = set->owners[lo - 1]) == NO_ENTRY)
		return false;
	if (match != NULL) {
		e = &set->entries[i];
		u128_to_ip(e->net, &match->cidr.net);
		match->cidr.plen = e->plen;
		match->origin = e->origin == NO_ENTRY ? NULL :
		    set->origins[e->origin];
		match->line = e->line;
		match->value = e->value;
	}
	return true;
}

/* Parse one X-Forwarded-For element, spaces around it allowed. */
static int
parse_xff_elem(const char *s, size_t len, lnt_ip_t *ip)
{
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		/* Brackets are for IPv6 syntax only. */
		if (memchr(s + 1, ':', len - 2) == NULL)
			return -1;
		return lnt_ip_parse(s + 1, len - 2, ip);
	}
	return lnt_ip_parse(s, len, ip);
}

bool
lnt_cidr_real_client(const lnt_cidr_set_t *trusted, const lnt_ip_t *peer,
    const char *xff, size_t len, lnt_ip_t *client)
{
	lnt_ip_t cur = *peer, next;
	size_t end = len;

	while (xff != NULL && end > 0 &&
	    lnt_cidr_set_lookup(trusted, &cur, NULL)) {
		size_t start = end;

		while (start > 0 && xff[start - 1] != ',')
			start--;
		if (parse_xff_elem(xff + start, end - start, &next) != 0)
			break;
		cur = next;
		/* Step over the comma; an empty list is left empty. */
		end = start > 0 ? start - 1 : 0;
	}
	*client = cur;
	return memcmp(cur.b, peer->b, sizeof(cur.b)) != 0;
}
