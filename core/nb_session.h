/* SPDX-License-Identifier: MIT */
/*
 * nb_session.h - what the helper session shares with the rest of core/
 * (nb_lockdown) and with test programs, beyond nicbox.h.
 */
#ifndef NB_SESSION_H
#define NB_SESSION_H

#include "nb_internal.h"

/*
 * Wrap claimed device `index` (after nb_session_ready) in a VFIO PCI
 * handle; the handle owns the device fd. Each device can be taken once.
 */
int nb_session_take_pci(struct nb_session *s, int index, struct nb_pci **out);

/*
 * The fds the session stands for with their class in the worker's seccomp
 * filter (helper socket, device fds, pool memfds), for nb_lockdown. Returns
 * how many it wrote (at most max).
 */
struct nb_fd_role;
unsigned nb_session_fds(const struct nb_session *s, struct nb_fd_role *fds,
			unsigned max);

/*
 * Check a reply from the helper: framing and fd count (nbp_validate), then
 * every field. 0, or EPROTO/EBADMSG/E2BIG with a reason in why[].
 */
int nb_reply_validate(const void *buf, size_t len, unsigned n_fds, char *why,
		      size_t why_len);

#endif /* NB_SESSION_H */
