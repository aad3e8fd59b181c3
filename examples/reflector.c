/* SPDX-License-Identifier: MIT */
/*
 * reflector.c - the smallest complete nicbox program: receive on one NIC,
 * swap each frame's Ethernet source and destination addresses and send it
 * back out of the same NIC. It uses only the public header <nicbox.h>.
 *
 *   cc reflector.c $(pkg-config --cflags --libs libnicbox) -o reflector
 *   ./reflector DEV [SECONDS]
 *
 * DEV is a PCI address or interface name the helper's policy lets you
 * claim. It runs until SIGINT/SIGTERM, or for SECONDS, then prints
 * "reflected N frames, M not sent (ring full)" and exits 0 (1 on failure).
 * docs/writing-an-app.md walks through it.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nicbox.h>

#define BATCH 32
#define BUFS 2048       /* receive buffers: a ring plus frames in flight */
#define BUF_SIZE 2048   /* a full 1514-byte frame fits */
#define POOL_BYTES (16u << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void swap_macs(uint8_t *frame)
{
	uint8_t tmp[6];

	memcpy(tmp, frame, 6);         /* destination */
	memcpy(frame, frame + 6, 6);   /* source -> destination */
	memcpy(frame + 6, tmp, 6);     /* destination -> source */
}

/* Reflect until told to stop; returns frames sent and counts the rest. */
static uint64_t reflect(struct nb_dev *dev, double end, uint64_t *unsent)
{
	struct nb_pkt *pkts[BATCH];
	uint64_t sent = 0;

	while (!stop && (end == 0 || now_s() < end)) {
		uint16_t n = nb_rx_batch(dev, 0, pkts, BATCH);
		uint16_t done = 0;

		for (uint16_t i = 0; i < n; i++)
			if (pkts[i]->len >= 14)
				swap_macs(pkts[i]->data);
		if (n)
			done = nb_tx_batch(dev, 0, pkts, n);
		/* What the transmit ring did not take is still ours. */
		nb_pkt_free_bulk(pkts + done, n - done);
		sent += done;
		*unsent += n - done;
		if (nb_dev_fault(dev)) {
			fprintf(stderr, "reflector: device fault: %s\n",
				nb_dev_fault(dev));
			break;
		}
	}
	return sent;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct nb_session *s = NULL;
	struct nb_pool *pool = NULL;
	struct nb_mempool *mp = NULL;
	struct nb_dev *dev = NULL;
	struct nb_dev_conf conf = { .promisc = true };
	static char out_buf[256];
	char note[256] = "";
	double seconds = argc == 3 ? strtod(argv[2], NULL) : 0;
	uint64_t sent, unsent = 0;
	int idx, rc = 1;

	if (argc < 2 || argc > 3 || seconds < 0) {
		fprintf(stderr, "usage: %s DEV [SECONDS]\n", argv[0]);
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* stdout's buffer now: glibc would allocate it (and fstat) on the first
	 * printf, which after lockdown is more than the process needs. */
	setvbuf(stdout, out_buf, _IOLBF, sizeof(out_buf));

	/* 1. Claim the NIC and get DMA memory from nicbox-helper. */
	if (nb_session_open(NULL, &s) < 0 ||
	    (idx = nb_session_claim(s, argv[1])) < 0 ||
	    nb_session_pool(s, POOL_BYTES, NB_PAGE_DEFAULT, &pool, note,
			    sizeof(note)) < 0 ||
	    nb_session_ready(s) < 0)
		goto out;
	if (note[0])
		fprintf(stderr, "reflector: %s\n", note);

	/* 2. Receive buffers and the device, brought up promiscuous. */
	if (nb_mempool_create(pool, BUFS, BUF_SIZE, &mp) < 0)
		goto out;
	conf.rx_mempool = mp;
	if (nb_dev_open(s, idx, pool, &conf, &dev) < 0)
		goto out;

	/* 3. Lock down: from here no file, socket or privilege is reachable. */
	if (nb_lockdown(s, NULL, 0, note, sizeof(note)) < 0)
		goto out;
	if (note[0])
		fprintf(stderr, "reflector: %s\n", note);
	fprintf(stderr, "reflector: ready: %s (%s), pid %d\n", nb_dev_name(dev),
		nb_dev_driver(dev), (int)getpid());

	/* 4. The data path. */
	sent = reflect(dev, seconds > 0 ? now_s() + seconds : 0, &unsent);
	printf("reflected %" PRIu64 " frames, %" PRIu64
	       " not sent (ring full)\n", sent, unsent);
	rc = nb_dev_fault(dev) ? 1 : 0;
out:
	if (rc)
		fprintf(stderr, "reflector: %s\n", nb_last_error());
	if (dev)
		nb_dev_close(dev);
	if (mp)
		nb_mempool_destroy(mp);
	if (pool)
		nb_pool_destroy(pool);
	if (s)
		nb_session_close(s);
	return rc;
}
