/* SPDX-License-Identifier: MIT */
/*
 * test_lockdown.c - nb_lockdown() in a forked child with a second thread.
 * The parent reads /proc/<child>/task/<tid>/status of EVERY thread (the
 * child itself cannot open anything any more), then lets the child try one
 * call: allowed calls must work, forbidden ones must kill the whole process
 * with SIGSYS. The parent waits at most WAIT_SECONDS: a filter that killed
 * only the calling thread would leave the process alive (the parked second
 * thread, or the blocked main thread), and that is a failure, not a hang.
 *
 * The child keeps its pipes for what it does with them (the report pipe for
 * write, the go pipe for read), a stand-in for a VFIO device fd (/dev/null,
 * in the device class of the policy) and, per test, one app fd with the
 * NB_KEEP_* uses the test names (app_keep).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nicbox.h"
#include "nb_lockdown.h"

typedef int (*action_fn)(int spare_fd);

#define WAIT_SECONDS 10

static int park_pipe[2]; /* the second thread blocks reading this */
/* Set by a test before the fork: the app fd the child keeps (.uses 0:
 * none), or plain nb_lockdown (no device, the pipes by access mode). */
static struct nb_keep app_keep;
static bool plain_api;
static int dev_fd = -1; /* the child's stand-in device fd */
/* Run by the second thread when it reads 'r' from park_pipe. */
static action_fn thread_action;
static int thread_spare;

static void *parked_thread(void *arg)
{
	char c;
	(void)arg;
	while (read(park_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	if (c == 'r' && thread_action)
		_exit(thread_action(thread_spare));
	return NULL;
}

static atomic_uint spawned; /* threads the spawner created */
static atomic_int spawn_error; /* its pthread_create's first error */

/* Creates parked threads until pthread_create fails, then parks itself. */
static void *spawner(void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;
	(void)arg;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 << 10);
	while ((rc = pthread_create(&t, &attr, parked_thread, NULL)) == 0)
		atomic_fetch_add(&spawned, 1);
	atomic_store(&spawn_error, rc);
	return parked_thread(NULL);
}

/*
 * Child: start a second thread (`second`: parked_thread, or spawner, which
 * is then given time to get going), open a spare fd (not kept), lock down,
 * report, wait for "go", run the action and exit with its result. With
 * in_thread, the second thread runs the action while this one blocks.
 */
static void child(int report_w, int go_r, action_fn action, bool in_thread,
		  void *(*second)(void *))
{
	int fds[] = { report_w, go_r, park_pipe[0], park_pipe[1] };
	struct nb_keep keep[5] = { { report_w, NB_KEEP_WRITE }, { go_r, NB_KEEP_READ },
				   { park_pipe[0], NB_KEEP_READ },
				   { park_pipe[1], NB_KEEP_WRITE } };
	struct nb_fd_role dev;
	char notice[256], c;
	pthread_t t;
	int spare = dup(report_w), rc;

	dev_fd = open("/dev/null", O_RDWR);
	dev = (struct nb_fd_role){ dev_fd, NB_FDS_DEVICE };
	if (app_keep.uses)
		keep[4] = app_keep;
	if (pthread_create(&t, NULL, second, NULL) != 0)
		_exit(90);
	while (second == spawner && atomic_load(&spawned) < 8)
		;
	rc = plain_api ? nb_lockdown(NULL, fds, 4, notice, sizeof(notice))
		       : nb_lockdown_roles(NULL, keep, app_keep.uses ? 5 : 4, &dev, 1,
					   notice, sizeof(notice));
	if (rc < 0) {
		dprintf(2, "lockdown failed: %s\n", nb_last_error());
		_exit(91);
	}
	if (write(report_w, "L", 1) != 1 || read(go_r, &c, 1) != 1)
		_exit(92);
	if (!in_thread)
		_exit(action(spare));
	thread_action = action;
	thread_spare = spare;
	if (write(park_pipe[1], "r", 1) != 1)
		_exit(93);
	while (read(go_r, &c, 1) != 0) /* the parent closes go only after waitpid */
		;
	_exit(94);
}

static unsigned long status_field(const char *text, const char *name, int base)
{
	const char *p = strstr(text, name);

	if (!p)
		fail_msg("no %s in status", name);
	return strtoul(p + strlen(name), NULL, base);
}

/* Every thread: no capabilities, no_new_privs, seccomp filter mode. */
static unsigned check_every_thread(pid_t pid)
{
	char dir[64], path[384], text[4096];
	unsigned threads = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, e->d_name);
		int fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		ssize_t n = read(fd, text, sizeof(text) - 1);
		close(fd);
		assert_true(n > 0);
		text[n] = '\0';
		assert_int_equal(status_field(text, "CapEff:", 16), 0);
		assert_int_equal(status_field(text, "CapPrm:", 16), 0);
		assert_int_equal(status_field(text, "CapInh:", 16), 0);
		assert_int_equal(status_field(text, "CapAmb:", 16), 0);
		if (geteuid() == 0) /* we had CAP_SETPCAP, so the bounding set went too */
			assert_int_equal(status_field(text, "CapBnd:", 16), 0);
		assert_int_equal(status_field(text, "NoNewPrivs:", 10), 1);
		assert_int_equal(status_field(text, "Seccomp:", 10), 2);
		threads++;
	}
	closedir(d);
	return threads;
}

/*
 * waitpid with a limit: a process still alive after WAIT_SECONDS is killed
 * (SIGKILL) and the test fails, naming what survived.
 */
static int wait_limited(pid_t pid)
{
	int status;

	for (int tenths = 0; tenths < WAIT_SECONDS * 10; tenths++) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		assert_true(got >= 0);
		if (got == pid)
			return status;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fail_msg("the process was still alive after %d s: the forbidden call "
		 "killed only its thread, not the process", WAIT_SECONDS);
	return status;
}

/*
 * Run `action` locked down (in the second thread if in_thread) next to
 * the `second` thread; returns the wait status.
 */
static int run_locked_with(action_fn action, unsigned *threads, bool in_thread,
			   void *(*second)(void *))
{
	int report[2], go[2], status;
	char c;
	pid_t pid;

	assert_int_equal(pipe(report), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(park_pipe), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(report[1], go[0], action, in_thread, second);
	close(report[1]);
	close(go[0]);
	if (read(report[0], &c, 1) == 1) {
		if (threads)
			*threads = check_every_thread(pid);
		assert_int_equal(write(go[1], "g", 1), 1);
	}
	status = wait_limited(pid);
	close(report[0]);
	close(go[1]);
	close(park_pipe[0]);
	close(park_pipe[1]);
	return status;
}

static int run_locked(action_fn action, unsigned *threads)
{
	return run_locked_with(action, threads, false, parked_thread);
}

static void expect_sigsys_in(action_fn action, bool in_thread)
{
	int status = run_locked_with(action, NULL, in_thread, parked_thread);

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("expected death by SIGSYS, got %s %d",
			 WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void expect_sigsys(action_fn action)
{
	expect_sigsys_in(action, false);
}

static void expect_exit0(action_fn action)
{
	int status = run_locked(action, NULL);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("expected exit 0, got %s %d",
			 WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* ---- failing closed ----------------------------------------------------- */

/*
 * A thread that blocks the lockdown signal cannot drop its privileges, so
 * nb_lockdown fails half-way; the process must then be sealed: it can still
 * report (write) and exit, and any other call kills it.
 */
static void test_failed_lockdown_seals_the_process(void **state)
{
	int report[2], status;
	char c = 0;
	pid_t pid;
	(void)state;

	assert_int_equal(pipe(report), 0);
	assert_int_equal(pipe(park_pipe), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int keep[] = { report[1], park_pipe[0], park_pipe[1] };
		sigset_t all, old;
		pthread_t t;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old); /* the new thread inherits it */
		if (pthread_create(&t, NULL, parked_thread, NULL) != 0)
			_exit(90);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (nb_lockdown(NULL, keep, 3, NULL, 0) == 0)
			_exit(91);
		if (write(report[1], "F", 1) != 1)
			_exit(92);
		syscall(SYS_getpid);
		_exit(93);
	}
	close(report[1]);
	assert_int_equal(read(report[0], &c, 1), 1);
	assert_int_equal(c, 'F');
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("expected death by SIGSYS after a failed lockdown, got %s %d",
			 WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	close(report[0]);
	close(park_pipe[0]);
	close(park_pipe[1]);
}

/* ---- allowed ------------------------------------------------------------ */

static int allowed_calls(int spare)
{
	struct timespec ts, short_sleep = { 0, 1000 };
	char *p;

	(void)spare;
	if (getpid() <= 0)
		return 1;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0 || nanosleep(&short_sleep, NULL) < 0)
		return 2;
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 3;
	p[0] = 1;
	if (madvise(p, 1 << 20, MADV_DONTNEED) < 0 || mprotect(p, 4096, PROT_READ) < 0 ||
	    munmap(p, 1 << 20) < 0)
		return 4;
	free(malloc(1 << 16)); /* brk or mmap inside malloc */
	return 0;
}

static void test_every_thread_locked_and_allowed_calls_work(void **state)
{
	unsigned threads = 0;
	int status;
	(void)state;

	status = run_locked(allowed_calls, &threads);
	assert_true(threads >= 2);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The fd opened before lockdown and not kept is gone (close is allowed
 * on any fd; writing to it would kill, see test_sigsys_do_write_spare). */
static int spare_fd_is_closed(int spare)
{
	return close(spare) < 0 && errno == EBADF ? 0 : 1;
}

static void test_unkept_fds_closed(void **state)
{
	(void)state;
	expect_exit0(spare_fd_is_closed);
}

/*
 * Decision: an allowed VFIO request with garbage in the high 32 bits is
 * allowed. The kernel truncates the request to 32 bits, so it IS that
 * request; the filter compares low 32 bits and cannot be fooled either way.
 * Here it reaches the kernel and fails with ENOTTY on /dev/null.
 */
static int vfio_request_high_garbage(int spare)
{
	(void)spare;
	long rc = syscall(SYS_ioctl, dev_fd, 0xdead000000000000ul | VFIO_DEVICE_GET_INFO, NULL);

	return rc < 0 && errno != ENOSYS ? 0 : 1;
}

static void test_vfio_ioctl_with_high_bits_allowed(void **state)
{
	(void)state;
	expect_exit0(vfio_request_high_garbage);
}

/* ---- forbidden: each kills the process with SIGSYS ----------------------- */

static int do_open(int spare)
{
	(void)spare;
	return (int)syscall(SYS_open, "/etc/hostname", O_RDONLY);
}

static int do_openat(int spare)
{
	(void)spare;
	return (int)syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
}

static int do_socket(int spare)
{
	(void)spare;
	return socket(AF_UNIX, SOCK_STREAM, 0);
}

static int do_execve(int spare)
{
	char *argv[] = { "true", NULL };
	(void)spare;
	return (int)syscall(SYS_execve, "/bin/true", argv, NULL);
}

static int do_ioctl_not_listed(int spare)
{
	int n;
	(void)spare;
	return (int)syscall(SYS_ioctl, dev_fd, FIONREAD, &n);
}

/* A container request (MAP_DMA shares its number with PCI_HOT_RESET). */
static int do_ioctl_map_dma_high_bits(int spare)
{
	(void)spare;
	return (int)syscall(SYS_ioctl, dev_fd, 0xffffffff00000000ul | VFIO_IOMMU_MAP_DMA, NULL);
}

static int do_mmap_exec(int spare)
{
	(void)spare;
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0) == MAP_FAILED;
}

static int do_mprotect_exec(int spare)
{
	static char page[4096] __attribute__((aligned(4096)));
	(void)spare;
	return mprotect(page, sizeof(page), PROT_READ | PROT_EXEC);
}

static int do_memfd_create(int spare)
{
	(void)spare;
	return (int)syscall(SYS_memfd_create, "x", 0);
}

static int do_ftruncate(int spare)
{
	(void)spare;
	return (int)syscall(SYS_ftruncate, -1, 0);
}

static int do_fallocate(int spare)
{
	(void)spare;
	return (int)syscall(SYS_fallocate, -1, 3 /* PUNCH_HOLE|KEEP_SIZE */, 0, 4096);
}

static int do_madvise_remove(int spare)
{
	(void)spare;
	return (int)syscall(SYS_madvise, &park_pipe, 4096, MADV_REMOVE);
}

static int do_madvise_remove_high_bits(int spare)
{
	(void)spare;
	return (int)syscall(SYS_madvise, &park_pipe, 4096, 0x100000000ul | MADV_REMOVE);
}

static int do_ptrace(int spare)
{
	(void)spare;
	return (int)syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

static int do_bpf(int spare)
{
	(void)spare;
	return (int)syscall(SYS_bpf, 0, NULL, 0);
}

/*
 * Calls the allowlist had before it shrank from 35 to 24 entries, and
 * every call that takes a path: each kills. newfstatat is tried both as
 * glibc's fstat (fd, "", AT_EMPTY_PATH) and on /etc/shadow: seccomp cannot
 * read the path, so it cannot allow the one and not the other.
 */
#define CALL_FN(name, ...) \
	static int do_##name(int spare) \
	{ \
		static struct stat st; \
		static char buf[64]; \
		(void)spare; (void)st; (void)buf; \
		return (int)syscall(__VA_ARGS__); \
	}
#define CALL_TEST(name, ...) CALL_FN(name, __VA_ARGS__) SIGSYS_TEST(do_##name)
#define SIGSYS_TEST(fn) \
	static void test_sigsys_##fn(void **state) { (void)state; expect_sigsys(fn); }
SIGSYS_TEST(do_open)
SIGSYS_TEST(do_openat)
SIGSYS_TEST(do_socket)
SIGSYS_TEST(do_execve)
SIGSYS_TEST(do_ioctl_not_listed)
SIGSYS_TEST(do_ioctl_map_dma_high_bits)
SIGSYS_TEST(do_mmap_exec)
SIGSYS_TEST(do_mprotect_exec)
SIGSYS_TEST(do_memfd_create)
SIGSYS_TEST(do_ftruncate)
SIGSYS_TEST(do_fallocate)
SIGSYS_TEST(do_madvise_remove)
SIGSYS_TEST(do_madvise_remove_high_bits)
SIGSYS_TEST(do_ptrace)
SIGSYS_TEST(do_bpf)

CALL_FN(newfstatat_shadow, SYS_newfstatat, AT_FDCWD, "/etc/shadow", &st, 0)
CALL_TEST(newfstatat_shadow_empty_path_flag, SYS_newfstatat, AT_FDCWD, "/etc/shadow", &st,
	  AT_EMPTY_PATH)
CALL_TEST(newfstatat_fd_as_glibc_fstat, SYS_newfstatat, 1, "", &st, AT_EMPTY_PATH)
CALL_TEST(fstat, SYS_fstat, 1, &st)
CALL_TEST(stat_shadow, SYS_stat, "/etc/shadow", &st)
CALL_TEST(lstat_shadow, SYS_lstat, "/etc/shadow", &st)
CALL_TEST(statx_shadow, SYS_statx, AT_FDCWD, "/etc/shadow", 0, 0xfff, buf)
CALL_TEST(access, SYS_access, "/etc/shadow", 0)
CALL_TEST(faccessat, SYS_faccessat, AT_FDCWD, "/etc/shadow", 0)
CALL_TEST(faccessat2, SYS_faccessat2, AT_FDCWD, "/etc/shadow", 0, 0)
CALL_TEST(readlink, SYS_readlink, "/proc/self/exe", buf, sizeof(buf))
CALL_TEST(readlinkat, SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, sizeof(buf))
CALL_TEST(openat2, SYS_openat2, AT_FDCWD, "/etc/hostname", buf, 24)
CALL_TEST(chdir, SYS_chdir, "/")
CALL_TEST(readv, SYS_readv, 0, NULL, 0)
CALL_TEST(writev, SYS_writev, 1, NULL, 0)
CALL_TEST(lseek, SYS_lseek, 1, 0, SEEK_CUR)
CALL_TEST(ioctl_tcgets, SYS_ioctl, 1, TCGETS, buf)
CALL_TEST(clock_getres, SYS_clock_getres, CLOCK_MONOTONIC, buf)
CALL_TEST(nanosleep, SYS_nanosleep, &(struct timespec){ 0, 1 }, NULL)
CALL_TEST(gettimeofday, SYS_gettimeofday, buf, NULL)
CALL_TEST(gettid, SYS_gettid)
CALL_TEST(sched_yield, SYS_sched_yield)
CALL_TEST(rt_sigaction, SYS_rt_sigaction, SIGUSR1, NULL, buf, 8)
CALL_TEST(clone, SYS_clone, SIGCHLD, NULL, NULL, NULL, 0)

/* ---- the fd menu: each kept fd only for the uses it was kept for ------- */

/* Run `action` with `fd` kept for `uses`; returns the wait status. */
static int run_keeping(int fd, unsigned uses, action_fn action)
{
	int status;

	app_keep = (struct nb_keep){ fd, uses };
	status = run_locked(action, NULL);
	app_keep = (struct nb_keep){ -1, 0 };
	return status;
}

static void expect_status(int status, int sigsys)
{
	if (sigsys ? !WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS
		   : !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("expected %s, got %s %d", sigsys ? "death by SIGSYS" : "exit 0",
			 WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static int do_write_spare(int spare)
{
	return (int)write(spare, "x", 1);
}

static int do_read_stdin(int spare)
{
	char c;
	(void)spare;
	return (int)read(0, &c, 1);
}

static int do_sendmsg_stdout(int spare)
{
	struct msghdr m = { 0 };
	(void)spare;
	return (int)sendmsg(1, &m, 0);
}

static int do_pread_kept_pipe(int spare)
{
	char c;
	(void)spare;
	return (int)pread(park_pipe[0], &c, 1, 0);
}

/* Config-space access on the device fd reaches the kernel (/dev/null: 0). */
static int pread_pwrite_device(int spare)
{
	char c = 0;
	(void)spare;
	return pread(dev_fd, &c, 1, 0) == 0 && pwrite(dev_fd, &c, 1, 0) == 1 ? 0 : 1;
}

/* mmap of the device fd reaches the kernel: /dev/null says ENODEV. */
static int mmap_device(int spare)
{
	(void)spare;
	return mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev_fd, 0) == MAP_FAILED &&
	       errno == ENODEV ? 0 : 1;
}

SIGSYS_TEST(do_write_spare)
SIGSYS_TEST(do_read_stdin)
SIGSYS_TEST(do_sendmsg_stdout)
SIGSYS_TEST(do_pread_kept_pipe)

static void test_device_fd_config_space_and_mmap(void **state)
{
	(void)state;
	expect_exit0(pread_pwrite_device);
	expect_exit0(mmap_device);
}

/* On the app's kept fd (app_keep.fd). */
static int app_write8(int spare)
{
	uint64_t one = 1;
	(void)spare;
	return write(app_keep.fd, &one, 8) == 8 ? 0 : 1;
}

static int app_write8_read8(int spare)
{
	uint64_t v = 1;

	if (app_write8(spare) != 0)
		return 1;
	return read(app_keep.fd, &v, 8) == 8 ? 0 : 2;
}

static int app_write1(int spare)
{
	(void)spare;
	return (int)write(app_keep.fd, "x", 1);
}

static int app_read4(int spare)
{
	char b[4];
	(void)spare;
	return (int)read(app_keep.fd, b, sizeof(b));
}

static int app_send(int spare)
{
	(void)spare;
	return send(app_keep.fd, "s", 1, 0) == 1 ? 0 : 1;
}

static int app_sendto_address(int spare)
{
	struct sockaddr_un to = { .sun_family = AF_UNIX };
	(void)spare;
	return (int)sendto(app_keep.fd, "s", 1, 0, (struct sockaddr *)&to, sizeof(to));
}

static int app_sendmsg(int spare)
{
	struct iovec v = { "s", 1 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	(void)spare;
	return (int)sendmsg(app_keep.fd, &m, 0);
}

static int app_recv(int spare)
{
	char c = 0;
	(void)spare;
	return recv(app_keep.fd, &c, 1, 0) == 1 && c == 'r' ? 0 : 1;
}

static int app_recvmsg(int spare)
{
	char c;
	struct iovec v = { &c, 1 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	(void)spare;
	return (int)recvmsg(app_keep.fd, &m, 0);
}

static int app_mmap_shared(int spare)
{
	(void)spare;
	return mmap(NULL, 4096, PROT_READ, MAP_SHARED, app_keep.fd, 0) == MAP_FAILED;
}

/*
 * An eventfd (open O_RDWR, non-blocking: a read the filter let through
 * would return, not hang) kept for write: writing works, reading kills.
 */
static void test_fd_kept_for_write_cannot_be_read(void **state)
{
	int fd = eventfd(0, EFD_NONBLOCK);
	(void)state;

	assert_true(fd >= 0);
	expect_status(run_keeping(fd, NB_KEEP_WRITE, app_write8), 0);
	expect_status(run_keeping(fd, NB_KEEP_WRITE, app_write8_read8), 1);
	close(fd);
}

/* A kept memfd, even for read and write, cannot be mapped: MAP_SHARED
 * would read and write it past any menu (and a write-only use, read). */
static void test_kept_fd_cannot_be_mapped(void **state)
{
	int fd = memfd_create("kept", 0);
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	expect_status(run_keeping(fd, NB_KEEP_WRITE | NB_KEEP_READ, app_mmap_shared), 1);
	close(fd);
}

/* NB_KEEP_EVENT: 8-byte writes and reads; anything else kills. */
static void test_eventfd_kept_for_event(void **state)
{
	int fd = eventfd(0, EFD_NONBLOCK);
	(void)state;

	assert_true(fd >= 0);
	expect_status(run_keeping(fd, NB_KEEP_EVENT, app_write8_read8), 0);
	expect_status(run_keeping(fd, NB_KEEP_EVENT, app_write1), 1);
	expect_status(run_keeping(fd, NB_KEEP_EVENT, app_read4), 1);
	close(fd);
}

/*
 * A connected socket (the parent holds the peer): send works when kept
 * with NB_KEEP_SEND, and the parent receives it; kept for anything else,
 * send kills; sendmsg (which could pass fds) and sendto an address kill
 * even with NB_KEEP_SEND. recv works with NB_KEEP_RECV, recvmsg kills.
 */
static void test_socket_kept_for_send_and_recv(void **state)
{
	int sv[2];
	char c = 0;
	(void)state;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	expect_status(run_keeping(sv[0], NB_KEEP_SEND, app_send), 0);
	assert_int_equal(recv(sv[1], &c, 1, MSG_DONTWAIT), 1);
	assert_int_equal(c, 's');
	expect_status(run_keeping(sv[0], NB_KEEP_WRITE | NB_KEEP_RECV, app_send), 1);
	expect_status(run_keeping(sv[0], NB_KEEP_SEND, app_sendmsg), 1);
	expect_status(run_keeping(sv[0], NB_KEEP_SEND, app_sendto_address), 1);
	assert_int_equal(send(sv[1], "r", 1, 0), 1);
	expect_status(run_keeping(sv[0], NB_KEEP_RECV, app_recv), 0);
	assert_int_equal(send(sv[1], "r", 1, 0), 1);
	expect_status(run_keeping(sv[0], NB_KEEP_SEND | NB_KEEP_READ, app_recv), 1);
	expect_status(run_keeping(sv[0], NB_KEEP_RECV, app_recvmsg), 1);
	close(sv[0]);
	close(sv[1]);
}

/* Plain nb_lockdown: the harness's pipes by access mode (report: write,
 * go: read) carry the handshake; the allowed calls still work. */
static void test_plain_keep_fds_by_access_mode(void **state)
{
	(void)state;
	plain_api = true;
	expect_exit0(allowed_calls);
	plain_api = false;
}

/* stdout may be named: its uses are added to its own (write). */
static void test_stdout_may_be_named(void **state)
{
	(void)state;
	expect_status(run_keeping(1, NB_KEEP_WRITE, allowed_calls), 0);
}

/* ---- menu validation: EINVAL, nothing changed ------------------------- */

static unsigned long own_status(const char *name)
{
	char text[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	return status_field(text, name, 10);
}

static void expect_einval(const struct nb_keep *keep, unsigned n, int witness)
{
	errno = 0;
	assert_int_equal(nb_lockdown_keep(NULL, keep, n, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	print_message("  %s\n", nb_last_error());
	/* Nothing happened: no fd closed, no filter, no no_new_privs. */
	assert_true(fcntl(witness, F_GETFD) >= 0);
	assert_int_equal(own_status("Seccomp:"), 0);
	assert_int_equal(own_status("NoNewPrivs:"), 0);
}

static void test_menu_errors_change_nothing(void **state)
{
	struct nb_keep many[NB_KEEP_MAX + 1];
	int p[2], sv[2], witness = open("/dev/null", O_RDONLY), ev = eventfd(0, 0);
	int fds[NB_KEEP_MAX + 1];
	(void)state;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	expect_einval(&(struct nb_keep){ p[1], 0 }, 1, witness);
	expect_einval(&(struct nb_keep){ p[1], NB_KEEP_WRITE | 0x100 }, 1, witness);
	expect_einval(&(struct nb_keep){ -1, NB_KEEP_WRITE }, 1, witness);
	expect_einval(&(struct nb_keep){ 1000, NB_KEEP_WRITE }, 1, witness);
	expect_einval((struct nb_keep[]){ { p[1], NB_KEEP_WRITE },
					  { p[1], NB_KEEP_WRITE } }, 2, witness);
	expect_einval(&(struct nb_keep){ p[1], NB_KEEP_READ }, 1, witness); /* write end */
	expect_einval(&(struct nb_keep){ p[0], NB_KEEP_WRITE }, 1, witness); /* read end */
	expect_einval(&(struct nb_keep){ p[1], NB_KEEP_SEND }, 1, witness); /* not a socket */
	expect_einval(&(struct nb_keep){ sv[0], NB_KEEP_EVENT }, 1, witness); /* not an eventfd */
	expect_einval(NULL, 1, witness);
	for (unsigned i = 0; i <= NB_KEEP_MAX; i++) {
		many[i] = (struct nb_keep){ ev, NB_KEEP_EVENT };
		fds[i] = ev;
	}
	expect_einval(many, NB_KEEP_MAX + 1, witness);
	errno = 0;
	assert_int_equal(nb_lockdown(NULL, fds, NB_KEEP_MAX + 1, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nb_lockdown(NULL, (int[]){ 1000 }, 1, NULL, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(own_status("Seccomp:"), 0);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	close(ev);
	close(witness);
}

/* ---- foreign architectures: the whole process dies, not the thread ---------- */

/* getpid as an i386 call (number 20) through the 32-bit entry. */
static int do_i386_int80(int spare)
{
	long rc;

	(void)spare;
	__asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
	return (int)rc;
}

/* getpid (39) with the x32 bit (0x40000000). */
static int do_x32_syscall(int spare)
{
	long rc;

	(void)spare;
	__asm__ volatile("syscall" : "=a"(rc) : "a"(0x40000000L | 39)
			 : "rcx", "r11", "memory");
	return (int)rc;
}

#define BOTH_THREADS_TEST(fn) \
	static void test_sigsys_##fn(void **state) { (void)state; expect_sigsys(fn); } \
	static void test_sigsys_##fn##_in_second_thread(void **state) \
	{ (void)state; expect_sigsys_in(fn, true); }
BOTH_THREADS_TEST(do_i386_int80)
BOTH_THREADS_TEST(do_x32_syscall)
BOTH_THREADS_TEST(do_newfstatat_shadow)

/* ---- threads created while nb_lockdown runs ----------------------------- */

/* After lockdown: the spawner must have been refused with EAGAIN. */
static int spawner_refused(int spare)
{
	(void)spare;
	while (atomic_load(&spawn_error) == 0)
		;
	return atomic_load(&spawn_error) == EAGAIN ? 0 : 1;
}

/*
 * A thread keeps creating threads while the main thread locks down. A
 * thread created after the thread list was read but before the seccomp
 * filter would miss the capability drop and Landlock. Required: lockdown
 * succeeds, the spawner's pthread_create fails (EAGAIN) from the freeze on
 * instead of creating a half-locked thread, and every thread that exists
 * afterwards is fully locked (checked from outside, as root its CapBnd too).
 */
static void test_threads_created_during_lockdown_are_refused(void **state)
{
	unsigned threads = 0;
	int status;
	(void)state;

	status = run_locked_with(spawner_refused, &threads, false, spawner);
	print_message("%u threads, all locked down\n", threads);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("expected lockdown to refuse the racing thread (EAGAIN) and the "
			 "child to exit 0, got %s %d", WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	assert_true(threads >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_thread_locked_and_allowed_calls_work),
		cmocka_unit_test(test_unkept_fds_closed),
		cmocka_unit_test(test_failed_lockdown_seals_the_process),
		cmocka_unit_test(test_vfio_ioctl_with_high_bits_allowed),
		cmocka_unit_test(test_sigsys_do_open),
		cmocka_unit_test(test_sigsys_do_openat),
		cmocka_unit_test(test_sigsys_do_socket),
		cmocka_unit_test(test_sigsys_do_execve),
		cmocka_unit_test(test_sigsys_do_ioctl_not_listed),
		cmocka_unit_test(test_sigsys_do_ioctl_map_dma_high_bits),
		cmocka_unit_test(test_sigsys_do_mmap_exec),
		cmocka_unit_test(test_sigsys_do_mprotect_exec),
		cmocka_unit_test(test_sigsys_do_memfd_create),
		cmocka_unit_test(test_sigsys_do_ftruncate),
		cmocka_unit_test(test_sigsys_do_fallocate),
		cmocka_unit_test(test_sigsys_do_madvise_remove),
		cmocka_unit_test(test_sigsys_do_madvise_remove_high_bits),
		cmocka_unit_test(test_sigsys_do_ptrace),
		cmocka_unit_test(test_sigsys_do_bpf),
		cmocka_unit_test(test_sigsys_do_newfstatat_shadow),
		cmocka_unit_test(test_sigsys_do_newfstatat_shadow_in_second_thread),
		cmocka_unit_test(test_sigsys_do_newfstatat_shadow_empty_path_flag),
		cmocka_unit_test(test_sigsys_do_newfstatat_fd_as_glibc_fstat),
		cmocka_unit_test(test_sigsys_do_fstat),
		cmocka_unit_test(test_sigsys_do_stat_shadow),
		cmocka_unit_test(test_sigsys_do_lstat_shadow),
		cmocka_unit_test(test_sigsys_do_statx_shadow),
		cmocka_unit_test(test_sigsys_do_access),
		cmocka_unit_test(test_sigsys_do_faccessat),
		cmocka_unit_test(test_sigsys_do_faccessat2),
		cmocka_unit_test(test_sigsys_do_readlink),
		cmocka_unit_test(test_sigsys_do_readlinkat),
		cmocka_unit_test(test_sigsys_do_openat2),
		cmocka_unit_test(test_sigsys_do_chdir),
		cmocka_unit_test(test_sigsys_do_readv),
		cmocka_unit_test(test_sigsys_do_writev),
		cmocka_unit_test(test_sigsys_do_lseek),
		cmocka_unit_test(test_sigsys_do_ioctl_tcgets),
		cmocka_unit_test(test_sigsys_do_clock_getres),
		cmocka_unit_test(test_sigsys_do_nanosleep),
		cmocka_unit_test(test_sigsys_do_gettimeofday),
		cmocka_unit_test(test_sigsys_do_gettid),
		cmocka_unit_test(test_sigsys_do_sched_yield),
		cmocka_unit_test(test_sigsys_do_rt_sigaction),
		cmocka_unit_test(test_sigsys_do_clone),
		cmocka_unit_test(test_sigsys_do_i386_int80),
		cmocka_unit_test(test_sigsys_do_i386_int80_in_second_thread),
		cmocka_unit_test(test_sigsys_do_x32_syscall),
		cmocka_unit_test(test_sigsys_do_x32_syscall_in_second_thread),
		cmocka_unit_test(test_threads_created_during_lockdown_are_refused),
		cmocka_unit_test(test_sigsys_do_write_spare),
		cmocka_unit_test(test_sigsys_do_read_stdin),
		cmocka_unit_test(test_sigsys_do_sendmsg_stdout),
		cmocka_unit_test(test_sigsys_do_pread_kept_pipe),
		cmocka_unit_test(test_device_fd_config_space_and_mmap),
		cmocka_unit_test(test_fd_kept_for_write_cannot_be_read),
		cmocka_unit_test(test_kept_fd_cannot_be_mapped),
		cmocka_unit_test(test_eventfd_kept_for_event),
		cmocka_unit_test(test_socket_kept_for_send_and_recv),
		cmocka_unit_test(test_plain_keep_fds_by_access_mode),
		cmocka_unit_test(test_stdout_may_be_named),
		cmocka_unit_test(test_menu_errors_change_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
