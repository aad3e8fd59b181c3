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

/*
 * Judge a completed descriptor that is not a plain good frame (the fast
 * path in ixgbe_rxq_burst() takes those), from its read-once status and
 * length.
 */
static __attribute__((noinline)) enum rx_verdict
rx_check_slow(struct ixgbe_rxq *q, uint16_t i, uint32_t status, uint16_t len)
{
	if (q->in_bad_frame) {
		/* The tail of a frame spread over several descriptors. */
		if (status & IXGBE_RXD_STAT_EOP)
			q->in_bad_frame = false;
		return RX_DROP;
	}
	if (!(status & IXGBE_RXD_STAT_EOP)) {
		/* Our buffers hold a full frame; a split frame is dropped whole. */
		q->in_bad_frame = true;
		q->rx_errors++;
		return RX_DROP;
	}
	if (status & IXGBE_RXD_ERR_RXE) {
		q->rx_errors++;
		return RX_DROP;
	}
	if (len == 0 || len > q->buf_len) {
		q->dev_faults++;
		q->stopped = true;
		nb_dev_set_fault(q->dev,
				 "ixgbe rx slot %u: device wrote length %u into a %u-byte buffer",
				 i, len, q->buf_len);
		return RX_FAULT;
	}
	return RX_ACCEPT;
}

/* Keep the spare stack full enough for a burst of n (one bulk alloc). */
static inline uint16_t rx_spares_for(struct ixgbe_rxq *q, uint16_t n)
{
	if (q->n_spare < n)
		q->n_spare = (uint16_t)(q->n_spare +
			nb_pkt_alloc_bulk(q->mp, &q->spare[q->n_spare],
					  IXGBE_RX_SPARES - q->n_spare));
	return n < q->n_spare ? n : q->n_spare;
}

/* Hand out `pkt` from slot idx and post a spare there in its place. */
static inline void rx_take(struct ixgbe_rxq *q, unsigned idx, struct nb_pkt *pkt,
			   uint32_t len, struct nb_pkt **out)
{
	pkt->len = len;
	*out = pkt;
	pkt = q->spare[--q->n_spare];
	q->slot[idx] = pkt;
	rx_post(q, (uint16_t)idx, pkt);
}

/* Why rx_good_frames() stopped. */
struct rx_stop {
	bool done;       /* at a descriptor the device still owns */
	uint32_t status; /* else: the odd descriptor's read-once fields */
	uint16_t len;
};

/*
 * The fast path: hand out whole good frames (DD, EOP, no RXE, length
 * 1..buf_len) from q->next on, at most `max`. Returns how many; stops early
 * at a descriptor that is not done or not such a frame (*stop says which).
 * No calls in the loop and everything in locals: with -fno-strict-aliasing
 * each descriptor store could otherwise alias q's fields.
 */
static inline unsigned rx_good_frames(struct ixgbe_rxq *q, struct nb_pkt **pkts,
				      unsigned max, struct rx_stop *stop)
{
	volatile union ixgbe_rx_desc *const ring = q->ring;
	struct nb_pkt **const slot = q->slot;
	struct nb_pkt **const spare = q->spare;
	const uint32_t buf_len = q->buf_len;
	const unsigned mask = q->size - 1u;
	unsigned idx = q->next, n_spare = q->n_spare, got;

	stop->done = false;
	for (got = 0; got < max; got++) {
		/* 7.1.6.2: DD says the device is done with the descriptor. */
		uint32_t status = nb_dma_read32(&ring[idx].wb.status_error);
		/* Read after the status (x86 keeps loads in order), so it is
		 * the length that came with DD; unused without DD. */
		uint32_t len = nb_dma_read16(&ring[idx].wb.length);
		struct nb_pkt *pkt;

		if (NB_UNLIKELY((status & (IXGBE_RXD_STAT_DD | IXGBE_RXD_STAT_EOP |
					   IXGBE_RXD_ERR_RXE)) !=
					(IXGBE_RXD_STAT_DD | IXGBE_RXD_STAT_EOP) ||
				len - 1u >= buf_len)) {
			stop->done = !(status & IXGBE_RXD_STAT_DD);
			stop->status = status;
			stop->len = (uint16_t)len;
			break;
		}
		pkt = slot[idx];
		pkt->len = len;
		pkts[got] = pkt;
		pkt = spare[--n_spare];
		slot[idx] = pkt;
		/* 7.1.6.1 read format; writing hdr_addr also clears the
		 * write-back status (DD) the device left in the same bytes. */
		ring[idx].read.pkt_addr = pkt->iova;
		ring[idx].read.hdr_addr = 0;
		idx = (idx + 1) & mask;
	}
	q->next = (uint16_t)idx;
	q->n_spare = (uint16_t)n_spare;
	return got;
}

uint16_t ixgbe_rxq_burst(struct ixgbe_rxq *q, struct nb_pkt **pkts, uint16_t n)
{
	const uint16_t first = q->next, mask = (uint16_t)(q->size - 1);
	unsigned budget, got = 0;

	if (NB_UNLIKELY(q->stopped))
		return 0;
	if (n > IXGBE_RX_MAX_BURST)
		n = IXGBE_RX_MAX_BURST;
	/* Fewer than a lap, so q->next moves whenever anything was consumed
	 * (the device never owns all slots; a hostile one may claim to). */
	if (n > mask)
		n = mask;
	/* A frame is handed out only with a spare to post in its place. */
	budget = rx_spares_for(q, n);
	while (budget > 0) {
		struct rx_stop stop;
		unsigned idx;

		if (NB_LIKELY(!q->in_bad_frame)) {
			unsigned good = rx_good_frames(q, pkts + got, budget, &stop);

			got += good;
			budget -= good;
			if (budget == 0 || stop.done)
				break;
		} else {
			/* Inside a split frame every descriptor goes slow. */
			stop.status = nb_dma_read32(&q->ring[q->next].wb.status_error);
			if (!(stop.status & IXGBE_RXD_STAT_DD))
				break;
			stop.len = nb_dma_read16(&q->ring[q->next].wb.length);
		}
		/* The odd descriptor at q->next, judged by its read-once fields. */
		idx = q->next;
		switch (rx_check_slow(q, (uint16_t)idx, stop.status, stop.len)) {
		case RX_FAULT:
			goto out;
		case RX_ACCEPT:
			rx_take(q, idx, q->slot[idx], stop.len, &pkts[got++]);
			break;
		case RX_DROP:
			rx_post(q, (uint16_t)idx, q->slot[idx]); /* buffer reused */
			break;
		}
		q->next = (uint16_t)((idx + 1) & mask);
		budget--;
	}
out:
	if (q->next != first)
		/* 8.2.3.8.5: the device may fill up to RDT - 1. The refilled
		 * slot at RDT stays ours, so a full ring never looks empty. */
		nb_reg_write32(q->regs, q->rdt, (uint16_t)(q->next - 1) & mask);
	return (uint16_t)got;
}

void ixgbe_rxq_release(struct ixgbe_rxq *q)
{
	nb_pkt_free_bulk(q->spare, q->n_spare);
	q->n_spare = 0;
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
	volatile union ixgbe_tx_desc *const ring = q->ring; /* see rx */
	const unsigned mask = q->size - 1u;

	while (!q->stopped &&
	       ((unsigned)(q->tail - q->clean) & mask) >= IXGBE_TX_CLEAN_BATCH) {
		const unsigned first = q->clean;
		const unsigned last = first + IXGBE_TX_CLEAN_BATCH - 1u;
		uint32_t all_done = IXGBE_TXD_STAT_DD;

		if (!(nb_dma_read32(&ring[last].wb.status) & IXGBE_TXD_STAT_DD))
			return;
		/* 7.2.3.2.4 write-back: check each DD, then forget it, so DD on
		 * a free slot means the device wrote a descriptor we never
		 * gave it (checked at the start of each burst). */
		for (unsigned i = first; i < last; i++) {
			all_done &= nb_dma_read32(&ring[i].wb.status);
			ring[i].wb.status = 0;
		}
		ring[last].wb.status = 0;
		if (NB_UNLIKELY(!all_done)) {
			tx_stop(q);
			nb_dev_set_fault(q->dev,
					 "ixgbe tx: device reported slot %u done before an earlier one",
					 last);
			return;
		}
		nb_pkt_free_bulk(&q->slot[first], IXGBE_TX_CLEAN_BATCH);
		q->clean = (uint16_t)((first + IXGBE_TX_CLEAN_BATCH) & mask);
	}
}

/*
 * The fast path: post pkts[0..n) while each one's pool is the one last seen
 * and its length fits. Returns how many it posted; the
 * caller handles the one it stopped at. Call-free, in locals (see rx).
 */
static inline unsigned tx_post_frames(struct ixgbe_txq *q, struct nb_pkt **pkts,
				      unsigned n)
{
	volatile union ixgbe_tx_desc *const ring = q->ring;
	struct nb_pkt **const slot = q->slot;
	const struct nb_mempool *const pool = q->last_pool;
	const uint32_t buf_size = q->last_buf_size;
	const unsigned mask = q->size - 1u;
	unsigned idx = q->tail, i;

	for (i = 0; i < n; i++) {
		struct nb_pkt *pkt = pkts[i];
		uint32_t len = pkt->len;

		if (NB_UNLIKELY(pkt->pool != pool || len - 1u >= buf_size))
			break;
		/* 7.2.3.2.4: advanced data descriptor, one buffer per frame. */
		ring[idx].read.buffer_addr = pkt->iova;
		ring[idx].read.cmd_type_len =
			len | IXGBE_TXD_DTYP_DATA | IXGBE_TXD_CMD_EOP |
			IXGBE_TXD_CMD_IFCS | IXGBE_TXD_CMD_RS | IXGBE_TXD_CMD_DEXT;
		ring[idx].read.olinfo = len << IXGBE_TXD_PAYLEN_SHIFT;
		slot[idx] = pkt;
		idx = (idx + 1) & mask;
	}
	q->tail = (uint16_t)idx;
	return i;
}

uint16_t ixgbe_txq_burst(struct ixgbe_txq *q, struct nb_pkt **pkts, uint16_t n)
{
	const uint16_t first = q->tail, mask = (uint16_t)(q->size - 1);
	unsigned room, done = 0;

	ixgbe_txq_clean(q);
	if (NB_UNLIKELY(q->stopped))
		return 0;
	/* Free slots carry no DD (clean-up zeroes it): DD at the next slot
	 * to post means the device wrote a descriptor it was never given. */
	if (NB_UNLIKELY(nb_dma_read32(&q->ring[q->tail].wb.status) &
			IXGBE_TXD_STAT_DD)) {
		tx_stop(q);
		nb_dev_set_fault(q->dev,
				 "ixgbe tx: device marked slot %u done before it was posted",
				 q->tail);
		return 0;
	}
	/* One slot stays empty: TDH == TDT means "nothing to send". */
	room = mask - ((q->tail - q->clean) & mask);
	if (n > room)
		n = (uint16_t)room;
	while ((done += tx_post_frames(q, pkts + done, n - done)) < n) {
		struct nb_pkt *pkt = pkts[done];

		if (pkt->pool != q->last_pool) { /* then retry it */
			q->last_pool = pkt->pool;
			q->last_buf_size = nb_mempool_buf_size(pkt->pool);
			continue;
		}
		/* Length 0 or beyond its buffer: the caller's bug. The frame
		 * counts as taken and is dropped. */
		q->tx_errors++;
		nb_pkt_free(pkt);
		done++;
	}
	if (q->tail != first)
		/* 8.2.3.9.9: TDT is one past the last descriptor to send. */
		nb_reg_write32(q->regs, q->tdt, q->tail);
	return (uint16_t)done;
}

void ixgbe_txq_release(struct ixgbe_txq *q)
{
	const uint16_t mask = (uint16_t)(q->size - 1);

	for (uint16_t i = q->clean; i != q->tail; i = (i + 1) & mask)
		nb_pkt_free(q->slot[i]);
	q->clean = q->tail;
}
