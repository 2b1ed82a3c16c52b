/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for the acl module's decision logic (modules/acl): CIDR
 * parsing and sets against a brute-force model, X-Forwarded-For walking,
 * htpasswd loading and verification with hashes made at test time, Basic
 * credentials, token buckets and connection counters.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "bucket.h"
#include "cidr.h"
#include "htpasswd.h"

static char tmpdir[] = "/tmp/check_acl_logic.XXXXXX";

/* Write <len> bytes of <text> to the file <name> in tmpdir; its path. */
static const char *
write_file_n(const char *name, const char *text, size_t len)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

static const char *
write_file(const char *name, const char *text)
{
	return write_file_n(name, text, strlen(text));
}

static lnt_ip_t
ip(const char *s)
{
	lnt_ip_t a;

	ck_assert_msg(lnt_ip_parse(s, strlen(s), &a) == 0, "parse %s", s);
	return a;
}

static lnt_cidr_t
cidr(const char *s)
{
	lnt_cidr_t c;
	char err[256];

	ck_assert_msg(lnt_cidr_parse(s, &c, err, sizeof(err)) == 0,
	    "parse %s: %s", s, err);
	return c;
}

/* <s> parsed, in one of a few static slots: for use within one call. */
static const lnt_ip_t *
ipp(const char *s)
{
	static lnt_ip_t r[4];
	static unsigned n;
	lnt_ip_t *p = &r[n++ % 4];

	*p = ip(s);
	return p;
}

static const lnt_cidr_t *
cidrp(const char *s)
{
	static lnt_cidr_t r[4];
	static unsigned n;
	lnt_cidr_t *p = &r[n++ % 4];

	*p = cidr(s);
	return p;
}

/* ------------------------------------------------------------------ cidr */

/* A good entry, its prefix length in 128 bits, and how it prints. */
static const struct {
	const char	*in;
	unsigned	 plen;
	const char	*out;
} good_cidrs[] = {
	{ "10.0.0.0/8", 104, "10.0.0.0/8" },
	{ "10.1.2.3", 128, "10.1.2.3/32" },
	{ "10.1.2.3/32", 128, "10.1.2.3/32" },
	{ "0.0.0.0/0", 96, "0.0.0.0/0" },
	{ "255.255.255.255/32", 128, "255.255.255.255/32" },
	{ "::1", 128, "::1/128" },
	{ "::/0", 0, "::/0" },
	{ "all", 0, "::/0" },
	{ "2001:db8::/32", 32, "2001:db8::/32" },
	{ "2001:db8::1/128", 128, "2001:db8::1/128" },
	{ "::ffff:10.0.0.0/104", 104, "10.0.0.0/8" },
	{ "::ffff:0:0/96", 96, "0.0.0.0/0" },
	{ "fe80::/10", 10, "fe80::/10" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 128,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" },
};

/* A bad entry and the exact message, one row per message. */
static const struct {
	const char	*in;
	const char	*msg;
} bad_cidrs[] = {
	{ "", "empty address" },
	{ "10.0.0.1/8", "host bits set in 10.0.0.1/8 (the network is "
	    "10.0.0.0/8)" },
	{ "2001:db8::1/32", "host bits set in 2001:db8::1/32 (the network is "
	    "2001:db8::/32)" },
	{ "0.0.0.1/0", "host bits set in 0.0.0.1/0 (the network is "
	    "0.0.0.0/0)" },
	{ "10.0.0.0/33", "'10.0.0.0/33': the prefix length must be a number "
	    "from 0 to 32" },
	{ "::/129", "'::/129': the prefix length must be a number from 0 to "
	    "128" },
	{ "::ffff:10.0.0.0/8", "host bits set in ::ffff:10.0.0.0/8 (the "
	    "network is ::/8)" },
	{ "10.0.0.0/", "'10.0.0.0/': the prefix length must be a number from "
	    "0 to 32" },
	{ "10.0.0.0/08", "'10.0.0.0/08': the prefix length must be a number "
	    "from 0 to 32" },
	{ "10.0.0.0/+8", "'10.0.0.0/+8': the prefix length must be a number "
	    "from 0 to 32" },
	{ "10.0.0.0/ 8", "'10.0.0.0/ 8': the prefix length must be a number "
	    "from 0 to 32" },
	{ "10.0.0.0/8/8", "'10.0.0.0/8/8': the prefix length must be a number "
	    "from 0 to 32" },
	{ "010.0.0.0/8", "'010.0.0.0' is not an IPv4 or IPv6 address" },
	{ "10.0.0/8", "'10.0.0' is not an IPv4 or IPv6 address" },
	{ "10.0.0.256", "'10.0.0.256' is not an IPv4 or IPv6 address" },
	{ " 10.0.0.0/8", "' 10.0.0.0' is not an IPv4 or IPv6 address" },
	{ "[::1]/128", "'[::1]' is not an IPv4 or IPv6 address" },
	{ "fe80::1%eth0", "'fe80::1%eth0' is not an IPv4 or IPv6 address" },
	{ "example.com", "'example.com' is not an IPv4 or IPv6 address" },
	{ "All", "'All' is not an IPv4 or IPv6 address" },
	{ "10.0.0.1\x1b[2J", "'10.0.0.1?[2J' is not an IPv4 or IPv6 "
	    "address" },
};

START_TEST(test_cidr_parse_good)
{
	const char *in = good_cidrs[_i].in;
	char buf[LNT_CIDR_STRLEN], err[256];
	lnt_cidr_t c, again;

	ck_assert_msg(lnt_cidr_parse(in, &c, err, sizeof(err)) == 0, "%s: %s",
	    in, err);
	ck_assert_uint_eq(c.plen, good_cidrs[_i].plen);
	ck_assert_str_eq(lnt_cidr_format(&c, buf, sizeof(buf)),
	    good_cidrs[_i].out);
	/* What it prints parses back to the same network. */
	again = cidr(buf);
	ck_assert_uint_eq(again.plen, c.plen);
	ck_assert_mem_eq(again.net.b, c.net.b, 16);
}
END_TEST

START_TEST(test_cidr_parse_bad)
{
	char err[256] = "";
	lnt_cidr_t c;

	ck_assert_int_eq(lnt_cidr_parse(bad_cidrs[_i].in, &c, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, bad_cidrs[_i].msg);
}
END_TEST

START_TEST(test_ip_forms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr sa = { .sa_family = AF_UNIX };
	char buf[LNT_IP_STRLEN];
	lnt_ip_t a;

	sin.sin_addr.s_addr = htonl(0xc0000201);
	ck_assert_int_eq(lnt_ip_from_sockaddr((struct sockaddr *)&sin, &a), 0);
	ck_assert(lnt_ip_is_v4(&a));
	ck_assert_str_eq(lnt_ip_format(&a, buf, sizeof(buf)), "192.0.2.1");
	ck_assert_mem_eq(a.b, ip("::ffff:192.0.2.1").b, 16);
	sin6.sin6_addr.s6_addr[15] = 1;
	ck_assert_int_eq(lnt_ip_from_sockaddr((struct sockaddr *)&sin6, &a),
	    0);
	ck_assert(!lnt_ip_is_v4(&a));
	ck_assert_str_eq(lnt_ip_format(&a, buf, sizeof(buf)), "::1");
	ck_assert_int_eq(lnt_ip_from_sockaddr(&sa, &a), -1);
	/* Only the bytes given count, and nothing around the address. */
	ck_assert_int_eq(lnt_ip_parse("10.0.0.1x", 8, &a), 0);
	ck_assert_str_eq(lnt_ip_format(&a, buf, sizeof(buf)), "10.0.0.1");
	ck_assert_int_eq(lnt_ip_parse("10.0.0.1 ", 9, &a), -1);
	ck_assert_int_eq(lnt_ip_parse("10.0.0.1:80", 11, &a), -1);
	ck_assert_int_eq(lnt_ip_parse("", 0, &a), -1);
	ck_assert_int_eq(lnt_ip_parse("10.0\0.0.1", 9, &a), -1);
	ck_assert(lnt_cidr_contains(cidrp("10.0.0.0/8"),
	    ipp("10.255.255.255")));
	ck_assert(!lnt_cidr_contains(cidrp("10.0.0.0/8"),
	    ipp("11.0.0.0")));
}
END_TEST

/* Add each of <list> (value = index) to a new set and build it. */
static lnt_cidr_set_t *
make_set(const char *const *list)
{
	lnt_cidr_set_t *set = lnt_cidr_set_new();

	ck_assert_ptr_nonnull(set);
	for (unsigned i = 0; list[i] != NULL; i++) {
		lnt_cidr_t c = cidr(list[i]);

		ck_assert_int_eq(lnt_cidr_set_add(set, &c, "inline", i + 1, i),
		    0);
	}
	ck_assert_int_eq(lnt_cidr_set_build(set), 0);
	return set;
}

/* The value of the network <set> finds for <addr>, or -1. */
static long
find(const lnt_cidr_set_t *set, const char *addr)
{
	lnt_cidr_match_t m;
	lnt_ip_t a = ip(addr);

	if (!lnt_cidr_set_lookup(set, &a, &m))
		return -1;
	ck_assert(lnt_cidr_contains(&m.cidr, &a));
	return m.value;
}

START_TEST(test_set_edges)
{
	static const char *const zero4[] = { "0.0.0.0/0", NULL };
	static const char *const all[] = { "all", NULL };
	static const char *const hosts[] = { "192.0.2.1/32", "2001:db8::1/128",
	    "255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "::", NULL };
	static const char *const nested[] = { "10.0.0.0/8", "10.1.0.0/16",
	    "10.1.2.0/24", "10.1.2.3/32", "10.0.0.0/8", "10.1.0.0/16", "all",
	    "2001:db8::/32", "::ffff:10.1.0.0/112", NULL };
	static const char *const none[] = { NULL };
	lnt_cidr_set_t *set;
	lnt_cidr_match_t m;
	char buf[LNT_CIDR_STRLEN];

	/* IPv4's /0 is every IPv4 client, v4-mapped ones too, and no other. */
	set = make_set(zero4);
	ck_assert_int_eq(find(set, "0.0.0.0"), 0);
	ck_assert_int_eq(find(set, "255.255.255.255"), 0);
	ck_assert_int_eq(find(set, "::ffff:1.2.3.4"), 0);
	ck_assert_int_eq(find(set, "::1"), -1);
	ck_assert_int_eq(find(set, "::fffe:ffff:ffff"), -1);
	ck_assert_int_eq(find(set, "::1:0:0:0"), -1);
	lnt_cidr_set_free(set);

	set = make_set(all);
	ck_assert_int_eq(find(set, "::"), 0);
	ck_assert_int_eq(find(set, "1.2.3.4"), 0);
	ck_assert_int_eq(find(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    0);
	lnt_cidr_set_free(set);

	/* /32 and /128 match one address, down to the ends of the space. */
	set = make_set(hosts);
	ck_assert_int_eq(find(set, "192.0.2.1"), 0);
	ck_assert_int_eq(find(set, "::ffff:192.0.2.1"), 0);
	ck_assert_int_eq(find(set, "192.0.2.0"), -1);
	ck_assert_int_eq(find(set, "192.0.2.2"), -1);
	ck_assert_int_eq(find(set, "2001:db8::1"), 1);
	ck_assert_int_eq(find(set, "2001:db8::2"), -1);
	ck_assert_int_eq(find(set, "2001:db8::"), -1);
	ck_assert_int_eq(find(set, "255.255.255.255"), 2);
	ck_assert_int_eq(find(set, "::1:0:0:0"), -1);
	ck_assert_int_eq(find(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    3);
	ck_assert_int_eq(find(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"),
	    -1);
	ck_assert_int_eq(find(set, "::"), 4);
	ck_assert_int_eq(find(set, "::1"), -1);
	lnt_cidr_set_free(set);

	/* The most specific network wins; a repeated one keeps its first. */
	set = make_set(nested);
	ck_assert_uint_eq(lnt_cidr_set_count(set), 9);
	ck_assert_int_eq(find(set, "10.1.2.3"), 3);
	ck_assert_int_eq(find(set, "10.1.2.4"), 2);
	/* ::ffff:10.1.0.0/112 is 10.1.0.0/16 again, so 1 stays. */
	ck_assert_int_eq(find(set, "10.1.3.0"), 1);
	ck_assert_int_eq(find(set, "10.2.0.0"), 0);
	ck_assert_int_eq(find(set, "10.255.255.255"), 0);
	ck_assert_int_eq(find(set, "11.0.0.0"), 6);
	ck_assert_int_eq(find(set, "9.255.255.255"), 6);
	ck_assert_int_eq(find(set, "2001:db8:ffff::"), 7);
	ck_assert_int_eq(find(set, "2001:db9::"), 6);
	ck_assert(lnt_cidr_set_lookup(set, ipp("10.1.2.3"), &m));
	ck_assert_str_eq(m.origin, "inline");
	ck_assert_uint_eq(m.line, 4);
	ck_assert_str_eq(lnt_cidr_format(&m.cidr, buf, sizeof(buf)),
	    "10.1.2.3/32");
	lnt_cidr_set_free(set);

	set = make_set(none);
	ck_assert_int_eq(find(set, "10.0.0.1"), -1);
	ck_assert_int_eq(find(set, "::"), -1);
	/* Built sets are frozen. */
	ck_assert_int_eq(lnt_cidr_set_add(set, cidrp("::1"),
	    NULL, 0, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	lnt_cidr_set_free(set);
}
END_TEST

START_TEST(test_set_load)
{
	const char *path;
	char err[512] = "", want[512];
	lnt_cidr_set_t *set = lnt_cidr_set_new();
	lnt_cidr_match_t m;

	path = write_file("ok.list",
	    "# office and VPN\n"
	    "\n"
	    "192.0.2.0/24\n"
	    "   198.51.100.7   # the build box\n"
	    "2001:db8::/48\r\n"
	    "\t\n"
	    "10.0.0.0/8#not a comment, so a bad line\n");
	ck_assert_int_eq(lnt_cidr_set_load(set, path, 7, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s:7: '10.0.0.0/8#not a comment, so a "
	    "bad line': the prefix length must be a number from 0 to 32",
	    path);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(lnt_cidr_set_count(set), 0);

	path = write_file("ok.list",
	    "# office and VPN\n"
	    "\n"
	    "192.0.2.0/24\n"
	    "   198.51.100.7   # the build box\n"
	    "2001:db8::/48\r\n"
	    "\t\n"
	    "10.0.0.0/8");
	ck_assert_int_eq(lnt_cidr_set_load(set, path, 7, err, sizeof(err)),
	    4);
	ck_assert_int_eq(lnt_cidr_set_build(set), 0);
	ck_assert(lnt_cidr_set_lookup(set, ipp("198.51.100.7"),
	    &m));
	ck_assert_str_eq(m.origin, path);
	ck_assert_uint_eq(m.line, 4);
	ck_assert_uint_eq(m.value, 7);
	ck_assert(lnt_cidr_set_lookup(set, ipp("2001:db8:0:1::"),
	    &m));
	ck_assert_uint_eq(m.line, 5);
	ck_assert(lnt_cidr_set_lookup(set, ipp("10.9.9.9"), &m));
	ck_assert_uint_eq(m.line, 7);
	ck_assert(!lnt_cidr_set_lookup(set, ipp("2001:db8:1::"),
	    NULL));
	lnt_cidr_set_free(set);

	/* A bad file adds nothing, and says where and how much is wrong. */
	set = lnt_cidr_set_new();
	ck_assert_int_eq(lnt_cidr_set_add(set, cidrp("::1"),
	    NULL, 0, 0), 0);
	path = write_file("bad.list",
	    "192.0.2.0/24\n"
	    "192.0.2.1/24\n"
	    "nonsense\n"
	    "1.2.3.4/40\n");
	ck_assert_int_eq(lnt_cidr_set_load(set, path, 0, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s:2: host bits set in 192.0.2.1/24 "
	    "(the network is 192.0.2.0/24) (and 2 more bad lines)", path);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(lnt_cidr_set_count(set), 1);

	path = write_file_n("nul.list", "192.0.2.0/24\n10.0.0.0/8\0junk\n",
	    29);
	ck_assert_int_eq(lnt_cidr_set_load(set, path, 0, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in the line", path);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(lnt_cidr_set_count(set), 1);
	lnt_cidr_set_free(set);

	set = lnt_cidr_set_new();
	snprintf(want, sizeof(want), "%s/missing.list", tmpdir);
	ck_assert_int_eq(lnt_cidr_set_load(set, want, 0, err, sizeof(err)),
	    -1);
	strcat(want, ": No such file or directory");
	ck_assert_str_eq(err, want);
	/* An empty list is a list that matches no one. */
	path = write_file("empty.list", "# nobody yet\n");
	ck_assert_int_eq(lnt_cidr_set_load(set, path, 0, err, sizeof(err)),
	    0);
	ck_assert_int_eq(lnt_cidr_set_build(set), 0);
	ck_assert(!lnt_cidr_set_lookup(set, ipp("1.1.1.1"),
	    NULL));
	lnt_cidr_set_free(set);
}
END_TEST

START_TEST(test_set_load_long_line)
{
	char text[600], err[512], want[512];
	const char *path;
	lnt_cidr_set_t *set = lnt_cidr_set_new();

	memset(text, '1', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	path = write_file("long.list", text);
	ck_assert_int_eq(lnt_cidr_set_load(set, path, 0, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s:1: line longer than %d bytes", path,
	    LNT_CIDR_MAXLINE);
	ck_assert_str_eq(err, want);
	lnt_cidr_set_free(set);
}
END_TEST

/* A small PRNG of our own, so runs repeat on every libc. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The model keeps each network as two masked 64-bit halves: fast enough
 * to scan 100k of them per probe. */
typedef struct model_entry {
	lnt_cidr_t	 c;
	uint64_t	 net[2];
	uint64_t	 mask[2];
	uint32_t	 value;
} model_entry_t;

static void
halves(const lnt_ip_t *a, uint64_t h[2])
{
	h[0] = h[1] = 0;
	for (int i = 0; i < 8; i++) {
		h[0] = h[0] << 8 | a->b[i];
		h[1] = h[1] << 8 | a->b[i + 8];
	}
}

/* A random address, drawn so that networks share prefixes often. */
static void
random_ip(lnt_ip_t *a)
{
	uint64_t r = rng(), s = rng();

	memset(a->b, 0, 16);
	if (r & 1) {
		a->b[10] = a->b[11] = 0xff;
		a->b[12] = 10 + (r >> 1) % 4;
		a->b[13] = (uint8_t)(s >> 8);
		a->b[14] = (uint8_t)(s >> 16);
		a->b[15] = (uint8_t)(s >> 24);
	} else {
		a->b[0] = 0x20;
		a->b[1] = 0x01;
		a->b[2] = 0x0d;
		a->b[3] = 0xb8 + (r >> 1) % 2;
		for (int i = 4; i < 16; i++)
			a->b[i] = (uint8_t)(s >> (i % 8) * 8);
	}
}

static void
mask_to(lnt_cidr_t *c, unsigned plen)
{
	c->plen = plen;
	for (unsigned i = 0; i < 16; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		if (plen <= 8 * i)
			c->net.b[i] = 0;
		else
			c->net.b[i] &= (uint8_t)(0xff << (8 * (i + 1) - plen));
	}
}

static void
model_set(model_entry_t *e, const lnt_cidr_t *c, uint32_t value)
{
	unsigned p = c->plen;

	e->c = *c;
	e->value = value;
	halves(&c->net, e->net);
	e->mask[0] = p == 0 ? 0 : p >= 64 ? UINT64_MAX : UINT64_MAX << (64 - p);
	e->mask[1] = p <= 64 ? 0 : p == 128 ? UINT64_MAX :
	    UINT64_MAX << (128 - p);
}

/* The model's answer: the longest network holding <a>, first added. */
static long
model_find(const model_entry_t *m, size_t n, const lnt_ip_t *a)
{
	uint64_t h[2];
	long best = -1;

	halves(a, h);
	for (size_t i = 0; i < n; i++) {
		if ((h[0] & m[i].mask[0]) != m[i].net[0] ||
		    (h[1] & m[i].mask[1]) != m[i].net[1])
			continue;
		if (best < 0 || m[i].c.plen > m[best].c.plen)
			best = (long)i;
	}
	return best < 0 ? -1 : (long)m[best].value;
}

START_TEST(test_set_random_against_model)
{
	enum { N = 100000, PROBES = 2000 };
	model_entry_t *m = calloc(N, sizeof(*m));
	lnt_cidr_set_t *set = lnt_cidr_set_new();
	lnt_cidr_match_t got;
	lnt_ip_t a;
	long want;

	ck_assert_ptr_nonnull(m);
	for (uint32_t i = 0; i < N; i++) {
		lnt_cidr_t c;

		random_ip(&c.net);
		if (lnt_ip_is_v4(&c.net))
			mask_to(&c, 96 + 8 + (unsigned)(rng() % 25));
		else
			mask_to(&c, 32 + (unsigned)(rng() % 97));
		/* Some repeats, to check that the first one added wins. */
		if (i > 0 && rng() % 50 == 0)
			c = m[rng() % i].c;
		model_set(&m[i], &c, i);
		ck_assert_int_eq(lnt_cidr_set_add(set, &c, NULL, i, i), 0);
	}
	ck_assert_int_eq(lnt_cidr_set_build(set), 0);
	for (int p = 0; p < PROBES; p++) {
		const model_entry_t *e = &m[rng() % N];

		/* Probe networks' edges, just outside them, and anywhere. */
		switch (p % 4) {
		case 0:
			a = e->c.net;
			break;
		case 1:
			a = e->c.net;
			for (unsigned b = e->c.plen; b < 128; b++)
				a.b[b / 8] |= (uint8_t)(0x80 >> (b % 8));
			break;
		case 2:
			a = e->c.net;
			for (int i = 15; i >= 0 && a.b[i]-- == 0; i--)
				continue;
			break;
		default:
			random_ip(&a);
			break;
		}
		want = model_find(m, N, &a);
		if (want < 0)
			ck_assert(!lnt_cidr_set_lookup(set, &a, &got));
		else {
			ck_assert(lnt_cidr_set_lookup(set, &a, &got));
			ck_assert_int_eq(got.value, want);
		}
	}
	lnt_cidr_set_free(set);
	free(m);
}
END_TEST

START_TEST(test_real_client)
{
	static const char *const proxies[] = { "10.0.0.0/8", "::1", NULL };
	static const struct {
		const char	*peer;
		const char	*xff;
		const char	*client;
	} cases[] = {
		/* An untrusted peer is the client, whatever it claims. */
		{ "192.0.2.1", "10.0.0.1, 198.51.100.1", "192.0.2.1" },
		{ "10.0.0.1", NULL, "10.0.0.1" },
		{ "10.0.0.1", "", "10.0.0.1" },
		{ "10.0.0.1", "192.0.2.7", "192.0.2.7" },
		{ "10.0.0.1", " 192.0.2.7 ", "192.0.2.7" },
		/* The rightmost untrusted hop, not the forgeable leftmost. */
		{ "10.0.0.1", "6.6.6.6, 192.0.2.7, 10.0.0.2", "192.0.2.7" },
		{ "10.0.0.1", "6.6.6.6,192.0.2.7,10.9.9.9,::1", "192.0.2.7" },
		/* All trusted: the leftmost. */
		{ "10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3" },
		{ "::1", "2001:db8::5", "2001:db8::5" },
		{ "::1", "[2001:db8::5]", "2001:db8::5" },
		{ "::ffff:10.0.0.1", "192.0.2.7", "192.0.2.7" },
		/* Garbage stops the walk at the hop that sent it. */
		{ "10.0.0.1", "192.0.2.7, unknown", "10.0.0.1" },
		{ "10.0.0.1", "192.0.2.7, 10.0.0.2, 192.0.2.9:80", "10.0.0.1" },
		{ "10.0.0.1", "192.0.2.9:80, 10.0.0.2", "10.0.0.2" },
		{ "10.0.0.1", "192.0.2.7,, 10.0.0.2", "10.0.0.2" },
		{ "10.0.0.1", ",", "10.0.0.1" },
		{ "10.0.0.1", "[192.0.2.7]", "10.0.0.1" },
		{ "10.0.0.1", "[2001:db8::5]:443", "10.0.0.1" },
	};
	lnt_cidr_set_t *trusted = make_set(proxies);
	char buf[LNT_IP_STRLEN];
	lnt_ip_t peer, client;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *x = cases[i].xff;
		bool moved;

		peer = ip(cases[i].peer);
		moved = lnt_cidr_real_client(trusted, &peer, x,
		    x ? strlen(x) : 0, &client);
		ck_assert_msg(strcmp(lnt_ip_format(&client, buf, sizeof(buf)),
		    cases[i].client) == 0, "case %zu: got %s", i, buf);
		ck_assert_int_eq(moved,
		    memcmp(client.b, ip(cases[i].peer).b, 16) != 0);
	}
	lnt_cidr_set_free(trusted);
}
END_TEST

/* -------------------------------------------------------------- htpasswd */

/* Hash <pass> with a fresh salt for <prefix> at <cost>; static result. */
static const char *
make_hash(const char *prefix, unsigned long cost, const char *pass)
{
	static struct crypt_data cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;

	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, cost, NULL, 0, salt,
	    sizeof(salt)));
	memset(&cd, 0, sizeof(cd));
	h = crypt_rn(pass, salt, &cd, sizeof(cd));
	ck_assert_ptr_nonnull(h);
	return h;
}

START_TEST(test_htpasswd_methods)
{
	static const struct {
		const char		*prefix;
		unsigned long		 cost;
		lnt_htpasswd_method_t	 method;
	} methods[] = {
		{ "$2b$", 4, LNT_HTPASSWD_BCRYPT },
		{ "$2y$", 4, LNT_HTPASSWD_BCRYPT },
		{ "$2a$", 4, LNT_HTPASSWD_BCRYPT },
		{ "$6$", 0, LNT_HTPASSWD_SHA512 },
		{ "$6$", 1000, LNT_HTPASSWD_SHA512 },
		{ "$6$", 5000, LNT_HTPASSWD_SHA512 },
		{ "$y$", 1, LNT_HTPASSWD_YESCRYPT },
		{ "$y$", 5, LNT_HTPASSWD_YESCRYPT },
	};
	char text[4096] = "# users\n\n", err[512];
	const char *path;
	lnt_htpasswd_t *ht;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char user[32], pass[32], line[256];
		const char *h;

		snprintf(user, sizeof(user), "user%zu", i);
		snprintf(pass, sizeof(pass), "pw:%zu é", i);
		h = make_hash(methods[i].prefix, methods[i].cost, pass);
		ck_assert_msg(lnt_htpasswd_check_hash(h, err, sizeof(err)) ==
		    methods[i].method, "%s: %s", h, err);
		snprintf(line, sizeof(line), "%s:%s%s", user, h,
		    i % 2 ? "\r\n" : "\n");
		strcat(text, line);
	}
	path = write_file("users", text);
	ht = lnt_htpasswd_load(path, err, sizeof(err));
	ck_assert_msg(ht != NULL, "%s", err);
	ck_assert_uint_eq(lnt_htpasswd_count(ht), 8);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		char user[32], pass[32];

		snprintf(user, sizeof(user), "user%zu", i);
		snprintf(pass, sizeof(pass), "pw:%zu é", i);
		ck_assert_msg(lnt_htpasswd_verify(ht, user, pass), "%s", user);
		pass[3] = 'X';
		ck_assert(!lnt_htpasswd_verify(ht, user, pass));
		ck_assert(!lnt_htpasswd_verify(ht, user, ""));
	}
	ck_assert(!lnt_htpasswd_verify(ht, "nobody", "pw:0 é"));
	ck_assert(!lnt_htpasswd_verify(ht, "", ""));
	ck_assert(!lnt_htpasswd_verify(ht, "USER0", "pw:0 é"));
	lnt_htpasswd_free(ht);
}
END_TEST

/* A file's text and the message after "PATH:", one row per message. */
static const struct {
	const char	*text;
	const char	*msg;
} bad_htpasswd[] = {
	{ "alice:secret\n", "1: user 'alice': unsupported or plain-text hash "
	    "(use bcrypt, SHA-512-crypt or yescrypt)" },
	{ "\nbob:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n", "2: user 'bob': "
	    "unsupported or plain-text hash (use bcrypt, SHA-512-crypt or "
	    "yescrypt)" },
	{ "carol:$apr1$8p/kLR0B$9AvJXcZ2iKoN/oa/YKNRU0\n", "1: user 'carol': "
	    "unsupported or plain-text hash (use bcrypt, SHA-512-crypt or "
	    "yescrypt)" },
	{ "dave:$1$hPALS6AQ$3YiclpG275nTW2wX2lP5O1\n", "1: user 'dave': "
	    "unsupported or plain-text hash (use bcrypt, SHA-512-crypt or "
	    "yescrypt)" },
	{ "erin:$5$M1nRWqLIb92Xm3OS$pXdN2TnX6UFiUFSSpAZiTCNWxbgqBmvmXe1JPwdOVX"
	    "D\n", "1: user 'erin': unsupported or plain-text hash (use "
	    "bcrypt, SHA-512-crypt or yescrypt)" },
	{ "frank:\n", "1: user 'frank': unsupported or plain-text hash (use "
	    "bcrypt, SHA-512-crypt or yescrypt)" },
	{ "gina:$2b$05$DiWCHk/2ipOk/Zz3TUWlNu\n", "1: user 'gina': malformed "
	    "bcrypt hash" },
	{ "gina:$2b$03$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n",
	    "1: user 'gina': malformed bcrypt hash" },
	{ "gina:$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26x+\n",
	    "1: user 'gina': malformed bcrypt hash" },
	{ "gina:$2x$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n",
	    "1: user 'gina': unsupported or plain-text hash (use bcrypt, "
	    "SHA-512-crypt or yescrypt)" },
	{ "hal:$2b$15$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n",
	    "1: user 'hal': bcrypt cost 15 is over the limit of 14" },
	{ "ivy:$6$kjJEf3NzyoPDk.mo$43CA1CU8yv6mtNywgtV.qhZ8rdJfOShQkuFFIp667e"
	    "XR6pIhok4Ij.FNwtRNCwKWLZCH.YWrL53WTYU2ZvyTd\n", "1: user 'ivy': "
	    "malformed SHA-512-crypt hash" },
	{ "ivy:$6$kjJEf3NzyoPDk.mox$43CA1CU8yv6mtNywgtV.qhZ8rdJfOShQkuFFIp667"
	    "eXR6pIhok4Ij.FNwtRNCwKWLZCH.YWrL53WTYU2ZvyTd1\n", "1: user 'ivy': "
	    "malformed SHA-512-crypt hash" },
	{ "ivy:$6$$43CA1CU8yv6mtNywgtV.qhZ8rdJfOShQkuFFIp667eXR6pIhok4Ij.FNwtR"
	    "NCwKWLZCH.YWrL53WTYU2ZvyTd1\n", "1: user 'ivy': malformed "
	    "SHA-512-crypt hash" },
	{ "ivy:$6$rounds=999$kjJEf3NzyoPDk.mo$43CA1CU8yv6mtNywgtV.qhZ8rdJfOShQ"
	    "kuFFIp667eXR6pIhok4Ij.FNwtRNCwKWLZCH.YWrL53WTYU2ZvyTd1\n",
	    "1: user 'ivy': malformed SHA-512-crypt rounds" },
	{ "ivy:$6$rounds=05000$kjJEf3NzyoPDk.mo$43CA1CU8yv6mtNywgtV.qhZ8rdJfOS"
	    "hQkuFFIp667eXR6pIhok4Ij.FNwtRNCwKWLZCH.YWrL53WTYU2ZvyTd1\n",
	    "1: user 'ivy': malformed SHA-512-crypt rounds" },
	{ "jo:$6$rounds=1000001$kjJEf3NzyoPDk.mo$43CA1CU8yv6mtNywgtV.qhZ8rdJfO"
	    "ShQkuFFIp667eXR6pIhok4Ij.FNwtRNCwKWLZCH.YWrL53WTYU2ZvyTd1\n",
	    "1: user 'jo': SHA-512-crypt rounds 1000001 are over the limit of "
	    "1000000" },
	{ "kim:$y$j9T$GR0AXX5eCCiXIoCFWvnR.0$XinYCjkjf05bThqWnYqDWqTLfd8WWAknb"
	    "EOEnhKMhs\n", "1: user 'kim': malformed yescrypt hash" },
	{ "kim:$y$j9T$$XinYCjkjf05bThqWnYqDWqTLfd8WWAknbEOEnhKMhs0\n",
	    "1: user 'kim': malformed yescrypt hash" },
	{ "kim:$y$j9T1$GR0AXX5eCCiXIoCFWvnR.0$XinYCjkjf05bThqWnYqDWqTLfd8WWAkn"
	    "bEOEnhKMhs0\n", "1: user 'kim': unsupported yescrypt parameters "
	    "'j9T1'" },
	{ "kim:$y$jzT$GR0AXX5eCCiXIoCFWvnR.0$XinYCjkjf05bThqWnYqDWqTLfd8WWAknb"
	    "EOEnhKMhs0\n", "1: user 'kim': unsupported yescrypt parameters "
	    "'jzT'" },
	{ "lou:$y$jGT$GR0AXX5eCCiXIoCFWvnR.0$XinYCjkjf05bThqWnYqDWqTLfd8WWAknb"
	    "EOEnhKMhs0\n", "1: user 'lou': yescrypt cost (N=2^19, r=32) is "
	    "over the limit of 1024 MiB" },
	{ "nocolon\n", "1: expected user:hash" },
	{ ":$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n",
	    "1: the user name must have 1 to 255 bytes" },
	{ " al:$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n",
	    "1: user ' al': space around the name" },
	{ "a\tl:$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n",
	    "1: user 'a?l': control character in the name" },
	{ "al:$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n"
	    "bo:$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n"
	    "al:$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n",
	    "3: user 'al' again (first on line 1)" },
	{ "al:$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n"
	    "al:$2b$05$DiWCHk/2ipOk/Zz3TUWlNuwYuL28R6AZ5di6KGXWp56xme0dC26xy\n"
	    "bo:plain\n",
	    "2: user 'al' again (first on line 1) (and 1 more bad lines)" },
	{ "# nobody\n\n", " no users" },
	{ "", " no users" },
};

START_TEST(test_htpasswd_bad)
{
	char err[512] = "", want[512];
	const char *path = write_file("bad", bad_htpasswd[_i].text);

	ck_assert_ptr_null(lnt_htpasswd_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:%s", path, bad_htpasswd[_i].msg);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_htpasswd_io)
{
	char err[512], want[512], text[LNT_HTPASSWD_MAXLINE + 64];

	snprintf(want, sizeof(want), "%s/none", tmpdir);
	ck_assert_ptr_null(lnt_htpasswd_load(want, err, sizeof(err)));
	strcat(want, ": No such file or directory");
	ck_assert_str_eq(err, want);

	memset(text, 'a', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	ck_assert_ptr_null(lnt_htpasswd_load(write_file("long", text), err,
	    sizeof(err)));
	snprintf(want, sizeof(want), "%s/long:1: line longer than %d bytes",
	    tmpdir, LNT_HTPASSWD_MAXLINE);
	ck_assert_str_eq(err, want);
}
END_TEST

/* An Authorization value, and the user and password it carries (or NULL). */
static const struct {
	const char	*value;
	const char	*user;
	const char	*pass;
} basics[] = {
	{ "Basic YWxpY2U6c2VjcmV0", "alice", "secret" },
	{ "basic YWxpY2U6c2VjcmV0", "alice", "secret" },
	{ "BASIC   YWxpY2U6c2VjcmV0  ", "alice", "secret" },
	{ "Basic YWxpY2U6c2VjOnJldA==", "alice", "sec:ret" },
	{ "Basic YWxpY2U6c2VjOnJldA", "alice", "sec:ret" },
	{ "Basic OnB3", "", "pw" },
	{ "Basic YWxpY2U6", "alice", "" },
	{ "Basic w6k6w6k=", "\xc3\xa9", "\xc3\xa9" },
	{ "Basic YWxpY2U=", NULL, NULL },		/* no ':' */
	{ "Basic YWxpY2U6c2VjOnJldA=", NULL, NULL },	/* bad padding */
	{ "Basic YWxpY2U6c2VjOnJldA===", NULL, NULL },
	{ "Basic YWxp=Y2U6", NULL, NULL },
	{ "Basic YWxpY2U6c2VjcmV0!", NULL, NULL },
	{ "Basic YWxpY2U6c2VjcmV0Y", NULL, NULL },	/* 4n + 1 chars */
	{ "Basic YWxpY2U6AHB3", NULL, NULL },		/* NUL in it */
	{ "Basic YWxpY2U6CnB3", NULL, NULL },		/* LF in it */
	{ "Basic ", NULL, NULL },
	{ "Basic", NULL, NULL },
	{ "Basic\tYWxpY2U6c2VjcmV0", NULL, NULL },
	{ "BasicYWxpY2U6c2VjcmV0", NULL, NULL },
	{ "Bearer YWxpY2U6c2VjcmV0", NULL, NULL },
	{ "Digest username=\"alice\"", NULL, NULL },
	{ "", NULL, NULL },
};

START_TEST(test_parse_basic)
{
	const char *v = basics[_i].value, *user = NULL, *pass = NULL;
	char buf[64];
	int rc = lnt_htpasswd_parse_basic(v, strlen(v), buf, sizeof(buf),
	    &user, &pass);

	if (basics[_i].user == NULL) {
		ck_assert_int_eq(rc, -1);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(user, basics[_i].user);
	ck_assert_str_eq(pass, basics[_i].pass);
}
END_TEST

START_TEST(test_parse_basic_room)
{
	static const char v[] = "Basic YWxpY2U6c2VjcmV0";	/* 12 bytes */
	const char *user, *pass;
	char buf[13];

	ck_assert_int_eq(lnt_htpasswd_parse_basic(v, strlen(v), buf, 12,
	    &user, &pass), -1);
	ck_assert_int_eq(lnt_htpasswd_parse_basic(v, strlen(v), buf, 13,
	    &user, &pass), 0);
	ck_assert_str_eq(pass, "secret");
	/* Only <len> bytes are read. */
	ck_assert_int_eq(lnt_htpasswd_parse_basic(v, 10, buf, sizeof(buf),
	    &user, &pass), -1);
}
END_TEST

/* ---------------------------------------------------------------- bucket */

static uint8_t *
key(unsigned n)
{
	static uint8_t k[4][LNT_BUCKET_KEYLEN];
	static unsigned next;
	uint8_t *p = k[next++ % 4];

	memset(p, 0, LNT_BUCKET_KEYLEN);
	p[10] = p[11] = 0xff;
	p[12] = 192;
	p[13] = 0;
	p[14] = (uint8_t)(n >> 8);
	p[15] = (uint8_t)n;
	return p;
}

START_TEST(test_rate_parse)
{
	static const struct {
		const char	*in;
		double		 per_s;
	} good[] = {
		{ "10r/s", 10 }, { "1r/s", 1 }, { "0.5r/s", 0.5 },
		{ "10r/m", 10.0 / 60 }, { "1r/h", 1.0 / 3600 },
		{ "0.001r/h", 0.001 / 3600 }, { "1000000r/s", 1e6 },
		{ "2.25r/s", 2.25 },
	};
	static const char *const bad[] = { "", "10", "r/s", "10 r/s",
	    "10r/S", "10r/d", "-1r/s", ".5r/s", "5.r/s", "0.0001r/s",
	    "0r/s", "0.000r/m", "1000001r/s", "99999999999999999r/s",
	    "1e3r/s", "10r/s ", NULL };
	char err[256];
	uint64_t per_ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		double want = good[i].per_s / 1000 * (double)LNT_BUCKET_ONE;

		ck_assert_msg(lnt_bucket_parse_rate(good[i].in, &per_ms, err,
		    sizeof(err)) == 0, "%s: %s", good[i].in, err);
		ck_assert_msg(per_ms >= 1 &&
		    (double)per_ms > want * (1 - 1e-6) - 1 &&
		    (double)per_ms < want * (1 + 1e-6) + 1, "%s: %llu",
		    good[i].in, (unsigned long long)per_ms);
	}
	for (size_t i = 0; bad[i] != NULL; i++)
		ck_assert_msg(lnt_bucket_parse_rate(bad[i], &per_ms, err,
		    sizeof(err)) == -1, "%s accepted", bad[i]);
	lnt_bucket_parse_rate("10", &per_ms, err, sizeof(err));
	ck_assert_str_eq(err, "expected a rate such as \"10r/s\", \"0.5r/s\" "
	    "or \"10r/m\", got \"10\"");
	lnt_bucket_parse_rate("0r/s", &per_ms, err, sizeof(err));
	ck_assert_str_eq(err, "the rate must be above 0 and at most "
	    "1000000r/s");
}
END_TEST

static lnt_bucket_rate_t
rate_of(const char *s, uint32_t burst)
{
	lnt_bucket_rate_t r = { 0, burst };
	char err[128];

	ck_assert_msg(lnt_bucket_parse_rate(s, &r.per_ms, err, sizeof(err)) ==
	    0, "%s: %s", s, err);
	return r;
}

/* A table of <nslots> in a fresh heap block (freed by the caller). */
static lnt_bucket_t *
new_bucket_table(uint32_t nslots, void **mem)
{
	size_t size = lnt_bucket_size(nslots);
	lnt_bucket_t *t;

	*mem = malloc(size);
	ck_assert_ptr_nonnull(*mem);
	t = lnt_bucket_init(*mem, size, 0x0123456789abcdefULL, 42);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(lnt_bucket_slots(t), nslots);
	return t;
}

START_TEST(test_bucket_burst_and_refill)
{
	lnt_bucket_rate_t rate = rate_of("1r/s", 3);
	uint64_t retry = 0;
	void *mem;
	lnt_bucket_t *t = new_bucket_table(64, &mem);
	uint8_t *a = key(1);

	/* A new client has its whole burst. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 1000, &retry),
		    LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 1000, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 1000);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 1999, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 1);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 2000, &retry),
	    LNT_BUCKET_OK);
	/* Refused requests cost nothing: the next token is still at 3000. */
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 2500, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 500);
	/* Others are not affected. */
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(2), 2500, &retry),
	    LNT_BUCKET_OK);
	/* A long rest refills to the burst and no further, even after ages. */
	for (uint64_t now = 10000; now < UINT64_MAX / 2; now *= 1000) {
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(lnt_bucket_take(t, &rate, a, now,
			    &retry), LNT_BUCKET_OK);
		ck_assert_int_eq(lnt_bucket_take(t, &rate, a, now, &retry),
		    LNT_BUCKET_LIMITED);
	}
	free(mem);
}
END_TEST

START_TEST(test_bucket_fractional)
{
	lnt_bucket_rate_t rate = rate_of("10r/m", 1);
	uint64_t retry = 0, now = 5;
	void *mem;
	lnt_bucket_t *t = new_bucket_table(64, &mem);
	uint8_t *a = key(1);
	int ok = 0;

	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, now, &retry),
	    LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, now, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 6000);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, now + 5999, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 1);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, now + 6000, &retry),
	    LNT_BUCKET_OK);
	/* Polled every 7 ms for an hour: 10 a minute, give or take one. */
	for (now = 6005; now < 6005 + 3600 * 1000; now += 7)
		if (lnt_bucket_take(t, &rate, a, now, &retry) == LNT_BUCKET_OK)
			ok++;
	ck_assert_int_ge(ok, 599);
	ck_assert_int_le(ok, 601);

	/* 2.5r/s: every 400 ms. */
	rate = rate_of("2.5r/s", 1);
	a = key(2);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 0, &retry),
	    LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 0, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 400);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 400, &retry),
	    LNT_BUCKET_OK);
	free(mem);
}
END_TEST

START_TEST(test_bucket_clock_and_reload)
{
	lnt_bucket_rate_t rate = rate_of("1r/s", 2);
	uint64_t retry = 0;
	void *mem;
	lnt_bucket_t *t = new_bucket_table(64, &mem);
	size_t size = lnt_bucket_size(64);
	uint8_t *a = key(1);

	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 10000, &retry),
	    LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 10000, &retry),
	    LNT_BUCKET_OK);
	/* A worker whose cached time is behind: no time has passed. */
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 9000, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 1000);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 10999, &retry),
	    LNT_BUCKET_LIMITED);

	/* A reload keeps the zone: the limited client stays limited. */
	t = lnt_bucket_attach(mem, size);
	ck_assert_ptr_eq(t, mem);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 10999, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 1);
	ck_assert_ptr_null(lnt_bucket_attach(mem, size - 8));
	ck_assert_ptr_null(lnt_connlimit_attach(mem, size));
	/* A smaller burst clamps what a client saved up (two tokens here). */
	rate.burst = 1;
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 60000, &retry),
	    LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, a, 60000, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 1000);
	free(mem);

	/* Too small or misaligned memory is refused. */
	size = lnt_bucket_size(100);
	mem = malloc(size);
	ck_assert_ptr_nonnull(mem);
	ck_assert_ptr_null(lnt_bucket_init(mem,
	    lnt_bucket_size(LNT_BUCKET_WINDOW) - 1, 1, 2));
	ck_assert_ptr_null(lnt_bucket_init((char *)mem + 4, size - 4, 1, 2));
	/* Room for 100 slots gives 64: a power of two. */
	t = lnt_bucket_init(mem, size, 1, 2);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(lnt_bucket_slots(t), 64);
	free(mem);
}
END_TEST

START_TEST(test_bucket_full_table)
{
	/* One neighbourhood is the whole table: 16 clients fill it. */
	lnt_bucket_rate_t rate = rate_of("1r/s", 1);
	uint64_t retry = 0;
	void *mem;
	lnt_bucket_t *t = new_bucket_table(LNT_BUCKET_WINDOW, &mem);

	/* Client i is drained at time 10 * i and refills 1000 ms later. */
	for (unsigned i = 0; i < LNT_BUCKET_WINDOW; i++)
		ck_assert_int_eq(lnt_bucket_take(t, &rate, key(i), 10 * i,
		    &retry), LNT_BUCKET_OK);
	/* No room, and nobody may be forgotten before they refill. */
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(100), 950, &retry),
	    LNT_BUCKET_FULL);
	ck_assert_uint_eq(retry, 50);
	for (unsigned i = 0; i < LNT_BUCKET_WINDOW; i++) {
		ck_assert_int_eq(lnt_bucket_take(t, &rate, key(i), 950,
		    &retry), LNT_BUCKET_LIMITED);
		ck_assert_uint_eq(retry, 10 * i + 50);
	}
	/* At 1000 client 0 has refilled: the newcomer takes its slot. */
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(100), 1000, &retry),
	    LNT_BUCKET_OK);
	/* 0 comes back as new, which is what it was: wait for client 1. */
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(0), 1000, &retry),
	    LNT_BUCKET_FULL);
	ck_assert_uint_eq(retry, 10);
	/* Those not refilled are still held to their limit. */
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(5), 1000, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 50);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(100), 1000, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(retry, 1000);
	/* Much later every bucket has refilled: any slot may go, all pass. */
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(0), 100000, &retry),
	    LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(0), 100000, &retry),
	    LNT_BUCKET_LIMITED);
	ck_assert_int_eq(lnt_bucket_take(t, &rate, key(15), 100000, &retry),
	    LNT_BUCKET_OK);
	free(mem);
}
END_TEST

START_TEST(test_bucket_spread)
{
	/* Keys spread over the table: 3/4 full, nobody is turned away. */
	enum { SLOTS = 4096 };
	lnt_bucket_rate_t rate = { 1, 1 };
	uint64_t retry;
	void *mem;
	lnt_bucket_t *t = new_bucket_table(SLOTS, &mem);
	unsigned full = 0;

	for (unsigned i = 0; i < SLOTS / 4 * 3; i++) {
		uint8_t k[LNT_BUCKET_KEYLEN] = { 0x20, 0x01, 0x0d, 0xb8 };

		k[14] = (uint8_t)(i >> 8);
		k[15] = (uint8_t)i;
		if (lnt_bucket_take(t, &rate, k, 0, &retry) == LNT_BUCKET_FULL)
			full++;
	}
	ck_assert_uint_eq(full, 0);
	free(mem);
}
END_TEST

START_TEST(test_conn_counts)
{
	size_t size = lnt_bucket_size(LNT_BUCKET_WINDOW);
	void *mem = malloc(size);
	lnt_connlimit_t *t = lnt_connlimit_init(mem, size, 7, 8);
	uint8_t a[LNT_BUCKET_KEYLEN];

	ck_assert_ptr_nonnull(t);
	memcpy(a, key(1), sizeof(a));
	ck_assert_int_eq(lnt_connlimit_acquire(t, a, 2), LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_connlimit_acquire(t, a, 2), LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_connlimit_acquire(t, a, 2), LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(lnt_connlimit_count(t, a), 2);
	lnt_connlimit_release(t, a);
	ck_assert_uint_eq(lnt_connlimit_count(t, a), 1);
	ck_assert_int_eq(lnt_connlimit_acquire(t, a, 2), LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_connlimit_acquire(t, key(2), 0), LNT_BUCKET_LIMITED);
	ck_assert_uint_eq(lnt_connlimit_count(t, key(2)), 0);

	/* Fill the only neighbourhood: 15 more clients. */
	for (unsigned i = 2; i < LNT_BUCKET_WINDOW + 1; i++)
		ck_assert_int_eq(lnt_connlimit_acquire(t, key(i), 5),
		    LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_connlimit_acquire(t, key(99), 5), LNT_BUCKET_FULL);
	/* A client whose last connection ends frees its slot. */
	lnt_connlimit_release(t, key(7));
	ck_assert_uint_eq(lnt_connlimit_count(t, key(7)), 0);
	ck_assert_int_eq(lnt_connlimit_acquire(t, key(99), 5), LNT_BUCKET_OK);
	ck_assert_int_eq(lnt_connlimit_acquire(t, key(7), 5), LNT_BUCKET_FULL);

	/* The zone outlives a reload; a dead worker's counts can be reset. */
	t = lnt_connlimit_attach(mem, size);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(lnt_bucket_attach(mem, size));
	ck_assert_uint_eq(lnt_connlimit_count(t, a), 2);
	lnt_connlimit_reset(t);
	ck_assert_uint_eq(lnt_connlimit_count(t, a), 0);
	/* A release after the reset does not go below zero. */
	lnt_connlimit_release(t, a);
	ck_assert_uint_eq(lnt_connlimit_count(t, a), 0);
	ck_assert_int_eq(lnt_connlimit_acquire(t, key(7), 5), LNT_BUCKET_OK);
	free(mem);
}
END_TEST

static Suite *
cidr_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_cidr_parse_good, 0,
	    sizeof(good_cidrs) / sizeof(good_cidrs[0]));
	tcase_add_loop_test(tc, test_cidr_parse_bad, 0,
	    sizeof(bad_cidrs) / sizeof(bad_cidrs[0]));
	tcase_add_test(tc, test_ip_forms);
	suite_add_tcase(s, tc);
	tc = tcase_create("set");
	tcase_add_test(tc, test_set_edges);
	tcase_add_test(tc, test_set_load);
	tcase_add_test(tc, test_set_load_long_line);
	tcase_add_test(tc, test_set_random_against_model);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tc = tcase_create("real_client");
	tcase_add_test(tc, test_real_client);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
htpasswd_suite(void)
{
	Suite *s = suite_create("htpasswd");
	TCase *tc;

	tc = tcase_create("load");
	tcase_add_test(tc, test_htpasswd_methods);
	tcase_add_loop_test(tc, test_htpasswd_bad, 0,
	    sizeof(bad_htpasswd) / sizeof(bad_htpasswd[0]));
	tcase_add_test(tc, test_htpasswd_io);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("basic");
	tcase_add_loop_test(tc, test_parse_basic, 0,
	    sizeof(basics) / sizeof(basics[0]));
	tcase_add_test(tc, test_parse_basic_room);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
bucket_suite(void)
{
	Suite *s = suite_create("bucket");
	TCase *tc;

	tc = tcase_create("rate");
	tcase_add_test(tc, test_rate_parse);
	tcase_add_test(tc, test_bucket_burst_and_refill);
	tcase_add_test(tc, test_bucket_fractional);
	tcase_add_test(tc, test_bucket_clock_and_reload);
	tcase_add_test(tc, test_bucket_full_table);
	tcase_add_test(tc, test_bucket_spread);
	suite_add_tcase(s, tc);
	tc = tcase_create("conn");
	tcase_add_test(tc, test_conn_counts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;
	char cmd[64 + sizeof(tmpdir)];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	sr = srunner_create(cidr_suite());
	srunner_add_suite(sr, htpasswd_suite());
	srunner_add_suite(sr, bucket_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
