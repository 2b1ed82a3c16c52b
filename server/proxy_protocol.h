/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PROXY protocol (HAProxy's, versions 1 and 2): the header a TCP load
 * balancer sends first on a connection to say which client it carries.
 * A strict parser over bytes, with no I/O, so that the connection code can
 * peek at the socket and consume exactly the header's bytes.
 */
#ifndef LNT_PROXY_PROTOCOL_H
#define LNT_PROXY_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

/* A version 1 line, "PROXY ... \r\n" included, is at most this long. */
#define LNT_PP_V1_MAX		107
/* The longest version 2 header accepted, TLVs included. */
#define LNT_PP_V2_MAX		1024
/* Enough to hold any header accepted (the caller's peek buffer). */
#define LNT_PP_MAX		LNT_PP_V2_MAX

typedef enum lnt_pp_rc {
	LNT_PP_DONE,		/* a whole header: the result is filled */
	LNT_PP_AGAIN,		/* valid so far: more bytes are needed */
	LNT_PP_BAD		/* not a valid header: the reason is set */
} lnt_pp_rc_t;

/* What the header says. */
typedef struct lnt_pp_s {
	size_t		 len;		/* header bytes, to consume */
	int		 version;	/* 1 or 2 */
	int		 family;	/* AF_INET, AF_INET6, or AF_UNSPEC:
					   no address (v1 UNKNOWN, v2 LOCAL
					   or UNSPEC) */
	uint8_t		 src[16];	/* network order; 4 bytes for IPv4 */
	uint8_t		 dst[16];
	uint16_t	 src_port;	/* host order */
	uint16_t	 dst_port;
} lnt_pp_t;

/*
 * Parse the PROXY protocol header at the start of the <len> bytes at
 * <buf>.  Returns LNT_PP_DONE with <*pp> filled (pp->len bytes belong to
 * the header, what follows does not), LNT_PP_AGAIN when <buf> is a valid
 * but incomplete beginning, or LNT_PP_BAD with a static message in <*why>.
 * The verdict depends only on the header's bytes: feeding a header one
 * byte at a time gives AGAIN until the same verdict as feeding it whole.
 */
lnt_pp_rc_t	 lnt_pp_parse(const void *buf, size_t len, lnt_pp_t *pp,
		    const char **why);

/*
 * Format the source address of <pp> (AF_INET or AF_INET6) into <out> of
 * <size> bytes, without the port.  Returns <out>, or NULL when the header
 * carries no address.
 */
char		*lnt_pp_src_text(const lnt_pp_t *pp, char *out, size_t size);

#endif /* LNT_PROXY_PROTOCOL_H */
