/* SPDX-License-Identifier: MIT */
/*
 * igb_regs.h - the Intel 82576 registers and bits this driver uses, written
 * from the Intel 82576EB Gigabit Ethernet Controller Datasheet (rev. 2.63).
 * Section numbers refer to that datasheet; its text was not at hand, and
 * docs/igb.md says which numbers other sources quoting it confirm (4.5.9,
 * 7.1.1.7, 8.10.9) and which are unverified. The
 * descriptor layouts are shared with the 82599: drivers/intel/adv_ring.h.
 */
#ifndef IGB_REGS_H
#define IGB_REGS_H

#include <stdint.h>

/* BAR0 holds every register below (128 KiB memory CSR space). */
#define IGB_BAR0_MIN_LEN 0x20000u

/* ---- General (8.2) ----------------------------------------------------- */
#define IGB_CTRL 0x00000            /* 8.2.1 Device Control */
#define IGB_CTRL_SLU (1u << 6)      /* set link up (MAC follows the PHY) */
#define IGB_CTRL_FRCSPD (1u << 11)  /* force speed */
#define IGB_CTRL_FRCDPX (1u << 12)  /* force duplex */
#define IGB_CTRL_RST (1u << 26)     /* device reset, self-clearing */
#define IGB_STATUS 0x00008          /* 8.2.2 Device Status */
#define IGB_STATUS_LU (1u << 1)     /* link up */
#define IGB_STATUS_SPEED_SHIFT 6    /* 7:6: 00 10, 01 100, 1x 1000 Mb/s */
#define IGB_STATUS_SPEED_MASK (3u << IGB_STATUS_SPEED_SHIFT)
#define IGB_MDIC 0x00020            /* 8.2.4 MDI Control */
#define IGB_MDIC_REG_SHIFT 16       /* 20:16 PHY register */
#define IGB_MDIC_PHY_SHIFT 21       /* 25:21 PHY address */
#define IGB_MDIC_OP_WRITE (1u << 26)
#define IGB_MDIC_READY (1u << 28)
#define IGB_MDIC_ERROR (1u << 30)
#define IGB_PHY_ADDR 1u             /* the internal PHY */

/* ---- NVM (8.4) --------------------------------------------------------- */
#define IGB_EEC 0x00010             /* 8.4.1 EEPROM/Flash Control */
#define IGB_EEC_AUTO_RD (1u << 9)   /* NVM auto-read done */

/* ---- Interrupts (8.8) -------------------------------------------------- */
#define IGB_IMC 0x000D8             /* 8.8 Interrupt Mask Clear */
#define IGB_EIMC 0x01528            /* 8.8 Extended Interrupt Mask Clear */
#define IGB_INT_ALL 0xFFFFFFFFu
/* MSI-X (7.3.1.2, 7.3.2): one vector per receive queue. */
#define IGB_GPIE 0x01514            /* 8.8 General Purpose Interrupt Enable */
#define IGB_GPIE_NSICR (1u << 0)    /* non-selective interrupt clear on read */
#define IGB_GPIE_MULTIPLE_MSIX (1u << 4) /* MSI-X mode: EICR bit n = vector n */
#define IGB_GPIE_EIAME (1u << 30)   /* EIAM auto-masks the vector when it fires */
#define IGB_GPIE_PBA_SUPPORT (1u << 31) /* MSI-X pending bits in the PBA */
#define IGB_EICR 0x01580            /* 8.8 Extended Interrupt Cause, W1C */
#define IGB_EIMS 0x01524            /* 8.8 Extended Interrupt Mask Set */
#define IGB_EIAC 0x0152C            /* 8.8 Extended Interrupt Auto Clear */
#define IGB_EIAM 0x01530            /* 8.8 Extended Interrupt Auto Mask */
#define IGB_EITR(n) (0x01680u + 4u * (n)) /* 8.8 Interrupt Throttle, n < 25 */
#define IGB_EITR_INTERVAL_US(us) ((uint32_t)(us) << 2) /* bits 14:2, 1 us units */
/* 8.8 IVAR0..7: IVAR[n] routes rx queue n (byte 0) and n + 8 (byte 2),
 * tx queue n (byte 1) and n + 8 (byte 3); each byte is a 5-bit vector
 * number and a valid bit 7. */
#define IGB_IVAR(n) (0x01700u + 4u * (n))
#define IGB_IVAR_VALID 0x80u

/* ---- Receive (8.10), per queue n < 16 ---------------------------------- */
#define IGB_RCTL 0x00100            /* 8.10.1 Receive Control */
#define IGB_RCTL_EN (1u << 1)
#define IGB_RCTL_UPE (1u << 3)      /* unicast promiscuous */
#define IGB_RCTL_MPE (1u << 4)      /* multicast promiscuous */
#define IGB_RCTL_LPE (1u << 5)      /* long packets */
#define IGB_RCTL_BAM (1u << 15)     /* accept broadcast */
#define IGB_RCTL_SECRC (1u << 26)   /* strip the Ethernet CRC */
#define IGB_RXCSUM 0x05000          /* 8.10 Receive Checksum Control */
#define IGB_RXCSUM_IPOFL (1u << 8)
#define IGB_RXCSUM_TUOFL (1u << 9)
#define IGB_RXCSUM_PCSD (1u << 13)  /* write-back carries the RSS hash */
#define IGB_MRQC 0x05818            /* 8.10.9 Multiple Receive Queues Command */
#define IGB_MRQC_MRQE_MASK 0x7u     /* 2:0 multiple receive queues enable */
#define IGB_MRQC_MRQE_RSS 0x2u      /* 010b: RSS only (no VMDq) */
#define IGB_MRQC_FIELDS_MASK (0x1FFu << 16) /* 24:16 hash field enables */
#define IGB_RETA(n) (0x05C00u + 4u * (n))  /* 8.10 redirection table, n < 32 */
#define IGB_RSSRK(n) (0x05C80u + 4u * (n)) /* 8.10 RSS random key, n < 10 */
#define IGB_RDBAL(n) (0x0C000u + 0x40u * (n))  /* 8.10 */
#define IGB_RDBAH(n) (0x0C004u + 0x40u * (n))  /* 8.10 */
#define IGB_RDLEN(n) (0x0C008u + 0x40u * (n))  /* 8.10 */
#define IGB_SRRCTL(n) (0x0C00Cu + 0x40u * (n)) /* 8.10 */
#define IGB_SRRCTL_BSIZEPKT_MASK 0x7Fu         /* 6:0, 1 KiB units */
#define IGB_SRRCTL_BSIZEPKT_MAX_KB 127u
#define IGB_SRRCTL_DESCTYPE_MASK (7u << 25)
#define IGB_SRRCTL_DESCTYPE_ADV_ONEBUF (1u << 25)
#define IGB_SRRCTL_DROP_EN (1u << 31)          /* drop when no descriptor */
#define IGB_RDH(n) (0x0C010u + 0x40u * (n))    /* 8.10 */
#define IGB_RDT(n) (0x0C018u + 0x40u * (n))    /* 8.10 */
#define IGB_RXDCTL(n) (0x0C028u + 0x40u * (n)) /* 8.10 */
#define IGB_RXDCTL_ENABLE (1u << 25)
/* 8.10 Receive Queue Drop Packet Count: frames dropped for queue n because
 * it had no free descriptor (SRRCTL.DROP_EN set); clear on read. Queues
 * 0-3 also answer at 0x02830 + 0x100 * n; this form covers all 16. (The
 * 82575's manual lists it with the receive registers, 14.3, not with the
 * statistics.) */
#define IGB_RQDPC(n) (0x0C030u + 0x40u * (n))

/* ---- Filtering (8.11) -------------------------------------------------- */
#define IGB_RAL(n) (0x05400u + 8u * (n)) /* 8.11 Receive Address Low */
#define IGB_RAH(n) (0x05404u + 8u * (n)) /* 8.11 Receive Address High */

/* ---- Transmit (8.12), per queue n < 16 --------------------------------- */
#define IGB_TCTL 0x00400            /* 8.12.1 Transmit Control */
#define IGB_TCTL_EN (1u << 1)
#define IGB_TCTL_PSP (1u << 3)      /* pad short packets to 64 bytes */
#define IGB_TCTL_CT(v) ((uint32_t)(v) << 4)     /* collision threshold */
#define IGB_TCTL_COLD(v) ((uint32_t)(v) << 12)  /* collision distance */
#define IGB_TCTL_RTLC (1u << 24)    /* retransmit on late collision */
#define IGB_TDBAL(n) (0x0E000u + 0x40u * (n))  /* 8.12 */
#define IGB_TDBAH(n) (0x0E004u + 0x40u * (n))  /* 8.12 */
#define IGB_TDLEN(n) (0x0E008u + 0x40u * (n))  /* 8.12 */
#define IGB_TDH(n) (0x0E010u + 0x40u * (n))    /* 8.12 */
#define IGB_TDT(n) (0x0E018u + 0x40u * (n))    /* 8.12 */
#define IGB_TXDCTL(n) (0x0E028u + 0x40u * (n)) /* 8.12 */
#define IGB_TXDCTL_PTHRESH(v) ((uint32_t)(v) << 0)
#define IGB_TXDCTL_HTHRESH(v) ((uint32_t)(v) << 8)
#define IGB_TXDCTL_WTHRESH(v) ((uint32_t)(v) << 16)
#define IGB_TXDCTL_ENABLE (1u << 25)

/* ---- Statistics (8.19); clear on read ---------------------------------- */
#define IGB_CRCERRS 0x04000         /* CRC errors */
#define IGB_MPC 0x04010             /* missed packets (packet buffer full) */
#define IGB_GPRC 0x04074            /* good packets received */
#define IGB_GPTC 0x04080            /* good packets transmitted */
#define IGB_GORCL 0x04088           /* good octets received, low */
#define IGB_GORCH 0x0408C           /* high; reading it clears both */
#define IGB_GOTCL 0x04090           /* good octets transmitted, low */
#define IGB_GOTCH 0x04094

/* ---- Advanced receive write-back errors (7.1.5) ------------------------ */
/* RXE (CRC, symbol, length error) is bit 31 here; bit 29 is the L4
 * checksum error and bit 30 the IP checksum error (the 82599 has RXE at 29). */
#define IGB_RXD_ERR_RXE (1u << 31)

/* ---- IEEE 802.3 clause 22 PHY registers (8.23, the internal PHY) ------- */
#define IGB_PHY_BMCR 0u             /* PHY control */
#define IGB_BMCR_ANRESTART (1u << 9)
#define IGB_BMCR_ANENABLE (1u << 12)

/* PCI ids (vendor 0x8086): the copper 82576 parts. Fiber and SerDes
 * (10E6, 10E7, 1518, 150D) set the link up through the PCS, which this
 * driver does not do, so it does not claim them. */
#define IGB_VENDOR_INTEL 0x8086
#define IGB_DEV_82576 0x10C9
#define IGB_DEV_82576_QUAD_COPPER 0x10E8
#define IGB_DEV_82576_NS 0x150A
#define IGB_DEV_82576_QUAD_COPPER_ET2 0x1526

#endif /* IGB_REGS_H */
