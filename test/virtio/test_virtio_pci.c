/* SPDX-License-Identifier: MIT */
/*
 * test_virtio_pci.c - the virtio-net driver's open/close, capability walk,
 * feature negotiation, link/MAC and fault reporting, on a fake PCI function
 * whose BAR is plain memory. Plain memory cannot emulate the select
 * registers (every queue_select and feature_select sees the same fields),
 * which these tests take into account; the rings themselves are covered by
 * test_virtqueue.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../drivers/virtio/virtio_spec.h"
#include "nb_internal.h"
#include "nb_mmio.h"

#define BAR 4
#define BAR_LEN 0x4000
#define COMMON_OFF 0x0000
#define ISR_OFF 0x1000
#define DEVICE_OFF 0x2000
#define NOTIFY_OFF 0x3000
#define STRUCT_LEN 0x1000
#define NOTIFY_MULT 4

#define POOL_BYTES (16u << 20)
#define FAKE_IOVA 0x200000000ull
#define MP_COUNT 512

/*
 * One 32-bit feature word, seen in both halves (no select emulation): bit 0
 * and 1 become VERSION_1 and ACCESS_PLATFORM in the high half, bit 31
 * SPEED_DUPLEX; MAC and STATUS are in the low half.
 */
#define GOOD_FEATURES                                                 \
	(1u << (VIRTIO_F_VERSION_1 - 32) |                            \
	 1u << (VIRTIO_F_ACCESS_PLATFORM - 32) | 1u << VIRTIO_NET_F_MAC | \
	 1u << VIRTIO_NET_F_STATUS | 1u << (VIRTIO_NET_F_SPEED_DUPLEX - 32))

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct fake_virtio {
	struct nb_pci pci; /* first */
	uint8_t cfg[256];
	uint8_t *bar;
	bool *closed;
};

static int fake_map_bar(struct nb_pci *pci, unsigned bar, void **va,
			size_t *len)
{
	struct fake_virtio *f = (struct fake_virtio *)pci;

	if (bar != BAR)
		return nb_fail(ENOENT, "fake: no BAR%u", bar);
	*va = f->bar;
	*len = BAR_LEN;
	return 0;
}

static int fake_cfg_read(struct nb_pci *pci, unsigned off, void *buf,
			 size_t len)
{
	struct fake_virtio *f = (struct fake_virtio *)pci;

	assert_true(off + len <= sizeof(f->cfg)); /* the driver stays inside */
	memcpy(buf, f->cfg + off, len);
	return 0;
}

static int fake_cfg_write(struct nb_pci *pci, unsigned off, const void *buf,
			  size_t len)
{
	struct fake_virtio *f = (struct fake_virtio *)pci;

	assert_true(off + len <= sizeof(f->cfg));
	memcpy(f->cfg + off, buf, len);
	return 0;
}

static void fake_close(struct nb_pci *pci)
{
	struct fake_virtio *f = (struct fake_virtio *)pci;

	*f->closed = true;
	free(f->bar);
	free(f);
}

static const struct nb_pci_ops fake_ops = {
	.map_bar = fake_map_bar,
	.cfg_read = fake_cfg_read,
	.cfg_write = fake_cfg_write,
	.close = fake_close,
};

/* 4.1.4: a virtio_pci_cap (or notify cap) at `at`, pointing to `next`. */
static void put_cap(struct fake_virtio *f, uint8_t at, uint8_t next,
		    uint8_t type, uint8_t bar, uint32_t off, uint32_t len)
{
	uint8_t *c = f->cfg + at;

	c[0] = PCI_CAP_ID_VNDR;
	c[1] = next;
	c[2] = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? VIRTIO_PCI_NOTIFY_CAP_SIZE
						 : VIRTIO_PCI_CAP_SIZE;
	c[3] = type;
	c[4] = bar;
	memcpy(c + VIRTIO_PCI_CAP_OFFSET, &off, 4);
	memcpy(c + VIRTIO_PCI_CAP_LENGTH, &len, 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
		uint32_t mult = NOTIFY_MULT;

		memcpy(c + VIRTIO_PCI_NOTIFY_CAP_MULT, &mult, 4);
	}
}

struct fixture {
	struct fake_virtio *dev;
	bool closed;
	struct nb_pool *dma;
	struct nb_mempool *mp;
	struct nb_dev_conf conf;
};

static volatile uint8_t *common(struct fixture *f)
{
	return f->dev->bar + COMMON_OFF;
}

static volatile uint8_t *devcfg(struct fixture *f)
{
	return f->dev->bar + DEVICE_OFF;
}

/* A well-formed modern virtio-net function, as QEMU presents one. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct fake_virtio *d = calloc(1, sizeof(*d));
	uint16_t status = PCI_STATUS_CAP_LIST, qsize = 256, link = 1;
	uint32_t features = GOOD_FEATURES, speed = 10000;

	assert_non_null(f);
	assert_non_null(d);
	d->pci.ops = &fake_ops;
	d->pci.vendor_id = VIRTIO_PCI_VENDOR;
	d->pci.device_id = VIRTIO_PCI_DEVICE_NET;
	strcpy(d->pci.name, "0000:00:04.0");
	d->bar = aligned_alloc(4096, BAR_LEN);
	assert_non_null(d->bar);
	memset(d->bar, 0, BAR_LEN);
	d->closed = &f->closed;
	memcpy(d->cfg + PCI_STATUS, &status, 2);
	d->cfg[PCI_CAPABILITY_LIST] = 0x40;
	/* An MSI-X capability first: not vendor-specific, skipped. */
	d->cfg[0x40] = 0x11;
	d->cfg[0x41] = 0x50;
	put_cap(d, 0x50, 0x60, VIRTIO_PCI_CAP_COMMON_CFG, BAR, COMMON_OFF,
		STRUCT_LEN);
	put_cap(d, 0x60, 0x70, VIRTIO_PCI_CAP_ISR_CFG, BAR, ISR_OFF, STRUCT_LEN);
	put_cap(d, 0x70, 0x80, VIRTIO_PCI_CAP_DEVICE_CFG, BAR, DEVICE_OFF,
		STRUCT_LEN);
	put_cap(d, 0x80, 0x00, VIRTIO_PCI_CAP_NOTIFY_CFG, BAR, NOTIFY_OFF,
		STRUCT_LEN);
	f->dev = d;

	memcpy(d->bar + COMMON_OFF + VIRTIO_COMMON_DF, &features, 4);
	memcpy(d->bar + COMMON_OFF + VIRTIO_COMMON_Q_SIZE, &qsize, 2);
	memcpy(d->bar + DEVICE_OFF + VIRTIO_NET_CFG_MAC, test_mac, 6);
	memcpy(d->bar + DEVICE_OFF + VIRTIO_NET_CFG_STATUS, &link, 2);
	memcpy(d->bar + DEVICE_OFF + VIRTIO_NET_CFG_SPEED, &speed, 4);

	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &f->dma), 0);
	assert_int_equal(nb_mempool_create(f->dma, MP_COUNT, 2048, &f->mp), 0);
	f->conf.rx_mempool = f->mp;
	f->conf.link_wait_ms = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f->closed)
		f->dev->pci.ops->close(&f->dev->pci);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT);
	nb_mempool_destroy(f->mp);
	nb_pool_destroy(f->dma);
	free(f);
	return 0;
}

static struct nb_dev *open_ok(struct fixture *f)
{
	struct nb_dev *dev = NULL;

	if (nb_dev_open_pci(&f->dev->pci, f->dma, &f->conf, &dev) < 0)
		fail_msg("open failed: %s", nb_last_error());
	return dev;
}

static void close_dev(struct fixture *f, struct nb_dev *dev)
{
	nb_dev_close(dev);
	assert_true(f->closed);
}

static void assert_open_fails(struct fixture *f, int err, const char *text)
{
	struct nb_dev *dev = NULL;

	assert_int_equal(nb_dev_open_pci(&f->dev->pci, f->dma, &f->conf, &dev), -1);
	assert_int_equal(errno, err);
	if (strstr(nb_last_error(), text) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", nb_last_error(), text);
	assert_null(dev);
	assert_false(f->closed); /* the caller still owns the function */
}

static void test_open_negotiates_and_closes(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev = open_ok(f);
	uint64_t desc = 0;
	uint16_t cmd;

	/* 3.1.1: every step done, in status. */
	assert_int_equal(nb_reg_read8(common(f), VIRTIO_COMMON_STATUS),
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	/* The high half written last: VERSION_1, ACCESS_PLATFORM, SPEED. */
	assert_int_equal(nb_reg_read32(common(f), VIRTIO_COMMON_GFSELECT), 1);
	assert_int_equal(nb_reg_read32(common(f), VIRTIO_COMMON_GF),
			 GOOD_FEATURES & ~(1u << VIRTIO_NET_F_MAC |
					   1u << VIRTIO_NET_F_STATUS));
	assert_int_equal(nb_reg_read16(common(f), VIRTIO_COMMON_Q_ENABLE), 1);
	assert_int_equal(nb_reg_read16(common(f), VIRTIO_COMMON_Q_MSIX),
			 VIRTIO_MSI_NO_VECTOR);
	/* Ring addresses are IOVAs inside the pool. */
	memcpy(&desc, f->dev->bar + COMMON_OFF + VIRTIO_COMMON_Q_DESC, 8);
	assert_non_null(nb_pool_iova_to_va(f->dma, desc, 16));
	/* The receive ring was filled and the device notified (queue 0). */
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT - 256);
	assert_int_equal(nb_reg_read16(f->dev->bar, NOTIFY_OFF), VIRTIO_NET_RXQ);
	memcpy(&cmd, f->dev->cfg + 4, 2);
	assert_true(cmd & (1u << 2)); /* bus master enabled */
	assert_string_equal(nb_dev_driver(dev), "virtio-net");

	/* Every receive buffer comes back on close (teardown checks). */
	close_dev(f, dev);
}

static void test_link_mac_speed(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev = open_ok(f);
	struct nb_link link;
	uint8_t mac[6];

	assert_int_equal(nb_dev_mac(dev, mac), 0);
	assert_memory_equal(mac, test_mac, 6);
	assert_int_equal(nb_dev_link(dev, &link), 0);
	assert_true(link.up);
	assert_int_equal(link.speed_mbps, 10000);

	nb_reg_write16(devcfg(f), VIRTIO_NET_CFG_STATUS, 0);
	nb_reg_write32(devcfg(f), VIRTIO_NET_CFG_SPEED, VIRTIO_NET_SPEED_UNKNOWN);
	assert_int_equal(nb_dev_link(dev, &link), 0);
	assert_false(link.up);
	assert_int_equal(link.speed_mbps, 0);

	/* No VIRTIO_NET_F_CTRL_RX offered: promiscuous mode cannot change. */
	assert_int_equal(nb_dev_set_promisc(dev, true), -1);
	assert_int_equal(errno, ENOTSUP);
	assert_non_null(strstr(nb_last_error(), "VIRTIO_NET_F_CTRL_RX"));
	close_dev(f, dev);
}

static void test_transmit_kicks_tx_queue(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev = open_ok(f);
	struct nb_pkt *pkt = nb_pkt_alloc(f->mp);
	struct nb_stats st;

	assert_non_null(pkt);
	memset(pkt->data, 0xab, 60);
	pkt->len = 60;
	assert_int_equal(nb_tx_batch(dev, 0, &pkt, 1), 1);
	assert_int_equal(nb_reg_read16(f->dev->bar, NOTIFY_OFF), VIRTIO_NET_TXQ);
	/* Only queue 0 exists. */
	assert_int_equal(nb_tx_batch(dev, 1, &pkt, 1), 0);
	assert_int_equal(nb_dev_stats(dev, &st), 0);
	assert_int_equal(st.tx_packets, 1);
	assert_int_equal(st.tx_bytes, 60);
	/* Still posted at close: freed by it. */
	close_dev(f, dev);
}

static void test_refuses_without_access_platform(void **state)
{
	struct fixture *f = *state;

	nb_reg_write32(common(f), VIRTIO_COMMON_DF,
		       GOOD_FEATURES & ~(1u << (VIRTIO_F_ACCESS_PLATFORM - 32)));
	assert_open_fails(f, ENOTSUP, "VIRTIO_F_ACCESS_PLATFORM");
	assert_non_null(strstr(nb_last_error(), "IOMMU"));
}

static void test_refuses_legacy_device(void **state)
{
	struct fixture *f = *state;

	nb_reg_write32(common(f), VIRTIO_COMMON_DF,
		       GOOD_FEATURES & ~(1u << (VIRTIO_F_VERSION_1 - 32)));
	assert_open_fails(f, ENOTSUP, "VIRTIO_F_VERSION_1");
}

static void test_refuses_cap_outside_bar(void **state)
{
	struct fixture *f = *state;

	/* Starts inside the 16 KiB BAR, ends 4 KiB beyond it. */
	put_cap(f->dev, 0x70, 0x80, VIRTIO_PCI_CAP_DEVICE_CFG, BAR, 0x3800,
		STRUCT_LEN);
	assert_open_fails(f, EIO, "outside BAR4");
	/* Offset alone past the end, length chosen to wrap 32 bits. */
	put_cap(f->dev, 0x70, 0x80, VIRTIO_PCI_CAP_DEVICE_CFG, BAR,
		0xfffff000u, 0x2000);
	assert_open_fails(f, EIO, "outside BAR4");
}

static void test_refuses_doorbell_outside_notify(void **state)
{
	struct fixture *f = *state;

	nb_reg_write16(common(f), VIRTIO_COMMON_Q_NOFF, STRUCT_LEN / NOTIFY_MULT);
	assert_open_fails(f, EIO, "doorbell");
}

static void test_refuses_missing_capability(void **state)
{
	struct fixture *f = *state;

	f->dev->cfg[0x70 + VIRTIO_PCI_CAP_CFG_TYPE] = 9; /* vendor data */
	assert_open_fails(f, ENODEV, "device absent");
}

static void test_skips_reserved_bar_and_survives_cycle(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev;

	/* A common cap naming BAR 7 comes first and must be ignored ... */
	f->dev->cfg[0x41] = 0x98;
	put_cap(f->dev, 0x98, 0x50, VIRTIO_PCI_CAP_COMMON_CFG, 7, 0, 0x100);
	/* ... and the list loops back on itself. */
	f->dev->cfg[0x81] = 0x40;
	dev = open_ok(f);
	close_dev(f, dev);
}

/* A power-management capability (8 bytes) at the very end of config
 * space: only its ID and next pointer may be read. */
static void test_short_cap_at_end_of_config_space(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev;

	f->dev->cfg[0x80 + VIRTIO_PCI_CAP_NEXT] = 0xF8;
	f->dev->cfg[0xF8] = 0x01; /* PCI PM 1.2, 3.2.1: capability ID 01h */
	f->dev->cfg[0xF9] = 0x00;
	dev = open_ok(f);
	close_dev(f, dev);
}

/* A hardware device offers ORDER_PLATFORM; the driver takes it. */
static void test_accepts_order_platform(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev;

	nb_reg_write32(common(f), VIRTIO_COMMON_DF,
		       GOOD_FEATURES | 1u << (VIRTIO_F_ORDER_PLATFORM - 32));
	dev = open_ok(f);
	/* The high half is written last. */
	assert_int_equal(nb_reg_read32(common(f), VIRTIO_COMMON_GFSELECT), 1);
	assert_true(nb_reg_read32(common(f), VIRTIO_COMMON_GF) &
		    1u << (VIRTIO_F_ORDER_PLATFORM - 32));
	close_dev(f, dev);
}

/*
 * A device offering VIRTIO_F_RING_PACKED (QEMU packed=on) gets packed rings
 * (2.8); NICBOX_VIRTIO_RING=split keeps it on split ones for comparisons,
 * and a bad value of either switch is refused with a message.
 */
static volatile struct pvirtq_desc *last_queue_desc(struct fixture *f)
{
	uint64_t iova;

	/* The last queue configured is the transmit queue (no selects). */
	memcpy(&iova, f->dev->bar + COMMON_OFF + VIRTIO_COMMON_Q_DESC, 8);
	return nb_pool_iova_to_va(f->dma, iova, 16);
}

static void send_one(struct nb_dev *dev, struct fixture *f)
{
	struct nb_pkt *pkt = nb_pkt_alloc(f->mp);

	assert_non_null(pkt);
	pkt->len = 60;
	if (nb_tx_batch(dev, 0, &pkt, 1) != 1)
		fail_msg("send failed: %s", nb_dev_fault(dev));
}

static void test_negotiates_packed_ring(void **state)
{
	struct fixture *f = *state;
	volatile struct pvirtq_desc *d;
	struct nb_dev *dev;
	struct nb_pkt *pkt;

	nb_reg_write32(common(f), VIRTIO_COMMON_DF,
		       GOOD_FEATURES | 1u << (VIRTIO_F_RING_PACKED - 32));
	dev = open_ok(f);
	assert_true(nb_reg_read32(common(f), VIRTIO_COMMON_GF) &
		    1u << (VIRTIO_F_RING_PACKED - 32));
	send_one(dev, f);
	d = last_queue_desc(f);
	/* 2.8.13: {addr, len, id, flags}, available for wrap counter 1. */
	assert_int_equal(d->len, VIRTIO_NET_HDR_LEN + 60);
	assert_int_equal(d->flags, VIRTQ_DESC_F_AVAIL);
	/* A used descriptor of the wrong lap reaches the app as a fault. */
	d->flags = VIRTQ_DESC_F_USED;
	pkt = nb_pkt_alloc(f->mp);
	pkt->len = 60;
	assert_int_equal(nb_tx_batch(dev, 0, &pkt, 1), 0);
	nb_pkt_free(pkt);
	assert_non_null(nb_dev_fault(dev));
	assert_non_null(strstr(nb_dev_fault(dev), "wrap counter"));
	close_dev(f, dev);
}

static void test_ring_switches(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev;

	nb_reg_write32(common(f), VIRTIO_COMMON_DF,
		       GOOD_FEATURES | 1u << (VIRTIO_F_RING_PACKED - 32));
	setenv("NICBOX_VIRTIO_RING", "packd", 1);
	assert_open_fails(f, EINVAL, "NICBOX_VIRTIO_RING=packd");
	unsetenv("NICBOX_VIRTIO_RING");
	setenv("NICBOX_VIRTIO_EVENT_IDX", "maybe", 1);
	assert_open_fails(f, EINVAL, "NICBOX_VIRTIO_EVENT_IDX=maybe");
	unsetenv("NICBOX_VIRTIO_EVENT_IDX");

	setenv("NICBOX_VIRTIO_RING", "split", 1);
	dev = open_ok(f);
	unsetenv("NICBOX_VIRTIO_RING");
	assert_false(nb_reg_read32(common(f), VIRTIO_COMMON_GF) &
		     1u << (VIRTIO_F_RING_PACKED - 32));
	send_one(dev, f);
	/* Split (2.7.5): {addr, len, flags = 0, next}; no AVAIL bit. */
	assert_int_equal(((volatile struct virtq_desc *)last_queue_desc(f))->flags, 0);
	assert_null(nb_dev_fault(dev));
	close_dev(f, dev);
}

/*
 * The transmit queue's avail ring flags (2.7.6) after open: our interrupts
 * are off, by VIRTQ_AVAIL_F_NO_INTERRUPT without EVENT_IDX, by used_event
 * with it (2.7.7: flags must then be 0).
 */
static uint16_t tx_avail_flags(struct fixture *f)
{
	uint64_t iova;
	volatile struct virtq_avail *avail;

	memcpy(&iova, f->dev->bar + COMMON_OFF + VIRTIO_COMMON_Q_DRIVER, 8);
	avail = nb_pool_iova_to_va(f->dma, iova, 6);
	assert_non_null(avail);
	return avail->flags;
}

/*
 * EVENT_IDX offered: taken (unset, "on"), declined with
 * NICBOX_VIRTIO_EVENT_IDX=off.
 */
static void open_with_event_idx(struct fixture *f, const char *env,
				uint16_t want_flags)
{
	struct nb_dev *dev;

	nb_reg_write32(common(f), VIRTIO_COMMON_DF,
		       GOOD_FEATURES | 1u << VIRTIO_F_EVENT_IDX);
	if (env)
		setenv("NICBOX_VIRTIO_EVENT_IDX", env, 1);
	dev = open_ok(f);
	unsetenv("NICBOX_VIRTIO_EVENT_IDX");
	assert_int_equal(tx_avail_flags(f), want_flags);
	send_one(dev, f);
	assert_null(nb_dev_fault(dev));
	close_dev(f, dev);
}

static void test_event_idx_by_default(void **state)
{
	open_with_event_idx(*state, NULL, 0);
}

static void test_event_idx_on(void **state)
{
	open_with_event_idx(*state, "on", 0);
}

static void test_event_idx_off(void **state)
{
	open_with_event_idx(*state, "off", VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static void test_bad_configuration(void **state)
{
	struct fixture *f = *state;
	struct nb_mempool *small;

	f->conf.rx_queues = 2; /* one mempool for two queues */
	assert_open_fails(f, EINVAL, "one mempool each");
	f->conf.rx_queues = 1;
	assert_int_equal(nb_mempool_create(f->dma, 16, 1024, &small), 0);
	f->conf.rx_mempool = small;
	assert_open_fails(f, EINVAL, "5.1.6.3.1");
	f->conf.rx_mempool = NULL;
	assert_open_fails(f, EINVAL, "rx_mempool");
	nb_mempool_destroy(small);
}

/* Multi-queue: the features and configuration fields of 5.1.4. */
#define MQ_FEATURES (GOOD_FEATURES | 1u << VIRTIO_NET_F_CTRL_VQ | \
		     1u << VIRTIO_NET_F_MQ)
#define RSS_FEATURES (MQ_FEATURES | 1u << (VIRTIO_NET_F_RSS - 32) | \
		      1u << (VIRTIO_NET_F_HASH_REPORT - 32))

static void set_mq_config(struct fixture *f, uint16_t max_pairs,
			  uint8_t key_size, uint16_t table_len, uint32_t types)
{
	nb_reg_write16(devcfg(f), VIRTIO_NET_CFG_MAX_PAIRS, max_pairs);
	nb_reg_write8(devcfg(f), VIRTIO_NET_CFG_RSS_KEY, key_size);
	nb_reg_write16(devcfg(f), VIRTIO_NET_CFG_RSS_TABLE, table_len);
	nb_reg_write32(devcfg(f), VIRTIO_NET_CFG_HASH_TYPES, types);
}

/* Two receive queues with a mempool each (the second freed by the test). */
static struct nb_mempool *two_queues(struct fixture *f,
				     struct nb_mempool *pools[2])
{
	assert_int_equal(nb_mempool_create(f->dma, MP_COUNT, 2048, &pools[1]), 0);
	pools[0] = f->mp;
	f->conf.rx_mempool = NULL;
	f->conf.rx_mempools = pools;
	f->conf.rx_queues = 2;
	f->conf.tx_queues = 2;
	return pools[1];
}

static void test_mq_needs_the_features(void **state)
{
	struct fixture *f = *state;
	struct nb_mempool *pools[2], *mp2 = two_queues(f, pools);

	/* GOOD_FEATURES: no MQ, no RSS. */
	assert_open_fails(f, ENOTSUP, "neither VIRTIO_NET_F_MQ nor");
	assert_non_null(strstr(nb_last_error(), "tap,queues=N"));
	/* MQ without the control queue it depends on (5.1.3.1). */
	nb_reg_write32(common(f), VIRTIO_COMMON_DF,
		       MQ_FEATURES & ~(1u << VIRTIO_NET_F_CTRL_VQ));
	set_mq_config(f, 4, 0, 0, 0);
	assert_open_fails(f, ENOTSUP, "neither VIRTIO_NET_F_MQ nor");
	/* Automatic steering could use receive queues nobody drives. */
	nb_reg_write32(common(f), VIRTIO_COMMON_DF, MQ_FEATURES);
	f->conf.rx_queues = 1;
	f->conf.rx_mempools = NULL;
	f->conf.rx_mempool = f->mp;
	assert_open_fails(f, ENOTSUP, "at least as many receive");
	nb_mempool_destroy(mp2);
}

/* max_virtqueue_pairs is the device's word: checked (5.1.4.1). */
static void test_mq_wrong_queue_counts(void **state)
{
	struct fixture *f = *state;
	struct nb_mempool *pools[2], *mp2 = two_queues(f, pools);

	nb_reg_write32(common(f), VIRTIO_COMMON_DF, MQ_FEATURES);
	set_mq_config(f, 0, 0, 0, 0);
	assert_open_fails(f, EIO, "max_virtqueue_pairs 0");
	set_mq_config(f, 0x8001, 0, 0, 0);
	assert_open_fails(f, EIO, "5.1.4.1");
	set_mq_config(f, 1, 0, 0, 0);
	assert_open_fails(f, ENOTSUP, "2 queue pairs asked, the device has 1");
	f->conf.rx_queues = NB_MAX_QUEUES + 1;
	assert_open_fails(f, EINVAL, "NB_MAX_QUEUES");
	f->conf.rx_queues = 2;
	pools[1] = f->mp; /* one mempool on two queues */
	assert_open_fails(f, EINVAL, "share a mempool");
	f->conf.rx_mempool = f->mp;
	assert_open_fails(f, EINVAL, "not both");
	nb_mempool_destroy(mp2);
}

/* RSS limits of the device against what nicbox programs (5.1.4.1). */
static void test_rss_device_limits(void **state)
{
	struct fixture *f = *state;
	struct nb_mempool *pools[2], *mp2 = two_queues(f, pools);

	nb_reg_write32(common(f), VIRTIO_COMMON_DF, RSS_FEATURES);
	set_mq_config(f, 4, 20, 128, 0x1ff);
	assert_open_fails(f, ENOTSUP, "RSS keys of at most 20 bytes");
	set_mq_config(f, 4, 40, 64, 0x1ff);
	assert_open_fails(f, ENOTSUP, "tables of at most 64 entries");
	set_mq_config(f, 4, 40, 128, VIRTIO_NET_HASH_TYPE_IPv4);
	assert_open_fails(f, ENOTSUP, "hash types 0x3e");
	f->conf.rss_types = NB_RSS_IPV4; /* what it has: accepted */
	f->conf.link_wait_ms = 1;
	/* ... up to the first control command, which nobody answers. */
	assert_open_fails(f, ETIMEDOUT, "no answer on the control queue");
	nb_mempool_destroy(mp2);
}

/*
 * The control queue comes after the device's last pair, not ours (5.1.2):
 * 2 pairs used of 4, so the RSS command kicks queue 8. The fake device
 * never answers: open fails after the bounded wait and gives every buffer
 * of both receive queues back (teardown checks the first, we the second).
 */
static void test_ctrl_queue_after_last_device_pair(void **state)
{
	struct fixture *f = *state;
	struct nb_mempool *pools[2], *mp2 = two_queues(f, pools);

	nb_reg_write32(common(f), VIRTIO_COMMON_DF, RSS_FEATURES);
	set_mq_config(f, 4, 40, 128, 0x1ff);
	assert_open_fails(f, ETIMEDOUT, "no answer on the control queue");
	assert_int_equal(nb_reg_read16(f->dev->bar, NOTIFY_OFF), 8);
	/* HASH_REPORT negotiated: VERSION_1 ... and bits 57, 60 (high half). */
	assert_true(nb_reg_read32(common(f), VIRTIO_COMMON_GF) &
		    1u << (VIRTIO_NET_F_RSS - 32));
	assert_int_equal(nb_mempool_available(mp2), MP_COUNT);
	nb_mempool_destroy(mp2);
}

static void test_ring_size_choice(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev;

	/* A device maximum that is no power of two: round down to one. */
	nb_reg_write16(common(f), VIRTIO_COMMON_Q_SIZE, 100);
	dev = open_ok(f);
	assert_int_equal(nb_mempool_available(f->mp), MP_COUNT - 64);
	close_dev(f, dev);
}

static void test_ring_size_errors(void **state)
{
	struct fixture *f = *state;

	f->conf.rx_ring_size = 100;
	assert_open_fails(f, EINVAL, "not a power of two");
	f->conf.rx_ring_size = 0;
	nb_reg_write16(common(f), VIRTIO_COMMON_Q_SIZE, 0);
	assert_open_fails(f, ENODEV, "does not exist");
}

static void test_device_needs_reset_is_a_fault(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev = open_ok(f);
	struct nb_pkt *pkt = nb_pkt_alloc(f->mp), *rx[8];
	struct nb_stats st;

	assert_null(nb_dev_fault(dev));
	nb_reg_write8(common(f), VIRTIO_COMMON_STATUS,
		      nb_reg_read8(common(f), VIRTIO_COMMON_STATUS) |
		      VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(nb_dev_stats(dev, &st), 0);
	assert_int_equal(st.dev_faults, 1);
	assert_non_null(nb_dev_fault(dev));
	assert_non_null(strstr(nb_dev_fault(dev), "DEVICE_NEEDS_RESET"));
	/* Queues stopped; counted once however often it is seen. */
	pkt->len = 60;
	assert_int_equal(nb_tx_batch(dev, 0, &pkt, 1), 0);
	assert_int_equal(nb_rx_batch(dev, 0, rx, 8), 0);
	assert_int_equal(nb_dev_stats(dev, &st), 0);
	assert_int_equal(st.dev_faults, 1);
	nb_pkt_free(pkt);
	close_dev(f, dev);
}

/* A loop that only polls an idle queue still notices, within the
 * driver's interval of empty polls (2^16), a device that asked for reset. */
static void test_idle_polling_notices_needs_reset(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev = open_ok(f);
	struct nb_pkt *rx[8];
	unsigned polls = 0;

	nb_reg_write8(common(f), VIRTIO_COMMON_STATUS,
		      nb_reg_read8(common(f), VIRTIO_COMMON_STATUS) |
		      VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	while (nb_dev_fault(dev) == NULL && polls < (1u << 17)) {
		assert_int_equal(nb_rx_batch(dev, 0, rx, 8), 0);
		polls++;
	}
	assert_non_null(nb_dev_fault(dev));
	assert_non_null(strstr(nb_dev_fault(dev), "DEVICE_NEEDS_RESET"));
	assert_true(polls > 1024); /* not read on every poll */
	close_dev(f, dev);
}

static void test_ring_fault_reaches_the_app(void **state)
{
	struct fixture *f = *state;
	struct nb_dev *dev = open_ok(f);
	struct nb_pkt *pkt = nb_pkt_alloc(f->mp);
	volatile struct virtq_used *used;
	uint64_t used_iova;
	struct nb_stats st;

	/* The last queue configured is the transmit queue (no selects). */
	memcpy(&used_iova, f->dev->bar + COMMON_OFF + VIRTIO_COMMON_Q_DEVICE, 8);
	used = nb_pool_iova_to_va(f->dma, used_iova, 4);
	assert_non_null(used);
	used->idx = 5; /* completions for frames never sent */
	pkt->len = 60;
	assert_int_equal(nb_tx_batch(dev, 0, &pkt, 1), 0);
	assert_int_equal(nb_dev_stats(dev, &st), 0);
	assert_int_equal(st.dev_faults, 1);
	assert_non_null(strstr(nb_dev_fault(dev), "0000:00:04.0"));
	assert_non_null(strstr(nb_dev_fault(dev), "outstanding"));
	nb_pkt_free(pkt);
	close_dev(f, dev);
}

/*
 * A pool of exactly what nb_ports_dma_bytes counts (before its rounding to
 * 2 MiB; to 4 KiB here) holds the receive mempool, both rings and the
 * control queue: the bound core/port.c uses is not too small for this
 * driver. nb_dev_info reports what was opened.
 */
static void test_port_dma_bound_fits_the_driver(void **state)
{
	struct fixture *f = *state;
	struct nb_port_conf pc = { .rx_ring_size = 256, .tx_ring_size = 256, .rx_bufs = 300,
				   .buf_size = 1500 };
	struct nb_pool *fixture_dma = f->dma, *dma;
	struct nb_mempool *mp;
	struct nb_dev_info info;
	struct nb_dev *dev;

	assert_int_equal(nb_pool_create_unmapped(NB_ALIGN_UP(nb_ports_dma_need(1, &pc), 4096),
						 FAKE_IOVA, &dma), 0);
	assert_int_equal(nb_mempool_create(dma, pc.rx_bufs, pc.buf_size, &mp), 0);
	f->dma = dma;
	f->conf.rx_mempool = mp;
	f->conf.rx_ring_size = f->conf.tx_ring_size = 256;
	dev = open_ok(f);
	assert_int_equal(nb_dev_info(dev, &info), 0);
	assert_string_equal(info.driver, "virtio-net");
	assert_int_equal(info.rx_ring_size, 256);
	assert_int_equal(info.tx_ring_size, 256);
	assert_int_equal(info.rx_queues, 1);
	assert_int_equal(info.max_tx_queues, 1);
	assert_memory_equal(info.mac, test_mac, 6);
	assert_true(info.link.up);
	close_dev(f, dev);
	nb_mempool_destroy(mp);
	nb_pool_destroy(dma);
	f->dma = fixture_dma;
	f->conf.rx_mempool = f->mp;
	f->conf.rx_ring_size = f->conf.tx_ring_size = 0;
	assert_true(nb_ports_dma_bytes(1, &pc) % (2u << 20) == 0);
	assert_true(nb_ports_dma_bytes(2, &pc) >= 2 * nb_ports_dma_need(1, &pc));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_port_dma_bound_fits_the_driver),
		T(test_open_negotiates_and_closes),
		T(test_link_mac_speed),
		T(test_transmit_kicks_tx_queue),
		T(test_refuses_without_access_platform),
		T(test_refuses_legacy_device),
		T(test_refuses_cap_outside_bar),
		T(test_refuses_doorbell_outside_notify),
		T(test_refuses_missing_capability),
		T(test_skips_reserved_bar_and_survives_cycle),
		T(test_short_cap_at_end_of_config_space),
		T(test_accepts_order_platform),
		T(test_negotiates_packed_ring),
		T(test_ring_switches),
		T(test_event_idx_by_default),
		T(test_event_idx_on),
		T(test_event_idx_off),
		T(test_bad_configuration),
		T(test_mq_needs_the_features),
		T(test_mq_wrong_queue_counts),
		T(test_rss_device_limits),
		T(test_ctrl_queue_after_last_device_pair),
		T(test_ring_size_choice),
		T(test_ring_size_errors),
		T(test_device_needs_reset_is_a_fault),
		T(test_idle_polling_notices_needs_reset),
		T(test_ring_fault_reaches_the_app),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
