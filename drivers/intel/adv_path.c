/* SPDX-License-Identifier: MIT */
/*
 * adv_path.c - the per-descriptor loops of the Intel rings in three
 * variants: scalar (any x86-64), SSE4.1 (refill two descriptors per step,
 * transmit descriptors built in one register; its receive scan is the
 * scalar one) and AVX2 (four descriptors per step everywhere; its refill
 * and SSE4.1's are one body). adv_ring.c does everything else (budgets,
 * the slow path for odd descriptors, rearm bookkeeping, RS, clean-up) the
 * same way for all.
 *
 * Every variant must give exactly the scalar results on the same input
 * (test/unit/test_adv_path.c and test/fuzz/fuzz_adv_path.c check this,
 * hostile descriptors included):
 *  - rx_scan: the number of leading good frames (DD, EOP, no error bit,
 *    length 1..buf_len) among ring[0..max), pkts[i] = slot[i] and its len,
 *    rss_hash and flags for those (rx_scan[1], RSS on: adv_rx_rss;
 *    rx_scan[0]: adv_rx_no_rss, the hash words not read), and the
 *    read-once write-back word of the first other one; nothing written
 *    beyond the good ones;
 *  - rx_post: ring[i] = { IOVA of slot[i], 0 } for i < n, 16 bytes each;
 *  - tx_post: while pkts[i] is from `pool` with a length in
 *    ADV_TX_MIN_LEN..ADV_TX_MIN_LEN + span (span < 2^16, or a pool no
 *    frame has): a data descriptor (no RS) in d[i] and slot[i] = pkts[i];
 *    returns how many.
 * Device-written words are loaded once into registers; adv_pin() keeps the
 * compiler from loading them again instead of keeping the register.
 *
 * Chosen once per process: of those the CPU runs (CPUID), the one that
 * moves a synthetic burst fastest (adv_path_fastest), or the one the
 * environment variable NB_SIMD=scalar|sse4.1|avx2 names (for tests and
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

/* Each scan is built twice from one body, for a queue without RSS and one
 * with it (rss a constant): the flag is looked at once per scan. */
#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE unsigned
rx_scan_scalar_body(const volatile union adv_rx_desc *ring,
		    struct nb_pkt *const *slot, struct nb_pkt **pkts,
		    unsigned max, uint32_t check, uint32_t buf_len,
		    uint64_t *stop, const bool rss)
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
		if (rss)
			adv_rx_rss(pkt, nb_dma_read64(&ring[i].wb.info));
		else
			adv_rx_no_rss(pkt);
		pkt->len = (uint32_t)good + 1u;
		pkts[i] = pkt;
	}
	return (unsigned)i;
}

/* A scan for the table: body with the RSS flag a constant. */
#define RX_SCAN(name, attr, body, rss)                                              \
	attr static unsigned name(const volatile union adv_rx_desc *ring,           \
				  struct nb_pkt *const *slot, struct nb_pkt **pkts, \
				  unsigned max, uint32_t check, uint32_t buf_len,   \
				  uint64_t *stop)                                   \
	{                                                                           \
		return body(ring, slot, pkts, max, check, buf_len, stop, rss);      \
	}

RX_SCAN(rx_scan_scalar_nohash, , rx_scan_scalar_body, false)
RX_SCAN(rx_scan_scalar_hash, , rx_scan_scalar_body, true)

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

/* ---- refill, one body for SSE4.1 and AVX2 -------------------------------- */

/*
 * rx_post on vectors of L slot pointers (SSE4.1: 2, AVX2: 4), written once
 * in GCC's generic vectors; only the 32x32->64 multiply (mul_epu32) and the
 * lane orders are per width. IOVA = (ptr - base) * mul + add: ptr - base <
 * 2^32 (nb_mempool_create keeps the descriptor array below 4 GiB) and so
 * is mul, so the 32-bit multiply is exact. `perm` puts the pointers in the
 * order that lets `lo` and `hi` interleave the IOVAs with the zero upper
 * halves inside 128-bit lanes (AVX2 shuffles across lanes cost more).
 */
#define NB_UNPAREN(...) __VA_ARGS__
#define RX_POST_VEC(name, attr, L, ivec, mul_epu32, perm, lo, hi)                   \
	attr static void name(volatile union adv_rx_desc *ring,                     \
			      struct nb_pkt *const *slot, unsigned n,               \
			      const struct nb_iova_map *map)                        \
	{                                                                           \
		typedef uint64_t vec __attribute__((vector_size(8 * L)));          \
		typedef uint64_t uvec __attribute__((vector_size(8 * L), aligned(8), \
						     may_alias));                    \
		const vec base = (vec){ 0 } + (uint64_t)map->base;                  \
		const vec mul = (vec){ 0 } + map->mul;                              \
		const vec add = (vec){ 0 } + map->add;                              \
		const vec zero = { 0 };                                             \
		size_t i;                                                           \
                                                                                    \
		_Pragma("GCC unroll 2")                                             \
		for (i = 0; i + L <= n; i += L) {                                   \
			vec p = *(const uvec *)&slot[i];                            \
			vec v;                                                      \
                                                                                    \
			p = __builtin_shufflevector(p, p, NB_UNPAREN perm);         \
			v = (vec)mul_epu32((ivec)(p - base), (ivec)mul) + add;      \
			*(uvec *)(uintptr_t)&ring[i] =                              \
				__builtin_shufflevector(v, zero, NB_UNPAREN lo);    \
			*(uvec *)(uintptr_t)&ring[i + L / 2] =                      \
				__builtin_shufflevector(v, zero, NB_UNPAREN hi);    \
		}                                                                   \
		rx_post_scalar(ring + i, slot + i, n - (unsigned)i, map);           \
	}

RX_POST_VEC(rx_post_sse41, SSE41, 2, __m128i, _mm_mul_epu32, (0, 1), (0, 2), (1, 3))
RX_POST_VEC(rx_post_avx2, AVX2, 4, __m256i, _mm256_mul_epu32, (0, 2, 1, 3),
	    (0, 4, 2, 6), (1, 5, 3, 7))

/* ---- SSE4.1 -------------------------------------------------------------- */

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

AVX2 static ALWAYS_INLINE unsigned
rx_scan_avx2_body(const volatile union adv_rx_desc *ring,
		  struct nb_pkt *const *slot, struct nb_pkt **pkts,
		  unsigned max, uint32_t check, uint32_t buf_len,
		  uint64_t *stop, const bool rss)
{
	const __m256i keep = _mm256_set1_epi64x((long long)(ADV_RXD_LEN_MASK | check));
	const __m256i sub = _mm256_set1_epi64x((long long)((1ull << ADV_RXD_LEN_SHIFT) |
							   ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP));
	/* buf_len - 1 in the length's dword (high), 0 in the status dword. */
	const __m256i lim = _mm256_set1_epi64x((long long)((uint64_t)(buf_len - 1u)
							   << ADV_RXD_LEN_SHIFT));
	const __m256i one = _mm256_set1_epi64x((long long)(1ull << ADV_RXD_LEN_SHIFT));
	const __m256i rss_type = _mm256_set1_epi64x(ADV_RXD_RSS_TYPE_MASK);
	const __m256i rss_flag = _mm256_set1_epi64x((long long)((uint64_t)NB_PKT_RSS_HASH << 32));
	/* Vector lane of descriptor k (the unpacks give d0, d2, d1, d3). */
	static const uint8_t lane[4] = { 0, 2, 1, 3 };
	unsigned left = max;

	_Static_assert(ADV_RXD_LEN_SHIFT >= 32 && ADV_RXD_LEN_SHIFT <= 48,
		       "the length field in the high dword");
	/* Pointers step, no indices: fewer instructions per group. */
	for (; left >= 4; left -= 4, ring += 4, slot += 4, pkts += 4) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(uintptr_t)&ring[0]);
		__m256i b = _mm256_loadu_si256((const __m256i *)(uintptr_t)&ring[2]);
		/* Status/length words, lanes d0, d2, d1, d3 (no permute:
		 * the lanes are taken in that order below). */
		__m256i w = _mm256_unpackhi_epi64(a, b);
		__m256i y, len, hash = _mm256_setzero_si256();
		uint64_t lens[4], wbs[4], hashes[4];
		struct nb_pkt *p0 = slot[0], *p1 = slot[1], *p2 = slot[2], *p3 = slot[3];
		unsigned good;

		adv_pin(w);
		if (rss) {
			/* Low qwords (info | RSS hash << 32), the same lanes. */
			__m256i lo = _mm256_unpacklo_epi64(a, b);

			adv_pin(lo);
			/* adv_rx_rss per lane, as one word: hash | flags << 32. */
			hash = _mm256_or_si256(
				_mm256_srli_epi64(lo, 32),
				_mm256_andnot_si256(
					_mm256_cmpeq_epi64(_mm256_and_si256(lo, rss_type),
							   _mm256_setzero_si256()),
					rss_flag));
		}
		/* adv_rx_good_len without its rotate: good is "status dword
		 * 0 and length dword <= buf_len - 1" (unsigned, per dword). */
		y = _mm256_sub_epi64(_mm256_and_si256(w, keep), sub);
		good = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(
			_mm256_cmpeq_epi64(_mm256_min_epu32(y, lim), y)));
		len = _mm256_add_epi64(y, one);
		if (ADV_RXD_LEN_SHIFT != 32) /* a constant: no code if 32 */
			len = _mm256_srli_epi64(len, ADV_RXD_LEN_SHIFT - 32);
		/* Now each lane's high dword (dwords 1, 3) is its length. */
		if (NB_LIKELY(good == 0xF)) {
			__m128i l02 = _mm256_castsi256_si128(len);
			__m128i l13 = _mm256_extracti128_si256(len, 1);

			p0->len = (uint32_t)_mm_extract_epi32(l02, 1);
			p2->len = (uint32_t)_mm_extract_epi32(l02, 3);
			p1->len = (uint32_t)_mm_extract_epi32(l13, 1);
			p3->len = (uint32_t)_mm_extract_epi32(l13, 3);
			if (rss) {
				__m128i r02 = _mm256_castsi256_si128(hash);
				__m128i r13 = _mm256_extracti128_si256(hash, 1);

				rx_rss_store(p0, (uint64_t)_mm_cvtsi128_si64(r02));
				rx_rss_store(p2, (uint64_t)_mm_extract_epi64(r02, 1));
				rx_rss_store(p1, (uint64_t)_mm_cvtsi128_si64(r13));
				rx_rss_store(p3, (uint64_t)_mm_extract_epi64(r13, 1));
			} else {
				adv_rx_no_rss(p0);
				adv_rx_no_rss(p1);
				adv_rx_no_rss(p2);
				adv_rx_no_rss(p3);
			}
			_mm256_storeu_si256((__m256i *)pkts,
					    _mm256_loadu_si256((const __m256i *)slot));
			continue;
		}
		/* Leading good ones, then the first other one stops the scan. */
		_mm256_storeu_si256((__m256i *)lens, len);
		_mm256_storeu_si256((__m256i *)wbs, w);
		_mm256_storeu_si256((__m256i *)hashes, hash);
		for (unsigned k = 0; k < 4; k++) {
			if (!(good & (1u << lane[k]))) {
				*stop = wbs[lane[k]];
				return max - left + k;
			}
			slot[k]->len = (uint32_t)(lens[lane[k]] >> 32);
			rx_rss_store(slot[k], hashes[lane[k]]); /* 0 without RSS */
			pkts[k] = slot[k];
		}
	}
	return max - left + rx_scan_scalar_body(ring, slot, pkts, left, check,
						buf_len, stop, rss);
}

RX_SCAN(rx_scan_avx2_nohash, AVX2, rx_scan_avx2_body, false)
RX_SCAN(rx_scan_avx2_hash, AVX2, rx_scan_avx2_body, true)

/*
 * Four packets per step: the first 32 bytes of their nb_pkt (data, iova,
 * pool, len|idx) transposed into an IOVA, a pool and a length vector, in
 * lanes p0, p2 | p1, p3 (the order the descriptor pairs come out in with
 * in-lane unpacks); all four must pass the checks, else the scalar loop
 * takes over at the first.
 */
AVX2 static unsigned tx_post_avx2(volatile union adv_tx_desc *d,
				  struct nb_pkt **slot, struct nb_pkt *const *pkts,
				  unsigned n, const struct nb_mempool *pool,
				  uint64_t span)
{
	const __m256i want_pool = _mm256_set1_epi64x((long long)(uintptr_t)pool);
	const __m256i ones = _mm256_set1_epi64x(-1);
	/* Per dword: ADV_TX_MIN_LEN off the length, 0 off idx; then the
	 * length must be <= span, idx anything. */
	const __m256i min_len = _mm256_set1_epi64x(ADV_TX_MIN_LEN);
	const __m256i lim = _mm256_set1_epi64x((long long)(0xFFFFFFFF00000000ull | span));
	const __m256i cmd = _mm256_set1_epi64x(ADV_TXD_DTYP_DATA | ADV_TXD_CMD_EOP |
					       ADV_TXD_CMD_IFCS | ADV_TXD_CMD_DEXT);
	unsigned i;

	_Static_assert(offsetof(struct nb_pkt, iova) == 8 &&
		       offsetof(struct nb_pkt, pool) == 16 &&
		       offsetof(struct nb_pkt, len) == 24 &&
		       offsetof(struct nb_pkt, idx) == 28, "nb_pkt layout");
	for (i = 0; i + 4 <= n; i += 4, d += 4, slot += 4, pkts += 4) {
		__m256i p0 = _mm256_loadu_si256((const __m256i *)pkts[0]);
		__m256i p1 = _mm256_loadu_si256((const __m256i *)pkts[1]);
		__m256i p2 = _mm256_loadu_si256((const __m256i *)pkts[2]);
		__m256i p3 = _mm256_loadu_si256((const __m256i *)pkts[3]);
		/* [data iova | pool len] of two packets -> per-field lanes. */
		__m256i u02lo = _mm256_unpacklo_epi64(p0, p2); /* d0 d2 | pool0 pool2 */
		__m256i u02hi = _mm256_unpackhi_epi64(p0, p2); /* iova0 iova2 | len0 len2 */
		__m256i u13lo = _mm256_unpacklo_epi64(p1, p3);
		__m256i u13hi = _mm256_unpackhi_epi64(p1, p3);
		__m256i iova = _mm256_permute2x128_si256(u02hi, u13hi, 0x20);
		__m256i pools = _mm256_permute2x128_si256(u02lo, u13lo, 0x31);
		__m256i len = _mm256_permute2x128_si256(u02hi, u13hi, 0x31); /* len|idx */
		/* len in ADV_TX_MIN_LEN..ADV_TX_MIN_LEN + span (span < 2^16:
		 * a length below the minimum wraps above it) and the pool is
		 * `pool`. */
		__m256i off = _mm256_sub_epi32(len, min_len);
		__m256i good = _mm256_and_si256(
			_mm256_cmpeq_epi32(_mm256_min_epu32(off, lim), off),
			_mm256_cmpeq_epi64(pools, want_pool));
		__m256i hi;

		/* testc: all lanes of `good` set */
		if (NB_UNLIKELY(!_mm256_testc_si256(good, ones)))
			break;
		/* As adv_tx_cmd: cmd_type_len = len | cmd (len < 2^16, below
		 * the command bits), olinfo = len << PAYLEN_SHIFT (the shift
		 * drops idx). */
		hi = _mm256_blend_epi32(_mm256_add_epi32(len, cmd),
					_mm256_slli_epi64(len, 32 + ADV_TXD_PAYLEN_SHIFT), 0xAA);
		_mm256_storeu_si256((__m256i *)(uintptr_t)&d[0],
				    _mm256_unpacklo_epi64(iova, hi)); /* desc0 | desc1 */
		_mm256_storeu_si256((__m256i *)(uintptr_t)&d[2],
				    _mm256_unpackhi_epi64(iova, hi)); /* desc2 | desc3 */
		_mm256_storeu_si256((__m256i *)slot, _mm256_loadu_si256((const __m256i *)pkts));
	}
	return i + tx_post_scalar(d, slot, pkts, n - i, pool, span);
}

/* ---- selection ----------------------------------------------------------- */

static const struct adv_path paths[] = {
	{ "scalar", { rx_scan_scalar_nohash, rx_scan_scalar_hash }, rx_post_scalar,
	  tx_post_scalar },
	/* Receive scans two descriptors per step did not pay on SSE4.1 (the
	 * lengths must come back out of the vector one by one): scalar. */
	{ "sse4.1", { rx_scan_scalar_nohash, rx_scan_scalar_hash }, rx_post_sse41,
	  tx_post_sse41 },
	{ "avx2", { rx_scan_avx2_nohash, rx_scan_avx2_hash }, rx_post_avx2,
	  tx_post_avx2 },
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

int adv_path_asked(const char *drv, const struct adv_path **out)
{
	const char *want = getenv("NB_SIMD");
	const struct adv_path *p;

	__builtin_cpu_init();
	*out = NULL;
	if (want == NULL || *want == '\0')
		return 0;
	p = adv_path_by_name(want);
	if (p == NULL)
		return nb_fail(EINVAL,
			       "%s: NB_SIMD=%s is not a receive/transmit path: use scalar, sse4.1 or avx2 (or unset it for the fastest this CPU runs)",
			       drv, want);
	if (!adv_path_supported(p))
		return nb_fail(ENOTSUP,
			       "%s: NB_SIMD=%s, but this CPU lacks %s: use scalar or unset NB_SIMD",
			       drv, want, p->name);
	*out = p;
	return 0;
}

/* ---- timing the variants ---------------------------------------------- */

/*
 * The widest variant is not always the fastest: under QEMU's TCG (no
 * vector hardware; each AVX2 instruction is a call into the emulator) the
 * igb testbed forwarded 36.7k frames/s with AVX2 against 43.7k with SSE4.1
 * and 39.9k with scalar (docs/performance.md). So, like the kernel's RAID6
 * and XOR code, we time each variant once per process on a synthetic
 * burst and keep the fastest. Private memory only: no device is involved.
 */
#define TIME_BURST 32u  /* descriptors per loop call, the apps' batch */
#define TIME_REPS 128u  /* bursts per sample */
#define TIME_ROUNDS 5u  /* samples per variant, interleaved; the least counts */

struct time_bench {
	union adv_rx_desc rx[TIME_BURST] __attribute__((aligned(ADV_RING_ALIGN)));
	union adv_tx_desc tx[TIME_BURST] __attribute__((aligned(ADV_RING_ALIGN)));
	struct nb_pkt pkt[TIME_BURST];
	struct nb_pkt *slot[TIME_BURST], *got[TIME_BURST], *tx_slot[TIME_BURST];
	struct nb_iova_map map;
};

/* Good 60-byte frames in every receive slot, as a busy ring looks. */
static void time_bench_init(struct time_bench *b)
{
	memset(b, 0, sizeof(*b));
	b->map = (struct nb_iova_map){ .base = (uintptr_t)b->pkt, .mul = 1, .add = 1ull << 32 };
	for (unsigned i = 0; i < TIME_BURST; i++) {
		b->pkt[i].iova = (1ull << 32) + i * 2048u;
		b->pkt[i].pool = (struct nb_mempool *)b; /* compared, never used */
		b->slot[i] = &b->pkt[i];
	}
}

/* One sample: receive, refill and transmit TIME_REPS bursts; ns taken,
 * UINT64_MAX if the variant did not take every frame (never picked). */
static uint64_t time_path(const struct adv_path *p, struct time_bench *b)
{
	const uint64_t wb = 60ull << ADV_RXD_LEN_SHIFT | ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP;
	uint64_t start = nb_now_ns(), stop;
	unsigned done = 0;

	for (unsigned r = 0; r < TIME_REPS; r++) {
		unsigned n;

		for (unsigned i = 0; i < TIME_BURST; i++)
			adv_desc_store(&b->rx[i], 0, wb);
		n = p->rx_scan[0](b->rx, b->slot, b->got, TIME_BURST,
				  ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP, 2048, &stop);
		p->rx_post(b->rx, b->slot, n, &b->map);
		done += p->tx_post(b->tx, b->tx_slot, b->got, n, (struct nb_mempool *)b,
				   2048 - ADV_TX_MIN_LEN);
	}
	return done == TIME_REPS * TIME_BURST ? nb_now_ns() - start : UINT64_MAX;
}

const struct adv_path *adv_path_fastest(const struct adv_path *const *cand,
					unsigned n)
{
	uint64_t best[ADV_PATH_MAX_CANDIDATES];
	struct time_bench *b;
	unsigned pick = n - 1;

	if (n == 1 || n > ADV_PATH_MAX_CANDIDATES ||
	    (b = aligned_alloc(ADV_RING_ALIGN, sizeof(*b))) == NULL)
		return cand[n - 1];
	time_bench_init(b);
	for (unsigned i = 0; i < n; i++)
		best[i] = UINT64_MAX;
	for (unsigned round = 0; round <= TIME_ROUNDS; round++) {
		for (unsigned i = 0; i < n; i++) {
			uint64_t t = time_path(cand[i], b);

			/* Round 0 warms caches (and an emulator's translation). */
			if (round > 0 && t < best[i])
				best[i] = t;
		}
	}
	free(b);
	/* The widest (last) stays unless a narrower one is an eighth faster
	 * (best[i] * 9/8 < best[pick], kept clear of overflow: a variant that
	 * failed has UINT64_MAX): timing noise alone should not change it. */
	for (unsigned i = 0; i + 1 < n; i++)
		if (best[i] < best[pick] - best[pick] / 9)
			pick = i;
	return cand[pick];
}

const struct adv_path *adv_path_get(void)
{
	static const struct adv_path *chosen;
	const struct adv_path *p = __atomic_load_n(&chosen, __ATOMIC_RELAXED);

	if (p == NULL) {
		const struct adv_path *cand[NB_ARRAY_SIZE(paths)];
		unsigned n = 0;

		/* adv_check_conf() already refused a bad NB_SIMD. */
		if (adv_path_asked("nicbox", &p) < 0 || p == NULL) {
			for (size_t i = 0; i < NB_ARRAY_SIZE(paths); i++)
				if (adv_path_supported(&paths[i]))
					cand[n++] = &paths[i];
			p = adv_path_fastest(cand, n);
		}
		/* Two threads may time at once: the first pick stands. */
		if (!__atomic_compare_exchange_n(&chosen, &(const struct adv_path *){ NULL }, p,
						 false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			p = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
	}
	return p;
}
