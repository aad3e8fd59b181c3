/* SPDX-License-Identifier: MIT */
/*
 * status.c - `nicbox-helper status`: every PCI network controller, its
 * netdev, driver, IOMMU group, whether the policy lets the caller claim it
 * and who holds it. Reads sysfs, the policy and the lock records only, so
 * it runs unprivileged.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

static void caller_identity(struct nbh_ident *who)
{
	gid_t groups[NBH_MAX_GROUPS];
	int n = getgroups(NBH_MAX_GROUPS, groups);

	who->uid = getuid();
	who->gid = getgid();
	who->n_groups = n > 0 ? (unsigned)n : 0;
	memcpy(who->groups, groups, who->n_groups * sizeof(gid_t));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int nbh_status(const char *policy_file, const char *socket_path)
{
	struct nbh_policy policy;
	struct nbh_ident who;
	struct dirent **list;
	char err[512];
	bool have_policy;
	int n;

	caller_identity(&who);
	have_policy = nbh_policy_load(policy_file, &policy, err, sizeof(err)) == 0;
	if (!have_policy)
		fprintf(stderr, "policy: %s (claimable shown as '?')\n", err);
	printf("helper socket %s: %s\n", socket_path,
	       access(socket_path, F_OK) == 0 ? "present" : "absent");
	n = scandir("/sys/bus/pci/devices", &list, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "/sys/bus/pci/devices: %s\n", strerror(errno));
		return -1;
	}
	printf("%-13s %-10s %-12s %-6s %-9s %s\n", "PCI", "IFACE", "DRIVER", "GROUP",
	       "CLAIMABLE", "HOLDER");
	for (int i = 0; i < n; i++) {
		struct nbh_nic nic;
		char path[320], drv[64], holder[64];
		char group[16] = "-";
		const char *claim = "?";
		if (nbh_nic_resolve(list[i]->d_name, &nic) < 0) { /* not a NIC */
			free(list[i]);
			continue;
		}
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", nic.bdf);
		nbh_sysfs_link_name(path, drv, sizeof(drv));
		nbh_nic_holder(nic.bdf, holder, sizeof(holder));
		if (have_policy) {
			struct nbh_devid id = { nic.bdf, nic.ifname, nic.vendor_id, nic.device_id };

			claim = nbh_policy_match(&policy, &who, &id) ? "yes" : "no";
		}
		if (nic.group >= 0)
			snprintf(group, sizeof(group), "%d", nic.group);
		printf("%-13s %-10s %-12s %-6s %-9s %s\n", nic.bdf,
		       nic.ifname[0] ? nic.ifname : "-", drv[0] ? drv : "-", group,
		       claim, holder[0] ? holder : "-");
		free(list[i]);
	}
	free(list);
	if (have_policy)
		nbh_policy_free(&policy);
	return 0;
}
