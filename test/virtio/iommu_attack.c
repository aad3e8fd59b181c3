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
	if (nb_lockdown(s, NULL, 0, NULL, 0) < 0)
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

/* RX's receive queue as the device sees it (virtio 1.2, 4.1.4.3). */
struct rx_ring {
	volatile struct virtq_desc *desc;
	volatile struct virtq_used *used;
	uint16_t size;
};

static uint64_t read_le64(volatile uint8_t *common, uint32_t off)
{
	return nb_reg_read32(common, off) | (uint64_t)nb_reg_read32(common, off + 4) << 32;
}

/*
 * Where the device fetches RX's receive descriptors and writes its used
 * ring: queue_desc and queue_device of queue 0 read back from the device's
 * common configuration, turned into pointers into our own pool.
 */
static int find_rx_ring(struct nb_dev *dev, struct nb_pool *pool, struct rx_ring *r)
{
	struct virtio_pci vp;
	uint64_t desc, used;

	if (vpci_map(&vp, dev->pci) < 0)
		return -1;
	nb_reg_write16(vp.common.va, VIRTIO_COMMON_Q_SELECT, VIRTIO_NET_RXQ);
	r->size = nb_reg_read16(vp.common.va, VIRTIO_COMMON_Q_SIZE);
	desc = read_le64(vp.common.va, VIRTIO_COMMON_Q_DESC);
	used = read_le64(vp.common.va, VIRTIO_COMMON_Q_DEVICE);
	printf("attack: %s receive ring: %u descriptors at iova 0x%" PRIx64 ", used ring at "
	       "0x%" PRIx64 "\n", nb_dev_name(dev), r->size, desc, used);
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
	printf("attack: sent %u frames to the forged ring\n", taken);
}

/*
 * Point every receive descriptor at `iova`; first fill the buffer each
 * one pointed at with MARK, so a frame written there after all would show.
 */
static void forge(struct rx_ring *r, struct nb_pool *pool, uint64_t iova)
{
	for (uint16_t i = 0; i < r->size; i++) {
		uint64_t was = r->desc[i].addr;
		uint32_t len = r->desc[i].len;
		uint8_t *buf = nb_pool_iova_to_va(pool, was, len);

		if (buf && len > VIRTIO_NET_HDR_LEN) /* the frame part, after the header */
			memset(buf + VIRTIO_NET_HDR_LEN, MARK, len - VIRTIO_NET_HDR_LEN);
		r->desc[i].addr = iova; /* len and VIRTQ_DESC_F_WRITE stay as posted */
	}
	atomic_thread_fence(memory_order_seq_cst);
}

/* How many returned buffers hold any byte of a frame (they should hold MARK). */
static unsigned frames_found(struct nb_dev *rx, unsigned expected, unsigned *returned)
{
	struct nb_pkt *pkts[32];
	unsigned found = 0;

	*returned = 0;
	while (*returned < expected) {
		uint16_t got = nb_rx_batch(rx, 0, pkts, 32);

		if (got == 0)
			break;
		for (uint16_t i = 0; i < got; i++) {
			for (uint32_t b = 0; b < pkts[i]->len; b++) {
				if (pkts[i]->data[b] != MARK) {
					found++;
					break;
				}
			}
		}
		*returned += got;
		nb_pkt_free_bulk(pkts, got);
	}
	return found;
}

static int attack(const char *sock, const char *rx_name, const char *tx_name, uint64_t iova,
		  bool control)
{
	uint8_t *spare = NULL;
	struct nb_dev_conf conf = { .promisc = true };
	struct nb_mempool *rx_mp, *tx_mp;
	struct nb_session *s;
	struct nb_pool *pool;
	struct nb_dev *rx, *tx;
	struct nb_stats st;
	struct rx_ring ring;
	uint8_t rx_mac[6], tx_mac[6];
	uint16_t used_start, used = 0, last = 0;
	unsigned returned = 0, found;
	const char *fault = NULL;
	char warning[128];
	int rx_idx, tx_idx;
	double start, changed;

	if (nb_session_open(sock, &s) < 0 || (rx_idx = nb_session_claim(s, rx_name)) < 0 ||
	    (tx_idx = nb_session_claim(s, tx_name)) < 0)
		return fail("claim");
	if (nb_session_pool(s, ATTACK_POOL, NB_PAGE_2M, &pool, warning, sizeof(warning)) < 0 ||
	    nb_session_ready(s) < 0)
		return fail("pool");
	if (control) {
		if (nb_pool_carve(pool, BUF_SIZE, 64, (void **)&spare, &iova) < 0)
			return fail("spare buffer");
		memset(spare, MARK, BUF_SIZE);
	}
	printf("attack: own pool iova=0x%" PRIx64 " size=%zu; forged iova=0x%" PRIx64 "%s\n",
	       nb_pool_iova_base(pool), nb_pool_size(pool), iova,
	       control ? " (control: a spare buffer in the own pool)" : "");
	if (!control && iova + BUF_SIZE > nb_pool_iova_base(pool) &&
	    iova < nb_pool_iova_base(pool) + nb_pool_size(pool)) {
		printf("error: 0x%" PRIx64 " is inside this session's own pool: not an attack\n", iova);
		return 2;
	}
	if (nb_mempool_create(pool, BUFS, BUF_SIZE, &rx_mp) < 0 ||
	    nb_mempool_create(pool, BUFS, BUF_SIZE, &tx_mp) < 0)
		return fail("mempools");
	conf.rx_mempool = rx_mp;
	if (nb_dev_open(s, rx_idx, pool, &conf, &rx) < 0 || nb_dev_open(s, tx_idx, pool, &conf, &tx) < 0 ||
	    nb_dev_mac(rx, rx_mac) < 0 || nb_dev_mac(tx, tx_mac) < 0)
		return fail("open");
	if (find_rx_ring(rx, pool, &ring) < 0)
		return fail("finding the receive ring");
	if (nb_lockdown(s, NULL, 0, NULL, 0) < 0)
		return fail("lockdown");
	printf("attack: locked down; rewriting %u receive descriptors to iova 0x%" PRIx64 "\n",
	       ring.size, iova);
	forge(&ring, pool, iova);
	used_start = nb_reg_read16((const void *)ring.used, 2);

	/* No receive polling now: a refill would post honest descriptors. */
	send_frames(tx, tx_mp, rx_mac, tx_mac);
	start = changed = now_s();
	while (now_s() - start < WAIT_SECONDS && now_s() - changed < 3) {
		used = (uint16_t)(nb_reg_read16((const void *)ring.used, 2) - used_start);
		if (used != last) {
			last = used;
			changed = now_s();
		}
		if (nb_dev_stats(rx, &st) == 0 && (fault = nb_dev_fault(rx)))
			break;
	}
	printf("attack: the device returned %u of %u forged buffers as used; "
	       "device fault '%s'\n", used, FRAMES, fault ? fault : "");
	found = frames_found(rx, used, &returned);
	printf("attack: reaped %u buffers: %u hold frame bytes (the device wrote none "
	       "of them: each still holds the fill pattern)\n", returned, found);
	if (spare) {
		bool landed = memcmp(spare + VIRTIO_NET_HDR_LEN, rx_mac, 6) == 0 &&
			      spare[VIRTIO_NET_HDR_LEN + 14] == FRAME_FILL;

		printf("attack: control: %s\n", landed ? "frame bytes at the forged iova"
						       : "NO frame at the forged iova");
		found += !landed;
	}
	nb_dev_close(rx);
	nb_dev_close(tx);
	nb_mempool_destroy(rx_mp);
	nb_mempool_destroy(tx_mp);
	nb_pool_destroy(pool);
	nb_session_close(s);
	printf("attack: devices closed, session released\n");
	return found ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *dev = NULL, *rx = NULL, *tx = NULL;
	size_t pool = 64u << 20;
	uint64_t iova = 0;
	bool have_iova = false, control = false;

	setvbuf(stdout, stdout_buf, _IOLBF, sizeof(stdout_buf));
	for (int i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "--control")) {
			control = true;
			i--;
		} else if (i + 1 >= argc) {
			break;
		} else if (!strcmp(argv[i], "--socket"))
			sock = argv[i + 1];
		else if (!strcmp(argv[i], "--dev"))
			dev = argv[i + 1];
		else if (!strcmp(argv[i], "--rx"))
			rx = argv[i + 1];
		else if (!strcmp(argv[i], "--tx"))
			tx = argv[i + 1];
		else if (!strcmp(argv[i], "--pool"))
			pool = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--iova"))
			iova = strtoull(argv[i + 1], NULL, 0), have_iova = true;
		else
			break;
	}
	if (argc >= 2 && !strcmp(argv[1], "victim") && dev)
		return victim(sock, dev, pool);
	if (argc >= 2 && !strcmp(argv[1], "attack") && rx && tx && have_iova != control)
		return attack(sock, rx, tx, iova, control);
	fprintf(stderr, "usage: iommu_attack victim --socket PATH --dev BDF [--pool BYTES]\n"
		"       iommu_attack attack --socket PATH --rx BDF --tx BDF "
		"(--iova ADDR | --control)\n");
	return 2;
}
