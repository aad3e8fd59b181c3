/* SPDX-License-Identifier: MIT */
/*
 * term_before_wait.so - an LD_PRELOAD shim for test_session: the first
 * time the process is about to wait (ppoll, poll, accept, accept4), it
 * raises SIGTERM first. That is the race a server loop must survive: a
 * SIGTERM that lands after its quit check and before it blocks. A loop
 * that checks a flag and then blocks misses it and waits forever; one that
 * keeps SIGTERM blocked except inside ppoll (nbh_wait) takes it there.
 */
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

static void term_once(void)
{
	static int raised;

	if (!raised) {
		raised = 1;
		raise(SIGTERM);
	}
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
	term_once();
	return NEXT(ppoll)(fds, n, t, mask);
}

int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	term_once();
	return NEXT(poll)(fds, n, timeout_ms);
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	term_once();
	return NEXT(accept)(fd, addr, len);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	term_once();
	return NEXT(accept4)(fd, addr, len, flags);
}
