/* SPDX-License-Identifier: MIT */
/*
 * session.c - the client side of the nicbox-helper protocol (proto/
 * proto.h): one SOCK_SEQPACKET connection, one request and one reply at a
 * time, every reply checked: framing by the validator the helper uses, then
 * every field here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "nb_lockdown.h"
#include "nb_session.h"
#include "proto.h"

_Static_assert(sizeof("nicbox-helper: ") + NBP_TEXT_LEN <= NB_ERROR_LEN,
	       "a helper's reason fits nb_last_error() whole");

struct nb_session {
	int sock;
	unsigned timeout;  /* seconds to wait for connect() and each reply */
	char path[108];
	unsigned n_devs;
	struct {
		char bdf[NBP_BDF_LEN];
		int fd;        /* -1 until READY_OK */
		bool taken;    /* an nb_pci owns the fd now */
	} devs[NB_MAX_DEVICES];
	int pool_fds[NB_MAX_POOLS]; /* owned by their nb_pool; kept in lockdown */
	unsigned n_pools;
	bool ready;
};

int nb_reply_validate(const void *buf, size_t len, unsigned n_fds, char *why,
		      size_t why_len)
{
	const union nbp_msg *m = buf;
	const struct nbp_pool_ok *p = &m->pool_ok;
	int err = nbp_validate(buf, len, n_fds, true, why, why_len);

	if (err)
		return err;
	switch (m->hdr.type) {
	case NBP_HELLO_OK:
		return m->hello_ok.max_devices <= NB_MAX_DEVICES &&
		       m->hello_ok.max_pools <= NB_MAX_POOLS ? 0 : BAD(EBADMSG, "hello_ok: limits");
	case NBP_CLAIM_OK:
		return m->claim_ok.index < NB_MAX_DEVICES && !m->claim_ok.zero &&
		       nbp_text_ok(m->claim_ok.bdf, sizeof(m->claim_ok.bdf), false) ? 0 :
		       BAD(EBADMSG, "claim_ok: index or PCI address");
	case NBP_POOL_OK:
		return p->index < NB_MAX_POOLS && !p->zero && p->page_size >= 4096 &&
		       !(p->page_size & (p->page_size - 1)) && p->size > 0 &&
		       p->size <= NBP_MAX_POOL_BYTES && p->size % p->page_size == 0 &&
		       p->iova_base % p->page_size == 0 && p->iova_base + p->size > p->iova_base &&
		       nbp_text_ok(p->warning, sizeof(p->warning), true) ? 0 :
		       BAD(EBADMSG, "pool_ok: size, page size, IOVA or warning out of range");
	case NBP_READY_OK:
		if (m->ready_ok.n_devices < 1 || m->ready_ok.n_devices > NB_MAX_DEVICES ||
		    m->ready_ok.zero)
			return BAD(EBADMSG, "ready_ok: %u devices", m->ready_ok.n_devices);
		return n_fds == m->ready_ok.n_devices ? 0 :
		       BAD(EPROTO, "ready_ok: %u fds for %u devices", n_fds, m->ready_ok.n_devices);
	case NBP_ERROR:
		return m->error.err > 0 && m->error.err < 4096 && !m->error.zero &&
		       nbp_text_ok(m->error.reason, sizeof(m->error.reason), true) ? 0 :
		       BAD(EBADMSG, "error: errno or reason out of range");
	}
	return 0; /* RELEASE_OK: a bare header */
}

/*
 * Send `req`, receive one reply of type `want` (or ERROR) with its fds.
 * On failure no received fd stays open.
 */
static int transact(struct nb_session *s, const void *req, uint16_t want,
		    union nbp_msg *rep, int fds[NB_MAX_DEVICES], unsigned *n_fds)
{
	char why[NBP_TEXT_LEN];
	long n;
	int err;

	if (s->sock < 0)
		return nb_fail(ENOTCONN, "nicbox-helper session at %s is closed", s->path);
	/* A helper that refused us at connect() has sent its ERROR and hung
	 * up: the send, or the first receive, fails with EPIPE or ECONNRESET,
	 * and the reason is still waiting to be read. */
	if (nbp_send(s->sock, req, ((const struct nbp_hdr *)req)->len, NULL, 0) < 0 &&
	    errno != EPIPE && errno != ECONNRESET)
		return nb_fail(errno, "sending to nicbox-helper at %s: %s", s->path,
			       strerror(errno));
	n = nbp_recv(s->sock, rep, fds, n_fds);
	if (n < 0 && errno == ECONNRESET)
		n = nbp_recv(s->sock, rep, fds, n_fds);
	if (n < 0 && errno == EAGAIN)
		return nb_fail(ETIMEDOUT, "nicbox-helper at %s did not answer within %u s "
			       "(NICBOX_TIMEOUT)", s->path, s->timeout);
	if (n <= 0)
		return nb_fail(n == 0 ? ECONNRESET : errno,
			       "nicbox-helper at %s: %s", s->path,
			       n == 0 ? "hung up" : strerror(errno));
	err = nb_reply_validate(rep, (size_t)n, *n_fds, why, sizeof(why));
	if (!err && rep->hdr.type == NBP_ERROR)
		err = -1;
	else if (!err && rep->hdr.type != want) {
		snprintf(why, sizeof(why), "reply type 0x%x, expected 0x%x",
			 rep->hdr.type, want);
		err = EPROTO;
	}
	if (!err)
		return 0;
	for (unsigned i = 0; i < *n_fds; i++)
		close(fds[i]);
	*n_fds = 0;
	if (err < 0)
		return nb_fail(rep->error.err, "nicbox-helper: %s", rep->error.reason);
	return nb_fail(err, "bad reply from nicbox-helper: %s", why);
}

/*
 * The uid the host's root has in our user namespace: 0 outside containers;
 * in a user namespace (a rootless container) the uid_map line that maps the
 * parent's 0, else the overflow uid, which every unmapped uid reads as.
 */
static uid_t host_root_uid(void)
{
	unsigned long in, out, count, overflow = 65534;
	FILE *f = fopen("/proc/self/uid_map", "re");
	uid_t uid = (uid_t)-1;

	while (f && uid == (uid_t)-1 && fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3)
		if (out == 0 && count > 0)
			uid = (uid_t)in;
	if (f)
		fclose(f);
	f = uid == (uid_t)-1 ? fopen("/proc/sys/kernel/overflowuid", "re") : NULL;
	if (f && fscanf(f, "%lu", &overflow) != 1)
		overflow = 65534;
	if (f)
		fclose(f);
	return uid != (uid_t)-1 ? uid : (uid_t)overflow;
}

/*
 * Connect with a deadline (NICBOX_TIMEOUT seconds, default 30, for connect()
 * and then for every reply), to a listener that runs as root or as our own
 * uid (which could do anything we can anyway): any other process that got
 * to the socket path first is not nicbox-helper. In a rootless container
 * the host's root reads as host_root_uid(); only whoever built the
 * container's mounts can put a socket there that another host user serves.
 */
static int nb_helper_connect(struct nb_session *s, const struct sockaddr_un *addr)
{
	const char *env = getenv("NICBOX_TIMEOUT");
	char *end = NULL;
	unsigned long secs = env && *env ? strtoul(env, &end, 10) : 30;
	struct timeval tv = { .tv_sec = (time_t)secs };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int err;

	s->sock = -1;
	if ((end && *end) || secs == 0 || secs > 86400)
		return nb_fail(EINVAL, "NICBOX_TIMEOUT=%s: want whole seconds, 1 to 86400", env);
	s->timeout = (unsigned)secs;
	s->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s->sock >= 0 && setsockopt(s->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
	    setsockopt(s->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
	    connect(s->sock, (const struct sockaddr *)addr, sizeof(*addr)) == 0 &&
	    getsockopt(s->sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		if (cred.uid == 0 || cred.uid == geteuid() || cred.uid == host_root_uid())
			return 0;
		return nb_fail(EPERM, "%s is served by uid %u, not root: that is not "
			       "nicbox-helper", s->path, (unsigned)cred.uid);
	}
	err = errno;
	if (err == EACCES)
		return nb_fail(err, "no permission to connect to %s: is your "
			       "user in nicbox-helper's --group?", s->path);
	if (err == EAGAIN)
		return nb_fail(ETIMEDOUT, "nicbox-helper at %s accepted no connection within "
			       "%u s (NICBOX_TIMEOUT)", s->path, s->timeout);
	return nb_fail(err, "cannot connect to %s: %s (is nicbox-helper running?)",
		       s->path, strerror(err));
}

NB_API int nb_session_open(const char *path, struct nb_session **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct nb_session *s;
	union nbp_msg req, rep;
	int fds[NB_MAX_DEVICES];
	unsigned n_fds;

	if (!path)
		path = getenv("NICBOX_SOCKET");
	if (!path || !*path)
		path = NB_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(addr.sun_path))
		return nb_fail(ENAMETOOLONG, "socket path too long: %s", path);
	s = calloc(1, sizeof(*s));
	if (!s)
		return nb_fail(ENOMEM, "out of memory");
	strcpy(s->path, path);
	strcpy(addr.sun_path, path);
	for (unsigned i = 0; i < NB_MAX_DEVICES; i++)
		s->devs[i].fd = -1;
	if (nb_helper_connect(s, &addr) < 0 ||
	    (nbp_init(&req, NBP_HELLO), transact(s, &req, NBP_HELLO_OK, &rep, fds, &n_fds)) < 0) {
		if (s->sock >= 0)
			close(s->sock);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

NB_API int nb_session_claim(struct nb_session *s, const char *device)
{
	union nbp_msg req, rep;
	int fds[NB_MAX_DEVICES];
	unsigned n_fds;

	if (!device || !*device || strlen(device) >= sizeof(req.claim.device))
		return nb_fail(EINVAL, "bad device name (PCI address or interface name)");
	if (s->ready || s->n_devs == NB_MAX_DEVICES)
		return nb_fail(EINVAL, "claim before nb_session_ready, at most %d devices",
			       NB_MAX_DEVICES);
	nbp_init(&req, NBP_CLAIM);
	strcpy(req.claim.device, device);
	if (transact(s, &req, NBP_CLAIM_OK, &rep, fds, &n_fds) < 0)
		return -1;
	if (rep.claim_ok.index != s->n_devs)
		return nb_fail(EPROTO, "nicbox-helper numbered %s as %u, expected %u",
			       device, rep.claim_ok.index, s->n_devs);
	strcpy(s->devs[s->n_devs].bdf, rep.claim_ok.bdf);
	return (int)s->n_devs++;
}

NB_API int nb_session_pool(struct nb_session *s, size_t bytes,
			   enum nb_page_size page, struct nb_pool **out,
			   char *warning, size_t warning_len)
{
	union nbp_msg req, rep;
	int fds[NB_MAX_DEVICES];
	unsigned n_fds;

	if ((unsigned)page > NBP_PAGE_MAX || bytes == 0)
		return nb_fail(EINVAL, "bad pool size or page size");
	if (s->n_pools == NB_MAX_POOLS)
		return nb_fail(E2BIG, "a session has at most %d pools", NB_MAX_POOLS);
	nbp_init(&req, NBP_POOL);
	req.pool.bytes = bytes;
	req.pool.page = page;
	if (transact(s, &req, NBP_POOL_OK, &rep, fds, &n_fds) < 0)
		return -1;
	if (rep.pool_ok.size < bytes || nb_pool_map(fds[0], rep.pool_ok.size,
			rep.pool_ok.iova_base, rep.pool_ok.page_size, out) < 0) {
		close(fds[0]);
		return rep.pool_ok.size < bytes ? nb_fail(EPROTO, "pool smaller than asked") : -1;
	}
	s->pool_fds[s->n_pools++] = fds[0];
	if (warning && warning_len)
		snprintf(warning, warning_len, "%s", rep.pool_ok.warning);
	return 0;
}

NB_API int nb_session_ready(struct nb_session *s)
{
	union nbp_msg req, rep;
	int fds[NB_MAX_DEVICES];
	unsigned n_fds;

	if (s->ready)
		return nb_fail(EINVAL, "session is already ready");
	nbp_init(&req, NBP_READY);
	if (transact(s, &req, NBP_READY_OK, &rep, fds, &n_fds) < 0)
		return -1;
	if (n_fds != s->n_devs) {
		for (unsigned i = 0; i < n_fds; i++)
			close(fds[i]);
		return nb_fail(EPROTO, "nicbox-helper sent %u device fds for %u claims",
			       n_fds, s->n_devs);
	}
	for (unsigned i = 0; i < n_fds; i++)
		s->devs[i].fd = fds[i];
	s->ready = true;
	return 0;
}

int nb_session_take_pci(struct nb_session *s, int index, struct nb_pci **out)
{
	if (!s->ready || index < 0 || (unsigned)index >= s->n_devs)
		return nb_fail(EINVAL, "no device %d in this session (claimed %u, ready %s)",
			       index, s->n_devs, s->ready ? "yes" : "no");
	if (s->devs[index].taken)
		return nb_fail(EBUSY, "device %d (%s) is already open", index,
			       s->devs[index].bdf);
	if (nb_pci_open_vfio(s->devs[index].fd, s->devs[index].bdf, out) < 0)
		return -1;
	s->devs[index].taken = true;
	return 0;
}

NB_API int nb_dev_open(struct nb_session *s, int index, struct nb_pool *dma,
		       const struct nb_dev_conf *conf, struct nb_dev **out)
{
	struct nb_pci *pci;

	if (nb_session_take_pci(s, index, &pci) < 0)
		return -1;
	if (nb_dev_open_pci(pci, dma, conf, out) < 0) {
		pci->ops->close(pci);
		return -1;
	}
	return 0;
}

unsigned nb_session_fds(const struct nb_session *s, struct nb_fd_role *fds,
			unsigned max)
{
	unsigned n = 0;

	if (s->sock >= 0 && n < max)
		fds[n++] = (struct nb_fd_role){ s->sock, NB_FDS_SESSION };
	for (unsigned i = 0; i < s->n_devs && n < max; i++)
		if (s->devs[i].fd >= 0)
			fds[n++] = (struct nb_fd_role){ s->devs[i].fd, NB_FDS_DEVICE };
	for (unsigned i = 0; i < s->n_pools && n < max; i++)
		fds[n++] = (struct nb_fd_role){ s->pool_fds[i], NB_FDS_POOL };
	return n;
}

/*
 * Device fds we still own are closed first, so the helper's driver restore
 * does not wait on them; fds owned by an open nb_dev stay until its close.
 */
NB_API void nb_session_close(struct nb_session *s)
{
	union nbp_msg req, rep;
	int fds[NB_MAX_DEVICES];
	unsigned n_fds;

	if (!s)
		return;
	for (unsigned i = 0; i < s->n_devs; i++)
		if (s->devs[i].fd >= 0 && !s->devs[i].taken)
			close(s->devs[i].fd);
	nbp_init(&req, NBP_RELEASE);
	transact(s, &req, NBP_RELEASE_OK, &rep, fds, &n_fds);
	close(s->sock);
	free(s);
}
