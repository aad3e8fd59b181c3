/* SPDX-License-Identifier: MIT */
/* common.c - command line, setup through the helper, signals, stats. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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
	{ "queues", required_argument, NULL, APP_OPT_QUEUES },
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
	       "  --queues N          receive/transmit queues per NIC, 1..%d"
	       " (default 1; RSS\n"
	       "                      spreads flows over them)\n%s"
	       "  -h, --help          print this help and exit\n"
	       "  --version           print the version and exit\n\n"
	       "DEV is a PCI address (0000:03:00.0) or an interface name"
	       " (eth1).\n"
	       "Exit status: 0 success, 1 failure (helper, device, file),"
	       " 2 bad command line.\n",
	       cli->prog, cli->synopsis, cli->help, NB_MAX_QUEUES,
	       cli->stats_fd_option ?
	       "  --stats-fd N        also write each stats line as JSON to"
	       " inherited fd N (>= 3),\n"
	       "                      which the sandbox keeps for write only\n" : "");
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

static enum nb_rx_mode parse_rx_mode(const char *arg)
{
	static const char *const names[] = {
		[NB_RX_POLL] = "poll",
		[NB_RX_INTERRUPT] = "interrupt",
		[NB_RX_ADAPTIVE] = "adaptive",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(arg, names[i]) == 0)
			return (enum nb_rx_mode)i;
	app_usage_error("--rx-mode: '%s' is not poll, interrupt or adaptive", arg);
}

/* --stats-fd N: an inherited fd open for writing, given once. */
static int parse_stats_fd(const struct app_cli *cli, const char *arg)
{
	int fd = (int)app_parse_u64("--stats-fd", arg, 3, INT_MAX);
	int fl = fcntl(fd, F_GETFL);

	if (cli->stats_fd)
		app_usage_error("--stats-fd given twice");
	if (fl < 0)
		app_usage_error("--stats-fd %d: fd %d is not open (%s)", fd, fd,
				strerror(errno));
	if ((fl & O_ACCMODE) == O_RDONLY)
		app_usage_error("--stats-fd %d: fd %d is open read-only", fd, fd);
	return fd;
}

/* The common options, then the app's, then the zero entry getopt needs. */
static void build_options(const struct app_cli *cli,
			  struct option all[MAX_OPTIONS])
{
	unsigned n = 0;

	for (unsigned i = 0; i < sizeof(common_options) / sizeof(*common_options); i++)
		all[n++] = common_options[i];
	if (cli->rx_mode_option)
		all[n++] = (struct option){ "rx-mode", required_argument, NULL,
					    APP_OPT_RX_MODE };
	if (cli->stats_fd_option)
		all[n++] = (struct option){ "stats-fd", required_argument, NULL,
					    APP_OPT_STATS_FD };
	for (const struct option *o = cli->options;
	     o && o->name && n < MAX_OPTIONS - 1; o++)
		all[n++] = *o;
	memset(&all[n], 0, sizeof(all[n]));
}

/* getopt_long reports an ambiguous prefix ("--d": --dev or --duration?)
 * like an unknown option; name the candidates instead. */
noreturn static void unknown_long(const struct option *all, const char *arg)
{
	size_t len = strcspn(arg + 2, "=");
	char matches[256] = "";
	unsigned n = 0;

	for (const struct option *o = all; o->name; o++)
		if (strncmp(o->name, arg + 2, len) == 0 && ++n)
			snprintf(matches + strlen(matches), sizeof(matches) - strlen(matches),
				 "%s--%s", n > 1 ? ", " : "", o->name);
	if (n > 1)
		app_usage_error("option '%.*s' is ambiguous (%s)", (int)len + 2, arg, matches);
	app_usage_error("unknown option '%s'", arg);
}

void app_parse(struct app_cli *cli, int argc, char **argv)
{
	struct option all[MAX_OPTIONS];
	int opt;

	setvbuf(stdout, stdout_buf, _IOLBF, sizeof(stdout_buf));
	app_prog = cli->prog;
	build_options(cli, all);
	/* docs/performance.md: adaptive costs nothing measurable at full load. */
	cli->rx_mode = cli->rx_mode_option ? NB_RX_ADAPTIVE : NB_RX_POLL;
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
		case APP_OPT_QUEUES:
			cli->queues = (unsigned)app_parse_u64("--queues", optarg, 1,
							      NB_MAX_QUEUES);
			break;
		case APP_OPT_DEV:
			add_dev(cli, optarg);
			break;
		case APP_OPT_RX_MODE:
			cli->rx_mode = parse_rx_mode(optarg);
			break;
		case APP_OPT_STATS_FD:
			cli->stats_fd = parse_stats_fd(cli, optarg);
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
			unknown_long(all, argv[optind - 1]);
		default:
			cli->handle(cli->ctx, opt, optarg);
		}
	}
	if (cli->queues == 0)
		cli->queues = 1;
	if (optind < argc && !cli->args_name)
		app_usage_error("unexpected argument '%s'", argv[optind]);
	cli->args = argv + optind;
	cli->n_args = argc - optind;
	if (cli->n_devs < cli->n_devs_required && !cli->devs_optional) {
		if (cli->n_devs_required == 1)
			app_usage_error("missing --dev DEV");
		app_usage_error("needs %u --dev options, got %u",
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

int app_install_signal_handlers(void)
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

void app_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NS_PER_S),
			       .tv_nsec = (long)(ns % NS_PER_S) };

	nanosleep(&ts, NULL);
}

/* A worker waits (sleeping; nb_lockdown's signal may wake it) until the
 * lockdown is done, then runs the app's loop. */
static void *worker_main(void *arg)
{
	struct app_worker *w = arg;
	int go;

	while ((go = __atomic_load_n(&w->a->go, __ATOMIC_ACQUIRE)) == 0)
		app_sleep_ns(1000000);
	if (go > 0)
		w->a->worker(w);
	return NULL;
}

/* One thread per port and queue, created before lockdown. */
static int start_workers(struct app *a, void (*worker)(struct app_worker *w))
{
	a->worker = worker;
	for (unsigned i = 0; i < a->n_ports; i++) {
		for (uint16_t q = 0; q < a->n_queues; q++) {
			struct app_worker *w = &a->workers[a->n_workers];
			int err;

			*w = (struct app_worker){ .a = a, .port = i, .queue = q };
			err = pthread_create(&w->tid, NULL, worker_main, w);
			if (err) {
				app_error("cannot start a thread for %s queue %u: %s",
					  nb_dev_name(a->port[i].dev), q, strerror(err));
				return -1;
			}
			w->started = true;
			a->n_workers++;
		}
	}
	return 0;
}

void app_stop_workers(struct app *a)
{
	if (__atomic_load_n(&a->go, __ATOMIC_ACQUIRE) == 0)
		__atomic_store_n(&a->go, -1, __ATOMIC_RELEASE);
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < a->n_workers; i++) {
		if (a->workers[i].started)
			pthread_join(a->workers[i].tid, NULL);
		a->workers[i].started = false;
	}
}

/*
 * NICBOX_SETUP_TIMES=1: how long each step of app_start took (and "exec",
 * the process start to app_start), one line on stderr once the app is
 * ready (bench/vm-setup-lat-guest.sh reads it). The helper's work shows in
 * the step that asked for it (nb_ports_timing): claim (netdev down, bind to
 * vfio-pci, IOMMU container and group), pool (hugepage memfd, IOMMU
 * mapping), ready (device fds, VFIO reset); open is the mempools and the
 * drivers' init; threads the app's preparation and queue threads.
 */
enum setup_step { SETUP_BEGIN, SETUP_CONNECT, SETUP_CLAIM, SETUP_POOL,
		  SETUP_READY, SETUP_OPEN, SETUP_WORKERS, SETUP_LOCKDOWN,
		  SETUP_STEPS };
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

/* nb_ports_open's own steps, which end at the time marked now. */
static void setup_ports(const struct nb_ports *ports)
{
	struct nb_ports_timing t;

	setup_mark(SETUP_OPEN);
	if (nb_ports_timing(ports, &t) < 0)
		return;
	setup_ns[SETUP_READY] = setup_ns[SETUP_OPEN] - t.open_ns;
	setup_ns[SETUP_POOL] = setup_ns[SETUP_READY] - t.ready_ns;
	setup_ns[SETUP_CLAIM] = setup_ns[SETUP_POOL] - t.pool_ns;
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
		"", "connect", "claim", "pool", "ready", "open", "threads", "lockdown" };

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
	char note[512] = "";
	char desc[APP_MAX_PORTS][128];
	struct nb_keep keep[NB_KEEP_MAX];
	unsigned n_keep = 0;
	struct nb_port_conf conf = { .rx_bufs = APP_MEMPOOL_BUFS, .tx_bufs = setup->tx_bufs,
				     .buf_size = APP_BUF_SIZE, .promisc = setup->promisc,
				     .rx_mode = cli->rx_mode };

	memset(a, 0, sizeof(*a));
	a->cli = cli;
	setup_mark(SETUP_BEGIN);
	setup_exec_ms = setup_times_on() ? since_exec_ms() : 0;
	if (app_install_signal_handlers() < 0)
		return -1;
	if (nb_session_open(cli->socket, &a->session) < 0) {
		app_error("%s", nb_last_error()); /* names the socket and the helper */
		return -1;
	}
	setup_mark(SETUP_CONNECT);
	a->n_queues = setup->one_queue ? 1 : (uint16_t)cli->queues;
	conf.queues = a->n_queues;
	if (nb_ports_open(a->session, cli->devs, cli->n_devs, &conf, &a->ports, note,
			  sizeof(note)) < 0) {
		app_error("%s", nb_last_error()); /* says which step, which device */
		return -1;
	}
	if (note[0])
		app_error("warning: %s", note);
	setup_ports(a->ports);
	a->tx_mp = nb_ports_tx_mempool(a->ports);
	for (unsigned i = 0; i < cli->n_devs; i++) {
		a->port[i].dev = nb_ports_dev(a->ports, i);
		a->n_ports++;
		describe_port(a->port[i].dev, desc[i], sizeof(desc[i]));
	}
	if (setup->prepare && setup->prepare(a, setup->prepare_ctx) < 0)
		return -1;
	if (setup->worker && start_workers(a, setup->worker) < 0)
		return -1;
	setup_mark(SETUP_WORKERS);
	for (unsigned i = 0; i < setup->n_write_fds; i++)
		keep[n_keep++] = (struct nb_keep){ setup->write_fds[i], NB_KEEP_WRITE };
	if (cli->stats_fd)
		keep[n_keep++] = (struct nb_keep){ cli->stats_fd, NB_KEEP_WRITE };
	if (nb_lockdown_keep(a->session, keep, n_keep, note, sizeof(note)) < 0) {
		app_error("lockdown failed: %s", nb_last_error());
		return -1; /* app_finish ends the workers (go stays 0: -1) */
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
	__atomic_store_n(&a->go, 1, __ATOMIC_RELEASE);
	return 0;
}

void app_finish(struct app *a)
{
	app_stop_workers(a);
	nb_ports_close(a->ports); /* devices first, then mempools and pool */
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
	return !stop_requested && !__atomic_load_n(&a->failed, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&a->stop, __ATOMIC_RELAXED) &&
	       (a->end_ns == 0 || now_ns < a->end_ns);
}

int app_idle_init(struct app *a, struct nb_rx_idle *idle, int port,
		  int queue)
{
	struct nb_rxq_ref qs[NB_RX_WAIT_MAX];
	unsigned n = 0;

	for (unsigned i = 0; i < a->n_ports; i++)
		for (uint16_t q = 0; q < a->n_queues; q++)
			if ((port < 0 || (unsigned)port == i) &&
			    (queue < 0 || queue == q) && n < NB_RX_WAIT_MAX)
				qs[n++] = (struct nb_rxq_ref){
					.dev = a->port[i].dev, .queue = q };
	if (nb_rx_idle_init(idle, qs, n, APP_IDLE_TIMEOUT_MS) < 0) {
		app_error("%s", nb_last_error());
		__atomic_store_n(&a->failed, true, __ATOMIC_RELAXED);
		return -1;
	}
	return 0;
}

bool app_idle(struct app *a, struct nb_rx_idle *idle, unsigned received)
{
	int slept = nb_rx_idle(idle, received);

	if (slept < 0) {
		app_error("waiting for frames: %s", nb_last_error());
		__atomic_store_n(&a->failed, true, __ATOMIC_RELAXED);
	}
	return slept != 0;
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

/* One stats line, built before it goes out (stdout, --stats-fd). */
struct stats_line {
	char text[2048]; /* NB_MAX_QUEUES x 3 counters fit */
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static void line_add(struct stats_line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = l->len + (size_t)n < sizeof(l->text) ? l->len + (size_t)n
							      : sizeof(l->text) - 1;
}

/* With more than one queue: each queue's rx, tx and drop counts. */
static void add_queues(struct stats_line *l, const struct app *a,
		       const struct app_port *p, bool json)
{
	static const char *const names[] = { "rx", "tx", "drops" };

	if (a->n_queues < 2)
		return;
	for (unsigned k = 0; k < 3; k++) {
		line_add(l, json ? ",\"queue_%s\":[" : " queue_%s ", names[k]);
		for (unsigned q = 0; q < a->n_queues; q++) {
			const uint64_t *c = k == 0 ? &p->q[q].rx : k == 1 ? &p->q[q].tx : &p->q[q].drops;

			line_add(l, "%s%" PRIu64, q ? (json ? "," : "/") : "", app_counted(c));
		}
		if (json)
			line_add(l, "]");
	}
}

static void format_json(struct stats_line *l, const struct app *a,
			const struct app_port *p, double t, bool final,
			const struct nb_stats *s, const struct port_figures *f,
			const struct app_counter *extra, unsigned n_extra)
{
	line_add(l, "{\"app\":\"%s\",\"dev\":\"%s\",\"time_s\":%.3f,"
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
		line_add(l, ",\"%s\":%" PRIu64, extra[i].name, extra[i].value);
	add_queues(l, a, p, true);
	line_add(l, "}\n");
}

static void format_text(struct stats_line *l, const struct app *a,
			const struct app_port *p, double t, bool final,
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
	line_add(l, "%s%7.1fs %s rx%s %.3f Mpps %.1f Mbit/s | tx%s %.3f Mpps "
		 "%.1f Mbit/s | drops %" PRIu64 " errors %" PRIu64
		 " faults %" PRIu64,
		 final ? "final " : "", t, nb_dev_name(p->dev), rx_total,
		 f->rx_pps / 1e6, f->rx_mbps, tx_total, f->tx_pps / 1e6,
		 f->tx_mbps, f->drops, f->errors, f->faults);
	for (unsigned i = 0; i < n_extra; i++)
		line_add(l, " %s %" PRIu64, extra[i].name, extra[i].value);
	add_queues(l, a, p, false);
	line_add(l, "\n");
}

/* --stats-fd: the whole line, or the app fails (reported once). */
static void write_stats_fd(struct app *a, const struct stats_line *l)
{
	size_t done = 0;

	while (done < l->len) {
		ssize_t n = write(a->cli->stats_fd, l->text + done, l->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			app_error("--stats-fd %d: %s", a->cli->stats_fd,
				  n < 0 ? strerror(errno) : "wrote nothing");
			__atomic_store_n(&a->failed, true, __ATOMIC_RELAXED);
			return;
		}
		done += (size_t)n;
	}
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
		uint64_t drops = p->app_drops;
		struct stats_line line = { .len = 0 };
		struct port_figures f;
		struct nb_stats s;

		if (nb_dev_stats(p->dev, &s) < 0) {
			app_error("cannot read the stats of %s: %s",
				  nb_dev_name(p->dev), nb_last_error());
			a->failed = true;
			continue;
		}
		for (unsigned q = 0; q < a->n_queues; q++)
			drops += app_counted(&p->q[q].drops);
		figure(&s, final ? &zero : &p->last, drops, secs, &f);
		if (a->cli->json)
			format_json(&line, a, p, t, final, &s, &f, extra, n_extra);
		else
			format_text(&line, a, p, t, final, &s, &f, extra, n_extra);
		fputs(line.text, stdout);
		if (a->cli->stats_fd) {
			if (!a->cli->json) {
				line.len = 0;
				format_json(&line, a, p, t, final, &s, &f, extra, n_extra);
			}
			write_stats_fd(a, &line);
		}
		p->last = s;
		if (fault && !p->fault_reported) {
			app_error("%s: device fault: %s", nb_dev_name(p->dev),
				  fault);
			p->fault_reported = true;
			__atomic_store_n(&a->failed, true, __ATOMIC_RELAXED);
		}
	}
	a->last_report_ns = now_ns;
}
