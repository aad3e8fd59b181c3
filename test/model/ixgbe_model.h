/* SPDX-License-Identifier: MIT */
/*
 * ixgbe_model.h - a register-level model of the Intel 82599 that the
 * unchanged ixgbe driver runs against (there is no ixgbe device in QEMU).
 *
 * The model is an nb_pci backend: map_bar(0) returns plain shared memory
 * standing in for BAR0, config space says 8086:10fb. A thread per model
 * plays the card: it self-clears reset bits, raises EEPROM auto-read done,
 * DMA init done and link, fetches transmit descriptors and frames from the
 * DMA pool by IOVA (bounds-checked, like an IOMMU would), and writes the
 * frames into the receive ring of the same model (loopback) or of its peer
 * (a pair wired back to back), with write-back and counters.
 *
 * Clear-on-read counters: the model cannot see the driver's loads from
 * plain memory, so its counters only grow. ixgbe_model_clear_counters()
 * performs the clearing a real read would have done; tests call it right
 * after each nb_dev_stats() on a quiet device. See docs/ixgbe.md.
 */
#ifndef IXGBE_MODEL_H
#define IXGBE_MODEL_H

#include <stdint.h>

#include "nb_internal.h"

struct ixgbe_model;

/* Ways a hostile model breaks the ring protocol (one at a time). */
enum ixgbe_model_misbehaviour {
	IXGBE_MODEL_HONEST = 0,
	IXGBE_MODEL_RX_LEN_TOO_BIG,   /* write-back length > buffer size */
	IXGBE_MODEL_RX_LEN_ZERO,      /* write-back length 0 with EOP */
	IXGBE_MODEL_RX_NO_EOP,        /* each frame over two descriptors, DD
					 without EOP on the first */
	IXGBE_MODEL_RX_ERROR_BIT,     /* RXE set in the write-back */
	IXGBE_MODEL_CORRUPT_HEADS,    /* garbage in RDH/TDH after each update */
	IXGBE_MODEL_TX_OUT_OF_ORDER,  /* DD on later descriptors, never on the
					 first of each transmit pass */
	IXGBE_MODEL_TX_EARLY_DD,      /* DD on the free slot at TDT, not yet
					 posted */
};

/* Counts the model keeps about itself (not device registers). */
struct ixgbe_model_counts {
	uint64_t frames_sent;      /* tx descriptors it transmitted */
	uint64_t frames_delivered; /* frames written into a receive ring */
	uint64_t dma_refused;      /* IOVAs outside the pool, bad ring setup */
	uint64_t resets;
};

/* One model in loopback: what it transmits, it receives. */
int ixgbe_model_create(struct nb_pool *dma, struct ixgbe_model **out);
/* A card whose thread never runs: registers are memory, nothing answers. */
int ixgbe_model_create_silent(struct nb_pool *dma, struct ixgbe_model **out);
/* Two models wired back to back: a's transmit is b's receive and back. */
int ixgbe_model_create_pair(struct nb_pool *dma, struct ixgbe_model **a,
			    struct ixgbe_model **b);
/*
 * The PCI handle to pass to nb_dev_open_pci(). The device owns it after a
 * successful open and "closes" it at nb_dev_close(); the model lives on
 * until ixgbe_model_destroy(). One open per model.
 */
struct nb_pci *ixgbe_model_pci(struct ixgbe_model *m);
void ixgbe_model_set_misbehaviour(struct ixgbe_model *m,
				  enum ixgbe_model_misbehaviour mb);
/* The read side effect of the clear-on-read statistics registers. */
void ixgbe_model_clear_counters(struct ixgbe_model *m);
void ixgbe_model_counts(const struct ixgbe_model *m,
			struct ixgbe_model_counts *out);
/* True while a device opened on it still has its PCI handle. */
bool ixgbe_model_pci_open(const struct ixgbe_model *m);
/* Stops the thread(s) and frees. For a pair, destroy both (either order). */
void ixgbe_model_destroy(struct ixgbe_model *m);

#endif /* IXGBE_MODEL_H */
