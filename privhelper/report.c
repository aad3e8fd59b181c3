/* SPDX-License-Identifier: MIT */
/* report.c - the last failure (errno + reason) and the ERROR reply with it. */
#include "helper.h"

int nbh_err;
char nbh_reason[NBP_TEXT_LEN];

int nbh_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nbh_reason, sizeof(nbh_reason), fmt, ap);
	va_end(ap);
	errno = nbh_err = err;
	return -1;
}

void nbh_send_error(int sock, uid_t uid, bool log)
{
	struct nbp_error e;

	nbp_init(&e, NBP_ERROR);
	e.err = nbh_err > 0 ? nbh_err : EIO;
	memcpy(e.reason, nbh_reason, sizeof(e.reason));
	if (log)
		nbh_log("uid %u: %s", (unsigned)uid, e.reason);
	nbp_send(sock, &e, sizeof(e), NULL, 0);
}
