/* SPDX-License-Identifier: MIT */
/*
 * virtqueue.h - a virtqueue in a DMA pool, split (virtio 1.2, 2.7) or
 * packed (2.8), with no knowledge of PCI: the transport gives it a kick
 * function and a fault function. One interface for both formats: the
 * format is a switch inside the few functions below, so virtio_rxtx.c and
 * the control queue do not know which one runs. The device is untrusted:
 * everything it writes (used index or used descriptors: ids, lengths,
 * flags; event suppression fields) is read once, checked against the
 * driver's private shadow state and only then used; a violation breaks the
 * queue for good.
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
	bool writable;    /* packed: a device-writable part was posted */
};

/* One buffer of a chain (2.7.5). */
struct vq_seg {
	uint64_t iova;
	uint32_t len;
	bool device_writes; /* VIRTQ_DESC_F_WRITE */
};

/* vq_init flags: the ring format and notification scheme negotiated. */
#define VQ_PACKED 0x1    /* VIRTIO_F_RING_PACKED: 2.8 instead of 2.7 */
#define VQ_EVENT_IDX 0x2 /* VIRTIO_F_EVENT_IDX: 2.7.7/2.7.10, 2.8.10 */

struct virtqueue {
	/*
	 * Device-visible rings, in the DMA pool. Split: desc, avail, used.
	 * Packed: pdesc (descriptor area), drv_event (driver area, we
	 * write), dev_event (device area, the device writes). The IOVAs are
	 * the descriptor, driver and device areas (4.1.4.3) in both.
	 */
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	volatile struct pvirtq_desc *pdesc;
	volatile struct pvirtq_event_suppress *drv_event;
	volatile struct pvirtq_event_suppress *dev_event;
	uint64_t desc_iova, avail_iova, used_iova;

	uint16_t index; /* queue number (5.1.2) */
	uint16_t size;  /* entries, a power of two */
	uint16_t mask;  /* size - 1 */
	bool packed;    /* VQ_PACKED */
	bool event_idx; /* VQ_EVENT_IDX */

	/*
	 * Private shadow state: the only truth the driver acts on. Split:
	 * 16-bit free-running indices (2.7.6, 2.7.8). Packed: ring positions
	 * 0..size-1 with their wrap counters (2.8.1).
	 */
	uint16_t avail_idx;  /* split: next avail->idx; packed: next position */
	uint16_t published;  /* split: avail idx at the last publish */
	uint16_t last_used;  /* split: used idx reaped; packed: next position */
	uint16_t added;      /* packed: descriptors made available since the
				last notification decision */
	bool avail_wrap;     /* packed: Driver Ring Wrap Counter (2.8.1) */
	bool used_wrap;      /* packed: wrap counter of position last_used */
	uint16_t event_base; /* split + EVENT_IDX: last_used when used_event
				was last moved out of the device's way */
	bool used_notify;    /* vq_used_notify: notifications asked for */
	uint16_t in_flight;  /* chains posted and not yet used */
	uint16_t n_free;     /* split: free descriptors; packed: free ring
				positions */
	uint16_t *free_ids;  /* stack of free ids (split: descriptor ids;
				packed: buffer ids, size - in_flight of them) */
	uint16_t *next_id;   /* split: our copy of each descriptor's next */
	struct vq_slot *slots; /* by head descriptor id / buffer id */
	uint64_t kicks;      /* doorbells rung (benchmarks, tests) */

	bool broken;        /* a device fault stopped the queue */
	vq_kick_fn kick;
	vq_fault_fn fault;
	void *ctx;          /* the owner's, for kick and fault */
};

/*
 * Carve the rings for a queue of `size` entries (a power of two up to
 * VIRTQ_MAX_SIZE) from `dma` in the format `flags` (VQ_*) says and set up
 * the shadow state. Used buffer notifications start suppressed (we poll).
 */
int vq_init(struct virtqueue *vq, struct nb_pool *dma, uint16_t index,
	    uint16_t size, unsigned flags, vq_kick_fn kick, vq_fault_fn fault,
	    void *ctx);

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
 * unless it asked not to be (2.7.10; with EVENT_IDX avail_event, 2.7.10.1;
 * packed: the device event suppression structure, 2.8.10). Returns true if
 * it kicked.
 */
bool vq_publish(struct virtqueue *vq);

/*
 * Used buffer notifications (interrupts) from the device: off (2.7.7
 * NO_INTERRUPT or a used_event kept behind the device; packed: DISABLE) or
 * on (at the next used buffer: used_event = last used, 2.7.7.2; packed:
 * ENABLE, or DESC at the next position with EVENT_IDX, 2.8.10). Turning
 * them on returns true if used buffers are already waiting, so a caller
 * about to sleep polls again instead (the check comes after a full
 * barrier), or if the queue is broken (nothing will come: the caller
 * should see the fault, not sleep). The interrupt code decides when; this
 * decides how.
 */
bool vq_used_notify(struct virtqueue *vq, bool on);

/*
 * Take up to n used chains (2.7.14; packed 2.8.1-2.8.2): tokens[i] gets the posted token and
 * lens[i] the length the device wrote, which is checked to lie in
 * [min_len, posted length]. On a protocol violation the queue breaks, the
 * fault function is called and only the entries before it are returned.
 */
uint16_t vq_reap(struct virtqueue *vq, void **tokens, uint32_t *lens,
		 uint16_t n, uint32_t min_len);

/* Break the queue for a reason found outside the rings (device status). */
void vq_break(struct virtqueue *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* VIRTQUEUE_H */
