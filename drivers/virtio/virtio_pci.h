/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.h - the virtio-over-PCI transport (virtio 1.2, 4.1), modern
 * interface only, on top of struct nb_pci (VFIO or a test backend).
 */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include "virtqueue.h"

/* One virtio structure a vendor capability points at (4.1.4). */
struct vpci_region {
	volatile uint8_t *va; /* start of the structure inside its BAR */
	uint32_t len;         /* the capability's length, bounds-checked */
};

struct virtio_pci {
	struct nb_pci *pci;
	struct vpci_region common; /* 4.1.4.3 */
	struct vpci_region notify; /* 4.1.4.4 */
	struct vpci_region isr;    /* 4.1.4.5: located, never read (MSI-X only) */
	struct vpci_region device; /* 4.1.4.6 */
	uint32_t notify_off_multiplier;
};

/* Find the virtio capabilities and map the BARs they name. */
int vpci_map(struct virtio_pci *vp, struct nb_pci *pci);

/* 2.4 Device Reset: write 0 and wait until the device reads back 0. */
int vpci_reset(struct virtio_pci *vp);

uint8_t vpci_status(const struct virtio_pci *vp);
/* 2.1: status bits are only ever added during initialisation. */
void vpci_add_status(struct virtio_pci *vp, uint8_t bits);

uint64_t vpci_device_features(struct virtio_pci *vp);
void vpci_set_driver_features(struct virtio_pci *vp, uint64_t features);

/* queue_size the device offers for queue `index`; 0 if it has none. */
uint16_t vpci_queue_max(struct virtio_pci *vp, uint16_t index);

/*
 * Tell the device where vq's rings are and enable it (4.1.5.1.3); *notify
 * gets the queue's doorbell address (4.1.4.4). msix_vector: the queue's
 * MSI-X vector, or VIRTIO_MSI_NO_VECTOR (we poll it); EIO if the device
 * does not take it.
 */
int vpci_queue_enable(struct virtio_pci *vp, const struct virtqueue *vq,
		      uint16_t msix_vector, volatile uint16_t **notify);

/*
 * Read `len` bytes of device configuration at `off`, retrying until
 * config_generation is stable (2.5.1).
 */
int vpci_read_config(struct virtio_pci *vp, uint32_t off, void *buf,
		     uint32_t len);

#endif /* VIRTIO_PCI_H */
