/* SPDX-License-Identifier: MIT */
/*
 * test_rss.c - the software Toeplitz reference (core/rss.c) against the
 * verification suite of Microsoft's "Verifying the RSS Hash Calculation"
 * (learn.microsoft.com/windows-hardware/drivers/network/verifying-the-rss-hash-calculation;
 * the same table is in the 82599 datasheet, 7.1.2.8.3): key
 * 6d5a56da255b0ec2..., each row's hash over the IPv4/IPv6 addresses alone
 * and with the TCP ports. The frame tests put the same tuples into
 * Ethernet frames, so the header parsing is checked against the suite too.
 */
#include <arpa/inet.h>

#include "nb_test.h"

struct v4_vector {
	const char *dst, *src;
	uint16_t dport, sport;
	uint32_t ip, tcp;
};

static const struct v4_vector v4[] = {
	{ "161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178 },
	{ "65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea },
	{ "12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a },
	{ "209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f },
	{ "202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2 },
};

struct v6_vector {
	const char *dst, *src;
	uint16_t dport, sport;
	uint32_t ip, tcp;
};

static const struct v6_vector v6[] = {
	{ "3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794,
	  0x2cc18cd5, 0x40207d3d },
	{ "ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230,
	  0x0f0c461c, 0xdde51bbf },
	{ "fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf",
	  38024, 44251, 0x4b61e985, 0x02d1feef },
};

/* src address, dst address, src port, dst port: the suite's input order.
 * Returns the bytes of the two addresses. */
static size_t tuple(int af, const char *src, const char *dst, uint16_t sport,
		    uint16_t dport, uint8_t *out)
{
	size_t alen = af == AF_INET ? 4 : 16;
	uint16_t sp = htons(sport), dp = htons(dport);

	assert_int_equal(inet_pton(af, src, out), 1);
	assert_int_equal(inet_pton(af, dst, out + alen), 1);
	memcpy(out + 2 * alen, &sp, 2);
	memcpy(out + 2 * alen + 2, &dp, 2);
	return 2 * alen;
}

static void toeplitz_ipv4_vectors(void **state)
{
	const uint8_t *key = nb_rss_default_key();
	uint8_t in[36];

	(void)state;
	for (size_t i = 0; i < NB_ARRAY_SIZE(v4); i++) {
		size_t alen = tuple(AF_INET, v4[i].src, v4[i].dst, v4[i].sport,
				    v4[i].dport, in);

		assert_int_equal(nb_rss_toeplitz(key, in, alen), v4[i].ip);
		assert_int_equal(nb_rss_toeplitz(key, in, alen + 4), v4[i].tcp);
	}
}

static void toeplitz_ipv6_vectors(void **state)
{
	const uint8_t *key = nb_rss_default_key();
	uint8_t in[36];

	(void)state;
	for (size_t i = 0; i < NB_ARRAY_SIZE(v6); i++) {
		size_t alen = tuple(AF_INET6, v6[i].src, v6[i].dst, v6[i].sport,
				    v6[i].dport, in);

		assert_int_equal(nb_rss_toeplitz(key, in, alen), v6[i].ip);
		assert_int_equal(nb_rss_toeplitz(key, in, alen + 4), v6[i].tcp);
	}
}

/* An Ethernet frame carrying the tuple: IPv4 (20-byte header) or IPv6. */
static size_t build_frame(int af, uint8_t proto, const char *src,
			  const char *dst, uint16_t sport, uint16_t dport,
			  uint8_t *f)
{
	uint8_t in[36];
	size_t addr_bytes = tuple(af, src, dst, sport, dport, in), l3;

	memset(f, 0, 128);
	if (af == AF_INET) {
		f[12] = 0x08;
		f[14] = 0x45;
		f[14 + 6] = 0x40; /* DF */
		f[14 + 9] = proto;
		memcpy(f + 14 + 12, in, 8);
		l3 = 20;
	} else {
		f[12] = 0x86;
		f[13] = 0xDD;
		f[14] = 0x60;
		f[14 + 6] = proto;
		memcpy(f + 14 + 8, in, 32);
		l3 = 40;
	}
	memcpy(f + 14 + l3, in + addr_bytes, 4);
	return 14 + l3 + 8;
}

static uint32_t frame_hash(const uint8_t *f, size_t len, uint32_t types)
{
	uint32_t h = 0;

	assert_int_equal(nb_rss_frame_hash(nb_rss_default_key(), types, f, len, &h), 0);
	return h;
}

static void frames_hash_as_the_suite_says(void **state)
{
	uint8_t f[128];
	size_t len;

	(void)state;
	for (size_t i = 0; i < NB_ARRAY_SIZE(v4); i++) {
		len = build_frame(AF_INET, 6, v4[i].src, v4[i].dst, v4[i].sport,
				  v4[i].dport, f);
		assert_int_equal(frame_hash(f, len, NB_RSS_ALL_TYPES), v4[i].tcp);
		/* TCP type off: the addresses alone. */
		assert_int_equal(frame_hash(f, len, NB_RSS_IPV4 | NB_RSS_UDP_IPV4),
				 v4[i].ip);
		/* UDP takes the ports only with the UDP type. */
		f[14 + 9] = 17;
		assert_int_equal(frame_hash(f, len, NB_RSS_UDP_IPV4), v4[i].tcp);
		assert_int_equal(frame_hash(f, len, NB_RSS_IPV4 | NB_RSS_TCP_IPV4),
				 v4[i].ip);
		/* A fragment has no ports to hash. */
		f[14 + 6] = 0x20; /* MF */
		assert_int_equal(frame_hash(f, len, NB_RSS_ALL_TYPES), v4[i].ip);
	}
	for (size_t i = 0; i < NB_ARRAY_SIZE(v6); i++) {
		len = build_frame(AF_INET6, 6, v6[i].src, v6[i].dst, v6[i].sport,
				  v6[i].dport, f);
		assert_int_equal(frame_hash(f, len, NB_RSS_ALL_TYPES), v6[i].tcp);
		assert_int_equal(frame_hash(f, len, NB_RSS_IPV6), v6[i].ip);
	}
}

static void unhashed_frames_say_enoent(void **state)
{
	const uint8_t *key = nb_rss_default_key();
	uint8_t f[128];
	uint32_t h;
	size_t len;

	(void)state;
	len = build_frame(AF_INET, 6, v4[0].src, v4[0].dst, 1, 2, f);
	/* IPv4 with only IPv6 types; an ARP frame; a runt; a bad IHL. */
	assert_int_equal(nb_rss_frame_hash(key, NB_RSS_IPV6 | NB_RSS_TCP_IPV6, f, len, &h), -1);
	assert_int_equal(errno, ENOENT);
	f[13] = 0x06;
	assert_int_equal(nb_rss_frame_hash(key, NB_RSS_ALL_TYPES, f, len, &h), -1);
	f[13] = 0x00;
	assert_int_equal(nb_rss_frame_hash(key, NB_RSS_ALL_TYPES, f, 30, &h), -1);
	f[14] = 0x44;
	assert_int_equal(nb_rss_frame_hash(key, NB_RSS_ALL_TYPES, f, len, &h), -1);
	assert_int_equal(errno, ENOENT);
}

/* The redirection table rule every driver programs: entry i -> i % n. */
static void queue_from_the_table(void **state)
{
	(void)state;
	assert_int_equal(nb_rss_queue(0x51ccc178, 1), 0);
	assert_int_equal(nb_rss_queue(0x51ccc178, 4), (0x78 & 0x7F) % 4);
	assert_int_equal(nb_rss_queue(0x0000007F, 16), 127 % 16);
	assert_int_equal(nb_rss_queue(0xFFFFFF80, 3), 0); /* only bits 6:0 */
	assert_int_equal(nb_rss_queue(5, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(toeplitz_ipv4_vectors),
		cmocka_unit_test(toeplitz_ipv6_vectors),
		cmocka_unit_test(frames_hash_as_the_suite_says),
		cmocka_unit_test(unhashed_frames_say_enoent),
		cmocka_unit_test(queue_from_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
