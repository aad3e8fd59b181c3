/* SPDX-License-Identifier: MIT */
/*
 * frame.h - the test frames nicbox-pktgen sends and nicbox-capture --verify
 * checks, and the sequence tracker that counts lost, duplicated and
 * reordered frames.
 *
 * A frame is Ethernet II / IPv4 (no options, DF, correct header checksum) /
 * UDP (checksum 0, "not computed", which IPv4 allows) carrying:
 *   offset 42: magic "NBPG" (4 bytes)
 *   offset 46: sequence number, 64-bit big-endian
 *   offset 54: pattern bytes up to the end of the IP datagram, a function
 *              of the sequence number (frame_pattern_byte), so any changed,
 *              shifted or truncated byte is detected.
 */
#ifndef NB_APPS_FRAME_H
#define NB_APPS_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#define FRAME_MIN_SIZE 60    /* Ethernet minimum without FCS */
#define FRAME_MAX_SIZE 1514  /* standard MTU 1500 + 14-byte header */
#define FRAME_UDP_PORT 42424 /* default source and destination port */
#define FRAME_MAGIC 0x4e425047u /* "NBPG" */
#define FRAME_ETH_LEN 14
#define FRAME_IP_LEN 20
#define FRAME_UDP_LEN 8
#define FRAME_MAGIC_OFF (FRAME_ETH_LEN + FRAME_IP_LEN + FRAME_UDP_LEN)
#define FRAME_SEQ_OFF (FRAME_MAGIC_OFF + 4)
#define FRAME_PATTERN_OFF (FRAME_SEQ_OFF + 8)

struct frame_addrs {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t src_ip; /* host byte order */
	uint32_t dst_ip;
	uint16_t udp_port; /* source and destination */
};

/*
 * The addresses pktgen uses when the user gives none: 10.0.0.1 -> 10.0.0.2,
 * UDP port FRAME_UDP_PORT.
 */
void frame_default_addrs(struct frame_addrs *a, const uint8_t src_mac[6]);

/*
 * Write the headers and magic of a `size`-byte frame (FRAME_MIN_SIZE ..
 * FRAME_MAX_SIZE) into buf. They are the same for every frame of a run,
 * so pktgen writes them once per buffer and only frame_stamp per packet.
 */
void frame_build_headers(uint8_t *buf, uint32_t size,
			 const struct frame_addrs *a);

/* Give a built frame another IPv4 source address (host byte order) and
 * the header checksum that goes with it: pktgen's flows. */
void frame_set_src_ip(uint8_t *buf, uint32_t src_ip);

/* Write the sequence number and its pattern into a built frame. */
void frame_stamp(uint8_t *buf, uint32_t size, uint64_t seq);

/* Byte i (0-based, from FRAME_PATTERN_OFF) of sequence number seq. */
uint8_t frame_pattern_byte(uint64_t seq, uint32_t i);

/* RFC 1071 Internet checksum of len bytes (the folded, complemented sum). */
uint16_t frame_inet_checksum(const void *data, uint32_t len);

enum frame_verdict {
	FRAME_OK,      /* a pktgen frame, intact; *seq is set */
	FRAME_FOREIGN, /* not a pktgen frame (other protocol, port or magic);
			frames sent with pktgen --port are foreign too */
	FRAME_CORRUPT, /* a pktgen frame with a bad checksum, length or pattern */
};

/* Classify a received frame of len bytes (trailing padding is allowed). */
enum frame_verdict frame_check(const uint8_t *buf, uint32_t len,
			       uint64_t *seq);

/*
 * Sequence tracker. Remembers which of the last SEQ_WINDOW sequence numbers
 * below the highest one seen have arrived, so a late frame inside the window
 * is told apart from a duplicate. A frame older than the window, or before
 * a known start, is counted as duplicated: it cannot be a first arrival the
 * tracker can place.
 */
#define SEQ_WINDOW 65536u

struct seq_tracker {
	bool started;
	bool first_known;
	uint64_t first;      /* lowest sequence number of the stream */
	uint64_t next;       /* one past the highest sequence number seen */
	uint64_t received;   /* distinct frames in [first, next) */
	uint64_t duplicated;
	uint64_t reordered;  /* arrived after a higher sequence number */
	uint64_t seen[SEQ_WINDOW / 64]; /* bit (s % SEQ_WINDOW): s arrived */
};

/*
 * Start tracking. With first_known, sequence numbers start at `first` (a
 * missing first frame counts as lost); without it the lowest sequence
 * number seen is the start.
 */
void seq_init(struct seq_tracker *t, bool first_known, uint64_t first);
void seq_record(struct seq_tracker *t, uint64_t seq);
/*
 * The sender numbered its frames up to expected_end - 1: frames after the
 * highest one seen that never came count as lost too.
 */
void seq_finish(struct seq_tracker *t, uint64_t expected_end);
/* Frames missing from [first, next). */
uint64_t seq_lost(const struct seq_tracker *t);

#endif /* NB_APPS_FRAME_H */
