/* SPDX-License-Identifier: MIT */
/*
 * policy.h - who may claim which NIC (see docs/policy.md). Default deny;
 * the first rule that matches the caller and the device decides.
 */
#ifndef NBH_POLICY_H
#define NBH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NBH_BDF_LEN 16      /* "0000:00:04.0" + NUL */
#define NBH_IFNAME_LEN 16   /* IFNAMSIZ */
#define NBH_MAX_GROUPS 64   /* supplementary groups looked at per client */
#define NBH_DEFAULT_POOL (256ull << 20)

enum nbh_match { NBH_MATCH_PCI, NBH_MATCH_IFNAME, NBH_MATCH_ID };

struct nbh_rule {
	bool is_group;          /* `group:` rule, else `user:` */
	uint32_t who;           /* uid or gid */
	enum nbh_match match;
	char pci[NBH_BDF_LEN];  /* NBH_MATCH_PCI, normalised */
	char ifname[NBH_IFNAME_LEN];
	uint16_t vendor_id, device_id;
	uint64_t max_pool;      /* bytes the session may map in all */
	bool allow_up;          /* may claim an up, addressed netdev */
	bool keep_vfio;         /* leave the NIC on vfio-pci after release */
	unsigned line;          /* where it came from, for logs */
};

struct nbh_policy {
	struct nbh_rule *rules;
	size_t n_rules;
	char file[256];
};

/* Who is asking: from SO_PEERCRED and SO_PEERGROUPS. */
struct nbh_ident {
	uid_t uid;
	gid_t gid;
	gid_t groups[NBH_MAX_GROUPS];
	unsigned n_groups;
};

/* The device being asked for; ifname may be "" when it has no netdev. */
struct nbh_devid {
	const char *bdf;
	const char *ifname;
	uint16_t vendor_id, device_id;
};

/*
 * Parse policy text; `name` is used in messages. Returns 0, or -1 with
 * "name:line: reason" in err[].
 */
int nbh_policy_parse(const char *text, size_t len, const char *name,
		     struct nbh_policy *out, char *err, size_t err_len);
/* Read and parse a policy file (at most 64 KiB). Same errors. */
int nbh_policy_load(const char *path, struct nbh_policy *out, char *err,
		    size_t err_len);
void nbh_policy_free(struct nbh_policy *p);

/* The first rule letting `who` claim `dev`, or NULL (deny). */
const struct nbh_rule *nbh_policy_match(const struct nbh_policy *p,
					const struct nbh_ident *who,
					const struct nbh_devid *dev);

/*
 * "0000:00:04.0" or "00:04.0" (hex, any case) -> "0000:00:04.0" in out.
 * Returns 0, or -1 if `in` is not a PCI address.
 */
int nbh_normalize_bdf(const char *in, char out[NBH_BDF_LEN]);

#endif /* NBH_POLICY_H */
