/* SPDX-License-Identifier: MIT */
/* test_latency.c - pktgen --timestamp's stamp and capture --latency's figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "latency.h"

static uint8_t frame[FRAME_MAX_SIZE];

static void build(uint32_t size, uint64_t seq)
{
	struct frame_addrs a = { .src_ip = 0x0a000001, .dst_ip = 0x0a000002,
				 .udp_port = FRAME_UDP_PORT };

	memset(frame, 0, sizeof(frame));
	frame_build_headers(frame, size, &a);
	frame_stamp(frame, size, seq);
}

/* The stamp is big-endian at offset 54 and leaves the headers alone. */
static void stamp_layout(void **state)
{
	uint8_t before[LATENCY_OFF];

	(void)state;
	build(64, 7);
	memcpy(before, frame, sizeof(before));
	latency_stamp(frame, 0x0102030405060708ull);
	assert_memory_equal(before, frame, sizeof(before));
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(frame[LATENCY_OFF + i], i + 1);
}

/* Percentiles by nearest rank over 1..100 us; bad and foreign frames are
 * not samples. */
static void percentiles(void **state)
{
	struct latency l;

	(void)state;
	assert_int_equal(latency_init(&l), 0);
	assert_int_equal(latency_percentile(&l, 50), 0);
	for (uint64_t i = 0; i < 100; i++) { /* 1..100 us in a scrambled order */
		uint64_t us = i * 37 % 100 + 1;

		build(64, us);
		latency_stamp(frame, 1000000);
		latency_add(&l, frame, 64, 1000000 + us * 1000);
	}
	build(64, 0);
	latency_stamp(frame, 5000000); /* from the future */
	latency_add(&l, frame, 64, 1000000);
	latency_stamp(frame, 0);       /* never stamped */
	latency_add(&l, frame, 64, 1000000);
	latency_add(&l, frame, LATENCY_MIN_SIZE - 1, 1000000); /* too short */
	frame[FRAME_MAGIC_OFF] ^= 1;   /* not pktgen's */
	latency_stamp(frame, 1);
	latency_add(&l, frame, 64, 1000000);
	assert_int_equal(l.n, 100);
	assert_int_equal(l.bad, 2);
	assert_int_equal(latency_percentile(&l, 50), 50000);
	assert_int_equal(latency_percentile(&l, 99), 99000);
	assert_int_equal(latency_percentile(&l, 100), 100000);
	assert_int_equal(latency_percentile(&l, 0), 1000);
	latency_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stamp_layout),
		cmocka_unit_test(percentiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
