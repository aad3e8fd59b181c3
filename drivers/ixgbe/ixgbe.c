/* SPDX-License-Identifier: MIT */
/*
 * ixgbe.c - Intel 82599 SFP+ poll-mode driver: device bring-up in the order
 * of datasheet 4.6.3 with the Specification Update's steps, SFP+ module
 * identification and link, statistics, MAC and promiscuous mode. The rings
 * are in drivers/intel/adv_ring.c (shared with igb); docs/ixgbe.md maps each datasheet step to its code.
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
#include "nb_pci_ids.h"

/* RSS spreads over at most 16 queues (MRQC.MRQE 0001b, 8.2.3.7.12);
 * nicbox's limit is the same (docs/ixgbe.md). */
#define IXGBE_MAX_QUEUES 16
#define IXGBE_DEFAULT_RING_SIZE 512
#define IXGBE_DEFAULT_LINK_WAIT_MS 10000
#define IXGBE_RESET_TIMEOUT_MS 1000
#define IXGBE_INIT_TIMEOUT_MS 1000   /* EEPROM auto-read, DMA init */
#define IXGBE_QUEUE_TIMEOUT_MS 100   /* queue enable read-back */
/* 4.6.3.2: software waits at least 10 ms after a reset completes. */
#define IXGBE_POST_RESET_MS 10
#define IXGBE_MASTER_TIMEOUT_MS 100  /* SU 2.1 clarification 9 */
#define IXGBE_FLUSH_US 20            /* ... and its buffer flush */
#define IXGBE_SECRX_TIMEOUT_MS 40    /* SECRXSTAT.SECRX_RDY */
#define IXGBE_LASER_ON_MS 100        /* SFP+ TX_DISABLE deassert to light */
#define IXGBE_I2C_HALF_US 5          /* 100 kHz: 5 us per clock half */
#define IXGBE_I2C_STRETCH_MS 10      /* longest clock stretch we wait out */

/* What the SFP+ module's EEPROM says it can do (SFF-8472). */
struct ixgbe_sfp {
	bool present;          /* answered on I2C with identifier 03h */
	bool g10, g1;          /* 10 Gb/s (SR/LR/LRM/direct attach), 1 Gb/s codes */
};

struct ixgbe_dev {
	struct adv_port port; /* must stay first: nb, queue counts, counters */
	volatile uint8_t *regs;
	struct ixgbe_sfp sfp;
	struct adv_rxq rxq[IXGBE_MAX_QUEUES];
	struct adv_txq txq[IXGBE_MAX_QUEUES];
};

static struct ixgbe_dev *to_ixgbe(struct nb_dev *dev)
{
	return NB_CONTAINER_OF(dev, struct ixgbe_dev, port.nb);
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
	return adv_wait_reg(d->regs, "ixgbe", d->port.nb.pci->name, reg, mask, want,
			    timeout_ms, what);
}

/* core/nb_pci_ids.h: 82599 SFP+ parts only, the table the helper checks. */
static bool ixgbe_match(uint16_t vendor_id, uint16_t device_id)
{
	const char *driver = nb_pci_driver_for(vendor_id, device_id);

	return driver != NULL && strcmp(driver, "ixgbe") == 0;
}

/* 4.6.3.1: mask every interrupt; this driver polls. */
static void disable_interrupts(struct ixgbe_dev *d)
{
	wr(d, IXGBE_EIMC, IXGBE_EIMC_ALL); /* 8.2.3.5.4 */
}

/* ------------------------------------------------------------------------ */
/* Receive interrupts (7.3): rx queue q raises MSI-X vector q               */

/* Minimum gap between two interrupts of one vector (EITR); each arm yields
 * one message (EIAM), so this only bounds a storm. */
#define IXGBE_EITR_US 20

static bool ixgbe_irq_arm(struct nb_dev *dev, uint16_t queue)
{
	struct ixgbe_dev *d = to_ixgbe(dev);

	wr(d, IXGBE_EIMS, 1u << queue); /* 8.2.3.5.3: unmask vector `queue` */
	(void)rd(d, IXGBE_STATUS);      /* flush the posted write before we look */
	return adv_rxq_ready(&d->rxq[queue]);
}

static void ixgbe_irq_disarm(struct nb_dev *dev, uint16_t queue)
{
	wr(to_ixgbe(dev), IXGBE_EIMC, 1u << queue); /* 8.2.3.5.4: mask again */
}

static const struct nb_irq_ops ixgbe_irq_ops = {
	.arm = ixgbe_irq_arm,
	.disarm = ixgbe_irq_disarm,
};

/*
 * 7.3.1 / 4.6.3.1: MSI-X mode, rx queue q on vector q. After the reset,
 * before receive is enabled; every vector stays masked (EIMC) until
 * nb_rx_wait unmasks it.
 */
static int setup_rx_interrupts(struct ixgbe_dev *d, const struct nb_dev_conf *conf)
{
	uint32_t vectors = 0;

	if (nb_dev_irq_setup(&d->port.nb, conf, d->port.n_rxq, &ixgbe_irq_ops) < 0)
		return -1;
	if (d->port.nb.irq.n == 0)
		return 0; /* poll mode: interrupts stay masked */
	/* 8.2.3.5.18 GPIE: MSI-X mode, EIAM auto-mask, pending bits in PBA. */
	wr(d, IXGBE_GPIE, IXGBE_GPIE_MULTIPLE_MSIX | IXGBE_GPIE_EIAME |
				  IXGBE_GPIE_PBA_SUPPORT);
	for (uint16_t q = 0; q < d->port.n_rxq; q++) {
		uint32_t reg = IXGBE_IVAR(q / 2u), shift = (q % 2u) * 16u;
		uint32_t ivar = rd(d, reg) & ~(0xFFu << shift);

		/* 8.2.3.5.13 IVAR: rx queue q -> vector q, valid. */
		wr(d, reg, ivar | ((IXGBE_IVAR_VALID | q) << shift));
		/* 8.2.3.5.12 EITR: at most one interrupt per IXGBE_EITR_US. */
		wr(d, IXGBE_EITR(q), IXGBE_EITR_INTERVAL_US(IXGBE_EITR_US));
		vectors |= 1u << q;
	}
	/* 8.2.3.5.5 EIAC: the message clears its EICR bit; 8.2.3.5.6 EIAM
	 * (with GPIE.EIAME): and masks the vector: one message per arm. */
	wr(d, IXGBE_EIAC, vectors);
	wr(d, IXGBE_EIAM, vectors);
	wr(d, IXGBE_EICR, vectors); /* 8.2.3.5.1: no stale cause */
	return 0;
}

/*
 * SU 2.1 clarification 9 and 5.2.5.3.2 (master disable): stop the device's
 * DMA before the reset. Queues and receive off, CTRL.GIO master disable,
 * then wait for STATUS.GIO master enable to clear; the status bit can
 * stay set (link down, flow control), and then the Specification Update
 * asks for two resets with more than 1 us between them: *double_reset.
 * Then its flush: MAC loopback on (nothing leaves the port), internal
 * buffers cleared for 20 us, loopback off.
 */
static void stop_master(struct ixgbe_dev *d, bool *double_reset)
{
	clear_bits(d, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);           /* 8.2.3.8.10 */
	for (uint16_t q = 0; q < IXGBE_MAX_QUEUES; q++) {
		clear_bits(d, IXGBE_RXDCTL(q), IXGBE_RXDCTL_ENABLE); /* 8.2.3.8.6 */
		clear_bits(d, IXGBE_TXDCTL(q), IXGBE_TXDCTL_ENABLE); /* 8.2.3.9.10 */
	}
	rd(d, IXGBE_STATUS); /* flush the posted writes */
	set_bits(d, IXGBE_CTRL, IXGBE_CTRL_GIO_DIS);               /* 8.2.3.1.1 */
	*double_reset = wait_reg(d, IXGBE_STATUS, IXGBE_STATUS_GIO_MASTER_EN, 0,
				 IXGBE_MASTER_TIMEOUT_MS,
				 "master disable (STATUS.GIO master enable clear)") < 0;
	set_bits(d, IXGBE_HLREG0, IXGBE_HLREG0_LPBK);              /* 8.2.3.22.8 */
	set_bits(d, IXGBE_GCR_EXT, IXGBE_GCR_EXT_BUFFERS_CLEAR);   /* 8.2.3.3 */
	rd(d, IXGBE_STATUS);
	adv_sleep_us(IXGBE_FLUSH_US);
	clear_bits(d, IXGBE_GCR_EXT, IXGBE_GCR_EXT_BUFFERS_CLEAR);
	clear_bits(d, IXGBE_HLREG0, IXGBE_HLREG0_LPBK);
}

/* 4.6.3.2: global reset, then wait for the NVM and DMA to come up. */
static int reset_device(struct ixgbe_dev *d)
{
	bool double_reset;

	stop_master(d, &double_reset);
	if (double_reset) {
		set_bits(d, IXGBE_CTRL, IXGBE_CTRL_RST_MASK); /* 8.2.3.1.1 */
		if (wait_reg(d, IXGBE_CTRL, IXGBE_CTRL_RST_MASK, 0,
			     IXGBE_RESET_TIMEOUT_MS, "reset completion (CTRL.RST clear)") < 0)
			return -1;
		adv_sleep_us(2); /* SU 2.1 clarification 9: more than 1 us apart */
	}
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

/* ---- SFP+ module EEPROM over the bit-banged I2C bus (8.2.3.1, I2CCTL) ----
 * Each write is followed by a read and the half-period wait (SU 3.0
 * software clarification 3: write, read, delay, write). The module may
 * hold the clock low (I2C clock stretching): we wait until CLK_IN shows
 * the level we drove. */

static int i2c_drive(struct ixgbe_dev *d, bool clk, bool data)
{
	uint32_t v = rd(d, IXGBE_I2CCTL) &
		     ~(IXGBE_I2CCTL_CLK_OUT | IXGBE_I2CCTL_DATA_OUT);

	v |= (clk ? IXGBE_I2CCTL_CLK_OUT : 0) | (data ? IXGBE_I2CCTL_DATA_OUT : 0);
	wr(d, IXGBE_I2CCTL, v);
	rd(d, IXGBE_I2CCTL);
	adv_sleep_us(IXGBE_I2C_HALF_US);
	return wait_reg(d, IXGBE_I2CCTL, IXGBE_I2CCTL_CLK_IN,
			clk ? IXGBE_I2CCTL_CLK_IN : 0, IXGBE_I2C_STRETCH_MS,
			"SFP+ I2C clock (I2CCTL.CLK_IN)");
}

/* One clock with SDA released or driven to `bit`; the bit on the bus. */
static int i2c_bit(struct ixgbe_dev *d, bool bit, bool *seen)
{
	if (i2c_drive(d, false, bit) < 0 || i2c_drive(d, true, bit) < 0)
		return -1;
	*seen = (rd(d, IXGBE_I2CCTL) & IXGBE_I2CCTL_DATA_IN) != 0;
	return i2c_drive(d, false, bit);
}

/* START (or repeated START): SDA falls while SCL is high. */
static int i2c_start(struct ixgbe_dev *d)
{
	return i2c_drive(d, false, true) < 0 || i2c_drive(d, true, true) < 0 ||
	       i2c_drive(d, true, false) < 0 || i2c_drive(d, false, false) < 0 ? -1 : 0;
}

static void i2c_stop(struct ixgbe_dev *d)
{
	if (i2c_drive(d, false, false) == 0 && i2c_drive(d, true, false) == 0)
		i2c_drive(d, true, true);
}

/* Send a byte MSB first; 0 if the module acknowledged it (SDA low). */
static int i2c_send(struct ixgbe_dev *d, uint8_t byte)
{
	bool seen;

	for (int i = 7; i >= 0; i--)
		if (i2c_bit(d, (byte >> i) & 1u, &seen) < 0)
			return -1;
	if (i2c_bit(d, true, &seen) < 0)
		return -1;
	return seen ? nb_fail(ENXIO, "ixgbe %s: no SFP+ module answers on I2C",
			      d->port.nb.pci->name) : 0;
}

/* SFF-8472 4: random read of `len` bytes from `off` of the A0h page. */
static int sfp_read(struct ixgbe_dev *d, uint8_t off, uint8_t *buf, unsigned len)
{
	bool seen;
	int rc = -1;

	if (i2c_start(d) < 0 || i2c_send(d, SFP_I2C_ADDR) < 0 || i2c_send(d, off) < 0 ||
	    i2c_start(d) < 0 || i2c_send(d, SFP_I2C_ADDR | 1u) < 0)
		goto out;
	for (unsigned n = 0; n < len; n++) {
		buf[n] = 0;
		for (int i = 7; i >= 0; i--) {
			if (i2c_bit(d, true, &seen) < 0)
				goto out;
			buf[n] |= (uint8_t)(seen << i);
		}
		if (i2c_bit(d, n + 1 == len, &seen) < 0) /* ACK all but the last */
			goto out;
	}
	rc = 0;
out:
	i2c_stop(d);
	return rc;
}

/* Read the module's identity and rates; absent or unreadable leaves
 * sfp->present false (the link then stays down: no light). */
static void sfp_identify(struct ixgbe_dev *d)
{
	uint8_t id[SFP_CABLE_TECH + 1];

	memset(&d->sfp, 0, sizeof(d->sfp));
	if (sfp_read(d, 0, id, sizeof(id)) < 0 || id[SFP_IDENTIFIER] != SFP_ID_SFP)
		return;
	d->sfp.present = true;
	d->sfp.g10 = (id[SFP_10G_CODES] & SFP_10G_ANY) || (id[SFP_CABLE_TECH] & SFP_CABLE_DA);
	d->sfp.g1 = (id[SFP_1G_CODES] & SFP_1G_ANY) != 0;
}

/*
 * 4.6.4 and 3.7.4.3 (SFI): serial link at 10 or 1 Gb/s. 8.2.3.22.19 AUTOC
 * link mode (10G serial, or 1G without auto-negotiation) with the SFI
 * PMA/PMD (8.2.3.22.21 AUTOC2 for 10G, AUTOC bit 9 clear for 1G), the
 * rate select pin SDP5 to match, then AN_RESTART applies it.
 */
static void setup_link_speed(struct ixgbe_dev *d, bool g10)
{
	uint32_t autoc = rd(d, IXGBE_AUTOC);

	set_bits(d, IXGBE_ESDP, IXGBE_ESDP_SDP5_DIR);
	if (g10)
		set_bits(d, IXGBE_ESDP, IXGBE_ESDP_SDP5);   /* 8.2.3.1.4 */
	else
		clear_bits(d, IXGBE_ESDP, IXGBE_ESDP_SDP5);
	wr(d, IXGBE_AUTOC2, (rd(d, IXGBE_AUTOC2) & ~IXGBE_AUTOC2_10G_PMA_PMD_MASK) |
			    IXGBE_AUTOC2_10G_SFI);
	autoc &= ~(IXGBE_AUTOC_LMS_MASK | IXGBE_AUTOC_1G_PMA_PMD);
	autoc |= g10 ? IXGBE_AUTOC_LMS_10G_SERIAL : IXGBE_AUTOC_LMS_1G_NO_AN;
	wr(d, IXGBE_AUTOC, autoc);
	wr(d, IXGBE_AUTOC, autoc | IXGBE_AUTOC_AN_RESTART);
}

/*
 * The link: identify the module, turn its laser on (SDP3 drives the SFP+
 * TX_DISABLE pin; low = transmit, 8.2.3.1.4), then 10 Gb/s if the module
 * has it, else 1 Gb/s. A module with both (multispeed) that gets no link
 * at 10 Gb/s within half the wait is tried at 1 Gb/s. No module, or one
 * with neither rate: 10 Gb/s is set and the link stays down.
 */
static void setup_link(struct ixgbe_dev *d, uint32_t wait_ms)
{
	bool g10;

	sfp_identify(d);
	clear_bits(d, IXGBE_ESDP, IXGBE_ESDP_SDP3);
	rd(d, IXGBE_ESDP);
	adv_sleep_us(IXGBE_LASER_ON_MS * 1000);
	g10 = d->sfp.g10 || !d->sfp.g1;
	setup_link_speed(d, g10);
	if (g10 && d->sfp.g1 &&
	    wait_reg(d, IXGBE_LINKS, IXGBE_LINKS_UP, IXGBE_LINKS_UP, wait_ms / 2,
		     "link up at 10 Gb/s") < 0)
		setup_link_speed(d, false);
}

/* Read the clear-on-read counters (8.2.3.23) and add them to d->port.hw. */
static void collect_stats(struct ixgbe_dev *d)
{
	uint64_t missed = 0;

	for (unsigned i = 0; i < IXGBE_PACKET_BUFFERS; i++)
		missed += rd(d, IXGBE_MPC(i));
	d->port.hw.rx_missed += missed;
	d->port.hw.rx_packets += rd(d, IXGBE_GPRC);
	d->port.hw.tx_packets += rd(d, IXGBE_GPTC);
	/* Low half first: reading it latches the high half (8.2.3.23). */
	d->port.hw.rx_bytes += rd(d, IXGBE_GORCL);
	d->port.hw.rx_bytes += (uint64_t)rd(d, IXGBE_GORCH) << 32;
	d->port.hw.tx_bytes += rd(d, IXGBE_GOTCL);
	d->port.hw.tx_bytes += (uint64_t)rd(d, IXGBE_GOTCH) << 32;
}

/* 4.6.5: statistics start from zero after reading every counter once. */
static void reset_stats(struct ixgbe_dev *d)
{
	collect_stats(d);
	memset(&d->port.hw, 0, sizeof(d->port.hw));
}

static void write_promisc(struct ixgbe_dev *d, bool on)
{
	/* 8.2.3.7.1: unicast and multicast promiscuous. */
	if (on)
		set_bits(d, IXGBE_FCTRL, IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);
	else
		clear_bits(d, IXGBE_FCTRL, IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);
}

/*
 * 4.6.7 / 7.1.2.8: RSS over the n receive queues: key (8.2.3.7.14),
 * redirection table entry i -> queue i % n (8.2.3.7.15), the hash
 * fields and MRQE "RSS only" (8.2.3.7.12), and RXCSUM.PCSD so the
 * write-back carries the hash instead of the fragment checksum
 * (8.2.3.7.5, 7.1.6.2). One queue: MRQC stays at its reset value 0.
 */
static void init_rss(struct ixgbe_dev *d, const struct adv_conf *c)
{
	if (c->n_rxq < 2)
		return;
	adv_rss_program(d->regs, IXGBE_RETA(0), IXGBE_RSSRK(0), d->rxq, c->n_rxq,
			c->rss_key);
	wr(d, IXGBE_MRQC, (rd(d, IXGBE_MRQC) & ~(IXGBE_MRQC_MRQE_MASK | IXGBE_MRQC_FIELDS_MASK)) |
			  IXGBE_MRQC_MRQE_RSS | adv_mrqc_fields(c->rss_types));
	set_bits(d, IXGBE_RXCSUM, IXGBE_RXCSUM_PCSD);
}

/* 4.6.7: receive initialization (global part, then each queue). */
static int init_rx(struct ixgbe_dev *d, struct nb_pool *dma, const struct adv_conf *c)
{
	const uint16_t size = c->rx_size;

	clear_bits(d, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN); /* 8.2.3.8.10: off while set up */
	/* 8.2.3.8.9: 128 KiB in packet buffer 0, none in the others (no DCB). */
	wr(d, IXGBE_RXPBSIZE(0), IXGBE_RXPBSIZE_128KB);
	for (unsigned i = 1; i < IXGBE_PACKET_BUFFERS; i++)
		wr(d, IXGBE_RXPBSIZE(i), 0);
	/* 8.2.3.22.8 and 8.2.3.8.8: strip the CRC (both must agree). */
	set_bits(d, IXGBE_HLREG0, IXGBE_HLREG0_RXCRCSTRP);
	set_bits(d, IXGBE_RDRXCTL, IXGBE_RDRXCTL_CRCSTRIP);
	set_bits(d, IXGBE_FCTRL, IXGBE_FCTRL_BAM); /* 8.2.3.7.1: broadcasts too */

	for (uint16_t q = 0; q < d->port.n_rxq; q++) {
		struct nb_pkt **slot;
		uint64_t iova;
		void *ring;

		if (adv_alloc_ring("ixgbe", dma, size, &ring, &iova, &slot) < 0)
			return -1;
		adv_rxq_init(&d->rxq[q], &d->port.nb, "ixgbe", d->regs, IXGBE_RDT(q),
			     ring, slot, size, c->rx_mp[q], c->bsize_kb[q],
			     IXGBE_RXD_ERR_RXE);
		/* 8.2.3.8.7: advanced one-buffer descriptors, BSIZEPKT in
		 * KiB (this queue's mempool); drop when full. */
		wr(d, IXGBE_SRRCTL(q),
		   (rd(d, IXGBE_SRRCTL(q)) & ~(IXGBE_SRRCTL_DESCTYPE_MASK |
					       IXGBE_SRRCTL_BSIZEPKT_MASK)) |
			   IXGBE_SRRCTL_DESCTYPE_ADV_ONEBUF | c->bsize_kb[q] |
			   IXGBE_SRRCTL_DROP_EN);
		wr(d, IXGBE_RDBAL(q), (uint32_t)iova);          /* 8.2.3.8.1 */
		wr(d, IXGBE_RDBAH(q), (uint32_t)(iova >> 32));  /* 8.2.3.8.2 */
		wr(d, IXGBE_RDLEN(q), (uint32_t)size * 16u);    /* 8.2.3.8.3 */
		wr(d, IXGBE_RDH(q), 0);                          /* 8.2.3.8.4 */
		wr(d, IXGBE_RDT(q), 0);                          /* 8.2.3.8.5 */
	}
	init_rss(d, c);
	/* 4.6.7: no snoop off; 8.2.3.11.1: relaxed ordering off for rx data
	 * and header writes (on by default), so a frame's bytes are in memory
	 * before its DD write-back is (Linux and DPDK do the same). */
	set_bits(d, IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_NS_DIS); /* 8.2.3.1.3 */
	for (uint16_t q = 0; q < d->port.n_rxq; q++)
		clear_bits(d, IXGBE_DCA_RXCTRL(q),
			   IXGBE_DCA_RXCTRL_DATA_WRO | IXGBE_DCA_RXCTRL_HEAD_WRO);
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

	for (uint16_t q = 0; q < d->port.n_txq; q++) {
		struct nb_pkt **slot;
		uint64_t iova;
		void *ring;

		if (adv_alloc_ring("ixgbe", dma, size, &ring, &iova, &slot) < 0)
			return -1;
		adv_txq_init(&d->txq[q], &d->port.nb, "ixgbe", d->regs, IXGBE_TDT(q),
			     ring, slot, size);
		wr(d, IXGBE_TDBAL(q), (uint32_t)iova);          /* 8.2.3.9.5 */
		wr(d, IXGBE_TDBAH(q), (uint32_t)(iova >> 32));  /* 8.2.3.9.6 */
		wr(d, IXGBE_TDLEN(q), (uint32_t)size * 16u);    /* 8.2.3.9.7 */
		/* 8.2.3.11.2: relaxed ordering off for descriptor write-back
		 * (on by default): DD bits then land in ring order, which the
		 * batch check in adv_txq_clean() relies on. */
		clear_bits(d, IXGBE_DCA_TXCTRL(q), IXGBE_DCA_TXCTRL_DESC_WRO);
		/* 8.2.3.9.10: prefetch 36, host 8, write-back threshold 0:
		 * each RS descriptor's DD is written back as it completes.
		 * Only every 32nd descriptor has RS (adv_ring.c); with
		 * WTHRESH > 0 the device would hold write-backs until that
		 * many had gathered (DPDK demands 0 with tx_rs_thresh > 1). */
		wr(d, IXGBE_TXDCTL(q),
		   (rd(d, IXGBE_TXDCTL(q)) & ~IXGBE_TXDCTL_THRESH_MASK) |
			   IXGBE_TXDCTL_PTHRESH(36) | IXGBE_TXDCTL_HTHRESH(8) |
			   IXGBE_TXDCTL_WTHRESH(0));
	}
	clear_bits(d, IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS); /* 8.2.3.10.2 */
	set_bits(d, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);  /* 8.2.3.9.2 */
	return 0;
}

/*
 * 4.6.7, last step: RXCTRL.RXEN. SU erratum workaround (Linux and DPDK:
 * ixgbe_enable_rx_dma_82599): frames arriving while receive is switched on
 * can hang the receive DMA unless the security block's rx path is off and
 * drained first: SECRXCTRL.RX_DIS, wait for SECRXSTAT.SECRX_RDY, enable,
 * SECRXCTRL.RX_DIS clear again.
 */
static int enable_rx(struct ixgbe_dev *d)
{
	set_bits(d, IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	if (wait_reg(d, IXGBE_SECRXSTAT, IXGBE_SECRXSTAT_RDY, IXGBE_SECRXSTAT_RDY,
		     IXGBE_SECRX_TIMEOUT_MS, "rx security path idle (SECRXSTAT.SECRX_RDY)") < 0)
		return -1;
	set_bits(d, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN); /* 8.2.3.8.10 */
	clear_bits(d, IXGBE_SECRXCTRL, IXGBE_SECRXCTRL_RX_DIS);
	return 0;
}

/* 4.6.7.1 / 4.6.8.1: enable each queue, then hand the rx buffers over. */
static int start_queues(struct ixgbe_dev *d)
{
	for (uint16_t q = 0; q < d->port.n_rxq; q++) {
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
	if (enable_rx(d) < 0)
		return -1;
	for (uint16_t q = 0; q < d->port.n_txq; q++) {
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
	if (d->port.nb.irq.n) /* mask before the vectors go (poll mode: still masked) */
		disable_interrupts(d);
	nb_dev_irq_teardown(&d->port.nb);
	for (uint16_t q = 0; q < d->port.n_rxq; q++)
		clear_bits(d, IXGBE_RXDCTL(q), IXGBE_RXDCTL_ENABLE); /* 8.2.3.8.6 */
	clear_bits(d, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);               /* 8.2.3.8.10 */
	for (uint16_t q = 0; q < d->port.n_txq; q++)
		clear_bits(d, IXGBE_TXDCTL(q), IXGBE_TXDCTL_ENABLE); /* 8.2.3.9.10 */
	clear_bits(d, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);             /* 8.2.3.9.2 */
	nb_pci_disable_dma(d->port.nb.pci);
	adv_release_queues(d->rxq, d->port.n_rxq, d->txq, d->port.n_txq);
	free(d);
}

/* The chip's clear-on-read counters, for adv_port_read_stats(). */
static void ixgbe_collect_stats(struct adv_port *port)
{
	collect_stats(NB_CONTAINER_OF(port, struct ixgbe_dev, port));
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
	.rx_batch = adv_port_rx_batch,
	.tx_batch = adv_port_tx_batch,
	.read_stats = adv_port_read_stats,
	.link = ixgbe_link,
	.mac = ixgbe_mac,
	.set_promisc = ixgbe_set_promisc,
	.close = ixgbe_close,
};

static int ixgbe_open(struct nb_pci *pci, struct nb_pool *dma,
		      const struct nb_dev_conf *conf, struct nb_dev **out)
{
	uint32_t link_wait = conf->link_wait_ms ? conf->link_wait_ms : IXGBE_DEFAULT_LINK_WAIT_MS;
	struct adv_conf c;
	struct ixgbe_dev *d;
	volatile uint8_t *regs;

	/* 8.2.3.8.7: BSIZEPKT counts KiB, at most 16 */
	if (adv_check_conf("ixgbe", pci, conf, IXGBE_DEFAULT_RING_SIZE,
			   IXGBE_MAX_QUEUES, 16, &c) < 0)
		return -1;
	if (adv_map_bar0("ixgbe", pci, IXGBE_BAR0_MIN_LEN, &regs) < 0)
		return -1;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return nb_fail(ENOMEM, "ixgbe %s: out of memory", pci->name);
	adv_port_init(&d->port, &ixgbe_ops, pci, &c, IXGBE_MAX_QUEUES, d->rxq, d->txq,
		      ixgbe_collect_stats);
	d->regs = regs;

	/* 4.6.3: the initialization sequence, step by step. */
	disable_interrupts(d);
	if (reset_device(d) < 0 || nb_pci_enable_dma(pci) < 0)
		goto fail;
	setup_link(d, link_wait);
	reset_stats(d);
	if (setup_rx_interrupts(d, conf) < 0 ||
	    init_rx(d, dma, &c) < 0 ||
	    init_tx(d, dma, c.tx_size) < 0 || start_queues(d) < 0)
		goto fail;
	write_promisc(d, conf->promisc);
	/* 4.6.3: link comes up on its own; a cable may be missing, so an
	 * expired wait is not an error (nb_dev_link tells). */
	wait_reg(d, IXGBE_LINKS, IXGBE_LINKS_UP, IXGBE_LINKS_UP, link_wait, "link up");
	*out = &d->port.nb;
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
