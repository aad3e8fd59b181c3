/* SPDX-License-Identifier: MIT */
/*
 * virtio_rxtx.h - virtio-net receive and transmit on top of a virtqueue
 * (virtio 1.2, 5.1.6), without PCI: the device driver, the unit tests and
 * the fuzzers all run this same code.
 *
 * Every buffer is one descriptor covering the 12-byte virtio_net_hdr in the
 * packet's headroom (data - 12) followed by the frame, so a frame needs no
 * copy and no second descriptor.
 */
#ifndef VIRTIO_RXTX_H
#define VIRTIO_RXTX_H

#include "virtqueue.h"

struct vnet_rxq {
	struct virtqueue vq;
	struct nb_mempool *mp; /* where refills come from */
	uint32_t buf_size;     /* frame bytes per buffer (after the header) */
	struct nb_stats *stats;
	bool hash_hdr; /* VIRTIO_NET_F_HASH_REPORT: 20-byte header, hash */
};

struct vnet_txq {
	struct virtqueue vq;
	struct nb_stats *stats;
	bool hash_hdr; /* VIRTIO_NET_F_HASH_REPORT: 20-byte header */
};

/* The header in front of every frame: 12 bytes, 20 with hash reports. */
static inline uint32_t vnet_hdr_len(bool hash_hdr)
{
	return hash_hdr ? VIRTIO_NET_HASH_HDR_LEN : VIRTIO_NET_HDR_LEN;
}

/* Post as many receive buffers as there are free descriptors; one kick. */
void vnet_rxq_refill(struct vnet_rxq *rxq);

/* Receive up to n frames (5.1.6.4), then refill the ring. */
uint16_t vnet_rx_burst(struct vnet_rxq *rxq, struct nb_pkt **pkts, uint16_t n);

/*
 * Free what the device finished sending, then post up to n frames
 * (5.1.6.2) with one kick. Returns how many the queue took (frames with an
 * impossible length count as taken: freed and counted in tx_errors).
 */
uint16_t vnet_tx_burst(struct vnet_txq *txq, struct nb_pkt **pkts, uint16_t n);

/* vq_fini release function: a posted nb_pkt goes back to its mempool. */
void vnet_release_pkt(void *token, void *arg);

#endif /* VIRTIO_RXTX_H */
