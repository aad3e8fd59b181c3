/* SPDX-License-Identifier: MIT */
/*
 * slow_listen.c - LD_PRELOAD shim: listen() waits 300 ms first, as a
 * listener descheduled between bind() and listen() on a loaded machine.
 * privsep_session_slow_listen runs privsep_session under it: a test that
 * connects once the socket file exists, rather than once something listens,
 * is refused (ECONNREFUSED) every time instead of now and then.
 */
#include <dlfcn.h>
#include <sys/socket.h>
#include <time.h>

int listen(int fd, int backlog)
{
	int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
	struct timespec pause = { 0, 300 * 1000 * 1000 };

	nanosleep(&pause, NULL);
	return real ? real(fd, backlog) : -1;
}
