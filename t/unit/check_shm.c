/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for shared-memory zones (server/shm.c). */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"

START_TEST(test_found_by_name_and_size)
{
	lnt_shm_zone_t *a = lnt_shm_get("t.a", 4096);
	lnt_shm_zone_t *again, *bigger;
	unsigned char *d = lnt_shm_data(a);

	ck_assert_ptr_nonnull(a);
	for (int i = 0; i < 4096; i++)
		ck_assert_int_eq(d[i], 0);
	memcpy(d, "kept", 5);
	/* A reload asking for the same zone gets it, contents and all. */
	again = lnt_shm_get("t.a", 4096);
	ck_assert_ptr_eq(again, a);
	ck_assert_str_eq(lnt_shm_data(again), "kept");
	/* Another size is another zone. */
	bigger = lnt_shm_get("t.a", 8192);
	ck_assert_ptr_ne(bigger, a);
	ck_assert_int_eq(((char *)lnt_shm_data(bigger))[0], 0);
	lnt_shm_release(again);
	ck_assert_str_eq(lnt_shm_data(a), "kept");	/* one ref left */
	lnt_shm_release(a);
	lnt_shm_release(bigger);
}
END_TEST

START_TEST(test_shared_after_fork)
{
	lnt_shm_zone_t *z = lnt_shm_get("t.fork", 64);
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		lnt_shm_lock(z);
		strcpy(lnt_shm_data(z), "from the child");
		lnt_shm_unlock(z);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_str_eq(lnt_shm_data(z), "from the child");
	lnt_shm_release(z);
}
END_TEST

/* A process killed while holding the lock must not wedge the others. */
START_TEST(test_lock_survives_a_dead_holder)
{
	lnt_shm_zone_t *z = lnt_shm_get("t.robust", 64);
	int status, p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		lnt_shm_lock(z);
		(void)write(p[1], "x", 1);
		pause();		/* killed holding the lock */
		_exit(1);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	lnt_shm_lock(z);	/* would hang forever without robustness */
	lnt_shm_unlock(z);
	lnt_shm_lock(z);	/* and it stays usable */
	lnt_shm_unlock(z);
	close(p[0]);
	close(p[1]);
	lnt_shm_release(z);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("shm");
	TCase *tc = tcase_create("zones");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_found_by_name_and_size);
	tcase_add_test(tc, test_shared_after_fork);
	tcase_add_test(tc, test_lock_survives_a_dead_holder);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
