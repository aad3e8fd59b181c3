/* SPDX-License-Identifier: MIT */
/*
 * adv_ring.h - the receive and transmit rings of Intel's "advanced"
 * descriptors, shared by the ixgbe (82599, X540, X550) and igb (82576)
 * drivers. Both chips lay the descriptors out the same way (82599 datasheet
 * 7.1.6 and 7.2.3.2.4; 82576 datasheet 7.1.5 and 7.2.2.3) and use the same
 * head/tail protocol; what differs per chip is passed in: the tail register
 * offset and which write-back error bit means "bad frame" (RXE is bit 29 on
 * the 82599 but bit 31 on the 82576, where bit 29 is the L4 checksum error).
 * The per-chip files (drivers/ixgbe, drivers/igb) keep registers and init.
 *
 * Trust model: the descriptor rings live in the DMA pool, so the device can
 * write anything there at any time. What we trust lives in private memory:
 * the shadow arrays (which nb_pkt sits in which ring slot), the ring indices
 * and the counters. A device-written value is read once, checked and only
 * then used; no pointer is ever derived from it. The fuzz harnesses
 * (test/fuzz/fuzz_ixgbe_{rx,tx}.c) drive this code directly.
 */
#ifndef NB_ADV_RING_H
#define NB_ADV_RING_H

#include <emmintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nb_internal.h"

/*
 * Transmit: only every ADV_TX_RS_THRESH-th descriptor asks for a status
 * write-back (RS), and clean-up checks that one DD per batch (the idea of
 * DPDK's tx_rs_thresh). Batches start at multiples of it, so a batch never
 * wraps.
 */
#define ADV_TX_RS_THRESH 32u
/* Most descriptors one rx burst looks at; bounds the work per call. */
#define ADV_RX_MAX_BURST 64u
/* Receive refills (rearms) this many slots at a time (a quarter of the
 * ring on smaller rings), one RDT write each. */
#define ADV_RX_REARM 32u
/* Smallest ring: two clean-up batches, so one can be in flight. */
#define ADV_MIN_RING_SIZE (2u * ADV_TX_RS_THRESH)
/* We keep rings a power of two, <= 4096 descriptors. */
#define ADV_MAX_RING_SIZE 4096u
/* RDLEN/TDLEN must be multiples of 128 bytes (82599 8.2.3.8.3, 82576 8.10). */
#define ADV_RING_ALIGN 128u

/*
 * Receive buffer size: SRRCTL.BSIZEPACKET counts 1 KiB units, so the device
 * uses the buffer size rounded down to a KiB. One buffer must hold a whole
 * 1518-byte frame (we drop frames split over descriptors), so buffers
 * below 2 KiB are refused: a 1,500-byte buffer would be programmed as 1 KiB
 * and every frame above 1,024 bytes would be lost.
 */
#define ADV_RX_BSIZE_SHIFT 10
#define ADV_RX_MIN_BUF_SIZE 2048u

/*
 * Transmit frame length: DTALEN is 16 bits (82599 7.2.3.2.4, 82576
 * 7.2.2.3), so one descriptor carries at most 65,535 bytes; a longer length
 * would spill into the DTYP/DCMD bits. Both chips need at least 17 bytes
 * (82599 7.2.3.2.4; 82576 with TCTL.PSP, which pads short frames to 64).
 */
#define ADV_TX_MIN_LEN 17u
#define ADV_TX_MAX_LEN 0xFFFFu

/* ---- Advanced receive descriptor --------------------------------------- */
/* Read format: what the driver writes. */
struct adv_rx_desc_read {
	uint64_t pkt_addr; /* packet buffer IOVA */
	uint64_t hdr_addr; /* header buffer IOVA (unused: one-buffer mode) */
};

/* Write-back format: what the device writes over it. */
struct adv_rx_desc_wb {
	uint32_t info;         /* RSS type 3:0, packet type */
	uint32_t rss;          /* RSS hash (with RXCSUM.PCSD set) */
	uint32_t status_error; /* extended status 19:0, extended errors 31:20 */
	uint16_t length;       /* bytes written to the packet buffer */
	uint16_t vlan;
};

union adv_rx_desc {
	struct adv_rx_desc_read read;
	struct adv_rx_desc_wb wb;
};
_Static_assert(sizeof(union adv_rx_desc) == 16, "16-byte descriptor");

/* The fast path reads status_error and length as one 8-byte word. */
#define ADV_RXD_LEN_SHIFT (8u * (offsetof(struct adv_rx_desc_wb, length) - \
				  offsetof(struct adv_rx_desc_wb, status_error)))
_Static_assert(offsetof(struct adv_rx_desc_wb, status_error) % 8 == 0,
	       "status_error starts an aligned 8-byte word");
#define ADV_RXD_LEN_MASK (0xFFFFull << ADV_RXD_LEN_SHIFT)

/* RSS type (82599 7.1.6.2, 82576 7.1.5.2): 0 means no hash computed. */
#define ADV_RXD_RSS_TYPE_MASK 0xFu
#define ADV_RXD_STAT_DD (1u << 0)  /* descriptor done */
#define ADV_RXD_STAT_EOP (1u << 1) /* end of packet */

/*
 * One compare judges a write-back: m is its status/length word masked to
 * the length and the bits that must read DD|EOP (errors must be 0).
 * Subtracting "length 1, DD|EOP" leaves 0 in the status bits only for
 * exactly DD|EOP (else they are non-zero, or borrow), and length - 1 in
 * the length bits; rotating the status bits to the top makes the result
 * < buf_len exactly for a good frame of 1..buf_len bytes, and then it is
 * length - 1.
 */
static inline uint64_t adv_rx_good_len(uint64_t m)
{
	uint64_t y = m - ((1ull << ADV_RXD_LEN_SHIFT) | ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP);

	return y >> ADV_RXD_LEN_SHIFT | y << (64u - ADV_RXD_LEN_SHIFT);
}

/*
 * The write-back's first 8 bytes (info, then the RSS hash; read once,
 * after DD) into pkt, as the device reports them: rss_hash, and flags =
 * NB_PKT_RSS_HASH if the RSS type (info 3:0) is non-zero. Data handed on,
 * never used as an index. Only on a queue with RSS programmed (adv_rxq.rss:
 * without it, RXCSUM.PCSD is clear and those bytes are not a hash); there
 * every receive path (scalar, SIMD, slow) takes it, else adv_rx_no_rss.
 */
static inline void adv_rx_rss(struct nb_pkt *pkt, uint64_t info_rss)
{
	pkt->rss_hash = (uint32_t)(info_rss >> 32);
	pkt->flags = (info_rss & ADV_RXD_RSS_TYPE_MASK) ? NB_PKT_RSS_HASH : 0;
}

/* No RSS on the queue: no hash, no flags (a buffer may carry a previous
 * frame's), and the write-back's first 8 bytes are not read. */
static inline void adv_rx_no_rss(struct nb_pkt *pkt)
{
	pkt->rss_hash = 0;
	pkt->flags = 0;
}
_Static_assert(offsetof(struct adv_rx_desc_wb, info) == 0 &&
	       offsetof(struct adv_rx_desc_wb, rss) == 4,
	       "info and the RSS hash are the descriptor's first 8 bytes");

/* ---- Advanced transmit data descriptor --------------------------------- */
struct adv_tx_desc_read {
	uint64_t buffer_addr;  /* packet IOVA */
	uint32_t cmd_type_len; /* DTALEN 15:0, DTYP 23:20, DCMD 31:24 */
	uint32_t olinfo;       /* STA 3:0 (write-back), PAYLEN 31:14 */
};

/* Write-back: only the DD bit in the last dword is defined. */
struct adv_tx_desc_wb {
	uint64_t reserved0;
	uint32_t reserved1;
	uint32_t status;
};

union adv_tx_desc {
	struct adv_tx_desc_read read;
	struct adv_tx_desc_wb wb;
};
_Static_assert(sizeof(union adv_tx_desc) == 16, "16-byte descriptor");

#define ADV_TXD_DTYP_DATA (3u << 20)
#define ADV_TXD_CMD_EOP (1u << 24)
#define ADV_TXD_CMD_IFCS (1u << 25) /* insert FCS */
#define ADV_TXD_CMD_RS (1u << 27)   /* report status (DD write-back) */
#define ADV_TXD_CMD_DEXT (1u << 29) /* advanced descriptor */
#define ADV_TXD_PAYLEN_SHIFT 14
#define ADV_TXD_STAT_DD (1u << 0)

/* Bytes 8-15 of a data descriptor for a frame of len bytes, without RS
 * (cmd_type_len, then olinfo with PAYLEN = len). */
static inline uint64_t adv_tx_cmd(uint64_t len)
{
	return (len | ADV_TXD_DTYP_DATA | ADV_TXD_CMD_EOP | ADV_TXD_CMD_IFCS |
		ADV_TXD_CMD_DEXT) | len << (32 + ADV_TXD_PAYLEN_SHIFT);
}

/* The per-descriptor loops, scalar or SIMD (adv_path.c says what each
 * must do; all variants give identical results). */
struct adv_path {
	const char *name; /* "scalar", "sse4.1", "avx2" */
	/* [0]: RSS off (adv_rx_no_rss), [1]: RSS on (adv_rx_rss); indexed
	 * by adv_rxq.rss once per scan. */
	unsigned (*rx_scan[2])(const volatile union adv_rx_desc *ring,
			       struct nb_pkt *const *slot, struct nb_pkt **pkts,
			       unsigned max, uint32_t check, uint32_t buf_len,
			       uint64_t *stop);
	void (*rx_post)(volatile union adv_rx_desc *ring,
			struct nb_pkt *const *slot, unsigned n,
			const struct nb_iova_map *map);
	unsigned (*tx_post)(volatile union adv_tx_desc *d, struct nb_pkt **slot,
			    struct nb_pkt *const *pkts, unsigned n,
			    const struct nb_mempool *pool, uint64_t span);
};

/* The path NB_SIMD names (scalar, sse4.1, avx2), NULL if it is unset: 0,
 * or -1 with a message naming drv (unknown, or this CPU lacks it). */
int adv_path_asked(const char *drv, const struct adv_path **out);
/* The process's path, picked once (queues take it at init): NB_SIMD's,
 * else the fastest this CPU runs by adv_path_fastest. */
const struct adv_path *adv_path_get(void);
/* Of cand[0..n) (narrowest first), the one that moves a synthetic burst
 * fastest; the last unless another is at least an eighth faster. */
#define ADV_PATH_MAX_CANDIDATES 8u
const struct adv_path *adv_path_fastest(const struct adv_path *const *cand,
					unsigned n);
const struct adv_path *adv_path_scalar(void);
/* For tests: a variant by name (NULL if none), and whether the CPU runs it. */
const struct adv_path *adv_path_by_name(const char *name);
bool adv_path_supported(const struct adv_path *p);

/*
 * Receive queue. Slots [next - hold, next) are empty: their buffers were
 * handed out (or dropped) and they wait for the next rearm of
 * ADV_RX_REARM slots; every other slot has a buffer posted. A burst never
 * looks at more than size - 1 - hold slots, so it never reads an empty
 * slot's stale shadow entry, whatever the device writes.
 */
struct adv_rxq {
	volatile union adv_rx_desc *ring; /* in the DMA pool: untrusted */
	struct nb_pkt **slot;        /* private: buffer posted in each slot */
	struct nb_mempool *mp;       /* where replacement buffers come from */
	struct nb_iova_map iova;     /* buffer IOVA from its nb_pkt address */
	const struct adv_path *path; /* scalar or SIMD loops */
	volatile uint8_t *regs;      /* BAR0, for the tail register */
	struct nb_dev *dev;          /* for nb_dev_set_fault */
	const char *drv;             /* driver name for messages */
	uint32_t rdt;                /* offset of this queue's RDT */
	uint32_t buf_len;            /* bytes the device may write per buffer */
	uint32_t err_mask;           /* write-back bits that mean "bad frame" */
	uint16_t size;               /* power of two */
	uint16_t next;               /* next slot whose DD we wait for */
	uint16_t hold;               /* empty slots before next */
	uint16_t rearm;              /* slots refilled at a time */
	bool rss;                    /* RSS programmed: hand on the hash */
	bool in_bad_frame;           /* dropping the rest of a split frame */
	bool stopped;                /* the device broke the protocol */
	uint64_t rx_errors;
	uint64_t dev_faults;
};

struct adv_txq {
	volatile union adv_tx_desc *ring; /* in the DMA pool: untrusted */
	struct nb_pkt **slot;        /* private: buffer posted in each slot */
	const struct adv_path *path; /* scalar or SIMD loops */
	volatile uint8_t *regs;
	struct nb_dev *dev;
	const char *drv;
	uint32_t tdt;                /* offset of this queue's TDT */
	uint16_t size;               /* power of two, >= ADV_MIN_RING_SIZE */
	uint16_t tail;               /* next free slot */
	uint16_t clean;              /* oldest slot the device still owns */
	uint32_t last_max_len;       /* longest frame from last_pool we send */
	struct nb_mempool *last_pool; /* pool of the last frame sent */
	uint32_t posted;             /* descriptors ever posted (wraps) */
	uint32_t pool_since;         /* `posted` when last_pool last changed */
	bool stopped;
	uint64_t tx_errors;
	uint64_t dev_faults;
};

/* One 16-byte store of a whole descriptor (lo = bytes 0-7, hi = 8-15):
 * the device never sees half of a descriptor we wrote. */
static inline void adv_desc_store(volatile void *desc, uint64_t lo, uint64_t hi)
{
	_mm_store_si128((__m128i *)(uintptr_t)desc,
			_mm_set_epi64x((long long)hi, (long long)lo));
}

/*
 * Poll until (reg & mask) == want or timeout_ms pass: 0, or -1/ETIMEDOUT
 * with a message naming the driver, the device and `what`. Every wait of
 * both drivers goes through here, so none can hang on a silent device.
 */
#define ADV_POLL_INTERVAL_US 10
int adv_wait_reg(volatile uint8_t *regs, const char *drv, const char *dev,
		 uint32_t reg, uint32_t mask, uint32_t want,
		 uint32_t timeout_ms, const char *what);
void adv_sleep_us(long us);

/* The chip-independent part of a driver's configuration check: queue
 * counts (1..max_queues per direction), one distinct mempool per receive
 * queue, ring sizes, the receive buffer size and the RSS settings. */
struct adv_conf {
	uint16_t n_rxq, n_txq, rx_size, tx_size;
	struct nb_mempool *rx_mp[NB_MAX_QUEUES];
	uint32_t bsize_kb[NB_MAX_QUEUES]; /* SRRCTL.BSIZEPACKET per queue */
	const uint8_t *rss_key;           /* NB_RSS_KEY_LEN bytes */
	uint32_t rss_types;               /* NB_RSS_* */
};
int adv_check_conf(const char *drv, const struct nb_pci *pci,
		   const struct nb_dev_conf *conf, uint16_t default_ring_size,
		   uint16_t max_queues, uint32_t max_bsize_kb, struct adv_conf *out);

/*
 * RSS registers laid out alike on both chips (82599 8.2.3.7.14-15, 82576
 * 8.10 RETA/RSSRK): 32 RETA registers of four one-byte entries (entry i
 * in byte i % 4 of register i / 4; the hash's low 7 bits pick the entry,
 * whose value is the queue) and 10 RSSRK registers (key byte i in byte
 * i % 4 of register i / 4). adv_rss_program writes RETA entry i = i % n_rxq
 * (the rule nb_rss_queue() states) and the key, and has the n_rxq queues
 * rxq[] hand on the hash from now on (adv_rxq.rss).
 */
#define ADV_RETA_REGS 32u
#define ADV_RSSRK_REGS 10u
void adv_rss_program(volatile uint8_t *regs, uint32_t reta0, uint32_t rssrk0,
		     struct adv_rxq *rxq, uint16_t n_rxq, const uint8_t *key);
/* MRQC field-enable bits 23:16 for NB_RSS_* types (82599 8.2.3.7.12,
 * 82576 8.10 MRQC: the same positions on both). */
#define ADV_MRQC_TCP_IPV4 (1u << 16)
#define ADV_MRQC_IPV4 (1u << 17)
#define ADV_MRQC_IPV6 (1u << 20)
#define ADV_MRQC_TCP_IPV6 (1u << 21)
#define ADV_MRQC_UDP_IPV4 (1u << 22)
#define ADV_MRQC_UDP_IPV6 (1u << 23)
uint32_t adv_mrqc_fields(uint32_t rss_types);

/* SRRCTL.BSIZEPACKET for buffers of buf_size bytes (1 KiB units, rounded
 * down, at most max_kb). */
uint32_t adv_rx_bsize_kb(uint32_t buf_size, uint32_t max_kb);

/* A ring of `size` descriptors in the DMA pool plus its private shadow
 * array (calloc'ed; the caller frees it). */
int adv_alloc_ring(const char *drv, struct nb_pool *dma, uint16_t size,
		   void **ring, uint64_t *iova, struct nb_pkt ***slot);

/*
 * Ring setup: `ring` is zeroed DMA memory of size * 16 bytes, `slot` a
 * private array of `size` pointers; the device may write bsize_kb KiB per
 * buffer (what SRRCTL says). rx_fill posts a buffer in every slot (fails
 * with ENOBUFS if the mempool runs dry).
 */
void adv_rxq_init(struct adv_rxq *q, struct nb_dev *dev, const char *drv,
		  volatile uint8_t *regs, uint32_t rdt, void *ring,
		  struct nb_pkt **slot, uint16_t size, struct nb_mempool *mp,
		  uint32_t bsize_kb, uint32_t err_mask);
int adv_rxq_fill(struct adv_rxq *q);
void adv_txq_init(struct adv_txq *q, struct nb_dev *dev, const char *drv,
		  volatile uint8_t *regs, uint32_t tdt, void *ring,
		  struct nb_pkt **slot, uint16_t size);

uint16_t adv_rxq_burst(struct adv_rxq *q, struct nb_pkt **pkts, uint16_t n);
uint16_t adv_txq_burst(struct adv_txq *q, struct nb_pkt **pkts, uint16_t n);
/* Reclaim transmitted batches (called by the burst; exposed for the fuzzer). */
void adv_txq_clean(struct adv_txq *q);

/*
 * True if the next descriptor the burst waits for has DD set (or the queue
 * stopped): interrupt arming looks here after unmasking. A hint read once;
 * adv_rxq_burst reads and checks the descriptor again.
 */
static inline bool adv_rxq_ready(const struct adv_rxq *q)
{
	return q->stopped ||
	       (q->ring[q->next].wb.status_error & ADV_RXD_STAT_DD) != 0;
}

/* Give every buffer still posted in the ring back to its mempool. */
void adv_rxq_release(struct adv_rxq *q);
void adv_txq_release(struct adv_txq *q);

/* Give back every queue's posted buffers and free the shadow arrays
 * (after the device's DMA is stopped). */
void adv_release_queues(struct adv_rxq *rxq, uint16_t n_rxq,
			struct adv_txq *txq, uint16_t n_txq);

/* Map BAR0 (at least min_len bytes) and turn bus mastering off: the first
 * steps of both drivers' open. The driver enables DMA (nb_pci_enable_dma)
 * once its reset is done. */
int adv_map_bar0(const char *drv, struct nb_pci *pci, uint32_t min_len,
		 volatile uint8_t **regs);

/* The MAC address from a receive address pair RAL/RAH (same layout on
 * both chips: bytes 0-3 in RAL, 4-5 in the low half of RAH). */
void adv_mac_from_ra(uint32_t ral, uint32_t rah, uint8_t mac[6]);

/*
 * What the ixgbe and igb handles share; each chip's struct starts with it
 * and keeps its registers and init to itself. The nb_dev_ops fast-path
 * and stats entries of both drivers are the adv_port_* functions below.
 */
struct adv_port {
	struct nb_dev nb;           /* must stay first */
	uint16_t n_rxq, n_txq;
	struct adv_rxq *rxq;        /* the chip struct's queue arrays */
	struct adv_txq *txq;
	struct nb_stats hw;         /* clear-on-read hardware counters, summed */
	void (*collect_stats)(struct adv_port *port); /* add the chip's to hw */
};

/*
 * Fill in a freshly allocated port: its ops, PCI device, the chip struct's
 * queue arrays (rxq, txq) sized by the checked conf `c`, the statistics
 * hook and what nb_dev_info reports.
 */
void adv_port_init(struct adv_port *port, const struct nb_dev_ops *ops, struct nb_pci *pci,
		   const struct adv_conf *c, uint16_t max_queues, struct adv_rxq *rxq,
		   struct adv_txq *txq, void (*collect_stats)(struct adv_port *port));

uint16_t adv_port_rx_batch(struct nb_dev *dev, uint16_t queue,
			   struct nb_pkt **pkts, uint16_t n);
uint16_t adv_port_tx_batch(struct nb_dev *dev, uint16_t queue,
			   struct nb_pkt **pkts, uint16_t n);
int adv_port_read_stats(struct nb_dev *dev, struct nb_stats *out);

/* Add the queues' software counters (errors, device faults) to *out. */
void adv_add_queue_stats(const struct adv_rxq *rxq, uint16_t n_rxq,
			 const struct adv_txq *txq, uint16_t n_txq,
			 struct nb_stats *out);

#endif /* NB_ADV_RING_H */
