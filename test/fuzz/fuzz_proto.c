/* SPDX-License-Identifier: MIT */
/*
 * fuzz_proto.c - the helper's message path driven by arbitrary bytes:
 * nbp_recv() from a SOCK_SEQPACKET socketpair, then nbp_validate() (a
 * request) or nb_reply_validate() (a reply), as the first byte picks, then the per-state table for every state.
 * Input: byte 0 = direction (bit 0) and fd count (bits 1-3), rest = message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nb_session.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sv[2] = { -1, -1 };
	int fds[NB_MAX_DEVICES];
	union nbp_msg msg;
	unsigned n_fds, claimed_fds;
	char why[NBP_TEXT_LEN];
	bool from_helper;
	long n;

	if (size < 1 || size > 4096)
		return 0;
	if (sv[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return 0;
	from_helper = data[0] & 1;
	claimed_fds = (data[0] >> 1) & 7;
	if (send(sv[0], data + 1, size - 1, 0) != (ssize_t)(size - 1))
		return 0;
	n = nbp_recv(sv[1], &msg, fds, &n_fds);
	if (n < 0)
		return 0; /* too long: must be rejected, and it was */
	if ((size_t)n != size - 1 || n_fds != 0)
		__builtin_trap();
	if ((from_helper ? nb_reply_validate(&msg, (size_t)n, claimed_fds, why, sizeof(why)) :
			   nbp_validate(&msg, (size_t)n, claimed_fds, false, why, sizeof(why))) != 0) {
		if (strnlen(why, sizeof(why)) == sizeof(why) || why[0] == '\0')
			__builtin_trap(); /* every rejection explains itself */
		return 0;
	}
	/* Accepted: its size is exactly its type's, and the table is total. */
	if (nbp_size(msg.hdr.type) != (size_t)n)
		__builtin_trap();
	for (int s = NBP_S_NEW; s <= NBP_S_DONE + 1; s++)
		if (nbp_permitted((enum nbp_state)s, msg.hdr.type))
			(void)nbp_next_state((enum nbp_state)s, msg.hdr.type);
	return 0;
}
