/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for conf_value.c: durations, sizes and addresses, good values,
 * each kind of error and overflow.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conf_value.h"

static const struct {
	const char	*in;
	lnt_msec_t	 ms;
} good_durations[] = {
	{ "250ms",	250 },
	{ "30s",	30000 },
	{ "5m",		300000 },
	{ "1h",		3600000 },
	{ "1d",		86400000 },
	{ "1h30m",	5400000 },
	{ "1d2h3m4s5ms", 93784005 },
	{ "0s",		0 },
	{ "1m500ms",	60500 },
	{ "106751991167d", 106751991167LL * 86400000 },
};

START_TEST(duration_good)
{
	lnt_msec_t ms = -1;
	const char *err;

	err = lnt_parse_duration(good_durations[_i].in, &ms);
	ck_assert_msg(err == NULL, "%s: %s", good_durations[_i].in, err);
	ck_assert_int_eq(ms, good_durations[_i].ms);
}
END_TEST

static const struct {
	const char	*in;
	const char	*err;
} bad_durations[] = {
	{ "",		"expected a duration such as \"30s\", \"250ms\" or "
			"\"1h30m\"" },
	{ "s",		"expected a duration such as \"30s\", \"250ms\" or "
			"\"1h30m\"" },
	{ "-5s",	"expected a duration such as \"30s\", \"250ms\" or "
			"\"1h30m\"" },
	{ "1.5s",	"expected a unit (ms, s, m, h or d) after each "
			"number" },
	{ "30",		"expected a unit (ms, s, m, h or d) after each "
			"number" },
	{ "5x",		"expected a unit (ms, s, m, h or d) after each "
			"number" },
	{ "5 s",	"expected a unit (ms, s, m, h or d) after each "
			"number" },
	{ "30m1h",	"expected each unit once, largest first "
			"(d, h, m, s, ms)" },
	{ "1s1s",	"expected each unit once, largest first "
			"(d, h, m, s, ms)" },
	{ "1h30",	"expected a unit (ms, s, m, h or d) after each "
			"number" },
	{ "99999999999999999999s", "duration is too large" },
	{ "106751991168d", "duration is too large" },
	{ "106751991167d1d", "expected each unit once, largest first "
			"(d, h, m, s, ms)" },
	{ "9223372036854775807ms1ms", "expected each unit once, largest "
			"first (d, h, m, s, ms)" },
	{ "9223372036854775s1000ms", "duration is too large" },
};

START_TEST(duration_bad)
{
	lnt_msec_t ms = 42;
	const char *err;

	err = lnt_parse_duration(bad_durations[_i].in, &ms);
	ck_assert_msg(err != NULL, "%s accepted", bad_durations[_i].in);
	ck_assert_str_eq(err, bad_durations[_i].err);
	ck_assert_int_eq(ms, 42);
}
END_TEST

static const struct {
	const char	*in;
	int64_t		 bytes;
} good_sizes[] = {
	{ "0",		0 },
	{ "512",	512 },
	{ "16k",	16384 },
	{ "16K",	16384 },
	{ "10m",	10485760 },
	{ "10M",	10485760 },
	{ "2g",		2147483648LL },
	{ "2G",		2147483648LL },
	{ "8589934591g", 8589934591LL * 1073741824 },
	{ "9223372036854775807", INT64_MAX },
};

START_TEST(size_good)
{
	int64_t v = -1;
	const char *err;

	err = lnt_parse_size(good_sizes[_i].in, &v);
	ck_assert_msg(err == NULL, "%s: %s", good_sizes[_i].in, err);
	ck_assert_int_eq(v, good_sizes[_i].bytes);
}
END_TEST

#define SIZE_SYNTAX \
	"expected a size such as \"16k\", \"10m\", \"2g\" or a number of bytes"
#define SIZE_UNIT	"expected a size unit k, m or g after the number"

static const struct {
	const char	*in;
	const char	*err;
} bad_sizes[] = {
	{ "",		SIZE_SYNTAX },
	{ "k",		SIZE_SYNTAX },
	{ "-1",		SIZE_SYNTAX },
	{ " 1k",	SIZE_SYNTAX },
	{ "1.5k",	SIZE_UNIT },
	{ "1kb",	SIZE_UNIT },
	{ "1t",		SIZE_UNIT },
	{ "1 k",	SIZE_UNIT },
	{ "8589934592g", "size is too large" },
	{ "9223372036854775808", "size is too large" },
	{ "9007199254740992k", "size is too large" },
};

START_TEST(size_bad)
{
	int64_t v = 42;
	const char *err;

	err = lnt_parse_size(bad_sizes[_i].in, &v);
	ck_assert_msg(err != NULL, "%s accepted", bad_sizes[_i].in);
	ck_assert_str_eq(err, bad_sizes[_i].err);
	ck_assert_int_eq(v, 42);
}
END_TEST

static const struct {
	const char	*in;
	const char	*formatted;
} good_addrs[] = {
	{ "1.2.3.4:80",		"1.2.3.4:80" },
	{ "127.0.0.1:65535",	"127.0.0.1:65535" },
	{ "*:80",		"0.0.0.0:80" },
	{ "0.0.0.0:8080",	"0.0.0.0:8080" },
	{ "[::1]:80",		"[::1]:80" },
	{ "[::]:443",		"[::]:443" },
	{ "[2001:DB8::1]:1",	"[2001:db8::1]:1" },
};

START_TEST(addr_good)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char buf[64], errbuf[128];
	const char *err;

	err = lnt_parse_addr(good_addrs[_i].in, false, &ss, &len, errbuf,
	    sizeof(errbuf));
	ck_assert_msg(err == NULL, "%s: %s", good_addrs[_i].in, err);
	ck_assert_uint_eq(len, ss.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	lnt_addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, good_addrs[_i].formatted);
}
END_TEST

#define ADDR_SYNTAX	"expected ADDRESS:PORT, as in \"127.0.0.1:80\""
#define ADDR_PORT	"expected a port from 1 to 65535 after the ':'"
#define ADDR_V6		"expected an IPv6 address in brackets, as in " \
			"\"[::1]:80\""
#define ADDR_HOST	"expected an IPv4 address, an [IPv6] address or '*' " \
			"before the port"

static const struct {
	const char	*in;
	const char	*err;
} bad_addrs[] = {
	{ "",			ADDR_SYNTAX },
	{ "1.2.3.4",		ADDR_SYNTAX },
	{ ":80",		ADDR_SYNTAX },
	{ "1.2.3.4:",		ADDR_PORT },
	{ "1.2.3.4:0",		ADDR_PORT },
	{ "1.2.3.4:65536",	ADDR_PORT },
	{ "1.2.3.4:99999999999999999999", ADDR_PORT },
	{ "1.2.3.4:8o",		ADDR_PORT },
	{ "1.2.3.4:-1",		ADDR_PORT },
	{ "::1:80",		ADDR_V6 },
	{ "[::1:80",		ADDR_V6 },
	{ "[]:80",		ADDR_V6 },
	{ "[1.2.3.4]:80",	ADDR_V6 },
	{ "1.2.3.256:80",	ADDR_HOST },
	{ "localhost:80",	ADDR_HOST },
};

START_TEST(addr_bad)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char errbuf[128];
	const char *err;

	err = lnt_parse_addr(bad_addrs[_i].in, false, &ss, &len, errbuf,
	    sizeof(errbuf));
	ck_assert_msg(err != NULL, "%s accepted", bad_addrs[_i].in);
	ck_assert_str_eq(err, bad_addrs[_i].err);
}
END_TEST

START_TEST(addr_resolve)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64], errbuf[256];
	const char *err;

	/* "localhost" is in /etc/hosts on any machine that runs tests. */
	err = lnt_parse_addr("localhost:8080", true, &ss, &len, errbuf,
	    sizeof(errbuf));
	ck_assert_msg(err == NULL, "%s", err);
	lnt_addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, "127.0.0.1:8080") == 0 ||
	    strcmp(buf, "[::1]:8080") == 0, "%s", buf);

	/* .invalid never resolves (RFC 2606); the message names the host. */
	err = lnt_parse_addr("nosuch.invalid:80", true, &ss, &len, errbuf,
	    sizeof(errbuf));
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_eq(err, errbuf);
	ck_assert_msg(strncmp(err, "cannot resolve 'nosuch.invalid': ",
	    33) == 0, "%s", err);
	ck_assert_uint_gt(strlen(err), 33);

	/* A numeric address never needs the resolver. */
	err = lnt_parse_addr("[::1]:1", true, &ss, &len, errbuf,
	    sizeof(errbuf));
	ck_assert_ptr_null(err);
}
END_TEST

START_TEST(addr_format_small)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[8];

	ck_assert_ptr_null(lnt_parse_addr("[2001:db8::1]:8080", false, &ss,
	    &len, NULL, 0));
	lnt_addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[2001:d");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	lnt_addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "?");
}
END_TEST

static Suite *
conf_value_suite(void)
{
	Suite *s = suite_create("conf_value");
	TCase *tc;

	tc = tcase_create("duration");
	tcase_add_loop_test(tc, duration_good, 0,
	    (int)(sizeof(good_durations) / sizeof(good_durations[0])));
	tcase_add_loop_test(tc, duration_bad, 0,
	    (int)(sizeof(bad_durations) / sizeof(bad_durations[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("size");
	tcase_add_loop_test(tc, size_good, 0,
	    (int)(sizeof(good_sizes) / sizeof(good_sizes[0])));
	tcase_add_loop_test(tc, size_bad, 0,
	    (int)(sizeof(bad_sizes) / sizeof(bad_sizes[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("addr");
	tcase_add_loop_test(tc, addr_good, 0,
	    (int)(sizeof(good_addrs) / sizeof(good_addrs[0])));
	tcase_add_loop_test(tc, addr_bad, 0,
	    (int)(sizeof(bad_addrs) / sizeof(bad_addrs[0])));
	tcase_add_test(tc, addr_resolve);
	tcase_add_test(tc, addr_format_small);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(conf_value_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
