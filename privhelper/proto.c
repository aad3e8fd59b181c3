/* SPDX-License-Identifier: MIT */
/*
 * proto.c - message sizes, the per-state request table, the validator and
 * the one fd send/recv pair. Compiled into both nicbox-helper and libnicbox.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

_Static_assert(sizeof(struct nbp_hdr) == 16, "header layout");
_Static_assert(sizeof(struct nbp_pool_ok) == 208, "pool_ok layout");
_Static_assert(sizeof(struct nbp_claim_ok) == 48, "claim_ok layout");

struct nbp_type_info {
	uint16_t type;
	uint16_t size;
	bool from_helper;
	uint8_t n_fds; /* fixed fd count; READY_OK: n_devices (checked apart) */
};

static const struct nbp_type_info types[] = {
	{ NBP_HELLO, sizeof(struct nbp_hello), false, 0 },
	{ NBP_CLAIM, sizeof(struct nbp_claim), false, 0 },
	{ NBP_POOL, sizeof(struct nbp_pool), false, 0 },
	{ NBP_READY, sizeof(struct nbp_ready), false, 0 },
	{ NBP_RELEASE, sizeof(struct nbp_release), false, 0 },
	{ NBP_HELLO_OK, sizeof(struct nbp_hello_ok), true, 0 },
	{ NBP_CLAIM_OK, sizeof(struct nbp_claim_ok), true, 0 },
	{ NBP_POOL_OK, sizeof(struct nbp_pool_ok), true, 1 },
	{ NBP_READY_OK, sizeof(struct nbp_ready_ok), true, 0 },
	{ NBP_RELEASE_OK, sizeof(struct nbp_release_ok), true, 0 },
	{ NBP_ERROR, sizeof(struct nbp_error), true, 0 },
};

static const struct nbp_type_info *type_info(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

size_t nbp_size(uint16_t type)
{
	const struct nbp_type_info *ti = type_info(type);

	return ti ? ti->size : 0;
}

void nbp_init(void *msg, uint16_t type)
{
	struct nbp_hdr *h = msg;
	size_t size = nbp_size(type);

	memset(msg, 0, size);
	h->magic = NBP_MAGIC;
	h->version = NBP_VERSION;
	h->type = type;
	h->len = (uint32_t)size;
}

/* Which requests each state permits (bit n = request type n). */
#define REQ(t) (1u << (t))
static const unsigned permitted[] = {
	[NBP_S_NEW] = REQ(NBP_HELLO),
	[NBP_S_HELLO] = REQ(NBP_CLAIM) | REQ(NBP_RELEASE),
	[NBP_S_CLAIMED] = REQ(NBP_CLAIM) | REQ(NBP_POOL) | REQ(NBP_READY) |
			  REQ(NBP_RELEASE),
	[NBP_S_POOLED] = REQ(NBP_POOL) | REQ(NBP_READY) | REQ(NBP_RELEASE),
	[NBP_S_READY] = REQ(NBP_RELEASE),
	[NBP_S_DONE] = 0,
};

bool nbp_permitted(enum nbp_state state, uint16_t type)
{
	if ((unsigned)state > NBP_S_DONE || type == 0 || type > NBP_RELEASE)
		return false;
	return permitted[state] & REQ(type);
}

enum nbp_state nbp_next_state(enum nbp_state state, uint16_t type)
{
	switch (type) {
	case NBP_HELLO: return NBP_S_HELLO;
	case NBP_CLAIM: return NBP_S_CLAIMED;
	case NBP_POOL: return NBP_S_POOLED;
	case NBP_READY: return NBP_S_READY;
	case NBP_RELEASE: return NBP_S_DONE;
	default: return state;
	}
}

static int bad(int err, char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(int err, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return err;
}

/* A string field must end inside its array; printable ASCII only. */
static bool text_ok(const char *s, size_t cap, bool may_be_empty)
{
	size_t n = strnlen(s, cap);

	if (n == cap || (n == 0 && !may_be_empty))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

#define CHECK(cond, ...) \
	do { if (!(cond)) return bad(EBADMSG, why, why_len, __VA_ARGS__); } while (0)

static int validate_fields(const union nbp_msg *m, unsigned n_fds, char *why,
			   size_t why_len)
{
	switch (m->hdr.type) {
	case NBP_HELLO:
		CHECK(m->hello.flags == 0 && m->hello.zero == 0,
		      "hello: unknown flags");
		break;
	case NBP_CLAIM:
		CHECK(text_ok(m->claim.device, sizeof(m->claim.device), false),
		      "claim: device name not a NUL-terminated printable string");
		break;
	case NBP_POOL:
		CHECK(m->pool.bytes > 0 && m->pool.bytes <= NBP_MAX_POOL_BYTES,
		      "pool: size %llu out of range (1 .. %llu)",
		      (unsigned long long)m->pool.bytes, NBP_MAX_POOL_BYTES);
		CHECK(m->pool.page <= NBP_PAGE_MAX && m->pool.zero == 0,
		      "pool: unknown page size %u", m->pool.page);
		break;
	case NBP_HELLO_OK:
		CHECK(m->hello_ok.max_devices <= NB_MAX_DEVICES &&
		      m->hello_ok.max_pools <= NB_MAX_POOLS, "hello_ok: limits");
		break;
	case NBP_CLAIM_OK:
		CHECK(m->claim_ok.index < NB_MAX_DEVICES && m->claim_ok.zero == 0,
		      "claim_ok: index out of range");
		CHECK(text_ok(m->claim_ok.bdf, sizeof(m->claim_ok.bdf), false),
		      "claim_ok: bad PCI address");
		break;
	case NBP_POOL_OK: {
		const struct nbp_pool_ok *p = &m->pool_ok;

		CHECK(p->index < NB_MAX_POOLS && p->zero == 0, "pool_ok: index");
		CHECK(p->page_size >= 4096 && (p->page_size & (p->page_size - 1)) == 0,
		      "pool_ok: page size not a power of two >= 4096");
		CHECK(p->size > 0 && p->size <= NBP_MAX_POOL_BYTES &&
		      p->size % p->page_size == 0, "pool_ok: size");
		CHECK(p->iova_base % p->page_size == 0 &&
		      p->iova_base + p->size > p->iova_base, "pool_ok: IOVA");
		CHECK(text_ok(p->warning, sizeof(p->warning), true),
		      "pool_ok: warning text");
		break;
	}
	case NBP_READY_OK:
		CHECK(m->ready_ok.n_devices >= 1 &&
		      m->ready_ok.n_devices <= NB_MAX_DEVICES &&
		      m->ready_ok.zero == 0, "ready_ok: device count");
		if (n_fds != m->ready_ok.n_devices)
			return bad(EPROTO, why, why_len,
				   "ready_ok: %u fds for %u devices", n_fds,
				   m->ready_ok.n_devices);
		break;
	case NBP_ERROR:
		CHECK(m->error.err > 0 && m->error.err < 4096 && m->error.zero == 0,
		      "error: errno %d out of range", m->error.err);
		CHECK(text_ok(m->error.reason, sizeof(m->error.reason), true),
		      "error: reason text");
		break;
	default: /* READY, RELEASE, RELEASE_OK: header only */
		break;
	}
	return 0;
}

int nbp_validate(const void *buf, size_t len, unsigned n_fds, bool from_helper,
		 char *why, size_t why_len)
{
	const union nbp_msg *m = buf;
	const struct nbp_type_info *ti;

	if (len < sizeof(struct nbp_hdr))
		return bad(EBADMSG, why, why_len, "message of %zu bytes is shorter than a header", len);
	if (len > sizeof(union nbp_msg))
		return bad(E2BIG, why, why_len, "message of %zu bytes is too long", len);
	if (m->hdr.magic != NBP_MAGIC)
		return bad(EPROTO, why, why_len, "bad magic 0x%08x", m->hdr.magic);
	if (m->hdr.version != NBP_VERSION)
		return bad(EPROTO, why, why_len, "protocol version %u, expected %u",
			   m->hdr.version, NBP_VERSION);
	ti = type_info(m->hdr.type);
	if (!ti || ti->from_helper != from_helper)
		return bad(EPROTO, why, why_len, "unexpected message type 0x%x",
			   m->hdr.type);
	if (len != ti->size || m->hdr.len != ti->size || m->hdr.zero != 0)
		return bad(EBADMSG, why, why_len,
			   "type 0x%x: %zu bytes (header says %u), expected %u",
			   m->hdr.type, len, m->hdr.len, ti->size);
	if (m->hdr.type != NBP_READY_OK && n_fds != ti->n_fds)
		return bad(EPROTO, why, why_len, "type 0x%x carries %u fds, expected %u",
			   m->hdr.type, n_fds, ti->n_fds);
	return validate_fields(m, n_fds, why, why_len);
}

int nbp_send(int sock, const void *msg, size_t len, const int *fds,
	     unsigned n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * NB_MAX_DEVICES)];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (n_fds > NB_MAX_DEVICES) {
		errno = EINVAL;
		return -1;
	}
	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(&ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

long nbp_recv(int sock, union nbp_msg *msg, int fds[NB_MAX_DEVICES],
	      unsigned *n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * NB_MAX_DEVICES)];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctrl.buf,
			     .msg_controllen = sizeof(ctrl.buf) };
	bool foreign_cmsg = false;
	ssize_t n;

	*n_fds = 0;
	/* MSG_TRUNC makes n the record's real length, so an over-long one shows. */
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			foreign_cmsg = true;
			continue;
		}
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*n_fds < NB_MAX_DEVICES)
				fds[(*n_fds)++] = fd;
			else
				close(fd);
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || foreign_cmsg ||
	    (size_t)n > sizeof(*msg)) {
		for (unsigned i = 0; i < *n_fds; i++)
			close(fds[i]);
		*n_fds = 0;
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}
