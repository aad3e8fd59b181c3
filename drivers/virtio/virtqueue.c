/* SPDX-License-Identifier: MIT */
/*
 * virtqueue.c - split virtqueue (virtio 1.2, 2.7) for a poll-mode driver.
 *
 * Ownership of a descriptor chain: free (on free_ids) -> posted (slots[head]
 * holds the token, the device may use it) -> used (the device returned its
 * head in the used ring; we take the token back and free the ids). The
 * device can only ever make us move a chain from posted to used, and only
 * once: an id that is out of range or not posted is a fault, never a lookup.
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
	    uint16_t size, vq_kick_fn kick, vq_fault_fn fault, void *ctx)
{
	void *desc, *avail, *used;

	*vq = (struct virtqueue){ .index = index, .kick = kick, .fault = fault,
				  .ctx = ctx };
	if (!NB_IS_POW2(size) || size > VIRTQ_MAX_SIZE)
		return nb_fail(EINVAL, "virtqueue %u: size %u is not a power "
			       "of two up to %u (virtio 1.2, 2.7)", index,
			       size, VIRTQ_MAX_SIZE);

	/*
	 * Three carves: the device-written used ring gets its own cache
	 * lines, away from the driver-written descriptors and avail ring.
	 * 64 bytes satisfies the 16/2/4-byte alignment of 2.7.
	 */
	if (nb_pool_carve(dma, 16 * (size_t)size, 64, &desc, &vq->desc_iova) ||
	    nb_pool_carve(dma, avail_bytes(size), 64, &avail, &vq->avail_iova) ||
	    nb_pool_carve(dma, used_bytes(size), 64, &used, &vq->used_iova))
		return nb_fail(errno, "virtqueue %u: no room for %u-entry "
			       "rings in the DMA pool: %s", index, size,
			       nb_last_error());
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
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

	/*
	 * 2.7.7: we poll, so ask the device not to interrupt. Without
	 * VIRTIO_F_EVENT_IDX this flag is the whole mechanism.
	 */
	vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
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

void vq_post_one(struct virtqueue *vq, void *token, uint64_t iova,
		 uint32_t len, bool device_writes)
{
	uint16_t id = vq->free_ids[--vq->n_free];
	volatile struct virtq_desc *d = &vq->desc[id];

	/* 2.7.5: addr is an IOVA, translated by the IOMMU (ACCESS_PLATFORM). */
	d->addr = iova;
	d->len = len;
	d->flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
	d->next = 0;
	add_to_avail(vq, id, token, len, 1);
}

int vq_post_chain(struct virtqueue *vq, void *token, const struct vq_seg *segs,
		  uint16_t n)
{
	uint16_t head, id;
	uint32_t total = 0;

	if (n == 0 || n > vq->n_free)
		return nb_fail(ENOSPC, "virtqueue %u: %u free descriptors, "
			       "chain needs %u", vq->index, vq->n_free, n);
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

bool vq_publish(struct virtqueue *vq)
{
	uint16_t flags;

	if (vq->avail_idx == vq->published || vq->broken)
		return false;
	/*
	 * 2.7.13.3: descriptors and ring entries before idx. x86 keeps
	 * stores in order; the compiler must not move them (nb_mmio.h).
	 */
	nb_compiler_barrier();
	vq->avail->idx = vq->avail_idx;
	vq->published = vq->avail_idx;
	/*
	 * 2.7.13.4: read the device's suppression flag only after idx is
	 * visible, else a device going idle between the two is never told.
	 * That is a store followed by a load: a full barrier (nb_mmio.h).
	 */
	nb_full_barrier();
	flags = nb_dma_read16(&vq->used->flags);
	if (flags & VIRTQ_USED_F_NO_NOTIFY) /* 2.7.10 */
		return false;
	vq->kick(vq);
	return true;
}

/*
 * 2.7.7 Used Buffer Notification Suppression, without VIRTIO_F_EVENT_IDX:
 * clearing VIRTQ_AVAIL_F_NO_INTERRUPT lets the device interrupt for the
 * next used buffer. The flag store must be visible before we read used->idx
 * again (store then load: a full barrier), else a buffer used in between
 * neither interrupts (the device saw the old flag) nor is seen here. With
 * EVENT_IDX the same two functions would write used_event instead.
 */
bool vq_intr_enable(struct virtqueue *vq)
{
	if (vq->broken)
		return true; /* nothing will come; let the caller see the fault */
	vq->avail->flags = 0;
	nb_full_barrier();
	/* A hint only: vq_reap reads and checks used->idx itself. */
	return nb_dma_read16(&vq->used->idx) != vq->last_used;
}

/* 2.7.7: back to no interrupts (we poll); the device may still send one it
 * had decided on before it saw the flag, which costs one wasted poll. */
void vq_intr_disable(struct virtqueue *vq)
{
	vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
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

uint16_t vq_reap(struct virtqueue *vq, void **tokens, uint32_t *lens,
		 uint16_t n, uint32_t min_len)
{
	uint16_t used_idx, avail, got;

	if (vq->broken)
		return 0;
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
		struct vq_slot *slot;

		if (id >= vq->size || !vq->slots[id].token) {
			vq_break(vq, "queue %u: used id %u was not posted "
				 "(out of range or completed twice, 2.7.8)",
				 vq->index, id);
			break;
		}
		slot = &vq->slots[id];
		if (len > slot->buf_len || len < min_len) {
			vq_break(vq, "queue %u: used len %u outside [%u, %u] "
				 "for id %u (2.7.8)", vq->index, len, min_len,
				 slot->buf_len, id);
			break;
		}
		tokens[got] = slot->token;
		lens[got] = len;
		slot->token = NULL;
		free_chain(vq, (uint16_t)id, slot->n_desc);
		vq->in_flight--;
		vq->last_used++;
	}
	return got;
}
