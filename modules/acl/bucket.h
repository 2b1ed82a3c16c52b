/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-client request rate limits (token buckets) and concurrent connection
 * counts for the acl module, in tables laid out in caller-provided memory
 * so that one shared-memory zone serves every worker.
 */
#ifndef LNT_ACL_BUCKET_H
#define LNT_ACL_BUCKET_H

#include <stddef.h>
#include <stdint.h>

#define LNT_BUCKET_KEYLEN	16		/* an address, as in lnt_ip_t */
#define LNT_BUCKET_ONE		(UINT64_C(1) << 40) /* one request in tokens */
#define LNT_BUCKET_MAX_BURST	(1U << 20)	/* requests a bucket holds */
#define LNT_BUCKET_MAX_RATE	1000000		/* requests per second */
/* A key sits in one of two runs of this many slots: all a lookup reads. */
#define LNT_BUCKET_WINDOW	16

/*
 * A limit: <burst> requests at once, then <per_ms> tokens (units of
 * LNT_BUCKET_ONE per request) a millisecond, so fractional rates such as
 * 10 a minute are exact to about one part in a million.
 */
typedef struct lnt_bucket_rate_s {
	uint64_t	 per_ms;	/* refill, tokens per ms, >= 1 */
	uint32_t	 burst;		/* capacity, 1..LNT_BUCKET_MAX_BURST */
} lnt_bucket_rate_t;

typedef enum lnt_bucket_rc {
	LNT_BUCKET_OK = 0,	/* let it through */
	LNT_BUCKET_LIMITED,	/* over this client's limit: 429 or 503 */
	LNT_BUCKET_FULL		/* the table has no room: refuse, log it */
} lnt_bucket_rc_t;

/*
 * Both live inside the memory given to their _init(), with no pointers, so
 * each process may map it anywhere.  Every store leaves a valid table
 * behind, so a lock taken over from a dead owner (EOWNERDEAD) needs no
 * repair: at worst one slot holds a half-copied key, which ages out.
 */
typedef struct lnt_bucket_s lnt_bucket_t;
typedef struct lnt_connlimit_s lnt_connlimit_t;

/*
 * Parse the rate <s>: a number with up to three decimals, then "r/s",
 * "r/m" or "r/h" ("10r/s", "0.5r/s", "10r/m"), above zero and at most
 * LNT_BUCKET_MAX_RATE a second.  Stores the refill in <per_ms> and returns
 * 0, or returns -1 with a message (no location) in <err> of <errlen> bytes.
 */
int		lnt_bucket_parse_rate(const char *s, uint64_t *per_ms,
		    char *err, size_t errlen);

/* Bytes a table of <nslots> slots takes (either kind). */
size_t		lnt_bucket_size(uint32_t nslots);

/*
 * Lay out an empty rate table in <mem> of <size> bytes (8-byte aligned),
 * with as many slots as fit, rounded down to a power of two.  <seed0> and
 * <seed1> key the hash of client addresses; they should be random, so that
 * clients cannot pick addresses that crowd one neighbourhood.  Returns the
 * table (at <mem>), or NULL if <size> is under
 * lnt_bucket_size(LNT_BUCKET_WINDOW).
 */
lnt_bucket_t	*lnt_bucket_init(void *mem, size_t size, uint64_t seed0,
		    uint64_t seed1);

/*
 * The rate table already laid out in <mem> of <size> bytes, as kept across
 * a reload: returns it with its state, or NULL if <mem> does not hold one
 * of this layout and size.
 */
lnt_bucket_t	*lnt_bucket_attach(void *mem, size_t size);

/* How many clients <t> can track. */
uint32_t	lnt_bucket_slots(const lnt_bucket_t *t);

/*
 * Take one request from the bucket of the client <key> in <t> at the
 * monotonic time <now_ms> under <rate>.  A new client starts with a full
 * bucket.  Returns LNT_BUCKET_OK, or LNT_BUCKET_LIMITED with the wait until
 * a token is back in <retry_ms> (>= 1; round up for Retry-After).
 *
 * A table never forgets a client that is being limited to make room: when
 * the key's neighbourhoods are full, a client whose bucket has refilled
 * (which is the same as never having been seen) is evicted, the oldest
 * first; if none has, the request is refused with LNT_BUCKET_FULL and
 * <retry_ms> says when a slot frees.  So a full table costs new clients a
 * short wait, never lets a limited one through, and tells the operator to
 * grow the zone.  A <now_ms> earlier than a client's last refill (workers
 * cache the time) counts as no time passed.  <rate> may change between
 * calls (a reload); buckets are clamped to the new burst.  Locking is the
 * caller's.  Aborts if <rate> is out of range.
 */
lnt_bucket_rc_t	lnt_bucket_take(lnt_bucket_t *t, const lnt_bucket_rate_t *rate,
		    const uint8_t key[LNT_BUCKET_KEYLEN], uint64_t now_ms,
		    uint64_t *retry_ms);

/*
 * Lay out an empty connection table in <mem> of <size> bytes, as
 * lnt_bucket_init() does.  Returns it, or NULL if <size> is too small.
 */
lnt_connlimit_t	*lnt_connlimit_init(void *mem, size_t size, uint64_t seed0,
		    uint64_t seed1);

/* The connection table already in <mem> of <size> bytes, or NULL. */
lnt_connlimit_t	*lnt_connlimit_attach(void *mem, size_t size);

/*
 * Count one more connection of the client <key> in <t> if it has fewer
 * than <limit>: returns LNT_BUCKET_OK (the caller must call
 * lnt_connlimit_release() when the connection ends), LNT_BUCKET_LIMITED if it
 * has <limit> already, or LNT_BUCKET_FULL if the key's neighbourhoods hold
 * other clients only (slots of clients with no connection are free, so
 * nothing is ever evicted).  Locking is the caller's.
 */
lnt_bucket_rc_t	lnt_connlimit_acquire(lnt_connlimit_t *t,
		    const uint8_t key[LNT_BUCKET_KEYLEN], uint32_t limit);

/*
 * Count one connection of <key> in <t> fewer.  A key with none (after
 * lnt_connlimit_reset()) is left alone.
 */
void		lnt_connlimit_release(lnt_connlimit_t *t,
		    const uint8_t key[LNT_BUCKET_KEYLEN]);

/* How many connections <key> holds in <t>. */
uint32_t	lnt_connlimit_count(const lnt_connlimit_t *t,
		    const uint8_t key[LNT_BUCKET_KEYLEN]);

/*
 * Forget every count in <t>.  For the master when a worker died: its
 * connections are gone but were never released, and an undercount for a
 * moment is better than locking clients out for good.
 */
void		lnt_connlimit_reset(lnt_connlimit_t *t);

#endif /* LNT_ACL_BUCKET_H */
