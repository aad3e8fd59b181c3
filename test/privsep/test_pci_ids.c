/* SPDX-License-Identifier: MIT */
/*
 * test_pci_ids.c - the id table nicbox-helper and the drivers share
 * (core/nb_pci_ids.h): lookups, and the drivers' match functions agreeing
 * with it in both directions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nb_internal.h"
#include "nb_pci_ids.h"

static void test_lookup(void **state)
{
	(void)state;
	assert_string_equal(nb_pci_driver_for(0x1af4, 0x1041), "virtio-net");
	assert_string_equal(nb_pci_driver_for(0x8086, 0x10fb), "ixgbe");
	assert_string_equal(nb_pci_driver_for(0x8086, 0x1557), "ixgbe");
	assert_string_equal(nb_pci_driver_for(0x8086, 0x10c9), "igb");
	assert_string_equal(nb_pci_driver_for(0x8086, 0x1526), "igb");
	/* Not ours: e1000 82540EM, legacy virtio-net, the same device id
	 * under another vendor, and 82599/X540 parts whose PHY setup the
	 * ixgbe driver does not have (KX4 backplane, 10GBASE-T). */
	assert_null(nb_pci_driver_for(0x8086, 0x100e));
	assert_null(nb_pci_driver_for(0x1af4, 0x1000));
	assert_null(nb_pci_driver_for(0x1af4, 0x10fb));
	assert_null(nb_pci_driver_for(0x8086, 0x10f7));
	assert_null(nb_pci_driver_for(0x8086, 0x1528));
	assert_null(nb_pci_driver_for(0x8086, 0x1563));
}

/* Every table entry of a driver in this library is matched by it, and an
 * id outside the table by none (so the helper never refuses a NIC a driver
 * would take, nor lets through one no driver takes). */
static void test_drivers_follow_the_table(void **state)
{
	static const struct nb_driver *const drivers[] = { &nb_driver_ixgbe,
							   &nb_driver_virtio };
	static const uint16_t others[][2] = {
		{ 0x8086, 0x100e }, { 0x8086, 0x10f7 }, { 0x8086, 0x151c },
		{ 0x8086, 0x1528 }, { 0x8086, 0x1560 }, { 0x8086, 0x1563 },
		{ 0x8086, 0x15d1 }, { 0x8086, 0x1507 }, { 0x1af4, 0x1000 },
	};

	(void)state;
	for (size_t d = 0; d < NB_ARRAY_SIZE(drivers); d++) {
		unsigned mine = 0;

		for (size_t i = 0; i < NB_ARRAY_SIZE(nb_pci_ids); i++) {
			bool listed = strcmp(nb_pci_ids[i].driver, drivers[d]->name) == 0;

			mine += listed;
			if (drivers[d]->match(nb_pci_ids[i].vendor, nb_pci_ids[i].device) != listed)
				fail_msg("%s and the table disagree on %04x:%04x", drivers[d]->name,
					 nb_pci_ids[i].vendor, nb_pci_ids[i].device);
		}
		assert_true(mine > 0);
		for (size_t i = 0; i < NB_ARRAY_SIZE(others); i++)
			if (drivers[d]->match(others[i][0], others[i][1]))
				fail_msg("%s matches %04x:%04x, which is not in the table",
					 drivers[d]->name, others[i][0], others[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_drivers_follow_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
