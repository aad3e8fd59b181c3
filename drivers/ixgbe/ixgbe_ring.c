/* SPDX-License-Identifier: MIT */
/*
 * ixgbe_ring.c - receive and transmit rings of the 82599 (advanced
 * descriptors, datasheet 7.1.6 and 7.2.3.2.4), batched like ixy: one tail
 * register write per burst, transmit buffers reclaimed 32 at a time.
 *
 * The device is untrusted. Every descriptor field it writes is read once
 * with nb_dma_read*(), checked, and only the local copy is used. Which
 * buffer sits in which slot is known from the private shadow array `slot`,
 * never from an address in the ring, so the worst a device can do is make
 * us drop frames, stop a queue or deliver bytes it wrote into our buffer.
 */
#include <errno.h>

#include "ixgbe.h"
#include "nb_mmio.h"

/* Descriptors one rx burst looks at; bounds the work per call. */
#define IXGBE_RX_MAX_BURST 128u

void ixgbe_rxq_init(struct ixgbe_rxq *q, struct nb_dev *dev,
		    volatile uint8_t *regs, uint32_t rdt, void *ring,
		    struct nb_pkt **slot, uint16_t size, struct nb_mempool *mp)
{
	*q = (struct ixgbe_rxq){
		.ring = ring,
		.slot = slot,
		.mp = mp,
		.regs = regs,
		.dev = dev,
		.rdt = rdt,
		.buf_len = nb_mempool_buf_size(mp),
		.size = size,
	};
}

/* 7.1.6.1: read format. Writing hdr_addr also clears the write-back status
 * (DD) the device left in the same bytes. */
static inline void rx_post(struct ixgbe_rxq *q, uint16_t i,
			   const struct nb_pkt *pkt)
{
	q->ring[i].read.pkt_addr = pkt->iova;
	q->ring[i].read.hdr_addr = 0;
}

int ixgbe_rxq_fill(struct ixgbe_rxq *q)
{
	for (uint16_t i = 0; i < q->size; i++) {
		struct nb_pkt *pkt = nb_pkt_alloc(q->mp);

		if (pkt == NULL)
			return nb_fail(ENOBUFS,
				       "ixgbe: rx mempool has too few buffers for a ring of %u",
				       q->size);
		q->slot[i] = pkt;
		rx_post(q, i, pkt);
	}
	return 0;
}

enum rx_verdict { RX_ACCEPT, RX_DROP, RX_FAULT };

/* Judge one completed descriptor from its (read-once) status and length. */
static enum rx_verdict rx_check(struct ixgbe_rxq *q, uint16_t i,
				uint32_t status, uint16_t len)
{
	if (NB_UNLIKELY(q->in_bad_frame)) {
		/* The tail of a frame spread over several descriptors. */
		if (status & IXGBE_RXD_STAT_EOP)
			q->in_bad_frame = false;
		return RX_DROP;
	}
	if (NB_UNLIKELY(!(status & IXGBE_RXD_STAT_EOP))) {
		/* Our buffers hold a full frame; a split frame is dropped whole. */
		q->in_bad_frame = true;
		q->rx_errors++;
		return RX_DROP;
	}
	if (NB_UNLIKELY(status & IXGBE_RXD_ERR_RXE)) {
		q->rx_errors++;
		return RX_DROP;
	}
	if (NB_UNLIKELY(len == 0 || len > q->buf_len)) {
		q->dev_faults++;
		q->stopped = true;
		nb_dev_set_fault(q->dev,
				 "ixgbe rx slot %u: device wrote length %u into a %u-byte buffer",
				 i, len, q->buf_len);
		return RX_FAULT;
	}
	return RX_ACCEPT;
}

uint16_t ixgbe_rxq_burst(struct ixgbe_rxq *q, struct nb_pkt **pkts, uint16_t n)
{
	uint32_t status[IXGBE_RX_MAX_BURST];
	struct nb_pkt *fresh[IXGBE_RX_MAX_BURST];
	const uint16_t mask = (uint16_t)(q->size - 1);
	uint16_t ready = 0, got = 0, used = 0, n_fresh, i;
	uint16_t idx = q->next;

	if (NB_UNLIKELY(q->stopped))
		return 0;
	if (n > IXGBE_RX_MAX_BURST)
		n = IXGBE_RX_MAX_BURST;
	/* At most size - 1: the slot behind RDT is never the device's. */
	if (n > mask)
		n = mask;
	/* Pass 1: how many descriptors are done (7.1.6.2: DD). */
	while (ready < n) {
		uint32_t s = nb_dma_read32(
			&q->ring[(idx + ready) & mask].wb.status_error);

		if (!(s & IXGBE_RXD_STAT_DD))
			break;
		status[ready++] = s;
	}
	if (ready == 0)
		return 0;
	/* A done descriptor is handed out only with a replacement to post. */
	n_fresh = (uint16_t)nb_pkt_alloc_bulk(q->mp, fresh, ready);
	for (i = 0; i < n_fresh; i++) {
		uint16_t len = nb_dma_read16(&q->ring[idx].wb.length);
		struct nb_pkt *pkt = q->slot[idx];
		enum rx_verdict v = rx_check(q, idx, status[i], len);

		if (v == RX_FAULT)
			break;
		if (v == RX_ACCEPT) {
			pkt->len = len;
			pkts[got++] = pkt;
			pkt = fresh[used++];
			q->slot[idx] = pkt;
		}
		rx_post(q, idx, pkt); /* a dropped frame's buffer goes back */
		idx = (idx + 1) & mask;
	}
	if (used < n_fresh)
		nb_pkt_free_bulk(&fresh[used], (uint32_t)(n_fresh - used));
	if (idx != q->next) {
		q->next = idx;
		/* 8.2.3.8.5: RDT is one past the last descriptor we give back. */
		nb_reg_write32(q->regs, q->rdt, (uint16_t)(idx - 1) & mask);
	}
	return got;
}

void ixgbe_rxq_release(struct ixgbe_rxq *q)
{
	for (uint16_t i = 0; i < q->size; i++) {
		if (q->slot[i] != NULL)
			nb_pkt_free(q->slot[i]);
		q->slot[i] = NULL;
	}
}

void ixgbe_txq_init(struct ixgbe_txq *q, struct nb_dev *dev,
		    volatile uint8_t *regs, uint32_t tdt, void *ring,
		    struct nb_pkt **slot, uint16_t size)
{
	*q = (struct ixgbe_txq){
		.ring = ring,
		.slot = slot,
		.regs = regs,
		.dev = dev,
		.tdt = tdt,
		.size = size,
	};
}

/* The device broke the transmit protocol: count it and stop the queue. */
static void tx_stop(struct ixgbe_txq *q)
{
	q->dev_faults++;
	q->stopped = true;
}

/*
 * Reclaim finished batches. Every descriptor asks for a status write-back
 * (RS) and the device completes them in ring order (7.2.3), so DD on the
 * last descriptor of a batch must come with DD on all the earlier ones; a
 * gap is an out-of-order write-back and stops the queue. Batches start at
 * multiples of IXGBE_TX_CLEAN_BATCH and the ring size is a multiple of it,
 * so a batch never wraps.
 */
void ixgbe_txq_clean(struct ixgbe_txq *q)
{
	const uint16_t mask = (uint16_t)(q->size - 1);

	while (!q->stopped &&
	       ((q->tail - q->clean) & mask) >= IXGBE_TX_CLEAN_BATCH) {
		uint16_t first = q->clean;
		uint16_t last = (uint16_t)(first + IXGBE_TX_CLEAN_BATCH - 1);

		if (!(nb_dma_read32(&q->ring[last].wb.status) & IXGBE_TXD_STAT_DD))
			return;
		for (uint16_t i = first; i < last; i++) {
			if (!(nb_dma_read32(&q->ring[i].wb.status) &
			      IXGBE_TXD_STAT_DD)) {
				tx_stop(q);
				nb_dev_set_fault(q->dev,
						 "ixgbe tx: device reported slot %u done before slot %u",
						 last, i);
				return;
			}
		}
		/* 7.2.3.2.4 write-back: forget it, so DD on a free slot means
		 * the device wrote a descriptor we never gave it (see burst). */
		for (uint16_t i = first; i <= last; i++)
			q->ring[i].wb.status = 0;
		nb_pkt_free_bulk(&q->slot[first], IXGBE_TX_CLEAN_BATCH);
		q->clean = (first + IXGBE_TX_CLEAN_BATCH) & mask;
	}
}

uint16_t ixgbe_txq_burst(struct ixgbe_txq *q, struct nb_pkt **pkts, uint16_t n)
{
	const uint16_t mask = (uint16_t)(q->size - 1);
	uint16_t idx = q->tail, room, i;

	ixgbe_txq_clean(q);
	if (NB_UNLIKELY(q->stopped))
		return 0;
	/* One slot stays empty: TDH == TDT means "nothing to send". */
	room = (uint16_t)(mask - ((q->tail - q->clean) & mask));
	if (n > room)
		n = room;
	for (i = 0; i < n; i++) {
		struct nb_pkt *pkt = pkts[i];
		uint32_t len = pkt->len;

		if (NB_UNLIKELY(nb_dma_read32(&q->ring[idx].wb.status) &
				IXGBE_TXD_STAT_DD)) {
			tx_stop(q);
			nb_dev_set_fault(q->dev,
					 "ixgbe tx: device marked slot %u done before it was posted",
					 idx);
			break;
		}
		if (NB_UNLIKELY(len == 0 || len > nb_mempool_buf_size(pkt->pool))) {
			q->tx_errors++; /* taken and dropped: the caller's bug */
			nb_pkt_free(pkt);
			continue;
		}
		/* 7.2.3.2.4: advanced data descriptor, one buffer per frame. */
		q->ring[idx].read.buffer_addr = pkt->iova;
		q->ring[idx].read.cmd_type_len =
			len | IXGBE_TXD_DTYP_DATA | IXGBE_TXD_CMD_EOP |
			IXGBE_TXD_CMD_IFCS | IXGBE_TXD_CMD_RS | IXGBE_TXD_CMD_DEXT;
		q->ring[idx].read.olinfo = len << IXGBE_TXD_PAYLEN_SHIFT;
		q->slot[idx] = pkt;
		idx = (idx + 1) & mask;
	}
	if (idx != q->tail) {
		q->tail = idx;
		/* 8.2.3.9.9: TDT is one past the last descriptor to send. */
		nb_reg_write32(q->regs, q->tdt, idx);
	}
	return i;
}

void ixgbe_txq_release(struct ixgbe_txq *q)
{
	const uint16_t mask = (uint16_t)(q->size - 1);

	for (uint16_t i = q->clean; i != q->tail; i = (i + 1) & mask)
		nb_pkt_free(q->slot[i]);
	q->clean = q->tail;
}
