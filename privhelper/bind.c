/* SPDX-License-Identifier: MIT */
/* bind.c - find, lock and quiesce a NIC, move it to vfio-pci and put it all
 * back: sysfs (Documentation/ABI/testing/sysfs-bus-pci), libnl-route. */
#include <limits.h>
#include <net/if.h>
#include <spawn.h>
#include <sys/file.h>

#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "helper.h"

#define PCI NBH_SYSFS "/bus/pci"
#define IOMMU_GROUPS NBH_SYSFS "/kernel/iommu_groups"
#define NET NBH_SYSFS "/class/net"
/* A path in one static buffer: use each result before the next call. */
__attribute__((format(printf, 1, 2))) static const char *sysp(const char *fmt, ...)
{
	static char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return path;
}

/* First line of a sysfs file, without its newline; -1 if unreadable. */
static int sysfs_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return n < 0 ? -1 : 0;
}

static int sysfs_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (n < 0)
		nbh_fail_errno("writing '%s' to %s", text, path);
	if (fd >= 0)
		close(fd);
	return n < 0 ? -1 : 0;
}

/* Last component of a sysfs link's target ("" if there is no link). */
static void link_name(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	target[n > 0 ? n : 0] = '\0';
	snprintf(out, len, "%s", strrchr(target, '/') ? strrchr(target, '/') + 1 : "");
}

void nbh_nic_driver(const char *bdf, char *out, size_t len)
{
	link_name(sysp(PCI "/devices/%s/driver", bdf), out, len);
}

/* Call fn on each entry of dir until it returns true; whether one did. */
static bool find_entry(const char *dir, bool (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d)))
		found = e->d_name[0] != '.' && fn(e->d_name, arg);
	if (d)
		closedir(d);
	return found;
}

/*
 * The PCI function a netdev belongs to: the last PCI address in its sysfs
 * path (virtio-net sits one level lower: .../0000:00:04.0/virtio0/net/eth0).
 */
static int netdev_bdf(const char *ifname, char bdf[NBP_BDF_LEN])
{
	char real[PATH_MAX], *save = NULL;
	int rc = -1;

	if (strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') || ifname[0] == '.' ||
	    !realpath(sysp(NET "/%s", ifname), real))
		return -1;
	for (char *t = strtok_r(real, "/", &save); t; t = strtok_r(NULL, "/", &save))
		if (strlen(t) == 12 && nbh_normalize_bdf(t, bdf) == 0)
			rc = 0;
	return rc;
}

static bool is_netdev_of(const char *ifname, void *nic)
{
	char owner[NBP_BDF_LEN];

	if (netdev_bdf(ifname, owner) < 0 || strcmp(owner, ((struct nbh_nic *)nic)->bdf) ||
	    strlen(ifname) >= NBH_IFNAME_LEN)
		return false;
	strcpy(((struct nbh_nic *)nic)->ifname, ifname);
	return true;
}

int nbh_nic_resolve(const char *name, struct nbh_nic *nic)
{
	char buf[32];

	*nic = (struct nbh_nic){ .lock_fd = -1 };
	if (nbh_normalize_bdf(name, nic->bdf) < 0 && netdev_bdf(name, nic->bdf) < 0)
		return nbh_fail(ENODEV, "'%s' is neither a PCI address nor the interface "
				"name of a PCI NIC", name);
	if (sysfs_read(sysp(PCI "/devices/%s/class", nic->bdf), buf, sizeof(buf)) < 0)
		return nbh_fail(ENODEV, "no PCI device %s", nic->bdf);
	if (strtoul(buf, NULL, 16) >> 16 != 0x02)
		return nbh_fail(ENODEV, "%s is not a network controller (PCI class 02)", nic->bdf);
	sysfs_read(sysp(PCI "/devices/%s/vendor", nic->bdf), buf, sizeof(buf));
	nic->vendor_id = (uint16_t)strtoul(buf, NULL, 16);
	sysfs_read(sysp(PCI "/devices/%s/device", nic->bdf), buf, sizeof(buf));
	nic->device_id = (uint16_t)strtoul(buf, NULL, 16);
	find_entry(NET, is_netdev_of, nic);
	link_name(sysp(PCI "/devices/%s/iommu_group", nic->bdf), buf, sizeof(buf));
	nic->group = buf[0] ? atoi(buf) : -1;
	return 0;
}

/* ---- per-device lock: flock on /run/nicbox/<bdf>.lock, holder inside ---- */

static int open_lock(const char *bdf, int flags)
{
	return open(sysp(NBH_RUN_DIR "/%s.lock", bdf), flags | O_CLOEXEC | O_NOFOLLOW, 0644);
}

void nbh_nic_holder(const char *bdf, char *out, size_t len)
{
	int fd = open_lock(bdf, O_RDONLY);
	bool held = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	ssize_t n = held ? pread(fd, out, len - 1, 0) : 0;

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
}

int nbh_nic_lock(struct nbh_nic *nic, uid_t uid, pid_t pid)
{
	char holder[64];
	int fd, n;

	mkdir(NBH_RUN_DIR, 0755);
	fd = open_lock(nic->bdf, O_RDWR | O_CREAT);
	if (fd < 0)
		return nbh_fail_errno("lock file of %s", nic->bdf);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		close(fd);
		nbh_nic_holder(nic->bdf, holder, sizeof(holder));
		return err == EWOULDBLOCK ? nbh_fail(EBUSY, "%s is busy: held by %s", nic->bdf, holder)
					  : nbh_fail(err, "locking %s: %s", nic->bdf, strerror(err));
	}
	nic->lock_fd = fd;
	n = snprintf(holder, sizeof(holder), "uid=%u pid=%d\n", (unsigned)uid, (int)pid);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, holder, (size_t)n, 0) != n)
		return nbh_fail(EIO, "writing the lock file of %s", nic->bdf);
	return 0;
}

/* ---- the kernel netdev, through rtnetlink ------------------------------ */

struct usage {
	int ifindex;
	unsigned routes;
};

static void count_routes(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct usage *u = arg;

	for (int i = 0; i < rtnl_route_get_nnexthops(r); i++)
		u->routes += rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, i)) == u->ifindex;
}

static int set_link(struct nl_sock *sk, struct rtnl_link *link, bool up)
{
	struct rtnl_link *change = rtnl_link_alloc();
	int rc = -NLE_NOMEM;

	if (change) {
		(up ? rtnl_link_set_flags : rtnl_link_unset_flags)(change, IFF_UP);
		rc = rtnl_link_change(sk, link, change, 0);
		rtnl_link_put(change);
	}
	if (rc < 0)
		return nbh_fail(EIO, "setting %s %s: %s", rtnl_link_get_name(link),
				up ? "up" : "down", nl_geterror(rc));
	return 0;
}

int nbh_nic_netdev(struct nbh_nic *nic, bool allow_up, bool restore)
{
	struct nl_cache *addrs = NULL, *routes = NULL;
	struct rtnl_link *link = NULL;
	struct rtnl_addr *filter = rtnl_addr_alloc();
	struct nl_sock *sk = nl_socket_alloc();
	struct usage u = { 0 };
	int rc = -1, n_addrs;

	if (!sk || !filter || nl_connect(sk, NETLINK_ROUTE) < 0 ||
	    rtnl_link_get_kernel(sk, 0, nic->ifname, &link) < 0 ||
	    rtnl_addr_alloc_cache(sk, &addrs) < 0 ||
	    rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes) < 0) {
		nbh_fail(EIO, "reading the state of %s over rtnetlink", nic->ifname);
		goto out;
	}
	u.ifindex = rtnl_link_get_ifindex(link);
	rtnl_addr_set_ifindex(filter, u.ifindex);
	n_addrs = nl_cache_nitems_filter(addrs, (struct nl_object *)filter);
	nl_cache_foreach(routes, count_routes, &u);
	if (restore || !(rtnl_link_get_flags(link) & IFF_UP))
		rc = restore ? set_link(sk, link, true) : 0;
	else if (!allow_up && (n_addrs || u.routes || rtnl_link_get_master(link)))
		nbh_fail(EBUSY, "%s (%s) is up with %d addresses, %u routes%s; take it down "
			 "first or add netdev-up to its policy rule", nic->ifname, nic->bdf,
			 n_addrs, u.routes, rtnl_link_get_master(link) ? " and a master" : "");
	else
		nic->link_was_up = (rc = set_link(sk, link, false)) == 0;
out:
	nl_cache_free(routes);
	nl_cache_free(addrs);
	rtnl_addr_put(filter);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

/* ---- driver switching ---------------------------------------------------- */

static int load_vfio_pci(void)
{
	char *const argv[] = { "modprobe", "vfio-pci", NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct stat st;
	pid_t pid;

	if (stat(PCI "/drivers/vfio-pci", &st) == 0)
		return 0;
	if (posix_spawn(&pid, "/sbin/modprobe", NULL, NULL, argv, envp) != 0 ||
	    waitpid(pid, NULL, 0) < 0 || stat(PCI "/drivers/vfio-pci", &st) < 0)
		return nbh_fail(ENOENT, "vfio-pci is not available and 'modprobe vfio-pci' failed");
	return 0;
}

/* A group is viable when every device in it is unbound or on a driver without DMA. */
static bool blocks_group(const char *bdf, void *group)
{
	char drv[64];

	nbh_nic_driver(bdf, drv, sizeof(drv));
	if (!drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") ||
	    !strcmp(drv, "pcieport"))
		return false;
	nbh_fail(EBUSY, "IOMMU group %d is not viable: %s is bound to %s (bind it to vfio-pci "
		 "or unbind it)", *(int *)group, bdf, drv);
	return true;
}

int nbh_nic_to_vfio(struct nbh_nic *nic)
{
	char drv[64];

	nbh_nic_driver(nic->bdf, nic->orig_driver, sizeof(nic->orig_driver));
	if (strcmp(nic->orig_driver, "vfio-pci") != 0) {
		if (load_vfio_pci() < 0)
			return -1;
		if (sysfs_read(sysp(PCI "/devices/%s/driver_override", nic->bdf),
			       nic->orig_override, sizeof(nic->orig_override)) < 0)
			return nbh_fail(errno, "reading driver_override of %s", nic->bdf);
		if (strcmp(nic->orig_override, "(null)") == 0)
			nic->orig_override[0] = '\0';
		if (sysfs_write(sysp(PCI "/devices/%s/driver_override", nic->bdf), "vfio-pci") < 0)
			return -1;
		nic->switched = true;
		if ((nic->orig_driver[0] &&
		     sysfs_write(sysp(PCI "/drivers/%s/unbind", nic->orig_driver), nic->bdf) < 0) ||
		    sysfs_write(PCI "/drivers_probe", nic->bdf) < 0)
			return -1;
		nbh_nic_driver(nic->bdf, drv, sizeof(drv));
		if (strcmp(drv, "vfio-pci") != 0)
			return nbh_fail(EIO, "%s did not bind to vfio-pci (driver now '%s')",
					nic->bdf, drv);
	}
	return find_entry(sysp(IOMMU_GROUPS "/%d/devices", nic->group), blocks_group,
			  &nic->group) ? -1 : 0;
}

void nbh_nic_restore(struct nbh_nic *nic)
{
	char drv[64];

	if (nic->switched && !nic->keep_vfio) {
		/* Blocks while a device fd is open: vfio-pci waits for its release. */
		sysfs_write(PCI "/drivers/vfio-pci/unbind", nic->bdf);
		sysfs_write(sysp(PCI "/devices/%s/driver_override", nic->bdf),
			    nic->orig_override[0] ? nic->orig_override : "\n");
		if (nic->orig_driver[0])
			sysfs_write(PCI "/drivers_probe", nic->bdf);
		nbh_nic_driver(nic->bdf, drv, sizeof(drv));
		if (strcmp(drv, nic->orig_driver) != 0)
			nbh_log("%s: driver is '%s' after restore, was '%s'", nic->bdf, drv,
				nic->orig_driver);
	}
	if (nic->link_was_up && !nic->keep_vfio) {
		nic->ifname[0] = '\0';
		if (!find_entry(NET, is_netdev_of, nic) ||
		    nbh_nic_netdev(nic, true, true) < 0)
			nbh_log("%s: could not bring its netdev back up", nic->bdf);
	}
	if (nic->lock_fd >= 0) /* the holder text is only read while locked */
		close(nic->lock_fd);
}
