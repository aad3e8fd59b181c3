/* SPDX-License-Identifier: MIT */
/*
 * adv_ring.c - receive and transmit rings of Intel's advanced descriptors,
 * shared by ixgbe (82599 datasheet 7.1.6 and 7.2.3.2.4) and igb (82576
 * datasheet 7.1.5 and 7.2.2.3); see adv_ring.h for what differs per chip.
 * Batched like ixy: one tail register write per burst, transmit buffers
 * reclaimed 32 at a time.
 *
 * The device is untrusted. Every descriptor field it writes is read once
 * with nb_dma_read*(), checked, and only the local copy is used. Which
 * buffer sits in which slot is known from the private shadow array `slot`,
 * never from an address in the ring, so the worst a device can do is make
 * us drop frames, stop a queue or deliver bytes it wrote into our buffer.
 */
#include <errno.h>

#include <stdlib.h>
#include <time.h>

#include "adv_ring.h"
#include "nb_mmio.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void adv_sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

int adv_wait_reg(volatile uint8_t *regs, const char *drv, const char *dev,
		 uint32_t reg, uint32_t mask, uint32_t want,
		 uint32_t timeout_ms, const char *what)
{
	uint64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		uint32_t v = nb_reg_read32(regs, reg);

		if ((v & mask) == want)
			return 0;
		if (now_ms() > deadline)
			return nb_fail(ETIMEDOUT,
				       "%s %s: %s not seen within %u ms (register 0x%05x = 0x%08x)",
				       drv, dev, what, timeout_ms, reg, v);
		adv_sleep_us(ADV_POLL_INTERVAL_US);
	}
}

int adv_check_conf(const char *drv, const struct nb_pci *pci,
		   const struct nb_dev_conf *conf, uint16_t default_ring_size,
		   uint16_t max_queues, uint32_t max_bsize_kb, struct adv_conf *out)
{
	out->n_rxq = conf->rx_queues ? conf->rx_queues : 1;
	out->n_txq = conf->tx_queues ? conf->tx_queues : 1;
	out->rx_size = conf->rx_ring_size ? conf->rx_ring_size : default_ring_size;
	out->tx_size = conf->tx_ring_size ? conf->tx_ring_size : default_ring_size;
	out->rss_key = conf->rss_key ? conf->rss_key : nb_rss_default_key();
	out->rss_types = conf->rss_types ? conf->rss_types : NB_RSS_DEFAULT_TYPES;
	if (out->n_rxq > max_queues || out->n_txq > max_queues)
		return nb_fail(EINVAL,
			       "%s %s: %u rx / %u tx queues asked for; this driver runs 1..%u per direction",
			       drv, pci->name, out->n_rxq, out->n_txq, max_queues);
	if (out->rss_types & ~NB_RSS_ALL_TYPES)
		return nb_fail(EINVAL, "%s %s: unknown RSS hash types 0x%x",
			       drv, pci->name, out->rss_types & ~NB_RSS_ALL_TYPES);
	if (!NB_IS_POW2(out->rx_size) || !NB_IS_POW2(out->tx_size) ||
	    out->rx_size < ADV_MIN_RING_SIZE || out->tx_size < ADV_MIN_RING_SIZE ||
	    out->rx_size > ADV_MAX_RING_SIZE || out->tx_size > ADV_MAX_RING_SIZE)
		return nb_fail(EINVAL,
			       "%s %s: ring sizes %u/%u must be powers of two in %u..%u",
			       drv, pci->name, out->rx_size, out->tx_size,
			       ADV_MIN_RING_SIZE, ADV_MAX_RING_SIZE);
	if (conf->rx_mempools == NULL && (conf->rx_mempool == NULL || out->n_rxq > 1))
		return nb_fail(EINVAL, out->n_rxq > 1 ?
			       "%s %s: %u rx queues need conf.rx_mempools, one mempool per queue" :
			       "%s %s: conf.rx_mempool is required",
			       drv, pci->name, out->n_rxq);
	if (conf->rx_mempools != NULL && conf->rx_mempool != NULL)
		return nb_fail(EINVAL, "%s %s: set conf.rx_mempool or conf.rx_mempools, not both",
			       drv, pci->name);
	for (uint16_t q = 0; q < out->n_rxq; q++) {
		struct nb_mempool *mp = conf->rx_mempools ? conf->rx_mempools[q] : conf->rx_mempool;
		uint32_t buf_size;

		if (mp == NULL)
			return nb_fail(EINVAL, "%s %s: conf.rx_mempools[%u] is NULL",
				       drv, pci->name, q);
		for (uint16_t p = 0; p < q; p++)
			if (out->rx_mp[p] == mp)
				return nb_fail(EINVAL,
					       "%s %s: rx queues %u and %u share a mempool; each queue needs its own (a mempool is single-threaded)",
					       drv, pci->name, p, q);
		buf_size = nb_mempool_buf_size(mp);
		if (buf_size < ADV_RX_MIN_BUF_SIZE)
			return nb_fail(EINVAL,
				       "%s %s: rx buffers of %u bytes are too small: the device counts them in whole KiB and a 1518-byte frame needs %u (create the mempool with a larger buffer size)",
				       drv, pci->name, buf_size, ADV_RX_MIN_BUF_SIZE);
		out->rx_mp[q] = mp;
		out->bsize_kb[q] = adv_rx_bsize_kb(buf_size, max_bsize_kb);
	}
	return 0;
}

void adv_rss_program(volatile uint8_t *regs, uint32_t reta0, uint32_t rssrk0,
		     uint16_t n_rxq, const uint8_t *key)
{
	for (uint32_t r = 0; r < ADV_RETA_REGS; r++) {
		uint32_t v = 0;

		for (uint32_t b = 0; b < 4; b++)
			v |= (uint32_t)nb_rss_queue(4 * r + b, n_rxq) << (8 * b);
		nb_reg_write32(regs, reta0 + 4 * r, v);
	}
	for (uint32_t r = 0; r < ADV_RSSRK_REGS; r++)
		nb_reg_write32(regs, rssrk0 + 4 * r,
			       (uint32_t)key[4 * r] | (uint32_t)key[4 * r + 1] << 8 |
				       (uint32_t)key[4 * r + 2] << 16 |
				       (uint32_t)key[4 * r + 3] << 24);
}

uint32_t adv_mrqc_fields(uint32_t t)
{
	return (t & NB_RSS_IPV4 ? ADV_MRQC_IPV4 : 0) |
	       (t & NB_RSS_TCP_IPV4 ? ADV_MRQC_TCP_IPV4 : 0) |
	       (t & NB_RSS_UDP_IPV4 ? ADV_MRQC_UDP_IPV4 : 0) |
	       (t & NB_RSS_IPV6 ? ADV_MRQC_IPV6 : 0) |
	       (t & NB_RSS_TCP_IPV6 ? ADV_MRQC_TCP_IPV6 : 0) |
	       (t & NB_RSS_UDP_IPV6 ? ADV_MRQC_UDP_IPV6 : 0);
}

uint32_t adv_rx_bsize_kb(uint32_t buf_size, uint32_t max_kb)
{
	uint32_t kb = buf_size >> ADV_RX_BSIZE_SHIFT;

	return kb < max_kb ? kb : max_kb;
}

int adv_alloc_ring(const char *drv, struct nb_pool *dma, uint16_t size,
		   void **ring, uint64_t *iova, struct nb_pkt ***slot)
{
	if (nb_pool_carve(dma, (size_t)size * 16u, ADV_RING_ALIGN, ring, iova) < 0)
		return -1;
	*slot = calloc(size, sizeof(**slot));
	if (*slot == NULL)
		return nb_fail(ENOMEM, "%s: out of memory for a ring of %u",
			       drv, size);
	return 0;
}

void adv_rxq_init(struct adv_rxq *q, struct nb_dev *dev, const char *drv,
		  volatile uint8_t *regs, uint32_t rdt, void *ring,
		  struct nb_pkt **slot, uint16_t size, struct nb_mempool *mp,
		  uint32_t bsize_kb, uint32_t err_mask)
{
	*q = (struct adv_rxq){
		.ring = ring,
		.slot = slot,
		.mp = mp,
		.regs = regs,
		.dev = dev,
		.drv = drv,
		.rdt = rdt,
		.buf_len = bsize_kb << ADV_RX_BSIZE_SHIFT,
		.err_mask = err_mask,
		.size = size,
	};
}

/* Read format (82599 7.1.6.1, 82576 7.1.5). Writing hdr_addr also clears
 * the write-back status (DD) the device left in the same bytes. */
static inline void rx_post(struct adv_rxq *q, uint16_t i,
			   const struct nb_pkt *pkt)
{
	q->ring[i].read.pkt_addr = pkt->iova;
	q->ring[i].read.hdr_addr = 0;
}

int adv_rxq_fill(struct adv_rxq *q)
{
	for (uint16_t i = 0; i < q->size; i++) {
		struct nb_pkt *pkt = nb_pkt_alloc(q->mp);

		if (pkt == NULL)
			return nb_fail(ENOBUFS,
				       "%s: rx mempool has too few buffers for a ring of %u",
				       q->drv, q->size);
		q->slot[i] = pkt;
		rx_post(q, i, pkt);
	}
	return 0;
}

enum rx_verdict { RX_ACCEPT, RX_DROP, RX_FAULT };

/*
 * Judge a completed descriptor that is not a plain good frame (the fast
 * path in adv_rxq_burst() takes those), from its read-once status and
 * length.
 */
static __attribute__((noinline)) enum rx_verdict
rx_check_slow(struct adv_rxq *q, uint16_t i, uint32_t status, uint16_t len)
{
	if (q->in_bad_frame) {
		/* The tail of a frame spread over several descriptors. */
		if (status & ADV_RXD_STAT_EOP)
			q->in_bad_frame = false;
		return RX_DROP;
	}
	if (!(status & ADV_RXD_STAT_EOP)) {
		/* Our buffers hold a full frame; a split frame is dropped whole. */
		q->in_bad_frame = true;
		q->rx_errors++;
		return RX_DROP;
	}
	if (status & q->err_mask) {
		q->rx_errors++;
		return RX_DROP;
	}
	if (len == 0 || len > q->buf_len) {
		q->dev_faults++;
		q->stopped = true;
		nb_dev_set_fault(q->dev,
				 "%s rx slot %u: device wrote length %u into a %u-byte buffer",
				 q->drv, i, len, q->buf_len);
		return RX_FAULT;
	}
	return RX_ACCEPT;
}

/* Keep the spare stack full enough for a burst of n (one bulk alloc). */
static inline uint16_t rx_spares_for(struct adv_rxq *q, uint16_t n)
{
	if (q->n_spare < n)
		q->n_spare = (uint16_t)(q->n_spare +
			nb_pkt_alloc_bulk(q->mp, &q->spare[q->n_spare],
					  ADV_RX_SPARES - q->n_spare));
	return n < q->n_spare ? n : q->n_spare;
}

/* The write-back's RSS hash and type (read once each, after DD) into pkt:
 * data the device reports, handed on as such, never used as an index. */
static inline void rx_rss(volatile union adv_rx_desc *d, struct nb_pkt *pkt)
{
	uint32_t info = nb_dma_read32(&d->wb.info);

	pkt->rss_hash = nb_dma_read32(&d->wb.rss);
	pkt->flags = (info & ADV_RXD_RSS_TYPE_MASK) ? NB_PKT_RSS_HASH : 0;
}

/* Hand out `pkt` from slot idx and post a spare there in its place. */
static inline void rx_take(struct adv_rxq *q, unsigned idx, struct nb_pkt *pkt,
			   uint32_t len, struct nb_pkt **out)
{
	rx_rss(&q->ring[idx], pkt);
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
static inline unsigned rx_good_frames(struct adv_rxq *q, struct nb_pkt **pkts,
				      unsigned max, struct rx_stop *stop)
{
	volatile union adv_rx_desc *const ring = q->ring;
	struct nb_pkt **const slot = q->slot;
	struct nb_pkt **const spare = q->spare;
	const uint32_t buf_len = q->buf_len;
	const uint32_t check = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP | q->err_mask;
	const unsigned mask = q->size - 1u;
	unsigned idx = q->next, n_spare = q->n_spare, got;

	stop->done = false;
	for (got = 0; got < max; got++) {
		/* Write-back format: DD says the device is done with it. */
		uint32_t status = nb_dma_read32(&ring[idx].wb.status_error);
		/* Read after the status (x86 keeps loads in order), so it is
		 * the length that came with DD; unused without DD. */
		uint32_t len = nb_dma_read16(&ring[idx].wb.length);
		struct nb_pkt *pkt;

		if (NB_UNLIKELY((status & check) !=
					(ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP) ||
				len - 1u >= buf_len)) {
			stop->done = !(status & ADV_RXD_STAT_DD);
			stop->status = status;
			stop->len = (uint16_t)len;
			break;
		}
		pkt = slot[idx];
		rx_rss(&ring[idx], pkt);
		pkt->len = len;
		pkts[got] = pkt;
		pkt = spare[--n_spare];
		slot[idx] = pkt;
		/* Read format; writing hdr_addr also clears the write-back
		 * status (DD) the device left in the same bytes. */
		ring[idx].read.pkt_addr = pkt->iova;
		ring[idx].read.hdr_addr = 0;
		idx = (idx + 1) & mask;
	}
	q->next = (uint16_t)idx;
	q->n_spare = (uint16_t)n_spare;
	return got;
}

uint16_t adv_rxq_burst(struct adv_rxq *q, struct nb_pkt **pkts, uint16_t n)
{
	const uint16_t first = q->next, mask = (uint16_t)(q->size - 1);
	unsigned budget, got = 0;

	if (NB_UNLIKELY(q->stopped))
		return 0;
	if (n > ADV_RX_MAX_BURST)
		n = ADV_RX_MAX_BURST;
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
			if (!(stop.status & ADV_RXD_STAT_DD))
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
		/* RDT (82599 8.2.3.8.5, 82576 8.10): the device may fill up
		 * to RDT - 1. The refilled slot at RDT stays ours, so a full
		 * ring never looks empty. */
		nb_reg_write32(q->regs, q->rdt, (uint16_t)(q->next - 1) & mask);
	return (uint16_t)got;
}

void adv_rxq_release(struct adv_rxq *q)
{
	nb_pkt_free_bulk(q->spare, q->n_spare);
	q->n_spare = 0;
	for (uint16_t i = 0; i < q->size; i++) {
		if (q->slot[i] != NULL)
			nb_pkt_free(q->slot[i]);
		q->slot[i] = NULL;
	}
}

void adv_txq_init(struct adv_txq *q, struct nb_dev *dev, const char *drv,
		  volatile uint8_t *regs, uint32_t tdt, void *ring,
		  struct nb_pkt **slot, uint16_t size)
{
	*q = (struct adv_txq){
		.ring = ring,
		.slot = slot,
		.regs = regs,
		.dev = dev,
		.drv = drv,
		.tdt = tdt,
		.size = size,
	};
}

/* The device broke the transmit protocol: count it and stop the queue. */
static void tx_stop(struct adv_txq *q)
{
	q->dev_faults++;
	q->stopped = true;
}

/*
 * Reclaim finished batches. Every descriptor asks for a status write-back
 * (RS) and the device completes them in ring order, so DD on the
 * last descriptor of a batch must come with DD on all the earlier ones; a
 * gap is an out-of-order write-back and stops the queue. Batches start at
 * multiples of ADV_TX_CLEAN_BATCH and the ring size is a multiple of it,
 * so a batch never wraps.
 */
void adv_txq_clean(struct adv_txq *q)
{
	volatile union adv_tx_desc *const ring = q->ring; /* see rx */
	const unsigned mask = q->size - 1u;

	while (!q->stopped &&
	       ((unsigned)(q->tail - q->clean) & mask) >= ADV_TX_CLEAN_BATCH) {
		const unsigned first = q->clean;
		const unsigned last = first + ADV_TX_CLEAN_BATCH - 1u;
		uint32_t all_done = ADV_TXD_STAT_DD;

		if (!(nb_dma_read32(&ring[last].wb.status) & ADV_TXD_STAT_DD))
			return;
		/* Write-back: check each DD, then forget it, so DD on
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
					 "%s tx: device reported slot %u done before an earlier one",
					 q->drv, last);
			return;
		}
		nb_pkt_free_bulk(&q->slot[first], ADV_TX_CLEAN_BATCH);
		q->clean = (uint16_t)((first + ADV_TX_CLEAN_BATCH) & mask);
	}
}

/*
 * The fast path: post pkts[0..n) while each one's pool is the one last seen
 * and its length is in ADV_TX_MIN_LEN..last_max_len. Returns how many it
 * posted; the caller handles the one it stopped at. Call-free, in locals
 * (see rx).
 */
static inline unsigned tx_post_frames(struct adv_txq *q, struct nb_pkt **pkts,
				      unsigned n)
{
	volatile union adv_tx_desc *const ring = q->ring;
	struct nb_pkt **const slot = q->slot;
	const struct nb_mempool *const pool = q->last_pool;
	const uint32_t span = q->last_max_len - ADV_TX_MIN_LEN;
	const unsigned mask = q->size - 1u;
	unsigned idx = q->tail, i;

	for (i = 0; i < n; i++) {
		struct nb_pkt *pkt = pkts[i];
		uint32_t len = pkt->len;

		if (NB_UNLIKELY(pkt->pool != pool || len - ADV_TX_MIN_LEN > span))
			break;
		/* Advanced data descriptor (82599 7.2.3.2.4, 82576 7.2.2.3),
		 * one buffer per frame; len <= 65535 fits DTALEN. */
		ring[idx].read.buffer_addr = pkt->iova;
		ring[idx].read.cmd_type_len =
			len | ADV_TXD_DTYP_DATA | ADV_TXD_CMD_EOP |
			ADV_TXD_CMD_IFCS | ADV_TXD_CMD_RS | ADV_TXD_CMD_DEXT;
		ring[idx].read.olinfo = len << ADV_TXD_PAYLEN_SHIFT;
		slot[idx] = pkt;
		idx = (idx + 1) & mask;
	}
	q->tail = (uint16_t)idx;
	return i;
}

uint16_t adv_txq_burst(struct adv_txq *q, struct nb_pkt **pkts, uint16_t n)
{
	const uint16_t first = q->tail, mask = (uint16_t)(q->size - 1);
	unsigned room, done = 0;

	adv_txq_clean(q);
	if (NB_UNLIKELY(q->stopped))
		return 0;
	/* Free slots carry no DD (clean-up zeroes it): DD at the next slot
	 * to post means the device wrote a descriptor it was never given. */
	if (NB_UNLIKELY(nb_dma_read32(&q->ring[q->tail].wb.status) &
			ADV_TXD_STAT_DD)) {
		tx_stop(q);
		nb_dev_set_fault(q->dev,
				 "%s tx: device marked slot %u done before it was posted",
				 q->drv, q->tail);
		return 0;
	}
	/* One slot stays empty: TDH == TDT means "nothing to send". */
	room = mask - ((q->tail - q->clean) & mask);
	if (n > room)
		n = (uint16_t)room;
	while ((done += tx_post_frames(q, pkts + done, n - done)) < n) {
		struct nb_pkt *pkt = pkts[done];

		if (pkt->pool != q->last_pool) { /* then retry it */
			uint32_t buf_size = nb_mempool_buf_size(pkt->pool);

			q->last_pool = pkt->pool;
			q->last_max_len = buf_size < ADV_TX_MAX_LEN ? buf_size : ADV_TX_MAX_LEN;
			if (q->last_max_len < ADV_TX_MIN_LEN)
				q->last_max_len = ADV_TX_MIN_LEN - 1u; /* none fits */
			continue;
		}
		/* Shorter than ADV_TX_MIN_LEN, beyond its buffer or beyond
		 * what DTALEN holds: the caller's bug. The frame counts as
		 * taken and is dropped, the descriptor is never written. */
		q->tx_errors++;
		nb_pkt_free(pkt);
		done++;
	}
	if (q->tail != first)
		/* TDT (82599 8.2.3.9.9, 82576 8.12): one past the last
		 * descriptor to send. */
		nb_reg_write32(q->regs, q->tdt, q->tail);
	return (uint16_t)done;
}

void adv_txq_release(struct adv_txq *q)
{
	const uint16_t mask = (uint16_t)(q->size - 1);

	for (uint16_t i = q->clean; i != q->tail; i = (i + 1) & mask)
		nb_pkt_free(q->slot[i]);
	q->clean = q->tail;
}

void adv_add_queue_stats(const struct adv_rxq *rxq, uint16_t n_rxq,
			 const struct adv_txq *txq, uint16_t n_txq,
			 struct nb_stats *out)
{
	for (uint16_t q = 0; q < n_rxq; q++) {
		out->rx_errors += rxq[q].rx_errors;
		out->dev_faults += rxq[q].dev_faults;
	}
	for (uint16_t q = 0; q < n_txq; q++) {
		out->tx_errors += txq[q].tx_errors;
		out->dev_faults += txq[q].dev_faults;
	}
}

void adv_release_queues(struct adv_rxq *rxq, uint16_t n_rxq,
			struct adv_txq *txq, uint16_t n_txq)
{
	for (uint16_t q = 0; q < n_rxq; q++) {
		if (rxq[q].slot != NULL)
			adv_rxq_release(&rxq[q]);
		free(rxq[q].slot);
	}
	for (uint16_t q = 0; q < n_txq; q++) {
		if (txq[q].slot != NULL)
			adv_txq_release(&txq[q]);
		free(txq[q].slot);
	}
}

int adv_map_bar0(const char *drv, struct nb_pci *pci, uint32_t min_len,
		 volatile uint8_t **regs)
{
	size_t bar_len;
	void *bar;

	if (pci->ops->map_bar(pci, 0, &bar, &bar_len) < 0)
		return -1;
	if (bar_len < min_len)
		return nb_fail(ENODEV, "%s %s: BAR0 is %zu bytes, need %u",
			       drv, pci->name, bar_len, min_len);
	/* Bus mastering stays off until the driver has reset the device: the
	 * rings a previous user left programmed must not DMA into this
	 * session's pool (82599 Specification Update; the same holds for the
	 * 82576). vfio-pci enabled memory decoding when the device was opened. */
	if (nb_pci_disable_dma(pci) < 0)
		return -1;
	*regs = bar;
	return 0;
}

void adv_mac_from_ra(uint32_t ral, uint32_t rah, uint8_t mac[6])
{
	for (int i = 0; i < 4; i++)
		mac[i] = (uint8_t)(ral >> (8 * i));
	mac[4] = (uint8_t)rah;
	mac[5] = (uint8_t)(rah >> 8);
}
