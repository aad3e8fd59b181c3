/* SPDX-License-Identifier: MIT */
/*
 * lockdown.c - nb_lockdown(): the worker gives up everything it does not
 * need for the data path, in one fixed sequence. Each step either succeeds
 * or the whole call fails; only Landlock may be missing (old or unconfigured
 * kernel), and then we say so, because seccomp below already forbids open.
 *
 *   1. close fds       keep 0-2, the session's fds, the caller's keep_fds
 *   1a. freeze         a first seccomp filter (TSYNC) that fails clone,
 *                      clone3, fork and vfork with EAGAIN: from here on the
 *                      set of threads can only shrink, so the list read in
 *                      2-4 is complete and no thread is created half-locked
 *   2. capabilities    bounding (when we may), ambient, then all three sets
 *   3. no_new_privs
 *   4. Landlock        a ruleset handling every filesystem right, no rules
 *                      (2-4 in every thread: they are per-thread state)
 *   5. seccomp         policy/worker-seccomp.policy, kill-process by default
 *                      and for every foreign architecture (i386 int 0x80,
 *                      x32), synchronised to every thread (TSYNC)
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "nb_session.h"

struct nb_seccomp_rule {
	const char *syscall;
	int arg;         /* -1: any arguments */
	uint64_t mask;   /* allowed when (arg & mask) == value */
	uint64_t value;
	const char *reason;
};

#include "nb_worker_seccomp.h" /* generated: nb_worker_seccomp_rules[] */

#define MAX_KEEP 64
/* Carries the per-thread privilege drop; glibc keeps the low RT signals. */
#define LOCK_SIGNAL SIGRTMAX

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Step 1: close every fd not in keep[] (which gets sorted). */
static int close_other_fds(int *keep, unsigned n)
{
	unsigned next = 0;

	qsort(keep, n, sizeof(int), cmp_int);
	for (unsigned i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < next)
			continue;
		if ((unsigned)keep[i] > next &&
		    close_range(next, (unsigned)keep[i] - 1, 0) < 0)
			return nb_fail(errno, "lockdown: close_range: %s", strerror(errno));
		next = (unsigned)keep[i] + 1;
	}
	if (close_range(next, ~0u, 0) < 0)
		return nb_fail(errno, "lockdown: close_range: %s", strerror(errno));
	return 0;
}

/*
 * Steps 2-4 run in EVERY thread: capabilities, no_new_privs and Landlock are
 * per-thread state, so the caller signals each other thread to run the
 * same routine (as libcap's psx does) and waits until each has, or has
 * ended. The freeze filter (step 1a) guarantees the thread list cannot grow
 * meanwhile. Seccomp's TSYNC then covers all threads in one go.
 */
static struct {
	cap_t empty;
	int ruleset_fd;         /* Landlock ruleset, -1 if unavailable */
	pid_t *tids;            /* the other threads, read after the freeze */
	atomic_uchar *locked;   /* locked[i]: tids[i] ran lock_this_thread */
	unsigned n;
	atomic_uint failed;
} per_thread;

static int lock_this_thread(void)
{
	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++)
		/* EPERM: no CAP_SETPCAP, see drop_notice() */
		if (cap_get_bound(c) == 1 && cap_drop_bound(c) < 0 && errno != EPERM)
			return -1;
	if ((cap_reset_ambient() < 0 && errno != EINVAL) ||
	    cap_set_proc(per_thread.empty) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	if (per_thread.ruleset_fd >= 0 &&
	    syscall(SYS_landlock_restrict_self, per_thread.ruleset_fd, 0) < 0)
		return -1;
	return 0;
}

static void lock_signal_handler(int sig)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	int saved = errno;

	(void)sig;
	for (unsigned i = 0; i < per_thread.n; i++) {
		if (per_thread.tids[i] != self || atomic_load(&per_thread.locked[i]))
			continue;
		if (lock_this_thread() < 0)
			atomic_fetch_add(&per_thread.failed, 1);
		atomic_store(&per_thread.locked[i], 1);
	}
	errno = saved;
}

/* Read every thread but the caller into per_thread.tids (after the freeze). */
static int list_other_threads(void)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	unsigned cap = 0;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return nb_fail(errno, "lockdown: listing threads in /proc/self/task: %s",
			       strerror(errno));
	per_thread.n = 0;
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid <= 0 || tid == self)
			continue;
		if (per_thread.n == cap) {
			pid_t *more = realloc(per_thread.tids, (cap + 64) * sizeof(pid_t));

			if (!more) {
				closedir(d);
				return nb_fail(ENOMEM, "lockdown: out of memory listing threads");
			}
			per_thread.tids = more;
			cap += 64;
		}
		per_thread.tids[per_thread.n++] = tid;
	}
	closedir(d);
	per_thread.locked = calloc(per_thread.n ? per_thread.n : 1, sizeof(atomic_uchar));
	if (!per_thread.locked)
		return nb_fail(ENOMEM, "lockdown: out of memory listing threads");
	return 0;
}

/* Run lock_this_thread() in every other thread of the process. */
static int lock_other_threads(void)
{
	struct sigaction sa = { .sa_handler = lock_signal_handler, .sa_flags = SA_RESTART };
	struct sigaction old;
	struct timespec tick = { 0, 1000000 };
	unsigned pending = 0;

	atomic_store(&per_thread.failed, 0);
	if (list_other_threads() < 0)
		return -1;
	sigaction(LOCK_SIGNAL, &sa, &old);
	for (unsigned i = 0; i < per_thread.n; i++)
		syscall(SYS_tgkill, getpid(), per_thread.tids[i], LOCK_SIGNAL);
	/* Done when every listed thread has locked itself or has ended. */
	for (int ms = 0; ms <= 2000; ms++) {
		pending = 0;
		for (unsigned i = 0; i < per_thread.n; i++)
			if (!atomic_load(&per_thread.locked[i]) &&
			    syscall(SYS_tgkill, getpid(), per_thread.tids[i], 0) == 0)
				pending++;
		if (!pending)
			break;
		nanosleep(&tick, NULL);
	}
	sigaction(LOCK_SIGNAL, &old, NULL);
	if (pending || atomic_load(&per_thread.failed))
		return nb_fail(EPERM, "lockdown: %u of %u other threads did not drop "
			       "their privileges (signal %d blocked?)",
			       pending + atomic_load(&per_thread.failed), per_thread.n,
			       LOCK_SIGNAL);
	return 0;
}

/* Bounding-set drops need CAP_SETPCAP; without it nothing can use the set
 * after lockdown (no permitted caps, no_new_privs, no execve). */
static void bounding_notice(char *notes, size_t len)
{
	cap_flag_value_t setpcap = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (caps)
		cap_get_flag(caps, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
	cap_free(caps);
	if (setpcap != CAP_SET && cap_get_bound(CAP_CHOWN) == 1)
		snprintf(notes, len, "capability bounding set kept (no CAP_SETPCAP); "
			 "unusable after lockdown. ");
}

/* A Landlock ruleset handling every filesystem right this kernel knows. */
static int landlock_ruleset(char *notes, size_t len)
{
	struct landlock_ruleset_attr attr = { 0 };
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);
	size_t used = strlen(notes);
	int fd;

	per_thread.ruleset_fd = -1;
	if (abi < 0) {
		if (errno != ENOSYS && errno != EOPNOTSUPP)
			return nb_fail(errno, "lockdown: Landlock: %s", strerror(errno));
		snprintf(notes + used, len - used, "Landlock unavailable (%s): relying on "
			 "the seccomp filter, which forbids open. ",
			 errno == ENOSYS ? "kernel lacks it" : "not enabled, see lsm=");
		return 0;
	}
	attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return nb_fail(errno, "lockdown: Landlock ruleset: %s", strerror(errno));
	per_thread.ruleset_fd = fd;
	return 0;
}

/* Steps 2-4 everywhere, then check the calling thread really has nothing. */
static int lock_all_threads(char *notes, size_t len)
{
	cap_t now = NULL;
	int rc = -1;

	bounding_notice(notes, len);
	per_thread.empty = cap_init();
	if (!per_thread.empty)
		return nb_fail(ENOMEM, "lockdown: libcap: out of memory");
	if (landlock_ruleset(notes, len) < 0 || lock_other_threads() < 0)
		goto out;
	if (lock_this_thread() < 0) {
		nb_fail(errno, "lockdown: dropping privileges: %s", strerror(errno));
		goto out;
	}
	now = cap_get_proc();
	if (!now || cap_compare(now, per_thread.empty) != 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		nb_fail(EPERM, "lockdown: capabilities or no_new_privs not in effect");
		goto out;
	}
	rc = 0;
out:
	if (per_thread.ruleset_fd >= 0)
		close(per_thread.ruleset_fd);
	free(per_thread.tids);
	free(per_thread.locked);
	per_thread.tids = NULL;
	per_thread.locked = NULL;
	per_thread.n = 0;
	cap_free(now);
	cap_free(per_thread.empty);
	return rc;
}

/* What a process whose lockdown failed half-way may still do: say why, exit. */
static const struct nb_seccomp_rule report_and_exit[] = {
	{ "write", -1, 0, 0, "print why lockdown failed" },
	{ "exit_group", -1, 0, 0, "the process ends" },
	{ "exit", -1, 0, 0, "a thread ends" },
	{ "sigaltstack", -1, 0, 0, "sanitizer runtimes tear down their signal stack on exit" },
};

/* Step 1a: no new thread or process while the others are being locked. */
static const struct nb_seccomp_rule freeze[] = {
	{ "clone", -1, 0, 0, "pthread_create (glibc falls back from clone3), fork" },
	{ "clone3", -1, 0, 0, "pthread_create since glibc 2.34" },
	{ "fork", -1, 0, 0, "a new process would not get the final filter" },
	{ "vfork", -1, 0, 0, "as fork" },
};

/*
 * A seccomp filter, synchronised to every thread (TSYNC): `rule_action` for
 * the listed calls, `default_action` for the rest of the native (x86-64)
 * calls, and kill-process for any other architecture's calls (i386 through
 * int 0x80, x32 numbers with bit 30 set), whose numbers mean other calls.
 */
static int apply_seccomp(const struct nb_seccomp_rule *rules, size_t n_rules,
			 uint32_t default_action, uint32_t rule_action)
{
	scmp_filter_ctx ctx = seccomp_init(default_action);
	int rc;

	if (!ctx)
		return nb_fail(ENOMEM, "lockdown: seccomp_init failed");
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; rc == 0 && i < n_rules; i++) {
		const struct nb_seccomp_rule *r = &rules[i];
		int nr = seccomp_syscall_resolve_name(r->syscall);

		if (nr == __NR_SCMP_ERROR) {
			seccomp_release(ctx);
			return nb_fail(EINVAL, "lockdown: unknown syscall '%s' in the "
				       "worker policy", r->syscall);
		}
		if (r->arg < 0)
			rc = seccomp_rule_add(ctx, rule_action, nr, 0);
		else
			rc = seccomp_rule_add(ctx, rule_action, nr, 1,
					      SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ,
						       r->mask, r->value));
		if (rc < 0) {
			seccomp_release(ctx);
			return nb_fail(-rc, "lockdown: seccomp rule for %s (%s): %s",
				       r->syscall, r->reason, strerror(-rc));
		}
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return nb_fail(-rc, "lockdown: loading the seccomp filter: %s", strerror(-rc));
	return 0;
}

NB_API int nb_lockdown(struct nb_session *s, const int *keep_fds,
		       unsigned n_keep_fds, char *notice, size_t notice_len)
{
	int keep[MAX_KEEP + NB_IRQ_MAX_FDS] = { 0, 1, 2 };
	char notes[256] = "";
	unsigned n = 3;

	if (n_keep_fds > MAX_KEEP - 3 - (1 + NB_MAX_DEVICES + NB_MAX_POOLS))
		return nb_fail(EINVAL, "lockdown: at most %d keep_fds",
			       MAX_KEEP - 3 - (1 + NB_MAX_DEVICES + NB_MAX_POOLS));
	if (s)
		n += nb_session_fds(s, keep + n, MAX_KEEP - n);
	for (unsigned i = 0; i < n_keep_fds; i++)
		keep[n++] = keep_fds[i];
	n += nb_irq_fds(keep + n, NB_IRQ_MAX_FDS); /* interrupt eventfds */

	if (close_other_fds(keep, n) < 0 ||
	    apply_seccomp(freeze, NB_ARRAY_SIZE(freeze), SCMP_ACT_ALLOW,
			  SCMP_ACT_ERRNO(EAGAIN)) < 0 ||
	    lock_all_threads(notes, sizeof(notes)) < 0 ||
	    apply_seccomp(nb_worker_seccomp_rules, NB_ARRAY_SIZE(nb_worker_seccomp_rules),
			  SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW) < 0) {
		/* Fail closed: whatever step failed, the process keeps only the
		 * calls it needs to report the error and exit. The reason of
		 * the failed step stays in nb_last_error(). */
		char reason[512];
		int err = errno;

		snprintf(reason, sizeof(reason), "%s", nb_last_error());
		if (apply_seccomp(report_and_exit, NB_ARRAY_SIZE(report_and_exit),
				  SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW) < 0)
			return nb_fail(err, "%s; and the fail-closed filter failed too: %s",
				       reason, nb_last_error());
		return nb_fail(err, "%s (process sealed: it may only write and exit)", reason);
	}
	if (notice && notice_len)
		snprintf(notice, notice_len, "%s", notes);
	else if (notes[0])
		fprintf(stderr, "nicbox: lockdown: %s\n", notes);
	return 0;
}
