/* SPDX-License-Identifier: MIT */
/*
 * nicbox.h - the one public header of libnicbox.
 *
 * nicbox runs poll-mode NIC drivers in an unprivileged, sandboxed process.
 * A small privileged helper (nicbox-helper) binds the NIC to vfio-pci, maps
 * DMA pools into the IOMMU and hands the VFIO device fd and the pool memfds
 * to this library over a Unix socket. The library then locks the process
 * down (no capabilities, no_new_privs, Landlock, seccomp) before the first
 * packet is touched.
 *
 * Conventions (every function, unless its comment says otherwise):
 *   - Prefix nb_. Handles are opaque except struct nb_pkt and the first
 *     member of struct nb_dev, which the inline fast-path wrappers need.
 *   - int functions return 0 on success and -1 on failure with errno set.
 *     Functions returning a pointer return NULL with errno set.
 *   - After a failure, nb_last_error() returns a human-readable reason
 *     (for example the reason text of a helper's error reply). It is
 *     thread-local and valid until the next failing nb_ call on that thread.
 *   - Nothing in the library calls exit() or abort(); the caller decides.
 *   - The fast-path calls (nb_rx_batch, nb_tx_batch, nb_pkt_alloc_bulk,
 *     nb_pkt_free_bulk, and nb_rx_wait/nb_rx_idle for a queue) are not
 *     thread-safe per queue/mempool: use one thread per queue and per
 *     mempool. See "Threads and queues" below.
 *
 * Threads and queues (multi-queue devices, nb_dev_conf.rx_queues > 1):
 *   - Each receive queue q has its own mempool (nb_dev_conf.rx_mempools[q]);
 *     the driver refills queue q only from it. A buffer goes back to its
 *     own mempool wherever it is freed (nb_pkt_free, or a transmit queue
 *     reclaiming it), so a mempool is touched by every thread that frees
 *     its buffers: keep each mempool to one thread. The apps do it by
 *     pairing: the thread that receives on queue q of one device is the
 *     only one that sends on queue q of the other (nicbox-fwd), so queue
 *     q's buffers never meet another thread.
 *   - One thread per receive queue and per transmit queue (the same thread
 *     may drive several). Nothing mutable on the fast path is shared
 *     between queues: each queue's ring, shadow array and counters are its
 *     own.
 *   - One reporting thread at a time, next to the queue threads:
 *     nb_dev_stats (device counters are clear-on-read and summed in the
 *     handle; the queues' software counters are read without locks, so a
 *     report may lag a burst), nb_dev_link, nb_dev_mac, nb_dev_fault.
 *     nb_rss_* are pure functions: any thread.
 *   - One thread, with no queue thread running: nb_dev_open, nb_dev_close,
 *     nb_dev_set_promisc, nb_mempool_create/destroy, nb_session_*.
 *   - Start every thread before nb_lockdown (it locks down all threads of
 *     the process and forbids new ones afterwards; see nb_lockdown).
 */
#ifndef NICBOX_H
#define NICBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(NICBOX_BUILDING_LIBRARY)
#define NB_API __attribute__((visibility("default")))
#else
#define NB_API
#endif

#define NB_VERSION_MAJOR 0
#define NB_VERSION_MINOR 1

/* Default helper socket; overridden by $NICBOX_SOCKET or an explicit path. */
#define NB_DEFAULT_SOCKET "/run/nicbox/helper.sock"

/* Most devices one session may claim (they share one IOMMU container). */
#define NB_MAX_DEVICES 4
/* Most DMA pools one session may ask for. */
#define NB_MAX_POOLS 4
/* Most receive and most transmit queues one device may be opened with. */
#define NB_MAX_QUEUES 16

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/* Human-readable reason for the last failure on this thread; never NULL. */
NB_API const char *nb_last_error(void);

/* ------------------------------------------------------------------------ */
/* DMA pools                                                                 */

/*
 * A DMA pool is a sealed memfd that the helper mapped into the IOMMU at an
 * IOVA of its choosing. The worker maps it MAP_SHARED; VA and IOVA differ by
 * a constant, so translation is a subtraction and never needs pagemap.
 */
struct nb_pool;

/* Page sizes a pool may be backed by. */
enum nb_page_size {
	NB_PAGE_DEFAULT = 0, /* 2 MiB hugepages, 4 KiB fallback with a warning */
	NB_PAGE_4K = 1,
	NB_PAGE_2M = 2,
	NB_PAGE_1G = 3,
};

/*
 * Map a pool memfd of `size` bytes whose first byte has IOVA `iova_base`.
 * `page_size` is the pool's backing page size in bytes. Fails with EINVAL
 * for a size that is zero or not a multiple of page_size, with EBADF for a
 * bad fd, and with EINVAL when the memfd is smaller than `size`. On success
 * the pool owns `fd` (closed by nb_pool_destroy); on failure the caller
 * still owns it.
 */
NB_API int nb_pool_map(int fd, size_t size, uint64_t iova_base,
		       size_t page_size, struct nb_pool **out);

/*
 * Test-only: a pool with no IOMMU behind it, backed by a fresh memfd and a
 * made-up IOVA base. Lets unit tests and the ixgbe device model run
 * anywhere. Never use it with a real device.
 */
NB_API int nb_pool_create_unmapped(size_t size, uint64_t fake_iova_base,
				   struct nb_pool **out);

NB_API void nb_pool_destroy(struct nb_pool *pool);

/*
 * Carve `size` bytes aligned to `align` (a power of two, at most the page
 * size) from the pool. Chunks are never returned individually; they live
 * as long as the pool. Fails with ENOMEM when the rest of the pool is too
 * small and EINVAL for a bad alignment or zero size. The chunk is zeroed.
 */
NB_API int nb_pool_carve(struct nb_pool *pool, size_t size, size_t align,
			 void **va, uint64_t *iova);

/* IOVA of a pointer inside the pool; (uint64_t)-1 if it is outside. */
NB_API uint64_t nb_pool_va_to_iova(const struct nb_pool *pool, const void *va);
/* Pointer for an IOVA range inside the pool; NULL if any byte is outside. */
NB_API void *nb_pool_iova_to_va(const struct nb_pool *pool, uint64_t iova,
				size_t len);

NB_API size_t nb_pool_size(const struct nb_pool *pool);
NB_API size_t nb_pool_free_bytes(const struct nb_pool *pool);
NB_API size_t nb_pool_page_size(const struct nb_pool *pool);
NB_API uint64_t nb_pool_iova_base(const struct nb_pool *pool);
NB_API void *nb_pool_va_base(const struct nb_pool *pool);

/* ------------------------------------------------------------------------ */
/* Packet buffers and mempools                                               */

/*
 * Bytes in front of every packet's data that drivers may use (virtio-net
 * puts its 12-byte header there). Packet data is 64-byte aligned.
 */
#define NB_PKT_HEADROOM 64

struct nb_mempool;

/*
 * Packet descriptor. It lives in worker-private memory, NOT in the DMA pool:
 * the device can write only packet bytes, never the pointers and indices the
 * worker trusts. `data` points into the DMA pool; `iova` is the device's
 * address of data[0]. Drivers never derive a descriptor from a device-written
 * address: they remember which descriptor they posted in each ring slot.
 */
struct nb_pkt {
	uint8_t *data;            /* packet bytes, 64-byte aligned, in the pool */
	uint64_t iova;            /* device address of data[0] */
	struct nb_mempool *pool;  /* owner; where nb_pkt_free returns it */
	uint32_t len;             /* bytes of packet in data[] */
	uint32_t idx;             /* index of this buffer in its mempool */
	uint32_t rss_hash;        /* the device's RSS hash, with NB_PKT_RSS_HASH */
	uint32_t flags;           /* NB_PKT_* bits, set by the receiving driver */
};

/*
 * The device reported an RSS hash for this frame in rss_hash (written by
 * the device: a value to compare, never an index to trust; see nb_rss_*).
 */
#define NB_PKT_RSS_HASH (1u << 0)

/*
 * A mempool of `count` buffers of `buf_size` data bytes each (rounded up to
 * 64), each preceded by NB_PKT_HEADROOM bytes, carved from `dma`.
 * Fails with EINVAL for count 0 or > 2^26 or buf_size 0 or > 65535, ENOMEM if the pool
 * lacks room.
 */
NB_API int nb_mempool_create(struct nb_pool *dma, uint32_t count,
			     uint32_t buf_size, struct nb_mempool **out);
NB_API void nb_mempool_destroy(struct nb_mempool *mp);
NB_API uint32_t nb_mempool_buf_size(const struct nb_mempool *mp);
NB_API uint32_t nb_mempool_count(const struct nb_mempool *mp);
NB_API uint32_t nb_mempool_available(const struct nb_mempool *mp);

/* Allocate up to n buffers (len set to 0); returns how many it gave. */
NB_API uint32_t nb_pkt_alloc_bulk(struct nb_mempool *mp, struct nb_pkt **pkts,
				  uint32_t n);
/* One buffer, or NULL with errno ENOBUFS. */
NB_API struct nb_pkt *nb_pkt_alloc(struct nb_mempool *mp);
/* Return buffers to their own pools (they may come from several). */
NB_API void nb_pkt_free_bulk(struct nb_pkt **pkts, uint32_t n);
NB_API void nb_pkt_free(struct nb_pkt *pkt);

/* ------------------------------------------------------------------------ */
/* Devices                                                                   */

struct nb_dev;

struct nb_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_missed;  /* dropped by the device: no free descriptors */
	uint64_t rx_errors;  /* frames the driver dropped: error bits, too long */
	uint64_t tx_errors;  /* frames the driver could not send */
	uint64_t dev_faults; /* device broke the ring protocol (untrusted) */
};

struct nb_link {
	bool up;
	uint32_t speed_mbps; /* 0 if unknown */
};

struct nb_dev_ops {
	const char *driver;
	uint16_t (*rx_batch)(struct nb_dev *dev, uint16_t queue,
			     struct nb_pkt **pkts, uint16_t n);
	uint16_t (*tx_batch)(struct nb_dev *dev, uint16_t queue,
			     struct nb_pkt **pkts, uint16_t n);
	int (*read_stats)(struct nb_dev *dev, struct nb_stats *out);
	int (*link)(struct nb_dev *dev, struct nb_link *out);
	int (*mac)(struct nb_dev *dev, uint8_t mac[6]);
	int (*set_promisc)(struct nb_dev *dev, bool on);
	void (*close)(struct nb_dev *dev);
};

/*
 * Only the first member is part of the ABI (the inline wrappers use it);
 * the rest belongs to the driver.
 */
struct nb_dev_head {
	const struct nb_dev_ops *ops;
};

/*
 * Receive up to n packets from `queue`. Returns how many were received;
 * the caller owns them. 0 with a fault: see nb_dev_fault().
 */
static inline uint16_t nb_rx_batch(struct nb_dev *dev, uint16_t queue,
				   struct nb_pkt **pkts, uint16_t n)
{
	return ((struct nb_dev_head *)dev)->ops->rx_batch(dev, queue, pkts, n);
}

/*
 * Queue up to n packets for transmission. Returns how many were taken; the
 * driver owns those and frees them after the device is done. The caller
 * still owns the rest (ring full).
 */
static inline uint16_t nb_tx_batch(struct nb_dev *dev, uint16_t queue,
				   struct nb_pkt **pkts, uint16_t n)
{
	return ((struct nb_dev_head *)dev)->ops->tx_batch(dev, queue, pkts, n);
}

/* Stats since open: 0, or -1 with errno. */
NB_API int nb_dev_stats(struct nb_dev *dev, struct nb_stats *out);
NB_API int nb_dev_link(struct nb_dev *dev, struct nb_link *out);
NB_API int nb_dev_mac(struct nb_dev *dev, uint8_t mac[6]);
NB_API int nb_dev_set_promisc(struct nb_dev *dev, bool on);
NB_API const char *nb_dev_driver(const struct nb_dev *dev);
/* PCI address of the device, e.g. "0000:00:04.0". */
NB_API const char *nb_dev_name(const struct nb_dev *dev);
/*
 * The last device fault (a ring-protocol violation by the device), or NULL
 * if there was none. A faulted queue stops; the device needs a re-open.
 */
NB_API const char *nb_dev_fault(const struct nb_dev *dev);
/* Stops the device (DMA off), frees its rings' buffers, frees the handle. */
NB_API void nb_dev_close(struct nb_dev *dev);

/*
 * How the application waits for received frames (per device, for all its
 * receive queues):
 *   NB_RX_POLL       it never waits: nb_rx_batch in a loop, 100% of a CPU;
 *                    no interrupt is set up (the default, the value 0);
 *   NB_RX_INTERRUPT  nb_rx_idle sleeps on the queue's interrupt after every
 *                    empty poll;
 *   NB_RX_ADAPTIVE   nb_rx_idle polls while frames come and sleeps only
 *                    after NB_RX_IDLE_POLLS empty polls spanning at least
 *                    NB_RX_IDLE_US microseconds without a frame.
 * The two waiting modes need one MSI-X vector per receive queue: nb_dev_open
 * routes each to an eventfd of the library's (VFIO_DEVICE_SET_IRQS), so
 * open such a device before nb_lockdown (which keeps those fds open and
 * allows no new eventfd); nb_dev_close tears them down. A device with too
 * few vectors, or a PCI backend without interrupts, fails nb_dev_open with
 * ENOTSUP.
 */
enum nb_rx_mode {
	NB_RX_POLL = 0,
	NB_RX_INTERRUPT = 1,
	NB_RX_ADAPTIVE = 2,
};

struct nb_dev_conf {
	uint16_t rx_queues;    /* 0 means 1; at most NB_MAX_QUEUES */
	uint16_t tx_queues;    /* 0 means 1; at most NB_MAX_QUEUES */
	uint16_t rx_ring_size; /* 0 means the driver's default */
	uint16_t tx_ring_size; /* 0 means the driver's default */
	/* Receive buffers of a one-queue device (or set rx_mempools). */
	struct nb_mempool *rx_mempool;
	bool promisc;
	uint32_t link_wait_ms; /* how long open waits for link; 0 = default */
	/*
	 * rx_queues mempools, one per receive queue and all distinct (a
	 * mempool is single-threaded); required with more than one receive
	 * queue, and then rx_mempool must be NULL. EINVAL otherwise.
	 */
	struct nb_mempool *const *rx_mempools;
	/*
	 * RSS, used with more than one receive queue: the Toeplitz key
	 * (NB_RSS_KEY_LEN bytes; NULL: nb_rss_default_key()) and the
	 * NB_RSS_* hash types (0: NB_RSS_DEFAULT_TYPES). A frame of no
	 * enabled type goes to queue 0. The driver's redirection table is
	 * always the one nb_rss_queue() describes.
	 */
	const uint8_t *rss_key;
	uint32_t rss_types;
	enum nb_rx_mode rx_mode; /* NB_RX_POLL (0) unless set */
};

/* The receive mode the device was opened with. */
NB_API enum nb_rx_mode nb_dev_rx_mode(const struct nb_dev *dev);

/* ------------------------------------------------------------------------ */
/* Waiting for frames (NB_RX_INTERRUPT, NB_RX_ADAPTIVE)                      */

/* One receive queue of one device. */
struct nb_rxq_ref {
	struct nb_dev *dev;
	uint16_t queue;
};

/*
 * Sleep until one of the n queues may hold a frame, or timeout_ms pass
 * (-1: no limit; use one: the device is untrusted and may never interrupt).
 * For each queue: unmask its interrupt, then look at the ring again (a
 * frame that came before the unmask is not lost: no sleep then); sleep in
 * ppoll on the eventfds; mask every interrupt again. Returns 0 when a
 * queue may have frames (an interrupt came or the ring was not empty; a
 * spurious interrupt also returns 0, so call nb_rx_batch and expect 0),
 * -1 with errno ETIMEDOUT when the time passed, EINTR when a signal came,
 * ENOTSUP for a device opened with NB_RX_POLL, EINVAL for a bad queue or n
 * of 0 or above NB_RX_WAIT_MAX.
 *
 * Threads: a queue is waited on only by the thread that receives on it
 * (the fast-path rule); different threads may wait on different queues of
 * one device at the same time. Allowed after nb_lockdown (it needs only
 * read, ppoll and MMIO).
 */
#define NB_RX_WAIT_MAX 16
NB_API int nb_rx_wait_any(const struct nb_rxq_ref *qs, unsigned n,
			  int timeout_ms);
/* nb_rx_wait_any on one queue. */
NB_API int nb_rx_wait(struct nb_dev *dev, uint16_t queue, int timeout_ms);

/*
 * The adaptive loop, so applications do not each write it. One struct per
 * thread, for the queues that thread receives on (all of one rx mode):
 *
 *	struct nb_rx_idle idle;
 *	nb_rx_idle_init(&idle, qs, n_qs, 100);
 *	while (running) {
 *		unsigned got = ...nb_rx_batch on each queue of qs...;
 *		nb_rx_idle(&idle, got);
 *	}
 *
 * nb_rx_idle counts empty rounds: with frames it returns at once; in
 * NB_RX_POLL it never sleeps; in NB_RX_INTERRUPT it sleeps (nb_rx_wait_any,
 * at most timeout_ms, so the loop still runs its timers) after each empty
 * round; in NB_RX_ADAPTIVE only after NB_RX_IDLE_POLLS empty rounds that
 * span NB_RX_IDLE_US without a frame (hysteresis: a busy queue is never
 * put to sleep by a short gap, and one frame brings back polling).
 * Returns 1 if it slept, 0 if not, -1 with errno from nb_rx_wait_any
 * (ETIMEDOUT and EINTR are not errors here: they return 1).
 */
#define NB_RX_IDLE_POLLS 64
/*
 * 1 ms. 50 us (the kernel's net.core.busy_poll for a few sockets) was
 * tried in the testbed: forwarding on virtio +20% at full load, but each
 * frame at 1000 frames/s paid a wake-up (p50 +50%) and igb lost 25%
 * (docs/performance.md, receive modes).
 */
#define NB_RX_IDLE_US 1000
struct nb_rx_idle {
	struct nb_rxq_ref qs[NB_RX_WAIT_MAX];
	unsigned n;
	enum nb_rx_mode mode;
	int timeout_ms;
	uint32_t empty_rounds;
	uint64_t idle_since_ns;  /* CLOCK_MONOTONIC of the first empty round */
	uint64_t sleeps;         /* times it slept */
	uint64_t wakeups;        /* of those, ended by an interrupt or a frame */
};
/* EINVAL for n 0 or above NB_RX_WAIT_MAX or devices of different modes. */
NB_API int nb_rx_idle_init(struct nb_rx_idle *st, const struct nb_rxq_ref *qs,
			   unsigned n, int timeout_ms);
NB_API int nb_rx_idle(struct nb_rx_idle *st, unsigned received);

/* ------------------------------------------------------------------------ */
/* RSS (receive-side scaling)                                               */

#define NB_RSS_KEY_LEN 40
/* Entries of the redirection table every nicbox driver programs. */
#define NB_RSS_RETA_SIZE 128

/* Hash types: which header fields go into the hash (Microsoft's RSS
 * hashing types; UDP as the Intel NICs and virtio-net define it). */
#define NB_RSS_IPV4 (1u << 0)     /* source, destination IPv4 address */
#define NB_RSS_TCP_IPV4 (1u << 1) /* ... and the TCP ports */
#define NB_RSS_UDP_IPV4 (1u << 2) /* ... and the UDP ports */
#define NB_RSS_IPV6 (1u << 3)     /* source, destination IPv6 address */
#define NB_RSS_TCP_IPV6 (1u << 4)
#define NB_RSS_UDP_IPV6 (1u << 5)
#define NB_RSS_ALL_TYPES 0x3Fu
#define NB_RSS_DEFAULT_TYPES NB_RSS_ALL_TYPES

/*
 * The default key: the 40-byte key of Microsoft's RSS verification suite
 * (6d 5a 56 da 25 5b 0e c2 ...), also the example key of the 82599 and
 * 82576 datasheets.
 */
NB_API const uint8_t *nb_rss_default_key(void);

/*
 * Toeplitz hash of `len` bytes of `input` under a key of NB_RSS_KEY_LEN
 * bytes (input at most NB_RSS_KEY_LEN - 4 bytes: 36, an IPv6 4-tuple).
 * The software reference, tested against Microsoft's vectors.
 */
NB_API uint32_t nb_rss_toeplitz(const uint8_t *key, const uint8_t *input,
				size_t len);

/*
 * The hash a NIC computes for an Ethernet frame with hash `types`
 * enabled: IPv4/IPv6 (no VLAN tag) with TCP or UDP ports when that type is
 * on and the packet is not a fragment, else the addresses alone when that
 * type is on. 0 and *hash set, or -1 with errno ENOENT when the frame has
 * no enabled type (the device then reports no hash and uses queue 0).
 */
NB_API int nb_rss_frame_hash(const uint8_t *key, uint32_t types,
			     const uint8_t *frame, size_t len, uint32_t *hash);

/*
 * The receive queue of a frame with RSS hash `hash` on a device opened
 * with n_queues receive queues: every nicbox driver programs redirection
 * table entry i (of NB_RSS_RETA_SIZE, indexed by the hash's low 7 bits)
 * with queue i % n_queues.
 */
static inline uint16_t nb_rss_queue(uint32_t hash, uint16_t n_queues)
{
	return n_queues ? (uint16_t)((hash & (NB_RSS_RETA_SIZE - 1)) % n_queues) : 0;
}

/* ------------------------------------------------------------------------ */
/* Session with nicbox-helper                                                */

struct nb_session;

/*
 * Connect to the helper at `path` (NULL: $NICBOX_SOCKET, else
 * NB_DEFAULT_SOCKET) and say hello. Errors name the socket and what to do
 * (e.g. "is nicbox-helper running?"). The listener must run as root (or as
 * our uid): EPERM otherwise. connect() and every reply of the session wait
 * at most $NICBOX_TIMEOUT seconds (default 30): ETIMEDOUT. A helper that
 * refuses the connection (EACCES: no rule names us; EUSERS: 8 sessions of
 * ours open) says so here.
 */
NB_API int nb_session_open(const char *path, struct nb_session **out);

/*
 * Claim a NIC by PCI address ("0000:03:00.0" or "03:00.0") or interface
 * name ("eth1"). Returns the device's index in the session (0, 1, ...) or
 * -1 with errno: EACCES (policy), EBUSY (held by someone else), ENODEV,
 * ENXIO (no IOMMU). nb_last_error() carries the helper's reason.
 */
NB_API int nb_session_claim(struct nb_session *s, const char *device);

/*
 * Ask for a DMA pool of `bytes`, mapped for every claimed device. Claim all
 * devices first. `warning`, if not NULL, receives a message when the helper
 * fell back to 4 KiB pages (empty string otherwise, up to 335 bytes).
 */
NB_API int nb_session_pool(struct nb_session *s, size_t bytes,
			   enum nb_page_size page, struct nb_pool **out,
			   char *warning, size_t warning_len);

/*
 * Finish setup: the helper hands over the VFIO device fds. After this no
 * more claims or pools.
 */
NB_API int nb_session_ready(struct nb_session *s);

/*
 * Open device `index` (from nb_session_claim) after nb_session_ready: maps
 * its BARs, picks the driver by PCI vendor/device id and brings it up with
 * rings and buffers from `dma`.
 */
NB_API int nb_dev_open(struct nb_session *s, int index, struct nb_pool *dma,
		       const struct nb_dev_conf *conf, struct nb_dev **out);

/* Tell the helper we are done (it restores the NIC) and free the session. */
NB_API void nb_session_close(struct nb_session *s);

/* ------------------------------------------------------------------------ */
/* Device information and one-call ports                                     */

struct nb_dev_info {
	const char *driver;        /* "virtio-net", "ixgbe", "igb" */
	const char *pci;           /* "0000:00:04.0" */
	uint8_t mac[6];
	struct nb_link link;       /* as of the call */
	uint16_t rx_queues, tx_queues;         /* opened */
	uint16_t max_rx_queues, max_tx_queues; /* the driver can run */
	uint16_t rx_ring_size, tx_ring_size;   /* descriptors per queue, as opened */
};

/* Everything above in one call (MAC and link read from the device). */
NB_API int nb_dev_info(struct nb_dev *dev, struct nb_dev_info *out);

/*
 * One or more ports of one session: claims, one DMA pool sized for them, the
 * mempools and the open devices, in one call. Zero fields take the defaults.
 */
struct nb_port_conf {
	uint16_t queues;    /* rx/tx queue pairs per port (RSS); 0: 1 */
	uint16_t rx_ring_size, tx_ring_size; /* 0: the driver's default */
	uint32_t rx_bufs;   /* receive buffers per receive queue; 0: 4096 */
	uint32_t tx_bufs;   /* one shared transmit mempool of this many; 0: none */
	uint32_t buf_size;  /* data bytes per buffer; 0: 2048 (a 1514-byte frame) */
	bool promisc;
	uint32_t link_wait_ms; /* 0: the driver's default */
	enum nb_rx_mode rx_mode; /* as nb_dev_conf.rx_mode */
	const uint8_t *rss_key;  /* as nb_dev_conf.rss_key */
	uint32_t rss_types;      /* as nb_dev_conf.rss_types */
};

struct nb_ports;

/*
 * DMA bytes n ports with `conf` need (rings, buffers, alignment), rounded
 * up to 2 MiB: what nb_ports_open asks the helper for.
 */
NB_API size_t nb_ports_dma_bytes(unsigned n, const struct nb_port_conf *conf);

/*
 * On a session just opened (nothing claimed yet): claim devices[0..n-1]
 * (n <= NB_MAX_DEVICES), get one pool of nb_ports_dma_bytes(n, conf) (the
 * helper's 4 KiB fallback goes to `warning`, as in nb_session_pool), finish
 * the session's setup, and open each device with its own receive mempool.
 * conf may be NULL. On failure nothing stays open but the session (which
 * can then only be closed), and nb_last_error() says which step failed for
 * which device ("cannot claim eth1: nicbox-helper: ...").
 */
NB_API int nb_ports_open(struct nb_session *s, const char *const *devices, unsigned n,
			 const struct nb_port_conf *conf, struct nb_ports **out,
			 char *warning, size_t warning_len);
NB_API struct nb_dev *nb_ports_dev(const struct nb_ports *p, unsigned i); /* NULL if none */
NB_API struct nb_mempool *nb_ports_tx_mempool(const struct nb_ports *p); /* NULL: tx_bufs 0 */
/*
 * Where nb_ports_open's time went, in ns: the helper's claims (netdev down,
 * bind to vfio-pci, IOMMU container and group), the pool (hugepage memfd,
 * IOMMU mapping), ready (device fds, VFIO reset), and open (mempools and
 * the drivers' reset and init). 0, or -1 with EINVAL for NULL.
 */
struct nb_ports_timing {
	uint64_t claim_ns, pool_ns, ready_ns, open_ns;
};
NB_API int nb_ports_timing(const struct nb_ports *p, struct nb_ports_timing *out);
/* Devices first (DMA off), then mempools and the pool; not the session. */
NB_API void nb_ports_close(struct nb_ports *p);

/* ------------------------------------------------------------------------ */
/* Lockdown                                                                  */

/*
 * Lock the calling process down, in this fixed order, failing closed: if a
 * step fails, a last seccomp filter leaves the process only write(), exit()
 * and exit_group() (enough to print nb_last_error() and exit), and -1 is
 * returned. Bad arguments (more than NB_KEEP_MAX keep_fds, a keep_fd that
 * is not open, named twice, or one of the session's own fds) fail before
 * step 1 with EINVAL and change nothing.
 *   1. close every fd except 0-2, the session's socket, its device and pool
 *      fds, and the `keep_fds` the caller names (e.g. a pcap file);
 *      then freeze: from here on clone/clone3/fork/vfork fail with EAGAIN
 *      in every thread (a seccomp filter synchronised to all threads);
 *   2. drop all capabilities: effective, permitted, inheritable, bounding,
 *      ambient;
 *   3. prctl(PR_SET_NO_NEW_PRIVS);
 *   4. Landlock: a ruleset forbidding every filesystem access, where the
 *      kernel has Landlock (else a notice on stderr: the seccomp filter
 *      below already forbids open);
 *   5. seccomp allowlist (policy/worker-seccomp.policy), default action
 *      kill-process, synchronised to all threads. A call of another
 *      architecture (i386 int 0x80, x32) kills the process too. Calls
 *      that name an fd work only on the fds that need them: write on 1
 *      and 2 (nothing on 0), sendmsg/recvmsg on the session's socket,
 *      pread/pwrite/VFIO ioctls on device fds, 8-byte reads on interrupt
 *      eventfds. A plain keep_fd gets read and write as far as its
 *      access mode allows (NB_KEEP_READ, NB_KEEP_WRITE; both for O_RDWR)
 *      and nothing else: to keep an O_RDWR file for write only, a
 *      socket or an eventfd, name the uses with nb_lockdown_keep.
 * `notice`, if not NULL, receives degradation notices ("" if none; with
 * NULL they go to stderr). `s` may be NULL: a process with no helper session
 * (tests, or a worker that got its fds another way) keeps only 0-2 and
 * `keep_fds`.
 *
 * Threads: start every thread before the call. Steps 2-4 are per-thread
 * state, so nb_lockdown makes every other thread run them (it signals each
 * with SIGRTMAX, which no thread may block, and waits up to 2 s for each to
 * finish or end; a thread that does neither makes the call fail closed).
 * No thread escapes: the thread list is read after the freeze, so a thread
 * that another thread creates while nb_lockdown runs is never created
 * (pthread_create returns EAGAIN) rather than created half-locked. After
 * nb_lockdown, creating a thread or process kills the process.
 *
 * Nothing that takes a path is allowed afterwards, and neither is fstat():
 * glibc implements it as newfstatat(fd, "", AT_EMPTY_PATH), and seccomp
 * cannot tell that from newfstatat(AT_FDCWD, "/etc/shadow", ...). stdio
 * fstat()s a stream on its first buffered use: give stdout (and any FILE
 * used afterwards) its buffer with setvbuf(), or use it, before the call.
 */
NB_API int nb_lockdown(struct nb_session *s, const int *keep_fds,
		       unsigned n_keep_fds, char *notice, size_t notice_len);

/*
 * The menu of what an app may keep an fd for after lockdown: uses, never
 * system calls. Each use is an entry of policy/worker-seccomp.policy
 * limited to the fds kept for it; an fd can do nothing it was not kept for.
 *   NB_KEEP_READ   read(): e.g. a control pipe, stdin (fd 0)
 *   NB_KEEP_WRITE  write(): a log, a pcap or stats file, a pipe (--stats-fd)
 *   NB_KEEP_SEND   send() on a connected socket (sendto without an
 *                  address), e.g. a metrics or control socket. Not
 *                  sendmsg: its SCM_RIGHTS could hand the device fd to
 *                  another process, and seccomp cannot see inside a msghdr.
 *   NB_KEEP_RECV   recv() on a socket (recvfrom; never fds: not recvmsg)
 *   NB_KEEP_EVENT  an eventfd: wait on it (ppoll), read its 8-byte count,
 *                  write 8 bytes to signal it
 * mmap of a kept fd is never allowed (a shared mapping would read or write
 * past these uses). The fd must be open with an access mode that fits
 * (READ/RECV/EVENT: readable, WRITE/SEND: writable), SEND and RECV need a
 * socket and EVENT an eventfd.
 */
#define NB_KEEP_READ  0x01u
#define NB_KEEP_WRITE 0x02u
#define NB_KEEP_SEND  0x04u
#define NB_KEEP_RECV  0x08u
#define NB_KEEP_EVENT 0x10u
#define NB_KEEP_MAX 32 /* entries in one call */

struct nb_keep {
	int fd;
	unsigned uses; /* NB_KEEP_* bits, at least one */
};

/*
 * nb_lockdown, with each kept fd allowed only the `uses` it names (fds 0-2
 * may be named too: their uses are added to write on 1 and 2). 0, or -1
 * with errno; EINVAL with nothing changed when `n_keep` > NB_KEEP_MAX,
 * `keep` is NULL with n_keep > 0, or an entry has no use, an unknown bit,
 * an fd that is not open, named twice, one of the session's or interrupt
 * fds, or one whose access mode or kind does not fit its uses (the
 * reason names the entry). Any later failure fails closed as nb_lockdown.
 * nb_lockdown(s, fds, n, ...) is this call with NB_KEEP_READ and/or
 * NB_KEEP_WRITE for each fd, by its access mode.
 */
NB_API int nb_lockdown_keep(struct nb_session *s, const struct nb_keep *keep,
			    unsigned n_keep, char *notice, size_t notice_len);

#ifdef __cplusplus
}
#endif

#endif /* NICBOX_H */
