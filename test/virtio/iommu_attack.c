/* SPDX-License-Identifier: MIT */
/*
 * iommu_attack.c - the IOMMU containment proof of the testbed
 * (test/vm/checks/60-iommu-containment.sh). Test-only; never installed.
 *
 *   iommu_attack victim --socket PATH --dev BDF [--pool BYTES]
 *   iommu_attack attack --socket PATH --rx BDF --tx BDF (--iova ADDR | --control)
 *
 * victim: a session that claims one NIC and a pool, fills the whole pool
 * with a sentinel pattern, prints "victim: pool iova=0x... size=N", locks
 * down and waits for a line on stdin; then re-checks every byte and prints
 * "sentinel: intact ..." (exit 0) or "sentinel: CHANGED ..." (exit 1).
 *
 * attack: a hostile worker. It claims two NICs on one QEMU hub, opens both
 * with the real driver (receive in promiscuous mode), locks down, and then
 * rewrites every descriptor of RX's receive ring in place so that each
 * points at ADDR: an IOVA that is not in any pool its own session was
 * given (it refuses an ADDR inside its own pool). The driver API never
 * posts such an address; the descriptor table is plain pool memory the
 * worker can write, which is exactly what a compromised worker would do.
 * Then it sends FRAMES frames from TX to RX's MAC (without polling RX, whose
 * refill would post honest descriptors again), so the device must write
 * each received frame to ADDR. The IOMMU must block those writes. The
 * worker watches the used ring (read straight from the device-written
 * index) until it stops moving, then reaps what the device returned:
 *   "attack: the device returned N of 64 forged buffers as used; device fault '...'"
 *   "attack: reaped N buffers: M hold frame bytes ..."
 * The buffers the descriptors pointed at before were filled with MARK, so
 * a frame landing there (the forgery not taking effect) shows as M > 0.
 * Exits 0 when no frame byte reached the worker's buffers and it closed
 * cleanly, 1 when some did, 2 on a setup error. What the device does with
 * a write the IOMMU refused (drop it, or DEVICE_NEEDS_RESET) is QEMU's
 * choice; both end here without a hang.
 *
 * --control forges the same way, but to a spare buffer inside the worker's
 * own pool (mapped, so the IOMMU lets it through): the frame must land
 * there ("attack: control: frame bytes at the forged iova"), which shows
 * the device does follow forged addresses and the method can see a write.
 * Exits 0 when it does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nb_mmio.h"
#include "nb_session.h"
#include "virtio_pci.h"

#define ATTACK_POOL (16u << 20)
#define BUFS 512
#define BUF_SIZE 2048
#define FRAMES 64      /* fewer than the ring's descriptors: all forged */
#define FRAME_FILL 0xa5
#define MARK 0xee        /* what forged-away receive buffers hold */
#define FRAME_LEN 128
#define WAIT_SECONDS 20

static char stdout_buf[4096];

static int fail(const char *what)
{
	printf("error: %s: %s\n", what, nb_last_error());
	return 2;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The sentinel: a word that depends on its offset, so any write shows. */
static uint64_t sentinel(size_t word)
{
	return 0x5e97b1e15e97b1e1ull ^ (word * 0x9e3779b97f4a7c15ull);
}

static int victim(const char *sock, const char *dev, size_t bytes)
{
	struct nb_session *s;
	struct nb_pool *pool;
	char warning[128], line[16];
	uint64_t *w;
	size_t words, bad = 0, first_bad = 0;

	if (nb_session_open(sock, &s) < 0 || nb_session_claim(s, dev) < 0)
		return fail("claim");
	if (nb_session_pool(s, bytes, NB_PAGE_2M, &pool, warning, sizeof(warning)) < 0)
		return fail("pool");
	if (nb_session_ready(s) < 0)
		return fail("ready");
	w = nb_pool_va_base(pool);
	words = nb_pool_size(pool) / sizeof(*w);
	for (size_t i = 0; i < words; i++)
		w[i] = sentinel(i);
	/* stdin: the go-ahead line below, its only use after lockdown. */
	if (nb_lockdown_keep(s, &(struct nb_keep){ 0, NB_KEEP_READ }, 1, NULL, 0) < 0)
		return fail("lockdown");
	printf("victim: %s pool iova=0x%" PRIx64 " size=%zu sentinel written\n", dev,
	       nb_pool_iova_base(pool), nb_pool_size(pool));
	if (read(0, line, sizeof(line)) < 0)
		return fail("waiting on stdin");
	for (size_t i = 0; i < words; i++) {
		if (w[i] != sentinel(i) && bad++ == 0)
			first_bad = i * sizeof(*w);
	}
	if (bad)
		printf("sentinel: CHANGED: %zu of %zu words, first at iova 0x%" PRIx64 "\n",
		       bad, words, nb_pool_iova_base(pool) + first_bad);
	else
		printf("sentinel: intact: %zu bytes at iova 0x%" PRIx64 " unchanged\n",
		       nb_pool_size(pool), nb_pool_iova_base(pool));
	nb_pool_destroy(pool);
	nb_session_close(s);
	return bad ? 1 : 0;
}

/* Byte `off` of the victim's pool: the sentinel words, as stored (x86). */
static uint8_t sentinel_byte(uint64_t off)
{
	uint64_t w = sentinel(off / 8);

	return (uint8_t)(w >> (8 * (off % 8)));
}

/* One of a device's queues as the device sees it (virtio 1.2, 4.1.4.3). */
struct ring {
	volatile struct virtq_desc *desc;
	volatile struct virtq_used *used;
	volatile uint16_t *doorbell;
	uint16_t size, index;
};

static uint64_t read_le64(volatile uint8_t *common, uint32_t off)
{
	return nb_reg_read32(common, off) | (uint64_t)nb_reg_read32(common, off + 4) << 32;
}

/*
 * Where the device fetches queue `index`'s descriptors and writes its used
 * ring: queue_desc and queue_device read back from the device's common
 * configuration, turned into pointers into our own pool; and its doorbell
 * (4.1.4.4).
 */
static int find_ring(struct nb_dev *dev, struct nb_pool *pool, uint16_t index, struct ring *r)
{
	struct virtio_pci vp;
	uint64_t desc, used;

	if (vpci_map(&vp, dev->pci) < 0)
		return -1;
	nb_reg_write16(vp.common.va, VIRTIO_COMMON_Q_SELECT, index);
	r->index = index;
	r->size = nb_reg_read16(vp.common.va, VIRTIO_COMMON_Q_SIZE);
	desc = read_le64(vp.common.va, VIRTIO_COMMON_Q_DESC);
	used = read_le64(vp.common.va, VIRTIO_COMMON_Q_DEVICE);
	r->doorbell = (volatile uint16_t *)(vp.notify.va +
		(uint64_t)nb_reg_read16(vp.common.va, VIRTIO_COMMON_Q_NOFF) *
		vp.notify_off_multiplier);
	printf("attack: %s queue %u: %u descriptors at iova 0x%" PRIx64 ", used ring at "
	       "0x%" PRIx64 "\n", nb_dev_name(dev), index, r->size, desc, used);
	r->desc = nb_pool_iova_to_va(pool, desc, (size_t)r->size * sizeof(*r->desc));
	r->used = nb_pool_iova_to_va(pool, used, sizeof(*r->used));
	if (!r->desc || !r->used) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

static void send_frames(struct nb_dev *tx, struct nb_mempool *mp, const uint8_t dst[6],
			const uint8_t src[6])
{
	struct nb_pkt *pkts[FRAMES];
	uint32_t got = nb_pkt_alloc_bulk(mp, pkts, FRAMES);
	uint16_t taken;

	for (uint32_t i = 0; i < got; i++) {
		memset(pkts[i]->data, FRAME_FILL, FRAME_LEN);
		memcpy(pkts[i]->data, dst, 6);
		memcpy(pkts[i]->data + 6, src, 6);
		pkts[i]->data[12] = 0x88; /* IEEE 802 local experimental 0x88b5 */
		pkts[i]->data[13] = 0xb5;
		pkts[i]->len = FRAME_LEN;
	}
	taken = nb_tx_batch(tx, 0, pkts, (uint16_t)got);
	nb_pkt_free_bulk(pkts + taken, got - taken);
	printf("attack: sent %u frames\n", taken);
}

/*
 * Point every descriptor of `r` at `iova`. With `mark`, first fill the
 * frame part of the buffer each one pointed at with MARK, so a frame
 * written there after all would show.
 */
static void forge(struct ring *r, struct nb_pool *pool, uint64_t iova, bool mark)
{
	for (uint16_t i = 0; i < r->size; i++) {
		uint32_t len = r->desc[i].len;
		uint8_t *buf = nb_pool_iova_to_va(pool, r->desc[i].addr, len);

		if (mark && buf && len > VIRTIO_NET_HDR_LEN)
			memset(buf + VIRTIO_NET_HDR_LEN, MARK, len - VIRTIO_NET_HDR_LEN);
		r->desc[i].addr = iova; /* len and flags stay as posted */
	}
	atomic_thread_fence(memory_order_seq_cst);
}

/* The device-written used index of `r` (read once). */
static uint16_t used_idx(const struct ring *r)
{
	return nb_reg_read16((const void *)r->used, 2);
}

/*
 * Poll until the used index of `r` has not moved for 3 s; how far it
 * moved from `start`.
 */
static uint16_t wait_used(struct nb_dev *dev, struct ring *r, uint16_t start, const char **fault)
{
	uint16_t moved = 0, last = 0;
	double begin = now_s(), changed = begin;
	struct nb_stats st;

	while (now_s() - begin < WAIT_SECONDS && now_s() - changed < 3) {
		moved = (uint16_t)(used_idx(r) - start);
		if (moved != last) {
			last = moved;
			changed = now_s();
		}
		if (nb_dev_stats(dev, &st) == 0 && (*fault = nb_dev_fault(dev)))
			break;
	}
	return moved;
}

/*
 * Reap up to `expected` frames from rx; counts those with any byte not
 * MARK (frame bytes in a buffer that was forged away), and those whose
 * first 32 bytes are the victim's bytes from `leak_off` on (a read that
 * got through).
 */
static void reap(struct nb_dev *rx, unsigned expected, int64_t leak_off, unsigned *returned,
		 unsigned *written, unsigned *leaked)
{
	struct nb_pkt *pkts[32];
	double begin = now_s();

	*returned = *written = *leaked = 0;
	while (*returned < expected && now_s() - begin < 3) {
		uint16_t got = nb_rx_batch(rx, 0, pkts, 32);

		for (uint16_t i = 0; i < got; i++) {
			struct nb_pkt *p = pkts[i];
			uint32_t b = 0;

			while (b < p->len && p->data[b] == MARK)
				b++;
			*written += b < p->len;
			for (b = 0; leak_off >= 0 && b < 32 && b < p->len; b++)
				if (p->data[b] != sentinel_byte((uint64_t)leak_off + b))
					break;
			*leaked += leak_off >= 0 && b == 32;
			if (*returned == 0 && i == 0 && p->len >= 16) {
				printf("attack: first frame received:");
				for (b = 0; b < 16; b++)
					printf(" %02x", p->data[b]);
				printf("\n");
			}
		}
		*returned += got;
		nb_pkt_free_bulk(pkts, got);
	}
}

/* The hostile worker's session, both devices open. */
struct worker {
	struct nb_session *s;
	struct nb_pool *pool;
	struct nb_dev *rx, *tx;
	struct nb_mempool *tx_mp;
	uint8_t *spare; /* --control: the forged target in our own pool */
	uint8_t rx_mac[6], tx_mac[6];
};

/* Find queue `index` of dev, then lock down: the forging comes after. */
static int find_ring_and_lock_down(struct worker *w, struct nb_dev *dev, uint16_t index,
				   struct ring *r)
{
	if (find_ring(dev, w->pool, index, r) < 0 || nb_lockdown(w->s, NULL, 0, NULL, 0) < 0)
		return -1;
	printf("attack: locked down; forging the descriptors\n");
	return 0;
}

struct attack_opts {
	const char *sock, *rx, *tx;
	uint64_t iova;         /* the forged address */
	bool control;          /* forge to a spare buffer of our own pool instead */
	bool read;             /* forge transmit descriptors: a DMA read */
	int64_t victim_iova;   /* with read: where the victim's sentinel starts */
};

/*
 * The write attack: every receive descriptor of rx forged, frames sent
 * from tx without polling rx (a refill would post honest addresses).
 */
static int forge_receive(const struct attack_opts *o, struct worker *w)
{
	struct ring ring;
	const char *fault = NULL;
	unsigned returned, written, leaked;
	uint16_t start, used;

	if (find_ring_and_lock_down(w, w->rx, VIRTIO_NET_RXQ, &ring) < 0)
		return 2;
	forge(&ring, w->pool, o->iova, true);
	start = used_idx(&ring);
	send_frames(w->tx, w->tx_mp, w->rx_mac, w->tx_mac);
	used = wait_used(w->rx, &ring, start, &fault);
	printf("attack: the device returned %u of %u forged receive buffers as used; "
	       "device fault '%s'\n", used, FRAMES, fault ? fault : "");
	reap(w->rx, used, -1, &returned, &written, &leaked);
	printf("attack: reaped %u buffers: %u hold frame bytes (the device wrote none "
	       "of them: each still holds the fill pattern)\n", returned, written);
	if (w->spare) {
		bool landed = memcmp(w->spare + VIRTIO_NET_HDR_LEN, w->rx_mac, 6) == 0 &&
			      w->spare[VIRTIO_NET_HDR_LEN + 14] == FRAME_FILL;

		printf("attack: control: %s\n", landed ? "frame bytes at the forged iova"
						       : "NO frame at the forged iova");
		written += !landed;
	}
	return written ? 1 : 0;
}

/*
 * The read attack: frames posted on tx with notifications suppressed (we
 * set NO_NOTIFY in the used ring, which is our memory), every transmit
 * descriptor forged, then the doorbell rung by hand: the device reads the
 * frames from the forged address and rx receives what it read.
 */
static int forge_transmit(const struct attack_opts *o, struct worker *w)
{
	struct ring ring;
	const char *fault = NULL;
	unsigned returned, written, leaked;
	int64_t leak_off = -1; /* the victim's offset the frames would come from */
	uint16_t start, used;

	if (w->spare) {
		for (unsigned b = 0; b < BUF_SIZE; b++)
			w->spare[b] = sentinel_byte(b);
		leak_off = 0;
	} else if (o->victim_iova >= 0) {
		leak_off = (int64_t)(o->iova - (uint64_t)o->victim_iova);
	}
	if (find_ring_and_lock_down(w, w->tx, VIRTIO_NET_TXQ, &ring) < 0)
		return 2;
	ring.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	atomic_thread_fence(memory_order_seq_cst);
	send_frames(w->tx, w->tx_mp, w->rx_mac, w->tx_mac);
	forge(&ring, w->pool, o->iova, false);
	ring.used->flags = 0;
	start = used_idx(&ring);
	atomic_thread_fence(memory_order_seq_cst);
	*ring.doorbell = ring.index; /* 4.1.5.2 */
	used = wait_used(w->tx, &ring, start, &fault);
	printf("attack: the device took %u of %u forged transmit buffers; device fault '%s'\n",
	       used, FRAMES, fault ? fault : "");
	/* The frame part starts after the header the device also read. */
	reap(w->rx, used, leak_off >= 0 ? leak_off + VIRTIO_NET_HDR_LEN : -1, &returned,
	     &written, &leaked);
	printf("attack: read: received %u frames from the forged ring; %u carry the %s bytes\n",
	       returned, leaked, w->spare ? "spare buffer's" : "victim's");
	if (w->spare)
		return returned > 0 && leaked == returned ? 0 : 1;
	return leaked ? 1 : 0;
}

static int attack(const struct attack_opts *o)
{
	struct nb_dev_conf conf = { .promisc = true };
	struct attack_opts forged = *o;
	struct nb_mempool *rx_mp;
	struct worker w = { 0 };
	char warning[128];
	int rx_idx, tx_idx, rc;

	if (nb_session_open(o->sock, &w.s) < 0 || (rx_idx = nb_session_claim(w.s, o->rx)) < 0 ||
	    (tx_idx = nb_session_claim(w.s, o->tx)) < 0)
		return fail("claim");
	if (nb_session_pool(w.s, ATTACK_POOL, NB_PAGE_2M, &w.pool, warning, sizeof(warning)) < 0 ||
	    nb_session_ready(w.s) < 0)
		return fail("pool");
	if (o->control) {
		if (nb_pool_carve(w.pool, BUF_SIZE, 64, (void **)&w.spare, &forged.iova) < 0)
			return fail("spare buffer");
		memset(w.spare, MARK, BUF_SIZE);
	}
	printf("attack: own pool iova=0x%" PRIx64 " size=%zu; forged %s iova=0x%" PRIx64 "%s\n",
	       nb_pool_iova_base(w.pool), nb_pool_size(w.pool), o->read ? "transmit" : "receive",
	       forged.iova, o->control ? " (control: a spare buffer in the own pool)" : "");
	if (!o->control && forged.iova + BUF_SIZE > nb_pool_iova_base(w.pool) &&
	    forged.iova < nb_pool_iova_base(w.pool) + nb_pool_size(w.pool)) {
		printf("error: 0x%" PRIx64 " is inside this session's own pool: not an attack\n",
		       forged.iova);
		return 2;
	}
	if (nb_mempool_create(w.pool, BUFS, BUF_SIZE, &rx_mp) < 0 ||
	    nb_mempool_create(w.pool, BUFS, BUF_SIZE, &w.tx_mp) < 0)
		return fail("mempools");
	conf.rx_mempool = rx_mp;
	/*
	 * The read attack holds back the driver's doorbell with the used ring's
	 * NO_NOTIFY flag (virtio 1.2, 2.7.10), which a driver that negotiated
	 * VIRTIO_F_EVENT_IDX ignores: without this the frames leave, honest,
	 * before the descriptors are forged.
	 */
	setenv("NICBOX_VIRTIO_EVENT_IDX", "off", 1);
	if (nb_dev_open(w.s, rx_idx, w.pool, &conf, &w.rx) < 0 ||
	    nb_dev_open(w.s, tx_idx, w.pool, &conf, &w.tx) < 0 ||
	    nb_dev_mac(w.rx, w.rx_mac) < 0 || nb_dev_mac(w.tx, w.tx_mac) < 0)
		return fail("open");
	rc = o->read ? forge_transmit(&forged, &w) : forge_receive(&forged, &w);
	if (rc == 2)
		return fail("forging");
	nb_dev_close(w.rx);
	nb_dev_close(w.tx);
	nb_mempool_destroy(rx_mp);
	nb_mempool_destroy(w.tx_mp);
	nb_pool_destroy(w.pool);
	nb_session_close(w.s);
	printf("attack: devices closed, session released\n");
	return rc;
}

int main(int argc, char **argv)
{
	struct attack_opts o = { .victim_iova = -1 };
	const char *dev = NULL;
	size_t pool = 64u << 20;
	bool have_iova = false;

	setvbuf(stdout, stdout_buf, _IOLBF, sizeof(stdout_buf));
	for (int i = 2; i < argc; i++) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--control"))
			o.control = true;
		else if (!strcmp(argv[i], "--read"))
			o.read = true;
		else if (!val)
			break;
		else if (i++, !strcmp(argv[i - 1], "--socket"))
			o.sock = val;
		else if (!strcmp(argv[i - 1], "--dev"))
			dev = val;
		else if (!strcmp(argv[i - 1], "--rx"))
			o.rx = val;
		else if (!strcmp(argv[i - 1], "--tx"))
			o.tx = val;
		else if (!strcmp(argv[i - 1], "--pool"))
			pool = strtoull(val, NULL, 0);
		else if (!strcmp(argv[i - 1], "--iova"))
			o.iova = strtoull(val, NULL, 0), have_iova = true;
		else if (!strcmp(argv[i - 1], "--victim-iova"))
			o.victim_iova = (int64_t)strtoull(val, NULL, 0);
		else
			break;
	}
	if (argc >= 2 && !strcmp(argv[1], "victim") && dev)
		return victim(o.sock, dev, pool);
	if (argc >= 2 && !strcmp(argv[1], "attack") && o.rx && o.tx && have_iova != o.control)
		return attack(&o);
	fprintf(stderr, "usage: iommu_attack victim --socket PATH --dev BDF [--pool BYTES]\n"
		"       iommu_attack attack --socket PATH --rx BDF --tx BDF "
		"(--iova ADDR [--victim-iova ADDR] | --control) [--read]\n");
	return 2;
}
