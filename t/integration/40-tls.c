/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS through the real daemon, with certificates the openssl CLI makes at
 * run time: termination, SNI among sites and certificates (exact, wildcard,
 * default; RSA and ECDSA side by side), versions, ALPN, resumption on
 * another worker and after a binary upgrade, OCSP stapling and the
 * responses refused, client certificates, HSTS and the https redirect,
 * certificates replaced by a reload under load, certificate errors, TLS
 * upstreams with their versions and ciphers, and clients that do not
 * speak TLS (41-tls-stall has those that stall by the hundred).  The
 * client is OpenSSL in this process, so each test can look at what was
 * negotiated; curl and openssl s_client check that real clients agree.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "th.h"

/* TH_BASE at debug level: handshakes and resumptions are logged. */
#define TLS_BASE \
	"error_log = \"@TMPDIR@/error.log\"; " \
	"pid_file = \"@TMPDIR@/lintel.pid\"; " \
	"user = \"nobody\"; group = \"nogroup\"; workers = 2; " \
	"shutdown_timeout = \"10s\"; log_level = \"debug\";\n"

/* The origin "O" on @PORT_9@. */
#define UPS \
	"upstreams = ( { name = \"origin\";\n" \
	"  servers = ( { address = \"127.0.0.1:@PORT_9@\"; } ); } );\n"

#define ROUTE_ORIGIN	"routes = ( { path = \"/\"; upstream = \"origin\"; } );"

/* A certificate entry for the files <name>.pem and <name>.key. */
#define CERT(name) \
	"{ cert = \"@TMPDIR@/" name ".pem\"; key = \"@TMPDIR@/" name ".key\"; }"

/* ------------------------------------------------------------------ */
/* Certificates, made with the openssl CLI in the test's directory */

/*
 * A test CA signs every server certificate with `openssl ca`, so that its
 * index can answer OCSP requests; a second CA signs client certificates.
 * Each <name>.pem holds the certificate then the CA (the issuer must
 * follow it for OCSP); <name>.key is mode 0600.
 */
static const char pki_script[] =
	"set -e\n"
	"cat > ca.cnf <<EOF\n"
	"[ ca ]\n"
	"default_ca = test_ca\n"
	"[ test_ca ]\n"
	"database = ./index.txt\n"
	"new_certs_dir = .\n"
	"serial = ./serial\n"
	"default_md = sha256\n"
	"policy = any\n"
	"unique_subject = no\n"
	"copy_extensions = copy\n"
	"[ any ]\n"
	"commonName = supplied\n"
	"organizationName = optional\n"
	"EOF\n"
	": > index.txt\n"
	"echo 1000 > serial\n"
	"EC='ec -pkeyopt ec_paramgen_curve:P-256'\n"
	"openssl req -x509 -newkey $EC -nodes -keyout ca.key -out ca.pem "
	"-days 2 -subj '/CN=lintel test CA' 2>/dev/null\n"
	"issue() {\n"
	"  openssl req -newkey $3 -nodes -keyout $1.key -out $1.csr "
	"-subj \"/CN=$2\" -addext \"subjectAltName=$4\" 2>/dev/null\n"
	"  openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key "
	"-in $1.csr -out $1.crt -notext $5 2>/dev/null\n"
	"  cat $1.crt ca.pem > $1.pem\n"
	"  chmod 600 $1.key\n"
	"}\n"
	"issue a a.test \"$EC\" DNS:a.test '-days 2'\n"
	"issue a-rsa a.test rsa:2048 DNS:a.test '-days 2'\n"
	"issue b b.test \"$EC\" DNS:b.test '-days 2'\n"
	"issue w '*.w.test' \"$EC\" 'DNS:*.w.test' '-days 2'\n"
	"issue dflt default.test \"$EC\" DNS:default.test '-days 2'\n"
	"issue a2 a.test \"$EC\" DNS:a.test '-days 2'\n"
	"issue old old.test \"$EC\" DNS:old.test "
	"'-startdate 20200101000000Z -enddate 20200102000000Z'\n"
	"openssl ocsp -issuer ca.pem -cert a.crt -no_nonce -reqout a.req "
	"2>/dev/null\n"
	"openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key "
	"-CA ca.pem -reqin a.req -respout a.ocsp -ndays 1 >/dev/null 2>&1\n"
	"openssl req -x509 -newkey $EC -nodes -keyout cca.key -out cca.pem "
	"-days 2 -subj '/CN=lintel test client CA' 2>/dev/null\n"
	"openssl req -newkey $EC -nodes -keyout alice.key -out alice.csr "
	"-subj '/O=Example/CN=alice' 2>/dev/null\n"
	"openssl x509 -req -in alice.csr -CA cca.pem -CAkey cca.key "
	"-CAcreateserial -days 2 -out alice.pem 2>/dev/null\n"
	"chmod 600 alice.key\n";

/* Run <script> with sh in the test's directory; fail the test if it does. */
static void
sh(const char *script)
{
	const char	*argv[] = { "sh", "-c", NULL, NULL };
	char		*out, *err;
	int		 rc;

	argv[2] = th_printf("cd '%s' && %s", th_tmpdir(), script);
	rc = th_exec(argv, &out, &err);
	ck_assert_msg(rc == 0, "sh exited %d: %s\n%s%s", rc, script, out,
	    err);
}

static void
make_pki(void)
{
	sh(pki_script);
}

/* ------------------------------------------------------------------ */
/* A TLS client: OpenSSL in this process */

typedef struct tcli {
	const char	*sni;		/* server name sent; NULL: none */
	const char	*verify;	/* host name to verify; NULL: the SNI */
	bool		 no_verify;	/* do not check the server at all */
	const char	*alpn;		/* one protocol offered, or NULL */
	int		 version;	/* only this one; 0: any */
	const char	*sigalgs;	/* to get an RSA or ECDSA certificate */
	const char	*cert;		/* client certificate and key files */
	const char	*key;
	SSL_SESSION	*session;	/* to resume */
	bool		 status;	/* ask for a stapled OCSP response */
	bool		 renegotiate;	/* try to renegotiate (TLS 1.2) first */
	const char	*request;	/* NULL: GET / for the SNI name */
} tcli_t;

typedef struct tres {
	bool		 handshake;	/* completed */
	char		 error[512];	/* why not, or why the exchange did */
	bool		 resumed;
	char		 version[16];
	char		 cn[128];	/* the server certificate's CN */
	char		 serial[64];	/* its serial number, hex */
	int		 key_type;	/* EVP_PKEY_EC, EVP_PKEY_RSA */
	char		 alpn[32];
	bool		 stapled;	/* a successful OCSP response came */
	unsigned char	*staple;	/* its bytes */
	long		 staple_len;
	bool		 renegotiated;	/* the server agreed to renegotiate */
	SSL_SESSION	*session;	/* for the next connection */
	int		 status;	/* 0: no response */
	char		*response;	/* all of it, NUL-ended */
} tres_t;

static void
tls_error(tres_t *r, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	char		 buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(r->error, sizeof(r->error), "%s: %s (errno %s)", what, buf,
	    strerror(errno));
	ERR_clear_error();
}

static int
connect_port(int port)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct timeval		 tv = { .tv_sec = 15 };
	int			 fd;

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(fd != -1, "socket: %s", strerror(errno));
	/* Every wait is bounded: a stuck server fails the test. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static SSL_CTX *
client_ctx(const tcli_t *o)
{
	SSL_CTX		*ctx = SSL_CTX_new(TLS_client_method());
	unsigned char	 w[64];
	size_t		 len;

	ck_assert_ptr_nonnull(ctx);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	if (o->version != 0) {
		/* Old versions need security level 0 in OpenSSL 3. */
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, o->version);
		SSL_CTX_set_max_proto_version(ctx, o->version);
	}
	if (!o->no_verify) {
		ck_assert(SSL_CTX_load_verify_locations(ctx,
		    th_path("ca.pem"), NULL) == 1);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (o->sigalgs != NULL)
		ck_assert(SSL_CTX_set1_sigalgs_list(ctx, o->sigalgs) == 1);
	if (o->alpn != NULL) {
		len = strlen(o->alpn);
		w[0] = (unsigned char)len;
		memcpy(w + 1, o->alpn, len);
		ck_assert(SSL_CTX_set_alpn_protos(ctx, w,
		    (unsigned)len + 1) == 0);
	}
	if (o->cert != NULL) {
		ck_assert(SSL_CTX_use_certificate_chain_file(ctx,
		    o->cert) == 1);
		ck_assert(SSL_CTX_use_PrivateKey_file(ctx, o->key,
		    SSL_FILETYPE_PEM) == 1);
	}
	return ctx;
}

/* The serial number of <x> in hex, as `openssl x509 -serial` prints it. */
static void
serial_hex(X509 *x, char *buf, size_t len)
{
	BIGNUM	*bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char	*hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	snprintf(buf, len, "%s", hex != NULL ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* What the handshake of <ssl> chose, into <r>. */
static void
record_handshake(SSL *ssl, tres_t *r)
{
	const unsigned char	*p;
	unsigned int		 plen;
	long			 n;
	X509			*x;
	OCSP_RESPONSE		*resp;

	r->handshake = true;
	r->resumed = SSL_session_reused(ssl) == 1;
	snprintf(r->version, sizeof(r->version), "%s", SSL_get_version(ssl));
	if ((x = SSL_get0_peer_certificate(ssl)) != NULL) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, r->cn, sizeof(r->cn));
		r->key_type = EVP_PKEY_get_base_id(X509_get0_pubkey(x));
		serial_hex(x, r->serial, sizeof(r->serial));
	}
	SSL_get0_alpn_selected(ssl, &p, &plen);
	snprintf(r->alpn, sizeof(r->alpn), "%.*s", (int)plen, p);
	n = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
	if (n > 0) {
		r->staple = th_alloc((size_t)n);
		memcpy(r->staple, p, (size_t)n);
		r->staple_len = n;
	}
	if (n > 0 && (resp = d2i_OCSP_RESPONSE(NULL, &p, n)) != NULL) {
		r->stapled = OCSP_response_status(resp) ==
		    OCSP_RESPONSE_STATUS_SUCCESSFUL;
		OCSP_RESPONSE_free(resp);
	}
}

/* Send the request of <o> and read the response until the server closes. */
static void
exchange(SSL *ssl, const tcli_t *o, tres_t *r)
{
	const char	*req = o->request;
	char		*buf = NULL;
	size_t		 len = 0, cap = 0, n;

	if (req == NULL)
		req = th_printf("GET / HTTP/1.1\r\nHost: %s\r\n"
		    "Connection: close\r\n\r\n", o->sni ? o->sni : "x");
	if (SSL_write_ex(ssl, req, strlen(req), &n) != 1) {
		tls_error(r, "SSL_write");
		return;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		if (SSL_read_ex(ssl, buf + len, cap - len - 1, &n) != 1) {
			if (SSL_get_error(ssl, 0) != SSL_ERROR_ZERO_RETURN &&
			    len == 0)
				tls_error(r, "SSL_read");
			break;
		}
		len += n;
	}
	if (buf != NULL) {
		buf[len] = '\0';
		r->response = th_strdup(buf);
		free(buf);
		if (strncmp(r->response, "HTTP/1.", 7) == 0)
			r->status = atoi(r->response + 9);
	}
}

/* Sessions handed to tests, freed when the test's process exits. */
static SSL_SESSION	*sessions[64];
static size_t		 nsessions;

static void
free_sessions(void)
{
	while (nsessions > 0)
		SSL_SESSION_free(sessions[--nsessions]);
}

static void
keep_session(SSL_SESSION *sess)
{
	if (nsessions == 0)
		atexit(free_sessions);
	if (nsessions == TH_NELEM(sessions)) {
		SSL_SESSION_free(sessions[0]);
		memmove(sessions, sessions + 1, sizeof(sessions) -
		    sizeof(sessions[0]));
		nsessions--;
	}
	sessions[nsessions++] = sess;
}

/* Make one TLS connection to <port> as <o> says, one request on it. */
static tres_t *
tls_get(int port, const tcli_t *o)
{
	tres_t	*r = th_alloc(sizeof(*r));
	SSL_CTX	*ctx;
	SSL	*ssl;
	int	 fd;

	memset(r, 0, sizeof(*r));
	ctx = client_ctx(o);
	if ((fd = connect_port(port)) == -1) {
		snprintf(r->error, sizeof(r->error), "connect: %s",
		    strerror(errno));
		SSL_CTX_free(ctx);
		return r;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (o->sni != NULL)
		SSL_set_tlsext_host_name(ssl, o->sni);
	if (!o->no_verify)
		SSL_set1_host(ssl, o->verify ? o->verify : o->sni);
	if (o->status)
		SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
	if (o->session != NULL)
		SSL_set_session(ssl, o->session);
	if (SSL_connect(ssl) == 1) {
		record_handshake(ssl, r);
		/* The server must refuse: no_renegotiation, then go on. */
		if (o->renegotiate)
			r->renegotiated = SSL_renegotiate(ssl) == 1 &&
			    SSL_do_handshake(ssl) == 1;
		ERR_clear_error();
		exchange(ssl, o, r);
		if ((r->session = SSL_get1_session(ssl)) != NULL)
			keep_session(r->session);
		SSL_shutdown(ssl);
	} else
		tls_error(r, "handshake");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return r;
}

/* The same, failing the test unless the answer is a 200. */
#define tls_ok(port, ...)	tls_ok_at(__LINE__, (port), __VA_ARGS__)
static tres_t *
tls_ok_at(int line, int port, const tcli_t *o)
{
	tres_t	*r = tls_get(port, o);

	ck_assert_msg(r->handshake, "line %d: no handshake: %s", line,
	    r->error);
	ck_assert_msg(r->status == 200, "line %d: status %d: %s\n%s", line,
	    r->status, r->error, r->response ? r->response : "");
	return r;
}

/* The value of header <name> in the raw response <resp>, or NULL. */
static const char *
resp_header(const char *resp, const char *name)
{
	const char	*p = resp, *end = strstr(resp, "\r\n\r\n");
	size_t		 len = strlen(name);

	while (p != NULL && (end == NULL || p < end)) {
		if ((p = strstr(p, "\r\n")) == NULL)
			return NULL;
		p += 2;
		if (strncasecmp(p, name, len) == 0 && p[len] == ':') {
			p += len + 1;
			p += strspn(p, " ");
			return th_printf("%.*s", (int)strcspn(p, "\r\n"), p);
		}
	}
	return NULL;
}

/* Lines of the error log at <level> ("[error]"), how many. */
static int
log_count(const char *needle)
{
	const char	*log = th_read_file(th_path("error.log")), *p;
	int		 n = 0;

	for (p = log; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Termination */

START_TEST(https_basics)
{
	th_origin_t	*origin;
	tres_t		*r;
	char		*out, *err;
	int		 rc;

	make_pki();
	origin = th_origin_start(th_portn(9), "O");
	th_start(th_conf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a") " );\n"
	    "          hsts = \"max-age=31536000; includeSubDomains\"; };\n"
	    "  " ROUTE_ORIGIN " } );\n"));
	r = tls_ok(th_portn(1), &(tcli_t){ .sni = "a.test" });
	ck_assert_str_eq(r->cn, "a.test");
	ck_assert_int_eq(r->key_type, EVP_PKEY_EC);
	ck_assert_msg(strstr(r->response, "hello from origin O") != NULL,
	    "%s", r->response);
	ck_assert_pstr_eq(resp_header(r->response,
	    "Strict-Transport-Security"), "max-age=31536000; "
	    "includeSubDomains");
	/* The upstream learns the request came over TLS. */
	ck_assert_ptr_nonnull(th_find_line(th_read_file(th_origin_log(origin)),
	    "X-Forwarded-Proto: https"));
	/* Keep-alive over TLS, and a real client. */
	rc = th_curl(&out, &err, "--cacert", th_path("ca.pem"), "--resolve",
	    th_printf("a.test:%d:127.0.0.1", th_portn(1)),
	    th_printf("https://a.test:%d/id", th_portn(1)),
	    th_printf("https://a.test:%d/size/100000", th_portn(1)),
	    "-o", "/dev/null", "-o", th_path("big"), NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	ck_assert_uint_eq(strlen(th_read_file(th_path("big"))), 100000);
	ck_assert_int_eq(th_pattern_check(th_read_file(th_path("big")),
	    100000, 0), -1);
	/* A request body goes up through TLS intact. */
	th_write_file(th_path("up"), th_read_file(th_path("big")));
	rc = th_curl(&out, &err, "--cacert", th_path("ca.pem"), "--resolve",
	    th_printf("a.test:%d:127.0.0.1", th_portn(1)), "-D", "-",
	    "--data-binary", th_printf("@%s", th_path("up")), "-o",
	    th_path("echo"), th_printf("https://a.test:%d/echo", th_portn(1)),
	    NULL);
	ck_assert_msg(rc == 0, "curl exited %d: %s", rc, err);
	ck_assert_msg(strstr(out, "X-Echo-Body-Length: 100000") != NULL, "%s",
	    out);
	ck_assert_int_eq(th_pattern_check(th_read_file(th_path("echo")),
	    100000, 0), -1);
	ck_assert_int_eq(log_count("[error]"), 0);
}
END_TEST

/* Four sites on one tls address: exact, wildcard, another, default. */
#define SNI_SITES \
	TLS_BASE UPS \
	"sites = (\n" \
	" { listen = \"127.0.0.1:@PORT_1@ tls\"; names = \"a.test\";\n" \
	"   tls = { certificates = ( " CERT("a") " ); };\n" \
	"   " ROUTE_ORIGIN " },\n" \
	" { listen = \"127.0.0.1:@PORT_1@ tls\"; names = \"*.w.test\";\n" \
	"   tls = { certificates = ( " CERT("w") " ); };\n" \
	"   " ROUTE_ORIGIN " },\n" \
	" { listen = \"127.0.0.1:@PORT_1@ tls\"; names = \"b.test\";\n" \
	"   tls = { certificates = ( " CERT("b") " ); };\n" \
	"   " ROUTE_ORIGIN " },\n" \
	" { listen = \"127.0.0.1:@PORT_1@ tls\"; names = \"default.test\";\n" \
	"   default = true;\n" \
	"   tls = { certificates = ( " CERT("dflt") " ); }; " ROUTE_ORIGIN \
	" } );\n"

START_TEST(sni_selects_certificate)
{
	int	 port;
	char	*out, *err;
	int	 rc;

	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(SNI_SITES));
	port = th_portn(1);
	ck_assert_str_eq(tls_ok(port, &(tcli_t){ .sni = "a.test" })->cn,
	    "a.test");
	ck_assert_str_eq(tls_ok(port, &(tcli_t){ .sni = "b.test" })->cn,
	    "b.test");
	ck_assert_str_eq(tls_ok(port, &(tcli_t){ .sni = "x.w.test" })->cn,
	    "*.w.test");
	ck_assert_str_eq(tls_ok(port, &(tcli_t){ .sni = "A.Test" })->cn,
	    "a.test");
	ck_assert_str_eq(tls_ok(port, &(tcli_t){ .sni = "nowhere.test",
	    .verify = "default.test" })->cn, "default.test");
	ck_assert_str_eq(tls_ok(port, &(tcli_t){ .verify = "default.test"
	    })->cn, "default.test");
	/* openssl s_client agrees. */
	rc = th_exec((const char *[]){ "sh", "-c", th_printf("echo | "
	    "openssl s_client -connect 127.0.0.1:%d -servername b.test "
	    "-CAfile '%s' -verify_return_error 2>&1", port,
	    th_path("ca.pem")), NULL }, &out, &err);
	ck_assert_msg(rc == 0, "s_client exited %d: %s", rc, out);
	ck_assert_msg(th_match(out, "subject=CN ?= ?b\\.test"), "%s", out);
	ck_assert_msg(strstr(out, "Verify return code: 0 (ok)") != NULL,
	    "%s", out);
}
END_TEST

START_TEST(rsa_and_ecdsa_side_by_side)
{
	int	 port;
	tres_t	*r;

	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a-rsa") ", " CERT("a") " ); };"
	    "\n  " ROUTE_ORIGIN " } );\n"));
	port = th_portn(1);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test",
	    .sigalgs = "ECDSA+SHA256" });
	ck_assert_int_eq(r->key_type, EVP_PKEY_EC);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test",
	    .sigalgs = "RSA-PSS+SHA256:RSA+SHA256" });
	ck_assert_int_eq(r->key_type, EVP_PKEY_RSA);
	/* TLS 1.2 chooses by cipher suite and signature algorithm too. */
	r = tls_ok(port, &(tcli_t){ .sni = "a.test", .version = TLS1_2_VERSION,
	    .sigalgs = "RSA+SHA256" });
	ck_assert_int_eq(r->key_type, EVP_PKEY_RSA);
	ck_assert_str_eq(r->version, "TLSv1.2");
	r = tls_ok(port, &(tcli_t){ .sni = "a.test" });
	ck_assert_int_eq(r->key_type, EVP_PKEY_EC);
}
END_TEST

START_TEST(versions_and_alpn)
{
	int	 port, port13;
	tres_t	*r;

	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a") " ); }; " ROUTE_ORIGIN
	    " },\n"
	    " { listen = \"127.0.0.1:@PORT_2@ tls\"; names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a") " );\n"
	    "          min_version = \"TLSv1.3\"; }; " ROUTE_ORIGIN " } );\n"));
	port = th_portn(1);
	port13 = th_portn(2);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test" });
	ck_assert_str_eq(r->version, "TLSv1.3");
	r = tls_ok(port, &(tcli_t){ .sni = "a.test",
	    .version = TLS1_2_VERSION });
	ck_assert_str_eq(r->version, "TLSv1.2");
	r = tls_get(port, &(tcli_t){ .sni = "a.test",
	    .version = TLS1_1_VERSION });
	ck_assert_msg(!r->handshake, "TLS 1.1 was accepted");
	r = tls_get(port13, &(tcli_t){ .sni = "a.test",
	    .version = TLS1_2_VERSION });
	ck_assert_msg(!r->handshake, "TLS 1.2 accepted with min_version 1.3");
	r = tls_ok(port13, &(tcli_t){ .sni = "a.test" });
	ck_assert_str_eq(r->version, "TLSv1.3");
	/* Renegotiation is refused (RFC 5746 or not). */
	r = tls_get(port, &(tcli_t){ .sni = "a.test",
	    .version = TLS1_2_VERSION, .renegotiate = true });
	ck_assert(r->handshake);
	ck_assert_msg(!r->renegotiated, "the server renegotiated");

	/* ALPN: http/1.1 when offered; a client that wants only h2 is
	 * told no (RFC 7301); no ALPN at all is fine. */
	r = tls_ok(port, &(tcli_t){ .sni = "a.test", .alpn = "http/1.1" });
	ck_assert_str_eq(r->alpn, "http/1.1");
	r = tls_get(port, &(tcli_t){ .sni = "a.test", .alpn = "h2" });
	ck_assert_msg(!r->handshake || r->status == 0, "h2 only: %d",
	    r->status);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test" });
	ck_assert_str_eq(r->alpn, "");
	/* Refused handshakes are routine: info, not error. */
	ck_assert_int_ge(log_count("[info]"), 3);
	ck_assert_msg(th_wait_file_line(th_path("error.log"),
	    "TLS handshake failed", TH_IO_MS) != NULL, "not logged");
	ck_assert_int_eq(log_count("[error]"), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Resumption on another worker */

/* The pids of the two workers: children of the master but the helper. */
static void
worker_pids(pid_t out[2])
{
	pid_t		 kids[16];
	const char	*log;
	size_t		 n, i, k = 0;
	int64_t		 end = th_deadline(TH_START_MS);

	do {
		log = th_read_file(th_path("error.log"));
		n = th_children(th_master(), kids, TH_NELEM(kids));
		if (n == 3 && log != NULL && strstr(log, "#helper:") != NULL)
			break;
		th_nap();
	} while (!th_expired(end));
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++)
		if (strstr(log, th_printf(" %d#helper:", (int)kids[i])) == NULL)
			out[k++ < 2 ? k - 1 : 1] = kids[i];
	ck_assert_uint_eq(k, 2);
}

/* Stop <pid> (SIGSTOP) and wait until it is stopped. */
static void
freeze(pid_t pid)
{
	const char	*stat;
	int64_t		 end = th_deadline(TH_IO_MS);

	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	do {
		stat = th_read_file(th_printf("/proc/%d/stat", (int)pid));
		if (stat != NULL && strstr(stat, ") T ") != NULL)
			return;
		th_nap();
	} while (!th_expired(end));
	ck_abort_msg("worker %d did not stop", (int)pid);
}

START_TEST(resumption_on_another_worker)
{
	pid_t		 w[2];
	int		 port;
	tres_t		*r;
	SSL_SESSION	*sess;

	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a") " ); }; " ROUTE_ORIGIN
	    " } );\n"));
	port = th_portn(1);
	worker_pids(w);
	/*
	 * A stopped worker is not waiting in epoll, so the kernel hands new
	 * connections to the other one: the session is made by w[1] and
	 * resumed by w[0].
	 */
	freeze(w[0]);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test" });
	ck_assert(!r->resumed);
	sess = r->session;
	ck_assert_ptr_nonnull(sess);
	ck_assert_msg(SSL_SESSION_is_resumable(sess), "no ticket came");
	kill(w[0], SIGCONT);
	freeze(w[1]);
	r = tls_get(port, &(tcli_t){ .sni = "a.test", .session = sess });
	kill(w[1], SIGCONT);
	ck_assert_msg(r->status == 200, "status %d: %s", r->status, r->error);
	ck_assert_msg(r->resumed, "the session made by worker %d did not "
	    "resume on worker %d", (int)w[1], (int)w[0]);
	ck_assert_msg(th_find_line(th_read_file(th_path("error.log")),
	    th_printf(" %d#worker: TLS handshake done, session resumed",
	    (int)w[0])) != NULL, "worker %d did not log the resumption",
	    (int)w[0]);
	/* TLS 1.2 tickets too, and after a reload (new workers). */
	r = tls_ok(port, &(tcli_t){ .sni = "a.test",
	    .version = TLS1_2_VERSION });
	sess = r->session;
	th_signal(SIGHUP);
	th_wait_ready();
	r = tls_ok(port, &(tcli_t){ .sni = "a.test",
	    .version = TLS1_2_VERSION, .session = sess });
	ck_assert_msg(r->resumed, "a TLS 1.2 session did not resume after "
	    "a reload");
}
END_TEST

/* `openssl s_client` to a.test on <port> (TLS 1.2), with <args>. */
static const char *
s_client(int port, const char *args)
{
	char	*out, *err;
	int	 rc;

	rc = th_exec((const char *[]){ "sh", "-c", th_printf("cd '%s' && "
	    "openssl s_client -connect 127.0.0.1:%d -servername a.test "
	    "-tls1_2 -CAfile ca.pem %s </dev/null 2>&1", th_tmpdir(), port,
	    args), NULL }, &out, &err);
	ck_assert_msg(rc == 0, "s_client %s: %s", args, out);
	return out;
}

/* Whether process <pid> has the ticket keys' memory file open. */
static bool
holds_key_file(pid_t pid)
{
	char link[256], *dir = th_printf("/proc/%d/fd", (int)pid);
	struct dirent *e;
	DIR *d = opendir(dir);
	bool found = false;
	ssize_t n;

	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	while (!found && (e = readdir(d)) != NULL) {
		n = readlink(th_printf("%s/%s", dir, e->d_name), link,
		    sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strstr(link, "lintel-ticket-keys") != NULL;
		}
	}
	closedir(d);
	return found;
}

START_TEST(upgrade_keeps_ticket_keys)
{
	pid_t		 old, new = -1, kids[16];
	int64_t		 end;
	int		 port, st;
	tres_t		*r;
	SSL_SESSION	*sess;
	const char	*out;

	make_pki();
	th_origin_start(th_portn(9), "O");
	old = th_start(th_conf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a") " ); }; " ROUTE_ORIGIN
	    " } );\n"));
	port = th_portn(1);
	/* Sessions from the old binary's workers: TLS 1.3 and 1.2. */
	r = tls_ok(port, &(tcli_t){ .sni = "a.test" });
	sess = r->session;
	ck_assert_msg(sess != NULL && SSL_SESSION_is_resumable(sess),
	    "no TLS 1.3 ticket came");
	out = s_client(port, "-sess_out sess12");
	ck_assert_msg(strstr(out, "New, TLSv1.2") != NULL, "%s", out);

	/* USR2, WINCH, QUIT: only the new binary's workers are left. */
	th_signal(SIGUSR2);
	end = th_deadline(TH_START_MS);
	do {
		new = th_read_pid(th_path("lintel.pid"));
		if (new > 0 && new != old)
			break;
		th_nap();
	} while (!th_expired(end));
	ck_assert_msg(new > 0 && new != old, "no new master after USR2");
	end = th_deadline(TH_START_MS);
	while (th_children(new, kids, TH_NELEM(kids)) < 3 && !th_expired(end))
		th_nap();
	ck_assert_msg(th_children(new, kids, TH_NELEM(kids)) >= 3,
	    "the new master has no workers");
	/* The keys' descriptor stays in no process, old or new. */
	ck_assert_msg(!holds_key_file(old), "the old master kept the keys' fd");
	ck_assert_msg(!holds_key_file(new), "the new master kept the keys' fd");
	for (size_t i = 0; i < th_children(new, kids, TH_NELEM(kids)); i++)
		ck_assert_msg(!holds_key_file(kids[i]), "child %d of the new "
		    "master holds the keys' fd", (int)kids[i]);
	th_signal(SIGWINCH);
	th_signal(SIGQUIT);
	st = th_wait_master_exit(TH_STOP_MS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the old master "
	    "ended with %s", th_status_str(st));
	th_adopt_master(new);
	ck_assert_ptr_nonnull(th_find_line(th_read_file(th_path("error.log")),
	    th_printf(" %d#master: session ticket keys taken over", (int)new)));

	/* Both sessions resume on the new workers. */
	r = tls_get(port, &(tcli_t){ .sni = "a.test", .session = sess });
	ck_assert_msg(r->status == 200, "status %d: %s", r->status, r->error);
	ck_assert_msg(r->resumed, "a TLS 1.3 session did not resume after "
	    "the upgrade");
	out = s_client(port, "-sess_in sess12");
	ck_assert_msg(strstr(out, "Reused, TLSv1.2") != NULL, "a TLS 1.2 "
	    "session did not resume after the upgrade:\n%s", out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* OCSP, client certificates, HSTS, redirects */

/* The stapled response of <r> is the file <name> of the test dir. */
static void
assert_staple_is(const tres_t *r, const char *name)
{
	unsigned char	 buf[8192];
	FILE		*f = fopen(th_path(name), "rb");
	size_t		 n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_msg(r->stapled, "nothing stapled");
	ck_assert_msg((size_t)r->staple_len == n &&
	    memcmp(r->staple, buf, n) == 0, "the stapled response (%ld "
	    "bytes) is not %s (%zu bytes)", r->staple_len, name, n);
}

START_TEST(ocsp_stapling)
{
	char	*out, *err;
	int	 rc, port;
	tres_t	*r;

	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = [ \"a.test\", \"b.test\" ];\n"
	    "  tls = { certificates = (\n"
	    "    { cert = \"@TMPDIR@/a.pem\"; key = \"@TMPDIR@/a.key\";\n"
	    "      ocsp_response = \"@TMPDIR@/a.ocsp\"; },\n"
	    "    " CERT("b") " ); };\n"
	    "  " ROUTE_ORIGIN " } );\n"));
	port = th_portn(1);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test", .status = true });
	ck_assert_msg(r->stapled, "no OCSP response stapled for a.test");
	r = tls_ok(port, &(tcli_t){ .sni = "b.test", .status = true });
	ck_assert_str_eq(r->cn, "b.test");
	ck_assert_msg(!r->stapled, "b.test has no OCSP response");
	rc = th_exec((const char *[]){ "sh", "-c", th_printf("echo | "
	    "openssl s_client -connect 127.0.0.1:%d -servername a.test "
	    "-status -CAfile '%s' 2>&1", port, th_path("ca.pem")), NULL },
	    &out, &err);
	ck_assert_msg(rc == 0, "s_client: %s", out);
	ck_assert_msg(strstr(out, "OCSP Response Status: successful") !=
	    NULL && strstr(out, "Cert Status: good") != NULL, "%s", out);
	/* A fresh response, a reload: the new one is stapled. */
	r = tls_ok(port, &(tcli_t){ .sni = "a.test", .status = true });
	assert_staple_is(r, "a.ocsp");
	sleep(1);	/* a different thisUpdate, so different bytes */
	sh("openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key "
	    "-CA ca.pem -reqin a.req -respout a.ocsp.new -ndays 1 >/dev/null "
	    "2>&1 && mv a.ocsp.new a.ocsp");
	th_signal(SIGHUP);
	th_wait_ready();
	r = tls_ok(port, &(tcli_t){ .sni = "a.test", .status = true });
	assert_staple_is(r, "a.ocsp");
}
END_TEST

/* a.test asks for client certificates (<mode>), b.test does not. */
static int
start_mtls(const char *mode)
{
	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(th_printf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a") " );\n"
	    "    client_certificate = { ca = \"@TMPDIR@/cca.pem\"; "
	    "mode = \"%s\"; }; };\n"
	    "  routes = ( { path = \"/\"; upstream = \"origin\"; } ); },\n"
	    " { listen = \"127.0.0.1:@PORT_1@ tls\"; names = \"b.test\";\n"
	    "  tls = { certificates = ( " CERT("b") " ); }; " ROUTE_ORIGIN
	    " } );\n", mode)));
	return th_portn(1);
}

/* GET /headers for a.test, with a forged subject field. */
#define HEADERS_REQ(host) \
	"GET /headers HTTP/1.1\r\nHost: " host "\r\n" \
	"X-Client-Subject: CN=mallory\r\nConnection: close\r\n\r\n"

START_TEST(client_certificate_required)
{
	int	 port = start_mtls("required");
	tres_t	*r;

	r = tls_get(port, &(tcli_t){ .sni = "a.test",
	    .request = HEADERS_REQ("a.test") });
	ck_assert_msg(r->status == 0, "served without a client certificate: "
	    "%d", r->status);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test",
	    .cert = th_path("alice.pem"), .key = th_path("alice.key"),
	    .request = HEADERS_REQ("a.test") });
	ck_assert_msg(strstr(r->response, "X-Client-Subject: CN=alice,"
	    "O=Example\r\n") != NULL, "%s", r->response);
	ck_assert_msg(strstr(r->response, "mallory") == NULL,
	    "the forged field went upstream: %s", r->response);
	/* A certificate from another CA is refused. */
	r = tls_get(port, &(tcli_t){ .sni = "a.test",
	    .cert = th_path("b.pem"), .key = th_path("b.key") });
	ck_assert_int_eq(r->status, 0);
	/* The site without client certificates does not ask. */
	r = tls_ok(port, &(tcli_t){ .sni = "b.test" });
	/* A handshake for b.test cannot reach a.test by its Host. */
	r = tls_get(port, &(tcli_t){ .sni = "b.test",
	    .request = HEADERS_REQ("a.test") });
	ck_assert_int_eq(r->status, 421);
	ck_assert_int_eq(log_count("[error]"), 0);
}
END_TEST

START_TEST(client_certificate_optional)
{
	int	 port = start_mtls("optional");
	tres_t	*r;

	r = tls_ok(port, &(tcli_t){ .sni = "a.test",
	    .request = HEADERS_REQ("a.test") });
	ck_assert_msg(strstr(r->response, "X-Client-Subject") == NULL,
	    "a subject without a certificate: %s", r->response);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test",
	    .cert = th_path("alice.pem"), .key = th_path("alice.key"),
	    .request = HEADERS_REQ("a.test") });
	ck_assert_msg(strstr(r->response, "X-Client-Subject: CN=alice,"
	    "O=Example\r\n") != NULL, "%s", r->response);
	/* Resumed, the session still knows its certificate. */
	r = tls_ok(port, &(tcli_t){ .sni = "a.test", .session = r->session,
	    .cert = th_path("alice.pem"), .key = th_path("alice.key"),
	    .request = HEADERS_REQ("a.test") });
	ck_assert(r->resumed);
	ck_assert_msg(strstr(r->response, "X-Client-Subject: CN=alice,"
	    "O=Example\r\n") != NULL, "%s", r->response);
}
END_TEST

START_TEST(redirect_to_https)
{
	th_resp_t	*r;

	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a") " ); }; " ROUTE_ORIGIN
	    " },\n"
	    " { listen = \"127.0.0.1:@PORT_2@\"; redirect_https = @PORT_1@; }"
	    " );\n"));
	r = th_req(th_portn(2), "GET /x/y?z=1 HTTP/1.1\r\nHost: a.test\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 301);
	ck_assert_pstr_eq(th_header(r, "Location"),
	    th_printf("https://a.test:%d/x/y?z=1", th_portn(1)));
	r = th_req(th_portn(2), "POST /form HTTP/1.1\r\nHost: a.test:80\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	ck_assert_int_eq(r->status, 308);
	ck_assert_pstr_eq(th_header(r, "Location"),
	    th_printf("https://a.test:%d/form", th_portn(1)));
	tls_ok(th_portn(1), &(tcli_t){ .sni = "a.test" });
}
END_TEST

/* ------------------------------------------------------------------ */
/* Reloads and certificate errors */

/* A load loop over TLS in a child: a new connection per request. */
typedef struct tload {
	pid_t		 pid;
	volatile long	 ok;
	volatile long	 failed;
	volatile long	 changed;	/* answers with the new certificate */
	volatile int	 stop;
	char		 first_error[512];
} tload_t;

static tload_t *
tls_load_start(int port)
{
	tload_t	*l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t	 parent = getpid();
	tres_t	*r;

	ck_assert(l != MAP_FAILED);
	memset(l, 0, sizeof(*l));
	l->pid = fork();
	ck_assert(l->pid != -1);
	if (l->pid > 0)
		return l;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	while (!l->stop) {
		r = tls_get(port, &(tcli_t){ .sni = "a.test",
		    .request = "GET /id HTTP/1.1\r\nHost: a.test\r\n"
		    "Connection: close\r\n\r\n" });
		if (r->status == 200) {
			l->ok++;
			continue;
		}
		if (l->failed++ == 0)
			snprintf(l->first_error, sizeof(l->first_error),
			    "status %d: %.400s", r->status, r->error);
	}
	_exit(0);
}

static void
tls_load_wait(tload_t *l, long more)
{
	long	 target = l->ok + l->failed + more;
	int64_t	 end = th_deadline(TH_IO_MS);

	while (l->ok + l->failed < target && !th_expired(end))
		th_nap();
	ck_assert_msg(l->ok + l->failed >= target, "the TLS load loop is "
	    "stuck: ok=%ld failed=%ld", l->ok, l->failed);
}

static void
tls_load_finish(tload_t *l)
{
	int	 st;

	l->stop = 1;
	ck_assert(th_wait_exit(l->pid, TH_IO_MS, &st));
}

/* The serial number of the certificate in <file> of the test dir. */
static const char *
serial_of(const char *file)
{
	const char	*argv[] = { "openssl", "x509", "-noout", "-serial",
	    "-in", NULL, NULL };
	char		*out, *err;

	argv[5] = th_path(file);
	ck_assert_int_eq(th_exec(argv, &out, &err), 0);
	ck_assert_msg(strncmp(out, "serial=", 7) == 0, "%s", out);
	out[strcspn(out, "\n")] = '\0';
	return out + 7;
}

START_TEST(reload_swaps_certificate_under_load)
{
	const char	*first, *second;
	tload_t		*load;
	tres_t		*r;
	int		 port;

	make_pki();
	sh("cp a.pem cur.pem && cp a.key cur.key && chmod 600 cur.key");
	first = serial_of("a.pem");
	second = serial_of("a2.pem");
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("cur") " ); }; " ROUTE_ORIGIN
	    " } );\n"));
	port = th_portn(1);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test" });
	ck_assert_str_eq(r->serial, first);

	load = tls_load_start(port);
	tls_load_wait(load, 20);
	/* New files in place, then HUP: open connections keep the old. */
	sh("cp a2.key cur.key.new && chmod 600 cur.key.new && "
	    "cp a2.pem cur.pem.new && mv cur.key.new cur.key && "
	    "mv cur.pem.new cur.pem");
	th_signal(SIGHUP);
	th_wait_ready();
	tls_load_wait(load, 20);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test" });
	ck_assert_msg(strcmp(r->serial, second) == 0, "still serving %s, "
	    "not %s", r->serial, second);

	/* An expired certificate is refused and the current one serves. */
	sh("cp old.pem cur.pem && cp old.key cur.key");
	th_signal(SIGHUP);
	th_wait_ready();
	ck_assert_msg(th_wait_file_line(th_path("error.log"), "reload failed: "
	    , TH_IO_MS) != NULL, "no reload failure logged");
	ck_assert_ptr_nonnull(th_find_line(th_read_file(th_path("error.log")),
	    "cur.pem: the certificate expired on"));
	tls_load_wait(load, 20);
	tls_load_finish(load);
	ck_assert_msg(load->failed == 0, "%ld of %ld TLS requests failed "
	    "across the reloads; first: %s", load->failed,
	    load->ok + load->failed, load->first_error);
	r = tls_ok(port, &(tcli_t){ .sni = "a.test" });
	ck_assert_str_eq(r->serial, second);
}
END_TEST

/* `lintel -t` on <file>, a site with certificate entry <entry>: its exit
 * status, and its stderr in <*err>. */
static int
check_cert_entry(const char *file, const char *entry, char **err)
{
	const char	*conf;
	char		*out;

	conf = th_conf_file(file, th_printf(TLS_BASE UPS
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\";\n"
	    "  tls = { certificates = ( %s ); }; " ROUTE_ORIGIN " } );\n",
	    entry));
	return th_lintel(&out, err, "-t", "-c", conf, NULL);
}

/* `lintel -t` on a site with certificate entry <entry> fails with <want>. */
#define assert_cert_error(entry, want) \
	assert_cert_error_at(__LINE__, (entry), (want))
static void
assert_cert_error_at(int line, const char *entry, const char *want)
{
	char	*err;
	int	 rc = check_cert_entry("bad.conf", entry, &err);

	ck_assert_msg(rc == 1, "line %d: lintel -t exited %d:\n%s", line, rc,
	    err);
	ck_assert_msg(strstr(err, th_expand(want)) != NULL, "line %d: "
	    "expected \"%s\" in:\n%s", line, th_expand(want), err);
}

START_TEST(certificate_errors)
{
	make_pki();
	sh("cp a.key open.key && chmod 644 open.key && "
	    "openssl pkey -in a.key -aes128 -passout pass:x -out enc.key && "
	    "chmod 600 enc.key");
	assert_cert_error(CERT("old"), "bad.conf:5: cert: @TMPDIR@/old.pem: "
	    "the certificate expired on Jan  2 00:00:00 2020 GMT");
	assert_cert_error("{ cert = \"@TMPDIR@/a.pem\"; "
	    "key = \"@TMPDIR@/b.key\"; }", "key: @TMPDIR@/b.key: does not "
	    "match the certificate @TMPDIR@/a.pem: key values mismatch");
	assert_cert_error("{ cert = \"@TMPDIR@/none.pem\"; "
	    "key = \"@TMPDIR@/a.key\"; }", "cert: @TMPDIR@/none.pem: cannot "
	    "read: No such file or directory");
	assert_cert_error("{ cert = \"@TMPDIR@/a.key\"; "
	    "key = \"@TMPDIR@/a.key\"; }", "cert: @TMPDIR@/a.key: no "
	    "certificate: no start line");
	assert_cert_error("{ cert = \"@TMPDIR@/a.pem\"; "
	    "key = \"@TMPDIR@/open.key\"; }", "key: @TMPDIR@/open.key: the "
	    "key is readable by others (mode 0644)");
	assert_cert_error("{ cert = \"@TMPDIR@/a.pem\"; "
	    "key = \"@TMPDIR@/enc.key\"; }", "key: @TMPDIR@/enc.key: the key "
	    "is encrypted");
	assert_cert_error("{ cert = \"@TMPDIR@/b.pem\"; key = "
	    "\"@TMPDIR@/b.key\"; ocsp_response = \"@TMPDIR@/a.ocsp\"; }",
	    "ocsp_response: @TMPDIR@/a.ocsp: it is not about this "
	    "certificate");
	assert_cert_error(CERT("a") ", " CERT("a2"), "cert: @TMPDIR@/a2.pem "
	    "has the names and key type of @TMPDIR@/a.pem");
}
END_TEST

/* The certificate, or with <key> the private key, in <name>. */
static void *
read_pem(const char *name, bool key)
{
	BIO	*b = BIO_new_file(th_path(name), "r");
	void	*obj;

	ck_assert_ptr_nonnull(b);
	obj = key ? (void *)PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) :
	    (void *)PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ck_assert_msg(obj != NULL, "cannot read %s", name);
	return obj;
}

/*
 * Write to <name> a response about a.crt saying <status>, made <this_days>
 * from now, with a nextUpdate a day later unless <no_next>, signed by the
 * certificate <signer> with <key> (files of the test dir); its certificate
 * ID hashed with <id_md> (NULL: SHA-1).
 */
static void
write_ocsp(const char *name, int status, long this_days, bool no_next,
    const char *signer, const char *key_file, const EVP_MD *id_md)
{
	X509		*cert = read_pem("a.crt", false);
	X509		*ca = read_pem("ca.pem", false);
	X509		*rsigner = read_pem(signer, false);
	EVP_PKEY	*key = read_pem(key_file, true);
	OCSP_BASICRESP	*bs = OCSP_BASICRESP_new();
	OCSP_CERTID	*id = OCSP_cert_to_id(id_md, cert, ca);
	OCSP_RESPONSE	*resp;
	ASN1_TIME	*thisupd = X509_gmtime_adj(NULL, this_days * 86400);
	ASN1_TIME	*nextupd = no_next ? NULL :
			    X509_gmtime_adj(NULL, (this_days + 1) * 86400);
	ASN1_TIME	*revoked = X509_gmtime_adj(NULL, -86400);
	unsigned char	*der = NULL;
	FILE		*f;
	int		 len;

	ck_assert_ptr_nonnull(id);
	ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id, status,
	    status == V_OCSP_CERTSTATUS_REVOKED ?
	    OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0,
	    status == V_OCSP_CERTSTATUS_REVOKED ? revoked : NULL, thisupd,
	    nextupd));
	ck_assert_int_eq(OCSP_basic_sign(bs, rsigner, key, EVP_sha256(), NULL,
	    0), 1);
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	ck_assert_ptr_nonnull(resp);
	ck_assert_int_gt(len = i2d_OCSP_RESPONSE(resp, &der), 0);
	ck_assert_ptr_nonnull(f = fopen(th_path(name), "wb"));
	ck_assert_uint_eq(fwrite(der, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	OPENSSL_free(der);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(revoked);
	EVP_PKEY_free(key);
	X509_free(rsigner);
	X509_free(ca);
	X509_free(cert);
}

/* a.pem with the OCSP response <file> of the test dir. */
#define WITH_OCSP(file) \
	"{ cert = \"@TMPDIR@/a.pem\"; key = \"@TMPDIR@/a.key\"; " \
	"ocsp_response = \"@TMPDIR@/" file "\"; }"

START_TEST(ocsp_response_errors)
{
	make_pki();
	/* About b.crt; signed by the client CA, a stranger to a.crt. */
	sh("openssl ocsp -issuer ca.pem -cert b.crt -no_nonce -reqout b.req "
	    ">/dev/null 2>&1 && openssl ocsp -index index.txt -rsigner ca.pem "
	    "-rkey ca.key -CA ca.pem -reqin b.req -respout b.ocsp -ndays 1 "
	    ">/dev/null 2>&1 && openssl ocsp -index index.txt -rsigner cca.pem "
	    "-rkey cca.key -CA ca.pem -reqin a.req -respout stranger.ocsp "
	    "-ndays 1 >/dev/null 2>&1");
	/* Signed properly, but its nextUpdate was yesterday. */
	write_ocsp("stale.ocsp", V_OCSP_CERTSTATUS_GOOD, -2, false, "ca.pem",
	    "ca.key", NULL);
	assert_cert_error(WITH_OCSP("b.ocsp"), "bad.conf:5: ocsp_response: "
	    "@TMPDIR@/b.ocsp: it is not about this certificate");
	assert_cert_error(WITH_OCSP("stranger.ocsp"), "bad.conf:5: "
	    "ocsp_response: @TMPDIR@/stranger.ocsp: it is not signed by the "
	    "certificate's issuer or a responder the issuer authorized: "
	    "certificate verify error");
	assert_cert_error(WITH_OCSP("stale.ocsp"), "bad.conf:5: "
	    "ocsp_response: @TMPDIR@/stale.ocsp: it expired on ");
	assert_cert_error(WITH_OCSP("none.ocsp"), "bad.conf:5: "
	    "ocsp_response: @TMPDIR@/none.ocsp: cannot read: No such file");
	assert_cert_error(WITH_OCSP("a.pem"), "bad.conf:5: ocsp_response: "
	    "@TMPDIR@/a.pem: not a DER OCSP response");
}
END_TEST

/* lintel -t takes the certificate entry <entry>. */
#define assert_cert_ok(entry) assert_cert_ok_at(__LINE__, entry)
static void
assert_cert_ok_at(int line, const char *entry)
{
	char	*err;
	int	 rc = check_cert_entry("good.conf", entry, &err);

	ck_assert_msg(rc == 0, "line %d: lintel -t exited %d:\n%s", line, rc,
	    err);
}

/* What a response says, and who signs it, decides whether it loads. */
START_TEST(ocsp_response_status_and_signer)
{
	make_pki();
	/* b.crt: from the same CA, but not authorized to sign for it. */
	sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout resp.key -out resp.csr -subj /CN=responder -addext "
	    "extendedKeyUsage=OCSPSigning 2>/dev/null && openssl ca -batch "
	    "-config ca.cnf -cert ca.pem -keyfile ca.key -in resp.csr "
	    "-out resp.crt -notext -days 2 2>/dev/null");
	write_ocsp("revoked.ocsp", V_OCSP_CERTSTATUS_REVOKED, 0, false,
	    "ca.pem", "ca.key", NULL);
	write_ocsp("unknown.ocsp", V_OCSP_CERTSTATUS_UNKNOWN, 0, false,
	    "ca.pem", "ca.key", NULL);
	write_ocsp("ahead.ocsp", V_OCSP_CERTSTATUS_GOOD, 1, false,
	    "ca.pem", "ca.key", NULL);
	write_ocsp("noeku.ocsp", V_OCSP_CERTSTATUS_GOOD, 0, false,
	    "b.crt", "b.key", NULL);
	write_ocsp("delegated.ocsp", V_OCSP_CERTSTATUS_GOOD, 0, false,
	    "resp.crt", "resp.key", NULL);
	write_ocsp("nonext.ocsp", V_OCSP_CERTSTATUS_GOOD, 0, true,
	    "ca.pem", "ca.key", NULL);
	/* A responder answers in the hash the request used (RFC 6960 4.1.1). */
	write_ocsp("sha256id.ocsp", V_OCSP_CERTSTATUS_GOOD, 0, false,
	    "ca.pem", "ca.key", EVP_sha256());
	assert_cert_error(WITH_OCSP("revoked.ocsp"), "bad.conf:5: "
	    "ocsp_response: @TMPDIR@/revoked.ocsp: it says the certificate "
	    "is revoked");
	assert_cert_error(WITH_OCSP("unknown.ocsp"), "bad.conf:5: "
	    "ocsp_response: @TMPDIR@/unknown.ocsp: it says the certificate "
	    "is unknown");
	assert_cert_error(WITH_OCSP("ahead.ocsp"), "bad.conf:5: "
	    "ocsp_response: @TMPDIR@/ahead.ocsp: its dates are not valid now");
	assert_cert_error(WITH_OCSP("noeku.ocsp"), "bad.conf:5: "
	    "ocsp_response: @TMPDIR@/noeku.ocsp: it is not signed by the "
	    "certificate's issuer or a responder the issuer authorized");
	/* RFC 6960 4.2.2.2, and a response without nextUpdate (nginx too). */
	assert_cert_ok(WITH_OCSP("delegated.ocsp"));
	assert_cert_ok(WITH_OCSP("nonext.ocsp"));
	assert_cert_ok(WITH_OCSP("sha256id.ocsp"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Upstreams over TLS: lintel's own tls sites serve as the servers */

#define UPSTREAM_TLS_CONF \
	TLS_BASE \
	"upstreams = (\n" \
	" { name = \"origin\";\n" \
	"   servers = ( { address = \"127.0.0.1:@PORT_9@\"; } ); },\n" \
	" { name = \"pooled\";\n" \
	"   servers = ( { address = \"127.0.0.1:@PORT_2@\"; } );\n" \
	"   tls = { ca = \"@TMPDIR@/ca.pem\"; sni = \"a.test\"; }; },\n" \
	" { name = \"fresh\"; keepalive = 0;\n" \
	"   servers = ( { address = \"127.0.0.1:@PORT_2@\"; } );\n" \
	"   tls = { ca = \"@TMPDIR@/ca.pem\"; sni = \"a.test\"; }; },\n" \
	" { name = \"badca\";\n" \
	"   servers = ( { address = \"127.0.0.1:@PORT_2@\"; } );\n" \
	"   tls = { ca = \"@TMPDIR@/cca.pem\"; sni = \"a.test\"; }; },\n" \
	" { name = \"badname\"; servers = ( { address = " \
	"\"127.0.0.1:@PORT_2@\"; } );\n" \
	"   tls = { ca = \"@TMPDIR@/ca.pem\"; sni = \"b.test\"; }; },\n" \
	" { name = \"noverify\"; servers = ( { address = " \
	"\"127.0.0.1:@PORT_2@\"; } );\n   tls = { verify = false; }; },\n" \
	" { name = \"mtls\"; servers = ( { address = \"127.0.0.1:@PORT_3@\"; " \
	"} );\n   tls = { ca = \"@TMPDIR@/ca.pem\"; sni = \"a.test\";\n" \
	"     cert = \"@TMPDIR@/alice.pem\";\n" \
	"     key = \"@TMPDIR@/alice.key\"; }; }" \
	"\n);\n" \
	"sites = (\n" \
	" { listen = \"127.0.0.1:@PORT_2@ tls\"; tls = { certificates = ( " \
	CERT("a") " ); };\n   " ROUTE_ORIGIN " },\n" \
	" { listen = \"127.0.0.1:@PORT_3@ tls\"; tls = { certificates = ( " \
	CERT("a") " );\n   client_certificate = { ca = \"@TMPDIR@/cca.pem\";" \
	" }; };\n   " ROUTE_ORIGIN " },\n" \
	PLAIN_SITE("pooled") PLAIN_SITE("fresh") PLAIN_SITE("badca") \
	PLAIN_SITE("badname") PLAIN_SITE("noverify") PLAIN_SITE("mtls") \
	" { listen = \"127.0.0.1:@PORT_1@\"; " ROUTE_ORIGIN " } );\n"

/* A plain site on @PORT_1@ named <up>.test, served by the upstream <up>. */
#define PLAIN_SITE(up) \
	" { listen = \"127.0.0.1:@PORT_1@\"; names = \"" up ".test\";\n" \
	"   routes = ( { path = \"/\"; upstream = \"" up "\"; } ); },\n"

/* GET <path> from the plain port for the site <host>. */
static th_resp_t *
get_via(const char *host, const char *path)
{
	return th_req(th_portn(1), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: close\r\n\r\n", path, host);
}

/* Log lines holding both <a> and <b>. */
static int
log_lines_with(const char *a, const char *b)
{
	const char	*log = th_read_file(th_path("error.log")), *p, *eol;
	int		 n = 0;

	for (p = log; p != NULL && *p != '\0'; p = eol + 1) {
		const char	*line = p;
		char		*copy;

		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p) - 1;
		copy = th_printf("%.*s", (int)(eol - line), line);
		n += strstr(copy, a) != NULL && strstr(copy, b) != NULL;
	}
	return n;
}

START_TEST(tls_upstreams)
{
	th_resp_t	*r;
	int		 i;

	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(UPSTREAM_TLS_CONF));
	/* Verified, pooled: fewer handshakes than requests. */
	for (i = 0; i < 6; i++) {
		r = get_via("pooled.test", "/id");
		ck_assert_int_eq(r->status, 200);
		ck_assert_str_eq(r->body, "O");
	}
	ck_assert_int_le(log_lines_with("TLS handshake with", "site=pooled"),
	    2);
	/* Not pooled: each request connects, and resumes the session. */
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(get_via("fresh.test", "/id")->status, 200);
	ck_assert_int_eq(log_lines_with("TLS handshake with", "site=fresh"),
	    6);
	ck_assert_int_ge(log_lines_with("session resumed", "site=fresh"), 4);
	/* Verification failures are 502s. */
	r = get_via("badca.test", "/id");
	ck_assert_int_eq(r->status, 502);
	ck_assert_int_ge(log_lines_with("certificate verify failed",
	    "site=badca"), 1);
	r = get_via("badname.test", "/id");
	ck_assert_int_eq(r->status, 502);
	ck_assert_int_eq(get_via("noverify.test", "/id")->status, 200);
	/* A client certificate for the upstream that asks for one. */
	r = get_via("mtls.test", "/headers");
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(strstr(r->body, "X-Client-Subject: CN=alice,O=Example")
	    != NULL, "%s", r->body);
	th_allow_log("certificate verify failed");
}
END_TEST

/*
 * The server on @PORT_2@ (openssl s_server) speaks TLS 1.2 only, with one
 * cipher; the upstreams offer it various versions and ciphers.
 */
#define UPSTREAM_VERSIONS_CONF \
	TLS_BASE \
	"upstreams = (\n" \
	" { name = \"origin\";\n" \
	"   servers = ( { address = \"127.0.0.1:@PORT_9@\"; } ); },\n" \
	" { name = \"v12\"; servers = ( { address = \"127.0.0.1:@PORT_2@\"; " \
	"} );\n   tls = { ca = \"@TMPDIR@/ca.pem\"; sni = \"a.test\"; }; },\n" \
	" { name = \"v13\"; servers = ( { address = \"127.0.0.1:@PORT_2@\"; " \
	"} );\n   tls = { ca = \"@TMPDIR@/ca.pem\"; sni = \"a.test\"; " \
	"min_version = \"TLSv1.3\"; }; },\n" \
	" { name = \"aes256\"; servers = ( { address = " \
	"\"127.0.0.1:@PORT_2@\"; } );\n   tls = { ca = \"@TMPDIR@/ca.pem\"; " \
	"sni = \"a.test\";\n" \
	"     ciphers = \"ECDHE-ECDSA-AES256-GCM-SHA384\"; }; },\n" \
	" { name = \"aes128\"; servers = ( { address = " \
	"\"127.0.0.1:@PORT_2@\"; } );\n   tls = { ca = \"@TMPDIR@/ca.pem\"; " \
	"sni = \"a.test\";\n" \
	"     ciphers = \"ECDHE-ECDSA-AES128-GCM-SHA256\"; }; }\n);\n" \
	"sites = (\n" \
	PLAIN_SITE("v12") PLAIN_SITE("v13") PLAIN_SITE("aes256") \
	PLAIN_SITE("aes128") \
	" { listen = \"127.0.0.1:@PORT_1@\"; " ROUTE_ORIGIN " } );\n"

/*
 * Start `openssl s_server` on <port> with a.pem: TLS 1.2 and <cipher>
 * only, answering any GET with a status page.  It dies with this test.
 */
static pid_t
start_s_server(int port, const char *cipher)
{
	pid_t	 pid;
	int64_t	 end;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL ||
		    chdir(th_tmpdir()) == -1)
			_exit(127);
		execlp("openssl", "openssl", "s_server", "-quiet", "-www",
		    "-accept", th_printf("127.0.0.1:%d", port), "-cert",
		    "a.pem", "-key", "a.key", "-tls1_2", "-cipher", cipher,
		    (char *)NULL);
		_exit(127);
	}
	/* Ready once a handshake works. */
	end = th_deadline(TH_START_MS);
	while (!tls_get(port, &(tcli_t){ .sni = "a.test",
	    .version = TLS1_2_VERSION })->handshake) {
		ck_assert_msg(!th_expired(end), "openssl s_server did not "
		    "start on port %d", port);
		th_nap();
	}
	return pid;
}

START_TEST(tls_upstream_versions_and_ciphers)
{
	const char	*conf;
	char		*out, *err;
	int		 rc;
	pid_t		 server;

	make_pki();
	th_origin_start(th_portn(9), "O");
	server = start_s_server(th_portn(2), "ECDHE-ECDSA-AES128-GCM-SHA256");
	th_start(th_conf(UPSTREAM_VERSIONS_CONF));
	ck_assert_int_eq(get_via("v12.test", "/id")->status, 200);
	ck_assert_int_eq(get_via("aes128.test", "/id")->status, 200);
	/* Nothing in common with the server: a failed handshake, 502. */
	ck_assert_int_eq(get_via("v13.test", "/id")->status, 502);
	ck_assert_int_ge(log_lines_with("alert protocol version", "site=v13"),
	    1);
	ck_assert_int_eq(get_via("aes256.test", "/id")->status, 502);
	ck_assert_int_ge(log_lines_with("alert handshake failure",
	    "site=aes256"), 1);
	th_allow_log("TLS handshake with");
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);

	/* Bad values are configuration errors at their line. */
	conf = th_conf_file("bad.conf", TLS_BASE
	    "upstreams = ( { name = \"u\";\n"
	    "  servers = ( { address = \"127.0.0.1:@PORT_2@\"; } );\n"
	    "  tls = { min_version = \"TLSv1.1\";\n"
	    "    ciphers = \"NO-SUCH-CIPHER\"; }; } );\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@\";\n"
	    "  routes = ( { path = \"/\"; upstream = \"u\"; } ); } );\n");
	rc = th_lintel(&out, &err, "-t", "-c", conf, NULL);
	ck_assert_msg(rc == 1, "lintel -t exited %d:\n%s", rc, err);
	ck_assert_msg(strstr(err, "bad.conf:4: min_version: ") != NULL, "%s",
	    err);
	ck_assert_msg(strstr(err, "bad.conf:5: ciphers: no usable cipher in "
	    "\"NO-SUCH-CIPHER\"") != NULL, "%s", err);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Clients that do not speak TLS */

START_TEST(non_tls_clients_are_dropped)
{
	/* The first bytes of a ClientHello, then nothing. */
	static const char partial[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
	    "\x03\x03";
	static const char garbage[] = "\x16\x03\x01\x00\x04"
	    "abcdefghijklmnop";
	th_conn_t	*c;
	int		 port;

	make_pki();
	th_origin_start(th_portn(9), "O");
	th_start(th_conf(TLS_BASE UPS "handshake_timeout = \"1s\";\n"
	    "sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; "
	    "names = \"a.test\";\n"
	    "  tls = { certificates = ( " CERT("a") " ); }; " ROUTE_ORIGIN
	    " } );\n"));
	port = th_portn(1);
	/* Plain HTTP to the TLS port. */
	c = th_conn_open(port);
	th_conn_sendf(c, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "plain HTTP kept open");
	th_conn_close(c);
	/* Garbage. */
	c = th_conn_open(port);
	ck_assert_int_eq(th_conn_send(c, garbage, sizeof(garbage) - 1), 0);
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "garbage kept open");
	th_conn_close(c);
	/* Silence, and a handshake that stalls: handshake_timeout. */
	c = th_conn_open(port);
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "a silent client was "
	    "kept open");
	th_conn_close(c);
	c = th_conn_open(port);
	ck_assert_int_eq(th_conn_send(c, partial, sizeof(partial) - 1), 0);
	ck_assert_msg(th_conn_closed(c, TH_IO_MS), "a stalled handshake was "
	    "kept open");
	th_conn_close(c);
	/* The daemon still serves, and logged all that as routine. */
	tls_ok(port, &(tcli_t){ .sni = "a.test" });
	ck_assert_int_ge(log_lines_with("[info]", "TLS handshake failed"), 2);
	ck_assert_int_ge(log_lines_with("[info]", "TLS handshake timed out"),
	    2);
	ck_assert_int_eq(log_count("[error]"), 0);
}
END_TEST

int
main(void)
{
	Suite	*s;

	s = suite_create("40-tls");
	TH_TEST(s, https_basics);
	TH_TEST(s, sni_selects_certificate);
	TH_TEST(s, rsa_and_ecdsa_side_by_side);
	TH_TEST(s, versions_and_alpn);
	TH_TEST(s, resumption_on_another_worker);
	TH_TEST(s, upgrade_keeps_ticket_keys);
	TH_TEST(s, ocsp_stapling);
	TH_TEST(s, client_certificate_required);
	TH_TEST(s, client_certificate_optional);
	TH_TEST(s, redirect_to_https);
	TH_TEST(s, reload_swaps_certificate_under_load);
	TH_TEST(s, certificate_errors);
	TH_TEST(s, ocsp_response_errors);
	TH_TEST(s, ocsp_response_status_and_signer);
	TH_TEST(s, tls_upstreams);
	TH_TEST(s, tls_upstream_versions_and_ciphers);
	TH_TEST(s, non_tls_clients_are_dropped);
	return th_run(s);
}
