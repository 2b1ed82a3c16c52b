/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Clients that stall in the TLS handshake, by the hundred, against one
 * worker: before their ClientHello is complete, and after the server has
 * answered it (TLS 1.3 and 1.2).  Each must cost the worker no more than
 * the bound lintel.conf(5) gives at handshake_timeout, be dropped by the
 * server when that expires with a line at level info, and leave the
 * worker serving everyone else meanwhile.  Memory is the worker's
 * anonymous resident memory (RssAnon), measured once the server has seen
 * every stalled client; the ClientHellos come from OpenSSL in this process.
 */
#include "config.h"

#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "th.h"

/* Stalled clients of each kind. */
#define NSTALL		200

/*
 * What lintel.conf(5) promises a stalled client costs at most, in KiB (see
 * handshake_timeout there): one buffer (16k) until its ClientHello is
 * complete; four once the server has answered it, for OpenSSL's handshake
 * state (some 45k with OpenSSL 3.0: its 21k message buffer, 8k of write
 * buffering, the 8k SSL object) and the connection.
 */
#define BOUND_HELLO_KB	16
#define BOUND_REPLY_KB	64

/*
 * ASan pads every allocation with redzones and shadows it, so the same
 * allocations take more memory there; and it keeps freed memory in a
 * quarantine, which this test turns off for the daemon (see
 * no_quarantine()) so that memory the handshakes freed is not counted.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN		1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN		1
#endif
#endif
#ifdef ASAN
#define MEM_FACTOR	2
#else
#define MEM_FACTOR	1
#endif

/*
 * One worker; a handshake_timeout long enough for all the clients to be
 * opened and measured before the first is dropped (which the test checks),
 * short enough to wait for.
 */
#define STALL_CONF \
	"error_log = \"@TMPDIR@/error.log\"; " \
	"pid_file = \"@TMPDIR@/lintel.pid\"; " \
	"user = \"nobody\"; group = \"nogroup\"; workers = 1; " \
	"worker_connections = 4096; shutdown_timeout = \"10s\"; " \
	"log_level = \"info\"; handshake_timeout = \"20s\";\n" \
	"upstreams = ( { name = \"origin\";\n" \
	"  servers = ( { address = \"127.0.0.1:@PORT_9@\"; } ); } );\n" \
	"sites = ( { listen = \"127.0.0.1:@PORT_1@ tls\"; " \
	"names = \"a.test\";\n" \
	"  tls = { certificates = ( { cert = \"@TMPDIR@/a.pem\"; " \
	"key = \"@TMPDIR@/a.key\"; } ); };\n" \
	"  routes = ( { path = \"/\"; upstream = \"origin\"; } ); } );\n"

/* Under ASan, the daemon started next keeps no freed memory around. */
static void
no_quarantine(void)
{
#ifdef ASAN
	const char	*o = getenv("ASAN_OPTIONS");

	setenv("ASAN_OPTIONS", th_printf("%s%squarantine_size_mb=0:"
	    "thread_local_quarantine_size_kb=0", o != NULL ? o : "",
	    o != NULL && *o != '\0' ? ":" : ""), 1);
#endif
}

/* A self-signed ECDSA P-256 certificate for a.test. */
static void
make_cert(void)
{
	const char	*argv[] = { "sh", "-c", NULL, NULL };
	char		*out, *err;
	int		 rc;

	argv[2] = th_printf("cd '%s' && openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout a.key -out a.pem "
	    "-days 2 -subj /CN=a.test -addext subjectAltName=DNS:a.test "
	    "2>&1 && chmod 600 a.key", th_tmpdir());
	rc = th_exec(argv, &out, &err);
	ck_assert_msg(rc == 0, "openssl req exited %d: %s%s", rc, out, err);
}

/* The anonymous resident memory of <pid>, in KiB (RssAnon). */
static long
anon_kb(pid_t pid)
{
	const char	*st = th_read_file(th_printf("/proc/%d/status",
	    (int)pid));
	const char	*p = st != NULL ? strstr(st, "RssAnon:") : NULL;

	ck_assert_msg(p != NULL, "no RssAnon for %d", (int)pid);
	return strtol(p + strlen("RssAnon:"), NULL, 10);
}

/* A client SSL of <ctx> for a.test, reading and writing memory. */
static SSL *
mem_client(SSL_CTX *ctx)
{
	SSL	*ssl = SSL_new(ctx);

	ck_assert_ptr_nonnull(ssl);
	SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, "a.test"), 1);
	SSL_set_connect_state(ssl);
	return ssl;
}

/* Drive <ssl> and send what it wrote on <c>; false if it wrote nothing. */
static bool
flush_client(SSL *ssl, th_conn_t *c, size_t max)
{
	char	 buf[16384];
	BIO	*w = SSL_get_wbio(ssl);
	int	 n;

	(void)SSL_do_handshake(ssl);
	ERR_clear_error();
	if (BIO_ctrl_pending(w) == 0)
		return false;
	n = BIO_read(w, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	if ((size_t)n > max)
		n = (int)max;
	ck_assert_int_eq(th_conn_send(c, buf, (size_t)n), 0);
	return true;
}

/* A client that sends the first half of its ClientHello, then nothing. */
static th_conn_t *
stall_in_hello(int port, SSL_CTX *ctx)
{
	SSL		*ssl = mem_client(ctx);
	th_conn_t	*c = th_conn_open(port);
	BIO		*w = SSL_get_wbio(ssl);

	(void)SSL_do_handshake(ssl);
	ERR_clear_error();
	ck_assert_int_gt(BIO_ctrl_pending(w), 10);
	ck_assert(flush_client(ssl, c, BIO_ctrl_pending(w) / 2));
	SSL_free(ssl);
	return c;
}

/*
 * A client that sends its ClientHello, reads the server's whole answer
 * (the client then has its next flight ready, which it never sends) and
 * stalls there.
 */
static th_conn_t *
stall_after_reply(int port, SSL_CTX *ctx)
{
	SSL		*ssl = mem_client(ctx);
	th_conn_t	*c = th_conn_open(port);
	char		 buf[16384];
	ssize_t		 n;
	int64_t		 end = th_deadline(TH_IO_MS);

	ck_assert(flush_client(ssl, c, sizeof(buf)));
	for (;;) {
		ck_assert_msg(!th_expired(end), "no complete answer to a "
		    "ClientHello");
		n = th_conn_recv(c, buf, sizeof(buf), TH_IO_MS);
		ck_assert_msg(n > 0, "the server closed or failed during "
		    "the handshake: %s", n == 0 ? "EOF" : th_error());
		ck_assert_int_eq(BIO_write(SSL_get_rbio(ssl), buf, (int)n),
		    (int)n);
		(void)SSL_do_handshake(ssl);
		ERR_clear_error();
		if (BIO_ctrl_pending(SSL_get_wbio(ssl)) > 0)
			break;
	}
	SSL_free(ssl);
	return c;
}

/* A client context limited to <version> (0: any). */
static SSL_CTX *
client_ctx(int version)
{
	SSL_CTX	*ctx = SSL_CTX_new(TLS_client_method());

	ck_assert_ptr_nonnull(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* The client's CCS goes with its Finished, not before. */
	SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	if (version != 0) {
		SSL_CTX_set_min_proto_version(ctx, version);
		SSL_CTX_set_max_proto_version(ctx, version);
	}
	return ctx;
}

/* A full HTTPS request with curl succeeds. */
static void
assert_served(int port, const char *when)
{
	char	*out, *err;
	int	 rc;

	rc = th_curl(&out, &err, "-k", "--resolve", th_printf("a.test:%d:"
	    "127.0.0.1", port), th_printf("https://a.test:%d/id", port),
	    NULL);
	ck_assert_msg(rc == 0 && strcmp(out, "O") == 0, "a normal client "
	    "was not served %s: curl %d: %s%s", when, rc, out, err);
}

/* How many of <cs> the server has closed (without waiting). */
static int
count_closed(th_conn_t **cs, int n)
{
	int	 closed = 0;

	for (int i = 0; i < n; i++) {
		char	 b;
		ssize_t	 r = recv(th_conn_fd(cs[i]), &b, 1,
		    MSG_PEEK | MSG_DONTWAIT);

		closed += r == 0 || (r == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK);
	}
	return closed;
}

/* The lines of <text> that hold both <a> and <b>. */
static int
count_lines(const char *text, const char *a, const char *b)
{
	const char	*p, *eol;
	int		 n = 0;

	for (p = text; p != NULL && *p != '\0'; p = eol + 1) {
		char	*line;

		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p) - 1;
		line = th_printf("%.*s", (int)(eol - p + 1), p);
		n += strstr(line, a) != NULL && strstr(line, b) != NULL;
	}
	return n;
}

/* Stalled clients of one kind, what they cost, and the check of it. */
typedef struct kind {
	const char	*name;
	int		 version;	/* of the client; 0: any */
	bool		 hello;		/* stall in the ClientHello */
	long		 bound_kb;	/* per connection */
	th_conn_t	*conns[NSTALL];
} kind_t;

/* Open the stalled clients of <k>; returns the RssAnon growth in KiB. */
static long
open_kind(kind_t *k, int port, pid_t worker)
{
	SSL_CTX	*ctx = client_ctx(k->version);
	long	 before = anon_kb(worker), grown;
	int	 i, closed;

	for (i = 0; i < NSTALL; i++)
		k->conns[i] = k->hello ? stall_in_hello(port, ctx) :
		    stall_after_reply(port, ctx);
	SSL_CTX_free(ctx);
	/* One more request: the worker has read all of the above. */
	assert_served(port, th_printf("with %d clients stalled %s", NSTALL,
	    k->name));
	grown = anon_kb(worker) - before;
	/* Measured while they were all still stalled, not timed out. */
	closed = count_closed(k->conns, NSTALL);
	ck_assert_msg(closed == 0, "%d clients stalled %s were closed before "
	    "their memory was measured", closed, k->name);
	fprintf(stderr, "41-tls-stall: %d clients stalled %s: %ld KiB, "
	    "%.1f KiB each (bound %ld KiB, x%d)\n", NSTALL, k->name, grown,
	    (double)grown / NSTALL, k->bound_kb, MEM_FACTOR);
	return grown;
}

START_TEST(stalled_handshakes_are_cheap_and_dropped)
{
	static kind_t	 kinds[] = {
		{ "in the ClientHello", 0, true, BOUND_HELLO_KB, { 0 } },
		{ "after the server's TLS 1.3 answer", TLS1_3_VERSION, false,
		  BOUND_REPLY_KB, { 0 } },
		{ "after the server's TLS 1.2 answer", TLS1_2_VERSION, false,
		  BOUND_REPLY_KB, { 0 } },
	};
	const int	 nkinds = (int)TH_NELEM(kinds);
	long		 grown[TH_NELEM(kinds)];
	int		 port, i;
	int64_t		 end;
	pid_t		 worker;

	make_cert();
	th_origin_start(th_portn(9), "O");
	no_quarantine();
	th_start(th_conf(STALL_CONF));
	port = th_portn(1);
	worker = th_worker(th_master());
	/* OpenSSL and the pools set themselves up on first use. */
	for (i = 0; i < 3; i++)
		assert_served(port, "at first");
	for (i = 0; i < nkinds; i++)
		grown[i] = open_kind(&kinds[i], port, worker);
	for (i = 0; i < nkinds; i++)
		ck_assert_msg(grown[i] <= (long)NSTALL * kinds[i].bound_kb *
		    MEM_FACTOR, "%d clients stalled %s cost the worker "
		    "%ld KiB, more than %ld KiB each", NSTALL, kinds[i].name,
		    grown[i], kinds[i].bound_kb * MEM_FACTOR);
	/* handshake_timeout drops every one of them. */
	end = th_deadline(20000 + TH_STOP_MS);
	for (i = 0; i < nkinds; i++)
		for (int j = 0; j < NSTALL; j++) {
			ck_assert_msg(th_conn_closed(kinds[i].conns[j],
			    (int)(end - th_now() > 0 ? end - th_now() : 1)),
			    "a client stalled %s is still open", kinds[i].name);
			th_conn_close(kinds[i].conns[j]);
		}
	assert_served(port, "after the timeouts");
	ck_assert_int_ge(count_lines(th_read_file(th_path("error.log")),
	    "[info]", "TLS handshake timed out (handshake_timeout)"),
	    nkinds * NSTALL);
	ck_assert_ptr_null(th_find_line(th_read_file(th_path("error.log")),
	    "[error]"));
}
END_TEST

int
main(void)
{
	Suite	*s;

	s = suite_create("41-tls-stall");
	TH_TEST(s, stalled_handshakes_are_cheap_and_dropped);
	return th_run(s);
}
