/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Request fields changed by modules.  The parsed request stays as the
 * client sent it (lintel chose the site and route from it); the changes
 * are a list in the request arena that the upstream head and the module
 * API's lookups apply on top of it.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "conn.h"
#include "req_headers.h"

/* Fields lintel writes itself to frame the request: never a module's. */
static const char *const framing[] = {
	"content-length", "transfer-encoding", "connection", "keep-alive",
	"upgrade", "te", "trailer", "proxy-connection",
};

static bool
is_token(const char *p)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*p == '\0')
		return false;
	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr(extra, ch) != NULL))
			return false;
	}
	return true;
}

static bool
valid_value(const char *v)
{
	for (; *v; v++) {
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return false;
	}
	return true;
}

static bool
same_name(lnt_str_t a, const char *b, size_t blen)
{
	return a.len == blen && strncasecmp(a.p, b, blen) == 0;
}

int
lnt_req_hdr_change(lnt_conn_t *c, const char *name, const char *value,
    bool replace)
{
	size_t nlen = strlen(name), vlen = value ? strlen(value) : 0;
	lnt_req_hdr_op_t *op, **tail;
	char *copy;

	if (!is_token(name) || (value != NULL && !valid_value(value)))
		return -1;
	for (size_t i = 0; i < LNT_NELEM(framing); i++) {
		if (strcasecmp(name, framing[i]) == 0)
			return -1;
	}
	/* HTTP/1.1 needs exactly one Host: it may only be replaced. */
	if (strcasecmp(name, "host") == 0 && (!replace || value == NULL))
		return -1;
	op = lnt_arena_alloc(&c->arena, sizeof(*op));
	copy = lnt_arena_alloc(&c->arena, nlen + vlen + 2);
	if (op == NULL || copy == NULL)
		return -1;
	memcpy(copy, name, nlen + 1);
	op->name = (lnt_str_t){ copy, nlen };
	if (value != NULL) {
		memcpy(copy + nlen + 1, value, vlen + 1);
		op->value = copy + nlen + 1;
		op->vlen = vlen;
	}
	op->replace = replace;
	/* In order: a later set replaces what earlier adds brought. */
	for (tail = &c->req_ops; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = op;
	return 0;
}

bool
lnt_req_hdr_replaced(const lnt_conn_t *c, lnt_str_t name)
{
	for (const lnt_req_hdr_op_t *op = c->req_ops; op; op = op->next) {
		if (op->replace && same_name(name, op->name.p, op->name.len))
			return true;
	}
	return false;
}

const char *
lnt_req_hdr_nth(const lnt_conn_t *c, const char *name, unsigned n,
    size_t *len)
{
	size_t nlen = strlen(name);
	const lnt_req_hdr_op_t *from = c->req_ops;
	bool replaced = false;

	/* After the last replacement only its value and later additions
	 * count; without one, the client's fields and then every addition. */
	for (const lnt_req_hdr_op_t *op = c->req_ops; op; op = op->next) {
		if (op->replace && same_name(op->name, name, nlen)) {
			from = op;
			replaced = true;
		}
	}
	for (size_t i = 0; !replaced && i < c->req.nheaders; i++) {
		const lnt_http_header_t *h = &c->req.headers[i];

		if (same_name(h->name, name, nlen) && n-- == 0) {
			*len = h->value.len;
			return h->value.p;
		}
	}
	for (const lnt_req_hdr_op_t *op = from; op; op = op->next) {
		if (op->value != NULL && same_name(op->name, name, nlen) &&
		    n-- == 0) {
			*len = op->vlen;
			return op->value;
		}
	}
	return NULL;
}
