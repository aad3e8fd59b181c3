/* SPDX-License-Identifier: MIT */
/*
 * irq.c - interrupt-driven receive: one MSI-X vector per receive queue
 * onto an eventfd (set up in nb_dev_open, before nb_lockdown), waiting on
 * those eventfds with the no-lost-wake-up order (unmask, look at the ring,
 * sleep, mask), and the adaptive poll/sleep loop of nicbox.h.
 *
 * The device is untrusted here too: an interrupt only ever means "look at
 * the ring"; a spurious one costs a wasted poll, a missing one at most the
 * caller's timeout. Nothing waits without a bound unless the caller asks.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "nb_internal.h"

/* Every device's eventfds, for nb_lockdown's keep list. */
static struct {
	pthread_mutex_t lock;
	int fd[NB_IRQ_MAX_FDS];
	unsigned n;
} kept = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void keep_fd(int fd)
{
	pthread_mutex_lock(&kept.lock);
	if (kept.n < NB_IRQ_MAX_FDS) /* setup bounds the total */
		kept.fd[kept.n++] = fd;
	pthread_mutex_unlock(&kept.lock);
}

static void forget_fd(int fd)
{
	pthread_mutex_lock(&kept.lock);
	for (unsigned i = 0; i < kept.n; i++)
		if (kept.fd[i] == fd) {
			kept.fd[i] = kept.fd[--kept.n];
			break;
		}
	pthread_mutex_unlock(&kept.lock);
}

unsigned nb_irq_fds(int *fds, unsigned max)
{
	unsigned n;

	pthread_mutex_lock(&kept.lock);
	n = kept.n < max ? kept.n : max;
	memcpy(fds, kept.fd, n * sizeof(int));
	pthread_mutex_unlock(&kept.lock);
	return n;
}

void nb_dev_irq_teardown(struct nb_dev *dev)
{
	struct nb_dev_irq *irq = &dev->irq;

	if (irq->n == 0)
		return;
	/* MSI-X off first: no interrupt may name a closed eventfd. */
	dev->pci->ops->msix_set(dev->pci, NULL, 0);
	for (unsigned q = 0; q < irq->n; q++) {
		forget_fd(irq->fd[q]);
		close(irq->fd[q]);
	}
	irq->n = 0;
}

int nb_dev_irq_setup(struct nb_dev *dev, const struct nb_dev_conf *conf,
		     uint16_t n_rxq, const struct nb_irq_ops *ops)
{
	struct nb_dev_irq *irq = &dev->irq;
	const char *name = dev->pci->name;

	if (conf->rx_mode != NB_RX_POLL && conf->rx_mode != NB_RX_INTERRUPT &&
	    conf->rx_mode != NB_RX_ADAPTIVE)
		return nb_fail(EINVAL, "%s: unknown receive mode %d", name,
			       (int)conf->rx_mode);
	irq->mode = conf->rx_mode;
	irq->ops = ops;
	irq->n = 0;
	if (conf->rx_mode == NB_RX_POLL)
		return 0;
	if (n_rxq == 0 || n_rxq > NB_IRQ_MAX_QUEUES)
		return nb_fail(EINVAL, "%s: %u receive queues; interrupts serve 1 to %u",
			       name, n_rxq, NB_IRQ_MAX_QUEUES);
	if (dev->pci->ops->msix_set == NULL)
		return nb_fail(ENOTSUP, "%s: this PCI backend delivers no interrupts; "
			       "use the poll receive mode", name);
	for (; irq->n < n_rxq; irq->n++) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0) {
			int err = errno;

			nb_dev_irq_teardown(dev);
			return nb_fail(err, "%s: eventfd for rx queue %u: %s", name,
				       irq->n, strerror(err));
		}
		irq->fd[irq->n] = fd;
		keep_fd(fd);
	}
	if (dev->pci->ops->msix_set(dev->pci, irq->fd, irq->n) < 0) {
		int err = errno;

		/* irq->n > 0: teardown also turns MSI-X off, harmless here. */
		nb_dev_irq_teardown(dev);
		errno = err;
		return -1;
	}
	return 0;
}

NB_API enum nb_rx_mode nb_dev_rx_mode(const struct nb_dev *dev)
{
	return dev->irq.mode;
}

/* An eventfd's counter back to 0 (EAGAIN: it was 0 already). */
static void drain(int fd)
{
	uint64_t count;

	(void)!read(fd, &count, sizeof(count));
}

static int check_queues(const struct nb_rxq_ref *qs, unsigned n)
{
	if (qs == NULL || n == 0 || n > NB_RX_WAIT_MAX)
		return nb_fail(EINVAL, "rx wait: %u queues (1 to %u)", n,
			       NB_RX_WAIT_MAX);
	for (unsigned i = 0; i < n; i++) {
		const struct nb_dev *dev = qs[i].dev;

		if (dev == NULL)
			return nb_fail(EINVAL, "rx wait: NULL device");
		if (dev->irq.mode == NB_RX_POLL)
			return nb_fail(ENOTSUP, "%s: opened in poll mode: no "
				       "interrupt to wait for (nb_dev_conf.rx_mode)",
				       dev->pci->name);
		if (qs[i].queue >= dev->irq.n)
			return nb_fail(EINVAL, "%s: rx queue %u has no interrupt "
				       "(%u set up)", dev->pci->name, qs[i].queue,
				       dev->irq.n);
	}
	return 0;
}

NB_API int nb_rx_wait_any(const struct nb_rxq_ref *qs, unsigned n,
			  int timeout_ms)
{
	struct pollfd pfd[NB_RX_WAIT_MAX];
	struct timespec ts, *tsp = NULL;
	bool ready = false;
	int rc = 1, err = 0;

	if (check_queues(qs, n) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const struct nb_dev *dev = qs[i].dev;

		pfd[i].fd = dev->irq.fd[qs[i].queue];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	/* Unmask every queue, then look at each ring: a frame that landed
	 * before its unmask raised no interrupt, and we must not sleep on it. */
	for (unsigned i = 0; i < n; i++)
		if (qs[i].dev->irq.ops->arm(qs[i].dev, qs[i].queue))
			ready = true;
	if (!ready) {
		if (timeout_ms >= 0) {
			ts.tv_sec = timeout_ms / 1000;
			ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
			tsp = &ts;
		}
		rc = ppoll(pfd, n, tsp, NULL);
		err = errno;
	}
	for (unsigned i = 0; i < n; i++) {
		qs[i].dev->irq.ops->disarm(qs[i].dev, qs[i].queue);
		if (pfd[i].revents)
			drain(pfd[i].fd);
	}
	if (rc > 0)
		return 0;
	if (rc == 0)
		return nb_fail(ETIMEDOUT, "rx wait: no frame and no interrupt in %d ms",
			       timeout_ms);
	return nb_fail(err, "rx wait: ppoll: %s", strerror(err));
}

NB_API int nb_rx_wait(struct nb_dev *dev, uint16_t queue, int timeout_ms)
{
	struct nb_rxq_ref q = { .dev = dev, .queue = queue };

	return nb_rx_wait_any(&q, 1, timeout_ms);
}

NB_API int nb_rx_idle_init(struct nb_rx_idle *st, const struct nb_rxq_ref *qs,
			   unsigned n, int timeout_ms)
{
	if (st == NULL || qs == NULL || n == 0 || n > NB_RX_WAIT_MAX)
		return nb_fail(EINVAL, "rx idle: %u queues (1 to %u)", n,
			       NB_RX_WAIT_MAX);
	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < n; i++) {
		if (qs[i].dev == NULL)
			return nb_fail(EINVAL, "rx idle: NULL device");
		if (qs[i].dev->irq.mode != qs[0].dev->irq.mode)
			return nb_fail(EINVAL, "rx idle: %s and %s have different "
				       "receive modes", qs[0].dev->pci->name,
				       qs[i].dev->pci->name);
		st->qs[i] = qs[i];
	}
	st->n = n;
	st->mode = qs[0].dev->irq.mode;
	st->timeout_ms = timeout_ms;
	return 0;
}

NB_API int nb_rx_idle(struct nb_rx_idle *st, unsigned received)
{
	uint64_t now;

	if (received || st->mode == NB_RX_POLL) {
		st->empty_rounds = 0;
		return 0;
	}
	if (st->mode == NB_RX_ADAPTIVE) {
		now = nb_now_ns();
		if (st->empty_rounds++ == 0)
			st->idle_since_ns = now;
		if (st->empty_rounds < NB_RX_IDLE_POLLS ||
		    now - st->idle_since_ns < NB_RX_IDLE_US * 1000ull)
			return 0;
	}
	st->sleeps++;
	if (nb_rx_wait_any(st->qs, st->n, st->timeout_ms) == 0) {
		st->wakeups++;
		st->empty_rounds = 0;
	} else if (errno != ETIMEDOUT && errno != EINTR) {
		return -1;
	}
	/* After a timeout or a signal: stay asleep-ready (empty_rounds kept),
	 * so an idle loop goes straight back to sleep next round. */
	return 1;
}
