/* SPDX-License-Identifier: MIT */
/*
 * devfuzz_case.h - nicbox-devfuzz's test cases: what one case does to a
 * NIC's rings, generated from (seed, case number) and written to and read
 * from a text case file. No device access here, so the unit tests
 * (test/apps/test_devfuzz_case.c) check generation and the file format.
 *
 * A case is a list of operations on ONE fuzzed ring (the transmit ring in
 * tx mode, the receive ring in rx mode) of DF_RING_SIZE descriptors.
 * Addresses are symbolic (a base and a signed offset, e.g. "bufend-0x3"),
 * resolved when the case runs, so a case file means the same thing whatever
 * IOVAs the helper picked in that run.
 */
#ifndef NB_APPS_DEVFUZZ_CASE_H
#define NB_APPS_DEVFUZZ_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DF_RING_SIZE 64u  /* descriptors in the fuzzed ring */
#define DF_MAX_OPS 96u    /* operations in one case */
#define DF_BUF_LEN 65536u /* the fuzz buffer area: what DF_BUF offsets aim at */
#define DF_RING_AREA 8192u /* bytes of the ring area (DF_RING offsets) */
#define DF_FRAME_MIN 60u  /* INJECT frame sizes: what the partner's driver sends */
#define DF_FRAME_MAX 1514u
#define DF_FILE_MAGIC "nicbox-devfuzz-case 1"

enum df_kind { DF_VIRTIO_SPLIT, DF_IGB, DF_VIRTIO_PACKED, DF_N_KINDS };
enum df_mode { DF_TX, DF_RX, DF_N_MODES };

/* What an address is relative to (resolved in devfuzz.c). */
enum df_base {
	DF_ABS,      /* a plain number (also: non-address fields) */
	DF_BUF,      /* start of the fuzz buffer area */
	DF_BUFEND,   /* one past its end */
	DF_RING,     /* the fuzzed ring (the device's own descriptors) */
	DF_POOL,     /* start of the fuzz pool */
	DF_POOLEND,  /* one past the fuzz pool's last byte */
	DF_OTHER,    /* start of the drivers' pool (the other pool) */
	DF_OTHEREND, /* one past its last byte */
	DF_N_BASES,
};

struct df_val {
	uint8_t base;  /* enum df_base */
	int64_t off;
};

enum df_op_kind {
	DF_OP_DESC,    /* slot, a = qword 0 (address), b = qword 1 */
	DF_OP_AVAIL,   /* virtio split: avail ring entry slot = head a */
	DF_OP_PUBLISH, /* virtio split: avail->idx = a; igb: tail register = a */
	DF_OP_KICK,    /* virtio: doorbell write of a; igb: tail written again */
	DF_OP_HEAD,    /* igb: head register = a (the datasheet forbids it) */
	DF_OP_FLAGS,   /* virtio split: avail->flags = a; packed: the driver
			* event suppression structure = a (off_wrap | flags << 16) */
	DF_OP_STATUS,  /* virtio: device_status = a */
	DF_OP_RESET,   /* reset mid-flight, then the fuzz ring set up again */
	DF_OP_INJECT,  /* the hub partner sends a frames of b bytes */
	DF_OP_WAIT,    /* let the device work for a microseconds */
	DF_N_OPS,
};

struct df_op {
	uint8_t kind;     /* enum df_op_kind */
	uint16_t slot;    /* DESC, AVAIL */
	struct df_val a;  /* DESC: qword 0; others: base DF_ABS */
	struct df_val b;  /* DESC: qword 1; INJECT: frame size */
};

struct df_case {
	uint8_t kind;     /* enum df_kind */
	uint8_t mode;     /* enum df_mode */
	uint64_t seed;
	uint64_t number;
	uint64_t fill;    /* seed of the buffer area's bytes */
	uint32_t setup;   /* igb rx: SRRCTL; 0 otherwise */
	uint16_t n_ops;
	struct df_op ops[DF_MAX_OPS];
};

const char *df_kind_name(unsigned kind);
const char *df_mode_name(unsigned mode);
/* Name -> enum; -1 if unknown. */
int df_kind_parse(const char *name);
int df_mode_parse(const char *name);

/* splitmix64: the one random number generator (Steele et al. 2014). */
uint64_t df_rand(uint64_t *state);

/* Case `number` of `seed`: the same arguments give the same case. */
void df_generate(struct df_case *c, unsigned kind, unsigned mode,
		 uint64_t seed, uint64_t number);

/*
 * The bytes of the buffer area for fill seed `fill`: 2 KiB blocks, each
 * starting (mostly) like a plausible frame (zeroed virtio-net header,
 * broadcast Ethernet header) followed by random bytes.
 */
void df_fill(uint8_t *buf, size_t len, uint64_t fill);

/* The case as text (the case file format); returns bytes written, or
 * what it would need (snprintf rules). */
size_t df_format(const struct df_case *c, char *buf, size_t len);

/*
 * Parse one case from `text` starting at *pos (several cases may follow
 * each other). 1: a case was read and *pos moved past it; 0: only blank
 * lines or comments were left; -1: a bad case, why[] says what and where
 * ("line 7: ..."). `line` counts lines across calls (start it at 0).
 */
int df_parse(const char *text, size_t *pos, unsigned *line,
	     struct df_case *c, char *why, size_t why_len);

#endif /* NB_APPS_DEVFUZZ_CASE_H */
