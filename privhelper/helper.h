/* SPDX-License-Identifier: MIT */
/* helper.h - what the files of nicbox-helper share (docs/helper.md). */
#ifndef NBH_HELPER_H
#define NBH_HELPER_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/nb_pci_ids.h" /* which NICs a nicbox driver runs; header only */
#include "proto.h"

#define NBH_RUN_DIR "/run/nicbox"
#define NBH_DEFAULT_POLICY "/etc/nicbox/nicbox.conf"
#define NBH_IFNAME_LEN 16 /* IFNAMSIZ */

/* One NIC and everything needed to put it back (bind.c). */
struct nbh_nic {
	char bdf[NBP_BDF_LEN];
	char ifname[NBH_IFNAME_LEN];  /* netdev at claim time, "" if none */
	uint16_t vendor_id, device_id;
	int group;                    /* IOMMU group, -1 if none */
	char orig_driver[64];         /* "" if it had none */
	char orig_override[64];       /* "" if driver_override was unset */
	bool switched, link_was_up;   /* what we changed */
	bool keep_vfio, journaled;
	int lock_fd;                  /* flock on /run/nicbox/state/<bdf>.lock */
	uid_t uid;                    /* the claim's client: holder record, journal */
	pid_t pid;
	struct { char bdf[NBP_BDF_LEN]; int lock_fd; } peers[NB_MAX_DEVICES];
	unsigned n_peers;             /* the rest of its IOMMU group, locked with it */
};

/* ---- policy.c: who may claim which NIC; default deny, first match decides. */
#define NBH_MAX_GROUPS 64 /* supplementary groups looked at per client */
#define NBH_DEFAULT_POOL (256ull << 20)

enum nbh_match { NBH_MATCH_PCI, NBH_MATCH_IFNAME, NBH_MATCH_ID };

struct nbh_rule {
	bool is_group;     /* group:, else user: */
	uint32_t who;      /* uid or gid */
	enum nbh_match match;
	char pci[NBP_BDF_LEN];
	char ifname[NBH_IFNAME_LEN];
	uint16_t vendor_id, device_id;
	uint64_t max_pool; /* bytes the session may map in all */
	bool allow_up;     /* may claim an up, addressed netdev */
	bool keep_vfio;    /* leave the NIC on vfio-pci after release */
	bool unsafe_interrupts, allow_ats; /* waive the isolation checks */
	unsigned line;
};

struct nbh_policy {
	struct nbh_rule *rules;
	size_t n_rules;
	char file[256];
};

/* Who asks (SO_PEERCRED, SO_PEERGROUPS). */
struct nbh_ident {
	uid_t uid;
	gid_t gid, groups[NBH_MAX_GROUPS];
	unsigned n_groups;
};

/* 0, or -1 with "name:line: reason" in err[]. load reads at most 64 KiB, and
 * only a file it can trust (StrictModes: docs/policy.md), else "file: reason". */
int nbh_policy_parse(const char *text, size_t len, const char *name,
		     struct nbh_policy *out, char *err, size_t err_len);
int nbh_policy_load(const char *path, struct nbh_policy *out, char *err, size_t err_len);
void nbh_policy_free(struct nbh_policy *p);
/* Whether any rule names `who` (uid or group). */
bool nbh_policy_names(const struct nbh_policy *p, const struct nbh_ident *who);
/* The first rule letting `who` claim `nic`, or NULL (deny). */
const struct nbh_rule *nbh_policy_match(const struct nbh_policy *p, const struct nbh_ident *who,
					const struct nbh_nic *nic);
/* "0000:03:00.0" or "03:00.0" -> "0000:03:00.0"; -1 if not a PCI address. */
int nbh_normalize_bdf(const char *in, char out[NBP_BDF_LEN]);

/* report.c. One session per process, so the last failure (errno + reason) is global. */
int nbh_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int nbh_err;
extern char nbh_reason[NBP_TEXT_LEN];
/* nbh_fail(errno, ...) with ": <strerror(errno)>" appended to the reason. */
#define nbh_fail_errno(fmt, ...) nbh_fail(errno, fmt ": %s", ##__VA_ARGS__, strerror(errno))
#define nbh_log(fmt, ...) \
	fprintf(stderr, "nicbox-helper[%d]: " fmt "\n", (int)getpid(), ##__VA_ARGS__)
void nbh_send_error(int sock, uid_t uid, bool log); /* ERROR: nbh_err, nbh_reason */

/* bind.c: find, lock, quiesce, switch to vfio-pci and restore a NIC. */
int nbh_nic_resolve(const char *name, struct nbh_nic *nic);
/* Lock, first putting back what a journal left there (EBUSY if quarantined). */
int nbh_nic_lock(struct nbh_nic *nic, uid_t uid, pid_t pid);
/* Lock the rest of nic's IOMMU group; refuse (listing it) unless all may go. */
int nbh_nic_group(struct nbh_nic *nic, const struct nbh_policy *p, const struct nbh_ident *who);
int nbh_nic_take_peer(const struct nbh_nic *owner, struct nbh_nic *nic);
/* Refuse a busy netdev unless allow_up, then take it down; or bring it back up. */
int nbh_nic_netdev(struct nbh_nic *nic, bool allow_up, bool restore);
int nbh_nic_to_vfio(struct nbh_nic *nic);
/* Puts it back unless a device fd is still open: then quarantined (journal kept). */
void nbh_nic_restore(struct nbh_nic *nic);
void nbh_nic_replay_all(void); /* every journal, at start */
void nbh_nic_holder(const char *bdf, char *out, size_t len); /* "" if free */
void nbh_nic_driver(const char *bdf, char *out, size_t len); /* "" if none */
#define NBH_IOMMU_HINT "turn the IOMMU on with intel_iommu=on (Intel) or amd_iommu=on " \
	"(AMD) on the kernel command line (iommu=pt keeps the kernel's own DMA fast)"

/* iommu.c: the DMA mapping interface (an iommufd backend would fit it). */
struct nbh_iommu;
struct nbh_iommu *nbh_iommu_open(void);
int nbh_iommu_attach_group(struct nbh_iommu *io, unsigned group); /* before any map */
int nbh_iommu_map(struct nbh_iommu *io, void *va, uint64_t size, uint64_t align, uint64_t *iova);
int nbh_iommu_device_fd(struct nbh_iommu *io, unsigned group, const char *bdf);
void nbh_iommu_close(struct nbh_iommu *io);

/* isolation.c. Every /sys, /proc and /run path the helper uses is nbh_path(): nbh_root
 * ("", a fake tree in tests) + the path, in a static buffer: use it before the next call. */
extern const char *nbh_root;
const char *nbh_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
ssize_t nbh_slurp(const char *path, void *buf, size_t len); /* up to len bytes; -1 */
int nbh_isolated(const char *bdf, bool unsafe_irqs, bool allow_ats); /* -1: no IRQ remap, or ATS */

/* pool.c: sealed memfd pools, mapped MAP_SHARED by the helper. */
struct nbh_pool {
	int memfd;
	void *va;
	uint64_t size, page_size, iova;
};
int nbh_pool_create(uint64_t bytes, unsigned page, struct nbh_pool *p,
		    char *warning, size_t warning_len);
void nbh_pool_destroy(struct nbh_pool *p);
#define nbh_page_size(page) /* enum nb_page_size */ \
	((page) == NB_PAGE_4K ? 4096ull : (page) == NB_PAGE_1G ? 1ull << 30 : 2ull << 20)
#define nbh_pool_size(bytes, page) (((bytes) + nbh_page_size(page) - 1) & ~(nbh_page_size(page) - 1))

/* session.c. nbh_quit: set by SIGTERM/SIGINT, which stay blocked but inside
 * nbh_wait (ppoll with *nbh_wait_mask; NULL: the current mask). */
#define NBH_HELLO_SECONDS 5 /* a client says HELLO this soon after connect() */
extern volatile sig_atomic_t nbh_quit;
extern const sigset_t *nbh_wait_mask;
int nbh_wait(int fd, int timeout_ms); /* 1 readable, 0 timeout, -1 quit */
int nbh_peer(int sock, struct nbh_ident *who, pid_t *pid); /* SO_PEERCRED + groups */
void nbh_session_run(int sock, const struct nbh_policy *policy, const struct nbh_ident *who,
		     pid_t pid);
/* status.c: 0, 3 if the helper does not answer on socket_path, 1 on failure. */
int nbh_status(const char *policy_file, const char *socket_path, bool json);

#endif /* NBH_HELPER_H */
