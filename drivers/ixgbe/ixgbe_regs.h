/* SPDX-License-Identifier: MIT */
/*
 * ixgbe_regs.h - the 82599 registers, bits and descriptor layouts this driver
 * uses, written from the Intel 82599 10 GbE Controller Datasheet (rev. 3.3).
 * Section numbers refer to that datasheet; "SU" is the 82599 Specification
 * Update (rev. 3.8), "SFF-8472" the SFP+ module memory map.
 */
#ifndef IXGBE_REGS_H
#define IXGBE_REGS_H

#include <stdint.h>

/* Size of BAR0 that holds every register below (8.1.1: 128 KiB CSR space). */
#define IXGBE_BAR0_MIN_LEN 0x20000u

/* ---- General control (8.2.3.1) ---------------------------------------- */
#define IXGBE_CTRL 0x00000          /* 8.2.3.1.1 Device Control */
#define IXGBE_CTRL_GIO_DIS (1u << 2) /* PCIe master disable */
#define IXGBE_CTRL_LRST (1u << 3)   /* link reset */
#define IXGBE_CTRL_RST (1u << 26)   /* device reset, self-clearing */
#define IXGBE_CTRL_RST_MASK (IXGBE_CTRL_LRST | IXGBE_CTRL_RST)
#define IXGBE_STATUS 0x00008        /* 8.2.3.1.2 Device Status */
#define IXGBE_STATUS_GIO_MASTER_EN (1u << 19) /* master requests pending */
#define IXGBE_CTRL_EXT 0x00018      /* 8.2.3.1.3 Extended Device Control */
#define IXGBE_CTRL_EXT_NS_DIS (1u << 16) /* no-snoop disable */
#define IXGBE_ESDP 0x00020          /* 8.2.3.1.4 Extended SDP Control */
#define IXGBE_ESDP_SDP3 (1u << 3)   /* SFP+ TX_DISABLE: 1 = laser off */
#define IXGBE_ESDP_SDP5 (1u << 5)   /* SFP+ rate select: 1 = 10 Gb/s */
#define IXGBE_ESDP_SDP5_DIR (1u << 13) /* SDP5 is an output */
#define IXGBE_I2CCTL 0x00028        /* 8.2.3.1 I2C Control (bit-banged) */
#define IXGBE_I2CCTL_CLK_IN (1u << 0)
#define IXGBE_I2CCTL_CLK_OUT (1u << 1)
#define IXGBE_I2CCTL_DATA_IN (1u << 2)
#define IXGBE_I2CCTL_DATA_OUT (1u << 3)

/* ---- EEPROM (8.2.3.2) -------------------------------------------------- */
#define IXGBE_EEC 0x10010           /* 8.2.3.2.1 EEPROM/Flash Control */
#define IXGBE_EEC_ARD (1u << 9)     /* EEPROM auto-read done */

/* ---- PCIe (8.2.3.3) ---------------------------------------------------- */
#define IXGBE_GCR_EXT 0x11050       /* 8.2.3.3 PCIe Control Extended */
#define IXGBE_GCR_EXT_BUFFERS_CLEAR (1u << 30) /* flush internal buffers */

/* ---- Interrupts (8.2.3.5) ---------------------------------------------- */
#define IXGBE_EIMC 0x00888          /* 8.2.3.5.4 Extended Interrupt Mask Clear */
#define IXGBE_EIMC_ALL 0x7FFFFFFFu  /* bits 30:0; bit 31 reserved */
/* MSI-X (7.3.1, 7.3.4): in MSI-X mode bit n of EICR/EIMS/EIMC/EIAC/EIAM is
 * vector n (n < 16 here: the _EX registers hold vectors 16 and up). */
#define IXGBE_EICR 0x00800          /* 8.2.3.5.1 Extended Interrupt Cause, W1C */
#define IXGBE_EIAC 0x00810          /* 8.2.3.5.5 Extended Interrupt Auto Clear */
#define IXGBE_EIMS 0x00880          /* 8.2.3.5.3 Extended Interrupt Mask Set */
#define IXGBE_EIAM 0x00890          /* 8.2.3.5.6 Extended Interrupt Auto Mask */
#define IXGBE_EITR(n) (0x00820u + 4u * (n)) /* 8.2.3.5.12, n < 24 */
#define IXGBE_EITR_INTERVAL_US(us) (((uint32_t)(us) / 2u) << 3) /* 11:3, 2 us */
#define IXGBE_GPIE 0x00898          /* 8.2.3.5.18 General Purpose Interrupt Enable */
#define IXGBE_GPIE_MULTIPLE_MSIX (1u << 4) /* MSI-X mode */
#define IXGBE_GPIE_EIAME (1u << 30) /* auto-mask by EIAM on an MSI-X message */
#define IXGBE_GPIE_PBA_SUPPORT (1u << 31)
/* 8.2.3.5.13 IVAR[n]: rx queue 2n (bits 7:0), tx 2n (15:8), rx 2n+1
 * (23:16), tx 2n+1 (31:24); each a 6-bit vector and a valid bit 7. */
#define IXGBE_IVAR(n) (0x00900u + 4u * (n))
#define IXGBE_IVAR_VALID 0x80u

/* ---- Receive (8.2.3.8), per queue n < 64 ------------------------------- */
#define IXGBE_RDBAL(n) (0x01000u + 0x40u * (n))  /* 8.2.3.8.1 */
#define IXGBE_RDBAH(n) (0x01004u + 0x40u * (n))  /* 8.2.3.8.2 */
#define IXGBE_RDLEN(n) (0x01008u + 0x40u * (n))  /* 8.2.3.8.3 */
#define IXGBE_DCA_RXCTRL(n) (0x0100Cu + 0x40u * (n)) /* 8.2.3.11.1 */
#define IXGBE_DCA_RXCTRL_DATA_WRO (1u << 13) /* rx data write relaxed order */
#define IXGBE_DCA_RXCTRL_HEAD_WRO (1u << 15) /* rx header write relaxed order */
#define IXGBE_RDH(n) (0x01010u + 0x40u * (n))    /* 8.2.3.8.4 */
#define IXGBE_SRRCTL(n) (0x01014u + 0x40u * (n)) /* 8.2.3.8.7 */
#define IXGBE_SRRCTL_BSIZEPKT_MASK 0x1Fu         /* packet buffer, 1 KiB units */
#define IXGBE_SRRCTL_BSIZEPKT_SHIFT 10           /* bytes -> 1 KiB units */
#define IXGBE_SRRCTL_DESCTYPE_MASK (7u << 25)
#define IXGBE_SRRCTL_DESCTYPE_ADV_ONEBUF (1u << 25)
#define IXGBE_SRRCTL_DROP_EN (1u << 28)          /* drop when no descriptor */
#define IXGBE_RDT(n) (0x01018u + 0x40u * (n))    /* 8.2.3.8.5 */
#define IXGBE_RXDCTL(n) (0x01028u + 0x40u * (n)) /* 8.2.3.8.6 */
#define IXGBE_RXDCTL_ENABLE (1u << 25)
#define IXGBE_RDRXCTL 0x02F00       /* 8.2.3.8.8 Receive DMA Control */
#define IXGBE_RDRXCTL_CRCSTRIP (1u << 1)
#define IXGBE_RDRXCTL_DMAIDONE (1u << 3) /* DMA init done */
#define IXGBE_RXCTRL 0x03000        /* 8.2.3.8.10 Receive Control */
#define IXGBE_RXCTRL_RXEN (1u << 0)
#define IXGBE_SECRXCTRL 0x08D00    /* 8.2.3.12 Security Rx Control */
#define IXGBE_SECRXCTRL_RX_DIS (1u << 1)
#define IXGBE_SECRXSTAT 0x08D04    /* 8.2.3.12 Security Rx Status */
#define IXGBE_SECRXSTAT_RDY (1u << 0) /* rx security path is empty */
#define IXGBE_RXPBSIZE(n) (0x03C00u + 4u * (n)) /* 8.2.3.8.9, n < 8 */
#define IXGBE_RXPBSIZE_128KB 0x00020000u        /* size field in bits 19:10 */
#define IXGBE_PACKET_BUFFERS 8

/* ---- Filtering (8.2.3.7) ----------------------------------------------- */
#define IXGBE_FCTRL 0x05080         /* 8.2.3.7.1 Filter Control */
#define IXGBE_FCTRL_MPE (1u << 8)   /* multicast promiscuous */
#define IXGBE_FCTRL_UPE (1u << 9)   /* unicast promiscuous */
#define IXGBE_FCTRL_BAM (1u << 10)  /* accept broadcast */
#define IXGBE_RAL(n) (0x0A200u + 8u * (n)) /* 8.2.3.7.9 Receive Address Low */
#define IXGBE_RAH(n) (0x0A204u + 8u * (n)) /* 8.2.3.7.10 Receive Address High */
#define IXGBE_RAH_AV (1u << 31)     /* address valid */
#define IXGBE_RXCSUM 0x05000        /* 8.2.3.7.5 Receive Checksum Control */
#define IXGBE_RXCSUM_PCSD (1u << 13) /* write-back carries the RSS hash */
#define IXGBE_MRQC 0x0EC80          /* 8.2.3.7.12 Multiple Receive Queues Command */
#define IXGBE_MRQC_MRQE_MASK 0xFu   /* 3:0 multiple receive queues enable */
#define IXGBE_MRQC_MRQE_RSS 0x1u    /* 0001b: RSS only, up to 16 queues */
#define IXGBE_MRQC_FIELDS_MASK (0x1FFu << 16) /* 24:16 hash field enables */
#define IXGBE_RSSRK(n) (0x0EB80u + 4u * (n)) /* 8.2.3.7.14 RSS key, n < 10 */
#define IXGBE_RETA(n) (0x0EB00u + 4u * (n))  /* 8.2.3.7.15 redirection, n < 32 */

/* ---- MAC (8.2.3.22) ---------------------------------------------------- */
#define IXGBE_HLREG0 0x04240        /* 8.2.3.22.8 MAC Core Control 0 */
#define IXGBE_HLREG0_TXCRCEN (1u << 0)
#define IXGBE_HLREG0_RXCRCSTRP (1u << 1)
#define IXGBE_HLREG0_TXPADEN (1u << 10)
#define IXGBE_HLREG0_LPBK (1u << 15)          /* MAC loopback */
#define IXGBE_AUTOC 0x042A0         /* 8.2.3.22.19 Auto-Negotiation Control */
#define IXGBE_AUTOC_AN_RESTART (1u << 12)
#define IXGBE_AUTOC_LMS_MASK (7u << 13)      /* link mode select */
#define IXGBE_AUTOC_LMS_1G_NO_AN (0u << 13)
#define IXGBE_AUTOC_LMS_10G_SERIAL (3u << 13)
#define IXGBE_AUTOC_1G_PMA_PMD (1u << 9)     /* 0 = 1000BASE-BX/SFI */
#define IXGBE_AUTOC2 0x042A8        /* 8.2.3.22.21 Auto-Negotiation Control 2 */
#define IXGBE_AUTOC2_10G_PMA_PMD_MASK (3u << 16)
#define IXGBE_AUTOC2_10G_SFI (2u << 16)      /* 10G serial PMA/PMD: SFI */
#define IXGBE_LINKS 0x042A4         /* 8.2.3.22.20 Link Status */
#define IXGBE_LINKS_UP (1u << 30)
#define IXGBE_LINKS_SPEED_MASK (3u << 28)
#define IXGBE_LINKS_SPEED_10G (3u << 28)
#define IXGBE_LINKS_SPEED_1G (2u << 28)
#define IXGBE_LINKS_SPEED_100M (1u << 28)

/* ---- Transmit (8.2.3.9), per queue n < 128 ----------------------------- */
#define IXGBE_DTXMXSZRQ 0x08100     /* 8.2.3.9.1 max total DMA tx read requests */
#define IXGBE_DTXMXSZRQ_MASK 0xFFFu
#define IXGBE_DMATXCTL 0x04A80      /* 8.2.3.9.2 DMA Tx Control */
#define IXGBE_DMATXCTL_TE (1u << 0) /* transmit enable */
#define IXGBE_TDBAL(n) (0x06000u + 0x40u * (n))  /* 8.2.3.9.5 */
#define IXGBE_TDBAH(n) (0x06004u + 0x40u * (n))  /* 8.2.3.9.6 */
#define IXGBE_TDLEN(n) (0x06008u + 0x40u * (n))  /* 8.2.3.9.7 */
#define IXGBE_TDH(n) (0x06010u + 0x40u * (n))    /* 8.2.3.9.8 */
#define IXGBE_TDT(n) (0x06018u + 0x40u * (n))    /* 8.2.3.9.9 */
#define IXGBE_TXDCTL(n) (0x06028u + 0x40u * (n)) /* 8.2.3.9.10 */
#define IXGBE_TXDCTL_PTHRESH(v) ((uint32_t)(v) << 0)
#define IXGBE_TXDCTL_HTHRESH(v) ((uint32_t)(v) << 8)
#define IXGBE_TXDCTL_WTHRESH(v) ((uint32_t)(v) << 16)
#define IXGBE_TXDCTL_THRESH_MASK (0x7Fu | (0x7Fu << 8) | (0x7Fu << 16))
#define IXGBE_TXDCTL_ENABLE (1u << 25)
#define IXGBE_DCA_TXCTRL(n) (0x0600Cu + 0x40u * (n)) /* 8.2.3.11.2 */
#define IXGBE_DCA_TXCTRL_DESC_WRO (1u << 11) /* tx write-back relaxed order */
#define IXGBE_TXPBSIZE(n) (0x0CC00u + 4u * (n))  /* 8.2.3.9.13, n < 8 */
#define IXGBE_TXPBSIZE_40KB 0x0000A000u          /* size field in bits 19:10 */
#define IXGBE_RTTDCS 0x04900        /* 8.2.3.10.2 DCB Tx Descriptor Plane Control */
#define IXGBE_RTTDCS_ARBDIS (1u << 6) /* arbiter off while queues are set up */

/* ---- Statistics (8.2.3.23); all clear on read -------------------------- */
#define IXGBE_CRCERRS 0x04000       /* 8.2.3.23.1 CRC errors */
#define IXGBE_MPC(n) (0x03FA0u + 4u * (n)) /* 8.2.3.23.4 missed, per buffer */
#define IXGBE_GPRC 0x04074          /* 8.2.3.23.18 good packets received */
#define IXGBE_GPTC 0x04080          /* 8.2.3.23.22 good packets transmitted */
#define IXGBE_GORCL 0x04088         /* 8.2.3.23.23 good octets rx, low first */
#define IXGBE_GORCH 0x0408C
#define IXGBE_GOTCL 0x04090         /* 8.2.3.23.25 good octets tx, low first */
#define IXGBE_GOTCH 0x04094

/* ---- Advanced descriptors: layout in drivers/intel/adv_ring.h --------- */
/* 7.1.6.2: the write-back error bit for a MAC error (CRC, length, symbol). */
#define IXGBE_RXD_ERR_RXE (1u << 29)

/* ---- SFP+ module EEPROM, I2C address A0h (SFF-8472, 4) ------------------ */
#define SFP_I2C_ADDR 0xA0
#define SFP_IDENTIFIER 0           /* 03h: SFP/SFP+ */
#define SFP_ID_SFP 0x03
#define SFP_10G_CODES 3            /* bit 4 10GBASE-SR, 5 -LR, 6 -LRM */
#define SFP_10G_ANY (7u << 4)
#define SFP_1G_CODES 6             /* bit 0 1000BASE-SX, 1 -LX, 2 -CX, 3 -T */
#define SFP_1G_ANY 0x0Fu
#define SFP_CABLE_TECH 8           /* bit 2 passive, 3 active direct attach */
#define SFP_CABLE_DA (3u << 2)

#endif /* IXGBE_REGS_H */
