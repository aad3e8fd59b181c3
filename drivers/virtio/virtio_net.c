/* SPDX-License-Identifier: MIT */
/*
 * virtio_net.c - virtio-net 1.x poll-mode driver (virtio v1.2, section 5.1).
 * Work in progress: the ring logic and PCI transport land in the next commits.
 */
#include <errno.h>

#include "nb_internal.h"

/* virtio v1.2 4.1.2.1: vendor 0x1af4, modern device id 0x1040 + 1 (net). */
#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_NET_MODERN 0x1041

static bool virtio_net_match(uint16_t vendor_id, uint16_t device_id)
{
	return vendor_id == VIRTIO_PCI_VENDOR &&
	       device_id == VIRTIO_PCI_DEVICE_NET_MODERN;
}

static int virtio_net_open(struct nb_pci *pci, struct nb_pool *dma,
			   const struct nb_dev_conf *conf, struct nb_dev **out)
{
	(void)dma;
	(void)conf;
	(void)out;
	return nb_fail(ENOTSUP, "%s: virtio-net driver not built yet", pci->name);
}

const struct nb_driver nb_driver_virtio = {
	.name = "virtio-net",
	.match = virtio_net_match,
	.open = virtio_net_open,
};
