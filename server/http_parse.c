/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.x head parsing and chunked decoding (RFC 9110, RFC 9112).  Every
 * line must end in CRLF; obs-fold, bare CR, control characters, whitespace
 * before a colon, conflicting or repeated framing headers are all rejected.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "http_parse.h"

#define MAX_CONTENT_LENGTH	((int64_t)1 << 62)
#define MAX_CHUNK_LINE		4096
#define MAX_TRAILERS		(16 * 1024)

/* RFC 9110 §5.6.2 tchar. */
static const unsigned char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

/*
 * The header names finish_head() acts on.  HDR_HOP: one of the headers
 * that describe one hop and are never forwarded as received (Connection
 * and Transfer-Encoding are such headers too).
 */
typedef enum hdr_kind {
	HDR_OTHER,
	HDR_CONTENT_LENGTH,
	HDR_TRANSFER_ENCODING,
	HDR_CONNECTION,
	HDR_HOST,
	HDR_EXPECT,
	HDR_HOP,		/* keep-alive proxy-connection te trailer
				   upgrade */
} hdr_kind_t;

typedef struct parse_err {
	int		 status;
	const char	*why;
} parse_err_t;

static bool
is_ows(unsigned char ch)
{
	return ch == ' ' || ch == '\t';
}

/* field-vchar, SP, HTAB and obs-text: anything but controls and DEL. */
static bool
is_field_char(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static bool
str_ieq(lnt_str_t s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

static lnt_str_t
trim_ows(const char *p, size_t len)
{
	while (len > 0 && is_ows((unsigned char)p[0])) {
		p++;
		len--;
	}
	while (len > 0 && is_ows((unsigned char)p[len - 1]))
		len--;
	return (lnt_str_t){ p, len };
}

void
lnt_http_msg_init(lnt_http_msg_t *m, bool is_response)
{
	memset(m, 0, offsetof(lnt_http_msg_t, headers));
	m->nheaders = 0;
	m->host = (lnt_str_t){ NULL, 0 };
	m->content_length = -1;
	m->chunked = m->conn_close = m->conn_keepalive = false;
	m->conn_upgrade = m->expect_continue = false;
	m->head_len = 0;
	m->scan = 0;
	m->started = false;
	m->is_response = is_response;
}

/* "HTTP/x.y" into 10 or 11; 505 for other majors, 400 if malformed. */
static int
parse_version(lnt_str_t v, int *version, parse_err_t *err)
{
	if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 ||
	    v.p[5] < '0' || v.p[5] > '9' || v.p[6] != '.' ||
	    v.p[7] < '0' || v.p[7] > '9') {
		*err = (parse_err_t){ 400, "malformed HTTP version" };
		return -1;
	}
	if (v.p[5] != '1') {
		*err = (parse_err_t){ 505, "unsupported HTTP version" };
		return -1;
	}
	*version = v.p[7] == '0' ? 10 : 11;
	return 0;
}

static void
split_query(lnt_http_msg_t *m, lnt_str_t t)
{
	const char *q = memchr(t.p, '?', t.len);

	if (q == NULL) {
		m->path = t;
		m->query = (lnt_str_t){ t.p + t.len, 0 };
	} else {
		m->path = (lnt_str_t){ t.p, (size_t)(q - t.p) };
		m->query = (lnt_str_t){ q + 1, t.len - (size_t)(q - t.p) - 1 };
	}
}

/*
 * absolute-form "http://authority/path": the authority replaces Host
 * (RFC 9112 §3.2.2) and the path is routed as usual.
 */
static int
parse_absolute_form(lnt_http_msg_t *m, lnt_str_t t, parse_err_t *err)
{
	size_t skip;
	const char *slash, *auth;

	if (t.len > 7 && strncasecmp(t.p, "http://", 7) == 0)
		skip = 7;
	else if (t.len > 8 && strncasecmp(t.p, "https://", 8) == 0)
		skip = 8;
	else {
		*err = (parse_err_t){ 400, "invalid request target" };
		return -1;
	}
	auth = t.p + skip;
	slash = memchr(auth, '/', t.len - skip);
	if (slash == NULL) {
		/* No path: the origin-form is "/" (RFC 9112 §3.2.1). */
		m->host = (lnt_str_t){ auth, t.len - skip };
		m->path = LNT_STR("/");
		m->query = (lnt_str_t){ t.p + t.len, 0 };
	} else {
		m->host = (lnt_str_t){ auth, (size_t)(slash - auth) };
		split_query(m, (lnt_str_t){ slash,
		    t.len - (size_t)(slash - t.p) });
	}
	if (m->host.len == 0 || memchr(m->host.p, '@', m->host.len)) {
		*err = (parse_err_t){ 400, "invalid authority in target" };
		return -1;
	}
	return 0;
}

static int
parse_request_line(lnt_http_msg_t *m, const char *p, size_t len,
    parse_err_t *err)
{
	const char *end = p + len, *sp1, *sp2;

	for (sp1 = p; sp1 < end && tchar[(unsigned char)*sp1]; sp1++)
		;
	if (sp1 == p || sp1 == end || *sp1 != ' ') {
		*err = (parse_err_t){ 400, "malformed method" };
		return -1;
	}
	m->method = (lnt_str_t){ p, (size_t)(sp1 - p) };
	for (sp2 = sp1 + 1; sp2 < end; sp2++) {
		unsigned char ch = (unsigned char)*sp2;

		if (ch <= 0x20 || ch == 0x7f)
			break;
	}
	if (sp2 == sp1 + 1 || sp2 == end || *sp2 != ' ') {
		*err = (parse_err_t){ 400, "malformed request target" };
		return -1;
	}
	m->target = (lnt_str_t){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	if (parse_version((lnt_str_t){ sp2 + 1, (size_t)(end - sp2 - 1) },
	    &m->version, err) == -1)
		return -1;
	if (str_ieq(m->method, "CONNECT")) {
		*err = (parse_err_t){ 501, "CONNECT is not supported" };
		return -1;
	}
	if (m->target.p[0] == '/') {
		split_query(m, m->target);
		return 0;
	}
	if (m->target.len == 1 && m->target.p[0] == '*' &&
	    str_ieq(m->method, "OPTIONS")) {
		split_query(m, m->target);
		return 0;
	}
	return parse_absolute_form(m, m->target, err);
}

static int
parse_status_line(lnt_http_msg_t *m, const char *p, size_t len,
    parse_err_t *err)
{
	*err = (parse_err_t){ 502, "malformed status line from upstream" };
	if (len < 12 || p[8] != ' ' ||
	    parse_version((lnt_str_t){ p, 8 }, &m->version, err) == -1) {
		err->status = 502;
		return -1;
	}
	for (int i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
	}
	m->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (m->status < 100 || m->status > 599)
		return -1;
	if (len > 12 && p[12] != ' ')
		return -1;
	m->reason = len > 13 ? (lnt_str_t){ p + 13, len - 13 } :
	    (lnt_str_t){ p + len, 0 };
	for (size_t i = 0; i < m->reason.len; i++) {
		if (!is_field_char((unsigned char)m->reason.p[i]))
			return -1;
	}
	return 0;
}

static int
parse_header_line(lnt_http_msg_t *m, const char *p, size_t len,
    parse_err_t *err)
{
	const char *colon;
	lnt_http_header_t *h;
	int bad = m->is_response ? 502 : 400;

	if (is_ows((unsigned char)p[0])) {
		*err = (parse_err_t){ bad, "obsolete line folding" };
		return -1;
	}
	for (colon = p; colon < p + len && tchar[(unsigned char)*colon];
	    colon++)
		;
	if (colon == p || colon == p + len || *colon != ':') {
		*err = (parse_err_t){ bad, "invalid header name" };
		return -1;
	}
	for (const char *v = colon + 1; v < p + len; v++) {
		if (!is_field_char((unsigned char)*v)) {
			*err = (parse_err_t){ bad, "invalid header value" };
			return -1;
		}
	}
	if (m->nheaders == LNT_HTTP_MAX_HEADERS) {
		*err = (parse_err_t){ m->is_response ? 502 : 431,
		    "too many headers" };
		return -1;
	}
	h = &m->headers[m->nheaders++];
	h->name = (lnt_str_t){ p, (size_t)(colon - p) };
	h->value = trim_ows(colon + 1, len - (size_t)(colon + 1 - p));
	h->hop = false;
	return 0;
}

static int
parse_content_length(lnt_http_msg_t *m, lnt_str_t v, parse_err_t *err)
{
	int64_t n = 0;
	int bad = m->is_response ? 502 : 400;

	if (m->content_length != -1) {
		*err = (parse_err_t){ bad, "repeated Content-Length" };
		return -1;
	}
	if (v.len == 0) {
		*err = (parse_err_t){ bad, "empty Content-Length" };
		return -1;
	}
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9') {
			*err = (parse_err_t){ bad, "invalid Content-Length" };
			return -1;
		}
		/* Checked before it is computed: overflow is undefined. */
		if (n > (MAX_CONTENT_LENGTH - (v.p[i] - '0')) / 10) {
			*err = (parse_err_t){ bad, "Content-Length too large" };
			return -1;
		}
		n = n * 10 + (v.p[i] - '0');
	}
	m->content_length = n;
	return 0;
}

/*
 * Only "chunked" is understood, and it must be the one and final coding:
 * a message that is chunked twice or coded otherwise cannot be framed
 * safely by both sides.
 */
static int
parse_transfer_encoding(lnt_http_msg_t *m, lnt_str_t v, parse_err_t *err)
{
	int bad = m->is_response ? 502 : 400;
	const char *p = v.p, *end = v.p + v.len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		lnt_str_t tok = trim_ows(p, (size_t)((comma ? comma : end) - p));

		p = comma ? comma + 1 : end;
		if (tok.len == 0)
			continue;
		if (!str_ieq(tok, "chunked")) {
			*err = (parse_err_t){ m->is_response ? 502 : 501,
			    "unsupported transfer coding" };
			return -1;
		}
		if (m->chunked) {
			*err = (parse_err_t){ bad, "chunked applied twice" };
			return -1;
		}
		m->chunked = true;
	}
	if (!m->chunked) {
		*err = (parse_err_t){ bad, "empty Transfer-Encoding" };
		return -1;
	}
	return 0;
}

static void
mark_hop(lnt_http_msg_t *m, lnt_str_t name)
{
	for (size_t i = 0; i < m->nheaders; i++) {
		lnt_http_header_t *h = &m->headers[i];

		if (h->name.len == name.len &&
		    strncasecmp(h->name.p, name.p, name.len) == 0)
			h->hop = true;
	}
}

static void
parse_connection(lnt_http_msg_t *m, lnt_str_t v)
{
	const char *p = v.p, *end = v.p + v.len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		lnt_str_t tok = trim_ows(p, (size_t)((comma ? comma : end) - p));

		p = comma ? comma + 1 : end;
		if (tok.len == 0)
			continue;
		if (str_ieq(tok, "close"))
			m->conn_close = true;
		else if (str_ieq(tok, "keep-alive"))
			m->conn_keepalive = true;
		else if (str_ieq(tok, "upgrade"))
			m->conn_upgrade = true;
		/* Every option names a header meant for this hop only. */
		mark_hop(m, tok);
	}
}

static bool
valid_host(lnt_str_t h)
{
	static const char ok[] = "-._~!$&'()*+,;=:[]%";

	for (size_t i = 0; i < h.len; i++) {
		unsigned char ch = (unsigned char)h.p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || (ch && strchr(ok, ch))))
			return false;
	}
	return true;
}

static int
check_host(lnt_http_msg_t *m, size_t nhost, lnt_str_t host, parse_err_t *err)
{
	if (nhost > 1) {
		*err = (parse_err_t){ 400, "repeated Host" };
		return -1;
	}
	if (nhost == 0 && m->version == 11 && m->host.p == NULL) {
		*err = (parse_err_t){ 400, "missing Host" };
		return -1;
	}
	/* An absolute-form target's authority wins over the Host field. */
	if (m->host.p == NULL && nhost == 1)
		m->host = host;
	if (m->host.p != NULL && !valid_host(m->host)) {
		*err = (parse_err_t){ 400, "invalid Host" };
		return -1;
	}
	return 0;
}

/*
 * What header <name> is.  Every header of every message comes through
 * here, so the length picks the one known name it can be (the first
 * letter where two share a length) and one compare settles it.
 */
static hdr_kind_t
header_kind(lnt_str_t name)
{
	switch (name.len) {
	case 2:
		return str_ieq(name, "te") ? HDR_HOP : HDR_OTHER;
	case 4:
		return str_ieq(name, "host") ? HDR_HOST : HDR_OTHER;
	case 6:
		return str_ieq(name, "expect") ? HDR_EXPECT : HDR_OTHER;
	case 7:
		if ((name.p[0] | 0x20) == 't')
			return str_ieq(name, "trailer") ? HDR_HOP : HDR_OTHER;
		return str_ieq(name, "upgrade") ? HDR_HOP : HDR_OTHER;
	case 10:
		if ((name.p[0] | 0x20) == 'c')
			return str_ieq(name, "connection") ? HDR_CONNECTION :
			    HDR_OTHER;
		return str_ieq(name, "keep-alive") ? HDR_HOP : HDR_OTHER;
	case 14:
		return str_ieq(name, "content-length") ? HDR_CONTENT_LENGTH :
		    HDR_OTHER;
	case 16:
		return str_ieq(name, "proxy-connection") ? HDR_HOP : HDR_OTHER;
	case 17:
		return str_ieq(name, "transfer-encoding") ?
		    HDR_TRANSFER_ENCODING : HDR_OTHER;
	default:
		return HDR_OTHER;
	}
}

static int
finish_head(lnt_http_msg_t *m, parse_err_t *err)
{
	int bad = m->is_response ? 502 : 400;
	size_t nhost = 0;
	lnt_str_t host = { NULL, 0 };

	for (size_t i = 0; i < m->nheaders; i++) {
		lnt_http_header_t *h = &m->headers[i];

		switch (header_kind(h->name)) {
		case HDR_CONTENT_LENGTH:
			if (parse_content_length(m, h->value, err) == -1)
				return -1;
			break;
		case HDR_TRANSFER_ENCODING:
			if (parse_transfer_encoding(m, h->value, err) == -1)
				return -1;
			h->hop = true;
			break;
		case HDR_CONNECTION:
			parse_connection(m, h->value);
			h->hop = true;
			break;
		case HDR_HOST:
			nhost++;
			host = h->value;
			break;
		case HDR_EXPECT:
			m->expect_continue = str_ieq(h->value, "100-continue");
			break;
		case HDR_HOP:
			h->hop = true;
			break;
		case HDR_OTHER:
			break;
		}
	}
	if (m->chunked && m->content_length != -1) {
		*err = (parse_err_t){ bad,
		    "both Content-Length and Transfer-Encoding" };
		return -1;
	}
	if (m->chunked && m->version == 10 && !m->is_response) {
		*err = (parse_err_t){ 400, "Transfer-Encoding in HTTP/1.0" };
		return -1;
	}
	if (!m->is_response)
		return check_host(m, nhost, host, err);
	return 0;
}

static int
parse_line(lnt_http_msg_t *m, const char *p, size_t len, parse_err_t *err)
{
	if (!m->started) {
		m->started = true;
		return m->is_response ? parse_status_line(m, p, len, err) :
		    parse_request_line(m, p, len, err);
	}
	return parse_header_line(m, p, len, err);
}

static lnt_http_rc_t
reject(int status, const char *why, int *ostatus, const char **owhy)
{
	*ostatus = status;
	*owhy = why;
	return LNT_HTTP_BAD;
}

lnt_http_rc_t
lnt_http_parse_head(lnt_http_msg_t *m, const char *buf, size_t len,
    size_t max_head, int *status, const char **why)
{
	parse_err_t err;

	if (len > max_head)
		len = max_head;
	while (m->scan < len) {
		const char *line = buf + m->scan;
		const char *lf = memchr(line, '\n', len - m->scan);
		size_t n;

		if (lf == NULL)
			break;
		if (lf == line || lf[-1] != '\r')
			return reject(m->is_response ? 502 : 400,
			    "line not ended by CRLF", status, why);
		n = (size_t)(lf - 1 - line);
		m->scan = (size_t)(lf + 1 - buf);
		if (memchr(line, '\r', n) != NULL)
			return reject(m->is_response ? 502 : 400,
			    "bare CR", status, why);
		if (n == 0 && !m->started && !m->is_response)
			continue;	/* RFC 9112 §2.2: skip a leading CRLF */
		if (n == 0) {
			if (!m->started || finish_head(m, &err) == -1)
				return reject(m->started ? err.status : 502,
				    m->started ? err.why : "empty status line",
				    status, why);
			m->head_len = m->scan;
			return LNT_HTTP_DONE;
		}
		if (parse_line(m, line, n, &err) == -1)
			return reject(err.status, err.why, status, why);
	}
	if (len >= max_head) {
		if (m->is_response)
			return reject(502, "upstream response head too large",
			    status, why);
		return m->started ?
		    reject(431, "request header too large", status, why) :
		    reject(414, "request line too long", status, why);
	}
	return LNT_HTTP_AGAIN;
}

lnt_body_kind_t
lnt_http_request_body(const lnt_http_msg_t *m)
{
	if (m->chunked)
		return LNT_BODY_CHUNKED;
	return m->content_length > 0 ? LNT_BODY_LENGTH : LNT_BODY_NONE;
}

lnt_body_kind_t
lnt_http_response_body(const lnt_http_msg_t *m, bool head_request)
{
	if (head_request || m->status < 200 || m->status == 204 ||
	    m->status == 304)
		return LNT_BODY_NONE;
	if (m->chunked)
		return LNT_BODY_CHUNKED;
	if (m->content_length >= 0)
		return m->content_length ? LNT_BODY_LENGTH : LNT_BODY_NONE;
	return LNT_BODY_CLOSE;
}

const lnt_http_header_t *
lnt_http_header(const lnt_http_msg_t *m, const char *name, size_t len)
{
	for (size_t i = 0; i < m->nheaders; i++) {
		const lnt_http_header_t *h = &m->headers[i];

		if (h->name.len == len && strncasecmp(h->name.p, name, len) == 0)
			return h;
	}
	return NULL;
}

/* Chunked decoding states. */
enum {
	CH_SIZE,		/* hex digits */
	CH_SIZE_WS,		/* BWS after the size: only ';' may follow */
	CH_EXT,			/* chunk extension, up to CR */
	CH_SIZE_LF,		/* CR seen after the size line */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER,		/* start of a trailer line or the final CRLF */
	CH_TRAILER_LINE,
	CH_TRAILER_LF,
	CH_FINAL_LF,
	CH_DONE
};

void
lnt_chunked_init(lnt_chunked_t *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
}

static int
hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One framing byte; returns 1 when the body ended, -1 if invalid. */
static int
chunk_frame_byte(lnt_chunked_t *c, unsigned char ch, const char **why)
{
	int v;

	switch (c->state) {
	case CH_SIZE:
		if ((v = hex_value(ch)) != -1) {
			if (++c->digits > 15)
				return *why = "chunk size too large", -1;
			c->left = c->left * 16 + v;
			return 0;
		}
		if (c->digits == 0)
			return *why = "invalid chunk size", -1;
		if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (ch == ';')
			c->state = CH_EXT;
		else if (is_ows(ch))
			c->state = CH_SIZE_WS;
		else
			return *why = "invalid chunk size", -1;
		c->line = 0;
		return 0;
	case CH_SIZE_WS:
		if (ch == ';')
			c->state = CH_EXT;
		else if (!is_ows(ch))
			return *why = "invalid chunk extension", -1;
		return 0;
	case CH_EXT:
		if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (!is_field_char(ch) || ++c->line > MAX_CHUNK_LINE)
			return *why = "invalid chunk extension", -1;
		return 0;
	case CH_SIZE_LF:
		if (ch != '\n')
			return *why = "chunk size line not ended by CRLF", -1;
		c->state = c->left ? CH_DATA : CH_TRAILER;
		c->digits = 0;
		return 0;
	case CH_DATA_CR:
		if (ch != '\r')
			return *why = "chunk data not followed by CRLF", -1;
		c->state = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (ch != '\n')
			return *why = "chunk data not followed by CRLF", -1;
		c->state = CH_SIZE;
		return 0;
	case CH_TRAILER:
		if (ch == '\r') {
			c->state = CH_FINAL_LF;
			return 0;
		}
		c->state = CH_TRAILER_LINE;
		c->line = 0;
		/* FALLTHROUGH */
	case CH_TRAILER_LINE:
		if (ch == '\r') {
			c->state = CH_TRAILER_LF;
			return 0;
		}
		if (!is_field_char(ch) || ++c->line > MAX_CHUNK_LINE ||
		    ++c->trailers > MAX_TRAILERS)
			return *why = "invalid trailer", -1;
		return 0;
	case CH_TRAILER_LF:
		if (ch != '\n')
			return *why = "trailer not ended by CRLF", -1;
		c->state = CH_TRAILER;
		return 0;
	case CH_FINAL_LF:
		if (ch != '\n')
			return *why = "chunked body not ended by CRLF", -1;
		c->state = CH_DONE;
		return 1;
	default:
		return *why = "data after the chunked body", -1;
	}
}

lnt_chunk_rc_t
lnt_chunked_step(lnt_chunked_t *c, const char *p, size_t len, size_t *n,
    const char **why)
{
	size_t i;

	if (c->state == CH_DATA) {
		size_t take = (int64_t)len < c->left ? len : (size_t)c->left;

		c->left -= (int64_t)take;
		c->total += (int64_t)take;
		if (c->left == 0)
			c->state = CH_DATA_CR;
		*n = take;
		return LNT_CHUNK_DATA;
	}
	for (i = 0; i < len && c->state != CH_DATA; i++) {
		int r = chunk_frame_byte(c, (unsigned char)p[i], why);

		if (r == -1)
			return LNT_CHUNK_BAD;
		if (r == 1) {
			*n = i + 1;
			return LNT_CHUNK_DONE;
		}
	}
	*n = i;
	return LNT_CHUNK_FRAME;
}
