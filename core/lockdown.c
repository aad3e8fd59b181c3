/* SPDX-License-Identifier: MIT */
/*
 * lockdown.c - nb_lockdown(): the worker gives up everything it does not
 * need for the data path, in one fixed sequence. Each step either succeeds
 * or the whole call fails; only Landlock may be missing (old or unconfigured
 * kernel), and then we say so, because seccomp below already forbids open.
 *
 *   0. check           the caller's menu (nb_keep): EINVAL, nothing done
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
 *                      x32), synchronised to every thread (TSYNC); an entry
 *                      naming an fd class becomes one rule per fd of that
 *                      class (struct nb_fd_role: stdio, the session's and
 *                      interrupt fds, the caller's kept fds by use)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "nb_lockdown.h"
#include "nb_session.h"

struct nb_seccomp_rule {
	const char *syscall;
	unsigned n_terms; /* 0: any arguments; else all must hold */
	struct {
		int arg;
		int fd_class;   /* -1: (arg & mask) == value; else an fd of the class */
		uint64_t mask, value;
	} term[3];
	const char *reason;
};

#include "nb_worker_seccomp.h" /* generated: nb_worker_seccomp_rules[] */

/* The menu (nicbox.h): each NB_KEEP_* use is a class of the policy. */
static const struct {
	unsigned use;
	enum nb_fd_class cls;
	int need_mode;  /* the fd's access mode must be this or O_RDWR */
} menu[] = {
	{ NB_KEEP_READ, NB_FDS_KEEP_READ, O_RDONLY },
	{ NB_KEEP_WRITE, NB_FDS_KEEP_WRITE, O_WRONLY },
	{ NB_KEEP_SEND, NB_FDS_KEEP_SEND, O_WRONLY },
	{ NB_KEEP_RECV, NB_FDS_KEEP_RECV, O_RDONLY },
	{ NB_KEEP_EVENT, NB_FDS_KEEP_EVENT, O_RDWR },
};
#define KEEP_USES (NB_KEEP_READ | NB_KEEP_WRITE | NB_KEEP_SEND | NB_KEEP_RECV | \
		   NB_KEEP_EVENT)

/* 1 and 2, the session, interrupts, a test's extra fds, the caller's by use. */
#define MAX_ROLES (2 + 1 + NB_MAX_DEVICES + NB_MAX_POOLS + NB_IRQ_MAX_FDS + \
		   NB_KEEP_MAX + NB_ARRAY_SIZE(menu) * NB_KEEP_MAX)
/* Carries the per-thread privilege drop; glibc keeps the low RT signals. */
#define LOCK_SIGNAL SIGRTMAX

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Step 1: close every fd but 0-2 and those in roles[]. */
static int close_other_fds(const struct nb_fd_role *roles, unsigned n_roles)
{
	int keep[3 + MAX_ROLES] = { 0, 1, 2 };
	unsigned next = 0, n = 3;

	for (unsigned i = 0; i < n_roles; i++)
		keep[n++] = roles[i].fd;
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
	{ .syscall = "write", .reason = "print why lockdown failed" },
	{ .syscall = "exit_group", .reason = "the process ends" },
	{ .syscall = "exit", .reason = "a thread ends" },
	{ .syscall = "sigaltstack",
	  .reason = "sanitizer runtimes tear down their signal stack on exit" },
};

/* Step 1a: no new thread or process while the others are being locked. */
static const struct nb_seccomp_rule freeze[] = {
	{ .syscall = "clone", .reason = "pthread_create (glibc falls back from clone3), fork" },
	{ .syscall = "clone3", .reason = "pthread_create since glibc 2.34" },
	{ .syscall = "fork", .reason = "a new process would not get the final filter" },
	{ .syscall = "vfork", .reason = "as fork" },
};

/*
 * Add rule r: once, or with an fd class, once for each fd of that class
 * (none: the rule allows nothing). The fd is compared on its low 32 bits,
 * as the kernel reads it.
 */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
		    const struct nb_seccomp_rule *r,
		    const struct nb_fd_role *roles, unsigned n_roles)
{
	struct scmp_arg_cmp cmp[3];
	int cls = -1, rc = 0;
	unsigned fd_term = 0;

	for (unsigned t = 0; t < r->n_terms; t++) {
		cmp[t] = SCMP_CMP((unsigned)r->term[t].arg, SCMP_CMP_MASKED_EQ,
				  r->term[t].mask, r->term[t].value);
		if (r->term[t].fd_class >= 0) {
			cls = r->term[t].fd_class;
			fd_term = t;
		}
	}
	if (cls < 0)
		return seccomp_rule_add_array(ctx, action, nr, r->n_terms, cmp);
	for (unsigned i = 0; rc == 0 && i < n_roles; i++) {
		if ((int)roles[i].cls != cls)
			continue;
		cmp[fd_term] = SCMP_CMP((unsigned)r->term[fd_term].arg, SCMP_CMP_MASKED_EQ,
					0xffffffffu, (uint32_t)roles[i].fd);
		rc = seccomp_rule_add_array(ctx, action, nr, r->n_terms, cmp);
	}
	return rc;
}

/*
 * A seccomp filter, synchronised to every thread (TSYNC): `rule_action` for
 * the listed calls, `default_action` for the rest of the native (x86-64)
 * calls, and kill-process for any other architecture's calls (i386 through
 * int 0x80, x32 numbers with bit 30 set), whose numbers mean other calls.
 * Rules naming an fd class apply to the fds of that class in roles[].
 */
static int apply_seccomp(const struct nb_seccomp_rule *rules, size_t n_rules,
			 uint32_t default_action, uint32_t rule_action,
			 const struct nb_fd_role *roles, unsigned n_roles)
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
		rc = add_rule(ctx, rule_action, nr, r, roles, n_roles);
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

/* Is fd an eventfd? (Before lockdown: /proc may still be read.) */
static bool is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

/* Step 0: one entry of the caller's menu: its uses fit the fd. */
static int check_keep(const struct nb_keep *k, unsigned i)
{
	struct stat st;
	int fl;

	if (k->uses == 0 || (k->uses & ~KEEP_USES))
		return nb_fail(EINVAL, "lockdown: keep[%u] (fd %d): uses 0x%x are not "
			       "a combination of NB_KEEP_* bits", i, k->fd, k->uses);
	fl = k->fd < 0 ? -1 : fcntl(k->fd, F_GETFL);
	if (fl < 0)
		return nb_fail(EINVAL, "lockdown: keep[%u]: fd %d is not open", i, k->fd);
	for (unsigned m = 0; m < NB_ARRAY_SIZE(menu); m++) {
		int mode = fl & O_ACCMODE;

		if (!(k->uses & menu[m].use))
			continue;
		if (mode != O_RDWR && mode != menu[m].need_mode)
			return nb_fail(EINVAL, "lockdown: keep[%u]: fd %d is not open for "
				       "%s", i, k->fd, menu[m].need_mode == O_RDONLY ?
				       "reading" : menu[m].need_mode == O_WRONLY ?
				       "writing" : "reading and writing");
	}
	if ((k->uses & (NB_KEEP_SEND | NB_KEEP_RECV)) &&
	    (fstat(k->fd, &st) < 0 || !S_ISSOCK(st.st_mode)))
		return nb_fail(EINVAL, "lockdown: keep[%u]: fd %d is not a socket "
			       "(NB_KEEP_SEND/NB_KEEP_RECV)", i, k->fd);
	if ((k->uses & NB_KEEP_EVENT) && !is_eventfd(k->fd))
		return nb_fail(EINVAL, "lockdown: keep[%u]: fd %d is not an eventfd "
			       "(NB_KEEP_EVENT)", i, k->fd);
	return 0;
}

/* Every fd lockdown keeps, with its class(es): out, session, irq, extra, keep. */
static int collect_roles(struct nb_session *s, const struct nb_keep *keep,
			 unsigned n_keep, const struct nb_fd_role *extra,
			 unsigned n_extra, struct nb_fd_role *roles, unsigned *n_out)
{
	int irq[NB_IRQ_MAX_FDS];
	unsigned n = 0, n_irq, first_keep;

	if (n_keep > NB_KEEP_MAX || n_extra > NB_KEEP_MAX || (n_keep && !keep))
		return nb_fail(EINVAL, "lockdown: at most %d fds to keep, in an array",
			       NB_KEEP_MAX);
	roles[n++] = (struct nb_fd_role){ 1, NB_FDS_OUT };
	roles[n++] = (struct nb_fd_role){ 2, NB_FDS_OUT };
	if (s)
		n += nb_session_fds(s, roles + n, 1 + NB_MAX_DEVICES + NB_MAX_POOLS);
	n_irq = nb_irq_fds(irq, NB_IRQ_MAX_FDS);
	for (unsigned i = 0; i < n_irq; i++)
		roles[n++] = (struct nb_fd_role){ irq[i], NB_FDS_IRQ };
	for (unsigned i = 0; i < n_extra; i++)
		roles[n++] = extra[i];
	first_keep = n;
	for (unsigned i = 0; i < n_keep; i++) {
		if (check_keep(&keep[i], i) < 0)
			return -1;
		/* 1 and 2 may get more uses; the other fds in roles[] may not. */
		for (unsigned j = 2; j < n; j++)
			if (roles[j].fd == keep[i].fd)
				return nb_fail(EINVAL, "lockdown: keep[%u]: fd %d is %s", i,
					       keep[i].fd, j >= first_keep ? "named twice" :
					       "one of the session's or interrupt fds "
					       "(they keep their own uses)");
		for (unsigned m = 0; m < NB_ARRAY_SIZE(menu); m++)
			if (keep[i].uses & menu[m].use)
				roles[n++] = (struct nb_fd_role){ keep[i].fd, menu[m].cls };
	}
	*n_out = n;
	return 0;
}

int nb_lockdown_roles(struct nb_session *s, const struct nb_keep *keep,
		      unsigned n_keep, const struct nb_fd_role *extra,
		      unsigned n_extra, char *notice, size_t notice_len)
{
	struct nb_fd_role roles[MAX_ROLES];
	char notes[256] = "";
	unsigned n = 0;

	if (collect_roles(s, keep, n_keep, extra, n_extra, roles, &n) < 0)
		return -1;
	if (close_other_fds(roles, n) < 0 ||
	    apply_seccomp(freeze, NB_ARRAY_SIZE(freeze), SCMP_ACT_ALLOW,
			  SCMP_ACT_ERRNO(EAGAIN), NULL, 0) < 0 ||
	    lock_all_threads(notes, sizeof(notes)) < 0 ||
	    apply_seccomp(nb_worker_seccomp_rules, NB_ARRAY_SIZE(nb_worker_seccomp_rules),
			  SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW, roles, n) < 0) {
		/* Fail closed: whatever step failed, the process keeps only the
		 * calls it needs to report the error and exit. The reason of
		 * the failed step stays in nb_last_error(). */
		char reason[512];
		int err = errno;

		snprintf(reason, sizeof(reason), "%s", nb_last_error());
		if (apply_seccomp(report_and_exit, NB_ARRAY_SIZE(report_and_exit),
				  SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW, NULL, 0) < 0)
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

NB_API int nb_lockdown_keep(struct nb_session *s, const struct nb_keep *keep,
			    unsigned n_keep, char *notice, size_t notice_len)
{
	return nb_lockdown_roles(s, keep, n_keep, NULL, 0, notice, notice_len);
}

NB_API int nb_lockdown(struct nb_session *s, const int *keep_fds,
		       unsigned n_keep_fds, char *notice, size_t notice_len)
{
	struct nb_keep keep[NB_KEEP_MAX];

	if (n_keep_fds > NB_KEEP_MAX || (n_keep_fds && !keep_fds))
		return nb_fail(EINVAL, "lockdown: at most %d keep_fds, in an array",
			       NB_KEEP_MAX);
	for (unsigned i = 0; i < n_keep_fds; i++) {
		int mode = fcntl(keep_fds[i], F_GETFL) & O_ACCMODE; /* not open: -1 & 3 */

		/* Read and write, as far as the access mode allows. */
		keep[i] = (struct nb_keep){ keep_fds[i],
			(mode != O_WRONLY ? NB_KEEP_READ : 0) |
			(mode != O_RDONLY ? NB_KEEP_WRITE : 0) };
	}
	return nb_lockdown_keep(s, keep, n_keep_fds, notice, notice_len);
}
