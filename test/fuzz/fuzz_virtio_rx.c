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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .p = data, .left = size };
	struct fuzz_fixture f;

	fuzz_fixture_open(&f, true, 0);
	vnet_rxq_refill(&f.rxq);
	while (in.left > 0) {
		unsigned op = fuzz_take(&in, 1);

		if (op >= FUZZ_OP_DRIVER)
			fuzz_driver_rx(&f, op);
		else
			fuzz_device_step(&f, op, &in);
		fuzz_check_books(&f, 0);
	}
	fuzz_fixture_close(&f);
	return 0;
}
