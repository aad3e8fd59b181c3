/* SPDX-License-Identifier: MIT */
/*
 * test_bind.c - the helper's decisions on a fake tree and fake netlink
 * caches: a claim takes its whole IOMMU group or nothing; the lock directory
 * is root-only; a journal left by a crash is replayed; the "NIC in use" rule
 * sees stacked devices and ignores what every IPv6 link has; IOVA ranges of
 * several groups are intersected before an IOVA is chosen.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <net/if.h>

#include <cmocka.h>
#include <linux/vfio.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

/* Their static functions and nbh_root are what is tested. */
#include "bind.c"
#include "iommu.c"
/* nbh_fail and the session code come from the helper's session library
 * (report.c, session.c), the codec from nicbox_proto. */
#include "pool.c"

#define A "0000:01:00.0"
#define B "0000:01:00.1"
#define BRIDGE "0000:00:01.0"
static char root[64];

/* root + a path; the last two results stay valid. */
__attribute__((format(printf, 1, 2))) static const char *at(const char *fmt, ...)
{
	static char path[2][512];
	static int which;
	char rel[256];
	va_list ap;

	which ^= 1;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path[which], sizeof(path[which]), "%s%s", root, rel);
	return path[which];
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void get(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void mkdirs(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* A PCI function: class, ids, driver link ("" for none), member of group 7. */
static void fake_dev(const char *bdf, const char *class, const char *driver)
{
	char target[128];

	mkdirs(at("/sys/bus/pci/devices/%s", bdf));
	put(at("/sys/bus/pci/devices/%s/class", bdf), class);
	put(at("/sys/bus/pci/devices/%s/vendor", bdf), "0x8086\n");
	put(at("/sys/bus/pci/devices/%s/device", bdf), "0x10fb\n");
	put(at("/sys/bus/pci/devices/%s/driver_override", bdf), "(null)\n");
	unlink(at("/sys/bus/pci/devices/%s/driver", bdf));
	if (driver[0]) {
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		assert_int_equal(symlink(target, at("/sys/bus/pci/devices/%s/driver", bdf)), 0);
	}
	symlink("../../../../kernel/iommu_groups/7", at("/sys/bus/pci/devices/%s/iommu_group", bdf));
	symlink(at("/sys/bus/pci/devices/%s", bdf), at("/sys/kernel/iommu_groups/7/devices/%s", bdf));
}

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/nbh-bind-XXXXXX");
	assert_non_null(mkdtemp(root));
	nbh_root = root;
	mkdirs(at("/sys/kernel/iommu_groups/7/devices"));
	mkdirs(at("/run"));
	fake_dev(A, "0x020000\n", "ixgbe");
	fake_dev(B, "0x020000\n", "ixgbe");
	fake_dev(BRIDGE, "0x060400\n", "pcieport");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static struct nbh_policy policy(const char *text)
{
	struct nbh_policy p;
	char err[256];

	assert_int_equal(nbh_policy_parse(text, strlen(text), "t.conf", &p, err, sizeof(err)), 0);
	return p;
}

/* Whether another open file description could take the lock of bdf. */
static bool lock_free(const char *bdf)
{
	int fd = open(at("/run/nicbox/state/%s.lock", bdf), O_RDWR);
	bool free = fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0;

	if (fd >= 0)
		close(fd);
	return free;
}

static int claim(struct nbh_nic *nic, const struct nbh_policy *p, const struct nbh_ident *who)
{
	assert_int_equal(nbh_nic_resolve(A, nic), 0);
	assert_int_equal(nic->group, 7);
	assert_int_equal(nbh_nic_lock(nic, who->uid, 42), 0);
	return nbh_nic_group(nic, p, who);
}

static void test_group_whole_or_nothing(void **state)
{
	struct nbh_policy only_a = policy("allow user:1000 pci:" A "\n");
	struct nbh_policy both = policy("allow user:1000 pci:" A "\nallow user:1000 pci:" B "\n");
	struct nbh_ident who = { .uid = 1000 };
	struct nbh_nic nic, peer = { .lock_fd = -1 };
	char holder[128];
	struct stat st;
	(void)state;

	/* A sibling on a kernel driver: refused, the group listed with drivers. */
	assert_int_equal(claim(&nic, &both, &who), -1);
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(nbh_reason, B "=ixgbe"));
	assert_non_null(strstr(nbh_reason, BRIDGE "=pcieport"));
	nbh_nic_restore(&nic);

	/* Unbound, but the policy gives the caller only A. */
	fake_dev(B, "0x020000\n", "");
	assert_int_equal(claim(&nic, &only_a, &who), -1);
	assert_non_null(strstr(nbh_reason, B "=none"));
	nbh_nic_restore(&nic);
	assert_true(lock_free(B));

	/* Allowed and unbound: locked with A (the bridge on pcieport is fine). */
	assert_int_equal(claim(&nic, &both, &who), 0);
	assert_int_equal(nic.n_peers, 1);
	assert_false(lock_free(A));
	assert_false(lock_free(B));
	nbh_nic_holder(B, holder, sizeof(holder));
	assert_string_equal(holder, "uid=1000 pid=42");
	/* A later claim of B in the same session: still locked until A goes. */
	assert_int_equal(nbh_nic_resolve(B, &peer), 0);
	assert_int_equal(nbh_nic_take_peer(&nic, &peer), 0);
	nbh_nic_restore(&peer);
	assert_false(lock_free(B));
	nbh_nic_restore(&nic);
	assert_true(lock_free(A));
	assert_true(lock_free(B));
	nbh_nic_holder(A, holder, sizeof(holder));
	assert_string_equal(holder, "");

	/* Lock files: 0600 in a 0700 directory; a planted symlink is refused. */
	assert_int_equal(lstat(at("/run/nicbox/state"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(at("/run/nicbox/state/%s.lock", A), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(rename(at("/run/nicbox/state"), at("/run/elsewhere")), 0);
	assert_int_equal(symlink(at("/run/elsewhere"), at("/run/nicbox/state")), 0);
	assert_int_equal(nbh_nic_resolve(A, &nic), 0);
	assert_int_equal(nbh_nic_lock(&nic, 1000, 42), -1);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(nbh_reason, "not our directory"));
	unlink(at("/run/nicbox/state"));
	assert_int_equal(rename(at("/run/elsewhere"), at("/run/nicbox/state")), 0);
	assert_int_equal(chmod(at("/run/nicbox/state"), 0755), 0);
	assert_int_equal(nbh_nic_lock(&nic, 1000, 42), -1);
	assert_int_equal(chmod(at("/run/nicbox/state"), 0700), 0);
	nbh_policy_free(&only_a);
	nbh_policy_free(&both);
}

/* A journal left by a crash: the next lock puts the NIC back first. */
static void test_journal_replayed(void **state)
{
	struct nbh_nic nic;
	char text[64];
	(void)state;

	fake_dev(A, "0x020000\n", "vfio-pci");
	put(at("/sys/bus/pci/devices/%s/driver_override", A), "vfio-pci\n");
	mkdirs(at("/sys/bus/pci/drivers/vfio-pci"));
	put(at("/sys/bus/pci/drivers/vfio-pci/unbind"), "");
	put(at("/sys/bus/pci/drivers_probe"), "");
	mkdir(at("/run/nicbox"), 0755);
	mkdir(at("/run/nicbox/state"), 0700);
	put(at("/run/nicbox/state/%s.journal", A), A " ixgbe - 0 7 1000 42\n");
	assert_int_equal(nbh_nic_resolve(A, &nic), 0);
	if (nbh_nic_lock(&nic, 1000, 43) < 0)
		fail_msg("%s", nbh_reason);
	get(at("/sys/bus/pci/drivers/vfio-pci/unbind"), text, sizeof(text));
	assert_string_equal(text, A);
	get(at("/sys/bus/pci/devices/%s/driver_override", A), text, sizeof(text));
	assert_int_equal(text[0], '\n'); /* cleared (a plain file keeps the rest) */
	get(at("/sys/bus/pci/drivers_probe"), text, sizeof(text));
	assert_string_equal(text, A);
	assert_int_equal(access(at("/run/nicbox/state/%s.journal", A), F_OK), -1);
	nbh_nic_restore(&nic);

	/* The same at helper start: every journal in the directory. */
	put(at("/sys/bus/pci/drivers/vfio-pci/unbind"), "");
	put(at("/run/nicbox/state/%s.journal", A), A " ixgbe - 0 7 1000 42\n");
	put(at("/run/nicbox/state/%s.journal.new", B), B " ixgbe - 0 7 1000 42\n");
	nbh_nic_replay_all();
	get(at("/sys/bus/pci/drivers/vfio-pci/unbind"), text, sizeof(text));
	assert_string_equal(text, A);
	assert_int_equal(access(at("/run/nicbox/state/%s.journal", A), F_OK), -1);
	assert_int_equal(access(at("/run/nicbox/state/%s.journal.new", B), F_OK), 0);

	put(at("/run/nicbox/state/%s.journal", A), "garbage\n");
	assert_int_equal(nbh_nic_lock(&nic, 1000, 43), -1);
	assert_int_equal(errno, EIO);
	unlink(at("/run/nicbox/state/%s.journal", A));
}

/* ---- the "NIC in use" rule on fake caches ---- */
struct net {
	struct nl_cache *links, *addrs, *routes;
};

static void add_link(struct net *n, int index, const char *name, int lower, int master)
{
	struct rtnl_link *l = rtnl_link_alloc();

	rtnl_link_set_ifindex(l, index);
	rtnl_link_set_name(l, name);
	rtnl_link_set_flags(l, IFF_UP);
	rtnl_link_set_link(l, lower);
	rtnl_link_set_master(l, master);
	assert_int_equal(nl_cache_add(n->links, (struct nl_object *)l), 0);
	rtnl_link_put(l);
}

static void add_addr(struct net *n, int index, const char *text)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local;

	assert_int_equal(nl_addr_parse(text, AF_UNSPEC, &local), 0);
	rtnl_addr_set_ifindex(a, index);
	rtnl_addr_set_local(a, local);
	assert_int_equal(nl_cache_add(n->addrs, (struct nl_object *)a), 0);
	nl_addr_put(local);
	rtnl_addr_put(a);
}

static void add_route(struct net *n, int index, const char *dst)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d;

	assert_int_equal(nl_addr_parse(dst, AF_UNSPEC, &d), 0);
	rtnl_route_set_dst(r, d);
	rtnl_route_nh_set_ifindex(nh, index);
	rtnl_route_add_nexthop(r, nh);
	assert_int_equal(nl_cache_add(n->routes, (struct nl_object *)r), 0);
	nl_addr_put(d);
	rtnl_route_put(r);
}

static struct net net_new(void)
{
	struct net n;

	assert_int_equal(nl_cache_alloc_name("route/link", &n.links), 0);
	assert_int_equal(nl_cache_alloc_name("route/addr", &n.addrs), 0);
	assert_int_equal(nl_cache_alloc_name("route/route", &n.routes), 0);
	return n;
}

static void net_free(struct net *n)
{
	nl_cache_free(n->links);
	nl_cache_free(n->addrs);
	nl_cache_free(n->routes);
}

static int in_use(struct net *n, int index, char *why)
{
	why[0] = '\0';
	return netdev_in_use(n->links, n->addrs, n->routes, &index, 1, why, 128);
}

static void test_in_use(void **state)
{
	struct net n = net_new();
	char why[128];
	(void)state;

	/* What every IPv6-up link has: link-local address and routes, multicast. */
	add_link(&n, 2, "eth0", 0, 0);
	add_link(&n, 9, "other", 0, 0);
	add_addr(&n, 2, "fe80::5054:ff:fe12:3456/64");
	add_route(&n, 2, "fe80::/64");
	add_route(&n, 2, "ff00::/8");
	add_route(&n, 2, "fe80::5054:ff:fe12:3456/128");
	add_addr(&n, 9, "10.0.0.1/24");
	assert_int_equal(in_use(&n, 2, why), 0);

	/* A macvlan on it (IFLA_LINK), then a VLAN on the macvlan, with an address. */
	add_link(&n, 3, "mv0", 2, 0);
	add_link(&n, 4, "mv0.5", 3, 0);
	assert_int_equal(in_use(&n, 2, why), 0);
	add_addr(&n, 4, "192.0.2.1/24");
	assert_int_equal(in_use(&n, 2, why), 1);
	assert_non_null(strstr(why, "mv0.5 is up with 1 addresses"));
	net_free(&n);

	/* A route through an upper, no address. */
	n = net_new();
	add_link(&n, 2, "eth0", 0, 0);
	add_link(&n, 3, "vlan7", 2, 0);
	add_route(&n, 3, "2001:db8::/32");
	assert_int_equal(in_use(&n, 2, why), 1);
	assert_non_null(strstr(why, "vlan7"));
	net_free(&n);

	/* A port of a bridge, and an address of its own. */
	n = net_new();
	add_link(&n, 5, "br0", 0, 0);
	add_link(&n, 2, "eth0", 0, 5);
	assert_int_equal(in_use(&n, 2, why), 1);
	assert_string_equal(why, "eth0 is a port of br0");
	net_free(&n);
	n = net_new();
	add_link(&n, 2, "eth0", 0, 0);
	add_addr(&n, 2, "2001:db8::1/64");
	assert_int_equal(in_use(&n, 2, why), 1);
	net_free(&n);
}

/* ---- IOVA ranges of two groups ---- */
static void test_iova(void **state)
{
	struct vfio_iova_range have[16] = { { 0, UINT64_MAX } };
	const struct vfio_iova_range g1[] = { { 0, 0xfedfffff }, { 0xfef00000, (1ull << 48) - 1 } };
	const struct vfio_iova_range g2[] = { { 0x100000, (1ull << 39) - 1 } };
	unsigned n = iova_intersect(have, 1, g1, 2);
	(void)state;

	assert_int_equal(n, 2);
	n = iova_intersect(have, n, g2, 1);
	assert_int_equal(n, 2);
	assert_int_equal(have[0].start, 0x100000);
	assert_int_equal(have[0].end, 0xfedfffff);
	assert_int_equal(have[1].start, 0xfef00000);
	assert_int_equal(have[1].end, (1ull << 39) - 1);
	/* 2 MiB aligned, above next, not across the MSI hole, within the 39 bits. */
	assert_int_equal(iova_pick(have, n, 1ull << 20, 2 << 20, 2 << 20), 2 << 20);
	assert_int_equal(iova_pick(have, n, 0xfec00000, 4 << 20, 2 << 20), 0xff000000);
	assert_int_equal(iova_pick(have, n, 1ull << 20, 1ull << 39, 2 << 20), 0);
	assert_int_equal(iova_pick(have, n, (1ull << 39) - (2 << 20), 2 << 20, 2 << 20),
			 (1ull << 39) - (2 << 20));
	assert_int_equal(iova_pick(have, n, (1ull << 39) - (2 << 20), 4 << 20, 2 << 20), 0);
	/* Disjoint: nothing usable is left. */
	assert_int_equal(iova_intersect(have, n, (struct vfio_iova_range[]){ { 1ull << 40, UINT64_MAX } }, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_whole_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_replayed, setup, teardown),
		cmocka_unit_test(test_in_use),
		cmocka_unit_test(test_iova),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
