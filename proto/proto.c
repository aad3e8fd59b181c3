/* SPDX-License-Identifier: MIT */
/* proto.c - sizes, state table, validator and the one fd send/recv pair. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

_Static_assert(sizeof(struct nbp_pool_ok) == 16 + 32 + NBP_TEXT_LEN, "wire layout");

/* Replies have bit 7 set; an unknown type has size 0. */
static const uint16_t sizes[256] = {
	[NBP_HELLO] = sizeof(struct nbp_hello), [NBP_CLAIM] = sizeof(struct nbp_claim),
	[NBP_POOL] = sizeof(struct nbp_pool), [NBP_READY] = sizeof(struct nbp_hdr),
	[NBP_RELEASE] = sizeof(struct nbp_hdr), [NBP_HELLO_OK] = sizeof(struct nbp_hello_ok),
	[NBP_CLAIM_OK] = sizeof(struct nbp_claim_ok), [NBP_POOL_OK] = sizeof(struct nbp_pool_ok),
	[NBP_READY_OK] = sizeof(struct nbp_ready_ok), [NBP_RELEASE_OK] = sizeof(struct nbp_hdr),
	[NBP_ERROR] = sizeof(struct nbp_error),
};

size_t nbp_size(uint16_t type)
{
	return type < 256 ? sizes[type] : 0;
}

void nbp_init(void *msg, uint16_t type)
{
	struct nbp_hdr *h = msg;

	memset(msg, 0, nbp_size(type));
	*h = (struct nbp_hdr){ .magic = NBP_MAGIC, .len = (uint32_t)nbp_size(type),
			       .version = NBP_VERSION, .type = type };
}

/* The state machine: the state after each permitted request, plus 1 (0: refused). */
#define TO(state) (1 + (state))
static const uint8_t next[NBP_S_DONE + 1][NBP_RELEASE + 1] = {
	[NBP_S_NEW] = { [NBP_HELLO] = TO(NBP_S_HELLO) },
	[NBP_S_HELLO] = { [NBP_CLAIM] = TO(NBP_S_CLAIMED), [NBP_RELEASE] = TO(NBP_S_DONE) },
	[NBP_S_CLAIMED] = { [NBP_CLAIM] = TO(NBP_S_CLAIMED), [NBP_POOL] = TO(NBP_S_POOLED),
			    [NBP_READY] = TO(NBP_S_READY), [NBP_RELEASE] = TO(NBP_S_DONE) },
	[NBP_S_POOLED] = { [NBP_POOL] = TO(NBP_S_POOLED), [NBP_READY] = TO(NBP_S_READY),
			   [NBP_RELEASE] = TO(NBP_S_DONE) },
	[NBP_S_READY] = { [NBP_RELEASE] = TO(NBP_S_DONE) },
};

bool nbp_permitted(enum nbp_state state, uint16_t type)
{
	return (unsigned)state <= NBP_S_DONE && type <= NBP_RELEASE && next[state][type];
}

enum nbp_state nbp_next_state(enum nbp_state state, uint16_t type)
{
	return nbp_permitted(state, type) ? (enum nbp_state)(next[state][type] - 1) : state;
}

bool nbp_text_ok(const char *s, size_t cap, bool may_be_empty)
{
	size_t n = strnlen(s, cap);

	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return n < cap && (n > 0 || may_be_empty);
}

/* Field checks of the requests; the client checks replies (core/session.c). */
static int validate_request(const union nbp_msg *m, char *why, size_t why_len)
{
	switch (m->hdr.type) {
	case NBP_HELLO:
		return m->hello.flags || m->hello.zero ? BAD(EBADMSG, "hello: unknown flags") : 0;
	case NBP_CLAIM:
		return nbp_text_ok(m->claim.device, sizeof(m->claim.device), false) ? 0 :
		       BAD(EBADMSG, "claim: device name is not a NUL-terminated printable string");
	case NBP_POOL:
		return m->pool.bytes > 0 && m->pool.bytes <= NBP_MAX_POOL_BYTES &&
		       m->pool.page <= NBP_PAGE_MAX && !m->pool.zero ? 0 :
		       BAD(EBADMSG, "pool: size %llu not in 1 .. 64 GiB or page size %u unknown",
			   (unsigned long long)m->pool.bytes, m->pool.page);
	}
	return 0; /* READY, RELEASE: a bare header */
}

int nbp_validate(const void *buf, size_t len, unsigned n_fds, bool from_helper,
		 char *why, size_t why_len)
{
	const union nbp_msg *m = buf;
	size_t size;

	if (len < sizeof(struct nbp_hdr))
		return BAD(EBADMSG, "message of %zu bytes is shorter than a header", len);
	if (len > sizeof(union nbp_msg))
		return BAD(E2BIG, "message of %zu bytes is too long", len);
	if (m->hdr.magic != NBP_MAGIC || m->hdr.version != NBP_VERSION)
		return BAD(EPROTO, "magic 0x%08x version %u, expected 0x%08x version %u",
			   m->hdr.magic, m->hdr.version, NBP_MAGIC, NBP_VERSION);
	size = nbp_size(m->hdr.type);
	if (size == 0 || (m->hdr.type >= 0x80) != from_helper)
		return BAD(EPROTO, "unexpected message type 0x%x", m->hdr.type);
	if (len != size || m->hdr.len != size || m->hdr.zero != 0)
		return BAD(EBADMSG, "type 0x%x: %zu bytes (header says %u), expected %zu",
			   m->hdr.type, len, m->hdr.len, size);
	if (m->hdr.type != NBP_READY_OK && n_fds != (m->hdr.type == NBP_POOL_OK))
		return BAD(EPROTO, "type 0x%x carries %u fds, expected %d", m->hdr.type, n_fds,
			   m->hdr.type == NBP_POOL_OK);
	return from_helper ? 0 : validate_request(m, why, why_len);
}

union nbp_cmsg {
	char buf[CMSG_SPACE(sizeof(int) * NB_MAX_DEVICES)];
	struct cmsghdr align;
};

int nbp_send(int sock, const void *msg, size_t len, const int *fds, unsigned n_fds)
{
	union nbp_cmsg ctrl = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (n_fds > NB_MAX_DEVICES)
		return (errno = EINVAL), -1;
	if (n_fds > 0) {
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		*c = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(int) * n_fds),
				       .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS };
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != len)
		errno = EMSGSIZE;
	return (size_t)n == len ? 0 : -1;
}

long nbp_recv(int sock, union nbp_msg *msg, int fds[NB_MAX_DEVICES], unsigned *n_fds)
{
	union nbp_cmsg ctrl;
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
			     .msg_controllen = sizeof(ctrl.buf) };
	bool foreign = false;
	/* MSG_TRUNC makes n the record's real length, so an over-long one shows. */
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC);

	*n_fds = 0;
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		bool rights = c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS;

		foreign |= !rights;
		for (size_t i = 0; rights && i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*n_fds < NB_MAX_DEVICES)
				fds[(*n_fds)++] = fd;
			else
				close(fd);
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || foreign || (size_t)n > sizeof(*msg)) {
		while (*n_fds > 0)
			close(fds[--*n_fds]);
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}
