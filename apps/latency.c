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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t latency_percentile(struct latency *l, unsigned q)
{
	uint64_t rank;

	if (l->n == 0)
		return 0;
	qsort(l->ns, l->n, sizeof(l->ns[0]), cmp_u64);
	/* Nearest rank: the smallest sample with at least q% at or below it. */
	rank = ((uint64_t)l->n * (q > 100 ? 100 : q) + 99) / 100;
	return l->ns[rank ? rank - 1 : 0];
}
