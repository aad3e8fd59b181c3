/* SPDX-License-Identifier: MIT */
/*
 * pcap.h - a classic libpcap file writer (the format tshark and wireshark
 * read; https://www.tcpdump.org/manpages/pcap-savefile.5.html), buffered
 * so the receive path makes one write() per buffer, not per packet.
 * All memory is allocated at open: nothing allocates after lockdown.
 */
#ifndef NB_APPS_PCAP_H
#define NB_APPS_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_FILE_HEADER_LEN 24
#define PCAP_RECORD_HEADER_LEN 16
#define PCAP_DEFAULT_SNAPLEN 65535

struct pcap_writer {
	int fd;
	bool nsec;        /* nanosecond timestamps (else microseconds) */
	uint32_t snaplen; /* longer packets are cut to this many bytes */
	uint8_t *buf;
	size_t used;
	size_t cap;
	uint64_t records;
};

/*
 * Take over `fd` (open for writing, positioned at the start) and queue the
 * file header. `buf_size` must hold at least one full record. Returns 0, or
 * -1 with errno (EINVAL, ENOMEM).
 */
int pcap_writer_init(struct pcap_writer *w, int fd, bool nsec,
		     uint32_t snaplen, size_t buf_size);

/* Append one packet captured at `ts` (CLOCK_REALTIME). 0, or -1 + errno. */
int pcap_write(struct pcap_writer *w, const struct timespec *ts,
	       const uint8_t *data, uint32_t len);

/* Write out what is buffered. 0, or -1 with errno. */
int pcap_flush(struct pcap_writer *w);

/* Flush, close the fd and free. Returns the flush's result. */
int pcap_writer_close(struct pcap_writer *w);

#endif /* NB_APPS_PCAP_H */
