/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the HTTP/1.x parser: the input is parsed as a
 * request head (whole, then again one byte at a time, which must agree),
 * then what follows the head is run through the chunked decoder, and the
 * same bytes are parsed as a response head.  Every slice the parser hands
 * back must lie inside the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define MAX_HEAD	8192

static void
check_inside(lnt_str_t s, const uint8_t *data, size_t size)
{
	if (s.p != NULL && (s.p < (const char *)data ||
	    s.p + s.len > (const char *)data + size))
		abort();
}

static void
check_msg(const lnt_http_msg_t *m, const uint8_t *data, size_t size)
{
	check_inside(m->method, data, size);
	check_inside(m->target, data, size);
	check_inside(m->host, data, size);
	for (size_t i = 0; i < m->nheaders; i++) {
		check_inside(m->headers[i].name, data, size);
		check_inside(m->headers[i].value, data, size);
	}
	if (m->head_len > size)
		abort();
}

static void
dechunk(const uint8_t *p, size_t len)
{
	lnt_chunked_t c;
	const char *why;
	size_t n;

	lnt_chunked_init(&c);
	while (len > 0) {
		lnt_chunk_rc_t rc = lnt_chunked_step(&c, (const char *)p, len,
		    &n, &why);

		if (rc == LNT_CHUNK_BAD || rc == LNT_CHUNK_DONE)
			return;
		/* Progress is guaranteed, or a body could hang the proxy. */
		if (n == 0 || n > len)
			abort();
		p += n;
		len -= n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lnt_http_msg_t whole, bytewise, resp;
	lnt_http_rc_t rc1, rc2 = LNT_HTTP_AGAIN;
	int st1 = 0, st2 = 0, st;
	const char *why;

	lnt_http_msg_init(&whole, false);
	rc1 = lnt_http_parse_head(&whole, (const char *)data, size, MAX_HEAD,
	    &st1, &why);
	check_msg(&whole, data, size);
	lnt_http_msg_init(&bytewise, false);
	for (size_t i = 1; i <= size && rc2 == LNT_HTTP_AGAIN; i++)
		rc2 = lnt_http_parse_head(&bytewise, (const char *)data, i,
		    MAX_HEAD, &st2, &why);
	/* Incremental parsing must reach the same verdict. */
	if (rc1 != rc2 || (rc1 == LNT_HTTP_BAD && st1 != st2) ||
	    (rc1 == LNT_HTTP_DONE && whole.head_len != bytewise.head_len))
		abort();
	if (rc1 == LNT_HTTP_DONE)
		dechunk(data + whole.head_len, size - whole.head_len);
	lnt_http_msg_init(&resp, true);
	lnt_http_parse_head(&resp, (const char *)data, size, MAX_HEAD, &st,
	    &why);
	check_msg(&resp, data, size);
	return 0;
}
