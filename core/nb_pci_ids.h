/* SPDX-License-Identifier: MIT */
/*
 * nb_pci_ids.h - which nicbox driver runs which PCI function: the one table
 * that the drivers' match functions and nicbox-helper both read. The helper
 * refuses a NIC that no entry names before it touches it (docs/helper.md),
 * so a function is listed only once its driver really brings it up.
 *
 * Header only: the helper includes it and links no library code.
 */
#ifndef NB_PCI_IDS_H
#define NB_PCI_IDS_H

#include <stddef.h>
#include <stdint.h>

struct nb_pci_id {
	uint16_t vendor, device;
	const char *driver; /* struct nb_driver.name */
};

static const struct nb_pci_id nb_pci_ids[] = {
	/* virtio 1.2, 4.1.2.1: modern virtio-net is 0x1040 + device type 1;
	 * transitional 0x1000 is a legacy interface we do not speak. */
	{ 0x1af4, 0x1041, "virtio-net" },
	/* 82599 datasheet 9.3.3.2 (Device ID): the SFP+ parts only, the one
	 * PHY setup drivers/ixgbe has (docs/ixgbe.md): 82599ES SFI/SFP+,
	 * 82599 SFP+ with FCoE, 82599EN SFP+. */
	{ 0x8086, 0x10fb, "ixgbe" },
	{ 0x8086, 0x1529, "ixgbe" },
	{ 0x8086, 0x1557, "ixgbe" },
	/* 82576 (drivers/igb): copper, fiber, serdes, quad copper, NS,
	 * serdes quad, NS serdes, ET2 quad copper. */
	{ 0x8086, 0x10c9, "igb" },
	{ 0x8086, 0x10e6, "igb" },
	{ 0x8086, 0x10e7, "igb" },
	{ 0x8086, 0x10e8, "igb" },
	{ 0x8086, 0x150a, "igb" },
	{ 0x8086, 0x150d, "igb" },
	{ 0x8086, 0x1518, "igb" },
	{ 0x8086, 0x1526, "igb" },
};

/* The driver name for vendor:device, or NULL if no nicbox driver has it. */
static inline const char *nb_pci_driver_for(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < sizeof(nb_pci_ids) / sizeof(nb_pci_ids[0]); i++)
		if (nb_pci_ids[i].vendor == vendor && nb_pci_ids[i].device == device)
			return nb_pci_ids[i].driver;
	return NULL;
}

#endif /* NB_PCI_IDS_H */
