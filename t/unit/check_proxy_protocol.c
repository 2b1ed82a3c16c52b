/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the PROXY protocol parser, versions 1 and 2. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy_protocol.h"

#define V2_SIG		"\r\n\r\n\0\r\nQUIT\n"

/* A test input: bytes with an explicit length (v2 holds NULs). */
struct input {
	const char	*bytes;
	size_t		 len;
};

#define IN(lit)		{ (lit), sizeof(lit) - 1 }

static lnt_pp_rc_t
parse(const void *buf, size_t len, lnt_pp_t *pp, const char **why)
{
	*why = NULL;
	return lnt_pp_parse(buf, len, pp, why);
}

/*
 * Feeding <len> bytes one at a time: AGAIN until the whole-input verdict,
 * which must be the same (and the same reason, the same header length).
 */
static void
check_bytewise(const void *buf, size_t len)
{
	lnt_pp_t whole, part;
	const char *why_whole, *why_part = NULL;
	lnt_pp_rc_t rc_whole = parse(buf, len, &whole, &why_whole);
	lnt_pp_rc_t rc = LNT_PP_AGAIN;
	size_t i;

	for (i = 0; i <= len && rc == LNT_PP_AGAIN; i++)
		rc = parse(buf, i, &part, &why_part);
	ck_assert_int_eq(rc, rc_whole);
	if (rc == LNT_PP_BAD)
		ck_assert_str_eq(why_part, why_whole);
	if (rc == LNT_PP_DONE) {
		ck_assert_uint_eq(part.len, whole.len);
		/* The verdict came with the header's last byte (the loop
		 * counted one past it). */
		ck_assert_uint_eq(i - 1, whole.len);
		ck_assert(memcmp(&part, &whole, sizeof(part)) == 0);
	}
}

static const char *
src_text(const lnt_pp_t *pp)
{
	static char buf[64];

	return lnt_pp_src_text(pp, buf, sizeof(buf));
}

static const char *
dst_text(const lnt_pp_t *pp)
{
	static char buf[64];

	return inet_ntop(pp->family, pp->dst, buf, sizeof(buf));
}

/* --- version 1 -------------------------------------------------------- */

START_TEST(test_v1_tcp4)
{
	static const char in[] = "PROXY TCP4 192.0.2.10 198.51.100.1 "
	    "56324 443\r\nGET / HTTP/1.1\r\n";
	lnt_pp_t pp;
	const char *why;

	ck_assert_int_eq(parse(in, strlen(in), &pp, &why), LNT_PP_DONE);
	ck_assert_int_eq(pp.version, 1);
	ck_assert_int_eq(pp.family, AF_INET);
	/* Only the header: the request after it is not consumed. */
	ck_assert_uint_eq(pp.len, strlen("PROXY TCP4 192.0.2.10 198.51.100.1 "
	    "56324 443\r\n"));
	ck_assert_str_eq(src_text(&pp), "192.0.2.10");
	ck_assert_str_eq(dst_text(&pp), "198.51.100.1");
	ck_assert_uint_eq(pp.src_port, 56324);
	ck_assert_uint_eq(pp.dst_port, 443);
	check_bytewise(in, strlen(in));
}
END_TEST

START_TEST(test_v1_tcp6)
{
	static const char in[] = "PROXY TCP6 2001:db8::1 2001:db8::2 0 65535"
	    "\r\n";
	lnt_pp_t pp;
	const char *why;

	ck_assert_int_eq(parse(in, strlen(in), &pp, &why), LNT_PP_DONE);
	ck_assert_int_eq(pp.family, AF_INET6);
	ck_assert_str_eq(src_text(&pp), "2001:db8::1");
	ck_assert_str_eq(dst_text(&pp), "2001:db8::2");
	ck_assert_uint_eq(pp.src_port, 0);
	ck_assert_uint_eq(pp.dst_port, 65535);
	ck_assert_uint_eq(pp.len, strlen(in));
	check_bytewise(in, strlen(in));
}
END_TEST

START_TEST(test_v1_unknown)
{
	static const char *const ok[] = {
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
		"PROXY UNKNOWN whatever the sender says\r\n",
	};
	lnt_pp_t pp;
	const char *why;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(parse(ok[i], strlen(ok[i]), &pp, &why),
		    LNT_PP_DONE);
		ck_assert_int_eq(pp.family, AF_UNSPEC);
		ck_assert_uint_eq(pp.len, strlen(ok[i]));
		ck_assert_ptr_null(src_text(&pp));
		check_bytewise(ok[i], strlen(ok[i]));
	}
}
END_TEST

/* The longest line allowed is 107 bytes, CRLF included. */
START_TEST(test_v1_length_limit)
{
	char line[200];
	lnt_pp_t pp;
	const char *why;
	size_t n;

	/* "PROXY UNKNOWN " and padding up to exactly 105 bytes, CRLF. */
	n = (size_t)snprintf(line, sizeof(line), "PROXY UNKNOWN ");
	memset(line + n, 'x', 105 - n);
	memcpy(line + 105, "\r\n", 2);
	ck_assert_int_eq(parse(line, 107, &pp, &why), LNT_PP_DONE);
	ck_assert_uint_eq(pp.len, 107);
	check_bytewise(line, 107);
	/* One more byte and the CRLF no longer fits. */
	memset(line + n, 'x', 106 - n);
	memcpy(line + 106, "\r\n", 2);
	ck_assert_int_eq(parse(line, 108, &pp, &why), LNT_PP_BAD);
	ck_assert_str_eq(why, "PROXY v1: no CRLF within 107 bytes");
	check_bytewise(line, 108);
	/* No CRLF at all: refused once 107 bytes are in. */
	memset(line + n, 'x', sizeof(line) - n);
	ck_assert_int_eq(parse(line, 106, &pp, &why), LNT_PP_AGAIN);
	ck_assert_int_eq(parse(line, 107, &pp, &why), LNT_PP_BAD);
	check_bytewise(line, sizeof(line));
}
END_TEST

static const struct {
	const char	*in;
	const char	*why;
} v1_bad[] = {
	{ "GET / HTTP/1.1\r\n\r\n", "not a PROXY protocol header" },
	{ "PROXY\r\n", "not a PROXY protocol header" },
	{ "PROXy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	  "not a PROXY protocol header" },
	{ "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
	  "PROXY v1: expected TCP4, TCP6 or UNKNOWN" },
	{ "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
	  "PROXY v1: expected TCP4, TCP6 or UNKNOWN" },
	{ "PROXY \r\n", "PROXY v1: expected TCP4, TCP6 or UNKNOWN" },
	{ "PROXY UNKNOWNX\r\n", "PROXY v1: expected TCP4, TCP6 or UNKNOWN" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
	  "PROXY v1: expected 6 fields separated by single spaces" },
	{ "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
	  "PROXY v1: more than 6 fields" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
	  "PROXY v1: more than 6 fields" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
	  "PROXY v1: more than 6 fields" },
	{ "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
	  "PROXY v1: invalid character" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
	  "PROXY v1: invalid character" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
	  "PROXY v1: CR not followed by LF" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
	  "PROXY v1: CR not followed by LF" },
	{ "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "PROXY v1: bad source address" },
	{ "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
	  "PROXY v1: bad source address" },
	{ "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "PROXY v1: bad source address" },
	{ "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "PROXY v1: bad source address" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n",
	  "PROXY v1: bad destination address" },
	{ "PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n",
	  "PROXY v1: bad destination address" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
	  "PROXY v1: bad source port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", "PROXY v1: bad source port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "PROXY v1: bad source port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "PROXY v1: bad source port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n",
	  "PROXY v1: bad destination port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n",
	  "PROXY v1: bad destination port" },
};

START_TEST(test_v1_bad)
{
	const char *in = v1_bad[_i].in;
	lnt_pp_t pp;
	const char *why;

	ck_assert_msg(parse(in, strlen(in), &pp, &why) == LNT_PP_BAD,
	    "accepted: %s", in);
	ck_assert_str_eq(why, v1_bad[_i].why);
	check_bytewise(in, strlen(in));
}
END_TEST

/* --- version 2 -------------------------------------------------------- */

/* A v2 header into <out>: <ver_cmd>, <fam>, then <blen> bytes of <block>. */
static size_t
v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const void *block,
    size_t blen)
{
	memcpy(out, V2_SIG, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	if (blen > 0)
		memcpy(out + 16, block, blen);
	return 16 + blen;
}

static const uint8_t ip4_block[] = {
	192, 0, 2, 10,  198, 51, 100, 1,  0xdc, 0x04,  0x01, 0xbb
};

START_TEST(test_v2_tcp4)
{
	uint8_t buf[64];
	size_t n = v2(buf, 0x21, 0x11, ip4_block, sizeof(ip4_block));
	lnt_pp_t pp;
	const char *why;

	memcpy(buf + n, "GET", 3);
	ck_assert_int_eq(parse(buf, n + 3, &pp, &why), LNT_PP_DONE);
	ck_assert_int_eq(pp.version, 2);
	ck_assert_int_eq(pp.family, AF_INET);
	ck_assert_uint_eq(pp.len, 28);
	ck_assert_str_eq(src_text(&pp), "192.0.2.10");
	ck_assert_str_eq(dst_text(&pp), "198.51.100.1");
	ck_assert_uint_eq(pp.src_port, 56324);
	ck_assert_uint_eq(pp.dst_port, 443);
	check_bytewise(buf, n + 3);
}
END_TEST

START_TEST(test_v2_tcp6_tlvs)
{
	uint8_t block[64], buf[128];
	size_t n;
	lnt_pp_t pp;
	const char *why;

	memset(block, 0, sizeof(block));
	inet_pton(AF_INET6, "2001:db8::7", block);
	inet_pton(AF_INET6, "2001:db8::8", block + 16);
	block[32] = 0x30; block[33] = 0x39;	/* 12345 */
	block[34] = 0x00; block[35] = 0x50;	/* 80 */
	/* Two TLVs: ALPN "h2" and a NOOP of length 0; skipped. */
	memcpy(block + 36, "\x01\x00\x02h2\x04\x00\x00", 8);
	n = v2(buf, 0x21, 0x21, block, 44);
	ck_assert_int_eq(parse(buf, n, &pp, &why), LNT_PP_DONE);
	ck_assert_int_eq(pp.family, AF_INET6);
	ck_assert_uint_eq(pp.len, 60);
	ck_assert_str_eq(src_text(&pp), "2001:db8::7");
	ck_assert_str_eq(dst_text(&pp), "2001:db8::8");
	ck_assert_uint_eq(pp.src_port, 12345);
	ck_assert_uint_eq(pp.dst_port, 80);
	check_bytewise(buf, n);
}
END_TEST

START_TEST(test_v2_local_unspec)
{
	uint8_t buf[64];
	size_t n;
	lnt_pp_t pp;
	const char *why;

	/* LOCAL: no address, whatever the block says. */
	n = v2(buf, 0x20, 0x00, NULL, 0);
	ck_assert_int_eq(parse(buf, n, &pp, &why), LNT_PP_DONE);
	ck_assert_int_eq(pp.family, AF_UNSPEC);
	ck_assert_uint_eq(pp.len, 16);
	ck_assert_ptr_null(src_text(&pp));
	check_bytewise(buf, n);
	n = v2(buf, 0x20, 0x31, "junk", 4);	/* AF_UNIX, ignored */
	ck_assert_int_eq(parse(buf, n, &pp, &why), LNT_PP_DONE);
	ck_assert_int_eq(pp.family, AF_UNSPEC);
	ck_assert_uint_eq(pp.len, 20);
	check_bytewise(buf, n);
	/* PROXY with UNSPEC: no address either. */
	n = v2(buf, 0x21, 0x00, "abc", 3);
	ck_assert_int_eq(parse(buf, n, &pp, &why), LNT_PP_DONE);
	ck_assert_int_eq(pp.family, AF_UNSPEC);
	ck_assert_uint_eq(pp.len, 19);
	check_bytewise(buf, n);
}
END_TEST

START_TEST(test_v2_bad)
{
	uint8_t buf[LNT_PP_V2_MAX + 64], block[LNT_PP_V2_MAX];
	size_t n;
	lnt_pp_t pp;
	const char *why;

#define BAD(len, reason) do {						\
		ck_assert_int_eq(parse(buf, (len), &pp, &why), LNT_PP_BAD); \
		ck_assert_str_eq(why, (reason));			\
		check_bytewise(buf, (len));				\
	} while (0)

	memset(block, 0, sizeof(block));
	n = v2(buf, 0x21, 0x11, ip4_block, sizeof(ip4_block));
	buf[11] = 'X';				/* signature */
	BAD(n, "not a PROXY protocol header");
	n = v2(buf, 0x11, 0x11, ip4_block, sizeof(ip4_block));
	BAD(n, "PROXY v2: unsupported version");
	n = v2(buf, 0x31, 0x11, ip4_block, sizeof(ip4_block));
	BAD(n, "PROXY v2: unsupported version");
	n = v2(buf, 0x22, 0x11, ip4_block, sizeof(ip4_block));
	BAD(n, "PROXY v2: unknown command");
	n = v2(buf, 0x21, 0x12, ip4_block, sizeof(ip4_block));	/* UDP */
	BAD(n, "PROXY v2: only TCP over IPv4 or IPv6 is supported");
	n = v2(buf, 0x21, 0x31, block, 216);			/* UNIX */
	BAD(n, "PROXY v2: only TCP over IPv4 or IPv6 is supported");
	n = v2(buf, 0x21, 0x10, ip4_block, sizeof(ip4_block));
	BAD(n, "PROXY v2: only TCP over IPv4 or IPv6 is supported");
	n = v2(buf, 0x21, 0x41, ip4_block, sizeof(ip4_block));
	BAD(n, "PROXY v2: only TCP over IPv4 or IPv6 is supported");
	n = v2(buf, 0x21, 0x11, ip4_block, 11);
	BAD(n, "PROXY v2: address block too short");
	n = v2(buf, 0x21, 0x21, block, 35);
	BAD(n, "PROXY v2: address block too short");
	n = v2(buf, 0x21, 0x11, block, LNT_PP_V2_MAX - 15);
	BAD(n, "PROXY v2: header longer than 1024 bytes");
	n = v2(buf, 0x20, 0x00, block, LNT_PP_V2_MAX - 15);	/* LOCAL too */
	BAD(n, "PROXY v2: header longer than 1024 bytes");
	/* TLVs: a truncated TLV head, a length past the end. */
	memcpy(block, ip4_block, 12);
	memcpy(block + 12, "\x04\x00", 2);
	n = v2(buf, 0x21, 0x11, block, 14);
	BAD(n, "PROXY v2: malformed TLV");
	memcpy(block + 12, "\x04\x00\x05xxxx", 7);
	n = v2(buf, 0x21, 0x11, block, 19);
	BAD(n, "PROXY v2: malformed TLV");
#undef BAD
}
END_TEST

/* The largest header allowed goes through, TLVs and all. */
START_TEST(test_v2_limit)
{
	uint8_t buf[LNT_PP_V2_MAX + 8], block[LNT_PP_V2_MAX];
	size_t n, tlv = LNT_PP_V2_MAX - 16 - 12 - 3;
	lnt_pp_t pp;
	const char *why;

	memcpy(block, ip4_block, 12);
	block[12] = 0x04;			/* NOOP */
	block[13] = (uint8_t)(tlv >> 8);
	block[14] = (uint8_t)tlv;
	memset(block + 15, 'z', tlv);
	n = v2(buf, 0x21, 0x11, block, LNT_PP_V2_MAX - 16);
	ck_assert_uint_eq(n, LNT_PP_V2_MAX);
	ck_assert_int_eq(parse(buf, n, &pp, &why), LNT_PP_DONE);
	ck_assert_uint_eq(pp.len, LNT_PP_V2_MAX);
	ck_assert_str_eq(src_text(&pp), "192.0.2.10");
	check_bytewise(buf, n);
}
END_TEST

START_TEST(test_partial)
{
	uint8_t buf[64];
	size_t n = v2(buf, 0x21, 0x11, ip4_block, sizeof(ip4_block));
	lnt_pp_t pp;
	const char *why;

	/* Nothing yet, or any proper beginning of a header: need more. */
	ck_assert_int_eq(parse("", 0, &pp, &why), LNT_PP_AGAIN);
	ck_assert_int_eq(parse("P", 1, &pp, &why), LNT_PP_AGAIN);
	ck_assert_int_eq(parse("PROXY TCP4 1.2", 14, &pp, &why),
	    LNT_PP_AGAIN);
	ck_assert_int_eq(parse("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 31, &pp,
	    &why), LNT_PP_AGAIN);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(parse(buf, i, &pp, &why), LNT_PP_AGAIN);
	ck_assert_int_eq(parse(buf, n, &pp, &why), LNT_PP_DONE);
	/* A first byte that starts neither version: refused at once. */
	ck_assert_int_eq(parse("G", 1, &pp, &why), LNT_PP_BAD);
	ck_assert_int_eq(parse("\x16\x03\x01", 3, &pp, &why), LNT_PP_BAD);
	ck_assert_int_eq(parse("\r\n\r\nX", 5, &pp, &why), LNT_PP_BAD);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxy_protocol");
	TCase *v1 = tcase_create("v1");
	TCase *tc2 = tcase_create("v2");
	SRunner *sr;
	int failed;

	tcase_add_test(v1, test_v1_tcp4);
	tcase_add_test(v1, test_v1_tcp6);
	tcase_add_test(v1, test_v1_unknown);
	tcase_add_test(v1, test_v1_length_limit);
	tcase_add_loop_test(v1, test_v1_bad, 0,
	    (int)(sizeof(v1_bad) / sizeof(v1_bad[0])));
	tcase_add_test(tc2, test_v2_tcp4);
	tcase_add_test(tc2, test_v2_tcp6_tlvs);
	tcase_add_test(tc2, test_v2_local_unspec);
	tcase_add_test(tc2, test_v2_bad);
	tcase_add_test(tc2, test_v2_limit);
	tcase_add_test(tc2, test_partial);
	suite_add_tcase(s, v1);
	suite_add_tcase(s, tc2);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
