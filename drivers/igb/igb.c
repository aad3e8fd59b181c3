/* SPDX-License-Identifier: MIT */
/*
 * igb.c - Intel 82576 poll-mode driver: device bring-up in the order of
 * datasheet 4.5 (software initialization sequence), copper link through
 * the internal PHY, statistics, MAC and promiscuous mode. The rings are the
 * advanced-descriptor rings shared with ixgbe (drivers/intel/adv_ring.c).
 *
 * Every wait is a bounded poll that fails with ETIMEDOUT; nothing here can
 * hang on a device that never answers. docs/igb.md has the notes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../intel/adv_ring.h"
#include "igb.h"
#include "igb_regs.h"
#include "nb_mmio.h"

/* The 82576 has 16 queues per direction (8.10, 8.12); RSS spreads over
 * all of them (RETA entries name queues 0-15; docs/igb.md). */
#define IGB_MAX_QUEUES 16
#define IGB_DEFAULT_RING_SIZE 512
#define IGB_DEFAULT_LINK_WAIT_MS 10000
#define IGB_RESET_TIMEOUT_MS 1000
#define IGB_NVM_TIMEOUT_MS 10     /* 4.5.2: NVM auto-read after a reset */
#define IGB_MDIC_TIMEOUT_MS 100   /* one PHY register access */
#define IGB_QUEUE_TIMEOUT_MS 100  /* queue enable read-back */
/* 4.5.2: wait after setting CTRL.RST before touching the device again. */
#define IGB_POST_RESET_US 1000

struct igb_dev {
	struct adv_port port; /* must stay first: nb, queue counts, counters */
	volatile uint8_t *regs;
	struct adv_rxq rxq[IGB_MAX_QUEUES];
	struct adv_txq txq[IGB_MAX_QUEUES];
};

static struct igb_dev *to_igb(struct nb_dev *dev)
{
	return NB_CONTAINER_OF(dev, struct igb_dev, port.nb);
}

static uint32_t rd(const struct igb_dev *d, uint32_t reg)
{
	return nb_reg_read32(d->regs, reg);
}

static void wr(struct igb_dev *d, uint32_t reg, uint32_t val)
{
	nb_reg_write32(d->regs, reg, val);
}

static int wait_reg(struct igb_dev *d, uint32_t reg, uint32_t mask,
		    uint32_t want, uint32_t timeout_ms, const char *what)
{
	return adv_wait_reg(d->regs, "igb", d->port.nb.pci->name, reg, mask, want,
			    timeout_ms, what);
}

static bool igb_match(uint16_t vendor_id, uint16_t device_id)
{
	static const uint16_t ids[] = {
		IGB_DEV_82576, IGB_DEV_82576_QUAD_COPPER, IGB_DEV_82576_NS,
		IGB_DEV_82576_QUAD_COPPER_ET2,
	};

	if (vendor_id != IGB_VENDOR_INTEL)
		return false;
	for (size_t i = 0; i < NB_ARRAY_SIZE(ids); i++)
		if (ids[i] == device_id)
			return true;
	return false;
}

/* 4.5.1: mask every interrupt; this driver polls. */
static void disable_interrupts(struct igb_dev *d)
{
	wr(d, IGB_IMC, IGB_INT_ALL);  /* 8.8 IMC */
	wr(d, IGB_EIMC, IGB_INT_ALL); /* 8.8 EIMC */
}

/* ------------------------------------------------------------------------ */
/* Receive interrupts (7.3): rx queue q raises MSI-X vector q               */

/* Minimum gap between two interrupts of one vector (EITR); we mask after
 * the first anyway, so this only bounds a storm. */
#define IGB_EITR_US 20

static bool igb_irq_arm(struct nb_dev *dev, uint16_t queue)
{
	struct igb_dev *d = to_igb(dev);

	wr(d, IGB_EIMS, 1u << queue); /* 8.8 EIMS: unmask vector `queue` */
	(void)rd(d, IGB_STATUS);      /* flush the posted write before we look */
	return adv_rxq_ready(&d->rxq[queue]);
}

static void igb_irq_disarm(struct nb_dev *dev, uint16_t queue)
{
	wr(to_igb(dev), IGB_EIMC, 1u << queue); /* 8.8 EIMC: mask it again */
}

static const struct nb_irq_ops igb_irq_ops = {
	.arm = igb_irq_arm,
	.disarm = igb_irq_disarm,
};

/*
 * 7.3.1.2 / 7.3.2: MSI-X mode with one vector per receive queue. After the
 * reset, before receive is enabled; every vector stays masked (EIMC from
 * disable_interrupts) until nb_rx_wait unmasks it.
 */
static int setup_rx_interrupts(struct igb_dev *d, const struct nb_dev_conf *conf)
{
	uint32_t vectors = 0;

	if (nb_dev_irq_setup(&d->port.nb, conf, d->port.n_rxq, &igb_irq_ops) < 0)
		return -1;
	if (d->port.nb.irq.n == 0)
		return 0; /* poll mode: interrupts stay masked */
	/* 8.8 GPIE: MSI-X mode, auto-mask on EIAM, pending bits in the PBA. */
	wr(d, IGB_GPIE, IGB_GPIE_MULTIPLE_MSIX | IGB_GPIE_EIAME |
				IGB_GPIE_PBA_SUPPORT | IGB_GPIE_NSICR);
	for (uint16_t q = 0; q < d->port.n_rxq; q++) {
		uint32_t reg = IGB_IVAR(q % 8u), shift = q < 8 ? 0 : 16;
		uint32_t ivar = rd(d, reg) & ~(0xFFu << shift);

		/* 8.8 IVAR: rx queue q -> vector q, valid. */
		wr(d, reg, ivar | ((IGB_IVAR_VALID | q) << shift));
		/* 8.8 EITR: at most one interrupt per IGB_EITR_US. */
		wr(d, IGB_EITR(q), IGB_EITR_INTERVAL_US(IGB_EITR_US));
		vectors |= 1u << q;
	}
	/* 8.8 EIAC: sending the message clears its EICR bit; 8.8 EIAM (with
	 * GPIE.EIAME): and masks the vector, so each arm yields one message. */
	wr(d, IGB_EIAC, vectors);
	wr(d, IGB_EIAM, vectors);
	wr(d, IGB_EICR, vectors); /* 8.8 EICR: no stale cause from before */
	return 0;
}

/* 4.5.2: global reset, then the NVM auto-read. */
static int reset_device(struct igb_dev *d)
{
	wr(d, IGB_CTRL, rd(d, IGB_CTRL) | IGB_CTRL_RST); /* 8.2.1 */
	adv_sleep_us(IGB_POST_RESET_US);
	if (wait_reg(d, IGB_CTRL, IGB_CTRL_RST, 0, IGB_RESET_TIMEOUT_MS,
		     "reset completion (CTRL.RST clear)") < 0)
		return -1;
	/* 8.4.1: EEC.AUTO_RD says the NVM words are loaded. QEMU's model
	 * never sets it (docs/igb.md), and without an NVM the silicon does
	 * not either; the MAC address then reads as the model/defaults put
	 * it, so a missing bit is not an error. */
	(void)wait_reg(d, IGB_EEC, IGB_EEC_AUTO_RD, IGB_EEC_AUTO_RD,
		       IGB_NVM_TIMEOUT_MS, "NVM auto-read done (EEC.AUTO_RD)");
	/* 4.5.1: the reset unmasked interrupts again. */
	disable_interrupts(d);
	return 0;
}

/* Write PHY register `reg` through MDIC (8.2.4) and wait for the cycle. */
static int phy_write(struct igb_dev *d, uint32_t reg, uint16_t val)
{
	uint32_t mdic;

	wr(d, IGB_MDIC, val | reg << IGB_MDIC_REG_SHIFT |
			   IGB_PHY_ADDR << IGB_MDIC_PHY_SHIFT | IGB_MDIC_OP_WRITE);
	if (wait_reg(d, IGB_MDIC, IGB_MDIC_READY, IGB_MDIC_READY,
		     IGB_MDIC_TIMEOUT_MS, "PHY write done (MDIC.R)") < 0)
		return -1;
	mdic = rd(d, IGB_MDIC);
	if (mdic & IGB_MDIC_ERROR)
		return nb_fail(EIO, "igb %s: PHY register %u write failed (MDIC = 0x%08x)",
			       d->port.nb.pci->name, reg, mdic);
	return 0;
}

/*
 * 4.5.4 (copper, internal PHY): the MAC takes speed and duplex from the PHY
 * (CTRL.SLU set, nothing forced, 8.2.1) and the PHY auto-negotiates
 * (clause 22 BMCR: enable and restart). The link comes up on its own when
 * a partner answers; nb_dev_link reads it from STATUS.
 */
static int setup_link(struct igb_dev *d)
{
	uint32_t ctrl = rd(d, IGB_CTRL);

	ctrl &= ~(IGB_CTRL_FRCSPD | IGB_CTRL_FRCDPX);
	wr(d, IGB_CTRL, ctrl | IGB_CTRL_SLU); /* 8.2.1 */
	return phy_write(d, IGB_PHY_BMCR, IGB_BMCR_ANENABLE | IGB_BMCR_ANRESTART);
}

/*
 * Read the clear-on-read counters (8.19) and add them to *hw. A frame
 * dropped because its queue had no free descriptor (SRRCTL.DROP_EN) is
 * counted in that queue's RQDPC, not in MPC (which counts frames the packet
 * buffer had no room for): both are frames the device missed.
 */
void igb_read_counters(volatile uint8_t *regs, uint16_t n_rxq, struct nb_stats *hw)
{
	hw->rx_missed += nb_reg_read32(regs, IGB_MPC);
	for (uint16_t q = 0; q < n_rxq; q++)
		hw->rx_missed += nb_reg_read32(regs, IGB_RQDPC(q));
	hw->rx_packets += nb_reg_read32(regs, IGB_GPRC);
	hw->tx_packets += nb_reg_read32(regs, IGB_GPTC);
	/* Low half first: reading the high half clears both (8.19). */
	hw->rx_bytes += nb_reg_read32(regs, IGB_GORCL);
	hw->rx_bytes += (uint64_t)nb_reg_read32(regs, IGB_GORCH) << 32;
	hw->tx_bytes += nb_reg_read32(regs, IGB_GOTCL);
	hw->tx_bytes += (uint64_t)nb_reg_read32(regs, IGB_GOTCH) << 32;
}

static void collect_stats(struct igb_dev *d)
{
	igb_read_counters(d->regs, d->port.n_rxq, &d->port.hw);
}

/* 4.5.5: statistics start from zero after reading every counter once. */
static void reset_stats(struct igb_dev *d)
{
	collect_stats(d);
	memset(&d->port.hw, 0, sizeof(d->port.hw));
}

/* 8.10.1: unicast and multicast promiscuous. */
static void write_promisc(struct igb_dev *d, bool on)
{
	uint32_t rctl = rd(d, IGB_RCTL);

	if (on)
		rctl |= IGB_RCTL_UPE | IGB_RCTL_MPE;
	else
		rctl &= ~(IGB_RCTL_UPE | IGB_RCTL_MPE);
	wr(d, IGB_RCTL, rctl);
}

/*
 * 7.1.1.7 (RSS) with more than one receive queue: the key (8.10 RSSRK),
 * redirection table entry i -> queue i % n (8.10 RETA), the hash fields and
 * MRQE "RSS only" (8.10.9 MRQC; its layout is not the 82599's: MRQE is 2:0
 * and 010b), and RXCSUM.PCSD so the write-back's second dword is the RSS
 * hash (7.1.5.2). One queue: MRQC keeps its reset value 0.
 */
static void init_rss(struct igb_dev *d, const struct adv_conf *c)
{
	if (c->n_rxq < 2)
		return;
	adv_rss_program(d->regs, IGB_RETA(0), IGB_RSSRK(0), d->rxq, c->n_rxq, c->rss_key);
	wr(d, IGB_MRQC, (rd(d, IGB_MRQC) & ~(IGB_MRQC_MRQE_MASK | IGB_MRQC_FIELDS_MASK)) |
				IGB_MRQC_MRQE_RSS | adv_mrqc_fields(c->rss_types));
	wr(d, IGB_RXCSUM, rd(d, IGB_RXCSUM) | IGB_RXCSUM_PCSD); /* 8.10 RXCSUM */
}

/* 4.5.9: receive initialization; the queues are enabled in start_queues. */
static int init_rx(struct igb_dev *d, struct nb_pool *dma, const struct adv_conf *c)
{
	const uint16_t size = c->rx_size;

	/* 8.10.1: receiver off while set up; CRC stripped, broadcasts in,
	 * no long packets (frames up to 1522 bytes). */
	wr(d, IGB_RCTL, (rd(d, IGB_RCTL) & ~(IGB_RCTL_EN | IGB_RCTL_LPE)) |
				IGB_RCTL_SECRC | IGB_RCTL_BAM);
	/* 8.10 RXCSUM: no checksum offload, so no checksum bits in the
	 * write-back (we do not use them). */
	wr(d, IGB_RXCSUM, rd(d, IGB_RXCSUM) & ~(IGB_RXCSUM_IPOFL | IGB_RXCSUM_TUOFL));
	for (uint16_t q = 0; q < d->port.n_rxq; q++) {
		struct nb_pkt **slot;
		uint64_t iova;
		void *ring;

		if (adv_alloc_ring("igb", dma, size, &ring, &iova, &slot) < 0)
			return -1;
		adv_rxq_init(&d->rxq[q], &d->port.nb, "igb", d->regs, IGB_RDT(q), ring,
			     slot, size, c->rx_mp[q], c->bsize_kb[q], IGB_RXD_ERR_RXE);
		/* 8.10 RXDCTL: queue off while its ring is programmed. */
		wr(d, IGB_RXDCTL(q), rd(d, IGB_RXDCTL(q)) & ~IGB_RXDCTL_ENABLE);
		wr(d, IGB_RDBAL(q), (uint32_t)iova);          /* 8.10 RDBAL */
		wr(d, IGB_RDBAH(q), (uint32_t)(iova >> 32));  /* 8.10 RDBAH */
		wr(d, IGB_RDLEN(q), (uint32_t)size * 16u);    /* 8.10 RDLEN */
		/* 8.10 SRRCTL: advanced one-buffer descriptors, buffer size
		 * in KiB, drop when no descriptor is free. */
		wr(d, IGB_SRRCTL(q),
		   (rd(d, IGB_SRRCTL(q)) & ~(IGB_SRRCTL_DESCTYPE_MASK |
					     IGB_SRRCTL_BSIZEPKT_MASK)) |
			   IGB_SRRCTL_DESCTYPE_ADV_ONEBUF | c->bsize_kb[q] |
			   IGB_SRRCTL_DROP_EN);
		wr(d, IGB_RDH(q), 0);                          /* 8.10 RDH */
		wr(d, IGB_RDT(q), 0);                          /* 8.10 RDT */
	}
	init_rss(d, c);
	return 0;
}

/* 4.5.10: transmit initialization; queues enabled in start_queues. */
static int init_tx(struct igb_dev *d, struct nb_pool *dma, uint16_t size)
{
	/* 8.12.1: transmitter off while set up. */
	wr(d, IGB_TCTL, rd(d, IGB_TCTL) & ~IGB_TCTL_EN);
	for (uint16_t q = 0; q < d->port.n_txq; q++) {
		struct nb_pkt **slot;
		uint64_t iova;
		void *ring;

		if (adv_alloc_ring("igb", dma, size, &ring, &iova, &slot) < 0)
			return -1;
		adv_txq_init(&d->txq[q], &d->port.nb, "igb", d->regs, IGB_TDT(q), ring,
			     slot, size);
		/* 8.12 TXDCTL: queue off while its ring is programmed. */
		wr(d, IGB_TXDCTL(q), 0);
		wr(d, IGB_TDBAL(q), (uint32_t)iova);          /* 8.12 TDBAL */
		wr(d, IGB_TDBAH(q), (uint32_t)(iova >> 32));  /* 8.12 TDBAH */
		wr(d, IGB_TDLEN(q), (uint32_t)size * 16u);    /* 8.12 TDLEN */
		wr(d, IGB_TDH(q), 0);                          /* 8.12 TDH */
		wr(d, IGB_TDT(q), 0);                          /* 8.12 TDT */
	}
	return 0;
}

/* 4.5.9 / 4.5.10: enable each queue, hand the rx buffers over, then turn
 * the receiver and transmitter on. */
static int start_queues(struct igb_dev *d)
{
	for (uint16_t q = 0; q < d->port.n_rxq; q++) {
		struct adv_rxq *rxq = &d->rxq[q];

		if (adv_rxq_fill(rxq) < 0)
			return -1;
		wr(d, IGB_RXDCTL(q), rd(d, IGB_RXDCTL(q)) | IGB_RXDCTL_ENABLE); /* 8.10 */
		if (wait_reg(d, IGB_RXDCTL(q), IGB_RXDCTL_ENABLE, IGB_RXDCTL_ENABLE,
			     IGB_QUEUE_TIMEOUT_MS, "rx queue enable (RXDCTL.ENABLE)") < 0)
			return -1;
		/* 8.10 RDT: written once the queue is on (a disabled queue
		 * ignores it); all slots but one go to the device. */
		wr(d, IGB_RDT(q), rxq->size - 1u);
	}
	wr(d, IGB_RCTL, rd(d, IGB_RCTL) | IGB_RCTL_EN); /* 8.10.1 */
	for (uint16_t q = 0; q < d->port.n_txq; q++) {
		/* 8.12 TXDCTL: prefetch 8, host 1, write back each RS. */
		wr(d, IGB_TXDCTL(q), IGB_TXDCTL_PTHRESH(8) | IGB_TXDCTL_HTHRESH(1) |
					     IGB_TXDCTL_WTHRESH(0) | IGB_TXDCTL_ENABLE);
		if (wait_reg(d, IGB_TXDCTL(q), IGB_TXDCTL_ENABLE, IGB_TXDCTL_ENABLE,
			     IGB_QUEUE_TIMEOUT_MS, "tx queue enable (TXDCTL.ENABLE)") < 0)
			return -1;
	}
	/* 8.12.1: pad short frames, full-duplex collision settings. */
	wr(d, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP | IGB_TCTL_CT(0x0F) |
				IGB_TCTL_COLD(0x3F) | IGB_TCTL_RTLC);
	return 0;
}

/* Stop DMA first, then give every posted buffer back and free the rings'
 * private halves (the DMA halves live as long as the pool). */
static void stop_and_free(struct igb_dev *d)
{
	if (d->port.nb.irq.n) /* mask before the vectors go (poll mode: still masked) */
		disable_interrupts(d);
	nb_dev_irq_teardown(&d->port.nb);
	wr(d, IGB_RCTL, rd(d, IGB_RCTL) & ~IGB_RCTL_EN); /* 8.10.1 */
	wr(d, IGB_TCTL, rd(d, IGB_TCTL) & ~IGB_TCTL_EN); /* 8.12.1 */
	for (uint16_t q = 0; q < d->port.n_rxq; q++)
		wr(d, IGB_RXDCTL(q), rd(d, IGB_RXDCTL(q)) & ~IGB_RXDCTL_ENABLE); /* 8.10 */
	for (uint16_t q = 0; q < d->port.n_txq; q++)
		wr(d, IGB_TXDCTL(q), rd(d, IGB_TXDCTL(q)) & ~IGB_TXDCTL_ENABLE); /* 8.12 */
	nb_pci_disable_dma(d->port.nb.pci);
	adv_release_queues(d->rxq, d->port.n_rxq, d->txq, d->port.n_txq);
	free(d);
}

/* The chip's clear-on-read counters, for adv_port_read_stats(). */
static void igb_collect_stats(struct adv_port *port)
{
	collect_stats(NB_CONTAINER_OF(port, struct igb_dev, port));
}

static int igb_link(struct nb_dev *dev, struct nb_link *out)
{
	uint32_t status = rd(to_igb(dev), IGB_STATUS); /* 8.2.2 */
	static const uint32_t speeds[] = { 10, 100, 1000, 1000 };

	out->up = (status & IGB_STATUS_LU) != 0;
	out->speed_mbps = out->up ? speeds[(status & IGB_STATUS_SPEED_MASK) >>
					   IGB_STATUS_SPEED_SHIFT] : 0;
	return 0;
}

/* 8.11: receive address 0 holds the MAC the NVM loaded. */
static int igb_mac(struct nb_dev *dev, uint8_t mac[6])
{
	struct igb_dev *d = to_igb(dev);

	adv_mac_from_ra(rd(d, IGB_RAL(0)), rd(d, IGB_RAH(0)), mac);
	return 0;
}

static int igb_set_promisc(struct nb_dev *dev, bool on)
{
	write_promisc(to_igb(dev), on);
	return 0;
}

static void igb_close(struct nb_dev *dev)
{
	stop_and_free(to_igb(dev));
}

static const struct nb_dev_ops igb_ops = {
	.driver = "igb",
	.rx_batch = adv_port_rx_batch,
	.tx_batch = adv_port_tx_batch,
	.read_stats = adv_port_read_stats,
	.link = igb_link,
	.mac = igb_mac,
	.set_promisc = igb_set_promisc,
	.close = igb_close,
};

static int igb_open(struct nb_pci *pci, struct nb_pool *dma,
		    const struct nb_dev_conf *conf, struct nb_dev **out)
{
	struct adv_conf c;
	struct igb_dev *d;
	volatile uint8_t *regs;

	if (adv_check_conf("igb", pci, conf, IGB_DEFAULT_RING_SIZE,
			   IGB_MAX_QUEUES, IGB_SRRCTL_BSIZEPKT_MAX_KB, &c) < 0)
		return -1;
	if (adv_map_bar0("igb", pci, IGB_BAR0_MIN_LEN, &regs) < 0)
		return -1;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return nb_fail(ENOMEM, "igb %s: out of memory", pci->name);
	adv_port_init(&d->port, &igb_ops, pci, &c, IGB_MAX_QUEUES, d->rxq, d->txq,
		      igb_collect_stats);
	d->regs = regs;

	/* 4.5: the initialization sequence, step by step. */
	disable_interrupts(d);
	if (reset_device(d) < 0 || nb_pci_enable_dma(pci) < 0 || setup_link(d) < 0)
		goto fail;
	reset_stats(d);
	if (setup_rx_interrupts(d, conf) < 0 ||
	    init_rx(d, dma, &c) < 0 ||
	    init_tx(d, dma, c.tx_size) < 0 || start_queues(d) < 0)
		goto fail;
	write_promisc(d, conf->promisc);
	/* 4.5.4: auto-negotiation takes a while; a cable may be missing, so
	 * an expired wait is not an error (nb_dev_link tells). */
	(void)wait_reg(d, IGB_STATUS, IGB_STATUS_LU, IGB_STATUS_LU,
		       conf->link_wait_ms ? conf->link_wait_ms : IGB_DEFAULT_LINK_WAIT_MS,
		       "link up");
	*out = &d->port.nb;
	return 0;

fail: {
	int err = errno;

	stop_and_free(d); /* keeps nb_last_error(): nothing in it fails */
	errno = err;
	return -1;
}
}

const struct nb_driver nb_driver_igb = {
	.name = "igb",
	.match = igb_match,
	.open = igb_open,
};
