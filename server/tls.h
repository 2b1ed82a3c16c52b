/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS on client and upstream connections: the lnt_io_t transport over
 * OpenSSL, the handshake callbacks (SNI, ALPN, OCSP stapling, session
 * tickets) and the few places where HTTP sees TLS (https redirects, HSTS,
 * the client certificate's subject, misdirected requests).
 */
#ifndef LNT_TLS_H
#define LNT_TLS_H

#include "core.h"
#include "io.h"

struct ssl_ctx_st;			/* OpenSSL, kept out of this header */

/*
 * The TLS transport.  Its context is the lnt_tls_t made by lnt_tls_accept()
 * or lnt_tls_connect(); handshake() must return 1 before recv or sendv are
 * used, and close() frees the context.
 */
extern const lnt_io_t	lnt_io_tls;

/* OpenSSL's process-wide setup; once, in the master, before any context. */
void		 lnt_tls_init(void);

/* OpenSSL's reason for its last error, into <buf> of <len>; clears it. */
const char	*lnt_tls_reason(char *buf, size_t len);

/*
 * TLS state for the socket <fd> accepted on the tls listener <l>, in
 * server mode, with the context of the listener's default site until SNI
 * chooses.  NULL when out of memory.
 */
void		*lnt_tls_accept(lnt_listen_t *l, int fd);

/*
 * TLS state for the socket <fd> connecting to server <s> of <up> (which
 * has tls): SNI and the name to verify set, the server's last session
 * offered for resumption.  NULL when out of memory.
 */
void		*lnt_tls_connect(lnt_upstream_t *up, lnt_server_t *s, int fd);

/* Whether the TLS state <ctx> resumed a session (after the handshake). */
bool		 lnt_tls_resumed(const void *ctx);

/* Callbacks every server or client context gets (tls_conf.c). */
void		 lnt_tls_server_ctx_setup(struct ssl_ctx_st *ctx);
void		 lnt_tls_client_ctx_setup(struct ssl_ctx_st *ctx);

/*
 * For a request just read on <c>, once its site is chosen, before its
 * route: answer 421 when the Host names a site that asks for client
 * certificates but the handshake was for another one, or redirect plain
 * HTTP to https when the site says so.  <keepalive>: the connection may
 * serve another request after such an answer.  True if <c> was answered.
 */
bool		 lnt_tls_intercept(lnt_conn_t *c, bool keepalive);

/* The Strict-Transport-Security value for responses on <c>, or NULL. */
const char	*lnt_tls_hsts(const lnt_conn_t *c);

/*
 * Whether the request header <name> from the client must not go upstream
 * (it would impersonate the client certificate's subject field).
 */
bool		 lnt_tls_hidden_field(const lnt_conn_t *c, lnt_str_t name);

/*
 * Append to <b> the fields TLS adds to <c>'s request sent upstream (the
 * verified client certificate's subject); -1 if they do not fit.
 */
int		 lnt_tls_request_fields(const lnt_conn_t *c, lnt_buf_t *b);

/*
 * The environment variable that names, in the new binary's master after
 * USR2, the descriptor holding the old master's ticket keys.
 */
#define LNT_TICKETS_ENV	"LINTEL_TICKET_KEYS_FD"

/*
 * Session ticket keys (tls_ticket.c), shared by every process through
 * memory the master maps before forking.  lnt_tls_tickets_init() takes
 * the keys and schedule the previous master left in <fd> (which it
 * closes; a warning and new keys if they are unreadable, and <fd> left
 * alone if it is not a sealed memory file), or with -1
 * creates the first key (0, or -1 with errno); lnt_tls_tickets_rotate()
 * is the master's clock: at <now> (monotonic ms) it makes a new key every
 * <period> ms, keeping the previous one for decryption, and returns when
 * it wants to be called next (-1: never).
 */
int		 lnt_tls_tickets_init(int fd);
lnt_msec_t	 lnt_tls_tickets_rotate(lnt_msec_t now, lnt_msec_t period);
/*
 * For USR2, in the child about to exec the new binary: a sealed memfd,
 * not close-on-exec, holding the keys and the time left at <now> until
 * the next rotation; -1 with errno.  The keys never touch a disk.
 */
int		 lnt_tls_tickets_export(lnt_msec_t now);
/* The OpenSSL ticket key callback over those keys (tls_ticket.c). */
void		 lnt_tls_tickets_setup(struct ssl_ctx_st *ctx);

#endif /* LNT_TLS_H */
