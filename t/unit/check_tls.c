/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for TLS (tls_conf.c, tls_ticket.c, tls.c): the tls keys of
 * sites and upstreams with their defaults, one row per error they can
 * report, the -T dump read back, the choice of a context by SNI, session
 * ticket keys and their rotation across processes, and the parsing of the
 * SNI extension.  Certificates are made here with OpenSSL.  The two .c
 * files with the functions under test are included to reach their
 * statics.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "conf_keys.h"
#include "tls_conf.h"
#include "util.h"

#include "tls.c"
#include "tls_ticket.c"

static char tmpdir[] = "/tmp/lnt-check-tls-XXXXXX";

/* "<tmpdir>/<name>", malloc'd. */
static char *
tpath(const char *name)
{
	return lnt_xasprintf("%s/%s", tmpdir, name);
}

static void
write_pem(const char *name, int (*fn)(FILE *, void *), void *obj, int mode)
{
	char *path = tpath(name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fn(f, obj), 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, (mode_t)mode), 0);
	free(path);
}

static int
put_cert(FILE *f, void *x)
{
	return PEM_write_X509(f, x);
}

static int
put_key(FILE *f, void *k)
{
	return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
}

/*
 * A self-signed certificate <name>.pem with key <name>.key for the names
 * <san> ("DNS:a.test,DNS:b.test"), valid from <from> to <to> seconds from
 * now, with an RSA key if <rsa>, else ECDSA P-256.
 */
static void
make_cert(const char *name, const char *san, long from, long to, bool rsa)
{
	static long serial = 1;
	EVP_PKEY *pkey = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	char *pem, *key;

	ck_assert_ptr_nonnull(pkey);
	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, pkey);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	ck_assert_ptr_nonnull(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(x, pkey, EVP_sha256()), 0);
	pem = lnt_xasprintf("%s.pem", name);
	key = lnt_xasprintf("%s.key", name);
	write_pem(pem, put_cert, x, 0644);
	write_pem(key, put_key, pkey, 0600);
	free(pem);
	free(key);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	make_cert("a", "DNS:a.test", -60, 86400, false);
	make_cert("a-rsa", "DNS:a.test", -60, 86400, true);
	make_cert("b", "DNS:b.test,DNS:www.b.test", -60, 86400, false);
	make_cert("w", "DNS:*.w.test", -60, 86400, false);
	make_cert("old", "DNS:old.test", -7200, -3600, false);
	make_cert("new", "DNS:new.test", 86400, 2 * 86400, false);
}

static void
teardown(void)
{
	char *cmd = lnt_xasprintf("rm -rf '%s'", tmpdir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
}

/*
 * Load <text> as t.conf, @D@ standing for the temp dir; <errors> receives
 * the loader's messages, with "<tmpdir>/" taken out.
 */
static lnt_conf_t *
load_text(const char *text, lnt_strlist_t *errors)
{
	char *path = tpath("t.conf"), *full, *p, *q;
	lnt_strlist_t raw = { 0 };
	lnt_conf_t *conf;
	size_t off = 0, len = strlen(text) * 2 + 64;
	FILE *f;

	full = lnt_xmalloc(len + 64 * 16);
	for (p = (char *)(uintptr_t)text; *p != '\0'; p++) {
		if (strncmp(p, "@D@", 3) == 0) {
			off += (size_t)sprintf(full + off, "%s", tmpdir);
			p += 2;
		} else
			full[off++] = *p;
	}
	full[off] = '\0';
	if (getpwnam(LNT_DEFAULT_USER) == NULL)
		strcat(full, "\nuser = \"nobody\";\n");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(full, f);
	fclose(f);
	conf = lnt_conf_load(path, &raw);
	for (size_t i = 0; i < raw.n; i++) {
		char *s = lnt_xstrdup(raw.items[i]);

		while ((q = strstr(s, tmpdir)) != NULL)
			memmove(q, q + strlen(tmpdir) + 1, strlen(q +
			    strlen(tmpdir) + 1) + 1);
		lnt_strlist_addf(errors, "%s", s);
		free(s);
	}
	lnt_strlist_free(&raw);
	free(full);
	free(path);
	return conf;
}

static lnt_conf_t *
load_ok(const char *text)
{
	lnt_strlist_t errors = { 0 };
	lnt_conf_t *conf = load_text(text, &errors);

	ck_assert_msg(conf != NULL && errors.n == 0, "refused: %s",
	    errors.n > 0 ? errors.items[0] : "(no message)");
	lnt_strlist_free(&errors);
	return conf;
}

#define UPS \
	"upstreams = ( { name = \"app\"; servers = ( { address = " \
	"\"127.0.0.1:9000\"; } ); } );\n"
#define ROUTES	"routes = ( { path = \"/\"; upstream = \"app\"; } );"
/* A tls site on line 2 with <tls> as its tls group's body. */
#define TLS_SITE(tls) \
	UPS "sites = ( { listen = \"127.0.0.1:8443 tls\"; tls = { " tls \
	" }; " ROUTES " } );\n"
#define CERT(n)	"{ cert = \"@D@/" n ".pem\"; key = \"@D@/" n ".key\"; }"
#define CERTS(c) "certificates = ( " c " );"

START_TEST(good_site)
{
	lnt_conf_t *conf = load_ok(UPS "sites = ( {\n"
	    " listen = \"127.0.0.1:8443 tls\"; names = [ \"a.test\", "
	    "\"b.test\", \"*.w.test\" ];\n"
	    " tls = { " CERTS(CERT("a") ", " CERT("a-rsa") ", " CERT("b") ", "
	    CERT("w")) "\n"
	    "  client_certificate = { ca = \"@D@/a.pem\"; }; };\n"
	    " " ROUTES " },\n"
	    " { listen = \"127.0.0.1:8080\"; redirect_https = 8443; } );\n");
	lnt_tls_site_t *tls = conf->sites[0].tls;
	lnt_tls_ctx_t *a;

	ck_assert_ptr_nonnull(tls);
	ck_assert(conf->listens[0].tls);
	ck_assert(!conf->listens[1].tls);
	ck_assert_int_eq(conf->sites[1].redirect_https, 8443);
	ck_assert_ptr_null(conf->sites[1].tls);
	/* RSA and ECDSA for a.test share a context; b and w have theirs. */
	ck_assert_uint_eq(tls->ncerts, 4);
	ck_assert_uint_eq(tls->nctxs, 3);
	a = &tls->ctxs[0];
	ck_assert_int_eq(a->key_types, 0x03);
	ck_assert_str_eq(a->names[0], "a.test");
	ck_assert_ptr_eq(lnt_tls_conf_ctx_for(tls, "B.test", 6), &tls->ctxs[1]);
	ck_assert_ptr_eq(lnt_tls_conf_ctx_for(tls, "www.b.test.", 11),
	    &tls->ctxs[1]);
	ck_assert_ptr_eq(lnt_tls_conf_ctx_for(tls, "x.w.test", 8),
	    &tls->ctxs[2]);
	/* A wildcard covers one label only. */
	ck_assert_ptr_eq(lnt_tls_conf_ctx_for(tls, "x.y.w.test", 10), a);
	ck_assert_ptr_eq(lnt_tls_conf_ctx_for(tls, "other.test", 10), a);
	ck_assert_ptr_eq(lnt_tls_conf_ctx_for(tls, NULL, 0), a);
	/* Defaults. */
	ck_assert_int_eq(tls->min_version, LNT_TLS_V12);
	ck_assert_str_eq(tls->ciphers, LNT_TLS_CIPHERS);
	ck_assert_str_eq(tls->ciphersuites, LNT_TLS_CIPHERSUITES);
	ck_assert_str_eq(tls->groups, LNT_TLS_GROUPS);
	ck_assert_ptr_null(tls->hsts);
	ck_assert_int_eq(tls->client->depth, 2);
	ck_assert_int_eq(tls->client->mode, LNT_TLS_CLIENT_REQUIRED);
	ck_assert_str_eq(tls->client->header, "X-Client-Subject");
	ck_assert_int_eq(SSL_CTX_get_verify_mode(a->ctx), SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(a->ctx),
	    TLS1_2_VERSION);
	ck_assert_int_eq(SSL_CTX_get_timeout(a->ctx), 3600);
	ck_assert_int_eq(conf->limits.handshake_timeout, 10000);
	ck_assert_int_eq(conf->tls_session_timeout, 3600000);
	lnt_conf_free(conf);
}
END_TEST

START_TEST(good_upstream)
{
	lnt_conf_t *conf = load_ok("upstreams = (\n"
	    " { name = \"a\"; servers = ( { address = \"127.0.0.1:1\"; } ); "
	    "tls = true; },\n"
	    " { name = \"b\"; servers = ( { address = \"127.0.0.1:2\"; } );\n"
	    "   tls = { ca = \"@D@/a.pem\"; sni = \"a.test\"; cert = "
	    "\"@D@/b.pem\"; key = \"@D@/b.key\"; }; },\n"
	    " { name = \"c\"; servers = ( { address = \"127.0.0.1:3\"; } );\n"
	    "   tls = { verify = false; }; },\n"
	    " { name = \"app\"; servers = ( { address = \"127.0.0.1:4\"; } ); "
	    "tls = false; } );\n"
	    "sites = ( { listen = \"127.0.0.1:8080\"; " ROUTES " } );\n");

	ck_assert_ptr_nonnull(conf->upstreams[0].tls);
	ck_assert(conf->upstreams[0].tls->verify);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(conf->upstreams[0].tls->ctx),
	    SSL_VERIFY_PEER);
	ck_assert_str_eq(conf->upstreams[1].tls->sni, "a.test");
	ck_assert_ptr_nonnull(SSL_CTX_get0_certificate(
	    conf->upstreams[1].tls->ctx));
	ck_assert(!conf->upstreams[2].tls->verify);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(conf->upstreams[2].tls->ctx),
	    SSL_VERIFY_NONE);
	ck_assert_ptr_null(conf->upstreams[3].tls);
	lnt_conf_free(conf);
}
END_TEST

static const struct {
	const char	*text;
	const char	*error;		/* the first message */
} bad[] = {
	{ TLS_SITE(""), "t.conf:2: tls: missing required key 'certificates'" },
	{ TLS_SITE("certificates = ( );"), "t.conf:2: certificates: expected "
	  "at least 1 entry, got an empty list" },
	{ TLS_SITE("certificates = ( { cert = \"@D@/a.pem\"; } );"),
	  "t.conf:2: certificate: missing required key 'key'" },
	{ TLS_SITE(CERTS("{ cert = \"@D@/none.pem\"; key = \"@D@/a.key\"; }")),
	  "t.conf:2: cert: none.pem: cannot read: No such file or directory" },
	{ TLS_SITE(CERTS(CERT("old"))), "t.conf:2: cert: old.pem: the "
	  "certificate expired on " },
	{ TLS_SITE(CERTS(CERT("new"))), "t.conf:2: cert: new.pem: the "
	  "certificate is not valid before " },
	{ TLS_SITE(CERTS("{ cert = \"@D@/a.pem\"; key = \"@D@/b.key\"; }")),
	  "t.conf:2: key: b.key: does not match the certificate a.pem: key "
	  "values mismatch" },
	{ TLS_SITE(CERTS("{ cert = \"@D@/a.pem\"; key = \"@D@/a.pem\"; }")),
	  "t.conf:2: key: a.pem: the key is readable by others (mode 0644): "
	  "chmod o-rwx it" },
	{ TLS_SITE(CERTS("{ cert = \"@D@/a.key\"; key = \"@D@/a.key\"; }")),
	  "t.conf:2: cert: a.key: no certificate: no start line" },
	{ TLS_SITE(CERTS(CERT("a") ", " CERT("a"))), "t.conf:2: cert: a.pem "
	  "has the names and key type of a.pem" },
	{ TLS_SITE(CERTS("{ cert = \"@D@/a.pem\"; key = \"@D@/a.key\"; "
	  "ocsp_response = \"@D@/a.pem\"; }")), "t.conf:2: ocsp_response: "
	  "a.pem: not a DER OCSP response: " },
	{ TLS_SITE(CERTS(CERT("a")) " min_version = \"TLSv1.1\";"),
	  "t.conf:2: min_version: expected one of TLSv1.2, TLSv1.3, got "
	  "\"TLSv1.1\"" },
	{ TLS_SITE(CERTS(CERT("a")) " ciphers = \"NOPE\";"),
	  "t.conf:2: ciphers: no usable cipher in \"NOPE\": no cipher match" },
	{ TLS_SITE(CERTS(CERT("a")) " ciphersuites = \"TLS_NOPE\";"),
	  "t.conf:2: ciphersuites: \"TLS_NOPE\": no cipher match" },
	{ TLS_SITE(CERTS(CERT("a")) " groups = \"P-999\";"),
	  "t.conf:2: groups: \"P-999\": " },
	{ TLS_SITE(CERTS(CERT("a")) " hsts = \"1y\";"),
	  "t.conf:2: hsts: expected \"max-age=SECONDS\" and optional \"; "
	  "includeSubDomains\" or \"; preload\", got \"1y\"" },
	{ TLS_SITE(CERTS(CERT("a")) " hsts = \"max-age=5\\r\\nX: y\";"),
	  "t.conf:2: hsts: expected \"max-age=SECONDS\"" },
	{ TLS_SITE(CERTS(CERT("a")) " client_certificate = { };"),
	  "t.conf:2: client_certificate: missing required key 'ca'" },
	{ TLS_SITE(CERTS(CERT("a")) " client_certificate = {"
	  " ca = \"@D@/a.pem\";"
	  " mode = \"maybe\"; };"), "t.conf:2: mode: expected one of required, "
	  "optional, got \"maybe\"" },
	{ TLS_SITE(CERTS(CERT("a")) " client_certificate = {"
	  " ca = \"@D@/a.pem\";"
	  " header = \"Content-Length\"; };"), "t.conf:2: header: expected a "
	  "header field name other than the framing ones, got "
	  "\"Content-Length\"" },
	{ TLS_SITE(CERTS(CERT("a")) " client_certificate = {"
	  " ca = \"@D@/a.pem\";"
	  " header = \"X Y\"; };"), "t.conf:2: header: expected a header field "
	  "name other than the framing ones, got \"X Y\"" },
	{ TLS_SITE(CERTS(CERT("a")) " client_certificate = { ca = "
	  "\"@D@/none.pem\"; };"), "t.conf:2: ca: none.pem: " },
	{ TLS_SITE(CERTS(CERT("a")) " ciphres = \"x\";"), "t.conf:2: ciphres: "
	  "unknown key in a tls group (did you mean 'ciphers'?)" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8443 tls\"; " ROUTES " } );\n",
	  "t.conf:2: tls: the site listens on 127.0.0.1:8443 with tls but has "
	  "no tls group" },
	{ UPS "sites = ( { listen = \"127.0.0.1:8443 tls\"; tls = { "
	  CERTS(CERT("a")) " }; " ROUTES " },\n { listen = \"127.0.0.1:8443\"; "
	  ROUTES " } );\n", "t.conf:3: listen: 127.0.0.1:8443 is not tls here "
	  "but tls at t.conf:2" },
	{ UPS "sites = ( { listen = \"127.0.0.1:80\"; redirect_https = "
	  "\"yes\"; } );\n", "t.conf:2: redirect_https: expected true, false "
	  "or a port from 1 to 65535, got \"yes\"" },
	{ UPS "sites = ( { listen = \"127.0.0.1:80\"; redirect_https = 0; } "
	  ");\n", "t.conf:2: redirect_https: expected true, false or a port "
	  "from 1 to 65535, got 0" },
	{ UPS "sites = ( { listen = \"127.0.0.1:80\"; redirect_https = false; "
	  "} );\n", "t.conf:2: site: missing required key 'routes'" },
	{ "upstreams = ( { name = \"app\"; servers = ( { address = "
	  "\"127.0.0.1:1\"; } ); tls = 5; } );\n"
	  "sites = ( { listen = \"127.0.0.1:80\"; " ROUTES " } );\n",
	  "t.conf:1: tls: expected true, false or a group { ... }, got 5" },
	{ "upstreams = ( { name = \"app\"; servers = ( { address = "
	  "\"127.0.0.1:1\"; } ); tls = { cert = \"@D@/a.pem\"; }; } );\n"
	  "sites = ( { listen = \"127.0.0.1:80\"; " ROUTES " } );\n",
	  "t.conf:1: tls: a client certificate needs both cert and key" },
	{ "upstreams = ( { name = \"app\"; servers = ( { address = "
	  "\"127.0.0.1:1\"; } ); tls = { verfy = true; }; } );\n"
	  "sites = ( { listen = \"127.0.0.1:80\"; " ROUTES " } );\n",
	  "t.conf:1: verfy: unknown key in an upstream's tls group (did you "
	  "mean 'verify'?)" },
	{ "upstreams = ( { name = \"app\"; servers = ( { address = "
	  "\"127.0.0.1:1\"; } ); tls = { ca = \"@D@/none.pem\"; }; } );\n"
	  "sites = ( { listen = \"127.0.0.1:80\"; " ROUTES " } );\n",
	  "t.conf:1: ca: none.pem: " },
	{ "tls_session_timeout = -1;\n" TLS_SITE(CERTS(CERT("a"))),
	  "t.conf:1: tls_session_timeout: expected a duration such as \"30s\" "
	  "or an integer of seconds, got -1" },
	{ "handshake_timeout = 0;\n" TLS_SITE(CERTS(CERT("a"))),
	  "t.conf:1: handshake_timeout: expected a duration of at least 1ms "
	  "such as \"30s\" or an integer of seconds, got 0" },
};

START_TEST(bad_config)
{
	lnt_strlist_t errors = { 0 };

	ck_assert_ptr_null(load_text(bad[_i].text, &errors));
	ck_assert_msg(errors.n >= 1, "no error for:\n%s", bad[_i].text);
	ck_assert_msg(strncmp(errors.items[0], bad[_i].error,
	    strlen(bad[_i].error)) == 0, "row %d: got \"%s\", expected \"%s\"",
	    _i, errors.items[0], bad[_i].error);
	lnt_strlist_free(&errors);
}
END_TEST

/* <conf> as -T prints it, malloc'd. */
static char *
dump_text(const lnt_conf_t *conf)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	lnt_conf_dump(conf, f);
	fclose(f);
	/* The first line names the file it came from. */
	memmove(buf, strchr(buf, '\n') + 1, strlen(strchr(buf, '\n') + 1) + 1);
	return buf;
}

START_TEST(dump_round_trip)
{
	lnt_conf_t *conf, *again;
	char *first, *second, *path;
	lnt_strlist_t errors = { 0 };
	FILE *f;

	conf = load_ok("tls_session_timeout = \"2h\";\n"
	    "upstreams = ( { name = \"app\"; servers = ( { address = "
	    "\"127.0.0.1:9000\"; } );\n"
	    "  tls = { ca = \"@D@/a.pem\"; sni = \"a.test\"; }; } );\n"
	    "sites = ( { listen = \"127.0.0.1:8443 tls\";\n"
	    "  tls = { " CERTS(CERT("a") ", " CERT("a-rsa"))
	    " min_version = \"TLSv1.3\"; hsts = \"max-age=60\";\n"
	    "    client_certificate = { ca = \"@D@/a.pem\"; mode = "
	    "\"optional\"; depth = 3; }; };\n"
	    "  handshake_timeout = \"3s\"; " ROUTES " },\n"
	    " { listen = \"127.0.0.1:8080\"; redirect_https = true; } );\n");
	first = dump_text(conf);
	ck_assert_msg(strstr(first, "127.0.0.1:8443 backlog=511 tls") != NULL,
	    "%s", first);
	ck_assert_msg(strstr(first, "redirect_https = true;") != NULL, "%s",
	    first);
	path = tpath("dump.conf");
	f = fopen(path, "w");
	fputs(first, f);
	fclose(f);
	again = lnt_conf_load(path, &errors);
	ck_assert_msg(again != NULL, "dump refused: %s\n%s",
	    errors.n ? errors.items[0] : "", first);
	second = dump_text(again);
	ck_assert_str_eq(first, second);
	ck_assert_int_eq(again->sites[0].tls->client->depth, 3);
	ck_assert_int_eq(again->sites[0].limits.handshake_timeout, 3000);
	ck_assert_int_eq(again->sites[1].redirect_https, 443);
	free(first);
	free(second);
	free(path);
	lnt_strlist_free(&errors);
	lnt_conf_free(conf);
	lnt_conf_free(again);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Session ticket keys */

/*
 * Seal <plain> as a ticket would be for <ssl>: the callback names the key
 * and makes the IV; returns what the callback returned.
 */
static int
seal(SSL *ssl, unsigned char name[16], unsigned char iv[16],
    const char *plain, unsigned char *out, int *outlen)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *h = EVP_MAC_CTX_new(mac);
	int rc, n, m;

	rc = ticket_cb(ssl, name, iv, c, h, 1);
	if (rc == 1) {
		ck_assert(EVP_EncryptUpdate(c, out, &n,
		    (const unsigned char *)plain, (int)strlen(plain)) == 1);
		ck_assert(EVP_EncryptFinal_ex(c, out + n, &m) == 1);
		*outlen = n + m;
	}
	EVP_MAC_CTX_free(h);
	EVP_MAC_free(mac);
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/* Open a ticket sealed under <name> and <iv>; the callback's answer. */
static int
open_ticket(SSL *ssl, unsigned char name[16], unsigned char iv[16],
    const unsigned char *in, int inlen, char *plain)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *h = EVP_MAC_CTX_new(mac);
	int rc, n = 0, m = 0;

	rc = ticket_cb(ssl, name, iv, c, h, 0);
	if (rc > 0 && plain != NULL) {
		ck_assert(EVP_DecryptUpdate(c, (unsigned char *)plain, &n, in,
		    inlen) == 1);
		ck_assert(EVP_DecryptFinal_ex(c, (unsigned char *)plain + n,
		    &m) == 1);
		plain[n + m] = '\0';
	}
	EVP_MAC_CTX_free(h);
	EVP_MAC_free(mac);
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/*
 * An SSL that has settled on TLS 1.2 before any handshake: only the
 * version-specific method, deprecated for real use, gives one.
 */
static SSL_CTX *
tls12_ctx(void)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	return SSL_CTX_new(TLSv1_2_server_method());
#pragma GCC diagnostic pop
}

START_TEST(ticket_keys_rotate)
{
	SSL_CTX *ctx12 = tls12_ctx();
	SSL_CTX *ctx13 = SSL_CTX_new(TLS_server_method());
	SSL *s12 = SSL_new(ctx12), *s13 = SSL_new(ctx13);
	unsigned char n1[16], n2[16], iv1[16], iv2[16], t1[64], t2[64];
	char plain[64];
	int l1, l2;

	/* Before the master made keys: no tickets, full handshakes. */
	ck_assert_int_eq(seal(s12, n1, iv1, "x", t1, &l1), 0);
	ck_assert_int_eq(lnt_tls_tickets_init(-1), 0);
	ck_assert_int_eq(lnt_tls_tickets_rotate(0, 1000), 1000);
	ck_assert_int_eq(seal(s12, n1, iv1, "session one", t1, &l1), 1);
	/* TLS 1.2: the current key needs no new ticket; 1.3: always. */
	ck_assert_int_eq(open_ticket(s12, n1, iv1, t1, l1, plain), 1);
	ck_assert_str_eq(plain, "session one");
	ck_assert_int_eq(open_ticket(s13, n1, iv1, t1, l1, NULL), 2);
	/* Not due yet, then due: a new key, the old one still opens. */
	ck_assert_int_eq(lnt_tls_tickets_rotate(999, 1000), 1000);
	ck_assert_int_eq(seal(s12, n2, iv2, "session two", t2, &l2), 1);
	ck_assert_int_eq(memcmp(n1, n2, 16), 0);
	ck_assert_int_eq(lnt_tls_tickets_rotate(1000, 1000), 2000);
	ck_assert_int_eq(seal(s12, n2, iv2, "session two", t2, &l2), 1);
	ck_assert_int_ne(memcmp(n1, n2, 16), 0);
	ck_assert_int_eq(open_ticket(s12, n1, iv1, t1, l1, plain), 2);
	ck_assert_str_eq(plain, "session one");
	ck_assert_int_eq(open_ticket(s12, n2, iv2, t2, l2, plain), 1);
	ck_assert_str_eq(plain, "session two");
	/* Two periods on, the first key is gone. */
	ck_assert_int_eq(lnt_tls_tickets_rotate(2000, 1000), 3000);
	ck_assert_int_eq(open_ticket(s12, n1, iv1, t1, l1, NULL), 0);
	ck_assert_int_eq(open_ticket(s12, n2, iv2, t2, l2, NULL), 2);
	/* A shorter period takes effect at once; 0 stops rotating. */
	ck_assert_int_eq(lnt_tls_tickets_rotate(2500, 100), 2600);
	ck_assert_int_eq(lnt_tls_tickets_rotate(2600, 0), -1);
	SSL_free(s12);
	SSL_free(s13);
	SSL_CTX_free(ctx12);
	SSL_CTX_free(ctx13);
}
END_TEST

/* What a new master does with <fd>: a fresh page, no schedule, adopt. */
static int
as_new_master(int fd)
{
	munmap(shm, sizeof(*shm));
	shm = NULL;
	due = 0;
	return lnt_tls_tickets_init(fd);
}

START_TEST(ticket_keys_handed_over)
{
	SSL_CTX *ctx = tls12_ctx();
	SSL *ssl = SSL_new(ctx);
	unsigned char n1[16], iv1[16], t1[64], n2[16], iv2[16], t2[64];
	char plain[64];
	int fd, l1, l2;

	ck_assert_int_eq(lnt_tls_tickets_init(-1), 0);
	ck_assert_int_eq(lnt_tls_tickets_rotate(0, 1000), 1000);
	ck_assert_int_eq(lnt_tls_tickets_rotate(1000, 1000), 2000);
	ck_assert_int_eq(seal(ssl, n1, iv1, "before", t1, &l1), 1);
	/* 1400 ms on the clock: 600 left until the next rotation. */
	ck_assert_int_ne(fd = lnt_tls_tickets_export(1400), -1);
	ck_assert_int_eq(as_new_master(fd), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);	/* closed */
	ck_assert_uint_eq(shm->nkeys, 2);
	ck_assert_int_eq(open_ticket(ssl, n1, iv1, t1, l1, plain), 1);
	ck_assert_str_eq(plain, "before");
	/* The schedule goes on from the new master's clock. */
	ck_assert_int_eq(lnt_tls_tickets_rotate(lnt_now_mono(), 1000),
	    due);
	ck_assert(due > lnt_now_mono() && due <= lnt_now_mono() + 600);
	/* Garbage in the descriptor: new keys, old tickets fail. */
	ck_assert_int_eq(seal(ssl, n2, iv2, "x", t2, &l2), 1);
	fd = memfd_create("junk", 0);
	ck_assert_int_eq(write(fd, "junk", 4), 4);
	ck_assert_int_eq(as_new_master(fd), 0);
	ck_assert_uint_eq(shm->nkeys, 1);
	ck_assert_int_eq(open_ticket(ssl, n2, iv2, t2, l2, NULL), 0);
	close(fd);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}
END_TEST

/* A key past due when handed over is replaced at the first rotation. */
START_TEST(ticket_keys_overdue_handover)
{
	SSL_CTX *ctx = tls12_ctx();
	SSL *ssl = SSL_new(ctx);
	unsigned char n1[16], iv1[16], t1[64];
	lnt_msec_t now;
	int fd, l1;

	ck_assert_int_eq(lnt_tls_tickets_init(-1), 0);
	ck_assert_int_eq(lnt_tls_tickets_rotate(0, 1000), 1000);
	ck_assert_int_eq(seal(ssl, n1, iv1, "old", t1, &l1), 1);
	/* The old master's timer had not fired yet: 500 ms overdue. */
	ck_assert_int_ne(fd = lnt_tls_tickets_export(1500), -1);
	ck_assert_int_eq(as_new_master(fd), 0);
	ck_assert_uint_eq(shm->nkeys, 1);
	now = lnt_now_mono();
	ck_assert_int_eq(lnt_tls_tickets_rotate(now, 1000), now + 1000);
	ck_assert_uint_eq(shm->nkeys, 2);
	/* The overdue key only decrypts now, and asks for a new ticket. */
	ck_assert_int_eq(open_ticket(ssl, n1, iv1, t1, l1, NULL), 2);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}
END_TEST

/*
 * A descriptor that is not a sealed memory file (a stale or hand-set
 * variable naming some other open file) is neither read nor closed.
 */
START_TEST(ticket_keys_foreign_descriptor)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "0123456789abcdef0123456789abcdef",
	    32), 32);
	ck_assert_int_eq(as_new_master(p[0]), 0);
	ck_assert_int_ne(fcntl(p[0], F_GETFD), -1);	/* still open */
	ck_assert_uint_eq(shm->nkeys, 1);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* A sealed memory file holding <h>, as an old master leaves it. */
static int
handover_file(const handover_t *h)
{
	int fd = memfd_create("old", MFD_ALLOW_SEALING);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(pwrite(fd, h, sizeof(*h), 0), (ssize_t)sizeof(*h));
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL), 0);
	return fd;
}

/*
 * Keys exported long ago (the variable and descriptor survived a
 * downgrade to a binary that ignores them, then an upgrade) are not
 * taken: they would seal new tickets long after they were due to go.
 */
START_TEST(ticket_keys_stale_handover)
{
	handover_t h = { .magic = HANDOVER_MAGIC, .nkeys = 1, .left = 500 };

	memset(h.keys[0].name, 'k', sizeof(h.keys[0].name));
	h.made = lnt_now_mono();
	ck_assert_int_eq(as_new_master(handover_file(&h)), 0);
	ck_assert_int_eq(memcmp(shm->keys[0].name, h.keys[0].name, 16), 0);
	h.made = lnt_now_mono() - 3600 * 1000;
	ck_assert_int_eq(as_new_master(handover_file(&h)), 0);
	ck_assert_int_ne(memcmp(shm->keys[0].name, h.keys[0].name, 16), 0);
	ck_assert_uint_eq(shm->nkeys, 1);
	/* Nor keys from the future (another boot's clock). */
	h.made = lnt_now_mono() + 3600 * 1000;
	ck_assert_int_eq(as_new_master(handover_file(&h)), 0);
	ck_assert_int_ne(memcmp(shm->keys[0].name, h.keys[0].name, 16), 0);
}
END_TEST

START_TEST(ticket_keys_shared_with_children)
{
	SSL_CTX *ctx = tls12_ctx();
	SSL *ssl = SSL_new(ctx);
	unsigned char name[16], iv[16], t[64], child[16];
	int go[2], back[2], len, st;
	pid_t pid;

	ck_assert_int_eq(lnt_tls_tickets_init(-1), 0);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(back), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		/* A worker: it sees the key the master makes after fork. */
		char c;

		if (read(go[0], &c, 1) != 1 ||
		    seal(ssl, child, iv, "w", t, &len) != 1 ||
		    write(back[1], child, 16) != 16)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(lnt_tls_tickets_rotate(0, 10), 10);
	ck_assert_int_eq(lnt_tls_tickets_rotate(10, 10), 20);
	ck_assert_int_eq(seal(ssl, name, iv, "m", t, &len), 1);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	ck_assert_int_eq(read(back[0], child, 16), 16);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(memcmp(name, child, 16), 0);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* SNI and server names */

START_TEST(sni_extension)
{
	static const unsigned char good[] = "\x00\x09\x00\x00\x06" "a.test";
	static const unsigned char bad_list[] = "\x00\x0a\x00\x00\x06"
	    "a.test";
	static const unsigned char bad_type[] = "\x00\x09\x01\x00\x06"
	    "a.test";
	static const unsigned char long_name[] = "\x00\x0a\x00\x00\x07"
	    "a.test";
	static const unsigned char nul[] = "\x00\x09\x00\x00\x06" "a\0test";
	lnt_str_t s;

	s = sni_name(good, sizeof(good) - 1);
	ck_assert_uint_eq(s.len, 6);
	ck_assert_int_eq(memcmp(s.p, "a.test", 6), 0);
	ck_assert_uint_eq(sni_name(bad_list, sizeof(bad_list) - 1).len, 0);
	ck_assert_uint_eq(sni_name(bad_type, sizeof(bad_type) - 1).len, 0);
	ck_assert_uint_eq(sni_name(long_name, sizeof(long_name) - 1).len, 0);
	ck_assert_uint_eq(sni_name(nul, sizeof(nul) - 1).len, 0);
	ck_assert_uint_eq(sni_name(good, 4).len, 0);
}
END_TEST

START_TEST(upstream_names)
{
	char buf[64];

	ck_assert_str_eq(address_host("backend.internal:8443", buf,
	    sizeof(buf)), "backend.internal");
	ck_assert_str_eq(address_host("[::1]:8443", buf, sizeof(buf)), "::1");
	ck_assert_str_eq(address_host("10.0.0.1:443", buf, sizeof(buf)),
	    "10.0.0.1");
	ck_assert(is_ip("10.0.0.1"));
	ck_assert(is_ip("::1"));
	ck_assert(!is_ip("backend.internal"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tls");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("conf");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, good_site);
	tcase_add_test(tc, good_upstream);
	tcase_add_loop_test(tc, bad_config, 0, (int)LNT_NELEM(bad));
	tcase_add_test(tc, dump_round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("tickets");
	tcase_add_test(tc, ticket_keys_rotate);
	tcase_add_test(tc, ticket_keys_shared_with_children);
	tcase_add_test(tc, ticket_keys_handed_over);
	tcase_add_test(tc, ticket_keys_overdue_handover);
	tcase_add_test(tc, ticket_keys_foreign_descriptor);
	tcase_add_test(tc, ticket_keys_stale_handover);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_test(tc, sni_extension);
	tcase_add_test(tc, upstream_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
