/* SPDX-License-Identifier: MIT */
/* test_frame.c - pktgen's frame builder and checker, and the sequence tracker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

static const struct frame_addrs addrs = {
	.dst_mac = { 0x02, 0x6e, 0x62, 0x00, 0x00, 0x02 },
	.src_mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	.src_ip = 0x0a000001,
	.dst_ip = 0x0a000002,
	.udp_port = FRAME_UDP_PORT,
};

static uint8_t frame[FRAME_MAX_SIZE + 8];

static void build(uint32_t size, uint64_t seq)
{
	memset(frame, 0xee, sizeof(frame));
	frame_build_headers(frame, size, &addrs);
	frame_stamp(frame, size, seq);
}

static uint16_t be16_at(uint32_t off)
{
	return (uint16_t)(frame[off] << 8 | frame[off + 1]);
}

/*
 * The IPv4 header checksum recomputed the long way (RFC 1071, 1.4): the
 * ten 16-bit words summed in 32 bits including the stored checksum; a
 * correct header sums to 0xffff after folding.
 */
static uint32_t ip_header_sum_folded(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] * 256 + ip[i + 1];
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return sum;
}

/* The well-known example header 4500 0073 0000 4000 4011 ---- c0a8 0001 c0a8 00c7. */
static void test_inet_checksum_known_answer(void **state)
{
	uint8_t hdr[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
			    0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
			    0xc0, 0xa8, 0x00, 0xc7 };

	(void)state;
	assert_int_equal(frame_inet_checksum(hdr, sizeof(hdr)), 0xb861);
	hdr[10] = 0xb8;
	hdr[11] = 0x61;
	assert_int_equal(frame_inet_checksum(hdr, sizeof(hdr)), 0);
	/* Odd length: the last byte is the high half of a padded word. */
	assert_int_equal(frame_inet_checksum((const uint8_t[]){ 0x01 }, 1),
			 (uint16_t)~0x0100);
}

static void test_headers(void **state)
{
	static const uint32_t sizes[] = { 60, 61, 64, 127, 1000, 1514 };

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
		uint32_t size = sizes[k];

		build(size, 7);
		assert_memory_equal(frame, addrs.dst_mac, 6);
		assert_memory_equal(frame + 6, addrs.src_mac, 6);
		assert_int_equal(be16_at(12), 0x0800);
		assert_int_equal(frame[14], 0x45);
		assert_int_equal(be16_at(16), size - 14);      /* total length */
		assert_int_equal(be16_at(20), 0x4000);         /* DF */
		assert_int_equal(frame[22], 64);               /* TTL */
		assert_int_equal(frame[23], 17);               /* UDP */
		assert_int_equal(ip_header_sum_folded(frame + 14), 0xffff);
		assert_memory_equal(frame + 26, ((uint8_t[]){ 10, 0, 0, 1 }), 4);
		assert_memory_equal(frame + 30, ((uint8_t[]){ 10, 0, 0, 2 }), 4);
		assert_int_equal(be16_at(34), FRAME_UDP_PORT);
		assert_int_equal(be16_at(36), FRAME_UDP_PORT);
		assert_int_equal(be16_at(38), size - 34);      /* UDP length */
		assert_int_equal(be16_at(40), 0);
		assert_memory_equal(frame + 42, "NBPG", 4);
		/* Nothing written past the frame. */
		assert_int_equal(frame[size], 0xee);
	}
}

static void test_stamp_writes_seq_and_pattern(void **state)
{
	const uint64_t seq = 0x0102030405060708ull;
	const uint32_t size = 100;

	(void)state;
	build(size, seq);
	for (int i = 0; i < 8; i++)
		assert_int_equal(frame[FRAME_SEQ_OFF + i], i + 1); /* big-endian */
	for (uint32_t i = 0; i < size - FRAME_PATTERN_OFF; i++)
		assert_int_equal(frame[FRAME_PATTERN_OFF + i],
				 frame_pattern_byte(seq, i));
	assert_int_equal(frame[size], 0xee);
}

static void test_pattern_depends_on_seq(void **state)
{
	uint8_t a[FRAME_MAX_SIZE], b[FRAME_MAX_SIZE];

	(void)state;
	build(FRAME_MAX_SIZE, 1000);
	memcpy(a, frame, sizeof(a));
	build(FRAME_MAX_SIZE, 1001);
	memcpy(b, frame, sizeof(b));
	assert_memory_not_equal(a + FRAME_PATTERN_OFF, b + FRAME_PATTERN_OFF, 8);
	/* No two 8-byte words of one frame repeat: shifts are visible. */
	for (uint32_t i = FRAME_PATTERN_OFF; i + 16 <= FRAME_MAX_SIZE; i += 8)
		assert_memory_not_equal(a + i, a + i + 8, 8);
}

static void test_check_accepts_intact_frames(void **state)
{
	static const uint32_t sizes[] = { 60, 61, 63, 64, 65, 1513, 1514 };
	uint64_t seq = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
		for (uint64_t s = 0; s < 3; s++) {
			uint64_t want = s * 0x100000001ull + k;

			build(sizes[k], want);
			assert_int_equal(frame_check(frame, sizes[k], &seq),
					 FRAME_OK);
			assert_true(seq == want);
		}
	}
	/* Trailing padding after the IP datagram is allowed. */
	build(60, 5);
	assert_int_equal(frame_check(frame, 64, &seq), FRAME_OK);
}

/* Every single bit flip from the IP header on is detected. */
static void test_check_detects_every_bit_flip(void **state)
{
	const uint32_t size = 90;
	uint64_t seq = 0;

	(void)state;
	for (uint32_t off = FRAME_ETH_LEN; off < size; off++) {
		for (int bit = 0; bit < 8; bit++) {
			build(size, 42);
			frame[off] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(frame_check(frame, size, &seq),
					     FRAME_OK);
		}
	}
	/* The Ethernet addresses are not checked (a forwarder may rewrite). */
	build(size, 42);
	frame[0] ^= 1;
	frame[11] ^= 1;
	assert_int_equal(frame_check(frame, size, &seq), FRAME_OK);
}

static void test_check_verdicts(void **state)
{
	uint64_t seq = 0;

	(void)state;
	/* Truncated by one byte: ours, but corrupt. */
	build(100, 3);
	assert_int_equal(frame_check(frame, 99, &seq), FRAME_CORRUPT);
	/* Payload byte changed, checksum still fine: corrupt. */
	build(100, 3);
	frame[99] ^= 0x80;
	assert_int_equal(frame_check(frame, 100, &seq), FRAME_CORRUPT);
	/* A pattern copied from another sequence number: corrupt. */
	build(100, 4);
	memcpy(frame + FRAME_SEQ_OFF, (uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 3 }, 8);
	assert_int_equal(frame_check(frame, 100, &seq), FRAME_CORRUPT);
	/* ARP, another UDP port, another magic, too short: foreign. */
	build(100, 3);
	frame[12] = 0x08;
	frame[13] = 0x06;
	assert_int_equal(frame_check(frame, 100, &seq), FRAME_FOREIGN);
	build(100, 3);
	frame[37] ^= 1;
	assert_int_equal(frame_check(frame, 100, &seq), FRAME_FOREIGN);
	build(100, 3);
	frame[FRAME_MAGIC_OFF] = 'X';
	assert_int_equal(frame_check(frame, 100, &seq), FRAME_FOREIGN);
	build(100, 3);
	assert_int_equal(frame_check(frame, FRAME_SEQ_OFF - 1, &seq),
			 FRAME_FOREIGN);
}

/* ------------------------------------------------------------------------ */
/* Sequence tracker                                                          */

static struct seq_tracker t;

static void record_all(const uint64_t *seqs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		seq_record(&t, seqs[i]);
}

#define RECORD(...)                                                       \
	do {                                                              \
		const uint64_t s_[] = { __VA_ARGS__ };                   \
		record_all(s_, sizeof(s_) / sizeof(*s_));                \
	} while (0)

static void assert_counts(uint64_t received, uint64_t lost, uint64_t dup,
			  uint64_t reordered)
{
	assert_true(t.received == received);
	assert_true(seq_lost(&t) == lost);
	assert_true(t.duplicated == dup);
	assert_true(t.reordered == reordered);
}

static void test_seq_in_order(void **state)
{
	(void)state;
	seq_init(&t, true, 0);
	for (uint64_t s = 0; s < 200000; s++)
		seq_record(&t, s);
	seq_finish(&t, 200000);
	assert_counts(200000, 0, 0, 0);
}

static void test_seq_loss_dup_reorder(void **state)
{
	(void)state;
	seq_init(&t, true, 0);
	RECORD(0, 1, 3, 4);          /* 2 missing */
	assert_counts(4, 1, 0, 0);
	RECORD(2);                   /* late: fills the gap */
	assert_counts(5, 0, 0, 1);
	RECORD(2, 4);                /* both seen before */
	assert_counts(5, 0, 2, 1);
	RECORD(10);                  /* 5..9 missing */
	assert_counts(6, 5, 2, 1);
	seq_finish(&t, 12);          /* 11 never came */
	assert_counts(6, 6, 2, 1);
}

static void test_seq_known_start(void **state)
{
	(void)state;
	/* The first frames never arrived: lost, not a new start. */
	seq_init(&t, true, 0);
	RECORD(3, 4);
	seq_finish(&t, 5);
	assert_counts(2, 3, 0, 0);
	/* Nothing at all arrived. */
	seq_init(&t, true, 0);
	seq_finish(&t, 7);
	assert_counts(0, 7, 0, 0);
}

static void test_seq_unknown_start(void **state)
{
	(void)state;
	/* Joining a running stream: the first frame seen is the start... */
	seq_init(&t, false, 0);
	RECORD(1000, 1001, 1002);
	assert_counts(3, 0, 0, 0);
	/* ...unless an earlier one turns up late. */
	RECORD(998);
	assert_counts(4, 1, 0, 1);
	RECORD(999);
	assert_counts(5, 0, 0, 2);
}

static void test_seq_window(void **state)
{
	(void)state;
	seq_init(&t, true, 0);
	RECORD(0);
	RECORD(SEQ_WINDOW + 10);     /* a big jump forgets the window */
	assert_counts(2, SEQ_WINDOW + 9, 0, 0);
	RECORD(20);                  /* inside the window: late */
	assert_counts(3, SEQ_WINDOW + 8, 0, 1);
	RECORD(20);
	assert_counts(3, SEQ_WINDOW + 8, 1, 1);
	RECORD(9);                   /* older than the window: can't tell */
	assert_counts(3, SEQ_WINDOW + 8, 2, 1);
	/* A slot reused by a later number is not mistaken for a duplicate. */
	seq_init(&t, true, 0);
	for (uint64_t s = 0; s < SEQ_WINDOW + 5; s++)
		if (s != SEQ_WINDOW + 2)
			seq_record(&t, s);
	RECORD(SEQ_WINDOW + 2);
	assert_counts(SEQ_WINDOW + 5, 0, 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inet_checksum_known_answer),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_stamp_writes_seq_and_pattern),
		cmocka_unit_test(test_pattern_depends_on_seq),
		cmocka_unit_test(test_check_accepts_intact_frames),
		cmocka_unit_test(test_check_detects_every_bit_flip),
		cmocka_unit_test(test_check_verdicts),
		cmocka_unit_test(test_seq_in_order),
		cmocka_unit_test(test_seq_loss_dup_reorder),
		cmocka_unit_test(test_seq_known_start),
		cmocka_unit_test(test_seq_unknown_start),
		cmocka_unit_test(test_seq_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
