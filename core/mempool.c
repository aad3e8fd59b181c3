/* SPDX-License-Identifier: MIT */
/*
 * mempool.c - fixed-size packet buffers with a LIFO free stack.
 *
 * Split by trust: the packet bytes live in the DMA pool, where the device
 * can write them; every descriptor (struct nb_pkt), the free stack and the
 * bookkeeping live in calloc'd private memory the device cannot reach. So a
 * hostile device can corrupt packet contents but never a pointer, length or
 * index the worker relies on.
 *
 * Buffer i occupies [base + i * stride, base + (i + 1) * stride) in the DMA
 * chunk: NB_PKT_HEADROOM bytes for the driver, then the data. The stride is
 * a multiple of 64, so every data[] starts on a cache line.
 *
 * LIFO: the most recently freed buffer is handed out next, while it is
 * still warm in the cache.
 *
 * Fast paths: the drivers take and give back whole batches with
 * nb_mempool_get_bulk/put_bulk, which copy pointers (memcpy) and touch no
 * nb_pkt. The per-buffer double-free check (on_stack) exists only in
 * builds with NB_MEMPOOL_DEBUG (CMake option of the same name; on by
 * default in Debug builds, so in the ASan tree, and in the fuzz tree).
 * Without it, a free that would push more buffers than the pool has is
 * still refused whole (one compare per call), so a worker's double free
 * can never write past the free stack; it can only hand one buffer out
 * twice, which is the worker's own bug on its own packets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nb_internal.h"

#define NB_MAX_BUF_SIZE 65535u
/* Keeps the descriptor array (NB_PKT_SLOT <= 64 bytes each) below 4 GiB,
 * so a descriptor's offset in it fits 32 bits (the SIMD rx refill
 * multiplies 32x32 bits; nb_iova_map). */
#define NB_MAX_BUFS (1u << 26)

/* The public layout other code (and the ABI) depends on. */
_Static_assert(sizeof(struct nb_pkt) == 40, "nb_pkt must stay 40 bytes");
/*
 * Descriptors sit NB_PKT_SLOT bytes apart in the private array: a power of
 * two that divides the buffer stride (a multiple of 64), so a buffer's
 * IOVA follows from its descriptor's address by one multiply-add
 * (nb_mempool_iova_map) even if struct nb_pkt grows.
 */
#define NB_PKT_SLOT (sizeof(struct nb_pkt) <= 32 ? 32u : 64u)
_Static_assert(sizeof(struct nb_pkt) <= 64, "NB_PKT_SLOT assumes <= 64 bytes");
_Static_assert(offsetof(struct nb_pkt, data) == 0, "nb_pkt.data offset");
_Static_assert(offsetof(struct nb_pkt, iova) == 8, "nb_pkt.iova offset");
_Static_assert(offsetof(struct nb_pkt, pool) == 16, "nb_pkt.pool offset");
_Static_assert(offsetof(struct nb_pkt, len) == 24, "nb_pkt.len offset");
_Static_assert(offsetof(struct nb_pkt, idx) == 28, "nb_pkt.idx offset");
_Static_assert(offsetof(struct nb_pkt, rss_hash) == 32, "nb_pkt.rss_hash offset");
_Static_assert(offsetof(struct nb_pkt, flags) == 36, "nb_pkt.flags offset");
_Static_assert(NB_PKT_HEADROOM % NB_CACHE_LINE == 0,
	       "headroom must keep data[] cache-line aligned");

struct nb_mempool {
	struct nb_pkt **free_stack; /* free_stack[0..n_free) are free */
	uint32_t n_free;
	uint32_t count;
	uint32_t buf_size;          /* usable data bytes, multiple of 64 */
	uint32_t stride;            /* headroom + buf_size */
	/*
	 * on_stack[i] is 1 while buffer i is free. It makes the free path
	 * refuse a second free of the same buffer (see debug_put).
	 */
	uint8_t *on_stack;
	struct nb_pkt *pkts;        /* count descriptors, NB_PKT_SLOT apart, private */
	uint64_t iova0;             /* IOVA of pkts[0]'s data */
};

static struct nb_pkt *pkt_at(const struct nb_mempool *mp, uint32_t i)
{
	return (struct nb_pkt *)((uint8_t *)mp->pkts + (size_t)i * NB_PKT_SLOT);
}

NB_API int nb_mempool_create(struct nb_pool *dma, uint32_t count,
			     uint32_t buf_size, struct nb_mempool **out)
{
	struct nb_mempool *mp;
	uint64_t chunk_len;
	uint64_t iova;
	uint32_t stride;
	uint8_t *base;
	void *va;

	if (dma == NULL || out == NULL)
		return nb_fail(EINVAL, "mempool: NULL argument");
	if (count == 0 || count > NB_MAX_BUFS)
		return nb_fail(EINVAL, "mempool: %u buffers requested, must be 1..%u",
			       count, NB_MAX_BUFS);
	if (buf_size == 0 || buf_size > NB_MAX_BUF_SIZE)
		return nb_fail(EINVAL, "mempool: buffer size %u not in 1..%u",
			       buf_size, NB_MAX_BUF_SIZE);
	buf_size = NB_ALIGN_UP(buf_size, NB_CACHE_LINE);
	stride = NB_PKT_HEADROOM + buf_size;
	/* count < 2^32 and stride < 2^17: the product fits in 64 bits. */
	chunk_len = (uint64_t)count * stride;
	if (chunk_len > nb_pool_free_bytes(dma))
		return nb_fail(ENOMEM,
			       "mempool: %u buffers of %u bytes need %llu bytes, the DMA pool has %zu left",
			       count, buf_size, (unsigned long long)chunk_len,
			       nb_pool_free_bytes(dma));

	mp = calloc(1, sizeof(*mp));
	if (mp == NULL)
		return nb_fail(ENOMEM, "mempool: out of memory");
	mp->pkts = calloc(count, NB_PKT_SLOT);
	mp->free_stack = calloc(count, sizeof(*mp->free_stack));
	mp->on_stack = NB_MEMPOOL_DEBUG ? calloc(count, sizeof(*mp->on_stack)) : NULL;
	if (mp->pkts == NULL || mp->free_stack == NULL ||
	    (NB_MEMPOOL_DEBUG && mp->on_stack == NULL)) {
		nb_mempool_destroy(mp);
		return nb_fail(ENOMEM, "mempool: out of memory for %u descriptors",
			       count);
	}
	if (nb_pool_carve_unzeroed(dma, (size_t)chunk_len, NB_CACHE_LINE, &va, &iova) < 0) {
		int err = errno;

		nb_mempool_destroy(mp);
		errno = err; /* nb_last_error() still has the carve's reason */
		return -1;
	}
	base = va;
	mp->count = count;
	mp->buf_size = buf_size;
	mp->stride = stride;
	mp->iova0 = iova + NB_PKT_HEADROOM;
	for (uint32_t i = 0; i < count; i++) {
		struct nb_pkt *pkt = pkt_at(mp, i);
		uint64_t data_off = (uint64_t)i * stride + NB_PKT_HEADROOM;

		pkt->data = base + data_off;
		pkt->iova = iova + data_off;
		pkt->pool = mp;
		pkt->len = 0;
		pkt->flags = 0;
		pkt->idx = i;
	}
	/* Push in reverse so the first allocations come out in index order. */
	for (uint32_t i = 0; i < count; i++) {
		mp->free_stack[i] = pkt_at(mp, count - 1 - i);
		if (NB_MEMPOOL_DEBUG)
			mp->on_stack[i] = 1;
	}
	mp->n_free = count;
	*out = mp;
	return 0;
}

/* The DMA chunk stays carved: pool chunks live as long as the pool. */
NB_API void nb_mempool_destroy(struct nb_mempool *mp)
{
	if (mp == NULL)
		return;
	free(mp->pkts);
	free(mp->free_stack);
	free(mp->on_stack);
	free(mp);
}

NB_API uint32_t nb_mempool_buf_size(const struct nb_mempool *mp)
{
	return mp->buf_size;
}

NB_API uint32_t nb_mempool_count(const struct nb_mempool *mp)
{
	return mp->count;
}

NB_API uint32_t nb_mempool_available(const struct nb_mempool *mp)
{
	return mp->n_free;
}

struct nb_pkt *nb_mempool_pkt(struct nb_mempool *mp, uint32_t idx)
{
	if (mp == NULL || idx >= mp->count)
		return NULL;
	return pkt_at(mp, idx);
}

void nb_mempool_iova_map(const struct nb_mempool *mp, struct nb_iova_map *map)
{
	/* Descriptors are NB_PKT_SLOT apart, buffers `stride` apart, and
	 * stride is a multiple of 64, so the factor is a whole number. */
	map->base = (uintptr_t)mp->pkts;
	map->mul = mp->stride / NB_PKT_SLOT;
	map->add = mp->iova0;
}

/* Debug builds: mark buffers taken, one by one. */
static void debug_take(struct nb_mempool *mp, struct nb_pkt *const *pkts,
		       uint32_t n)
{
	for (uint32_t i = 0; NB_MEMPOOL_DEBUG && i < n; i++)
		mp->on_stack[pkts[i]->idx] = 0;
}

uint32_t nb_mempool_get_bulk(struct nb_mempool *mp, struct nb_pkt **pkts,
			     uint32_t n)
{
	if (NB_UNLIKELY(n > mp->n_free))
		return 0;
	mp->n_free -= n;
	memcpy(pkts, &mp->free_stack[mp->n_free], n * sizeof(*pkts));
	debug_take(mp, pkts, n);
	return n;
}

NB_API uint32_t nb_pkt_alloc_bulk(struct nb_mempool *mp, struct nb_pkt **pkts,
				  uint32_t n)
{
	struct nb_pkt **top;

	if (n > mp->n_free)
		n = mp->n_free;
	mp->n_free -= n;
	top = &mp->free_stack[mp->n_free];
	for (uint32_t i = 0; i < n; i++) {
		struct nb_pkt *pkt = top[n - 1 - i];

		pkt->len = 0;
		pkt->flags = 0;
		pkts[i] = pkt;
	}
	debug_take(mp, pkts, n);
	return n;
}

NB_API struct nb_pkt *nb_pkt_alloc(struct nb_mempool *mp)
{
	struct nb_pkt *pkt;

	if (nb_pkt_alloc_bulk(mp, &pkt, 1) == 0)
		return nb_fail_null(ENOBUFS, "mempool: all %u buffers are in use",
				    mp->count);
	return pkt;
}

/*
 * Debug builds only: push pkts[0..n) one by one, refusing (the buffer is
 * not pushed, nb_last_error() says why) a buffer that is already free,
 * however long ago the first free was, or that belongs to another pool.
 * Not detected: a descriptor that never came from a mempool (its pool and
 * idx are trusted; descriptors live in private memory, so only a worker
 * bug can forge one), writes to a buffer after it was freed, and freeing a
 * buffer the device still owns. Drivers prevent the last by construction.
 */
static void debug_put(struct nb_mempool *mp, struct nb_pkt *const *pkts,
		      uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct nb_pkt *pkt = pkts[i];

		if (NB_UNLIKELY(pkt->pool != mp || mp->on_stack[pkt->idx])) {
			nb_fail(EINVAL, "mempool: refused double free of buffer %u",
				pkt->idx);
			continue;
		}
		mp->on_stack[pkt->idx] = 1;
		mp->free_stack[mp->n_free++] = pkt;
	}
}

void nb_mempool_put_bulk(struct nb_mempool *mp, struct nb_pkt *const *pkts,
			 uint32_t n)
{
	if (NB_MEMPOOL_DEBUG) {
		debug_put(mp, pkts, n);
		return;
	}
	/* More free buffers than the pool has: some of these are already
	 * free (a double free). Refused whole; nothing is written. */
	if (NB_UNLIKELY(n > mp->count - mp->n_free)) {
		nb_fail(EINVAL,
			"mempool: refused double free (%u buffers freed, only %u are out)",
			n, mp->count - mp->n_free);
		return;
	}
	memcpy(&mp->free_stack[mp->n_free], pkts, n * sizeof(*pkts));
	mp->n_free += n;
}

/* Runs of buffers from one pool go back in one copy. */
NB_API void nb_pkt_free_bulk(struct nb_pkt **pkts, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		struct nb_mempool *mp = pkts[i]->pool;
		uint32_t j = i + 1;

		while (j < n && pkts[j]->pool == mp)
			j++;
		nb_mempool_put_bulk(mp, &pkts[i], j - i);
		i = j;
	}
}

NB_API void nb_pkt_free(struct nb_pkt *pkt)
{
	if (pkt != NULL)
		nb_mempool_put_bulk(pkt->pool, &pkt, 1);
}
