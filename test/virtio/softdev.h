/* SPDX-License-Identifier: MIT */
/*
 * softdev.h - a software virtio "device" for one split virtqueue, used by
 * the cmocka tests and the fuzz harnesses. It plays the device's side of
 * virtio 1.2, 2.7: consumes avail entries, reads descriptors, writes
 * buffers and used entries. Tests make it misbehave by writing the used
 * ring directly (softdev_used / softdev_publish with chosen values).
 */
#ifndef SOFTDEV_H
#define SOFTDEV_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Relative, so the fuzz harnesses in test/fuzz/ find it too. */
#include "../../drivers/virtio/virtio_rxtx.h"

struct softdev {
	struct virtqueue *vq;
	struct nb_pool *dma;
	uint16_t last_avail; /* device's position in the avail ring */
	uint16_t used_idx;   /* device's next used idx (published or not) */
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
}

/* Next head the driver made available, if any (2.7.6). */
static inline bool softdev_pop(struct softdev *d, uint16_t *head)
{
	if (d->vq->avail->idx == d->last_avail)
		return false;
	*head = d->vq->avail->ring[d->last_avail & d->vq->mask];
	d->last_avail++;
	return true;
}

/* Write one used entry without publishing it (2.7.8). */
static inline void softdev_used(struct softdev *d, uint32_t id, uint32_t len)
{
	volatile struct virtq_used_elem *e =
		&d->vq->used->ring[d->used_idx & d->vq->mask];

	e->id = id;
	e->len = len;
	d->used_idx++;
}

static inline void softdev_publish(struct softdev *d)
{
	d->vq->used->idx = d->used_idx;
}

/* The buffer a single descriptor points at, through the "IOMMU". */
static inline uint8_t *softdev_buf(struct softdev *d, uint16_t id,
				   uint32_t *len, bool *writable)
{
	volatile struct virtq_desc *desc = &d->vq->desc[id];

	*len = desc->len;
	*writable = (desc->flags & VIRTQ_DESC_F_WRITE) != 0;
	return nb_pool_iova_to_va(d->dma, desc->addr, desc->len);
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
