/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The tls keys of sites and upstreams, and the OpenSSL contexts built from
 * them while the config loads, in the master: certificates, chains and
 * private keys are read there, before any process drops privileges, and
 * everything wrong with them (unreadable, expired, not matching, readable
 * by others) is a config error naming the file and OpenSSL's reason, so a
 * reload that would break TLS keeps the old config serving.
 */
#include "config.h"

#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libconfig.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "conf_keys.h"
#include "tls.h"
#include "tls_conf.h"
#include "util.h"

#define OCSP_MAX	(1024 * 1024)	/* bytes of an OCSP response file */

/* A certificate file read: the leaf, its chain and its names. */
typedef struct pem {
	X509		*x;
	STACK_OF(X509)	*chain;
	EVP_PKEY	*pkey;
	char		**names;
	size_t		  nnames;
} pem_t;

/* Never prompt for a passphrase: a daemon has no one to ask. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* An ASN.1 time as "Nov 22 12:00:00 2026 GMT" into <buf>. */
static const char *
asn1_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	if (b != NULL && ASN1_TIME_print(b, t) == 1)
		n = BIO_read(b, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
	return buf;
}

/* Open <path> for OpenSSL, with errno's reason in <why> when it cannot. */
static BIO *
open_file(const char *path, char *why, size_t len)
{
	FILE *f = fopen(path, "r");
	BIO *b;

	if (f == NULL) {
		snprintf(why, len, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if ((b = BIO_new_fp(f, BIO_CLOSE)) == NULL) {
		fclose(f);
		snprintf(why, len, "out of memory");
	}
	return b;
}

/* Add the DNS name <name> (of <len> bytes) to <p>, lower case. */
static void
add_name(pem_t *p, const char *name, size_t len)
{
	char *s = lnt_xstrndup(name, len);

	for (char *q = s; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	p->names = lnt_xrealloc(p->names, (p->nnames + 1) * sizeof(char *));
	p->names[p->nnames++] = s;
}

/* The DNS names of <p->x>: subjectAltName, else the common name. */
static void
cert_names(pem_t *p)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(p->x, NID_subject_alt_name,
	    NULL, NULL);
	X509_NAME *subj = X509_get_subject_name(p->x);
	const ASN1_STRING *s;
	int i;

	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

		if (g->type != GEN_DNS)
			continue;
		s = g->d.dNSName;
		add_name(p, (const char *)ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
	}
	GENERAL_NAMES_free(sans);
	if (p->nnames > 0)
		return;
	i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (i >= 0) {
		s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		add_name(p, (const char *)ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
	}
	ERR_clear_error();
}

/*
 * Read the certificate <path>: the leaf and the chain after it; check it
 * is valid now.  Returns 0, or -1 with the reason in <why>.
 */
static int
read_cert(const char *path, pem_t *p, char *why, size_t len)
{
	char buf[256], when[64];
	unsigned long e;
	BIO *b;
	X509 *c;

	if ((b = open_file(path, why, len)) == NULL)
		return -1;
	ERR_clear_error();
	p->x = PEM_read_bio_X509_AUX(b, NULL, no_password, NULL);
	if (p->x == NULL) {
		snprintf(why, len, "no certificate: %s", lnt_tls_reason(buf,
		    sizeof(buf)));
		BIO_free(b);
		return -1;
	}
	p->chain = sk_X509_new_null();
	while ((c = PEM_read_bio_X509(b, NULL, no_password, NULL)) != NULL)
		if (p->chain == NULL || sk_X509_push(p->chain, c) == 0)
			X509_free(c);
	e = ERR_peek_last_error();
	BIO_free(b);
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();		/* the end of the file */
	} else if (e != 0) {
		snprintf(why, len, "bad chain certificate: %s", lnt_tls_reason(buf,
		    sizeof(buf)));
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(p->x)) < 0) {
		snprintf(why, len, "the certificate expired on %s",
		    asn1_time_text(X509_get0_notAfter(p->x), when,
		    sizeof(when)));
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(p->x)) > 0) {
		snprintf(why, len, "the certificate is not valid before %s",
		    asn1_time_text(X509_get0_notBefore(p->x), when,
		    sizeof(when)));
		return -1;
	}
	cert_names(p);
	return 0;
}

/*
 * Read the private key <path>, which others may not read, into <p->pkey>.
 * Returns 0, or -1 with the reason in <why>.
 */
static int
read_key(const char *path, pem_t *p, char *why, size_t len)
{
	char buf[256];
	unsigned long e;
	struct stat st;
	BIO *b;

	if (stat(path, &st) == -1) {
		snprintf(why, len, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(why, len, "the key is %s by others (mode %04o): "
		    "chmod o-rwx it", st.st_mode & S_IROTH ? "readable" :
		    "writable", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if ((b = open_file(path, why, len)) == NULL)
		return -1;
	ERR_clear_error();
	p->pkey = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
	BIO_free(b);
	if (p->pkey != NULL)
		return 0;
	e = ERR_peek_last_error();
	if (ERR_GET_REASON(e) == PEM_R_BAD_PASSWORD_READ ||
	    ERR_GET_REASON(e) == PEM_R_PROBLEMS_GETTING_PASSWORD) {
		ERR_clear_error();
		snprintf(why, len, "the key is encrypted; lintel reads "
		    "unencrypted keys only");
	} else
		snprintf(why, len, "no private key: %s", lnt_tls_reason(buf,
		    sizeof(buf)));
	return -1;
}

/* Read certificate <cert> and key <key> and check that they match. */
static int
read_pair(const char *cert, const char *key, pem_t *p, const char **what,
    char *why, size_t len)
{
	char buf[256];

	*what = "cert";
	if (read_cert(cert, p, why, len) == -1)
		return -1;
	*what = "key";
	if (read_key(key, p, why, len) == -1)
		return -1;
	if (X509_check_private_key(p->x, p->pkey) != 1) {
		snprintf(why, len, "does not match the certificate %s: %s",
		    cert, lnt_tls_reason(buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

static void
pem_free(pem_t *p)
{
	X509_free(p->x);
	sk_X509_pop_free(p->chain, X509_free);
	EVP_PKEY_free(p->pkey);
	for (size_t i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

/* Give <ctx> the certificate, chain and key of <p>; 0 or -1. */
static int
use_pem(SSL_CTX *ctx, pem_t *p)
{
	return SSL_CTX_use_certificate(ctx, p->x) == 1 &&
	    SSL_CTX_set1_chain(ctx, p->chain) == 1 &&
	    SSL_CTX_use_PrivateKey(ctx, p->pkey) == 1 ? 0 : -1;
}

/* A class of key: one certificate of each may share a context. */
static int
key_class(EVP_PKEY *pkey)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		return 0x01;
	case EVP_PKEY_EC:
		return 0x02;
	case EVP_PKEY_ED25519:
		return 0x04;
	case EVP_PKEY_ED448:
		return 0x08;
	default:
		return 0x10;
	}
}

/* Whether the name sets <a> (of <na>) and <b> (of <nb>) are equal. */
static bool
same_names(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && strcmp(a[i], b[j]) != 0; j++)
			;
		if (j == nb)
			return false;
	}
	return true;
}

/* The setting named <name> in group <s>, else <s> itself. */
static const config_setting_t *
member(const config_setting_t *s, const char *name)
{
	const config_setting_t *m = s != NULL ?
	    config_setting_get_member(s, name) : NULL;

	return m != NULL ? m : s;
}

/*
 * The TLS 1.2 <ciphers> and TLS 1.3 <ciphersuites> of <ctx>; -1 after
 * reporting at the key in <s>, the tls group.  Listeners and upstreams
 * take the same two keys, and OpenSSL's refusals read alike for both.
 */
static int
set_ciphers(lnt_cf_t *cf, const config_setting_t *s, SSL_CTX *ctx,
    const char *ciphers, const char *ciphersuites)
{
	char buf[256];

	if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		lnt_conf_error(cf, member(s, "ciphers"), "ciphers: no usable "
		    "cipher in \"%s\": %s", ciphers, lnt_tls_reason(buf,
		    sizeof(buf)));
		return -1;
	}
	if (SSL_CTX_set_ciphersuites(ctx, ciphersuites) != 1) {
		lnt_conf_error(cf, member(s, "ciphersuites"), "ciphersuites: "
		    "\"%s\": %s", ciphersuites, lnt_tls_reason(buf,
		    sizeof(buf)));
		return -1;
	}
	return 0;
}

/*
 * A server context for <tls> with its versions, ciphers, groups, client
 * certificate settings and callbacks; NULL after reporting (at <s>, the
 * tls group) what OpenSSL refused.
 */
static SSL_CTX *
server_ctx(lnt_cf_t *cf, const config_setting_t *s, lnt_tls_site_t *tls)
{
	const lnt_tls_client_conf_t *cc = tls->client;
	STACK_OF(X509_NAME) *cas;
	char buf[256];
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		lnt_conf_error(cf, s, "tls: %s", lnt_tls_reason(buf, sizeof(buf)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, tls->min_version == LNT_TLS_V13 ?
	    TLS1_3_VERSION : TLS1_2_VERSION);
	/* Compression (CRIME) and renegotiation (DoS) stay off. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/*
	 * Read what the socket has in one recv(): OpenSSL still says
	 * WANT_READ only after the socket said EAGAIN, which is what the
	 * edge-triggered callers wait for.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	/* Tickets carry the sessions; no per-worker cache to miss in.  One
	 * ticket a handshake: each resumption brings a fresh one. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_default_passwd_cb(ctx, no_password);
	if (set_ciphers(cf, s, ctx, tls->ciphers, tls->ciphersuites) == -1)
		goto fail;
	if (SSL_CTX_set1_groups_list(ctx, tls->groups) != 1) {
		lnt_conf_error(cf, member(s, "groups"), "groups: \"%s\": %s",
		    tls->groups, lnt_tls_reason(buf, sizeof(buf)));
		goto fail;
	}
	if (cc != NULL && cc->ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cc->ca, NULL) != 1 ||
		    (cas = SSL_load_client_CA_file(cc->ca)) == NULL) {
			lnt_conf_error(cf, member(member(s,
			    "client_certificate"), "ca"), "ca: %s: %s", cc->ca,
			    lnt_tls_reason(buf, sizeof(buf)));
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, cas);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    (cc->mode == LNT_TLS_CLIENT_REQUIRED ?
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
		SSL_CTX_set_verify_depth(ctx, cc->depth);
	}
	lnt_tls_server_ctx_setup(ctx);
	lnt_tls_tickets_setup(ctx);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Read a whole small file into a malloc'd buffer; NULL with <why>. */
static unsigned char *
slurp(const char *path, size_t *len, char *why, size_t wlen)
{
	unsigned char *buf;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		snprintf(why, wlen, "cannot read: %s", strerror(errno));
		return NULL;
	}
	buf = lnt_xmalloc(OCSP_MAX);
	n = fread(buf, 1, OCSP_MAX, f);
	if (ferror(f) || n == OCSP_MAX) {
		snprintf(why, wlen, ferror(f) ? "cannot read: %s" :
		    "larger than 1m", strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* The issuer of <p->x> among its chain, or NULL. */
static X509 *
issuer_of(const pem_t *p)
{
	for (int i = 0; i < sk_X509_num(p->chain); i++) {
		X509 *c = sk_X509_value(p->chain, i);

		if (X509_check_issued(c, p->x) == X509_V_OK)
			return c;
	}
	return NULL;
}

/*
 * Whether <bs> is signed by <issuer> or by a responder it delegated OCSP
 * signing to (RFC 6960 4.2.2.2), found in <bs> or among <p>'s chain: NULL
 * or the reason, in <why> of <wlen> bytes.  The issuer is the only trust
 * anchor, whether it is a root or an intermediate.
 */
static const char *
ocsp_signer_check(OCSP_BASICRESP *bs, const pem_t *p, X509 *issuer,
    char *why, size_t wlen)
{
	X509_STORE *st = X509_STORE_new();
	const char *data, *r;
	char detail[256] = "", reason[256] = "unknown error";
	unsigned long e;
	int ok, flags;

	if (st == NULL || X509_STORE_add_cert(st, issuer) != 1) {
		X509_STORE_free(st);
		snprintf(why, wlen, "cannot check its signature: %s",
		    lnt_tls_reason(reason, sizeof(reason)));
		return why;
	}
	ok = OCSP_basic_verify(bs, p->chain, st, OCSP_PARTIAL_CHAIN);
	X509_STORE_free(st);
	if (ok == 1)
		return NULL;
	/* The certificate verification's reason rides on an error's data. */
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if ((r = ERR_reason_error_string(e)) != NULL)
			snprintf(reason, sizeof(reason), "%s", r);
		if ((flags & ERR_TXT_STRING) && data != NULL && *data != '\0')
			snprintf(detail, sizeof(detail), " (%s)", data);
	}
	snprintf(why, wlen, "it is not signed by the certificate's issuer or "
	    "a responder the issuer authorized: %s%s", reason, detail);
	return why;
}

/*
 * Whether a response of <thisupd> and <nextupd> is current: NULL, with
 * <*next> its nextUpdate (0: none), or the reason in <why>.  A response
 * may come from a responder whose clock is a little ahead; once past its
 * nextUpdate it is stale, and stapling it would only make clients fail.
 */
static const char *
ocsp_dates(ASN1_GENERALIZEDTIME *thisupd, ASN1_GENERALIZEDTIME *nextupd,
    int64_t *next, char *why, size_t wlen)
{
	struct tm tm;
	char when[64];

	if (nextupd != NULL && X509_cmp_current_time(nextupd) <= 0) {
		snprintf(why, wlen, "it expired on %s (its nextUpdate)",
		    asn1_time_text(nextupd, when, sizeof(when)));
		return why;
	}
	if (OCSP_check_validity(thisupd, nextupd, 300, -1) != 1)
		return "its dates are not valid now (thisUpdate ahead of the "
		    "clock, or after nextUpdate)";
	if (nextupd != NULL && ASN1_TIME_to_tm(nextupd, &tm) == 1)
		*next = (int64_t)timegm(&tm);
	return NULL;
}

/*
 * <x>'s certificate ID under <issuer>, hashed as <bs>'s first single
 * response is: a responder answers in the hash the request used (RFC 6960
 * 4.1.1), SHA-1 or another, and IDs of different hashes never match.
 */
static OCSP_CERTID *
cert_id_like(OCSP_BASICRESP *bs, X509 *x, X509 *issuer)
{
	OCSP_SINGLERESP *single = OCSP_resp_get0(bs, 0);
	ASN1_OBJECT *alg = NULL;
	const EVP_MD *md = NULL;

	if (single != NULL && OCSP_id_get0_info(NULL, &alg, NULL, NULL,
	    (OCSP_CERTID *)(uintptr_t)OCSP_SINGLERESP_get0_id(single)) == 1)
		md = EVP_get_digestbyobj(alg);
	return OCSP_cert_to_id(md, x, issuer);	/* NULL md: SHA-1 */
}

/*
 * Check that the DER OCSP response <der> is a successful basic response
 * about <p->x>, signed by its issuer (which must follow it in its chain)
 * or a responder the issuer authorized, saying "good", and current; sets
 * <*next> to its nextUpdate (0: none).  Returns NULL or the reason.
 */
static const char *
check_ocsp(const unsigned char *der, size_t len, const pem_t *p,
    int64_t *next, char *why, size_t wlen)
{
	const unsigned char *q = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &q, (long)len);
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	ASN1_GENERALIZEDTIME *thisupd, *nextupd;
	const char *msg = NULL;
	X509 *issuer;
	int status, rsn;
	char buf[256];

	*next = 0;
	if (resp == NULL) {
		snprintf(why, wlen, "not a DER OCSP response: %s", lnt_tls_reason(buf,
		    sizeof(buf)));
		return why;
	}
	if ((status = OCSP_response_status(resp)) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(why, wlen, "the responder answered \"%s\"",
		    OCSP_response_status_str(status));
		msg = why;
	} else if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		msg = "no basic OCSP response in it";
	} else if ((issuer = issuer_of(p)) == NULL) {
		msg = "the certificate's issuer must follow it in its file";
	} else if ((id = cert_id_like(bs, p->x, issuer)) == NULL ||
	    OCSP_resp_find_status(bs, id, &status, &rsn, NULL, &thisupd,
	    &nextupd) != 1) {
		msg = "it is not about this certificate";
	} else if ((msg = ocsp_signer_check(bs, p, issuer, why, wlen)) !=
	    NULL) {
		/* msg says why */
	} else if (status != V_OCSP_CERTSTATUS_GOOD) {
		snprintf(why, wlen, "it says the certificate is %s",
		    OCSP_cert_status_str(status));
		msg = why;
	} else {
		msg = ocsp_dates(thisupd, nextupd, next, why, wlen);
	}
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return msg;
}

/* The context of <tls> that <p> belongs in, made if there is none. */
static lnt_tls_ctx_t *
ctx_for_pem(lnt_cf_t *cf, const config_setting_t *s, lnt_tls_site_t *tls,
    const lnt_tls_cert_conf_t *cc, pem_t *p)
{
	int cls = key_class(p->pkey);
	lnt_tls_ctx_t *tc;
	SSL_CTX *ctx;
	size_t i;

	for (i = 0; i < tls->nctxs; i++) {
		tc = &tls->ctxs[i];
		if (!same_names(tc->names, tc->nnames, p->names, p->nnames))
			continue;
		if (tc->key_types & cls) {
			lnt_conf_error_at(cf, cc->file, cc->line, "cert: %s "
			    "has the names and key type of %s", cc->cert,
			    tc->first_cert);
			return NULL;
		}
		tc->key_types |= cls;
		return tc;
	}
	if ((ctx = server_ctx(cf, s, tls)) == NULL)
		return NULL;
	tls->ctxs = lnt_xrealloc(tls->ctxs, (tls->nctxs + 1) *
	    sizeof(*tls->ctxs));
	tc = &tls->ctxs[tls->nctxs++];
	memset(tc, 0, sizeof(*tc));
	tc->ctx = ctx;
	tc->key_types = cls;
	tc->first_cert = cc->cert;
	/* The context keeps the names: move them out of <p>. */
	tc->names = p->names;
	tc->nnames = p->nnames;
	p->names = NULL;
	p->nnames = 0;
	return tc;
}

/* Read the OCSP response of <cc> for <p> (in <tc>), reporting problems. */
static void
load_ocsp(lnt_cf_t *cf, const lnt_tls_cert_conf_t *cc, lnt_tls_ctx_t *tc,
    const pem_t *p)
{
	unsigned char *der;
	lnt_tls_ocsp_t *o;
	const char *msg;
	char why[256];
	int64_t next;
	size_t len;

	if ((der = slurp(cc->ocsp_response, &len, why, sizeof(why))) == NULL) {
		lnt_conf_error_at(cf, cc->file, cc->line, "ocsp_response: %s: "
		    "%s", cc->ocsp_response, why);
		return;
	}
	if ((msg = check_ocsp(der, len, p, &next, why, sizeof(why))) != NULL) {
		lnt_conf_error_at(cf, cc->file, cc->line, "ocsp_response: %s: "
		    "%s", cc->ocsp_response, msg);
		free(der);
		return;
	}
	tc->ocsp = lnt_xrealloc(tc->ocsp, (tc->nocsp + 1) * sizeof(*tc->ocsp));
	o = &tc->ocsp[tc->nocsp++];
	o->cert = SSL_CTX_get0_certificate(tc->ctx);
	o->der = der;
	o->len = len;
	o->next_update = next;
}

/* Load one entry of tls.certificates into the right context of <tls>. */
static void
load_cert(lnt_cf_t *cf, const config_setting_t *s, lnt_tls_site_t *tls,
    const lnt_tls_cert_conf_t *cc)
{
	const char *what;
	char why[512], buf[256];
	lnt_tls_ctx_t *tc;
	pem_t p = { 0 };

	if (cc->cert == NULL || cc->key == NULL)
		return;			/* reported as missing */
	if (read_pair(cc->cert, cc->key, &p, &what, why, sizeof(why)) == -1) {
		lnt_conf_error_at(cf, cc->file, cc->line, "%s: %s: %s", what,
		    strcmp(what, "cert") == 0 ? cc->cert : cc->key, why);
		goto done;
	}
	if (p.nnames == 0) {
		lnt_conf_error_at(cf, cc->file, cc->line, "cert: %s names no "
		    "host (no subjectAltName, no common name)", cc->cert);
		goto done;
	}
	if ((tc = ctx_for_pem(cf, s, tls, cc, &p)) == NULL)
		goto done;
	if (use_pem(tc->ctx, &p) == -1) {
		lnt_conf_error_at(cf, cc->file, cc->line, "cert: %s: %s",
		    cc->cert, lnt_tls_reason(buf, sizeof(buf)));
		goto done;
	}
	if (cc->ocsp_response != NULL)
		load_ocsp(cf, cc, tc, &p);
done:
	pem_free(&p);
}

/* Build the contexts of the site tls group <tls> read from <s>. */
static void
build_site(lnt_cf_t *cf, const config_setting_t *s, lnt_tls_site_t *tls)
{
	for (size_t i = 0; i < tls->ncerts; i++)
		load_cert(cf, s, tls, &tls->certs[i]);
}

void
lnt_tls_conf_set_site(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	lnt_site_t *site = base;
	lnt_tls_site_t *tls;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	lnt_tls_init();
	tls = lnt_xcalloc(1, sizeof(*tls));
	tls->site = site;
	site->tls = tls;
	lnt_conf_scope_init(cf, key->child, tls, s);
	lnt_conf_walk(cf, s, key->child, tls);
	lnt_conf_scope_defaults(cf, key->child, tls);
	build_site(cf, s, tls);
}

void
lnt_tls_conf_print_site(FILE *out, const lnt_key_t *key, const void *base,
    int depth)
{
	const lnt_site_t *site = base;

	if (site->tls != NULL)
		lnt_conf_print_group(out, key->name, key->child, site->tls,
		    depth);
}

void
lnt_tls_conf_set_client(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	lnt_tls_client_conf_t **field = (void *)((char *)base + key->offset);
	lnt_tls_client_conf_t *cc;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	cc = lnt_xcalloc(1, sizeof(*cc));
	*field = cc;
	lnt_conf_scope_init(cf, key->child, cc, s);
	lnt_conf_walk(cf, s, key->child, cc);
	lnt_conf_scope_defaults(cf, key->child, cc);
	cc->header_len = cc->header != NULL ? strlen(cc->header) : 0;
}

void
lnt_tls_conf_print_client(FILE *out, const lnt_key_t *key, const void *base,
    int depth)
{
	const lnt_tls_client_conf_t *cc = *(lnt_tls_client_conf_t *const *)
	    (const void *)((const char *)base + key->offset);

	if (cc != NULL)
		lnt_conf_print_group(out, key->name, key->child, cc, depth);
}

/* A file name, made absolute against the config file's directory. */
void
lnt_tls_conf_set_path(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	char **field = (char **)(void *)((char *)base + key->offset), *abs;

	lnt_conf_set_generic(cf, key, s, base);
	if (*field == NULL)
		return;
	abs = lnt_conf_path(cf, *field);
	free(*field);
	*field = abs;
}

/* A header field name lintel may add: a token that is not framing. */
void
lnt_tls_conf_set_header(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	static const char *const reserved[] = { "host", "connection",
	    "content-length", "transfer-encoding", "te", "upgrade",
	    "trailer", "keep-alive", "proxy-connection" };
	char **field = (char **)(void *)((char *)base + key->offset);
	const char *p;

	lnt_conf_set_generic(cf, key, s, base);
	if (*field == NULL)
		return;
	for (p = *field; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~",
		    *p) == NULL)
			break;
	for (size_t i = 0; *p == '\0' && i < LNT_NELEM(reserved); i++)
		if (strcasecmp(*field, reserved[i]) == 0)
			p = *field;
	if (*p != '\0') {
		lnt_conf_error(cf, s, "%s: expected a header field name other "
		    "than the framing ones, got \"%s\"", key->name, *field);
		free(*field);
		*field = NULL;
	}
}

/* An HSTS value: "max-age=N" then optional "; directive"s. */
void
lnt_tls_conf_set_hsts(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	char **field = (char **)(void *)((char *)base + key->offset);
	const char *p;

	lnt_conf_set_generic(cf, key, s, base);
	if (*field == NULL)
		return;
	p = *field;
	if (strncasecmp(p, "max-age=", 8) == 0)
		for (p += 8; isdigit((unsigned char)*p); p++)
			;
	if (p == *field || !isdigit((unsigned char)p[-1]) ||
	    (*p != '\0' && *p != ';') || strpbrk(*field, "\r\n") != NULL) {
		lnt_conf_error(cf, s, "%s: expected \"max-age=SECONDS\" and "
		    "optional \"; includeSubDomains\" or \"; preload\", got "
		    "\"%s\"", key->name, *field);
		free(*field);
		*field = NULL;
	}
}

/* The client context of an upstream's <tls>; NULL after reporting. */
static SSL_CTX *
client_ctx(lnt_cf_t *cf, const config_setting_t *s, lnt_tls_upstream_t *tls)
{
	const char *what;
	char buf[256], why[512];
	pem_t p = { 0 };
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		lnt_conf_error(cf, s, "tls: %s", lnt_tls_reason(buf, sizeof(buf)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, tls->min_version == LNT_TLS_V13 ?
	    TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(ctx, 1);
	if (set_ciphers(cf, s, ctx, tls->ciphers, tls->ciphersuites) == -1)
		goto fail;
	if (tls->verify) {
		if ((tls->ca != NULL ? SSL_CTX_load_verify_locations(ctx,
		    tls->ca, NULL) : SSL_CTX_set_default_verify_paths(ctx)) !=
		    1) {
			lnt_conf_error(cf, member(s, "ca"), "ca: %s: %s",
			    tls->ca != NULL ? tls->ca : "the system's CA "
			    "bundle", lnt_tls_reason(buf, sizeof(buf)));
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if ((tls->cert == NULL) != (tls->key == NULL)) {
		lnt_conf_error(cf, s, "tls: a client certificate needs both "
		    "cert and key");
		goto fail;
	}
	if (tls->cert != NULL) {
		if (read_pair(tls->cert, tls->key, &p, &what, why,
		    sizeof(why)) == -1) {
			lnt_conf_error(cf, member(s, what), "%s: %s: %s", what,
			    strcmp(what, "cert") == 0 ? tls->cert : tls->key,
			    why);
			goto fail;
		}
		if (use_pem(ctx, &p) == -1) {
			lnt_conf_error(cf, member(s, "cert"), "cert: %s: %s",
			    tls->cert, lnt_tls_reason(buf, sizeof(buf)));
			goto fail;
		}
		pem_free(&p);
	}
	lnt_tls_client_ctx_setup(ctx);
	return ctx;
fail:
	pem_free(&p);
	SSL_CTX_free(ctx);
	return NULL;
}

/* `tls = true`, `tls = false` or `tls = { ... }` in an upstream. */
void
lnt_tls_conf_set_upstream(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	lnt_upstream_t *up = base;
	lnt_tls_upstream_t *tls;
	int type = config_setting_type(s);

	if (type != CONFIG_TYPE_GROUP && type != CONFIG_TYPE_BOOL) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	if (type == CONFIG_TYPE_BOOL && !config_setting_get_bool(s))
		return;
	lnt_tls_init();
	tls = lnt_xcalloc(1, sizeof(*tls));
	up->tls = tls;
	lnt_conf_scope_init(cf, key->child, tls, s);
	if (type == CONFIG_TYPE_GROUP)
		lnt_conf_walk(cf, s, key->child, tls);
	else
		tls->verify = true;
	if (config_setting_get_member(s, "verify") == NULL)
		tls->verify = true;
	lnt_conf_scope_defaults(cf, key->child, tls);
	tls->ctx = client_ctx(cf, s, tls);
}

void
lnt_tls_conf_print_upstream(FILE *out, const lnt_key_t *key,
    const void *base, int depth)
{
	const lnt_upstream_t *up = base;

	if (up->tls != NULL)
		lnt_conf_print_group(out, key->name, key->child, up->tls,
		    depth);
}

/* `redirect_https = true` (port 443), `false` or a port. */
void
lnt_tls_conf_set_redirect(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	int *field = (int *)(void *)((char *)base + key->offset);
	char got[96];
	long long v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_BOOL:
		*field = config_setting_get_bool(s) ? 443 : 0;
		return;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (v >= 1 && v <= 65535) {
			*field = (int)v;
			return;
		}
		break;
	default:
		break;
	}
	lnt_conf_describe(s, got, sizeof(got));
	lnt_conf_error(cf, s, "%s: expected true, false or a port from 1 to "
	    "65535, got %s", key->name, got);
}

void
lnt_tls_conf_print_redirect(FILE *out, const lnt_key_t *key,
    const void *base, int depth)
{
	int v = *(const int *)(const void *)((const char *)base +
	    key->offset);

	lnt_conf_indent(out, depth);
	if (v == 0 || v == 443)
		fprintf(out, "%s = %s;\n", key->name, v ? "true" : "false");
	else
		fprintf(out, "%s = %d;\n", key->name, v);
}

void
lnt_tls_conf_site_check(lnt_cf_t *cf, const config_setting_t *group,
    lnt_site_t *site)
{
	/* A site that only redirects to https needs nothing else. */
	if (config_setting_get_member(group, "routes") == NULL &&
	    site->redirect_https == 0)
		lnt_conf_error(cf, group, "site: missing required key "
		    "'routes'");
}

/*
 * A session id context per site, so a session resumes only on the site
 * that made it (its client certificate settings among others).
 */
static void
set_sid_ctx(lnt_site_t *site)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	lnt_tls_site_t *tls = site->tls;

	SHA256((const unsigned char *)site->label, strlen(site->label), md);
	for (size_t i = 0; i < tls->nctxs; i++)
		SSL_CTX_set_session_id_context(tls->ctxs[i].ctx, md,
		    SSL_MAX_SID_CTX_LENGTH < sizeof(md) ?
		    SSL_MAX_SID_CTX_LENGTH : sizeof(md));
}

/* Session lifetime and tickets of every context of <site>. */
static void
set_sessions(lnt_site_t *site, lnt_msec_t timeout)
{
	lnt_tls_site_t *tls = site->tls;

	for (size_t i = 0; i < tls->nctxs; i++) {
		SSL_CTX *ctx = tls->ctxs[i].ctx;

		if (timeout > 0) {
			SSL_CTX_set_timeout(ctx, (long)(timeout / 1000 > 0 ?
			    timeout / 1000 : 1));
			continue;
		}
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
	}
}

void
lnt_tls_conf_finish(lnt_cf_t *cf)
{
	lnt_conf_t *conf = lnt_conf_current(cf);
	size_t i, j;

	for (i = 0; i < conf->nlistens; i++) {
		lnt_listen_t *l = &conf->listens[i];

		for (j = 0; l->tls && j < l->nsites; j++) {
			lnt_site_t *site = l->sites[j];

			if (site->tls == NULL)
				lnt_conf_error_at(cf, site->file, site->line,
				    "tls: the site listens on %s with tls "
				    "but has no tls group", l->text);
		}
	}
	for (i = 0; i < conf->nsites; i++) {
		lnt_site_t *site = &conf->sites[i];

		if (site->tls == NULL || site->tls->nctxs == 0)
			continue;
		set_sid_ctx(site);
		set_sessions(site, conf->tls_session_timeout);
	}
}

void
lnt_tls_conf_free_site(lnt_tls_site_t *tls)
{
	size_t i, j;

	if (tls == NULL)
		return;
	for (i = 0; i < tls->nctxs; i++) {
		lnt_tls_ctx_t *tc = &tls->ctxs[i];

		SSL_CTX_free(tc->ctx);
		for (j = 0; j < tc->nnames; j++)
			free(tc->names[j]);
		free(tc->names);
		for (j = 0; j < tc->nocsp; j++)
			free(tc->ocsp[j].der);
		free(tc->ocsp);
	}
	free(tls->ctxs);
	for (i = 0; i < tls->ncerts; i++) {
		free(tls->certs[i].cert);
		free(tls->certs[i].key);
		free(tls->certs[i].ocsp_response);
	}
	free(tls->certs);
	free(tls->ciphers);
	free(tls->ciphersuites);
	free(tls->groups);
	free(tls->hsts);
	if (tls->client != NULL) {
		free(tls->client->ca);
		free(tls->client->header);
		free(tls->client);
	}
	free(tls);
}

void
lnt_tls_conf_free_upstream(lnt_tls_upstream_t *tls)
{
	if (tls == NULL)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls->ca);
	free(tls->sni);
	free(tls->cert);
	free(tls->key);
	free(tls->ciphers);
	free(tls->ciphersuites);
	free(tls);
}

/* "*.example.com" covers "a.example.com" only: one label (RFC 6125). */
static bool
wildcard_covers(const char *pattern, const char *name, size_t len)
{
	size_t suffix = strlen(pattern) - 1;

	return pattern[0] == '*' && pattern[1] == '.' && len > suffix &&
	    strncasecmp(name + len - suffix, pattern + 1, suffix) == 0 &&
	    memchr(name, '.', len - suffix) == NULL;
}

lnt_tls_ctx_t *
lnt_tls_conf_ctx_for(const lnt_tls_site_t *tls, const char *name, size_t len)
{
	size_t i, j;

	if (tls->nctxs == 1 || len == 0)
		return &tls->ctxs[0];
	if (name[len - 1] == '.')
		len--;
	for (i = 0; i < tls->nctxs; i++)
		for (j = 0; j < tls->ctxs[i].nnames; j++)
			if (strlen(tls->ctxs[i].names[j]) == len &&
			    strncasecmp(tls->ctxs[i].names[j], name, len) == 0)
				return &tls->ctxs[i];
	for (i = 0; i < tls->nctxs; i++)
		for (j = 0; j < tls->ctxs[i].nnames; j++)
			if (wildcard_covers(tls->ctxs[i].names[j], name, len))
				return &tls->ctxs[i];
	return &tls->ctxs[0];
}
