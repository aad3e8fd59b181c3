/* SPDX-License-Identifier: MIT */
/*
 * test_proto.c - the helper protocol: encode/decode of every message, every
 * class of malformed message, the per-state table and fd passing over a
 * socketpair.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nb_session.h"
#include "proto.h"

static char why[256];

static int validate_req(const void *m, size_t len, unsigned n_fds)
{
	return nbp_validate(m, len, n_fds, false, why, sizeof(why));
}

static int validate_rep(const void *m, size_t len, unsigned n_fds)
{
	return nb_reply_validate(m, len, n_fds, why, sizeof(why));
}

static void test_every_message_validates(void **state)
{
	union nbp_msg m;
	(void)state;

	nbp_init(&m, NBP_HELLO);
	assert_int_equal(validate_req(&m, sizeof(m.hello), 0), 0);
	nbp_init(&m, NBP_CLAIM);
	strcpy(m.claim.device, "0000:00:04.0");
	assert_int_equal(validate_req(&m, sizeof(m.claim), 0), 0);
	nbp_init(&m, NBP_POOL);
	m.pool.bytes = 8 << 20;
	m.pool.page = NB_PAGE_2M;
	assert_int_equal(validate_req(&m, sizeof(m.pool), 0), 0);
	nbp_init(&m, NBP_READY);
	assert_int_equal(validate_req(&m, sizeof(m.hdr), 0), 0);
	nbp_init(&m, NBP_RELEASE);
	assert_int_equal(validate_req(&m, sizeof(m.hdr), 0), 0);

	nbp_init(&m, NBP_HELLO_OK);
	m.hello_ok.max_devices = NB_MAX_DEVICES;
	assert_int_equal(validate_rep(&m, sizeof(m.hello_ok), 0), 0);
	nbp_init(&m, NBP_CLAIM_OK);
	strcpy(m.claim_ok.bdf, "0000:00:04.0");
	assert_int_equal(validate_rep(&m, sizeof(m.claim_ok), 0), 0);
	nbp_init(&m, NBP_POOL_OK);
	m.pool_ok.size = 4 << 20;
	m.pool_ok.page_size = 2 << 20;
	m.pool_ok.iova_base = 1ull << 32;
	assert_int_equal(validate_rep(&m, sizeof(m.pool_ok), 1), 0);
	nbp_init(&m, NBP_READY_OK);
	m.ready_ok.n_devices = 2;
	assert_int_equal(validate_rep(&m, sizeof(m.ready_ok), 2), 0);
	nbp_init(&m, NBP_RELEASE_OK);
	assert_int_equal(validate_rep(&m, sizeof(m.hdr), 0), 0);
	nbp_init(&m, NBP_ERROR);
	m.error.err = EBUSY;
	strcpy(m.error.reason, "held by uid 1000");
	assert_int_equal(validate_rep(&m, sizeof(m.error), 0), 0);
}

static void test_short_messages(void **state)
{
	union nbp_msg m;
	(void)state;

	nbp_init(&m, NBP_CLAIM);
	strcpy(m.claim.device, "eth0");
	assert_int_equal(validate_req(&m, 0, 0), EBADMSG);
	assert_int_equal(validate_req(&m, sizeof(struct nbp_hdr) - 1, 0), EBADMSG);
	/* A header alone is too short for a claim. */
	assert_int_equal(validate_req(&m, sizeof(struct nbp_hdr), 0), EBADMSG);
	assert_int_equal(validate_req(&m, sizeof(m.claim) - 1, 0), EBADMSG);
	assert_non_null(strstr(why, "expected"));
}

static void test_long_messages(void **state)
{
	union nbp_msg m;
	(void)state;

	nbp_init(&m, NBP_HELLO);
	assert_int_equal(validate_req(&m, sizeof(m.hello) + 1, 0), EBADMSG);
	assert_int_equal(validate_req(&m, sizeof(m) + 1, 0), E2BIG);
	/* The header's own length field must agree too. */
	m.hdr.len += 8;
	assert_int_equal(validate_req(&m, sizeof(m.hello), 0), EBADMSG);
}

static void test_wrong_version_and_magic(void **state)
{
	union nbp_msg m;
	(void)state;

	nbp_init(&m, NBP_HELLO);
	m.hdr.version = NBP_VERSION + 1;
	assert_int_equal(validate_req(&m, sizeof(m.hello), 0), EPROTO);
	assert_non_null(strstr(why, "version"));
	nbp_init(&m, NBP_HELLO);
	m.hdr.magic ^= 1;
	assert_int_equal(validate_req(&m, sizeof(m.hello), 0), EPROTO);
	nbp_init(&m, NBP_HELLO);
	m.hdr.zero = 1;
	assert_int_equal(validate_req(&m, sizeof(m.hello), 0), EBADMSG);
}

static void test_wrong_type(void **state)
{
	union nbp_msg m;
	(void)state;

	nbp_init(&m, NBP_HELLO);
	m.hdr.type = 0x42;
	assert_int_equal(validate_req(&m, sizeof(m.hello), 0), EPROTO);
	/* A reply type sent by a client, a request type sent by the helper. */
	nbp_init(&m, NBP_RELEASE_OK);
	assert_int_equal(validate_req(&m, sizeof(m.hdr), 0), EPROTO);
	nbp_init(&m, NBP_RELEASE);
	assert_int_equal(validate_rep(&m, sizeof(m.hdr), 0), EPROTO);
}

static void test_bad_fd_count(void **state)
{
	union nbp_msg m;
	(void)state;

	/* Clients never send fds. */
	nbp_init(&m, NBP_HELLO);
	assert_int_equal(validate_req(&m, sizeof(m.hello), 1), EPROTO);
	nbp_init(&m, NBP_READY);
	assert_int_equal(validate_req(&m, sizeof(m.hdr), 2), EPROTO);
	/* POOL_OK carries exactly one memfd, READY_OK one fd per device. */
	nbp_init(&m, NBP_POOL_OK);
	m.pool_ok.size = 4096;
	m.pool_ok.page_size = 4096;
	assert_int_equal(validate_rep(&m, sizeof(m.pool_ok), 0), EPROTO);
	assert_int_equal(validate_rep(&m, sizeof(m.pool_ok), 2), EPROTO);
	nbp_init(&m, NBP_READY_OK);
	m.ready_ok.n_devices = 2;
	assert_int_equal(validate_rep(&m, sizeof(m.ready_ok), 1), EPROTO);
	m.ready_ok.n_devices = NB_MAX_DEVICES + 1;
	assert_int_equal(validate_rep(&m, sizeof(m.ready_ok), NB_MAX_DEVICES + 1),
			 EBADMSG);
}

static void test_bad_fields(void **state)
{
	union nbp_msg m;
	(void)state;

	nbp_init(&m, NBP_CLAIM);
	memset(m.claim.device, 'a', sizeof(m.claim.device)); /* no NUL */
	assert_int_equal(validate_req(&m, sizeof(m.claim), 0), EBADMSG);
	m.claim.device[0] = '\0'; /* empty */
	assert_int_equal(validate_req(&m, sizeof(m.claim), 0), EBADMSG);
	strcpy(m.claim.device, "eth\n0"); /* control character */
	assert_int_equal(validate_req(&m, sizeof(m.claim), 0), EBADMSG);

	nbp_init(&m, NBP_POOL);
	m.pool.bytes = 0;
	assert_int_equal(validate_req(&m, sizeof(m.pool), 0), EBADMSG);
	m.pool.bytes = NBP_MAX_POOL_BYTES + 1;
	assert_int_equal(validate_req(&m, sizeof(m.pool), 0), EBADMSG);
	m.pool.bytes = 4096;
	m.pool.page = NBP_PAGE_MAX + 1;
	assert_int_equal(validate_req(&m, sizeof(m.pool), 0), EBADMSG);

	nbp_init(&m, NBP_HELLO);
	m.hello.flags = 1;
	assert_int_equal(validate_req(&m, sizeof(m.hello), 0), EBADMSG);

	nbp_init(&m, NBP_POOL_OK);
	m.pool_ok.page_size = 3000;
	m.pool_ok.size = 6000;
	assert_int_equal(validate_rep(&m, sizeof(m.pool_ok), 1), EBADMSG);
	m.pool_ok.page_size = 4096;
	m.pool_ok.size = 4096;
	m.pool_ok.iova_base = ~0ull & ~4095ull; /* wraps */
	assert_int_equal(validate_rep(&m, sizeof(m.pool_ok), 1), EBADMSG);

	nbp_init(&m, NBP_ERROR);
	m.error.err = 0;
	assert_int_equal(validate_rep(&m, sizeof(m.error), 0), EBADMSG);
}

static void test_state_table(void **state)
{
	(void)state;
	assert_true(nbp_permitted(NBP_S_NEW, NBP_HELLO));
	assert_false(nbp_permitted(NBP_S_NEW, NBP_CLAIM));
	assert_false(nbp_permitted(NBP_S_NEW, NBP_RELEASE));
	assert_false(nbp_permitted(NBP_S_HELLO, NBP_HELLO));
	assert_false(nbp_permitted(NBP_S_HELLO, NBP_POOL)); /* pool needs a claim */
	assert_false(nbp_permitted(NBP_S_HELLO, NBP_READY));
	assert_true(nbp_permitted(NBP_S_CLAIMED, NBP_CLAIM));
	assert_true(nbp_permitted(NBP_S_CLAIMED, NBP_POOL));
	assert_false(nbp_permitted(NBP_S_POOLED, NBP_CLAIM)); /* claims first */
	assert_true(nbp_permitted(NBP_S_POOLED, NBP_READY));
	assert_false(nbp_permitted(NBP_S_READY, NBP_POOL));
	assert_true(nbp_permitted(NBP_S_READY, NBP_RELEASE));
	assert_false(nbp_permitted(NBP_S_DONE, NBP_RELEASE));
	assert_false(nbp_permitted(NBP_S_CLAIMED, NBP_CLAIM_OK));
	assert_false(nbp_permitted((enum nbp_state)99, NBP_HELLO));
	assert_int_equal(nbp_next_state(NBP_S_CLAIMED, NBP_POOL), NBP_S_POOLED);
	assert_int_equal(nbp_next_state(NBP_S_POOLED, NBP_READY), NBP_S_READY);
}

static int open_fd_count(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_fd_passing(void **state)
{
	int sv[2], fds[NB_MAX_DEVICES], memfd;
	union nbp_msg m, r;
	unsigned n_fds;
	struct stat a, b;
	(void)state;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memfd = memfd_create("test", MFD_CLOEXEC);
	assert_true(memfd >= 0);
	nbp_init(&m, NBP_POOL_OK);
	m.pool_ok.size = 4096;
	m.pool_ok.page_size = 4096;
	assert_int_equal(nbp_send(sv[0], &m, sizeof(m.pool_ok), &memfd, 1), 0);
	assert_int_equal(nbp_recv(sv[1], &r, fds, &n_fds), sizeof(m.pool_ok));
	assert_int_equal(n_fds, 1);
	assert_int_equal(validate_rep(&r, sizeof(r.pool_ok), n_fds), 0);
	assert_int_equal(r.pool_ok.size, 4096);
	/* Same open file, new descriptor, close-on-exec. */
	assert_int_equal(fstat(memfd, &a), 0);
	assert_int_equal(fstat(fds[0], &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_not_equal(fds[0], memfd);
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	close(fds[0]);
	close(memfd);

	/* Orderly hang-up reads as 0. */
	close(sv[0]);
	assert_int_equal(nbp_recv(sv[1], &r, fds, &n_fds), 0);
	close(sv[1]);
}

static void test_too_many_fds_are_closed(void **state)
{
	int sv[2], fds[NB_MAX_DEVICES], extra[NB_MAX_DEVICES + 2], before;
	char buf[sizeof(struct nbp_hello)];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	union {
		char b[CMSG_SPACE(sizeof(extra))];
		struct cmsghdr align;
	} ctrl;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b) };
	struct cmsghdr *c;
	union nbp_msg r;
	unsigned n_fds;
	(void)state;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (unsigned i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		extra[i] = sv[0];
	nbp_init(buf, NBP_HELLO);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(extra));
	memcpy(CMSG_DATA(c), extra, sizeof(extra));
	assert_int_equal(sendmsg(sv[0], &mh, 0), sizeof(buf));
	before = open_fd_count();
	errno = 0;
	assert_int_equal(nbp_recv(sv[1], &r, fds, &n_fds), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(n_fds, 0);
	assert_int_equal(open_fd_count(), before); /* nothing leaked */
	close(sv[0]);
	close(sv[1]);
}

static void test_oversized_record(void **state)
{
	int sv[2], fds[NB_MAX_DEVICES];
	char big[sizeof(union nbp_msg) + 64];
	union nbp_msg r;
	unsigned n_fds;
	(void)state;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(big, 0, sizeof(big));
	nbp_init(big, NBP_HELLO);
	assert_int_equal(send(sv[0], big, sizeof(big), 0), sizeof(big));
	assert_int_equal(nbp_recv(sv[1], &r, fds, &n_fds), -1);
	assert_int_equal(errno, EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_message_validates),
		cmocka_unit_test(test_short_messages),
		cmocka_unit_test(test_long_messages),
		cmocka_unit_test(test_wrong_version_and_magic),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_bad_fd_count),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_state_table),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_too_many_fds_are_closed),
		cmocka_unit_test(test_oversized_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
