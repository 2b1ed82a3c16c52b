/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * htpasswd files and HTTP basic credentials for the acl module.  Every hash
 * is checked when the file is read, so a bad entry stops the load instead
 * of locking a user out (or letting one in) at request time.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htpasswd.h"
#include "msg.h"

typedef struct user {
	char		*name;
	char		*hash;		/* shares the allocation of name */
	unsigned	 line;
} user_t;

struct lnt_htpasswd_s {
	user_t		*users;		/* sorted by name */
	size_t		 n;
	const char	*dummy;		/* hash burnt for unknown users */
};

/* The crypt(3) base-64 alphabet, in value order. */
static const char a64_chars[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int
a64(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(a64_chars, c)) == NULL)
		return -1;
	return (int)(p - a64_chars);
}

static bool
all_a64(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a64(s[i]) < 0)
			return false;
	return true;
}

/* Parse the decimal <s> of <n> digits, no leading zero; -1 if not one. */
static long
decimal(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 9 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "$2b$NN$" then 22 characters of salt and 31 of hash. */
static int
check_bcrypt(const char *h, char *err, size_t errlen)
{
	long cost;

	/* The cost always has two digits: "$2b$05$". */
	if (strlen(h) != 60 || h[6] != '$' || !all_a64(h + 7, 53) ||
	    h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' ||
	    (cost = (h[4] - '0') * 10 + (h[5] - '0')) < 4) {
		lnt_acl_errf(err, errlen, "malformed bcrypt hash");
		return -1;
	}
	if (cost > LNT_HTPASSWD_MAX_BCRYPT_COST) {
		lnt_acl_errf(err, errlen, "bcrypt cost %ld is over the limit "
		    "of %d", cost, LNT_HTPASSWD_MAX_BCRYPT_COST);
		return -1;
	}
	return 0;
}

/*
 * "$6$", optionally "rounds=N$", a salt of 1-16 characters, "$", 86
 * characters of hash.  libcrypt would clamp rounds under 1000 and cut a
 * longer salt, and then no password could ever match: refuse those.
 */
static int
check_sha512(const char *h, char *err, size_t errlen)
{
	const char *p = h + 3, *d;
	long rounds = 5000;

	if (strncmp(p, "rounds=", 7) == 0) {
		p += 7;
		if ((d = strchr(p, '$')) == NULL ||
		    (rounds = decimal(p, (size_t)(d - p))) < 1000) {
			lnt_acl_errf(err, errlen,
			    "malformed SHA-512-crypt rounds");
			return -1;
		}
		p = d + 1;
	}
	if ((d = strchr(p, '$')) == NULL || d == p || d - p > 16 ||
	    !all_a64(p, (size_t)(d - p)) || strlen(d + 1) != 86 ||
	    !all_a64(d + 1, 86)) {
		lnt_acl_errf(err, errlen, "malformed SHA-512-crypt hash");
		return -1;
	}
	if (rounds > LNT_HTPASSWD_MAX_SHA512_ROUNDS) {
		lnt_acl_errf(err, errlen, "SHA-512-crypt rounds %ld are over "
		    "the limit of %d", rounds, LNT_HTPASSWD_MAX_SHA512_ROUNDS);
		return -1;
	}
	return 0;
}

/*
 * "$y$", parameters, "$", salt, "$", 43 characters of hash.  libcrypt
 * writes three parameters of one character each: flavour, log2(N) - 1 and
 * r - 1 (a value over 47 would take more characters).  Those are all we
 * accept, so that the work, 128 * r * N bytes of memory touched, is known.
 */
static int
check_yescrypt(const char *h, char *err, size_t errlen)
{
	const char *p = h + 3, *s, *d;
	int flavour, nlog2, r;

	if ((s = strchr(p, '$')) == NULL || (d = strchr(s + 1, '$')) == NULL ||
	    d == s + 1 || !all_a64(s + 1, (size_t)(d - s - 1)) ||
	    strlen(d + 1) != 43 || !all_a64(d + 1, 43)) {
		lnt_acl_errf(err, errlen, "malformed yescrypt hash");
		return -1;
	}
	if (s - p != 3 || (flavour = a64(p[0])) < 0 || flavour > 47 ||
	    (nlog2 = a64(p[1]) + 1) < 1 || nlog2 > 48 ||
	    (r = a64(p[2]) + 1) < 1 || r > 48) {
		lnt_acl_errf(err, errlen, "unsupported yescrypt parameters "
		    "'%.*s'", (int)(s - p < 16 ? s - p : 16), p);
		return -1;
	}
	if (nlog2 > 40 || ((uint64_t)128 * (uint64_t)r << nlog2) >
	    LNT_HTPASSWD_MAX_YESCRYPT_MEM) {
		lnt_acl_errf(err, errlen, "yescrypt cost (N=2^%d, r=%d) is "
		    "over the limit of %lu MiB", nlog2, r,
		    LNT_HTPASSWD_MAX_YESCRYPT_MEM >> 20);
		return -1;
	}
	return 0;
}

lnt_htpasswd_method_t
lnt_htpasswd_check_hash(const char *hash, char *err, size_t errlen)
{
	lnt_htpasswd_method_t m;
	int rc;

	if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
	    strncmp(hash, "$2y$", 4) == 0) {
		m = LNT_HTPASSWD_BCRYPT;
		rc = check_bcrypt(hash, err, errlen);
	} else if (strncmp(hash, "$6$", 3) == 0) {
		m = LNT_HTPASSWD_SHA512;
		rc = check_sha512(hash, err, errlen);
	} else if (strncmp(hash, "$y$", 3) == 0) {
		m = LNT_HTPASSWD_YESCRYPT;
		rc = check_yescrypt(hash, err, errlen);
	} else {
		lnt_acl_errf(err, errlen, "unsupported or plain-text hash "
		    "(use bcrypt, SHA-512-crypt or yescrypt)");
		return LNT_HTPASSWD_NONE;
	}
	if (rc != 0)
		return LNT_HTPASSWD_NONE;
	/* A libcrypt built without the method would fail every login. */
	if (crypt_checksalt(hash) != CRYPT_SALT_OK) {
		lnt_acl_errf(err, errlen, "this libcrypt does not accept the "
		    "hash's method");
		return LNT_HTPASSWD_NONE;
	}
	return m;
}

static int
user_cmp(const void *a, const void *b)
{
	const user_t *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

void
lnt_htpasswd_free(lnt_htpasswd_t *ht)
{
	if (ht == NULL)
		return;
	for (size_t i = 0; i < ht->n; i++)
		free(ht->users[i].name);
	free(ht->users);
	free(ht);
}

/* Remember the error of the lowest line: messages name the first one. */
static void
note_error(char *err, size_t errlen, unsigned *first, unsigned *nbad,
    const char *path, unsigned line, const char *msg)
{
	if (*nbad == 0 || line < *first) {
		*first = line;
		lnt_acl_errf(err, errlen, "%s:%u: %s", path, line, msg);
	}
	(*nbad)++;
}

/* Check one line and append its user to <ht>; a message on failure. */
static int
parse_line(lnt_htpasswd_t *ht, size_t *cap, char *s, size_t len,
    unsigned line, char *msg, size_t msglen)
{
	char q[80], *colon, *copy;
	char hmsg[160];
	size_t ulen;
	user_t *u;

	if (memchr(s, '\0', len) != NULL) {
		lnt_acl_errf(msg, msglen, "NUL byte in the line");
		return -1;
	}
	if ((colon = memchr(s, ':', len)) == NULL) {
		lnt_acl_errf(msg, msglen, "expected user:hash");
		return -1;
	}
	ulen = (size_t)(colon - s);
	*colon = '\0';
	if (ulen == 0 || ulen > LNT_HTPASSWD_MAXUSER) {
		lnt_acl_errf(msg, msglen, "the user name must have 1 to %d "
		    "bytes", LNT_HTPASSWD_MAXUSER);
		return -1;
	}
	for (size_t i = 0; i < ulen; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			lnt_acl_errf(msg, msglen, "user '%s': control "
			    "character in the name",
			    lnt_acl_quote(s, strlen(s), q, sizeof(q)));
			return -1;
		}
	}
	/* A stray space would make a user nobody can type. */
	if (s[0] == ' ' || s[ulen - 1] == ' ') {
		lnt_acl_errf(msg, msglen, "user '%s': space around the name",
		    lnt_acl_quote(s, strlen(s), q, sizeof(q)));
		return -1;
	}
	if (lnt_htpasswd_check_hash(colon + 1, hmsg, sizeof(hmsg)) ==
	    LNT_HTPASSWD_NONE) {
		lnt_acl_errf(msg, msglen, "user '%s': %s",
		    lnt_acl_quote(s, strlen(s), q, sizeof(q)), hmsg);
		return -1;
	}
	if (ht->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;

		if ((u = realloc(ht->users, ncap * sizeof(*u))) == NULL)
			goto nomem;
		ht->users = u;
		*cap = ncap;
	}
	if ((copy = malloc(len + 1)) == NULL)
		goto nomem;
	memcpy(copy, s, len);
	copy[len] = '\0';
	u = &ht->users[ht->n++];
	u->name = copy;
	u->hash = copy + ulen + 1;
	u->line = line;
	return 0;
nomem:
	lnt_acl_errf(msg, msglen, "%s", strerror(ENOMEM));
	return -1;
}

lnt_htpasswd_t *
lnt_htpasswd_load(const char *path, char *err, size_t errlen)
{
	lnt_htpasswd_t *ht;
	FILE *fp;
	char *line = NULL, msg[320], q[80];
	size_t cap = 0, ucap = 0, len;
	ssize_t got;
	unsigned lineno = 0, nbad = 0, first = 0;

	if ((ht = calloc(1, sizeof(*ht))) == NULL) {
		lnt_acl_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((fp = fopen(path, "re")) == NULL) {
		lnt_acl_errf(err, errlen, "%s: %s", path, strerror(errno));
		free(ht);
		return NULL;
	}
	while ((got = getline(&line, &cap, fp)) != -1) {
		len = (size_t)got;
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (strspn(line, " \t") >= len || line[0] == '#')
			continue;
		if (len > LNT_HTPASSWD_MAXLINE) {
			snprintf(msg, sizeof(msg), "line longer than %d bytes",
			    LNT_HTPASSWD_MAXLINE);
			note_error(err, errlen, &first, &nbad, path, lineno,
			    msg);
			continue;
		}
		line[len] = '\0';
		if (parse_line(ht, &ucap, line, len, lineno, msg,
		    sizeof(msg)) != 0)
			note_error(err, errlen, &first, &nbad, path, lineno,
			    msg);
	}
	if (ferror(fp))
		note_error(err, errlen, &first, &nbad, path, lineno + 1,
		    strerror(errno));
	free(line);
	fclose(fp);
	/* Sorted by name then line, a repeated user follows its first. */
	if (ht->n > 0)
		qsort(ht->users, ht->n, sizeof(user_t), user_cmp);
	for (size_t i = 1; i < ht->n; i++) {
		if (strcmp(ht->users[i - 1].name, ht->users[i].name) != 0)
			continue;
		snprintf(msg, sizeof(msg), "user '%s' again (first on line %u)",
		    lnt_acl_quote(ht->users[i].name,
		    strlen(ht->users[i].name), q, sizeof(q)),
		    ht->users[i - 1].line);
		note_error(err, errlen, &first, &nbad, path,
		    ht->users[i].line, msg);
	}
	if (nbad == 0 && ht->n == 0) {
		lnt_acl_errf(err, errlen, "%s: no users", path);
		nbad++;
	}
	if (nbad > 0) {
		size_t used = strnlen(err, errlen);

		if (nbad > 1 && used < errlen)
			snprintf(err + used, errlen - used,
			    " (and %u more bad lines)", nbad - 1);
		lnt_htpasswd_free(ht);
		return NULL;
	}
	ht->dummy = ht->users[0].hash;
	return ht;
}

size_t
lnt_htpasswd_count(const lnt_htpasswd_t *ht)
{
	return ht->n;
}

static int
name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const user_t *)elem)->name);
}

/* Compare <n> bytes without an early exit, so timing says nothing. */
static bool
ct_equal(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

bool
lnt_htpasswd_verify(const lnt_htpasswd_t *ht, const char *user,
    const char *pass)
{
	struct crypt_data cd;
	const user_t *u;
	const char *hash, *out;
	size_t n;

	u = bsearch(user, ht->users, ht->n, sizeof(user_t), name_cmp);
	/* Burn the same time on a user that does not exist. */
	hash = u != NULL ? u->hash : ht->dummy;
	memset(&cd, 0, sizeof(cd));
	out = crypt_rn(pass, hash, &cd, (int)sizeof(cd));
	n = strlen(hash);
	return u != NULL && out != NULL && strlen(out) == n &&
	    ct_equal(out, hash, n);
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
lnt_htpasswd_parse_basic(const char *value, size_t len, char *buf,
    size_t size, const char **user, const char **pass)
{
	const char *t, *end = value + len, *colon;
	size_t n, pad = 0, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (value < end && (*value == ' ' || *value == '\t'))
		value++;
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - value < 7 || strncasecmp(value, "Basic", 5) != 0 ||
	    value[5] != ' ')
		return -1;
	for (t = value + 6; t < end && *t == ' '; t++)
		continue;
	n = (size_t)(end - t);
	while (pad < n && pad < 2 && t[n - 1 - pad] == '=')
		pad++;
	/* Padding, when present, fills the last group of four. */
	if (n == 0 || (pad > 0 && n % 4 != 0) || (n - pad) % 4 == 1)
		return -1;
	n -= pad;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)t[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			/* Room for this byte and the final NUL. */
			if (o + 2 > size)
				return -1;
			buf[o++] = (char)(acc >> bits & 0xff);
		}
	}
	for (size_t i = 0; i < o; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x20 || c == 0x7f)
			return -1;
	}
	if ((colon = memchr(buf, ':', o)) == NULL)
		return -1;
	buf[colon - buf] = '\0';
	buf[o] = '\0';
	*user = buf;
	*pass = buf + (colon - buf) + 1;
	return 0;
}
