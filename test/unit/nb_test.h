/* SPDX-License-Identifier: MIT */
/* nb_test.h - what every unit test includes: cmocka plus nicbox checks. */
#ifndef NB_TEST_H
#define NB_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nb_internal.h"

/*
 * The last call failed with `err` and nb_last_error() contains `text`.
 * A macro so cmocka reports the caller's line.
 */
#define assert_failed_with(err, text)                                       \
	do {                                                                \
		int saved_errno_ = errno;                                   \
		if (saved_errno_ != (err) ||                                \
		    strstr(nb_last_error(), (text)) == NULL)                \
			fail_msg("want errno %d and \"%s\", got errno %d (%s) " \
				 "and \"%s\"", (err), (text), saved_errno_, \
				 strerror(saved_errno_), nb_last_error());  \
	} while (0)

/* How many fds this process has open (to catch fd leaks on error paths). */
int nb_test_open_fds(void);

#endif /* NB_TEST_H */
