/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the timer heap (server/timer.c). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "timer.h"

static lnt_msec_t	fired[64];
static size_t		nfired;

static void
record(lnt_timer_t *t)
{
	fired[nfired++] = t->when;
}

START_TEST(test_fires_in_deadline_order)
{
	lnt_timer_heap_t heap = { 0 };
	lnt_timer_t t[8];
	static const lnt_msec_t when[8] = { 50, 10, 40, 30, 20, 80, 70, 60 };

	nfired = 0;
	for (int i = 0; i < 8; i++) {
		lnt_timer_init(&t[i], record, NULL);
		ck_assert_int_eq(lnt_timer_arm(&heap, &t[i], when[i]), 0);
	}
	ck_assert_int_eq(lnt_timer_next(&heap), 10);
	ck_assert_uint_eq(lnt_timer_expire(&heap, 45), 4);
	ck_assert_int_eq(fired[0], 10);
	ck_assert_int_eq(fired[1], 20);
	ck_assert_int_eq(fired[2], 30);
	ck_assert_int_eq(fired[3], 40);
	ck_assert(!lnt_timer_armed(&t[1]));
	ck_assert(lnt_timer_armed(&t[0]));
	ck_assert_uint_eq(lnt_timer_expire(&heap, 1000), 4);
	ck_assert_int_eq(fired[7], 80);
	ck_assert_int_eq(lnt_timer_next(&heap), -1);
	lnt_timer_heap_free(&heap);
}
END_TEST

START_TEST(test_rearm_and_disarm)
{
	lnt_timer_heap_t heap = { 0 };
	lnt_timer_t a, b, c;

	nfired = 0;
	lnt_timer_init(&a, record, NULL);
	lnt_timer_init(&b, record, NULL);
	lnt_timer_init(&c, record, NULL);
	lnt_timer_arm(&heap, &a, 10);
	lnt_timer_arm(&heap, &b, 20);
	lnt_timer_arm(&heap, &c, 30);
	lnt_timer_arm(&heap, &a, 100);		/* moved later */
	lnt_timer_arm(&heap, &c, 5);		/* moved earlier */
	lnt_timer_disarm(&heap, &b);
	lnt_timer_disarm(&heap, &b);		/* twice is harmless */
	ck_assert_uint_eq(heap.n, 2);
	ck_assert_int_eq(lnt_timer_next(&heap), 5);
	ck_assert_uint_eq(lnt_timer_expire(&heap, 1000), 2);
	ck_assert_int_eq(fired[0], 5);
	ck_assert_int_eq(fired[1], 100);
	lnt_timer_heap_free(&heap);
}
END_TEST

/* Random arms/disarms against a brute-force model of the minimum. */
START_TEST(test_random_against_model)
{
	lnt_timer_heap_t heap = { 0 };
	lnt_timer_t t[200];

	srand(7);
	for (int i = 0; i < 200; i++)
		lnt_timer_init(&t[i], record, NULL);
	for (int round = 0; round < 5000; round++) {
		int i = rand() % 200;
		lnt_msec_t min = -1;

		if (rand() % 3 == 0)
			lnt_timer_disarm(&heap, &t[i]);
		else
			lnt_timer_arm(&heap, &t[i], rand() % 10000);
		for (int j = 0; j < 200; j++) {
			if (lnt_timer_armed(&t[j]) &&
			    (min == -1 || t[j].when < min))
				min = t[j].when;
		}
		ck_assert_int_eq(lnt_timer_next(&heap), min);
	}
	lnt_timer_heap_free(&heap);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("timer");
	TCase *tc = tcase_create("heap");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_fires_in_deadline_order);
	tcase_add_test(tc, test_rearm_and_disarm);
	tcase_add_test(tc, test_random_against_model);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
