/* SPDX-License-Identifier: MIT */
/*
 * virtio_net.c - virtio-net 1.x poll-mode driver (virtio 1.2, 5.1) over the
 * modern PCI transport, one receive and one transmit queue plus the
 * control queue. Reads top-down: open (3.1 Device Initialization), the
 * fast path, the control queue, link and MAC, close.
 *
 * The device is untrusted. The ring checks live in virtqueue.c; this file
 * adds the DEVICE_NEEDS_RESET check and turns every fault into a stopped
 * queue, a count in stats.dev_faults and a message for nb_dev_fault().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nb_mmio.h"
#include "nb_pci_ids.h"
#include "virtio_pci.h"
#include "virtio_rxtx.h"

#define VNET_DEFAULT_RING 256
#define VNET_CTRL_RING 16
#define VNET_DEFAULT_LINK_WAIT_MS 1000
#define VNET_CTRL_WAIT_MS 1000
/* Empty receive polls between two device_status reads (an MMIO exit). */
#define VNET_STATUS_POLL_INTERVAL 1024

/* Must have: 6.1 VERSION_1 (this is a 1.x driver) and ACCESS_PLATFORM. */
#define VNET_REQUIRED_FEATURES \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM))
/* Taken when offered; docs/virtio.md says why each, and why not others. */
#define VNET_WANTED_FEATURES                                               \
	(VNET_REQUIRED_FEATURES | VIRTIO_BIT(VIRTIO_NET_F_MAC) |           \
	 VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) | \
	 VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |                                \
	 VIRTIO_BIT(VIRTIO_NET_F_SPEED_DUPLEX) |                           \
	 VIRTIO_BIT(VIRTIO_F_ORDER_PLATFORM) |                             \
	 VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_RING_PACKED))

/* 5.1.6.5: struct virtio_net_ctrl, read-only part then the ack byte. */
#define VNET_CTRL_CMD_LEN 3  /* class, command, one data byte */
#define VNET_CTRL_ACK_OFF 32 /* own cache line half, own descriptor */
#define VNET_CTRL_BUF_LEN 64

struct virtio_net {
	struct nb_dev dev; /* first: struct nb_dev * converts to this */
	struct virtio_pci vp;
	uint64_t features;
	struct vnet_rxq rxq;
	struct vnet_txq txq;
	struct virtqueue ctrlq;
	bool have_ctrlq;
	volatile uint16_t *doorbell[VIRTIO_NET_CTRLQ + 1]; /* by queue index */
	uint8_t *ctrl_buf; /* in the DMA pool */
	uint64_t ctrl_iova;
	unsigned empty_polls;
	bool needs_reset_seen;
	struct nb_stats stats;
};

static struct virtio_net *to_vnet(struct nb_dev *dev)
{
	return NB_CONTAINER_OF(dev, struct virtio_net, dev);
}

static bool has_feature(const struct virtio_net *vn, unsigned bit)
{
	return (vn->features & VIRTIO_BIT(bit)) != 0;
}

/* ------------------------------------------------------------------------ */
/* Faults and notifications                                                  */

static void report_fault(struct virtio_net *vn, const char *why)
{
	vn->stats.dev_faults++;
	nb_dev_set_fault(&vn->dev, "%s: %s", vn->dev.pci->name, why);
}

static void vq_fault(struct virtqueue *vq, const char *why)
{
	report_fault(vq->ctx, why);
}

/* 4.1.5.2 Available Buffer Notifications: write the queue's index. */
static void vq_kick(struct virtqueue *vq)
{
	struct virtio_net *vn = vq->ctx;

	nb_reg_write16(vn->doorbell[vq->index], 0, vq->index);
}

/*
 * 2.1: DEVICE_NEEDS_RESET means the device gave up on us; every queue
 * stops. A vanished device reads as all ones and lands here too.
 */
static void check_device_status(struct virtio_net *vn)
{
	uint8_t status = vpci_status(&vn->vp);

	if (!(status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) || vn->needs_reset_seen)
		return;
	vn->needs_reset_seen = true;
	vn->rxq.vq.broken = true;
	vn->txq.vq.broken = true;
	vn->ctrlq.broken = true;
	report_fault(vn, "device status has DEVICE_NEEDS_RESET (virtio 1.2, "
		     "2.1): queues stopped");
}

/* ------------------------------------------------------------------------ */
/* Fast path                                                                 */

static uint16_t vnet_rx_batch(struct nb_dev *dev, uint16_t queue,
			      struct nb_pkt **pkts, uint16_t n)
{
	struct virtio_net *vn = to_vnet(dev);
	uint16_t got;

	if (NB_UNLIKELY(queue != 0))
		return 0;
	got = vnet_rx_burst(&vn->rxq, pkts, n);
	if (got == 0 && ++vn->empty_polls >= VNET_STATUS_POLL_INTERVAL) {
		vn->empty_polls = 0;
		check_device_status(vn);
	}
	return got;
}

static uint16_t vnet_tx_batch(struct nb_dev *dev, uint16_t queue,
			      struct nb_pkt **pkts, uint16_t n)
{
	struct virtio_net *vn = to_vnet(dev);

	if (NB_UNLIKELY(queue != 0))
		return 0;
	return vnet_tx_burst(&vn->txq, pkts, n);
}

static int vnet_read_stats(struct nb_dev *dev, struct nb_stats *out)
{
	struct virtio_net *vn = to_vnet(dev);

	check_device_status(vn);
	*out = vn->stats;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Control queue (5.1.6.5)                                                   */

static int wait_ctrl_ack(struct virtio_net *vn)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 };
	void *token;
	uint32_t len;

	for (unsigned i = 0; i < VNET_CTRL_WAIT_MS * 10; i++) {
		/* The device writes exactly the one ack byte. */
		if (vq_reap(&vn->ctrlq, &token, &len, 1, 1) == 1)
			return 0;
		if (vn->ctrlq.broken)
			return nb_fail(EIO, "%s: control queue: %s",
				       vn->dev.pci->name, vn->dev.fault);
		nanosleep(&tick, NULL);
	}
	return nb_fail(ETIMEDOUT, "%s: no answer on the control queue after "
		       "%u ms", vn->dev.pci->name, VNET_CTRL_WAIT_MS);
}

static int ctrl_command(struct virtio_net *vn, uint8_t class, uint8_t command,
			uint8_t data)
{
	const struct vq_seg segs[2] = {
		{ .iova = vn->ctrl_iova, .len = VNET_CTRL_CMD_LEN },
		{ .iova = vn->ctrl_iova + VNET_CTRL_ACK_OFF, .len = 1,
		  .device_writes = true },
	};
	uint8_t ack;

	if (vn->ctrlq.broken)
		return nb_fail(EIO, "%s: control queue stopped: %s",
			       vn->dev.pci->name, vn->dev.fault);
	/* A command that timed out earlier still owns the buffer. */
	if (vn->ctrlq.in_flight != 0)
		return nb_fail(EBUSY, "%s: an earlier control command is still "
			       "pending", vn->dev.pci->name);
	vn->ctrl_buf[0] = class;
	vn->ctrl_buf[1] = command;
	vn->ctrl_buf[2] = data;
	vn->ctrl_buf[VNET_CTRL_ACK_OFF] = (uint8_t)~VIRTIO_NET_OK;
	if (vq_post_chain(&vn->ctrlq, vn->ctrl_buf, segs, 2) < 0)
		return -1;
	vq_publish(&vn->ctrlq);
	if (wait_ctrl_ack(vn) < 0)
		return -1;
	ack = nb_reg_read8(vn->ctrl_buf, VNET_CTRL_ACK_OFF); /* read once */
	if (ack != VIRTIO_NET_OK)
		return nb_fail(EIO, "%s: device refused control command "
			       "class %u command %u (ack %u)",
			       vn->dev.pci->name, class, command, ack);
	return 0;
}

static int vnet_set_promisc(struct nb_dev *dev, bool on)
{
	struct virtio_net *vn = to_vnet(dev);

	if (!has_feature(vn, VIRTIO_NET_F_CTRL_RX))
		return nb_fail(ENOTSUP, "%s: device does not offer "
			       "VIRTIO_NET_F_CTRL_RX: cannot switch "
			       "promiscuous mode", vn->dev.pci->name);
	/* 5.1.6.5.1 Packet Receive Filtering: VIRTIO_NET_CTRL_RX_PROMISC. */
	return ctrl_command(vn, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
			    on ? 1 : 0);
}

/* ------------------------------------------------------------------------ */
/* Link and MAC (5.1.4)                                                      */

static int vnet_link(struct nb_dev *dev, struct nb_link *out)
{
	struct virtio_net *vn = to_vnet(dev);
	uint16_t status;
	uint32_t speed = VIRTIO_NET_SPEED_UNKNOWN;

	check_device_status(vn);
	*out = (struct nb_link){ .up = true };
	/* 5.1.4.2: without VIRTIO_NET_F_STATUS the link counts as up. */
	if (has_feature(vn, VIRTIO_NET_F_STATUS)) {
		if (vpci_read_config(&vn->vp, VIRTIO_NET_CFG_STATUS, &status,
				     sizeof(status)) < 0)
			return -1;
		out->up = (status & VIRTIO_NET_S_LINK_UP) != 0;
	}
	if (has_feature(vn, VIRTIO_NET_F_SPEED_DUPLEX) &&
	    vpci_read_config(&vn->vp, VIRTIO_NET_CFG_SPEED, &speed,
			     sizeof(speed)) < 0)
		return -1;
	out->speed_mbps = speed == VIRTIO_NET_SPEED_UNKNOWN ? 0 : speed;
	return 0;
}

static int vnet_mac(struct nb_dev *dev, uint8_t mac[6])
{
	struct virtio_net *vn = to_vnet(dev);

	if (!has_feature(vn, VIRTIO_NET_F_MAC))
		return nb_fail(ENOTSUP, "%s: device offers no MAC address "
			       "(VIRTIO_NET_F_MAC)", vn->dev.pci->name);
	return vpci_read_config(&vn->vp, VIRTIO_NET_CFG_MAC, mac, 6);
}

/* ------------------------------------------------------------------------ */
/* Open (3.1 Device Initialization) and close                                */

/* Reset first so the device stops using the rings, then free buffers. */
static void vnet_teardown(struct virtio_net *vn)
{
	if (vn->vp.common.va)
		vpci_reset(&vn->vp); /* on failure Bus Master off still holds */
	nb_pci_disable_dma(vn->dev.pci);
	vq_fini(&vn->rxq.vq, vnet_release_pkt, NULL);
	vq_fini(&vn->txq.vq, vnet_release_pkt, NULL);
	vq_fini(&vn->ctrlq, NULL, NULL); /* its token is ctrl_buf, not a pkt */
	free(vn);
}

/*
 * The ring switches, for comparisons (bench/, docs/virtio.md):
 * NICBOX_VIRTIO_RING=split keeps a device that offers packed rings on
 * split ones (unset or "auto": packed when offered).
 * NICBOX_VIRTIO_EVENT_IDX=on takes VIRTIO_F_EVENT_IDX when offered; unset
 * or "off" declines it: with it on, check 40 saw QEMU 10 reorder 108 of
 * 10,000 frames on split rings where it reordered none without, in the
 * same boot (cause open, docs/virtio.md).
 */
static int ring_switches(const struct virtio_net *vn, uint64_t *declined)
{
	const char *ring = getenv("NICBOX_VIRTIO_RING");
	const char *event = getenv("NICBOX_VIRTIO_EVENT_IDX");

	*declined = 0;
	if (ring && strcmp(ring, "split") == 0)
		*declined |= VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	else if (ring && *ring && strcmp(ring, "auto") != 0)
		return nb_fail(EINVAL, "%s: NICBOX_VIRTIO_RING=%s: want "
			       "\"split\" or \"auto\"", vn->dev.pci->name, ring);
	if (!event || !*event || strcmp(event, "off") == 0)
		*declined |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	else if (strcmp(event, "on") != 0)
		return nb_fail(EINVAL, "%s: NICBOX_VIRTIO_EVENT_IDX=%s: want "
			       "\"off\" or \"on\"", vn->dev.pci->name, event);
	return 0;
}

/* 3.1.1 steps 4-6: negotiate, then confirm with FEATURES_OK. */
static int negotiate_features(struct virtio_net *vn)
{
	uint64_t offered = vpci_device_features(&vn->vp);
	uint64_t missing = VNET_REQUIRED_FEATURES & ~offered;
	uint64_t declined;

	if (missing & VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM))
		return nb_fail(ENOTSUP, "%s: virtio device does not offer "
			       "VIRTIO_F_ACCESS_PLATFORM: its DMA would bypass "
			       "the IOMMU, refusing it (QEMU: "
			       "iommu_platform=on)", vn->dev.pci->name);
	if (missing)
		return nb_fail(ENOTSUP, "%s: virtio device does not offer "
			       "VIRTIO_F_VERSION_1: legacy devices are not "
			       "supported (QEMU: disable-legacy=on)",
			       vn->dev.pci->name);
	if (ring_switches(vn, &declined) < 0)
		return -1;
	vn->features = offered & VNET_WANTED_FEATURES & ~declined;
	/* 5.1.3.1: CTRL_RX depends on CTRL_VQ. */
	if (!has_feature(vn, VIRTIO_NET_F_CTRL_VQ))
		vn->features &= ~VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX);
	vpci_set_driver_features(&vn->vp, vn->features);
	vpci_add_status(&vn->vp, VIRTIO_STATUS_FEATURES_OK);
	/* 3.1.1 step 6: the device may refuse our subset. */
	if (!(vpci_status(&vn->vp) & VIRTIO_STATUS_FEATURES_OK))
		return nb_fail(ENOTSUP, "%s: virtio device did not accept "
			       "features 0x%llx (FEATURES_OK cleared)",
			       vn->dev.pci->name,
			       (unsigned long long)vn->features);
	return 0;
}

/* Ring size: the caller's choice (or ours), at most the device's. */
static int pick_ring_size(struct virtio_net *vn, uint16_t index,
			  uint16_t wanted, uint16_t *size)
{
	uint16_t max = vpci_queue_max(&vn->vp, index);

	if (max == 0)
		return nb_fail(ENODEV, "%s: virtio queue %u does not exist",
			       vn->dev.pci->name, index);
	if (wanted == 0)
		wanted = VNET_DEFAULT_RING;
	if (!NB_IS_POW2(wanted))
		return nb_fail(EINVAL, "%s: ring size %u is not a power of two",
			       vn->dev.pci->name, wanted);
	/* A device maximum that is not a power of two rounds down. */
	while (wanted > max)
		wanted /= 2;
	if (wanted == 0)
		return nb_fail(EIO, "%s: virtio queue %u offers %u entries",
			       vn->dev.pci->name, index, max);
	*size = wanted;
	return 0;
}

static int setup_queue(struct virtio_net *vn, struct nb_pool *dma,
		       struct virtqueue *vq, uint16_t index, uint16_t wanted)
{
	uint16_t size = 0;
	unsigned flags = (has_feature(vn, VIRTIO_F_RING_PACKED) ? VQ_PACKED : 0) |
			 (has_feature(vn, VIRTIO_F_EVENT_IDX) ? VQ_EVENT_IDX : 0);

	if (pick_ring_size(vn, index, wanted, &size) < 0 ||
	    vq_init(vq, dma, index, size, flags, vq_kick, vq_fault, vn) < 0 ||
	    vpci_queue_enable(&vn->vp, vq, &vn->doorbell[index]) < 0)
		return -1;
	return 0;
}

static int setup_queues(struct virtio_net *vn, struct nb_pool *dma,
			const struct nb_dev_conf *conf)
{
	void *ctrl_va;

	vn->rxq.mp = conf->rx_mempool;
	vn->rxq.buf_size = nb_mempool_buf_size(conf->rx_mempool);
	vn->rxq.stats = &vn->stats;
	vn->txq.stats = &vn->stats;
	if (setup_queue(vn, dma, &vn->rxq.vq, VIRTIO_NET_RXQ,
			conf->rx_ring_size) < 0 ||
	    setup_queue(vn, dma, &vn->txq.vq, VIRTIO_NET_TXQ,
			conf->tx_ring_size) < 0)
		return -1;
	if (!has_feature(vn, VIRTIO_NET_F_CTRL_VQ))
		return 0;
	if (setup_queue(vn, dma, &vn->ctrlq, VIRTIO_NET_CTRLQ,
			VNET_CTRL_RING) < 0 ||
	    nb_pool_carve(dma, VNET_CTRL_BUF_LEN, 64, &ctrl_va,
			  &vn->ctrl_iova) < 0)
		return -1;
	vn->ctrl_buf = ctrl_va;
	vn->have_ctrlq = true;
	return 0;
}

static void wait_for_link(struct virtio_net *vn, uint32_t wait_ms)
{
	const struct timespec tick = { .tv_nsec = 1000 * 1000 };
	struct nb_link link;

	for (uint32_t ms = 0; ms < wait_ms; ms++) {
		if (vnet_link(&vn->dev, &link) < 0 || link.up)
			return;
		nanosleep(&tick, NULL);
	}
}

static void vnet_close(struct nb_dev *dev)
{
	vnet_teardown(to_vnet(dev));
}

static const struct nb_dev_ops vnet_ops = {
	.driver = "virtio-net",
	.rx_batch = vnet_rx_batch,
	.tx_batch = vnet_tx_batch,
	.read_stats = vnet_read_stats,
	.link = vnet_link,
	.mac = vnet_mac,
	.set_promisc = vnet_set_promisc,
	.close = vnet_close,
};

static int check_conf(const struct nb_pci *pci, const struct nb_dev_conf *conf)
{
	if (conf->rx_queues > 1 || conf->tx_queues > 1)
		return nb_fail(ENOTSUP, "%s: the virtio-net driver runs one "
			       "receive and one transmit queue (no "
			       "VIRTIO_NET_F_MQ)", pci->name);
	return vnet_rxq_check_mempool(conf->rx_mempool);
}

/* 3.1.1 Driver Requirements: Device Initialization, steps 1-8. */
static int bring_up(struct virtio_net *vn, struct nb_pool *dma,
		    const struct nb_dev_conf *conf)
{
	if (vpci_map(&vn->vp, vn->dev.pci) < 0 ||
	    nb_pci_enable_dma(vn->dev.pci) < 0 || vpci_reset(&vn->vp) < 0)
		return -1;
	vpci_add_status(&vn->vp, VIRTIO_STATUS_ACKNOWLEDGE);
	vpci_add_status(&vn->vp, VIRTIO_STATUS_DRIVER);
	/* We poll; no config-change MSI-X vector either (4.1.4.3). */
	nb_reg_write16(vn->vp.common.va, VIRTIO_COMMON_MSIX,
		       VIRTIO_MSI_NO_VECTOR);
	if (negotiate_features(vn) < 0 || setup_queues(vn, dma, conf) < 0) {
		vpci_add_status(&vn->vp, VIRTIO_STATUS_FAILED);
		return -1;
	}
	vpci_add_status(&vn->vp, VIRTIO_STATUS_DRIVER_OK);
	/* 3.1.1 step 8 done: notifying is allowed only from here on. */
	vnet_rxq_refill(&vn->rxq);
	if (vn->have_ctrlq && has_feature(vn, VIRTIO_NET_F_CTRL_RX)) {
		if (vnet_set_promisc(&vn->dev, conf->promisc) < 0)
			return -1;
	} else if (conf->promisc) {
		return vnet_set_promisc(&vn->dev, true); /* says why not */
	}
	wait_for_link(vn, conf->link_wait_ms ? conf->link_wait_ms
					      : VNET_DEFAULT_LINK_WAIT_MS);
	return 0;
}

static int vnet_open(struct nb_pci *pci, struct nb_pool *dma,
		     const struct nb_dev_conf *conf, struct nb_dev **out)
{
	struct virtio_net *vn;

	if (check_conf(pci, conf) < 0)
		return -1;
	vn = calloc(1, sizeof(*vn));
	if (vn == NULL)
		return nb_fail(ENOMEM, "%s: out of memory", pci->name);
	vn->dev.head.ops = &vnet_ops;
	vn->dev.pci = pci;
	if (bring_up(vn, dma, conf) < 0) {
		int err = errno;

		vnet_teardown(vn);
		errno = err;
		return -1;
	}
	*out = &vn->dev;
	return 0;
}

/* core/nb_pci_ids.h: the table the helper also checks. */
static bool vnet_match(uint16_t vendor_id, uint16_t device_id)
{
	const char *driver = nb_pci_driver_for(vendor_id, device_id);

	return driver != NULL && strcmp(driver, "virtio-net") == 0;
}

const struct nb_driver nb_driver_virtio = {
	.name = "virtio-net",
	.match = vnet_match,
	.open = vnet_open,
};
