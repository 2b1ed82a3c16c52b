/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The heads the proxy writes: the request sent upstream and the response
 * sent to the client.  Hop-by-hop fields never cross; forwarding fields
 * (Via, X-Forwarded-*, Forwarded) and the site's or route's header rules
 * are applied here.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "http_status.h"
#include "proxy.h"
#include "req_headers.h"
#include "tls.h"

/*
 * Append <fmt> with its arguments to <b> for the conversions the heads use
 * (%s, %.*s, %d, %u): a few head lines per request went through
 * vsnprintf(), the biggest user-space cost of a small proxied request.
 * NULL when <fmt> has another conversion or the text does not fit.
 */
static char *
bput_quick(char *p, char *end, const char *fmt, va_list ap)
{
	while (*fmt != '\0') {
		const char *s;
		char num[24], *q;
		size_t len;
		unsigned long long v;
		bool neg = false;

		if (*fmt != '%') {
			s = fmt;
			fmt = strchrnul(fmt, '%');
			len = (size_t)(fmt - s);
		} else if (fmt[1] == 's') {
			s = va_arg(ap, const char *);
			len = strlen(s);
			fmt += 2;
		} else if (fmt[1] == '.' && fmt[2] == '*' && fmt[3] == 's') {
			int n = va_arg(ap, int);

			s = va_arg(ap, const char *);
			len = n >= 0 ? strnlen(s, (size_t)n) : strlen(s);
			fmt += 4;
		} else if (fmt[1] == 'd' || fmt[1] == 'u') {
			if (fmt[1] == 'd') {
				int d = va_arg(ap, int);

				neg = d < 0;
				v = neg ? -(unsigned long long)d :
				    (unsigned long long)d;
			} else
				v = va_arg(ap, unsigned);
			q = num + sizeof(num);
			do
				*--q = (char)('0' + v % 10);
			while ((v /= 10) > 0);
			if (neg)
				*--q = '-';
			s = q;
			len = (size_t)(num + sizeof(num) - q);
			fmt += 2;
		} else
			return NULL;
		if (len >= (size_t)(end - p))
			return NULL;
		memcpy(p, s, len);
		p += len;
	}
	return p;
}

/* Append formatted text to <b>; -1 if it does not fit. */
static int
bput(lnt_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	p = bput_quick(b->last, b->last + lnt_buf_room(b), fmt, ap);
	va_end(ap);
	if (p != NULL) {
		b->last = p;
		return 0;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->last, lnt_buf_room(b), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= lnt_buf_room(b))
		return -1;
	b->last += n;
	return 0;
}

/* Append "name: value\r\n" without formatting: the hot path of both heads. */
static int
bput_field(lnt_buf_t *b, lnt_str_t name, lnt_str_t value)
{
	size_t need = name.len + value.len + 4;
	char *p = b->last;

	if (need >= lnt_buf_room(b))
		return -1;
	memcpy(p, name.p, name.len);
	p += name.len;
	*p++ = ':';
	*p++ = ' ';
	memcpy(p, value.p, value.len);
	p += value.len;
	*p++ = '\r';
	*p++ = '\n';
	b->last = p;
	return 0;
}

static bool
name_is(lnt_str_t name, const char *lit, size_t len)
{
	return name.len == len && strncasecmp(name.p, lit, len) == 0;
}

#define NAME_IS(name, lit)	name_is((name), (lit), sizeof(lit) - 1)

static bool
in_rules(lnt_str_t name, const lnt_hdr_rule_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (name_is(name, r[i].name, r[i].name_len))
			return true;
	}
	return false;
}

/* A rule replaces (set) or drops (remove) fields of that name. */
static bool
ruled_out(const lnt_hdr_rules_t *rules, lnt_str_t name)
{
	return rules != NULL && (in_rules(name, rules->set, rules->nset) ||
	    in_rules(name, rules->remove, rules->nremove));
}

/* Did a module replace upstream field <name> (lnt_resp_set_header)? */
static bool
module_replaced(const lnt_conn_t *c, lnt_str_t name)
{
	for (unsigned i = 0; i < c->nresp_drop; i++) {
		if (name_is(name, c->resp_drop[i], strlen(c->resp_drop[i])))
			return true;
	}
	return false;
}

/* Write <value> with its $variables expanded for request <c>. */
static int
put_expanded(lnt_buf_t *b, const lnt_conn_t *c, const char *value)
{
	const lnt_http_msg_t *r = &c->req;

	while (*value != '\0') {
		const char *d = strchr(value, '$');
		size_t lit = d ? (size_t)(d - value) : strlen(value);

		if (bput(b, "%.*s", (int)lit, value) == -1)
			return -1;
		value += lit;
		if (d == NULL)
			break;
		if (strncmp(d, "$remote_addr", 12) == 0) {
			if (bput(b, "%s", c->peer) == -1)
				return -1;
			value += 12;
		} else if (strncmp(d, "$host", 5) == 0) {
			if (bput(b, "%.*s", (int)r->host.len, r->host.p) == -1)
				return -1;
			value += 5;
		} else if (strncmp(d, "$scheme", 7) == 0) {
			if (bput(b, "%s", lnt_conn_scheme(c).p) == -1)
				return -1;
			value += 7;
		} else if (strncmp(d, "$request_uri", 12) == 0) {
			if (bput(b, "%.*s", (int)r->target.len,
			    r->target.p) == -1)
				return -1;
			value += 12;
		} else if (strncmp(d, "$proxy_protocol_addr", 20) == 0) {
			/* Empty on a connection without a PROXY header. */
			if (bput(b, "%s", c->pp_addr) == -1)
				return -1;
			value += 20;
		} else if (strncmp(d, "$proxy_protocol_port", 20) == 0) {
			if (c->pp_addr[0] != '\0' &&
			    bput(b, "%u", (unsigned)c->pp_port) == -1)
				return -1;
			value += 20;
		} else {
			/* The loader only accepts the names above. */
			if (bput(b, "$") == -1)
				return -1;
			value++;
		}
	}
	return 0;
}

/* <rules>' fields; for a request, not those a module replaced. */
static int
put_rules(lnt_buf_t *b, const lnt_conn_t *c, const lnt_hdr_rules_t *rules,
    bool request)
{
	if (rules == NULL)
		return 0;
	for (size_t i = 0; i < rules->nset + rules->nadd; i++) {
		const lnt_hdr_rule_t *rule = i < rules->nset ?
		    &rules->set[i] : &rules->add[i - rules->nset];

		if (request && c->req_ops != NULL && lnt_req_hdr_replaced(c,
		    (lnt_str_t){ rule->name, rule->name_len }))
			continue;
		if (bput(b, "%s: ", rule->name) == -1 ||
		    put_expanded(b, c, rule->value) == -1 ||
		    bput(b, "\r\n") == -1)
			return -1;
	}
	return 0;
}

/* Values of every field <name> joined by ", ", then <last>. */
static int
put_joined(lnt_buf_t *b, const lnt_http_msg_t *m, const char *name,
    size_t len, const char *last)
{
	for (size_t i = 0; i < m->nheaders; i++) {
		const lnt_http_header_t *h = &m->headers[i];

		if (name_is(h->name, name, len) && h->value.len > 0 &&
		    bput(b, "%.*s, ", (int)h->value.len, h->value.p) == -1)
			return -1;
	}
	return bput(b, "%s", last);
}

/* RFC 7239 node and host values: quoted unless they are tokens. */
static int
put_forwarded(lnt_buf_t *b, const lnt_conn_t *c)
{
	const lnt_http_msg_t *r = &c->req;
	bool v6 = strchr(c->peer, ':') != NULL;

	if (bput(b, v6 ? "for=\"[%s]\"" : "for=%s", c->peer) == -1)
		return -1;
	if (r->host.len > 0 && bput(b, ";host=\"%.*s\"", (int)r->host.len,
	    r->host.p) == -1)
		return -1;
	return bput(b, ";proto=%s", lnt_conn_scheme(c).p);
}

static unsigned
forward_bits(const lnt_conn_t *c)
{
	return c->site->forward_headers_set ? c->site->forward_headers :
	    LNT_FWD_DEFAULT;
}

/* Is <h> a client field that lintel replaces with its own? */
static bool
replaced_forward(lnt_str_t name, unsigned fwd)
{
	return ((fwd & LNT_FWD_XFF) && NAME_IS(name, "x-forwarded-for")) ||
	    ((fwd & LNT_FWD_XFPROTO) && NAME_IS(name, "x-forwarded-proto")) ||
	    ((fwd & LNT_FWD_XFHOST) && NAME_IS(name, "x-forwarded-host")) ||
	    ((fwd & LNT_FWD_FORWARDED) && NAME_IS(name, "forwarded"));
}

/* The fields a module replaced are its own: lintel adds none of them. */
static unsigned
module_owned_forward(const lnt_conn_t *c, unsigned fwd)
{
	if (c->req_ops == NULL)
		return fwd;
	if (lnt_req_hdr_replaced(c, LNT_STR("via")))
		fwd &= ~(unsigned)LNT_FWD_VIA;
	if (lnt_req_hdr_replaced(c, LNT_STR("x-forwarded-for")))
		fwd &= ~(unsigned)LNT_FWD_XFF;
	if (lnt_req_hdr_replaced(c, LNT_STR("x-forwarded-proto")))
		fwd &= ~(unsigned)LNT_FWD_XFPROTO;
	if (lnt_req_hdr_replaced(c, LNT_STR("x-forwarded-host")))
		fwd &= ~(unsigned)LNT_FWD_XFHOST;
	if (lnt_req_hdr_replaced(c, LNT_STR("forwarded")))
		fwd &= ~(unsigned)LNT_FWD_FORWARDED;
	return fwd;
}

/* Whether a change after <op> replaces its field. */
static bool
later_replaced(const lnt_req_hdr_op_t *op)
{
	for (const lnt_req_hdr_op_t *o = op->next; o != NULL; o = o->next) {
		if (o->replace && name_is(o->name, op->name.p, op->name.len))
			return true;
	}
	return false;
}

/* Fields modules set or added, in the order they did. */
static int
put_module_fields(lnt_buf_t *b, const lnt_conn_t *c)
{
	for (const lnt_req_hdr_op_t *op = c->req_ops; op; op = op->next) {
		if (op->value == NULL || later_replaced(op))
			continue;
		if (bput(b, "%s: %s\r\n", op->name.p, op->value) == -1)
			return -1;
	}
	return 0;
}

static int
put_forward_fields(lnt_buf_t *b, const lnt_conn_t *c, unsigned fwd)
{
	const lnt_http_msg_t *r = &c->req;

	fwd = module_owned_forward(c, fwd);

	if ((fwd & LNT_FWD_VIA) && bput(b, "Via: %s lintel\r\n",
	    r->version == 10 ? "1.0" : "1.1") == -1)
		return -1;
	if ((fwd & LNT_FWD_XFF) && (bput(b, "X-Forwarded-For: ") == -1 ||
	    put_joined(b, r, "x-forwarded-for", 15, c->peer) == -1 ||
	    bput(b, "\r\n") == -1))
		return -1;
	if ((fwd & LNT_FWD_XFPROTO) && bput(b, "X-Forwarded-Proto: %s\r\n",
	    lnt_conn_scheme(c).p) == -1)
		return -1;
	if ((fwd & LNT_FWD_XFHOST) && r->host.len > 0 &&
	    bput(b, "X-Forwarded-Host: %.*s\r\n", (int)r->host.len,
	    r->host.p) == -1)
		return -1;
	if ((fwd & LNT_FWD_FORWARDED) && (bput(b, "Forwarded: ") == -1 ||
	    put_joined(b, r, "forwarded", 9, "") == -1 ||
	    put_forwarded(b, c) == -1 || bput(b, "\r\n") == -1))
		return -1;
	return 0;
}

int
lnt_proxy_request_head(lnt_conn_t *c, lnt_buf_t *b)
{
	const lnt_http_msg_t *r = &c->req;
	const lnt_up_t *u = &c->up;
	const lnt_hdr_rules_t *rules = c->route->request_headers ?
	    c->route->request_headers : c->site->request_headers;
	const char *host = c->route->upstream_host ?
	    c->route->upstream_host : c->site->upstream_host;
	bool absolute = r->target.p[0] != '/' && r->target.p[0] != '*';
	unsigned fwd = forward_bits(c);
	bool host_sent = false;

	if (absolute ? bput(b, "%.*s %.*s%s%.*s HTTP/1.1\r\n",
	    (int)r->method.len, r->method.p, (int)r->path.len, r->path.p,
	    r->query.len ? "?" : "", (int)r->query.len, r->query.p) :
	    bput(b, "%.*s %.*s HTTP/1.1\r\n", (int)r->method.len, r->method.p,
	    (int)r->target.len, r->target.p))
		return -1;
	for (size_t i = 0; i < r->nheaders; i++) {
		const lnt_http_header_t *h = &r->headers[i];
		bool is_host = NAME_IS(h->name, "host");

		if (h->hop || (is_host && (absolute || host != NULL)) ||
		    replaced_forward(h->name, fwd) || ruled_out(rules, h->name) ||
		    lnt_tls_hidden_field(c, h->name) || (c->req_ops != NULL &&
		    lnt_req_hdr_replaced(c, h->name)))
			continue;
		host_sent |= is_host;
		if (bput_field(b, h->name, h->value) == -1)
			return -1;
	}
	/* A module's Host comes with its other fields. */
	host_sent |= c->req_ops != NULL && lnt_req_hdr_replaced(c,
	    LNT_STR("host"));
	if (!host_sent && (host != NULL ? bput(b, "Host: %s\r\n", host) :
	    r->host.len > 0 ? bput(b, "Host: %.*s\r\n", (int)r->host.len,
	    r->host.p) : bput(b, "Host: %s\r\n", u->server->address)) == -1)
		return -1;
	if (put_forward_fields(b, c, fwd) == -1 ||
	    put_rules(b, c, rules, true) == -1 ||
	    lnt_tls_request_fields(c, b) == -1 || put_module_fields(b, c) == -1)
		return -1;
	if (r->chunked && bput(b, "Transfer-Encoding: chunked\r\n") == -1)
		return -1;
	if (u->upgrade) {
		const lnt_http_header_t *up = lnt_http_header(r, "upgrade", 7);

		if (bput(b, "Connection: upgrade\r\nUpgrade: %.*s\r\n",
		    (int)up->value.len, up->value.p) == -1)
			return -1;
	} else if (u->upstream->keepalive == 0 &&
	    bput(b, "Connection: close\r\n") == -1) {
		/* HTTP/1.1 persists by default: say so only to close. */
		return -1;
	}
	return bput(b, "\r\n");
}

int
lnt_proxy_response_head(lnt_conn_t *c, lnt_buf_t *b, bool *keep)
{
	const lnt_up_t *u = &c->up;
	const lnt_http_msg_t *m = &u->resp;
	const lnt_hdr_rules_t *rules = c->route->response_headers ?
	    c->route->response_headers : c->site->response_headers;
	const char *hsts = lnt_tls_hsts(c);
	bool old_client = c->req.version == 10;

	if (bput(b, "HTTP/1.1 %d %.*s\r\n", m->status,
	    m->reason.len ? (int)m->reason.len : -1,
	    m->reason.len ? m->reason.p : lnt_http_reason(m->status)) == -1)
		return -1;
	for (size_t i = 0; i < m->nheaders; i++) {
		const lnt_http_header_t *h = &m->headers[i];

		if (h->hop || ruled_out(rules, h->name) ||
		    module_replaced(c, h->name))
			continue;
		/* Filters change the length: the body is framed anew. */
		if (u->resp_mode == LNT_RESP_FILTER &&
		    NAME_IS(h->name, "content-length"))
			continue;
		if (bput_field(b, h->name, h->value) == -1)
			return -1;
	}
	if ((forward_bits(c) & LNT_FWD_VIA) && bput(b, "Via: %d.%d lintel\r\n",
	    m->version / 10, m->version % 10) == -1)
		return -1;
	if (put_rules(b, c, rules, false) == -1)
		return -1;
	if (c->resp_extra != NULL && bput(b, "%.*s",
	    (int)lnt_buf_len(c->resp_extra), c->resp_extra->pos) == -1)
		return -1;
	/* The upstream's own policy wins over the site's. */
	if (hsts != NULL && lnt_http_header(m, "strict-transport-security",
	    25) == NULL && bput(b, "Strict-Transport-Security: %s\r\n",
	    hsts) == -1)
		return -1;
	if (m->status == 101) {
		const lnt_http_header_t *up = lnt_http_header(m, "upgrade", 7);

		if (bput(b, "Connection: upgrade\r\n") == -1 ||
		    (up != NULL && bput(b, "Upgrade: %.*s\r\n",
		    (int)up->value.len, up->value.p) == -1))
			return -1;
		return bput(b, "\r\n");
	}
	if (u->resp_mode == LNT_RESP_RECHUNK || (u->resp_body ==
	    LNT_BODY_CHUNKED && u->resp_mode == LNT_RESP_PASS) ||
	    (u->resp_mode == LNT_RESP_FILTER && !old_client)) {
		if (bput(b, "Transfer-Encoding: chunked\r\n") == -1)
			return -1;
	}
	if (!*keep && bput(b, "Connection: close\r\n") == -1)
		return -1;
	if (*keep && old_client && bput(b, "Connection: keep-alive\r\n") == -1)
		return -1;
	return bput(b, "\r\n");
}
