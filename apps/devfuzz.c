/* SPDX-License-Identifier: MIT */
/*
 * nicbox-devfuzz - fuzz a NIC's descriptor handling with the IOMMU as the
 * safety net (docs/devfuzz.md).
 *
 * It claims the NIC under test and its hub partner through nicbox-helper,
 * gets two DMA pools (the fuzz pool for the fuzzed ring and its buffers,
 * the drivers' pool for the real drivers), locks down, and runs cases: each
 * case brings the NIC up with only the fuzzed ring, carries out the case's
 * operations (devfuzz_case.c generates them), stops the device and then
 * asks the oracle:
 *   - guards: every byte of both pools outside the ring and buffer areas,
 *     and outside what the case's device-writable descriptors named, still
 *     holds its pattern ("stray write" otherwise);
 *   - traffic: the real driver opens the NIC and a known frame goes each
 *     way between it and its partner ("ok"), else the NIC is reset through
 *     VFIO and tried again ("wedged"), else it is "dead" and the run ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "devfuzz.h"
#include "frame.h"
#include "nb_session.h"

#define PROG "nicbox-devfuzz"
#define POOL_B_BYTES (16u << 20)
#define DRIVER_RING 256
#define DRIVER_BUFS 1024
#define TX_BUFS 256
#define SELFTEST_SIZE 128
#define SELFTEST_PORT 42425  /* not pktgen's: capture --verify calls it foreign */
#define INJECT_PORT 42426
#define SELFTEST_WAIT_MS 3000
#define LINK_WAIT_MS 5000
#define MAX_REPLAY_BYTES (4u << 20)
#define EXIT_DEAD 4

#define MODE_BOTH DF_N_MODES /* --mode both: tx for even cases, rx for odd */

enum outcome { OUT_OK, OUT_DEVICE_ERROR, OUT_WEDGED, OUT_DEAD };
static const char *const outcome_names[] = { "ok", "device-error", "wedged",
					     "dead" };

struct opts {
	int mode;              /* -1: not given (tx); MODE_BOTH */
	int kind;              /* --kind, for --print without a device */
	uint64_t seed;
	bool seed_given;
	uint64_t first;
	bool case_given;
	uint64_t count;        /* 0: no limit */
	const char *replay;
	const char *findings;
	bool print;
	uint64_t force_wedge;  /* --force-wedge: this case's self-test fails */
	bool force_wedge_given;
};

struct counters {
	uint64_t cases, ok, device_errors, wedges, resets, stray_writes, dead;
	uint64_t partner_resets, injected, inject_dropped;
};

struct fuzz {
	struct app_cli *cli;
	struct opts *o;
	struct nb_session *session;
	struct nb_pool *pool_a, *pool_b;
	struct nb_pci *partner_pci;
	struct nb_dev *partner;
	struct nb_mempool *mp_target, *mp_partner, *mp_tx;
	struct df_target t;
	const struct df_backend *be;
	unsigned kind;
	uint8_t *a_va, *b_va;
	uint64_t a_iova, b_iova;
	size_t a_size, b_size;
	uint8_t *pattern;       /* guard pattern, by pool offset (both pools) */
	size_t mark_partner, mark_target;
	uint8_t mac_target[6], mac_partner[6];
	int findings_fd;
	struct counters n;
	uint64_t nonce;
	uint64_t start_ns, last_report_ns, end_ns;
	char detail[256];       /* what the last case's oracle found */
	bool sabotage;          /* --force-wedge: fail the next self-test */
};

/* ------------------------------------------------------------------------ */
/* Command line                                                              */

enum {
	OPT_MODE = APP_OPT_APP_FIRST,
	OPT_SEED,
	OPT_CASE,
	OPT_COUNT,
	OPT_REPLAY,
	OPT_FINDINGS,
	OPT_PRINT,
	OPT_KIND,
	OPT_FORCE_WEDGE,
};

static const struct option df_options[] = {
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "case", required_argument, NULL, OPT_CASE },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "findings", required_argument, NULL, OPT_FINDINGS },
	{ "print", no_argument, NULL, OPT_PRINT },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "force-wedge", required_argument, NULL, OPT_FORCE_WEDGE },
	{ 0 },
};

static void handle_opt(void *ctx, int opt, const char *arg)
{
	struct opts *o = ctx;

	switch (opt) {
	case OPT_MODE:
		if (strcmp(arg, "both") == 0)
			o->mode = MODE_BOTH;
		else if ((o->mode = df_mode_parse(arg)) < 0)
			app_usage_error("--mode: '%s' is not tx, rx or both", arg);
		break;
	case OPT_SEED:
		o->seed = app_parse_u64("--seed", arg, 0, UINT64_MAX);
		o->seed_given = true;
		break;
	case OPT_CASE:
		o->first = app_parse_u64("--case", arg, 0, UINT64_MAX / 2);
		o->case_given = true;
		break;
	case OPT_COUNT:
		o->count = app_parse_u64("--count", arg, 1, UINT64_MAX / 2);
		break;
	case OPT_REPLAY:
		o->replay = arg;
		break;
	case OPT_FINDINGS:
		o->findings = arg;
		break;
	case OPT_PRINT:
		o->print = true;
		break;
	case OPT_FORCE_WEDGE:
		o->force_wedge = app_parse_u64("--force-wedge", arg, 0, UINT64_MAX);
		o->force_wedge_given = true;
		break;
	case OPT_KIND:
		if ((o->kind = df_kind_parse(arg)) < 0)
			app_usage_error("--kind: '%s' is not virtio-split, "
					"virtio-packed or igb", arg);
		break;
	}
}

static void check_opts(struct app_cli *cli, struct opts *o)
{
	if (o->replay && (o->seed_given || o->case_given || o->count || o->mode >= 0))
		app_usage_error("--replay takes its cases from the file: no --seed, "
				"--case, --count or --mode with it");
	if (!o->print && cli->n_devs != 2)
		app_usage_error("%s needs 2 --dev options (the NIC under test, "
				"then its hub partner), got %u", PROG, cli->n_devs);
	if (o->print && !o->replay && o->kind < 0)
		app_usage_error("--print needs --kind (virtio-split, virtio-packed "
				"or igb) or --replay");
	if (o->print && cli->n_devs)
		app_usage_error("--print claims no device: leave out --dev");
	if (o->case_given && !o->count)
		o->count = 1;
	if (!o->seed_given && !o->replay)
		o->seed = (uint64_t)time(NULL);
}

/* Every case of a replay file; exits 2 with the reason for a bad one. */
static struct df_case *read_replay(const char *path, uint64_t *n_out)
{
	FILE *fp = fopen(path, "r");
	char *text = malloc(MAX_REPLAY_BYTES + 1);
	struct df_case *cases = NULL;
	size_t len, pos = 0;
	unsigned line = 0;
	uint64_t n = 0;
	char why[256];
	int rc;

	if (fp == NULL)
		app_usage_error("--replay: cannot open %s: %s", path, strerror(errno));
	if (text == NULL)
		app_usage_error("--replay: out of memory");
	len = fread(text, 1, MAX_REPLAY_BYTES + 1, fp);
	fclose(fp);
	if (len > MAX_REPLAY_BYTES)
		app_usage_error("--replay: %s is larger than %u bytes", path,
				MAX_REPLAY_BYTES);
	text[len] = '\0';
	if (strlen(text) != len)
		app_usage_error("--replay: %s: NUL byte in a text file", path);
	for (;;) {
		struct df_case *grown = realloc(cases, (n + 1) * sizeof(*cases));

		if (grown == NULL)
			app_usage_error("--replay: out of memory");
		cases = grown;
		rc = df_parse(text, &pos, &line, &cases[n], why, sizeof(why));
		if (rc < 0)
			app_usage_error("--replay: %s: %s", path, why);
		if (rc == 0)
			break;
		if (n && cases[n].kind != cases[0].kind)
			app_usage_error("--replay: %s: case %" PRIu64 " is for %s, the "
					"first for %s", path, n + 1,
					df_kind_name(cases[n].kind),
					df_kind_name(cases[0].kind));
		n++;
	}
	free(text);
	if (n == 0)
		app_usage_error("--replay: %s holds no case", path);
	*n_out = n;
	return cases;
}

/* ------------------------------------------------------------------------ */
/* Guards                                                                    */

static uint8_t guard_byte(size_t off)
{
	return (uint8_t)((off * 0x9e3779b1u) >> 13 ^ 0xa5);
}

/* Device-writable ranges a case named: a change there is no stray write. */
struct ranges {
	unsigned n;
	struct { uint64_t lo, hi; } r[2 * DF_MAX_OPS];
};

static void add_range(struct ranges *rs, uint64_t addr, uint64_t len)
{
	uint64_t hi = addr + len < addr ? UINT64_MAX : addr + len;

	if (len && rs->n < 2 * DF_MAX_OPS) {
		rs->r[rs->n].lo = addr;
		rs->r[rs->n++].hi = hi;
	}
}

static bool in_ranges(const struct ranges *rs, uint64_t iova)
{
	for (unsigned i = 0; i < rs->n; i++)
		if (iova >= rs->r[i].lo && iova < rs->r[i].hi)
			return true;
	return false;
}

static uint64_t resolve(const struct fuzz *f, struct df_val v)
{
	uint64_t base = 0;

	switch (v.base) {
	case DF_BUF: base = f->a_iova + DF_BUF_OFF; break;
	case DF_BUFEND: base = f->a_iova + DF_BUF_OFF + DF_BUF_LEN; break;
	case DF_RING: base = f->a_iova + DF_RING_OFF; break;
	case DF_POOL: base = f->a_iova; break;
	case DF_POOLEND: base = f->a_iova + f->a_size; break;
	case DF_OTHER: base = f->b_iova; break;
	case DF_OTHEREND: base = f->b_iova + f->b_size; break;
	}
	return base + (uint64_t)v.off;
}

/*
 * virtio 2.7.5: a descriptor with WRITE lets the device write len bytes;
 * 2.8.13 the same in a packed descriptor;
 * 82576 7.1.5: a receive descriptor lets it write a buffer (SRRCTL's
 * size, at most 127 KiB) at the packet address and a header (at most
 * 960 bytes) at the header address.
 */
static void writable_ranges(const struct fuzz *f, const struct df_case *c,
			    struct ranges *rs)
{
	rs->n = 0;
	for (unsigned i = 0; i < c->n_ops; i++) {
		const struct df_op *op = &c->ops[i];
		uint64_t q1 = resolve(f, op->b);

		if (op->kind != DF_OP_DESC)
			continue;
		if (c->kind == DF_VIRTIO_SPLIT && (q1 >> 32 & 2))
			add_range(rs, resolve(f, op->a), (uint32_t)q1);
		if (c->kind == DF_VIRTIO_PACKED && (q1 >> 48 & 2)) /* 2.8.13 */
			add_range(rs, resolve(f, op->a), (uint32_t)q1);
		if (c->kind == DF_IGB && c->mode == DF_RX) {
			add_range(rs, resolve(f, op->a), 127u << 10);
			add_range(rs, q1 & ~1ull, 1024);
		}
	}
}

/* Bytes [lo, hi) of a pool still hold the pattern, except in `allowed`;
 * then the pattern is put back. Returns the number of stray bytes. */
static size_t check_guard(struct fuzz *f, uint8_t *va, uint64_t iova,
			  size_t lo, size_t hi, const struct ranges *allowed,
			  const char *pool)
{
	size_t stray = 0, first = 0, last = 0;
	uint8_t was = 0;

	if (memcmp(va + lo, f->pattern + lo, hi - lo) == 0)
		return 0;
	for (size_t i = lo; i < hi; i++) {
		if (va[i] == f->pattern[i])
			continue;
		if (!in_ranges(allowed, iova + i)) {
			if (stray++ == 0) {
				first = i;
				was = va[i];
			}
			last = i;
		}
		va[i] = f->pattern[i];
	}
	/* The first stray byte, and how many changed up to which offset
	 * (a frame-sized write and a flipped bit look different). */
	if (stray)
		snprintf(f->detail, sizeof(f->detail),
			 "stray write: %s pool offset 0x%zx (IOVA 0x%" PRIx64
			 ") is 0x%02x, not the guard 0x%02x; %zu stray bytes up "
			 "to offset 0x%zx", pool, first, iova + first, was,
			 f->pattern[first], stray, last);
	return stray;
}

static size_t check_guards(struct fuzz *f, const struct df_case *c)
{
	struct ranges allowed;
	size_t ring_end = DF_RING_OFF + DF_RING_AREA;
	size_t stray;

	writable_ranges(f, c, &allowed);
	stray = check_guard(f, f->a_va, f->a_iova, 0, DF_RING_OFF, &allowed, "fuzz");
	stray += check_guard(f, f->a_va, f->a_iova, ring_end, DF_BUF_OFF, &allowed, "fuzz");
	stray += check_guard(f, f->a_va, f->a_iova, DF_BUF_OFF + DF_BUF_LEN,
			     f->a_size, &allowed, "fuzz");
	/* The drivers' pool: its head guard and everything not carved. */
	stray += check_guard(f, f->b_va, f->b_iova, 0, DF_GUARD, &allowed, "drivers'");
	stray += check_guard(f, f->b_va, f->b_iova, f->mark_target, f->b_size,
			     &allowed, "drivers'");
	return stray;
}

static void fill_pattern(struct fuzz *f, uint8_t *va, size_t lo, size_t hi)
{
	memcpy(va + lo, f->pattern + lo, hi - lo);
}

/* ------------------------------------------------------------------------ */
/* The real drivers and the traffic self-test                                */

static int driver_open(struct fuzz *f, struct nb_pci *pci,
		       struct nb_mempool *mp, struct nb_dev **out)
{
	struct nb_dev_conf conf = {
		.rx_ring_size = DRIVER_RING, .tx_ring_size = DRIVER_RING,
		.rx_mempool = mp, .promisc = true, .link_wait_ms = LINK_WAIT_MS,
	};

	return nb_dev_open_pci(pci, f->pool_b, &conf, out);
}

/* nb_dev_close without closing the PCI function: we open it again. */
static void driver_close(struct nb_dev *dev)
{
	struct nb_pci *pci = dev->pci;

	dev->head.ops->close(dev);
	nb_pci_disable_dma(pci);
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Free whatever the partner received (the NIC's fuzzed frames). */
static void drain(struct nb_dev *dev)
{
	struct nb_pkt *pkts[APP_BATCH];
	uint16_t got;

	while ((got = nb_rx_batch(dev, 0, pkts, APP_BATCH)) > 0)
		nb_pkt_free_bulk(pkts, got);
}

static void build_frame(uint8_t *buf, uint32_t size, const uint8_t src[6],
			uint16_t port, uint64_t seq)
{
	struct frame_addrs a;

	frame_default_addrs(&a, src);
	memset(a.dst_mac, 0xff, sizeof(a.dst_mac));
	a.udp_port = port;
	frame_build_headers(buf, size, &a);
	frame_stamp(buf, size, seq);
}

/* Queue one frame; false if the ring would not take it. */
static bool send_frame(struct fuzz *f, struct nb_dev *dev, const uint8_t src[6],
		       uint32_t size, uint16_t port, uint64_t seq)
{
	struct nb_pkt *p = nb_pkt_alloc(f->mp_tx);

	if (p == NULL)
		return false;
	build_frame(p->data, size, src, port, seq);
	p->len = size;
	if (nb_tx_batch(dev, 0, &p, 1) == 1)
		return true;
	nb_pkt_free(p);
	return false;
}

/* One known frame from `from` must arrive at `to`, byte for byte. */
static bool frame_passes(struct fuzz *f, struct nb_dev *from,
			 const uint8_t src[6], struct nb_dev *to)
{
	uint8_t want[SELFTEST_SIZE];
	uint64_t seq = ++f->nonce;
	uint64_t deadline = app_now_ns() + SELFTEST_WAIT_MS * 1000000ull;
	bool sent = false, seen = false;

	build_frame(want, sizeof(want), src, SELFTEST_PORT, seq);
	while (!seen && app_now_ns() < deadline) {
		struct nb_pkt *pkts[APP_BATCH];
		uint16_t got;

		if (!sent)
			sent = send_frame(f, from, src, sizeof(want), SELFTEST_PORT, seq);
		got = nb_rx_batch(to, 0, pkts, APP_BATCH);
		for (uint16_t i = 0; i < got; i++)
			if (pkts[i]->len == sizeof(want) &&
			    memcmp(pkts[i]->data, want, sizeof(want)) == 0)
				seen = true;
		nb_pkt_free_bulk(pkts, got);
		if (!got)
			sleep_us(100);
		/* Let the sender reclaim what it sent. */
		nb_tx_batch(from, 0, NULL, 0);
	}
	return seen && !nb_dev_fault(from) && !nb_dev_fault(to);
}

/* Close the NIC's real driver, hand its rings back and guard the bytes
 * they took again (the pool's tail is a guard while no driver runs). */
static void target_close(struct fuzz *f, struct nb_dev *dev)
{
	size_t hi = nb_pool_carve_mark(f->pool_b);

	driver_close(dev);
	nb_pool_carve_rewind(f->pool_b, f->mark_target);
	fill_pattern(f, f->b_va, f->mark_target, hi);
}

/* The real driver opens the NIC and a frame goes each way. */
static bool self_test(struct fuzz *f, const char **why)
{
	struct nb_dev *dev = NULL;
	bool ok;

	nb_pool_carve_rewind(f->pool_b, f->mark_target);
	if (driver_open(f, f->t.pci, f->mp_target, &dev) < 0) {
		*why = nb_last_error();
		return false;
	}
	/* --force-wedge: the NIC loses bus mastering under its driver, so the
	 * frames cannot pass; the recovery path (VFIO reset, the driver opened
	 * again, the self-test again) then runs for real. */
	if (f->sabotage)
		nb_pci_disable_dma(f->t.pci);
	ok = frame_passes(f, dev, f->mac_target, f->partner) &&
	     frame_passes(f, f->partner, f->mac_partner, dev);
	if (!ok)
		*why = f->sabotage ? "--force-wedge: bus mastering turned off under "
				     "the driver, the self-test frame did not pass"
		       : nb_dev_fault(dev) ? nb_dev_fault(dev)
		       : nb_dev_fault(f->partner) ? nb_dev_fault(f->partner)
						  : "the self-test frame did not arrive";
	f->sabotage = false;
	target_close(f, dev);
	return ok;
}

/* The partner broke (it faulted on what the NIC sent): reset and reopen it.
 * Only between cases, with the NIC's driver closed (the pool's carve point
 * goes back to before the partner's rings). */
static int partner_reopen(struct fuzz *f)
{
	f->n.partner_resets++;
	if (f->partner)
		driver_close(f->partner);
	f->partner = NULL;
	nb_pool_carve_rewind(f->pool_b, f->mark_partner);
	if (f->partner_pci->ops->reset(f->partner_pci) < 0 ||
	    driver_open(f, f->partner_pci, f->mp_partner, &f->partner) < 0)
		return -1;
	f->mark_target = nb_pool_carve_mark(f->pool_b);
	fill_pattern(f, f->b_va, f->mark_target, f->b_size);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* One case                                                                  */

static void inject(struct fuzz *f, uint64_t count, uint64_t size)
{
	for (uint64_t i = 0; i < count; i++) {
		if (send_frame(f, f->partner, f->mac_partner, (uint32_t)size,
			       INJECT_PORT, f->n.injected + f->n.inject_dropped))
			f->n.injected++;
		else
			f->n.inject_dropped++;
	}
}

static void run_ops(struct fuzz *f, const struct df_case *c)
{
	for (unsigned i = 0; i < c->n_ops; i++) {
		const struct df_op *op = &c->ops[i];

		switch (op->kind) {
		case DF_OP_WAIT:
			for (uint64_t us = 0; us < (uint64_t)op->a.off; us += 1000) {
				drain(f->partner);
				sleep_us(1000);
			}
			break;
		case DF_OP_INJECT:
			inject(f, (uint64_t)op->a.off, (uint64_t)op->b.off);
			break;
		default:
			f->be->apply(&f->t, op, resolve(f, op->a), resolve(f, op->b));
		}
	}
	drain(f->partner);
}

/* The VFIO reset and a second self-test: wedged, or dead. */
static enum outcome recover(struct fuzz *f, const char *why)
{
	const char *why2 = "";

	f->n.resets++;
	snprintf(f->detail, sizeof(f->detail), "%s", why);
	if (f->t.pci->ops->reset(f->t.pci) < 0) {
		snprintf(f->detail, sizeof(f->detail), "%s; VFIO reset failed: %s",
			 why, nb_last_error());
		return OUT_DEAD;
	}
	if (nb_dev_fault(f->partner) && partner_reopen(f) < 0)
		return OUT_DEAD;
	if (self_test(f, &why2))
		return OUT_WEDGED;
	snprintf(f->detail, sizeof(f->detail), "%s; after the VFIO reset: %s",
		 why, why2);
	return OUT_DEAD;
}

static enum outcome run_case(struct fuzz *f, const struct df_case *c,
			     bool *stray)
{
	const char *why = "";
	bool dev_err = false, stopped;

	f->detail[0] = '\0';
	f->sabotage = f->o->force_wedge_given && c->number == f->o->force_wedge;
	memset((void *)f->t.ring, 0, DF_RING_AREA);
	df_fill(f->a_va + DF_BUF_OFF, DF_BUF_LEN, c->fill);
	f->t.mode = c->mode;
	f->t.setup = c->setup;
	if (f->be->setup(&f->t) < 0) {
		why = nb_last_error();
		stopped = false;
	} else {
		run_ops(f, c);
		dev_err = f->be->device_error(&f->t);
		stopped = f->be->stop(&f->t) == 0;
		if (!stopped)
			why = nb_last_error();
	}
	if (!stopped) {
		/* The device would not stop: guards only after the reset. */
		enum outcome o = recover(f, why);

		*stray = check_guards(f, c) > 0;
		return o;
	}
	*stray = check_guards(f, c) > 0;
	if (nb_dev_fault(f->partner) && partner_reopen(f) < 0) {
		snprintf(f->detail, sizeof(f->detail), "the partner could not be "
			 "reopened: %s", nb_last_error());
		return OUT_DEAD;
	}
	if (!self_test(f, &why))
		return recover(f, why);
	return dev_err ? OUT_DEVICE_ERROR : OUT_OK;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

static void report(struct fuzz *f, uint64_t now, bool final)
{
	const struct counters *n = &f->n;
	double t = (double)(now - f->start_ns) / 1e9;

	if (f->cli->json)
		printf("{\"app\":\"%s\",\"dev\":\"%s\",\"partner\":\"%s\","
		       "\"kind\":\"%s\",\"time_s\":%.3f,\"final\":%s,"
		       "\"cases\":%" PRIu64 ",\"ok\":%" PRIu64
		       ",\"device_errors\":%" PRIu64 ",\"wedges\":%" PRIu64
		       ",\"resets\":%" PRIu64 ",\"stray_writes\":%" PRIu64
		       ",\"dead\":%" PRIu64 ",\"partner_resets\":%" PRIu64
		       ",\"injected\":%" PRIu64 ",\"inject_dropped\":%" PRIu64 "}\n",
		       PROG, f->t.pci->name, f->partner_pci->name,
		       df_kind_name(f->kind), t, final ? "true" : "false", n->cases,
		       n->ok, n->device_errors, n->wedges, n->resets,
		       n->stray_writes, n->dead, n->partner_resets, n->injected,
		       n->inject_dropped);
	else
		printf("%s%7.1fs %s cases %" PRIu64 " ok %" PRIu64
		       " device_errors %" PRIu64 " wedges %" PRIu64
		       " resets %" PRIu64 " stray_writes %" PRIu64
		       " dead %" PRIu64 " partner_resets %" PRIu64 "\n",
		       final ? "final " : "", t, f->t.pci->name, n->cases, n->ok,
		       n->device_errors, n->wedges, n->resets, n->stray_writes,
		       n->dead, n->partner_resets);
	f->last_report_ns = now;
}

static void case_line(struct fuzz *f, const struct df_case *c, enum outcome o,
		      bool stray)
{
	if (f->cli->json)
		printf("{\"case\":%" PRIu64 ",\"seed\":%" PRIu64 ",\"mode\":\"%s\","
		       "\"outcome\":\"%s\",\"stray_write\":%s,\"detail\":\"",
		       c->number, c->seed, df_mode_name(c->mode), outcome_names[o],
		       stray ? "true" : "false");
	else if (o != OUT_OK && o != OUT_DEVICE_ERROR)
		printf("case %" PRIu64 " (seed %" PRIu64 ", %s): %s%s: ", c->number,
		       c->seed, df_mode_name(c->mode), outcome_names[o],
		       stray ? ", stray write" : "");
	else if (!stray)
		return;
	else
		printf("case %" PRIu64 " (seed %" PRIu64 ", %s): stray write: ",
		       c->number, c->seed, df_mode_name(c->mode));
	/* JSON-safe: the detail is our own text plus the library's. */
	for (const char *s = f->detail; *s; s++)
		putchar(*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ? '\'' : *s);
	printf(f->cli->json ? "\"}\n" : "\n");
}

/* A finding goes to the findings file as a case file with a comment. */
static void save_finding(struct fuzz *f, const struct df_case *c,
			 enum outcome o, bool stray)
{
	char text[8192];
	int head;
	size_t len;

	if (f->findings_fd < 0)
		return;
	head = snprintf(text, sizeof(text), "# %s %s on %s: %s%s; %s\n", PROG,
			df_kind_name(c->kind), f->t.pci->name, outcome_names[o],
			stray ? ", stray write" : "", f->detail);
	if (head < 0 || (size_t)head >= sizeof(text))
		return;
	len = df_format(c, text + head, sizeof(text) - (size_t)head);
	if (len >= sizeof(text) - (size_t)head ||
	    write(f->findings_fd, text, (size_t)head + len) < 0)
		app_error("cannot write the finding of case %" PRIu64 ": %s",
			  c->number, strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */

static int take_pools(struct fuzz *f)
{
	char note[256] = "";

	if (nb_session_pool(f->session, DF_POOL_A_BYTES, NB_PAGE_DEFAULT,
			    &f->pool_a, note, sizeof(note)) < 0 ||
	    nb_session_pool(f->session, POOL_B_BYTES, NB_PAGE_DEFAULT,
			    &f->pool_b, note, sizeof(note)) < 0) {
		app_error("cannot get the DMA pools: %s", nb_last_error());
		return -1;
	}
	if (note[0])
		app_error("warning: %s", note);
	f->a_va = nb_pool_va_base(f->pool_a);
	f->a_iova = nb_pool_iova_base(f->pool_a);
	f->a_size = nb_pool_size(f->pool_a);
	f->b_va = nb_pool_va_base(f->pool_b);
	f->b_iova = nb_pool_iova_base(f->pool_b);
	f->b_size = nb_pool_size(f->pool_b);
	f->pattern = malloc(f->b_size > f->a_size ? f->b_size : f->a_size);
	if (f->pattern == NULL) {
		app_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < (f->b_size > f->a_size ? f->b_size : f->a_size); i++)
		f->pattern[i] = guard_byte(i);
	f->t.ring = f->a_va + DF_RING_OFF;
	f->t.ring_iova = f->a_iova + DF_RING_OFF;
	return 0;
}

/* The drivers' pool: a head guard, the mempools, the partner's rings. */
static int carve_drivers_pool(struct fuzz *f)
{
	void *va;
	uint64_t iova;

	if (nb_pool_carve(f->pool_b, DF_GUARD, 4096, &va, &iova) < 0 ||
	    nb_mempool_create(f->pool_b, DRIVER_BUFS, APP_BUF_SIZE, &f->mp_target) < 0 ||
	    nb_mempool_create(f->pool_b, DRIVER_BUFS, APP_BUF_SIZE, &f->mp_partner) < 0 ||
	    nb_mempool_create(f->pool_b, TX_BUFS, APP_BUF_SIZE, &f->mp_tx) < 0) {
		app_error("cannot lay out the drivers' pool: %s", nb_last_error());
		return -1;
	}
	f->mark_partner = nb_pool_carve_mark(f->pool_b);
	if (driver_open(f, f->partner_pci, f->mp_partner, &f->partner) < 0) {
		app_error("cannot open the partner %s: %s", f->partner_pci->name,
			  nb_last_error());
		return -1;
	}
	f->mark_target = nb_pool_carve_mark(f->pool_b);
	fill_pattern(f, f->a_va, 0, f->a_size);
	fill_pattern(f, f->b_va, 0, DF_GUARD);
	fill_pattern(f, f->b_va, f->mark_target, f->b_size);
	return nb_dev_mac(f->partner, f->mac_partner);
}

static int setup(struct fuzz *f)
{
	struct app_cli *cli = f->cli;
	int index[2];
	int keep[1] = { f->findings_fd };
	char note[256] = "";
	struct nb_dev *dev;
	const char *why = "";

	if (nb_session_open(cli->socket, &f->session) < 0) {
		app_error("cannot connect to nicbox-helper: %s", nb_last_error());
		return -1;
	}
	for (unsigned i = 0; i < 2; i++) {
		index[i] = nb_session_claim(f->session, cli->devs[i]);
		if (index[i] < 0) {
			app_error("cannot claim %s: %s", cli->devs[i], nb_last_error());
			return -1;
		}
	}
	if (take_pools(f) < 0)
		return -1;
	if (nb_session_ready(f->session) < 0 ||
	    nb_session_take_pci(f->session, index[0], &f->t.pci) < 0 ||
	    nb_session_take_pci(f->session, index[1], &f->partner_pci) < 0) {
		app_error("the helper did not hand over the devices: %s",
			  nb_last_error());
		return -1;
	}
	f->be = df_backend_for(f->t.pci, f->o->kind, &f->kind);
	if (f->be == NULL) {
		app_error("%s (%04x:%04x) has no devfuzz backend%s%s (virtio-net "
			  "split or packed if offered, igb)", f->t.pci->name,
			  f->t.pci->vendor_id, f->t.pci->device_id,
			  f->o->kind >= 0 ? " of kind " : "",
			  f->o->kind >= 0 ? df_kind_name((unsigned)f->o->kind) : "");
		return -1;
	}
	if (carve_drivers_pool(f) < 0)
		return -1;
	/* The baseline: the pair passes the self-test before any fuzzing. */
	if (driver_open(f, f->t.pci, f->mp_target, &dev) < 0 ||
	    nb_dev_mac(dev, f->mac_target) < 0) {
		app_error("cannot open %s: %s", f->t.pci->name, nb_last_error());
		return -1;
	}
	target_close(f, dev);
	if (!self_test(f, &why)) {
		app_error("%s and %s fail the self-test before any fuzzing: %s "
			  "(are they on one hub/wire?)", f->t.pci->name,
			  f->partner_pci->name, why);
		return -1;
	}
	if (nb_lockdown(f->session, keep, f->findings_fd >= 0 ? 1 : 0, note,
			sizeof(note)) < 0) {
		app_error("lockdown failed: %s", nb_last_error());
		return -1;
	}
	if (note[0])
		app_error("notice: %s", note);
	app_error("ready: %s (%s) fuzzed, partner %s, seed %" PRIu64 ", pid %d",
		  f->t.pci->name, df_kind_name(f->kind), f->partner_pci->name,
		  f->o->seed, (int)getpid());
	return 0;
}

static void teardown(struct fuzz *f)
{
	if (f->partner)
		driver_close(f->partner);
	if (f->t.pci)
		f->t.pci->ops->close(f->t.pci);
	if (f->partner_pci)
		f->partner_pci->ops->close(f->partner_pci);
	if (f->mp_target)
		nb_mempool_destroy(f->mp_target);
	if (f->mp_partner)
		nb_mempool_destroy(f->mp_partner);
	if (f->mp_tx)
		nb_mempool_destroy(f->mp_tx);
	if (f->pool_a)
		nb_pool_destroy(f->pool_a);
	if (f->pool_b)
		nb_pool_destroy(f->pool_b);
	if (f->session)
		nb_session_close(f->session);
	free(f->pattern);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                      */

/* The mode of case `number`: --mode, tx by default, both: by parity. */
static unsigned case_mode(const struct opts *o, uint64_t number)
{
	if (o->mode == MODE_BOTH)
		return number % 2 ? DF_RX : DF_TX;
	return o->mode < 0 ? DF_TX : (unsigned)o->mode;
}

static void print_cases(const struct opts *o, const struct df_case *replay,
			uint64_t n_replay)
{
	static struct df_case c;
	static char text[8192];
	uint64_t count = replay ? n_replay : o->count ? o->count : 1;

	for (uint64_t i = 0; i < count; i++) {
		if (replay)
			c = replay[i];
		else
			df_generate(&c, (unsigned)o->kind, case_mode(o, o->first + i),
				    o->seed, o->first + i);
		df_format(&c, text, sizeof(text));
		fputs(text, stdout);
	}
}

static int fuzz_loop(struct fuzz *f, const struct df_case *replay,
		     uint64_t n_replay)
{
	static struct df_case c;
	struct app dummy = { 0 };
	uint64_t limit = replay ? n_replay : f->o->count;

	f->start_ns = f->last_report_ns = app_now_ns();
	dummy.end_ns = f->cli->duration > 0
			       ? f->start_ns + (uint64_t)(f->cli->duration * 1e9)
			       : 0;
	for (uint64_t i = 0; limit == 0 || i < limit; i++) {
		enum outcome o;
		bool stray = false;
		uint64_t now = app_now_ns();

		if (!app_running(&dummy, now))
			break;
		if (replay)
			c = replay[i];
		else
			df_generate(&c, f->kind, case_mode(f->o, f->o->first + i),
				    f->o->seed, f->o->first + i);
		if (c.kind != f->kind) {
			app_error("case %" PRIu64 " is for %s, %s is %s", c.number,
				  df_kind_name(c.kind), f->t.pci->name,
				  df_kind_name(f->kind));
			return APP_EXIT_USAGE;
		}
		o = run_case(f, &c, &stray);
		f->n.cases++;
		f->n.ok += o == OUT_OK;
		f->n.device_errors += o == OUT_DEVICE_ERROR;
		f->n.wedges += o == OUT_WEDGED;
		f->n.dead += o == OUT_DEAD;
		f->n.stray_writes += stray;
		case_line(f, &c, o, stray);
		if (o >= OUT_WEDGED || stray)
			save_finding(f, &c, o, stray);
		if (now - f->last_report_ns >= 1000000000ull)
			report(f, app_now_ns(), false);
		if (o == OUT_DEAD) {
			app_error("%s could not be recovered after case %" PRIu64
				  ": %s", f->t.pci->name, c.number, f->detail);
			report(f, app_now_ns(), true);
			return EXIT_DEAD;
		}
	}
	report(f, app_now_ns(), true);
	return APP_EXIT_OK;
}

int main(int argc, char **argv)
{
	static struct fuzz f;
	struct opts o = { .mode = -1, .kind = -1 };
	struct app_cli cli = {
		.prog = PROG,
		.synopsis = "--dev DEV --dev PARTNER [--mode tx|rx|both] [--seed S] "
			    "[--case N] [--count N] [--findings FILE] "
			    "[--kind KIND] [--force-wedge N] "
			    "[--duration SECONDS] [--socket PATH] [--json]\n"
			    "       " PROG " --dev DEV --dev PARTNER --replay FILE "
			    "[--findings FILE] [--json]\n"
			    "       " PROG " --print (--kind KIND [--mode M] --seed S "
			    "[--case N] [--count N] | --replay FILE)",
		.help = "  --dev DEV           first: the NIC under test; second: "
			"its hub/wire partner\n"
			"  --mode tx|rx|both   fuzz the transmit or the receive ring"
			" (default tx; both:\n"
			"                      even cases tx, odd cases rx)\n"
			"  --seed S            the seed (default: the time; printed"
			" in the ready line)\n"
			"  --case N            start at case N (alone: run only case"
			" N)\n"
			"  --count N           run N cases (default: until --duration"
			" or SIGINT)\n"
			"  --replay FILE       run the cases of a case file (a"
			" findings file is one)\n"
			"  --findings FILE     append every wedged, dead or"
			" stray-write case to FILE\n"
			"  --print             print the cases instead of running"
			" them\n"
			"  --kind KIND         virtio-split, virtio-packed or igb"
			" (--print; with --dev: split on a\n"
			"                      device that also offers packed)\n"
			"  --force-wedge N     after case N the self-test's first"
			" try fails on purpose\n"
			"                      (bus mastering off): exercises the"
			" VFIO reset path\n",
		.n_devs_required = 2,
		.devs_optional = true,
		.options = df_options,
		.handle = handle_opt,
		.ctx = &o,
	};
	struct df_case *replay = NULL;
	uint64_t n_replay = 0;
	int rc = APP_EXIT_FAILURE;

	app_parse(&cli, argc, argv);
	check_opts(&cli, &o);
	if (app_install_signal_handlers() < 0)
		return APP_EXIT_FAILURE;
	if (o.replay) {
		replay = read_replay(o.replay, &n_replay);
		if (o.kind < 0) /* a split case file on a device that offers packed */
			o.kind = replay[0].kind;
	}
	if (o.print) {
		print_cases(&o, replay, n_replay);
		free(replay);
		return APP_EXIT_OK;
	}
	f.cli = &cli;
	f.o = &o;
	f.findings_fd = -1;
	if (o.findings) {
		f.findings_fd = open(o.findings, O_WRONLY | O_CREAT | O_APPEND |
					       O_CLOEXEC, 0644);
		if (f.findings_fd < 0) {
			app_error("cannot open --findings %s: %s", o.findings,
				  strerror(errno));
			free(replay);
			return APP_EXIT_FAILURE;
		}
	}
	if (setup(&f) == 0)
		rc = fuzz_loop(&f, replay, n_replay);
	teardown(&f);
	if (f.findings_fd >= 0)
		close(f.findings_fd);
	free(replay);
	return rc;
}
