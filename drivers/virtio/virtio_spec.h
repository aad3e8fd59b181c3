/* SPDX-License-Identifier: MIT */
/*
 * virtio_spec.h - constants and layouts from the virtio 1.2 specification
 * (OASIS "Virtual I/O Device (VIRTIO) Version 1.2"). Section numbers in the
 * comments are that document's. Everything is little-endian on the wire;
 * nb_mmio.h already refuses anything but x86-64, so no byte swapping.
 */
#ifndef VIRTIO_SPEC_H
#define VIRTIO_SPEC_H

#include <stdint.h>

/* 2.1 Device Status Field. */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* 6 Reserved Feature Bits (device-independent). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_F_ORDER_PLATFORM 36

/* 5.1.3 Network device feature bits. */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_HASH_REPORT 57
#define VIRTIO_NET_F_RSS 60
#define VIRTIO_NET_F_SPEED_DUPLEX 63

#define VIRTIO_BIT(f) (UINT64_C(1) << (f))

/* 4.1.2.1 PCI Device Discovery: vendor 0x1af4, modern id 0x1040 + type 1. */
#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_NET 0x1041

/* PCI 3.0 config header: Status bit 4 = capability list, pointer at 0x34. */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_VNDR 0x09

/* 4.1.4 Virtio Structure PCI Capabilities: struct virtio_pci_cap. */
#define VIRTIO_PCI_CAP_VNDR 0     /* u8: 0x09, vendor specific */
#define VIRTIO_PCI_CAP_NEXT 1     /* u8: next capability pointer */
#define VIRTIO_PCI_CAP_LEN 2      /* u8: length of this capability */
#define VIRTIO_PCI_CAP_CFG_TYPE 3 /* u8: which structure */
#define VIRTIO_PCI_CAP_BAR 4      /* u8: BAR holding it, 0-5 */
#define VIRTIO_PCI_CAP_OFFSET 8   /* le32: offset within the BAR */
#define VIRTIO_PCI_CAP_LENGTH 12  /* le32: length of the structure */
#define VIRTIO_PCI_CAP_SIZE 16
/* 4.1.4.4: struct virtio_pci_notify_cap appends notify_off_multiplier. */
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16
#define VIRTIO_PCI_NOTIFY_CAP_SIZE 20

/* 4.1.4 cfg_type values. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* 4.1.4.3 Common configuration structure layout (byte offsets). */
#define VIRTIO_COMMON_DFSELECT 0x00      /* le32 device_feature_select */
#define VIRTIO_COMMON_DF 0x04            /* le32 device_feature (RO) */
#define VIRTIO_COMMON_GFSELECT 0x08      /* le32 driver_feature_select */
#define VIRTIO_COMMON_GF 0x0c            /* le32 driver_feature */
#define VIRTIO_COMMON_MSIX 0x10          /* le16 config_msix_vector */
#define VIRTIO_COMMON_NUMQ 0x12          /* le16 num_queues (RO) */
#define VIRTIO_COMMON_STATUS 0x14        /* u8 device_status */
#define VIRTIO_COMMON_CFGGENERATION 0x15 /* u8 config_generation (RO) */
#define VIRTIO_COMMON_Q_SELECT 0x16      /* le16 queue_select */
#define VIRTIO_COMMON_Q_SIZE 0x18        /* le16 queue_size */
#define VIRTIO_COMMON_Q_MSIX 0x1a        /* le16 queue_msix_vector */
#define VIRTIO_COMMON_Q_ENABLE 0x1c      /* le16 queue_enable */
#define VIRTIO_COMMON_Q_NOFF 0x1e        /* le16 queue_notify_off (RO) */
#define VIRTIO_COMMON_Q_DESC 0x20        /* le64 queue_desc */
#define VIRTIO_COMMON_Q_DRIVER 0x28      /* le64 queue_driver (avail) */
#define VIRTIO_COMMON_Q_DEVICE 0x30      /* le64 queue_device (used) */
#define VIRTIO_COMMON_MIN_LEN 0x38       /* the virtio 1.0 part we use */

/* 4.1.4.3: "no MSI-X vector" for config_msix_vector / queue_msix_vector. */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* 5.1.4 Device configuration layout (struct virtio_net_config). */
#define VIRTIO_NET_CFG_MAC 0     /* u8 mac[6], valid with VIRTIO_NET_F_MAC */
#define VIRTIO_NET_CFG_STATUS 6  /* le16, valid with VIRTIO_NET_F_STATUS */
#define VIRTIO_NET_CFG_SPEED 12  /* le32 Mbit/s, VIRTIO_NET_F_SPEED_DUPLEX */
#define VIRTIO_NET_CFG_MAX_PAIRS 8 /* le16, with VIRTIO_NET_F_MQ or _RSS */
#define VIRTIO_NET_CFG_RSS_KEY 17  /* u8 rss_max_key_size (RSS, HASH_REPORT) */
#define VIRTIO_NET_CFG_RSS_TABLE 18 /* le16 rss_max_indirection_table_length */
#define VIRTIO_NET_CFG_HASH_TYPES 20 /* le32 supported_hash_types */
#define VIRTIO_NET_CFG_MIN_LEN 8 /* mac + status */
#define VIRTIO_NET_CFG_SPEED_LEN 16
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_SPEED_UNKNOWN 0xffffffffu

/*
 * 5.1.2 Virtqueues: receiveqN is 2(N-1), transmitqN 2(N-1)+1, controlq 2N
 * where N is 1 without VIRTIO_NET_F_MQ and VIRTIO_NET_F_RSS, else
 * max_virtqueue_pairs (the device's maximum, not the pairs in use).
 */
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1
#define VIRTIO_NET_CTRLQ 2
/* 5.1.4.1: max_virtqueue_pairs lies in 1..0x8000. */
#define VIRTIO_NET_MAX_PAIRS 0x8000

/*
 * 5.1.6 Device Operation: struct virtio_net_hdr. With VIRTIO_F_VERSION_1 it
 * always has num_buffers, so it is 12 bytes whatever else is negotiated.
 */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
#define VIRTIO_NET_HDR_LEN 12
_Static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_LEN,
	       "5.1.6: the 1.x header is 12 bytes");
/*
 * 5.1.6: with VIRTIO_NET_F_HASH_REPORT the header (both directions) goes on
 * with le32 hash_value, le16 hash_report, le16 padding_reserved.
 */
#define VIRTIO_NET_HASH_HDR_LEN 20
#define VIRTIO_NET_HDR_HASH_VALUE 12
#define VIRTIO_NET_HDR_HASH_REPORT 16
/* 5.1.6.4.4: hash_report values; 0 means no hash was computed. */
#define VIRTIO_NET_HASH_REPORT_NONE 0
#define VIRTIO_NET_HASH_REPORT_MAX 9 /* UDPv6_EX */

/*
 * 5.1.6.3.1: without VIRTIO_NET_F_MRG_RXBUF and the GUEST_TSO/UFO features
 * every receive buffer must hold a whole frame: 1514 bytes plus the header.
 */
#define VIRTIO_NET_MIN_RX_FRAME 1514

/* 5.1.6.5 Control Virtqueue: struct virtio_net_ctrl header and ack. */
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_RX_PROMISC 0
#define VIRTIO_NET_OK 0
/* 5.1.6.5.5 Device operation in multiqueue mode: class and commands. */
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0 /* 5.1.6.5.6 */
#define VIRTIO_NET_CTRL_MQ_RSS_CONFIG 1   /* 5.1.6.5.7.1 */
#define VIRTIO_NET_CTRL_MQ_HASH_CONFIG 2  /* 5.1.6.5.6.4 */

/* 5.1.6.4.3.1 Supported/enabled hash types. */
#define VIRTIO_NET_HASH_TYPE_IPv4 (1u << 0)
#define VIRTIO_NET_HASH_TYPE_TCPv4 (1u << 1)
#define VIRTIO_NET_HASH_TYPE_UDPv4 (1u << 2)
#define VIRTIO_NET_HASH_TYPE_IPv6 (1u << 3)
#define VIRTIO_NET_HASH_TYPE_TCPv6 (1u << 4)
#define VIRTIO_NET_HASH_TYPE_UDPv6 (1u << 5)

/* 2.7.5 The Virtqueue Descriptor Table. */
struct virtq_desc {
	uint64_t addr; /* buffer IOVA (ACCESS_PLATFORM: translated by IOMMU) */
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2

/* 2.7.6 The Virtqueue Available Ring (driver area). */
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* queue size entries, then used_event (EVENT_IDX) */
};
/* 2.7.7 Used Buffer Notification Suppression: please do not interrupt. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* 2.7.8 The Virtqueue Used Ring (device area). */
struct virtq_used_elem {
	uint32_t id;  /* head of the used descriptor chain */
	uint32_t len; /* bytes the device wrote into the chain */
};
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* queue size, then avail_event */
};
/* 2.7.10 Available Buffer Notification Suppression: no kick needed. */
#define VIRTQ_USED_F_NO_NOTIFY 1

/*
 * 2.7.7 / 2.7.10 with VIRTIO_F_EVENT_IDX: used_event follows the avail
 * ring's entries (driver writes), avail_event the used ring's (device
 * writes). The offsets depend on the queue size.
 */
#define VIRTQ_USED_EVENT(avail, size) (&(avail)->ring[(size)])
#define VIRTQ_AVAIL_EVENT(used, size) \
	((volatile uint16_t *)&(used)->ring[(size)])

/*
 * 2.7.7.2 / 2.7.10.1: with EVENT_IDX, a notification is due when the index
 * moved from `old` to `new` passed `event` (event in [old, new), 16-bit
 * wrapping arithmetic). Any `event` value gives a yes or a no, nothing else.
 */
static inline int virtq_need_event(uint16_t event, uint16_t new_idx,
				   uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* 2.8.13 Packed Virtqueue Descriptor Format (struct pvirtq_desc). */
struct pvirtq_desc {
	uint64_t addr; /* buffer IOVA (available); unused when used */
	uint32_t len;  /* buffer length (available); bytes written (used) */
	uint16_t id;   /* buffer id, in the last descriptor of a chain */
	uint16_t flags;
};
/* 2.8.1: available when AVAIL != USED, used when they are equal. */
#define VIRTQ_DESC_F_AVAIL (1u << 7)
#define VIRTQ_DESC_F_USED (1u << 15)

/* 2.8.14 Event Suppression Structure Format (pvirtq_event_suppress). */
struct pvirtq_event_suppress {
	uint16_t off_wrap; /* bits 0-14 offset, bit 15 wrap counter */
	uint16_t flags;    /* RING_EVENT_FLAGS_*, bits 2-15 reserved */
};
#define RING_EVENT_FLAGS_ENABLE 0x0
#define RING_EVENT_FLAGS_DISABLE 0x1
#define RING_EVENT_FLAGS_DESC 0x2 /* only with VIRTIO_F_EVENT_IDX */
#define RING_EVENT_FLAGS_MASK 0x3
#define RING_EVENT_WRAP_SHIFT 15
#define RING_EVENT_OFF_MASK 0x7fff

/* 2.7 and 2.8: at most 32768 entries; we use powers of two only. */
#define VIRTQ_MAX_SIZE 32768

/* 2.7.5, 2.7.6, 2.7.8: alignment the device requires of each part. */
#define VIRTQ_DESC_ALIGN 16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN 4

#endif /* VIRTIO_SPEC_H */
