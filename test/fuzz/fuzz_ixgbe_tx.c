/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ixgbe_tx.c - the advanced-descriptor transmit ring and its clean-up
 * (drivers/intel, shared by ixgbe and igb) with the fuzz input as the
 * device's write-backs into the descriptor ring.
 *
 * Input, repeated until it runs out:
 *   u8 op      even: the driver sends (op / 2) % 48 packets;
 *              odd:  the "device" writes descriptors:
 *   u8 offset, u8 count, count * 16 bytes (slots from the driver's oldest
 *              unfinished slot + offset)
 * Checked: buffers never leak or come back twice; at the end, after the
 * driver releases the ring, every buffer is back in the mempool.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../drivers/intel/adv_ring.h"
#include "../../drivers/ixgbe/ixgbe_regs.h"

#define RING 128u
#define N_BUFS (2 * RING)
#define BUF_SIZE 2048u

static struct nb_pool *dma;
static struct nb_mempool *mp;
static void *ring;
static uint32_t regs[0x8000 / 4]; /* covers TDT(0) at 0x6018 */

static void setup_once(void)
{
	uint64_t iova;

	if (nb_pool_create_unmapped(1u << 20, 0x20000000ull, &dma) < 0 ||
	    nb_mempool_create(dma, N_BUFS, BUF_SIZE, &mp) < 0 ||
	    nb_pool_carve(dma, RING * 16u, ADV_RING_ALIGN, &ring, &iova) < 0)
		abort();
}

static void send(struct adv_txq *q, uint8_t op)
{
	struct nb_pkt *pkts[48];
	uint32_t n = nb_pkt_alloc_bulk(mp, pkts, (op / 2u) % 48u);
	uint16_t taken;

	for (uint32_t i = 0; i < n; i++)
		pkts[i]->len = 60 + i;
	if (n > 0 && (op & 0x80)) /* caller bugs the driver must refuse */
		pkts[0]->len = 0;
	if (n > 1 && (op & 0x40))
		pkts[1]->len = ADV_TX_MIN_LEN - 1u;
	taken = adv_txq_burst(q, pkts, (uint16_t)n);
	if (taken > n)
		abort();
	nb_pkt_free_bulk(&pkts[taken], n - taken);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nb_pkt *slot[RING];
	struct nb_dev dev;
	struct adv_txq q;

	if (dma == NULL)
		setup_once();
	memset(&dev, 0, sizeof(dev));
	memset(ring, 0, RING * 16u);
	adv_txq_init(&q, &dev, "fuzz", (volatile uint8_t *)regs, IXGBE_TDT(0),
		     ring, slot, RING);
	while (size >= 1) {
		uint8_t op = data[0];

		data++;
		size--;
		if (op % 2 == 0) {
			send(&q, op);
		} else if (size >= 2) {
			size_t count = data[1] % (RING + 1u);
			uint16_t offset = data[0];

			data += 2;
			size -= 2;
			for (size_t i = 0; i < count && size >= 16; i++) {
				uint16_t s = (uint16_t)((q.clean + offset + i) % RING);

				memcpy((uint8_t *)ring + s * 16u, data, 16);
				data += 16;
				size -= 16;
			}
			adv_txq_clean(&q);
		}
		/* In flight plus free is everything: nothing lost, nothing twice. */
		if (nb_mempool_available(mp) + (uint16_t)(q.tail - q.clean) % RING != N_BUFS)
			abort();
	}
	adv_txq_release(&q);
	if (nb_mempool_available(mp) != N_BUFS)
		abort();
	return 0;
}
