/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Token buckets and connection counters keyed by client address, in a
 * fixed-size open-addressing table inside caller memory.  A key lives in
 * one of two neighbourhoods of LNT_BUCKET_WINDOW slots picked by its keyed
 * hash, so every operation reads a bounded set of slots and a free slot
 * needs no tombstone.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"

#define BUCKET_MAGIC	0x6c6e7442U	/* "lntB" */
#define CONN_MAGIC	0x6c6e7443U	/* "lntC" */
#define LAYOUT_VERSION	1

/* A free rate slot: no bucket ever holds this many tokens. */
#define EMPTY		UINT64_MAX

typedef struct slot {
	uint8_t		 key[LNT_BUCKET_KEYLEN];
	uint64_t	 v;		/* tokens, or EMPTY; or connections */
	uint64_t	 last_ms;	/* tokens were counted at this time */
} slot_t;

/* The head of the memory; the slots follow it. */
typedef struct table {
	uint32_t	 magic;
	uint32_t	 version;
	uint32_t	 nslots;	/* a power of two */
	uint32_t	 pad;
	uint64_t	 size;		/* bytes given to _init() */
	uint64_t	 seed[2];
} table_t;

struct lnt_bucket_s {
	table_t		 t;
};

struct lnt_connlimit_s {
	table_t		 t;
};

#define BUCKET_ASSERT(e) do {						\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: %s: assertion '%s' failed\n",	\
		    __FILE__, __LINE__, __func__, #e);			\
		abort();						\
	}								\
} while (0)

static slot_t *
slots(const table_t *t)
{
	return (slot_t *)(void *)((char *)(uintptr_t)t + sizeof(table_t));
}

static uint64_t
rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static void
sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

/*
 * SipHash-1-3 of a 16-byte key under the table's seed: clients choose
 * their addresses (an IPv6 /64 holds plenty), so without a secret key they
 * could aim many at one neighbourhood and crowd others out.
 */
static uint64_t
key_hash(const table_t *t, const uint8_t key[LNT_BUCKET_KEYLEN])
{
	uint64_t v[4], m[2] = { 0, 0 };

	for (int i = 7; i >= 0; i--) {
		m[0] = m[0] << 8 | key[i];
		m[1] = m[1] << 8 | key[i + 8];
	}
	v[0] = t->seed[0] ^ UINT64_C(0x736f6d6570736575);
	v[1] = t->seed[1] ^ UINT64_C(0x646f72616e646f6d);
	v[2] = t->seed[0] ^ UINT64_C(0x6c7967656e657261);
	v[3] = t->seed[1] ^ UINT64_C(0x7465646279746573);
	for (int i = 0; i < 2; i++) {
		v[3] ^= m[i];
		sip_round(v);
		v[0] ^= m[i];
	}
	/* The final block carries the length, 16, in its top byte. */
	v[3] ^= UINT64_C(16) << 56;
	sip_round(v);
	v[0] ^= UINT64_C(16) << 56;
	v[2] ^= 0xff;
	for (int i = 0; i < 3; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

int
lnt_bucket_parse_rate(const char *s, uint64_t *per_ms, char *err,
    size_t errlen)
{
	uint64_t milli = 0, period;
	const char *p = s;
	int ndec = -1;
	double v;

	for (; *p != '\0' && p - s < 16; p++) {
		if (*p == '.' && ndec < 0 && p > s)
			ndec = 0;
		else if (*p >= '0' && *p <= '9' && ndec < 3) {
			milli = milli * 10 + (uint64_t)(*p - '0');
			if (ndec >= 0)
				ndec++;
		} else
			break;
	}
	for (ndec = ndec < 0 ? 0 : ndec; ndec < 3; ndec++)
		milli *= 10;
	if (strcmp(p, "r/s") == 0)
		period = 1000;
	else if (strcmp(p, "r/m") == 0)
		period = 60 * 1000;
	else if (strcmp(p, "r/h") == 0)
		period = 3600 * 1000;
	else
		period = 0;
	if (p == s || p[-1] == '.' || period == 0) {
		snprintf(err, errlen, "expected a rate such as \"10r/s\", "
		    "\"0.5r/s\" or \"10r/m\", got \"%.40s\"", s);
		return -1;
	}
	if (milli == 0 || milli / period > LNT_BUCKET_MAX_RATE) {
		snprintf(err, errlen, "the rate must be above 0 and at most "
		    "%dr/s", LNT_BUCKET_MAX_RATE);
		return -1;
	}
	/*
	 * Config time only, and far below 2^53: exact enough.  Rounded up,
	 * so "2.5r/s" frees a token every 400 ms and not 401.
	 */
	v = (double)milli * (double)LNT_BUCKET_ONE / (1000.0 * (double)period);
	*per_ms = (uint64_t)v;
	if ((double)*per_ms < v)
		(*per_ms)++;
	return 0;
}

size_t
lnt_bucket_size(uint32_t nslots)
{
	return sizeof(table_t) + (size_t)nslots * sizeof(slot_t);
}

static table_t *
table_init(void *mem, size_t size, uint32_t magic, uint64_t empty,
    uint64_t seed0, uint64_t seed1)
{
	table_t *t = mem;
	slot_t *s;
	uint32_t n = LNT_BUCKET_WINDOW;

	if (((uintptr_t)mem & 7) != 0 ||
	    size < lnt_bucket_size(LNT_BUCKET_WINDOW))
		return NULL;
	while (n <= UINT32_MAX / 2 && lnt_bucket_size(n * 2) <= size)
		n *= 2;
	memset(t, 0, sizeof(*t));
	t->version = LAYOUT_VERSION;
	t->nslots = n;
	t->size = size;
	t->seed[0] = seed0;
	t->seed[1] = seed1;
	s = slots(t);
	for (uint32_t i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].v = empty;
	}
	/* Last, so a half-written table never passes _attach(). */
	t->magic = magic;
	return t;
}

static table_t *
table_attach(void *mem, size_t size, uint32_t magic)
{
	table_t *t = mem;

	if (((uintptr_t)mem & 7) != 0 || size < sizeof(table_t) ||
	    t->magic != magic || t->version != LAYOUT_VERSION ||
	    t->size != size || t->nslots < LNT_BUCKET_WINDOW ||
	    (t->nslots & (t->nslots - 1)) != 0 ||
	    lnt_bucket_size(t->nslots) > size)
		return NULL;
	return t;
}

lnt_bucket_t *
lnt_bucket_init(void *mem, size_t size, uint64_t seed0, uint64_t seed1)
{
	return (lnt_bucket_t *)table_init(mem, size, BUCKET_MAGIC, EMPTY,
	    seed0, seed1);
}

lnt_bucket_t *
lnt_bucket_attach(void *mem, size_t size)
{
	return (lnt_bucket_t *)table_attach(mem, size, BUCKET_MAGIC);
}

uint32_t
lnt_bucket_slots(const lnt_bucket_t *t)
{
	return t->t.nslots;
}

/* The first slots of the two neighbourhoods of <key>. */
static void
bases(const table_t *t, const uint8_t key[LNT_BUCKET_KEYLEN],
    uint32_t base[2])
{
	uint64_t h = key_hash(t, key);

	base[0] = (uint32_t)h & (t->nslots - 1);
	base[1] = (uint32_t)(h >> 32) & (t->nslots - 1);
}

static slot_t *
slot_at(const table_t *t, uint32_t base, uint32_t i)
{
	return &slots(t)[(base + i) & (t->nslots - 1)];
}

/* The tokens of <s> at <now>, refilled under <rate> and clamped to it. */
static uint64_t
tokens_at(const slot_t *s, const lnt_bucket_rate_t *rate, uint64_t now)
{
	uint64_t cap = rate->burst * LNT_BUCKET_ONE;
	uint64_t v = s->v < cap ? s->v : cap, room = cap - v;

	if (now <= s->last_ms)
		return v;
	/* Past room / per_ms the bucket is full; below, no overflow. */
	if (now - s->last_ms > room / rate->per_ms)
		return cap;
	return v + (now - s->last_ms) * rate->per_ms;
}

/* Milliseconds until <tokens> grows to <want> under <rate>; at least 1. */
static uint64_t
wait_for(uint64_t tokens, uint64_t want, const lnt_bucket_rate_t *rate)
{
	uint64_t ms;

	if (tokens >= want)
		return 1;
	ms = (want - tokens + rate->per_ms - 1) / rate->per_ms;
	return ms > 0 ? ms : 1;
}

/*
 * Of the free slots in the two neighbourhoods, the one in the emptier:
 * choosing between two places keeps neighbourhoods from filling up until
 * the table is about 80% full, where one place fails at about 50%.
 */
static slot_t *
pick_free(slot_t *free_slot[2], const unsigned used[2])
{
	if (free_slot[0] == NULL)
		return free_slot[1];
	if (free_slot[1] == NULL)
		return free_slot[0];
	return used[1] < used[0] ? free_slot[1] : free_slot[0];
}

lnt_bucket_rc_t
lnt_bucket_take(lnt_bucket_t *bt, const lnt_bucket_rate_t *rate,
    const uint8_t key[LNT_BUCKET_KEYLEN], uint64_t now_ms,
    uint64_t *retry_ms)
{
	table_t *t = &bt->t;
	slot_t *hit = NULL, *free_slot[2] = { NULL, NULL }, *victim = NULL;
	uint64_t cap, tok, soonest = UINT64_MAX;
	unsigned used[2] = { 0, 0 };
	uint32_t base[2];

	BUCKET_ASSERT(rate->per_ms >= 1 && rate->burst >= 1 &&
	    rate->burst <= LNT_BUCKET_MAX_BURST);
	cap = (uint64_t)rate->burst * LNT_BUCKET_ONE;
	bases(t, key, base);
	for (int w = 0; w < 2 && hit == NULL; w++) {
		for (uint32_t i = 0; i < LNT_BUCKET_WINDOW; i++) {
			slot_t *c = slot_at(t, base[w], i);

			if (c->v == EMPTY) {
				if (free_slot[w] == NULL)
					free_slot[w] = c;
				continue;
			}
			used[w]++;
			if (memcmp(c->key, key, LNT_BUCKET_KEYLEN) == 0) {
				hit = c;
				break;
			}
			/* A refilled bucket knows no more than a new one. */
			tok = tokens_at(c, rate, now_ms);
			if (tok == cap) {
				if (victim == NULL ||
				    c->last_ms < victim->last_ms)
					victim = c;
			} else {
				tok = wait_for(tok, cap, rate);
				if (tok < soonest)
					soonest = tok;
			}
		}
	}
	if (hit == NULL) {
		if ((hit = pick_free(free_slot, used)) == NULL &&
		    (hit = victim) == NULL) {
			*retry_ms = soonest;
			return LNT_BUCKET_FULL;
		}
		memcpy(hit->key, key, LNT_BUCKET_KEYLEN);
		hit->v = cap;
		hit->last_ms = now_ms;
	}
	hit->v = tokens_at(hit, rate, now_ms);
	if (now_ms > hit->last_ms)
		hit->last_ms = now_ms;
	if (hit->v < LNT_BUCKET_ONE) {
		*retry_ms = wait_for(hit->v, LNT_BUCKET_ONE, rate);
		return LNT_BUCKET_LIMITED;
	}
	hit->v -= LNT_BUCKET_ONE;
	return LNT_BUCKET_OK;
}

lnt_connlimit_t *
lnt_connlimit_init(void *mem, size_t size, uint64_t seed0, uint64_t seed1)
{
	return (lnt_connlimit_t *)table_init(mem, size, CONN_MAGIC, 0, seed0,
	    seed1);
}

lnt_connlimit_t *
lnt_connlimit_attach(void *mem, size_t size)
{
	return (lnt_connlimit_t *)table_attach(mem, size, CONN_MAGIC);
}

/*
 * The slot counting <key> in <t>, or NULL; then also, when <free_slot> is
 * not NULL, a free slot for it there (or NULL).
 */
static slot_t *
conn_find(const table_t *t, const uint8_t key[LNT_BUCKET_KEYLEN],
    slot_t **free_slot)
{
	slot_t *fs[2] = { NULL, NULL };
	unsigned used[2] = { 0, 0 };
	uint32_t base[2];

	bases(t, key, base);
	for (int w = 0; w < 2; w++) {
		for (uint32_t i = 0; i < LNT_BUCKET_WINDOW; i++) {
			slot_t *c = slot_at(t, base[w], i);

			if (c->v == 0) {
				if (fs[w] == NULL)
					fs[w] = c;
				continue;
			}
			used[w]++;
			if (memcmp(c->key, key, LNT_BUCKET_KEYLEN) == 0)
				return c;
		}
	}
	if (free_slot != NULL)
		*free_slot = pick_free(fs, used);
	return NULL;
}

lnt_bucket_rc_t
lnt_connlimit_acquire(lnt_connlimit_t *ct, const uint8_t key[LNT_BUCKET_KEYLEN],
    uint32_t limit)
{
	slot_t *free_slot, *c = conn_find(&ct->t, key, &free_slot);

	if (c != NULL) {
		if (c->v >= limit)
			return LNT_BUCKET_LIMITED;
		c->v++;
		return LNT_BUCKET_OK;
	}
	if (limit == 0)
		return LNT_BUCKET_LIMITED;
	if (free_slot == NULL)
		return LNT_BUCKET_FULL;
	memcpy(free_slot->key, key, LNT_BUCKET_KEYLEN);
	free_slot->v = 1;
	return LNT_BUCKET_OK;
}

void
lnt_connlimit_release(lnt_connlimit_t *ct, const uint8_t key[LNT_BUCKET_KEYLEN])
{
	slot_t *c = conn_find(&ct->t, key, NULL);

	/* At zero the slot is free again, with nothing to clean up. */
	if (c != NULL)
		c->v--;
}

uint32_t
lnt_connlimit_count(const lnt_connlimit_t *ct,
    const uint8_t key[LNT_BUCKET_KEYLEN])
{
	const slot_t *c = conn_find(&ct->t, key, NULL);

	return c != NULL ? (uint32_t)c->v : 0;
}

void
lnt_connlimit_reset(lnt_connlimit_t *ct)
{
	slot_t *s = slots(&ct->t);

	for (uint32_t i = 0; i < ct->t.nslots; i++)
		s[i].v = 0;
}
