/* SPDX-License-Identifier: MIT */
/*
 * ixgbe.h - the ixgbe driver's internal interface between device setup
 * (ixgbe.c) and the ring fast path (ixgbe_ring.c). The fuzz harnesses use
 * the ring half directly, with fuzz input standing in for device writes.
 *
 * Trust model: the descriptor rings live in the DMA pool, so the device can
 * write anything there at any time. What we trust lives in private memory:
 * the shadow arrays (which nb_pkt sits in which ring slot), the ring indices
 * and the counters. A device-written value is read once, checked and only
 * then used; no pointer is ever derived from it.
 */
#ifndef IXGBE_H
#define IXGBE_H

#include <stdbool.h>
#include <stdint.h>

#include "ixgbe_regs.h"
#include "nb_internal.h"

/* Transmit descriptors are reclaimed this many at a time (ixy's scheme). */
#define IXGBE_TX_CLEAN_BATCH 32u
/* Most descriptors one rx burst looks at; bounds the work per call. */
#define IXGBE_RX_MAX_BURST 64u
/* Receive keeps up to this many spare buffers, refilled in bulk. */
#define IXGBE_RX_SPARES (2u * IXGBE_RX_MAX_BURST)
/* Smallest ring: two clean-up batches, so one can be in flight. */
#define IXGBE_MIN_RING_SIZE (2u * IXGBE_TX_CLEAN_BATCH)

struct ixgbe_rxq {
	volatile union ixgbe_rx_desc *ring; /* in the DMA pool: untrusted */
	struct nb_pkt **slot;        /* private: buffer posted in each slot */
	struct nb_mempool *mp;       /* where replacement buffers come from */
	volatile uint8_t *regs;      /* BAR0, for the tail register */
	struct nb_dev *dev;          /* for nb_dev_set_fault */
	uint32_t rdt;                /* offset of this queue's RDT */
	uint32_t buf_len;            /* bytes the device may write per buffer */
	uint16_t n_spare;
	struct nb_pkt *spare[IXGBE_RX_SPARES]; /* private: refills for the ring */
	uint16_t size;               /* power of two */
	uint16_t next;               /* next slot whose DD we wait for */
	bool in_bad_frame;           /* dropping the rest of a split frame */
	bool stopped;                /* the device broke the protocol */
	uint64_t rx_errors;
	uint64_t dev_faults;
};

struct ixgbe_txq {
	volatile union ixgbe_tx_desc *ring; /* in the DMA pool: untrusted */
	struct nb_pkt **slot;        /* private: buffer posted in each slot */
	volatile uint8_t *regs;
	struct nb_dev *dev;
	uint32_t tdt;                /* offset of this queue's TDT */
	uint16_t size;               /* power of two, >= IXGBE_MIN_RING_SIZE */
	uint16_t tail;               /* next free slot */
	uint16_t clean;              /* oldest slot the device still owns */
	uint32_t last_buf_size;      /* nb_mempool_buf_size(last_pool) */
	struct nb_mempool *last_pool; /* pool of the last frame sent */
	bool stopped;
	uint64_t tx_errors;
	uint64_t dev_faults;
};

/*
 * Ring setup: `ring` is zeroed DMA memory of size * 16 bytes, `slot` a
 * private array of `size` pointers. rx_fill posts a buffer in every slot
 * (fails with ENOBUFS if the mempool runs dry).
 */
void ixgbe_rxq_init(struct ixgbe_rxq *q, struct nb_dev *dev,
		    volatile uint8_t *regs, uint32_t rdt, void *ring,
		    struct nb_pkt **slot, uint16_t size, struct nb_mempool *mp);
int ixgbe_rxq_fill(struct ixgbe_rxq *q);
void ixgbe_txq_init(struct ixgbe_txq *q, struct nb_dev *dev,
		    volatile uint8_t *regs, uint32_t tdt, void *ring,
		    struct nb_pkt **slot, uint16_t size);

uint16_t ixgbe_rxq_burst(struct ixgbe_rxq *q, struct nb_pkt **pkts, uint16_t n);
uint16_t ixgbe_txq_burst(struct ixgbe_txq *q, struct nb_pkt **pkts, uint16_t n);
/* Reclaim transmitted buffers (called by the burst; exposed for the fuzzer). */
void ixgbe_txq_clean(struct ixgbe_txq *q);

/* Give every buffer still posted in the ring back to its mempool. */
void ixgbe_rxq_release(struct ixgbe_rxq *q);
void ixgbe_txq_release(struct ixgbe_txq *q);

#endif /* IXGBE_H */
