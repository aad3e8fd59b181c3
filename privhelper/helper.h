/* SPDX-License-Identifier: MIT */
/*
 * helper.h - what the parts of nicbox-helper share. One file per concern:
 *   main.c    command line, listening socket, one forked child per client
 *   session.c one client's session: identity, dispatch table, teardown
 *   bind.c    sysfs + libnl: naming, locks, netdev state, driver switching
 *   iommu.c   VFIO container/group/DMA map (the one IOMMU backend interface)
 *   pool.c    sealed memfd DMA pools
 *   status.c  the `status` table
 */
#ifndef NBH_HELPER_H
#define NBH_HELPER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"
#include "proto.h"

#define NBH_RUN_DIR "/run/nicbox"
#define NBH_DEFAULT_POLICY "/etc/nicbox/nicbox.conf"

/*
 * Errors: one session per process, so the last failure is process state.
 * nbh_fail records errno value + reason (sent in the ERROR reply) and
 * returns -1.
 */
int nbh_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nbh_last_err(void);
const char *nbh_last_reason(void);
/* Log a line to stderr, prefixed with the program name and pid. */
void nbh_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- bind.c: one NIC and everything needed to put it back -------------- */
struct nbh_nic {
	char bdf[NBH_BDF_LEN];
	char ifname[NBH_IFNAME_LEN];  /* netdev at claim time, "" if none */
	uint16_t vendor_id, device_id;
	int group;                    /* IOMMU group number, -1 if none */
	char orig_driver[64];         /* "" if it had none */
	char orig_override[64];       /* "" if driver_override was unset */
	bool switched;                /* we moved it to vfio-pci */
	bool link_was_up;             /* we took its netdev down */
	bool keep_vfio;               /* policy: stay on vfio-pci on release */
	int lock_fd;                  /* /run/nicbox/<bdf>.lock, flock held */
};

/* Fill bdf, ifname, ids and group from a PCI address or interface name. */
int nbh_nic_resolve(const char *name, struct nbh_nic *nic);
/* ENXIO, naming the kernel option, unless an IOMMU covers the NIC. */
int nbh_nic_check_iommu(const struct nbh_nic *nic);
/* Take the per-device lock recording the holder; EBUSY names the holder. */
int nbh_nic_lock(struct nbh_nic *nic, uid_t uid, pid_t pid);
/* Refuse a busy netdev unless allowed; take the link down. */
int nbh_nic_quiesce_netdev(struct nbh_nic *nic, bool allow_up);
/* Switch to vfio-pci and check the IOMMU group is viable. */
int nbh_nic_to_vfio(struct nbh_nic *nic);
/* Undo everything the calls above did, in reverse; drop the lock. */
void nbh_nic_restore(struct nbh_nic *nic);
/* Who holds a device ("uid=1000 pid=42"), "" if free; for status. */
void nbh_nic_holder(const char *bdf, char *out, size_t len);
/* Read a sysfs link's last component, "" if absent. */
void nbh_sysfs_link_name(const char *path, char *out, size_t len);

/* ---- iommu.c: DMA mapping behind one small interface ------------------ */
struct nbh_iommu;

struct nbh_iommu *nbh_iommu_open(void);
/* Attach an IOMMU group; all groups before the first map. */
int nbh_iommu_attach_group(struct nbh_iommu *io, unsigned group);
/* Map [va, va+size) at an IOVA the backend chooses, aligned to `align`. */
int nbh_iommu_map(struct nbh_iommu *io, void *va, uint64_t size,
		  uint64_t align, uint64_t *iova);
/* A new device fd for `bdf` in an attached group. */
int nbh_iommu_device_fd(struct nbh_iommu *io, unsigned group, const char *bdf);
/* Unmap everything, detach and close. */
void nbh_iommu_close(struct nbh_iommu *io);

/* ---- pool.c: sealed memfd pools ---------------------------------------- */
struct nbh_pool {
	int memfd;
	void *va;          /* the helper's MAP_SHARED mapping, pinned by MAP_DMA */
	uint64_t size;
	uint64_t page_size;
	uint64_t iova;
};

/* `page` is an enum nb_page_size; warning[] gets the 4 KiB fallback note. */
int nbh_pool_create(uint64_t bytes, unsigned page, struct nbh_pool *p,
		    char *warning, size_t warning_len);
void nbh_pool_destroy(struct nbh_pool *p);

/* ---- session.c --------------------------------------------------------- */
/* Serve one connected client until release or hang-up; restores all. */
void nbh_session_run(int sock, const struct nbh_policy *policy);

/* ---- status.c ---------------------------------------------------------- */
int nbh_status(const char *policy_file, const char *socket_path);

#endif /* NBH_HELPER_H */
