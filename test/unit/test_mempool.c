/* SPDX-License-Identifier: MIT */
/* test_mempool.c - packet buffer layout, bulk paths, mixing pools, misuse. */
#include <stdlib.h>
#include <string.h>

#include "nb_test.h"

#define POOL_BYTES (1u << 20)
#define IOVA_BASE 0x200000000ull

struct fixture {
	struct nb_pool *dma;
	struct nb_mempool *mp;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, IOVA_BASE, &f->dma), 0);
	assert_int_equal(nb_mempool_create(f->dma, 64, 2048, &f->mp), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nb_mempool_destroy(f->mp);
	nb_pool_destroy(f->dma);
	free(f);
	return 0;
}

static bool all_distinct(struct nb_pkt **pkts, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++)
			if (pkts[i] == pkts[j])
				return false;
	return true;
}

/*
 * The buffers' bytes are left as the pool had them (a fresh pool's are
 * zero already: zeroing megabytes again cost setup time), while a ring
 * carved after them still comes out zeroed.
 */
static void create_leaves_buffer_bytes_alone(void **state)
{
	struct fixture *f = *state;
	size_t mark = nb_pool_carve_mark(f->dma);
	struct nb_mempool *mp;
	struct nb_pkt *pkts[8];
	uint64_t iova;
	uint8_t *va;

	assert_int_equal(nb_pool_carve(f->dma, 64 * 1024, 64, (void **)&va, &iova), 0);
	memset(va, 0xab, 64 * 1024);
	nb_pool_carve_rewind(f->dma, mark);
	assert_int_equal(nb_mempool_create(f->dma, 8, 2048, &mp), 0);
	assert_int_equal(nb_pkt_alloc_bulk(mp, pkts, 8), 8);
	for (unsigned i = 0; i < 8; i++)
		for (unsigned b = 0; b < 2048; b++)
			assert_int_equal(pkts[i]->data[b], 0xab);
	assert_int_equal(nb_pool_carve(f->dma, 4096, 64, (void **)&va, &iova), 0);
	for (unsigned b = 0; b < 4096; b++)
		assert_int_equal(va[b], 0);
	nb_pkt_free_bulk(pkts, 8);
	nb_mempool_destroy(mp);
}

static void create_rejects_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct nb_mempool *mp = NULL;

	assert_int_equal(nb_mempool_create(f->dma, 0, 2048, &mp), -1);
	assert_failed_with(EINVAL, "0 buffers requested, must be 1..67108864");
	assert_int_equal(nb_mempool_create(f->dma, (1u << 26) + 1u, 2048, &mp), -1);
	assert_failed_with(EINVAL, "must be 1..67108864");
	assert_int_equal(nb_mempool_create(f->dma, 8, 0, &mp), -1);
	assert_failed_with(EINVAL, "buffer size 0 not in 1..65535");
	assert_int_equal(nb_mempool_create(f->dma, 8, 65536, &mp), -1);
	assert_failed_with(EINVAL, "buffer size 65536");
	assert_null(mp);
}

static void create_fails_with_enomem_and_carves_nothing(void **state)
{
	struct fixture *f = *state;
	size_t before = nb_pool_free_bytes(f->dma);
	struct nb_mempool *mp = NULL;

	assert_int_equal(nb_mempool_create(f->dma, 1000, 2048, &mp), -1);
	assert_failed_with(ENOMEM, "1000 buffers of 2048 bytes need 2112000 bytes");
	assert_null(mp);
	assert_int_equal(nb_pool_free_bytes(f->dma), before);
}

/* Headroom, alignment, stride, IOVAs, and descriptors outside the pool. */
static void buffer_layout(void **state)
{
	struct fixture *f = *state;
	struct nb_mempool *mp;
	struct nb_pkt *first, *pkt;

	assert_int_equal(nb_mempool_create(f->dma, 10, 100, &mp), 0);
	assert_int_equal(nb_mempool_buf_size(mp), 128); /* rounded up to 64 */
	assert_int_equal(nb_mempool_count(mp), 10);
	assert_int_equal(nb_mempool_available(mp), 10);
	first = nb_mempool_pkt(mp, 0);
	for (uint32_t i = 0; i < 10; i++) {
		pkt = nb_mempool_pkt(mp, i);
		assert_non_null(pkt);
		assert_int_equal(pkt->idx, i);
		assert_ptr_equal(pkt->pool, mp);
		assert_int_equal(pkt->len, 0);
		assert_int_equal((uintptr_t)pkt->data % 64, 0);
		assert_ptr_equal(pkt->data, first->data + i * (NB_PKT_HEADROOM + 128));
		assert_int_equal(pkt->iova, nb_pool_va_to_iova(f->dma, pkt->data));
		/* headroom and all data bytes are pool memory the device reaches */
		assert_ptr_equal(nb_pool_iova_to_va(f->dma, pkt->iova - NB_PKT_HEADROOM,
						    NB_PKT_HEADROOM + 128),
				 pkt->data - NB_PKT_HEADROOM);
		/* the descriptor itself is not */
		assert_int_equal(nb_pool_va_to_iova(f->dma, pkt), UINT64_MAX);
	}
	assert_null(nb_mempool_pkt(mp, 10));
	nb_mempool_destroy(mp);
}

/* Filling every byte of every buffer (headroom too) leaves the others intact. */
static void buffers_do_not_overlap(void **state)
{
	struct fixture *f = *state;
	const uint32_t span = NB_PKT_HEADROOM + nb_mempool_buf_size(f->mp);
	const uint32_t n = nb_mempool_count(f->mp);

	for (uint32_t i = 0; i < n; i++)
		memset(nb_mempool_pkt(f->mp, i)->data - NB_PKT_HEADROOM, (int)i + 1, span);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *start = nb_mempool_pkt(f->mp, i)->data - NB_PKT_HEADROOM;

		for (uint32_t b = 0; b < span; b++)
			assert_int_equal(start[b], i + 1);
	}
}

static void bulk_alloc_takes_what_is_there_then_enobufs(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[100];

	assert_int_equal(nb_pkt_alloc_bulk(f->mp, pkts, 40), 40);
	assert_int_equal(nb_mempool_available(f->mp), 24);
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, pkts + 40, 60), 24);
	assert_int_equal(nb_mempool_available(f->mp), 0);
	assert_true(all_distinct(pkts, 64));
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, pkts + 64, 10), 0);
	assert_null(nb_pkt_alloc(f->mp));
	assert_failed_with(ENOBUFS, "all 64 buffers are in use");
	nb_pkt_free_bulk(pkts, 64);
	assert_int_equal(nb_mempool_available(f->mp), 64);
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, pkts, 100), 64);
	assert_true(all_distinct(pkts, 64));
	nb_pkt_free_bulk(pkts, 64);
}

/* A fresh pool hands out index order; afterwards the last freed comes first. */
static void alloc_order_is_lifo(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[4], *again[4];

	assert_int_equal(nb_pkt_alloc_bulk(f->mp, pkts, 4), 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(pkts[i]->idx, i);
	nb_pkt_free_bulk(pkts, 4);
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, again, 4), 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_ptr_equal(again[i], pkts[3 - i]);
	nb_pkt_free(again[0]);
	assert_ptr_equal(nb_pkt_alloc(f->mp), again[0]);
	nb_pkt_free_bulk(again, 4);
}

static void alloc_resets_len(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkt = nb_pkt_alloc(f->mp);

	assert_non_null(pkt);
	pkt->len = 1500;
	nb_pkt_free(pkt);
	pkt = nb_pkt_alloc(f->mp);
	assert_int_equal(pkt->len, 0);
	nb_pkt_free(pkt);
}

/* One free_bulk with buffers of two mempools returns each to its owner. */
static void free_bulk_returns_buffers_to_their_own_pool(void **state)
{
	struct fixture *f = *state;
	struct nb_mempool *other;
	struct nb_pool *dma2;
	struct nb_pkt *a[8], *b[8], *mixed[16], *check[64];

	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, IOVA_BASE * 2, &dma2), 0);
	assert_int_equal(nb_mempool_create(dma2, 8, 512, &other), 0);
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, a, 8), 8);
	assert_int_equal(nb_pkt_alloc_bulk(other, b, 8), 8);
	for (uint32_t i = 0; i < 8; i++) {
		mixed[2 * i] = b[i];
		mixed[2 * i + 1] = a[i];
	}
	nb_pkt_free_bulk(mixed, 16);
	assert_int_equal(nb_mempool_available(f->mp), 64);
	assert_int_equal(nb_mempool_available(other), 8);
	/* every buffer each pool hands out now lies in its own DMA pool */
	assert_int_equal(nb_pkt_alloc_bulk(other, check, 64), 8);
	for (uint32_t i = 0; i < 8; i++) {
		assert_ptr_equal(check[i]->pool, other);
		assert_ptr_equal(nb_pool_iova_to_va(dma2, check[i]->iova, 512), check[i]->data);
	}
	nb_pkt_free_bulk(check, 8);
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, check, 64), 64);
	for (uint32_t i = 0; i < 64; i++)
		assert_ptr_equal(nb_pool_iova_to_va(f->dma, check[i]->iova, 2048),
				 check[i]->data);
	nb_pkt_free_bulk(check, 64);
	nb_mempool_destroy(other);
	nb_pool_destroy(dma2);
}

/*
 * The three tests below need the per-buffer checks, which exist only with
 * NB_MEMPOOL_DEBUG (Debug, ASan and fuzz builds: `make test` runs them in
 * build-asan). Without it they are reported as skipped.
 */
static void needs_debug_checks(void)
{
	if (!NB_MEMPOOL_DEBUG)
		skip();
}

/* A second free is refused, so no buffer can be handed out twice. */
static void double_free_is_refused(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[64];
	struct nb_pkt *p;

	needs_debug_checks();
	p = nb_pkt_alloc(f->mp);
	assert_non_null(p);
	nb_pkt_free(p);
	nb_pkt_free(p);
	assert_failed_with(EINVAL, "refused double free of buffer 0");
	assert_int_equal(nb_mempool_available(f->mp), 64);
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, pkts, 64), 64);
	assert_true(all_distinct(pkts, 64));
	nb_pkt_free_bulk(pkts, 64);
}

/* The same buffer twice inside one bulk free, while others are still out. */
static void double_free_within_one_bulk_is_refused(void **state)
{
	struct fixture *f = *state;
	struct nb_pkt *pkts[3], *twice[2], *all[64];

	needs_debug_checks();
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, pkts, 3), 3);
	twice[0] = pkts[1];
	twice[1] = pkts[1];
	errno = 0;
	nb_pkt_free_bulk(twice, 2);
	assert_failed_with(EINVAL, "double free");
	assert_int_equal(nb_mempool_available(f->mp), 62);
	nb_pkt_free(pkts[0]);
	nb_pkt_free(pkts[2]);
	assert_int_equal(nb_pkt_alloc_bulk(f->mp, all, 64), 64);
	assert_true(all_distinct(all, 64));
	nb_pkt_free_bulk(all, 64);
}

/* Freeing a never-allocated buffer would overflow a full stack: refused. */
static void free_into_full_pool_is_refused(void **state)
{
	struct fixture *f = *state;

	needs_debug_checks();
	nb_pkt_free(nb_mempool_pkt(f->mp, 63));
	assert_failed_with(EINVAL, "refused double free of buffer 63");
	assert_int_equal(nb_mempool_available(f->mp), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_rejects_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(create_leaves_buffer_bytes_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(create_fails_with_enomem_and_carves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(buffer_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(buffers_do_not_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(bulk_alloc_takes_what_is_there_then_enobufs, setup, teardown),
		cmocka_unit_test_setup_teardown(alloc_order_is_lifo, setup, teardown),
		cmocka_unit_test_setup_teardown(alloc_resets_len, setup, teardown),
		cmocka_unit_test_setup_teardown(free_bulk_returns_buffers_to_their_own_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(double_free_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(double_free_within_one_bulk_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(free_into_full_pool_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("mempool", tests, NULL, NULL);
}
