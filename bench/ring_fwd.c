/* SPDX-License-Identifier: MIT */
/*
 * ring_fwd.c - forwarding workload for bench/ring-bench.sh on software
 * devices, one thread: the Intel advanced-descriptor rings as igb runs them
 * (drivers/intel/adv_ring.c with the 82576's error bit) and virtio-net's
 * split virtqueues (drivers/virtio, the device played by
 * test/virtio/softdev.h). The "device" runs between forwarding steps,
 * in dev_step(), outside the measurement: callgrind counts only fwd_step()
 * (--toggle-collect=fwd_step), i.e. the driver and the mempool.
 *
 * A step: receive up to BATCH from the rx queue, (touch mode) read the
 * first cache line of each frame, send them on the tx queue, free what
 * did not fit. Modes:
 *   full   the device completes BATCH frames before every step;
 *   half   ... before every second step: a 50%-loaded poll loop, the
 *          empty polls counted;
 *   touch  as full, plus one read of each frame's first cache line.
 *
 * Usage: ring_fwd_bench igb|virtio full|half|touch BATCH PACKETS
 * Prints: forwarded N steps S empty E
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../drivers/igb/igb_regs.h"
#include "../drivers/intel/adv_ring.h"
#include "../test/virtio/softdev.h"

#define RING 512u
#define MAX_BATCH 64u
#define FRAME_LEN 60u

static struct {
	struct nb_pool *dma;
	struct nb_mempool *mp;
	bool virtio, touch;
	/* Intel */
	struct adv_rxq rxq;
	struct adv_txq txq;
	struct nb_dev dev;
	uint32_t regs[0x4000 / 4];
	unsigned rx_head, tx_head; /* the device's RDH and TDH */
	/* virtio */
	struct nb_stats stats;
	struct vnet_rxq vrx;
	struct vnet_txq vtx;
	struct softdev drx, dtx;
} b;

#define RDT 0x2818u /* 82576 RDT(0) and TDT(0): only the tail matters here */
#define TDT 0x3818u

/* The Intel device: DD on every RS descriptor up to TDT, then `frames`
 * receive write-backs up to RDT - 1. */
static void intel_dev(unsigned frames)
{
	volatile union adv_tx_desc *tx = b.txq.ring;
	volatile union adv_rx_desc *rx = b.rxq.ring;
	unsigned tdt = b.regs[TDT / 4], rdt = b.regs[RDT / 4];

	for (; b.tx_head != tdt; b.tx_head = (b.tx_head + 1) % RING)
		if (tx[b.tx_head].read.cmd_type_len & ADV_TXD_CMD_RS)
			tx[b.tx_head].wb.status = ADV_TXD_STAT_DD;
	for (unsigned i = 0; i < frames && b.rx_head != rdt; i++) {
		rx[b.rx_head].wb.length = FRAME_LEN;
		rx[b.rx_head].wb.status_error = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP;
		b.rx_head = (b.rx_head + 1) % RING;
	}
}

/* The virtio device: complete every sent frame, fill `frames` buffers. */
static void virtio_dev(unsigned frames)
{
	uint16_t head;

	while (softdev_pop(&b.dtx, &head))
		softdev_used(&b.dtx, head, 0);
	softdev_publish(&b.dtx);
	for (unsigned i = 0; i < frames && softdev_pop(&b.drx, &head); i++)
		softdev_used(&b.drx, head, VIRTIO_NET_HDR_LEN + FRAME_LEN);
	softdev_publish(&b.drx);
}

static void dev_step(unsigned frames)
{
	if (b.virtio)
		virtio_dev(frames);
	else
		intel_dev(frames);
}

/* Not static, not inlined: callgrind toggles collection on it. */
uint32_t fwd_step(uint16_t batch);

__attribute__((noinline)) uint32_t fwd_step(uint16_t batch)
{
	struct nb_pkt *pkts[MAX_BATCH];
	uint16_t got, sent;

	got = b.virtio ? vnet_rx_burst(&b.vrx, pkts, batch)
		       : adv_rxq_burst(&b.rxq, pkts, batch);
	if (b.touch)
		for (uint16_t i = 0; i < got; i++)
			(void)*(volatile uint8_t *)pkts[i]->data;
	sent = b.virtio ? vnet_tx_burst(&b.vtx, pkts, got)
			: adv_txq_burst(&b.txq, pkts, got);
	if (sent < got)
		nb_pkt_free_bulk(&pkts[sent], (uint32_t)(got - sent));
	return got;
}

static int die(const char *what)
{
	fprintf(stderr, "ring_fwd_bench: %s: %s\n", what, nb_last_error());
	return 1;
}

static int open_intel(void)
{
	uint64_t iova;
	void *rr, *tr;
	struct nb_pkt **rs, **ts;

	if (adv_alloc_ring("igb", b.dma, RING, &rr, &iova, &rs) < 0 ||
	    adv_alloc_ring("igb", b.dma, RING, &tr, &iova, &ts) < 0)
		return -1;
	adv_rxq_init(&b.rxq, &b.dev, "igb", (volatile uint8_t *)b.regs, RDT, rr,
		     rs, RING, b.mp, 2, IGB_RXD_ERR_RXE);
	adv_txq_init(&b.txq, &b.dev, "igb", (volatile uint8_t *)b.regs, TDT, tr,
		     ts, RING);
	if (adv_rxq_fill(&b.rxq) < 0)
		return -1;
	b.regs[RDT / 4] = RING - 1u; /* as the driver's start_queues does */
	return 0;
}

static int open_virtio(void)
{
	if (vq_init(&b.vrx.vq, b.dma, VIRTIO_NET_RXQ, RING, 0, softdev_kick,
		    softdev_fault, &b.drx) < 0 ||
	    vq_init(&b.vtx.vq, b.dma, VIRTIO_NET_TXQ, RING, 0, softdev_kick,
		    softdev_fault, &b.dtx) < 0)
		return -1;
	b.vrx.mp = b.mp;
	b.vrx.buf_size = nb_mempool_buf_size(b.mp);
	b.vrx.stats = &b.stats;
	b.vtx.stats = &b.stats;
	softdev_attach(&b.drx, &b.vrx.vq, b.dma);
	softdev_attach(&b.dtx, &b.vtx.vq, b.dma);
	vnet_rxq_refill(&b.vrx);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long batch, want, done = 0, steps = 0, empty = 0;
	bool half;

	if (argc != 5 || (strcmp(argv[1], "igb") && strcmp(argv[1], "virtio")) ||
	    (strcmp(argv[2], "full") && strcmp(argv[2], "half") && strcmp(argv[2], "touch")) ||
	    (batch = strtoul(argv[3], NULL, 0)) == 0 || batch > MAX_BATCH ||
	    (want = strtoul(argv[4], NULL, 0)) == 0) {
		fprintf(stderr, "usage: %s igb|virtio full|half|touch BATCH(1..%u) PACKETS\n",
			argv[0], MAX_BATCH);
		return 2;
	}
	b.virtio = strcmp(argv[1], "virtio") == 0;
	b.touch = strcmp(argv[2], "touch") == 0;
	half = strcmp(argv[2], "half") == 0;
	if (nb_pool_create_unmapped(64u << 20, 0x100000000ull, &b.dma) < 0 ||
	    nb_mempool_create(b.dma, 4096, 2048, &b.mp) < 0)
		return die("pool");
	if ((b.virtio ? open_virtio() : open_intel()) < 0)
		return die("open");
	while (done < want) {
		uint32_t n;

		if (!half || steps % 2 == 0)
			dev_step((unsigned)batch);
		else
			dev_step(0); /* completions only: this poll finds nothing */
		n = fwd_step((uint16_t)batch);
		steps++;
		empty += n == 0;
		done += n;
	}
	printf("forwarded %lu steps %lu empty %lu\n", done, steps, empty);
	return 0;
}
