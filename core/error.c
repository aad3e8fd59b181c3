/* SPDX-License-Identifier: MIT */
/* error.c - errno plus a thread-local human-readable reason. */
#include <errno.h>
#include <stdio.h>

#include "nb_internal.h"

/* Room for "nicbox-helper: " and any helper reason (core/session.c checks). */
static _Thread_local char last_error[NB_ERROR_LEN] = "no error";

__attribute__((format(printf, 1, 0)))
static void set_reason(const char *fmt, va_list ap)
{
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
}

NB_API const char *nb_last_error(void)
{
	return last_error;
}

int nb_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_reason(fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

void *nb_fail_null(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_reason(fmt, ap);
	va_end(ap);
	errno = err;
	return NULL;
}
