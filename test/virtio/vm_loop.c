/* SPDX-License-Identifier: MIT */
/*
 * vm_loop.c - end-to-end check of the virtio-net driver in the QEMU testbed
 * (test/vm/checks/30-virtio-loop.sh). As an unprivileged user, in one
 * session: claim two NICs on the same QEMU hub, open both (the open turns
 * promiscuous mode off through the control queue), lock down, send
 * --count frames with sequence numbers from the first to the second NIC's
 * MAC and receive every one on the second, in order, payload intact.
 * Frames to a foreign MAC must be filtered while promiscuous mode is off
 * and arrive once it is switched on (control queue, after lockdown).
 * Prints both devices' stats; exits 1 on any loss, reordering, corruption,
 * filtering error, error count or device fault, 2 on a setup failure.
 * --expect-ring split|packed: after open, read back from each device the
 * features the driver wrote (driver_feature, virtio 1.2, 4.1.4.3) and fail
 * unless VIRTIO_F_RING_PACKED matches (check 35 on the packed NICs).
 *
 *   virtio_vm_loop --socket PATH --tx BDF --rx BDF [--count N] [--size B]
 *                  [--expect-ring split|packed]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nb_internal.h"
#include "nb_mmio.h"
#include "nicbox.h"
#include "virtio_pci.h"

#define POOL_BYTES (64u << 20)
#define BUFS 2048
#define BUF_SIZE 2048
#define BURST 32
#define WINDOW 128           /* frames in flight: less than the rx ring */
#define STALL_SECONDS 20     /* no progress this long: something is lost */
#define ETHERTYPE_LOCAL 0x88b5 /* IEEE 802 local experimental */
#define HDR_LEN 14
#define SEQ_OFF HDR_LEN
#define PROBES 64 /* frames to a foreign MAC, for the filter */

/* Locally administered unicast: nobody's MAC on the testbed hub. */
static const uint8_t probe_mac[6] = { 0x02, 0x6e, 0x62, 0x00, 0x00, 0x99 };

struct port {
	const char *name;
	int index;
	struct nb_mempool *rx_mp;
	struct nb_dev *dev;
	uint8_t mac[6];
};

struct loop {
	struct port tx, rx;
	struct nb_mempool *tx_mp;
	uint32_t count, size;
	uint32_t sent, received, foreign, bad, probes_seen;
	const char *expect_ring; /* NULL: do not check */
};

static int die(const char *what)
{
	fprintf(stderr, "vm_loop: %s: %s\n", what, nb_last_error());
	return 2;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i * 7);
}

static void build_frame(const struct loop *l, struct nb_pkt *pkt,
			const uint8_t *dst, uint32_t seq)
{
	uint8_t *f = pkt->data;

	memcpy(f, dst, 6);
	memcpy(f + 6, l->tx.mac, 6);
	f[12] = ETHERTYPE_LOCAL >> 8;
	f[13] = ETHERTYPE_LOCAL & 0xff;
	memcpy(f + SEQ_OFF, &seq, sizeof(seq));
	for (uint32_t i = SEQ_OFF + sizeof(seq); i < l->size; i++)
		f[i] = pattern(seq, i);
	pkt->len = l->size;
}

/* Our frame with the expected sequence number and payload? */
static void check_frame(struct loop *l, const struct nb_pkt *pkt)
{
	const uint8_t *f = pkt->data;
	uint32_t seq;

	if (pkt->len < SEQ_OFF + sizeof(seq) || f[12] != ETHERTYPE_LOCAL >> 8 ||
	    f[13] != (ETHERTYPE_LOCAL & 0xff)) {
		l->foreign++;
		return;
	}
	if (memcmp(f, probe_mac, 6) == 0) {
		l->probes_seen++;
		return;
	}
	memcpy(&seq, f + SEQ_OFF, sizeof(seq));
	if (seq != l->received || pkt->len != l->size ||
	    memcmp(f, l->rx.mac, 6) != 0 || memcmp(f + 6, l->tx.mac, 6) != 0) {
		if (l->bad++ < 10)
			fprintf(stderr, "vm_loop: frame %u: got seq %u len %u\n",
				l->received, seq, pkt->len);
		l->received = seq + 1; /* resynchronise, the check has failed */
		return;
	}
	for (uint32_t i = SEQ_OFF + sizeof(seq); i < l->size; i++) {
		if (f[i] != pattern(seq, i)) {
			if (l->bad++ < 10)
				fprintf(stderr, "vm_loop: frame %u: byte %u "
					"corrupt\n", seq, i);
			break;
		}
	}
	l->received++;
}

static void send_some(struct loop *l)
{
	struct nb_pkt *pkts[BURST];
	uint32_t n = l->count - l->sent, in_flight = l->sent - l->received;
	uint32_t got;
	uint16_t taken;

	if (n > BURST)
		n = BURST;
	if (in_flight + n > WINDOW)
		n = in_flight < WINDOW ? WINDOW - in_flight : 0;
	got = nb_pkt_alloc_bulk(l->tx_mp, pkts, n);
	for (uint32_t i = 0; i < got; i++)
		build_frame(l, pkts[i], l->rx.mac, l->sent + i);
	taken = nb_tx_batch(l->tx.dev, 0, pkts, (uint16_t)got);
	nb_pkt_free_bulk(pkts + taken, got - taken);
	l->sent += taken;
}

static void receive_some(struct loop *l)
{
	struct nb_pkt *pkts[BURST];
	uint16_t got = nb_rx_batch(l->rx.dev, 0, pkts, BURST);

	for (uint16_t i = 0; i < got; i++)
		check_frame(l, pkts[i]);
	nb_pkt_free_bulk(pkts, got);
}

/* Send PROBES frames to probe_mac; they are not part of the sequence. */
static int send_probes(struct loop *l)
{
	struct nb_pkt *pkts[PROBES];
	uint32_t got = nb_pkt_alloc_bulk(l->tx_mp, pkts, PROBES);
	uint16_t taken;

	for (uint32_t i = 0; i < got; i++)
		build_frame(l, pkts[i], probe_mac, i);
	taken = nb_tx_batch(l->tx.dev, 0, pkts, (uint16_t)got);
	nb_pkt_free_bulk(pkts + taken, got - taken);
	if (taken != PROBES) {
		fprintf(stderr, "vm_loop: sent only %u of %u probes\n", taken,
			PROBES);
		return 1;
	}
	return 0;
}

/*
 * With promiscuous mode on, the probes must all arrive. Returns 0 if they
 * do within STALL_SECONDS.
 */
static int probes_pass_in_promisc(struct loop *l)
{
	double start = now_s();

	if (nb_dev_set_promisc(l->rx.dev, true) < 0) {
		fprintf(stderr, "vm_loop: promiscuous on: %s\n", nb_last_error());
		return 1;
	}
	l->probes_seen = 0;
	if (send_probes(l))
		return 1;
	while (l->probes_seen < PROBES && now_s() - start < STALL_SECONDS) {
		send_some(l); /* nothing left to send; reaps completions */
		receive_some(l);
	}
	printf("vm_loop: promiscuous: %u of %u probes to a foreign MAC "
	       "received\n", l->probes_seen, PROBES);
	if (nb_dev_set_promisc(l->rx.dev, false) < 0) {
		fprintf(stderr, "vm_loop: promiscuous off: %s\n", nb_last_error());
		return 1;
	}
	return l->probes_seen != PROBES;
}

/* Returns 0 when every frame arrived, 1 on a stall or a device fault. */
static int run(struct loop *l)
{
	double last_progress = now_s(), start = last_progress, secs;
	uint32_t seen = 0;

	while (l->received < l->count) {
		send_some(l);
		receive_some(l);
		if (nb_dev_fault(l->tx.dev) || nb_dev_fault(l->rx.dev))
			return 1;
		if (l->received != seen) {
			seen = l->received;
			last_progress = now_s();
		} else if (now_s() - last_progress > STALL_SECONDS) {
			fprintf(stderr, "vm_loop: no frame for %d s (sent %u, "
				"received %u)\n", STALL_SECONDS, l->sent,
				l->received);
			return 1;
		}
	}
	secs = now_s() - start;
	printf("vm_loop: %u frames of %u bytes in %.2f s (%.0f frames/s)\n",
	       l->count, l->size, secs, l->count / (secs > 0 ? secs : 1));
	return 0;
}

static int report(const struct port *p)
{
	struct nb_stats s;
	struct nb_link link;
	const char *fault = nb_dev_fault(p->dev);

	if (nb_dev_stats(p->dev, &s) < 0 || nb_dev_link(p->dev, &link) < 0)
		return die("reading stats");
	printf("vm_loop: %s (%s) mac %02x:%02x:%02x:%02x:%02x:%02x link %s "
	       "rx_packets %llu rx_bytes %llu tx_packets %llu tx_bytes %llu "
	       "rx_errors %llu tx_errors %llu dev_faults %llu fault \"%s\"\n",
	       p->name, nb_dev_driver(p->dev), p->mac[0], p->mac[1], p->mac[2],
	       p->mac[3], p->mac[4], p->mac[5], link.up ? "up" : "down",
	       (unsigned long long)s.rx_packets,
	       (unsigned long long)s.rx_bytes,
	       (unsigned long long)s.tx_packets,
	       (unsigned long long)s.tx_bytes,
	       (unsigned long long)s.rx_errors,
	       (unsigned long long)s.tx_errors,
	       (unsigned long long)s.dev_faults, fault ? fault : "");
	return s.rx_errors || s.tx_errors || s.dev_faults || fault;
}

static int open_port(struct nb_session *s, struct nb_pool *pool,
		     struct port *p)
{
	struct nb_dev_conf conf = { .promisc = false };

	if (nb_mempool_create(pool, BUFS, BUF_SIZE, &p->rx_mp) < 0)
		return die("receive mempool");
	conf.rx_mempool = p->rx_mp;
	if (nb_dev_open(s, p->index, pool, &conf, &p->dev) < 0 ||
	    nb_dev_mac(p->dev, p->mac) < 0) {
		fprintf(stderr, "vm_loop: opening %s: %s\n", p->name,
			nb_last_error());
		return 2;
	}
	return 0;
}

/*
 * The 64 feature bits the driver negotiated, as the device holds them:
 * driver_feature, one half per driver_feature_select (4.1.4.3).
 */
static int check_ring(const struct port *p, const char *want)
{
	struct virtio_pci vp;
	uint64_t f = 0;
	bool packed;

	if (vpci_map(&vp, p->dev->pci) < 0)
		return die("mapping the virtio common configuration");
	for (uint32_t half = 0; half < 2; half++) {
		nb_reg_write32(vp.common.va, VIRTIO_COMMON_GFSELECT, half);
		f |= (uint64_t)nb_reg_read32(vp.common.va, VIRTIO_COMMON_GF)
		     << (32 * half);
	}
	packed = (f & VIRTIO_BIT(VIRTIO_F_RING_PACKED)) != 0;
	printf("vm_loop: %s negotiated features 0x%016llx: %s rings, event "
	       "idx %s\n", p->name, (unsigned long long)f,
	       packed ? "packed" : "split",
	       f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX) ? "on" : "off");
	if (strcmp(want, packed ? "packed" : "split") != 0) {
		fprintf(stderr, "vm_loop: %s: expected %s rings\n", p->name,
			want);
		return 1;
	}
	return 0;
}

static int parse(int argc, char **argv, const char **socket, struct loop *l)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "tx", required_argument, NULL, 't' },
		{ "rx", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 'z' },
		{ "expect-ring", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	l->count = 20000;
	l->size = 128;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': *socket = optarg; break;
		case 't': l->tx.name = optarg; break;
		case 'r': l->rx.name = optarg; break;
		case 'c': l->count = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'z': l->size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'e': l->expect_ring = optarg; break;
		default: return -1;
		}
	}
	if (!l->tx.name || !l->rx.name || l->count == 0 ||
	    l->size < SEQ_OFF + 4 || l->size > 1514 ||
	    (l->expect_ring && strcmp(l->expect_ring, "split") != 0 &&
	     strcmp(l->expect_ring, "packed") != 0)) {
		fprintf(stderr, "usage: %s --socket PATH --tx BDF --rx BDF "
			"[--count N] [--size 18..1514] "
			"[--expect-ring split|packed]\n", argv[0]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct loop l = { 0 };
	const char *socket = NULL;
	struct nb_session *s = NULL;
	struct nb_pool *pool = NULL;
	char notice[256];
	int rc;

	/* Our buffer: stdout's first use would fstat(), which lockdown forbids. */
	static char stdout_buf[4096];

	setvbuf(stdout, stdout_buf, _IOLBF, sizeof(stdout_buf));
	if (parse(argc, argv, &socket, &l) < 0)
		return 2;
	if (nb_session_open(socket, &s) < 0)
		return die("session");
	if ((l.tx.index = nb_session_claim(s, l.tx.name)) < 0)
		return die(l.tx.name);
	if ((l.rx.index = nb_session_claim(s, l.rx.name)) < 0)
		return die(l.rx.name);
	if (nb_session_pool(s, POOL_BYTES, NB_PAGE_DEFAULT, &pool, notice,
			    sizeof(notice)) < 0)
		return die("DMA pool");
	if (nb_session_ready(s) < 0)
		return die("session ready");
	if (nb_mempool_create(pool, BUFS, BUF_SIZE, &l.tx_mp) < 0)
		return die("transmit mempool");
	if ((rc = open_port(s, pool, &l.tx)) || (rc = open_port(s, pool, &l.rx)) ||
	    (l.expect_ring && ((rc = check_ring(&l.tx, l.expect_ring)) ||
			       (rc = check_ring(&l.rx, l.expect_ring)))))
		return rc;
	if (nb_lockdown(s, NULL, 0, notice, sizeof(notice)) < 0)
		return die("lockdown");
	if (notice[0])
		printf("vm_loop: lockdown notice: %s\n", notice);

	/* Filtered (promiscuous off since open): must never show up. */
	rc = send_probes(&l);
	rc |= run(&l);
	printf("vm_loop: sent %u received %u foreign %u bad %u; %u probes to "
	       "a foreign MAC got through the filter\n", l.sent, l.received,
	       l.foreign, l.bad, l.probes_seen);
	rc |= l.probes_seen != 0;
	rc |= probes_pass_in_promisc(&l);
	rc |= report(&l.tx);
	rc |= report(&l.rx);
	rc |= l.bad != 0 || l.received != l.count;

	nb_dev_close(l.tx.dev);
	nb_dev_close(l.rx.dev);
	/* Every buffer is back once the devices are closed. */
	if (nb_mempool_available(l.tx.rx_mp) != BUFS ||
	    nb_mempool_available(l.rx.rx_mp) != BUFS ||
	    nb_mempool_available(l.tx_mp) != BUFS) {
		fprintf(stderr, "vm_loop: buffers missing after close\n");
		rc = 1;
	}
	nb_mempool_destroy(l.tx_mp);
	nb_mempool_destroy(l.tx.rx_mp);
	nb_mempool_destroy(l.rx.rx_mp);
	nb_pool_destroy(pool);
	nb_session_close(s);
	printf("vm_loop: %s\n", rc ? "FAIL" : "PASS");
	return rc ? 1 : 0;
}
