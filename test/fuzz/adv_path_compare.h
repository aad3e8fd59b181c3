/* SPDX-License-Identifier: MIT */
/*
 * adv_path_compare.h - run one SIMD variant of the Intel ring loops
 * (drivers/intel/adv_path.c) and the scalar one on the same input and
 * report any difference in what they return or write. Used by the unit
 * test (test/unit/test_adv_path.c, pseudo-random inputs) and the fuzz
 * harness (test/fuzz/fuzz_adv_path.c, the fuzzer's inputs).
 *
 * Input: u8 op (mod 3: rx_scan, rx_post, tx_post), u8 count (mod 65),
 * u8 variant bits (rx_scan: 1 igb's error bit, 2/4 buffer size, 8 RSS on),
 * then per item a kind byte and, for some kinds, more
 * bytes (see make_rx_desc, make_tx_pkt; a write-back also takes an RSS
 * kind byte, make_rx_rss). Missing bytes read as 0.
 */
#ifndef ADV_PATH_COMPARE_H
#define ADV_PATH_COMPARE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../drivers/intel/adv_ring.h"
#include "../../drivers/igb/igb_regs.h"
#include "../../drivers/ixgbe/ixgbe_regs.h"

#define CMP_RING 64u
#define CMP_BUFS 256u

struct cmp_input {
	const uint8_t *data;
	size_t size;
};

static uint8_t cmp_u8(struct cmp_input *in)
{
	uint8_t v = 0;

	if (in->size > 0) {
		v = in->data[0];
		in->data++;
		in->size--;
	}
	return v;
}

static uint16_t cmp_u16(struct cmp_input *in)
{
	uint16_t lo = cmp_u8(in);

	return (uint16_t)(lo | cmp_u8(in) << 8);
}

static uint32_t cmp_u32(struct cmp_input *in)
{
	uint32_t lo = cmp_u16(in);

	return lo | (uint32_t)cmp_u16(in) << 16;
}

struct cmp_env {
	struct nb_pool *dma;
	struct nb_mempool *mp[2]; /* tx frames come from either */
	union adv_rx_desc *ring[2]; /* one per run, same start */
	char why[256];
};

static int cmp_env_init(struct cmp_env *e)
{
	uint64_t iova;
	void *r[2];

	memset(e, 0, sizeof(*e));
	if (nb_pool_create_unmapped(4u << 20, 0x40000000ull, &e->dma) < 0 ||
	    nb_mempool_create(e->dma, CMP_BUFS, 2048, &e->mp[0]) < 0 ||
	    nb_mempool_create(e->dma, CMP_BUFS, 512, &e->mp[1]) < 0 ||
	    nb_pool_carve(e->dma, CMP_RING * 16u, ADV_RING_ALIGN, &r[0], &iova) < 0 ||
	    nb_pool_carve(e->dma, CMP_RING * 16u, ADV_RING_ALIGN, &r[1], &iova) < 0)
		return -1;
	e->ring[0] = r[0];
	e->ring[1] = r[1];
	return 0;
}

static inline void cmp_env_fini(struct cmp_env *e)
{
	nb_mempool_destroy(e->mp[0]);
	nb_mempool_destroy(e->mp[1]);
	nb_pool_destroy(e->dma);
}

/* A write-back's RSS type and hash (info 3:0, rss): none, the input's,
 * every other info bit set around each type, or odd hashes. */
static void make_rx_rss(struct cmp_input *in, union adv_rx_desc *d)
{
	uint8_t kind = cmp_u8(in);

	switch (kind % 4) {
	case 0: d->wb.info = 0; d->wb.rss = 0; break;
	case 1: d->wb.info = cmp_u32(in); d->wb.rss = cmp_u32(in); break;
	case 2: d->wb.info = 0xFFFFFFF0u | kind >> 4; d->wb.rss = 0xFFFFFFFFu; break;
	default: d->wb.info = kind >> 2; d->wb.rss = kind * 0x01010101u ^ 0x80000000u; break;
	}
}

/* A write-back descriptor: mostly near the edges of what is good. */
static void make_rx_desc(struct cmp_input *in, union adv_rx_desc *d,
			 uint32_t buf_len, uint32_t err)
{
	uint8_t kind = cmp_u8(in);
	uint32_t status = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP;
	uint32_t len = 60;

	switch (kind % 12) {
	case 0: case 1: case 2: case 3: len = cmp_u16(in) % buf_len + 1u; break;
	case 4: len = 0; break;
	case 5: len = buf_len; break;
	case 6: len = buf_len + 1u; break;
	case 7: status = ADV_RXD_STAT_DD; break;           /* no EOP */
	case 8: status = 0; break;                          /* not done */
	case 9: status |= err; break;                       /* RXE */
	case 10: status |= (uint32_t)cmp_u16(in) << 16 | cmp_u8(in) << 2; break;
	default:                                            /* anything */
		for (unsigned i = 0; i < 16; i++)
			((uint8_t *)d)[i] = cmp_u8(in);
		return;
	}
	make_rx_rss(in, d);
	d->wb.status_error = status;
	d->wb.length = (uint16_t)len;
	d->wb.vlan = (uint16_t)(kind * 257u);
}

#define CMP_FAIL(e, ...) (snprintf((e)->why, sizeof((e)->why), __VA_ARGS__), -1)

static int cmp_rx_scan(struct cmp_env *e, const struct adv_path *v,
		       struct cmp_input *in, unsigned count, uint8_t bits)
{
	static struct nb_pkt pk[2][CMP_RING];
	struct nb_pkt *slot[2][CMP_RING], *pkts[2][CMP_RING];
	const uint32_t buf_len = (bits & 2) ? 16384u : (bits & 4) ? 1024u : 2048u;
	const uint32_t err = (bits & 1) ? IGB_RXD_ERR_RXE : IXGBE_RXD_ERR_RXE;
	const uint32_t check = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP | err;
	const bool rss = (bits & 8) != 0;
	uint64_t stop[2] = { 1, 1 };
	unsigned got[2];

	for (unsigned i = 0; i < CMP_RING; i++)
		make_rx_desc(in, &e->ring[0][i], buf_len, err);
	memcpy(e->ring[1], e->ring[0], CMP_RING * 16u);
	for (unsigned r = 0; r < 2; r++) {
		for (unsigned i = 0; i < CMP_RING; i++) {
			pk[r][i].len = 0xDEAD;
			pk[r][i].rss_hash = 0xDEADBEEF; /* untouched beyond the good ones */
			pk[r][i].flags = 0xFFFFFFFFu;
			slot[r][i] = &pk[r][i];
			pkts[r][i] = NULL;
		}
	}
	got[0] = adv_path_scalar()->rx_scan[rss](e->ring[0], slot[0], pkts[0], count,
						 check, buf_len, &stop[0]);
	got[1] = v->rx_scan[rss](e->ring[1], slot[1], pkts[1], count, check, buf_len,
				 &stop[1]);
	if (got[0] != got[1])
		return CMP_FAIL(e, "rx_scan: scalar took %u, %s %u", got[0], v->name, got[1]);
	if (got[0] < count && stop[0] != stop[1])
		return CMP_FAIL(e, "rx_scan: stop word %llx vs %llx",
				(unsigned long long)stop[0], (unsigned long long)stop[1]);
	for (unsigned i = 0; i < CMP_RING; i++) {
		const volatile struct adv_rx_desc_wb *wb = &e->ring[0][i].wb;

		if (pk[0][i].len != pk[1][i].len)
			return CMP_FAIL(e, "rx_scan: slot %u len %u vs %u", i,
					pk[0][i].len, pk[1][i].len);
		if (pk[0][i].rss_hash != pk[1][i].rss_hash ||
		    pk[0][i].flags != pk[1][i].flags)
			return CMP_FAIL(e, "rx_scan: slot %u rss_hash/flags %08x/%x vs %08x/%x",
					i, pk[0][i].rss_hash, pk[0][i].flags,
					pk[1][i].rss_hash, pk[1][i].flags);
		/* And the scalar one follows the rule: with RSS, info 3:0 != 0
		 * means a hash; without, no hash whatever the device wrote. */
		if (i < got[0] &&
		    (pk[0][i].rss_hash != (rss ? wb->rss : 0u) ||
		     pk[0][i].flags != (rss && (wb->info & ADV_RXD_RSS_TYPE_MASK) ?
					NB_PKT_RSS_HASH : 0u)))
			return CMP_FAIL(e, "rx_scan: scalar slot %u rss_hash/flags %08x/%x for info %08x rss %08x (RSS %s)",
					i, pk[0][i].rss_hash, pk[0][i].flags, wb->info, wb->rss,
					rss ? "on" : "off");
		if ((pkts[0][i] == NULL) != (pkts[1][i] == NULL) ||
		    (pkts[0][i] != NULL && pkts[0][i] - pk[0] != pkts[1][i] - pk[1]))
			return CMP_FAIL(e, "rx_scan: pkts[%u] differs", i);
	}
	return 0;
}

static int cmp_rx_post(struct cmp_env *e, const struct adv_path *v,
		       struct cmp_input *in, unsigned count)
{
	struct nb_pkt *slot[CMP_RING];
	struct nb_iova_map map;

	nb_mempool_iova_map(e->mp[0], &map);
	for (unsigned i = 0; i < count; i++)
		slot[i] = nb_mempool_pkt(e->mp[0], cmp_u8(in));
	memset(e->ring[0], 0xA5, CMP_RING * 16u);
	memset(e->ring[1], 0xA5, CMP_RING * 16u);
	adv_path_scalar()->rx_post(e->ring[0], slot, count, &map);
	v->rx_post(e->ring[1], slot, count, &map);
	for (unsigned i = 0; i < count; i++)
		if (e->ring[0][i].read.pkt_addr != slot[i]->iova)
			return CMP_FAIL(e, "rx_post: scalar slot %u has a wrong IOVA", i);
	if (memcmp(e->ring[0], e->ring[1], CMP_RING * 16u) != 0)
		return CMP_FAIL(e, "rx_post: rings differ");
	return 0;
}

/* A frame to send: from either pool, length near the edges. */
static inline struct nb_pkt *make_tx_pkt(struct cmp_env *e, struct cmp_input *in,
				  unsigned i)
{
	uint8_t kind = cmp_u8(in);
	struct nb_pkt *p = nb_mempool_pkt(e->mp[(kind >> 7) & (kind >> 6) & 1], i);

	switch (kind % 8) {
	case 0: p->len = 0; break;
	case 1: p->len = ADV_TX_MIN_LEN - 1u; break;
	case 2: p->len = ADV_TX_MIN_LEN; break;
	case 3: p->len = 2048; break;
	case 4: p->len = 2049; break;
	case 5: p->len = cmp_u16(in) | (uint32_t)cmp_u8(in) << 16; break;
	default: p->len = cmp_u16(in) % 2048u + 1u; break;
	}
	return p;
}

static int cmp_tx_post(struct cmp_env *e, const struct adv_path *v,
		       struct cmp_input *in, unsigned count)
{
	struct nb_pkt *pkts[CMP_RING], *slot[2][CMP_RING];
	volatile union adv_tx_desc *ring[2] = {
		(volatile union adv_tx_desc *)e->ring[0],
		(volatile union adv_tx_desc *)e->ring[1],
	};
	const uint64_t span = 2048u - ADV_TX_MIN_LEN;
	unsigned done[2];

	for (unsigned i = 0; i < count; i++)
		pkts[i] = make_tx_pkt(e, in, i);
	memset(e->ring[0], 0x5A, CMP_RING * 16u);
	memset(e->ring[1], 0x5A, CMP_RING * 16u);
	memset(slot, 0, sizeof(slot));
	done[0] = adv_path_scalar()->tx_post(ring[0], slot[0], pkts, count, e->mp[0], span);
	done[1] = v->tx_post(ring[1], slot[1], pkts, count, e->mp[0], span);
	if (done[0] != done[1])
		return CMP_FAIL(e, "tx_post: scalar posted %u, %s %u", done[0], v->name, done[1]);
	if (memcmp(e->ring[0], e->ring[1], CMP_RING * 16u) != 0 ||
	    memcmp(slot[0], slot[1], sizeof(slot[0])) != 0)
		return CMP_FAIL(e, "tx_post: descriptors or slots differ");
	return 0;
}

/* 0 if variant v and the scalar loops agree on this input; else -1 with
 * the difference in e->why. */
static int adv_path_compare(struct cmp_env *e, const struct adv_path *v,
			    const uint8_t *data, size_t size)
{
	struct cmp_input in = { data, size };
	uint8_t op = cmp_u8(&in);
	unsigned count = cmp_u8(&in) % (CMP_RING + 1u);
	uint8_t bits = cmp_u8(&in);

	switch (op % 3) {
	case 0: return cmp_rx_scan(e, v, &in, count, bits);
	case 1: return cmp_rx_post(e, v, &in, count);
	default: return cmp_tx_post(e, v, &in, count);
	}
}

#endif /* ADV_PATH_COMPARE_H */
