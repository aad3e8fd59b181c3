/* SPDX-License-Identifier: MIT */
/*
 * nicbox-fwd - forward every frame between two NICs, both directions.
 *
 * Both devices live in one session and so in one IOMMU container: a buffer
 * received on one is sent from the other as it is, without a copy. Frames
 * the transmit ring did not take are freed and counted as drops.
 *
 * With --queues N (N > 1) each direction of each queue pair has its own
 * thread: the thread for (A -> B, q) receives on A's queue q and sends on
 * B's queue q, so queue q's mempool of A is used by that thread alone (its
 * buffers come back when B's queue q reclaims them, in the same thread).
 * The main thread only reports. With one queue, one thread does it all.
 */

#include "common.h"

/*
 * Read and write back one byte of every packet, as ixy-fwd touches each
 * packet: the data crosses the CPU cache like in a real forwarder, yet the
 * frame leaves unchanged.
 */
static void touch(struct nb_pkt **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		volatile uint8_t *b = &pkts[i]->data[1];

		*b = *b;
	}
}

/* One batch from `in` to `out` on queue q; returns how many frames came in. */
static uint16_t forward(struct app_port *in, struct app_port *out, uint16_t q)
{
	struct nb_pkt *pkts[APP_BATCH];
	uint16_t n = nb_rx_batch(in->dev, q, pkts, APP_BATCH);
	uint16_t sent;

	if (!n)
		return 0;
	touch(pkts, n);
	sent = nb_tx_batch(out->dev, q, pkts, n);
	app_count(&in->q[q].rx, n);
	app_count(&out->q[q].tx, sent);
	if (sent < n) {
		nb_pkt_free_bulk(pkts + sent, n - sent);
		app_count(&out->q[q].drops, n - sent);
	}
	return n;
}

/* One direction of one queue pair (--queues N > 1), waiting per --rx-mode. */
static void forward_queue(struct app_worker *w)
{
	struct app *a = w->a;
	struct nb_rx_idle idle;
	uint64_t now = app_now_ns();
	unsigned round = 0;

	if (app_idle_init(a, &idle, (int)w->port, w->queue) < 0)
		return;
	while (app_running(a, now)) {
		uint16_t got = forward(&a->port[w->port], &a->port[1 - w->port],
				       w->queue);

		if (app_clock_due(&round, app_idle(a, &idle, got)))
			now = app_now_ns();
	}
}

int main(int argc, char **argv)
{
	struct app_cli cli = {
		.prog = "nicbox-fwd",
		.synopsis = "--dev DEV --dev DEV [--queues N] [--rx-mode MODE]"
			    " [--duration SECONDS] [--socket PATH] [--json] [--stats-fd N]",
		.help = "Forward frames between two NICs in both directions.\n\n"
			"  --dev DEV           a NIC to forward between (give"
			" two)\n"
			APP_RX_MODE_HELP,
		.n_devs_required = 2,
		.rx_mode_option = true,
		.stats_fd_option = true,
	};
	struct app_setup setup = { .promisc = true };
	struct nb_rx_idle idle;
	struct app a;
	int status = APP_EXIT_FAILURE;

	app_parse(&cli, argc, argv);
	if (cli.queues > 1)
		setup.worker = forward_queue;
	if (app_start(&a, &cli, &setup) == 0 &&
	    (setup.worker || app_idle_init(&a, &idle, -1, 0) == 0)) {
		uint64_t now = app_now_ns();
		unsigned round = 0;

		while (app_running(&a, now)) {
			bool slept = true;

			if (setup.worker) {
				app_sleep_ns(10000000); /* the workers forward */
			} else {
				unsigned got = forward(&a.port[0], &a.port[1], 0);

				got += forward(&a.port[1], &a.port[0], 0);
				slept = app_idle(&a, &idle, got);
			}
			if (!app_clock_due(&round, slept))
				continue;
			now = app_now_ns();
			if (app_report_due(&a, now))
				app_report(&a, now, false, NULL, 0);
		}
		app_stop_workers(&a);
		app_report(&a, app_now_ns(), true, NULL, 0);
		status = a.failed ? APP_EXIT_FAILURE : APP_EXIT_OK;
	}
	app_finish(&a);
	return status;
}
