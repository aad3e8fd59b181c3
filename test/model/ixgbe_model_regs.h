/* SPDX-License-Identifier: MIT */
/*
 * ixgbe_model_regs.h - the model's own 82599 register table, transcribed
 * from the Intel 82599 10 GbE Controller Datasheet (rev. 3.3; section
 * numbers below), its Specification Update (SU) and SFF-8472. It is kept
 * apart from drivers/ixgbe on purpose: the model must not share a wrong
 * offset, bit or layout with the driver it checks (test/model/CMakeLists.txt
 * builds driver mutants to prove it). Written as plain numbers, bit
 * positions spelled out.
 */
#ifndef IXGBE_MODEL_REGS_H
#define IXGBE_MODEL_REGS_H

/* 8.2.3.1 General control */
#define M_CTRL 0x00000              /* 8.2.3.1.1 */
#define M_CTRL_GIO_DIS 0x00000004u  /* bit 2: PCIe master disable */
#define M_CTRL_LRST 0x00000008u     /* bit 3: link reset */
#define M_CTRL_RST 0x04000000u      /* bit 26: device reset */
#define M_STATUS 0x00008            /* 8.2.3.1.2 */
#define M_STATUS_GIO_MASTER 0x00080000u /* bit 19: master enable status */
#define M_ESDP 0x00020              /* 8.2.3.1.4 */
#define M_ESDP_SDP3 0x00000008u     /* bit 3: SFP+ TX_DISABLE on SFP boards */
#define M_I2CCTL 0x00028            /* 8.2.3.1 I2C control */
#define M_I2C_CLK_IN 0x1u           /* bit 0 */
#define M_I2C_CLK_OUT 0x2u          /* bit 1 */
#define M_I2C_DATA_IN 0x4u          /* bit 2 */
#define M_I2C_DATA_OUT 0x8u         /* bit 3 */
#define M_EICR 0x00800              /* 8.2.3.5.1: cause, write 1 to clear */
#define M_EIAC 0x00810              /* 8.2.3.5.5: auto-clear on MSI-X message */
#define M_EIMS 0x00880              /* 8.2.3.5.3: mask set, write 1 to set */
#define M_EIMC 0x00888              /* 8.2.3.5.4 */
#define M_EIAM 0x00890              /* 8.2.3.5.6: auto-mask (GPIE.EIAME) */
#define M_GPIE 0x00898              /* 8.2.3.5.18 */
#define M_GPIE_MULTIPLE_MSIX 0x00000010u /* bit 4: MSI-X mode */
#define M_GPIE_EIAME 0x40000000u    /* bit 30 */
#define M_IVAR(n) (0x00900u + 4u * (n)) /* 8.2.3.5.13, n < 64 */
#define M_IVAR_RX_SHIFT(q) (16u * ((q) & 1u)) /* rx 2n: 7:0, rx 2n+1: 23:16 */
#define M_IVAR_VECTOR 0x3Fu         /* bits 5:0 of an entry */
#define M_IVAR_VALID 0x80u          /* bit 7 of an entry */
#define M_EEC 0x10010               /* 8.2.3.2.1 */
#define M_EEC_ARD 0x00000200u       /* bit 9: EEPROM auto-read done */

/* 8.2.3.8 Receive, queue n at 0x01000 + 0x40 * n (n < 64) */
#define M_RDBAL(n) (0x01000u + 0x40u * (n)) /* 8.2.3.8.1 */
#define M_RDBAH(n) (0x01004u + 0x40u * (n)) /* 8.2.3.8.2 */
#define M_RDLEN(n) (0x01008u + 0x40u * (n)) /* 8.2.3.8.3 */
#define M_DCA_RXCTRL(n) (0x0100Cu + 0x40u * (n)) /* 8.2.3.11.1 */
#define M_DCA_RX_DATA_WRO 0x00002000u /* bit 13: rx data write RO */
#define M_DCA_RX_HEAD_WRO 0x00008000u /* bit 15: rx header write RO */
#define M_DCA_RXCTRL_RESET 0x0000A200u /* bits 9, 13, 15 set at reset */
#define M_RDH(n) (0x01010u + 0x40u * (n))   /* 8.2.3.8.4 */
#define M_SRRCTL(n) (0x01014u + 0x40u * (n)) /* 8.2.3.8.7 */
#define M_SRRCTL_BSIZE 0x0000001Fu  /* bits 4:0, 1 KiB units */
#define M_SRRCTL_DESCTYPE 0x0E000000u /* bits 27:25 */
#define M_SRRCTL_ADV_1BUF 0x02000000u /* 001b: advanced, one buffer */
#define M_RDT(n) (0x01018u + 0x40u * (n))   /* 8.2.3.8.5 */
#define M_RXDCTL(n) (0x01028u + 0x40u * (n)) /* 8.2.3.8.6 */
#define M_RXDCTL_ENABLE 0x02000000u /* bit 25 */
#define M_RDRXCTL 0x02F00           /* 8.2.3.8.8 */
#define M_RDRXCTL_CRCSTRIP 0x00000002u /* bit 1 */
#define M_RDRXCTL_DMAIDONE 0x00000008u /* bit 3 */
#define M_RXCTRL 0x03000            /* 8.2.3.8.10 */
#define M_RXCTRL_RXEN 0x00000001u
#define M_SECRXCTRL 0x08D00         /* 8.2.3.12 security rx control */
#define M_SECRXCTRL_RX_DIS 0x00000002u /* bit 1 */
#define M_SECRXSTAT 0x08D04
#define M_SECRXSTAT_RDY 0x00000001u /* bit 0 */

/* 8.2.3.7 Filtering */
#define M_RAL0 0x0A200              /* 8.2.3.7.9 */
#define M_RAH0 0x0A204              /* 8.2.3.7.10 */
#define M_RAH_AV 0x80000000u

/* 8.2.3.22 MAC */
#define M_HLREG0 0x04240            /* 8.2.3.22.8 */
#define M_HLREG0_RXCRCSTRP 0x00000002u /* bit 1 */
#define M_AUTOC 0x042A0             /* 8.2.3.22.19 */
#define M_AUTOC_AN_RESTART 0x00001000u /* bit 12 */
#define M_AUTOC_LMS 0x0000E000u     /* bits 15:13 */
#define M_AUTOC_LMS_1G_NO_AN 0x00000000u
#define M_AUTOC_LMS_10G_SERIAL 0x00006000u
#define M_LINKS 0x042A4             /* 8.2.3.22.20 */
#define M_LINKS_UP 0x40000000u      /* bit 30 */
#define M_LINKS_10G 0x30000000u     /* bits 29:28 = 11b */
#define M_LINKS_1G 0x20000000u      /* 10b */

/* 8.2.3.9 Transmit, queue n at 0x06000 + 0x40 * n (n < 64) */
#define M_DMATXCTL 0x04A80          /* 8.2.3.9.2 */
#define M_DMATXCTL_TE 0x00000001u
#define M_TDBAL(n) (0x06000u + 0x40u * (n)) /* 8.2.3.9.5 */
#define M_TDBAH(n) (0x06004u + 0x40u * (n)) /* 8.2.3.9.6 */
#define M_TDLEN(n) (0x06008u + 0x40u * (n)) /* 8.2.3.9.7 */
#define M_DCA_TXCTRL(n) (0x0600Cu + 0x40u * (n)) /* 8.2.3.11.2 */
#define M_DCA_TX_DESC_WRO 0x00000800u /* bit 11: write-back RO */
#define M_DCA_TXCTRL_RESET 0x00002A00u /* bits 9, 11, 13 set at reset */
#define M_TDH(n) (0x06010u + 0x40u * (n))   /* 8.2.3.9.8 */
#define M_TDT(n) (0x06018u + 0x40u * (n))   /* 8.2.3.9.9 */
#define M_TXDCTL(n) (0x06028u + 0x40u * (n)) /* 8.2.3.9.10 */
#define M_TXDCTL_ENABLE 0x02000000u /* bit 25 */

/* 8.2.3.23 Statistics: all clear on read; GORC/GOTC are 36-bit counters,
 * low dword first (reading it latches the high 4 bits). */
#define M_CRCERRS 0x04000           /* 8.2.3.23.1 */
#define M_MPC(n) (0x03FA0u + 4u * (n)) /* 8.2.3.23.4, n < 8 */
#define M_GPRC 0x04074              /* 8.2.3.23.18 */
#define M_GPTC 0x04080              /* 8.2.3.23.22 */
#define M_GORCL 0x04088             /* 8.2.3.23.23 */
#define M_GORCH 0x0408C             /* 8.2.3.23.24 */
#define M_GOTCL 0x04090             /* 8.2.3.23.25 */
#define M_GOTCH 0x04094             /* 8.2.3.23.26 */

/* 7.1.6 advanced receive descriptor, byte offsets. Read format (7.1.6.1):
 * packet buffer address at 0, header buffer address at 8. Write-back
 * (7.1.6.2): extended status 19:0 / errors 31:20 in the dword at 8, packet
 * length in bits 15:0 of the dword at 12, VLAN in 31:16. */
#define M_RXD_PKT_ADDR 0
#define M_RXD_STATUS 8
#define M_RXD_LENGTH 12
#define M_RXD_DD 0x00000001u        /* status bit 0 */
#define M_RXD_EOP 0x00000002u       /* status bit 1 */
#define M_RXD_RXE 0x20000000u       /* error bit 29 */
/* Write-back dword 0: RSS type in bits 3:0 (0: no hash); dword 1: the RSS
 * hash when RXCSUM.PCSD is set, else fragment checksum and IP id. */
#define M_RXD_INFO 0
#define M_RXD_RSS 4
#define M_RSS_TYPE_TCPIPV4 0x1u
#define M_RSS_TYPE_IPV4 0x2u
#define M_RSS_TYPE_TCPIPV6 0x3u
#define M_RSS_TYPE_IPV6 0x5u
#define M_RSS_TYPE_UDPIPV4 0x7u
#define M_RSS_TYPE_UDPIPV6 0x8u

/* 7.1.2.8 RSS: the registers that steer a frame to a queue. */
#define M_RXCSUM 0x05000            /* 8.2.3.7.5 */
#define M_RXCSUM_PCSD 0x00002000u   /* bit 13: write-back carries the hash */
#define M_MRQC 0x0EC80              /* 8.2.3.7.12 */
#define M_MRQC_MRQE 0x0000000Fu     /* bits 3:0 */
#define M_MRQC_MRQE_RSS 0x00000001u /* 0001b: RSS only */
#define M_MRQC_TCPIPV4 0x00010000u  /* field enables: bit 16 */
#define M_MRQC_IPV4 0x00020000u     /* bit 17 */
#define M_MRQC_IPV6 0x00100000u     /* bit 20 */
#define M_MRQC_TCPIPV6 0x00200000u  /* bit 21 */
#define M_MRQC_UDPIPV4 0x00400000u  /* bit 22 */
#define M_MRQC_UDPIPV6 0x00800000u  /* bit 23 */
#define M_RSSRK(n) (0x0EB80u + 4u * (n)) /* 8.2.3.7.14, n < 10 */
#define M_RETA(n) (0x0EB00u + 4u * (n))  /* 8.2.3.7.15, n < 32 */

/* 7.2.3.2.4 advanced transmit data descriptor: address at 0; the dword at
 * 8 holds DTALEN 15:0, DTYP 23:20 (0011b data), DCMD 31:24 (EOP 24, IFCS
 * 25, RS 27, DEXT 29); the dword at 12 PAYLEN 31:14, and on write-back the
 * status (DD bit 0). */
#define M_TXD_ADDR 0
#define M_TXD_CMD 8
#define M_TXD_STATUS 12
#define M_TXD_LEN 0x0000FFFFu
#define M_TXD_DTYP 0x00F00000u
#define M_TXD_DTYP_DATA 0x00300000u
#define M_TXD_EOP 0x01000000u
#define M_TXD_RS 0x08000000u
#define M_TXD_DEXT 0x20000000u
#define M_TXD_DD 0x00000001u

#define M_RING_ALIGN 128u            /* 8.2.3.8.3 / 8.2.3.9.7 */

/* SFF-8472 4.3-4.4: the module EEPROM at I2C address A0h. */
#define M_SFP_ADDR 0xA0u

#endif /* IXGBE_MODEL_REGS_H */
