/* SPDX-License-Identifier: MIT */
/*
 * test_igb.c - the igb driver's statistics read (drivers/igb/igb.c
 * igb_read_counters) against a register file in plain memory: which
 * registers it adds into which counter. Frames an 82576 drops for a full
 * receive queue (SRRCTL.DROP_EN) are counted per queue in RQDPC, not in
 * MPC; before RQDPC was read they were missing from rx_missed.
 */
#include <stdlib.h>

#include "nb_test.h"
#include "../../drivers/igb/igb.h"
#include "../../drivers/igb/igb_regs.h"

static void set(uint32_t *regs, uint32_t off, uint32_t val)
{
	regs[off / 4] = val;
}

static void queue_drops_count_as_missed(void **state)
{
	uint32_t *regs = calloc(1, IGB_BAR0_MIN_LEN);
	struct nb_stats hw = { .rx_missed = 100 };

	(void)state;
	assert_non_null(regs);
	set(regs, IGB_MPC, 1);
	set(regs, IGB_RQDPC(0), 5);
	set(regs, IGB_RQDPC(1), 7);
	set(regs, IGB_RQDPC(2), 1000); /* a queue not in use: not read */
	set(regs, IGB_GPRC, 20);
	set(regs, IGB_GPTC, 30);
	set(regs, IGB_GORCL, 0x10);
	set(regs, IGB_GORCH, 1);
	set(regs, IGB_GOTCL, 0x20);
	set(regs, IGB_GOTCH, 2);
	igb_read_counters((volatile uint8_t *)regs, 2, &hw);
	assert_int_equal(hw.rx_missed, 100 + 1 + 5 + 7); /* added, not set */
	assert_int_equal(hw.rx_packets, 20);
	assert_int_equal(hw.tx_packets, 30);
	assert_int_equal(hw.rx_bytes, 0x100000010ull);
	assert_int_equal(hw.tx_bytes, 0x200000020ull);
	assert_int_equal(hw.rx_errors + hw.tx_errors + hw.dev_faults, 0);
	free(regs);
}

static void sixteen_queues_reach_the_last_rqdpc(void **state)
{
	uint32_t *regs = calloc(1, IGB_BAR0_MIN_LEN);
	struct nb_stats hw = { 0 };

	(void)state;
	assert_non_null(regs);
	for (uint32_t q = 0; q < 16; q++)
		set(regs, IGB_RQDPC(q), 1u << q);
	igb_read_counters((volatile uint8_t *)regs, 16, &hw);
	assert_int_equal(hw.rx_missed, 0xFFFF);
	assert_true(IGB_RQDPC(15) + 4 <= IGB_BAR0_MIN_LEN);
	free(regs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(queue_drops_count_as_missed),
		cmocka_unit_test(sixteen_queues_reach_the_last_rqdpc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
