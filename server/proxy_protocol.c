/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A strict parser for the PROXY protocol header, versions 1 (a text line)
 * and 2 (binary), as HAProxy's proxy-protocol.txt defines them.  Anything
 * the specification does not allow is refused: the header is the only
 * thing that tells lintel who the client is, so it is never guessed at.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy_protocol.h"

#define V1_PREFIX	"PROXY "
#define V1_PREFIX_LEN	6
#define V2_SIG		"\r\n\r\n\0\r\nQUIT\n"
#define V2_SIG_LEN	12
#define V2_HEAD_LEN	16	/* signature, ver_cmd, fam, len */
#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_TCP4		0x11	/* AF_INET, STREAM */
#define V2_TCP6		0x21	/* AF_INET6, STREAM */
#define V2_IP4_LEN	12	/* two addresses, two ports */
#define V2_IP6_LEN	36
#define TLV_HEAD_LEN	3	/* type, length (2 bytes) */

/* Whether the <len> bytes at <p> begin like the <plen> bytes <prefix>. */
static bool
prefix_ok(const uint8_t *p, size_t len, const char *prefix, size_t plen)
{
	return memcmp(p, prefix, len < plen ? len : plen) == 0;
}

/* A port: 1 to 5 digits, no leading zero (but "0"), at most 65535. */
static bool
v1_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/*
 * The complete version 1 line <line> of <len> bytes, CRLF excluded, its
 * characters already known to be printable.
 */
static lnt_pp_rc_t
v1_line(const char *line, size_t len, lnt_pp_t *pp, const char **why)
{
	char copy[LNT_PP_V1_MAX + 1], *field[6] = { NULL };
	size_t n = 0;
	int af;

	memcpy(copy, line, len);
	copy[len] = '\0';
	/* UNKNOWN: the sender could not tell; the rest of the line is
	 * ignored, as the specification says. */
	if (strncmp(copy, "PROXY UNKNOWN", 13) == 0 &&
	    (copy[13] == '\0' || copy[13] == ' ')) {
		pp->family = AF_UNSPEC;
		return LNT_PP_DONE;
	}
	field[n++] = copy;
	for (char *p = copy; *p != '\0'; p++) {
		if (*p != ' ')
			continue;
		if (n == 6) {
			*why = "PROXY v1: more than 6 fields";
			return LNT_PP_BAD;
		}
		*p = '\0';
		field[n++] = p + 1;
	}
	if (n < 2)	/* never: the line starts with "PROXY " */
		af = AF_UNSPEC;
	else if (strcmp(field[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(field[1], "TCP6") == 0)
		af = AF_INET6;
	else {
		*why = "PROXY v1: expected TCP4, TCP6 or UNKNOWN";
		return LNT_PP_BAD;
	}
	if (n != 6) {
		*why = "PROXY v1: expected 6 fields separated by single spaces";
		return LNT_PP_BAD;
	}
	if (inet_pton(af, field[2], pp->src) != 1) {
		*why = "PROXY v1: bad source address";
		return LNT_PP_BAD;
	}
	if (inet_pton(af, field[3], pp->dst) != 1) {
		*why = "PROXY v1: bad destination address";
		return LNT_PP_BAD;
	}
	if (!v1_port(field[4], &pp->src_port)) {
		*why = "PROXY v1: bad source port";
		return LNT_PP_BAD;
	}
	if (!v1_port(field[5], &pp->dst_port)) {
		*why = "PROXY v1: bad destination port";
		return LNT_PP_BAD;
	}
	pp->family = af;
	return LNT_PP_DONE;
}

/* Version 1: "PROXY ..." up to CRLF, at most LNT_PP_V1_MAX bytes. */
static lnt_pp_rc_t
parse_v1(const uint8_t *p, size_t len, lnt_pp_t *pp, const char **why)
{
	size_t i;

	if (!prefix_ok(p, len, V1_PREFIX, V1_PREFIX_LEN)) {
		*why = "not a PROXY protocol header";
		return LNT_PP_BAD;
	}
	for (i = V1_PREFIX_LEN; i < len && i < LNT_PP_V1_MAX; i++) {
		if (p[i] == '\r')
			break;
		if (p[i] < 0x20 || p[i] > 0x7e) {
			*why = "PROXY v1: invalid character";
			return LNT_PP_BAD;
		}
	}
	if (i == LNT_PP_V1_MAX || (i + 1 == LNT_PP_V1_MAX && i < len)) {
		/* No room left for the CRLF within the limit. */
		*why = "PROXY v1: no CRLF within 107 bytes";
		return LNT_PP_BAD;
	}
	if (i + 1 >= len)
		return LNT_PP_AGAIN;
	if (p[i + 1] != '\n') {
		*why = "PROXY v1: CR not followed by LF";
		return LNT_PP_BAD;
	}
	pp->version = 1;
	pp->len = i + 2;
	return v1_line((const char *)p, i, pp, why);
}

/* Whether <fam> is an address family and transport lintel takes. */
static bool
v2_family_ok(uint8_t fam)
{
	/* UNSPEC (with or without STREAM): no address to use. */
	return fam == 0x00 || fam == 0x01 || fam == V2_TCP4 || fam == V2_TCP6;
}

/* The TLVs after the addresses: each must fit, and they fill the rest. */
static bool
v2_tlvs_ok(const uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t tlen;

		if (len < TLV_HEAD_LEN)
			return false;
		tlen = (size_t)p[1] << 8 | p[2];
		if (tlen > len - TLV_HEAD_LEN)
			return false;
		p += TLV_HEAD_LEN + tlen;
		len -= TLV_HEAD_LEN + tlen;
	}
	return true;
}

/* The whole version 2 PROXY command at <p>, <total> bytes, addresses
 * and TLVs included. */
static lnt_pp_rc_t
v2_addresses(const uint8_t *p, size_t total, lnt_pp_t *pp, const char **why)
{
	const uint8_t *a = p + V2_HEAD_LEN;
	size_t alen, rest = total - V2_HEAD_LEN;

	if (p[13] == V2_TCP4) {
		alen = V2_IP4_LEN;
		memcpy(pp->src, a, 4);
		memcpy(pp->dst, a + 4, 4);
		pp->family = AF_INET;
	} else if (p[13] == V2_TCP6) {
		alen = V2_IP6_LEN;
		memcpy(pp->src, a, 16);
		memcpy(pp->dst, a + 16, 16);
		pp->family = AF_INET6;
	} else {
		/* UNSPEC: the block is the sender's business. */
		pp->family = AF_UNSPEC;
		return LNT_PP_DONE;
	}
	pp->src_port = (uint16_t)(a[alen - 4] << 8 | a[alen - 3]);
	pp->dst_port = (uint16_t)(a[alen - 2] << 8 | a[alen - 1]);
	if (!v2_tlvs_ok(a + alen, rest - alen)) {
		*why = "PROXY v2: malformed TLV";
		return LNT_PP_BAD;
	}
	return LNT_PP_DONE;
}

/* Version 2: signature, version and command, family, length, block. */
static lnt_pp_rc_t
parse_v2(const uint8_t *p, size_t len, lnt_pp_t *pp, const char **why)
{
	size_t total;
	bool local;

	if (!prefix_ok(p, len, V2_SIG, V2_SIG_LEN)) {
		*why = "not a PROXY protocol header";
		return LNT_PP_BAD;
	}
	if (len <= V2_SIG_LEN)
		return LNT_PP_AGAIN;
	if (p[12] >> 4 != 2) {
		*why = "PROXY v2: unsupported version";
		return LNT_PP_BAD;
	}
	if ((p[12] & 0xf) != V2_CMD_LOCAL && (p[12] & 0xf) != V2_CMD_PROXY) {
		*why = "PROXY v2: unknown command";
		return LNT_PP_BAD;
	}
	/* LOCAL (a health check from the balancer itself): the address
	 * block, family included, is to be ignored. */
	local = (p[12] & 0xf) == V2_CMD_LOCAL;
	if (len <= 13)
		return LNT_PP_AGAIN;
	if (!local && !v2_family_ok(p[13])) {
		*why = "PROXY v2: only TCP over IPv4 or IPv6 is supported";
		return LNT_PP_BAD;
	}
	if (len < V2_HEAD_LEN)
		return LNT_PP_AGAIN;
	total = V2_HEAD_LEN + ((size_t)p[14] << 8 | p[15]);
	if (total > LNT_PP_V2_MAX) {
		*why = "PROXY v2: header longer than 1024 bytes";
		return LNT_PP_BAD;
	}
	if (!local && ((p[13] == V2_TCP4 && total < V2_HEAD_LEN + V2_IP4_LEN) ||
	    (p[13] == V2_TCP6 && total < V2_HEAD_LEN + V2_IP6_LEN))) {
		*why = "PROXY v2: address block too short";
		return LNT_PP_BAD;
	}
	if (len < total)
		return LNT_PP_AGAIN;
	pp->version = 2;
	pp->len = total;
	if (local) {
		pp->family = AF_UNSPEC;
		return LNT_PP_DONE;
	}
	return v2_addresses(p, total, pp, why);
}

/* Parse a PROXY protocol header (see proxy_protocol.h). */
lnt_pp_rc_t
lnt_pp_parse(const void *buf, size_t len, lnt_pp_t *pp, const char **why)
{
	const uint8_t *p = buf;

	memset(pp, 0, sizeof(*pp));
	if (len == 0)
		return LNT_PP_AGAIN;
	if (p[0] == 'P')
		return parse_v1(p, len, pp, why);
	if (p[0] == '\r')
		return parse_v2(p, len, pp, why);
	*why = "not a PROXY protocol header";
	return LNT_PP_BAD;
}

/* The source address of <pp> as text (see proxy_protocol.h). */
char *
lnt_pp_src_text(const lnt_pp_t *pp, char *out, size_t size)
{
	if (pp->family != AF_INET && pp->family != AF_INET6)
		return NULL;
	if (inet_ntop(pp->family, pp->src, out, (socklen_t)size) == NULL)
		return NULL;
	return out;
}
