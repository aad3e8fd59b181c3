/* SPDX-License-Identifier: MIT */
/*
 * pci_vfio.c - PCI function access through an open VFIO device fd.
 *
 * The helper opened the container and group and handed us only the device
 * fd; everything here is what that fd allows an unprivileged process
 * (Linux include/uapi/linux/vfio.h): region info, mmap of memory BARs,
 * config space by pread/pwrite on the config region, reset, IRQ info.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nb_internal.h"

#define NB_PCI_NUM_BARS 6
#define NB_PCI_CFG_MAX 4096u /* PCIe extended config space */
#define NB_PCI_CFG_VENDOR_ID 0x00
#define NB_PCI_CFG_DEVICE_ID 0x02
#define NB_PCI_CFG_BAR0 0x10
/* PCI Local Bus Spec 3.0, 6.2.5.1: bit 0 of a BAR set means I/O space. */
#define NB_PCI_BAR_IO_SPACE 0x1u

struct vfio_bar {
	void *va; /* NULL until first mapped */
	size_t len;
};

struct nb_pci_vfio {
	struct nb_pci pci; /* first: struct nb_pci * converts */
	int fd;
	uint64_t cfg_offset; /* file offset of the config region */
	uint64_t cfg_size;
	bool can_reset;
	struct vfio_bar bars[NB_PCI_NUM_BARS];
};

static const struct nb_pci_ops vfio_pci_ops;

static struct nb_pci_vfio *to_vfio(struct nb_pci *pci)
{
	return NB_CONTAINER_OF(pci, struct nb_pci_vfio, pci);
}

static int region_info(struct nb_pci_vfio *v, unsigned index,
		       struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, info) < 0)
		return nb_fail(errno, "%s: VFIO GET_REGION_INFO for region %u: %s",
			       v->pci.name, index, strerror(errno));
	return 0;
}

/* pread or pwrite of the config region; a short transfer is an error. */
static int cfg_access(struct nb_pci *pci, unsigned off, void *buf, size_t len,
		      bool write)
{
	struct nb_pci_vfio *v = to_vfio(pci);
	const char *what = write ? "write" : "read";
	off_t pos = (off_t)(v->cfg_offset + off);
	ssize_t done;

	if (len > v->cfg_size || off > v->cfg_size - len)
		return nb_fail(EINVAL, "%s: config %s of %zu bytes at 0x%x is beyond its %llu bytes",
			       pci->name, what, len, off,
			       (unsigned long long)v->cfg_size);
	done = write ? pwrite(v->fd, buf, len, pos) : pread(v->fd, buf, len, pos);
	if (done < 0)
		return nb_fail(errno, "%s: config %s at 0x%x: %s", pci->name,
			       what, off, strerror(errno));
	if ((size_t)done != len)
		return nb_fail(EIO, "%s: config %s at 0x%x: %zd of %zu bytes",
			       pci->name, what, off, done, len);
	return 0;
}

static int vfio_cfg_read(struct nb_pci *pci, unsigned off, void *buf, size_t len)
{
	return cfg_access(pci, off, buf, len, false);
}

static int vfio_cfg_write(struct nb_pci *pci, unsigned off, const void *buf,
			  size_t len)
{
	/* cfg_access only passes buf to pwrite when writing. */
	return cfg_access(pci, off, (void *)buf, len, true);
}

/* First mapping of a BAR; later map_bar calls reuse it. */
static int map_bar_region(struct nb_pci_vfio *v, unsigned bar)
{
	struct nb_pci *pci = &v->pci;
	struct vfio_region_info info;
	uint32_t bar_reg;
	void *map;

	/* VFIO's region index for BARn is n (VFIO_PCI_BAR0_REGION_INDEX == 0). */
	if (region_info(v, VFIO_PCI_BAR0_REGION_INDEX + bar, &info) < 0)
		return -1;
	/* Also the case for the upper half of a 64-bit BAR. */
	if (info.size == 0)
		return nb_fail(ENOENT, "%s: BAR%u is not implemented (size 0)",
			       pci->name, bar);
	if (nb_pci_cfg_read32(pci, NB_PCI_CFG_BAR0 + 4 * bar, &bar_reg) < 0)
		return -1;
	if (bar_reg & NB_PCI_BAR_IO_SPACE)
		return nb_fail(ENOTSUP, "%s: BAR%u is an I/O-port BAR; only memory BARs can be mapped",
			       pci->name, bar);
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return nb_fail(ENOTSUP, "%s: vfio-pci does not allow mmap of BAR%u (%llu bytes)",
			       pci->name, bar, (unsigned long long)info.size);
	map = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd,
		   (off_t)info.offset);
	if (map == MAP_FAILED)
		return nb_fail(errno, "%s: mmap of BAR%u (%llu bytes): %s",
			       pci->name, bar, (unsigned long long)info.size,
			       strerror(errno));
	v->bars[bar].va = map;
	v->bars[bar].len = info.size;
	return 0;
}

static int vfio_map_bar(struct nb_pci *pci, unsigned bar, void **va, size_t *len)
{
	struct nb_pci_vfio *v = to_vfio(pci);

	if (bar >= NB_PCI_NUM_BARS)
		return nb_fail(EINVAL, "%s: there is no BAR%u", pci->name, bar);
	if (v->bars[bar].va == NULL && map_bar_region(v, bar) < 0)
		return -1;
	*va = v->bars[bar].va;
	*len = v->bars[bar].len;
	return 0;
}

static int vfio_reset(struct nb_pci *pci)
{
	struct nb_pci_vfio *v = to_vfio(pci);

	if (!v->can_reset)
		return nb_fail(ENOTSUP, "%s: the device offers no reset", pci->name);
	if (ioctl(v->fd, VFIO_DEVICE_RESET) < 0)
		return nb_fail(errno, "%s: VFIO_DEVICE_RESET: %s", pci->name,
			       strerror(errno));
	return 0;
}

/*
 * VFIO_DEVICE_SET_IRQS (include/uapi/linux/vfio.h): DATA_EVENTFD |
 * ACTION_TRIGGER on the MSI-X index routes vectors 0..n-1 to fds[]; count 0
 * with DATA_NONE turns MSI-X off again. The vector count is checked first,
 * so a device with too few says so instead of failing inside the kernel.
 */
static int vfio_msix_set(struct nb_pci *pci, const int *fds, unsigned n)
{
	struct nb_pci_vfio *v = to_vfio(pci);
	char buf[sizeof(struct vfio_irq_set) + 32 * sizeof(int)]
		__attribute__((aligned(8)));
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	uint32_t have;

	if (n > 32)
		return nb_fail(EINVAL, "%s: %u MSI-X vectors asked, at most 32",
			       pci->name, n);
	if (n > 0) {
		if (nb_pci_vfio_irq_count(pci, VFIO_PCI_MSIX_IRQ_INDEX, &have) < 0)
			return -1;
		if (have < n)
			return nb_fail(ENOTSUP, "%s: the device offers %u MSI-X vectors, "
				       "interrupt receive needs %u (one per rx queue); "
				       "use the poll receive mode or fewer queues",
				       pci->name, have, n);
	}
	memset(buf, 0, sizeof(buf));
	set->argsz = (uint32_t)(sizeof(*set) + n * sizeof(int));
	set->flags = (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) |
		     VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	set->count = n;
	if (n)
		memcpy(set->data, fds, n * sizeof(int));
	if (ioctl(v->fd, VFIO_DEVICE_SET_IRQS, set) < 0)
		return nb_fail(errno, "%s: VFIO_DEVICE_SET_IRQS (MSI-X, %u vectors): %s",
			       pci->name, n, strerror(errno));
	return 0;
}

static void vfio_close(struct nb_pci *pci)
{
	struct nb_pci_vfio *v = to_vfio(pci);

	for (unsigned i = 0; i < NB_PCI_NUM_BARS; i++)
		if (v->bars[i].va != NULL)
			munmap(v->bars[i].va, v->bars[i].len);
	close(v->fd);
	free(v);
}

static const struct nb_pci_ops vfio_pci_ops = {
	.map_bar = vfio_map_bar,
	.cfg_read = vfio_cfg_read,
	.cfg_write = vfio_cfg_write,
	.reset = vfio_reset,
	.msix_set = vfio_msix_set,
	.close = vfio_close,
};

/* Fills everything but the ids; on failure nothing needs undoing. */
static int probe_device(struct nb_pci_vfio *v, const char *name)
{
	struct vfio_device_info dev_info = { .argsz = sizeof(dev_info) };
	struct vfio_region_info cfg;

	if (ioctl(v->fd, VFIO_DEVICE_GET_INFO, &dev_info) < 0) {
		int err = errno;

		/* ENOTTY: the fd is something else entirely (a file, /dev/null). */
		return nb_fail(err == ENOTTY ? ENODEV : err,
			       "%s: fd %d is not a VFIO device fd (VFIO_DEVICE_GET_INFO: %s)",
			       name, v->fd, strerror(err));
	}
	if (!(dev_info.flags & VFIO_DEVICE_FLAGS_PCI))
		return nb_fail(ENODEV, "%s: the VFIO device is not a PCI device (flags 0x%x)",
			       name, dev_info.flags);
	if (dev_info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
		return nb_fail(ENODEV, "%s: the VFIO device has %u regions, no config space",
			       name, dev_info.num_regions);
	if (region_info(v, VFIO_PCI_CONFIG_REGION_INDEX, &cfg) < 0)
		return -1;
	if ((cfg.flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)) !=
	    (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE) ||
	    cfg.size < 64)
		return nb_fail(ENODEV, "%s: config region is not readable and writable (flags 0x%x, %llu bytes)",
			       name, cfg.flags, (unsigned long long)cfg.size);
	v->cfg_offset = cfg.offset;
	v->cfg_size = cfg.size < NB_PCI_CFG_MAX ? cfg.size : NB_PCI_CFG_MAX;
	v->can_reset = dev_info.flags & VFIO_DEVICE_FLAGS_RESET;
	return 0;
}

static int read_ids(struct nb_pci_vfio *v)
{
	if (nb_pci_cfg_read16(&v->pci, NB_PCI_CFG_VENDOR_ID, &v->pci.vendor_id) < 0 ||
	    nb_pci_cfg_read16(&v->pci, NB_PCI_CFG_DEVICE_ID, &v->pci.device_id) < 0)
		return -1;
	/* All ones: no function answered (PCI Local Bus Spec 3.0, 6.2.1). */
	if (v->pci.vendor_id == 0xffff)
		return nb_fail(ENODEV, "%s: config space reads as all ones; the device does not respond",
			       v->pci.name);
	return 0;
}

int nb_pci_open_vfio(int device_fd, const char *name, struct nb_pci **out)
{
	struct nb_pci_vfio *v;

	if (out == NULL || name == NULL)
		return nb_fail(EINVAL, "vfio: NULL argument");
	if (device_fd < 0)
		return nb_fail(EBADF, "%s: bad VFIO device fd %d", name, device_fd);
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return nb_fail(ENOMEM, "vfio: out of memory");
	v->pci.ops = &vfio_pci_ops;
	snprintf(v->pci.name, sizeof(v->pci.name), "%s", name);
	v->fd = device_fd;
	if (probe_device(v, name) < 0 || read_ids(v) < 0) {
		int err = errno;

		free(v); /* the fd stays the caller's */
		errno = err;
		return -1;
	}
	*out = &v->pci;
	return 0;
}

int nb_pci_vfio_irq_count(struct nb_pci *pci, unsigned index, uint32_t *count)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };

	if (pci == NULL || count == NULL || pci->ops != &vfio_pci_ops)
		return nb_fail(EINVAL, "vfio: IRQ info needs a VFIO PCI function");
	if (ioctl(to_vfio(pci)->fd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
		return nb_fail(errno, "%s: GET_IRQ_INFO for index %u: %s",
			       pci->name, index, strerror(errno));
	*count = info.count;
	return 0;
}
