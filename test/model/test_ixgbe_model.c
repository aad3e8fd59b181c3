/* SPDX-License-Identifier: MIT */
/*
 * test_ixgbe_model.c - the unchanged ixgbe driver against the 82599 model:
 * bring-up, loopback with every frame checked, forwarding between two
 * models, and one test per way a hostile device breaks the ring protocol.
 * Every wait is bounded; checks are on counts and contents, never timing.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ixgbe_model.h"
#include "ixgbe_model_regs.h"
#include "nb_internal.h"
#include "nb_mmio.h"

#define POOL_BYTES (32u << 20)
#define FAKE_IOVA 0x40000000ull
#define N_BUFS 2048u
#define BUF_SIZE 2048u
#define RING 512u
#define FRAME_LEN 124u
#define WAIT_MS 10000u /* generous: ASan on a shared 2-core machine */

struct rig {
	struct nb_pool *dma;
	struct nb_mempool *rx_mp[2], *tx_mp;
	struct ixgbe_model *model[2];
	struct nb_dev *dev[2];
	int n; /* devices */
	uint16_t ring; /* rx and tx ring size */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Set: rig_setup opens the devices in this receive mode. */
static enum nb_rx_mode rig_rx_mode;

static void open_dev(struct rig *r, int i)
{
	struct nb_dev_conf conf = {
		.rx_mode = rig_rx_mode,
		.rx_ring_size = r->ring,
		.tx_ring_size = r->ring,
		.rx_mempool = r->rx_mp[i],
		.promisc = true,
		.link_wait_ms = WAIT_MS,
	};

	if (nb_dev_open_pci(ixgbe_model_pci(r->model[i]), r->dma, &conf,
			    &r->dev[i]) < 0)
		fail_msg("open: %s", nb_last_error());
}

static void rig_setup_ring(struct rig *r, int n_devs, uint16_t ring)
{
	memset(r, 0, sizeof(*r));
	r->n = n_devs;
	r->ring = ring;
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &r->dma), 0);
	assert_int_equal(nb_mempool_create(r->dma, N_BUFS, BUF_SIZE, &r->tx_mp), 0);
	for (int i = 0; i < n_devs; i++)
		assert_int_equal(nb_mempool_create(r->dma, N_BUFS, BUF_SIZE,
						   &r->rx_mp[i]), 0);
	if (n_devs == 1)
		assert_int_equal(ixgbe_model_create(r->dma, &r->model[0]), 0);
	else
		assert_int_equal(ixgbe_model_create_pair(r->dma, &r->model[0],
							 &r->model[1]), 0);
	for (int i = 0; i < n_devs; i++)
		open_dev(r, i);
}

static void rig_setup(struct rig *r, int n_devs)
{
	rig_setup_ring(r, n_devs, RING);
}

/* Close everything and check that every buffer came home. */
static void rig_teardown(struct rig *r)
{
	for (int i = 0; i < r->n; i++) {
		struct ixgbe_model_counts mc;

		if (ixgbe_model_violation(r->model[i]))
			fail_msg("model %d: %s", i, ixgbe_model_violation(r->model[i]));
		ixgbe_model_counts(r->model[i], &mc);
		if (mc.missed_traps)
			print_message("model %d: %llu writes found by polling, not by the trap\n",
				      i, (unsigned long long)mc.missed_traps);
	}
	for (int i = 0; i < r->n; i++) {
		nb_dev_close(r->dev[i]);
		assert_false(ixgbe_model_pci_open(r->model[i]));
	}
	for (int i = 0; i < r->n; i++)
		ixgbe_model_destroy(r->model[i]);
	assert_int_equal(nb_mempool_available(r->tx_mp), N_BUFS);
	nb_mempool_destroy(r->tx_mp);
	for (int i = 0; i < r->n; i++) {
		assert_int_equal(nb_mempool_available(r->rx_mp[i]), N_BUFS);
		nb_mempool_destroy(r->rx_mp[i]);
	}
	nb_pool_destroy(r->dma);
}

/* Frame `seq`: broadcast Ethernet header, then seq and a pattern from it. */
static void make_frame(struct nb_pkt *p, uint32_t seq)
{
	memset(p->data, 0xFF, 6);
	memcpy(p->data + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p->data[12] = 0x88;
	p->data[13] = 0xB5; /* local experimental EtherType */
	memcpy(p->data + 14, &seq, sizeof(seq));
	for (uint32_t i = 18; i < FRAME_LEN; i++)
		p->data[i] = (uint8_t)(seq * 7 + i);
	p->len = FRAME_LEN;
}

static void check_frame(const struct nb_pkt *p, uint32_t want_seq)
{
	uint32_t seq;

	assert_int_equal(p->len, FRAME_LEN);
	memcpy(&seq, p->data + 14, sizeof(seq));
	assert_int_equal(seq, want_seq);
	for (uint32_t i = 18; i < FRAME_LEN; i++)
		if (p->data[i] != (uint8_t)(seq * 7 + i))
			fail_msg("frame %u: byte %u is 0x%02x", seq, i, p->data[i]);
}

/* Queue frames seq..seq+n-1 on dev, retrying while the ring is full (it
 * frees slots 32 at a time, once the model wrote them back); bounded. */
static void send_frames(struct nb_dev *dev, struct nb_mempool *mp,
			uint32_t seq, uint16_t n)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	struct nb_pkt *pkts[64];
	uint16_t sent = 0;

	assert_true(n <= 64);
	assert_int_equal(nb_pkt_alloc_bulk(mp, pkts, n), n);
	for (uint16_t i = 0; i < n; i++)
		make_frame(pkts[i], seq + i);
	while (sent < n) {
		sent += nb_tx_batch(dev, 0, pkts + sent, n - sent);
		if (sent < n && now_ms() > deadline)
			fail_msg("tx ring took %u of %u frames", sent, n);
	}
}

/* Receive exactly `n` frames, in order from `seq`, asking for up to 64 at
 * a time; bounded wait. */
static void receive_frames(struct nb_dev *dev, uint32_t seq, uint32_t n)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	struct nb_pkt *pkts[64];
	uint32_t got = 0;

	while (got < n) {
		uint16_t k = nb_rx_batch(dev, 0, pkts, 64);

		for (uint16_t i = 0; i < k; i++)
			check_frame(pkts[i], seq + got + i);
		got += k;
		nb_pkt_free_bulk(pkts, k);
		assert_true(got <= n);
		if (k == 0 && now_ms() > deadline)
			fail_msg("received %u of %u frames", got, n);
	}
}

/* ---- receive interrupts (MSI-X through the model's eventfds) ------------ */

struct late_send {
	struct nb_dev *dev;
	struct nb_mempool *mp;
	struct ixgbe_model *waiter; /* the receiving model */
	uint16_t sent;
};

/*
 * Another thread's transmit on the peer (no cmocka asserts off the main
 * thread): one frame once the waiter has unmasked vector 0 (EIMS bit 0 in
 * the receiving model, set by nb_rx_wait before it sleeps), so the frame
 * lands while the vector is armed however late the waiter gets there (a
 * fixed delay raced with it on a loaded host). Gives up after WAIT_MS.
 */
static void *send_when_armed(void *arg)
{
	struct late_send *l = arg;
	const volatile uint32_t *eims =
		(const volatile uint32_t *)(ixgbe_model_bar(l->waiter) + M_EIMS);
	const struct timespec ms = { 0, 1000000L };
	uint64_t deadline = now_ms() + WAIT_MS;
	struct nb_pkt *p;

	while (!(*eims & 1u)) {
		if (now_ms() > deadline)
			return NULL;
		nanosleep(&ms, NULL);
	}
	p = nb_pkt_alloc(l->mp);
	if (p == NULL)
		return NULL;
	make_frame(p, 0);
	l->sent = nb_tx_batch(l->dev, 0, &p, 1);
	if (l->sent == 0)
		nb_pkt_free(p);
	return NULL;
}

static uint64_t model_interrupts(struct ixgbe_model *m)
{
	struct ixgbe_model_counts mc;

	ixgbe_model_counts(m, &mc);
	return mc.interrupts;
}

/* A sleeping receiver: the frame arrives, the model's MSI-X message hits
 * the eventfd, nb_rx_wait returns and the frame is there. */
static void test_interrupt_wakes_the_waiter(void **state)
{
	struct late_send l;
	struct rig r;
	pthread_t t;
	uint64_t t0;

	(void)state;
	rig_rx_mode = NB_RX_INTERRUPT;
	rig_setup(&r, 2);
	rig_rx_mode = NB_RX_POLL;
	assert_int_equal(nb_dev_rx_mode(r.dev[1]), NB_RX_INTERRUPT);
	/* Nothing sent: no interrupt, the timeout ends the wait. */
	assert_int_equal(nb_rx_wait(r.dev[1], 0, 50), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(model_interrupts(r.model[1]), 0);

	l = (struct late_send){ r.dev[0], r.tx_mp, r.model[1], 0 };
	assert_int_equal(pthread_create(&t, NULL, send_when_armed, &l), 0);
	t0 = now_ms();
	if (nb_rx_wait(r.dev[1], 0, WAIT_MS) < 0)
		fail_msg("nb_rx_wait: %s", nb_last_error());
	assert_true(now_ms() - t0 < WAIT_MS);
	pthread_join(t, NULL);
	assert_int_equal(l.sent, 1);
	assert_true(model_interrupts(r.model[1]) >= 1);
	receive_frames(r.dev[1], 0, 1);
	rig_teardown(&r);
}

/* Frames while nobody waits: the vector is masked, the model sends nothing;
 * the next wait finds them without sleeping. */
static void test_masked_vector_stays_silent(void **state)
{
	struct ixgbe_model_counts mc;
	uint64_t deadline, count;
	struct rig r;

	(void)state;
	rig_rx_mode = NB_RX_ADAPTIVE;
	rig_setup(&r, 2);
	rig_rx_mode = NB_RX_POLL;
	send_frames(r.dev[0], r.tx_mp, 0, 32);
	deadline = now_ms() + WAIT_MS;
	do {
		ixgbe_model_counts(r.model[1], &mc);
		assert_true(now_ms() < deadline);
	} while (mc.frames_delivered < 32);
	assert_int_equal(mc.interrupts, 0);
	assert_int_equal(read(r.dev[1]->irq.fd[0], &count, sizeof(count)), -1);
	assert_int_equal(errno, EAGAIN);
	/* Unmasking with frames in the ring: no sleep, at most one message. */
	assert_int_equal(nb_rx_wait(r.dev[1], 0, WAIT_MS), 0);
	assert_true(model_interrupts(r.model[1]) <= 1);
	receive_frames(r.dev[1], 0, 32);
	/* Masked again after the wait: more frames, no more messages. */
	count = model_interrupts(r.model[1]);
	send_frames(r.dev[0], r.tx_mp, 32, 32);
	receive_frames(r.dev[1], 32, 32);
	assert_int_equal(model_interrupts(r.model[1]), count);
	rig_teardown(&r);
}

static void test_init(void **state)
{
	struct rig r;
	struct nb_link link;
	struct nb_stats st;
	struct ixgbe_model_counts mc;
	uint8_t mac[6];
	static const uint8_t want_mac[6] = { 2, 0, 0, 0, 0, 1 };

	(void)state;
	rig_setup(&r, 1);
	assert_string_equal(nb_dev_driver(r.dev[0]), "ixgbe");
	assert_int_equal(nb_dev_link(r.dev[0], &link), 0);
	assert_true(link.up);
	assert_int_equal(link.speed_mbps, 10000);
	assert_int_equal(nb_dev_mac(r.dev[0], mac), 0);
	assert_memory_equal(mac, want_mac, 6);
	assert_int_equal(nb_dev_stats(r.dev[0], &st), 0);
	assert_int_equal(st.rx_packets + st.tx_packets + st.rx_missed +
				 st.rx_errors + st.dev_faults, 0);
	ixgbe_model_counts(r.model[0], &mc);
	assert_int_equal(mc.resets, 1);
	assert_int_equal(mc.dma_refused, 0);
	assert_null(nb_dev_fault(r.dev[0]));
	/* The whole rx ring holds buffers while the device is open. */
	assert_int_equal(nb_mempool_available(r.rx_mp[0]), N_BUFS - RING);
	assert_int_equal(nb_dev_set_promisc(r.dev[0], false), 0);
	rig_teardown(&r);
}

/* A card that never finishes its reset: open fails in bounded time. */
static void test_init_timeout(void **state)
{
	struct nb_pool *dma;
	struct nb_mempool *mp;
	struct ixgbe_model *m;
	struct nb_dev *dev = NULL;
	struct nb_dev_conf conf = { .link_wait_ms = 100 };

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &dma), 0);
	assert_int_equal(nb_mempool_create(dma, N_BUFS, BUF_SIZE, &mp), 0);
	conf.rx_mempool = mp;
	assert_int_equal(ixgbe_model_create_silent(dma, &m), 0);
	assert_int_equal(nb_dev_open_pci(ixgbe_model_pci(m), dma, &conf, &dev), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_non_null(strstr(nb_last_error(), "CTRL.RST"));
	assert_null(dev);
	assert_int_equal(nb_mempool_available(mp), N_BUFS);
	ixgbe_model_destroy(m);
	nb_mempool_destroy(mp);
	nb_pool_destroy(dma);
}

static void test_bad_conf(void **state)
{
	struct nb_pool *dma;
	struct ixgbe_model *m;
	struct nb_dev *dev = NULL;
	struct nb_dev_conf conf = { .rx_ring_size = 100 };

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &dma), 0);
	assert_int_equal(ixgbe_model_create_silent(dma, &m), 0);
	assert_int_equal(nb_dev_open_pci(ixgbe_model_pci(m), dma, &conf, &dev), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(nb_last_error(), "powers of two"));
	conf.rx_ring_size = 0;
	assert_int_equal(nb_dev_open_pci(ixgbe_model_pci(m), dma, &conf, &dev), -1);
	assert_non_null(strstr(nb_last_error(), "rx_mempool"));
	/* Two queues need a mempool each. */
	conf.rx_queues = 2;
	assert_int_equal(nb_dev_open_pci(ixgbe_model_pci(m), dma, &conf, &dev), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(nb_last_error(), "need conf.rx_mempools"));
	ixgbe_model_destroy(m);
	nb_pool_destroy(dma);
}

/* ---- RSS over 4 queues ------------------------------------------------- */
#define RSS_QUEUES 4u
#define RSS_FLOWS 64u
#define RSS_BUFS 1024u

/* A UDP/IPv4 frame of flow `flow` (its own source port; the Toeplitz hash
 * is linear over GF(2), so ports that differ in a few low bits only could
 * reach few queues: the multiplication spreads them) with the flow's
 * sequence number `seq` in its payload. */
static void make_flow_frame(struct nb_pkt *p, uint32_t flow, uint32_t seq)
{
	uint8_t *f = p->data;

	memset(f, 0, FRAME_LEN);
	memset(f, 0xFF, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	f[14] = 0x45;                      /* IPv4, 20-byte header */
	f[16] = 0;
	f[17] = FRAME_LEN - 14;
	f[20] = 0x40;                      /* DF */
	f[22] = 64;
	f[23] = 17;                        /* UDP */
	f[26] = 10, f[27] = 0, f[28] = 0, f[29] = 1;
	f[30] = 10, f[31] = 1, f[32] = 0, f[33] = 1;
	f[34] = (uint8_t)((1000 + flow * 7919u) >> 8), f[35] = (uint8_t)(1000 + flow * 7919u);
	f[36] = 0x0F, f[37] = 0xA0;        /* port 4000 */
	memcpy(f + 42, &flow, 4);
	memcpy(f + 46, &seq, 4);
	p->len = FRAME_LEN;
}

/*
 * 4 rx/tx queues, one mempool per rx queue, the default key and all hash
 * types: frames of 64 UDP flows (sent round-robin over the 4 tx queues)
 * each arrive on the queue the software reference predicts from their
 * headers (nb_rss_frame_hash + nb_rss_queue), carry the hash the
 * reference computes, land on every queue, keep their order per flow;
 * every frame is accounted for and every mempool is whole at close. A
 * frame no type hashes (not IP) arrives on queue 0 without a hash.
 */
static void test_rss_queues(void **state)
{
	const uint32_t rounds = 32, per_flow = rounds * 32 / RSS_FLOWS;
	struct nb_mempool *rx_mp[RSS_QUEUES], *tx_mp;
	uint32_t next_seq[RSS_FLOWS] = { 0 }, per_queue[RSS_QUEUES] = { 0 };
	struct ixgbe_model *m;
	struct nb_pool *dma;
	struct nb_dev *dev;
	struct nb_stats st;
	uint32_t got = 0, sent = 0;
	struct nb_dev_conf conf = {
		.rx_queues = RSS_QUEUES, .tx_queues = RSS_QUEUES,
		.rx_mempools = rx_mp, .promisc = true, .link_wait_ms = WAIT_MS,
	};

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &dma), 0);
	assert_int_equal(nb_mempool_create(dma, RSS_BUFS, BUF_SIZE, &tx_mp), 0);
	for (unsigned q = 0; q < RSS_QUEUES; q++)
		assert_int_equal(nb_mempool_create(dma, RSS_BUFS, BUF_SIZE, &rx_mp[q]), 0);
	assert_int_equal(ixgbe_model_create(dma, &m), 0);
	if (nb_dev_open_pci(ixgbe_model_pci(m), dma, &conf, &dev) < 0)
		fail_msg("open: %s", nb_last_error());
	for (uint32_t k = 0; k <= rounds; k++) {
		uint64_t deadline = now_ms() + WAIT_MS;
		struct nb_pkt *pkts[32];
		uint16_t n = k < rounds ? 32 : 1, done = 0;

		assert_int_equal(nb_pkt_alloc_bulk(tx_mp, pkts, n), n);
		for (uint16_t i = 0; i < n; i++) {
			uint32_t flow = (sent + i) % RSS_FLOWS;

			make_flow_frame(pkts[i], flow, (sent + i) / RSS_FLOWS);
			if (k == rounds)
				pkts[i]->data[12] = 0x88; /* not IP: no hash */
		}
		while (done < n) {
			done += nb_tx_batch(dev, (uint16_t)(k % RSS_QUEUES), pkts + done, n - done);
			if (done < n && now_ms() > deadline)
				fail_msg("tx ring took %u of %u frames", done, n);
		}
		sent += n;
		while (got < sent) {
			uint32_t before = got;

			for (uint16_t q = 0; q < RSS_QUEUES; q++) {
				struct nb_pkt *rx[64];
				uint16_t r = nb_rx_batch(dev, q, rx, 64);

				for (uint16_t i = 0; i < r; i++) {
					uint32_t flow, seq, hash;

					assert_int_equal(rx[i]->len, FRAME_LEN);
					memcpy(&flow, rx[i]->data + 42, 4);
					memcpy(&seq, rx[i]->data + 46, 4);
					if (rx[i]->data[12] != 0x08) {
						assert_int_equal(q, 0);
						assert_false(rx[i]->flags & NB_PKT_RSS_HASH);
						continue;
					}
					assert_true(flow < RSS_FLOWS);
					assert_int_equal(nb_rss_frame_hash(nb_rss_default_key(),
									   NB_RSS_ALL_TYPES,
									   rx[i]->data, rx[i]->len,
									   &hash), 0);
					assert_true(rx[i]->flags & NB_PKT_RSS_HASH);
					if (rx[i]->rss_hash != hash || nb_rss_queue(hash, RSS_QUEUES) != q)
						fail_msg("flow %u: on queue %u with hash 0x%08x; the reference says queue %u, hash 0x%08x",
							 flow, q, rx[i]->rss_hash,
							 nb_rss_queue(hash, RSS_QUEUES), hash);
					assert_int_equal(seq, next_seq[flow]); /* order per flow */
					next_seq[flow]++;
					per_queue[q]++;
				}
				got += r;
				nb_pkt_free_bulk(rx, r);
			}
			assert_true(got <= sent);
			if (got == before && now_ms() > deadline)
				fail_msg("received %u of %u frames", got, sent);
		}
	}
	for (unsigned f = 0; f < RSS_FLOWS; f++)
		assert_int_equal(next_seq[f], per_flow);
	for (unsigned q = 0; q < RSS_QUEUES; q++) {
		print_message("rss: queue %u got %u frames\n", q, per_queue[q]);
		assert_true(per_queue[q] > 0);
	}
	assert_int_equal(nb_dev_stats(dev, &st), 0);
	assert_int_equal(st.tx_packets, sent);
	assert_int_equal(st.rx_packets, sent);
	assert_int_equal(st.rx_missed + st.rx_errors + st.tx_errors + st.dev_faults, 0);
	if (ixgbe_model_violation(m))
		fail_msg("model: %s", ixgbe_model_violation(m));
	nb_dev_close(dev);
	ixgbe_model_destroy(m);
	assert_int_equal(nb_mempool_available(tx_mp), RSS_BUFS);
	nb_mempool_destroy(tx_mp);
	for (unsigned q = 0; q < RSS_QUEUES; q++) {
		assert_int_equal(nb_mempool_available(rx_mp[q]), RSS_BUFS);
		nb_mempool_destroy(rx_mp[q]);
	}
	nb_pool_destroy(dma);
}

/* pktgen -> loopback -> receive, 32 rounds of 64 frames (4 ring laps).
 * 64 frames per TDT write: two status write-backs (RS) per model pass, so
 * write-back relaxed ordering left on shows as an out-of-order fault. */
static void test_loopback(void **state)
{
	const uint32_t rounds = 32, batch = 64, total = rounds * batch;
	struct rig r;
	struct nb_stats st;

	(void)state;
	rig_setup(&r, 1);
	for (uint32_t k = 0; k < rounds; k++) {
		send_frames(r.dev[0], r.tx_mp, k * batch, batch);
		receive_frames(r.dev[0], k * batch, batch);
	}
	assert_int_equal(nb_dev_stats(r.dev[0], &st), 0);
	assert_int_equal(st.tx_packets, total);
	assert_int_equal(st.rx_packets, total);
	/* Octet counters include the 4-byte CRC (8.2.3.23). */
	assert_int_equal(st.tx_bytes, (uint64_t)total * (FRAME_LEN + 4));
	assert_int_equal(st.rx_bytes, (uint64_t)total * (FRAME_LEN + 4));
	assert_int_equal(st.rx_missed + st.rx_errors + st.tx_errors + st.dev_faults, 0);
	/* The counters clear on read (the model traps the loads): a second
	 * read after more traffic adds only the new frames. */
	send_frames(r.dev[0], r.tx_mp, total, batch);
	receive_frames(r.dev[0], total, batch);
	assert_int_equal(nb_dev_stats(r.dev[0], &st), 0);
	assert_int_equal(st.rx_packets, total + batch);
	assert_int_equal(st.tx_packets, total + batch);
	rig_teardown(&r);
}

/* The smallest rings (64): bursts of 64 asked for, many laps. */
static void test_loopback_small_ring(void **state)
{
	struct rig r;
	struct nb_stats st;

	(void)state;
	rig_setup_ring(&r, 1, 64);
	for (uint32_t k = 0; k < 100; k++) {
		send_frames(r.dev[0], r.tx_mp, k * 48, 48);
		receive_frames(r.dev[0], k * 48, 48);
	}
	assert_int_equal(nb_dev_stats(r.dev[0], &st), 0);
	assert_int_equal(st.rx_packets, 100 * 48);
	assert_int_equal(st.rx_missed + st.dev_faults, 0);
	rig_teardown(&r);
}

/* A frame with a bad length is dropped by the driver, not sent. */
static void test_tx_bad_length(void **state)
{
	struct rig r;
	struct nb_stats st;
	struct nb_pkt *p;

	(void)state;
	rig_setup(&r, 1);
	p = nb_pkt_alloc(r.tx_mp);
	assert_non_null(p);
	p->len = 0;
	assert_int_equal(nb_tx_batch(r.dev[0], 0, &p, 1), 1);
	assert_int_equal(nb_dev_stats(r.dev[0], &st), 0);
	assert_int_equal(st.tx_errors, 1);
	rig_teardown(&r);
}

/* Generate on A, forward on B back out of B, receive on A. */
static void test_forward_pair(void **state)
{
	const uint32_t rounds = 48, batch = 32;
	struct rig r;
	struct nb_stats st;

	(void)state;
	rig_setup(&r, 2);
	for (uint32_t k = 0; k < rounds; k++) {
		uint64_t deadline = now_ms() + WAIT_MS;
		struct nb_pkt *pkts[32];
		uint32_t fwd = 0;

		send_frames(r.dev[0], r.tx_mp, k * batch, batch);
		while (fwd < batch) {
			uint16_t got = nb_rx_batch(r.dev[1], 0, pkts, 32);
			uint16_t sent = nb_tx_batch(r.dev[1], 0, pkts, got);

			assert_int_equal(sent, got); /* ring has room */
			fwd += got;
			if (got == 0 && now_ms() > deadline)
				fail_msg("forwarded %u of %u", fwd, batch);
		}
		receive_frames(r.dev[0], k * batch, batch);
	}
	assert_int_equal(nb_dev_stats(r.dev[1], &st), 0);
	assert_int_equal(st.rx_packets, rounds * batch);
	assert_int_equal(st.tx_packets, rounds * batch);
	assert_int_equal(nb_dev_stats(r.dev[0], &st), 0);
	assert_int_equal(st.rx_packets, rounds * batch);
	assert_int_equal(st.dev_faults + st.rx_errors + st.rx_missed, 0);
	rig_teardown(&r);
}

/*
 * Hostile runs: send `rounds` batches of 32 frames through a misbehaving
 * loopback model, receiving whatever comes, until `done` holds for the
 * stats (bounded). Returns how many frames were received.
 */
typedef bool (*stats_pred)(const struct nb_stats *st, uint32_t n);

/* Set: run_hostile() turns transmit write-back relaxed ordering back on
 * after open, as a driver that left DCA_TXCTRL at its reset value would. */
static bool tx_relaxed_ordering;
/* Frames per round (per TDT write) in run_hostile(). */
static uint32_t hostile_batch = 32;

static uint32_t run_hostile(struct rig *r, enum ixgbe_model_misbehaviour mb,
			    uint32_t rounds, stats_pred done, bool keep_sending,
			    struct nb_stats *st)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	struct nb_pkt *pkts[32];
	uint32_t received = 0, sent = 0;

	rig_setup(r, 1);
	ixgbe_model_set_misbehaviour(r->model[0], mb);
	if (tx_relaxed_ordering) {
		volatile uint8_t *bar = ixgbe_model_bar(r->model[0]);

		nb_reg_write32(bar, M_DCA_TXCTRL(0),
			       nb_reg_read32(bar, M_DCA_TXCTRL(0)) | M_DCA_TX_DESC_WRO);
	}
	for (uint32_t k = 0; k < rounds; k++) {
		struct nb_pkt *tx[64];
		uint32_t n = nb_pkt_alloc_bulk(r->tx_mp, tx, hostile_batch);
		uint16_t taken;

		for (uint32_t i = 0; i < n; i++)
			make_frame(tx[i], sent + i);
		taken = nb_tx_batch(r->dev[0], 0, tx, (uint16_t)n);
		nb_pkt_free_bulk(&tx[taken], n - taken);
		sent += taken;
		for (int spin = 0; spin < 1000; spin++) {
			uint16_t k2 = nb_rx_batch(r->dev[0], 0, pkts, 32);

			received += k2;
			nb_pkt_free_bulk(pkts, k2);
		}
	}
	for (;;) {
		uint16_t k2 = nb_rx_batch(r->dev[0], 0, pkts, 32);

		received += k2;
		nb_pkt_free_bulk(pkts, k2);
		/* Only the driver's own counters are judged here: the
		 * hardware ones are re-read while the model still counts. */
		assert_int_equal(nb_dev_stats(r->dev[0], st), 0);
		if (done(st, sent))
			break;
		if (now_ms() > deadline)
			fail_msg("hostile mode %d: condition not reached (sent %u, rx_errors %llu, faults %llu)",
				 (int)mb, sent, (unsigned long long)st->rx_errors,
				 (unsigned long long)st->dev_faults);
		if (keep_sending) {
			/* Transmit faults show when a slot is reused or a
			 * batch completes: keep the ring moving. */
			struct nb_pkt *p = nb_pkt_alloc(r->tx_mp);
			struct timespec pause = { .tv_nsec = 1000000 };

			assert_non_null(p);
			make_frame(p, sent);
			if (nb_tx_batch(r->dev[0], 0, &p, 1) == 1)
				sent++;
			else
				nb_pkt_free(p);
			nanosleep(&pause, NULL);
		}
	}
	return received;
}

static bool has_fault(const struct nb_stats *st, uint32_t n)
{
	(void)n;
	return st->dev_faults >= 1;
}

static void expect_fault(enum ixgbe_model_misbehaviour mb, uint32_t rounds,
			 const char *text)
{
	struct rig r;
	struct nb_stats st;

	run_hostile(&r, mb, rounds, has_fault, true, &st);
	assert_int_equal(st.dev_faults, 1); /* the queue stopped at the first */
	assert_non_null(nb_dev_fault(r.dev[0]));
	if (strstr(nb_dev_fault(r.dev[0]), text) == NULL)
		fail_msg("fault \"%s\" lacks \"%s\"", nb_dev_fault(r.dev[0]), text);
	rig_teardown(&r);
}

static void test_hostile_rx_len_too_big(void **state)
{
	(void)state;
	expect_fault(IXGBE_MODEL_RX_LEN_TOO_BIG, 1, "wrote length 2112 into a 2048-byte");
}

static void test_hostile_rx_len_zero(void **state)
{
	(void)state;
	expect_fault(IXGBE_MODEL_RX_LEN_ZERO, 1, "wrote length 0");
}

static void test_hostile_tx_out_of_order(void **state)
{
	(void)state;
	expect_fault(IXGBE_MODEL_TX_OUT_OF_ORDER, 4, "done before an earlier one");
}

static void test_hostile_tx_early_dd(void **state)
{
	(void)state;
	expect_fault(IXGBE_MODEL_TX_EARLY_DD, 4, "before it was posted");
}

/* Every frame arrives split or flagged: every one dropped and counted. */
static bool all_dropped(const struct nb_stats *st, uint32_t n)
{
	return st->rx_errors == n;
}

static void expect_all_dropped(enum ixgbe_model_misbehaviour mb)
{
	struct rig r;
	struct nb_stats st;

	assert_int_equal(run_hostile(&r, mb, 8, all_dropped, false, &st), 0);
	assert_int_equal(st.rx_errors, 8 * 32);
	assert_int_equal(st.dev_faults, 0);
	assert_null(nb_dev_fault(r.dev[0]));
	rig_teardown(&r);
}

static void test_hostile_rx_no_eop(void **state)
{
	(void)state;
	expect_all_dropped(IXGBE_MODEL_RX_NO_EOP);
}

static void test_hostile_rx_error_bit(void **state)
{
	(void)state;
	expect_all_dropped(IXGBE_MODEL_RX_ERROR_BIT);
}

/* Relaxed ordering on (as after reset; the driver clears it): the model
 * writes the last DD of a pass first; with 64 frames per TDT write a pass
 * has two write-backs (RS every 32nd), and the batch check stops the queue
 * at once. With it off (every other test) DD bits land in ring order. */
static void test_tx_relaxed_ordering_stops_queue(void **state)
{
	(void)state;
	tx_relaxed_ordering = true;
	hostile_batch = 64;
	expect_fault(IXGBE_MODEL_HONEST, 4, "done before an earlier one");
	hostile_batch = 32;
	tx_relaxed_ordering = false;
}

/* Master disable never completes: the driver resets twice (SU
 * clarification 9) and the device comes up. */
static void test_master_stuck_double_reset(void **state)
{
	struct nb_pool *dma;
	struct nb_mempool *mp;
	struct ixgbe_model *m;
	struct nb_dev *dev = NULL;
	struct ixgbe_model_counts mc;
	struct nb_dev_conf conf = { .link_wait_ms = WAIT_MS };
	uint64_t deadline = now_ms() + WAIT_MS;

	(void)state;
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &dma), 0);
	assert_int_equal(nb_mempool_create(dma, N_BUFS, BUF_SIZE, &mp), 0);
	conf.rx_mempool = mp;
	assert_int_equal(ixgbe_model_create(dma, &m), 0);
	ixgbe_model_set_misbehaviour(m, IXGBE_MODEL_MASTER_STUCK);
	while (!(nb_reg_read32(ixgbe_model_bar(m), M_STATUS) & M_STATUS_GIO_MASTER))
		if (now_ms() > deadline)
			fail_msg("STATUS.GIO master enable never set");
	if (nb_dev_open_pci(ixgbe_model_pci(m), dma, &conf, &dev) < 0)
		fail_msg("open: %s", nb_last_error());
	ixgbe_model_counts(m, &mc);
	assert_int_equal(mc.resets, 2);
	assert_null(ixgbe_model_violation(m));
	nb_dev_close(dev);
	ixgbe_model_destroy(m);
	assert_int_equal(nb_mempool_available(mp), N_BUFS);
	nb_mempool_destroy(mp);
	nb_pool_destroy(dma);
}

/* ---- link: SFP+ module identification, speed, laser ---------------------- */

static void expect_link(enum ixgbe_model_sfp sfp, uint32_t wait_ms, bool up,
			uint32_t speed)
{
	struct rig r;
	struct nb_link link;

	memset(&r, 0, sizeof(r));
	r.n = 1;
	r.ring = RING;
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &r.dma), 0);
	assert_int_equal(nb_mempool_create(r.dma, N_BUFS, BUF_SIZE, &r.tx_mp), 0);
	assert_int_equal(nb_mempool_create(r.dma, N_BUFS, BUF_SIZE, &r.rx_mp[0]), 0);
	assert_int_equal(ixgbe_model_create(r.dma, &r.model[0]), 0);
	ixgbe_model_set_sfp(r.model[0], sfp);
	{
		struct nb_dev_conf conf = { .rx_ring_size = RING, .tx_ring_size = RING,
					    .rx_mempool = r.rx_mp[0], .link_wait_ms = wait_ms };

		if (nb_dev_open_pci(ixgbe_model_pci(r.model[0]), r.dma, &conf, &r.dev[0]) < 0)
			fail_msg("open: %s", nb_last_error());
	}
	assert_int_equal(nb_dev_link(r.dev[0], &link), 0);
	assert_int_equal(link.up, up);
	assert_int_equal(link.speed_mbps, speed);
	if (up) { /* traffic flows at that speed too */
		send_frames(r.dev[0], r.tx_mp, 0, 32);
		receive_frames(r.dev[0], 0, 32);
	}
	rig_teardown(&r);
}

/* The module's EEPROM says 1000BASE-SX only: the driver sets 1 Gb/s. */
static void test_link_1g_module(void **state)
{
	(void)state;
	expect_link(IXGBE_MODEL_SFP_1G, WAIT_MS, true, 1000);
}

/* A dual-rate module whose far end runs 1 Gb/s: 10 Gb/s first, then 1. */
static void test_link_multispeed_falls_back(void **state)
{
	(void)state;
	expect_link(IXGBE_MODEL_SFP_DUAL_PEER_1G, 400, true, 1000);
}

/* An empty cage: open succeeds, the link stays down. */
static void test_link_no_module(void **state)
{
	(void)state;
	expect_link(IXGBE_MODEL_SFP_NONE, 200, false, 0);
}

/* ---- the model's init-order rules, broken on purpose --------------------- */

static struct ixgbe_model *rule_model(struct nb_pool **dma)
{
	struct ixgbe_model *m;

	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, dma), 0);
	assert_int_equal(ixgbe_model_create(*dma, &m), 0);
	return m;
}

static void expect_violation(struct ixgbe_model *m, struct nb_pool *dma, const char *rule)
{
	const char *v = ixgbe_model_violation(m);

	if (v == NULL || strncmp(v, rule, strlen(rule)) != 0)
		fail_msg("expected violation %s, model says %s", rule, v ? v : "none");
	ixgbe_model_destroy(m);
	nb_pool_destroy(dma);
}

static void bus_master_on(struct ixgbe_model *m)
{
	uint16_t cmd = 1u << 2;

	assert_int_equal(ixgbe_model_pci(m)->ops->cfg_write(ixgbe_model_pci(m), 4, &cmd, 2), 0);
}

/* R1: reset with bus mastering on and no master disable first. */
static void test_rule_reset_needs_master_disable(void **state)
{
	struct nb_pool *dma;
	struct ixgbe_model *m = rule_model(&dma);
	volatile uint8_t *bar = ixgbe_model_bar(m);
	uint64_t deadline = now_ms() + WAIT_MS;

	(void)state;
	bus_master_on(m);
	while (!(nb_reg_read32(bar, M_STATUS) & M_STATUS_GIO_MASTER))
		if (now_ms() > deadline)
			fail_msg("STATUS.GIO master enable never set");
	nb_reg_write32(bar, M_CTRL, M_CTRL_RST);
	expect_violation(m, dma, "R1");
}

/* R2: setup written while the reset runs. */
static void test_rule_no_setup_during_reset(void **state)
{
	struct nb_pool *dma;
	struct ixgbe_model *m = rule_model(&dma);
	volatile uint8_t *bar = ixgbe_model_bar(m);

	(void)state;
	nb_reg_write32(bar, M_CTRL, M_CTRL_RST);
	nb_reg_write32(bar, M_HLREG0, M_HLREG0_RXCRCSTRP);
	expect_violation(m, dma, "R2");
}

/* R3: receive enabled (with the errata steps) before queue 0 exists. */
static void test_rule_rx_enable_after_queue_setup(void **state)
{
	struct nb_pool *dma;
	struct ixgbe_model *m = rule_model(&dma);
	volatile uint8_t *bar = ixgbe_model_bar(m);

	(void)state;
	nb_reg_write32(bar, M_SECRXCTRL, M_SECRXCTRL_RX_DIS);
	assert_true(nb_reg_read32(bar, M_SECRXSTAT) & M_SECRXSTAT_RDY);
	nb_reg_write32(bar, M_RXCTRL, M_RXCTRL_RXEN);
	expect_violation(m, dma, "R3");
}

/* R4: receive switched on a working device without the security block
 * rx path off (the erratum): a fully set up queue, so only R4 applies. */
static void test_rule_rx_enable_needs_secrx_off(void **state)
{
	struct rig r;

	(void)state;
	rig_setup(&r, 1);
	{
		volatile uint8_t *bar = ixgbe_model_bar(r.model[0]);

		nb_reg_write32(bar, M_RXCTRL, 0);
		assert_non_null(ixgbe_model_violation(r.model[0]));
		assert_non_null(strstr(ixgbe_model_violation(r.model[0]), "R4"));
	}
	for (int i = 0; i < r.n; i++)
		nb_dev_close(r.dev[i]);
	ixgbe_model_destroy(r.model[0]);
	nb_mempool_destroy(r.tx_mp);
	nb_mempool_destroy(r.rx_mp[0]);
	nb_pool_destroy(r.dma);
}

/* R5: a transmit queue enabled before DMATXCTL.TE. */
static void test_rule_tx_enable_order(void **state)
{
	struct nb_pool *dma;
	struct ixgbe_model *m = rule_model(&dma);
	volatile uint8_t *bar = ixgbe_model_bar(m);

	(void)state;
	nb_reg_write32(bar, M_TXDCTL(0), M_TXDCTL_ENABLE);
	nb_reg_write32(bar, M_DMATXCTL, M_DMATXCTL_TE);
	expect_violation(m, dma, "R5");
}

/* The driver never reads RDH/TDH, so garbage there changes nothing. */
static void test_hostile_corrupt_heads(void **state)
{
	struct rig r;

	(void)state;
	rig_setup(&r, 1);
	ixgbe_model_set_misbehaviour(r.model[0], IXGBE_MODEL_CORRUPT_HEADS);
	for (uint32_t k = 0; k < 40; k++) {
		send_frames(r.dev[0], r.tx_mp, k * 32, 32);
		receive_frames(r.dev[0], k * 32, 32);
	}
	assert_null(nb_dev_fault(r.dev[0]));
	rig_teardown(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_init_timeout),
		cmocka_unit_test(test_bad_conf),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_loopback_small_ring),
		cmocka_unit_test(test_tx_bad_length),
		cmocka_unit_test(test_forward_pair),
		cmocka_unit_test(test_rss_queues),
		cmocka_unit_test(test_interrupt_wakes_the_waiter),
		cmocka_unit_test(test_masked_vector_stays_silent),
		cmocka_unit_test(test_hostile_rx_len_too_big),
		cmocka_unit_test(test_hostile_rx_len_zero),
		cmocka_unit_test(test_hostile_rx_no_eop),
		cmocka_unit_test(test_hostile_rx_error_bit),
		cmocka_unit_test(test_hostile_corrupt_heads),
		cmocka_unit_test(test_hostile_tx_out_of_order),
		cmocka_unit_test(test_hostile_tx_early_dd),
		cmocka_unit_test(test_tx_relaxed_ordering_stops_queue),
		cmocka_unit_test(test_master_stuck_double_reset),
		cmocka_unit_test(test_link_1g_module),
		cmocka_unit_test(test_link_multispeed_falls_back),
		cmocka_unit_test(test_link_no_module),
		cmocka_unit_test(test_rule_reset_needs_master_disable),
		cmocka_unit_test(test_rule_no_setup_during_reset),
		cmocka_unit_test(test_rule_rx_enable_after_queue_setup),
		cmocka_unit_test(test_rule_rx_enable_needs_secrx_off),
		cmocka_unit_test(test_rule_tx_enable_order),
	};

	/* The driver-mutant ctests run one test (test/model/CMakeLists.txt). */
	if (getenv("NB_TEST_FILTER") != NULL && *getenv("NB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("NB_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
