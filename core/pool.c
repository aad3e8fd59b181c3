/* SPDX-License-Identifier: MIT */
/*
 * pool.c - DMA pools: a memfd the helper mapped into the IOMMU at a fixed
 * IOVA, mapped here MAP_SHARED. Because the whole pool is one contiguous
 * IOVA range and one contiguous VA range, translation in both directions
 * is an offset computation with a bounds check; no pagemap, no root.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nb_internal.h"

struct nb_pool {
	int fd;
	uint8_t *va;
	size_t size;
	size_t page_size;
	uint64_t iova_base;
	size_t carved; /* bytes from the start already handed out */
};

/* A fixed, ordinary page size: the unmapped pool is a plain memfd. */
#define NB_UNMAPPED_PAGE_SIZE 4096u

static int check_map_args(int fd, size_t size, uint64_t iova_base,
			  size_t page_size)
{
	struct stat st;

	if (fd < 0)
		return nb_fail(EBADF, "pool: bad fd %d", fd);
	if (!NB_IS_POW2(page_size) || page_size < NB_UNMAPPED_PAGE_SIZE)
		return nb_fail(EINVAL,
			       "pool: page size %zu is not a power of two >= 4096",
			       page_size);
	if (size == 0 || size % page_size != 0)
		return nb_fail(EINVAL,
			       "pool: size %zu is not a non-zero multiple of the page size %zu",
			       size, page_size);
	/*
	 * (uint64_t)-1 means "not in the pool" for nb_pool_va_to_iova, so the
	 * last byte's IOVA must stay below it.
	 */
	if (iova_base > UINT64_MAX - size)
		return nb_fail(EINVAL,
			       "pool: IOVA range 0x%llx + %zu wraps around 2^64",
			       (unsigned long long)iova_base, size);
	if (fstat(fd, &st) < 0)
		return nb_fail(errno, "pool: fstat(fd %d): %s", fd,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return nb_fail(EINVAL, "pool: fd %d is not a memfd (not a regular file)",
			       fd);
	if ((uint64_t)st.st_size < size)
		return nb_fail(EINVAL,
			       "pool: memfd fd %d holds %lld bytes, less than the pool size %zu",
			       fd, (long long)st.st_size, size);
	return 0;
}

NB_API int nb_pool_map(int fd, size_t size, uint64_t iova_base,
		       size_t page_size, struct nb_pool **out)
{
	struct nb_pool *pool;
	void *va;

	if (out == NULL)
		return nb_fail(EINVAL, "pool: no result pointer");
	if (check_map_args(fd, size, iova_base, page_size) < 0)
		return -1;
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return nb_fail(ENOMEM, "pool: out of memory");
	/*
	 * MAP_SHARED: the device reads and writes the memfd's pages, so we
	 * must see those very pages, not private copies. MAP_POPULATE faults
	 * everything in now instead of on the fast path.
	 */
	va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		  fd, 0);
	if (va == MAP_FAILED) {
		int err = errno;

		free(pool);
		return nb_fail(err, "pool: mmap of %zu bytes from fd %d: %s",
			       size, fd, strerror(err));
	}
	pool->fd = fd;
	pool->va = va;
	pool->size = size;
	pool->page_size = page_size;
	pool->iova_base = iova_base;
	*out = pool;
	return 0;
}

NB_API int nb_pool_create_unmapped(size_t size, uint64_t fake_iova_base,
				   struct nb_pool **out)
{
	int fd;

	/* Test-only: no IOMMU mapping exists behind this pool. */
	fd = memfd_create("nicbox-unmapped-pool", MFD_CLOEXEC);
	if (fd < 0)
		return nb_fail(errno, "pool: memfd_create: %s", strerror(errno));
	if (ftruncate(fd, (off_t)size) < 0) {
		int err = errno;

		close(fd);
		return nb_fail(err, "pool: ftruncate memfd to %zu bytes: %s",
			       size, strerror(err));
	}
	if (nb_pool_map(fd, size, fake_iova_base, NB_UNMAPPED_PAGE_SIZE, out) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return 0;
}

NB_API void nb_pool_destroy(struct nb_pool *pool)
{
	if (pool == NULL)
		return;
	munmap(pool->va, pool->size);
	close(pool->fd);
	free(pool);
}

/* nb_pool_carve, zeroing the chunk only if `zero`. */
static int carve(struct nb_pool *pool, size_t size, size_t align, void **va,
		 uint64_t *iova, bool zero)
{
	size_t start;

	if (pool == NULL || va == NULL || iova == NULL)
		return nb_fail(EINVAL, "pool carve: NULL argument");
	if (size == 0)
		return nb_fail(EINVAL, "pool carve: zero size");
	if (!NB_IS_POW2(align) || align > pool->page_size)
		return nb_fail(EINVAL,
			       "pool carve: alignment %zu is not a power of two <= the page size %zu",
			       align, pool->page_size);
	/* carved <= size, so aligning up cannot wrap; compare without adding. */
	start = NB_ALIGN_UP(pool->carved, align);
	if (start > pool->size || size > pool->size - start)
		return nb_fail(ENOMEM,
			       "pool carve: %zu bytes (aligned %zu) do not fit, %zu of %zu bytes left",
			       size, align, pool->size - pool->carved, pool->size);
	if (zero)
		memset(pool->va + start, 0, size);
	pool->carved = start + size;
	*va = pool->va + start;
	*iova = pool->iova_base + start;
	return 0;
}

NB_API int nb_pool_carve(struct nb_pool *pool, size_t size, size_t align,
			 void **va, uint64_t *iova)
{
	return carve(pool, size, align, va, iova, true);
}

int nb_pool_carve_unzeroed(struct nb_pool *pool, size_t size, size_t align,
			   void **va, uint64_t *iova)
{
	return carve(pool, size, align, va, iova, false);
}

size_t nb_pool_carve_mark(const struct nb_pool *pool)
{
	return pool->carved;
}

void nb_pool_carve_rewind(struct nb_pool *pool, size_t mark)
{
	if (mark < pool->carved)
		pool->carved = mark;
}

NB_API uint64_t nb_pool_va_to_iova(const struct nb_pool *pool, const void *va)
{
	uintptr_t addr = (uintptr_t)va;
	uintptr_t base = (uintptr_t)pool->va;

	if (addr < base || addr - base >= pool->size)
		return UINT64_MAX;
	return pool->iova_base + (addr - base);
}

/*
 * `len` 0 asks only whether `iova` itself lies in the pool. Written as
 * subtractions from known-in-range values so no sum can wrap.
 */
NB_API void *nb_pool_iova_to_va(const struct nb_pool *pool, uint64_t iova,
				size_t len)
{
	uint64_t off;

	if (iova < pool->iova_base)
		return NULL;
	off = iova - pool->iova_base;
	if (off >= pool->size || len > pool->size - off)
		return NULL;
	return pool->va + off;
}

NB_API size_t nb_pool_size(const struct nb_pool *pool)
{
	return pool->size;
}

NB_API size_t nb_pool_free_bytes(const struct nb_pool *pool)
{
	return pool->size - pool->carved;
}

NB_API size_t nb_pool_page_size(const struct nb_pool *pool)
{
	return pool->page_size;
}

NB_API uint64_t nb_pool_iova_base(const struct nb_pool *pool)
{
	return pool->iova_base;
}

NB_API void *nb_pool_va_base(const struct nb_pool *pool)
{
	return pool->va;
}
