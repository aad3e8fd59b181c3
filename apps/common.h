/* SPDX-License-Identifier: MIT */
/*
 * common.h - what nicbox-pktgen, nicbox-fwd and nicbox-capture share:
 * command-line parsing, the helper session and device setup ending in
 * lockdown, signal handling, and the once-a-second stats reporter.
 */
#ifndef NB_APPS_COMMON_H
#define NB_APPS_COMMON_H

#include <getopt.h>
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

/* Long-option ids; each app numbers its own from APP_OPT_APP_FIRST. */
enum {
	APP_OPT_SOCKET = 256,
	APP_OPT_DURATION,
	APP_OPT_JSON,
	APP_OPT_DEV,
	APP_OPT_HELP,
	APP_OPT_VERSION,
	APP_OPT_APP_FIRST,
};

struct app_cli {
	/* Filled in by the app before app_parse. */
	const char *prog;     /* "nicbox-pktgen" */
	const char *synopsis; /* "--dev DEV [--size BYTES] ..." */
	const char *help;     /* the app's own options, one per line */
	unsigned n_devs_required;
	/* The app's extra options (terminated by a zero entry) and handler. */
	const struct option *options;
	void (*handle)(void *ctx, int opt, const char *arg);
	void *ctx;
	/* Non-NULL: words after the options are allowed (shown as this). */
	const char *args_name;

	/* Parsed. */
	const char *socket; /* NULL: $NICBOX_SOCKET, then the default */
	double duration;    /* seconds; 0: until SIGINT/SIGTERM */
	bool json;
	const char *devs[APP_MAX_PORTS];
	unsigned n_devs;
	char **args; /* the words after the options (args_name) */
	int n_args;
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

struct app_port {
	struct nb_dev *dev;
	uint64_t app_drops; /* packets the app freed because tx did not take them */
	struct nb_stats last; /* at the previous report */
	bool fault_reported;
};

struct app {
	const struct app_cli *cli;
	struct nb_session *session;
	struct nb_ports *ports;   /* the devices, their DMA pool and mempools */
	unsigned n_ports;
	struct app_port port[APP_MAX_PORTS];
	struct nb_mempool *tx_mp; /* only when app_setup.tx_bufs > 0 */
	uint64_t start_ns;
	uint64_t last_report_ns;
	uint64_t end_ns; /* 0: no --duration */
	bool failed;     /* a device faulted or a report could not be read */
};

struct app_setup {
	bool promisc;
	uint32_t tx_bufs;      /* a separate transmit mempool of this many */
	const int *keep_fds;   /* fds to keep open through lockdown */
	unsigned n_keep_fds;
	/* Called with the devices open, before lockdown; 0 or -1 (reported). */
	int (*prepare)(struct app *a, void *ctx);
	void *prepare_ctx;
};

/*
 * Connect to the helper, open cli->devs with nb_ports_open (claims, one DMA
 * pool sized for their rings and buffers, mempools, devices), lock down. Prints what failed
 * (with nb_last_error()) and returns -1; call app_finish either way.
 */
int app_start(struct app *a, const struct app_cli *cli,
	      const struct app_setup *setup);

/* Close devices, mempools, pool and session. Safe after a failed start. */
void app_finish(struct app *a);

/* CLOCK_MONOTONIC in ns (vDSO: no system call). */
uint64_t app_now_ns(void);

/* False once SIGINT/SIGTERM came, --duration passed or a device faulted. */
bool app_running(const struct app *a, uint64_t now_ns);

/* A one-second report is due. */
static inline bool app_report_due(const struct app *a, uint64_t now_ns)
{
	return now_ns - a->last_report_ns >= 1000000000ull;
}

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
