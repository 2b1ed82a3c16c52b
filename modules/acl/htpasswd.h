/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP basic authentication for the acl module: htpasswd files checked at
 * load (only slow, salted crypt(3) hashes), the Authorization header, and
 * password verification through libcrypt.
 */
#ifndef LNT_ACL_HTPASSWD_H
#define LNT_ACL_HTPASSWD_H

#include <stdbool.h>
#include <stddef.h>

/* Longest line of an htpasswd file, and longest user name. */
#define LNT_HTPASSWD_MAXLINE	1024
#define LNT_HTPASSWD_MAXUSER	255

/*
 * Work bounds past which a hash is refused at load: each is roughly two
 * seconds of CPU per verification on a 2020s server core, the most a
 * worker's event loop may spend on one request, and yescrypt's bound also
 * caps the memory one verification takes (1 GiB).  They are limits
 * against broken or hostile files, not advice: pick far lower costs.
 */
#define LNT_HTPASSWD_MAX_BCRYPT_COST	14
#define LNT_HTPASSWD_MAX_SHA512_ROUNDS	1000000
#define LNT_HTPASSWD_MAX_YESCRYPT_MEM	(1UL << 30)

typedef struct lnt_htpasswd_s lnt_htpasswd_t;

/* Hash methods an htpasswd file may use. */
typedef enum lnt_htpasswd_method {
	LNT_HTPASSWD_NONE = 0,		/* anything else: refused */
	LNT_HTPASSWD_BCRYPT,		/* $2a$, $2b$, $2y$ */
	LNT_HTPASSWD_SHA512,		/* $6$ */
	LNT_HTPASSWD_YESCRYPT		/* $y$ */
} lnt_htpasswd_method_t;

/*
 * Check the crypt(3) string <hash> of an htpasswd line: its method must be
 * one of the above, enabled in this libcrypt, well formed (so that a
 * correct password can match it) and within the work bounds.  Returns the
 * method, or LNT_HTPASSWD_NONE with the reason in <err> of <errlen> bytes.
 */
lnt_htpasswd_method_t lnt_htpasswd_check_hash(const char *hash, char *err,
		    size_t errlen);

/*
 * Read the htpasswd file <path>: lines of "user:hash", with blank lines
 * and lines starting with "#" skipped and a CRLF ending allowed.  Every
 * user must be unique and every hash pass lnt_htpasswd_check_hash(), so a
 * plain-text, {SHA}, MD5 ($1$, $apr1$) or DES entry refuses the whole file.
 * Returns the table, to be freed with lnt_htpasswd_free(), or NULL with
 * "PATH:LINE: message" (or "PATH: reason") in <err> of <errlen> bytes,
 * naming the first bad line and how many more there are.
 */
lnt_htpasswd_t	*lnt_htpasswd_load(const char *path, char *err, size_t errlen);
void		 lnt_htpasswd_free(lnt_htpasswd_t *ht);

/* How many users <ht> holds. */
size_t		 lnt_htpasswd_count(const lnt_htpasswd_t *ht);

/*
 * True if <user> is in <ht> and <pass> is its password.  Both are
 * NUL-terminated.  An unknown user costs one hash computation like a known
 * one, so timing does not tell which users exist, and the final compare is
 * constant-time.  Blocks for the hash's cost (milliseconds to the work
 * bounds above) and uses about 32 KiB of stack; reentrant.
 */
bool		 lnt_htpasswd_verify(const lnt_htpasswd_t *ht, const char *user,
		    const char *pass);

/*
 * Decode the Authorization field value <value> of <len> bytes when it is
 * "Basic" (any case) and a base64 token, padded or not.  The decoded
 * "user:password" goes into <buf> of <size> bytes as two NUL-terminated
 * strings, split at the first ':', and <user> and <pass> point into it.
 * Returns 0, or -1 for another scheme, bad base64, no ':', a NUL or
 * control byte, or too small a <buf>: the caller treats all of these as
 * no credentials.  The caller should wipe <buf> after use.
 */
int		 lnt_htpasswd_parse_basic(const char *value, size_t len,
		    char *buf, size_t size, const char **user,
		    const char **pass);

#endif /* LNT_ACL_HTPASSWD_H */
