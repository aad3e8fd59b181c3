/* SPDX-License-Identifier: MIT */
/*
 * rss.c - the software reference for receive-side scaling: the Toeplitz
 * hash (Microsoft's "RSS hashing functions"; 82599 datasheet 7.1.2.8.1,
 * 82576 datasheet 7.1.1.7) and the header fields a NIC feeds it. Drivers do
 * not use it (the NIC hashes); tests and apps use it to predict the queue a
 * frame must arrive on (test/unit/test_rss.c checks it against Microsoft's
 * verification vectors).
 */
#include <errno.h>
#include <string.h>

#include "nb_internal.h"

static const uint8_t default_key[NB_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

const uint8_t *nb_rss_default_key(void)
{
	return default_key;
}

/*
 * For each input bit set, from the most significant bit of input[0] on,
 * XOR in the 32 key bits that start at the same bit position.
 */
uint32_t nb_rss_toeplitz(const uint8_t *key, const uint8_t *input, size_t len)
{
	uint32_t window, hash = 0;
	size_t next = 4; /* the next key byte to shift into the window */

	if (len > NB_RSS_KEY_LEN - 4)
		len = NB_RSS_KEY_LEN - 4;
	window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
		 (uint32_t)key[2] << 8 | key[3];
	for (size_t i = 0; i < len; i++, next++) {
		uint8_t in = next < NB_RSS_KEY_LEN ? key[next] : 0;

		for (int b = 7; b >= 0; b--) {
			if (input[i] & (1u << b))
				hash ^= window;
			window = window << 1 | ((in >> b) & 1u);
		}
	}
	return hash;
}

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPV6_HLEN 40

/* The L4 type bit of a protocol, for the address family's TCP/UDP types. */
static uint32_t l4_type(uint8_t proto, uint32_t tcp, uint32_t udp)
{
	return proto == IPPROTO_TCP_ ? tcp : proto == IPPROTO_UDP_ ? udp : 0;
}

/*
 * Hash input: source address, destination address, then (with an L4
 * type) source port, destination port, all as they are on the wire.
 */
static int hash_fields(const uint8_t *key, const uint8_t *addrs, size_t alen,
		       const uint8_t *ports, uint32_t *hash)
{
	uint8_t in[36];

	memcpy(in, addrs, 2 * alen);
	if (ports)
		memcpy(in + 2 * alen, ports, 4);
	*hash = nb_rss_toeplitz(key, in, 2 * alen + (ports ? 4 : 0));
	return 0;
}

int nb_rss_frame_hash(const uint8_t *key, uint32_t types, const uint8_t *frame,
		      size_t len, uint32_t *hash)
{
	uint16_t ethertype;

	if (len < ETH_HLEN)
		goto none;
	ethertype = (uint16_t)(frame[12] << 8 | frame[13]);
	frame += ETH_HLEN;
	len -= ETH_HLEN;
	if (ethertype == ETHERTYPE_IPV4 && len >= 20 && frame[0] >> 4 == 4) {
		size_t ihl = (size_t)(frame[0] & 0xF) * 4;
		bool fragment = ((frame[6] << 8 | frame[7]) & 0x3FFF) != 0;
		uint32_t l4 = l4_type(frame[9], NB_RSS_TCP_IPV4, NB_RSS_UDP_IPV4);

		if (ihl < 20 || len < ihl)
			goto none;
		if ((types & l4) && !fragment && len >= ihl + 4)
			return hash_fields(key, frame + 12, 4, frame + ihl, hash);
		if (types & NB_RSS_IPV4)
			return hash_fields(key, frame + 12, 4, NULL, hash);
	} else if (ethertype == ETHERTYPE_IPV6 && len >= IPV6_HLEN &&
		   frame[0] >> 4 == 6) {
		/* No extension headers: the next header is the L4 one. */
		uint32_t l4 = l4_type(frame[6], NB_RSS_TCP_IPV6, NB_RSS_UDP_IPV6);

		if ((types & l4) && len >= IPV6_HLEN + 4)
			return hash_fields(key, frame + 8, 16, frame + IPV6_HLEN, hash);
		if (types & NB_RSS_IPV6)
			return hash_fields(key, frame + 8, 16, NULL, hash);
	}
none:
	errno = ENOENT;
	return -1;
}
