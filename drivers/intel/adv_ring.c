/* SPDX-License-Identifier: MIT */
/*
 * adv_ring.c - receive and transmit rings of Intel's advanced descriptors,
 * shared by ixgbe (82599 datasheet 7.1.6 and 7.2.3.2.4) and igb (82576
 * datasheet 7.1.5 and 7.2.2.3); see adv_ring.h for what differs per chip.
 * Batched: receive rearms 32 slots at a time (one RDT write each),
 * transmit asks for a status write-back on every 32nd descriptor only and
 * reclaims 32 buffers per DD it reads; descriptors are written with one
 * 16-byte store each.
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
	const struct adv_path *path;

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
	if (adv_path_asked(drv, &path) < 0)
		return -1;
	if (nb_conf_rx_mempools(drv, pci->name, conf, out->n_rxq, ADV_RX_MIN_BUF_SIZE,
				"the device counts buffers in whole KiB and a 1518-byte frame needs 2 KiB",
				out->rx_mp) < 0)
		return -1;
	for (uint16_t q = 0; q < out->n_rxq; q++)
		out->bsize_kb[q] = adv_rx_bsize_kb(nb_mempool_buf_size(out->rx_mp[q]),
						   max_bsize_kb);
	return 0;
}

void adv_rss_program(volatile uint8_t *regs, uint32_t reta0, uint32_t rssrk0,
		     struct adv_rxq *rxq, uint16_t n_rxq, const uint8_t *key)
{
	for (uint16_t q = 0; q < n_rxq; q++)
		rxq[q].rss = true;
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
		.hold = size, /* nothing posted until adv_rxq_fill() */
		/* A quarter of the smallest ring, so a 64-slot ring still
		 * gives the device 48 or more. */
		.rearm = (uint16_t)(size / 4u < ADV_RX_REARM ? size / 4u : ADV_RX_REARM),
		.path = adv_path_get(),
	};
	nb_mempool_iova_map(mp, &q->iova);
}

/* Post the buffers of slot[first..first+n) (read format, 82599 7.1.6.1,
 * 82576 7.1.5): one 16-byte store each, IOVA computed from the private
 * nb_pkt address, so no buffer's metadata is loaded. Writing hdr_addr = 0
 * also clears the write-back status (DD) the device left there. */
static inline void rx_post(struct adv_rxq *q, unsigned first, unsigned n)
{
	q->path->rx_post(&q->ring[first], &q->slot[first], n, &q->iova);
}

int adv_rxq_fill(struct adv_rxq *q)
{
	if (nb_mempool_get_bulk(q->mp, q->slot, q->size) == 0)
		return nb_fail(ENOBUFS,
			       "%s: rx mempool has too few buffers for a ring of %u (%u free)",
			       q->drv, q->size, nb_mempool_available(q->mp));
	rx_post(q, 0, q->size);
	q->next = 0;
	q->hold = 0;
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

/* Refill empty slots q->rearm at a time while the mempool has them; true
 * if any was refilled. The empty run starts at a multiple of q->rearm (it
 * only ever moves by that much, and it divides the ring size), so a chunk
 * never wraps. */
static bool rx_rearm(struct adv_rxq *q)
{
	const unsigned mask = q->size - 1u;
	bool any = false;

	while (q->hold >= q->rearm) {
		unsigned first = (unsigned)(q->next - q->hold) & mask;

		if (nb_mempool_get_bulk(q->mp, &q->slot[first], q->rearm) == 0)
			break; /* pool dry: the ring runs shorter until frees */
		rx_post(q, first, q->rearm);
		q->hold = (uint16_t)(q->hold - q->rearm);
		any = true;
	}
	return any;
}

uint16_t adv_rxq_burst(struct adv_rxq *q, struct nb_pkt **pkts, uint16_t n)
{
	const unsigned mask = q->size - 1u;
	const uint32_t check = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP | q->err_mask;
	unsigned budget, got = 0, idx = q->next;

	if (NB_UNLIKELY(q->stopped))
		return 0;
	/* Never reach an empty slot: at most size - 1 - hold descriptors. */
	budget = mask - q->hold;
	if (budget > n)
		budget = n;
	if (budget > ADV_RX_MAX_BURST)
		budget = ADV_RX_MAX_BURST;
	while (budget > 0) {
		uint64_t wb = 0;
		uint32_t status;
		uint16_t len;

		if (NB_LIKELY(!q->in_bad_frame)) {
			unsigned room = q->size - idx; /* no wrap inside a scan */
			unsigned max = budget < room ? budget : room;
			/* Whole good frames (adv_path.c), read once. */
			unsigned good = q->path->rx_scan[q->rss](&q->ring[idx], &q->slot[idx],
								 pkts + got, max, check,
								 q->buf_len, &wb);

			got += good;
			budget -= good;
			idx = (idx + good) & mask;
			if (good == max)
				continue;
		} else {
			/* Inside a split frame every descriptor goes slow. */
			wb = nb_dma_read64(&q->ring[idx].wb.status_error);
		}
		/* The odd descriptor at idx, judged by its read-once fields. */
		status = (uint32_t)wb;
		len = (uint16_t)(wb >> ADV_RXD_LEN_SHIFT);
		if (!(status & ADV_RXD_STAT_DD))
			break;
		switch (rx_check_slow(q, (uint16_t)idx, status, len)) {
		case RX_FAULT:
			budget = 0;
			continue;
		case RX_ACCEPT:
			/* DD was seen in the status read above. */
			if (q->rss)
				adv_rx_rss(q->slot[idx], nb_dma_read64(&q->ring[idx].wb.info));
			else
				adv_rx_no_rss(q->slot[idx]);
			q->slot[idx]->len = len;
			pkts[got++] = q->slot[idx];
			break;
		case RX_DROP: /* the buffer goes back; the slot waits for rearm */
			nb_mempool_put_bulk(q->mp, &q->slot[idx], 1);
			break;
		}
		idx = (idx + 1) & mask;
		budget--;
	}
	q->hold = (uint16_t)(q->hold + ((idx - q->next) & mask));
	q->next = (uint16_t)idx;
	if (q->hold >= q->rearm && rx_rearm(q))
		/* RDT (82599 8.2.3.8.5, 82576 8.10): the device may fill up
		 * to RDT - 1. RDT is the last refilled slot, which stays ours
		 * until the next rearm, so a full ring never looks empty. */
		nb_reg_write32(q->regs, q->rdt,
			       (uint32_t)(q->next - q->hold - 1u) & mask);
	return (uint16_t)got;
}

void adv_rxq_release(struct adv_rxq *q)
{
	const unsigned mask = q->size - 1u;

	/* Every slot but the empty ones has a buffer posted. */
	for (unsigned i = 0; i < (unsigned)q->size - q->hold; i++)
		nb_mempool_put_bulk(q->mp, &q->slot[(q->next + i) & mask], 1);
	q->hold = q->size;
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
		.path = adv_path_get(),
	};
}

/* The device broke the transmit protocol: count it, stop the queue, say why. */
static void tx_fault(struct adv_txq *q, const char *what, unsigned slot)
{
	q->dev_faults++;
	q->stopped = true;
	nb_dev_set_fault(q->dev, "%s tx: device %s (slot %u)", q->drv, what, slot);
}

/*
 * Reclaim finished batches. Only the last descriptor of each batch of
 * ADV_TX_RS_THRESH asks for a write-back (RS), and the device completes
 * descriptors in ring order, so its DD covers the whole batch: one read
 * per batch. The DD is then cleared, so DD on a free slot means the
 * device wrote a descriptor we never gave it (checked at each burst). The
 * newest posted batch done while the oldest is not is an out-of-order
 * write-back and stops the queue (checked only when a batch is not done,
 * so it costs nothing while traffic flows).
 */
void adv_txq_clean(struct adv_txq *q)
{
	volatile union adv_tx_desc *const ring = q->ring;
	const unsigned mask = q->size - 1u;

	while (!q->stopped) {
		const unsigned first = q->clean;
		const unsigned last = first + ADV_TX_RS_THRESH - 1u;
		const unsigned busy = (unsigned)(q->tail - first) & mask;

		if (busy < ADV_TX_RS_THRESH)
			return;
		/* Write-back: only the DD bit is defined (82599 7.2.3.2.4,
		 * 82576 7.2.2.3). */
		if (!(nb_dma_read32(&ring[last].wb.status) & ADV_TXD_STAT_DD)) {
			/* The newest full batch done while this one is not:
			 * out of order. */
			const unsigned newest = (first + (busy & ~(ADV_TX_RS_THRESH - 1u)) - 1u) & mask;

			if (newest != last &&
			    (nb_dma_read32(&ring[newest].wb.status) & ADV_TXD_STAT_DD))
				tx_fault(q, "reported a batch done before an earlier one",
					 newest);
			return;
		}
		ring[last].wb.status = 0;
		/* Posted since the last pool change: all from one pool, one
		 * copy; else buffer by buffer to their own pools. */
		if ((int32_t)(q->posted - busy - q->pool_since) >= 0)
			nb_mempool_put_bulk(q->slot[first]->pool, &q->slot[first],
					    ADV_TX_RS_THRESH);
		else
			nb_pkt_free_bulk(&q->slot[first], ADV_TX_RS_THRESH);
		q->clean = (uint16_t)((first + ADV_TX_RS_THRESH) & mask);
	}
}

/*
 * The fast path: post pkts[0..n) while each one's pool is the one last seen
 * and its length is in ADV_TX_MIN_LEN..last_max_len (adv_path.c), up to
 * the ring's end. Returns how many it posted; the caller handles the one
 * it stopped at.
 */
static inline unsigned tx_post_frames(struct adv_txq *q, struct nb_pkt **pkts,
				      unsigned n)
{
	const unsigned idx = q->tail;
	const unsigned room = (unsigned)q->size - idx; /* no wrap in the loop */
	unsigned i;

	i = q->path->tx_post(&q->ring[idx], &q->slot[idx], pkts, n < room ? n : room,
			     q->last_pool, q->last_max_len - ADV_TX_MIN_LEN);
	q->tail = (uint16_t)((idx + i) & (q->size - 1u));
	q->posted += i;
	return i;
}

/* RS on every descriptor of [first, tail) that ends a batch (slot index
 * one below a multiple of ADV_TX_RS_THRESH): one 4-byte store each, before
 * TDT hands them to the device. */
static void tx_set_rs(struct adv_txq *q, unsigned first)
{
	const unsigned mask = q->size - 1u;
	const unsigned count = (unsigned)(q->tail - first) & mask;

	for (unsigned k = ADV_TX_RS_THRESH - 1u - (first & (ADV_TX_RS_THRESH - 1u));
	     k < count; k += ADV_TX_RS_THRESH) {
		volatile union adv_tx_desc *d = &q->ring[(first + k) & mask];

		d->read.cmd_type_len |= ADV_TXD_CMD_RS;
	}
}

uint16_t adv_txq_burst(struct adv_txq *q, struct nb_pkt **pkts, uint16_t n)
{
	const uint16_t first = q->tail, mask = (uint16_t)(q->size - 1);
	unsigned room, done = 0;

	if (((q->tail - q->clean) & mask) >= ADV_TX_RS_THRESH)
		adv_txq_clean(q);
	if (NB_UNLIKELY(q->stopped))
		return 0;
	/* Free slots carry no DD (clean-up clears it, posting overwrites
	 * it): DD at the next slot to post means the device wrote a
	 * descriptor it was never given. */
	if (NB_UNLIKELY(nb_dma_read32(&q->ring[q->tail].wb.status) &
			ADV_TXD_STAT_DD)) {
		tx_fault(q, "marked a slot done before it was posted", q->tail);
		return 0;
	}
	/* One slot stays empty: TDH == TDT means "nothing to send". */
	room = mask - ((q->tail - q->clean) & mask);
	if (n > room)
		n = (uint16_t)room;
	while ((done += tx_post_frames(q, pkts + done, n - done)) < n) {
		struct nb_pkt *pkt = pkts[done];

		if (q->tail == 0 && pkt->pool == q->last_pool &&
		    pkt->len - ADV_TX_MIN_LEN <= q->last_max_len - ADV_TX_MIN_LEN)
			continue; /* stopped at the ring's end: go on at slot 0 */
		if (pkt->pool != q->last_pool) { /* then retry it */
			uint32_t buf_size = nb_mempool_buf_size(pkt->pool);

			q->last_pool = pkt->pool;
			q->pool_since = q->posted;
			/* Buffers hold at least 64 bytes (nb_mempool_create
			 * rounds up to a cache line), so the span the loops
			 * get is 64 - ADV_TX_MIN_LEN..ADV_TX_MAX_LEN -
			 * ADV_TX_MIN_LEN, below 2^16 as adv_path.c needs. */
			q->last_max_len = buf_size < ADV_TX_MAX_LEN ? buf_size : ADV_TX_MAX_LEN;
			continue;
		}
		/* Shorter than ADV_TX_MIN_LEN, beyond its buffer or beyond
		 * what DTALEN holds: the caller's bug. The frame counts as
		 * taken and is dropped, the descriptor is never written. */
		q->tx_errors++;
		nb_pkt_free(pkt);
		done++;
	}
	if (q->tail != first) {
		tx_set_rs(q, first);
		/* TDT (82599 8.2.3.9.9, 82576 8.12): one past the last
		 * descriptor to send. */
		nb_reg_write32(q->regs, q->tdt, q->tail);
	}
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

static struct adv_port *to_port(struct nb_dev *dev)
{
	return NB_CONTAINER_OF(dev, struct adv_port, nb);
}

void adv_port_init(struct adv_port *port, const struct nb_dev_ops *ops, struct nb_pci *pci,
		   const struct adv_conf *c, uint16_t max_queues, struct adv_rxq *rxq,
		   struct adv_txq *txq, void (*collect_stats)(struct adv_port *port))
{
	port->nb.head.ops = ops;
	port->nb.pci = pci;
	port->n_rxq = c->n_rxq;
	port->n_txq = c->n_txq;
	port->rxq = rxq;
	port->txq = txq;
	port->collect_stats = collect_stats;
	nb_dev_set_geometry(&port->nb, c->n_rxq, c->n_txq, max_queues, c->rx_size, c->tx_size);
}

uint16_t adv_port_rx_batch(struct nb_dev *dev, uint16_t queue,
			   struct nb_pkt **pkts, uint16_t n)
{
	struct adv_port *p = to_port(dev);

	if (NB_UNLIKELY(queue >= p->n_rxq))
		return 0;
	return adv_rxq_burst(&p->rxq[queue], pkts, n);
}

uint16_t adv_port_tx_batch(struct nb_dev *dev, uint16_t queue,
			   struct nb_pkt **pkts, uint16_t n)
{
	struct adv_port *p = to_port(dev);

	if (NB_UNLIKELY(queue >= p->n_txq))
		return 0;
	return adv_txq_burst(&p->txq[queue], pkts, n);
}

int adv_port_read_stats(struct nb_dev *dev, struct nb_stats *out)
{
	struct adv_port *p = to_port(dev);

	p->collect_stats(p);
	*out = p->hw;
	adv_add_queue_stats(p->rxq, p->n_rxq, p->txq, p->n_txq, out);
	return 0;
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
