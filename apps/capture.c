/* SPDX-License-Identifier: MIT */
/*
 * nicbox-capture - receive from one NIC into a classic pcap file, and/or
 * check nicbox-pktgen's frames (--verify): lost, duplicated, reordered and
 * corrupt frames are counted. A tcpdump-style filter (the words after the
 * options) picks the frames both see.
 *
 * libpcap writes the file and runs the filter (apps/pcap.h). The file is
 * opened before the claim and kept through lockdown (afterwards the process
 * could not open it); an existing file is truncated only once the devices
 * are ours, so a failed claim leaves it as it was.
 *
 * --queues N (N > 1): one thread polls the N receive queues in turn and
 * writes every frame into the one pcap, each queue's frames in the order
 * they arrived on it. It also checks RSS: each IPv4/IPv6 frame must arrive
 * on the queue the software reference names (nb_rss_frame_hash with the
 * default key and all hash types, nb_rss_queue), other frames on queue 0,
 * and a hash the device reports must equal the reference's (rss_wrong
 * counts the frames that break either; rss_hashed those that came with a
 * device hash). --verify then counts reordering
 * per queue (frames of one flow share a queue; queues interleave freely).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "frame.h"
#include "latency.h"
#include "pcap.h"

#define CAP_BUF_SIZE (1u << 20)
#define MAX_COUNT (UINT64_MAX / 2)

enum {
	OPT_OUT = APP_OPT_APP_FIRST,
	OPT_COUNT,
	OPT_VERIFY,
	OPT_EXPECT,
	OPT_NSEC,
	OPT_SNAPLEN,
	OPT_LATENCY,
	OPT_DISCARD,
};

static const struct option capture_options[] = {
	{ "out", required_argument, NULL, OPT_OUT },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "nsec", no_argument, NULL, OPT_NSEC },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "latency", no_argument, NULL, OPT_LATENCY },
	{ "discard", no_argument, NULL, OPT_DISCARD },
	{ NULL, 0, NULL, 0 },
};

struct capture_opts {
	const char *out; /* "-": standard output */
	uint32_t snaplen;
	uint64_t count;  /* 0: no limit */
	bool verify;
	uint64_t expect; /* 0: unknown */
	bool nsec;
	bool latency;
	bool discard;
};

struct capture {
	struct capture_opts o;
	int out_fd;      /* -1 until opened; then owned by pcap */
	struct cap_writer pcap;
	bool writing;
	struct cap_filter filter;
	uint64_t filtered; /* frames the filter left out */
	uint64_t captured;
	uint64_t valid, corrupt, foreign;
	struct seq_tracker seq;
	uint16_t n_queues;
	uint64_t rss_wrong;
	uint64_t rss_hashed;               /* frames with a device-reported hash */
	uint64_t q_reordered;              /* --queues N > 1: within a queue */
	uint64_t q_last[NB_MAX_QUEUES];    /* one past the last seq on queue */
	uint64_t q_rx[NB_MAX_QUEUES];
	struct latency lat; /* --latency */
};

static void handle_option(void *ctx, int opt, const char *arg)
{
	struct capture_opts *o = ctx;

	switch (opt) {
	case OPT_OUT:
		if (arg[0] == '\0')
			app_usage_error("--out: empty file name");
		if (o->out)
			app_usage_error("--out given twice (one file per run)");
		o->out = arg;
		break;
	case OPT_COUNT:
		o->count = app_parse_u64("--count", arg, 1, MAX_COUNT);
		break;
	case OPT_VERIFY:
		o->verify = true;
		break;
	case OPT_EXPECT:
		o->expect = app_parse_u64("--expect", arg, 1, MAX_COUNT);
		break;
	case OPT_NSEC:
		o->nsec = true;
		break;
	case OPT_SNAPLEN:
		o->snaplen = (uint32_t)app_parse_u64("--snaplen", arg, 1,
						     CAP_MAX_SNAPLEN);
		break;
	case OPT_LATENCY:
		o->latency = true;
		break;
	case OPT_DISCARD:
		o->discard = true;
		break;
	}
}

static void check_options(const struct capture_opts *o)
{
	if (!o->out && !o->verify && !o->latency && !o->discard)
		app_usage_error("nothing to do: give --out FILE, --verify,"
				" --latency, --discard or more");
	if (o->discard && (o->out || o->verify || o->latency))
		app_usage_error("--discard only counts: it excludes --out,"
				" --verify and --latency");
	if (o->verify && o->latency)
		app_usage_error("--latency and --verify exclude each other"
				" (the send time replaces pattern bytes)");
	if (o->expect && !o->verify)
		app_usage_error("--expect needs --verify");
	if (o->nsec && !o->out)
		app_usage_error("--nsec needs --out");
	if (o->snaplen && !o->out)
		app_usage_error("--snaplen needs --out");
}

/* The filter words, joined and compiled (a usage error if they are bad). */
static void compile_filter(struct capture *c, const struct app_cli *cli)
{
	char err[CAP_ERR_LEN];
	char *expr = cap_filter_join(cli->n_args, cli->args);

	if (!expr) {
		app_error("out of memory");
		exit(APP_EXIT_FAILURE);
	}
	if (cap_filter_compile(&c->filter, expr, c->o.snaplen, err,
			       sizeof(err)) < 0)
		app_usage_error("%s", err);
	free(expr);
}

/*
 * Before the claim: load libpcap and open (create) the output without
 * truncating it, so a claim that fails leaves an existing file alone. "-"
 * is standard output: the pcap gets a copy of fd 1, and fd 1 becomes
 * stderr so the stats lines cannot mix into the pcap.
 */
static int open_out(struct capture *c)
{
	char err[CAP_ERR_LEN];

	if (cap_libpcap_load(err, sizeof(err)) < 0) {
		app_error("%s", err);
		return -1;
	}
	if (strcmp(c->o.out, "-") == 0) {
		c->out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (c->out_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			app_error("cannot set up standard output: %s",
				  strerror(errno));
			return -1;
		}
		return 0;
	}
	c->out_fd = open(c->o.out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (c->out_fd < 0) {
		app_error("cannot create %s: %s", c->o.out, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * app_start calls this with the devices claimed and open, before lockdown:
 * now the old contents may go (a pipe or terminal has none to lose).
 */
static int start_pcap(struct app *a, void *ctx)
{
	struct capture *c = ctx;
	char err[CAP_ERR_LEN];
	struct stat st;

	(void)a;
	if (fstat(c->out_fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (ftruncate(c->out_fd, 0) < 0 || lseek(c->out_fd, 0, SEEK_SET) < 0)) {
		app_error("cannot truncate %s: %s", c->o.out, strerror(errno));
		return -1;
	}
	if (cap_writer_open(&c->pcap, c->out_fd, c->o.nsec, c->o.snaplen,
			    CAP_BUF_SIZE, err, sizeof(err)) < 0) {
		c->out_fd = -1; /* closed by cap_writer_open */
		app_error("%s", err);
		return -1;
	}
	c->writing = true;
	return 0;
}

static void classify(struct capture *c, const struct nb_pkt *p, uint16_t q)
{
	uint64_t seq;

	switch (frame_check(p->data, p->len, &seq)) {
	case FRAME_OK:
		c->valid++;
		seq_record(&c->seq, seq);
		if (seq + 1 <= c->q_last[q])
			c->q_reordered++;
		else
			c->q_last[q] = seq + 1;
		break;
	case FRAME_CORRUPT:
		c->corrupt++;
		break;
	case FRAME_FOREIGN:
		c->foreign++;
		break;
	}
}

/* Did frame p arrive on the queue (and with the hash) RSS says? */
static bool rss_as_predicted(const struct capture *c, const struct nb_pkt *p,
			     uint16_t q)
{
	uint32_t hash;

	if (nb_rss_frame_hash(nb_rss_default_key(), NB_RSS_DEFAULT_TYPES, p->data,
			      p->len, &hash) < 0)
		return q == 0;
	if ((p->flags & NB_PKT_RSS_HASH) && p->rss_hash != hash)
		return false;
	return nb_rss_queue(hash, c->n_queues) == q;
}

/*
 * CLOCK_REALTIME minus CLOCK_MONOTONIC, taken once: a packet's wall-clock
 * timestamp then comes from the loop's one clock read.
 */
static int64_t realtime_offset_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec -
	       (int64_t)app_now_ns();
}

/*
 * Receive one batch, stamped with `now` (CLOCK_MONOTONIC, read just before);
 * false when the pcap file could not be written.
 */
/* --latency: the final report's figures, in microseconds. */
static unsigned latency_counters(struct capture *c, struct app_counter *out)
{
	out[0] = (struct app_counter){ "lat_samples", c->lat.n };
	out[1] = (struct app_counter){ "lat_p50_us",
				       latency_percentile(&c->lat, 50) / 1000 };
	out[2] = (struct app_counter){ "lat_p99_us",
				       latency_percentile(&c->lat, 99) / 1000 };
	out[3] = (struct app_counter){ "lat_max_us",
				       latency_percentile(&c->lat, 100) / 1000 };
	return 4;
}

static bool capture_batch(struct app *a, struct capture *c, uint16_t q,
			  uint64_t now, int64_t offset, uint16_t *received)
{
	struct nb_pkt *pkts[APP_BATCH];
	uint16_t want = APP_BATCH;
	int64_t wall = (int64_t)now + offset;
	struct timespec ts = { .tv_sec = wall / 1000000000,
			       .tv_nsec = wall % 1000000000 };
	bool ok = true;
	uint16_t n, kept = 0;
	uint64_t rx_ns;

	if (c->o.count && c->o.count - c->captured < want)
		want = (uint16_t)(c->o.count - c->captured);
	n = nb_rx_batch(a->port[0].dev, q, pkts, want);
	*received = n;
	if (!n)
		return true;
	c->q_rx[q] += n;
	app_count(&a->port[0].q[q].rx, n);
	rx_ns = c->o.latency ? app_now_ns() : now; /* the poll's start is older */
	for (uint16_t i = 0; i < n; i++) {
		const struct nb_pkt *p = pkts[i];

		if (c->n_queues > 1) {
			c->rss_hashed += (p->flags & NB_PKT_RSS_HASH) != 0;
			c->rss_wrong += !rss_as_predicted(c, p, q);
		}
		if (!cap_filter_match(&c->filter, p->data, p->len, p->len))
			continue;
		kept++;
		if (c->writing && ok &&
		    cap_writer_write(&c->pcap, &ts, p->data, p->len) < 0)
			ok = false;
		if (c->o.verify)
			classify(c, p, q);
		if (c->o.latency)
			latency_add(&c->lat, p->data, p->len, rx_ns);
	}
	nb_pkt_free_bulk(pkts, n);
	c->filtered += n - kept;
	c->captured += kept;
	return ok;
}

/* One queue: the stream's order. Several: the order within each queue. */
static uint64_t reordered(const struct capture *c)
{
	return c->n_queues > 1 ? c->q_reordered : c->seq.reordered;
}

static unsigned counters(const struct capture *c, struct app_counter *out)
{
	unsigned n = 0;

	out[n++] = (struct app_counter){ "captured", c->captured };
	if (c->filter.set)
		out[n++] = (struct app_counter){ "filtered", c->filtered };
	if (c->n_queues > 1) {
		out[n++] = (struct app_counter){ "rss_wrong", c->rss_wrong };
		out[n++] = (struct app_counter){ "rss_hashed", c->rss_hashed };
	}
	if (!c->o.verify)
		return n;
	out[n++] = (struct app_counter){ "valid", c->valid };
	out[n++] = (struct app_counter){ "lost", seq_lost(&c->seq) };
	out[n++] = (struct app_counter){ "duplicated", c->seq.duplicated };
	out[n++] = (struct app_counter){ "reordered", reordered(c) };
	out[n++] = (struct app_counter){ "corrupt", c->corrupt };
	out[n++] = (struct app_counter){ "foreign", c->foreign };
	return n;
}

static void report(struct app *a, struct capture *c, uint64_t now, bool final)
{
	struct app_counter extra[14]; /* counters() and latency_counters() */
	unsigned n;

	if (c->writing && cap_writer_flush(&c->pcap) < 0) {
		app_error("cannot write %s: %s", c->o.out, strerror(errno));
		a->failed = true;
	}
	n = counters(c, extra);
	if (final && c->o.latency)
		n += latency_counters(c, extra + n);
	app_report(a, now, final, extra, n);
}

static void run(struct app *a, struct capture *c)
{
	int64_t offset = realtime_offset_ns();
	uint64_t now = app_now_ns();
	struct nb_rx_idle idle;
	uint16_t q = 0, got;

	c->n_queues = a->n_queues;
	if (app_idle_init(a, &idle, 0, -1) < 0)
		return;
	while (app_running(a, now)) {
		if (!capture_batch(a, c, q, now, offset, &got)) {
			app_error("cannot write %s: %s", c->o.out,
				  strerror(errno));
			a->failed = true;
			break;
		}
		q = (uint16_t)((q + 1) % c->n_queues);
		if (c->o.count && c->captured == c->o.count)
			break;
		app_idle(a, &idle, got); /* before the clock: stamps stay fresh */
		now = app_now_ns();
		if (app_report_due(a, now))
			report(a, c, now, false);
	}
	if (c->o.expect)
		seq_finish(&c->seq, c->o.expect);
	report(a, c, app_now_ns(), true);
}

static bool verify_clean(const struct capture *c)
{
	return seq_lost(&c->seq) == 0 && c->seq.duplicated == 0 &&
	       reordered(c) == 0 && c->corrupt == 0 && c->rss_wrong == 0;
}

int main(int argc, char **argv)
{
	static struct capture c = { .out_fd = -1 }; /* large sequence window */
	struct app_cli cli = {
		.prog = "nicbox-capture",
		.synopsis = "--dev DEV (--out FILE.pcap | --verify | --latency |"
			    " --discard) [--count N]"
			    " [--expect N] [--nsec] [--snaplen N] [--queues N]"
			    " [--rx-mode MODE]"
			    " [--duration SECONDS] [--socket PATH] [--json] [--stats-fd N]"
			    " [FILTER...]",
		.help = "Receive frames from DEV into a pcap file and/or check"
			" nicbox-pktgen's frames.\n"
			"FILTER is a pcap-filter(7) expression (as for tcpdump;"
			" several words are joined):\n"
			"only matching frames are written, verified and"
			" counted as captured.\n\n"
			"  --dev DEV           the NIC to receive from (promiscuous)\n"
			"  --out FILE          write a classic pcap file (opened"
			" before lockdown, emptied\n"
			"                      once DEV is claimed); - for"
			" standard output\n"
			"  --nsec              nanosecond timestamps (default:"
			" microseconds)\n"
			"  --snaplen N         keep at most N bytes of each frame"
			" (default 262144)\n"
			"  --count N           stop after N frames\n"
			"  --verify            check pktgen's sequence numbers and"
			" payload; exit 3 if any\n"
			"                      frame was lost, duplicated,"
			" reordered or corrupt (or, with\n"
			"                      --queues, arrived on another queue"
			" than RSS names)\n"
			"  --expect N          pktgen sent frames 0..N-1: frames"
			" missing at either end\n"
			"                      count as lost (needs --verify)\n"
			"  --latency           receive time - pktgen --timestamp's"
			" send time: median,\n"
			"                      99th percentile and maximum in the"
			" final report\n"
			"  --discard           only count and drop the frames (a"
			" load test's sink: the\n"
			"                      same work for every sender's"
			" frames, like testpmd rxonly)\n"
			APP_RX_MODE_HELP,
		.n_devs_required = 1,
		.options = capture_options,
		.handle = handle_option,
		.ctx = &c.o,
		.args_name = "FILTER",
		.rx_mode_option = true,
		.stats_fd_option = true,
	};
	struct app_setup setup = { .promisc = true, .prepare = start_pcap,
				   .prepare_ctx = &c };
	struct app a;
	int status = APP_EXIT_FAILURE;

	app_parse(&cli, argc, argv);
	check_options(&c.o);
	if (!c.o.snaplen)
		c.o.snaplen = CAP_DEFAULT_SNAPLEN;
	compile_filter(&c, &cli);
	seq_init(&c.seq, c.o.expect != 0, 0);
	if (c.o.latency && latency_init(&c.lat) < 0) {
		app_error("out of memory");
		return APP_EXIT_FAILURE;
	}
	if (c.o.out) {
		if (open_out(&c) < 0)
			return APP_EXIT_FAILURE;
		setup.write_fds = &c.out_fd;
		setup.n_write_fds = 1;
	} else {
		setup.prepare = NULL;
	}
	if (app_start(&a, &cli, &setup) == 0) {
		run(&a, &c);
		if (a.failed)
			status = APP_EXIT_FAILURE;
		else if (c.o.verify && !verify_clean(&c))
			status = APP_EXIT_VERIFY;
		else
			status = APP_EXIT_OK;
	}
	app_finish(&a);
	if (c.writing && cap_writer_close(&c.pcap) < 0) {
		app_error("cannot write %s: %s", c.o.out, strerror(errno));
		status = APP_EXIT_FAILURE;
	} else if (!c.writing && c.out_fd >= 0) {
		close(c.out_fd);
	}
	cap_filter_free(&c.filter);
	latency_free(&c.lat);
	return status;
}
