/* SPDX-License-Identifier: MIT */
/*
 * ixgbe.c - Intel 82599 / X540 / X550 poll-mode driver (skeleton: the
 * driver table entry, so the library links while the driver is written).
 */
#include <errno.h>

#include "nb_internal.h"

static bool ixgbe_match(uint16_t vendor_id, uint16_t device_id)
{
	(void)device_id;
	(void)vendor_id;
	return false;
}

static int ixgbe_open(struct nb_pci *pci, struct nb_pool *dma,
		      const struct nb_dev_conf *conf, struct nb_dev **out)
{
	(void)pci;
	(void)dma;
	(void)conf;
	(void)out;
	return nb_fail(ENOTSUP, "ixgbe: driver not built yet");
}

const struct nb_driver nb_driver_ixgbe = {
	.name = "ixgbe",
	.match = ixgbe_match,
	.open = ixgbe_open,
};
