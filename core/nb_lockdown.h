/* SPDX-License-Identifier: MIT */
/*
 * nb_lockdown.h - the fd classes of policy/worker-seccomp.policy as core/
 * fills them (session.c, irq.c, lockdown.c) and test programs see them.
 */
#ifndef NB_LOCKDOWN_H
#define NB_LOCKDOWN_H

#include "nb_internal.h"
#include "nb_fd_classes.h" /* generated: enum nb_fd_class (NB_FDS_*) */

/* An fd and the class it belongs to in the worker's seccomp filter. */
struct nb_fd_role {
	int fd;
	enum nb_fd_class cls;
};

/*
 * nb_lockdown_keep with `extra` fds of core's own classes added (tests
 * stand a plain file in for a device fd). Same checks and failures.
 */
int nb_lockdown_roles(struct nb_session *s, const struct nb_keep *keep,
		      unsigned n_keep, const struct nb_fd_role *extra,
		      unsigned n_extra, char *notice, size_t notice_len);

#endif /* NB_LOCKDOWN_H */
