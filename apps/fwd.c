/* SPDX-License-Identifier: MIT */
/*
 * nicbox-fwd - forward every frame between two NICs, both directions.
 *
 * Both devices live in one session and so in one IOMMU container: a buffer
 * received on one is sent from the other as it is, without a copy. Frames
 * the transmit ring did not take are freed and counted as drops.
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

/* One batch from `in` to `out`; returns how many frames came in. */
static uint16_t forward(struct app_port *in, struct app_port *out)
{
	struct nb_pkt *pkts[APP_BATCH];
	uint16_t n = nb_rx_batch(in->dev, 0, pkts, APP_BATCH);
	uint16_t sent;

	if (!n)
		return 0;
	touch(pkts, n);
	sent = nb_tx_batch(out->dev, 0, pkts, n);
	if (sent < n) {
		nb_pkt_free_bulk(pkts + sent, n - sent);
		out->app_drops += n - sent;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct app_cli cli = {
		.prog = "nicbox-fwd",
		.synopsis = "--dev DEV --dev DEV [--rx-mode MODE]"
			    " [--duration SECONDS] [--socket PATH] [--json]",
		.help = "Forward frames between two NICs in both directions.\n\n"
			"  --dev DEV           a NIC to forward between (give"
			" two)\n"
			APP_RX_MODE_HELP,
		.n_devs_required = 2,
		.rx_mode_option = true,
	};
	struct app_setup setup = { .promisc = true };
	struct nb_rx_idle idle;
	struct app a;
	int status = APP_EXIT_FAILURE;

	app_parse(&cli, argc, argv);
	if (app_start(&a, &cli, &setup) == 0 && app_idle_init(&a, &idle) == 0) {
		uint64_t now = app_now_ns();

		while (app_running(&a, now)) {
			unsigned got = forward(&a.port[0], &a.port[1]);

			got += forward(&a.port[1], &a.port[0]);
			app_idle(&a, &idle, got);
			now = app_now_ns();
			if (app_report_due(&a, now))
				app_report(&a, now, false, NULL, 0);
		}
		app_report(&a, app_now_ns(), true, NULL, 0);
		status = a.failed ? APP_EXIT_FAILURE : APP_EXIT_OK;
	}
	app_finish(&a);
	return status;
}
