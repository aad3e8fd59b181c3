/* SPDX-License-Identifier: MIT */
/*
 * fuzz_fixture.h - what fuzz_virtio_rx.c, fuzz_virtio_tx.c and
 * fuzz_virtio_packed.c share: one queue (split or packed) on a fresh pool
 * and mempool per input, a reader for the input bytes, the hostile-device
 * operations the input drives, the driver's side (receive polls, sends of
 * input-chosen lengths), and the final check that every buffer came back
 * to the mempool exactly once.
 *
 * The input is a program for the device: each step is one opcode byte and
 * its operands. The device may complete honestly with any length, write
 * any used entry, publish any used index and set any used->flags; the
 * driver polls between steps. Whatever it does, the driver must not crash,
 * read out of bounds, lose or double-free a buffer.
 */
#ifndef FUZZ_FIXTURE_H
#define FUZZ_FIXTURE_H

#include <stdlib.h>

#include "softdev.h"

#define FUZZ_POOL_BYTES (512u << 10)
#define FUZZ_IOVA 0x100000000ull
#define FUZZ_RING 16
#define FUZZ_MP_COUNT 40 /* more than the ring: refills can happen */
#define FUZZ_BUF_SIZE 1536

/* Consumed front to back; reads past the end give zeros. */
struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline uint32_t fuzz_take(struct fuzz_input *in, unsigned bytes)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < bytes && in->left > 0; i++, in->left--)
		v |= (uint32_t)*in->p++ << (8 * i);
	return v;
}

struct fuzz_fixture {
	struct nb_pool *dma;
	struct nb_mempool *mp;
	struct nb_stats stats;
	struct vnet_rxq rxq; /* the harness uses rxq.vq or txq.vq */
	struct vnet_txq txq;
	struct softdev dev;
};

/*
 * Any failure here is the harness's own, not the code under test. `flags`:
 * VQ_PACKED, VQ_EVENT_IDX (vq_init).
 */
static inline void fuzz_fixture_open(struct fuzz_fixture *f, bool rx,
				     unsigned flags)
{
	struct virtqueue *vq = rx ? &f->rxq.vq : &f->txq.vq;

	*f = (struct fuzz_fixture){ 0 };
	if (nb_pool_create_unmapped(FUZZ_POOL_BYTES, FUZZ_IOVA, &f->dma) ||
	    nb_mempool_create(f->dma, FUZZ_MP_COUNT, FUZZ_BUF_SIZE, &f->mp) ||
	    vq_init(vq, f->dma, rx ? VIRTIO_NET_RXQ : VIRTIO_NET_TXQ, FUZZ_RING,
		    flags, softdev_kick, softdev_fault, &f->dev))
		abort();
	f->rxq.mp = f->mp;
	f->rxq.buf_size = nb_mempool_buf_size(f->mp);
	f->rxq.stats = &f->stats;
	f->txq.stats = &f->stats;
	softdev_attach(&f->dev, vq, f->dma);
	nb_fail(0, "no error since open");
}

enum fuzz_dev_op {
	FUZZ_COMPLETE_NEXT, /* pop the next avail head, complete with len */
	FUZZ_RAW_ENTRY,     /* write {id, len} as the next used entry */
	FUZZ_PUBLISH,       /* publish the device's used idx */
	FUZZ_PUBLISH_RAW,   /* publish an arbitrary used idx */
	FUZZ_FLAGS,         /* set used->flags (NO_NOTIFY or garbage) */
	FUZZ_DEV_OPS,
};

/* One device step; `op` was already taken from the input. */
static inline void fuzz_device_step(struct fuzz_fixture *f, unsigned op,
				    struct fuzz_input *in)
{
	uint16_t head = 0;
	uint32_t id, len;

	switch (op % FUZZ_DEV_OPS) {
	case FUZZ_COMPLETE_NEXT:
		len = fuzz_take(in, 2);
		if (softdev_pop(&f->dev, &head))
			softdev_used(&f->dev, head, len);
		break;
	case FUZZ_RAW_ENTRY:
		id = fuzz_take(in, 4);
		len = fuzz_take(in, 4);
		softdev_used(&f->dev, id, len);
		break;
	case FUZZ_PUBLISH:
		softdev_publish(&f->dev);
		break;
	case FUZZ_PUBLISH_RAW:
		f->dev.vq->used->idx = (uint16_t)fuzz_take(in, 2);
		break;
	case FUZZ_FLAGS:
		f->dev.vq->used->flags = (uint16_t)fuzz_take(in, 2);
		break;
	}
}

/* Opcodes from here up make the driver act; below, the device acts. */
#define FUZZ_OP_DRIVER 0xc0

/* The driver polls for up to (op & 0x1f) + 1 frames; each must fit. */
static inline void fuzz_driver_rx(struct fuzz_fixture *f, unsigned op)
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

static inline void fuzz_check_books(struct fuzz_fixture *f, uint32_t held);

/*
 * The driver sends (op & 0x1f) + 1 frames of input-chosen lengths, 0 and
 * oversized included (the driver must drop them); what the queue refuses
 * stays the caller's.
 */
static inline void fuzz_driver_tx(struct fuzz_fixture *f, unsigned op,
				  struct fuzz_input *in)
{
	struct nb_pkt *pkts[32];
	uint32_t want = (op & 0x1f) + 1;
	uint32_t got = nb_pkt_alloc_bulk(f->mp, pkts, want);
	uint16_t taken;

	for (uint32_t i = 0; i < got; i++)
		pkts[i]->len = fuzz_take(in, 2) % (FUZZ_BUF_SIZE + 2);
	fuzz_check_books(f, got);
	taken = vnet_tx_burst(&f->txq, pkts, (uint16_t)got);
	if (taken > got)
		abort();
	nb_pkt_free_bulk(pkts + taken, got - taken);
}

/*
 * Between steps: the queue's books balance. Every buffer is in the
 * mempool, posted in the ring, or held by the harness.
 */
static inline void fuzz_check_books(struct fuzz_fixture *f, uint32_t held)
{
	const struct virtqueue *vq = f->dev.vq;

	if (nb_mempool_available(f->mp) + vq->in_flight + held != FUZZ_MP_COUNT ||
	    vq->in_flight + vq->n_free != vq->size ||
	    f->dev.faults > 1)
		abort();
}

/* Close the queue as the driver does after reset; all buffers home once. */
static inline void fuzz_fixture_close(struct fuzz_fixture *f)
{
	vq_fini(f->dev.vq, vnet_release_pkt, NULL);
	if (nb_mempool_available(f->mp) != FUZZ_MP_COUNT ||
	    strcmp(nb_last_error(), "no error since open") != 0)
		abort();
	nb_mempool_destroy(f->mp);
	nb_pool_destroy(f->dma);
}

#endif /* FUZZ_FIXTURE_H */
