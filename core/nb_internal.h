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

#include "nicbox.h"

#define NB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NB_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define NB_IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)
#define NB_LIKELY(x) __builtin_expect(!!(x), 1)
#define NB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NB_CONTAINER_OF(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* ------------------------------------------------------------------------ */
/* Errors: every failing path records errno and a reason, then returns -1.   */

/* Sets errno = err and the thread's nb_last_error() text; returns -1. */
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
struct nb_dev {
	struct nb_dev_head head; /* must stay first: the inline wrappers */
	struct nb_pci *pci;      /* owned: closed by nb_dev_close */
	char fault[NB_FAULT_LEN]; /* last device fault, "" if none */
};

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
 * Record a device fault (the device broke the ring protocol). The caller
 * counts it in its stats; this keeps the text for nb_dev_fault().
 */
void nb_dev_set_fault(struct nb_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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

static inline uint64_t nb_iova_of(const struct nb_iova_map *map,
				  const struct nb_pkt *pkt)
{
	return ((uintptr_t)pkt - map->base) * map->mul + map->add;
}

#endif /* NB_INTERNAL_H */
