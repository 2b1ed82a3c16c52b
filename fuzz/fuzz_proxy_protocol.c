/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the PROXY protocol parser: the input is parsed
 * whole, then again one byte at a time, which must reach the same verdict
 * (same reason, same header length and result) at the header's last byte.
 * A header never claims more bytes than it was given, nor more than the
 * limit the connection's peek buffer holds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lnt_pp_t whole, part;
	const char *why1 = NULL, *why2 = NULL;
	lnt_pp_rc_t rc1, rc2 = LNT_PP_AGAIN;
	size_t i;
	char text[64];

	rc1 = lnt_pp_parse(data, size, &whole, &why1);
	if (rc1 == LNT_PP_DONE && (whole.len > size || whole.len == 0 ||
	    whole.len > LNT_PP_MAX))
		abort();
	if (rc1 == LNT_PP_AGAIN && size >= LNT_PP_MAX)
		abort();	/* a header must be decided within the limit */
	if (rc1 == LNT_PP_BAD && why1 == NULL)
		abort();
	for (i = 0; i <= size && rc2 == LNT_PP_AGAIN; i++)
		rc2 = lnt_pp_parse(data, i, &part, &why2);
	if (rc1 != rc2 || (rc1 == LNT_PP_BAD && strcmp(why1, why2) != 0))
		abort();
	if (rc1 == LNT_PP_DONE && (i - 1 != whole.len ||
	    memcmp(&whole, &part, sizeof(whole)) != 0))
		abort();
	if (rc1 == LNT_PP_DONE && (whole.family == AF_INET ||
	    whole.family == AF_INET6) &&
	    lnt_pp_src_text(&whole, text, sizeof(text)) == NULL)
		abort();
	return 0;
}
