/* SPDX-License-Identifier: MIT */
/*
 * adv_path.c - the per-descriptor loops of the Intel rings in three
 * variants: scalar (any x86-64), SSE4.1 (refill two descriptors per step,
 * transmit descriptors built in one register; its receive scan is the
 * scalar one) and AVX2 (four descriptors per step everywhere). adv_ring.c does everything else (budgets, the slow path for
 * odd descriptors, rearm bookkeeping, RS, clean-up) the same way for all.
 *
 * Every variant must give exactly the scalar results on the same input
 * (test/unit/test_adv_path.c and test/fuzz/fuzz_adv_path.c check this,
 * hostile descriptors included):
 *  - rx_scan: the number of leading good frames (DD, EOP, no error bit,
 *    length 1..buf_len) among ring[0..max), pkts[i] = slot[i] and its len,
 *    rss_hash and flags (adv_rx_rss) for those, and the read-once write-back word of the first other one;
 *    nothing written beyond the good ones;
 *  - rx_post: ring[i] = { IOVA of slot[i], 0 } for i < n, 16 bytes each;
 *  - tx_post: while pkts[i] is from `pool` with a length in
 *    ADV_TX_MIN_LEN..ADV_TX_MIN_LEN + span: a data descriptor (no RS) in
 *    d[i] and slot[i] = pkts[i]; returns how many.
 * Device-written words are loaded once into registers; adv_pin() keeps the
 * compiler from loading them again instead of keeping the register.
 *
 * Chosen once per process by CPUID (the best this CPU runs), or by the
 * environment variable NB_SIMD=scalar|sse4.1|avx2 (for tests and
 * comparisons); adv_check_conf() refuses an unknown or unsupported value.
 */
#include <errno.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "adv_ring.h"
#include "nb_mmio.h"

#define SSE41 __attribute__((target("sse4.1")))
#define AVX2 __attribute__((target("avx2")))

/* ---- scalar -------------------------------------------------------------- */

static unsigned rx_scan_scalar(const volatile union adv_rx_desc *ring,
			       struct nb_pkt *const *slot, struct nb_pkt **pkts,
			       unsigned max, uint32_t check, uint32_t buf_len,
			       uint64_t *stop)
{
	const uint64_t keep = ADV_RXD_LEN_MASK | check;
	size_t i; /* pointer-sized: one register indexes all three arrays */

#pragma GCC unroll 4
	for (i = 0; i < max; i++) {
		/* Write-back format: status_error, then length (bytes 8-13). */
		uint64_t wb = nb_dma_read64(&ring[i].wb.status_error);
		uint64_t good = adv_rx_good_len(wb & keep);
		struct nb_pkt *pkt;

		if (NB_UNLIKELY(good >= buf_len)) {
			*stop = wb;
			break;
		}
		pkt = slot[i];
		/* After DD (x86 keeps loads in order): the RSS words. */
		adv_rx_rss(pkt, nb_dma_read64(&ring[i].wb.info));
		pkt->len = (uint32_t)good + 1u;
		pkts[i] = pkt;
	}
	return (unsigned)i;
}

static void rx_post_scalar(volatile union adv_rx_desc *ring,
			   struct nb_pkt *const *slot, unsigned n,
			   const struct nb_iova_map *map)
{
	const uint64_t mul = map->mul;
	/* nb_iova_of() with the base folded in (wrapping arithmetic). */
	const uint64_t add = map->add - (uint64_t)map->base * mul;

#pragma GCC unroll 4
	for (size_t i = 0; i < n; i++)
		adv_desc_store(&ring[i], (uint64_t)(uintptr_t)slot[i] * mul + add, 0);
}

static unsigned tx_post_scalar(volatile union adv_tx_desc *d,
			       struct nb_pkt **slot, struct nb_pkt *const *pkts,
			       unsigned n, const struct nb_mempool *pool,
			       uint64_t span)
{
	size_t i; /* pointer-sized: one register indexes all three arrays */

#pragma GCC unroll 4
	for (i = 0; i < n; i++) {
		struct nb_pkt *pkt = pkts[i];
		uint64_t len = pkt->len;

		if (NB_UNLIKELY(pkt->pool != pool || len - ADV_TX_MIN_LEN > span))
			break;
		/* Advanced data descriptor (82599 7.2.3.2.4, 82576 7.2.2.3),
		 * one buffer per frame, no RS (see adv_txq_burst); len <=
		 * 65535 fits DTALEN, PAYLEN is the frame length. */
		adv_desc_store(&d[i], pkt->iova, adv_tx_cmd(len));
		slot[i] = pkt;
	}
	return (unsigned)i;
}

/* ---- SSE4.1 -------------------------------------------------------------- */

/* IOVAs of two buffers: (ptr - base) * mul + add; ptr - base < 2^32
 * (nb_mempool_create keeps the descriptor array below 4 GiB) and so is
 * mul, so the 32x32->64 multiply is exact. */
SSE41 static void rx_post_sse41(volatile union adv_rx_desc *ring,
				struct nb_pkt *const *slot, unsigned n,
				const struct nb_iova_map *map)
{
	const __m128i base = _mm_set1_epi64x((long long)map->base);
	const __m128i mul = _mm_set1_epi64x((long long)map->mul);
	const __m128i add = _mm_set1_epi64x((long long)map->add);
	const __m128i zero = _mm_setzero_si128();
	unsigned i;

#pragma GCC unroll 2
	for (i = 0; i + 2 <= n; i += 2) {
		__m128i p = _mm_loadu_si128((const __m128i *)&slot[i]);
		__m128i v = _mm_add_epi64(_mm_mul_epu32(_mm_sub_epi64(p, base), mul), add);

		_mm_store_si128((__m128i *)(uintptr_t)&ring[i], _mm_unpacklo_epi64(v, zero));
		_mm_store_si128((__m128i *)(uintptr_t)&ring[i + 1], _mm_unpackhi_epi64(v, zero));
	}
	rx_post_scalar(ring + i, slot + i, n - i, map);
}

SSE41 static unsigned tx_post_sse41(volatile union adv_tx_desc *d,
				    struct nb_pkt **slot, struct nb_pkt *const *pkts,
				    unsigned n, const struct nb_mempool *pool,
				    uint64_t span)
{
	size_t i;

#pragma GCC unroll 4
	for (i = 0; i < n; i++) {
		struct nb_pkt *pkt = pkts[i];
		uint64_t len = pkt->len;

		if (NB_UNLIKELY(pkt->pool != pool || len - ADV_TX_MIN_LEN > span))
			break;
		/* The descriptor of tx_post_scalar, built in one register. */
		_mm_store_si128((__m128i *)(uintptr_t)&d[i],
				_mm_insert_epi64(_mm_loadl_epi64((const __m128i *)&pkt->iova),
						 (long long)adv_tx_cmd(len), 1));
		slot[i] = pkt;
	}
	return (unsigned)i;
}

/* ---- AVX2: four descriptors per step ------------------------------------- */

#define adv_pin(v) __asm__ volatile("" : "+x"(v))

/* rss_hash and flags in one 8-byte store: word = hash | flags << 32 (what
 * adv_rx_rss() would write). */
static inline void rx_rss_store(struct nb_pkt *pkt, uint64_t word)
{
	_Static_assert(offsetof(struct nb_pkt, flags) ==
		       offsetof(struct nb_pkt, rss_hash) + 4, "nb_pkt layout");
	memcpy((char *)pkt + offsetof(struct nb_pkt, rss_hash), &word, sizeof(word));
}

AVX2 static unsigned rx_scan_avx2(const volatile union adv_rx_desc *ring,
				  struct nb_pkt *const *slot, struct nb_pkt **pkts,
				  unsigned max, uint32_t check, uint32_t buf_len,
				  uint64_t *stop)
{
	const __m256i keep = _mm256_set1_epi64x((long long)(ADV_RXD_LEN_MASK | check));
	const __m256i sub = _mm256_set1_epi64x((long long)((1ull << ADV_RXD_LEN_SHIFT) |
							   ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP));
	const __m256i lim = _mm256_set1_epi64x((long long)(buf_len - 1u));
	const __m256i one = _mm256_set1_epi64x(1);
	const __m256i rss_type = _mm256_set1_epi64x(ADV_RXD_RSS_TYPE_MASK);
	const __m256i rss_flag = _mm256_set1_epi64x((long long)((uint64_t)NB_PKT_RSS_HASH << 32));
	unsigned left = max;

	/* Pointers step, no indices: fewer instructions per group. */
	for (; left >= 4; left -= 4, ring += 4, slot += 4, pkts += 4) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(uintptr_t)&ring[0]);
		__m256i b = _mm256_loadu_si256((const __m256i *)(uintptr_t)&ring[2]);
		/* High qwords: lanes d0, d2, d1, d3; put them in ring order. */
		__m256i w = _mm256_permute4x64_epi64(_mm256_unpackhi_epi64(a, b),
						     _MM_SHUFFLE(3, 1, 2, 0));
		/* Low qwords (info | RSS hash << 32), the same way. */
		__m256i lo = _mm256_permute4x64_epi64(_mm256_unpacklo_epi64(a, b),
						      _MM_SHUFFLE(3, 1, 2, 0));
		__m256i y, z, len, rss;
		uint64_t lens[4], wbs[4], rsss[4];
		unsigned good;

		adv_pin(w);
		adv_pin(lo);
		/* adv_rx_rss per lane, as one word: hash | flags << 32. */
		rss = _mm256_or_si256(_mm256_srli_epi64(lo, 32),
				      _mm256_andnot_si256(
					      _mm256_cmpeq_epi64(_mm256_and_si256(lo, rss_type),
								 _mm256_setzero_si256()),
					      rss_flag));
		y = _mm256_sub_epi64(_mm256_and_si256(w, keep), sub);
		/* adv_rx_good_len's rotate, per lane. */
		z = _mm256_or_si256(_mm256_srli_epi64(y, ADV_RXD_LEN_SHIFT),
				    _mm256_slli_epi64(y, 64 - ADV_RXD_LEN_SHIFT));
		/* z < buf_len as "high dword 0 and low dword <= buf_len - 1"
		 * (lim holds buf_len - 1 low, 0 high): unsigned, on AVX2. */
		good = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(
			_mm256_cmpeq_epi64(_mm256_min_epu32(z, lim), z)));
		len = _mm256_add_epi64(z, one);
		if (NB_LIKELY(good == 0xF)) {
			__m128i l01 = _mm256_castsi256_si128(len);
			__m128i l23 = _mm256_extracti128_si256(len, 1);

			__m128i r01 = _mm256_castsi256_si128(rss);
			__m128i r23 = _mm256_extracti128_si256(rss, 1);

			slot[0]->len = (uint32_t)_mm_cvtsi128_si32(l01);
			slot[1]->len = (uint32_t)_mm_extract_epi32(l01, 2);
			slot[2]->len = (uint32_t)_mm_cvtsi128_si32(l23);
			slot[3]->len = (uint32_t)_mm_extract_epi32(l23, 2);
			rx_rss_store(slot[0], (uint64_t)_mm_cvtsi128_si64(r01));
			rx_rss_store(slot[1], (uint64_t)_mm_extract_epi64(r01, 1));
			rx_rss_store(slot[2], (uint64_t)_mm_cvtsi128_si64(r23));
			rx_rss_store(slot[3], (uint64_t)_mm_extract_epi64(r23, 1));
			_mm256_storeu_si256((__m256i *)pkts,
					    _mm256_loadu_si256((const __m256i *)slot));
			continue;
		}
		/* Leading good ones, then the first other one stops the scan. */
		_mm256_storeu_si256((__m256i *)lens, len);
		_mm256_storeu_si256((__m256i *)wbs, w);
		_mm256_storeu_si256((__m256i *)rsss, rss);
		for (unsigned k = 0; k < 4; k++) {
			if (!(good & (1u << k))) {
				*stop = wbs[k];
				return max - left + k;
			}
			slot[k]->len = (uint32_t)lens[k];
			rx_rss_store(slot[k], rsss[k]);
			pkts[k] = slot[k];
		}
	}
	return max - left + rx_scan_scalar(ring, slot, pkts, left, check, buf_len, stop);
}

AVX2 static void rx_post_avx2(volatile union adv_rx_desc *ring,
			      struct nb_pkt *const *slot, unsigned n,
			      const struct nb_iova_map *map)
{
	const __m256i base = _mm256_set1_epi64x((long long)map->base);
	const __m256i mul = _mm256_set1_epi64x((long long)map->mul);
	const __m256i add = _mm256_set1_epi64x((long long)map->add);
	const __m256i zero = _mm256_setzero_si256();
	unsigned i;

	for (i = 0; i + 4 <= n; i += 4) {
		__m256i p = _mm256_loadu_si256((const __m256i *)&slot[i]);
		__m256i v = _mm256_add_epi64(_mm256_mul_epu32(_mm256_sub_epi64(p, base), mul), add);
		__m256i lo = _mm256_unpacklo_epi64(v, zero); /* d0 | d2 */
		__m256i hi = _mm256_unpackhi_epi64(v, zero); /* d1 | d3 */

		_mm256_storeu_si256((__m256i *)(uintptr_t)&ring[i],
				    _mm256_permute2x128_si256(lo, hi, 0x20));
		_mm256_storeu_si256((__m256i *)(uintptr_t)&ring[i + 2],
				    _mm256_permute2x128_si256(lo, hi, 0x31));
	}
	rx_post_scalar(ring + i, slot + i, n - i, map);
}

/*
 * Four packets per step: the first 32 bytes of their nb_pkt (data, iova,
 * pool, len|idx) transposed into an IOVA, a pool and a length vector; all four
 * must pass the checks, else the scalar loop takes over at the first.
 */
AVX2 static unsigned tx_post_avx2(volatile union adv_tx_desc *d,
				  struct nb_pkt **slot, struct nb_pkt *const *pkts,
				  unsigned n, const struct nb_mempool *pool,
				  uint64_t span)
{
	const __m256i want_pool = _mm256_set1_epi64x((long long)(uintptr_t)pool);
	const __m256i ones = _mm256_set1_epi64x(-1);
	const __m256i len_mask = _mm256_set1_epi64x(0xFFFFFFFFll);
	const __m256i min_len = _mm256_set1_epi64x(ADV_TX_MIN_LEN);
	const __m256i max_len = _mm256_set1_epi64x((long long)(ADV_TX_MIN_LEN + span));
	const __m256i cmd = _mm256_set1_epi64x(ADV_TXD_DTYP_DATA | ADV_TXD_CMD_EOP |
					       ADV_TXD_CMD_IFCS | ADV_TXD_CMD_DEXT);
	unsigned i;

	_Static_assert(offsetof(struct nb_pkt, iova) == 8 &&
		       offsetof(struct nb_pkt, pool) == 16 &&
		       offsetof(struct nb_pkt, len) == 24, "nb_pkt layout");
	for (i = 0; i + 4 <= n; i += 4, d += 4, slot += 4, pkts += 4) {
		__m256i p0 = _mm256_loadu_si256((const __m256i *)pkts[0]);
		__m256i p1 = _mm256_loadu_si256((const __m256i *)pkts[1]);
		__m256i p2 = _mm256_loadu_si256((const __m256i *)pkts[2]);
		__m256i p3 = _mm256_loadu_si256((const __m256i *)pkts[3]);
		/* [data iova | pool len] of two packets -> per-field lanes. */
		__m256i t01lo = _mm256_unpacklo_epi64(p0, p1); /* d0 d1 | pool0 pool1 */
		__m256i t01hi = _mm256_unpackhi_epi64(p0, p1); /* iova0 iova1 | len0 len1 */
		__m256i t23lo = _mm256_unpacklo_epi64(p2, p3);
		__m256i t23hi = _mm256_unpackhi_epi64(p2, p3);
		__m256i iova = _mm256_permute2x128_si256(t01hi, t23hi, 0x20);
		__m256i pools = _mm256_permute2x128_si256(t01lo, t23lo, 0x31);
		__m256i len = _mm256_and_si256(_mm256_permute2x128_si256(t01hi, t23hi, 0x31),
					       len_mask);
		/* len in ADV_TX_MIN_LEN..ADV_TX_MIN_LEN + span (signed compares
		 * on values below 2^32) and the pool is `pool`. */
		__m256i good = _mm256_andnot_si256(
			_mm256_or_si256(_mm256_cmpgt_epi64(min_len, len),
					_mm256_cmpgt_epi64(len, max_len)),
			_mm256_cmpeq_epi64(pools, want_pool));
		__m256i hi, lo_desc, hi_desc;

		/* testc: all lanes of `good` set */
		if (NB_UNLIKELY(!_mm256_testc_si256(good, ones)))
			break;
		/* cmd_type_len | olinfo (PAYLEN = len) << 32, as adv_tx_cmd. */
		hi = _mm256_or_si256(_mm256_or_si256(len, cmd),
				     _mm256_slli_epi64(len, 32 + ADV_TXD_PAYLEN_SHIFT));
		lo_desc = _mm256_unpacklo_epi64(iova, hi); /* desc0 | desc2 */
		hi_desc = _mm256_unpackhi_epi64(iova, hi); /* desc1 | desc3 */
		_mm256_storeu_si256((__m256i *)(uintptr_t)&d[0],
				    _mm256_permute2x128_si256(lo_desc, hi_desc, 0x20));
		_mm256_storeu_si256((__m256i *)(uintptr_t)&d[2],
				    _mm256_permute2x128_si256(lo_desc, hi_desc, 0x31));
		_mm256_storeu_si256((__m256i *)slot, _mm256_loadu_si256((const __m256i *)pkts));
	}
	return i + tx_post_scalar(d, slot, pkts, n - i, pool, span);
}

/* ---- selection ----------------------------------------------------------- */

static const struct adv_path paths[] = {
	{ "scalar", rx_scan_scalar, rx_post_scalar, tx_post_scalar },
	/* Receive scans two descriptors per step did not pay on SSE4.1 (the
	 * lengths must come back out of the vector one by one): scalar. */
	{ "sse4.1", rx_scan_scalar, rx_post_sse41, tx_post_sse41 },
	{ "avx2", rx_scan_avx2, rx_post_avx2, tx_post_avx2 },
};

bool adv_path_supported(const struct adv_path *p)
{
	if (p == &paths[1])
		return __builtin_cpu_supports("sse4.1");
	if (p == &paths[2])
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("sse4.1");
	return true;
}

const struct adv_path *adv_path_by_name(const char *name)
{
	for (size_t i = 0; i < NB_ARRAY_SIZE(paths); i++)
		if (strcmp(paths[i].name, name) == 0)
			return &paths[i];
	return NULL;
}

const struct adv_path *adv_path_scalar(void)
{
	return &paths[0];
}

int adv_path_pick(const char *drv, const struct adv_path **out)
{
	const char *want = getenv("NB_SIMD");
	const struct adv_path *p;

	__builtin_cpu_init();
	if (want == NULL || *want == '\0') {
		/* The widest variant this CPU runs. */
		for (size_t i = NB_ARRAY_SIZE(paths); i-- > 0;)
			if (adv_path_supported(&paths[i])) {
				*out = &paths[i];
				return 0;
			}
	}
	p = want != NULL ? adv_path_by_name(want) : NULL;
	if (p == NULL)
		return nb_fail(EINVAL,
			       "%s: NB_SIMD=%s is not a receive/transmit path: use scalar, sse4.1 or avx2 (or unset it for the best this CPU runs)",
			       drv, want != NULL ? want : "");
	if (!adv_path_supported(p))
		return nb_fail(ENOTSUP,
			       "%s: NB_SIMD=%s, but this CPU lacks %s: use scalar or unset NB_SIMD",
			       drv, want, p->name);
	*out = p;
	return 0;
}

const struct adv_path *adv_path_get(void)
{
	static const struct adv_path *chosen;
	const struct adv_path *p = __atomic_load_n(&chosen, __ATOMIC_RELAXED);

	if (p == NULL) {
		/* adv_check_conf() already refused a bad NB_SIMD. */
		if (adv_path_pick("nicbox", &p) < 0)
			p = &paths[0];
		__atomic_store_n(&chosen, p, __ATOMIC_RELAXED);
	}
	return p;
}
