/* SPDX-License-Identifier: MIT */
/* fake_helper.c - see fake_helper.h. */
#include <sys/mman.h>

#include "fake_helper.h"

struct fake_helper fake_helper;
static int fake_iommu; /* its address is the handle */
static uint64_t next_iova = 1ull << 32;

static int step(unsigned bit, const char *what)
{
	return fake_helper.fail & bit ? nbh_fail(EIO, "fake: %s fails", what) : 0;
}

int nbh_nic_resolve(const char *name, struct nbh_nic *nic)
{
	*nic = (struct nbh_nic){ .vendor_id = 0x1af4, .device_id = 0x1041, .lock_fd = -1 };
	if (nbh_normalize_bdf(name, nic->bdf) < 0)
		return nbh_fail(ENODEV, "fake: no PCI device %s", name);
	nic->group = nic->bdf[11] - '0';
	return 0;
}

int nbh_nic_lock(struct nbh_nic *nic, uid_t uid, pid_t pid)
{
	(void)nic, (void)uid, (void)pid;
	return step(FAKE_FAIL_LOCK, "lock");
}

/* Every fake NIC is alone in its IOMMU group. */
int nbh_nic_group(struct nbh_nic *nic, const struct nbh_policy *p, const struct nbh_ident *who)
{
	(void)nic, (void)p, (void)who;
	return 0;
}

int nbh_nic_take_peer(const struct nbh_nic *owner, struct nbh_nic *nic)
{
	(void)owner, (void)nic;
	return 0;
}

int nbh_nic_netdev(struct nbh_nic *nic, bool allow_up, bool restore)
{
	(void)nic, (void)allow_up, (void)restore;
	return 0;
}

int nbh_nic_to_vfio(struct nbh_nic *nic)
{
	nic->switched = true;
	return step(FAKE_FAIL_VFIO, "vfio-pci bind");
}

void nbh_nic_restore(struct nbh_nic *nic)
{
	(void)nic;
	fake_helper.nics_restored++;
}

struct nbh_iommu *nbh_iommu_open(void)
{
	return step(FAKE_FAIL_IOMMU, "container") ? NULL : (struct nbh_iommu *)&fake_iommu;
}

int nbh_iommu_attach_group(struct nbh_iommu *io, unsigned group)
{
	(void)io, (void)group;
	return step(FAKE_FAIL_ATTACH, "group attach");
}

int nbh_iommu_map(struct nbh_iommu *io, void *va, uint64_t size, uint64_t align, uint64_t *iova)
{
	(void)io, (void)va;
	*iova = next_iova = (next_iova + align - 1) & ~(align - 1);
	next_iova += size;
	return step(FAKE_FAIL_MAP, "map");
}

int nbh_iommu_device_fd(struct nbh_iommu *io, unsigned group, const char *bdf)
{
	int fd = step(FAKE_FAIL_DEVICE, "device fd") ? -1 : open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)io, (void)group, (void)bdf;
	return fd;
}

void nbh_iommu_close(struct nbh_iommu *io)
{
	(void)io;
}

/* A memfd of the rounded size, not mapped: nothing here touches the pages. */
int nbh_pool_create(uint64_t bytes, unsigned page, struct nbh_pool *p, char *warning,
		    size_t warning_len)
{
	snprintf(warning, warning_len, "%s", "");
	*p = (struct nbh_pool){ .memfd = -1, .size = nbh_pool_size(bytes, page),
				.page_size = nbh_page_size(page) };
	if (step(FAKE_FAIL_POOL, "pool") ||
	    (p->memfd = memfd_create("fake-pool", MFD_CLOEXEC)) < 0)
		return -1;
	fake_helper.pools_created++;
	return 0; /* empty: the helper never reads it, the client maps nothing here */
}

void nbh_pool_destroy(struct nbh_pool *p)
{
	fake_helper.pools_destroyed++;
	if (p->memfd >= 0)
		close(p->memfd);
}
