/* SPDX-License-Identifier: MIT */
/*
 * vfio_device_check.c - core/pci_vfio.c against a real device bound to
 * vfio-pci, checked against what sysfs says about the same function.
 *
 *   nb_vfio_device_check BDF
 *
 * Needs root and a device on vfio-pci; the QEMU testbed runs it
 * (test/vm/checks/05-core-vfio.sh). Not a ctest unit test: there is no
 * device on the build host. It sets up the VFIO container and group
 * itself, as only a test may; in nicbox that is the helper's job.
 */
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nb_test.h"

#define PCI_CFG_COMMAND 0x04
#define PCI_CMD_MEMORY 0x0002
#define PCI_CMD_BUS_MASTER 0x0004
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CAP_ID_MSIX 0x11
/* Linux include/linux/ioport.h: flags in /sys/bus/pci/devices/X/resource */
#define IORESOURCE_IO 0x100
#define IORESOURCE_MEM 0x200

static const char *bdf;
static int group_fd = -1;

struct device {
	struct nb_pci *pci;
	int fd;
};

static void sysfs_path(char *buf, size_t len, const char *file)
{
	snprintf(buf, len, "/sys/bus/pci/devices/%s/%s", bdf, file);
}

/* The real config space as the kernel reads it, bypassing VFIO. */
static void sysfs_config(void *buf, size_t len, off_t off)
{
	char path[128];
	int fd;

	sysfs_path(path, sizeof(path), "config");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static int open_device(void **state)
{
	struct device *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	assert_true(d->fd >= 0);
	if (nb_pci_open_vfio(d->fd, bdf, &d->pci) < 0)
		fail_msg("nb_pci_open_vfio: %s", nb_last_error());
	*state = d;
	return 0;
}

static int close_device(void **state)
{
	struct device *d = *state;

	if (d->pci != NULL)
		d->pci->ops->close(d->pci);
	free(d);
	return 0;
}

static void ids_match_sysfs(void **state)
{
	struct device *d = *state;
	uint8_t cfg[4];

	sysfs_config(cfg, sizeof(cfg), 0);
	assert_int_equal(d->pci->vendor_id, cfg[0] | cfg[1] << 8);
	assert_int_equal(d->pci->device_id, cfg[2] | cfg[3] << 8);
	assert_string_equal(d->pci->name, bdf);
}

/* Class, revision and subsystem ids are not virtualised by vfio-pci. */
static void config_reads_match_sysfs(void **state)
{
	static const unsigned offsets[] = { 0x00, 0x08, 0x2c };
	struct device *d = *state;

	for (size_t i = 0; i < NB_ARRAY_SIZE(offsets); i++) {
		uint32_t ours;
		uint8_t raw[4];

		assert_int_equal(nb_pci_cfg_read32(d->pci, offsets[i], &ours), 0);
		sysfs_config(raw, sizeof(raw), offsets[i]);
		assert_int_equal(ours, raw[0] | raw[1] << 8 | raw[2] << 16 |
				       (uint32_t)raw[3] << 24);
	}
}

/*
 * Each line of sysfs "resource" is "start end flags" for BAR0..5: memory
 * BARs must map with their full size, absent ones give ENOENT, I/O ones
 * ENOTSUP. A second map returns the same mapping.
 */
static void bars_map_as_sysfs_describes_them(void **state)
{
	struct device *d = *state;
	unsigned long long start, end, flags;
	unsigned mapped = 0;
	char path[128];
	FILE *res;

	sysfs_path(path, sizeof(path), "resource");
	res = fopen(path, "re");
	assert_non_null(res);
	for (unsigned bar = 0; bar < 6; bar++) {
		void *va, *again;
		size_t len, again_len;
		int rc;

		assert_int_equal(fscanf(res, "%llx %llx %llx", &start, &end, &flags), 3);
		rc = d->pci->ops->map_bar(d->pci, bar, &va, &len);
		if (flags & IORESOURCE_MEM) {
			if (rc < 0)
				fail_msg("BAR%u: %s", bar, nb_last_error());
			assert_int_equal(len, end - start + 1);
			assert_int_equal(d->pci->ops->map_bar(d->pci, bar, &again, &again_len), 0);
			assert_ptr_equal(again, va);
			mapped++;
		} else if (flags & IORESOURCE_IO) {
			assert_int_equal(rc, -1);
			assert_failed_with(ENOTSUP, "I/O-port BAR");
		} else {
			assert_int_equal(rc, -1);
			assert_failed_with(ENOENT, "not implemented");
		}
	}
	fclose(res);
	assert_true(mapped > 0);
	assert_int_equal(d->pci->ops->map_bar(d->pci, 6, &(void *){ NULL }, &(size_t){ 0 }), -1);
	assert_failed_with(EINVAL, "there is no BAR6");
}

/* The command register bits reach the device itself (read back via sysfs). */
static void dma_enable_and_disable_reach_the_device(void **state)
{
	struct device *d = *state;
	uint16_t real;

	assert_int_equal(nb_pci_enable_dma(d->pci), 0);
	sysfs_config(&real, sizeof(real), PCI_CFG_COMMAND);
	assert_int_equal(real & (PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER),
			 PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER);
	assert_int_equal(nb_pci_disable_dma(d->pci), 0);
	sysfs_config(&real, sizeof(real), PCI_CFG_COMMAND);
	assert_int_equal(real & (PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER), PCI_CMD_MEMORY);
}

static void config_access_beyond_the_region_is_refused(void **state)
{
	struct device *d = *state;
	uint8_t buf[8];

	assert_int_equal(d->pci->ops->cfg_read(d->pci, 4092, buf, sizeof(buf)), -1);
	assert_failed_with(EINVAL, "config read of 8 bytes at 0xffc is beyond");
	assert_int_equal(d->pci->ops->cfg_write(d->pci, 4096, buf, 1), -1);
	assert_failed_with(EINVAL, "config write of 1 bytes at 0x1000 is beyond");
}

/* VFIO's MSI-X count equals the table size in the MSI-X capability. */
static void msix_count_matches_the_capability(void **state)
{
	struct device *d = *state;
	uint16_t msg_ctrl = 0;
	uint8_t pos, id;
	uint32_t count;
	unsigned hops = 0;

	assert_int_equal(nb_pci_cfg_read8(d->pci, PCI_CFG_CAP_PTR, &pos), 0);
	while (pos != 0 && hops++ < 48) {
		assert_int_equal(nb_pci_cfg_read8(d->pci, pos, &id), 0);
		if (id == PCI_CAP_ID_MSIX) {
			/* PCI Local Bus Spec 3.0, 6.8.2.3: table size - 1 in bits 10:0 */
			assert_int_equal(nb_pci_cfg_read16(d->pci, pos + 2, &msg_ctrl), 0);
			break;
		}
		assert_int_equal(nb_pci_cfg_read8(d->pci, pos + 1, &pos), 0);
	}
	assert_int_not_equal(msg_ctrl, 0);
	assert_int_equal(nb_pci_vfio_irq_count(d->pci, VFIO_PCI_MSIX_IRQ_INDEX, &count), 0);
	assert_int_equal(count, (msg_ctrl & 0x7ff) + 1u);
}

static void close_unmaps_and_closes_the_fd(void **state)
{
	struct device *d = *state;
	void *va;
	size_t len;
	unsigned bar = 0;

	while (bar < 6 && d->pci->ops->map_bar(d->pci, bar, &va, &len) < 0)
		bar++;
	assert_true(bar < 6);
	d->pci->ops->close(d->pci);
	d->pci = NULL;
	assert_int_equal(fcntl(d->fd, F_GETFD), -1);
	/* the BAR mapping is gone: msync on an unmapped range gives ENOMEM */
	assert_int_equal(msync(va, len, MS_ASYNC), -1);
	assert_int_equal(errno, ENOMEM);
}

/* Container + group, as the helper would do it; fails loudly if it cannot. */
static int open_group(void)
{
	char path[128], link[128];
	int container;
	ssize_t n;

	sysfs_path(path, sizeof(path), "iommu_group");
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		perror(path);
		return -1;
	}
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(link));
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (container < 0 || group_fd < 0 ||
	    ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container) < 0 ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		fprintf(stderr, "VFIO setup for %s (%s): %s\n", bdf, path,
			strerror(errno));
		return -1;
	}
	return 0; /* the container stays open for the process's lifetime */
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ids_match_sysfs, open_device, close_device),
		cmocka_unit_test_setup_teardown(config_reads_match_sysfs, open_device, close_device),
		cmocka_unit_test_setup_teardown(bars_map_as_sysfs_describes_them, open_device, close_device),
		cmocka_unit_test_setup_teardown(dma_enable_and_disable_reach_the_device, open_device, close_device),
		cmocka_unit_test_setup_teardown(config_access_beyond_the_region_is_refused, open_device, close_device),
		cmocka_unit_test_setup_teardown(msix_count_matches_the_capability, open_device, close_device),
		cmocka_unit_test_setup_teardown(close_unmaps_and_closes_the_fd, open_device, close_device),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF (a device bound to vfio-pci)\n", argv[0]);
		return 2;
	}
	bdf = argv[1];
	if (open_group() < 0)
		return 1;
	return cmocka_run_group_tests_name("vfio_device", tests, NULL, NULL);
}
