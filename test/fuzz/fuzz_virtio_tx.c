/* SPDX-License-Identifier: MIT */
/*
 * fuzz_virtio_tx.c - libFuzzer: a hostile device drives the used ring of a
 * virtio-net transmit queue (see test/virtio/fuzz_fixture.h) while the
 * driver sends frames of input-chosen lengths with vnet_tx_burst. Frames
 * the queue refuses stay the caller's; no buffer may be lost or freed
 * twice.
 */
#include "../virtio/fuzz_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Opcodes from here up make the driver send; below, the device acts. */
#define OP_DRIVER 0xc0

static void driver_send(struct fuzz_fixture *f, unsigned op,
			struct fuzz_input *in)
{
	struct nb_pkt *pkts[32];
	uint32_t want = (op & 0x1f) + 1;
	uint32_t got = nb_pkt_alloc_bulk(f->mp, pkts, want);
	uint16_t taken;

	/* 0 and oversized lengths included: the driver must drop them. */
	for (uint32_t i = 0; i < got; i++)
		pkts[i]->len = fuzz_take(in, 2) % (FUZZ_BUF_SIZE + 2);
	fuzz_check_books(f, got);
	taken = vnet_tx_burst(&f->txq, pkts, (uint16_t)got);
	if (taken > got)
		abort();
	nb_pkt_free_bulk(pkts + taken, got - taken);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .p = data, .left = size };
	struct fuzz_fixture f;

	fuzz_fixture_open(&f, false);
	while (in.left > 0) {
		unsigned op = fuzz_take(&in, 1);

		if (op >= OP_DRIVER)
			driver_send(&f, op, &in);
		else
			fuzz_device_step(&f, op, &in);
		fuzz_check_books(&f, 0);
	}
	fuzz_fixture_close(&f);
	return 0;
}
