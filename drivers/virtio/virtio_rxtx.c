/* SPDX-License-Identifier: MIT */
/* virtio_rxtx.c - virtio-net frames in and out of split virtqueues. */
#include <errno.h>
#include <string.h>

#include "nb_mmio.h"
#include "virtio_rxtx.h"

/* Work in chunks of this many ring entries; locals stay on the stack. */
#define VNET_CHUNK 64

_Static_assert(VIRTIO_NET_HASH_HDR_LEN <= NB_PKT_HEADROOM,
	       "the virtio-net header lives in the packet headroom");

void vnet_rxq_refill(struct vnet_rxq *rxq)
{
	struct nb_pkt *fresh[VNET_CHUNK];
	uint32_t hdr = vnet_hdr_len(rxq->hash_hdr);
	uint16_t want, got;

	while ((want = vq_free_descs(&rxq->vq)) > 0 && !rxq->vq.broken) {
		if (want > VNET_CHUNK)
			want = VNET_CHUNK;
		got = (uint16_t)nb_pkt_alloc_bulk(rxq->mp, fresh, want);
		/*
		 * 5.1.6.3: device-writable buffer starting at the header in
		 * the headroom; the frame lands at data[0], 64-byte aligned.
		 */
		for (uint16_t i = 0; i < got; i++)
			vq_post_one(&rxq->vq, fresh[i], fresh[i]->iova - hdr,
				    hdr + rxq->buf_size, true);
		if (got < want)
			break; /* mempool empty: retry on the next burst */
	}
	vq_publish(&rxq->vq);
}

/*
 * 5.1.6.4.4: with VIRTIO_NET_F_HASH_REPORT the header carries the hash the
 * device computed. Device-written: each field read once, the hash only
 * reported (never used as an index), and only with a known report type.
 */
static void take_hash(struct nb_pkt *pkt)
{
	const uint8_t *hdr = pkt->data - VIRTIO_NET_HASH_HDR_LEN;
	uint16_t report = nb_dma_read16(hdr + VIRTIO_NET_HDR_HASH_REPORT);

	if (report == VIRTIO_NET_HASH_REPORT_NONE ||
	    report > VIRTIO_NET_HASH_REPORT_MAX)
		return;
	pkt->rss_hash = nb_dma_read32(hdr + VIRTIO_NET_HDR_HASH_VALUE);
	pkt->flags = NB_PKT_RSS_HASH;
}

uint16_t vnet_rx_burst(struct vnet_rxq *rxq, struct nb_pkt **pkts, uint16_t n)
{
	void *tokens[VNET_CHUNK];
	uint32_t lens[VNET_CHUNK];
	uint32_t hdr = vnet_hdr_len(rxq->hash_hdr);
	uint16_t out = 0;

	while (out < n) {
		uint16_t want = n - out < VNET_CHUNK ? n - out : VNET_CHUNK;
		uint16_t got = vq_reap(&rxq->vq, tokens, lens, want, hdr);

		for (uint16_t i = 0; i < got; i++) {
			struct nb_pkt *pkt = tokens[i];
			/* vq_reap checked hdr <= len <= hdr + buf. */
			uint32_t frame_len = lens[i] - hdr;

			if (frame_len == 0) {
				rxq->stats->rx_errors++;
				nb_pkt_free(pkt);
				continue;
			}
			pkt->len = frame_len;
			pkt->flags = 0;
			if (rxq->hash_hdr)
				take_hash(pkt);
			rxq->stats->rx_bytes += frame_len;
			pkts[out++] = pkt;
		}
		if (got < want)
			break;
	}
	rxq->stats->rx_packets += out;
	vnet_rxq_refill(rxq);
	return out;
}

/* Give the buffers the device has finished sending back to their pools. */
static void tx_reap(struct vnet_txq *txq)
{
	void *tokens[VNET_CHUNK];
	struct nb_pkt *done[VNET_CHUNK];
	uint32_t lens[VNET_CHUNK];
	uint16_t got;

	do {
		/* The device reads tx buffers; len is what it wrote: 0. */
		got = vq_reap(&txq->vq, tokens, lens, VNET_CHUNK, 0);
		for (uint16_t i = 0; i < got; i++)
			done[i] = tokens[i];
		nb_pkt_free_bulk(done, got);
	} while (got == VNET_CHUNK);
}

uint16_t vnet_tx_burst(struct vnet_txq *txq, struct nb_pkt **pkts, uint16_t n)
{
	uint32_t hdr = vnet_hdr_len(txq->hash_hdr);
	uint16_t taken;

	tx_reap(txq);
	if (txq->vq.broken)
		return 0;
	for (taken = 0; taken < n && vq_free_descs(&txq->vq) > 0; taken++) {
		struct nb_pkt *pkt = pkts[taken];

		if (pkt->len == 0 || pkt->len > nb_mempool_buf_size(pkt->pool)) {
			txq->stats->tx_errors++;
			nb_pkt_free(pkt);
			continue;
		}
		/*
		 * 5.1.6.2: no offloads negotiated, so flags 0, gso_type
		 * VIRTIO_NET_HDR_GSO_NONE (0), num_buffers 0 and, with
		 * HASH_REPORT, the hash fields 0 too.
		 */
		memset(pkt->data - hdr, 0, hdr);
		vq_post_one(&txq->vq, pkt, pkt->iova - hdr, hdr + pkt->len,
			    false);
		txq->stats->tx_packets++;
		txq->stats->tx_bytes += pkt->len;
	}
	vq_publish(&txq->vq);
	return taken;
}

void vnet_release_pkt(void *token, void *arg)
{
	(void)arg;
	nb_pkt_free(token);
}
