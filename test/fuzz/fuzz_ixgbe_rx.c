/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ixgbe_rx.c - the advanced-descriptor receive ring (drivers/intel,
 * shared by ixgbe and igb) with the fuzz input as the device: the input says
 * what the "device" writes into the descriptor ring between the driver's
 * bursts. An odd input length runs the ring with the 82576's error bit
 * (igb), an even one with the 82599's (ixgbe); nothing else differs.
 *
 * Input, repeated until it runs out:
 *   u8 burst   how many packets the driver asks for
 *   u8 offset  first slot written, relative to the driver's next slot
 *   u8 count   descriptors written (mod RING + 1)
 *   count * 16 bytes of descriptor contents
 * Checked after every burst: each packet handed out is one of our buffers
 * with a length inside it, none is handed out twice (the mempool's debug
 * check in this build refuses a second free), the ring's empty slots are
 * accounted for; at the end every buffer is back in the mempool.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../drivers/intel/adv_ring.h"
#include "../../drivers/igb/igb_regs.h"
#include "../../drivers/ixgbe/ixgbe_regs.h"

#define RING 64u
#define N_BUFS (RING + 32u)
#define BUF_SIZE 2048u

static struct nb_pool *dma;
static struct nb_mempool *mp;
static void *ring;
static uint32_t regs[0x2000 / 4]; /* covers RDT(0) at 0x1018 */

static void setup_once(void)
{
	uint64_t iova;

	if (nb_pool_create_unmapped(1u << 20, 0x10000000ull, &dma) < 0 ||
	    nb_mempool_create(dma, N_BUFS, BUF_SIZE, &mp) < 0 ||
	    nb_pool_carve(dma, RING * 16u, ADV_RING_ALIGN, &ring, &iova) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nb_pkt *slot[RING], *pkts[RING];
	struct nb_dev dev;
	struct adv_rxq q;

	if (dma == NULL)
		setup_once();
	memset(&dev, 0, sizeof(dev));
	memset(ring, 0, RING * 16u);
	memset(slot, 0, sizeof(slot));
	adv_rxq_init(&q, &dev, "fuzz", (volatile uint8_t *)regs, IXGBE_RDT(0),
		     ring, slot, RING, mp, BUF_SIZE >> ADV_RX_BSIZE_SHIFT,
		     (size & 1) ? IGB_RXD_ERR_RXE : IXGBE_RXD_ERR_RXE);
	if (adv_rxq_fill(&q) < 0)
		abort();
	while (size >= 3) {
		uint16_t burst = data[0], offset = data[1];
		size_t count = data[2] % (RING + 1u), got;

		data += 3;
		size -= 3;
		for (size_t i = 0; i < count && size >= 16; i++) {
			uint16_t s = (uint16_t)((q.next + offset + i) % RING);

			memcpy((uint8_t *)ring + s * 16u, data, 16);
			data += 16;
			size -= 16;
		}
		got = adv_rxq_burst(&q, pkts, burst);
		if (got > burst)
			abort();
		for (size_t i = 0; i < got; i++) {
			struct nb_pkt *p = pkts[i];

			if (p->pool != mp || p->idx >= N_BUFS ||
			    p != nb_mempool_pkt(mp, p->idx) || p->len == 0 ||
			    p->len > BUF_SIZE)
				abort();
			p->data[p->len - 1] ^= 1; /* ASan checks the bytes are ours */
		}
		/* A running queue rearms whenever a batch is empty and the
		 * pool (the frames just received still out) has one. */
		if (!q.stopped && q.hold >= q.rearm &&
		    nb_mempool_available(mp) >= q.rearm)
			abort();
		nb_pkt_free_bulk(pkts, (uint32_t)got);
		/* Every slot but the `hold` empty ones holds a buffer, the
		 * rest are free. */
		if (q.hold >= RING ||
		    nb_mempool_available(mp) != N_BUFS - RING + q.hold)
			abort();
	}
	adv_rxq_release(&q);
	if (nb_mempool_available(mp) != N_BUFS)
		abort();
	return 0;
}
