/* SPDX-License-Identifier: MIT */
/* test_pci.c - config space helpers on a fake backend; VFIO open errors. */
#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_pci.h"
#include "nb_test.h"

#define CMD_MEMORY 0x0002
#define CMD_BUS_MASTER 0x0004
#define CMD_INTX_DISABLE 0x0400

static void cfg_reads_are_little_endian(void **state)
{
	struct fake_pci f;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	(void)state;
	fake_pci_init(&f, 0x8086, 0x10fb);
	assert_int_equal(nb_pci_cfg_read16(&f.pci, 0, &v16), 0);
	assert_int_equal(v16, 0x8086);
	assert_int_equal(nb_pci_cfg_read16(&f.pci, 2, &v16), 0);
	assert_int_equal(v16, 0x10fb);
	assert_int_equal(nb_pci_cfg_read32(&f.pci, 0, &v32), 0);
	assert_int_equal(v32, 0x10fb8086);
	assert_int_equal(nb_pci_cfg_read8(&f.pci, 1, &v8), 0);
	assert_int_equal(v8, 0x80);
	assert_int_equal(nb_pci_cfg_write16(&f.pci, 0x3e, 0xbeef), 0);
	assert_int_equal(f.cfg[0x3e], 0xef);
	assert_int_equal(f.cfg[0x3f], 0xbe);
}

static void unaligned_cfg_access_is_refused_before_the_backend(void **state)
{
	struct fake_pci f;
	uint32_t v32;
	uint16_t v16;

	(void)state;
	fake_pci_init(&f, 0x8086, 0x10fb);
	assert_int_equal(nb_pci_cfg_read16(&f.pci, 1, &v16), -1);
	assert_failed_with(EINVAL, "unaligned 2-byte config read at 0x1");
	assert_int_equal(nb_pci_cfg_read32(&f.pci, 6, &v32), -1);
	assert_failed_with(EINVAL, "unaligned 4-byte config read at 0x6");
	assert_int_equal(nb_pci_cfg_write16(&f.pci, 5, 1), -1);
	assert_failed_with(EINVAL, "unaligned 16-bit config write at 0x5");
	assert_int_equal(f.reads + f.writes, 0);
}

/* Enabling sets Memory Space and Bus Master and keeps every other bit. */
static void enable_dma_sets_memory_and_bus_master(void **state)
{
	struct fake_pci f;

	(void)state;
	fake_pci_init(&f, 0x1af4, 0x1041);
	f.cfg[4] = 0x00;
	f.cfg[5] = CMD_INTX_DISABLE >> 8;
	assert_int_equal(nb_pci_enable_dma(&f.pci), 0);
	assert_int_equal(fake_pci_command(&f),
			 CMD_INTX_DISABLE | CMD_MEMORY | CMD_BUS_MASTER);
}

/* Disabling clears only Bus Master: the BARs stay reachable. */
static void disable_dma_clears_only_bus_master(void **state)
{
	struct fake_pci f;

	(void)state;
	fake_pci_init(&f, 0x1af4, 0x1041);
	f.cfg[4] = CMD_MEMORY | CMD_BUS_MASTER | 0x01;
	f.cfg[5] = CMD_INTX_DISABLE >> 8;
	assert_int_equal(nb_pci_disable_dma(&f.pci), 0);
	assert_int_equal(fake_pci_command(&f), CMD_INTX_DISABLE | CMD_MEMORY | 0x01);
}

/* If the command register cannot be read, nothing is written back. */
static void enable_dma_fails_cleanly_when_config_read_fails(void **state)
{
	struct fake_pci f;

	(void)state;
	fake_pci_init(&f, 0x1af4, 0x1041);
	f.fail_reads = true;
	assert_int_equal(nb_pci_enable_dma(&f.pci), -1);
	assert_failed_with(EIO, "failed on purpose");
	assert_int_equal(f.writes, 0);
	assert_int_equal(fake_pci_command(&f), 0);
}

static void open_vfio_rejects_non_vfio_fds(void **state)
{
	int fds_before = nb_test_open_fds();
	struct nb_pci *pci = NULL;
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int mem_fd = memfd_create("not-vfio", MFD_CLOEXEC);

	(void)state;
	assert_true(null_fd >= 0 && mem_fd >= 0);
	assert_int_equal(nb_pci_open_vfio(null_fd, "0000:00:04.0", &pci), -1);
	assert_failed_with(ENODEV, "0000:00:04.0: fd");
	assert_non_null(strstr(nb_last_error(), "is not a VFIO device fd"));
	assert_int_equal(nb_pci_open_vfio(mem_fd, "0000:00:05.0", &pci), -1);
	assert_failed_with(ENODEV, "is not a VFIO device fd");
	assert_null(pci);
	/* the caller still owns both fds, and nothing else was left open */
	assert_int_equal(fcntl(null_fd, F_GETFD) >= 0, 1);
	assert_int_equal(close(null_fd), 0);
	assert_int_equal(close(mem_fd), 0);
	assert_int_equal(nb_test_open_fds(), fds_before);
}

static void open_vfio_rejects_bad_fd_and_null_arguments(void **state)
{
	struct nb_pci *pci = NULL;

	(void)state;
	assert_int_equal(nb_pci_open_vfio(-1, "0000:00:04.0", &pci), -1);
	assert_failed_with(EBADF, "bad VFIO device fd -1");
	assert_int_equal(nb_pci_open_vfio(0, NULL, &pci), -1);
	assert_failed_with(EINVAL, "NULL argument");
	assert_null(pci);
}

static void irq_count_needs_a_vfio_function(void **state)
{
	struct fake_pci f;
	uint32_t count = 99;

	(void)state;
	fake_pci_init(&f, 0x1af4, 0x1041);
	assert_int_equal(nb_pci_vfio_irq_count(&f.pci, VFIO_PCI_MSIX_IRQ_INDEX, &count), -1);
	assert_failed_with(EINVAL, "needs a VFIO PCI function");
	assert_int_equal(count, 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cfg_reads_are_little_endian),
		cmocka_unit_test(unaligned_cfg_access_is_refused_before_the_backend),
		cmocka_unit_test(enable_dma_sets_memory_and_bus_master),
		cmocka_unit_test(disable_dma_clears_only_bus_master),
		cmocka_unit_test(enable_dma_fails_cleanly_when_config_read_fails),
		cmocka_unit_test(open_vfio_rejects_non_vfio_fds),
		cmocka_unit_test(open_vfio_rejects_bad_fd_and_null_arguments),
		cmocka_unit_test(irq_count_needs_a_vfio_function),
	};

	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
