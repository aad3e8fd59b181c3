/* SPDX-License-Identifier: MIT */
/*
 * fuzz_virtio_rx.c - libFuzzer: a hostile device drives the used ring of a
 * virtio-net receive queue (ids, lengths, used idx, flags; see
 * test/virtio/fuzz_fixture.h) while the driver polls vnet_rx_burst. Every
 * frame handed out must fit its buffer, and no buffer may be lost or freed
 * twice.
 */
#include "../virtio/fuzz_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Opcodes from here up poll the driver; below, the device acts. */
#define OP_DRIVER 0xc0

static void driver_poll(struct fuzz_fixture *f, unsigned op)
{
	struct nb_pkt *pkts[32];
	uint16_t n = (uint16_t)(op & 0x1f) + 1;
	uint16_t got = vnet_rx_burst(&f->rxq, pkts, n);

	if (got > n)
		abort();
	for (uint16_t i = 0; i < got; i++) {
		if (pkts[i]->pool != f->mp || pkts[i]->len == 0 ||
		    pkts[i]->len > f->rxq.buf_size)
			abort();
	}
	nb_pkt_free_bulk(pkts, got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .p = data, .left = size };
	struct fuzz_fixture f;

	fuzz_fixture_open(&f, true);
	vnet_rxq_refill(&f.rxq);
	while (in.left > 0) {
		unsigned op = fuzz_take(&in, 1);

		if (op >= OP_DRIVER)
			driver_poll(&f, op);
		else
			fuzz_device_step(&f, op, &in);
		fuzz_check_books(&f, 0);
	}
	fuzz_fixture_close(&f);
	return 0;
}
