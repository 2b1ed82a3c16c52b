/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS connections over OpenSSL, behind the lnt_io_t table so the HTTP code
 * moves bytes the same way as on plain sockets.  SSL_read and SSL_write
 * report "would block" as EAGAIN; when one of them waits for the other
 * direction (a read that must write, say), the connection is told through
 * events(), which turns that readiness into the one the caller waits for.
 * A handshake is chosen by SNI among the sites of the listener in the
 * ClientHello callback, early enough for each site's versions, ciphers
 * and client certificate settings to apply.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "log.h"
#include "reply.h"
#include "route.h"
#include "tls.h"
#include "tls_conf.h"
#include "upstream.h"
#include "util.h"

#define LNT_TLS_MAGIC	0x6c6e7473u	/* "lnts" */

/* The largest TLS record payload: what one SSL_write seals at most. */
#define RECORD_SIZE	16384

/* What a blocked operation waits for (lnt_tls_t.want). */
#define RECV_WANTS_WRITE	0x01
#define SEND_WANTS_READ		0x02

/* The longest client certificate subject passed upstream. */
#define SUBJECT_MAX	1024

typedef struct lnt_tls_s {
	unsigned	 magic;
	SSL		*ssl;
	lnt_listen_t	*listen;	/* server side: where it was accepted */
	lnt_site_t	*site;		/* server side: chosen by SNI */
	lnt_tls_ctx_t	*tctx;		/* server side: that site's context */
	lnt_server_t	*server;	/* client side: keeps its session */
	unsigned	 want;		/* RECV_WANTS_WRITE, SEND_WANTS_READ */
	bool		 done;		/* handshake complete */
	bool		 failed;	/* fatal error: no close_notify */
	bool		 shut;		/* close_notify sent */
	char		*subject;	/* client certificate subject, cached */
	struct lnt_tls_s *next;		/* free list */
} lnt_tls_t;

static lnt_tls_t	*free_tls;	/* per process */

/* sendv gathers small pieces into one record here (one worker thread). */
static char		 stage[RECORD_SIZE];

/*
 * ALPN, in the server's order of preference.  HTTP/2 ("\x02h2") goes
 * first here once lintel serves it.
 */
static const unsigned char alpn_server[] = "\x08http/1.1\x08http/1.0";
static const unsigned char alpn_client[] = "\x08http/1.1";

static lnt_tls_t *
tls_get(const void *ctx)
{
	lnt_tls_t *t = (lnt_tls_t *)(uintptr_t)ctx;

	if (t == NULL || t->magic != LNT_TLS_MAGIC) {
		lnt_log(LNT_LOG_ALERT, "%s: not a TLS connection", __func__);
		abort();
	}
	return t;
}

void
lnt_tls_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}

/*
 * The reason OpenSSL gives for its last error, written into <buf> of <len>
 * bytes, which is returned; clears OpenSSL's error queue.
 */
const char *
lnt_tls_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (r != NULL)
		snprintf(buf, len, "%s", r);
	else if (e != 0)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
	return buf;
}

static lnt_tls_t *
tls_alloc(void)
{
	lnt_tls_t *t = free_tls;

	if (t != NULL)
		free_tls = t->next;
	else if ((t = malloc(sizeof(*t))) == NULL)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->magic = LNT_TLS_MAGIC;
	return t;
}

static void
tls_free(lnt_tls_t *t)
{
	SSL_free(t->ssl);
	free(t->subject);
	t->magic = 0;
	t->next = free_tls;
	free_tls = t;
}

/* Give <t> its SSL object on <fd> with <ctx>; 0, or -1 out of memory. */
static int
tls_ssl(lnt_tls_t *t, SSL_CTX *ctx, int fd)
{
	if ((t->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(t->ssl, fd) != 1) {
		SSL_free(t->ssl);
		t->ssl = NULL;
		ERR_clear_error();
		return -1;
	}
	SSL_set_app_data(t->ssl, t);
	return 0;
}

/*
 * The SSL object is made only once the ClientHello has come (see
 * first_record()): until then a client costs this small struct.
 */
void *
lnt_tls_accept(lnt_listen_t *l, int fd)
{
	lnt_tls_site_t *tls = l->default_site->tls;
	lnt_tls_t *t = tls_alloc();

	if (t == NULL)
		return NULL;
	t->listen = l;
	t->site = l->default_site;
	t->tctx = &tls->ctxs[0];
	return t;
}

/* Whether <name> is an IPv4 or IPv6 address rather than a host name. */
static bool
is_ip(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1;
}

/* The host part of a server address "host:port" or "[v6]:port". */
static const char *
address_host(const char *address, char *buf, size_t len)
{
	const char *end;

	if (address[0] == '[' && (end = strchr(address, ']')) != NULL) {
		snprintf(buf, len, "%.*s", (int)(end - address - 1),
		    address + 1);
		return buf;
	}
	end = strrchr(address, ':');
	snprintf(buf, len, "%.*s", end != NULL ? (int)(end - address) :
	    (int)strlen(address), address);
	return buf;
}

void *
lnt_tls_connect(lnt_upstream_t *up, lnt_server_t *s, int fd)
{
	lnt_tls_upstream_t *tls = up->tls;
	lnt_tls_t *t = tls_alloc();
	char buf[256];
	const char *name;
	bool ok = true;

	if (t == NULL)
		return NULL;
	if (tls_ssl(t, tls->ctx, fd) == -1) {
		tls_free(t);
		return NULL;
	}
	t->server = s;
	SSL_set_connect_state(t->ssl);
	name = tls->sni != NULL ? tls->sni : address_host(s->address, buf,
	    sizeof(buf));
	if (is_ip(name)) {
		/* RFC 6066: no SNI for an address; verify it as one. */
		if (tls->verify)
			ok = X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(t->ssl), name) == 1;
	} else {
		ok = SSL_set_tlsext_host_name(t->ssl, name) == 1 &&
		    (!tls->verify || SSL_set1_host(t->ssl, name) == 1);
	}
	if (ok && s->tls_session != NULL)
		ok = SSL_set_session(t->ssl, s->tls_session) == 1;
	if (!ok) {
		lnt_io_tls.close(fd, t);
		return NULL;
	}
	return t;
}

bool
lnt_tls_resumed(const void *ctx)
{
	return SSL_session_reused(tls_get(ctx)->ssl) == 1;
}

/*
 * Move errno and the want bits of <t> after <op> returned <rc>: -1 with
 * errno EAGAIN when it must wait, 0 for the peer's close_notify, -1 with
 * another errno when the connection is broken.
 */
static ssize_t
io_result(lnt_tls_t *t, int rc, unsigned want_other)
{
	int err = SSL_get_error(t->ssl, rc), saved = errno;

	switch (err) {
	case SSL_ERROR_WANT_READ:
		if (want_other == SEND_WANTS_READ)
			t->want |= want_other;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		if (want_other == RECV_WANTS_WRITE)
			t->want |= want_other;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		t->failed = true;
		ERR_clear_error();
		errno = saved != 0 ? saved : ECONNRESET;
		return -1;
	default:
		t->failed = true;
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

static ssize_t
tls_recv(int fd, void *ctx, void *buf, size_t len)
{
	lnt_tls_t *t = ctx;
	size_t n;
	int rc;

	t->want &= ~RECV_WANTS_WRITE;
	if (len == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(t->ssl, buf, len, &n);
	if (rc == 1)
		return (ssize_t)n;
	return io_result(t, rc, RECV_WANTS_WRITE);
}

/*
 * One record at most per call (partial writes): a caller that waits after
 * EAGAIN offers the same bytes again, possibly more of them, which is what
 * OpenSSL requires of a retried write.  Small pieces are gathered so the
 * head and the start of the body share a record and a packet.
 */
static ssize_t
tls_sendv(int fd, void *ctx, const struct iovec *iov, int cnt)
{
	lnt_tls_t *t = ctx;
	const void *p = iov[0].iov_base;
	size_t len = iov[0].iov_len, n;
	int rc;

	t->want &= ~SEND_WANTS_READ;
	if (cnt > 1 && len < RECORD_SIZE) {
		len = 0;
		for (int i = 0; i < cnt && len < RECORD_SIZE; i++) {
			size_t k = iov[i].iov_len < RECORD_SIZE - len ?
			    iov[i].iov_len : RECORD_SIZE - len;

			memcpy(stage + len, iov[i].iov_base, k);
			len += k;
		}
		p = stage;
	}
	if (len == 0)
		return 0;
	if (len > INT_MAX)
		len = INT_MAX;
	ERR_clear_error();
	errno = 0;
	rc = SSL_write_ex(t->ssl, p, len, &n);
	if (rc == 1)
		return (ssize_t)n;
	if (io_result(t, rc, SEND_WANTS_READ) == 0)
		errno = EPIPE;		/* never 0: that is not a write */
	return -1;
}

/* The verification failure behind a failed handshake, if that was it. */
static const char *
verify_reason(SSL *ssl)
{
	long v = SSL_get_verify_result(ssl);

	return v != X509_V_OK ? X509_verify_cert_error_string(v) : NULL;
}

/*
 * Whether all of the first record of a client, its ClientHello, is queued
 * on <fd>: 1 if so, 0 to wait for more, -1 (why in <why> of <len> bytes)
 * when the client closed or sent no TLS handshake.  OpenSSL allocates
 * some 50 KB as soon as a handshake starts, so a client that is silent or
 * stalls in its first flight holds none of that, only kernel memory; and
 * plain HTTP or garbage never reaches OpenSSL.
 */
static int
first_record(int fd, char *why, size_t len)
{
	unsigned char h[5];
	size_t rlen;
	ssize_t n;
	int avail;

	do
		n = recv(fd, h, sizeof(h), MSG_PEEK);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		snprintf(why, len, "%s", n == 0 ? "the client closed the "
		    "connection" : strerror(errno));
		return -1;
	}
	if (h[0] != 22) {	/* a handshake record (RFC 8446 5.1) */
		snprintf(why, len, h[0] >= 'A' && h[0] <= 'Z' ? "plain HTTP, "
		    "not a TLS handshake" : "not a TLS handshake (first byte "
		    "0x%02x)", h[0]);
		return -1;
	}
	if (n < (ssize_t)sizeof(h))
		return 0;
	rlen = (size_t)h[3] << 8 | h[4];
	if (h[1] != 3 || rlen == 0 || rlen > RECORD_SIZE) {
		snprintf(why, len, "not a TLS handshake record");
		return -1;
	}
	/* Bytes still on their way raise another edge when they come. */
	if (ioctl(fd, FIONREAD, &avail) == 0 && avail >= 0 &&
	    (size_t)avail < sizeof(h) + rlen)
		return 0;
	return 1;
}

static int
tls_handshake(int fd, void *ctx, char *why, size_t len)
{
	lnt_tls_t *t = ctx;
	const char *v;
	char reason[256];
	int rc, err;

	if (t->done)
		return 1;
	if (t->ssl == NULL) {
		if ((rc = first_record(fd, why, len)) != 1)
			return rc;
		if (tls_ssl(t, t->tctx->ctx, fd) == -1) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		SSL_set_accept_state(t->ssl);
	}
	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1) {
		t->done = true;
		t->want = 0;
		return 1;
	}
	err = SSL_get_error(t->ssl, rc);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
	    err == SSL_ERROR_WANT_CLIENT_HELLO_CB)
		return 0;
	t->failed = true;
	/* With SSL_OP_IGNORE_UNEXPECTED_EOF, a bare EOF is ZERO_RETURN. */
	if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
		snprintf(why, len, "%s", errno != 0 ? strerror(errno) :
		    "the peer closed the connection");
		ERR_clear_error();
		return -1;
	}
	lnt_tls_reason(reason, sizeof(reason));
	/* Whose certificate did not verify, and why (server or client's). */
	if ((v = verify_reason(t->ssl)) != NULL)
		snprintf(why, len, "%s: %s", reason, v);
	else
		snprintf(why, len, "%s", reason);
	return -1;
}

/*
 * An operation that waits for the other direction sees its readiness as
 * its own: an SSL_read waiting to write proceeds when the socket becomes
 * writable, and the reverse.
 */
static uint32_t
tls_events(void *ctx, uint32_t events)
{
	lnt_tls_t *t = ctx;

	if ((t->want & RECV_WANTS_WRITE) && (events & EPOLLOUT))
		events |= EPOLLIN;
	if ((t->want & SEND_WANTS_READ) && (events & EPOLLIN))
		events |= EPOLLOUT;
	return events;
}

/* Send close_notify once, without waiting for the peer's. */
static void
tls_shutdown(int fd, void *ctx)
{
	lnt_tls_t *t = ctx;

	if (!t->done || t->failed || t->shut)
		return;
	t->shut = true;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}

static void
tls_close(int fd, void *ctx)
{
	lnt_tls_t *t = tls_get(ctx);

	tls_shutdown(fd, t);
	tls_free(t);
}

const lnt_io_t lnt_io_tls = {
	.name = "tls",
	.recv = tls_recv,
	.sendv = tls_sendv,
	.handshake = tls_handshake,
	.events = tls_events,
	.shutdown = tls_shutdown,
	.close = tls_close,
	/* Bytes must be sealed in user space: no splice, no sendfile. */
	.zero_copy = false,
	.secure = true,
};

/*
 * The host_name in the server_name extension <p> of <len> bytes (RFC 6066
 * 3), or an empty string when it is malformed.
 */
static lnt_str_t
sni_name(const unsigned char *p, size_t len)
{
	size_t list, nlen;

	if (len < 5)
		return (lnt_str_t){ NULL, 0 };
	list = (size_t)p[0] << 8 | p[1];
	nlen = (size_t)p[3] << 8 | p[4];
	if (list + 2 != len || p[2] != 0 /* host_name */ || nlen + 3 > list ||
	    nlen == 0 || nlen > 255 || memchr(p + 5, '\0', nlen) != NULL)
		return (lnt_str_t){ NULL, 0 };
	return (lnt_str_t){ (const char *)p + 5, nlen };
}

/* Whether strings <a> and <b> differ (either may be NULL). */
static bool
differ(const char *a, const char *b)
{
	return a != b && (a == NULL || b == NULL || strcmp(a, b) != 0);
}

/*
 * SSL_set_SSL_CTX() takes only certificates from the new context: give
 * <ssl> the versions, ciphers, groups and client certificate settings of
 * <site> too where they differ from those it was made with.
 */
static int
apply_site(SSL *ssl, const lnt_tls_site_t *from, const lnt_tls_site_t *to,
    SSL_CTX *ctx)
{
	if (!SSL_set_min_proto_version(ssl,
	    SSL_CTX_get_min_proto_version(ctx)))
		return -1;
	if (differ(from->ciphers, to->ciphers) &&
	    SSL_set_cipher_list(ssl, to->ciphers) != 1)
		return -1;
	if (differ(from->ciphersuites, to->ciphersuites) &&
	    SSL_set_ciphersuites(ssl, to->ciphersuites) != 1)
		return -1;
	if (differ(from->groups, to->groups) &&
	    SSL_set1_groups_list(ssl, to->groups) != 1)
		return -1;
	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), NULL);
	SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
	return 0;
}

/*
 * The ClientHello callback: choose the site by SNI among those of the
 * listener (exact name, wildcard, regex, default: as for Host), then its
 * context by the certificates' names, and switch to it.
 */
static int
client_hello(SSL *ssl, int *alert, void *arg)
{
	lnt_tls_t *t = SSL_get_app_data(ssl);
	const lnt_tls_site_t *from;
	const unsigned char *p;
	lnt_str_t name = { NULL, 0 };
	lnt_site_t *site;
	lnt_tls_ctx_t *tc;
	size_t len;

	if (t == NULL || t->listen == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p,
	    &len) == 1)
		name = sni_name(p, len);
	site = name.len > 0 ? lnt_route_site(t->listen, name) :
	    t->listen->default_site;
	tc = lnt_tls_conf_ctx_for(site->tls, name.p, name.len);
	from = t->site->tls;
	t->site = site;
	if (tc == t->tctx)
		return SSL_CLIENT_HELLO_SUCCESS;
	t->tctx = tc;
	if (SSL_set_SSL_CTX(ssl, tc->ctx) == NULL ||
	    apply_site(ssl, from, site->tls, tc->ctx) == -1) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* Acknowledge SNI: the ClientHello callback has acted on it already. */
static int
servername(SSL *ssl, int *alert, void *arg)
{
	return SSL_TLSEXT_ERR_OK;
}

static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, alpn_server,
	    sizeof(alpn_server) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;	/* RFC 7301 3.2 */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Staple the OCSP response of the certificate chosen, while it is fresh. */
static int
ocsp_status(SSL *ssl, void *arg)
{
	lnt_tls_t *t = SSL_get_app_data(ssl);
	X509 *x = SSL_get_certificate(ssl);
	unsigned char *copy;

	if (t == NULL || t->tctx == NULL || x == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (size_t i = 0; i < t->tctx->nocsp; i++) {
		const lnt_tls_ocsp_t *o = &t->tctx->ocsp[i];

		if (o->cert != x)
			continue;
		if (o->next_update != 0 && o->next_update < time(NULL))
			return SSL_TLSEXT_ERR_NOACK;
		if ((copy = OPENSSL_memdup(o->der, o->len)) == NULL)
			return SSL_TLSEXT_ERR_NOACK;
		SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)o->len);
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

void
lnt_tls_server_ctx_setup(SSL_CTX *ctx)
{
	SSL_CTX_set_client_hello_cb(ctx, client_hello, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, servername);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	SSL_CTX_set_tlsext_status_cb(ctx, ocsp_status);
}

/* Keep the server's newest session to resume the next connection with. */
static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
	lnt_tls_t *t = SSL_get_app_data(ssl);

	if (t == NULL || t->server == NULL)
		return 0;
	if (t->server->tls_session != NULL)
		SSL_SESSION_free(t->server->tls_session);
	t->server->tls_session = sess;
	return 1;
}

void
lnt_tls_client_ctx_setup(SSL_CTX *ctx)
{
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	(void)SSL_CTX_set_alpn_protos(ctx, alpn_client,
	    sizeof(alpn_client) - 1);
}

/* The host of the request without its port, for a redirect. */
static lnt_str_t
request_host(const lnt_conn_t *c)
{
	lnt_str_t h = c->req.host;
	const char *end;

	if (h.len == 0) {
		const char *name = c->site->nnames > 0 &&
		    c->site->names[0][0] != '*' ? c->site->names[0] :
		    c->listen->text;

		h = (lnt_str_t){ name, strlen(name) };
	}
	if (h.len > 0 && h.p[0] == '[') {
		end = memchr(h.p, ']', h.len);
		return (lnt_str_t){ h.p, end != NULL ?
		    (size_t)(end - h.p) + 1 : h.len };
	}
	end = memchr(h.p, ':', h.len);
	return (lnt_str_t){ h.p, end != NULL ? (size_t)(end - h.p) : h.len };
}

/* Answer with a redirect to the same URL over https. */
static void
redirect(lnt_conn_t *c)
{
	const lnt_http_msg_t *r = &c->req;
	bool get = lnt_str_ieq(r->method, "GET") ||
	    lnt_str_ieq(r->method, "HEAD");
	lnt_str_t host = request_host(c);
	char loc[4096], port[16] = "";
	int n;

	if (c->site->redirect_https != 443)
		snprintf(port, sizeof(port), ":%d", c->site->redirect_https);
	/* An absolute-form target: from its path on. */
	if (r->target.len > 0 && r->target.p[0] == '/')
		n = snprintf(loc, sizeof(loc), "Location: https://%.*s%s%.*s"
		    "\r\n", (int)host.len, host.p, port, (int)r->target.len,
		    r->target.p);
	else
		n = snprintf(loc, sizeof(loc), "Location: https://%.*s%s%.*s"
		    "%s%.*s\r\n", (int)host.len, host.p, port,
		    (int)r->path.len, r->path.p, r->query.len ? "?" : "",
		    (int)r->query.len, r->query.p);
	if (n < 0 || (size_t)n >= sizeof(loc)) {
		c->keepalive = false;
		lnt_conn_respond(c, 414, "target too long to redirect");
		return;
	}
	/* 308 keeps the method and body of anything but GET and HEAD. */
	lnt_reply_error(c, get ? 301 : 308, loc, NULL);
}

bool
lnt_tls_intercept(lnt_conn_t *c, bool keepalive)
{
	const lnt_site_t *s = c->site;

	if (c->io->secure) {
		lnt_tls_t *t = tls_get(c->io_ctx);

		/* Its client certificates were not asked for or checked. */
		if (t->site == s || s->tls == NULL || s->tls->client == NULL)
			return false;
		c->keepalive = keepalive;
		lnt_conn_respond(c, 421, "Host names a site that the TLS "
		    "handshake (SNI) did not choose");
		return true;
	}
	if (s->redirect_https == 0)
		return false;
	c->keepalive = keepalive;
	redirect(c);
	return true;
}

const char *
lnt_tls_hsts(const lnt_conn_t *c)
{
	const lnt_site_t *s = c->site;

	if (!c->io->secure)
		return NULL;
	if (s == NULL)
		s = tls_get(c->io_ctx)->site;
	return s->tls != NULL ? s->tls->hsts : NULL;
}

static const lnt_tls_client_conf_t *
client_conf(const lnt_conn_t *c)
{
	return c->site != NULL && c->site->tls != NULL ? c->site->tls->client :
	    NULL;
}

bool
lnt_tls_hidden_field(const lnt_conn_t *c, lnt_str_t name)
{
	const lnt_tls_client_conf_t *cc = client_conf(c);

	return cc != NULL && name.len == cc->header_len &&
	    strncasecmp(name.p, cc->header, name.len) == 0;
}

/* The verified client certificate's subject (RFC 2253), or NULL. */
static const char *
subject(lnt_tls_t *t)
{
	X509 *x;
	BIO *b;
	char *s;
	int n;

	if (t->subject != NULL)
		return t->subject;
	if ((x = SSL_get0_peer_certificate(t->ssl)) == NULL ||
	    SSL_get_verify_result(t->ssl) != X509_V_OK)
		return NULL;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	/* RFC 2253 escapes control and non-ASCII bytes: safe in a field. */
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0 && (s = malloc(SUBJECT_MAX)) != NULL) {
		n = BIO_read(b, s, SUBJECT_MAX - 1);
		s[n > 0 ? n : 0] = '\0';
		t->subject = s;
	}
	BIO_free(b);
	ERR_clear_error();
	return t->subject;
}

int
lnt_tls_request_fields(const lnt_conn_t *c, lnt_buf_t *b)
{
	const lnt_tls_client_conf_t *cc = client_conf(c);
	const char *s;
	int n;

	if (cc == NULL || !c->io->secure ||
	    (s = subject(tls_get(c->io_ctx))) == NULL)
		return 0;
	n = snprintf(b->last, lnt_buf_room(b), "%s: %s\r\n", cc->header, s);
	if (n < 0 || (size_t)n >= lnt_buf_room(b))
		return -1;
	b->last += n;
	return 0;
}
