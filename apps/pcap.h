/* SPDX-License-Identifier: MIT */
/*
 * pcap.h - nicbox-capture's pcap output and capture filter, through
 * libpcap: the writer is libpcap's dumper on a "dead" DLT_EN10MB handle,
 * the filter is compiled by pcap_compile and run by pcap_offline_filter.
 * libpcap is loaded by the first cap_filter_compile of a non-empty filter
 * or cap_writer_open; a run that does neither never loads it.
 *
 * Everything that needs a system call other than write(2) happens in the
 * *_open/compile calls, which run before lockdown: the writer's FILE gets
 * our own buffer (no fstat, no allocation on first use), and the filter is
 * pure BPF interpretation. After lockdown cap_writer_write and
 * cap_writer_flush only write(2); cap_writer_close also close(2)s.
 */
#ifndef NB_APPS_PCAP_H
#define NB_APPS_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <pcap/pcap.h>

/* tcpdump's default and libpcap's largest: frames are never cut. */
#define CAP_DEFAULT_SNAPLEN 262144u
#define CAP_MAX_SNAPLEN 262144u
/* Enough for "bad filter '...': " and libpcap's message. */
#define CAP_ERR_LEN (PCAP_ERRBUF_SIZE + 64)

/*
 * Load libpcap now (the calls below that need it load it themselves):
 * nicbox-capture does so before the helper is contacted, so a missing
 * library costs no claim and empties no file. 0, or -1 with the reason.
 */
int cap_libpcap_load(char *err, size_t err_len);

struct cap_filter {
	struct bpf_program prog;
	bool set; /* false: every frame matches */
};

/*
 * The filter words of a command line joined by single spaces, as tcpdump
 * joins them ("udp" "port" "53" -> "udp port 53"). Returns a malloc'd
 * string (free it), or NULL with errno ENOMEM; n == 0 gives "".
 */
char *cap_filter_join(int n, char *const *words);

/*
 * Compile `expr` for Ethernet frames of at most `snaplen` bytes. An empty
 * expression matches everything. Returns 0, or -1 with "bad filter 'EXPR':
 * libpcap's reason" in err.
 */
int cap_filter_compile(struct cap_filter *f, const char *expr,
		       uint32_t snaplen, char *err, size_t err_len);

/* Does a frame of `len` bytes, `caplen` of them at `data`, match? */
bool cap_filter_match(const struct cap_filter *f, const uint8_t *data,
		      uint32_t len, uint32_t caplen);

void cap_filter_free(struct cap_filter *f);

struct cap_writer {
	pcap_t *dead;           /* DLT_EN10MB, snaplen, timestamp precision */
	pcap_dumper_t *dumper;
	FILE *fp;
	char *buf;              /* fp's buffer: one write(2) per buf_size */
	uint32_t snaplen;       /* longer frames are cut to this many bytes */
	bool nsec;
	uint64_t records;
};

/*
 * Take over `fd` (open for writing, positioned where the file starts) and
 * queue the pcap file header (nanosecond timestamps when `nsec`). Returns
 * 0, or -1 with the reason in err; fd is closed either way on failure.
 */
int cap_writer_open(struct cap_writer *w, int fd, bool nsec, uint32_t snaplen,
		    size_t buf_size, char *err, size_t err_len);

/* Append one frame captured at `ts` (CLOCK_REALTIME). 0, or -1 + errno. */
int cap_writer_write(struct cap_writer *w, const struct timespec *ts,
		     const uint8_t *data, uint32_t len);

/* Write out what is buffered. 0, or -1 with errno. */
int cap_writer_flush(struct cap_writer *w);

/* Flush, close the file and free. 0, or -1 with errno. */
int cap_writer_close(struct cap_writer *w);

#endif /* NB_APPS_PCAP_H */
