/* SPDX-License-Identifier: MIT */
/*
 * common.h - what nicbox-pktgen, nicbox-fwd and nicbox-capture share:
 * command-line parsing, the helper session and device setup ending in
 * lockdown, signal handling, and the once-a-second stats reporter.
 */
#ifndef NB_APPS_COMMON_H
#define NB_APPS_COMMON_H

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "nicbox.h"

/* Packets per rx/tx call: amortises the call, fits the L1 cache. */
#define APP_BATCH 32
#define APP_MAX_PORTS 2
/* Data bytes per packet buffer: a full 1514-byte frame fits. */
#define APP_BUF_SIZE 2048
/* Buffers per mempool: covers a ring plus what is in flight elsewhere. */
#define APP_MEMPOOL_BUFS 4096

enum app_exit {
	APP_EXIT_OK = 0,
	APP_EXIT_FAILURE = 1, /* the helper, a device or a file failed */
	APP_EXIT_USAGE = 2,   /* bad command line; nothing was claimed */
	APP_EXIT_VERIFY = 3,  /* capture --verify: lost/dup/reordered/corrupt */
};

/* The --rx-mode line of an app's help (apps with rx_mode_option). */
#define APP_RX_MODE_HELP                                                      \
	"  --rx-mode MODE      poll (spin), interrupt (sleep when the ring is"  \
	" empty) or\n"                                                         \
	"                      adaptive (poll while busy, sleep after ~1 ms"    \
	" idle; default)\n"

/* Long-option ids; each app numbers its own from APP_OPT_APP_FIRST. */
enum {
	APP_OPT_SOCKET = 256,
	APP_OPT_DURATION,
	APP_OPT_JSON,
	APP_OPT_DEV,
	APP_OPT_HELP,
	APP_OPT_VERSION,
	APP_OPT_QUEUES,
	APP_OPT_RX_MODE,
	APP_OPT_STATS_FD,
	APP_OPT_APP_FIRST,
};

struct app_cli {
	/* Filled in by the app before app_parse. */
	const char *prog;     /* "nicbox-pktgen" */
	const char *synopsis; /* "--dev DEV [--size BYTES] ..." */
	const char *help;     /* the app's own options, one per line */
	unsigned n_devs_required;
	bool devs_optional; /* fewer --dev are fine; the app checks them */
	/* The app's extra options (terminated by a zero entry) and handler. */
	const struct option *options;
	void (*handle)(void *ctx, int opt, const char *arg);
	void *ctx;
	/* Non-NULL: words after the options are allowed (shown as this). */
	const char *args_name;
	/* The app waits for frames: it takes --rx-mode (default adaptive). */
	bool rx_mode_option;
	/* The app reports through app_start/app_report: it takes --stats-fd. */
	bool stats_fd_option;

	/* Parsed. */
	const char *socket; /* NULL: $NICBOX_SOCKET, then the default */
	double duration;    /* seconds; 0: until SIGINT/SIGTERM */
	bool json;
	unsigned queues;    /* --queues N: 1..NB_MAX_QUEUES; 1 when not given */
	const char *devs[APP_MAX_PORTS];
	unsigned n_devs;
	char **args; /* the words after the options (args_name) */
	int n_args;
	enum nb_rx_mode rx_mode; /* NB_RX_POLL without rx_mode_option */
	/* --stats-fd N: each stats line also as JSON to inherited fd N,
	 * kept through lockdown for write only; 0: none. */
	int stats_fd;
};

/*
 * Parse argv. Usage errors print "prog: reason" and a hint and exit with
 * APP_EXIT_USAGE; --help prints the usage, --version the version, and
 * both exit 0. Nothing else runs
 * before parsing is complete, so a bad command line claims nothing.
 */
void app_parse(struct app_cli *cli, int argc, char **argv);

noreturn void app_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Option value parsers: an unsigned decimal in [min, max], or seconds. */
uint64_t app_parse_u64(const char *opt, const char *arg, uint64_t min,
		       uint64_t max);
double app_parse_seconds(const char *opt, const char *arg);

/* Runtime failure: "prog: <message>" on stderr. */
void app_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One queue's counters. Each field has one writer (the thread that drives
 * that queue: app_count), the reporter reads them (app_counted).
 */
struct app_qstats {
	uint64_t rx, tx, drops;
};

static inline void app_count(uint64_t *ctr, uint64_t n)
{
	__atomic_store_n(ctr, *ctr + n, __ATOMIC_RELAXED);
}

static inline uint64_t app_counted(const uint64_t *ctr)
{
	return __atomic_load_n(ctr, __ATOMIC_RELAXED);
}

struct app_port {
	struct nb_dev *dev;
	struct app_qstats q[NB_MAX_QUEUES];
	uint64_t app_drops; /* packets the app freed because tx did not take them */
	struct nb_stats last; /* at the previous report */
	bool fault_reported;
};

struct app;

/* A thread that drives one queue of one port (see app_setup.worker). */
struct app_worker {
	struct app *a;
	unsigned port;
	uint16_t queue;
	pthread_t tid;
	bool started;
};

struct app {
	const struct app_cli *cli;
	uint16_t n_queues; /* rx and tx queues per device (cli->queues) */
	struct nb_session *session;
	struct nb_ports *ports;   /* the devices, their DMA pool and mempools */
	unsigned n_ports;
	struct app_port port[APP_MAX_PORTS];
	struct nb_mempool *tx_mp; /* only when app_setup.tx_bufs > 0 */
	uint64_t start_ns;
	uint64_t last_report_ns;
	uint64_t end_ns; /* 0: no --duration */
	bool failed;     /* a device faulted or a report could not be read */
	/* Worker threads: started before lockdown, running once go is 1. */
	void (*worker)(struct app_worker *w);
	unsigned n_workers;
	struct app_worker workers[APP_MAX_PORTS * NB_MAX_QUEUES];
	int go;   /* atomic: 0 wait, 1 run, -1 lockdown failed: end */
	int stop; /* atomic: workers end */
};

struct app_setup {
	bool promisc;
	bool one_queue;        /* one queue pair per device, whatever --queues */
	uint32_t tx_bufs;      /* a separate transmit mempool of this many */
	/* fds to keep open through lockdown for write only (NB_KEEP_WRITE),
	 * read when app_start locks down (after prepare) */
	const int *write_fds;
	unsigned n_write_fds;
	/* Called with the devices open, before lockdown; 0 or -1 (reported). */
	int (*prepare)(struct app *a, void *ctx);
	void *prepare_ctx;
	/*
	 * Optional: one thread per port and queue (n_ports * cli->queues),
	 * created before lockdown (so nb_lockdown locks them down too) and
	 * running `worker` once it succeeded, until app_running() is false.
	 */
	void (*worker)(struct app_worker *w);
};

/*
 * Connect to the helper, open cli->devs with nb_ports_open (claims, one DMA
 * pool sized for their rings and buffers, mempools, devices), lock down. Prints what failed
 * (with nb_last_error()) and returns -1; call app_finish either way.
 */
int app_start(struct app *a, const struct app_cli *cli,
	      const struct app_setup *setup);

/* SIGINT/SIGTERM make app_running false (app_start installs them too). */
int app_install_signal_handlers(void);

/* Close devices, mempools, pool and session. Safe after a failed start. */
void app_finish(struct app *a);

/* Tell the worker threads to end and wait for them (idempotent). */
void app_stop_workers(struct app *a);

/* Sleep `ns` nanoseconds (a reporting thread between reports). */
void app_sleep_ns(uint64_t ns);

/* CLOCK_MONOTONIC in ns (vDSO: no system call). */
uint64_t app_now_ns(void);

/* False once SIGINT/SIGTERM came, --duration passed, a device faulted or
 * the workers were told to stop. */
bool app_running(const struct app *a, uint64_t now_ns);

/* A one-second report is due. */
static inline bool app_report_due(const struct app *a, uint64_t now_ns)
{
	return now_ns - a->last_report_ns >= 1000000000ull;
}

/*
 * A spinning loop reads the clock (for --duration and the reports) only
 * every APP_CLOCK_ROUNDS rounds, and after app_idle slept. Under QEMU's
 * TCG each read (rdtsc in the vDSO) is a call into the emulator: reading
 * it every round cost nicbox-fwd about 20 us of median latency in the
 * testbed (docs/performance.md, latency).
 */
#define APP_CLOCK_ROUNDS 64
static inline bool app_clock_due(unsigned *round, bool slept)
{
	return slept || ++*round % APP_CLOCK_ROUNDS == 0;
}

/*
 * The receive loop's idle handling (nb_rx_idle over receive queue `queue`
 * of port `port`; -1: every queue / every port, up to NB_RX_WAIT_MAX): app_idle_init once after app_start (or
 * in a worker), app_idle after each round with the frames it received.
 * Sleeps at most APP_IDLE_TIMEOUT_MS, so reports and --duration still run;
 * marks the app failed on an error. True if it slept (or failed).
 */
#define APP_IDLE_TIMEOUT_MS 100
int app_idle_init(struct app *a, struct nb_rx_idle *idle, int port,
		  int queue);
bool app_idle(struct app *a, struct nb_rx_idle *idle, unsigned received);

/* Extra counters an app appends to its stats lines. */
struct app_counter {
	const char *name;
	uint64_t value;
};

/*
 * Print one stats line per port (text, or JSON with --json): rates since
 * the previous report, or averages over the run when `final`. Marks the
 * app failed when a device reports a fault.
 */
void app_report(struct app *a, uint64_t now_ns, bool final,
		const struct app_counter *extra, unsigned n_extra);

#endif /* NB_APPS_COMMON_H */
