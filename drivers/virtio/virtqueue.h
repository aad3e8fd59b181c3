/* SPDX-License-Identifier: MIT */
/*
 * virtqueue.h - a split virtqueue (virtio 1.2, 2.7) in a DMA pool, with no
 * knowledge of PCI: the transport gives it a kick function and a fault
 * function. The device is untrusted: everything it writes (used index, used
 * ids and lengths) is read once, checked against the driver's private shadow
 * state and only then used; a violation breaks the queue for good.
 */
#ifndef VIRTQUEUE_H
#define VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "nb_internal.h"
#include "virtio_spec.h"

struct virtqueue;

/* Ring the doorbell for this queue (4.1.4.4 in the PCI transport). */
typedef void (*vq_kick_fn)(struct virtqueue *vq);
/* The device broke the ring protocol; `why` says how. */
typedef void (*vq_fault_fn)(struct virtqueue *vq, const char *why);

/* What the driver posted at one descriptor chain head (private memory). */
struct vq_slot {
	void *token;      /* the caller's buffer (an nb_pkt); NULL: not posted */
	uint32_t buf_len; /* bytes posted in the chain: the most len may be */
	uint16_t n_desc;  /* descriptors in the chain */
};

/* One buffer of a chain (2.7.5). */
struct vq_seg {
	uint64_t iova;
	uint32_t len;
	bool device_writes; /* VIRTQ_DESC_F_WRITE */
};

struct virtqueue {
	/* Device-visible rings, in the DMA pool. */
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	uint64_t desc_iova, avail_iova, used_iova;

	uint16_t index; /* queue number (5.1.2) */
	uint16_t size;  /* entries, a power of two */
	uint16_t mask;  /* size - 1 */

	/* Private shadow state: the only truth the driver acts on. */
	uint16_t avail_idx;  /* next avail->idx to publish (2.7.6) */
	uint16_t published;  /* avail idx the device last saw */
	uint16_t last_used;  /* used->idx up to which we have reaped (2.7.8) */
	uint16_t in_flight;  /* chains posted and not yet used */
	uint16_t n_free;     /* descriptors on the free stack */
	uint16_t *free_ids;  /* stack of free descriptor ids */
	uint16_t *next_id;   /* our copy of each descriptor's next field */
	struct vq_slot *slots; /* by head descriptor id */

	bool broken;        /* a device fault stopped the queue */
	vq_kick_fn kick;
	vq_fault_fn fault;
	void *ctx;          /* the owner's, for kick and fault */
};

/*
 * Carve the rings for a queue of `size` entries (a power of two up to
 * VIRTQ_MAX_SIZE) from `dma` and set up the shadow state.
 */
int vq_init(struct virtqueue *vq, struct nb_pool *dma, uint16_t index,
	    uint16_t size, vq_kick_fn kick, vq_fault_fn fault, void *ctx);

/*
 * Hand every still-posted token to `release` and free the shadow state.
 * Only after the device has stopped using the rings (reset, DMA off).
 */
void vq_fini(struct virtqueue *vq, void (*release)(void *token, void *arg),
	     void *arg);

static inline uint16_t vq_free_descs(const struct virtqueue *vq)
{
	return vq->n_free;
}

/*
 * Post one single-descriptor buffer; the caller checked vq_free_descs().
 * Not visible to the device until vq_publish().
 */
void vq_post_one(struct virtqueue *vq, void *token, uint64_t iova,
		 uint32_t len, bool device_writes);

/* Post a chain of n segments; -1/ENOSPC without enough free descriptors. */
int vq_post_chain(struct virtqueue *vq, void *token, const struct vq_seg *segs,
		  uint16_t n);

/*
 * Make everything posted so far visible to the device and notify it once,
 * unless it asked not to be (2.7.10). Returns true if it kicked.
 */
bool vq_publish(struct virtqueue *vq);

/*
 * Take up to n used chains (2.7.14): tokens[i] gets the posted token and
 * lens[i] the length the device wrote, which is checked to lie in
 * [min_len, posted length]. On a protocol violation the queue breaks, the
 * fault function is called and only the entries before it are returned.
 */
uint16_t vq_reap(struct virtqueue *vq, void **tokens, uint32_t *lens,
		 uint16_t n, uint32_t min_len);

/*
 * Interrupt arming (2.7.7): vq_intr_enable lets the device interrupt for
 * the next used buffer and returns true if one is already there (or the
 * queue is broken): then do not sleep. vq_intr_disable suppresses again.
 */
bool vq_intr_enable(struct virtqueue *vq);
void vq_intr_disable(struct virtqueue *vq);

/* Break the queue for a reason found outside the rings (device status). */
void vq_break(struct virtqueue *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* VIRTQUEUE_H */
