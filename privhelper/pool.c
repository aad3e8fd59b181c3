/* SPDX-License-Identifier: MIT */
/* pool.c - DMA pools: sealed memfds, mapped MAP_SHARED (a private mapping
 * would pin copy-on-write copies the worker never sees). */
#include <sys/mman.h>

#include <linux/memfd.h>

#include "helper.h"

static int try_create(uint64_t bytes, unsigned page, struct nbh_pool *p)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	uint64_t size = nbh_pool_size(bytes, page), page_size = nbh_page_size(page);
	int err;

	if (page_size > 4096)
		flags |= MFD_HUGETLB | ((unsigned)__builtin_ctzll(page_size) << MFD_HUGE_SHIFT);
	p->memfd = memfd_create("nicbox-pool", flags);
	/* mmap reserves hugetlb pages: ENOMEM there means too few are free. */
	if (p->memfd >= 0 && ftruncate(p->memfd, (off_t)size) == 0 &&
	    fcntl(p->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0 &&
	    (p->va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, p->memfd, 0)) != MAP_FAILED) {
		p->size = size;
		p->page_size = page_size;
		return 0;
	}
	err = errno;
	if (p->memfd >= 0)
		close(p->memfd);
	errno = err;
	return -1;
}

int nbh_pool_create(uint64_t bytes, unsigned page, struct nbh_pool *p,
		    char *warning, size_t warning_len)
{
	warning[0] = '\0';
	if (try_create(bytes, page, p) == 0)
		return 0;
	if (page != NB_PAGE_DEFAULT || (errno != ENOMEM && errno != EINVAL))
		return nbh_fail_errno("pool of %llu bytes with %llu KiB pages",
				      (unsigned long long)bytes,
				      (unsigned long long)(nbh_page_size(page) >> 10));
	if (try_create(bytes, NB_PAGE_4K, p) < 0)
		return nbh_fail_errno("pool of %llu bytes", (unsigned long long)bytes);
	snprintf(warning, warning_len, "no free 2 MiB hugepages: pool uses 4 KiB pages "
		 "(raise /proc/sys/vm/nr_hugepages)");
	return 0;
}

void nbh_pool_destroy(struct nbh_pool *p)
{
	if (p->va)
		munmap(p->va, p->size);
	if (p->memfd >= 0)
		close(p->memfd);
}
