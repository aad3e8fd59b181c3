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

#define PCI "/sys/bus/pci"
#define STATE_DIR NBH_RUN_DIR "/state"

/* First line of a sysfs file, without its newline; -1 if unreadable. */
static int sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n = nbh_slurp(path, buf, len - 1);

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

/* A sysfs link's target, "" if there is no link; whether there is one. */
static bool link_target(const char *path, char target[PATH_MAX])
{
	ssize_t n = readlink(path, target, PATH_MAX - 1);

	target[n > 0 ? n : 0] = '\0';
	return n > 0;
}

/* Its last component ("" if there is no link). */
static void link_name(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	const char *slash = link_target(path, target) ? strrchr(target, '/') : NULL;

	snprintf(out, len, "%s", slash ? slash + 1 : "");
}

void nbh_nic_driver(const char *bdf, char *out, size_t len)
{
	link_name(nbh_path(PCI "/devices/%s/driver", bdf), out, len);
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

/* The PCI function a netdev belongs to: the last PCI address in its link,
 * one readlink, not realpath's one per component (virtio-net one level
 * lower: ../../devices/pci0000:00/0000:00:04.0/virtio0/net/eth0). */
static int netdev_bdf(const char *ifname, char bdf[NBP_BDF_LEN])
{
	char target[PATH_MAX], *save = NULL;
	int rc = -1;

	if (strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') || ifname[0] == '.' ||
	    !link_target(nbh_path("/sys/class/net/%s", ifname), target))
		return -1;
	for (char *t = strtok_r(target, "/", &save); t; t = strtok_r(NULL, "/", &save))
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
	if (sysfs_read(nbh_path(PCI "/devices/%s/class", nic->bdf), buf, sizeof(buf)) < 0)
		return nbh_fail(ENODEV, "no PCI device %s", nic->bdf);
	if (strtoul(buf, NULL, 16) >> 16 != 0x02)
		return nbh_fail(ENODEV, "%s is not a network controller (PCI class 02)", nic->bdf);
	sysfs_read(nbh_path(PCI "/devices/%s/vendor", nic->bdf), buf, sizeof(buf));
	nic->vendor_id = (uint16_t)strtoul(buf, NULL, 16);
	sysfs_read(nbh_path(PCI "/devices/%s/device", nic->bdf), buf, sizeof(buf));
	nic->device_id = (uint16_t)strtoul(buf, NULL, 16);
	find_entry(nbh_path("/sys/class/net"), is_netdev_of, nic);
	link_name(nbh_path(PCI "/devices/%s/iommu_group", nic->bdf), buf, sizeof(buf));
	nic->group = buf[0] ? atoi(buf) : -1;
	return 0;
}

/* ---- lock, journal and holder record per NIC (docs/helper.md) ----------
 * STATE_DIR (0700) holds <bdf>.lock (flock) and <bdf>.journal (what to put
 * back); NBH_RUN_DIR holds <bdf>.holder (0644) for `status`. Only the helper
 * writes either; no other user can open a lock file. */

/* mkdir with `mode`, then refuse anything but our own directory without
 * `deny` bits (lstat: a symlink is refused, not followed). */
static int safe_dir(const char *path, mode_t mode, mode_t deny)
{
	struct stat st;

	mkdir(path, mode); /* if it fails, the checks below say why not */
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & deny))
		return nbh_fail(EPERM, "%s: not our directory, or open to others", path);
	return 0;
}

/* Write a line to path through path.new, fsync and rename: never half-written. */
__attribute__((format(printf, 3, 4))) static int put_file(const char *path, mode_t mode,
							   const char *fmt, ...)
{
	char tmp[PATH_MAX], text[256];
	va_list ap;
	int fd, ok;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, path) < 0)
		return nbh_fail_errno("writing %s", path);
	return 0;
}

#define holder_path(bdf) nbh_path(NBH_RUN_DIR "/%s.holder", bdf)
#define journal_path(bdf) nbh_path(STATE_DIR "/%s.journal", bdf)

void nbh_nic_holder(const char *bdf, char *out, size_t len)
{
	sysfs_read(holder_path(bdf), out, len);
}

static int write_holder(const struct nbh_nic *nic, const char *what)
{
	return put_file(holder_path(nic->bdf), 0644, "%suid=%u pid=%d\n", what,
			(unsigned)nic->uid, (int)nic->pid);
}

static int journal_write(struct nbh_nic *nic)
{
	nic->journaled = true;
	return put_file(journal_path(nic->bdf), 0600, "%s %s %s %d %d %u %d\n", nic->bdf,
			nic->orig_driver[0] ? nic->orig_driver : "-",
			nic->orig_override[0] ? nic->orig_override : "-", nic->link_was_up,
			nic->group, (unsigned)nic->uid, (int)nic->pid);
}

static int put_back(struct nbh_nic *nic);

/* Holder record, original driver and driver_override, once the lock is ours. */
static int locked(struct nbh_nic *nic)
{
	nbh_nic_driver(nic->bdf, nic->orig_driver, sizeof(nic->orig_driver));
	if (sysfs_read(nbh_path(PCI "/devices/%s/driver_override", nic->bdf), nic->orig_override,
		       sizeof(nic->orig_override)) < 0)
		return nbh_fail_errno("reading driver_override of %s", nic->bdf);
	if (strcmp(nic->orig_override, "(null)") == 0)
		nic->orig_override[0] = '\0';
	return write_holder(nic, "");
}

/* Put back what a journal left by a crashed or quarantined session names. */
static int replay(struct nbh_nic *nic)
{
	struct nbh_nic old = { .switched = true, .journaled = true, .lock_fd = nic->lock_fd };
	char text[256];
	int up;

	if (sysfs_read(journal_path(nic->bdf), text, sizeof(text)) < 0)
		return errno == ENOENT ? 0 : nbh_fail_errno("journal of %s", nic->bdf);
	if (sscanf(text, "%12s %63s %63s %d %d %u %d", old.bdf, old.orig_driver,
		   old.orig_override, &up, &old.group, &old.uid, &old.pid) != 7 ||
	    strcmp(old.bdf, nic->bdf))
		return nbh_fail(EIO, "the journal of %s is corrupt: '%.80s'", nic->bdf, text);
	old.orig_driver[strcmp(old.orig_driver, "-") ? sizeof(old.orig_driver) - 1 : 0] = '\0';
	old.orig_override[strcmp(old.orig_override, "-") ? sizeof(old.orig_override) - 1 : 0] = '\0';
	old.link_was_up = up;
	nbh_log("%s: replaying its journal (driver '%s')", nic->bdf, old.orig_driver);
	if (put_back(&old) < 0)
		return nbh_fail(EBUSY, "%s is quarantined on vfio-pci: a device fd of uid %u's "
				"session (pid %d) is still open", nic->bdf, old.uid, old.pid);
	nic->ifname[0] = '\0';
	find_entry(nbh_path("/sys/class/net"), is_netdev_of, nic);
	return 0;
}

int nbh_nic_lock(struct nbh_nic *nic, uid_t uid, pid_t pid)
{
	char holder[NBP_TEXT_LEN];
	int fd;

	nic->uid = uid;
	nic->pid = pid;
	if (safe_dir(nbh_path(NBH_RUN_DIR), 0755, 022) < 0 || safe_dir(nbh_path(STATE_DIR), 0700, 077) < 0)
		return -1;
	fd = open(nbh_path(STATE_DIR "/%s.lock", nic->bdf),
		  O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
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
	if (replay(nic) == 0)
		return locked(nic);
	nic->lock_fd = -1; /* the quarantine record stays */
	close(fd);
	return -1;
}

/* A later claim of a device the session locked with owner's group: owner
 * keeps the lock (restored last, it releases it last). */
int nbh_nic_take_peer(const struct nbh_nic *owner, struct nbh_nic *nic)
{
	nic->uid = owner->uid;
	nic->pid = owner->pid;
	return locked(nic);
}

static bool replay_one(const char *name, void *unused __attribute__((unused)))
{
	struct nbh_nic nic = { .lock_fd = -1 };
	char bdf[NBP_BDF_LEN];
	size_t n = strlen(name);

	snprintf(bdf, sizeof(bdf), "%.*s", (int)(n > 8 ? n - 8 : 0), name);
	if (n > 8 && !strcmp(name + n - 8, ".journal") && !nbh_normalize_bdf(bdf, nic.bdf)) {
		if (nbh_nic_lock(&nic, 0, 0) < 0)
			nbh_log("%s", nbh_reason);
		nbh_nic_restore(&nic);
	}
	return false;
}

void nbh_nic_replay_all(void)
{
	pid_t pid = fork(); /* restore children that outlive it are not the helper's */

	if (pid == 0) {
		find_entry(nbh_path(STATE_DIR), replay_one, NULL);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

/* The whole IOMMU group goes with a claim: every other endpoint in it
 * (bridges on pcieport aside, the kernel's viability rule) must be unbound
 * or on vfio-pci, claimable by the same caller, and is locked too. */
int nbh_nic_group(struct nbh_nic *nic, const struct nbh_policy *p, const struct nbh_ident *who)
{
	struct dirent **list = NULL;
	char members[128] = "", drv[64];
	int n = scandir(nbh_path("/sys/kernel/iommu_groups/%d/devices", nic->group), &list, 0, alphasort);
	bool bad = n < 0;

	for (int i = 0, m = 0; i < n; i++) {
		const char *bdf = list[i]->d_name;
		struct nbh_nic peer;

		nbh_nic_driver(bdf, drv, sizeof(drv));
		if (bdf[0] != '.' && m < (int)sizeof(members))
			m += snprintf(members + m, sizeof(members) - (size_t)m, " %s=%s", bdf,
				      drv[0] ? drv : "none");
		if (bdf[0] != '.' && strcmp(bdf, nic->bdf) && strcmp(drv, "pcieport") && !bad) {
			bad = (drv[0] && strcmp(drv, "vfio-pci")) || nic->n_peers == NB_MAX_DEVICES ||
			      nbh_nic_resolve(bdf, &peer) < 0 || !nbh_policy_match(p, who, &peer) ||
			      nbh_nic_lock(&peer, nic->uid, nic->pid) < 0;
			if (!bad && strcpy(nic->peers[nic->n_peers].bdf, peer.bdf))
				nic->peers[nic->n_peers++].lock_fd = peer.lock_fd;
		}
		free(list[i]);
	}
	free(list);
	return bad ? nbh_fail(EBUSY, "IOMMU group %d goes whole; others must be unbound or on "
			      "vfio-pci, yours by policy, free:%s", nic->group, members) : 0;
}

/* ---- the kernel netdev, through rtnetlink ------------------------------ */

/* What every IPv6 link has on its own: fe80::/10 link-local, ff00::/8 multicast. */
static bool ipv6_default(struct nl_addr *a)
{
	const uint8_t *b = a ? nl_addr_get_binary_addr(a) : NULL;

	return b && nl_addr_get_family(a) == AF_INET6 &&
	       ((b[0] == 0xfe && (b[1] & 0xc0) == 0x80 && nl_addr_get_prefixlen(a) >= 10) ||
		(b[0] == 0xff && nl_addr_get_prefixlen(a) >= 8));
}

static unsigned count_use(struct nl_cache *addrs, struct nl_cache *routes, int ifindex)
{
	unsigned n = 0;

	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o))
		n += rtnl_addr_get_ifindex((struct rtnl_addr *)o) == ifindex &&
		     !ipv6_default(rtnl_addr_get_local((struct rtnl_addr *)o));
	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o))
		for (int i = 0; !ipv6_default(rtnl_route_get_dst((struct rtnl_route *)o)) &&
				i < rtnl_route_get_nnexthops((struct rtnl_route *)o); i++)
			n += rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n((struct rtnl_route *)o, i)) == ifindex;
	return n;
}

/* 1 (reason in why) if a netdev in roots, one stacked on them or their master is in use. */
static int netdev_in_use(struct nl_cache *links, struct nl_cache *addrs, struct nl_cache *routes,
			 const int *roots, unsigned n_roots, char *why, size_t len)
{
	int set[64];
	unsigned n = n_roots < 8 ? n_roots : 8, used;

	memcpy(set, roots, n * sizeof(set[0]));
	/* Grows while it is walked: the links stacked on any member join it. */
	for (unsigned i = 0; i < n; i++) {
		struct rtnl_link *l = rtnl_link_get(links, set[i]), *m;

		if (!l)
			continue;
		m = rtnl_link_get_master(l) ? rtnl_link_get(links, rtnl_link_get_master(l)) : NULL;
		used = (rtnl_link_get_flags(l) & IFF_UP) ? count_use(addrs, routes, set[i]) : 0;
		if (m)
			snprintf(why, len, "%s is a port of %s", rtnl_link_get_name(l),
				 rtnl_link_get_name(m));
		else if (used)
			snprintf(why, len, "%s is up with %u addresses and routes beyond IPv6 "
				 "link-local and multicast", rtnl_link_get_name(l), used);
		rtnl_link_put(m);
		rtnl_link_put(l);
		if (used || m)
			return 1;
		for (struct nl_object *o = nl_cache_get_first(links); o && n < 64;
		     o = nl_cache_get_next(o))
			if (rtnl_link_get_link((struct rtnl_link *)o) == set[i] &&
			    rtnl_link_get_ifindex((struct rtnl_link *)o) != set[i])
				set[n++] = rtnl_link_get_ifindex((struct rtnl_link *)o);
	}
	return 0;
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
	struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL;
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	char why[128], owner[NBP_BDF_LEN];
	int rc = -1, roots[8];
	unsigned n_roots = 0;

	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0 ||
	    rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) < 0 ||
	    rtnl_addr_alloc_cache(sk, &addrs) < 0 ||
	    rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes) < 0 ||
	    !(link = rtnl_link_get_by_name(links, nic->ifname))) {
		nbh_fail(EIO, "reading the state of %s over rtnetlink", nic->ifname);
		goto out;
	}
	for (struct nl_object *o = nl_cache_get_first(links); o && n_roots < 8; o = nl_cache_get_next(o))
		if (netdev_bdf(rtnl_link_get_name((struct rtnl_link *)o), owner) == 0 &&
		    strcmp(owner, nic->bdf) == 0) /* every netdev of the PCI function */
			roots[n_roots++] = rtnl_link_get_ifindex((struct rtnl_link *)o);
	if (restore || !(rtnl_link_get_flags(link) & IFF_UP))
		rc = restore ? set_link(sk, link, true) : 0;
	else if (!allow_up && netdev_in_use(links, addrs, routes, roots, n_roots, why, sizeof(why)))
		nbh_fail(EBUSY, "%s (%s) is in use: %s; take that down first or add netdev-up "
			 "to its policy rule", nic->ifname, nic->bdf, why);
	else if ((nic->link_was_up = true, journal_write(nic) == 0))
		rc = set_link(sk, link, false);
out:
	nl_cache_free(routes);
	nl_cache_free(addrs);
	nl_cache_free(links);
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

	if (stat(nbh_path(PCI "/drivers/vfio-pci"), &st) == 0)
		return 0;
	if (posix_spawn(&pid, "/sbin/modprobe", NULL, NULL, argv, envp) != 0 ||
	    waitpid(pid, NULL, 0) < 0 || stat(nbh_path(PCI "/drivers/vfio-pci"), &st) < 0)
		return nbh_fail(ENOENT, "vfio-pci is not available and 'modprobe vfio-pci' failed");
	return 0;
}

/* Driver and driver_override were read by nbh_nic_lock. */
int nbh_nic_to_vfio(struct nbh_nic *nic)
{
	char drv[64];

	if (strcmp(nic->orig_driver, "vfio-pci") == 0)
		return 0;
	if (load_vfio_pci() < 0 || journal_write(nic) < 0 ||
	    sysfs_write(nbh_path(PCI "/devices/%s/driver_override", nic->bdf), "vfio-pci") < 0)
		return -1;
	nic->switched = true;
	if ((nic->orig_driver[0] &&
	     sysfs_write(nbh_path(PCI "/drivers/%s/unbind", nic->orig_driver), nic->bdf) < 0) ||
	    sysfs_write(nbh_path(PCI "/drivers_probe"), nic->bdf) < 0)
		return -1;
	nbh_nic_driver(nic->bdf, drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci") != 0)
		return nbh_fail(EIO, "%s did not bind to vfio-pci (driver now '%s')", nic->bdf, drv);
	return 0;
}

/* Driver, driver_override and link as they were, then the journal goes. */
static void undo(struct nbh_nic *nic)
{
	char drv[64];

	if (nic->switched && !nic->keep_vfio) {
		sysfs_write(nbh_path(PCI "/drivers/vfio-pci/unbind"), nic->bdf);
		sysfs_write(nbh_path(PCI "/devices/%s/driver_override", nic->bdf),
			    nic->orig_override[0] ? nic->orig_override : "\n");
		if (nic->orig_driver[0])
			sysfs_write(nbh_path(PCI "/drivers_probe"), nic->bdf);
		nbh_nic_driver(nic->bdf, drv, sizeof(drv));
		if (strcmp(drv, nic->orig_driver) != 0)
			nbh_log("%s: driver is '%s' after restore, was '%s'", nic->bdf, drv,
				nic->orig_driver);
	}
	if (nic->link_was_up && !nic->keep_vfio) {
		nic->ifname[0] = '\0';
		if (!find_entry(nbh_path("/sys/class/net"), is_netdev_of, nic) ||
		    nbh_nic_netdev(nic, true, true) < 0)
			nbh_log("%s: could not bring its netdev back up", nic->bdf);
	}
	if (nic->journaled)
		unlink(journal_path(nic->bdf));
}

/* undo() in a child that keeps the lock: vfio-pci's unbind waits (after its
 * first request uninterruptibly) while a process still has a device fd. After
 * 3 s we return -1, the NIC quarantined; the child restores it and lets the
 * lock go once that fd is closed. */
static int put_back(struct nbh_nic *nic)
{
	pid_t pid = nic->switched && !nic->keep_vfio ? fork() : -1;
	int ms = 0;

	if (pid == 0) {
		close_range(dup2(nic->lock_fd, 3) == 3 ? 4 : 3, ~0U, 0); /* the lock alone stays */
		undo(nic);
		unlink(holder_path(nic->bdf));
		_exit(0);
	}
	if (pid < 0) {
		undo(nic);
		return 0;
	}
	while (waitpid(pid, NULL, WNOHANG) == 0 && (ms += 10) <= 3000)
		usleep(10000);
	if (ms <= 3000)
		return 0;
	nbh_log("%s: a device fd is still open; quarantined on vfio-pci", nic->bdf);
	write_holder(nic, "quarantined, fd kept by the session of ");
	if (waitpid(pid, NULL, WNOHANG) == pid) /* it finished just now */
		unlink(holder_path(nic->bdf));
	return -1;
}

void nbh_nic_restore(struct nbh_nic *nic)
{
	bool held = put_back(nic) < 0;

	for (unsigned i = 0; i < nic->n_peers; i++) {
		unlink(holder_path(nic->peers[i].bdf));
		close(nic->peers[i].lock_fd);
	}
	if (nic->lock_fd >= 0 && !held)
		unlink(holder_path(nic->bdf));
	if (nic->lock_fd >= 0)
		close(nic->lock_fd);
}
