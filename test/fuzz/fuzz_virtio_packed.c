/* SPDX-License-Identifier: MIT */
/*
 * fuzz_virtio_packed.c - libFuzzer: a hostile device drives the descriptor
 * ring of a packed virtqueue (virtio 1.2, 2.8) while the driver receives
 * (vnet_rx_burst) or sends (vnet_tx_burst) on it. The first input byte
 * picks the queue (bit 0: receive) and VIRTIO_F_EVENT_IDX (bit 1). The
 * device may complete honestly with any length, write used descriptors
 * with any id and length, write any {id, len, flags} at any ring position
 * (wrong wrap counters, chains, ids never posted or posted twice) and any
 * device event suppression values. Whatever it does, every frame handed
 * out fits its buffer, and no buffer is lost or freed twice (the checks of
 * test/virtio/fuzz_fixture.h after every step and at close).
 */
#include "../virtio/fuzz_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum packed_op {
	PACKED_COMPLETE_NEXT, /* pop the next available buffer, use with len */
	PACKED_RAW_USED,      /* a used descriptor {id, len} at the next position */
	PACKED_PUBLISH,       /* write the pending used descriptors' flags */
	PACKED_RAW_DESC,      /* any {id, len, flags} at any position */
	PACKED_EVENT,         /* device event suppression: off_wrap, flags */
	PACKED_OPS,
};

static void device_step(struct fuzz_fixture *f, unsigned op,
			struct fuzz_input *in)
{
	struct virtqueue *vq = f->dev.vq;
	volatile struct pvirtq_desc *d;
	uint16_t head = 0;
	uint32_t id, len;

	switch (op % PACKED_OPS) {
	case PACKED_COMPLETE_NEXT:
		len = fuzz_take(in, 2);
		if (softdev_pop(&f->dev, &head))
			softdev_used(&f->dev, head, len);
		break;
	case PACKED_RAW_USED:
		id = fuzz_take(in, 2);
		len = fuzz_take(in, 4);
		softdev_used(&f->dev, id, len);
		break;
	case PACKED_PUBLISH:
		softdev_publish(&f->dev);
		break;
	case PACKED_RAW_DESC:
		d = &vq->pdesc[fuzz_take(in, 1) & vq->mask];
		d->id = (uint16_t)fuzz_take(in, 2);
		d->len = fuzz_take(in, 4);
		d->flags = (uint16_t)fuzz_take(in, 2);
		break;
	case PACKED_EVENT:
		vq->dev_event->off_wrap = (uint16_t)fuzz_take(in, 2);
		vq->dev_event->flags = (uint16_t)fuzz_take(in, 2);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .p = data, .left = size };
	unsigned mode = fuzz_take(&in, 1);
	bool rx = mode & 1;
	struct fuzz_fixture f;

	fuzz_fixture_open(&f, rx, VQ_PACKED | (mode & 2 ? VQ_EVENT_IDX : 0));
	if (rx)
		vnet_rxq_refill(&f.rxq);
	while (in.left > 0) {
		unsigned op = fuzz_take(&in, 1);

		if (op < FUZZ_OP_DRIVER)
			device_step(&f, op, &in);
		else if (rx)
			fuzz_driver_rx(&f, op);
		else
			fuzz_driver_tx(&f, op, &in);
		fuzz_check_books(&f, 0);
	}
	fuzz_fixture_close(&f);
	return 0;
}
