/* SPDX-License-Identifier: MIT */
/*
 * test_adv_path.c - the SIMD receive/transmit loops of the Intel rings
 * (drivers/intel/adv_path.c) give exactly the scalar results: the same
 * pseudo-random inputs (good frames, hostile write-backs: no DD, no EOP,
 * error bits, lengths 0 and beyond the buffer, random bytes, RSS types
 * and hashes of every kind, rss_hash/flags compared too; frames of
 * other pools and bad lengths) go through the scalar loop and each SIMD
 * variant (adv_path_compare.h, shared with the fuzz harness). Also: how
 * NB_SIMD picks a variant and refuses a bad one, and that without it the
 * timing drops a slow variant.
 */
#include <stdlib.h>

#include "nb_test.h"
#include "../fuzz/adv_path_compare.h"

#define ROUNDS 4000
#define INPUT 2048

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint8_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)(rng_state >> 24);
}

/* Inputs where most items are good, so the vector steps see full groups,
 * with odd items sprinkled in; every 8th round is all random bytes. */
static void make_input(uint8_t *buf, unsigned round)
{
	for (unsigned i = 0; i < INPUT; i++) {
		uint8_t b = rnd();

		if (i > 2 && round % 8 != 0 && (b & 0x70) != 0)
			b = (uint8_t)(i % 4 == 3 ? (b & 3) : b); /* good kinds */
		buf[i] = b;
	}
	buf[1] = (uint8_t)(round % 65u); /* every count, 0..64 */
}

static void compare_variant(const char *name)
{
	const struct adv_path *v = adv_path_by_name(name);
	static uint8_t buf[INPUT];
	struct cmp_env e;

	assert_non_null(v);
	if (!adv_path_supported(v)) {
		print_message("this CPU lacks %s: not compared\n", name);
		skip();
	}
	assert_int_equal(cmp_env_init(&e), 0);
	for (unsigned round = 0; round < ROUNDS; round++) {
		make_input(buf, round);
		buf[0] = (uint8_t)(round % 3u); /* rx_scan, rx_post, tx_post */
		if (adv_path_compare(&e, v, buf, sizeof(buf)) < 0)
			fail_msg("round %u: %s", round, e.why);
	}
	cmp_env_fini(&e);
}

static void sse41_matches_scalar(void **state)
{
	(void)state;
	compare_variant("sse4.1");
}

static void avx2_matches_scalar(void **state)
{
	(void)state;
	compare_variant("avx2");
}

/* The comparison itself catches a wrong variant: scalar against a copy of
 * it whose scan drops the last frame it takes. */
static const struct adv_path *real_scalar;
static unsigned short_scan(const volatile union adv_rx_desc *ring,
			   struct nb_pkt *const *slot, struct nb_pkt **pkts,
			   unsigned max, uint32_t check, uint32_t buf_len,
			   uint64_t *stop)
{
	unsigned n = real_scalar->rx_scan[1](ring, slot, pkts, max, check, buf_len, stop);

	return n > 0 ? n - 1u : 0;
}

/* ... and one that forgets the RSS type of the first frame. */
static unsigned no_rss_scan(const volatile union adv_rx_desc *ring,
			    struct nb_pkt *const *slot, struct nb_pkt **pkts,
			    unsigned max, uint32_t check, uint32_t buf_len,
			    uint64_t *stop)
{
	unsigned n = real_scalar->rx_scan[1](ring, slot, pkts, max, check, buf_len, stop);

	if (n > 0)
		pkts[0]->flags = 0;
	return n;
}

static void comparison_catches_a_difference(void **state)
{
	struct adv_path bad;
	uint8_t buf[INPUT];
	struct cmp_env e;

	(void)state;
	real_scalar = adv_path_scalar();
	bad = *real_scalar;
	bad.rx_scan[1] = short_scan;
	assert_int_equal(cmp_env_init(&e), 0);
	make_input(buf, 1);
	buf[0] = 0;
	buf[1] = 64;
	buf[2] = 8; /* RSS on */
	/* 64 good frames (kind 0, length 1, RSS kind 0: no hash) */
	memset(buf + 3, 0, 4 * 64);
	assert_int_equal(adv_path_compare(&e, &bad, buf, sizeof(buf)), -1);
	assert_non_null(strstr(e.why, "rx_scan: scalar took 64"));
	/* The same with RSS kind 2 (type 15, hash ~0): a lost flag shows. */
	for (unsigned i = 0; i < 64; i++)
		buf[3 + 4 * i + 3] = 0xF2;
	bad.rx_scan[1] = no_rss_scan;
	assert_int_equal(adv_path_compare(&e, &bad, buf, sizeof(buf)), -1);
	assert_non_null(strstr(e.why, "rx_scan: slot 0 rss_hash/flags ffffffff/1 vs ffffffff/0"));
	/* RSS off, a variant that hands on the hash anyway: caught too. */
	buf[2] = 0;
	bad.rx_scan[0] = real_scalar->rx_scan[1];
	assert_int_equal(adv_path_compare(&e, &bad, buf, sizeof(buf)), -1);
	assert_non_null(strstr(e.why, "rx_scan: slot 0 rss_hash/flags 00000000/0 vs ffffffff/1"));
	cmp_env_fini(&e);
}

static void nb_simd_picks_or_refuses(void **state)
{
	const struct adv_path *p = NULL;

	(void)state;
	setenv("NB_SIMD", "scalar", 1);
	assert_int_equal(adv_path_asked("igb", &p), 0);
	assert_string_equal(p->name, "scalar");
	setenv("NB_SIMD", "avx512", 1);
	assert_int_equal(adv_path_asked("igb", &p), -1);
	assert_failed_with(EINVAL, "NB_SIMD=avx512 is not a receive/transmit path: use scalar, sse4.1 or avx2");
	unsetenv("NB_SIMD");
	assert_int_equal(adv_path_asked("igb", &p), 0);
	assert_null(p); /* none asked: adv_path_get times them */
	p = adv_path_get();
	print_message("timed pick on this CPU: %s\n", p->name);
	assert_true(adv_path_supported(p));
	assert_ptr_equal(adv_path_get(), p); /* once per process */
}

/* A receive scan that wastes 20 us a call: timing must drop its variant,
 * whether it is the widest (the default) or not. */
static unsigned slow_scan(const volatile union adv_rx_desc *ring,
			  struct nb_pkt *const *slot, struct nb_pkt **pkts,
			  unsigned max, uint32_t check, uint32_t buf_len,
			  uint64_t *stop)
{
	uint64_t until = nb_now_ns() + 20000;

	while (nb_now_ns() < until)
		;
	return real_scalar->rx_scan[0](ring, slot, pkts, max, check, buf_len, stop);
}

/* Scalar must win against `other` whether `other` is the widest (last)
 * candidate or the narrower one. */
static void assert_scalar_wins_against(const struct adv_path *other)
{
	const struct adv_path *wide_other[2] = { real_scalar, other };
	const struct adv_path *wide_scalar[2] = { other, real_scalar };

	assert_ptr_equal(adv_path_fastest(wide_other, 2), real_scalar);
	assert_ptr_equal(adv_path_fastest(wide_scalar, 2), real_scalar);
}

static void timing_picks_the_fast_variant(void **state)
{
	struct adv_path slow;
	const struct adv_path *only = &slow;

	(void)state;
	real_scalar = adv_path_scalar();
	slow = *real_scalar;
	slow.name = "slow";
	slow.rx_scan[0] = slow_scan;
	assert_scalar_wins_against(&slow);
	assert_ptr_equal(adv_path_fastest(&only, 1), &slow); /* no choice */
	/* A variant that drops frames is never picked, however fast. */
	slow.rx_scan[0] = short_scan;
	assert_scalar_wins_against(&slow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sse41_matches_scalar),
		cmocka_unit_test(avx2_matches_scalar),
		cmocka_unit_test(comparison_catches_a_difference),
		cmocka_unit_test(nb_simd_picks_or_refuses),
		cmocka_unit_test(timing_picks_the_fast_variant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
