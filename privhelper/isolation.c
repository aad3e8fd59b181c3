/* SPDX-License-Identifier: MIT */
/* isolation.c - the IOMMU does not fence a device in if its MSIs are not
 * remapped (vfio_iommu_type1 allow_unsafe_interrupts=Y lets VFIO attach
 * without that) or if it caches translations itself (ATS). docs/policy.md */
#include <limits.h>

#include "helper.h"

#define PCI_EXT_CAP_ID_ATS 0x000f /* PCIe 4.0 §7.5.3.1 (header), §10.5.1 (ATS) */
#define PCI_ATS_CTRL 6            /* ATS Control register, bit 15: Enable */

#ifndef NBH_TEST_ROOT
#define NBH_TEST_ROOT ""
#endif
const char *nbh_root = NBH_TEST_ROOT;

const char *nbh_path(const char *fmt, ...)
{
	static char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s", nbh_root);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path + n, sizeof(path) - (size_t)n, fmt, ap);
	va_end(ap);
	return path;
}

ssize_t nbh_slurp(const char *path, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, len, 0);

	if (fd >= 0)
		close(fd); /* errno stays open()'s if that failed */
	return n;
}

/* Remapping is on if an interrupt chip says so (IR-IO-APIC, IR-PCI-MSI);
 * without it VFIO refuses to attach unless the parameter waives that. */
static bool irq_unsafe(void)
{
	static char text[1 << 16];
	char unsafe = 'N';
	ssize_t n = nbh_slurp(nbh_path("/proc/interrupts"), text, sizeof(text) - 1);

	nbh_slurp(nbh_path("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"),
		  &unsafe, 1);
	text[n > 0 ? n : 0] = '\0';
	return unsafe == 'Y' && !strstr(text, " IR-");
}

/* ATS Enable in the extended capability list of the config space. */
static bool ats_enabled(const char *bdf)
{
	uint8_t cfg[4096];
	ssize_t n = nbh_slurp(nbh_path("/sys/bus/pci/devices/%s/config", bdf), cfg, sizeof(cfg));
	uint32_t hdr;

	for (unsigned at = 0x100, hops = 0; at >= 0x100 && at + 8 <= (size_t)(n > 0 ? n : 0) &&
	     hops < 512; at = hdr >> 20 & 0xffc, hops++) {
		/* little-endian; ID 15:0, version 19:16, next 31:20 */
		hdr = cfg[at] | cfg[at + 1] << 8 | cfg[at + 2] << 16 | (uint32_t)cfg[at + 3] << 24;
		if ((hdr & 0xffff) == PCI_EXT_CAP_ID_ATS)
			return cfg[at + PCI_ATS_CTRL + 1] & 0x80;
	}
	return false;
}

int nbh_isolated(const char *bdf, bool unsafe_interrupts, bool allow_ats)
{
	if (!unsafe_interrupts && irq_unsafe())
		return nbh_fail(EPERM, "interrupt remapping is off (vfio_iommu_type1 "
				"allow_unsafe_interrupts=Y): %s could forge MSIs; turn it on or "
				"set 'unsafe-interrupts'", bdf);
	if (!allow_ats && ats_enabled(bdf))
		return nbh_fail(EPERM, "%s has ATS enabled: it could bypass the IOMMU with "
				"cached translations; disable ATS or set 'allow-ats'", bdf);
	return 0;
}
