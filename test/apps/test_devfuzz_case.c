/* SPDX-License-Identifier: MIT */
/*
 * test_devfuzz_case.c - nicbox-devfuzz's cases (apps/devfuzz_case.c): the
 * same seed and case number give the same bytes, case files round-trip,
 * bad case files are refused with the line and the reason, and the
 * generator produces every class of hostile input the tool promises.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devfuzz_case.h"

#define TEXT_LEN 8192

static struct df_case a, b;
static char ta[TEXT_LEN], tb[TEXT_LEN];

static void format_ok(const struct df_case *c, char *buf)
{
	size_t n = df_format(c, buf, TEXT_LEN);

	assert_true(n > 0 && n < TEXT_LEN);
}

static void test_same_seed_same_bytes(void **state)
{
	(void)state;
	for (unsigned kind = 0; kind < DF_N_KINDS; kind++)
		for (unsigned mode = 0; mode < DF_N_MODES; mode++)
			for (uint64_t n = 0; n < 200; n++) {
				df_generate(&a, kind, mode, 42, n);
				df_generate(&b, kind, mode, 42, n);
				format_ok(&a, ta);
				format_ok(&b, tb);
				assert_string_equal(ta, tb);
				/* Another seed: another case. */
				df_generate(&b, kind, mode, 43, n);
				format_ok(&b, tb);
				assert_string_not_equal(ta, tb);
			}
}

static void test_cases_differ(void **state)
{
	(void)state;
	df_generate(&a, DF_VIRTIO_SPLIT, DF_TX, 7, 1);
	df_generate(&b, DF_VIRTIO_SPLIT, DF_TX, 7, 2);
	format_ok(&a, ta);
	format_ok(&b, tb);
	assert_string_not_equal(ta, tb);
}

static void test_fill_deterministic(void **state)
{
	static uint8_t x[DF_BUF_LEN], y[DF_BUF_LEN];

	(void)state;
	df_fill(x, sizeof(x), 99);
	df_fill(y, sizeof(y), 99);
	assert_memory_equal(x, y, sizeof(x));
	df_fill(y, sizeof(y), 100);
	assert_memory_not_equal(x, y, sizeof(x));
}

/* Field by field: struct padding is not part of a case. */
static bool same_op(const struct df_op *x, const struct df_op *y)
{
	return x->kind == y->kind && x->slot == y->slot &&
	       x->a.base == y->a.base && x->a.off == y->a.off &&
	       (x->kind == DF_OP_DESC || x->kind == DF_OP_INJECT
			? x->b.base == y->b.base && x->b.off == y->b.off
			: true);
}

static void test_round_trip(void **state)
{
	(void)state;
	for (unsigned kind = 0; kind < DF_N_KINDS; kind++)
		for (unsigned mode = 0; mode < DF_N_MODES; mode++)
			for (uint64_t n = 0; n < 300; n++) {
				size_t pos = 0;
				unsigned line = 0;
				char why[256] = "";

				df_generate(&a, kind, mode, 0xdeadbeef, n);
				format_ok(&a, ta);
				assert_int_equal(df_parse(ta, &pos, &line, &b, why,
							  sizeof(why)), 1);
				assert_int_equal(pos, strlen(ta));
				assert_int_equal(b.n_ops, a.n_ops);
				for (unsigned i = 0; i < a.n_ops; i++)
					assert_true(same_op(&a.ops[i], &b.ops[i]));
				assert_true(b.seed == a.seed && b.number == a.number &&
					    b.fill == a.fill && b.setup == a.setup &&
					    b.kind == a.kind && b.mode == a.mode);
				format_ok(&b, tb);
				assert_string_equal(ta, tb);
			}
}

/* A findings file: comments, then several cases one after the other. */
static void test_several_cases(void **state)
{
	static char text[3 * TEXT_LEN];
	size_t pos = 0, len = 0;
	unsigned line = 0;
	char why[256];

	(void)state;
	for (uint64_t n = 0; n < 3; n++) {
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"# finding %u\n\n", (unsigned)n);
		df_generate(&a, DF_IGB, DF_RX, 5, n);
		len += df_format(&a, text + len, sizeof(text) - len);
	}
	for (uint64_t n = 0; n < 3; n++) {
		assert_int_equal(df_parse(text, &pos, &line, &b, why, sizeof(why)), 1);
		assert_true(b.number == n);
	}
	assert_int_equal(df_parse(text, &pos, &line, &b, why, sizeof(why)), 0);
}

/* Every bad file is refused with its line and a reason. */
static void test_bad_files(void **state)
{
	static const struct {
		const char *body; /* after the header, or a whole file if it
				     does not start with a newline */
		const char *want;
	} cases[] = {
		{ "hello\n", "line 1: not a nicbox-devfuzz case file" },
		{ "nicbox-devfuzz-case 2\n", "line 1: not a nicbox-devfuzz case file" },
		{ "nicbox-devfuzz-case 1\nkind e1000\n", "line 2: unknown kind 'e1000'" },
		{ "nicbox-devfuzz-case 1\nmode tx\n", "line 2: expected 'kind', got 'mode'" },
		{ "nicbox-devfuzz-case 1\nkind igb\nmode up\n", "line 3: unknown mode 'up'" },
		{ "nicbox-devfuzz-case 1\nkind igb\nmode tx\nseed x\n",
		  "line 4: 'seed': 'x' is not a number" },
		{ "\nring 32\n", "ring 32: this nicbox-devfuzz runs rings of 64" },
		{ "\n", "the case ends without 'end'" },
		{ "\nfly 1\nend\n", "line 9: unknown operation 'fly'" },
		{ "\ndesc 64 buf+0x0 0x0\nend\n", "line 9: 'desc' slot '64' is not a number 0..63" },
		{ "\ndesc 1 buf+0x0\nend\n", "'desc' takes 3 values, got 2" },
		{ "\ndesc 1 nowhere+0x10 0x0\nend\n", "unknown address base in 'nowhere+0x10'" },
		{ "\ndesc 1 buf+zz 0x0\nend\n", "bad offset in 'buf+zz'" },
		{ "\ndesc 1 buf 0x0\nend\n", "'buf' is not a number or BASE+OFFSET" },
		{ "\ndesc 1 buf+0x0 ring+0x0\nend\n", "desc: the second qword takes a number" },
		{ "\nhead 3\nend\n", "'head' is for igb cases only" },
		{ "\nstatus 0x100\nend\n", "status 0x100 is out of range (0..255)" },
		{ "\nkick 0x10000\nend\n", "kick 0x10000 is out of range" },
		{ "\npublish buf+0x4\nend\n", "publish takes a number, not an address" },
		{ "\ninject 1 60\nend\n", "'inject' is for rx cases only" },
		{ "\nwait 2000000\nend\n", "wait 0x1e8480 is out of range" },
		{ "\nreset 1\nend\n", "'reset' takes 0 values, got 1" },
		{ "\ndesc 1 2 3 4 5 6\nend\n", "too many words" },
	};
	static const char header[] =
		"nicbox-devfuzz-case 1\nkind virtio-split\nmode tx\nseed 1\ncase 2\n"
		"ring 64\nfill 0x3\nsetup 0x0";
	char text[1024], why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t pos = 0;
		unsigned line = 0;
		const char *body = cases[i].body;

		if (body[0] == '\n')
			snprintf(text, sizeof(text), "%s%s", header, body);
		else
			snprintf(text, sizeof(text), "%s", body);
		if (strcmp(body, "\nring 32\n") == 0)
			snprintf(text, sizeof(text),
				 "nicbox-devfuzz-case 1\nkind igb\nmode tx\nseed 1\ncase 2\nring 32\n");
		why[0] = '\0';
		if (df_parse(text, &pos, &line, &b, why, sizeof(why)) != -1 ||
		    strstr(why, cases[i].want) == NULL)
			fail_msg("case %zu: want an error with \"%s\", got \"%s\"", i,
				 cases[i].want, why);
	}
}

/* Parsing `text` into b fails with a reason containing `want`. */
static void assert_refused(const char *text, const char *want)
{
	size_t pos = 0;
	unsigned line = 0;
	char why[256] = "";

	assert_int_equal(df_parse(text, &pos, &line, &b, why, sizeof(why)), -1);
	if (strstr(why, want) == NULL)
		fail_msg("want an error with \"%s\", got \"%s\"", want, why);
}

static void test_igb_only_ops(void **state)
{
	static const char text[] =
		"nicbox-devfuzz-case 1\nkind igb\nmode rx\nseed 1\ncase 2\n"
		"ring 64\nfill 0x3\nsetup 0x2000002\n"
		"desc 0 buf+0x0 other+0x40\nhead 5\ninject 4 1514\navail 1 0x2\nend\n";

	(void)state;
	/* desc with a header address and head and inject are fine for igb rx;
	 * the avail ring is virtio's. */
	assert_refused(text, "line 12: 'avail' is for virtio cases only");
	assert_int_equal(b.n_ops, 3);
}

static void test_too_many_ops(void **state)
{
	static char text[16384];
	size_t len;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text),
			       "nicbox-devfuzz-case 1\nkind igb\nmode tx\nseed 1\n"
			       "case 2\nring 64\nfill 0x3\nsetup 0x0\n");
	for (unsigned i = 0; i <= DF_MAX_OPS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "wait 1\n");
	snprintf(text + len, sizeof(text) - len, "end\n");
	assert_refused(text, "more than 96 operations");
}

/*
 * Over many cases the generator produces each promised class: addresses
 * of every base, lengths 0 and 1, every virtio flag combination and
 * undefined bits, chains that loop and that leave the table, indices that
 * go backwards, resets, odd doorbells, igb head writes and injected frames.
 */
static void test_generator_coverage(void **state)
{
	bool base_seen[DF_N_BASES] = { false }, op_seen[DF_N_OPS] = { false };
	bool flags_seen[8] = { false };
	bool len0 = false, len1 = false, undefined = false, self_loop = false,
	     off_table = false, backwards = false, odd_kick = false;

	(void)state;
	for (uint64_t n = 0; n < 2000; n++) {
		uint64_t last = 0;

		df_generate(&a, DF_VIRTIO_SPLIT, n % 2 ? DF_RX : DF_TX, 1, n);
		assert_true(a.n_ops > 0 && a.n_ops <= DF_MAX_OPS);
		for (unsigned i = 0; i < a.n_ops; i++) {
			const struct df_op *op = &a.ops[i];
			uint64_t q1 = (uint64_t)op->b.off;
			uint16_t flags = (uint16_t)(q1 >> 32), next = (uint16_t)(q1 >> 48);

			op_seen[op->kind] = true;
			if (op->kind == DF_OP_KICK && op->a.off != (n % 2 ? 0 : 1))
				odd_kick = true;
			if (op->kind == DF_OP_PUBLISH) {
				if ((uint64_t)op->a.off < last && last - (uint64_t)op->a.off < 8)
					backwards = true;
				last = (uint64_t)op->a.off;
			}
			if (op->kind != DF_OP_DESC)
				continue;
			assert_true(op->slot < DF_RING_SIZE);
			base_seen[op->a.base] = true;
			len0 |= (uint32_t)q1 == 0;
			len1 |= (uint32_t)q1 == 1;
			if (flags < 8)
				flags_seen[flags] = true;
			else
				undefined = true;
			self_loop |= (flags & 1) && next == op->slot;
			off_table |= (flags & 1) && next >= DF_RING_SIZE;
		}
	}
	for (unsigned i = 0; i < DF_N_BASES; i++)
		assert_true(base_seen[i]);
	for (unsigned i = 0; i < 8; i++)
		assert_true(flags_seen[i]);
	assert_true(len0 && len1 && undefined && self_loop && off_table &&
		    backwards && odd_kick);
	for (unsigned k = 0; k < DF_N_OPS; k++)
		if (k != DF_OP_HEAD)
			assert_true(op_seen[k]);
	for (uint64_t n = 0; n < 500; n++) {
		df_generate(&a, DF_IGB, DF_RX, 1, n);
		for (unsigned i = 0; i < a.n_ops; i++)
			op_seen[a.ops[i].kind] |= true;
	}
	assert_true(op_seen[DF_OP_HEAD] && op_seen[DF_OP_INJECT]);
}

/*
 * Packed rings (virtio 1.2, 2.8): descriptors with AVAIL/USED for the
 * right and the wrong wrap counter (both set, both clear), the wrap
 * counter turned by passing the end of the ring, INDIRECT, NEXT on a
 * buffer's last descriptor, WRITE on tx, buffer ids in and out of range,
 * driver event suppression values (reserved flags too); no avail ring or
 * index operations.
 */
static void test_packed_coverage(void **state)
{
	bool avail_only = false, used_only = false, both = false, neither = false;
	bool wrapped = false, indirect = false, next = false, write_tx = false;
	bool id_out = false, id_in = false, event = false, event_reserved = false;
	bool reset = false, inject = false;

	(void)state;
	for (uint64_t n = 0; n < 2000; n++) {
		bool tx = n % 2 == 0, saw_end = false;

		df_generate(&a, DF_VIRTIO_PACKED, tx ? DF_TX : DF_RX, 3, n);
		assert_true(a.n_ops > 0 && a.n_ops < DF_MAX_OPS);
		/* The last operation is the final wait: nothing was cut off. */
		assert_int_equal(a.ops[a.n_ops - 1].kind, DF_OP_WAIT);
		for (unsigned i = 0; i < a.n_ops; i++) {
			const struct df_op *op = &a.ops[i];
			uint64_t q1 = (uint64_t)op->b.off;
			uint16_t flags = (uint16_t)(q1 >> 48), id = (uint16_t)(q1 >> 32);
			bool av = flags & 0x80, us = flags & 0x8000;

			assert_true(op->kind != DF_OP_AVAIL && op->kind != DF_OP_PUBLISH);
			reset |= op->kind == DF_OP_RESET;
			inject |= op->kind == DF_OP_INJECT;
			if (op->kind == DF_OP_FLAGS) {
				event = true;
				event_reserved |= (op->a.off >> 16 & 0xffff) == 3;
			}
			if (op->kind != DF_OP_DESC)
				continue;
			avail_only |= av && !us;
			used_only |= !av && us;
			both |= av && us;
			neither |= !av && !us;
			/* Past the end of the ring the counter is 0: AVAIL
			 * clear and USED set mean "available" (2.8.1). */
			wrapped |= saw_end && op->slot == 0 && !av && us;
			saw_end |= op->slot == DF_RING_SIZE - 1;
			indirect |= (flags & 4) != 0;
			next |= (flags & 1) != 0;
			write_tx |= tx && (flags & 2);
			id_out |= id >= DF_RING_SIZE;
			id_in |= id < DF_RING_SIZE;
		}
	}
	assert_true(avail_only && used_only && both && neither && wrapped);
	assert_true(indirect && next && write_tx && id_out && id_in);
	assert_true(event && event_reserved && reset && inject);
}

/* A packed case file has no avail ring and no index. */
static void test_packed_ops(void **state)
{
	static const char text[] =
		"nicbox-devfuzz-case 1\nkind virtio-packed\nmode tx\nseed 1\n"
		"case 2\nring 64\nfill 0x3\nsetup 0x0\n"
		"desc 0 buf+0x0 0x80000000000040\nflags 0x30005\nkick 0x1\n"
		"publish 0x1\nend\n";

	(void)state;
	assert_refused(text, "line 12: 'publish' is for split rings");
	assert_int_equal(b.n_ops, 3);
	assert_int_equal(b.ops[1].a.off, 0x30005); /* 32 bits: off_wrap, flags */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_bytes),
		cmocka_unit_test(test_cases_differ),
		cmocka_unit_test(test_fill_deterministic),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_several_cases),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_igb_only_ops),
		cmocka_unit_test(test_too_many_ops),
		cmocka_unit_test(test_generator_coverage),
		cmocka_unit_test(test_packed_coverage),
		cmocka_unit_test(test_packed_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
