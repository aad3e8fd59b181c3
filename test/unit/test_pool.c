/* SPDX-License-Identifier: MIT */
/* test_pool.c - DMA pool mapping, carving and VA <-> IOVA translation. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nb_test.h"

#define PAGE 4096u
#define IOVA_BASE 0x100000000ull /* 4 GiB, like the helper picks */

static int memfd_of(size_t size)
{
	int fd = memfd_create("test-pool", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void map_rejects_bad_fd(void **state)
{
	struct nb_pool *pool = NULL;

	(void)state;
	assert_int_equal(nb_pool_map(-1, PAGE, IOVA_BASE, PAGE, &pool), -1);
	assert_failed_with(EBADF, "bad fd -1");
	assert_null(pool);
}

static void map_rejects_memfd_smaller_than_size(void **state)
{
	struct nb_pool *pool = NULL;
	int fd = memfd_of(PAGE);

	(void)state;
	assert_int_equal(nb_pool_map(fd, 2 * PAGE, IOVA_BASE, PAGE, &pool), -1);
	assert_failed_with(EINVAL, "holds 4096 bytes, less than the pool size 8192");
	assert_null(pool);
	assert_true(fd_is_open(fd)); /* on failure the caller keeps the fd */
	close(fd);
}

static void map_rejects_bad_sizes(void **state)
{
	struct nb_pool *pool = NULL;
	int fd = memfd_of(4 * PAGE);

	(void)state;
	assert_int_equal(nb_pool_map(fd, PAGE + 100, IOVA_BASE, PAGE, &pool), -1);
	assert_failed_with(EINVAL, "not a non-zero multiple of the page size");
	assert_int_equal(nb_pool_map(fd, 0, IOVA_BASE, PAGE, &pool), -1);
	assert_failed_with(EINVAL, "size 0");
	assert_int_equal(nb_pool_map(fd, 3 * PAGE, IOVA_BASE, 3 * PAGE, &pool), -1);
	assert_failed_with(EINVAL, "not a power of two");
	assert_null(pool);
	close(fd);
}

static void map_rejects_non_memfd(void **state)
{
	struct nb_pool *pool = NULL;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(nb_pool_map(fd, PAGE, IOVA_BASE, PAGE, &pool), -1);
	assert_failed_with(EINVAL, "is not a memfd");
	close(fd);
}

/* The last byte's IOVA must stay below UINT64_MAX, the "outside" marker. */
static void map_rejects_iova_range_that_wraps(void **state)
{
	struct nb_pool *pool = NULL;
	int fd = memfd_of(PAGE);

	(void)state;
	assert_int_equal(nb_pool_map(fd, PAGE, UINT64_MAX - PAGE + 1, PAGE, &pool), -1);
	assert_failed_with(EINVAL, "wraps around");
	assert_int_equal(nb_pool_map(fd, PAGE, UINT64_MAX - PAGE, PAGE, &pool), 0);
	assert_int_equal(nb_pool_va_to_iova(pool, (uint8_t *)nb_pool_va_base(pool) + PAGE - 1),
			 UINT64_MAX - 1);
	nb_pool_destroy(pool); /* closes fd */
}

/* MAP_SHARED: what the device (here: the fd) writes, the pool sees. */
static void map_shares_pages_with_the_memfd(void **state)
{
	struct nb_pool *pool;
	int fd = memfd_of(2 * PAGE);
	char back[6] = "";
	uint8_t *va;

	(void)state;
	assert_int_equal(pwrite(fd, "device", 6, PAGE + 10), 6);
	assert_int_equal(nb_pool_map(fd, 2 * PAGE, IOVA_BASE, PAGE, &pool), 0);
	va = nb_pool_va_base(pool);
	assert_memory_equal(va + PAGE + 10, "device", 6);
	memcpy(va + 20, "worker", 6);
	assert_int_equal(pread(fd, back, 6, 20), 6);
	assert_memory_equal(back, "worker", 6);
	assert_int_equal(nb_pool_size(pool), 2 * PAGE);
	assert_int_equal(nb_pool_page_size(pool), PAGE);
	assert_int_equal(nb_pool_iova_base(pool), IOVA_BASE);
	assert_int_equal(nb_pool_free_bytes(pool), 2 * PAGE);
	nb_pool_destroy(pool);
	assert_false(fd_is_open(fd)); /* the pool owned it */
}

static void create_unmapped_rejects_odd_size_without_leaking(void **state)
{
	struct nb_pool *pool = NULL;
	int fds_before = nb_test_open_fds();

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(PAGE + 1, IOVA_BASE, &pool), -1);
	assert_failed_with(EINVAL, "size 4097");
	assert_null(pool);
	assert_int_equal(nb_test_open_fds(), fds_before);
}

static void carve_aligns_and_zeroes(void **state)
{
	struct nb_pool *pool;
	uint64_t iova1, iova2, iova3;
	void *va1, *va2, *va3;
	uint8_t *base;

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(4 * PAGE, IOVA_BASE, &pool), 0);
	base = nb_pool_va_base(pool);
	memset(base, 0xa5, 4 * PAGE); /* stale contents the carve must clear */

	assert_int_equal(nb_pool_carve(pool, 1, 1, &va1, &iova1), 0);
	assert_int_equal(nb_pool_carve(pool, 100, 64, &va2, &iova2), 0);
	assert_int_equal(nb_pool_carve(pool, 10, PAGE, &va3, &iova3), 0);

	assert_ptr_equal(va1, base);
	assert_int_equal(iova1, IOVA_BASE);
	assert_ptr_equal(va2, base + 64);
	assert_int_equal(iova2, IOVA_BASE + 64);
	assert_ptr_equal(va3, base + PAGE);
	assert_int_equal(iova3, IOVA_BASE + PAGE);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(((uint8_t *)va2)[i], 0);
	assert_int_equal(((uint8_t *)va3)[9], 0);
	assert_int_equal(base[64 + 100], 0xa5); /* no more than asked */
	assert_int_equal(nb_pool_free_bytes(pool), 3 * PAGE - 10);
	nb_pool_destroy(pool);
}

static void carve_runs_out_with_enomem(void **state)
{
	struct nb_pool *pool;
	uint64_t iova;
	void *va;

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(2 * PAGE, IOVA_BASE, &pool), 0);
	assert_int_equal(nb_pool_carve(pool, 2 * PAGE + 1, 64, &va, &iova), -1);
	assert_failed_with(ENOMEM, "do not fit");
	assert_int_equal(nb_pool_carve(pool, PAGE + 1, 64, &va, &iova), 0);
	assert_int_equal(nb_pool_free_bytes(pool), PAGE - 1);
	/* Alignment padding would start the chunk exactly at the end. */
	assert_int_equal(nb_pool_carve(pool, 1, PAGE, &va, &iova), -1);
	assert_failed_with(ENOMEM, "do not fit");
	assert_int_equal(nb_pool_carve(pool, PAGE - 1, 1, &va, &iova), 0);
	assert_int_equal(nb_pool_free_bytes(pool), 0);
	assert_int_equal(nb_pool_carve(pool, 1, 1, &va, &iova), -1);
	assert_failed_with(ENOMEM, "0 of 8192 bytes left");
	assert_int_equal(nb_pool_carve(pool, SIZE_MAX, 1, &va, &iova), -1);
	assert_failed_with(ENOMEM, "do not fit");
	nb_pool_destroy(pool);
}

/* nicbox-devfuzz hands a closed driver's rings back: the same bytes come
 * out again, zeroed; a mark above the carve point changes nothing. */
static void carve_rewind_hands_back_and_zeroes(void **state)
{
	struct nb_pool *pool;
	uint64_t iova, iova2;
	void *va, *va2;
	size_t mark;

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(2 * PAGE, IOVA_BASE, &pool), 0);
	assert_int_equal(nb_pool_carve(pool, 100, 64, &va, &iova), 0);
	mark = nb_pool_carve_mark(pool);
	assert_int_equal(mark, 100);
	assert_int_equal(nb_pool_carve(pool, PAGE, 64, &va, &iova), 0);
	memset(va, 0xab, PAGE);
	nb_pool_carve_rewind(pool, mark);
	assert_int_equal(nb_pool_carve_mark(pool), mark);
	assert_int_equal(nb_pool_carve(pool, PAGE, 64, &va2, &iova2), 0);
	assert_ptr_equal(va2, va);
	assert_int_equal(iova2, iova);
	for (size_t i = 0; i < PAGE; i++)
		assert_int_equal(((uint8_t *)va2)[i], 0);
	nb_pool_carve_rewind(pool, 2 * PAGE);
	assert_int_equal(nb_pool_carve_mark(pool), 128 + PAGE);
	nb_pool_destroy(pool);
}

static void carve_rejects_bad_alignment_and_zero_size(void **state)
{
	struct nb_pool *pool;
	uint64_t iova;
	void *va;

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(PAGE, IOVA_BASE, &pool), 0);
	assert_int_equal(nb_pool_carve(pool, 64, 0, &va, &iova), -1);
	assert_failed_with(EINVAL, "alignment 0");
	assert_int_equal(nb_pool_carve(pool, 64, 48, &va, &iova), -1);
	assert_failed_with(EINVAL, "alignment 48");
	assert_int_equal(nb_pool_carve(pool, 64, 2 * PAGE, &va, &iova), -1);
	assert_failed_with(EINVAL, "alignment 8192");
	assert_int_equal(nb_pool_carve(pool, 0, 64, &va, &iova), -1);
	assert_failed_with(EINVAL, "zero size");
	assert_int_equal(nb_pool_free_bytes(pool), PAGE);
	nb_pool_destroy(pool);
}

static void va_to_iova_at_the_edges(void **state)
{
	struct nb_pool *pool;
	uint8_t *base;

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(2 * PAGE, IOVA_BASE, &pool), 0);
	base = nb_pool_va_base(pool);
	assert_int_equal(nb_pool_va_to_iova(pool, base), IOVA_BASE);
	assert_int_equal(nb_pool_va_to_iova(pool, base + 1234), IOVA_BASE + 1234);
	assert_int_equal(nb_pool_va_to_iova(pool, base + 2 * PAGE - 1),
			 IOVA_BASE + 2 * PAGE - 1);
	assert_int_equal(nb_pool_va_to_iova(pool, base + 2 * PAGE), UINT64_MAX);
	assert_int_equal(nb_pool_va_to_iova(pool, base - 1), UINT64_MAX);
	assert_int_equal(nb_pool_va_to_iova(pool, &pool), UINT64_MAX);
	nb_pool_destroy(pool);
}

static void iova_to_va_at_the_edges(void **state)
{
	const size_t size = 2 * PAGE;
	const uint64_t last = IOVA_BASE + size - 1;
	struct nb_pool *pool;
	uint8_t *base;

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(size, IOVA_BASE, &pool), 0);
	base = nb_pool_va_base(pool);
	/* inside: first byte, whole pool, last byte */
	assert_ptr_equal(nb_pool_iova_to_va(pool, IOVA_BASE, 1), base);
	assert_ptr_equal(nb_pool_iova_to_va(pool, IOVA_BASE, size), base);
	assert_ptr_equal(nb_pool_iova_to_va(pool, last, 1), base + size - 1);
	assert_ptr_equal(nb_pool_iova_to_va(pool, last, 0), base + size - 1);
	/* one past either end */
	assert_null(nb_pool_iova_to_va(pool, IOVA_BASE + size, 1));
	assert_null(nb_pool_iova_to_va(pool, IOVA_BASE + size, 0));
	assert_null(nb_pool_iova_to_va(pool, IOVA_BASE - 1, 1));
	/* straddling the end or the start */
	assert_null(nb_pool_iova_to_va(pool, last, 2));
	assert_null(nb_pool_iova_to_va(pool, IOVA_BASE, size + 1));
	assert_null(nb_pool_iova_to_va(pool, IOVA_BASE - 1, 2));
	/* lengths and addresses chosen so a naive iova + len wraps to inside */
	assert_null(nb_pool_iova_to_va(pool, IOVA_BASE + 1, SIZE_MAX));
	assert_null(nb_pool_iova_to_va(pool, UINT64_MAX, 1));
	assert_null(nb_pool_iova_to_va(pool, UINT64_MAX - 10, IOVA_BASE + 20));
	assert_null(nb_pool_iova_to_va(pool, 0, 1));
	nb_pool_destroy(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_rejects_bad_fd),
		cmocka_unit_test(map_rejects_memfd_smaller_than_size),
		cmocka_unit_test(map_rejects_bad_sizes),
		cmocka_unit_test(map_rejects_non_memfd),
		cmocka_unit_test(map_rejects_iova_range_that_wraps),
		cmocka_unit_test(map_shares_pages_with_the_memfd),
		cmocka_unit_test(create_unmapped_rejects_odd_size_without_leaking),
		cmocka_unit_test(carve_aligns_and_zeroes),
		cmocka_unit_test(carve_runs_out_with_enomem),
		cmocka_unit_test(carve_rejects_bad_alignment_and_zero_size),
		cmocka_unit_test(carve_rewind_hands_back_and_zeroes),
		cmocka_unit_test(va_to_iova_at_the_edges),
		cmocka_unit_test(iova_to_va_at_the_edges),
	};

	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
