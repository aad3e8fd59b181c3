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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .p = data, .left = size };
	struct fuzz_fixture f;

	fuzz_fixture_open(&f, false, 0);
	while (in.left > 0) {
		unsigned op = fuzz_take(&in, 1);

		if (op >= FUZZ_OP_DRIVER)
			fuzz_driver_tx(&f, op, &in);
		else
			fuzz_device_step(&f, op, &in);
		fuzz_check_books(&f, 0);
	}
	fuzz_fixture_close(&f);
	return 0;
}
