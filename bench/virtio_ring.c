/* SPDX-License-Identifier: MIT */
/*
 * virtio_ring.c - forwarding workload for bench/virtio-bench.sh: the
 * virtio-net receive and transmit code (virtio_rxtx.c on virtqueue.c) on
 * the software device of the unit tests (test/virtio/softdev.h), split or
 * packed, with or without VIRTIO_F_EVENT_IDX, one thread.
 *
 * Each round the device puts `batch` 60-byte frames on the receive queue;
 * the forwarding step (fwd_step, the only code callgrind counts) receives
 * them, with the receive refill, and sends them on the transmit queue,
 * with the transmit clean-up. Every `lag` rounds the device drains the
 * transmit queue and completes what it sent.
 *
 * The device handles notifications like QEMU's virtio-net: receive
 * notifications stay off while it has buffers (it never runs out here);
 * a transmit kick turns them off until the device has drained the queue,
 * then it asks for the next one (NO_NOTIFY cleared; with EVENT_IDX
 * avail_event at its position; packed: ENABLE or DESC at its position).
 * The program prints the packets forwarded and the doorbells rung.
 *
 * Usage: virtio_ring_bench split|split-ei|packed|packed-ei BATCH PACKETS [LAG]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softdev.h"

#define POOL_BYTES (16u << 20)
#define FAKE_IOVA 0x40000000ull
#define RING 256u
#define MP_COUNT 2048u
#define FRAME_LEN 60u
#define MAX_BATCH 64u

/* Not static and not inlined: callgrind toggles collection on it. */
uint32_t fwd_step(struct vnet_rxq *rxq, struct vnet_txq *txq, uint16_t batch);

__attribute__((noinline)) uint32_t fwd_step(struct vnet_rxq *rxq,
					    struct vnet_txq *txq,
					    uint16_t batch)
{
	struct nb_pkt *pkts[MAX_BATCH];
	uint16_t got = vnet_rx_burst(rxq, pkts, batch);
	uint16_t sent = vnet_tx_burst(txq, pkts, got);

	if (sent < got)
		nb_pkt_free_bulk(&pkts[sent], (uint32_t)(got - sent));
	return got;
}

/* QEMU on a transmit kick: no more kicks until it has drained the queue. */
static void tx_kick(struct virtqueue *vq)
{
	struct softdev *d = vq->ctx;

	d->kicks++;
	softdev_notify(d, false);
}

static int parse_mode(const char *mode, unsigned *flags)
{
	static const struct { const char *name; unsigned flags; } modes[] = {
		{ "split", 0 },
		{ "split-ei", VQ_EVENT_IDX },
		{ "packed", VQ_PACKED },
		{ "packed-ei", VQ_PACKED | VQ_EVENT_IDX },
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(mode, modes[i].name) == 0) {
			*flags = modes[i].flags;
			return 0;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct softdev rxdev, txdev;
	uint8_t frame[FRAME_LEN], out[2048];
	struct vnet_rxq rxq = { 0 };
	struct vnet_txq txq = { 0 };
	struct nb_stats stats = { 0 };
	struct nb_pool *dma;
	struct nb_mempool *mp;
	unsigned flags = 0, batch, lag = 1;
	unsigned long packets, forwarded = 0, rounds = 0, short_rounds = 0;

	if (argc < 4 || parse_mode(argv[1], &flags) < 0 ||
	    (batch = (unsigned)strtoul(argv[2], NULL, 0)) == 0 ||
	    batch > MAX_BATCH || (packets = strtoul(argv[3], NULL, 0)) == 0 ||
	    (argc > 4 && (lag = (unsigned)strtoul(argv[4], NULL, 0)) == 0)) {
		fprintf(stderr, "usage: %s split|split-ei|packed|packed-ei "
			"BATCH(1-%u) PACKETS [LAG]\n", argv[0], MAX_BATCH);
		return 2;
	}
	if (nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &dma) < 0 ||
	    nb_mempool_create(dma, MP_COUNT, 2048, &mp) < 0 ||
	    vq_init(&rxq.vq, dma, VIRTIO_NET_RXQ, RING, flags, softdev_kick,
		    softdev_fault, &rxdev) < 0 ||
	    vq_init(&txq.vq, dma, VIRTIO_NET_TXQ, RING, flags, tx_kick,
		    softdev_fault, &txdev) < 0) {
		fprintf(stderr, "virtio_ring_bench: %s\n", nb_last_error());
		return 2;
	}
	rxq.mp = mp;
	rxq.buf_size = nb_mempool_buf_size(mp);
	rxq.stats = &stats;
	txq.stats = &stats;
	softdev_attach(&rxdev, &rxq.vq, dma);
	softdev_attach(&txdev, &txq.vq, dma);
	softdev_notify(&rxdev, false); /* it has buffers: no kicks */
	softdev_notify(&txdev, true);
	vnet_rxq_refill(&rxq);
	memset(frame, 0xab, sizeof(frame));

	while (forwarded < packets) {
		for (unsigned i = 0; i < batch; i++)
			if (!softdev_rx_frame(&rxdev, frame, FRAME_LEN))
				break;
		softdev_publish(&rxdev);
		uint32_t got = fwd_step(&rxq, &txq, (uint16_t)batch);

		forwarded += got;
		short_rounds += got < batch;
		if (++rounds % lag == 0) {
			while (softdev_tx_frame(&txdev, out, sizeof(out)) >= 0)
				;
			softdev_publish(&txdev);
			softdev_notify(&txdev, true); /* drained: kick me */
		}
		if (rxdev.faults || txdev.faults) {
			fprintf(stderr, "virtio_ring_bench: fault: %s%s\n",
				rxdev.fault, txdev.fault);
			return 1;
		}
	}
	printf("mode %s batch %u lag %u forwarded %lu rounds %lu short %lu "
	       "rx_kicks %llu tx_kicks %llu\n", argv[1], batch, lag, forwarded,
	       rounds, short_rounds, (unsigned long long)rxq.vq.kicks,
	       (unsigned long long)txq.vq.kicks);
	vq_fini(&rxq.vq, vnet_release_pkt, NULL);
	vq_fini(&txq.vq, vnet_release_pkt, NULL);
	if (nb_mempool_available(mp) != MP_COUNT) {
		fprintf(stderr, "virtio_ring_bench: buffers missing\n");
		return 1;
	}
	nb_mempool_destroy(mp);
	nb_pool_destroy(dma);
	return 0;
}
