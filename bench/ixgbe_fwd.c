/* SPDX-License-Identifier: MIT */
/*
 * ixgbe_fwd.c - forwarding workload for bench/ring-bench.sh: two 82599
 * models wired back to back (A.tx -> B.rx, B.tx -> A.rx), the unchanged
 * ixgbe driver on each, and an ixy-style forwarder: whatever B receives
 * goes out of A, whatever A receives goes out of B. The models are the
 * wire; 2 x IN_FLIGHT frames circulate until `packets` were forwarded.
 *
 * The work to measure is exactly the forwarding step (fwd_step): receive,
 * transmit (with its clean-up), free what did not fit. Its callees are the
 * driver and the mempool; the models run in other threads. The script
 * counts instructions in this thread with callgrind (--toggle-collect on
 * fwd_step); the program prints how many packets it forwarded, in how many
 * steps, how many steps got less than a full batch (should be 0), and the
 * TSC ticks spent inside the steps.
 *
 * Modes: full (as above); touch (also read the first cache line of every
 * frame received, as a forwarder that looks at headers does); half (after
 * every full step one more poll of the same queue, right away: it mostly
 * finds nothing, as only one batch per direction circulates, so the loop
 * runs about 50% loaded and the empty polls are counted; the program says
 * how many were empty).
 *
 * Usage: ixgbe_fwd_bench BATCH PACKETS [full|half|touch]
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "ixgbe_model.h"

#define IN_FLIGHT 256u
#define FRAME_LEN 60u
#define MAX_BATCH 64u

/* Not static and not inlined: callgrind toggles collection on it.
 * Returns how many frames it received (and so forwarded or dropped). */
uint32_t fwd_step(struct nb_dev *from, struct nb_dev *to, uint16_t batch);

static bool touch;

__attribute__((noinline)) uint32_t fwd_step(struct nb_dev *from,
					    struct nb_dev *to, uint16_t batch)
{
	struct nb_pkt *pkts[MAX_BATCH];
	uint16_t got = nb_rx_batch(from, 0, pkts, batch), sent;

	if (touch)
		for (uint16_t i = 0; i < got; i++)
			(void)*(volatile uint8_t *)pkts[i]->data;
	sent = nb_tx_batch(to, 0, pkts, got);

	if (sent < got)
		nb_pkt_free_bulk(&pkts[sent], (uint32_t)(got - sent));
	return got;
}

/*
 * Outside the measurement: wait until the model has written at least
 * `batch` frames we have not received yet, so every measured step works on
 * a full batch, as a forwarder under load does (no empty polls counted).
 */
static int wait_for_batch(const struct ixgbe_model *m, uint64_t received,
			  unsigned long batch)
{
	struct ixgbe_model_counts c;

	for (unsigned long spins = 0; spins < 100000000ul; spins++) {
		ixgbe_model_counts(m, &c);
		if (c.frames_delivered - received >= batch)
			return 0;
		sched_yield();
	}
	return -1;
}

static int die(const char *what)
{
	fprintf(stderr, "ixgbe_fwd_bench: %s: %s\n", what, nb_last_error());
	return 1;
}

static int inject(struct nb_dev *dev, struct nb_mempool *mp, uint32_t n)
{
	struct nb_pkt *pkts[IN_FLIGHT];

	if (nb_pkt_alloc_bulk(mp, pkts, n) != n)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		memset(pkts[i]->data, 0xFF, FRAME_LEN);
		pkts[i]->len = FRAME_LEN;
	}
	return nb_tx_batch(dev, 0, pkts, (uint16_t)n) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct nb_mempool *mp[2];
	struct ixgbe_model *m[2];
	struct nb_dev *dev[2];
	struct nb_pool *dma;
	unsigned long batch, want, done = 0, steps = 0, short_steps = 0, empty = 0;
	uint64_t received[2] = { 0, 0 }, tsc = 0, t0;
	const char *mode = argc == 4 ? argv[3] : "full";
	bool half = strcmp(mode, "half") == 0;

	touch = strcmp(mode, "touch") == 0;
	if ((argc != 3 && argc != 4) || (batch = strtoul(argv[1], NULL, 0)) == 0 ||
	    batch > MAX_BATCH || (want = strtoul(argv[2], NULL, 0)) == 0 ||
	    (!half && !touch && strcmp(mode, "full") != 0)) {
		fprintf(stderr, "usage: %s BATCH(1..%u) PACKETS [full|half|touch]\n",
			argv[0], MAX_BATCH);
		return 2;
	}
	if (nb_pool_create_unmapped(64u << 20, 0x100000000ull, &dma) < 0)
		return die("pool");
	if (ixgbe_model_create_pair(dma, &m[0], &m[1]) < 0)
		return die("model");
	for (int i = 0; i < 2; i++) {
		struct nb_dev_conf conf = { .rx_mempool = NULL, .promisc = true };

		if (nb_mempool_create(dma, 4096, 2048, &mp[i]) < 0)
			return die("mempool");
		conf.rx_mempool = mp[i];
		if (nb_dev_open_pci(ixgbe_model_pci(m[i]), dma, &conf, &dev[i]) < 0)
			return die("open");
	}
	/* half: only one batch circulates per direction, so the poll right
	 * after a step finds the ring empty until the model loops frames back. */
	if (inject(dev[0], mp[0], half ? (uint32_t)batch : IN_FLIGHT) < 0 ||
	    inject(dev[1], mp[1], half ? (uint32_t)batch : IN_FLIGHT) < 0)
		return die("inject");
	while (done < want) {
		for (int i = 0; i < 2; i++) {
			uint32_t n;

			if (wait_for_batch(m[i], received[i], batch) < 0) {
				fprintf(stderr, "ixgbe_fwd_bench: model %d stalled\n", i);
				return 1;
			}
			t0 = __rdtsc();
			n = fwd_step(dev[i], dev[!i], (uint16_t)batch);
			tsc += __rdtsc() - t0;
			steps++;
			short_steps += n < batch;
			received[i] += n;
			done += n;
			if (half) { /* the poll right after: mostly empty */
				n = fwd_step(dev[i], dev[!i], (uint16_t)batch);
				steps++;
				empty += n == 0;
				received[i] += n;
				done += n;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		struct nb_stats st;

		nb_dev_stats(dev[i], &st);
		if (st.dev_faults || st.rx_errors)
			fprintf(stderr, "dev %d: faults %llu errors %llu\n", i,
				(unsigned long long)st.dev_faults,
				(unsigned long long)st.rx_errors);
	}
	printf("forwarded %lu steps %lu short %lu empty %lu tsc %llu\n", done,
	       steps, short_steps, empty, (unsigned long long)tsc);
	for (int i = 0; i < 2; i++)
		nb_dev_close(dev[i]);
	for (int i = 0; i < 2; i++) {
		ixgbe_model_destroy(m[i]);
		nb_mempool_destroy(mp[i]);
	}
	nb_pool_destroy(dma);
	return 0;
}
