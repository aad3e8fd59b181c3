/* SPDX-License-Identifier: MIT */
/* common.c - command line, setup through the helper, signals, stats. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define NS_PER_S 1000000000ull
#define MAX_OPTIONS 24
#define MAX_DEV_NAME 63
#define MAX_DURATION_S (365.0 * 24 * 3600)
/* Room for the rings and their bookkeeping next to the mempools. */
#define RING_ROOM_PER_PORT (2u << 20)
#define POOL_ALIGN (2u << 20)

static const char *app_prog = "nicbox";
/* Set from the signal handler, read by app_running. */
static volatile sig_atomic_t stop_requested;
/* stdout's buffer is ours, so printing never allocates after lockdown. */
static char stdout_buf[4096];

/* ------------------------------------------------------------------------ */
/* Command line                                                              */

static const struct option common_options[] = {
	{ "socket", required_argument, NULL, APP_OPT_SOCKET },
	{ "duration", required_argument, NULL, APP_OPT_DURATION },
	{ "json", no_argument, NULL, APP_OPT_JSON },
	{ "dev", required_argument, NULL, APP_OPT_DEV },
	{ "help", no_argument, NULL, APP_OPT_HELP },
	{ "version", no_argument, NULL, APP_OPT_VERSION },
};

/* "prog: message" on stderr, without the newline. */
__attribute__((format(printf, 1, 0))) static void report(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", app_prog);
	vfprintf(stderr, fmt, ap);
}

void app_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", app_prog);
	exit(APP_EXIT_USAGE);
}

void app_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t app_parse_u64(const char *opt, const char *arg, uint64_t min,
		       uint64_t max)
{
	unsigned long long v;
	char *end;

	/* strtoull would accept " 5", "+5" and "-5" (as a huge number). */
	if (!isdigit((unsigned char)arg[0]))
		app_usage_error("%s: '%s' is not a non-negative integer", opt,
				arg);
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end != '\0')
		app_usage_error("%s: '%s' is not a non-negative integer", opt,
				arg);
	if (errno == ERANGE || v < min || v > max)
		app_usage_error("%s: %s is out of range (%" PRIu64 "..%" PRIu64
				")", opt, arg, min, max);
	return v;
}

double app_parse_seconds(const char *opt, const char *arg)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)arg[0]) && arg[0] != '.')
		app_usage_error("%s: '%s' is not a number of seconds", opt,
				arg);
	v = strtod(arg, &end);
	if (*end != '\0' || !isfinite(v))
		app_usage_error("%s: '%s' is not a number of seconds", opt,
				arg);
	if (v <= 0 || v > MAX_DURATION_S)
		app_usage_error("%s: %s is out of range (more than 0, at most "
				"%.0f seconds)", opt, arg, MAX_DURATION_S);
	return v;
}

static void print_usage(const struct app_cli *cli)
{
	printf("Usage: %s %s\n\n%s"
	       "  --socket PATH       helper socket (default: $NICBOX_SOCKET,"
	       " else " NB_DEFAULT_SOCKET ")\n"
	       "  --duration SECONDS  stop after this long (default: until"
	       " SIGINT/SIGTERM)\n"
	       "  --json              one JSON object per stats line\n"
	       "  -h, --help          print this help and exit\n"
	       "  --version           print the version and exit\n\n"
	       "DEV is a PCI address (0000:03:00.0) or an interface name"
	       " (eth1).\n"
	       "Exit status: 0 success, 1 failure (helper, device, file),"
	       " 2 bad command line.\n",
	       cli->prog, cli->synopsis, cli->help);
}

static void add_dev(struct app_cli *cli, const char *dev)
{
	if (dev[0] == '\0')
		app_usage_error("--dev: empty device name");
	if (strlen(dev) > MAX_DEV_NAME)
		app_usage_error("--dev: device name longer than %d characters",
				MAX_DEV_NAME);
	for (unsigned i = 0; i < cli->n_devs; i++)
		if (strcmp(cli->devs[i], dev) == 0)
			app_usage_error("--dev %s given twice", dev);
	if (cli->n_devs == cli->n_devs_required)
		app_usage_error("too many --dev options (%s takes %u)",
				cli->prog, cli->n_devs_required);
	cli->devs[cli->n_devs++] = dev;
}

/* The common options, then the app's, then the zero entry getopt needs. */
static void build_options(const struct app_cli *cli,
			  struct option all[MAX_OPTIONS])
{
	unsigned n = 0;

	for (unsigned i = 0; i < sizeof(common_options) / sizeof(*common_options); i++)
		all[n++] = common_options[i];
	for (const struct option *o = cli->options;
	     o && o->name && n < MAX_OPTIONS - 1; o++)
		all[n++] = *o;
	memset(&all[n], 0, sizeof(all[n]));
}

void app_parse(struct app_cli *cli, int argc, char **argv)
{
	struct option all[MAX_OPTIONS];
	int opt;

	setvbuf(stdout, stdout_buf, _IOLBF, sizeof(stdout_buf));
	app_prog = cli->prog;
	build_options(cli, all);
	opterr = 0; /* we word the messages ourselves */
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", all, NULL)) != -1) {
		switch (opt) {
		case APP_OPT_SOCKET:
			if (optarg[0] == '\0')
				app_usage_error("--socket: empty path");
			cli->socket = optarg;
			break;
		case APP_OPT_DURATION:
			cli->duration = app_parse_seconds("--duration", optarg);
			break;
		case APP_OPT_JSON:
			cli->json = true;
			break;
		case APP_OPT_DEV:
			add_dev(cli, optarg);
			break;
		case 'h':
		case APP_OPT_HELP:
			print_usage(cli);
			exit(APP_EXIT_OK);
		case APP_OPT_VERSION:
			printf("%s (nicbox) %s\n", cli->prog, NICBOX_VERSION);
			exit(APP_EXIT_OK);
		case ':':
			app_usage_error("%s needs a value", argv[optind - 1]);
		case '?':
			/* optopt: a short option's letter, or a long
			 * option's id when it was given a value it takes
			 * not; 0 for an unknown long option. */
			if (optopt >= APP_OPT_SOCKET)
				app_usage_error("'%s': option takes no value",
						argv[optind - 1]);
			if (optopt)
				app_usage_error("unknown option '-%c'", optopt);
			app_usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			cli->handle(cli->ctx, opt, optarg);
		}
	}
	if (optind < argc && !cli->args_name)
		app_usage_error("unexpected argument '%s'", argv[optind]);
	cli->args = argv + optind;
	cli->n_args = argc - optind;
	if (cli->n_devs < cli->n_devs_required) {
		if (cli->n_devs_required == 1)
			app_usage_error("missing --dev DEV");
		app_usage_error("%s needs %u --dev options, got %u", cli->prog,
				cli->n_devs_required, cli->n_devs);
	}
}

/* ------------------------------------------------------------------------ */
/* Setup and teardown                                                        */

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int install_signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0) {
		app_error("cannot install signal handlers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static size_t pool_bytes(unsigned n_ports, uint32_t tx_bufs)
{
	size_t bufs = (size_t)n_ports * APP_MEMPOOL_BUFS + tx_bufs;
	size_t bytes = bufs * (APP_BUF_SIZE + NB_PKT_HEADROOM) +
		       (size_t)n_ports * RING_ROOM_PER_PORT;

	return (bytes + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN;
}

/* "0000:00:04.0 (virtio, 52:54:00:12:34:56, link up 10000 Mbit/s)" */
static void describe_port(struct nb_dev *dev, char *out, size_t len)
{
	uint8_t mac[6] = { 0 };
	struct nb_link link = { 0 };
	char speed[32] = "";

	if (nb_dev_mac(dev, mac) < 0 || nb_dev_link(dev, &link) < 0) {
		snprintf(out, len, "%s (%s)", nb_dev_name(dev),
			 nb_dev_driver(dev));
		return;
	}
	if (link.up && link.speed_mbps)
		snprintf(speed, sizeof(speed), " %" PRIu32 " Mbit/s",
			 link.speed_mbps);
	snprintf(out, len,
		 "%s (%s, %02x:%02x:%02x:%02x:%02x:%02x, link %s%s)",
		 nb_dev_name(dev), nb_dev_driver(dev), mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5], link.up ? "up" : "down", speed);
}

/*
 * NICBOX_SETUP_TIMES=1: how long each step of app_start took (and "exec",
 * the process start to app_start), one line on stderr once the app is
 * ready (bench/vm-setup-lat-guest.sh reads it). The helper's work shows in
 * the step that asked for it: claim (netdev down, bind to vfio-pci, IOMMU
 * container and group), pool (hugepage memfd, IOMMU mapping), ready
 * (device fds, VFIO reset); open is the mempools and the driver's init.
 */
enum setup_step { SETUP_BEGIN, SETUP_CONNECT, SETUP_CLAIM, SETUP_POOL,
		  SETUP_READY, SETUP_OPEN, SETUP_LOCKDOWN, SETUP_STEPS };
static uint64_t setup_ns[SETUP_STEPS];
static double setup_exec_ms; /* process start to app_start */

static bool setup_times_on(void)
{
	const char *env = getenv("NICBOX_SETUP_TIMES");

	return env && strcmp(env, "1") == 0;
}

static void setup_mark(enum setup_step step)
{
	setup_ns[step] = app_now_ns();
}

/* Milliseconds from the process start (10 ms resolution) to now. */
static double since_exec_ms(void)
{
	unsigned long long start = 0;
	struct timespec now;
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	/* Field 22, counted after the ")" that ends the command name. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
			 "%*d %*d %*d %*d %*d %*d %llu", &start) != 1)
		return -1;
	clock_gettime(CLOCK_BOOTTIME, &now);
	return ((double)now.tv_sec + now.tv_nsec / 1e9 -
		(double)start / (double)sysconf(_SC_CLK_TCK)) * 1e3;
}

static void setup_report(void)
{
	static const char *const name[SETUP_STEPS] = {
		"", "connect", "claim", "pool", "ready", "open", "lockdown" };
	if (!setup_times_on())
		return;
	fprintf(stderr, "%s: setup ms: exec %.0f", app_prog, setup_exec_ms);
	for (unsigned i = SETUP_CONNECT; i < SETUP_STEPS; i++)
		fprintf(stderr, " %s %.1f", name[i],
			(double)(setup_ns[i] - setup_ns[i - 1]) / 1e6);
	fprintf(stderr, " total %.1f\n",
		(double)(setup_ns[SETUP_LOCKDOWN] - setup_ns[SETUP_BEGIN]) / 1e6);
}

int app_start(struct app *a, const struct app_cli *cli,
	      const struct app_setup *setup)
{
	char note[256] = "";
	char desc[APP_MAX_PORTS][128];
	int index[APP_MAX_PORTS];
	size_t bytes;

	memset(a, 0, sizeof(*a));
	a->cli = cli;
	setup_mark(SETUP_BEGIN);
	setup_exec_ms = setup_times_on() ? since_exec_ms() : 0;
	if (install_signal_handlers() < 0)
		return -1;
	if (nb_session_open(cli->socket, &a->session) < 0) {
		app_error("cannot connect to nicbox-helper: %s", nb_last_error());
		return -1;
	}
	setup_mark(SETUP_CONNECT);
	for (unsigned i = 0; i < cli->n_devs; i++) {
		index[i] = nb_session_claim(a->session, cli->devs[i]);
		if (index[i] < 0) {
			app_error("cannot claim %s: %s", cli->devs[i],
				  nb_last_error());
			return -1;
		}
	}
	setup_mark(SETUP_CLAIM);
	bytes = pool_bytes(cli->n_devs, setup->tx_bufs);
	if (nb_session_pool(a->session, bytes, NB_PAGE_DEFAULT, &a->pool, note,
			    sizeof(note)) < 0) {
		app_error("cannot get a %zu MiB DMA pool: %s", bytes >> 20,
			  nb_last_error());
		return -1;
	}
	if (note[0])
		app_error("warning: %s", note);
	setup_mark(SETUP_POOL);
	if (nb_session_ready(a->session) < 0) {
		app_error("the helper did not hand over the devices: %s",
			  nb_last_error());
		return -1;
	}
	setup_mark(SETUP_READY);
	if (setup->tx_bufs &&
	    nb_mempool_create(a->pool, setup->tx_bufs, APP_BUF_SIZE,
			      &a->tx_mp) < 0) {
		app_error("cannot create the transmit mempool: %s",
			  nb_last_error());
		return -1;
	}
	for (unsigned i = 0; i < cli->n_devs; i++) {
		struct app_port *p = &a->port[i];
		struct nb_dev_conf conf = { .promisc = setup->promisc };

		if (nb_mempool_create(a->pool, APP_MEMPOOL_BUFS, APP_BUF_SIZE,
				      &p->rx_mp) < 0) {
			app_error("cannot create the receive mempool for %s: %s",
				  cli->devs[i], nb_last_error());
			return -1;
		}
		conf.rx_mempool = p->rx_mp;
		if (nb_dev_open(a->session, index[i], a->pool, &conf,
				&p->dev) < 0) {
			app_error("cannot open %s: %s", cli->devs[i],
				  nb_last_error());
			return -1;
		}
		a->n_ports++;
		describe_port(p->dev, desc[i], sizeof(desc[i]));
	}
	if (setup->prepare && setup->prepare(a, setup->prepare_ctx) < 0)
		return -1;
	setup_mark(SETUP_OPEN);
	if (nb_lockdown(a->session, setup->keep_fds, setup->n_keep_fds, note,
			sizeof(note)) < 0) {
		app_error("lockdown failed: %s", nb_last_error());
		return -1;
	}
	if (note[0])
		app_error("notice: %s", note);
	setup_mark(SETUP_LOCKDOWN);
	setup_report();
	for (unsigned i = 0; i < a->n_ports; i++)
		app_error("ready: %s, pid %d", desc[i], (int)getpid());

	a->start_ns = app_now_ns();
	a->last_report_ns = a->start_ns;
	if (cli->duration > 0)
		a->end_ns = a->start_ns + (uint64_t)(cli->duration * NS_PER_S);
	return 0;
}

void app_finish(struct app *a)
{
	/*
	 * Every device first: closing one frees the buffers on its rings, and
	 * in fwd those belong to the other device's mempool.
	 */
	for (unsigned i = 0; i < APP_MAX_PORTS; i++)
		if (a->port[i].dev)
			nb_dev_close(a->port[i].dev);
	for (unsigned i = 0; i < APP_MAX_PORTS; i++)
		if (a->port[i].rx_mp)
			nb_mempool_destroy(a->port[i].rx_mp);
	if (a->tx_mp)
		nb_mempool_destroy(a->tx_mp);
	if (a->pool)
		nb_pool_destroy(a->pool);
	if (a->session)
		nb_session_close(a->session);
	memset(a, 0, sizeof(*a));
}

/* ------------------------------------------------------------------------ */
/* Run time                                                                  */

uint64_t app_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

bool app_running(const struct app *a, uint64_t now_ns)
{
	return !stop_requested && !a->failed &&
	       (a->end_ns == 0 || now_ns < a->end_ns);
}

struct port_figures {
	double rx_pps, tx_pps, rx_mbps, tx_mbps;
	uint64_t drops, errors, faults;
};

static void figure(const struct nb_stats *now, const struct nb_stats *base,
		   uint64_t app_drops, double secs, struct port_figures *f)
{
	f->rx_pps = (double)(now->rx_packets - base->rx_packets) / secs;
	f->tx_pps = (double)(now->tx_packets - base->tx_packets) / secs;
	f->rx_mbps = (double)(now->rx_bytes - base->rx_bytes) * 8 / secs / 1e6;
	f->tx_mbps = (double)(now->tx_bytes - base->tx_bytes) * 8 / secs / 1e6;
	f->drops = now->rx_missed + app_drops;
	f->errors = now->rx_errors + now->tx_errors;
	f->faults = now->dev_faults;
}

static void print_json(const struct app *a, const struct app_port *p,
		       double t, bool final, const struct nb_stats *s,
		       const struct port_figures *f,
		       const struct app_counter *extra, unsigned n_extra)
{
	printf("{\"app\":\"%s\",\"dev\":\"%s\",\"time_s\":%.3f,"
	       "\"final\":%s,\"rx_pps\":%.1f,\"tx_pps\":%.1f,"
	       "\"rx_mbps\":%.3f,\"tx_mbps\":%.3f,\"rx_packets\":%" PRIu64
	       ",\"tx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
	       ",\"tx_bytes\":%" PRIu64 ",\"drops\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"faults\":%" PRIu64,
	       a->cli->prog, nb_dev_name(p->dev), t, final ? "true" : "false",
	       f->rx_pps, f->tx_pps, f->rx_mbps, f->tx_mbps, s->rx_packets,
	       s->tx_packets, s->rx_bytes, s->tx_bytes, f->drops, f->errors,
	       f->faults);
	for (unsigned i = 0; i < n_extra; i++)
		printf(",\"%s\":%" PRIu64, extra[i].name, extra[i].value);
	printf("}\n");
}

static void print_text(const struct app_port *p, double t, bool final,
		       const struct nb_stats *s, const struct port_figures *f,
		       const struct app_counter *extra, unsigned n_extra)
{
	char rx_total[32] = "", tx_total[32] = "";

	if (final) {
		snprintf(rx_total, sizeof(rx_total), " %" PRIu64 " pkts,",
			 s->rx_packets);
		snprintf(tx_total, sizeof(tx_total), " %" PRIu64 " pkts,",
			 s->tx_packets);
	}
	printf("%s%7.1fs %s rx%s %.3f Mpps %.1f Mbit/s | tx%s %.3f Mpps "
	       "%.1f Mbit/s | drops %" PRIu64 " errors %" PRIu64
	       " faults %" PRIu64,
	       final ? "final " : "", t, nb_dev_name(p->dev), rx_total,
	       f->rx_pps / 1e6, f->rx_mbps, tx_total, f->tx_pps / 1e6,
	       f->tx_mbps, f->drops, f->errors, f->faults);
	for (unsigned i = 0; i < n_extra; i++)
		printf(" %s %" PRIu64, extra[i].name, extra[i].value);
	printf("\n");
}

void app_report(struct app *a, uint64_t now_ns, bool final,
		const struct app_counter *extra, unsigned n_extra)
{
	static const struct nb_stats zero;
	double t = (double)(now_ns - a->start_ns) / NS_PER_S;
	double secs = (double)(now_ns - (final ? a->start_ns : a->last_report_ns)) /
		      NS_PER_S;

	if (secs <= 0)
		secs = 1e-9;
	for (unsigned i = 0; i < a->n_ports; i++) {
		struct app_port *p = &a->port[i];
		const char *fault = nb_dev_fault(p->dev);
		struct port_figures f;
		struct nb_stats s;

		if (nb_dev_stats(p->dev, &s) < 0) {
			app_error("cannot read the stats of %s: %s",
				  nb_dev_name(p->dev), nb_last_error());
			a->failed = true;
			continue;
		}
		figure(&s, final ? &zero : &p->last, p->app_drops, secs, &f);
		if (a->cli->json)
			print_json(a, p, t, final, &s, &f, extra, n_extra);
		else
			print_text(p, t, final, &s, &f, extra, n_extra);
		p->last = s;
		if (fault && !p->fault_reported) {
			app_error("%s: device fault: %s", nb_dev_name(p->dev),
				  fault);
			p->fault_reported = true;
			a->failed = true;
		}
	}
	a->last_report_ns = now_ns;
}
