/* SPDX-License-Identifier: MIT */
/*
 * fake_pci.h - a struct nb_pci backed by a 256-byte array, for testing the
 * config helpers and the device layer without hardware.
 */
#ifndef FAKE_PCI_H
#define FAKE_PCI_H

#include "nb_internal.h"

struct fake_pci {
	struct nb_pci pci;          /* first */
	uint8_t cfg[256];
	unsigned reads, writes;     /* backend calls seen */
	bool fail_reads;            /* make cfg_read fail with EIO */
	unsigned *close_log;        /* if set, close stores ++*close_log ... */
	unsigned closed_at;         /* ... here (else 1); config access then fails */
	/* MSI-X as VFIO would route it: msix_set fails with ENOTSUP above
	 * msix_vectors; the last routing is kept here. */
	unsigned msix_vectors;
	unsigned msix_calls;
	unsigned msix_n;
	int msix_fd[32];
};

/* Ids are written into config space too, as a real function has them. */
void fake_pci_init(struct fake_pci *f, uint16_t vendor, uint16_t device);
uint16_t fake_pci_command(const struct fake_pci *f);

#endif /* FAKE_PCI_H */
