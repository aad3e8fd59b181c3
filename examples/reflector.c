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
	struct nb_ports *ports = NULL;
	struct nb_port_conf conf = { .promisc = true }; /* default rings and buffers */
	struct nb_dev_info info;
	struct nb_dev *dev;
	static char out_buf[256];
	char note[512] = "";
	double seconds = argc == 3 ? strtod(argv[2], NULL) : 0;
	uint64_t sent, unsent = 0;
	int rc = 1;

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

	/* 1. Connect to nicbox-helper; claim the NIC, get a DMA pool sized for
	 *    its rings and receive buffers, open it promiscuous: one call. */
	if (nb_session_open(NULL, &s) < 0 ||
	    nb_ports_open(s, (const char *[]){ argv[1] }, 1, &conf, &ports, note,
			  sizeof(note)) < 0)
		goto out;
	if (note[0])
		fprintf(stderr, "reflector: %s\n", note);
	dev = nb_ports_dev(ports, 0);

	/* 2. What was opened. */
	if (nb_dev_info(dev, &info) < 0)
		goto out;
	fprintf(stderr, "reflector: %s (%s) %02x:%02x:%02x:%02x:%02x:%02x, link %s, "
		"%u/%u descriptors\n", info.pci, info.driver, info.mac[0], info.mac[1],
		info.mac[2], info.mac[3], info.mac[4], info.mac[5], info.link.up ? "up" : "down",
		info.rx_ring_size, info.tx_ring_size);

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
	nb_ports_close(ports);
	if (s)
		nb_session_close(s);
	return rc;
}
