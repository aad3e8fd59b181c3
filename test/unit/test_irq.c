/* SPDX-License-Identifier: MIT */
/*
 * test_irq.c - core/irq.c on a fake PCI function and a fake driver: vector
 * setup and teardown, nb_rx_wait's arm / re-check / sleep / disarm order,
 * its bounds (timeouts, bad queues, poll-mode devices), the adaptive loop's
 * hysteresis, and waiting inside a locked-down process (the seccomp filter
 * allows it and nb_lockdown keeps the eventfds).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nb_test.h"
#include "fake_pci.h"

#include <cmocka.h>

/* A driver whose ring is a flag: arm says "a frame is there" if ready. */
struct fake_dev {
	struct nb_dev dev; /* first */
	struct fake_pci f;
	bool ready[4];
	bool armed[4];
	unsigned arms, disarms;
	int fire_on_arm; /* eventfd written from arm (an interrupt that races) */
};

static struct fake_dev *to_fd(struct nb_dev *dev)
{
	return NB_CONTAINER_OF(dev, struct fake_dev, dev);
}

static bool fake_arm(struct nb_dev *dev, uint16_t q)
{
	struct fake_dev *d = to_fd(dev);
	uint64_t one = 1;

	d->arms++;
	d->armed[q] = true;
	if (d->fire_on_arm >= 0)
		assert_int_equal(write(d->fire_on_arm, &one, sizeof(one)), 8);
	return d->ready[q];
}

static void fake_disarm(struct nb_dev *dev, uint16_t q)
{
	struct fake_dev *d = to_fd(dev);

	d->disarms++;
	d->armed[q] = false;
}

static const struct nb_irq_ops fake_irq_ops = { fake_arm, fake_disarm };

static void fake_dev_init(struct fake_dev *d, enum nb_rx_mode mode,
			  uint16_t n_rxq, unsigned vectors)
{
	struct nb_dev_conf conf = { .rx_mode = mode };

	memset(d, 0, sizeof(*d));
	fake_pci_init(&d->f, 0x8086, 0x10c9);
	d->f.msix_vectors = vectors;
	d->dev.pci = &d->f.pci;
	d->fire_on_arm = -1;
	assert_int_equal(nb_dev_irq_setup(&d->dev, &conf, n_rxq, &fake_irq_ops), 0);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- setup and teardown -------------------------------------------------- */

static void setup_routes_one_eventfd_per_queue(void **state)
{
	struct fake_dev d;
	int fds[NB_IRQ_MAX_FDS];
	unsigned n;
	(void)state;

	fake_dev_init(&d, NB_RX_INTERRUPT, 3, 8);
	assert_int_equal(d.f.msix_n, 3);
	assert_int_equal(d.dev.irq.n, 3);
	for (unsigned q = 0; q < 3; q++) {
		assert_int_equal(d.f.msix_fd[q], d.dev.irq.fd[q]);
		assert_true(fd_open(d.dev.irq.fd[q]));
	}
	/* nb_lockdown keeps exactly these. */
	n = nb_irq_fds(fds, NB_IRQ_MAX_FDS);
	assert_int_equal(n, 3);
	nb_dev_irq_teardown(&d.dev);
	assert_int_equal(d.f.msix_n, 0); /* MSI-X off */
	assert_int_equal(nb_irq_fds(fds, NB_IRQ_MAX_FDS), 0);
	for (unsigned q = 0; q < 3; q++)
		assert_false(fd_open(fds[q]));
	nb_dev_irq_teardown(&d.dev); /* twice is harmless */
	assert_int_equal(d.f.msix_calls, 2);
}

static void poll_mode_sets_up_nothing(void **state)
{
	struct fake_dev d;
	(void)state;

	fake_dev_init(&d, NB_RX_POLL, 1, 8);
	assert_int_equal(d.f.msix_calls, 0);
	assert_int_equal(nb_dev_rx_mode(&d.dev), NB_RX_POLL);
	assert_int_equal(nb_rx_wait(&d.dev, 0, 10), -1);
	assert_int_equal(errno, ENOTSUP);
	assert_non_null(strstr(nb_last_error(), "poll mode"));
	assert_int_equal(d.arms, 0);
}

static void too_few_vectors_is_a_clear_error(void **state)
{
	struct nb_dev_conf conf = { .rx_mode = NB_RX_ADAPTIVE };
	struct fake_dev d;
	int fds[NB_IRQ_MAX_FDS];
	(void)state;

	fake_dev_init(&d, NB_RX_POLL, 1, 1);
	assert_int_equal(nb_dev_irq_setup(&d.dev, &conf, 2, &fake_irq_ops), -1);
	assert_int_equal(errno, ENOTSUP);
	assert_int_equal(d.dev.irq.n, 0);
	assert_int_equal(nb_irq_fds(fds, NB_IRQ_MAX_FDS), 0); /* closed again */
	conf.rx_mode = (enum nb_rx_mode)7;
	assert_int_equal(nb_dev_irq_setup(&d.dev, &conf, 1, &fake_irq_ops), -1);
	assert_int_equal(errno, EINVAL);
	conf.rx_mode = NB_RX_INTERRUPT;
	assert_int_equal(nb_dev_irq_setup(&d.dev, &conf, NB_IRQ_MAX_QUEUES + 1,
					  &fake_irq_ops), -1);
	assert_int_equal(errno, EINVAL);
}

static void backend_without_interrupts_says_so(void **state)
{
	static const struct nb_pci_ops no_irq_ops = { 0 };
	struct nb_dev_conf conf = { .rx_mode = NB_RX_INTERRUPT };
	struct fake_dev d;
	(void)state;

	fake_dev_init(&d, NB_RX_POLL, 1, 8);
	d.f.pci.ops = &no_irq_ops;
	assert_int_equal(nb_dev_irq_setup(&d.dev, &conf, 1, &fake_irq_ops), -1);
	assert_int_equal(errno, ENOTSUP);
	assert_non_null(strstr(nb_last_error(), "poll receive mode"));
}

/* ---- waiting -------------------------------------------------------------- */

/* A frame already in the ring when we arm: no sleep, and disarmed after. */
static void frame_before_arm_is_not_slept_on(void **state)
{
	struct fake_dev d;
	uint64_t t0;
	(void)state;

	fake_dev_init(&d, NB_RX_INTERRUPT, 1, 1);
	d.ready[0] = true;
	t0 = ms_now();
	assert_int_equal(nb_rx_wait(&d.dev, 0, 5000), 0);
	assert_true(ms_now() - t0 < 2000);
	assert_int_equal(d.arms, 1);
	assert_int_equal(d.disarms, 1);
	assert_false(d.armed[0]);
	nb_dev_irq_teardown(&d.dev);
}

/* The interrupt comes after arm, before the sleep: ppoll still sees it. */
static void interrupt_after_arm_wakes(void **state)
{
	struct fake_dev d;
	uint64_t count;
	(void)state;

	fake_dev_init(&d, NB_RX_INTERRUPT, 1, 1);
	d.fire_on_arm = d.dev.irq.fd[0];
	assert_int_equal(nb_rx_wait(&d.dev, 0, 5000), 0);
	assert_false(d.armed[0]);
	/* The eventfd was drained: the next wait does not wake for it. */
	assert_int_equal(read(d.dev.irq.fd[0], &count, sizeof(count)), -1);
	assert_int_equal(errno, EAGAIN);
	nb_dev_irq_teardown(&d.dev);
}

struct late_irq {
	int fd;
	unsigned delay_ms;
};

static void *fire_later(void *arg)
{
	struct late_irq *l = arg;
	struct timespec ts = { 0, (long)l->delay_ms * 1000000L };
	uint64_t one = 1;

	nanosleep(&ts, NULL);
	(void)!write(l->fd, &one, sizeof(one));
	return NULL;
}

/* Sleeping, then the device interrupts on the second of two queues. */
static void interrupt_while_asleep_wakes_any_queue(void **state)
{
	struct fake_dev d;
	struct nb_rxq_ref qs[2];
	struct late_irq l;
	pthread_t t;
	uint64_t t0;
	(void)state;

	fake_dev_init(&d, NB_RX_INTERRUPT, 2, 2);
	qs[0] = (struct nb_rxq_ref){ &d.dev, 0 };
	qs[1] = (struct nb_rxq_ref){ &d.dev, 1 };
	l = (struct late_irq){ d.dev.irq.fd[1], 50 };
	assert_int_equal(pthread_create(&t, NULL, fire_later, &l), 0);
	t0 = ms_now();
	assert_int_equal(nb_rx_wait_any(qs, 2, 10000), 0);
	assert_true(ms_now() - t0 < 9000);
	pthread_join(t, NULL);
	assert_int_equal(d.arms, 2);
	assert_int_equal(d.disarms, 2);
	nb_dev_irq_teardown(&d.dev);
}

/* A device that never interrupts: the timeout bounds the wait. */
static void silent_device_times_out(void **state)
{
	struct fake_dev d;
	uint64_t t0, took;
	(void)state;

	fake_dev_init(&d, NB_RX_ADAPTIVE, 1, 1);
	t0 = ms_now();
	assert_int_equal(nb_rx_wait(&d.dev, 0, 30), -1);
	took = ms_now() - t0;
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(took >= 25);
	assert_false(d.armed[0]); /* masked again */
	nb_dev_irq_teardown(&d.dev);
}

static void bad_queues_are_refused(void **state)
{
	struct fake_dev d;
	struct nb_rxq_ref qs[NB_RX_WAIT_MAX + 1];
	(void)state;

	fake_dev_init(&d, NB_RX_INTERRUPT, 1, 1);
	assert_int_equal(nb_rx_wait(&d.dev, 1, 10), -1);
	assert_int_equal(errno, EINVAL);
	for (unsigned i = 0; i < NB_RX_WAIT_MAX + 1; i++)
		qs[i] = (struct nb_rxq_ref){ &d.dev, 0 };
	assert_int_equal(nb_rx_wait_any(qs, NB_RX_WAIT_MAX + 1, 10), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nb_rx_wait_any(qs, 0, 10), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(d.arms, 0);
	nb_dev_irq_teardown(&d.dev);
}

/* ---- the adaptive loop ------------------------------------------------- */

static void adaptive_polls_before_it_sleeps(void **state)
{
	struct fake_dev d;
	struct nb_rx_idle idle;
	struct nb_rxq_ref q;
	unsigned rounds = 0;
	uint64_t t0 = ms_now();
	(void)state;

	fake_dev_init(&d, NB_RX_ADAPTIVE, 1, 1);
	q = (struct nb_rxq_ref){ &d.dev, 0 };
	assert_int_equal(nb_rx_idle_init(&idle, &q, 1, 20), 0);
	/* Frames keep it polling however long it runs. */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(nb_rx_idle(&idle, 1), 0);
	/* Empty rounds: no sleep before NB_RX_IDLE_POLLS and NB_RX_IDLE_US. */
	while (nb_rx_idle(&idle, 0) == 0)
		rounds++;
	assert_true(rounds >= NB_RX_IDLE_POLLS - 1);
	assert_true((ms_now() - t0) * 1000 >= NB_RX_IDLE_US);
	assert_int_equal(idle.sleeps, 1);
	/* Still idle (the sleep timed out): straight back to sleep. */
	assert_int_equal(nb_rx_idle(&idle, 0), 1);
	/* One frame brings polling back. */
	assert_int_equal(nb_rx_idle(&idle, 3), 0);
	assert_int_equal(nb_rx_idle(&idle, 0), 0);
	nb_dev_irq_teardown(&d.dev);
}

static void interrupt_mode_sleeps_at_once_poll_never(void **state)
{
	struct fake_dev di, dp;
	struct nb_rx_idle idle;
	struct nb_rxq_ref q;
	(void)state;

	fake_dev_init(&di, NB_RX_INTERRUPT, 1, 1);
	di.ready[0] = true; /* the re-check finds a frame: returns at once */
	q = (struct nb_rxq_ref){ &di.dev, 0 };
	assert_int_equal(nb_rx_idle_init(&idle, &q, 1, 20), 0);
	assert_int_equal(nb_rx_idle(&idle, 0), 1);
	assert_int_equal(idle.wakeups, 1);
	nb_dev_irq_teardown(&di.dev);

	fake_dev_init(&dp, NB_RX_POLL, 1, 1);
	q = (struct nb_rxq_ref){ &dp.dev, 0 };
	assert_int_equal(nb_rx_idle_init(&idle, &q, 1, 20), 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(nb_rx_idle(&idle, 0), 0);
	assert_int_equal(dp.arms, 0);
}

/* ---- under the worker's seccomp filter ---------------------------------- */

/*
 * In a child: a device with a vector, nb_lockdown (which must keep the
 * eventfd: it closes every other fd), then wait for an interrupt from a
 * thread started before the lockdown and for a timeout. Anything the
 * filter forbids kills the child with SIGSYS. The device's eventfd only
 * gets 8-byte reads; the thread plays the device through a second fd on
 * the same eventfd, kept as an app's own eventfd (NB_KEEP_EVENT).
 */
static int locked_child(void)
{
	static struct fake_dev d;
	struct nb_keep wake;
	struct late_irq l;
	pthread_t t;

	fake_dev_init(&d, NB_RX_INTERRUPT, 1, 1);
	wake = (struct nb_keep){ dup(d.dev.irq.fd[0]), NB_KEEP_EVENT };
	l = (struct late_irq){ wake.fd, 300 };
	if (pthread_create(&t, NULL, fire_later, &l) != 0)
		return 10;
	if (nb_lockdown_keep(NULL, &wake, 1, NULL, 0) < 0)
		return 11;
	if (nb_rx_wait(&d.dev, 0, 10000) != 0)
		return 12; /* woken by the interrupt, through ppoll */
	if (nb_rx_wait(&d.dev, 0, 20) != -1 || errno != ETIMEDOUT)
		return 13;
	pthread_join(t, NULL);
	return 0;
}

static void waiting_works_under_the_filter(void **state)
{
	int status = -1;
	pid_t pid;
	(void)state;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(locked_child());
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(50 * 1000);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("the locked-down child did not finish in 10 s");
	}
	if (WIFSIGNALED(status))
		fail_msg("the locked-down child died by signal %d (SIGSYS: a call "
			 "waiting needs is not in the filter)", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(setup_routes_one_eventfd_per_queue),
		cmocka_unit_test(poll_mode_sets_up_nothing),
		cmocka_unit_test(too_few_vectors_is_a_clear_error),
		cmocka_unit_test(backend_without_interrupts_says_so),
		cmocka_unit_test(frame_before_arm_is_not_slept_on),
		cmocka_unit_test(interrupt_after_arm_wakes),
		cmocka_unit_test(interrupt_while_asleep_wakes_any_queue),
		cmocka_unit_test(silent_device_times_out),
		cmocka_unit_test(bad_queues_are_refused),
		cmocka_unit_test(adaptive_polls_before_it_sleeps),
		cmocka_unit_test(interrupt_mode_sleeps_at_once_poll_never),
		cmocka_unit_test(waiting_works_under_the_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
