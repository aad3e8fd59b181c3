/* SPDX-License-Identifier: MIT */
/* iommu.c - VFIO type1 backend of the DMA interface in helper.h (an iommufd
 * backend would implement the same five calls); uapi/linux/vfio.h. */

#include <linux/vfio.h>

#include "helper.h"

#define MAX_RANGES 16
/* Never hand out IOVA 0 and its neighbours: a zeroed descriptor must fault. */
#define IOVA_FLOOR (1ull << 20)

struct nbh_iommu {
	int container;
	struct { unsigned num; int fd; } groups[NB_MAX_DEVICES];
	unsigned n_groups;
	struct vfio_iova_range ranges[MAX_RANGES];
	unsigned n_ranges;
	uint64_t next_iova;   /* IOVAs only grow: never reused in a session */
	struct { uint64_t iova, size; } maps[NB_MAX_POOLS];
	unsigned n_maps;
};

struct nbh_iommu *nbh_iommu_open(void)
{
	struct nbh_iommu *io = calloc(1, sizeof(*io));
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		nbh_fail(errno, "/dev/vfio/vfio: %s (is vfio loaded?)", strerror(errno));
	} else if (!io) {
		nbh_fail(ENOMEM, "out of memory");
	} else if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
		   ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		nbh_fail(ENOTSUP, "the kernel's VFIO lacks the type1v2 IOMMU");
	} else {
		io->container = fd;
		io->next_iova = IOVA_FLOOR;
		io->ranges[0].end = UINT64_MAX; /* narrowed by every group attached */
		io->n_ranges = 1;
		return io;
	}
	if (fd >= 0)
		close(fd);
	free(io);
	return NULL;
}

/* The ranges in both have[] and add[] (each sorted and disjoint), into have[]. */
static unsigned iova_intersect(struct vfio_iova_range *have, unsigned n_have,
			       const struct vfio_iova_range *add, unsigned n_add)
{
	struct vfio_iova_range out[MAX_RANGES];
	unsigned n = 0;

	for (unsigned i = 0; i < n_have; i++)
		for (unsigned j = 0; j < n_add && n < MAX_RANGES; j++) {
			out[n].start = have[i].start > add[j].start ? have[i].start : add[j].start;
			out[n].end = have[i].end < add[j].end ? have[i].end : add[j].end;
			n += out[n].start <= out[n].end;
		}
	memcpy(have, out, n * sizeof(out[0]));
	return n;
}

/* The lowest `align`ed IOVA at or above `next` with room for `size` inside one
 * range; 0 if none. */
static uint64_t iova_pick(const struct vfio_iova_range *r, unsigned n, uint64_t next,
			  uint64_t size, uint64_t align)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t lo = r[i].start > next ? r[i].start : next;

		lo = (lo + align - 1) & ~(align - 1);
		if (lo >= next && lo + size - 1 >= lo && lo + size - 1 <= r[i].end)
			return lo;
	}
	return 0;
}

/* Narrow the container's ranges by VFIO_IOMMU_GET_INFO's capability chain. */
static int read_iova_ranges(struct nbh_iommu *io)
{
	union {
		struct vfio_iommu_type1_info info;
		char bytes[4096];
	} u = { .info.argsz = sizeof(u) };
	struct vfio_iova_range got[MAX_RANGES];
	unsigned n = 0;
	uint32_t off;

	if (ioctl(io->container, VFIO_IOMMU_GET_INFO, &u) < 0)
		return nbh_fail_errno("VFIO_IOMMU_GET_INFO");
	if (u.info.argsz > sizeof(u))
		return nbh_fail(E2BIG, "VFIO_IOMMU_GET_INFO needs %u bytes", u.info.argsz);
	off = (u.info.flags & VFIO_IOMMU_INFO_CAPS) ? u.info.cap_offset : 0;
	while (off && off + sizeof(struct vfio_info_cap_header) <= u.info.argsz) {
		struct vfio_info_cap_header *cap = (void *)(u.bytes + off);
		struct vfio_iommu_type1_info_cap_iova_range *r = (void *)cap;

		for (uint32_t i = 0; cap->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE &&
				     i < r->nr_iovas && n < MAX_RANGES; i++)
			got[n++] = r->iova_ranges[i];
		off = cap->next > off ? cap->next : 0; /* the chain only goes forward */
	}
	io->n_ranges = iova_intersect(io->ranges, io->n_ranges, got, n);
	if (io->n_ranges == 0)
		return nbh_fail(ENOTSUP, "the IOMMU reports no usable IOVA range");
	return 0;
}

int nbh_iommu_attach_group(struct nbh_iommu *io, unsigned group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[32];
	int fd;

	for (unsigned i = 0; i < io->n_groups; i++)
		if (io->groups[i].num == group)
			return 0;
	if (io->n_maps > 0 || io->n_groups == NB_MAX_DEVICES)
		return nbh_fail(EPROTO, "groups must all be attached before the first pool");
	snprintf(path, sizeof(path), "/dev/vfio/%u", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return nbh_fail_errno("%s", path);
	io->groups[io->n_groups].num = group;
	io->groups[io->n_groups++].fd = fd; /* closed by nbh_iommu_close */
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &status) < 0 ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return nbh_fail(EBUSY, "IOMMU group %u is not viable", group);
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &io->container) < 0)
		return nbh_fail_errno("attaching group %u", group);
	if (io->n_groups == 1 && ioctl(io->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		return nbh_fail_errno("VFIO_SET_IOMMU(type1v2)");
	return read_iova_ranges(io); /* for every group: each may narrow them */
}

int nbh_iommu_map(struct nbh_iommu *io, void *va, uint64_t size, uint64_t align, uint64_t *iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va, .size = size,
	};

	if (!io->n_groups || io->n_maps == NB_MAX_POOLS)
		return nbh_fail(EPROTO, "no group attached or too many pools");
	map.iova = iova_pick(io->ranges, io->n_ranges, io->next_iova, size, align);
	if (!map.iova)
		return nbh_fail(ENOSPC, "no IOVA range has room for %llu bytes",
				(unsigned long long)size);
	if (ioctl(io->container, VFIO_IOMMU_MAP_DMA, &map) < 0)
		return nbh_fail_errno("VFIO_IOMMU_MAP_DMA of %llu bytes", (unsigned long long)size);
	io->next_iova = map.iova + size;
	io->maps[io->n_maps].iova = map.iova;
	io->maps[io->n_maps++].size = size;
	*iova = map.iova;
	return 0;
}

int nbh_iommu_device_fd(struct nbh_iommu *io, unsigned group, const char *bdf)
{
	int fd = -1;

	errno = EINVAL; /* the group is not attached */
	for (unsigned i = 0; i < io->n_groups; i++)
		if (io->groups[i].num == group)
			fd = ioctl(io->groups[i].fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0)
		return nbh_fail_errno("VFIO_GROUP_GET_DEVICE_FD(%s)", bdf);
	return fd;
}

void nbh_iommu_close(struct nbh_iommu *io)
{
	if (!io)
		return;
	/* A worker still holding a device fd loses DMA access here (faults);
	 * the kernel keeps group and container until that fd closes. */
	for (unsigned i = 0; i < io->n_maps; i++) {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap), .iova = io->maps[i].iova,
			.size = io->maps[i].size,
		};

		if (ioctl(io->container, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0)
			nbh_log("unmapping IOVA 0x%llx: %s",
				(unsigned long long)unmap.iova, strerror(errno));
	}
	for (unsigned i = 0; i < io->n_groups; i++) {
		ioctl(io->groups[i].fd, VFIO_GROUP_UNSET_CONTAINER);
		close(io->groups[i].fd);
	}
	close(io->container);
	free(io);
}
