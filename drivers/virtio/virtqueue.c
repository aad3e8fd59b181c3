/* SPDX-License-Identifier: MIT */
/*
 * virtqueue.c - split (virtio 1.2, 2.7) and packed (2.8) virtqueues for a
 * poll-mode driver, behind one interface: the format is a switch in
 * vq_post_one, vq_post_chain, vq_publish, vq_used_notify and vq_reap.
 *
 * Ownership of a buffer: free (its id on free_ids) -> posted (slots[id]
 * holds the token, the device may use it) -> used (the device returned the
 * id: in the used ring, or in a used descriptor of the packed ring; we take
 * the token back and free the id and its descriptors). The device can only
 * ever make us move a buffer from posted to used, and only once: an id that
 * is out of range or not posted is a fault, never a lookup.
 *
 * Split: the id is the chain's head descriptor. Packed: descriptors are
 * ring positions taken in order, and the id is a separate buffer id
 * (2.8.6); a used buffer gives back its positions, counted from our slot.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nb_mmio.h"
#include "virtqueue.h"

/* 2.7.6: flags, idx, ring[size], used_event. */
static size_t avail_bytes(uint16_t size)
{
	return 6 + 2 * (size_t)size;
}

/* 2.7.8: flags, idx, ring[size] of {id, len}, avail_event. */
static size_t used_bytes(uint16_t size)
{
	return 6 + 8 * (size_t)size;
}

int vq_init(struct virtqueue *vq, struct nb_pool *dma, uint16_t index,
	    uint16_t size, unsigned flags, vq_kick_fn kick, vq_fault_fn fault,
	    void *ctx)
{
	bool packed = (flags & VQ_PACKED) != 0;
	void *desc, *avail, *used;

	*vq = (struct virtqueue){ .index = index, .kick = kick, .fault = fault,
				  .ctx = ctx, .packed = packed,
				  .event_idx = (flags & VQ_EVENT_IDX) != 0 };
	if (!NB_IS_POW2(size) || size > VIRTQ_MAX_SIZE)
		return nb_fail(EINVAL, "virtqueue %u: size %u is not a power "
			       "of two up to %u (virtio 1.2, 2.7, 2.8)", index,
			       size, VIRTQ_MAX_SIZE);

	/*
	 * Three carves: the device-written part gets its own cache lines,
	 * away from what the driver writes. 64 bytes satisfies the 16/2/4
	 * byte alignment of 2.7 and the 16/4/4 of 2.8.10.1. Packed: the
	 * descriptor ring (both write it), then the driver and the device
	 * event suppression structures, 4 bytes each.
	 */
	if (nb_pool_carve(dma, 16 * (size_t)size, 64, &desc, &vq->desc_iova) ||
	    nb_pool_carve(dma, packed ? sizeof(*vq->drv_event) :
			  avail_bytes(size), 64, &avail, &vq->avail_iova) ||
	    nb_pool_carve(dma, packed ? sizeof(*vq->dev_event) :
			  used_bytes(size), 64, &used, &vq->used_iova))
		return nb_fail(errno, "virtqueue %u: no room for %u-entry "
			       "rings in the DMA pool: %s", index, size,
			       nb_last_error());
	if (packed) {
		vq->pdesc = desc;
		vq->drv_event = avail;
		vq->dev_event = used;
		/* 2.8.1: both wrap counters start at 1. */
		vq->avail_wrap = true;
		vq->used_wrap = true;
	} else {
		vq->desc = desc;
		vq->avail = avail;
		vq->used = used;
	}
	vq->size = size;
	vq->mask = size - 1;

	vq->free_ids = calloc(size, sizeof(*vq->free_ids));
	vq->next_id = calloc(size, sizeof(*vq->next_id));
	vq->slots = calloc(size, sizeof(*vq->slots));
	if (!vq->free_ids || !vq->next_id || !vq->slots) {
		vq_fini(vq, NULL, NULL);
		return nb_fail(ENOMEM, "virtqueue %u: out of memory", index);
	}
	/* Pop order 0, 1, 2...: the stack holds the ids in reverse. */
	for (uint16_t i = 0; i < size; i++)
		vq->free_ids[i] = size - 1 - i;
	vq->n_free = size;

	/* We poll: no used buffer notifications until someone asks. */
	vq_used_notify(vq, false);
	return 0;
}

void vq_fini(struct virtqueue *vq, void (*release)(void *token, void *arg),
	     void *arg)
{
	if (vq->slots && release) {
		for (uint32_t id = 0; id < vq->size; id++) {
			if (vq->slots[id].token)
				release(vq->slots[id].token, arg);
			vq->slots[id].token = NULL;
		}
	}
	free(vq->free_ids);
	free(vq->next_id);
	free(vq->slots);
	vq->free_ids = NULL;
	vq->next_id = NULL;
	vq->slots = NULL;
	vq->in_flight = 0;
	vq->n_free = 0;
}

/* 2.7.13.2: put the chain's head into the next free avail ring entry. */
static void add_to_avail(struct virtqueue *vq, uint16_t head, void *token,
			 uint32_t buf_len, uint16_t n_desc)
{
	vq->slots[head] = (struct vq_slot){ .token = token, .buf_len = buf_len,
					    .n_desc = n_desc };
	vq->avail->ring[vq->avail_idx & vq->mask] = head;
	vq->avail_idx++;
	vq->in_flight++;
}

/*
 * Packed: the descriptor at the next ring position (2.8.13), with the
 * AVAIL/USED bits saying "available" for the current Driver Ring Wrap
 * Counter (2.8.1). Returns the flags; the caller stores them.
 */
static uint16_t packed_fill(struct virtqueue *vq, uint16_t id, uint64_t iova,
			    uint32_t len, uint16_t flags)
{
	volatile struct pvirtq_desc *d = &vq->pdesc[vq->avail_idx];

	d->addr = iova; /* an IOVA: translated by the IOMMU */
	d->len = len;
	d->id = id;
	flags |= vq->avail_wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
	if (++vq->avail_idx == vq->size) {
		vq->avail_idx = 0;
		vq->avail_wrap = !vq->avail_wrap;
	}
	return flags;
}

/* Packed: book a posted buffer of n descriptors under buffer id `id`. */
static void packed_book(struct virtqueue *vq, uint16_t id, void *token,
			uint32_t buf_len, uint16_t n_desc, bool writable)
{
	vq->slots[id] = (struct vq_slot){ .token = token, .buf_len = buf_len,
					  .n_desc = n_desc,
					  .writable = writable };
	vq->n_free -= n_desc;
	vq->added += n_desc;
	vq->in_flight++;
}

/* Packed: the next free buffer id (size - in_flight of them are free). */
static uint16_t packed_take_id(struct virtqueue *vq)
{
	return vq->free_ids[vq->size - vq->in_flight - 1];
}

static void packed_post_one(struct virtqueue *vq, void *token, uint64_t iova,
			    uint32_t len, bool device_writes)
{
	uint16_t id = packed_take_id(vq);
	volatile uint16_t *flags = &vq->pdesc[vq->avail_idx].flags;
	uint16_t f = packed_fill(vq, id, iova, len,
				 device_writes ? VIRTQ_DESC_F_WRITE : 0);

	/* 2.8.6 / 2.8.2: the flags last, after addr, len and id. */
	nb_compiler_barrier();
	*flags = f;
	packed_book(vq, id, token, len, 1, device_writes);
}

void vq_post_one(struct virtqueue *vq, void *token, uint64_t iova,
		 uint32_t len, bool device_writes)
{
	uint16_t id;

	if (vq->packed) {
		packed_post_one(vq, token, iova, len, device_writes);
		return;
	}
	id = vq->free_ids[--vq->n_free];
	volatile struct virtq_desc *d = &vq->desc[id];

	/* 2.7.5: addr is an IOVA, translated by the IOMMU (ACCESS_PLATFORM). */
	d->addr = iova;
	d->len = len;
	d->flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
	d->next = 0;
	add_to_avail(vq, id, token, len, 1);
}

/*
 * Packed chain (2.8.6): consecutive positions, NEXT on all but the last,
 * the buffer id in every one (the device reads it from the last), and the
 * first descriptor's flags written only after the rest of the chain.
 */
static void packed_post_chain(struct virtqueue *vq, void *token,
			      const struct vq_seg *segs, uint16_t n)
{
	uint16_t id = packed_take_id(vq);
	volatile uint16_t *head_flags = &vq->pdesc[vq->avail_idx].flags;
	uint16_t first = 0;
	uint32_t total = 0;
	bool writable = false;

	for (uint16_t i = 0; i < n; i++) {
		volatile uint16_t *flags = &vq->pdesc[vq->avail_idx].flags;
		uint16_t f = packed_fill(vq, id, segs[i].iova, segs[i].len,
					 (segs[i].device_writes ?
					  VIRTQ_DESC_F_WRITE : 0) |
					 (i == n - 1 ? 0 : VIRTQ_DESC_F_NEXT));

		if (i == 0)
			first = f;
		else
			*flags = f;
		total += segs[i].len;
		writable |= segs[i].device_writes;
	}
	nb_compiler_barrier();
	*head_flags = first;
	packed_book(vq, id, token, total, n, writable);
}

int vq_post_chain(struct virtqueue *vq, void *token, const struct vq_seg *segs,
		  uint16_t n)
{
	uint16_t head, id;
	uint32_t total = 0;

	if (n == 0 || n > vq->n_free)
		return nb_fail(ENOSPC, "virtqueue %u: %u free descriptors, "
			       "chain needs %u", vq->index, vq->n_free, n);
	if (vq->packed) {
		packed_post_chain(vq, token, segs, n);
		return 0;
	}
	head = vq->free_ids[vq->n_free - 1];
	for (uint16_t i = 0; i < n; i++) {
		volatile struct virtq_desc *d;
		bool last = i == n - 1;

		id = vq->free_ids[--vq->n_free];
		d = &vq->desc[id];
		/* 2.7.5: chained with NEXT; 2.7.4.2: writable parts last. */
		d->addr = segs[i].iova;
		d->len = segs[i].len;
		d->flags = (segs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
			   (last ? 0 : VIRTQ_DESC_F_NEXT);
		vq->next_id[id] = last ? 0 : vq->free_ids[vq->n_free - 1];
		d->next = vq->next_id[id];
		total += segs[i].len;
	}
	add_to_avail(vq, head, token, total, n);
	return 0;
}

/*
 * Packed, 2.8.10: is the descriptor the device named in a DESC event
 * (off_wrap) one we have not made available yet? Positions are compared
 * in a space of two laps (the wrap counter is one bit): from our oldest
 * outstanding position (last_used, used_wrap), `outstanding` positions up
 * to avail_idx are made available; an offset from there to one lap past
 * last_used is still ahead. Anything else the device has passed, however
 * long ago: QEMU 10 writes off_wrap only when it enables notifications
 * (virtio_queue_packed_set_notification) and then pops on without moving
 * it, also across the end of the ring (virtio_net_tx_complete after the
 * hub held a frame back), and waits idle. Comparing the wrap bit with our
 * own avail wrap counter alone took such an offset, a lap and more
 * behind, for one ahead once our batch crossed the end of the ring again:
 * pktgen -> testpmd rxonly on the packed NICs stopped with a full ring.
 */
static bool packed_event_ahead(const struct virtqueue *vq, uint16_t off_wrap)
{
	uint32_t lap = vq->size;
	uint32_t event = (off_wrap & RING_EVENT_OFF_MASK) +
			 ((off_wrap >> RING_EVENT_WRAP_SHIFT) ? lap : 0);
	uint32_t used = vq->last_used + (vq->used_wrap ? lap : 0);
	uint32_t ahead = (event + 2 * lap - used) % (2 * lap);
	uint32_t outstanding = vq->size - vq->n_free;

	return ahead >= outstanding && ahead < lap;
}

/*
 * Packed, 2.8.10: read the device event suppression structure once and
 * decide. DISABLE: no kick. DESC (with EVENT_IDX): no kick only while the
 * descriptor it names is still ahead of what we made available
 * (packed_event_ahead); the spec would also stay quiet for an offset the
 * device has passed, but QEMU leaves such offsets behind and idles (check
 * 35's forwarder stalled with its transmit ring full), so we kick for
 * them as DPDK does for every flag but DISABLE. Whatever the device
 * wrote, the answer is a yes or a no; an unknown value means "notify",
 * which is always allowed.
 */
static bool packed_need_kick(struct virtqueue *vq)
{
	uint16_t flags = nb_dma_read16(&vq->dev_event->flags);
	uint16_t off_wrap = nb_dma_read16(&vq->dev_event->off_wrap);

	vq->added = 0;
	switch (flags & RING_EVENT_FLAGS_MASK) {
	case RING_EVENT_FLAGS_DISABLE:
		return false;
	case RING_EVENT_FLAGS_DESC:
		return !vq->event_idx || !packed_event_ahead(vq, off_wrap);
	default:
		return true;
	}
}

/* Split, 2.7.10: NO_NOTIFY, or with EVENT_IDX the device's avail_event. */
static bool split_need_kick(struct virtqueue *vq, uint16_t old)
{
	if (vq->event_idx)
		return virtq_need_event(
			nb_dma_read16(VIRTQ_AVAIL_EVENT(vq->used, vq->size)),
			vq->avail_idx, old);
	return !(nb_dma_read16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
}

bool vq_publish(struct virtqueue *vq)
{
	uint16_t old = vq->published;
	bool kick;

	if (vq->broken)
		return false;
	if (vq->packed) {
		/* The descriptors' flags made them available already. */
		if (vq->added == 0)
			return false;
	} else {
		if (vq->avail_idx == vq->published)
			return false;
		/*
		 * 2.7.13.3: descriptors and ring entries before idx. x86
		 * keeps stores in order; the compiler must not move them
		 * (nb_mmio.h).
		 */
		nb_compiler_barrier();
		vq->avail->idx = vq->avail_idx;
		vq->published = vq->avail_idx;
	}
	/*
	 * 2.7.13.4 / 2.8.22: read the device's suppression state only after
	 * the buffers are visible, else a device going idle between the two
	 * is never told. A store followed by a load: a full barrier
	 * (nb_mmio.h).
	 */
	nb_full_barrier();
	kick = vq->packed ? packed_need_kick(vq) : split_need_kick(vq, old);
	if (!kick)
		return false;
	vq->kicks++;
	vq->kick(vq);
	return true;
}

/* Packed, 2.8.1: is the descriptor at position last_used a used one? */
static bool packed_is_used(uint16_t flags, bool wrap)
{
	return (bool)(flags & VIRTQ_DESC_F_AVAIL) == wrap &&
	       (bool)(flags & VIRTQ_DESC_F_USED) == wrap;
}

bool vq_used_notify(struct virtqueue *vq, bool on)
{
	if (on && vq->broken)
		return true;
	if (vq->packed) {
		/* 2.8.10: the driver event suppression structure. */
		uint16_t flags = RING_EVENT_FLAGS_DISABLE;

		if (on && vq->event_idx) {
			vq->drv_event->off_wrap =
				(uint16_t)(vq->last_used |
					   vq->used_wrap << RING_EVENT_WRAP_SHIFT);
			nb_compiler_barrier(); /* off_wrap before flags */
			flags = RING_EVENT_FLAGS_DESC;
		} else if (on) {
			flags = RING_EVENT_FLAGS_ENABLE;
		}
		vq->drv_event->flags = flags;
	} else if (vq->event_idx) {
		/*
		 * 2.7.7: with EVENT_IDX flags must be 0 and used_event says
		 * when. On: at the next used entry. Off: one behind what we
		 * reaped, which the device cannot reach before we reap
		 * 32768 more (vq_reap keeps it there).
		 */
		vq->avail->flags = 0;
		*VIRTQ_USED_EVENT(vq->avail, vq->size) =
			on ? vq->last_used : (uint16_t)(vq->last_used - 1);
		vq->event_base = vq->last_used;
	} else {
		vq->avail->flags = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
	}
	vq->used_notify = on;
	if (!on)
		return false;
	/* 2.7.7.2: the store above, then look for what already came. */
	nb_full_barrier();
	if (vq->packed)
		return vq->in_flight > 0 &&
		       packed_is_used(nb_dma_read16(&vq->pdesc[vq->last_used].flags),
				      vq->used_wrap);
	return nb_dma_read16(&vq->used->idx) != vq->last_used;
}

void vq_break(struct virtqueue *vq, const char *fmt, ...)
{
	char why[NB_FAULT_LEN];
	va_list ap;

	if (vq->broken)
		return; /* one fault per queue: the first one explains it */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vq->broken = true;
	vq->fault(vq, why);
}

/* Return a used chain's descriptors to the free stack. */
static void free_chain(struct virtqueue *vq, uint16_t head, uint16_t n_desc)
{
	uint16_t id = head;

	for (uint16_t i = 0; i < n_desc; i++) {
		vq->free_ids[vq->n_free++] = id;
		id = vq->next_id[id]; /* our copy, never the device's */
	}
}

/*
 * Take back a used buffer's token after its id and len passed the checks.
 * Returns false (and breaks the queue) if they do not.
 */
static bool take_used(struct virtqueue *vq, uint32_t id, uint32_t len,
		      uint32_t min_len, void **token, const char *sect)
{
	struct vq_slot *slot;

	if (id >= vq->size || !vq->slots[id].token) {
		vq_break(vq, "queue %u: used id %u was not posted (out of "
			 "range or completed twice, %s)", vq->index, id, sect);
		return false;
	}
	slot = &vq->slots[id];
	if (len > slot->buf_len || len < min_len) {
		vq_break(vq, "queue %u: used len %u outside [%u, %u] for id "
			 "%u (%s)", vq->index, len, min_len, slot->buf_len, id,
			 sect);
		return false;
	}
	*token = slot->token;
	slot->token = NULL;
	vq->in_flight--;
	return true;
}

/*
 * Packed (2.8.2): poll the one position after the last used descriptor.
 * With buffers outstanding, every position from last_used to avail_idx
 * holds a descriptor we made available with the wrap counter of that lap
 * (used_wrap at last_used), so it reads as available (AVAIL = used_wrap,
 * USED != used_wrap: stop) or used (both = used_wrap). An AVAIL bit of the
 * other lap is neither: the device wrote a wrong wrap counter (2.8.1).
 * With nothing outstanding the position is not looked at at all.
 */
static uint16_t packed_reap(struct virtqueue *vq, void **tokens,
			    uint32_t *lens, uint16_t n, uint32_t min_len)
{
	const uint16_t both = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	volatile struct pvirtq_desc *ring = vq->pdesc;
	uint16_t pos = vq->last_used;
	/* AVAIL and USED of a used descriptor in this lap (2.8.1). */
	uint16_t used_bits = vq->used_wrap ? both : 0;
	uint16_t got;

	for (got = 0; got < n && vq->in_flight > 0; got++) {
		uint16_t flags = nb_dma_read16(&ring[pos].flags);
		uint32_t id, len;

		if ((flags & both) != used_bits) {
			/* Available (USED still the inverse): not done yet. */
			if ((flags & both) == (used_bits ^ VIRTQ_DESC_F_USED))
				break;
			vq_break(vq, "queue %u: descriptor %u has flags 0x%04x: "
				 "its AVAIL bit does not match ring wrap "
				 "counter %u (2.8.1)", vq->index, pos, flags,
				 used_bits != 0);
			break;
		}
		/*
		 * x86 does not reorder loads with loads and the reads are
		 * volatile: id and len are read after flags (2.8.21's read
		 * barrier). 2.8.4: len is what the device wrote; for a buffer
		 * it may only read, len is reserved and counts as 0. Whether
		 * it may write is what we posted, not the used descriptor's
		 * WRITE flag (2.8.3), which QEMU 10 never sets.
		 */
		id = nb_dma_read16(&ring[pos].id);
		len = id < vq->size && vq->slots[id].writable
			      ? nb_dma_read32(&ring[pos].len) : 0;
		if (!take_used(vq, id, len, min_len, &tokens[got], "2.8.1"))
			break;
		lens[got] = len;
		/* 2.8.6: skip the rest of its chain; our count, not theirs. */
		vq->free_ids[vq->size - vq->in_flight - 1] = (uint16_t)id;
		vq->n_free += vq->slots[id].n_desc;
		pos += vq->slots[id].n_desc;
		if (pos >= vq->size) {
			pos -= vq->size;
			used_bits ^= both;
		}
	}
	vq->last_used = pos;
	vq->used_wrap = used_bits != 0;
	return got;
}

uint16_t vq_reap(struct virtqueue *vq, void **tokens, uint32_t *lens,
		 uint16_t n, uint32_t min_len)
{
	uint16_t used_idx, avail, got;

	if (vq->broken)
		return 0;
	if (vq->packed)
		return packed_reap(vq, tokens, lens, n, min_len);
	/* 2.7.8: the device's producer index, read once. */
	used_idx = nb_dma_read16(&vq->used->idx);
	avail = (uint16_t)(used_idx - vq->last_used);
	if (avail == 0)
		return 0;
	if (avail > vq->in_flight) {
		vq_break(vq, "queue %u: used idx moved by %u with only %u "
			 "buffers outstanding (2.7.8)", vq->index, avail,
			 vq->in_flight);
		return 0;
	}
	/*
	 * x86 does not reorder loads with loads and the reads are volatile,
	 * so the entries below are read after idx (2.7.14's read barrier).
	 */
	if (avail < n)
		n = avail;
	for (got = 0; got < n; got++) {
		volatile struct virtq_used_elem *e =
			&vq->used->ring[vq->last_used & vq->mask];
		uint32_t id = nb_dma_read32(&e->id);
		uint32_t len = nb_dma_read32(&e->len);

		if (!take_used(vq, id, len, min_len, &tokens[got], "2.7.8"))
			break;
		lens[got] = len;
		free_chain(vq, (uint16_t)id, vq->slots[id].n_desc);
		vq->last_used++;
	}
	/*
	 * 2.7.7 with EVENT_IDX and notifications off: move used_event
	 * behind us again before the device could reach it (one store per
	 * 32768 buffers).
	 */
	if (vq->event_idx && !vq->used_notify &&
	    (uint16_t)(vq->last_used - vq->event_base) >= 0x8000)
		vq_used_notify(vq, false);
	return got;
}
