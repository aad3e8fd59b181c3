/* SPDX-License-Identifier: MIT */
/*
 * nicbox-pktgen - send numbered test frames (see frame.h) from one NIC,
 * optionally at a fixed rate, for a count of frames or a time.
 *
 * Every transmit buffer gets its headers once at start; per packet only
 * the sequence number and the payload pattern are written. Frames the
 * transmit ring did not take are freed and their sequence numbers reused,
 * so the stream a receiver sees has no gaps of our making.
 *
 * --queues N sends N flows (N > 1), all from transmit queue 0 of the one
 * queue pair pktgen opens: frame seq belongs to flow seq % N, which has
 * its own IPv4 source address, chosen so that a receiver hashing with the
 * default RSS key and all hash types (nb_rss_default_key(),
 * NB_RSS_DEFAULT_TYPES) over N queues with nicbox's redirection table
 * puts flow f on queue f. Sequence numbers stay one stream; each flow's
 * frames keep their order on their queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"
#include "frame.h"
#include "latency.h"

#define NS_PER_S 1000000000ull
#define MAX_RATE 1000000000ull /* pps; far above any link */
#define MAX_COUNT (UINT64_MAX / 2)
/* At the end: how long to wait for the device to send what is queued. */
#define TX_DRAIN_NS (2 * NS_PER_S)
/* Idle waits shorter than this are spun; longer ones sleep. */
#define MIN_SLEEP_NS 50000ull
#define MAX_SLEEP_NS 1000000ull

enum {
	OPT_SIZE = APP_OPT_APP_FIRST,
	OPT_RATE,
	OPT_COUNT,
	OPT_PORT,
	OPT_TIMESTAMP,
};

static const struct option pktgen_options[] = {
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "timestamp", no_argument, NULL, OPT_TIMESTAMP },
	{ NULL, 0, NULL, 0 },
};

#define FLOW_SRC_BASE 0x0a000100u /* 10.0.1.0: flows' addresses from here */
#define FLOW_SEARCH 65536u         /* addresses tried per flow */

struct pktgen_opts {
	uint32_t size;
	uint64_t rate;  /* frames per second; 0: as fast as the ring takes */
	uint64_t count; /* 0: until --duration or a signal */
	uint16_t port;  /* UDP source and destination port */
	unsigned n_flows;                /* --queues: 1 = the classic stream */
	uint32_t flow_src[NB_MAX_QUEUES]; /* each flow's IPv4 source */
	bool timestamp; /* send time in each frame (latency.h) */
};

/*
 * For each flow f of n: the first source address from FLOW_SRC_BASE on
 * (not taken by an earlier flow) whose frame the receiver's RSS puts on
 * queue f (see the top). `hdr` holds built headers; 0 or -1 (reported).
 */
static int choose_flows(struct pktgen_opts *o, uint8_t *hdr)
{
	uint32_t next = FLOW_SRC_BASE;

	for (unsigned f = 0; f < o->n_flows; f++) {
		uint32_t tries = 0, hash = 0;

		for (;; next++) {
			frame_set_src_ip(hdr, next);
			if (nb_rss_frame_hash(nb_rss_default_key(), NB_RSS_DEFAULT_TYPES,
					      hdr, FRAME_PATTERN_OFF, &hash) == 0 &&
			    nb_rss_queue(hash, (uint16_t)o->n_flows) == f)
				break;
			if (++tries == FLOW_SEARCH) {
				app_error("no source address for flow %u of %u", f, o->n_flows);
				return -1;
			}
		}
		o->flow_src[f] = next++;
	}
	return 0;
}

static void handle_option(void *ctx, int opt, const char *arg)
{
	struct pktgen_opts *o = ctx;

	switch (opt) {
	case OPT_SIZE:
		o->size = (uint32_t)app_parse_u64("--size", arg, FRAME_MIN_SIZE,
						  FRAME_MAX_SIZE);
		break;
	case OPT_RATE:
		o->rate = app_parse_u64("--rate", arg, 1, MAX_RATE);
		break;
	case OPT_COUNT:
		o->count = app_parse_u64("--count", arg, 1, MAX_COUNT);
		break;
	case OPT_PORT:
		o->port = (uint16_t)app_parse_u64("--port", arg, 1, 65535);
		break;
	case OPT_TIMESTAMP:
		o->timestamp = true;
		break;
	}
}

/* Write the fixed headers into every buffer of the transmit mempool. */
static int prepare_tx_buffers(struct app *a, void *ctx)
{
	struct pktgen_opts *o = ctx;
	uint8_t hdr[FRAME_PATTERN_OFF];
	uint32_t n = nb_mempool_count(a->tx_mp);
	struct nb_pkt **all = calloc(n, sizeof(*all));
	struct frame_addrs addrs;
	uint8_t mac[6];
	uint32_t got;

	if (!all) {
		app_error("out of memory");
		return -1;
	}
	if (nb_dev_mac(a->port[0].dev, mac) < 0) {
		app_error("cannot read the MAC address: %s", nb_last_error());
		free(all);
		return -1;
	}
	frame_default_addrs(&addrs, mac);
	addrs.udp_port = o->port;
	frame_build_headers(hdr, o->size, &addrs);
	if (o->n_flows > 1 && choose_flows(o, hdr) < 0) {
		free(all);
		return -1;
	}
	got = nb_pkt_alloc_bulk(a->tx_mp, all, n);
	for (uint32_t i = 0; i < got; i++)
		frame_build_headers(all[i]->data, o->size, &addrs);
	nb_pkt_free_bulk(all, got);
	free(all);
	if (got != n) {
		app_error("the transmit mempool gave %u of %u buffers", got, n);
		return -1;
	}
	return 0;
}

/* Frames the rate allows now, at most one batch. */
static uint32_t rate_budget(uint64_t rate, uint64_t elapsed_ns, uint64_t sent)
{
	uint64_t due = (uint64_t)((unsigned __int128)elapsed_ns * rate / NS_PER_S);

	if (due <= sent)
		return 0;
	return due - sent < APP_BATCH ? (uint32_t)(due - sent) : APP_BATCH;
}

/* Sleep towards the next frame's due time when it is far enough away. */
static void wait_for_rate(uint64_t rate, uint64_t elapsed_ns, uint64_t sent)
{
	uint64_t next_ns = (uint64_t)((unsigned __int128)(sent + 1) * NS_PER_S / rate);
	uint64_t wait_ns = next_ns > elapsed_ns ? next_ns - elapsed_ns : 0;
	struct timespec ts;

	if (wait_ns < MIN_SLEEP_NS)
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(wait_ns < MAX_SLEEP_NS ? wait_ns : MAX_SLEEP_NS);
	nanosleep(&ts, NULL);
}

/* Receive and drop whatever arrives, so our own receive ring never backs up. */
static void drain_rx(struct nb_dev *dev)
{
	struct nb_pkt *pkts[APP_BATCH];
	uint16_t n = nb_rx_batch(dev, 0, pkts, APP_BATCH);

	if (n)
		nb_pkt_free_bulk(pkts, n);
}

/* --timestamp: the send time, read once per batch, into every frame. */
static void stamp_batch(struct nb_pkt **pkts, uint32_t n)
{
	uint64_t now = app_now_ns();

	for (uint32_t i = 0; i < n; i++)
		latency_stamp(pkts[i]->data, now);
}

static uint64_t send_batch(struct app *a, const struct pktgen_opts *o,
			   uint32_t want, uint64_t seq)
{
	struct nb_pkt *pkts[APP_BATCH];
	uint32_t n = nb_pkt_alloc_bulk(a->tx_mp, pkts, want);
	uint16_t sent;

	for (uint32_t i = 0; i < n; i++) {
		if (o->n_flows > 1)
			frame_set_src_ip(pkts[i]->data, o->flow_src[(seq + i) % o->n_flows]);
		frame_stamp(pkts[i]->data, o->size, seq + i);
		pkts[i]->len = o->size;
	}
	if (o->timestamp)
		stamp_batch(pkts, n);
	sent = nb_tx_batch(a->port[0].dev, 0, pkts, (uint16_t)n);
	if (sent < n)
		nb_pkt_free_bulk(pkts + sent, n - sent);
	return sent;
}

/* All transmit buffers are back: the device has sent every frame. */
static bool tx_done(struct app *a)
{
	/* A zero-length call lets the driver reclaim completed buffers. */
	nb_tx_batch(a->port[0].dev, 0, NULL, 0);
	return nb_mempool_available(a->tx_mp) == nb_mempool_count(a->tx_mp);
}

/*
 * Wait (at most TX_DRAIN_NS) until the device has sent every frame on the
 * ring, so stopping does not cut the stream short.
 */
static void drain_tx(struct app *a)
{
	uint64_t start = app_now_ns();

	while (!tx_done(a) && app_now_ns() - start < TX_DRAIN_NS)
		drain_rx(a->port[0].dev);
}

static void run(struct app *a, const struct pktgen_opts *o)
{
	uint64_t seq = 0; /* frames the ring took so far = next sequence number */
	uint64_t now = app_now_ns();
	struct app_counter sent = { "sent", 0 };

	while (app_running(a, now) && (!o->count || seq < o->count)) {
		uint32_t want = APP_BATCH;

		drain_rx(a->port[0].dev);
		if (o->rate)
			want = rate_budget(o->rate, now - a->start_ns, seq);
		if (o->count && o->count - seq < want)
			want = (uint32_t)(o->count - seq);
		if (want)
			seq += send_batch(a, o, want, seq);
		else
			wait_for_rate(o->rate, now - a->start_ns, seq);
		now = app_now_ns();
		if (app_report_due(a, now)) {
			sent.value = seq;
			app_report(a, now, false, &sent, 1);
		}
	}
	drain_tx(a);
	sent.value = seq;
	app_report(a, app_now_ns(), true, &sent, 1);
}

int main(int argc, char **argv)
{
	struct pktgen_opts o = { .size = FRAME_MIN_SIZE,
				  .port = FRAME_UDP_PORT };
	struct app_cli cli = {
		.prog = "nicbox-pktgen",
		.synopsis = "--dev DEV [--size BYTES] [--rate PPS] [--count N]"
			    " [--port PORT] [--queues N] [--timestamp] [--duration SECONDS]"
			    " [--socket PATH] [--json] [--stats-fd N]",
		.help = "Send numbered UDP test frames from DEV.\n\n"
			"  --dev DEV           the NIC to send from\n"
			"  --size BYTES        frame length without FCS, 60..1514"
			" (default 60)\n"
			"  --rate PPS          frames per second (default: as fast"
			" as the device takes them)\n"
			"  --count N           stop after N frames (default: no"
			" limit)\n"
			"  --port PORT         UDP source and destination port"
			" (default 42424; capture\n"
			"                      --verify counts other ports as"
			" foreign)\n"
			"  --timestamp         write the send time into each frame"
			" (for capture --latency;\n"
			"                      needs --size 62 or more; such"
			" frames fail --verify)\n"
			"--queues N here: N flows (IPv4 sources) that a receiver's"
			" RSS over N queues\n"
			"(default key) spreads one flow per queue; sent from one"
			" queue.\n",
		.n_devs_required = 1,
		.stats_fd_option = true,
		.options = pktgen_options,
		.handle = handle_option,
		.ctx = &o,
	};
	struct app_setup setup = {
		.one_queue = true,
		.tx_bufs = APP_MEMPOOL_BUFS,
		.prepare = prepare_tx_buffers,
		.prepare_ctx = &o,
	};
	struct app a;
	int status = APP_EXIT_FAILURE;

	app_parse(&cli, argc, argv);
	o.n_flows = cli.queues;
	if (o.timestamp && o.size < LATENCY_MIN_SIZE)
		app_usage_error("--timestamp needs --size %u or more",
				LATENCY_MIN_SIZE);
	if (app_start(&a, &cli, &setup) == 0) {
		run(&a, &o);
		status = a.failed ? APP_EXIT_FAILURE : APP_EXIT_OK;
	}
	app_finish(&a);
	return status;
}
