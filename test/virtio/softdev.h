/* SPDX-License-Identifier: MIT */
/*
 * softdev.h - a software virtio "device" for one virtqueue, split or
 * packed (it follows vq->packed), used by the cmocka tests, the fuzz
 * harnesses and bench/virtio_ring.c. It plays the device's side of virtio
 * 1.2, 2.7 and 2.8: consumes available buffers, reads descriptors, writes
 * buffers and used entries, and sets its notification suppression the way
 * QEMU does (softdev_notify). Tests make it misbehave by writing used
 * entries with chosen values (softdev_used / softdev_publish) or the
 * rings directly.
 *
 * Packed: softdev_used writes id and len at the device's next used
 * position and softdev_publish writes the flags (AVAIL = USED = its wrap
 * counter), so used descriptors appear when published, as in the split
 * ring.
 */
#ifndef SOFTDEV_H
#define SOFTDEV_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Relative, so the fuzz harnesses in test/fuzz/ find it too. */
#include "../../drivers/virtio/virtio_rxtx.h"

#define SOFTDEV_MAX_RING 1024

struct softdev {
	struct virtqueue *vq;
	struct nb_pool *dma;
	uint16_t last_avail; /* split: avail idx consumed; packed: next position */
	uint16_t used_idx;   /* split: next used idx; packed: next position */
	bool avail_wrap;     /* packed: wrap counter of last_avail (2.8.1) */
	bool used_wrap;      /* packed: Device Ring Wrap Counter (2.8.1) */
	uint16_t pop_pos;    /* packed: first position of the last pop */
	uint16_t chain[SOFTDEV_MAX_RING]; /* packed: descriptors per buffer id */
	uint16_t n_pending;  /* packed: used flags not yet published */
	struct { uint16_t pos, flags; } pending[SOFTDEV_MAX_RING];
	unsigned kicks;      /* kick callbacks seen */
	unsigned faults;     /* fault callbacks seen */
	char fault[NB_FAULT_LEN];
	/* Optional: the device's answer, run inside the driver's kick. */
	void (*on_kick)(struct softdev *d);
	void *priv; /* for on_kick */
};

/* vq_init callbacks; ctx is the struct softdev. */
static inline void softdev_kick(struct virtqueue *vq)
{
	struct softdev *d = vq->ctx;

	d->kicks++;
	if (d->on_kick)
		d->on_kick(d);
}

static inline void softdev_fault(struct virtqueue *vq, const char *why)
{
	struct softdev *d = vq->ctx;

	d->faults++;
	snprintf(d->fault, sizeof(d->fault), "%s", why);
}

static inline void softdev_attach(struct softdev *d, struct virtqueue *vq,
				  struct nb_pool *dma)
{
	d->vq = vq;
	d->dma = dma;
	d->avail_wrap = d->used_wrap = true; /* 2.8.1: both start at 1 */
}

static inline void softdev_publish(struct softdev *d);

/* Packed: one ring position forward, flipping the wrap counter at the end. */
static inline void softdev_step(struct softdev *d, uint16_t *pos, bool *wrap,
				uint16_t n)
{
	*pos = (uint16_t)(*pos + n);
	while (*pos >= d->vq->size) {
		*pos = (uint16_t)(*pos - d->vq->size);
		*wrap = !*wrap;
	}
}

/*
 * Next buffer the driver made available, if any: its head id (split,
 * 2.7.6) or buffer id (packed, 2.8.1: AVAIL matches our wrap counter,
 * USED does not; the id sits in the chain's last descriptor, 2.8.6).
 */
static inline bool softdev_pop(struct softdev *d, uint16_t *head)
{
	struct virtqueue *vq = d->vq;
	uint16_t pos, flags, n = 1;

	if (!vq->packed) {
		if (vq->avail->idx == d->last_avail)
			return false;
		*head = vq->avail->ring[d->last_avail & vq->mask];
		d->last_avail++;
		return true;
	}
	flags = vq->pdesc[d->last_avail].flags;
	if ((bool)(flags & VIRTQ_DESC_F_AVAIL) != d->avail_wrap ||
	    (bool)(flags & VIRTQ_DESC_F_USED) == d->avail_wrap)
		return false;
	d->pop_pos = pos = d->last_avail;
	while ((flags & VIRTQ_DESC_F_NEXT) && n < vq->size) {
		pos = (uint16_t)((pos + 1) & vq->mask);
		flags = vq->pdesc[pos].flags;
		n++;
	}
	*head = vq->pdesc[pos].id;
	if (*head < SOFTDEV_MAX_RING)
		d->chain[*head] = n;
	softdev_step(d, &d->last_avail, &d->avail_wrap, n);
	return true;
}

/*
 * Write one used entry without publishing it (2.7.8; packed 2.8.2: at the
 * next used position, which then skips the buffer's chain).
 */
static inline void softdev_used(struct softdev *d, uint32_t id, uint32_t len)
{
	struct virtqueue *vq = d->vq;
	volatile struct pvirtq_desc *p;
	uint16_t n = 1;

	if (!vq->packed) {
		volatile struct virtq_used_elem *e =
			&vq->used->ring[d->used_idx & vq->mask];

		e->id = id;
		e->len = len;
		d->used_idx++;
		return;
	}
	if (d->n_pending == SOFTDEV_MAX_RING)
		softdev_publish(d);
	p = &vq->pdesc[d->used_idx];
	p->id = (uint16_t)id;
	p->len = len;
	d->pending[d->n_pending].pos = d->used_idx;
	/* 2.8.3: WRITE in a used descriptor says data was written. */
	d->pending[d->n_pending++].flags =
		(uint16_t)((d->used_wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED
					 : 0) | (len ? VIRTQ_DESC_F_WRITE : 0));
	if (id < SOFTDEV_MAX_RING && d->chain[id])
		n = d->chain[id];
	softdev_step(d, &d->used_idx, &d->used_wrap, n);
}

static inline void softdev_publish(struct softdev *d)
{
	if (!d->vq->packed) {
		d->vq->used->idx = d->used_idx;
		return;
	}
	for (uint16_t i = 0; i < d->n_pending; i++)
		d->vq->pdesc[d->pending[i].pos].flags = d->pending[i].flags;
	d->n_pending = 0;
}

/*
 * Available buffer notifications on or off, as QEMU sets them: the
 * NO_NOTIFY flag (2.7.10), avail_event at the next entry or one behind it
 * (EVENT_IDX, 2.7.10), packed ENABLE/DISABLE or DESC at the next position
 * (2.8.10).
 */
static inline void softdev_notify(struct softdev *d, bool on)
{
	struct virtqueue *vq = d->vq;

	if (vq->packed) {
		vq->dev_event->off_wrap =
			(uint16_t)(d->last_avail |
				   d->avail_wrap << RING_EVENT_WRAP_SHIFT);
		vq->dev_event->flags = !on ? RING_EVENT_FLAGS_DISABLE :
				       vq->event_idx ? RING_EVENT_FLAGS_DESC :
						       RING_EVENT_FLAGS_ENABLE;
	} else if (vq->event_idx) {
		*VIRTQ_AVAIL_EVENT(vq->used, vq->size) =
			on ? d->last_avail : (uint16_t)(d->last_avail - 1);
	} else {
		vq->used->flags = on ? 0 : VIRTQ_USED_F_NO_NOTIFY;
	}
}

/*
 * The buffer the descriptor of the last pop points at (split: descriptor
 * `id`; packed: the popped position), through the "IOMMU".
 */
static inline uint8_t *softdev_buf(struct softdev *d, uint16_t id,
				   uint32_t *len, bool *writable)
{
	uint64_t addr;
	uint16_t flags;

	if (d->vq->packed) {
		volatile struct pvirtq_desc *p = &d->vq->pdesc[d->pop_pos];

		addr = p->addr;
		*len = p->len;
		flags = p->flags;
	} else {
		volatile struct virtq_desc *desc = &d->vq->desc[id];

		addr = desc->addr;
		*len = desc->len;
		flags = desc->flags;
	}
	*writable = (flags & VIRTQ_DESC_F_WRITE) != 0;
	return nb_pool_iova_to_va(d->dma, addr, *len);
}

/* One descriptor of a chain as the device sees it (2.7.5). */
struct softdev_seg {
	uint8_t *buf; /* NULL: the address is outside the pool */
	uint32_t len;
	bool writable;
};

/*
 * Follow the chain at `head` through NEXT flags (2.7.5), at most `max`
 * descriptors; returns how many it read.
 */
static inline unsigned softdev_chain(struct softdev *d, uint16_t head,
				     struct softdev_seg *segs, unsigned max)
{
	uint16_t id = head;
	unsigned n = 0;

	while (n < max) {
		volatile struct virtq_desc *desc = &d->vq->desc[id & d->vq->mask];

		segs[n].buf = softdev_buf(d, id & d->vq->mask, &segs[n].len,
					  &segs[n].writable);
		n++;
		if (!(desc->flags & VIRTQ_DESC_F_NEXT))
			break;
		id = desc->next;
	}
	return n;
}

/*
 * Receive side: put a frame (after a zeroed 12-byte header) into the next
 * available buffer. False if none is available or it does not fit.
 */
static inline bool softdev_rx_frame(struct softdev *d, const void *frame,
				    uint32_t frame_len)
{
	uint16_t head = 0;
	uint32_t len;
	bool writable;
	uint8_t *buf;

	if (!softdev_pop(d, &head))
		return false;
	buf = softdev_buf(d, head, &len, &writable);
	if (!buf || !writable || len < VIRTIO_NET_HDR_LEN + frame_len)
		return false;
	memset(buf, 0, VIRTIO_NET_HDR_LEN);
	memcpy(buf + VIRTIO_NET_HDR_LEN, frame, frame_len);
	softdev_used(d, head, VIRTIO_NET_HDR_LEN + frame_len);
	return true;
}

/*
 * Transmit side: take the next frame, strip the header (which must be all
 * zero: no offloads), complete it with len 0. Returns the frame length, or
 * -1 if nothing is available or the buffer is malformed.
 */
static inline int softdev_tx_frame(struct softdev *d, void *out, size_t cap)
{
	static const uint8_t zero_hdr[VIRTIO_NET_HDR_LEN];
	uint16_t head = 0;
	uint32_t len;
	bool writable;
	uint8_t *buf;

	if (!softdev_pop(d, &head))
		return -1;
	buf = softdev_buf(d, head, &len, &writable);
	if (!buf || writable || len < VIRTIO_NET_HDR_LEN ||
	    len - VIRTIO_NET_HDR_LEN > cap ||
	    memcmp(buf, zero_hdr, VIRTIO_NET_HDR_LEN) != 0)
		return -1;
	memcpy(out, buf + VIRTIO_NET_HDR_LEN, len - VIRTIO_NET_HDR_LEN);
	softdev_used(d, head, 0);
	return (int)(len - VIRTIO_NET_HDR_LEN);
}

#endif /* SOFTDEV_H */
