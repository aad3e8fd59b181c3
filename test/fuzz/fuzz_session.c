/* SPDX-License-Identifier: MIT */
/*
 * fuzz_session.c - the helper's real session state machine and dispatch
 * (privhelper/session.c) driven through a SOCK_SEQPACKET socketpair, with
 * the machine faked (test/privsep/fake_helper.c): bind, IOMMU and pools.
 * Each input is up to 8 messages, each with an optional control message:
 * SCM_RIGHTS (one fd or more than a message may carry), SCM_CREDENTIALS.
 * Checks: no crash or sanitizer report, every reply the helper sends passes
 * the client's validator, and no fd is left open after the session.
 *
 * Input: byte 0 = which fake steps fail (fake_helper.h), byte 1 bit 0 =
 * SO_PASSCRED on the helper's end; then records: kind (1 byte), length
 * (1 byte), that many bytes. kind bits 0-1: 0 no cmsg, 1 one fd, 2 nine
 * fds, 3 SCM_CREDENTIALS; bit 2: the bytes are a payload behind a valid
 * header whose type is the record's first byte (reaches deep states fast).
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_helper.h"
#include "nb_session.h"

#define MAX_RECORDS 8 /* fewer than net.unix.max_dgram_qlen (10): no send blocks */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* Send one record; false if the socket would not take it. */
static bool send_record(int sock, uint8_t kind, const uint8_t *body, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 9) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctrl;
	union nbp_msg msg;
	char raw[256];
	struct iovec iov = { .iov_base = raw, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int fds[9];
	unsigned n_fds = (kind & 3) == 1 ? 1 : (kind & 3) == 2 ? 9 : 0;
	bool sent;

	memcpy(raw, body, len);
	if ((kind & 4) && len > 0) { /* header + payload */
		size_t size = nbp_size(body[0]);

		nbp_init(&msg, body[0]);
		memcpy((char *)&msg + sizeof(msg.hdr), body + 1,
		       len - 1 < sizeof(msg) - sizeof(msg.hdr) ? len - 1 : sizeof(msg) - sizeof(msg.hdr));
		iov = (struct iovec){ .iov_base = &msg, .iov_len = size ? size : sizeof(msg.hdr) };
		msg.hdr.len = (uint32_t)iov.iov_len;
	}
	if (kind & 3) {
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = (kind & 3) == 3 ? CMSG_SPACE(sizeof(struct ucred)) :
						      CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		if ((kind & 3) == 3) {
			struct ucred me = { getpid(), getuid(), getgid() };

			c->cmsg_type = SCM_CREDENTIALS;
			c->cmsg_len = CMSG_LEN(sizeof(me));
			memcpy(CMSG_DATA(c), &me, sizeof(me));
		} else {
			for (unsigned i = 0; i < n_fds; i++)
				fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
		}
	}
	sent = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
	for (unsigned i = 0; i < n_fds; i++)
		close(fds[i]); /* in flight, the kernel holds its own references */
	return sent;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nbh_ident *who;
	static struct nbh_ident me;
	static struct nbh_policy policy;
	union nbp_msg rep;
	int sv[2], fds[NB_MAX_DEVICES], one = 1;
	unsigned n_fds, before = count_fds(), records = 0;
	char why[NBP_TEXT_LEN];
	long n;

	if (!who) {
		char text[160], err[256];

		me = (struct nbh_ident){ .uid = getuid(), .gid = getgid() };
		snprintf(text, sizeof(text), "allow user:%u pci:0000:1e:01.4 pool=8M\n"
			 "allow user:%u id:1af4:1041 pool=64M\n", me.uid, me.uid);
		if (nbh_policy_parse(text, strlen(text), "fuzz.conf", &policy, err, sizeof(err)) < 0)
			__builtin_trap();
		who = &me;
	}
	if (size < 2 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	fake_helper = (struct fake_helper){ .fail = data[0] };
	if (data[1] & 1)
		setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	for (size_t at = 2; at + 2 <= size && records < MAX_RECORDS; records++) {
		size_t len = data[at + 1] < size - at - 2 ? data[at + 1] : size - at - 2;

		if (!send_record(sv[0], data[at], data + at + 2, len))
			break;
		at += 2 + len;
	}
	shutdown(sv[0], SHUT_WR);
	nbh_session_run(sv[1], &policy, who, getpid()); /* closes sv[1] */
	while ((n = nbp_recv(sv[0], &rep, fds, &n_fds)) > 0) {
		if (nb_reply_validate(&rep, (size_t)n, n_fds, why, sizeof(why)) != 0)
			__builtin_trap(); /* the helper sent what its client refuses */
		while (n_fds > 0)
			close(fds[--n_fds]);
	}
	close(sv[0]);
	if (fake_helper.pools_created != fake_helper.pools_destroyed || count_fds() != before)
		__builtin_trap(); /* a pool or an fd outlived its session */
	return 0;
}
