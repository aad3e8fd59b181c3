/* SPDX-License-Identifier: MIT */
/*
 * virtio_net.c - virtio-net 1.x poll-mode driver (virtio 1.2, 5.1) over the
 * modern PCI transport: up to NB_MAX_QUEUES receive and transmit queues
 * (VIRTIO_NET_F_MQ, VIRTIO_NET_F_RSS) plus the control queue. Reads
 * top-down: the fast path, the control queue (virtio_ctrl.c encodes and
 * sends), link and MAC, open (3.1 Device Initialization), close.
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
#include "virtio_ctrl.h"
#include "virtio_pci.h"
#include "virtio_rxtx.h"

#define VNET_DEFAULT_RING 256
#define VNET_CTRL_RING 16
#define VNET_DEFAULT_LINK_WAIT_MS 1000
#define VNET_CACHE_LINE 64
/*
 * Empty receive polls between two device_status reads: a few ms of
 * polling natively, where each read is a PCIe round trip that stalls the
 * core. Under QEMU's TCG each read also takes QEMU's big lock: at 1024,
 * nicbox-fwd's vCPU waited for that lock about 370 times a second at
 * 1000 frames/s (docs/performance.md).
 */
#define VNET_STATUS_POLL_INTERVAL (1u << 16)

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
/*
 * Taken when offered and more than one queue pair is asked for (a
 * one-queue open negotiates what it always did). MQ and RSS need CTRL_VQ,
 * HASH_REPORT too (5.1.3.1, 5.1.6.4.3).
 */
#define VNET_MQ_FEATURES                                                   \
	(VIRTIO_BIT(VIRTIO_NET_F_MQ) | VIRTIO_BIT(VIRTIO_NET_F_RSS) |       \
	 VIRTIO_BIT(VIRTIO_NET_F_HASH_REPORT))

/* The NB_RSS_* hash types are virtio's VIRTIO_NET_HASH_TYPE_* bits. */
_Static_assert(NB_RSS_IPV4 == VIRTIO_NET_HASH_TYPE_IPv4 &&
		       NB_RSS_TCP_IPV4 == VIRTIO_NET_HASH_TYPE_TCPv4 &&
		       NB_RSS_UDP_IPV4 == VIRTIO_NET_HASH_TYPE_UDPv4 &&
		       NB_RSS_IPV6 == VIRTIO_NET_HASH_TYPE_IPv6 &&
		       NB_RSS_TCP_IPV6 == VIRTIO_NET_HASH_TYPE_TCPv6 &&
		       NB_RSS_UDP_IPV6 == VIRTIO_NET_HASH_TYPE_UDPv6,
	       "5.1.6.4.3.1 hash types");

/*
 * One queue and what only its thread touches, on cache lines of its own
 * (include/nicbox.h: nothing mutable is shared between queues).
 */
struct vnet_rx {
	_Alignas(VNET_CACHE_LINE) struct vnet_rxq q;
	struct nb_stats stats;
	unsigned empty_polls;
};

struct vnet_tx {
	_Alignas(VNET_CACHE_LINE) struct vnet_txq q;
	struct nb_stats stats;
};

struct virtio_net {
	struct nb_dev dev; /* first: struct nb_dev * converts to this */
	struct virtio_pci vp;
	uint64_t features;
	uint16_t n_rx, n_tx; /* queues in use */
	uint16_t max_pairs;  /* the device's max_virtqueue_pairs (1 w/o MQ) */
	struct vnet_rx rx[NB_MAX_QUEUES];
	struct vnet_tx tx[NB_MAX_QUEUES];
	struct vnet_ctrl ctrl;
	bool have_ctrlq;
	/* By queue slot: receiveqN 2(N-1), transmitqN 2(N-1)+1, then ctrl. */
	volatile uint16_t *doorbell[2 * NB_MAX_QUEUES + 1];
	/* Written from any queue's thread, on a fault only: atomics. */
	bool needs_reset_seen;
	uint64_t dev_faults;
};
#define VNET_CTRL_SLOT (2 * NB_MAX_QUEUES)

static struct virtio_net *to_vnet(struct nb_dev *dev)
{
	return NB_CONTAINER_OF(dev, struct virtio_net, dev);
}

static bool has_feature(const struct virtio_net *vn, unsigned bit)
{
	return (vn->features & VIRTIO_BIT(bit)) != 0;
}

/* Queue pairs the device must run: the larger of the two counts. */
static uint16_t pairs_asked(const struct virtio_net *vn)
{
	return vn->n_rx > vn->n_tx ? vn->n_rx : vn->n_tx;
}

/* ------------------------------------------------------------------------ */
/* Faults and notifications                                                  */

static void report_fault(struct virtio_net *vn, const char *why)
{
	__atomic_add_fetch(&vn->dev_faults, 1, __ATOMIC_RELAXED);
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
	unsigned slot = vq == &vn->ctrl.vq ? VNET_CTRL_SLOT : vq->index;

	nb_reg_write16(vn->doorbell[slot], 0, vq->index);
}

/*
 * 2.1: DEVICE_NEEDS_RESET means the device gave up on us; every queue
 * stops. A vanished device reads as all ones and lands here too.
 */
static void check_device_status(struct virtio_net *vn)
{
	uint8_t status = vpci_status(&vn->vp);

	if (!(status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) ||
	    __atomic_exchange_n(&vn->needs_reset_seen, true, __ATOMIC_RELAXED))
		return;
	/* Each queue's thread sees its flag at its next call. */
	for (uint16_t q = 0; q < vn->n_rx; q++)
		__atomic_store_n(&vn->rx[q].q.vq.broken, true, __ATOMIC_RELAXED);
	for (uint16_t q = 0; q < vn->n_tx; q++)
		__atomic_store_n(&vn->tx[q].q.vq.broken, true, __ATOMIC_RELAXED);
	vn->ctrl.vq.broken = true;
	report_fault(vn, "device status has DEVICE_NEEDS_RESET (virtio 1.2, "
		     "2.1): queues stopped");
}

/* ------------------------------------------------------------------------ */
/* Fast path                                                                 */

static uint16_t vnet_rx_batch(struct nb_dev *dev, uint16_t queue,
			      struct nb_pkt **pkts, uint16_t n)
{
	struct virtio_net *vn = to_vnet(dev);
	struct vnet_rx *rx;
	uint16_t got;

	if (NB_UNLIKELY(queue >= vn->n_rx))
		return 0;
	rx = &vn->rx[queue];
	got = vnet_rx_burst(&rx->q, pkts, n);
	if (got == 0 && ++rx->empty_polls >= VNET_STATUS_POLL_INTERVAL) {
		rx->empty_polls = 0;
		check_device_status(vn);
	}
	return got;
}

static uint16_t vnet_tx_batch(struct nb_dev *dev, uint16_t queue,
			      struct nb_pkt **pkts, uint16_t n)
{
	struct virtio_net *vn = to_vnet(dev);

	if (NB_UNLIKELY(queue >= vn->n_tx))
		return 0;
	return vnet_tx_burst(&vn->tx[queue].q, pkts, n);
}

/* ------------------------------------------------------------------------ */
/* Interrupts (nb_rx_wait): receive queue q raises MSI-X vector q            */

static bool vnet_irq_arm(struct nb_dev *dev, uint16_t queue)
{
	/* core/irq.c checked queue < the queues it was set up with */
	return vq_used_notify(&to_vnet(dev)->rx[queue].q.vq, true);
}

static void vnet_irq_disarm(struct nb_dev *dev, uint16_t queue)
{
	vq_used_notify(&to_vnet(dev)->rx[queue].q.vq, false);
}

static const struct nb_irq_ops vnet_irq_ops = {
	.arm = vnet_irq_arm,
	.disarm = vnet_irq_disarm,
};

/* The queues' own counters, summed (read while their threads run). */
static int vnet_read_stats(struct nb_dev *dev, struct nb_stats *out)
{
	struct virtio_net *vn = to_vnet(dev);

	check_device_status(vn);
	*out = (struct nb_stats){
		.dev_faults = __atomic_load_n(&vn->dev_faults, __ATOMIC_RELAXED),
	};
	for (uint16_t q = 0; q < vn->n_rx; q++) {
		const struct nb_stats *s = &vn->rx[q].stats;

		out->rx_packets += s->rx_packets;
		out->rx_bytes += s->rx_bytes;
		out->rx_errors += s->rx_errors;
	}
	for (uint16_t q = 0; q < vn->n_tx; q++) {
		const struct nb_stats *s = &vn->tx[q].stats;

		out->tx_packets += s->tx_packets;
		out->tx_bytes += s->tx_bytes;
		out->tx_errors += s->tx_errors;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Control queue (5.1.6.5)                                                   */

static int ctrl_command(struct virtio_net *vn, uint8_t class, uint8_t command,
			const void *data, uint16_t len)
{
	if (vn->ctrl.vq.broken)
		return nb_fail(EIO, "%s: control queue stopped: %s",
			       vn->dev.pci->name, vn->dev.fault);
	return vnet_ctrl_cmd(&vn->ctrl, class, command, data, len);
}

static int vnet_set_promisc(struct nb_dev *dev, bool on)
{
	struct virtio_net *vn = to_vnet(dev);

	if (!has_feature(vn, VIRTIO_NET_F_CTRL_RX))
		return nb_fail(ENOTSUP, "%s: device does not offer "
			       "VIRTIO_NET_F_CTRL_RX: cannot switch "
			       "promiscuous mode", vn->dev.pci->name);
	/* 5.1.6.5.1 Packet Receive Filtering: VIRTIO_NET_CTRL_RX_PROMISC. */
	uint8_t data = on ? 1 : 0;

	return ctrl_command(vn, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
			    &data, 1);
}

/*
 * 5.1.6.5.7 Receive-side scaling: the key and hash types the caller chose,
 * the redirection table nb_rss_queue() describes (entry i: queue i % n),
 * frames of no enabled type to queue 0 (as nb_dev_conf says).
 */
static void rss_params(const struct virtio_net *vn,
		       const struct nb_dev_conf *conf, struct vnet_rss *rss)
{
	*rss = (struct vnet_rss){
		.hash_types = conf->rss_types ? conf->rss_types
					      : NB_RSS_DEFAULT_TYPES,
		.table_len = NB_RSS_RETA_SIZE,
		.unclassified = 0,
		/* The pairs set up: a device may size its active pairs by it. */
		.max_tx_vq = pairs_asked(vn),
		.key_len = NB_RSS_KEY_LEN,
	};
	for (uint16_t i = 0; i < NB_RSS_RETA_SIZE; i++)
		rss->table[i] = i % vn->n_rx;
	memcpy(rss->key, conf->rss_key ? conf->rss_key : nb_rss_default_key(),
	       NB_RSS_KEY_LEN);
}

/*
 * Put the device's queues to work (5.1.6.5.5: the last MQ command sent
 * decides). With RSS: VIRTIO_NET_CTRL_MQ_RSS_CONFIG (5.1.6.5.7.1), which
 * also enables hash reports. Without: VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET
 * (5.1.6.5.6; the device steers by its own rule), then, with
 * HASH_REPORT, VIRTIO_NET_CTRL_MQ_HASH_CONFIG (5.1.6.5.6.4) for the hashes.
 */
static int start_queues(struct virtio_net *vn, const struct nb_dev_conf *conf)
{
	uint8_t cmd[VNET_CTRL_MAX_DATA];
	struct vnet_rss rss;
	uint16_t pairs = pairs_asked(vn);

	if (!has_feature(vn, VIRTIO_NET_F_MQ) &&
	    !has_feature(vn, VIRTIO_NET_F_RSS))
		return 0;
	rss_params(vn, conf, &rss);
	if (has_feature(vn, VIRTIO_NET_F_RSS))
		return ctrl_command(vn, VIRTIO_NET_CTRL_MQ,
				    VIRTIO_NET_CTRL_MQ_RSS_CONFIG, cmd,
				    vnet_rss_encode(&rss, cmd));
	/* 5.1.6.5.6: little-endian virtqueue_pairs, 1 .. max. */
	cmd[0] = (uint8_t)pairs;
	cmd[1] = (uint8_t)(pairs >> 8);
	if (ctrl_command(vn, VIRTIO_NET_CTRL_MQ,
			 VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, cmd, 2) < 0)
		return -1;
	if (!has_feature(vn, VIRTIO_NET_F_HASH_REPORT))
		return 0;
	return ctrl_command(vn, VIRTIO_NET_CTRL_MQ,
			    VIRTIO_NET_CTRL_MQ_HASH_CONFIG, cmd,
			    vnet_hash_config_encode(&rss, cmd));
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
	nb_dev_irq_teardown(&vn->dev);
	if (vn->vp.common.va)
		vpci_reset(&vn->vp); /* on failure Bus Master off still holds */
	nb_pci_disable_dma(vn->dev.pci);
	for (uint16_t q = 0; q < NB_MAX_QUEUES; q++) {
		vq_fini(&vn->rx[q].q.vq, vnet_release_pkt, NULL);
		vq_fini(&vn->tx[q].q.vq, vnet_release_pkt, NULL);
	}
	vq_fini(&vn->ctrl.vq, NULL, NULL); /* its token is the ctrl buffer */
	free(vn);
}

/*
 * The ring switches, for comparisons (bench/, docs/virtio.md):
 * NICBOX_VIRTIO_RING=split keeps a device that offers packed rings on
 * split ones (unset or "auto": packed when offered).
 * NICBOX_VIRTIO_EVENT_IDX=off declines VIRTIO_F_EVENT_IDX (unset or "on":
 * taken when offered). It was opt-in for a while: check 40 once saw frames
 * reordered with it on; that is QEMU's hub flushing a receiver that ran out
 * of buffers, with or without EVENT_IDX (docs/virtio.md, check 36).
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
	if (event && strcmp(event, "off") == 0)
		*declined |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	else if (event && *event && strcmp(event, "on") != 0)
		return nb_fail(EINVAL, "%s: NICBOX_VIRTIO_EVENT_IDX=%s: want "
			       "\"off\" or \"on\"", vn->dev.pci->name, event);
	return 0;
}

/* 3.1.1 steps 4-6: negotiate, then confirm with FEATURES_OK. */
static int negotiate_features(struct virtio_net *vn)
{
	uint64_t offered = vpci_device_features(&vn->vp);
	uint64_t missing = VNET_REQUIRED_FEATURES & ~offered;
	uint64_t wanted = VNET_WANTED_FEATURES;
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
	if (pairs_asked(vn) > 1)
		wanted |= VNET_MQ_FEATURES;
	vn->features = offered & wanted & ~declined;
	/* 5.1.3.1: CTRL_RX, MQ, RSS, HASH_REPORT depend on CTRL_VQ. */
	if (!has_feature(vn, VIRTIO_NET_F_CTRL_VQ))
		vn->features &= ~(VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
				  VNET_MQ_FEATURES);
	if (pairs_asked(vn) > 1 && !has_feature(vn, VIRTIO_NET_F_MQ) &&
	    !has_feature(vn, VIRTIO_NET_F_RSS))
		return nb_fail(ENOTSUP, "%s: %u queue pairs asked, but the "
			       "virtio device offers neither VIRTIO_NET_F_MQ "
			       "nor VIRTIO_NET_F_RSS with VIRTIO_NET_F_CTRL_VQ: "
			       "one queue pair only (QEMU: mq=on on the device "
			       "and a multi-queue backend, -netdev "
			       "tap,queues=N)", vn->dev.pci->name,
			       pairs_asked(vn));
	/*
	 * 5.1.6.5.6: automatic steering may use every receive queue of the
	 * pairs enabled; only RSS keeps frames off queues we do not drive.
	 */
	if (!has_feature(vn, VIRTIO_NET_F_RSS) && vn->n_rx < vn->n_tx)
		return nb_fail(ENOTSUP, "%s: without VIRTIO_NET_F_RSS the "
			       "device may steer to every receive queue of "
			       "the %u pairs: open at least as many receive "
			       "as transmit queues", vn->dev.pci->name,
			       vn->n_tx);
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

/*
 * 5.1.4: the multi-queue fields of the device configuration, read once and
 * checked against 5.1.4.1 and what the caller asked for.
 */
static int read_mq_config(struct virtio_net *vn, const struct nb_dev_conf *conf)
{
	const char *name = vn->dev.pci->name;
	uint32_t types = conf->rss_types ? conf->rss_types : NB_RSS_DEFAULT_TYPES;
	uint32_t supported = 0;
	uint16_t max_pairs = 0, table_len = 0;
	uint8_t key_size = 0;
	bool rss = has_feature(vn, VIRTIO_NET_F_RSS);

	vn->max_pairs = 1;
	if (!has_feature(vn, VIRTIO_NET_F_MQ) && !rss)
		return 0;
	if (vpci_read_config(&vn->vp, VIRTIO_NET_CFG_MAX_PAIRS, &max_pairs,
			     sizeof(max_pairs)) < 0)
		return -1;
	if (max_pairs == 0 || max_pairs > VIRTIO_NET_MAX_PAIRS)
		return nb_fail(EIO, "%s: device reports max_virtqueue_pairs "
			       "%u, outside 1..%u (virtio 1.2, 5.1.4.1)", name,
			       max_pairs, VIRTIO_NET_MAX_PAIRS);
	if (pairs_asked(vn) > max_pairs)
		return nb_fail(ENOTSUP, "%s: %u queue pairs asked, the device "
			       "has %u (max_virtqueue_pairs; QEMU: -netdev "
			       "tap,queues=N)", name, pairs_asked(vn),
			       max_pairs);
	vn->max_pairs = max_pairs;
	if (!rss && !has_feature(vn, VIRTIO_NET_F_HASH_REPORT))
		return 0;
	if (vpci_read_config(&vn->vp, VIRTIO_NET_CFG_RSS_KEY, &key_size, 1) < 0 ||
	    vpci_read_config(&vn->vp, VIRTIO_NET_CFG_HASH_TYPES, &supported,
			     sizeof(supported)) < 0 ||
	    (rss && vpci_read_config(&vn->vp, VIRTIO_NET_CFG_RSS_TABLE,
				     &table_len, sizeof(table_len)) < 0))
		return -1;
	if (key_size < NB_RSS_KEY_LEN)
		return nb_fail(ENOTSUP, "%s: device takes RSS keys of at most "
			       "%u bytes, nicbox's are %u (virtio 1.2, 5.1.4.1 "
			       "requires 40)", name, key_size, NB_RSS_KEY_LEN);
	if (rss && table_len < NB_RSS_RETA_SIZE)
		return nb_fail(ENOTSUP, "%s: device takes RSS indirection "
			       "tables of at most %u entries, nicbox programs "
			       "%u (virtio 1.2, 5.1.4.1 requires 128)", name,
			       table_len, NB_RSS_RETA_SIZE);
	/* 5.1.6.5.7.2: no hash type the device does not support. */
	if (types & ~supported)
		return nb_fail(ENOTSUP, "%s: device does not support RSS hash "
			       "types 0x%x (supported_hash_types 0x%x); ask "
			       "only for NB_RSS_* types it has", name,
			       types & ~supported, supported);
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
		       struct virtqueue *vq, uint16_t index, unsigned slot,
		       uint16_t wanted, uint16_t msix_vector)
{
	uint16_t size = 0;
	unsigned flags = (has_feature(vn, VIRTIO_F_RING_PACKED) ? VQ_PACKED : 0) |
			 (has_feature(vn, VIRTIO_F_EVENT_IDX) ? VQ_EVENT_IDX : 0);

	if (pick_ring_size(vn, index, wanted, &size) < 0 ||
	    vq_init(vq, dma, index, size, flags, vq_kick, vq_fault, vn) < 0 ||
	    vpci_queue_enable(&vn->vp, vq, msix_vector, &vn->doorbell[slot]) < 0)
		return -1;
	return 0;
}

/* Receive queue q's mempool (check_conf made sure there is one). */
static struct nb_mempool *rx_pool(const struct nb_dev_conf *conf, uint16_t q)
{
	return conf->rx_mempools ? conf->rx_mempools[q] : conf->rx_mempool;
}

/*
 * 5.1.2: receiveqN at 2(N-1), transmitqN at 2(N-1)+1, the controlq after
 * the device's last pair. Pairs beyond the ones in use stay disabled.
 */
static int setup_queues(struct virtio_net *vn, struct nb_pool *dma,
			const struct nb_dev_conf *conf)
{
	bool hash_hdr = has_feature(vn, VIRTIO_NET_F_HASH_REPORT);
	uint16_t ctrl_index = (uint16_t)(2 * vn->max_pairs);

	for (uint16_t q = 0; q < vn->n_rx; q++) {
		struct vnet_rx *rx = &vn->rx[q];

		rx->q.mp = rx_pool(conf, q);
		rx->q.buf_size = nb_mempool_buf_size(rx->q.mp);
		rx->q.stats = &rx->stats;
		rx->q.hash_hdr = hash_hdr;
		/* Receive queue q raises MSI-X vector q when waiting is asked
		 * for; transmit and control queues never interrupt. */
		if (setup_queue(vn, dma, &rx->q.vq, 2 * q, 2 * q,
				conf->rx_ring_size,
				vn->dev.irq.n ? q : VIRTIO_MSI_NO_VECTOR) < 0)
			return -1;
	}
	for (uint16_t q = 0; q < vn->n_tx; q++) {
		struct vnet_tx *tx = &vn->tx[q];

		tx->q.stats = &tx->stats;
		tx->q.hash_hdr = hash_hdr;
		if (setup_queue(vn, dma, &tx->q.vq, 2 * q + 1, 2 * q + 1,
				conf->tx_ring_size, VIRTIO_MSI_NO_VECTOR) < 0)
			return -1;
	}
	if (!has_feature(vn, VIRTIO_NET_F_CTRL_VQ))
		return 0;
	vn->ctrl.wait_ms = VNET_CTRL_DEFAULT_WAIT_MS;
	if (setup_queue(vn, dma, &vn->ctrl.vq, ctrl_index, VNET_CTRL_SLOT,
			VNET_CTRL_RING, VIRTIO_MSI_NO_VECTOR) < 0 ||
	    vnet_ctrl_init(&vn->ctrl, dma, vn->dev.pci->name) < 0)
		return -1;
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

/* The queue counts and mempools nb_dev_conf describes (include/nicbox.h). */
static int check_conf(const struct nb_pci *pci, const struct nb_dev_conf *conf)
{
	uint16_t n_rx = conf->rx_queues ? conf->rx_queues : 1;
	uint16_t n_tx = conf->tx_queues ? conf->tx_queues : 1;
	struct nb_mempool *pools[NB_MAX_QUEUES];

	if (n_rx > NB_MAX_QUEUES || n_tx > NB_MAX_QUEUES)
		return nb_fail(EINVAL, "%s: %u receive and %u transmit queues "
			       "asked, at most %u each (NB_MAX_QUEUES)",
			       pci->name, n_rx, n_tx, NB_MAX_QUEUES);
	if (conf->rss_types & ~NB_RSS_ALL_TYPES)
		return nb_fail(EINVAL, "%s: unknown RSS hash types 0x%x",
			       pci->name, conf->rss_types & ~NB_RSS_ALL_TYPES);
	return nb_conf_rx_mempools("virtio-net", pci->name, conf, n_rx,
				   VIRTIO_NET_MIN_RX_FRAME,
				   "without mergeable buffers each holds a whole frame, virtio 1.2, 5.1.6.3.1",
				   pools);
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
	/* No config-change MSI-X vector: link state is polled (4.1.4.3). */
	nb_reg_write16(vn->vp.common.va, VIRTIO_COMMON_MSIX,
		       VIRTIO_MSI_NO_VECTOR);
	if (negotiate_features(vn) < 0 || read_mq_config(vn, conf) < 0 ||
	    nb_dev_irq_setup(&vn->dev, conf, vn->n_rx, &vnet_irq_ops) < 0 ||
	    setup_queues(vn, dma, conf) < 0) {
		vpci_add_status(&vn->vp, VIRTIO_STATUS_FAILED);
		return -1;
	}
	vpci_add_status(&vn->vp, VIRTIO_STATUS_DRIVER_OK);
	/*
	 * 3.1.1 step 8 done: notifying is allowed only from here on. Every
	 * receive queue has buffers before the device may steer to it
	 * (5.1.6.3: "SHOULD be populated").
	 */
	for (uint16_t q = 0; q < vn->n_rx; q++)
		vnet_rxq_refill(&vn->rx[q].q);
	if (vn->have_ctrlq && has_feature(vn, VIRTIO_NET_F_CTRL_RX)) {
		if (vnet_set_promisc(&vn->dev, conf->promisc) < 0)
			return -1;
	} else if (conf->promisc) {
		return vnet_set_promisc(&vn->dev, true); /* says why not */
	}
	if (start_queues(vn, conf) < 0)
		return -1;
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
	/* The queues' cache lines are their own: aligned, not calloc. */
	vn = aligned_alloc(VNET_CACHE_LINE,
			   NB_ALIGN_UP(sizeof(*vn), VNET_CACHE_LINE));
	if (vn == NULL)
		return nb_fail(ENOMEM, "%s: out of memory", pci->name);
	memset(vn, 0, sizeof(*vn));
	vn->dev.head.ops = &vnet_ops;
	vn->dev.pci = pci;
	vn->n_rx = conf->rx_queues ? conf->rx_queues : 1;
	vn->n_tx = conf->tx_queues ? conf->tx_queues : 1;
	if (bring_up(vn, dma, conf) < 0) {
		int err = errno;

		vnet_teardown(vn);
		errno = err;
		return -1;
	}
	nb_dev_set_geometry(&vn->dev, vn->n_rx, vn->n_tx, vn->max_pairs, vn->rx[0].q.vq.size,
			    vn->tx[0].q.vq.size);
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
