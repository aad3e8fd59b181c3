/* SPDX-License-Identifier: MIT */
/*
 * session.c - one client's session in its own process: validator, state
 * table, dispatch table. Any failure: one ERROR reply, end of session; the
 * teardown runs in every case, also after kill -9 of the client.
 */
#include <poll.h>

#include <linux/vfio.h>

#include "helper.h"

volatile sig_atomic_t nbh_quit;
const sigset_t *nbh_wait_mask;

/* SIGTERM is blocked except inside ppoll, so it cannot slip in between the
 * nbh_quit check and the wait. 1: readable, 0: timeout, -1: quit. */
int nbh_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec t = { timeout_ms / 1000, timeout_ms % 1000 * 1000000L };
	int n = nbh_quit ? -1 : ppoll(&p, 1, timeout_ms < 0 ? NULL : &t, nbh_wait_mask);

	return nbh_quit || n < 0 ? -1 : n;
}

struct session {
	int sock;
	enum nbp_state state;
	struct nbh_ident who;
	pid_t pid;                    /* logs and the lock record only */
	const struct nbh_policy *policy;
	struct nbh_iommu *iommu;
	struct nbh_nic nics[NB_MAX_DEVICES];
	unsigned n_nics, n_pools;
	struct nbh_pool pools[NB_MAX_POOLS];
	uint64_t pool_cap, pool_used; /* cap: the smallest of the claims' rules */
};

struct exchange {
	union nbp_msg req, rep;
	int fds[NB_MAX_DEVICES];      /* sent with the reply */
	unsigned n_fds;
};

static int on_hello(struct session *s, struct exchange *x)
{
	x->rep.hello_ok = (struct nbp_hello_ok){ x->rep.hdr, s->who.uid, s->who.gid,
						 NB_MAX_DEVICES, NB_MAX_POOLS };
	return 0;
}

static int on_claim(struct session *s, struct exchange *x)
{
	struct nbh_nic *nic = &s->nics[s->n_nics], *owner = NULL;
	const struct nbh_rule *rule;

	if (s->n_nics == NB_MAX_DEVICES)
		return nbh_fail(E2BIG, "a session claims at most %d devices", NB_MAX_DEVICES);
	if (nbh_nic_resolve(x->req.claim.device, nic) < 0)
		return -1;
	for (unsigned i = 0; i < s->n_nics; i++)
		if (strcmp(s->nics[i].bdf, nic->bdf) == 0)
			return nbh_fail(EALREADY, "%s is already claimed in this session", nic->bdf);
	rule = nbh_policy_match(s->policy, &s->who, nic);
	if (!rule)
		return nbh_fail(EACCES, "policy %s lets uid %u claim no device %s%s%s",
				s->policy->file, (unsigned)s->who.uid, nic->bdf,
				nic->ifname[0] ? " / " : "", nic->ifname);
	if (!nb_pci_driver_for(nic->vendor_id, nic->device_id)) /* before any change */
		return nbh_fail(ENODEV, "%s (%04x:%04x) is a NIC no nicbox driver supports "
				"(nicbox-helper status lists the ones that are); left untouched",
				nic->bdf, nic->vendor_id, nic->device_id);
	if (nic->group < 0)
		return nbh_fail(ENXIO, "no IOMMU group for %s (is /sys/kernel/iommu_groups "
				"empty?): %s", nic->bdf, NBH_IOMMU_HINT);
	nic->keep_vfio = rule->keep_vfio;
	for (unsigned i = 0; i < s->n_nics && !owner; i++)
		owner = s->nics[i].group == nic->group ? &s->nics[i] : NULL;
	s->n_nics++; /* from here on, teardown undoes what was done */
	if ((owner ? nbh_nic_take_peer(owner, nic) < 0
		   : nbh_nic_lock(nic, s->who.uid, s->pid) < 0 ||
			     nbh_nic_group(nic, s->policy, &s->who) < 0) ||
	    (nic->ifname[0] && nbh_nic_netdev(nic, rule->allow_up, false) < 0) ||
	    nbh_nic_to_vfio(nic) < 0 || (!s->iommu && !(s->iommu = nbh_iommu_open())) ||
	    nbh_iommu_attach_group(s->iommu, (unsigned)nic->group) < 0 ||
	    nbh_isolated(nic->bdf, rule->unsafe_interrupts, rule->allow_ats) < 0)
		return -1;
	if (s->n_nics == 1 || rule->max_pool < s->pool_cap)
		s->pool_cap = rule->max_pool;
	nbh_log("uid %u claimed %s (%s, %04x:%04x, group %d) by %s:%u", s->who.uid, nic->bdf,
		nic->ifname[0] ? nic->ifname : "no netdev", nic->vendor_id, nic->device_id,
		nic->group, s->policy->file, rule->line);
	x->rep.claim_ok = (struct nbp_claim_ok){ x->rep.hdr, s->n_nics - 1, (uint32_t)nic->group,
						 nic->vendor_id, nic->device_id, 0, "" };
	strcpy(x->rep.claim_ok.bdf, nic->bdf);
	return 0;
}

static int on_pool(struct session *s, struct exchange *x)
{
	struct nbh_pool *p = &s->pools[s->n_pools];
	struct nbp_pool_ok *ok = &x->rep.pool_ok;
	/* Rounded up to the page size asked for, before any page is reserved. */
	unsigned long long bytes = nbh_pool_size(x->req.pool.bytes, x->req.pool.page);

	if (s->n_pools == NB_MAX_POOLS)
		return nbh_fail(E2BIG, "a session has at most %d pools", NB_MAX_POOLS);
	if (bytes > s->pool_cap - s->pool_used)
		return nbh_fail(EACCES, "a pool of %llu bytes exceeds the policy's limit of %llu "
				"MiB per session (%llu MiB used)", bytes, (unsigned long long)(s->pool_cap >> 20),
				(unsigned long long)(s->pool_used >> 20));
	if (nbh_pool_create(x->req.pool.bytes, x->req.pool.page, p, ok->warning,
			    sizeof(ok->warning)) < 0)
		return -1;
	s->n_pools++;
	if (nbh_iommu_map(s->iommu, p->va, p->size, p->page_size, &p->iova) < 0)
		return -1;
	s->pool_used += p->size;
	ok->index = s->n_pools - 1;
	ok->size = p->size;
	ok->iova_base = p->iova;
	ok->page_size = p->page_size;
	x->fds[x->n_fds++] = p->memfd;
	return 0;
}

/* Device fds in claim order, each reset first (VFIO_DEVICE_RESET). */
static int on_ready(struct session *s, struct exchange *x)
{
	for (unsigned i = 0; i < s->n_nics; i++) {
		struct vfio_device_info info = { .argsz = sizeof(info) };
		int fd = nbh_iommu_device_fd(s->iommu, (unsigned)s->nics[i].group, s->nics[i].bdf);

		if (fd < 0)
			return -1;
		x->fds[x->n_fds++] = fd;
		if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
		    (info.flags & VFIO_DEVICE_FLAGS_RESET) && ioctl(fd, VFIO_DEVICE_RESET) < 0)
			return nbh_fail_errno("resetting %s", s->nics[i].bdf);
	}
	x->rep.ready_ok.n_devices = s->n_nics;
	return 0;
}

/* Each handler fills in the reply its request type gets (type | 0x80), already
 * initialised; RELEASE needs nothing more: the teardown follows. */
static int (*const dispatch[])(struct session *, struct exchange *) = {
	[NBP_HELLO] = on_hello, [NBP_CLAIM] = on_claim, [NBP_POOL] = on_pool,
	[NBP_READY] = on_ready, [NBP_RELEASE] = NULL,
};

/* One request; 1 to go on, 0 when the session is over. */
static int serve_one(struct session *s)
{
	struct exchange x = { .n_fds = 0 };
	int in_fds[NB_MAX_DEVICES], rc = -1;
	char why[NBP_TEXT_LEN];
	unsigned n_in = 0;
	int ready = nbh_wait(s->sock, s->state == NBP_S_NEW ? NBH_HELLO_SECONDS * 1000 : -1);
	long n = ready > 0 ? nbp_recv(s->sock, &x.req, in_fds, &n_in) : 0;
	int err = n > 0 ? nbp_validate(&x.req, (size_t)n, n_in, false, why, sizeof(why)) : 0;

	for (unsigned i = 0; i < n_in; i++)
		close(in_fds[i]); /* clients never send fds (validate says so) */
	if (ready == 0)
		nbh_fail(ETIMEDOUT, "no HELLO within %d s of connecting", NBH_HELLO_SECONDS);
	else if (n == 0 || (n < 0 && errno != EMSGSIZE))
		return 0; /* hang-up, or SIGTERM while waiting */
	else if (n < 0)
		nbh_fail(EMSGSIZE, "bad request: message or fd list too long");
	else if (err)
		nbh_fail(err, "bad request: %s", why);
	else if (!nbp_permitted(s->state, x.req.hdr.type))
		nbh_fail(EPROTO, "request 0x%x not permitted in session state %d",
			 x.req.hdr.type, s->state);
	else {
		nbp_init(&x.rep, x.req.hdr.type | 0x80);
		rc = dispatch[x.req.hdr.type] ? dispatch[x.req.hdr.type](s, &x) : 0;
		if (rc == 0 && nbp_send(s->sock, &x.rep, x.rep.hdr.len, x.fds, x.n_fds) < 0)
			rc = nbh_fail_errno("sending the reply");
	}
	if (rc < 0)
		nbh_send_error(s->sock, s->who.uid, true);
	/* Device fds were for the worker only: the helper keeps none. */
	for (unsigned i = 0; x.req.hdr.type == NBP_READY && i < x.n_fds; i++)
		close(x.fds[i]);
	if (rc == 0)
		s->state = nbp_next_state(s->state, x.req.hdr.type);
	return rc == 0 && s->state != NBP_S_DONE;
}

/* DMA stops first (vfio-pci resets a device when the worker's last fd for
 * it closes), then IOMMU mappings and container, pool pages, drivers, links. */
static void teardown(struct session *s)
{
	nbh_iommu_close(s->iommu);
	for (unsigned i = 0; i < s->n_pools; i++)
		nbh_pool_destroy(&s->pools[i]);
	for (unsigned i = s->n_nics; i-- > 0;)
		nbh_nic_restore(&s->nics[i]);
	if (s->n_nics)
		nbh_log("uid %u: session over, %u device(s) restored", s->who.uid, s->n_nics);
}

int nbh_peer(int sock, struct nbh_ident *who, pid_t *pid)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cred);

	*who = (struct nbh_ident){ .uid = (uid_t)-1, .gid = (gid_t)-1 };
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return nbh_fail_errno("SO_PEERCRED"); /* no identity, no service */
	who->uid = cred.uid;
	who->gid = cred.gid;
	*pid = cred.pid;
	/* Groups as of connect(); too many to fit: group rules fail closed. */
	len = sizeof(who->groups);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, who->groups, &len) == 0)
		who->n_groups = len / sizeof(gid_t);
	else
		nbh_log("uid %u: SO_PEERGROUPS: %s; primary group only", cred.uid, strerror(errno));
	return 0;
}

void nbh_session_run(int sock, const struct nbh_policy *policy, const struct nbh_ident *who,
		     pid_t pid)
{
	struct session s = { .sock = sock, .state = NBP_S_NEW, .policy = policy, .who = *who,
			     .pid = pid };

	while (!nbh_quit && s.state != NBP_S_DONE && serve_one(&s))
		;
	close(sock); /* first: a client that watches it lets go of its device fds */
	teardown(&s);
}
