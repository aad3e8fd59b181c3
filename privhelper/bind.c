/* SPDX-License-Identifier: MIT */
/*
 * bind.c - find a NIC, lock it, quiesce its kernel netdev, move it to
 * vfio-pci and put all of it back afterwards. sysfs for PCI, libnl-route
 * for link state (the kernel's PCI sysfs ABI: Documentation/ABI/testing/
 * sysfs-bus-pci; driver_override since 3.16).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "helper.h"

#define PCI_BUS "/sys/bus/pci"
#define PCI_DEVICES PCI_BUS "/devices"
#define PCI_DRIVERS PCI_BUS "/drivers"
#define IOMMU_GROUPS "/sys/kernel/iommu_groups"

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, text, strlen(text));
		close(fd);
	}
	if (n < 0)
		return nbh_fail(errno, "writing '%s' to %s: %s", text, path,
				strerror(errno));
	return 0;
}

void nbh_sysfs_link_name(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	out[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	snprintf(out, len, "%s", strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
}

static void dev_path(char *out, size_t len, const char *bdf, const char *leaf)
{
	snprintf(out, len, PCI_DEVICES "/%s/%s", bdf, leaf);
}

/*
 * The PCI function a netdev belongs to: the last PCI address in its sysfs
 * path (virtio-net sits one level lower: .../0000:00:04.0/virtio0/net/eth0).
 */
static int netdev_bdf(const char *ifname, char bdf[NBH_BDF_LEN])
{
	char link[PATH_MAX], real[PATH_MAX], *save = NULL;
	int rc = -1;

	snprintf(link, sizeof(link), "/sys/class/net/%s", ifname);
	if (!realpath(link, real))
		return -1;
	for (char *t = strtok_r(real, "/", &save); t; t = strtok_r(NULL, "/", &save))
		if (strlen(t) == 12 && nbh_normalize_bdf(t, bdf) == 0)
			rc = 0;
	return rc;
}

/* The netdev a PCI function has now, "" if none. */
static void current_ifname(const char *bdf, char *out, size_t len)
{
	char owner[NBH_BDF_LEN];
	struct dirent *e;
	DIR *d = opendir("/sys/class/net");

	out[0] = '\0';
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strlen(e->d_name) < len &&
		    netdev_bdf(e->d_name, owner) == 0 && strcmp(owner, bdf) == 0) {
			strcpy(out, e->d_name);
			break;
		}
	if (d)
		closedir(d);
}

static unsigned read_hex(const char *bdf, const char *leaf)
{
	char path[PATH_MAX], buf[32];

	dev_path(path, sizeof(path), bdf, leaf);
	return read_text(path, buf, sizeof(buf)) < 0 ? 0 : (unsigned)strtoul(buf, NULL, 16);
}

static bool iommu_present(void)
{
	DIR *d = opendir(IOMMU_GROUPS);
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	closedir(d);
	return any;
}

int nbh_nic_resolve(const char *name, struct nbh_nic *nic)
{
	char path[PATH_MAX], group[16];
	struct stat st;

	memset(nic, 0, sizeof(*nic));
	nic->lock_fd = -1;
	if (nbh_normalize_bdf(name, nic->bdf) < 0) {
		/* An interface name: one path component, never "." or "..". */
		if (strlen(name) >= IFNAMSIZ || strchr(name, '/') || name[0] == '.' ||
		    netdev_bdf(name, nic->bdf) < 0)
			return nbh_fail(ENODEV, "'%s' is neither a PCI address nor the "
					"interface name of a PCI NIC", name);
	}
	dev_path(path, sizeof(path), nic->bdf, "config");
	if (stat(path, &st) < 0)
		return nbh_fail(ENODEV, "no PCI device %s", nic->bdf);
	if ((read_hex(nic->bdf, "class") >> 16) != 0x02)
		return nbh_fail(ENODEV, "%s is not a network controller (PCI class 02)", nic->bdf);
	nic->vendor_id = (uint16_t)read_hex(nic->bdf, "vendor");
	nic->device_id = (uint16_t)read_hex(nic->bdf, "device");
	current_ifname(nic->bdf, nic->ifname, sizeof(nic->ifname));
	dev_path(path, sizeof(path), nic->bdf, "iommu_group");
	nbh_sysfs_link_name(path, group, sizeof(group));
	nic->group = group[0] ? (int)strtol(group, NULL, 10) : -1;
	return 0;
}

int nbh_nic_check_iommu(const struct nbh_nic *nic)
{
	if (!iommu_present())
		return nbh_fail(ENXIO, "no IOMMU: %s is empty; enable it on the kernel "
				"command line with intel_iommu=on (Intel) or amd_iommu=on (AMD)",
				IOMMU_GROUPS);
	if (nic->group < 0)
		return nbh_fail(ENXIO, "%s has no IOMMU group (is the IOMMU on for it?)", nic->bdf);
	return 0;
}

static int open_lock(const char *bdf, int flags)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), NBH_RUN_DIR "/%s.lock", bdf);
	return open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0644);
}

void nbh_nic_holder(const char *bdf, char *out, size_t len)
{
	int fd = open_lock(bdf, O_RDONLY);

	out[0] = '\0';
	if (fd < 0)
		return;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		ssize_t n = pread(fd, out, len - 1, 0);

		out[n > 0 ? n : 0] = '\0';
		out[strcspn(out, "\n")] = '\0';
		if (!out[0])
			snprintf(out, len, "(being claimed)");
	}
	close(fd);
}

int nbh_nic_lock(struct nbh_nic *nic, uid_t uid, pid_t pid)
{
	char holder[64];
	int fd, n;

	mkdir(NBH_RUN_DIR, 0755);
	fd = open_lock(nic->bdf, O_RDWR | O_CREAT);
	if (fd < 0)
		return nbh_fail(errno, "lock file for %s: %s", nic->bdf, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		close(fd);
		if (err != EWOULDBLOCK)
			return nbh_fail(err, "locking %s: %s", nic->bdf, strerror(err));
		nbh_nic_holder(nic->bdf, holder, sizeof(holder));
		return nbh_fail(EBUSY, "%s is busy: held by %s", nic->bdf, holder);
	}
	n = snprintf(holder, sizeof(holder), "uid=%u pid=%d\n", (unsigned)uid, (int)pid);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, holder, (size_t)n, 0) != n) {
		close(fd);
		return nbh_fail(EIO, "writing the lock file of %s", nic->bdf);
	}
	nic->lock_fd = fd;
	return 0;
}

/* ---- netdev state through rtnetlink ------------------------------------ */

static struct nl_sock *route_socket(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE) == 0)
		return sk;
	nl_socket_free(sk);
	nbh_fail(EIO, "cannot open an rtnetlink socket");
	return NULL;
}

struct usage {
	int ifindex;
	unsigned addrs, routes;
};

static void count_addr(struct nl_object *obj, void *arg)
{
	struct usage *u = arg;

	if (rtnl_addr_get_ifindex((struct rtnl_addr *)obj) == u->ifindex)
		u->addrs++;
}

static void count_route(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct usage *u = arg;

	for (int i = 0; i < rtnl_route_get_nnexthops(r); i++)
		if (rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, i)) == u->ifindex)
			u->routes++;
}

static int set_link_up(struct nl_sock *sk, struct rtnl_link *link, bool up)
{
	struct rtnl_link *change = rtnl_link_alloc();
	int rc;

	if (!change)
		return nbh_fail(ENOMEM, "out of memory");
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	rc = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	if (rc < 0)
		return nbh_fail(EIO, "setting %s %s: %s", rtnl_link_get_name(link),
				up ? "up" : "down", nl_geterror(rc));
	return 0;
}

int nbh_nic_quiesce_netdev(struct nbh_nic *nic, bool allow_up)
{
	struct usage u = { 0 };
	struct nl_cache *addrs = NULL, *routes = NULL;
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;
	int rc = -1;

	if (!nic->ifname[0])
		return 0;
	sk = route_socket();
	if (!sk)
		return -1;
	if (rtnl_link_get_kernel(sk, 0, nic->ifname, &link) < 0 ||
	    rtnl_addr_alloc_cache(sk, &addrs) < 0 ||
	    rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes) < 0) {
		nbh_fail(EIO, "reading the state of %s over rtnetlink", nic->ifname);
		goto out;
	}
	u.ifindex = rtnl_link_get_ifindex(link);
	nl_cache_foreach(addrs, count_addr, &u);
	nl_cache_foreach(routes, count_route, &u);
	nic->link_was_up = rtnl_link_get_flags(link) & IFF_UP;
	if (nic->link_was_up && !allow_up &&
	    (u.addrs || u.routes || rtnl_link_get_master(link))) {
		nbh_fail(EBUSY, "%s (%s) is up with %u addresses, %u routes%s; take it "
			 "down first or add netdev-up to its policy rule", nic->ifname,
			 nic->bdf, u.addrs, u.routes,
			 rtnl_link_get_master(link) ? " and a master" : "");
		nic->link_was_up = false;
		goto out;
	}
	rc = nic->link_was_up ? set_link_up(sk, link, false) : 0;
	if (rc < 0)
		nic->link_was_up = false;
out:
	nl_cache_free(routes);
	nl_cache_free(addrs);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

/* After the original driver is back, its netdev (maybe renamed) goes up. */
static void restore_link(struct nbh_nic *nic)
{
	char ifname[NBH_IFNAME_LEN];
	struct rtnl_link *link = NULL;
	struct nl_sock *sk;

	current_ifname(nic->bdf, ifname, sizeof(ifname));
	if (!ifname[0] || !(sk = route_socket())) {
		nbh_log("%s: cannot bring its netdev back up", nic->bdf);
		return;
	}
	if (rtnl_link_get_kernel(sk, 0, ifname, &link) < 0 ||
	    set_link_up(sk, link, true) < 0)
		nbh_log("%s: setting %s up failed", nic->bdf, ifname);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
}

/* ---- driver switching --------------------------------------------------- */

static bool driver_loaded(const char *driver)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), PCI_DRIVERS "/%s", driver);
	return stat(path, &st) == 0;
}

static int load_vfio_pci(void)
{
	char *const argv[] = { "modprobe", "vfio-pci", NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int status;
	pid_t pid;

	if (driver_loaded("vfio-pci"))
		return 0;
	pid = fork();
	if (pid == 0) {
		execve("/sbin/modprobe", argv, envp);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !driver_loaded("vfio-pci"))
		return nbh_fail(ENOENT, "vfio-pci is not available and 'modprobe vfio-pci' failed");
	return 0;
}

static void current_driver(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX];

	dev_path(path, sizeof(path), bdf, "driver");
	nbh_sysfs_link_name(path, out, len);
}

/* Every device in the group unbound or on a driver that gives no DMA. */
static int group_viable(int group)
{
	char path[PATH_MAX], drv[64];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), IOMMU_GROUPS "/%d/devices", group);
	d = opendir(path);
	if (!d)
		return nbh_fail(ENXIO, "cannot list IOMMU group %d", group);
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		current_driver(e->d_name, drv, sizeof(drv));
		if (drv[0] && strcmp(drv, "vfio-pci") && strcmp(drv, "pci-stub") &&
		    strcmp(drv, "pcieport"))
			rc = nbh_fail(EBUSY, "IOMMU group %d is not viable: %s is bound to %s "
				      "(bind it to vfio-pci or unbind it)", group, e->d_name, drv);
	}
	closedir(d);
	return rc;
}

int nbh_nic_to_vfio(struct nbh_nic *nic)
{
	char path[PATH_MAX];

	current_driver(nic->bdf, nic->orig_driver, sizeof(nic->orig_driver));
	if (strcmp(nic->orig_driver, "vfio-pci") != 0) {
		if (load_vfio_pci() < 0)
			return -1;
		dev_path(path, sizeof(path), nic->bdf, "driver_override");
		if (read_text(path, nic->orig_override, sizeof(nic->orig_override)) < 0)
			return nbh_fail(errno, "reading %s: %s", path, strerror(errno));
		if (strcmp(nic->orig_override, "(null)") == 0)
			nic->orig_override[0] = '\0';
		if (write_text(path, "vfio-pci") < 0)
			return -1;
		nic->switched = true;
		snprintf(path, sizeof(path), PCI_DRIVERS "/%s/unbind", nic->orig_driver);
		if ((nic->orig_driver[0] && write_text(path, nic->bdf) < 0) ||
		    write_text(PCI_BUS "/drivers_probe", nic->bdf) < 0)
			return -1;
		current_driver(nic->bdf, path, sizeof(path));
		if (strcmp(path, "vfio-pci") != 0)
			return nbh_fail(EIO, "%s did not bind to vfio-pci (driver now '%s')",
					nic->bdf, path);
	}
	return group_viable(nic->group);
}

void nbh_nic_restore(struct nbh_nic *nic)
{
	char path[PATH_MAX], drv[64];

	if (nic->switched && !nic->keep_vfio) {
		/* Blocks while any device fd is open: vfio-pci waits for it. */
		write_text(PCI_DRIVERS "/vfio-pci/unbind", nic->bdf);
		dev_path(path, sizeof(path), nic->bdf, "driver_override");
		write_text(path, nic->orig_override[0] ? nic->orig_override : "\n");
		if (nic->orig_driver[0])
			write_text(PCI_BUS "/drivers_probe", nic->bdf);
		current_driver(nic->bdf, drv, sizeof(drv));
		if (strcmp(drv, nic->orig_driver) != 0)
			nbh_log("%s: driver is '%s' after restore, was '%s'", nic->bdf,
				drv, nic->orig_driver);
	}
	if (nic->link_was_up && !nic->keep_vfio)
		restore_link(nic);
	if (nic->lock_fd >= 0) {
		if (ftruncate(nic->lock_fd, 0) < 0)
			nbh_log("%s: clearing the lock file failed", nic->bdf);
		close(nic->lock_fd);
	}
	nic->switched = nic->link_was_up = false;
	nic->lock_fd = -1;
}
