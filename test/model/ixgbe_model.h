/* SPDX-License-Identifier: MIT */
/*
 * ixgbe_model.h - a register-level model of the Intel 82599 that the
 * unchanged ixgbe driver runs against (there is no ixgbe device in QEMU).
 *
 * The model is an nb_pci backend: map_bar(0) returns a memfd mapping
 * standing in for BAR0, config space says 8086:10fb. Its register table is
 * its own (ixgbe_model_regs.h, from the datasheet), not the driver's.
 *
 * The pages holding control, statistics, MAC and security registers are
 * mapped PROT_NONE in the driver's view: each access traps (SIGSEGV), is
 * single-stepped (SIGTRAP) and then seen by the model in program order. So
 * statistics clear on read, writes take effect at once (I2C bit-banging,
 * AUTOC restart) and the model checks the order the datasheet asks for
 * (ixgbe_model_violation()). A thread per model plays the rest of the
 * card: reset timing, EEPROM auto-read and DMA init done, link, transmit
 * from the DMA pool by IOVA (bounds-checked, like an IOMMU would), receive
 * into its own rings (loopback) or its peer's (a pair back to back).
 * One driver thread per model: the trap state is per thread, a page is
 * unprotected only while one access is single-stepped. With the environment
 * variable NB_MODEL_NO_TRAPS set (bench/ring-bench.sh under valgrind, which
 * cannot single-step) the thread polls for those writes instead: no rule
 * checks, no clear-on-read, no SFP+ module on I2C.
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
					 first one that asked for it (RS) */
	IXGBE_MODEL_TX_EARLY_DD,      /* DD on the free slot at TDT, not yet
					 posted */
	IXGBE_MODEL_MASTER_STUCK,     /* STATUS.GIO master enable never clears
					 (SU clarification 9: link down, flow
					 control) */
};

/* The SFP+ module in the cage (SFF-8472 contents) and what the far end runs. */
enum ixgbe_model_sfp {
	IXGBE_MODEL_SFP_10G = 0,      /* 10GBASE-SR (the default) */
	IXGBE_MODEL_SFP_1G,           /* 1000BASE-SX */
	IXGBE_MODEL_SFP_DUAL_PEER_1G, /* SR and SX, far end at 1 Gb/s only */
	IXGBE_MODEL_SFP_NONE,         /* empty cage: nothing answers on I2C */
};

/* Counts the model keeps about itself (not device registers). */
struct ixgbe_model_counts {
	uint64_t frames_sent;      /* tx descriptors it transmitted */
	uint64_t frames_delivered; /* frames written into a receive ring */
	uint64_t interrupts;       /* MSI-X messages (eventfd writes) sent */
	uint64_t dma_refused;      /* IOVAs outside the pool, bad ring setup */
	uint64_t resets;
	uint64_t missed_traps; /* resets/AN restarts found by polling instead */
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
void ixgbe_model_set_sfp(struct ixgbe_model *m, enum ixgbe_model_sfp sfp);
/* The first init-order rule of the datasheet the driver broke, or NULL.
 * After one, the model stops all DMA (as the hardware may hang). */
const char *ixgbe_model_violation(const struct ixgbe_model *m);
/* BAR0 as the driver sees it (trapped pages), for tests that poke it. */
volatile uint8_t *ixgbe_model_bar(struct ixgbe_model *m);
void ixgbe_model_counts(const struct ixgbe_model *m,
			struct ixgbe_model_counts *out);
/* True while a device opened on it still has its PCI handle. */
bool ixgbe_model_pci_open(const struct ixgbe_model *m);
/* Stops the thread(s) and frees. For a pair, destroy both (either order). */
void ixgbe_model_destroy(struct ixgbe_model *m);

#endif /* IXGBE_MODEL_H */
