/* SPDX-License-Identifier: MIT */
/*
 * nicbox-rx-wake - wake-up latency of the first frame after idle, for
 * bench/vm-irq.sh. Two NICs on one wire (the testbed's hub 0: 04 and 05):
 * a sender thread (started before lockdown) sends one frame on the first
 * every --gap-ms and notes the time; the main thread receives on the second
 * in --rx-mode, with nb_rx_idle as the apps do, and notes when the frame is
 * in its hands. Prints one JSON line: the mode and the median, 90th
 * percentile and largest latency in microseconds over --count frames.
 * Latency includes the wire (the QEMU hub) in every mode, so only the
 * difference between modes is the cost of sleeping.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "frame.h"

#define MAX_SAMPLES 1000

enum { OPT_COUNT = APP_OPT_APP_FIRST, OPT_GAP };

static const struct option options[] = {
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "gap-ms", required_argument, NULL, OPT_GAP },
	{ NULL, 0, NULL, 0 },
};

struct wake {
	unsigned count, gap_ms;
	struct app *a;
	pthread_t sender;
	atomic_bool go, stop;
	atomic_uint_fast64_t sent_ns; /* when the last frame left; 0: none yet */
	uint64_t sample[MAX_SAMPLES];
};

static void handle(void *ctx, int opt, const char *arg)
{
	struct wake *w = ctx;

	if (opt == OPT_COUNT)
		w->count = (unsigned)app_parse_u64("--count", arg, 1, MAX_SAMPLES);
	else
		w->gap_ms = (unsigned)app_parse_u64("--gap-ms", arg, 10, 10000);
}

/* The sender: one frame per gap, once the receiver has said go. */
static void *sender(void *arg)
{
	struct wake *w = arg;
	struct frame_addrs addrs;
	uint8_t mac[6] = { 0 };
	struct timespec gap = { w->gap_ms / 1000, (long)(w->gap_ms % 1000) * 1000000L };

	while (!atomic_load(&w->go) && !atomic_load(&w->stop))
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	nb_dev_mac(w->a->port[0].dev, mac);
	frame_default_addrs(&addrs, mac);
	for (uint64_t seq = 0; !atomic_load(&w->stop); seq++) {
		struct nb_pkt *p;

		nanosleep(&gap, NULL);
		p = nb_pkt_alloc(w->a->tx_mp);
		if (p == NULL)
			continue; /* the ring has them; tx_batch reclaims */
		frame_build_headers(p->data, FRAME_MIN_SIZE, &addrs);
		frame_stamp(p->data, FRAME_MIN_SIZE, seq);
		p->len = FRAME_MIN_SIZE;
		atomic_store(&w->sent_ns, app_now_ns());
		if (nb_tx_batch(w->a->port[0].dev, 0, &p, 1) != 1)
			nb_pkt_free(p);
	}
	return NULL;
}

static int start_sender(struct app *a, void *ctx)
{
	struct wake *w = ctx;

	w->a = a;
	if (pthread_create(&w->sender, NULL, sender, w) != 0) {
		app_error("cannot start the sender thread");
		return -1;
	}
	return 0;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static void measure(struct app *a, struct wake *w)
{
	struct nb_rxq_ref q = { .dev = a->port[1].dev, .queue = 0 };
	struct nb_rx_idle idle;
	unsigned n = 0;

	if (nb_rx_idle_init(&idle, &q, 1, APP_IDLE_TIMEOUT_MS) < 0) {
		app_error("%s", nb_last_error());
		a->failed = true;
		return;
	}
	atomic_store(&w->go, true);
	while (n < w->count && app_running(a, app_now_ns())) {
		struct nb_pkt *pkts[APP_BATCH];
		uint16_t got = nb_rx_batch(q.dev, 0, pkts, APP_BATCH);

		if (got) {
			uint64_t now = app_now_ns(), sent = atomic_load(&w->sent_ns);

			if (sent && n < MAX_SAMPLES)
				w->sample[n++] = now - sent;
			nb_pkt_free_bulk(pkts, got);
		}
		app_idle(a, &idle, got);
	}
	atomic_store(&w->stop, true);
	pthread_join(w->sender, NULL);
	if (n == 0) {
		app_error("no frame arrived");
		a->failed = true;
		return;
	}
	qsort(w->sample, n, sizeof(w->sample[0]), cmp_u64);
	printf("{\"rx_mode\":\"%s\",\"frames\":%u,\"gap_ms\":%u,\"median_us\":%.1f,"
	       "\"p90_us\":%.1f,\"max_us\":%.1f,\"sleeps\":%llu}\n",
	       nb_dev_rx_mode(q.dev) == NB_RX_POLL ? "poll"
	       : nb_dev_rx_mode(q.dev) == NB_RX_INTERRUPT ? "interrupt" : "adaptive",
	       n, w->gap_ms, (double)w->sample[n / 2] / 1e3,
	       (double)w->sample[n * 9 / 10] / 1e3, (double)w->sample[n - 1] / 1e3,
	       (unsigned long long)idle.sleeps);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct wake w = { .count = 20, .gap_ms = 200 };
	struct app_cli cli = {
		.prog = "nicbox-rx-wake",
		.synopsis = "--dev SENDER --dev RECEIVER [--rx-mode MODE]"
			    " [--count N] [--gap-ms MS] [--socket PATH]",
		.help = "Wake-up latency of the first frame after idle (a"
			" benchmark tool).\n\n"
			"  --dev DEV           the sender, then the receiver (one"
			" wire)\n"
			"  --count N           frames to time (default 20)\n"
			"  --gap-ms MS         idle time before each frame (default"
			" 200)\n" APP_RX_MODE_HELP,
		.n_devs_required = 2,
		.options = options,
		.handle = handle,
		.ctx = &w,
		.rx_mode_option = true,
	};
	struct app_setup setup = { .promisc = true, .tx_bufs = 64,
				   .prepare = start_sender, .prepare_ctx = &w };
	struct app a;
	int status = APP_EXIT_FAILURE;

	app_parse(&cli, argc, argv);
	if (app_start(&a, &cli, &setup) == 0) {
		measure(&a, &w);
		status = a.failed ? APP_EXIT_FAILURE : APP_EXIT_OK;
	} else if (w.a != NULL) {
		atomic_store(&w.stop, true);
		pthread_join(w.sender, NULL);
	}
	app_finish(&a);
	return status;
}
