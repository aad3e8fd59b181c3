/* SPDX-License-Identifier: MIT */
/*
 * devfuzz.h - what nicbox-devfuzz's runner (devfuzz.c) and its device
 * backends (devfuzz_dev.c) share: the fuzz memory layout and one backend
 * per ring format.
 */
#ifndef NB_APPS_DEVFUZZ_H
#define NB_APPS_DEVFUZZ_H

#include <stdbool.h>
#include <stdint.h>

#include "devfuzz_case.h"
#include "nb_internal.h"
#include "virtio_pci.h"

/* The fuzz pool: every byte outside the ring and buffer areas is a guard. */
#define DF_POOL_A_BYTES (4u << 20)
#define DF_GUARD 65536u
#define DF_RING_OFF DF_GUARD                               /* ring area */
#define DF_BUF_OFF (DF_RING_OFF + DF_RING_AREA + DF_GUARD) /* buffer area */

struct df_target {
	struct nb_pci *pci;
	volatile uint8_t *ring;   /* the ring area (pool A) */
	uint64_t ring_iova;
	uint64_t last_tail;       /* igb: the tail last published */
	uint32_t setup;           /* the case's setup word */
	uint8_t mode;             /* enum df_mode of the running case */
	bool packed;              /* virtio: the packed ring (2.8) */
	/* virtio */
	struct virtio_pci vp;
	volatile uint16_t *doorbell;
	/* igb */
	volatile uint8_t *regs;
	uint64_t written_q1[DF_RING_SIZE]; /* what we put in each slot's qword 1 */
};

/*
 * One ring format: virtio split (2.7) and packed (2.8) virtqueues, the
 * 82576's advanced descriptors.
 */
struct df_backend {
	const char *name;
	/* Bring the device up with only the fuzzed ring enabled. */
	int (*setup)(struct df_target *t);
	/* One operation; addresses already resolved to IOVAs in a and b. */
	void (*apply)(struct df_target *t, const struct df_op *op, uint64_t a,
		      uint64_t b);
	/* Did the device report an error (virtio DEVICE_NEEDS_RESET, igb
	 * receive write-backs with RXE)? */
	bool (*device_error)(struct df_target *t);
	/* Stop the device's DMA (device-level reset); -1 if it would not. */
	int (*stop)(struct df_target *t);
};

extern const struct df_backend df_backend_virtio_split;
extern const struct df_backend df_backend_virtio_packed;
extern const struct df_backend df_backend_igb;

/* The backend for a PCI function (virtio-net: packed if the device offers
 * it), or the kind `want` (enum df_kind) unless it is -1; NULL (and *kind
 * unset) if there is none. */
const struct df_backend *df_backend_for(struct nb_pci *pci, int want,
					unsigned *kind);

#endif /* NB_APPS_DEVFUZZ_H */
