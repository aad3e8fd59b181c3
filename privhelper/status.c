/* SPDX-License-Identifier: MIT */
/* status.c - the NICs, their driver, group, holder and whether the caller
 * may claim them; reads sysfs, policy and holder records, takes no lock. */
#include "helper.h"

int nbh_status(const char *policy_file, const char *socket_path)
{
	struct nbh_ident who = { .uid = getuid(), .gid = getgid() };
	int n_groups = getgroups(NBH_MAX_GROUPS, who.groups);
	struct nbh_policy policy;
	struct dirent **list;
	char err[512];
	bool have_policy = nbh_policy_load(policy_file, &policy, err, sizeof(err)) == 0;
	int n = scandir(NBH_SYSFS "/bus/pci/devices", &list, NULL, alphasort);

	who.n_groups = n_groups > 0 ? (unsigned)n_groups : 0;
	if (!have_policy)
		fprintf(stderr, "policy: %s (claimable shown as '?')\n", err);
	printf("helper socket %s: %s\n", socket_path, access(socket_path, F_OK) ? "absent" : "present");
	if (n < 0)
		fprintf(stderr, NBH_SYSFS "/bus/pci/devices: %s\n", strerror(errno));
	else
		printf("%-13s %-10s %-12s %-11s %-6s %-9s %s\n", "PCI", "IFACE", "DRIVER",
		       "NICBOX", "GROUP", "CLAIMABLE", "HOLDER");
	for (int i = 0; i < n; i++) {
		struct nbh_nic nic;
		char drv[64], holder[64], group[16] = "-";
		const char *claim = "?", *runs;

		if (nbh_nic_resolve(list[i]->d_name, &nic) == 0) { /* else: not a NIC */
			nbh_nic_driver(nic.bdf, drv, sizeof(drv));
			nbh_nic_holder(nic.bdf, holder, sizeof(holder));
			if (have_policy)
				claim = nbh_policy_match(&policy, &who, &nic) ? "yes" : "no";
			if (nic.group >= 0)
				snprintf(group, sizeof(group), "%d", nic.group);
			runs = nb_pci_driver_for(nic.vendor_id, nic.device_id);
			printf("%-13s %-10s %-12s %-11s %-6s %-9s %s\n", nic.bdf,
			       nic.ifname[0] ? nic.ifname : "-", drv[0] ? drv : "-",
			       runs ? runs : "none", group, claim, holder[0] ? holder : "-");
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	if (have_policy)
		nbh_policy_free(&policy);
	return n < 0 ? -1 : 0;
}
