/* SPDX-License-Identifier: MIT */
/*
 * test_virtqueue.c - the virtqueue (split and packed) and virtio-net rx/tx
 * against a software device (softdev.h), no PCI: normal traffic, batching
 * with one notification per batch, notification suppression (flags and
 * EVENT_IDX), index and wrap-counter wrap-around, and every way a hostile
 * device can break the ring protocol. The tests that do not look at one
 * format's layout run on both formats (T2 below). Every test ends by
 * closing the queues and checking that each buffer is back in its mempool
 * exactly once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softdev.h"

#define POOL_BYTES (16u << 20)
#define FAKE_IOVA 0x40000000ull
#define MP_COUNT 512
#define BUF_SIZE 2048
#define RING 64
#define FRAME_LEN 60

struct fixture {
	unsigned flags; /* VQ_PACKED, VQ_EVENT_IDX */
	struct nb_pool *dma;
	struct nb_mempool *mp;
	struct nb_stats stats;
	struct vnet_rxq rxq;
	struct vnet_txq txq;
	struct softdev rxdev, txdev;
};

static int setup_flags(void **state, unsigned flags)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->flags = flags;
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &f->dma), 0);
	assert_int_equal(nb_mempool_create(f->dma, MP_COUNT, BUF_SIZE, &f->mp), 0);
	assert_int_equal(vq_init(&f->rxq.vq, f->dma, VIRTIO_NET_RXQ, RING, flags,
				 softdev_kick, softdev_fault, &f->rxdev), 0);
	assert_int_equal(vq_init(&f->txq.vq, f->dma, VIRTIO_NET_TXQ, RING, flags,
				 softdev_kick, softdev_fault, &f->txdev), 0);
	f->rxq.mp = f->mp;
	f->rxq.buf_size = nb_mempool_buf_size(f->mp);
	f->rxq.stats = &f->stats;
	f->txq.stats = &f->stats;
	softdev_attach(&f->rxdev, &f->rxq.vq, f->dma);
	softdev_attach(&f->txdev, &f->txq.vq, f->dma);
	/* A double free refused by the mempool would overwrite this. */
	nb_fail(0, "no error since setup");
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_flags(state, 0);
}

static int setup_packed(void **state)
{
	return setup_flags(state, VQ_PACKED);
}

static int setup_event_idx(void **state)
{
	return setup_flags(state, VQ_EVENT_IDX);
}

static int setup_packed_event_idx(void **state)
{
	return setup_flags(state, VQ_PACKED | VQ_EVENT_IDX);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nb_mempool_destroy(f->mp);
	nb_pool_destroy(f->dma);
	free(f);
	return 0;
}

/*
 * Close both queues (what the driver does after resetting the device) and
 * check that every buffer came home exactly once.
 */
static void close_and_check(struct fixture *f)
{
	vq_fini(&f->rxq.vq, vnet_release_pkt, NULL);
	vq_fini(&f->txq.vq, vnet_release_pkt, NULL);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT);
	assert_string_equal(nb_last_error(), "no error since setup");
}

static void make_frame(uint8_t *frame, uint32_t seq, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		frame[i] = (uint8_t)(seq * 7 + i);
	memcpy(frame, &seq, sizeof(seq));
}

static uint32_t frame_seq(const uint8_t *frame)
{
	uint32_t seq;

	memcpy(&seq, frame, sizeof(seq));
	return seq;
}

static void free_all(struct nb_pkt **pkts, uint16_t n)
{
	nb_pkt_free_bulk(pkts, n);
}

/* Device delivers `n` frames with sequence numbers from `seq`; publishes. */
static void deliver(struct fixture *f, uint32_t seq, unsigned n)
{
	uint8_t frame[FRAME_LEN];

	for (unsigned i = 0; i < n; i++) {
		make_frame(frame, seq + i, FRAME_LEN);
		assert_true(softdev_rx_frame(&f->rxdev, frame, FRAME_LEN));
	}
	softdev_publish(&f->rxdev);
}

/* ------------------------------------------------------------------------ */
/* Normal operation                                                          */

/*
 * Kicks the refill after a receive sends: the software device never
 * touches its suppression state in these tests, so it asks for every kick
 * (NO_NOTIFY clear, packed ENABLE), except split + EVENT_IDX: its
 * avail_event stays 0, which only the first fill crosses (2.7.10).
 */
static unsigned refill_kicks(const struct fixture *f)
{
	return f->flags == VQ_EVENT_IDX ? 0 : 1;
}

static void test_rx_fill_and_receive(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[32];
	uint16_t got;

	vnet_rxq_refill(&f->rxq);
	assert_int_equal(f->rxq.vq.in_flight, RING);
	assert_int_equal(f->rxdev.kicks, 1);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT - RING);
	if (f->flags & VQ_PACKED) {
		/* 2.8.10: no used buffer notifications, we poll. */
		assert_int_equal(f->rxq.vq.drv_event->flags,
				 RING_EVENT_FLAGS_DISABLE);
	} else {
		assert_int_equal(f->rxq.vq.avail->idx, RING);
		if (f->flags & VQ_EVENT_IDX) /* 2.7.7: flags 0, used_event */
			assert_int_equal(f->rxq.vq.avail->flags, 0);
		else
			assert_true(f->rxq.vq.avail->flags &
				    VIRTQ_AVAIL_F_NO_INTERRUPT);
	}

	deliver(f, 100, 10);
	got = vnet_rx_burst(&f->rxq, pkts, 32);
	assert_int_equal(got, 10);
	for (uint16_t i = 0; i < got; i++) {
		uint8_t want[FRAME_LEN];

		make_frame(want, 100 + i, FRAME_LEN);
		assert_int_equal(pkts[i]->len, FRAME_LEN);
		assert_memory_equal(pkts[i]->data, want, FRAME_LEN);
		assert_int_equal((uintptr_t)pkts[i]->data % 64, 0);
	}
	assert_int_equal(f->stats.rx_packets, 10);
	assert_int_equal(f->stats.rx_bytes, 10 * FRAME_LEN);
	/* The 10 used buffers were replaced with one more notification. */
	assert_int_equal(f->rxq.vq.in_flight, RING);
	assert_int_equal(f->rxdev.kicks, 1 + refill_kicks(f));
	free_all(pkts, got);
	assert_int_equal(f->rxdev.faults, 0);
	close_and_check(f);
}

static void test_rx_batch_one_kick(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING];
	unsigned kicks;

	vnet_rxq_refill(&f->rxq);
	deliver(f, 0, 40);
	kicks = f->rxdev.kicks;
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 40);
	assert_int_equal(f->rxdev.kicks, kicks + refill_kicks(f));
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(frame_seq(pkts[i]->data), i);
	free_all(pkts, 40);

	/* Nothing used: nothing to refill, no notification. */
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
	assert_int_equal(f->rxdev.kicks, kicks + refill_kicks(f));
	close_and_check(f);
}

static void test_rx_burst_smaller_than_used(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[8];

	vnet_rxq_refill(&f->rxq);
	deliver(f, 0, 20);
	/* The caller takes 8 at a time; the rest wait in order. */
	for (unsigned round = 0; round < 3; round++) {
		uint16_t got = vnet_rx_burst(&f->rxq, pkts, 8);

		assert_int_equal(got, round < 2 ? 8 : 4);
		for (uint16_t i = 0; i < got; i++)
			assert_int_equal(frame_seq(pkts[i]->data), round * 8 + i);
		free_all(pkts, got);
	}
	close_and_check(f);
}

static void test_rx_mempool_exhausted(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *hoard[MP_COUNT], *pkts[RING];
	uint32_t held;

	vnet_rxq_refill(&f->rxq);
	held = nb_pkt_alloc_bulk(f->mp, hoard, MP_COUNT);
	assert_int_equal(held, MP_COUNT - RING);
	deliver(f, 0, 16);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 16);
	/* No buffers to refill with: the ring runs with fewer posted. */
	assert_int_equal(f->rxq.vq.in_flight, RING - 16);
	nb_pkt_free_bulk(hoard, held);
	free_all(pkts, 16);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
	assert_int_equal(f->rxq.vq.in_flight, RING);
	close_and_check(f);
}

static void test_rx_empty_frame_dropped(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[4];
	uint16_t head = 0;

	vnet_rxq_refill(&f->rxq);
	/* Header only: legal for the ring, useless as a frame. */
	assert_true(softdev_pop(&f->rxdev, &head));
	softdev_used(&f->rxdev, head, VIRTIO_NET_HDR_LEN);
	softdev_publish(&f->rxdev);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, 4), 0);
	assert_int_equal(f->stats.rx_errors, 1);
	assert_int_equal(f->rxdev.faults, 0);
	assert_false(f->rxq.vq.broken);
	close_and_check(f);
}

static struct nb_pkt *tx_frame(struct fixture *f, uint32_t seq, uint32_t len)
{
	struct nb_pkt *pkt = nb_pkt_alloc(f->mp);

	assert_non_null(pkt);
	make_frame(pkt->data, seq, len);
	pkt->len = len;
	/* The driver must clear whatever is in the headroom. */
	memset(pkt->data - VIRTIO_NET_HDR_LEN, 0xa5, VIRTIO_NET_HDR_LEN);
	return pkt;
}

static void test_tx_send_and_complete(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[20];
	uint8_t out[BUF_SIZE];

	for (uint32_t i = 0; i < 20; i++)
		pkts[i] = tx_frame(f, i, 64 + i);
	assert_int_equal(vnet_tx_burst(&f->txq, pkts, 20), 20);
	assert_int_equal(f->txdev.kicks, 1);
	assert_int_equal(f->stats.tx_packets, 20);
	for (uint32_t i = 0; i < 20; i++) {
		uint8_t want[BUF_SIZE];

		make_frame(want, i, 64 + i);
		assert_int_equal(softdev_tx_frame(&f->txdev, out, sizeof(out)),
				 64 + i);
		assert_memory_equal(out, want, 64 + i);
	}
	softdev_publish(&f->txdev);
	/* Completions are reaped on the next burst, even an empty one. */
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT - 20);
	assert_int_equal(vnet_tx_burst(&f->txq, pkts, 0), 0);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT);
	assert_int_equal(f->txdev.kicks, 1);
	close_and_check(f);
}

static void test_tx_ring_full(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING + 8];
	uint8_t out[BUF_SIZE];

	for (uint32_t i = 0; i < RING + 8; i++)
		pkts[i] = tx_frame(f, i, 60);
	assert_int_equal(vnet_tx_burst(&f->txq, pkts, RING + 8), RING);
	/* Ring full, device busy: nothing taken, caller keeps them. */
	assert_int_equal(vnet_tx_burst(&f->txq, pkts + RING, 8), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(softdev_tx_frame(&f->txdev, out, sizeof(out)), 60);
	softdev_publish(&f->txdev);
	assert_int_equal(vnet_tx_burst(&f->txq, pkts + RING, 8), 5);
	nb_pkt_free_bulk(pkts + RING + 5, 3);
	close_and_check(f);
}

static void test_tx_bad_length_dropped(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[3];

	pkts[0] = tx_frame(f, 0, 60);
	pkts[1] = tx_frame(f, 1, 60);
	pkts[1]->len = 0;
	pkts[2] = tx_frame(f, 2, 60);
	pkts[2]->len = nb_mempool_buf_size(f->mp) + 1;
	assert_int_equal(vnet_tx_burst(&f->txq, pkts, 3), 3);
	assert_int_equal(f->stats.tx_errors, 2);
	assert_int_equal(f->stats.tx_packets, 1);
	assert_int_equal(f->txq.vq.in_flight, 1);
	close_and_check(f);
}

static void test_notification_suppression(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[4];
	uint8_t out[BUF_SIZE];

	/* 2.7.10/2.8.10: the device is busy and said so: no kick. */
	softdev_notify(&f->txdev, false);
	for (uint32_t i = 0; i < 4; i++)
		pkts[i] = tx_frame(f, i, 60);
	assert_int_equal(vnet_tx_burst(&f->txq, pkts, 4), 4);
	assert_int_equal(f->txdev.kicks, 0);
	/* Still made available: the device finds all four. */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(softdev_tx_frame(&f->txdev, out, sizeof(out)), 60);
	softdev_publish(&f->txdev);

	/* The device went idle and wants kicks again. */
	softdev_notify(&f->txdev, true);
	for (uint32_t i = 0; i < 4; i++)
		pkts[i] = tx_frame(f, i, 60);
	assert_int_equal(vnet_tx_burst(&f->txq, pkts, 4), 4);
	assert_int_equal(f->txdev.kicks, 1);

	/* Receive side: refills publish silently while suppressed. */
	softdev_notify(&f->rxdev, false);
	vnet_rxq_refill(&f->rxq);
	assert_int_equal(f->rxq.vq.in_flight, RING);
	assert_int_equal(f->rxdev.kicks, 0);
	close_and_check(f);
}

/* Enough traffic that every 16-bit index wraps at 65536 three times. */
static void test_index_wrap(void **state)
{
	struct fixture *f = *state;
	const uint32_t total = 3 * 65536 + 1000;
	struct nb_pkt *pkts[32];
	uint8_t out[BUF_SIZE];
	uint32_t rx_seq = 0, tx_seq = 0, tx_seen = 0;

	vnet_rxq_refill(&f->rxq);
	while (rx_seq < total) {
		uint16_t got, sent;
		int len;

		deliver(f, rx_seq, 29); /* odd batch: entries straddle wraps */
		got = vnet_rx_burst(&f->rxq, pkts, 32);
		assert_int_equal(got, 29);
		for (uint16_t i = 0; i < got; i++)
			assert_int_equal(frame_seq(pkts[i]->data), rx_seq + i);
		rx_seq += got;

		/* Echo them out through the transmit queue. */
		sent = vnet_tx_burst(&f->txq, pkts, got);
		assert_int_equal(sent, got);
		tx_seq += sent;
		while ((len = softdev_tx_frame(&f->txdev, out, sizeof(out))) >= 0) {
			assert_int_equal(len, FRAME_LEN);
			assert_int_equal(frame_seq(out), tx_seen);
			tx_seen++;
		}
		softdev_publish(&f->txdev);
	}
	assert_int_equal(tx_seen, tx_seq);
	assert_true(f->stats.rx_packets > 3 * 65536);
	assert_int_equal(f->rxdev.faults + f->txdev.faults, 0);
	/* Three wraps and change of the 16-bit indices (packed: positions). */
	assert_int_equal(f->rxq.vq.last_used,
			 f->flags & VQ_PACKED ? rx_seq % RING : (uint16_t)rx_seq);
	close_and_check(f);
}

/*
 * One descriptor of a posted chain as the device reads it: split, the
 * descriptor `*at` whose next field leads on (2.7.5); packed, ring
 * position `*at`, consecutive, with AVAIL/USED for its lap (2.8.1, 2.8.6).
 */
static void check_chain_desc(struct virtqueue *vq, uint16_t *at, bool *wrap,
			     const struct vq_seg *seg, bool last)
{
	uint64_t addr;
	uint32_t len;
	uint16_t flags;

	if (vq->packed) {
		addr = vq->pdesc[*at].addr;
		len = vq->pdesc[*at].len;
		flags = vq->pdesc[*at].flags;
		assert_int_equal(!!(flags & VIRTQ_DESC_F_AVAIL), *wrap);
		assert_int_equal(!!(flags & VIRTQ_DESC_F_USED), !*wrap);
		if (++*at == vq->size) {
			*at = 0;
			*wrap = !*wrap;
		}
	} else {
		addr = vq->desc[*at].addr;
		len = vq->desc[*at].len;
		flags = vq->desc[*at].flags;
		*at = vq->desc[*at].next;
	}
	assert_int_equal(addr, seg->iova);
	assert_int_equal(len, seg->len);
	assert_int_equal(!!(flags & VIRTQ_DESC_F_WRITE), seg->device_writes);
	assert_int_equal(!!(flags & VIRTQ_DESC_F_NEXT), !last);
}

/* Chains of 3 over many laps; the device writes one used entry each. */
static void test_chain_post_and_reap(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->txq.vq;
	uint64_t base = nb_pool_iova_base(f->dma);
	const struct vq_seg segs[3] = {
		{ .iova = base, .len = 3 },
		{ .iova = base + 64, .len = 5 },
		{ .iova = base + 128, .len = 1, .device_writes = true },
	};
	int token;
	void *got;
	uint32_t len;

	for (unsigned round = 0; round < 100; round++) {
		uint16_t head = 0, at = vq->avail_idx;
		bool wrap = vq->avail_wrap;

		assert_int_equal(vq_post_chain(vq, &token, segs, 3), 0);
		vq_publish(vq);
		assert_true(softdev_pop(&f->txdev, &head));
		/* The device sees three linked descriptors, writable last. */
		if (!vq->packed)
			at = head;
		for (unsigned i = 0; i < 3; i++)
			check_chain_desc(vq, &at, &wrap, &segs[i], i == 2);
		softdev_used(&f->txdev, head, 1);
		softdev_publish(&f->txdev);
		assert_int_equal(vq_reap(vq, &got, &len, 1, 1), 1);
		assert_ptr_equal(got, &token);
		assert_int_equal(len, 1);
		if (vq->packed) /* skipped the whole chain */
			assert_int_equal(vq->last_used, at);
	}
	/* Every descriptor of every chain went back on the free stack. */
	assert_int_equal(vq_free_descs(vq), RING);
	assert_int_equal(vq_post_chain(vq, &token, segs, 0), -1);
	assert_int_equal(errno, ENOSPC);
	nb_fail(0, "no error since setup");
	assert_int_equal(f->txdev.faults, 0);
	close_and_check(f);
}

static void test_init_rejects_bad_size(void **state)
{
	struct fixture *f = *state;
	struct virtqueue vq;

	assert_int_equal(vq_init(&vq, f->dma, 0, 0, 0, softdev_kick,
				 softdev_fault, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(vq_init(&vq, f->dma, 0, 48, 0, softdev_kick,
				 softdev_fault, NULL), -1);
	assert_non_null(strstr(nb_last_error(), "power of two"));
	nb_fail(0, "no error since setup");
	close_and_check(f);
}

/* ------------------------------------------------------------------------ */
/* Hostile device: each violation is detected, counted once, stops the       */
/* queue, and loses or double-frees no buffer.                               */

/* After a fault the queue stays stopped, whatever the device does next. */
static void assert_rx_stopped(struct fixture *f, const char *why)
{
	struct nb_pkt *pkts[RING];

	assert_true(f->rxq.vq.broken);
	assert_int_equal(f->rxdev.faults, 1);
	assert_non_null(strstr(f->rxdev.fault, why));
	/* Even a well-formed completion is no longer looked at. */
	if (softdev_rx_frame(&f->rxdev, "x", 1))
		softdev_publish(&f->rxdev);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
	assert_int_equal(f->rxdev.faults, 1);
	assert_int_equal(f->rxdev.kicks, 1); /* no refill kick after it */
}

static void test_hostile_used_idx_beyond_outstanding(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING];

	vnet_rxq_refill(&f->rxq);
	/* 64 posted; the device claims 65 are used. */
	f->rxq.vq.used->idx = RING + 1;
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
	assert_rx_stopped(f, "outstanding");
	close_and_check(f);
}

static void test_hostile_used_idx_beyond_ring(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING];

	vnet_rxq_refill(&f->rxq);
	deliver(f, 0, 10);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 10);
	free_all(pkts, 10);
	/* Half the index space ahead: far more than the queue size. */
	f->rxq.vq.used->idx = 10 + 32768;
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
	assert_int_equal(f->rxdev.faults, 1);
	assert_true(f->rxq.vq.broken);
	close_and_check(f);
}

static void test_hostile_used_idx_before_tx_posted(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkt = tx_frame(f, 0, 60);

	/* Completions with nothing posted: every one is a lie. */
	f->txq.vq.used->idx = 1;
	assert_int_equal(vnet_tx_burst(&f->txq, &pkt, 1), 0);
	assert_int_equal(f->txdev.faults, 1);
	/* The caller still owns the frame the queue refused. */
	nb_pkt_free(pkt);
	close_and_check(f);
}

static void test_hostile_id_out_of_range(void **state)
{
	/* Packed ids are 16 bits: the last two alias 0 and 0xffff there. */
	static const uint32_t bad_ids[] = { RING, 0xffff, 0x10000, 0xffffffff };
	unsigned flags = ((struct fixture *)*state)->flags;
	size_t n = flags & VQ_PACKED ? 2 : 4;

	/* A fresh fixture per case: each fault stops the queue for good. */
	for (size_t i = 0; i < n; i++) {
		struct fixture *f;
		struct nb_pkt *pkts[RING];

		if (i > 0) {
			teardown(state);
			setup_flags(state, flags);
		}
		f = *state;
		vnet_rxq_refill(&f->rxq);
		softdev_used(&f->rxdev, bad_ids[i], 100);
		softdev_publish(&f->rxdev);
		assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
		assert_rx_stopped(f, "not posted");
		close_and_check(f);
	}
}

static void test_hostile_double_completion(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING];
	uint8_t frame[FRAME_LEN] = { 0 };
	uint16_t head = 0;

	vnet_rxq_refill(&f->rxq);
	/* Three honest completions, then the first one again. */
	for (unsigned i = 0; i < 3; i++)
		assert_true(softdev_rx_frame(&f->rxdev, frame, FRAME_LEN));
	/* The first buffer posted: head 0 (split) or buffer id 0 (packed). */
	head = f->flags & VQ_PACKED ? f->rxq.vq.pdesc[0].id
				    : f->rxq.vq.avail->ring[0];
	softdev_used(&f->rxdev, head, VIRTIO_NET_HDR_LEN + FRAME_LEN);
	softdev_publish(&f->rxdev);
	/* The good entries before the bad one are delivered. */
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 3);
	assert_rx_stopped(f, "completed twice");
	free_all(pkts, 3);
	close_and_check(f);
}

static void test_hostile_completes_free_descriptor(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkt = tx_frame(f, 0, 60);
	uint16_t free_id = f->txq.vq.free_ids[0]; /* bottom: never posted */

	assert_int_equal(vnet_tx_burst(&f->txq, &pkt, 1), 1);
	softdev_used(&f->txdev, free_id, 0);
	softdev_publish(&f->txdev);
	assert_int_equal(vnet_tx_burst(&f->txq, NULL, 0), 0);
	assert_int_equal(f->txdev.faults, 1);
	assert_non_null(strstr(f->txdev.fault, "not posted"));
	/* The posted frame stays the queue's until close frees it. */
	close_and_check(f);
}

static void test_hostile_len_too_long(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING];
	uint16_t head = 0;

	vnet_rxq_refill(&f->rxq);
	assert_true(softdev_pop(&f->rxdev, &head));
	softdev_used(&f->rxdev, head,
		     VIRTIO_NET_HDR_LEN + nb_mempool_buf_size(f->mp) + 1);
	softdev_publish(&f->rxdev);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
	assert_rx_stopped(f, "used len");
	close_and_check(f);
}

static void test_hostile_len_shorter_than_header(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING];
	uint16_t head = 0;

	vnet_rxq_refill(&f->rxq);
	assert_true(softdev_pop(&f->rxdev, &head));
	softdev_used(&f->rxdev, head, VIRTIO_NET_HDR_LEN - 1);
	softdev_publish(&f->rxdev);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
	assert_rx_stopped(f, "used len");
	close_and_check(f);
}

static void test_hostile_tx_len_beyond_buffer(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkt = tx_frame(f, 0, 60);
	uint16_t head = 0;

	assert_int_equal(vnet_tx_burst(&f->txq, &pkt, 1), 1);
	assert_true(softdev_pop(&f->txdev, &head));
	softdev_used(&f->txdev, head, VIRTIO_NET_HDR_LEN + 60 + 1);
	softdev_publish(&f->txdev);
	assert_int_equal(vnet_tx_burst(&f->txq, NULL, 0), 0);
	assert_int_equal(f->txdev.faults, 1);
	assert_non_null(strstr(f->txdev.fault, "used len"));
	/* Stopped: new frames are refused, the caller keeps them. */
	pkt = tx_frame(f, 1, 60);
	assert_int_equal(vnet_tx_burst(&f->txq, &pkt, 1), 0);
	nb_pkt_free(pkt);
	close_and_check(f);
}

/*
 * VIRTIO_NET_F_HASH_REPORT (5.1.6, 5.1.6.4.4): 20-byte headers both ways;
 * a known hash_report carries hash_value into the packet, none or an
 * unknown one (> 9) leaves no hash.
 */
static void rx_hashed(struct fixture *f, uint16_t report, uint32_t value)
{
	uint8_t *buf;
	uint32_t len;
	uint16_t head = 0;
	bool writable;

	assert_true(softdev_pop(&f->rxdev, &head));
	buf = softdev_buf(&f->rxdev, head, &len, &writable);
	assert_non_null(buf);
	assert_true(writable);
	assert_int_equal(len, VIRTIO_NET_HASH_HDR_LEN + BUF_SIZE);
	memset(buf, 0, VIRTIO_NET_HASH_HDR_LEN);
	memcpy(buf + VIRTIO_NET_HDR_HASH_VALUE, &value, 4);
	memcpy(buf + VIRTIO_NET_HDR_HASH_REPORT, &report, 2);
	make_frame(buf + VIRTIO_NET_HASH_HDR_LEN, value, FRAME_LEN);
	softdev_used(&f->rxdev, head, VIRTIO_NET_HASH_HDR_LEN + FRAME_LEN);
}

static void test_hash_report_header(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[4], *tx;
	uint8_t *buf;
	uint32_t len;
	uint16_t head = 0;
	bool writable;
	static const uint8_t zero[VIRTIO_NET_HASH_HDR_LEN];

	f->rxq.hash_hdr = true;
	f->txq.hash_hdr = true;
	vnet_rxq_refill(&f->rxq);
	rx_hashed(f, 2, 0xdeadbeef);  /* TCPv4 */
	rx_hashed(f, 0, 0x11111111);  /* NONE */
	rx_hashed(f, 10, 0x22222222); /* not a report type */
	rx_hashed(f, 9, 0x33333333);  /* UDPv6_EX, the last one */
	softdev_publish(&f->rxdev);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, 4), 4);
	assert_int_equal(pkts[0]->len, FRAME_LEN);
	assert_int_equal(frame_seq(pkts[0]->data), 0xdeadbeef);
	assert_int_equal(pkts[0]->flags, NB_PKT_RSS_HASH);
	assert_int_equal(pkts[0]->rss_hash, 0xdeadbeef);
	assert_int_equal(pkts[1]->flags, 0);
	assert_int_equal(pkts[2]->flags, 0);
	assert_int_equal(pkts[3]->flags, NB_PKT_RSS_HASH);
	assert_int_equal(pkts[3]->rss_hash, 0x33333333);
	free_all(pkts, 4);

	tx = nb_pkt_alloc(f->mp);
	assert_non_null(tx);
	memset(tx->data - VIRTIO_NET_HASH_HDR_LEN, 0xff, VIRTIO_NET_HASH_HDR_LEN);
	tx->len = FRAME_LEN;
	assert_int_equal(vnet_tx_burst(&f->txq, &tx, 1), 1);
	assert_true(softdev_pop(&f->txdev, &head));
	buf = softdev_buf(&f->txdev, head, &len, &writable);
	assert_int_equal(len, VIRTIO_NET_HASH_HDR_LEN + FRAME_LEN);
	assert_memory_equal(buf, zero, VIRTIO_NET_HASH_HDR_LEN);
	close_and_check(f);
}

static void test_hostile_break_from_status(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING];

	vnet_rxq_refill(&f->rxq);
	deliver(f, 0, 5);
	/* What the driver does on DEVICE_NEEDS_RESET. */
	vq_break(&f->rxq.vq, "device status has DEVICE_NEEDS_RESET");
	vq_break(&f->rxq.vq, "reported twice");
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
	assert_rx_stopped(f, "DEVICE_NEEDS_RESET");
	close_and_check(f);
}


/* ------------------------------------------------------------------------ */
/* Packed ring (2.8): layout, chains, out-of-order use, hostile descriptors  */

/* A used descriptor whose AVAIL bit belongs to the other lap (2.8.1). */
static void test_packed_wrong_wrap_counter(void **state)
{
	/* AVAIL = USED = 0 (last lap's used), and USED alone. */
	static const uint16_t bad_flags[] = { 0, VIRTQ_DESC_F_USED };

	for (size_t i = 0; i < 2; i++) {
		struct fixture *f;
		struct nb_pkt *pkts[RING];

		if (i > 0) {
			teardown(state);
			setup_packed(state);
		}
		f = *state;
		vnet_rxq_refill(&f->rxq);
		f->rxq.vq.pdesc[0].id = 0;
		f->rxq.vq.pdesc[0].len = 100;
		f->rxq.vq.pdesc[0].flags = bad_flags[i] | VIRTQ_DESC_F_WRITE;
		assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 0);
		assert_rx_stopped(f, "wrap");
		close_and_check(f);
	}
}

/* With nothing outstanding the ring is not read: stale garbage is harmless. */
static void test_packed_idle_ring_not_read(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkt;
	uint8_t out[BUF_SIZE];

	/* "Used" for the current wrap counter, id of nothing posted. */
	f->txq.vq.pdesc[0].id = 5;
	f->txq.vq.pdesc[0].flags = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	assert_int_equal(vnet_tx_burst(&f->txq, NULL, 0), 0);
	assert_int_equal(f->txdev.faults, 0);
	/* Posting overwrites it; an honest completion works. */
	pkt = tx_frame(f, 0, 60);
	assert_int_equal(vnet_tx_burst(&f->txq, &pkt, 1), 1);
	assert_int_equal(softdev_tx_frame(&f->txdev, out, sizeof(out)), 60);
	softdev_publish(&f->txdev);
	assert_int_equal(vnet_tx_burst(&f->txq, NULL, 0), 0);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT);
	assert_int_equal(f->txdev.faults, 0);
	close_and_check(f);
}

/* 2.8: the device may complete out of order; ids find their buffers. */
static void test_packed_out_of_order(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[3];
	uint16_t heads[3];

	for (uint32_t i = 0; i < 3; i++)
		pkts[i] = tx_frame(f, i, 60);
	assert_int_equal(vnet_tx_burst(&f->txq, pkts, 3), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_true(softdev_pop(&f->txdev, &heads[i]));
	softdev_used(&f->txdev, heads[2], 0);
	softdev_used(&f->txdev, heads[0], 0);
	softdev_publish(&f->txdev);
	assert_int_equal(vnet_tx_burst(&f->txq, NULL, 0), 0);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT - 1);
	softdev_used(&f->txdev, heads[1], 0);
	softdev_publish(&f->txdev);
	assert_int_equal(vnet_tx_burst(&f->txq, NULL, 0), 0);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT);
	assert_int_equal(f->txdev.faults, 0);
	close_and_check(f);
}

/*
 * 2.8.4: the used len counts for buffers the device may write, whatever
 * the used descriptor's WRITE flag says (QEMU 10 never sets it), and is
 * reserved (ignored, any value) for buffers it may only read.
 */
static void test_packed_len_follows_posted_buffer(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING], *pkt = tx_frame(f, 0, 60);
	uint16_t head = 0;

	vnet_rxq_refill(&f->rxq);
	assert_true(softdev_pop(&f->rxdev, &head));
	softdev_used(&f->rxdev, head, VIRTIO_NET_HDR_LEN + FRAME_LEN);
	f->rxdev.pending[0].flags &= (uint16_t)~VIRTQ_DESC_F_WRITE;
	softdev_publish(&f->rxdev);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 1);
	assert_int_equal(pkts[0]->len, FRAME_LEN);
	free_all(pkts, 1);

	assert_int_equal(vnet_tx_burst(&f->txq, &pkt, 1), 1);
	assert_true(softdev_pop(&f->txdev, &head));
	softdev_used(&f->txdev, head, 0xffffffff); /* reserved: any value */
	softdev_publish(&f->txdev);
	assert_int_equal(vnet_tx_burst(&f->txq, NULL, 0), 0);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT - RING);
	assert_int_equal(f->rxdev.faults + f->txdev.faults, 0);
	close_and_check(f);
}

/* ------------------------------------------------------------------------ */
/* VIRTIO_F_EVENT_IDX (2.7.7, 2.7.10, 2.8.10)                                */

/*
 * The device asks for a kick when a given entry is made available (split,
 * 2.7.10: avail_event), then does not look again until round 10. Split:
 * only the first send covers the event. Packed: the device named a
 * descriptor it has passed, which QEMU 10 leaves behind while it idles
 * (packed_need_kick): every send kicks until it drains and asks at its
 * position, which the next send covers; then it turns kicks off.
 */
static void test_event_idx_kicks(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[4];
	uint8_t out[BUF_SIZE];
	unsigned kicks = 0;

	softdev_notify(&f->txdev, true); /* at the next entry: 0 */
	for (unsigned round = 0; round < 40; round++) {
		for (uint32_t i = 0; i < 4; i++)
			pkts[i] = tx_frame(f, i, 60);
		assert_int_equal(vnet_tx_burst(&f->txq, pkts, 4), 4);
		kicks += round == 0 || round == 11 ||
			 (f->txq.vq.packed && round < 11);
		assert_int_equal(f->txdev.kicks, kicks);
		if (round >= 10) {
			while (softdev_tx_frame(&f->txdev, out, sizeof(out)) >= 0)
				;
			softdev_publish(&f->txdev);
		}
		if (round == 10)
			softdev_notify(&f->txdev, true);
		if (round == 11)
			softdev_notify(&f->txdev, false);
	}
	close_and_check(f);
}

/* Packed DESC at a descriptor not made available yet: kick once covered. */
static void test_packed_event_ahead(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->txq.vq;
	struct nb_pkt *pkts[4];
	uint8_t out[BUF_SIZE];

	/* Position 8 of the first lap (wrap counter 1). */
	vq->dev_event->off_wrap = 8 | 1u << RING_EVENT_WRAP_SHIFT;
	vq->dev_event->flags = RING_EVENT_FLAGS_DESC;
	for (unsigned round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < 4; i++)
			pkts[i] = tx_frame(f, i, 60);
		assert_int_equal(vnet_tx_burst(&f->txq, pkts, 4), 4);
		/* 0-3, 4-7: before 8; 8-11: covers it. */
		assert_int_equal(f->txdev.kicks, round == 2);
		while (softdev_tx_frame(&f->txdev, out, sizeof(out)) >= 0)
			;
		softdev_publish(&f->txdev);
	}
	close_and_check(f);
}

/* Send n frames in bursts of up to 32; the device takes them all. */
static void send_drained(struct fixture *f, uint32_t n)
{
	struct nb_pkt *pkts[32];
	uint8_t out[BUF_SIZE];

	while (n > 0) {
		uint32_t k = n < 32 ? n : 32;

		for (uint32_t i = 0; i < k; i++)
			pkts[i] = tx_frame(f, i, 60);
		assert_int_equal(vnet_tx_burst(&f->txq, pkts, (uint16_t)k), k);
		while (softdev_tx_frame(&f->txdev, out, sizeof(out)) >= 0)
			;
		softdev_publish(&f->txdev);
		n -= k;
	}
}

/*
 * QEMU 10 after the hub held a frame back (virtio_net_tx_complete): it
 * asks for DESC at its position, pops on across the end of the ring
 * without moving the offset, and idles. Our next batch then crosses the
 * end of the ring again: the offset has our wrap bit and lies above our
 * position, but it is more than a lap behind. Without a kick the device
 * never looks again (pktgen -> testpmd rxonly on the packed NICs stopped
 * with a full ring).
 */
static void test_packed_event_lap_behind(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[RING];
	unsigned kicks;

	send_drained(f, RING - 16);
	softdev_notify(&f->txdev, true); /* DESC at RING - 16, first lap */
	send_drained(f, 32);             /* the device pops on to 16, next lap */
	kicks = f->txdev.kicks;
	/* One batch from 16 across the end to 8 of the third lap. */
	for (uint32_t i = 0; i < RING - 8; i++)
		pkts[i] = tx_frame(f, i, 60);
	assert_int_equal(vnet_tx_burst(&f->txq, pkts, RING - 8), RING - 8);
	assert_int_equal(f->txdev.kicks, kicks + 1);
	close_and_check(f);
}

/* Any avail_event / off_wrap the device writes gives a yes or a no. */
static void test_event_idx_hostile_values(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->txq.vq;
	struct nb_pkt *pkts[8];
	uint8_t out[BUF_SIZE];

	for (uint32_t v = 0; v < 0x10000; v += 0x1fd) {
		for (uint32_t i = 0; i < 8; i++)
			pkts[i] = tx_frame(f, i, 60);
		if (vq->packed) {
			vq->dev_event->off_wrap = (uint16_t)v;
			vq->dev_event->flags = (uint16_t)(v >> 3);
		} else {
			*VIRTQ_AVAIL_EVENT(vq->used, vq->size) = (uint16_t)v;
		}
		assert_int_equal(vnet_tx_burst(&f->txq, pkts, 8), 8);
		while (softdev_tx_frame(&f->txdev, out, sizeof(out)) >= 0)
			;
		softdev_publish(&f->txdev);
	}
	assert_int_equal(f->txdev.faults, 0);
	close_and_check(f);
}

/* vq_used_notify: what the device sees, and "already used" reported. */
static void test_used_notify(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->rxq.vq;
	struct nb_pkt *pkts[RING];

	vnet_rxq_refill(&f->rxq);
	deliver(f, 0, 3);
	assert_int_equal(vnet_rx_burst(&f->rxq, pkts, RING), 3);
	free_all(pkts, 3);
	assert_false(vq_used_notify(vq, true)); /* nothing waiting */
	if (vq->packed && vq->event_idx) {
		assert_int_equal(vq->drv_event->flags, RING_EVENT_FLAGS_DESC);
		assert_int_equal(vq->drv_event->off_wrap,
				 3 | 1u << RING_EVENT_WRAP_SHIFT);
	} else if (vq->packed) {
		assert_int_equal(vq->drv_event->flags, RING_EVENT_FLAGS_ENABLE);
	} else if (vq->event_idx) {
		assert_int_equal(*VIRTQ_USED_EVENT(vq->avail, vq->size), 3);
		assert_int_equal(vq->avail->flags, 0);
	} else {
		assert_int_equal(vq->avail->flags, 0);
	}
	deliver(f, 3, 1);
	assert_true(vq_used_notify(vq, true)); /* one came: poll again */
	assert_false(vq_used_notify(vq, false));
	if (vq->packed)
		assert_int_equal(vq->drv_event->flags, RING_EVENT_FLAGS_DISABLE);
	else if (vq->event_idx)
		assert_int_equal(*VIRTQ_USED_EVENT(vq->avail, vq->size), 2);
	else
		assert_int_equal(vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	close_and_check(f);
}

/*
 * Split + EVENT_IDX while we poll: used_event stays where the device never
 * reaches it, through three wraps of the used index (2.7.7.2: the device
 * would interrupt when idx passes used_event).
 */
static void test_event_idx_no_interrupts_while_polling(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->rxq.vq;
	struct nb_pkt *pkts[32];
	uint32_t seq = 0;

	vnet_rxq_refill(&f->rxq);
	while (seq < 3 * 65536 + 1000) {
		uint16_t old = vq->used->idx;

		deliver(f, seq, 29);
		assert_false(virtq_need_event(*VIRTQ_USED_EVENT(vq->avail, vq->size),
					      vq->used->idx, old));
		assert_int_equal(vnet_rx_burst(&f->rxq, pkts, 32), 29);
		free_all(pkts, 29);
		seq += 29;
	}
	close_and_check(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TP(fn) cmocka_unit_test_setup_teardown(fn, setup_packed, teardown)
#define TE(fn) cmocka_unit_test_setup_teardown(fn, setup_event_idx, teardown)
#define TPE(fn) \
	cmocka_unit_test_setup_teardown(fn, setup_packed_event_idx, teardown)
/* Layout-blind tests: split, packed, and both with EVENT_IDX. */
#define T4(fn) T(fn), TP(fn), TE(fn), TPE(fn)
	const struct CMUnitTest tests[] = {
		T4(test_rx_fill_and_receive),
		T4(test_rx_batch_one_kick),
		T4(test_rx_burst_smaller_than_used),
		T4(test_rx_mempool_exhausted),
		T4(test_rx_empty_frame_dropped),
		T4(test_tx_send_and_complete),
		T4(test_tx_ring_full),
		T4(test_tx_bad_length_dropped),
		T4(test_notification_suppression),
		T4(test_index_wrap),
		T4(test_chain_post_and_reap),
		T(test_init_rejects_bad_size),
		T(test_hostile_used_idx_beyond_outstanding),
		T(test_hostile_used_idx_beyond_ring),
		T(test_hostile_used_idx_before_tx_posted),
		T4(test_hostile_id_out_of_range),
		T4(test_hostile_double_completion),
		T4(test_hostile_completes_free_descriptor),
		T4(test_hostile_len_too_long),
		T4(test_hostile_len_shorter_than_header),
		T(test_hostile_tx_len_beyond_buffer),
		TE(test_hostile_tx_len_beyond_buffer),
		T4(test_hostile_break_from_status),
		TP(test_packed_wrong_wrap_counter),
		TP(test_packed_idle_ring_not_read),
		TP(test_packed_out_of_order),
		TP(test_packed_len_follows_posted_buffer),
		TE(test_event_idx_kicks),
		TPE(test_event_idx_kicks),
		TPE(test_packed_event_ahead),
		TPE(test_packed_event_lap_behind),
		TE(test_event_idx_hostile_values),
		TPE(test_event_idx_hostile_values),
		T4(test_used_notify),
		TE(test_event_idx_no_interrupts_while_polling),
		T(test_hash_report_header),
	};
#undef T4
#undef TPE
#undef TE
#undef TP
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
