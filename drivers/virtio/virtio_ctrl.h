/* SPDX-License-Identifier: MIT */
/*
 * virtio_ctrl.h - the virtio-net control virtqueue (virtio 1.2, 5.1.6.5)
 * without PCI: commands encoded into a DMA buffer, posted as one chain,
 * and the device's answer taken with a bounded wait. The driver, the unit
 * tests (against softdev.h) and nothing else run this code.
 *
 * The device is untrusted here too: the answer must come within wait_ms,
 * the used entry passes vq_reap's checks, the device may claim to have
 * written exactly the one ack byte, and the ack byte is read once and must
 * be VIRTIO_NET_OK. Anything else fails the command; the command buffer is
 * not reused while the device may still own it.
 */
#ifndef VIRTIO_CTRL_H
#define VIRTIO_CTRL_H

#include "virtqueue.h"

/* Command bytes: class, command, then at most this much data. */
#define VNET_CTRL_MAX_DATA 400
/* The ack byte sits in its own descriptor, on its own cache line. */
#define VNET_CTRL_ACK_OFF 448
#define VNET_CTRL_BUF_LEN 512
#define VNET_CTRL_DEFAULT_WAIT_MS 1000

struct vnet_ctrl {
	struct virtqueue vq;
	uint8_t *buf; /* in the DMA pool: command at 0, ack at ACK_OFF */
	uint64_t iova;
	uint32_t wait_ms; /* how long a command may take */
	const char *name; /* the device, for messages */
};

/* Carve the command buffer; vq must be set up already (vq_init). */
int vnet_ctrl_init(struct vnet_ctrl *c, struct nb_pool *dma, const char *name);

/*
 * Send one command (5.1.6.5: class, command, command-specific data of
 * `len` bytes) and wait for a good ack. -1 with errno: EIO (refused, or
 * the queue broke), ETIMEDOUT (no answer in wait_ms; the buffer then stays
 * the device's and later commands fail with EBUSY until it answers),
 * EINVAL (len too large).
 */
int vnet_ctrl_cmd(struct vnet_ctrl *c, uint8_t class, uint8_t command,
		  const void *data, uint16_t len);

/* What VIRTIO_NET_CTRL_MQ_RSS_CONFIG / _HASH_CONFIG carry (5.1.6.5.7.1). */
struct vnet_rss {
	uint32_t hash_types;     /* VIRTIO_NET_HASH_TYPE_* */
	uint16_t table_len;      /* a power of two, at most NB_RSS_RETA_SIZE */
	uint16_t table[NB_RSS_RETA_SIZE]; /* receive queue, 0 = receiveq1 */
	uint16_t unclassified;   /* queue of frames with no enabled type */
	uint16_t max_tx_vq;      /* transmit queues the driver uses */
	uint8_t key_len;
	uint8_t key[NB_RSS_KEY_LEN];
};

/*
 * Encode struct virtio_net_rss_config (5.1.6.5.7.1) little-endian into
 * out; returns its length (at most VNET_CTRL_MAX_DATA).
 */
uint16_t vnet_rss_encode(const struct vnet_rss *rss, uint8_t *out);
/* struct virtio_net_hash_config (5.1.6.5.6.4): types, 4 zero le16, key. */
uint16_t vnet_hash_config_encode(const struct vnet_rss *rss, uint8_t *out);

#endif /* VIRTIO_CTRL_H */
