/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake_pci.h"

static struct fake_pci *to_fake(struct nb_pci *pci)
{
	return NB_CONTAINER_OF(pci, struct fake_pci, pci);
}

static int fake_cfg_read(struct nb_pci *pci, unsigned off, void *buf, size_t len)
{
	struct fake_pci *f = to_fake(pci);

	f->reads++;
	if (f->closed_at != 0)
		return nb_fail(EBADF, "fake: config read after close");
	if (f->fail_reads)
		return nb_fail(EIO, "fake: config read failed on purpose");
	if (off + len > sizeof(f->cfg))
		return nb_fail(EINVAL, "fake: config read beyond 256 bytes");
	memcpy(buf, f->cfg + off, len);
	return 0;
}

static int fake_cfg_write(struct nb_pci *pci, unsigned off, const void *buf,
			  size_t len)
{
	struct fake_pci *f = to_fake(pci);

	f->writes++;
	if (f->closed_at != 0)
		return nb_fail(EBADF, "fake: config write after close");
	if (off + len > sizeof(f->cfg))
		return nb_fail(EINVAL, "fake: config write beyond 256 bytes");
	memcpy(f->cfg + off, buf, len);
	return 0;
}

static void fake_close(struct nb_pci *pci)
{
	struct fake_pci *f = to_fake(pci);

	f->closed_at = f->close_log != NULL ? ++*f->close_log : 1;
}

static int fake_msix_set(struct nb_pci *pci, const int *fds, unsigned n)
{
	struct fake_pci *f = to_fake(pci);

	f->msix_calls++;
	if (n > f->msix_vectors || n > 32)
		return nb_fail(ENOTSUP, "fake: %u MSI-X vectors, %u asked",
			       f->msix_vectors, n);
	if (n)
		memcpy(f->msix_fd, fds, n * sizeof(int));
	f->msix_n = n;
	return 0;
}

static const struct nb_pci_ops fake_ops = {
	.cfg_read = fake_cfg_read,
	.cfg_write = fake_cfg_write,
	.msix_set = fake_msix_set,
	.close = fake_close,
};

void fake_pci_init(struct fake_pci *f, uint16_t vendor, uint16_t device)
{
	memset(f, 0, sizeof(*f));
	f->pci.ops = &fake_ops;
	snprintf(f->pci.name, sizeof(f->pci.name), "0000:00:09.0");
	f->pci.vendor_id = vendor;
	f->pci.device_id = device;
	f->cfg[0] = (uint8_t)vendor;
	f->cfg[1] = (uint8_t)(vendor >> 8);
	f->cfg[2] = (uint8_t)device;
	f->cfg[3] = (uint8_t)(device >> 8);
}

uint16_t fake_pci_command(const struct fake_pci *f)
{
	return (uint16_t)(f->cfg[4] | f->cfg[5] << 8);
}
