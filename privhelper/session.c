/* SPDX-License-Identifier: MIT */
/*
 * session.c - one client's session, in its own forked process. Requests
 * are checked by the shared validator (proto.c), then by the per-state
 * table, then dispatched. Any failure sends one ERROR reply and ends the
 * session; the teardown runs in every case, also after kill -9 of the
 * client (we see the hang-up).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "helper.h"

struct session {
	int sock;
	enum nbp_state state;
	struct nbh_ident who;
	pid_t pid;                      /* for logs and the lock record only */
	const struct nbh_policy *policy;
	struct nbh_iommu *iommu;
	struct nbh_nic nics[NB_MAX_DEVICES];
	unsigned n_nics;
	uint64_t pool_cap, pool_used;   /* policy limit: min over claimed NICs */
	struct nbh_pool pools[NB_MAX_POOLS];
	unsigned n_pools;
};

typedef int (*handler_fn)(struct session *s, const union nbp_msg *req,
			  union nbp_msg *rep, int *fds, unsigned *n_fds);

static volatile sig_atomic_t stop_requested;

static void on_sigterm(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int on_hello(struct session *s, const union nbp_msg *req,
		    union nbp_msg *rep, int *fds, unsigned *n_fds)
{
	(void)req, (void)fds, (void)n_fds;
	nbp_init(rep, NBP_HELLO_OK);
	rep->hello_ok.uid = s->who.uid;
	rep->hello_ok.gid = s->who.gid;
	rep->hello_ok.max_devices = NB_MAX_DEVICES;
	rep->hello_ok.max_pools = NB_MAX_POOLS;
	return 0;
}

static int on_claim(struct session *s, const union nbp_msg *req,
		    union nbp_msg *rep, int *fds, unsigned *n_fds)
{
	struct nbh_nic *nic = &s->nics[s->n_nics];
	const struct nbh_rule *rule;
	struct nbh_devid id;
	(void)fds, (void)n_fds;

	if (s->n_nics == NB_MAX_DEVICES)
		return nbh_fail(E2BIG, "a session claims at most %d devices", NB_MAX_DEVICES);
	if (nbh_nic_resolve(req->claim.device, nic) < 0)
		return -1;
	for (unsigned i = 0; i < s->n_nics; i++)
		if (strcmp(s->nics[i].bdf, nic->bdf) == 0)
			return nbh_fail(EALREADY, "%s is already claimed in this session", nic->bdf);
	id = (struct nbh_devid){ nic->bdf, nic->ifname, nic->vendor_id, nic->device_id };
	rule = nbh_policy_match(s->policy, &s->who, &id);
	if (!rule)
		return nbh_fail(EACCES, "policy %s lets uid %u claim no device %s%s%s",
				s->policy->file, (unsigned)s->who.uid, nic->bdf,
				nic->ifname[0] ? " / " : "", nic->ifname);
	if (nbh_nic_check_iommu(nic) < 0)
		return -1;
	nic->keep_vfio = rule->keep_vfio;
	/* Count the NIC before touching it, so teardown undoes partial work. */
	s->n_nics++;
	if (nbh_nic_lock(nic, s->who.uid, s->pid) < 0 ||
	    nbh_nic_quiesce_netdev(nic, rule->allow_up) < 0 ||
	    nbh_nic_to_vfio(nic) < 0 ||
	    (!s->iommu && !(s->iommu = nbh_iommu_open())) ||
	    nbh_iommu_attach_group(s->iommu, nic->group) < 0)
		return -1;
	if (s->n_nics == 1 || rule->max_pool < s->pool_cap)
		s->pool_cap = rule->max_pool;
	nbh_log("uid %u claimed %s (%s, %04x:%04x, group %d) by %s:%u", s->who.uid,
		nic->bdf, nic->ifname[0] ? nic->ifname : "no netdev", nic->vendor_id,
		nic->device_id, nic->group, s->policy->file, rule->line);
	nbp_init(rep, NBP_CLAIM_OK);
	rep->claim_ok.index = s->n_nics - 1;
	rep->claim_ok.iommu_group = (uint32_t)nic->group;
	rep->claim_ok.vendor_id = nic->vendor_id;
	rep->claim_ok.device_id = nic->device_id;
	snprintf(rep->claim_ok.bdf, sizeof(rep->claim_ok.bdf), "%s", nic->bdf);
	return 0;
}

static int on_pool(struct session *s, const union nbp_msg *req,
		   union nbp_msg *rep, int *fds, unsigned *n_fds)
{
	struct nbh_pool *p = &s->pools[s->n_pools];

	if (s->n_pools == NB_MAX_POOLS)
		return nbh_fail(E2BIG, "a session has at most %d pools", NB_MAX_POOLS);
	if (req->pool.bytes > s->pool_cap - s->pool_used)
		return nbh_fail(EACCES, "pool of %llu MiB exceeds the policy's limit "
				"(%llu MiB per session, %llu MiB used)",
				(unsigned long long)(req->pool.bytes >> 20),
				(unsigned long long)(s->pool_cap >> 20),
				(unsigned long long)(s->pool_used >> 20));
	nbp_init(rep, NBP_POOL_OK);
	if (nbh_pool_create(req->pool.bytes, req->pool.page, p, rep->pool_ok.warning,
			    sizeof(rep->pool_ok.warning)) < 0)
		return -1;
	s->n_pools++;
	if (p->size > s->pool_cap - s->pool_used)
		return nbh_fail(EACCES, "pool rounded up to %llu bytes exceeds the policy's limit",
				(unsigned long long)p->size);
	if (nbh_iommu_map(s->iommu, p->va, p->size, p->page_size, &p->iova) < 0)
		return -1;
	s->pool_used += p->size;
	rep->pool_ok.index = s->n_pools - 1;
	rep->pool_ok.size = p->size;
	rep->pool_ok.iova_base = p->iova;
	rep->pool_ok.page_size = p->page_size;
	fds[0] = p->memfd;
	*n_fds = 1;
	return 0;
}

/* Device fds in claim order, each reset first (VFIO_DEVICE_RESET, FLR). */
static int on_ready(struct session *s, const union nbp_msg *req,
		    union nbp_msg *rep, int *fds, unsigned *n_fds)
{
	(void)req;
	for (unsigned i = 0; i < s->n_nics; i++) {
		struct vfio_device_info info = { .argsz = sizeof(info) };
		int fd = nbh_iommu_device_fd(s->iommu, s->nics[i].group, s->nics[i].bdf);

		if (fd < 0)
			return -1;
		fds[(*n_fds)++] = fd;
		if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
		    (info.flags & VFIO_DEVICE_FLAGS_RESET) &&
		    ioctl(fd, VFIO_DEVICE_RESET) < 0)
			return nbh_fail(errno, "resetting %s: %s", s->nics[i].bdf, strerror(errno));
	}
	nbp_init(rep, NBP_READY_OK);
	rep->ready_ok.n_devices = s->n_nics;
	return 0;
}

static int on_release(struct session *s, const union nbp_msg *req,
		      union nbp_msg *rep, int *fds, unsigned *n_fds)
{
	(void)s, (void)req, (void)fds, (void)n_fds;
	nbp_init(rep, NBP_RELEASE_OK);
	return 0;
}

static const handler_fn dispatch[] = {
	[NBP_HELLO] = on_hello,
	[NBP_CLAIM] = on_claim,
	[NBP_POOL] = on_pool,
	[NBP_READY] = on_ready,
	[NBP_RELEASE] = on_release,
};

static void send_error(struct session *s)
{
	union nbp_msg rep;

	nbp_init(&rep, NBP_ERROR);
	rep.error.err = nbh_last_err() > 0 ? nbh_last_err() : EIO;
	snprintf(rep.error.reason, sizeof(rep.error.reason), "%s", nbh_last_reason());
	nbh_log("uid %u: %s", (unsigned)s->who.uid, rep.error.reason);
	nbp_send(s->sock, &rep, sizeof(rep.error), NULL, 0);
}

/* One request; returns 1 to go on, 0 when the session is over. */
static int serve_one(struct session *s)
{
	int in_fds[NB_MAX_DEVICES], out_fds[NB_MAX_DEVICES];
	union nbp_msg req, rep;
	unsigned n_in = 0, n_out = 0;
	char why[NBP_TEXT_LEN];
	int rc, err;
	long n;

	n = nbp_recv(s->sock, &req, in_fds, &n_in);
	if (n == 0 || (n < 0 && errno != EMSGSIZE))
		return 0; /* hang-up, or SIGTERM while waiting */
	if (n < 0) {
		nbh_fail(EMSGSIZE, "bad request: message or fd list too long");
		send_error(s);
		return 0;
	}
	for (unsigned i = 0; i < n_in; i++)
		close(in_fds[i]); /* clients never send fds; validate says so */
	err = nbp_validate(&req, (size_t)n, n_in, false, why, sizeof(why));
	if (err) {
		nbh_fail(err, "bad request: %s", why);
		send_error(s);
		return 0;
	}
	if (!nbp_permitted(s->state, req.hdr.type)) {
		nbh_fail(EPROTO, "request 0x%x not permitted in session state %d",
			 req.hdr.type, s->state);
		send_error(s);
		return 0;
	}
	rc = dispatch[req.hdr.type](s, &req, &rep, out_fds, &n_out);
	if (rc == 0 && nbp_send(s->sock, &rep, rep.hdr.len, out_fds, n_out) < 0)
		rc = nbh_fail(errno, "sending the reply: %s", strerror(errno));
	else if (rc < 0)
		send_error(s);
	/* Device fds were copies for the worker only: keep none of them. */
	if (req.hdr.type == NBP_READY)
		for (unsigned i = 0; i < n_out; i++)
			close(out_fds[i]);
	if (rc < 0)
		return 0;
	s->state = nbp_next_state(s->state, req.hdr.type);
	return s->state != NBP_S_DONE;
}

/*
 * Stop DMA before unmapping: the worker's device fds are gone or going
 * (the kernel resets the device when the last one closes); then the IOMMU
 * mappings and container, then the pool pages, then the drivers.
 */
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

static int peer_identity(struct session *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(s->sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return nbh_fail(errno, "SO_PEERCRED: %s", strerror(errno));
	s->who.uid = cred.uid;
	s->who.gid = cred.gid;
	s->pid = cred.pid;
	/* Supplementary groups as of connect(); too many: group rules fail closed. */
	len = sizeof(s->who.groups);
	if (getsockopt(s->sock, SOL_SOCKET, SO_PEERGROUPS, s->who.groups, &len) == 0)
		s->who.n_groups = len / sizeof(gid_t);
	else
		nbh_log("uid %u: SO_PEERGROUPS: %s; group rules use the primary group only",
			cred.uid, strerror(errno));
	return 0;
}

void nbh_session_run(int sock, const struct nbh_policy *policy)
{
	struct session s = { .sock = sock, .state = NBP_S_NEW, .policy = policy };
	struct sigaction sa = { .sa_handler = on_sigterm };

	/* No SA_RESTART: SIGTERM interrupts recvmsg and we tear down. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (peer_identity(&s) < 0) {
		send_error(&s);
	} else {
		while (!stop_requested && serve_one(&s))
			;
	}
	teardown(&s);
	close(sock);
}
