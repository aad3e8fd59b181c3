/* SPDX-License-Identifier: MIT */
/*
 * nb_internal.h - what core/ and drivers/ share but applications do not see.
 */
#ifndef NB_INTERNAL_H
#define NB_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "nicbox.h"

#define NB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NB_CACHE_LINE 64u /* mempool buffers and their headroom are aligned to it */
#define NB_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define NB_IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)
#define NB_LIKELY(x) __builtin_expect(!!(x), 1)
#define NB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NB_CONTAINER_OF(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* ------------------------------------------------------------------------ */
/* Errors: every failing path records errno and a reason, then returns -1.   */

/* Sets errno = err and the thread's nb_last_error() text; returns -1. */
#define NB_ERROR_LEN 512 /* bytes of nb_last_error(), with its NUL */
int nb_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, returning NULL, for functions that return pointers. */
void *nb_fail_null(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------ */
/* PCI function access. The real backend is VFIO (core/pci_vfio.c); the      */
/* ixgbe device model in test/model/ provides a second one so the unchanged  */
/* driver runs without hardware.                                             */

struct nb_pci;

struct nb_pci_ops {
	/* Map memory BAR `bar` (0-5) read/write; *len gets its size. */
	int (*map_bar)(struct nb_pci *pci, unsigned bar, void **va, size_t *len);
	/* Config space access, `len` bytes at `off` (0-4095). */
	int (*cfg_read)(struct nb_pci *pci, unsigned off, void *buf, size_t len);
	int (*cfg_write)(struct nb_pci *pci, unsigned off, const void *buf,
			 size_t len);
	/* Function-level reset; may be NULL (then -1/ENOTSUP). */
	int (*reset)(struct nb_pci *pci);
	/*
	 * Route MSI-X vectors 0..n-1 to the eventfds fds[0..n-1]; n = 0 turns
	 * them off. ENOTSUP when the function has fewer than n vectors. May be
	 * NULL: a backend without interrupts (then nb_dev_irq_setup says so).
	 */
	int (*msix_set)(struct nb_pci *pci, const int *fds, unsigned n);
	/* Unmap BARs, close the fd, free. */
	void (*close)(struct nb_pci *pci);
};

struct nb_pci {
	const struct nb_pci_ops *ops;
	char name[32];      /* "0000:00:04.0" */
	uint16_t vendor_id; /* read from config space at open */
	uint16_t device_id;
};

/* Wrap an open VFIO device fd; takes ownership of the fd on success. */
int nb_pci_open_vfio(int device_fd, const char *name, struct nb_pci **out);
/*
 * Number of interrupts VFIO offers at IRQ `index` (VFIO_PCI_INTX_IRQ_INDEX,
 * VFIO_PCI_MSIX_IRQ_INDEX, ...). EINVAL if `pci` is not a VFIO function.
 */
int nb_pci_vfio_irq_count(struct nb_pci *pci, unsigned index, uint32_t *count);

int nb_pci_cfg_read8(struct nb_pci *pci, unsigned off, uint8_t *v);
int nb_pci_cfg_read16(struct nb_pci *pci, unsigned off, uint16_t *v);
int nb_pci_cfg_read32(struct nb_pci *pci, unsigned off, uint32_t *v);
int nb_pci_cfg_write16(struct nb_pci *pci, unsigned off, uint16_t v);
/* Set Memory Space Enable and Bus Master Enable in the command register. */
int nb_pci_enable_dma(struct nb_pci *pci);
/* Clear Bus Master Enable: the device may no longer start DMA. */
int nb_pci_disable_dma(struct nb_pci *pci);

/* ------------------------------------------------------------------------ */
/* Devices and drivers                                                       */

#define NB_FAULT_LEN 160

/*
 * The common part of every device. A driver's private struct has this as
 * its FIRST member, so (struct nb_dev *) and the driver struct convert.
 * nb_dev_close() calls ops->close (the driver stops the device, frees its
 * buffers and its struct, but leaves `pci` open), then clears Bus Master
 * Enable and closes `pci` itself.
 */
/*
 * A driver's interrupt arming for one receive queue (core/irq.c calls them
 * from nb_rx_wait_any, in the queue's thread). arm unmasks the queue's
 * vector and then returns true if the ring already holds a frame (so the
 * caller does not sleep); disarm masks it again. Both only hint: the next
 * rx burst checks the ring as always.
 */
struct nb_irq_ops {
	bool (*arm)(struct nb_dev *dev, uint16_t queue);
	void (*disarm)(struct nb_dev *dev, uint16_t queue);
};

/* Receive queues that may have a vector each (vector q = rx queue q). */
#define NB_IRQ_MAX_QUEUES NB_RX_WAIT_MAX

struct nb_dev_irq {
	enum nb_rx_mode mode;
	uint16_t n;                    /* vectors set up; 0 in NB_RX_POLL */
	int fd[NB_IRQ_MAX_QUEUES];     /* eventfd of vector q */
	const struct nb_irq_ops *ops;
};

struct nb_dev {
	struct nb_dev_head head; /* must stay first: the inline wrappers */
	struct nb_pci *pci;      /* owned: closed by nb_dev_close */
	char fault[NB_FAULT_LEN]; /* last device fault, "" if none */
	struct nb_dev_irq irq;   /* core/irq.c */
	/* Set by the driver's open, for nb_dev_info. */
	uint16_t rx_queues, tx_queues, max_queues, rx_ring_size, tx_ring_size;
};

/* What a driver's open records for nb_dev_info (core/port.c). */
static inline void nb_dev_set_geometry(struct nb_dev *dev, uint16_t rxq, uint16_t txq,
				       uint16_t max_queues, uint16_t rx_ring, uint16_t tx_ring)
{
	dev->rx_queues = rxq;
	dev->tx_queues = txq;
	dev->max_queues = max_queues;
	dev->rx_ring_size = rx_ring;
	dev->tx_ring_size = tx_ring;
}

/* Pool sizing (core/port.c): the most DMA bytes any driver carves per
 * descriptor (virtio split ring: 16 + 2 + 8) and per ring (alignment,
 * indices), its largest default ring size, and its per-device extras (the
 * virtio control queue and its buffer). test_port checks them against the
 * drivers. */
#define NB_DESC_DMA_MAX 32u
#define NB_RING_DMA_EXTRA 256u
#define NB_RING_DEFAULT_MAX 512u
#define NB_DEV_DMA_EXTRA (16u * NB_DESC_DMA_MAX + NB_RING_DMA_EXTRA + 128u)
/* nb_ports_dma_bytes before its rounding up to 2 MiB. */
size_t nb_ports_dma_need(unsigned n, const struct nb_port_conf *conf);

struct nb_driver {
	const char *name;
	bool (*match)(uint16_t vendor_id, uint16_t device_id);
	/*
	 * Bring the device up. On success *out owns `pci`; on failure the
	 * caller still owns it.
	 */
	int (*open)(struct nb_pci *pci, struct nb_pool *dma,
		    const struct nb_dev_conf *conf, struct nb_dev **out);
};

extern const struct nb_driver nb_driver_ixgbe;
extern const struct nb_driver nb_driver_igb;
extern const struct nb_driver nb_driver_virtio;

/* Pick the driver by the function's ids and open it. */
int nb_dev_open_pci(struct nb_pci *pci, struct nb_pool *dma,
		    const struct nb_dev_conf *conf, struct nb_dev **out);

/*
 * The receive mempools conf names for n_rxq queues, as every driver takes
 * them: conf->rx_mempool (one queue) or conf->rx_mempools[0..n_rxq), not
 * both; each set, a different one per queue (a mempool is
 * single-threaded), with buffers of at least min_buf bytes (`why` says
 * why, for the message). 0 with out[0..n_rxq) filled, or -1/EINVAL with
 * a message naming drv and dev.
 */
int nb_conf_rx_mempools(const char *drv, const char *dev,
			const struct nb_dev_conf *conf, uint16_t n_rxq,
			uint32_t min_buf, const char *why,
			struct nb_mempool **out);

/*
 * Record a device fault (the device broke the ring protocol). The caller
 * counts it in its stats; this keeps the text for nb_dev_fault().
 */
void nb_dev_set_fault(struct nb_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------ */
/* Interrupts (core/irq.c)                                                   */

/*
 * In conf->rx_mode NB_RX_INTERRUPT or NB_RX_ADAPTIVE: one eventfd per
 * receive queue, MSI-X vector q onto queue q's (pci->ops->msix_set). The
 * driver calls it after its reset and before it enables receive, then
 * programs its own vector mapping. NB_RX_POLL records the mode and sets up
 * nothing. EINVAL for an unknown mode or too many queues, ENOTSUP for a
 * function without enough vectors.
 */
int nb_dev_irq_setup(struct nb_dev *dev, const struct nb_dev_conf *conf,
		     uint16_t n_rxq, const struct nb_irq_ops *ops);
/* MSI-X off, eventfds closed. Safe to call twice and after a failed setup. */
void nb_dev_irq_teardown(struct nb_dev *dev);
/* The eventfds of every open device, for nb_lockdown's keep list. */
unsigned nb_irq_fds(int *fds, unsigned max);
#define NB_IRQ_MAX_FDS (NB_MAX_DEVICES * NB_IRQ_MAX_QUEUES)

/* ------------------------------------------------------------------------ */
/* Pool carving, for nicbox-devfuzz: it opens and closes the real drivers   */
/* once per case; the rings they carve go back by moving the carve point.   */

/*
 * nb_pool_carve without zeroing: for packet buffers, whose bytes nothing
 * reads before the device or the application writes them. Zeroing a
 * mempool's megabytes again cost setup time: the helper's fresh memfd
 * pages are zero already (the kernel clears them when they are pinned).
 */
int nb_pool_carve_unzeroed(struct nb_pool *pool, size_t size, size_t align,
			   void **va, uint64_t *iova);

/* How many bytes of the pool are carved now. */
size_t nb_pool_carve_mark(const struct nb_pool *pool);
/*
 * Hand back everything carved after `mark` (a value of nb_pool_carve_mark;
 * a larger one changes nothing). Only when nothing carved since is in use:
 * the device that used it stopped, its driver closed.
 */
void nb_pool_carve_rewind(struct nb_pool *pool, size_t mark);

/* ------------------------------------------------------------------------ */
/* Mempool                                                                   */

/* Pool index `idx`'s packet descriptor, for tests; NULL if out of range. */
struct nb_pkt *nb_mempool_pkt(struct nb_mempool *mp, uint32_t idx);

/* Per-buffer mempool checks (double free, foreign pool): CMake option
 * NB_MEMPOOL_DEBUG, on by default in Debug and fuzz builds. */
#ifndef NB_MEMPOOL_DEBUG
#define NB_MEMPOOL_DEBUG 0
#endif

/*
 * Driver fast paths. get_bulk gives exactly n buffers or none (len is not
 * reset: the driver sets it); put_bulk takes back n buffers that all
 * belong to mp. Both copy pointers and touch no nb_pkt outside debug
 * builds.
 */
uint32_t nb_mempool_get_bulk(struct nb_mempool *mp, struct nb_pkt **pkts,
			     uint32_t n);
void nb_mempool_put_bulk(struct nb_mempool *mp, struct nb_pkt *const *pkts,
			 uint32_t n);

/*
 * A buffer's IOVA from its descriptor's address alone, without loading
 * the descriptor: iova = ((uintptr_t)pkt - base) * mul + add. Descriptors
 * sit in one private array and buffers at a fixed stride, so this is exact
 * for every buffer of the pool; rx refill uses it to post buffers without
 * touching their metadata.
 */
struct nb_iova_map {
	uintptr_t base;
	uint64_t mul;
	uint64_t add;
};
void nb_mempool_iova_map(const struct nb_mempool *mp, struct nb_iova_map *map);

/* CLOCK_MONOTONIC in ns (vDSO: no system call, so fine after lockdown). */
static inline uint64_t nb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t nb_iova_of(const struct nb_iova_map *map,
				  const struct nb_pkt *pkt)
{
	return ((uintptr_t)pkt - map->base) * map->mul + map->add;
}

#endif /* NB_INTERNAL_H */
