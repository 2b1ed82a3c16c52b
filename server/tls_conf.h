/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS configuration: a site's `tls` group (certificates chosen by SNI,
 * versions, ciphers, OCSP responses, HSTS, client certificates) and an
 * upstream's `tls`, turned into OpenSSL contexts while the config loads, so
 * the master reads every key before the workers drop privileges.
 */
#ifndef LNT_TLS_CONF_H
#define LNT_TLS_CONF_H

#include <stdio.h>

#include "conf.h"
#include "conf_keys.h"

struct ssl_ctx_st;			/* OpenSSL, kept out of this header */
struct x509_st;

/* Scope bits of the key table for the groups below (conf_keys.h). */
#define LNT_SCOPE_TLS		0x100	/* a site's tls group */
#define LNT_SCOPE_TLS_CERT	0x200	/* one entry of tls.certificates */
#define LNT_SCOPE_TLS_CLIENT	0x400	/* tls.client_certificate */
#define LNT_SCOPE_UPSTREAM_TLS	0x800	/* an upstream's tls group */

/* min_version words, in the order of their index. */
enum lnt_tls_version {
	LNT_TLS_V12,
	LNT_TLS_V13
};

enum lnt_tls_client_mode {
	LNT_TLS_CLIENT_REQUIRED,
	LNT_TLS_CLIENT_OPTIONAL
};

/* The defaults: forward secrecy and AEAD only (TLS 1.2), all of 1.3. */
#define LNT_TLS_CIPHERS		"ECDHE-ECDSA-AES128-GCM-SHA256:" \
				"ECDHE-RSA-AES128-GCM-SHA256:" \
				"ECDHE-ECDSA-AES256-GCM-SHA384:" \
				"ECDHE-RSA-AES256-GCM-SHA384:" \
				"ECDHE-ECDSA-CHACHA20-POLY1305:" \
				"ECDHE-RSA-CHACHA20-POLY1305"
#define LNT_TLS_CIPHERSUITES	"TLS_AES_128_GCM_SHA256:" \
				"TLS_AES_256_GCM_SHA384:" \
				"TLS_CHACHA20_POLY1305_SHA256"
#define LNT_TLS_GROUPS		"X25519:P-256:P-384"

/* One entry of tls.certificates. */
typedef struct lnt_tls_cert_conf_s {
	char		*cert;		/* PEM: certificate, then its chain */
	char		*key;		/* PEM private key, private to us */
	char		*ocsp_response;	/* DER OCSP response, or NULL */
	const char	*file;
	int		 line;
} lnt_tls_cert_conf_t;

/* tls.client_certificate: ask clients for a certificate. */
typedef struct lnt_tls_client_conf_s {
	char		*ca;		/* PEM bundle of accepted issuers */
	int		 depth;		/* verify depth, default 2 */
	int		 mode;		/* enum lnt_tls_client_mode */
	char		*header;	/* field with the subject, upstream */
	size_t		 header_len;
} lnt_tls_client_conf_t;

/* A stapled OCSP response for one certificate of a context. */
typedef struct lnt_tls_ocsp_s {
	struct x509_st	*cert;		/* whose status it is (not owned) */
	unsigned char	*der;		/* the response as read */
	size_t		 len;
	int64_t		 next_update;	/* time_t; 0: none given */
} lnt_tls_ocsp_t;

/*
 * One OpenSSL context of a site: the certificates (one per key type, RSA
 * and ECDSA side by side) that cover the same names.
 */
typedef struct lnt_tls_ctx_s {
	struct ssl_ctx_st *ctx;
	char		**names;	/* DNS names, lower case */
	size_t		  nnames;
	int		  key_types;	/* bits: 1 << EVP_PKEY id class */
	lnt_tls_ocsp_t	 *ocsp;
	size_t		  nocsp;
	const char	 *first_cert;	/* for errors: path of its first cert */
} lnt_tls_ctx_t;

/* A site's tls group. */
struct lnt_tls_site_s {
	lnt_tls_cert_conf_t	*certs;
	size_t			 ncerts;
	int			 min_version;	/* enum lnt_tls_version */
	char			*ciphers;	/* TLS 1.2 cipher list */
	char			*ciphersuites;	/* TLS 1.3 */
	char			*groups;	/* key exchange groups */
	char			*hsts;		/* Strict-Transport-Security */
	lnt_tls_client_conf_t	*client;	/* NULL: none asked for */
	lnt_tls_ctx_t		*ctxs;		/* built when loaded */
	size_t			 nctxs;
	lnt_site_t		*site;		/* the site it belongs to */
	const char		*file;
	int			 line;
};

/* An upstream's tls: `tls = true` or `tls = { ... }`. */
struct lnt_tls_upstream_s {
	char			*ca;		/* NULL: the system's bundle */
	bool			 verify;	/* check the server */
	char			*sni;		/* NULL: each server's host */
	char			*cert;		/* client certificate or NULL */
	char			*key;
	int			 min_version;	/* enum lnt_tls_version */
	char			*ciphers;	/* TLS 1.2 cipher list */
	char			*ciphersuites;	/* TLS 1.3 */
	struct ssl_ctx_st	*ctx;		/* built when loaded */
	const char		*file;
	int			 line;
};

/* Setters and printers of the key table rows (conf_keys.c). */
void	lnt_tls_conf_set_site(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_tls_conf_print_site(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_tls_conf_set_client(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_tls_conf_print_client(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_tls_conf_set_path(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_tls_conf_set_header(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_tls_conf_set_hsts(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_tls_conf_set_upstream(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_tls_conf_print_upstream(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);
void	lnt_tls_conf_set_redirect(lnt_cf_t *cf, const lnt_key_t *key,
	    struct config_setting_t *s, void *base);
void	lnt_tls_conf_print_redirect(FILE *out, const lnt_key_t *key,
	    const void *base, int depth);

/*
 * Once the site group <group> has been walked into <site>: it needs
 * routes unless it only redirects to https.
 */
void	lnt_tls_conf_site_check(lnt_cf_t *cf,
	    const struct config_setting_t *group, lnt_site_t *site);

/*
 * Once the whole file is read and the listeners built: every site on a
 * tls listener has certificates; contexts learn the session lifetime.
 */
void	lnt_tls_conf_finish(lnt_cf_t *cf);

/* Free what a site's or an upstream's tls owns (NULL is fine). */
void	lnt_tls_conf_free_site(lnt_tls_site_t *tls);
void	lnt_tls_conf_free_upstream(lnt_tls_upstream_t *tls);

/*
 * The context of <tls> whose certificate names match <name> (<len> bytes,
 * no port): an exact name, then a wildcard, else the first one.
 */
lnt_tls_ctx_t	*lnt_tls_conf_ctx_for(const lnt_tls_site_t *tls,
		    const char *name, size_t len);

#endif /* LNT_TLS_CONF_H */
