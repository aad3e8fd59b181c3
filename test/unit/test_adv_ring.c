/* SPDX-License-Identifier: MIT */
/*
 * test_adv_ring.c - the limits of the advanced-descriptor rings shared by
 * ixgbe and igb (drivers/intel/adv_ring.c): receive buffers the device
 * counts in whole KiB, transmit lengths a descriptor cannot hold, and the
 * per-chip receive error bit. The ring runs on plain memory here; the
 * test plays the device.
 */
#include <stdlib.h>

#include "nb_test.h"
#include "../../drivers/intel/adv_ring.h"
#include "../../drivers/igb/igb_regs.h"
#include "../../drivers/ixgbe/ixgbe_regs.h"

#define RING 64u
#define IOVA_BASE 0x300000000ull

struct fixture {
	struct nb_pool *dma;
	struct nb_mempool *mp;
	void *ring;
	struct nb_pkt *slot[RING];
	uint32_t regs[0x10000 / 4];
	struct nb_dev dev;
};

static struct fixture *setup_with(uint32_t count, uint32_t buf_size)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint64_t iova;

	assert_non_null(f);
	assert_int_equal(nb_pool_create_unmapped(16u << 20, IOVA_BASE, &f->dma), 0);
	assert_int_equal(nb_mempool_create(f->dma, count, buf_size, &f->mp), 0);
	assert_int_equal(nb_pool_carve(f->dma, RING * 16u, ADV_RING_ALIGN,
				       &f->ring, &iova), 0);
	memset(f->ring, 0, RING * 16u);
	return f;
}

static void teardown_fixture(struct fixture *f)
{
	assert_int_equal(nb_mempool_available(f->mp), nb_mempool_count(f->mp));
	nb_mempool_destroy(f->mp);
	nb_pool_destroy(f->dma);
	free(f);
}

/* A 1,536-byte buffer would be programmed as 1 KiB (BSIZEPACKET rounds
 * down): every frame above 1,024 bytes would be split and lost. Refused up
 * front, with the reason; 2 KiB is accepted. */
static void rx_buffers_below_2k_are_refused(void **state)
{
	struct nb_dev_conf conf = { 0 };
	struct nb_pci pci = { .name = "0000:00:08.0" };
	struct fixture *f = setup_with(8, 1536);
	struct nb_mempool *ok;
	struct adv_conf c;

	(void)state;
	assert_int_equal(adv_rx_bsize_kb(nb_mempool_buf_size(f->mp), 16), 1);
	conf.rx_mempool = f->mp;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), -1);
	assert_failed_with(EINVAL, "rx buffers of 1536 bytes are too small");

	assert_int_equal(nb_mempool_create(f->dma, 8, 2048, &ok), 0);
	conf.rx_mempool = ok;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), 0);
	assert_int_equal(c.rx_size, 512);
	assert_ptr_equal(c.rx_mp[0], ok);
	assert_int_equal(c.bsize_kb[0], 2);
	conf.rx_mempool = NULL;
	assert_int_equal(adv_rx_bsize_kb(2048, 16), 2);
	assert_int_equal(adv_rx_bsize_kb(65536, 16), 16); /* the chip's max */
	nb_mempool_destroy(ok);
	teardown_fixture(f);
}

/* More than one receive queue: one distinct mempool each (a mempool is
 * single-threaded), at most the driver's queue count, known hash types. */
static void multi_queue_conf_is_checked(void **state)
{
	struct nb_pci pci = { .name = "0000:00:08.0" };
	struct fixture *f = setup_with(8, 2048);
	struct nb_mempool *b, *mps[3];
	struct nb_dev_conf conf = { .rx_queues = 2, .tx_queues = 2 };
	struct adv_conf c;

	(void)state;
	assert_int_equal(nb_mempool_create(f->dma, 8, 4096, &b), 0);
	conf.rx_mempool = f->mp;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), -1);
	assert_failed_with(EINVAL, "2 rx queues need conf.rx_mempools");
	mps[0] = f->mp;
	mps[1] = f->mp;
	conf.rx_mempools = mps;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), -1);
	assert_failed_with(EINVAL, "not both");
	conf.rx_mempool = NULL;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), -1);
	assert_failed_with(EINVAL, "rx queues 0 and 1 share a mempool");
	mps[1] = b;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), 0);
	assert_ptr_equal(c.rx_mp[1], b);
	assert_int_equal(c.bsize_kb[0], 2);
	assert_int_equal(c.bsize_kb[1], 4);
	assert_ptr_equal(c.rss_key, nb_rss_default_key());
	assert_int_equal(c.rss_types, NB_RSS_DEFAULT_TYPES);
	conf.rx_queues = 3;
	mps[2] = NULL;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), -1);
	assert_failed_with(EINVAL, "conf.rx_mempools[2] is NULL");
	conf.rx_queues = 2;
	conf.tx_queues = 17;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), -1);
	assert_failed_with(EINVAL, "runs 1..16 per direction");
	conf.tx_queues = 1;
	conf.rss_types = 1u << 6;
	assert_int_equal(adv_check_conf("igb", &pci, &conf, 512, 16, 16, &c), -1);
	assert_failed_with(EINVAL, "unknown RSS hash types 0x40");
	nb_mempool_destroy(b);
	teardown_fixture(f);
}

/* RETA entry i = i % n, four entries a register, entry 0 in the low byte;
 * key byte i in byte i % 4 of register i / 4 (82599 8.2.3.7.14-15). */
static void rss_tables_are_laid_out_as_the_datasheet_says(void **state)
{
	uint32_t regs[64] = { 0 };
	struct adv_rxq rxq[3] = { 0 };

	(void)state;
	adv_rss_program((volatile uint8_t *)regs, 0, 0x80, rxq, 3, nb_rss_default_key());
	for (unsigned q = 0; q < 3; q++)
		assert_true(rxq[q].rss); /* the queues hand on the hash */
	assert_int_equal(regs[0], 0x00020100); /* entries 0..3: 0 1 2 0 */
	assert_int_equal(regs[1], 0x01000201); /* entries 4..7: 1 2 0 1 */
	for (unsigned e = 0; e < 128; e++)
		assert_int_equal((regs[e / 4] >> (8 * (e % 4))) & 0xFF, e % 3);
	assert_int_equal(regs[32], 0xda565a6d);
	assert_int_equal(regs[41], 0xfa01acbe);
	assert_int_equal(adv_mrqc_fields(NB_RSS_IPV4 | NB_RSS_UDP_IPV4),
			 (1u << 17) | (1u << 22));
}

/* Send one frame of `len` from f->mp on a fresh queue; returns the queue's
 * tx_errors, and *cmd the descriptor's cmd_type_len. */
static uint64_t send_one(struct fixture *f, uint32_t len, uint32_t *cmd)
{
	struct adv_txq q;
	struct nb_pkt *pkt = nb_pkt_alloc(f->mp);

	assert_non_null(pkt);
	memset(f->ring, 0, RING * 16u);
	memset(f->regs, 0, sizeof(f->regs));
	adv_txq_init(&q, &f->dev, "test", (volatile uint8_t *)f->regs, 0x18,
		     f->ring, f->slot, RING);
	pkt->len = len;
	assert_int_equal(adv_txq_burst(&q, &pkt, 1), 1); /* taken either way */
	*cmd = ((volatile union adv_tx_desc *)f->ring)[0].read.cmd_type_len;
	if (q.tx_errors == 0) {
		assert_int_equal(f->regs[0x18 / 4], 1); /* TDT moved */
	} else {
		assert_int_equal(*cmd, 0);               /* descriptor untouched */
		assert_int_equal(f->regs[0x18 / 4], 0);  /* TDT not written */
	}
	adv_txq_release(&q);
	return q.tx_errors;
}

/* DTALEN is 16 bits: a 65,536-byte frame (the mempool rounds a 65,535-byte
 * buffer up to 65,536) would be written as length 0 with bit 16 set in the
 * reserved bits. It is refused and counted; 65,535 goes out intact. */
static void tx_length_capped_at_dtalen(void **state)
{
	struct fixture *f = setup_with(2, 65535);
	uint32_t cmd;

	(void)state;
	assert_int_equal(nb_mempool_buf_size(f->mp), 65536);
	assert_int_equal(send_one(f, 65536, &cmd), 1);
	assert_int_equal(send_one(f, 65535, &cmd), 0);
	assert_int_equal(cmd & 0xFFFFu, 65535);
	/* No RS: only every 32nd descriptor asks for a write-back. */
	assert_int_equal(cmd & 0xFFFF0000u, ADV_TXD_DTYP_DATA | ADV_TXD_CMD_EOP |
			 ADV_TXD_CMD_IFCS | ADV_TXD_CMD_DEXT);
	teardown_fixture(f);
}

/* Both chips need 17 bytes at least; shorter frames are refused, counted. */
static void tx_minimum_length(void **state)
{
	struct fixture *f = setup_with(2, 2048);
	uint32_t cmd;

	(void)state;
	assert_int_equal(send_one(f, ADV_TX_MIN_LEN - 1u, &cmd), 1);
	assert_int_equal(send_one(f, 0, &cmd), 1);
	assert_int_equal(send_one(f, ADV_TX_MIN_LEN, &cmd), 0);
	assert_int_equal(cmd & 0xFFFFu, ADV_TX_MIN_LEN);
	assert_int_equal(send_one(f, 2048, &cmd), 0);
	assert_int_equal(send_one(f, 2049, &cmd), 1); /* beyond its buffer */
	teardown_fixture(f);
}

/* The device completes slot 0 with `status`; returns frames received. */
static unsigned receive_one(struct fixture *f, uint32_t err_mask,
			    uint32_t status, uint64_t *rx_errors)
{
	volatile union adv_rx_desc *ring = f->ring;
	struct nb_pkt *pkts[4];
	struct adv_rxq q;
	unsigned got;

	memset(f->ring, 0, RING * 16u);
	adv_rxq_init(&q, &f->dev, "test", (volatile uint8_t *)f->regs, 0x18,
		     f->ring, f->slot, RING, f->mp, 2, err_mask);
	assert_int_equal(adv_rxq_fill(&q), 0);
	ring[0].wb.length = 100;
	ring[0].wb.status_error = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP | status;
	got = adv_rxq_burst(&q, pkts, 4);
	nb_pkt_free_bulk(pkts, got);
	*rx_errors = q.rx_errors;
	adv_rxq_release(&q);
	return got;
}

/* On the 82576 bit 29 is the L4 checksum error, RXE is bit 31; on the
 * 82599 RXE is bit 29. Each chip drops only on its own RXE. */
static void rx_error_bit_is_per_chip(void **state)
{
	struct fixture *f = setup_with(RING + 8, 2048);
	uint64_t errors;

	(void)state;
	assert_int_equal(receive_one(f, IGB_RXD_ERR_RXE, 1u << 29, &errors), 1);
	assert_int_equal(errors, 0);
	assert_int_equal(receive_one(f, IGB_RXD_ERR_RXE, 1u << 31, &errors), 0);
	assert_int_equal(errors, 1);
	assert_int_equal(receive_one(f, IXGBE_RXD_ERR_RXE, 1u << 29, &errors), 0);
	assert_int_equal(errors, 1);
	teardown_fixture(f);
}

#define TX_RING 128u

/* Queue `n` 60-byte frames from f->mp on q; all must be taken. */
static void send_n(struct fixture *f, struct adv_txq *q, unsigned n)
{
	struct nb_pkt *pkts[TX_RING];

	assert_int_equal(nb_pkt_alloc_bulk(f->mp, pkts, n), n);
	for (unsigned i = 0; i < n; i++)
		pkts[i]->len = 60;
	assert_int_equal(adv_txq_burst(q, pkts, (uint16_t)n), n);
}

/* RS (a status write-back) only on slots 31, 63, ... whatever the bursts;
 * the DD of slot 31 alone gives back its whole batch of 32, and a later
 * batch done before an earlier one stops the queue. */
static void tx_rs_every_32nd_one_dd_per_batch(void **state)
{
	struct fixture *f = setup_with(2 * TX_RING, 2048);
	const uint32_t avail = nb_mempool_available(f->mp);
	volatile union adv_tx_desc *ring;
	struct nb_pkt *slot[TX_RING];
	struct adv_txq q;
	uint64_t iova;
	void *mem;

	(void)state;
	assert_int_equal(nb_pool_carve(f->dma, TX_RING * 16u, ADV_RING_ALIGN,
				       &mem, &iova), 0);
	memset(mem, 0, TX_RING * 16u);
	ring = mem;
	memset(f->regs, 0, sizeof(f->regs));
	adv_txq_init(&q, &f->dev, "test", (volatile uint8_t *)f->regs, 0x18,
		     mem, slot, TX_RING);
	send_n(f, &q, 5);
	send_n(f, &q, 30);
	send_n(f, &q, 35);
	assert_int_equal(f->regs[0x18 / 4], 70); /* TDT */
	for (unsigned i = 0; i < 70; i++)
		assert_int_equal((ring[i].read.cmd_type_len & ADV_TXD_CMD_RS) != 0,
				 i == 31 || i == 63);
	/* Nothing done yet: nothing given back, no fault. */
	adv_txq_clean(&q);
	assert_int_equal(nb_mempool_available(f->mp), avail - 70);
	/* DD on slot 31 only: the batch 0..31 comes back whole. */
	ring[31].wb.status = ADV_TXD_STAT_DD;
	adv_txq_clean(&q);
	assert_int_equal(nb_mempool_available(f->mp), avail - 38);
	assert_int_equal(q.clean, 32);
	assert_int_equal(ring[31].wb.status, 0); /* cleared for the early-DD check */
	assert_int_equal(q.dev_faults, 0);
	/* Batch 32..63 not done, batch 64..95 done: out of order. */
	send_n(f, &q, 30);
	assert_true(ring[95].read.cmd_type_len & ADV_TXD_CMD_RS);
	ring[95].wb.status = ADV_TXD_STAT_DD;
	adv_txq_clean(&q);
	assert_int_equal(q.dev_faults, 1);
	assert_true(q.stopped);
	assert_non_null(strstr(f->dev.fault, "done before an earlier one"));
	adv_txq_release(&q);
	teardown_fixture(f);
}

/* Receive `n` frames the test completes from slot q->next on. */
static unsigned complete_and_receive(struct fixture *f, struct adv_rxq *q,
				     unsigned n, struct nb_pkt **pkts)
{
	volatile union adv_rx_desc *ring = f->ring;

	for (unsigned i = 0; i < n; i++) {
		unsigned s = (q->next + i) % RING;

		ring[s].wb.length = 100;
		ring[s].wb.status_error = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP;
	}
	return adv_rxq_burst(q, pkts, (uint16_t)n);
}

/* Rearm: slots are refilled 16 at a time on a 64-slot ring (a quarter),
 * RDT moves only then, and the refilled descriptors carry their new
 * buffers' IOVAs with DD cleared. */
static void rx_rearms_in_batches(void **state)
{
	struct fixture *f = setup_with(3 * RING, 2048);
	volatile union adv_rx_desc *ring = f->ring;
	struct nb_pkt *pkts[RING];
	struct adv_rxq q;

	(void)state;
	memset(f->regs, 0, sizeof(f->regs));
	adv_rxq_init(&q, &f->dev, "test", (volatile uint8_t *)f->regs, 0x18,
		     f->ring, f->slot, RING, f->mp, 2, IXGBE_RXD_ERR_RXE);
	assert_int_equal(q.rearm, 16);
	assert_int_equal(adv_rxq_fill(&q), 0);
	assert_int_equal(complete_and_receive(f, &q, 15, pkts), 15);
	assert_int_equal(f->regs[0x18 / 4], 0);     /* not yet */
	assert_int_equal(q.hold, 15);
	nb_pkt_free_bulk(pkts, 15);
	assert_int_equal(complete_and_receive(f, &q, 2, pkts), 2);
	assert_int_equal(f->regs[0x18 / 4], 15);    /* slots 0..15 refilled */
	assert_int_equal(q.hold, 1);
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(ring[i].read.pkt_addr, f->slot[i]->iova);
		assert_int_equal(ring[i].read.hdr_addr, 0);
	}
	nb_pkt_free_bulk(pkts, 2);
	adv_rxq_release(&q);
	teardown_fixture(f);
}

/* The pool runs dry, so slots stay empty; a hostile device marks every
 * slot done. No buffer is handed out twice: the burst stops short of the
 * empty slots, and resumes once buffers come back. */
static void rx_never_reads_empty_slots(void **state)
{
	struct fixture *f = setup_with(RING + 8, 2048);
	volatile union adv_rx_desc *ring = f->ring;
	struct nb_pkt *first[RING], *second[RING];
	struct adv_rxq q;
	unsigned a, b;

	(void)state;
	adv_rxq_init(&q, &f->dev, "test", (volatile uint8_t *)f->regs, 0x18,
		     f->ring, f->slot, RING, f->mp, 2, IXGBE_RXD_ERR_RXE);
	assert_int_equal(adv_rxq_fill(&q), 0);
	a = complete_and_receive(f, &q, 40, first);
	assert_int_equal(a, 40);
	assert_int_equal(q.hold, 40); /* 8 free buffers: no rearm */
	for (unsigned i = 0; i < RING; i++) {
		ring[i].wb.length = 100;
		ring[i].wb.status_error = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP;
	}
	b = adv_rxq_burst(&q, second, RING);
	assert_int_equal(b, RING - 1u - 40u);
	for (unsigned i = 0; i < a; i++)
		for (unsigned j = 0; j < b; j++)
			assert_ptr_not_equal(first[i], second[j]);
	assert_int_equal(adv_rxq_burst(&q, second + b, RING), 0);
	nb_pkt_free_bulk(first, a);
	nb_pkt_free_bulk(second, b);
	assert_int_equal(q.dev_faults, 0);
	adv_rxq_release(&q);
	teardown_fixture(f);
}

/*
 * The RSS hash and NB_PKT_RSS_HASH come from the write-back only on a queue
 * adv_rss_program() set up, on every path (scalar, SSE4.1, AVX2: the
 * vector groups, their scalar tail). Without RSS the write-back's first
 * 8 bytes are not a hash (RXCSUM.PCSD is clear): even a device that
 * writes an RSS type there gets no hash handed on, and a buffer's stale
 * hash and flag from an earlier frame are cleared.
 */
static void rx_rss_hash_only_with_rss(void **state)
{
	static const char *const names[] = { "scalar", "sse4.1", "avx2" };
	struct fixture *f = setup_with(2 * RING, 2048);
	volatile union adv_rx_desc *ring = f->ring;
	struct nb_pkt *pkts[RING];
	struct adv_rxq q;

	(void)state;
	for (unsigned v = 0; v < NB_ARRAY_SIZE(names); v++) {
		const struct adv_path *path = adv_path_by_name(names[v]);

		assert_non_null(path);
		if (!adv_path_supported(path)) {
			print_message("this CPU lacks %s: RSS not checked on it\n", names[v]);
			continue;
		}
		for (int rss = 0; rss < 2; rss++) {
			const unsigned n = 11; /* two groups of 4, a tail of 3 */
			unsigned got;

			memset(f->regs, 0, sizeof(f->regs));
			adv_rxq_init(&q, &f->dev, "test", (volatile uint8_t *)f->regs, 0x18,
				     f->ring, f->slot, RING, f->mp, 2, IXGBE_RXD_ERR_RXE);
			q.path = path;
			if (rss)
				adv_rss_program((volatile uint8_t *)f->regs, 0x100, 0x200, &q, 1,
						nb_rss_default_key());
			assert_int_equal(q.rss, rss);
			assert_int_equal(adv_rxq_fill(&q), 0);
			for (unsigned i = 0; i < n; i++) {
				/* A stale hash and flag from an earlier frame. */
				f->slot[i]->rss_hash = 0x5A5A5A5Au;
				f->slot[i]->flags = NB_PKT_RSS_HASH;
				ring[i].wb.info = 1u + i % 15u; /* RSS type 1..15 */
				ring[i].wb.rss = 0xC0DE0000u + i;
				ring[i].wb.length = 100;
				ring[i].wb.status_error = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP;
			}
			ring[3].wb.info = 0x10; /* type 0: no flag even with RSS */
			got = adv_rxq_burst(&q, pkts, RING);
			assert_int_equal(got, n);
			for (unsigned i = 0; i < n; i++) {
				/* With RSS the hash is handed on as written; the
				 * flag says whether the type says it is one. */
				if (pkts[i]->flags != (rss && i != 3 ? NB_PKT_RSS_HASH : 0u) ||
				    pkts[i]->rss_hash != (rss ? 0xC0DE0000u + i : 0u))
					fail_msg("%s, RSS %s, frame %u: rss_hash %08x flags %x",
						 names[v], rss ? "on" : "off", i,
						 pkts[i]->rss_hash, pkts[i]->flags);
			}
			nb_pkt_free_bulk(pkts, got);
			adv_rxq_release(&q);
		}
	}
	teardown_fixture(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rx_buffers_below_2k_are_refused),
		cmocka_unit_test(multi_queue_conf_is_checked),
		cmocka_unit_test(rss_tables_are_laid_out_as_the_datasheet_says),
		cmocka_unit_test(tx_length_capped_at_dtalen),
		cmocka_unit_test(tx_minimum_length),
		cmocka_unit_test(rx_error_bit_is_per_chip),
		cmocka_unit_test(tx_rs_every_32nd_one_dd_per_batch),
		cmocka_unit_test(rx_rearms_in_batches),
		cmocka_unit_test(rx_never_reads_empty_slots),
		cmocka_unit_test(rx_rss_hash_only_with_rss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
