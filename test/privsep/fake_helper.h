/* SPDX-License-Identifier: MIT */
/*
 * fake_helper.h - stand-ins for what nicbox-helper's session does to the
 * machine (bind.c, iommu.c, pool.c), so the real dispatch (session.c) runs
 * in tests and the session fuzz harness without root, NICs or an IOMMU.
 * Any PCI address resolves to a virtio-net NIC (1af4:1041) in IOMMU group
 * = its function number; pools are small memfds, device fds /dev/null.
 */
#ifndef NB_FAKE_HELPER_H
#define NB_FAKE_HELPER_H

#include "helper.h"

enum { /* fake_helper.fail: make that step fail */
	FAKE_FAIL_LOCK = 1 << 0, FAKE_FAIL_VFIO = 1 << 1, FAKE_FAIL_IOMMU = 1 << 2,
	FAKE_FAIL_ATTACH = 1 << 3, FAKE_FAIL_MAP = 1 << 4, FAKE_FAIL_DEVICE = 1 << 5,
	FAKE_FAIL_POOL = 1 << 6,
};

struct fake_helper {
	unsigned fail;
	unsigned pools_created, pools_destroyed, nics_restored; /* successful steps */
};
extern struct fake_helper fake_helper;

#endif /* NB_FAKE_HELPER_H */
