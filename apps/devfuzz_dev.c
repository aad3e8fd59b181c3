/* SPDX-License-Identifier: MIT */
/*
 * devfuzz_dev.c - nicbox-devfuzz's device backends: bring a NIC up with
 * only the fuzzed ring enabled, carry out a case's operations on it, ask
 * the device whether it reported an error, and stop its DMA.
 *
 * Unlike drivers/, this code does what the specifications forbid on
 * purpose (that is the point); every register it writes still names the
 * section that defines it. It runs only against the pools of its own
 * session: the IOMMU confines whatever the device does with the
 * descriptors.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "../drivers/intel/adv_ring.h"
#include "devfuzz.h"
#include "igb_regs.h"
#include "nb_mmio.h"
#include "nb_pci_ids.h"

#define QUEUE_WAIT_MS 100

/* 64-bit descriptor words: both formats are two little-endian qwords. */
static void write_desc(volatile uint8_t *ring, uint16_t slot, uint64_t q0,
		       uint64_t q1)
{
	volatile uint64_t *d = (volatile uint64_t *)(ring + 16u * slot);

	d[0] = q0;
	d[1] = q1;
}

/* ------------------------------------------------------------------------ */
/* virtio-net, split virtqueue (virtio 1.2, 2.7 and 4.1)                     */

/* The layout inside the ring area: 2.7 alignments (16, 2, 4). */
#define VQ_DESC_OFF 0u
#define VQ_AVAIL_OFF 1024u
#define VQ_USED_OFF 2048u

static volatile struct virtq_avail *vq_avail(struct df_target *t)
{
	return (volatile struct virtq_avail *)(t->ring + VQ_AVAIL_OFF);
}

/* 3.1.1 steps 1-8 with VERSION_1 and ACCESS_PLATFORM only (and
 * RING_PACKED for the packed backend), and only the fuzzed queue (5.1.2:
 * receiveq1 is 0, transmitq1 is 1) enabled. Packed (2.8.10, 4.1.4.3):
 * queue_desc is the descriptor ring, queue_driver the driver event
 * suppression structure, queue_device the device's. */
static int virtio_setup(struct df_target *t)
{
	struct virtio_pci *vp = &t->vp;
	uint16_t q = t->mode == DF_RX ? VIRTIO_NET_RXQ : VIRTIO_NET_TXQ;
	struct virtqueue vq = {
		.index = q, .size = DF_RING_SIZE,
		.desc_iova = t->ring_iova + VQ_DESC_OFF,
		.avail_iova = t->ring_iova + VQ_AVAIL_OFF,
		.used_iova = t->ring_iova + VQ_USED_OFF,
	};
	uint64_t features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			    VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
			    (t->packed ? VIRTIO_BIT(VIRTIO_F_RING_PACKED) : 0);

	if (vpci_map(vp, t->pci) < 0 || nb_pci_enable_dma(t->pci) < 0 ||
	    vpci_reset(vp) < 0)
		return -1;
	vpci_add_status(vp, VIRTIO_STATUS_ACKNOWLEDGE);
	vpci_add_status(vp, VIRTIO_STATUS_DRIVER);
	nb_reg_write16(vp->common.va, VIRTIO_COMMON_MSIX, VIRTIO_MSI_NO_VECTOR);
	if ((vpci_device_features(vp) & features) != features)
		return nb_fail(ENOTSUP, "%s: needs VERSION_1 and ACCESS_PLATFORM%s",
			       t->pci->name, t->packed ? " and RING_PACKED" : "");
	vpci_set_driver_features(vp, features);
	vpci_add_status(vp, VIRTIO_STATUS_FEATURES_OK);
	if (!(vpci_status(vp) & VIRTIO_STATUS_FEATURES_OK))
		return nb_fail(EIO, "%s: FEATURES_OK refused", t->pci->name);
	if (vpci_queue_max(vp, q) < DF_RING_SIZE)
		return nb_fail(ENOTSUP, "%s: queue %u holds fewer than %u entries",
			       t->pci->name, q, DF_RING_SIZE);
	if (vpci_queue_enable(vp, &vq, VIRTIO_MSI_NO_VECTOR, &t->doorbell) < 0)
		return -1;
	vpci_add_status(vp, VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

/*
 * 4.1.4.4: queue n's doorbell is at queue_notify_off(n) * multiplier; QEMU
 * sets queue_notify_off to n. A kick for another queue than the fuzzed one
 * goes to that address when it lies in the notification structure (a
 * queue not set up, or none at all), else to the fuzzed queue's doorbell
 * with the odd value.
 */
static void virtio_kick(struct df_target *t, uint16_t v)
{
	uint64_t off = (uint64_t)v * t->vp.notify_off_multiplier;
	uint16_t q = t->mode == DF_RX ? VIRTIO_NET_RXQ : VIRTIO_NET_TXQ;

	if (v != q && off + 2 <= t->vp.notify.len)
		nb_reg_write16(t->vp.notify.va, (uint32_t)off, v);
	else
		nb_reg_write16(t->doorbell, 0, v);
}

static void virtio_apply(struct df_target *t, const struct df_op *op,
			 uint64_t a, uint64_t b)
{
	volatile struct virtq_avail *avail = vq_avail(t);

	switch (op->kind) {
	case DF_OP_DESC: /* 2.7.5 */
		write_desc(t->ring + VQ_DESC_OFF, op->slot, a, b);
		break;
	case DF_OP_AVAIL: /* 2.7.6 */
		avail->ring[op->slot % DF_RING_SIZE] = (uint16_t)a;
		break;
	case DF_OP_PUBLISH: /* 2.7.13.2: ring entries before the index */
		nb_full_barrier();
		avail->idx = (uint16_t)a;
		nb_full_barrier();
		break;
	case DF_OP_FLAGS: /* 2.7.7; packed: 2.8.14, off_wrap then flags */
		if (t->packed)
			*(volatile uint32_t *)(t->ring + VQ_AVAIL_OFF) = (uint32_t)a;
		else
			avail->flags = (uint16_t)a;
		break;
	case DF_OP_KICK:
		virtio_kick(t, (uint16_t)a);
		break;
	case DF_OP_STATUS: /* 4.1.4.3 device_status */
		nb_reg_write8(t->vp.common.va, VIRTIO_COMMON_STATUS, (uint8_t)a);
		break;
	case DF_OP_RESET: /* 2.4, then the queue again on the same rings */
		(void)virtio_setup(t);
		break;
	}
}

/* 2.1: DEVICE_NEEDS_RESET; a vanished device reads as all ones. */
static bool virtio_device_error(struct df_target *t)
{
	return (vpci_status(&t->vp) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) != 0;
}

static int virtio_stop(struct df_target *t)
{
	int rc = vpci_reset(&t->vp); /* 2.4.1: reads back 0 when done */

	nb_pci_disable_dma(t->pci);
	return rc;
}

static int virtio_split_setup(struct df_target *t)
{
	t->packed = false;
	return virtio_setup(t);
}

/* The packed ring (2.8): DESC writes a whole descriptor (addr, then len |
 * id << 32 | flags << 48, AVAIL/USED as the case says), FLAGS the driver
 * event suppression structure; AVAIL and PUBLISH do not exist. */
static int virtio_packed_setup(struct df_target *t)
{
	t->packed = true;
	return virtio_setup(t);
}

const struct df_backend df_backend_virtio_split = {
	.name = "virtio-split",
	.setup = virtio_split_setup,
	.apply = virtio_apply,
	.device_error = virtio_device_error,
	.stop = virtio_stop,
};

const struct df_backend df_backend_virtio_packed = {
	.name = "virtio-packed",
	.setup = virtio_packed_setup,
	.apply = virtio_apply,
	.device_error = virtio_device_error,
	.stop = virtio_stop,
};

/* ------------------------------------------------------------------------ */
/* igb (82576 datasheet; queue 0 only)                                       */

static uint32_t rd(const struct df_target *t, uint32_t reg)
{
	return nb_reg_read32(t->regs, reg);
}

static void wr(struct df_target *t, uint32_t reg, uint32_t v)
{
	nb_reg_write32(t->regs, reg, v);
}

static int wait_bit(struct df_target *t, uint32_t reg, uint32_t bit, bool set,
		    const char *what)
{
	return adv_wait_reg(t->regs, "devfuzz", t->pci->name, reg, bit,
			    set ? bit : 0, QUEUE_WAIT_MS, what);
}

/* 8.10 / 8.12: queue off, ring registers, head and tail 0, queue on. */
static int igb_queue(struct df_target *t)
{
	bool rx = t->mode == DF_RX;
	uint32_t dctl = rx ? IGB_RXDCTL(0) : IGB_TXDCTL(0);

	wr(t, dctl, rd(t, dctl) & ~IGB_RXDCTL_ENABLE); /* same bit 25 in both */
	if (wait_bit(t, dctl, IGB_RXDCTL_ENABLE, false, "queue disable") < 0)
		return -1;
	wr(t, rx ? IGB_RDBAL(0) : IGB_TDBAL(0), (uint32_t)t->ring_iova);
	wr(t, rx ? IGB_RDBAH(0) : IGB_TDBAH(0), (uint32_t)(t->ring_iova >> 32));
	wr(t, rx ? IGB_RDLEN(0) : IGB_TDLEN(0), DF_RING_SIZE * 16u);
	if (rx)
		wr(t, IGB_SRRCTL(0), t->setup); /* 8.10 SRRCTL: the case's */
	wr(t, rx ? IGB_RDH(0) : IGB_TDH(0), 0);
	wr(t, rx ? IGB_RDT(0) : IGB_TDT(0), 0);
	t->last_tail = 0;
	wr(t, dctl, rx ? rd(t, dctl) | IGB_RXDCTL_ENABLE
		       : IGB_TXDCTL_PTHRESH(8) | IGB_TXDCTL_HTHRESH(1) |
				 IGB_TXDCTL_ENABLE);
	return wait_bit(t, dctl, IGB_RXDCTL_ENABLE, true, "queue enable");
}

/* The drivers' own open left the link up (CTRL.SLU, 8.2.1); the receiver
 * or transmitter of the fuzzed direction runs, the other is off. */
static int igb_setup(struct df_target *t)
{
	bool rx = t->mode == DF_RX;

	if (adv_map_bar0("devfuzz", t->pci, IGB_BAR0_MIN_LEN, &t->regs) < 0 ||
	    nb_pci_enable_dma(t->pci) < 0)
		return -1;
	memset(t->written_q1, 0, sizeof(t->written_q1)); /* the ring is zeroed */
	wr(t, IGB_IMC, IGB_INT_ALL);  /* 8.8: we poll */
	wr(t, IGB_EIMC, IGB_INT_ALL);
	wr(t, IGB_RCTL, rd(t, IGB_RCTL) & ~IGB_RCTL_EN); /* 8.10.1 */
	wr(t, IGB_TCTL, rd(t, IGB_TCTL) & ~IGB_TCTL_EN); /* 8.12.1 */
	if (igb_queue(t) < 0)
		return -1;
	if (rx)
		wr(t, IGB_RCTL, (rd(t, IGB_RCTL) & ~IGB_RCTL_LPE) | IGB_RCTL_EN |
					IGB_RCTL_UPE | IGB_RCTL_MPE | IGB_RCTL_BAM |
					IGB_RCTL_SECRC);
	else
		wr(t, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP | IGB_TCTL_CT(0x0F) |
					IGB_TCTL_COLD(0x3F) | IGB_TCTL_RTLC);
	return 0;
}

static void igb_apply(struct df_target *t, const struct df_op *op, uint64_t a,
		      uint64_t b)
{
	bool rx = t->mode == DF_RX;

	switch (op->kind) {
	case DF_OP_DESC: /* 7.1.5 / 7.2.2 */
		write_desc(t->ring, op->slot, a, b);
		t->written_q1[op->slot] = b;
		break;
	case DF_OP_PUBLISH: /* 8.10 RDT / 8.12 TDT */
		nb_full_barrier();
		t->last_tail = a;
		wr(t, rx ? IGB_RDT(0) : IGB_TDT(0), (uint32_t)a);
		break;
	case DF_OP_KICK: /* the tail is the doorbell: write it again */
		wr(t, rx ? IGB_RDT(0) : IGB_TDT(0), (uint32_t)t->last_tail);
		break;
	case DF_OP_HEAD: /* 8.10 RDH / 8.12 TDH: "must not" while enabled */
		wr(t, rx ? IGB_RDH(0) : IGB_TDH(0), (uint32_t)a);
		break;
	case DF_OP_RESET: /* the queue's reset mid-flight: off and on again */
		(void)igb_queue(t);
		break;
	}
}

/* 7.1.5: a receive write-back with DD and the RXE error bit. Only a slot
 * the device wrote counts: in the read format the same bits are the
 * header address we wrote. */
static bool igb_device_error(struct df_target *t)
{
	if (t->mode != DF_RX)
		return false;
	for (unsigned i = 0; i < DF_RING_SIZE; i++) {
		uint32_t st = nb_dma_read32(t->ring + 16u * i + 8);

		if (st != (uint32_t)t->written_q1[i] && (st & ADV_RXD_STAT_DD) &&
		    (st & IGB_RXD_ERR_RXE))
			return true;
	}
	return false;
}

static int igb_stop(struct df_target *t)
{
	int rc;

	wr(t, IGB_RCTL, rd(t, IGB_RCTL) & ~IGB_RCTL_EN); /* 8.10.1 */
	wr(t, IGB_TCTL, rd(t, IGB_TCTL) & ~IGB_TCTL_EN); /* 8.12.1 */
	wr(t, IGB_RXDCTL(0), rd(t, IGB_RXDCTL(0)) & ~IGB_RXDCTL_ENABLE);
	wr(t, IGB_TXDCTL(0), rd(t, IGB_TXDCTL(0)) & ~IGB_TXDCTL_ENABLE);
	rc = wait_bit(t, IGB_RXDCTL(0), IGB_RXDCTL_ENABLE, false, "rx queue stop");
	if (rc == 0)
		rc = wait_bit(t, IGB_TXDCTL(0), IGB_TXDCTL_ENABLE, false,
			      "tx queue stop");
	nb_pci_disable_dma(t->pci);
	return rc;
}

const struct df_backend df_backend_igb = {
	.name = "igb",
	.setup = igb_setup,
	.apply = igb_apply,
	.device_error = igb_device_error,
	.stop = igb_stop,
};

const struct df_backend *df_backend_for(struct nb_pci *pci, int want,
					unsigned *kind)
{
	const char *driver = nb_pci_driver_for(pci->vendor_id, pci->device_id);

	if (driver && strcmp(driver, "virtio-net") == 0) {
		struct virtio_pci vp;
		bool packed = false;

		/* Packed when the device offers it (4.1.4.3 device_feature),
		 * unless --kind asks for split. */
		if (want != DF_VIRTIO_SPLIT && vpci_map(&vp, pci) == 0)
			packed = (vpci_device_features(&vp) &
				  VIRTIO_BIT(VIRTIO_F_RING_PACKED)) != 0;
		if (want == DF_VIRTIO_PACKED && !packed)
			return NULL;
		*kind = packed ? DF_VIRTIO_PACKED : DF_VIRTIO_SPLIT;
		return packed ? &df_backend_virtio_packed : &df_backend_virtio_split;
	}
	if (want == DF_VIRTIO_SPLIT || want == DF_VIRTIO_PACKED)
		return NULL;
	if (driver && strcmp(driver, "igb") == 0) {
		*kind = DF_IGB;
		return &df_backend_igb;
	}
	return NULL;
}
