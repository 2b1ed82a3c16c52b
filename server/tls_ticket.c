/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Session ticket keys shared by every worker, so that a client resumes on
 * whichever worker accepts it.  The master maps a small shared page before
 * forking (kept across reloads), writes a fresh random key into it every
 * tls_session_timeout and keeps the previous key for decryption, so a
 * ticket stays good for its whole lifetime while no key outlives two
 * periods (forward secrecy of resumed sessions).  The master is the only
 * writer; workers read under a sequence counter and never block it, so a
 * worker that dies mid-read wedges nothing.
 */
#include "config.h"

#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "log.h"
#include "tls.h"
#include "util.h"

#define NAME_LEN	16		/* the ticket's key name, in clear */

typedef struct tkey {
	unsigned char	 name[NAME_LEN];
	unsigned char	 aes[32];	/* AES-256-CBC */
	unsigned char	 hmac[32];	/* HMAC-SHA256 */
} tkey_t;

typedef struct tshm {
	uint32_t	 seq;		/* odd while the master writes */
	uint32_t	 nkeys;		/* 1, then 2 after the first rotation */
	tkey_t		 keys[2];	/* [0] encrypts; [1] only decrypts */
} tshm_t;

/*
 * What a master hands the new binary's master on USR2, in a memfd: the
 * keys and when the current one is due to be replaced, so the upgrade
 * neither forgets the sessions out there nor resets the schedule.
 */
#define HANDOVER_MAGIC	0x6c6e746bu	/* "lntk" */
/*
 * How long the new master may take to start before it takes them: a
 * descriptor and variable that outlived a downgrade to a binary that
 * ignores them must not bring back keys long overdue.
 */
#define HANDOVER_MAX_AGE	(60 * 1000)	/* ms */

typedef struct handover {
	uint32_t	 magic;
	uint32_t	 nkeys;		/* 1 or 2 */
	int64_t		 left;		/* ms to the next rotation; -1: none */
	int64_t		 made;		/* when exported (monotonic ms) */
	tkey_t		 keys[2];
} handover_t;

static tshm_t		*shm;		/* shared by the master's children */
static lnt_msec_t	 due;		/* master: next rotation (monotonic) */

static int
new_key(tkey_t *k)
{
	return RAND_bytes((unsigned char *)k, sizeof(*k)) == 1 ? 0 : -1;
}

/*
 * Take the keys the old master wrote to <fd> (see lnt_tls_tickets_export)
 * into the shared page, and its schedule: true if they were good.
 */
static bool
adopt_keys(int fd, lnt_msec_t now)
{
	handover_t h;
	bool ok;

	ok = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    h.magic == HANDOVER_MAGIC && (h.nkeys == 1 || h.nkeys == 2) &&
	    h.made <= now && now - h.made <= HANDOVER_MAX_AGE;
	if (ok) {
		memcpy(shm->keys, h.keys, sizeof(shm->keys));
		shm->nkeys = h.nkeys;
		/* A key overdue (left 0) is replaced at the first rotate(). */
		due = h.left >= 0 ? now + (lnt_msec_t)h.left : 0;
	}
	OPENSSL_cleanse(&h, sizeof(h));
	return ok;
}

/*
 * Whether <fd> is a memory file sealed as lnt_tls_tickets_export() seals
 * it: anything else (a variable left over by an older binary, now naming
 * a socket of ours) is not read, and not closed.
 */
static bool
sealed_handover(int fd)
{
	int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	int seals = fcntl(fd, F_GET_SEALS);

	return seals != -1 && (seals & want) == want;
}

int
lnt_tls_tickets_init(int fd)
{
	void *p;

	if (shm != NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	p = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	/* Keys that leak into a core file break every resumed session. */
	(void)madvise(p, sizeof(*shm), MADV_DONTDUMP);
	shm = p;
	if (fd != -1 && !sealed_handover(fd)) {
		lnt_log(LNT_LOG_WARN, "ignoring %s: descriptor %d is not the "
		    "sealed memory file of a previous master", LNT_TICKETS_ENV,
		    fd);
		fd = -1;
	}
	if (fd != -1) {
		bool ok = adopt_keys(fd, lnt_now_mono());

		close(fd);
		if (ok) {
			lnt_log(LNT_LOG_INFO, "session ticket keys taken over "
			    "from the previous master");
			return 0;
		}
		lnt_log(LNT_LOG_WARN, "the session ticket keys passed by the "
		    "previous master are unreadable or stale: new keys, so "
		    "clients make full handshakes once");
	}
	if (new_key(&shm->keys[0]) == -1) {
		munmap(p, sizeof(*shm));
		shm = NULL;
		errno = EIO;
		return -1;
	}
	shm->nkeys = 1;
	return 0;
}

lnt_msec_t
lnt_tls_tickets_rotate(lnt_msec_t now, lnt_msec_t period)
{
	tkey_t k;

	if (shm == NULL || period <= 0) {
		due = 0;
		return -1;
	}
	if (due == 0 || due > now + period)
		due = now + period;
	if (now < due)
		return due;
	if (new_key(&k) == -1) {
		/* Keep the old key a while longer rather than none. */
		lnt_log(LNT_LOG_ERR, "cannot make a new session ticket key: "
		    "RAND_bytes failed");
		due = now + 1000;
		return due;
	}
	__atomic_store_n(&shm->seq, shm->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	shm->keys[1] = shm->keys[0];
	shm->keys[0] = k;
	shm->nkeys = 2;
	__atomic_store_n(&shm->seq, shm->seq + 1, __ATOMIC_RELEASE);
	OPENSSL_cleanse(&k, sizeof(k));
	due = now + period;
	lnt_log(LNT_LOG_INFO, "session ticket key rotated");
	return due;
}

/* A consistent copy of the keys into <out>; false if none could be had. */
static bool
read_keys(tshm_t *out)
{
	for (int tries = 0; shm != NULL && tries < 10000; tries++) {
		uint32_t seq = __atomic_load_n(&shm->seq, __ATOMIC_ACQUIRE);

		if (seq & 1)
			continue;
		memcpy(out, shm, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&shm->seq, __ATOMIC_RELAXED) == seq) {
			if (out->nkeys >= 1 && out->nkeys <= 2)
				return true;
			break;
		}
	}
	/* A torn copy holds key bytes too; callers give up on it. */
	OPENSSL_cleanse(out, sizeof(*out));
	return false;
}

int
lnt_tls_tickets_export(lnt_msec_t now)
{
	handover_t h = { .magic = HANDOVER_MAGIC };
	tshm_t cur;
	int fd, saved;

	/* The master may be rotating as this child of it reads. */
	if (!read_keys(&cur)) {
		errno = shm == NULL ? ENOENT : EAGAIN;
		return -1;
	}
	/* Not close-on-exec: the new binary inherits it. */
	if ((fd = memfd_create("lintel-ticket-keys", MFD_ALLOW_SEALING)) ==
	    -1) {
		OPENSSL_cleanse(&cur, sizeof(cur));
		return -1;
	}
	h.nkeys = cur.nkeys;
	memcpy(h.keys, cur.keys, sizeof(h.keys));
	OPENSSL_cleanse(&cur, sizeof(cur));
	h.left = due == 0 ? -1 : due > now ? (int64_t)(due - now) : 0;
	/* The real clock, not <now>: CLOCK_MONOTONIC is the same after exec. */
	h.made = lnt_now_mono();
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		saved = errno != 0 ? errno : EIO;
		OPENSSL_cleanse(&h, sizeof(h));
		close(fd);
		errno = saved;
		return -1;
	}
	OPENSSL_cleanse(&h, sizeof(h));
	return fd;
}

/*
 * OpenSSL's ticket callback: with <enc>, name the current key in <name>,
 * make an <iv> and set up <cctx> and <hctx> to seal a ticket; without,
 * find the key <name> names.  Returns 1 (use it), 2 (use it and issue a
 * fresh ticket), 0 (no ticket / unknown key: full handshake) or -1
 * (error).
 */
static int
ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	static char digest[] = "SHA256";
	OSSL_PARAM params[3];
	const tkey_t *k = NULL;
	tshm_t keys;
	uint32_t i;
	int rc = 1;

	if (!read_keys(&keys))
		return 0;
	if (enc) {
		k = &keys.keys[0];
		memcpy(name, k->name, NAME_LEN);
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(
		    EVP_aes_256_cbc())) != 1 ||
		    EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes,
		    iv) != 1)
			rc = -1;
	} else {
		for (i = 0; i < keys.nkeys && k == NULL; i++)
			if (memcmp(name, keys.keys[i].name, NAME_LEN) == 0)
				k = &keys.keys[i];
		if (k == NULL) {
			OPENSSL_cleanse(&keys, sizeof(keys));
			return 0;
		}
		/*
		 * A previous key: renew.  TLS 1.3 clients use a ticket once
		 * (RFC 8446 4.6.1), so they get a fresh one every time.
		 */
		rc = k == &keys.keys[0] && SSL_version(ssl) < TLS1_3_VERSION ?
		    1 : 2;
		if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes,
		    iv) != 1)
			rc = -1;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)(uintptr_t)k->hmac, sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[2] = OSSL_PARAM_construct_end();
	if (rc != -1 && EVP_MAC_CTX_set_params(hctx, params) != 1)
		rc = -1;
	OPENSSL_cleanse(&keys, sizeof(keys));
	return rc;
}

/* Seal <ctx>'s session tickets with the shared keys. */
void
lnt_tls_tickets_setup(SSL_CTX *ctx)
{
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
}
