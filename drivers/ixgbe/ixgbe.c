/* SPDX-License-Identifier: MIT */
/*
 * ixgbe.c - Intel 82599 (and X540 / X550) poll-mode driver: device bring-up
 * in the order of datasheet 4.6.3, statistics, link, MAC and promiscuous
 * mode. The rings are in drivers/intel/adv_ring.c, shared with igb.
 *
 * Every wait is a bounded poll that fails with ETIMEDOUT; nothing here can
 * hang on a device that never answers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../intel/adv_ring.h"
#include "ixgbe_regs.h"
#include "nb_mmio.h"

#define IXGBE_MAX_QUEUES 16
#define IXGBE_DEFAULT_RING_SIZE 512
#define IXGBE_DEFAULT_LINK_WAIT_MS 10000
#define IXGBE_RESET_TIMEOUT_MS 1000
#define IXGBE_INIT_TIMEOUT_MS 1000   /* EEPROM auto-read, DMA init */
#define IXGBE_QUEUE_TIMEOUT_MS 100   /* queue enable read-back */
/* 4.6.3.2: software waits at least 10 ms after a reset completes. */
#define IXGBE_POST_RESET_MS 10

struct ixgbe_dev {
	struct nb_dev nb; /* must stay first */
	volatile uint8_t *regs;
	uint16_t n_rxq, n_txq;
	struct adv_rxq rxq[IXGBE_MAX_QUEUES];
	struct adv_txq txq[IXGBE_MAX_QUEUES];
	struct nb_stats hw; /* clear-on-read hardware counters, accumulated */
};

static struct ixgbe_dev *to_ixgbe(struct nb_dev *dev)
{
	return NB_CONTAINER_OF(dev, struct ixgbe_dev, nb);
}

static uint32_t rd(const struct ixgbe_dev *d, uint32_t reg)
{
	return nb_reg_read32(d->regs, reg);
}

static void wr(struct ixgbe_dev *d, uint32_t reg, uint32_t val)
{
	nb_reg_write32(d->regs, reg, val);
}

static void set_bits(struct ixgbe_dev *d, uint32_t reg, uint32_t bits)
{
	wr(d, reg, rd(d, reg) | bits);
}

static void clear_bits(struct ixgbe_dev *d, uint32_t reg, uint32_t bits)
{
	wr(d, reg, rd(d, reg) & ~bits);
}

/* Poll until (reg & mask) == want or timeout_ms pass; 0 or -1/ETIMEDOUT. */
static int wait_reg(struct ixgbe_dev *d, uint32_t reg, uint32_t mask,
		    uint32_t want, uint32_t timeout_ms, const char *what)
{
	return adv_wait_reg(d->regs, "ixgbe", d->nb.pci->name, reg, mask, want,
			    timeout_ms, what);
}

static bool ixgbe_match(uint16_t vendor_id, uint16_t device_id)
{
	static const uint16_t ids[] = {
		IXGBE_DEV_82599_KX4,     IXGBE_DEV_82599_SFP,
		IXGBE_DEV_82599_SFP_EM,  IXGBE_DEV_82599_SFP_SF2,
		IXGBE_DEV_82599_T3_LOM,  IXGBE_DEV_82599EN_SFP,
		IXGBE_DEV_X540T,         IXGBE_DEV_X540T1,
		IXGBE_DEV_X550T,         IXGBE_DEV_X550T1,
	};

	if (vendor_id != IXGBE_VENDOR_INTEL)
		return false;
	for (size_t i = 0; i < NB_ARRAY_SIZE(ids); i++)
		if (ids[i] == device_id)
			return true;
	return false;
}

/* 4.6.3.1: mask every interrupt; this driver polls. */
static void disable_interrupts(struct ixgbe_dev *d)
{
	wr(d, IXGBE_EIMC, IXGBE_EIMC_ALL); /* 8.2.3.5.4 */
}

/* 4.6.3.2: global reset, then wait for the NVM and DMA to come up. */
static int reset_device(struct ixgbe_dev *d)
{
	set_bits(d, IXGBE_CTRL, IXGBE_CTRL_RST_MASK); /* 8.2.3.1.1 */
	if (wait_reg(d, IXGBE_CTRL, IXGBE_CTRL_RST_MASK, 0,
		     IXGBE_RESET_TIMEOUT_MS, "reset completion (CTRL.RST clear)") < 0)
		return -1;
	adv_sleep_us(IXGBE_POST_RESET_MS * 1000);
	/* 4.6.3.1: the reset unmasked interrupts again. */
	disable_interrupts(d);
	if (wait_reg(d, IXGBE_EEC, IXGBE_EEC_ARD, IXGBE_EEC_ARD,
		     IXGBE_INIT_TIMEOUT_MS, "EEPROM auto-read done (EEC.ARD)") < 0)
		return -1;
	return wait_reg(d, IXGBE_RDRXCTL, IXGBE_RDRXCTL_DMAIDONE,
			IXGBE_RDRXCTL_DMAIDONE, IXGBE_INIT_TIMEOUT_MS,
			"DMA init done (RDRXCTL.DMAIDONE)");
}

/* 4.6.4: 10 Gb/s serial link with auto-negotiation restarted. */
static void setup_link(struct ixgbe_dev *d)
{
	uint32_t autoc = rd(d, IXGBE_AUTOC);

	/* 8.2.3.22.19: link mode select and 10G PMA/PMD type. */
	autoc = (autoc & ~IXGBE_AUTOC_LMS_MASK) | IXGBE_AUTOC_LMS_10G_SERIAL;
	autoc = (autoc & ~IXGBE_AUTOC_10G_PMA_PMD_MASK) | IXGBE_AUTOC_10G_XAUI;
	wr(d, IXGBE_AUTOC, autoc);
	wr(d, IXGBE_AUTOC, autoc | IXGBE_AUTOC_AN_RESTART);
}

/* Read the clear-on-read counters (8.2.3.23) and add them to d->hw. */
static void collect_stats(struct ixgbe_dev *d)
{
	uint64_t missed = 0;

	for (unsigned i = 0; i < IXGBE_PACKET_BUFFERS; i++)
		missed += rd(d, IXGBE_MPC(i));
	d->hw.rx_missed += missed;
	d->hw.rx_packets += rd(d, IXGBE_GPRC);
	d->hw.tx_packets += rd(d, IXGBE_GPTC);
	/* Low half first: reading it latches the high half (8.2.3.23). */
	d->hw.rx_bytes += rd(d, IXGBE_GORCL);
	d->hw.rx_bytes += (uint64_t)rd(d, IXGBE_GORCH) << 32;
	d->hw.tx_bytes += rd(d, IXGBE_GOTCL);
	d->hw.tx_bytes += (uint64_t)rd(d, IXGBE_GOTCH) << 32;
}

/* 4.6.5: statistics start from zero after reading every counter once. */
static void reset_stats(struct ixgbe_dev *d)
{
	collect_stats(d);
	memset(&d->hw, 0, sizeof(d->hw));
}

static void write_promisc(struct ixgbe_dev *d, bool on)
{
	/* 8.2.3.7.1: unicast and multicast promiscuous. */
	if (on)
		set_bits(d, IXGBE_FCTRL, IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);
	else
		clear_bits(d, IXGBE_FCTRL, IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);
}

/* 4.6.7: receive initialization (global part, then each queue). */
static int init_rx(struct ixgbe_dev *d, struct nb_pool *dma, uint16_t size,
		   struct nb_mempool *mp)
{
	/* 8.2.3.8.7: BSIZEPKT in KiB, at most 16 */
	uint32_t bsize = adv_rx_bsize_kb(nb_mempool_buf_size(mp), 16);

	clear_bits(d, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN); /* 8.2.3.8.10: off while set up */
	/* 8.2.3.8.9: 128 KiB in packet buffer 0, none in the others (no DCB). */
	wr(d, IXGBE_RXPBSIZE(0), IXGBE_RXPBSIZE_128KB);
	for (unsigned i = 1; i < IXGBE_PACKET_BUFFERS; i++)
		wr(d, IXGBE_RXPBSIZE(i), 0);
	/* 8.2.3.22.8 and 8.2.3.8.8: strip the CRC (both must agree). */
	set_bits(d, IXGBE_HLREG0, IXGBE_HLREG0_RXCRCSTRP);
	set_bits(d, IXGBE_RDRXCTL, IXGBE_RDRXCTL_CRCSTRIP);
	set_bits(d, IXGBE_FCTRL, IXGBE_FCTRL_BAM); /* 8.2.3.7.1: broadcasts too */

	for (uint16_t q = 0; q < d->n_rxq; q++) {
		struct nb_pkt **slot;
		uint64_t iova;
		void *ring;

		if (adv_alloc_ring("ixgbe", dma, size, &ring, &iova, &slot) < 0)
			return -1;
		adv_rxq_init(&d->rxq[q], &d->nb, "ixgbe", d->regs, IXGBE_RDT(q),
			     ring, slot, size, mp, bsize, IXGBE_RXD_ERR_RXE);
		/* 8.2.3.8.7: advanced one-buffer descriptors; drop when full. */
		wr(d, IXGBE_SRRCTL(q),
		   (rd(d, IXGBE_SRRCTL(q)) & ~(IXGBE_SRRCTL_DESCTYPE_MASK |
					       IXGBE_SRRCTL_BSIZEPKT_MASK)) |
			   IXGBE_SRRCTL_DESCTYPE_ADV_ONEBUF | bsize |
			   IXGBE_SRRCTL_DROP_EN);
		wr(d, IXGBE_RDBAL(q), (uint32_t)iova);          /* 8.2.3.8.1 */
		wr(d, IXGBE_RDBAH(q), (uint32_t)(iova >> 32));  /* 8.2.3.8.2 */
		wr(d, IXGBE_RDLEN(q), (uint32_t)size * 16u);    /* 8.2.3.8.3 */
		wr(d, IXGBE_RDH(q), 0);                          /* 8.2.3.8.4 */
		wr(d, IXGBE_RDT(q), 0);                          /* 8.2.3.8.5 */
	}
	/* 4.6.7: no-snoop off and descriptor relaxed ordering off. */
	set_bits(d, IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_NS_DIS); /* 8.2.3.1.3 */
	for (uint16_t q = 0; q < d->n_rxq; q++)
		clear_bits(d, IXGBE_DCA_RXCTRL(q), IXGBE_DCA_RXCTRL_DESC_RRO); /* 8.2.3.11.1 */
	return 0;
}

/* 4.6.8: transmit initialization (global part, then each queue). */
static int init_tx(struct ixgbe_dev *d, struct nb_pool *dma, uint16_t size)
{
	/* 8.2.3.22.8: append the CRC and pad short frames. */
	set_bits(d, IXGBE_HLREG0, IXGBE_HLREG0_TXCRCEN | IXGBE_HLREG0_TXPADEN);
	/* 8.2.3.9.13: 40 KiB in packet buffer 0, as without DCB. */
	wr(d, IXGBE_TXPBSIZE(0), IXGBE_TXPBSIZE_40KB);
	for (unsigned i = 1; i < IXGBE_PACKET_BUFFERS; i++)
		wr(d, IXGBE_TXPBSIZE(i), 0);
	/* 8.2.3.9.1: 4.6.8 asks for the maximum without DCB. */
	wr(d, IXGBE_DTXMXSZRQ, IXGBE_DTXMXSZRQ_MASK);
	/* 8.2.3.10.2: arbiter off while the queues are configured. */
	set_bits(d, IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS);

	for (uint16_t q = 0; q < d->n_txq; q++) {
		struct nb_pkt **slot;
		uint64_t iova;
		void *ring;

		if (adv_alloc_ring("ixgbe", dma, size, &ring, &iova, &slot) < 0)
			return -1;
		adv_txq_init(&d->txq[q], &d->nb, "ixgbe", d->regs, IXGBE_TDT(q),
			     ring, slot, size);
		wr(d, IXGBE_TDBAL(q), (uint32_t)iova);          /* 8.2.3.9.5 */
		wr(d, IXGBE_TDBAH(q), (uint32_t)(iova >> 32));  /* 8.2.3.9.6 */
		wr(d, IXGBE_TDLEN(q), (uint32_t)size * 16u);    /* 8.2.3.9.7 */
		/* 8.2.3.9.10: prefetch 36, host 8, write-back 4 (ixy's values). */
		wr(d, IXGBE_TXDCTL(q),
		   (rd(d, IXGBE_TXDCTL(q)) & ~IXGBE_TXDCTL_THRESH_MASK) |
			   IXGBE_TXDCTL_PTHRESH(36) | IXGBE_TXDCTL_HTHRESH(8) |
			   IXGBE_TXDCTL_WTHRESH(4));
	}
	clear_bits(d, IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS); /* 8.2.3.10.2 */
	set_bits(d, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);  /* 8.2.3.9.2 */
	return 0;
}

/* 4.6.7.1 / 4.6.8.1: enable each queue, then hand the rx buffers over. */
static int start_queues(struct ixgbe_dev *d)
{
	for (uint16_t q = 0; q < d->n_rxq; q++) {
		struct adv_rxq *rxq = &d->rxq[q];

		if (adv_rxq_fill(rxq) < 0)
			return -1;
		set_bits(d, IXGBE_RXDCTL(q), IXGBE_RXDCTL_ENABLE); /* 8.2.3.8.6 */
		if (wait_reg(d, IXGBE_RXDCTL(q), IXGBE_RXDCTL_ENABLE,
			     IXGBE_RXDCTL_ENABLE, IXGBE_QUEUE_TIMEOUT_MS,
			     "rx queue enable (RXDCTL.ENABLE)") < 0)
			return -1;
		wr(d, IXGBE_RDH(q), 0);               /* 8.2.3.8.4 */
		wr(d, IXGBE_RDT(q), rxq->size - 1u);  /* 8.2.3.8.5: all but one */
	}
	set_bits(d, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN); /* 8.2.3.8.10, 4.6.7 last step */
	for (uint16_t q = 0; q < d->n_txq; q++) {
		set_bits(d, IXGBE_TXDCTL(q), IXGBE_TXDCTL_ENABLE); /* 8.2.3.9.10 */
		if (wait_reg(d, IXGBE_TXDCTL(q), IXGBE_TXDCTL_ENABLE,
			     IXGBE_TXDCTL_ENABLE, IXGBE_QUEUE_TIMEOUT_MS,
			     "tx queue enable (TXDCTL.ENABLE)") < 0)
			return -1;
	}
	return 0;
}

/* Stop DMA first, then give every posted buffer back and free the rings'
 * private halves (the DMA halves live as long as the pool). */
static void stop_and_free(struct ixgbe_dev *d)
{
	for (uint16_t q = 0; q < d->n_rxq; q++)
		clear_bits(d, IXGBE_RXDCTL(q), IXGBE_RXDCTL_ENABLE); /* 8.2.3.8.6 */
	clear_bits(d, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);               /* 8.2.3.8.10 */
	for (uint16_t q = 0; q < d->n_txq; q++)
		clear_bits(d, IXGBE_TXDCTL(q), IXGBE_TXDCTL_ENABLE); /* 8.2.3.9.10 */
	clear_bits(d, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);             /* 8.2.3.9.2 */
	nb_pci_disable_dma(d->nb.pci);
	adv_release_queues(d->rxq, d->n_rxq, d->txq, d->n_txq);
	free(d);
}

static uint16_t ixgbe_rx_batch(struct nb_dev *dev, uint16_t queue,
			       struct nb_pkt **pkts, uint16_t n)
{
	struct ixgbe_dev *d = to_ixgbe(dev);

	if (NB_UNLIKELY(queue >= d->n_rxq))
		return 0;
	return adv_rxq_burst(&d->rxq[queue], pkts, n);
}

static uint16_t ixgbe_tx_batch(struct nb_dev *dev, uint16_t queue,
			       struct nb_pkt **pkts, uint16_t n)
{
	struct ixgbe_dev *d = to_ixgbe(dev);

	if (NB_UNLIKELY(queue >= d->n_txq))
		return 0;
	return adv_txq_burst(&d->txq[queue], pkts, n);
}

static int ixgbe_read_stats(struct nb_dev *dev, struct nb_stats *out)
{
	struct ixgbe_dev *d = to_ixgbe(dev);

	collect_stats(d);
	*out = d->hw;
	adv_add_queue_stats(d->rxq, d->n_rxq, d->txq, d->n_txq, out);
	return 0;
}

static int ixgbe_link(struct nb_dev *dev, struct nb_link *out)
{
	uint32_t links = rd(to_ixgbe(dev), IXGBE_LINKS); /* 8.2.3.22.20 */

	out->up = (links & IXGBE_LINKS_UP) != 0;
	switch (links & IXGBE_LINKS_SPEED_MASK) {
	case IXGBE_LINKS_SPEED_10G:
		out->speed_mbps = 10000;
		break;
	case IXGBE_LINKS_SPEED_1G:
		out->speed_mbps = 1000;
		break;
	case IXGBE_LINKS_SPEED_100M:
		out->speed_mbps = 100;
		break;
	default:
		out->speed_mbps = 0;
	}
	if (!out->up)
		out->speed_mbps = 0;
	return 0;
}

/* 8.2.3.7.9/10: receive address 0 holds the MAC the NVM loaded. */
static int ixgbe_mac(struct nb_dev *dev, uint8_t mac[6])
{
	struct ixgbe_dev *d = to_ixgbe(dev);

	adv_mac_from_ra(rd(d, IXGBE_RAL(0)), rd(d, IXGBE_RAH(0)), mac);
	return 0;
}

static int ixgbe_set_promisc(struct nb_dev *dev, bool on)
{
	write_promisc(to_ixgbe(dev), on);
	return 0;
}

static void ixgbe_close(struct nb_dev *dev)
{
	stop_and_free(to_ixgbe(dev));
}

static const struct nb_dev_ops ixgbe_ops = {
	.driver = "ixgbe",
	.rx_batch = ixgbe_rx_batch,
	.tx_batch = ixgbe_tx_batch,
	.read_stats = ixgbe_read_stats,
	.link = ixgbe_link,
	.mac = ixgbe_mac,
	.set_promisc = ixgbe_set_promisc,
	.close = ixgbe_close,
};

static int ixgbe_open(struct nb_pci *pci, struct nb_pool *dma,
		      const struct nb_dev_conf *conf, struct nb_dev **out)
{
	struct adv_conf c;
	struct ixgbe_dev *d;
	volatile uint8_t *regs;

	if (adv_check_conf("ixgbe", pci, conf, IXGBE_MAX_QUEUES,
			   IXGBE_DEFAULT_RING_SIZE, &c) < 0)
		return -1;
	if (adv_map_bar0("ixgbe", pci, IXGBE_BAR0_MIN_LEN, &regs) < 0)
		return -1;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return nb_fail(ENOMEM, "ixgbe %s: out of memory", pci->name);
	d->nb.head.ops = &ixgbe_ops;
	d->nb.pci = pci;
	d->regs = regs;
	d->n_rxq = c.n_rxq;
	d->n_txq = c.n_txq;

	/* 4.6.3: the initialization sequence, step by step. */
	disable_interrupts(d);
	if (reset_device(d) < 0)
		goto fail;
	setup_link(d);
	reset_stats(d);
	if (init_rx(d, dma, c.rx_size, conf->rx_mempool) < 0 ||
	    init_tx(d, dma, c.tx_size) < 0 || start_queues(d) < 0)
		goto fail;
	write_promisc(d, conf->promisc);
	/* 4.6.3: link comes up on its own; a cable may be missing, so an
	 * expired wait is not an error (nb_dev_link tells). */
	wait_reg(d, IXGBE_LINKS, IXGBE_LINKS_UP, IXGBE_LINKS_UP,
		 conf->link_wait_ms ? conf->link_wait_ms : IXGBE_DEFAULT_LINK_WAIT_MS,
		 "link up");
	*out = &d->nb;
	return 0;

fail: {
	int err = errno;

	stop_and_free(d); /* keeps nb_last_error(): nothing in it fails */
	errno = err;
	return -1;
}
}

const struct nb_driver nb_driver_ixgbe = {
	.name = "ixgbe",
	.match = ixgbe_match,
	.open = ixgbe_open,
};
