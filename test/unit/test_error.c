/* SPDX-License-Identifier: MIT */
/* test_error.c - nb_fail / nb_last_error: errno, text, per-thread state. */
#include <pthread.h>

#include "nb_test.h"

static void fail_sets_errno_and_text(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(nb_fail(EACCES, "policy: uid %d may not claim %s", 1000, "eth1"), -1);
	assert_int_equal(errno, EACCES);
	assert_string_equal(nb_last_error(), "policy: uid 1000 may not claim eth1");
	assert_null(nb_fail_null(ENOMEM, "out of %s", "memory"));
	assert_int_equal(errno, ENOMEM);
	assert_string_equal(nb_last_error(), "out of memory");
}

static void long_reasons_are_truncated_not_overflowed(void **state)
{
	char big[2000];

	(void)state;
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nb_fail(EINVAL, "%s", big);
	assert_int_equal(strlen(nb_last_error()), 511);
	assert_int_equal(nb_last_error()[510], 'r');
}

static void *other_thread(void *arg)
{
	char *seen = arg;

	strcpy(seen, nb_last_error());
	nb_fail(EIO, "set by the other thread");
	return NULL;
}

/* Each thread has its own reason: another thread's failure leaves ours. */
static void reasons_are_per_thread(void **state)
{
	char seen[512] = "";
	pthread_t t;

	(void)state;
	nb_fail(EPERM, "set by the main thread");
	assert_int_equal(pthread_create(&t, NULL, other_thread, seen), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_string_equal(seen, "no error");
	assert_string_equal(nb_last_error(), "set by the main thread");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fail_sets_errno_and_text),
		cmocka_unit_test(long_reasons_are_truncated_not_overflowed),
		cmocka_unit_test(reasons_are_per_thread),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
