/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.c - the modern virtio PCI transport (virtio 1.2, 4.1).
 *
 * The config space and BAR contents come from the device, so every
 * capability pointer, BAR number, offset and length is checked before it
 * becomes an address: a capability may only name a structure lying wholly
 * inside a BAR we mapped.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "nb_mmio.h"
#include "virtio_pci.h"

/* Capabilities live above the 64-byte header; at most this many fit. */
#define PCI_CFG_HEADER_LEN 0x40
#define PCI_CFG_STD_LEN 0x100
#define PCI_MAX_CAPS ((PCI_CFG_STD_LEN - PCI_CFG_HEADER_LEN) / 4)
#define PCI_NUM_BARS 6

/* How long a reset may take before we call the device broken. */
#define VPCI_RESET_WAIT_MS 1000
/* 2.5.1: retries while config_generation keeps changing. */
#define VPCI_CONFIG_RETRIES 100

static uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* x86-64 is little-endian, as is PCI */
	return v;
}

static const char *cap_name(uint8_t type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG: return "common configuration";
	case VIRTIO_PCI_CAP_NOTIFY_CFG: return "notification";
	case VIRTIO_PCI_CAP_ISR_CFG: return "ISR status";
	case VIRTIO_PCI_CAP_DEVICE_CFG: return "device configuration";
	}
	return "unknown";
}

/* Turn a virtio_pci_cap into a bounds-checked pointer into its BAR. */
static int map_region(struct virtio_pci *vp, const uint8_t *cap,
		      struct vpci_region *r)
{
	uint8_t type = cap[VIRTIO_PCI_CAP_CFG_TYPE];
	uint8_t bar = cap[VIRTIO_PCI_CAP_BAR];
	uint32_t off = le32_at(cap + VIRTIO_PCI_CAP_OFFSET);
	uint32_t len = le32_at(cap + VIRTIO_PCI_CAP_LENGTH);
	size_t bar_len;
	void *va;

	if (vp->pci->ops->map_bar(vp->pci, bar, &va, &bar_len) < 0)
		return nb_fail(errno, "%s: virtio %s structure in BAR%u: %s",
			       vp->pci->name, cap_name(type), bar,
			       nb_last_error());
	if (off > bar_len || len > bar_len - off)
		return nb_fail(EIO, "%s: virtio %s structure at offset 0x%x, "
			       "%u bytes, lies outside BAR%u (%zu bytes; "
			       "virtio 1.2, 4.1.4)", vp->pci->name,
			       cap_name(type), off, len, bar, bar_len);
	r->va = (volatile uint8_t *)va + off;
	r->len = len;
	return 0;
}

/*
 * 4.1.4: walk the capability list and use the first vendor-specific
 * capability of each virtio structure type, ignoring reserved BAR numbers.
 */
static int find_capabilities(struct virtio_pci *vp)
{
	struct nb_pci *pci = vp->pci;
	uint8_t cap[VIRTIO_PCI_NOTIFY_CAP_SIZE];
	uint8_t ptr;
	uint16_t status;

	if (pci->ops->cfg_read(pci, PCI_STATUS, &status, 2) < 0)
		return -1;
	if (!(status & PCI_STATUS_CAP_LIST))
		return nb_fail(ENODEV, "%s: no PCI capability list: not a "
			       "modern virtio device (virtio 1.2, 4.1.4)",
			       pci->name);
	if (pci->ops->cfg_read(pci, PCI_CAPABILITY_LIST, &ptr, 1) < 0)
		return -1;

	for (unsigned n = 0; ptr != 0 && n < PCI_MAX_CAPS; n++) {
		struct vpci_region *r = NULL;
		size_t need = VIRTIO_PCI_CAP_SIZE;

		ptr &= 0xfc; /* PCI 3.0, 6.7: low two bits reserved */
		/* PCI 3.0, 6.7: only the ID and next pointer are common to
		 * every capability; a short one (PM, 8 bytes) may end at 0xFF. */
		if (ptr < PCI_CFG_HEADER_LEN)
			return nb_fail(EIO, "%s: capability pointer 0x%x out "
				       "of range", pci->name, ptr);
		if (pci->ops->cfg_read(pci, ptr, cap, 2) < 0)
			return -1;
		if (cap[VIRTIO_PCI_CAP_VNDR] == PCI_CAP_ID_VNDR) {
			/* 4.1.4: cap_vndr, cap_next, cap_len, cfg_type. */
			if (pci->ops->cfg_read(pci, ptr, cap, 4) < 0)
				return -1;
			switch (cap[VIRTIO_PCI_CAP_CFG_TYPE]) {
			case VIRTIO_PCI_CAP_COMMON_CFG: r = &vp->common; break;
			case VIRTIO_PCI_CAP_NOTIFY_CFG:
				r = &vp->notify;
				need = VIRTIO_PCI_NOTIFY_CAP_SIZE;
				break;
			case VIRTIO_PCI_CAP_ISR_CFG: r = &vp->isr; break;
			case VIRTIO_PCI_CAP_DEVICE_CFG: r = &vp->device; break;
			}
		}
		if (r && r->va == NULL) {
			if (cap[VIRTIO_PCI_CAP_LEN] < need ||
			    ptr + need > PCI_CFG_STD_LEN)
				return nb_fail(EIO, "%s: virtio %s capability "
					       "at 0x%x is %u bytes, needs %zu",
					       pci->name,
					       cap_name(cap[VIRTIO_PCI_CAP_CFG_TYPE]),
					       ptr, cap[VIRTIO_PCI_CAP_LEN], need);
			if (pci->ops->cfg_read(pci, ptr, cap, need) < 0)
				return -1;
			/* 4.1.4: a bar of 6-255 is reserved: ignore that cap. */
			if (cap[VIRTIO_PCI_CAP_BAR] < PCI_NUM_BARS) {
				if (map_region(vp, cap, r) < 0)
					return -1;
				if (r == &vp->notify)
					vp->notify_off_multiplier =
						le32_at(cap + VIRTIO_PCI_NOTIFY_CAP_MULT);
			}
		}
		ptr = cap[VIRTIO_PCI_CAP_NEXT];
	}

	if (!vp->common.va || !vp->notify.va || !vp->isr.va || !vp->device.va)
		return nb_fail(ENODEV, "%s: missing virtio capabilities "
			       "(common %s, notify %s, ISR %s, device %s): not "
			       "a modern virtio 1.x device (4.1.4)", pci->name,
			       vp->common.va ? "ok" : "absent",
			       vp->notify.va ? "ok" : "absent",
			       vp->isr.va ? "ok" : "absent",
			       vp->device.va ? "ok" : "absent");
	if (vp->common.len < VIRTIO_COMMON_MIN_LEN)
		return nb_fail(EIO, "%s: common configuration is %u bytes, "
			       "needs %u (4.1.4.3)", pci->name,
			       vp->common.len, VIRTIO_COMMON_MIN_LEN);
	return 0;
}

int vpci_map(struct virtio_pci *vp, struct nb_pci *pci)
{
	*vp = (struct virtio_pci){ .pci = pci };
	return find_capabilities(vp);
}

uint8_t vpci_status(const struct virtio_pci *vp)
{
	return nb_reg_read8(vp->common.va, VIRTIO_COMMON_STATUS);
}

void vpci_add_status(struct virtio_pci *vp, uint8_t bits)
{
	nb_reg_write8(vp->common.va, VIRTIO_COMMON_STATUS,
		      vpci_status(vp) | bits);
}

int vpci_reset(struct virtio_pci *vp)
{
	const struct timespec tick = { .tv_nsec = 1000 * 1000 };

	/* 4.1.4.3.1: writing 0 to device_status resets the device. */
	nb_reg_write8(vp->common.va, VIRTIO_COMMON_STATUS, 0);
	for (unsigned ms = 0; ms < VPCI_RESET_WAIT_MS; ms++) {
		if (vpci_status(vp) == 0) /* 2.4.1: reset is complete */
			return 0;
		nanosleep(&tick, NULL);
	}
	return nb_fail(ETIMEDOUT, "%s: virtio device still reports status "
		       "0x%02x %u ms after reset (virtio 1.2, 2.4)",
		       vp->pci->name, vpci_status(vp), VPCI_RESET_WAIT_MS);
}

uint64_t vpci_device_features(struct virtio_pci *vp)
{
	uint64_t features = 0;

	/* 4.1.4.3: 32 feature bits per device_feature_select value. */
	for (uint32_t half = 0; half < 2; half++) {
		nb_reg_write32(vp->common.va, VIRTIO_COMMON_DFSELECT, half);
		features |= (uint64_t)nb_reg_read32(vp->common.va,
						    VIRTIO_COMMON_DF)
			    << (32 * half);
	}
	return features;
}

void vpci_set_driver_features(struct virtio_pci *vp, uint64_t features)
{
	/* 4.1.4.3: driver_feature_select picks the half driver_feature sets. */
	for (uint32_t half = 0; half < 2; half++) {
		nb_reg_write32(vp->common.va, VIRTIO_COMMON_GFSELECT, half);
		nb_reg_write32(vp->common.va, VIRTIO_COMMON_GF,
			       (uint32_t)(features >> (32 * half)));
	}
}

uint16_t vpci_queue_max(struct virtio_pci *vp, uint16_t index)
{
	/* 4.1.4.3: queue_select picks the queue the queue_* fields mean. */
	nb_reg_write16(vp->common.va, VIRTIO_COMMON_Q_SELECT, index);
	return nb_reg_read16(vp->common.va, VIRTIO_COMMON_Q_SIZE);
}

int vpci_queue_enable(struct virtio_pci *vp, const struct virtqueue *vq,
		      uint16_t msix_vector, volatile uint16_t **notify)
{
	volatile uint8_t *common = vp->common.va;
	uint64_t notify_off;

	/* 4.1.5.1.3 Virtqueue Configuration, in its order. */
	nb_reg_write16(common, VIRTIO_COMMON_Q_SELECT, vq->index);
	nb_reg_write16(common, VIRTIO_COMMON_Q_SIZE, vq->size);
	/* 4.1.4.3 queue_msix_vector; 4.1.5.1.2.1: read it back, the device
	 * answers NO_VECTOR when it could not map the vector. */
	nb_reg_write16(common, VIRTIO_COMMON_Q_MSIX, msix_vector);
	if (msix_vector != VIRTIO_MSI_NO_VECTOR &&
	    nb_reg_read16(common, VIRTIO_COMMON_Q_MSIX) != msix_vector)
		return nb_fail(EIO, "%s: queue %u refused MSI-X vector %u "
			       "(queue_msix_vector reads back otherwise, virtio "
			       "1.2, 4.1.5.1.2.1)", vp->pci->name, vq->index,
			       msix_vector);
	/* 4.1.3.1: 64-bit fields may be written as two 32-bit halves. */
	nb_reg_write64_split(common, VIRTIO_COMMON_Q_DESC, vq->desc_iova);
	nb_reg_write64_split(common, VIRTIO_COMMON_Q_DRIVER, vq->avail_iova);
	nb_reg_write64_split(common, VIRTIO_COMMON_Q_DEVICE, vq->used_iova);

	/* 4.1.4.4: doorbell at offset + queue_notify_off * multiplier. */
	notify_off = (uint64_t)nb_reg_read16(common, VIRTIO_COMMON_Q_NOFF) *
		     vp->notify_off_multiplier;
	if (notify_off + sizeof(uint16_t) > vp->notify.len)
		return nb_fail(EIO, "%s: queue %u doorbell at 0x%llx lies "
			       "outside the %u-byte notification structure "
			       "(virtio 1.2, 4.1.4.4)", vp->pci->name,
			       vq->index, (unsigned long long)notify_off,
			       vp->notify.len);
	*notify = (volatile uint16_t *)(vp->notify.va + notify_off);
	nb_reg_write16(common, VIRTIO_COMMON_Q_ENABLE, 1);
	return 0;
}

/* 4.1.3.1: fields are read with their natural width and alignment. */
static void read_config_once(const struct virtio_pci *vp, uint32_t off,
			     uint8_t *buf, uint32_t len)
{
	if (len == 4 && off % 4 == 0) {
		uint32_t v = nb_reg_read32(vp->device.va, off);

		memcpy(buf, &v, sizeof(v));
	} else if (len == 2 && off % 2 == 0) {
		uint16_t v = nb_reg_read16(vp->device.va, off);

		memcpy(buf, &v, sizeof(v));
	} else {
		for (uint32_t i = 0; i < len; i++)
			buf[i] = nb_reg_read8(vp->device.va, off + i);
	}
}

int vpci_read_config(struct virtio_pci *vp, uint32_t off, void *buf,
		     uint32_t len)
{
	if (off > vp->device.len || len > vp->device.len - off)
		return nb_fail(EIO, "%s: device configuration is %u bytes, "
			       "field at %u needs %u", vp->pci->name,
			       vp->device.len, off, len);
	for (unsigned try = 0; try < VPCI_CONFIG_RETRIES; try++) {
		uint8_t gen = nb_reg_read8(vp->common.va,
					   VIRTIO_COMMON_CFGGENERATION);

		read_config_once(vp, off, buf, len);
		if (nb_reg_read8(vp->common.va,
				 VIRTIO_COMMON_CFGGENERATION) == gen)
			return 0;
	}
	return nb_fail(EIO, "%s: device configuration kept changing "
		       "(config_generation, virtio 1.2, 2.5.1)", vp->pci->name);
}
