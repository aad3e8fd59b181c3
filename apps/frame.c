/* SPDX-License-Identifier: MIT */
/* frame.c - pktgen's test frames: build, stamp, check; sequence tracking. */
#include <endian.h>
#include <string.h>

#include "frame.h"

/* Locally administered unicast ("nb" in bytes 1-2); receivers run promisc. */
static const uint8_t default_dst_mac[6] = { 0x02, 0x6e, 0x62, 0x00, 0x00, 0x02 };

void frame_default_addrs(struct frame_addrs *a, const uint8_t src_mac[6])
{
	memcpy(a->dst_mac, default_dst_mac, 6);
	memcpy(a->src_mac, src_mac, 6);
	a->src_ip = 0x0a000001; /* 10.0.0.1 */
	a->dst_ip = 0x0a000002; /* 10.0.0.2 */
	a->udp_port = FRAME_UDP_PORT;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static uint16_t get_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return be16toh(v);
}

static uint32_t get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

uint16_t frame_inet_checksum(const void *data, uint32_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void frame_build_headers(uint8_t *buf, uint32_t size,
			 const struct frame_addrs *a)
{
	uint8_t *ip = buf + FRAME_ETH_LEN;
	uint8_t *udp = ip + FRAME_IP_LEN;
	uint32_t ip_len = size - FRAME_ETH_LEN;

	/* Ethernet II */
	memcpy(buf, a->dst_mac, 6);
	memcpy(buf + 6, a->src_mac, 6);
	put_be16(buf + 12, 0x0800);

	/* IPv4 (RFC 791): version 4, IHL 5, DF, TTL 64, protocol UDP */
	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)ip_len);
	put_be16(ip + 4, 0);      /* identification: unused with DF */
	put_be16(ip + 6, 0x4000); /* DF, fragment offset 0 */
	ip[8] = 64;
	ip[9] = 17;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, a->src_ip);
	put_be32(ip + 16, a->dst_ip);
	put_be16(ip + 10, frame_inet_checksum(ip, FRAME_IP_LEN));

	/* UDP (RFC 768): checksum 0 means "not computed" over IPv4 */
	put_be16(udp, a->udp_port);
	put_be16(udp + 2, a->udp_port);
	put_be16(udp + 4, (uint16_t)(ip_len - FRAME_IP_LEN));
	put_be16(udp + 6, 0);

	put_be32(buf + FRAME_MAGIC_OFF, FRAME_MAGIC);
}

void frame_set_src_ip(uint8_t *buf, uint32_t src_ip)
{
	uint8_t *ip = buf + FRAME_ETH_LEN;

	put_be32(ip + 12, src_ip);
	put_be16(ip + 10, 0);
	put_be16(ip + 10, frame_inet_checksum(ip, FRAME_IP_LEN));
}

/*
 * The pattern is a Weyl sequence (start + k * odd constant) in 64-bit
 * little-endian words, its start a scrambled copy of the sequence number:
 * cheap to write per packet, and any changed or moved byte breaks it.
 */
#define PATTERN_STEP 0x9e3779b97f4a7c15ull

static uint64_t pattern_start(uint64_t seq)
{
	uint64_t z = seq + PATTERN_STEP;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint8_t frame_pattern_byte(uint64_t seq, uint32_t i)
{
	uint64_t word = pattern_start(seq) + (uint64_t)(i / 8) * PATTERN_STEP;

	return (uint8_t)(word >> (8 * (i % 8)));
}

void frame_stamp(uint8_t *buf, uint32_t size, uint64_t seq)
{
	uint64_t be_seq = htobe64(seq);
	uint64_t word = pattern_start(seq);
	uint8_t *p = buf + FRAME_PATTERN_OFF;
	uint32_t left = size - FRAME_PATTERN_OFF;

	memcpy(buf + FRAME_SEQ_OFF, &be_seq, 8);
	for (; left >= 8; p += 8, left -= 8, word += PATTERN_STEP) {
		uint64_t le = htole64(word);

		memcpy(p, &le, 8);
	}
	for (uint32_t i = 0; i < left; i++)
		p[i] = (uint8_t)(word >> (8 * i));
}

static bool pattern_intact(const uint8_t *p, uint32_t len, uint64_t seq)
{
	uint64_t word = pattern_start(seq);

	for (; len >= 8; p += 8, len -= 8, word += PATTERN_STEP) {
		uint64_t le;

		memcpy(&le, p, 8);
		if (le64toh(le) != word)
			return false;
	}
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(word >> (8 * i)))
			return false;
	return true;
}

enum frame_verdict frame_check(const uint8_t *buf, uint32_t len,
			       uint64_t *seq)
{
	const uint8_t *ip = buf + FRAME_ETH_LEN;
	const uint8_t *udp = ip + FRAME_IP_LEN;
	uint32_t ip_len;
	uint64_t be_seq;

	/* Is it ours at all? Headers first, then the magic. */
	if (len < FRAME_SEQ_OFF || get_be16(buf + 12) != 0x0800 ||
	    ip[0] != 0x45 || ip[9] != 17 || get_be16(udp) != FRAME_UDP_PORT ||
	    get_be16(udp + 2) != FRAME_UDP_PORT ||
	    get_be32(buf + FRAME_MAGIC_OFF) != FRAME_MAGIC)
		return FRAME_FOREIGN;

	ip_len = get_be16(ip + 2);
	if (ip_len < FRAME_MIN_SIZE - FRAME_ETH_LEN ||
	    FRAME_ETH_LEN + ip_len > len)
		return FRAME_CORRUPT;
	if (frame_inet_checksum(ip, FRAME_IP_LEN) != 0)
		return FRAME_CORRUPT;
	if (get_be16(udp + 4) != ip_len - FRAME_IP_LEN || get_be16(udp + 6) != 0)
		return FRAME_CORRUPT;
	memcpy(&be_seq, buf + FRAME_SEQ_OFF, 8);
	if (!pattern_intact(buf + FRAME_PATTERN_OFF,
			    FRAME_ETH_LEN + ip_len - FRAME_PATTERN_OFF,
			    be64toh(be_seq)))
		return FRAME_CORRUPT;
	*seq = be64toh(be_seq);
	return FRAME_OK;
}

/* ------------------------------------------------------------------------ */
/* Sequence tracking                                                          */

static bool seen_test_and_set(struct seq_tracker *t, uint64_t seq)
{
	uint64_t bit = seq % SEQ_WINDOW;
	uint64_t mask = 1ull << (bit % 64);
	bool was = t->seen[bit / 64] & mask;

	t->seen[bit / 64] |= mask;
	return was;
}

static void seen_clear(struct seq_tracker *t, uint64_t seq)
{
	uint64_t bit = seq % SEQ_WINDOW;

	t->seen[bit / 64] &= ~(1ull << (bit % 64));
}

void seq_init(struct seq_tracker *t, bool first_known, uint64_t first)
{
	memset(t, 0, sizeof(*t));
	t->started = first_known;
	t->first_known = first_known;
	t->first = first;
	t->next = first;
}

void seq_record(struct seq_tracker *t, uint64_t seq)
{
	if (!t->started) {
		t->started = true;
		t->first = seq;
		t->next = seq;
	}
	if (seq >= t->next) {
		/* New highest: forget what the window held for the gap. */
		uint64_t gap = seq - t->next;

		if (gap >= SEQ_WINDOW)
			memset(t->seen, 0, sizeof(t->seen));
		else
			for (uint64_t s = t->next; s < seq; s++)
				seen_clear(t, s);
		seen_test_and_set(t, seq);
		t->next = seq + 1;
		t->received++;
		return;
	}
	if (t->next - seq > SEQ_WINDOW) {
		t->duplicated++;
		return;
	}
	if (seq < t->first) {
		if (t->first_known) {
			t->duplicated++; /* not part of the stream at all */
			return;
		}
		/* Earlier than the first frame seen: the stream began here. */
		for (uint64_t s = seq; s < t->first; s++)
			seen_clear(t, s);
		t->first = seq;
	}
	if (seen_test_and_set(t, seq)) {
		t->duplicated++;
		return;
	}
	t->received++;
	t->reordered++;
}

void seq_finish(struct seq_tracker *t, uint64_t expected_end)
{
	if (!t->started) {
		t->started = true;
		t->next = t->first;
	}
	if (expected_end > t->next)
		t->next = expected_end;
}

uint64_t seq_lost(const struct seq_tracker *t)
{
	return t->next - t->first - t->received;
}
