/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the request arena (server/req_arena.c). */
#include "config.h"

#include <check.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "req_arena.h"

static bool
all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

START_TEST(test_nothing_until_used)
{
	lnt_req_arena_t a = { 0 };

	lnt_arena_clear(&a);
	ck_assert_ptr_null(a.blocks);
	ck_assert_uint_eq(a.held, 0);
}
END_TEST

START_TEST(test_zeroed_aligned_distinct)
{
	lnt_req_arena_t a = { 0 };
	unsigned char *p[300];

	/* Enough small pieces to need several blocks. */
	for (size_t i = 0; i < LNT_NELEM(p); i++) {
		p[i] = lnt_arena_alloc(&a, 1 + i % 37);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % alignof(max_align_t), 0);
		ck_assert(all_zero(p[i], 1 + i % 37));
		memset(p[i], (int)(i & 0xff) | 1, 1 + i % 37);
	}
	/* No piece overlapped another. */
	for (size_t i = 0; i < LNT_NELEM(p); i++)
		for (size_t j = 0; j < 1 + i % 37; j++)
			ck_assert_int_eq(p[i][j], (int)(i & 0xff) | 1);
	ck_assert_uint_gt(a.held, LNT_ARENA_BLOCK);
	lnt_arena_clear(&a);
	ck_assert_ptr_null(a.blocks);
	/* Memory handed out again comes back zeroed. */
	p[0] = lnt_arena_alloc(&a, 64);
	ck_assert(all_zero(p[0], 64));
	lnt_arena_clear(&a);
	lnt_arena_free_cache();
}
END_TEST

START_TEST(test_large_and_cap)
{
	lnt_req_arena_t a = { 0 };
	unsigned char *small, *big, *after;

	small = lnt_arena_alloc(&a, 16);
	big = lnt_arena_alloc(&a, 3 * LNT_ARENA_BLOCK);
	ck_assert_ptr_nonnull(big);
	ck_assert(all_zero(big, 3 * LNT_ARENA_BLOCK));
	/* The block being filled stays in use after a large piece. */
	after = lnt_arena_alloc(&a, 16);
	ck_assert_ptr_nonnull(after);
	ck_assert(after > small && after < small + LNT_ARENA_BLOCK);
	ck_assert_ptr_null(lnt_arena_alloc(&a, LNT_ARENA_MAX));
	ck_assert_ptr_null(lnt_arena_alloc(&a, SIZE_MAX - 8));
	while (lnt_arena_alloc(&a, 1000) != NULL)
		;
	ck_assert_uint_le(a.held, LNT_ARENA_MAX);
	lnt_arena_clear(&a);
	ck_assert_uint_eq(a.held, 0);
	ck_assert_ptr_nonnull(lnt_arena_alloc(&a, 1000));
	lnt_arena_clear(&a);
	lnt_arena_free_cache();
}
END_TEST

static char	calls[16];
static size_t	ncalls;
static lnt_req_arena_t *current;

static void
note(void *data)
{
	const char *s = data;

	calls[ncalls++] = s[0];
}

static void
note_and_add(void *data)
{
	note(data);
	/* A cleanup that adds another: that one runs as well. */
	ck_assert_int_eq(lnt_arena_cleanup_add(current, note, "z"), 0);
}

START_TEST(test_cleanups_last_first)
{
	lnt_req_arena_t a = { 0 };
	char *x;

	ncalls = 0;
	current = &a;
	/* Data in the arena itself is still there when cleanups run. */
	x = lnt_arena_alloc(&a, 2);
	x[0] = 'a';
	ck_assert_int_eq(lnt_arena_cleanup_add(&a, note, x), 0);
	ck_assert_int_eq(lnt_arena_cleanup_add(&a, note_and_add, "b"), 0);
	ck_assert_int_eq(lnt_arena_cleanup_add(&a, note, "c"), 0);
	lnt_arena_clear(&a);
	ck_assert_uint_eq(ncalls, 4);
	ck_assert(memcmp(calls, "cbza", 4) == 0);
	/* Cleared: nothing runs twice. */
	lnt_arena_clear(&a);
	ck_assert_uint_eq(ncalls, 4);
	lnt_arena_free_cache();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("req_arena");
	TCase *tc = tcase_create("arena");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_nothing_until_used);
	tcase_add_test(tc, test_zeroed_aligned_distinct);
	tcase_add_test(tc, test_large_and_cap);
	tcase_add_test(tc, test_cleanups_last_first);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
