/* SPDX-License-Identifier: MIT */
/* latency.c - send-time stamps in test frames and their percentiles. */
#include <stdlib.h>
#include <string.h>

#include "latency.h"

void latency_stamp(uint8_t *frame, uint64_t now_ns)
{
	for (unsigned i = 0; i < 8; i++)
		frame[LATENCY_OFF + i] = (uint8_t)(now_ns >> (56 - 8 * i));
}

int latency_init(struct latency *l)
{
	*l = (struct latency){ .ns = calloc(LATENCY_MAX_SAMPLES, sizeof(uint64_t)) };
	return l->ns ? 0 : -1;
}

void latency_free(struct latency *l)
{
	free(l->ns);
	l->ns = NULL;
}

void latency_add(struct latency *l, const uint8_t *frame, uint32_t len,
		 uint64_t now_ns)
{
	uint64_t sent = 0;

	if (len < LATENCY_MIN_SIZE || memcmp(frame + FRAME_MAGIC_OFF, "NBPG", 4) != 0)
		return; /* not a test frame */
	for (unsigned i = 0; i < 8; i++)
		sent = sent << 8 | frame[LATENCY_OFF + i];
	if (sent == 0 || sent > now_ns)
		l->bad++;
	else if (l->n < LATENCY_MAX_SAMPLES)
		l->ns[l->n++] = now_ns - sent;
	else
		l->extra++;
}

/*
 * In-place heapsort: glibc's qsort may malloc a merge buffer, and after
 * lockdown the seccomp filter kills a process that asks for memory.
 */
static void sift_down(uint64_t *v, uint32_t root, uint32_t n)
{
	for (uint32_t child; (child = 2 * root + 1) < n; root = child) {
		uint64_t t;

		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (v[root] >= v[child])
			return;
		t = v[root], v[root] = v[child], v[child] = t;
	}
}

static void sort_u64(uint64_t *v, uint32_t n)
{
	for (uint32_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (uint32_t end = n; end-- > 1;) {
		uint64_t t = v[0];

		v[0] = v[end], v[end] = t;
		sift_down(v, 0, end);
	}
}

uint64_t latency_percentile(struct latency *l, unsigned q)
{
	uint64_t rank;

	if (l->n == 0)
		return 0;
	sort_u64(l->ns, l->n);
	/* Nearest rank: the smallest sample with at least q% at or below it. */
	rank = ((uint64_t)l->n * (q > 100 ? 100 : q) + 99) / 100;
	return l->ns[rank ? rank - 1 : 0];
}
