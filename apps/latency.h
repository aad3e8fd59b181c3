/* SPDX-License-Identifier: MIT */
/*
 * latency.h - one-way latency through a chain, measured by the apps
 * themselves: nicbox-pktgen --timestamp writes its CLOCK_MONOTONIC send
 * time into each test frame (frame.h offset 54, 64-bit big-endian, over the
 * first 8 pattern bytes, so such frames do not pass --verify's pattern
 * check); nicbox-capture --latency reads it back on the same machine and
 * reports the median and 99th percentile of receive time - send time.
 */
#ifndef NB_APPS_LATENCY_H
#define NB_APPS_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

#define LATENCY_OFF FRAME_PATTERN_OFF
#define LATENCY_MIN_SIZE (LATENCY_OFF + 8)
#define LATENCY_MAX_SAMPLES (1u << 18) /* further frames are counted only */

struct latency {
	uint64_t *ns;   /* samples, LATENCY_MAX_SAMPLES */
	uint32_t n;
	uint64_t extra; /* frames past the sample array */
	uint64_t bad;   /* stamps from the future or 0 */
};

/* Write the send time into a test frame of at least LATENCY_MIN_SIZE bytes. */
void latency_stamp(uint8_t *frame, uint64_t now_ns);

/* Allocate the sample array (before lockdown); -1 when out of memory. */
int latency_init(struct latency *l);
void latency_free(struct latency *l);

/* One received frame of len bytes at now_ns; frames without pktgen's magic
 * are left out. */
void latency_add(struct latency *l, const uint8_t *frame, uint32_t len,
		 uint64_t now_ns);

/* The q-th percentile (0..100) of the samples in ns, 0 without samples.
 * Sorts the samples in place. */
uint64_t latency_percentile(struct latency *l, unsigned q);

#endif /* NB_APPS_LATENCY_H */
