/* SPDX-License-Identifier: MIT */
/* test_dev.c - driver lookup and the device-level wrappers. */
#include <stdlib.h>

#include "fake_pci.h"
#include "nb_test.h"

#define FAKE_RX_PACKETS 12345u
/* I/O Space, Memory Space, Bus Master, INTx Disable (PCI 3.0, 6.2.2) */
#define CMD_FOR_TEST 0x0407
#define CMD_BUS_MASTER 0x0004

/* A minimal "driver": just enough nb_dev to exercise core/dev.c. */
struct fake_dev {
	struct nb_dev dev; /* first */
	unsigned *close_log;
	unsigned closed_at;
	unsigned *closed_at_out; /* where close reports closed_at after freeing */
	bool promisc;
};

static int fake_stats(struct nb_dev *dev, struct nb_stats *out)
{
	(void)dev;
	memset(out, 0, sizeof(*out));
	out->rx_packets = FAKE_RX_PACKETS;
	return 0;
}

static int fake_set_promisc(struct nb_dev *dev, bool on)
{
	((struct fake_dev *)dev)->promisc = on;
	return 0;
}

static void fake_close(struct nb_dev *dev)
{
	struct fake_dev *f = (struct fake_dev *)dev;

	*f->closed_at_out = ++*f->close_log;
	free(f);
}

static const struct nb_dev_ops full_ops = {
	.driver = "fake",
	.read_stats = fake_stats,
	.set_promisc = fake_set_promisc,
	.close = fake_close,
};

static const struct nb_dev_ops bare_ops = {
	.driver = "bare",
	.close = fake_close,
};

static struct fake_dev *fake_dev_new(const struct nb_dev_ops *ops,
				     struct fake_pci *pci, unsigned *log,
				     unsigned *closed_at)
{
	struct fake_dev *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dev.head.ops = ops;
	f->dev.pci = &pci->pci;
	f->close_log = log;
	f->closed_at_out = closed_at;
	return f;
}

static void unknown_ids_give_enodev(void **state)
{
	struct nb_dev_conf conf = { 0 };
	struct nb_dev *dev = NULL;
	struct nb_pool *dma;
	struct fake_pci pci;
	unsigned log = 0;

	(void)state;
	fake_pci_init(&pci, 0x1234, 0x5678);
	pci.close_log = &log;
	assert_int_equal(nb_pool_create_unmapped(4096, 0x100000000ull, &dma), 0);
	assert_int_equal(nb_dev_open_pci(&pci.pci, dma, &conf, &dev), -1);
	assert_failed_with(ENODEV, "no nicbox driver for 1234:5678 at 0000:00:09.0");
	assert_null(dev);
	/* the caller still owns the function: nothing closed or touched it */
	assert_int_equal(log, 0);
	assert_int_equal(pci.writes, 0);
	nb_pool_destroy(dma);
}

static void open_pci_rejects_null_arguments(void **state)
{
	struct nb_dev_conf conf = { 0 };
	struct nb_dev *dev = NULL;
	struct fake_pci pci;

	(void)state;
	fake_pci_init(&pci, 0x1af4, 0x1041);
	assert_int_equal(nb_dev_open_pci(&pci.pci, NULL, &conf, &dev), -1);
	assert_failed_with(EINVAL, "NULL argument");
	assert_null(dev);
}

/* The driver stops first, then Bus Master goes off, then the fd closes. */
static void close_stops_driver_then_dma_then_pci(void **state)
{
	unsigned log = 0, driver_closed_at = 0;
	struct fake_dev *f;
	struct fake_pci pci;

	(void)state;
	fake_pci_init(&pci, 0x1af4, 0x1041);
	pci.close_log = &log;
	pci.cfg[4] = CMD_FOR_TEST & 0xff;
	pci.cfg[5] = CMD_FOR_TEST >> 8;
	f = fake_dev_new(&full_ops, &pci, &log, &driver_closed_at);
	nb_dev_close(&f->dev);
	assert_int_equal(driver_closed_at, 1);
	assert_int_equal(pci.closed_at, 2);
	/* the fake refuses config access once closed: this write came first */
	assert_int_equal(fake_pci_command(&pci), CMD_FOR_TEST & ~CMD_BUS_MASTER);
	nb_dev_close(NULL); /* like free(NULL) */
}

static void wrappers_forward_to_the_driver(void **state)
{
	unsigned log = 0, closed_at = 0;
	struct nb_stats stats;
	struct fake_dev *f;
	struct fake_pci pci;

	(void)state;
	fake_pci_init(&pci, 0x1af4, 0x1041);
	f = fake_dev_new(&full_ops, &pci, &log, &closed_at);
	assert_string_equal(nb_dev_driver(&f->dev), "fake");
	assert_string_equal(nb_dev_name(&f->dev), "0000:00:09.0");
	assert_int_equal(nb_dev_stats(&f->dev, &stats), 0);
	assert_int_equal(stats.rx_packets, FAKE_RX_PACKETS);
	assert_int_equal(nb_dev_set_promisc(&f->dev, true), 0);
	assert_true(f->promisc);
	assert_int_equal(nb_dev_stats(&f->dev, NULL), -1);
	assert_failed_with(EINVAL, "NULL result pointer");
	nb_dev_close(&f->dev);
}

static void missing_driver_calls_give_enotsup(void **state)
{
	unsigned log = 0, closed_at = 0;
	struct nb_stats stats;
	struct nb_link link;
	uint8_t mac[6];
	struct fake_dev *f;
	struct fake_pci pci;

	(void)state;
	fake_pci_init(&pci, 0x1af4, 0x1041);
	f = fake_dev_new(&bare_ops, &pci, &log, &closed_at);
	assert_int_equal(nb_dev_stats(&f->dev, &stats), -1);
	assert_failed_with(ENOTSUP, "0000:00:09.0 (bare): the driver does not support statistics");
	assert_int_equal(nb_dev_link(&f->dev, &link), -1);
	assert_failed_with(ENOTSUP, "link status");
	assert_int_equal(nb_dev_mac(&f->dev, mac), -1);
	assert_failed_with(ENOTSUP, "MAC address");
	assert_int_equal(nb_dev_set_promisc(&f->dev, true), -1);
	assert_failed_with(ENOTSUP, "promiscuous");
	nb_dev_close(&f->dev);
}

static void fault_text_is_kept_and_truncated(void **state)
{
	unsigned log = 0, closed_at = 0;
	struct fake_dev *f;
	struct fake_pci pci;
	char longer[2 * NB_FAULT_LEN];

	(void)state;
	fake_pci_init(&pci, 0x1af4, 0x1041);
	f = fake_dev_new(&full_ops, &pci, &log, &closed_at);
	assert_null(nb_dev_fault(&f->dev));
	nb_dev_set_fault(&f->dev, "rx queue %u: used index %u jumped past %u", 0, 700, 512);
	assert_string_equal(nb_dev_fault(&f->dev), "rx queue 0: used index 700 jumped past 512");
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	nb_dev_set_fault(&f->dev, "%s", longer);
	assert_int_equal(strlen(nb_dev_fault(&f->dev)), NB_FAULT_LEN - 1);
	nb_dev_close(&f->dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unknown_ids_give_enodev),
		cmocka_unit_test(open_pci_rejects_null_arguments),
		cmocka_unit_test(close_stops_driver_then_dma_then_pci),
		cmocka_unit_test(wrappers_forward_to_the_driver),
		cmocka_unit_test(missing_driver_calls_give_enotsup),
		cmocka_unit_test(fault_text_is_kept_and_truncated),
	};

	return cmocka_run_group_tests_name("dev", tests, NULL, NULL);
}
