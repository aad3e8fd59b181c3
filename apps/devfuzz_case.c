/* SPDX-License-Identifier: MIT */
/*
 * devfuzz_case.c - generate, print and parse nicbox-devfuzz cases.
 *
 * The descriptor layouts the generator aims at: virtio 1.2, 2.7.5 (split
 * virtqueue descriptor: addr, len, flags NEXT 1 / WRITE 2 / INDIRECT 4,
 * next) and 2.7.6 (available ring); 2.8.13 (packed descriptor: addr, len,
 * id, flags with AVAIL 7 / USED 15 beside NEXT, WRITE, INDIRECT) and 2.8.14
 * (event suppression: off_wrap, flags ENABLE 0 / DISABLE 1 / DESC 2); Intel 82576 datasheet 7.1.5 (advanced
 * receive descriptor: packet and header buffer addresses), 7.2.2 (legacy,
 * advanced context and data transmit descriptors: DTALEN 15:0, DTYP 23:20,
 * DCMD 31:24, PAYLEN 63:46) and 8.10 SRRCTL (BSIZEPACKET 6:0, BSIZEHEADER
 * 11:8, DESCTYPE 27:25, DROP_EN 31).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "devfuzz_case.h"

static const char *const kind_names[DF_N_KINDS] = { "virtio-split", "igb",
						     "virtio-packed" };
static const char *const mode_names[DF_N_MODES] = { "tx", "rx" };
static const char *const base_names[DF_N_BASES] = {
	"", "buf", "bufend", "ring", "pool", "poolend", "other", "otherend",
};
static const char *const op_names[DF_N_OPS] = {
	"desc", "avail", "publish", "kick", "head", "flags", "status", "reset",
	"inject", "wait",
};

/* virtio 1.2, 2.7.5 */
#define VQ_F_NEXT 1u
#define VQ_F_WRITE 2u
#define VQ_F_INDIRECT 4u
/* virtio 1.2, 2.8.1 and 2.8.13: AVAIL == wrap, USED != wrap is available */
#define PQ_F_AVAIL (1u << 7)
#define PQ_F_USED (1u << 15)
/* 82576 7.2.2: transmit descriptor fields (cmd_type_len | olinfo << 32). */
#define IGB_DTYP_CTX (2u << 20)
#define IGB_DTYP_DATA (3u << 20)
#define IGB_DCMD_EOP (1u << 24)
#define IGB_DCMD_IFCS (1u << 25)
#define IGB_DCMD_RS (1u << 27)
#define IGB_DCMD_DEXT (1u << 29)
#define IGB_PAYLEN_SHIFT 14
/* 8.10 SRRCTL */
#define IGB_SRRCTL_DESCTYPE_SHIFT 25
#define IGB_SRRCTL_BSIZEHDR_SHIFT 8
#define IGB_SRRCTL_DROP_EN (1u << 31)

#define MAX_WAIT_US 1000000u
#define MAX_INJECT 64u

const char *df_kind_name(unsigned kind)
{
	return kind < DF_N_KINDS ? kind_names[kind] : "?";
}

const char *df_mode_name(unsigned mode)
{
	return mode < DF_N_MODES ? mode_names[mode] : "?";
}

static int lookup(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i][0] && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int df_kind_parse(const char *name)
{
	return lookup(kind_names, DF_N_KINDS, name);
}

int df_mode_parse(const char *name)
{
	return lookup(mode_names, DF_N_MODES, name);
}

uint64_t df_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------ */
/* Generation                                                                */

struct gen {
	struct df_case *c;
	uint64_t rng;
};

static uint64_t below(struct gen *g, uint64_t n)
{
	return df_rand(&g->rng) % n;
}

static struct df_val val(unsigned base, int64_t off)
{
	return (struct df_val){ .base = (uint8_t)base, .off = off };
}

static struct df_val abs_val(uint64_t v)
{
	return val(DF_ABS, (int64_t)v);
}

static void emit(struct gen *g, unsigned kind, uint16_t slot, struct df_val a,
		 struct df_val b)
{
	if (g->c->n_ops < DF_MAX_OPS)
		g->c->ops[g->c->n_ops++] = (struct df_op){
			.kind = (uint8_t)kind, .slot = slot, .a = a, .b = b };
}

static void emit1(struct gen *g, unsigned kind, uint64_t a)
{
	emit(g, kind, 0, abs_val(a), abs_val(0));
}

/* Inside the buffer area, at its and the pools' edges, in the rings, in
 * the other pool, and well outside every pool. */
static struct df_val gen_addr(struct gen *g)
{
	static const uint64_t far[] = {
		0, 0x1000, 1ull << 32, 1ull << 38, 1ull << 39, 1ull << 47,
		0xfffffffffffff000ull, UINT64_MAX,
	};
	uint64_t r = below(g, 100);

	if (r < 45) {
		int64_t off = (int64_t)below(g, DF_BUF_LEN - 2048);

		return val(DF_BUF, below(g, 2) ? off & ~63 : off);
	}
	if (r < 55)
		return below(g, 2) ? val(DF_BUF, (int64_t)below(g, 64))
				   : val(DF_BUFEND, -(int64_t)below(g, 2049));
	if (r < 60)
		return val(DF_RING, (int64_t)below(g, DF_RING_AREA));
	if (r < 68) {
		switch (below(g, 3)) {
		case 0: return val(DF_POOL, -(int64_t)below(g, 4097));
		case 1: return val(DF_POOLEND, -(int64_t)below(g, 65));
		default: return val(DF_POOLEND, (int64_t)below(g, 4097));
		}
	}
	if (r < 73)
		return below(g, 2) ? val(DF_OTHER, (int64_t)below(g, 4096))
				   : val(DF_OTHEREND, -(int64_t)below(g, 65));
	if (r < 90)
		return abs_val(far[below(g, sizeof(far) / sizeof(far[0]))]);
	return abs_val(below(g, 2) ? df_rand(&g->rng)
				   : below(g, 1ull << 39));
}

/* 0, 1, odd, frame-sized, over a buffer, over a frame, huge. */
static uint32_t gen_len(struct gen *g)
{
	switch (below(g, 12)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return (uint32_t)below(g, 1511) | 1u;
	case 3: return 14;
	case 4: case 5: case 6:
		return DF_FRAME_MIN + (uint32_t)below(g, DF_FRAME_MAX - DF_FRAME_MIN + 1) + 12;
	case 7: return DF_FRAME_MAX + 12;
	case 8: return below(g, 2) ? 2048 : 2049;
	case 9: return 4096 + (uint32_t)below(g, 61441);
	case 10: return below(g, 2) ? 65535 : 65536;
	default: return (uint32_t)df_rand(&g->rng);
	}
}

/* virtio 2.7.5: defined flag combinations, INDIRECT, undefined bits. */
static uint16_t gen_vq_flags(struct gen *g, unsigned mode)
{
	uint16_t natural = mode == DF_RX ? VQ_F_WRITE : 0;

	switch (below(g, 8)) {
	case 0: case 1: case 2: return natural;
	case 3: return natural | VQ_F_NEXT;
	case 4: return (uint16_t)(VQ_F_INDIRECT | below(g, 4));
	case 5: return (uint16_t)below(g, 8);
	case 6: return (uint16_t)df_rand(&g->rng);
	default: return (uint16_t)(natural ^ VQ_F_WRITE);
	}
}

/* A chain that goes on, loops to itself or back, or runs off the table. */
static uint16_t gen_next(struct gen *g, uint16_t slot)
{
	switch (below(g, 6)) {
	case 0: case 1: case 2: return (uint16_t)((slot + 1) % DF_RING_SIZE);
	case 3: return slot;
	case 4: return (uint16_t)below(g, slot + 1u);
	default: return (uint16_t)(DF_RING_SIZE + below(g, 0x10000 - DF_RING_SIZE));
	}
}

static void gen_virtio_desc(struct gen *g, uint16_t slot)
{
	uint16_t flags = gen_vq_flags(g, g->c->mode);
	uint16_t next = (flags & VQ_F_NEXT) ? gen_next(g, slot)
					    : (uint16_t)below(g, 0x10000);
	uint64_t q1 = gen_len(g) | (uint64_t)flags << 32 | (uint64_t)next << 48;

	emit(g, DF_OP_DESC, slot, gen_addr(g), abs_val(q1));
}

/*
 * virtio 1.2, 2.8: one round's descriptors on the packed ring, from
 * position rs->next_slot with the Driver Ring Wrap Counter rs->wrap
 * (2.8.1; it flips when the position passes the end of the ring). Buffers
 * of 1 to 3 descriptors (NEXT on all but the last), each with a buffer id
 * (2.8.6): the next one, out of range or random. Then the games: AVAIL
 * and USED for the wrong wrap counter (both set, both clear, inverted),
 * NEXT on a buffer's last descriptor (the chain runs into descriptors not
 * made available), INDIRECT (not negotiated), WRITE turned over, undefined
 * flag bits; the first descriptor's flags written last (2.8.21) or not.
 */
static uint16_t gen_pq_flags(struct gen *g, bool wrap, bool more)
{
	uint16_t natural = (g->c->mode == DF_RX ? VQ_F_WRITE : 0) |
			   (wrap ? PQ_F_AVAIL : PQ_F_USED) | (more ? VQ_F_NEXT : 0);

	switch (below(g, 20)) {
	case 0: return natural | PQ_F_AVAIL | PQ_F_USED;
	case 1: return natural & ~(PQ_F_AVAIL | PQ_F_USED);
	case 2: return natural ^ (PQ_F_AVAIL | PQ_F_USED); /* the other wrap */
	case 3: return natural | VQ_F_NEXT;
	case 4: return (uint16_t)(natural | VQ_F_INDIRECT);
	case 5: return natural ^ VQ_F_WRITE;
	case 6: return (uint16_t)df_rand(&g->rng);
	case 7: return (uint16_t)(natural | (below(g, 0x7f) << 8 & 0x7f00) | 0x78);
	default: return natural;
	}
}

static uint16_t gen_pq_id(struct gen *g, uint16_t natural)
{
	switch (below(g, 10)) {
	case 0: return (uint16_t)(DF_RING_SIZE + below(g, 0x10000 - DF_RING_SIZE));
	case 1: return (uint16_t)below(g, DF_RING_SIZE); /* maybe in use */
	default: return natural;
	}
}

/* 82576 7.2.2: advanced data (whole frame or not EOP), context, legacy,
 * or 64 random bits. */
static uint64_t gen_igb_tx_q1(struct gen *g)
{
	uint32_t len = gen_len(g) & 0xffffu;
	uint32_t cmd = IGB_DTYP_DATA | IGB_DCMD_DEXT | IGB_DCMD_IFCS | IGB_DCMD_RS;
	uint32_t paylen = below(g, 4) ? len : (uint32_t)below(g, 1u << 18);

	switch (below(g, 6)) {
	case 0: case 1:
		return len | cmd | IGB_DCMD_EOP | (uint64_t)paylen << (32 + IGB_PAYLEN_SHIFT);
	case 2:
		return len | cmd | (uint64_t)paylen << (32 + IGB_PAYLEN_SHIFT);
	case 3:
		return (df_rand(&g->rng) & ~0x00f00000ull) | IGB_DTYP_CTX | IGB_DCMD_DEXT;
	case 4:
		return (df_rand(&g->rng) & ~(uint64_t)(IGB_DCMD_DEXT | 0xffffu)) | len;
	default:
		return df_rand(&g->rng);
	}
}

static void gen_igb_desc(struct gen *g, uint16_t slot)
{
	struct df_val q1;

	if (g->c->mode == DF_TX)
		q1 = abs_val(gen_igb_tx_q1(g));
	else if (below(g, 3) == 0)
		q1 = gen_addr(g); /* header buffer (header split) */
	else
		q1 = abs_val(below(g, 4) ? 0 : df_rand(&g->rng)); /* bit 0: DD */
	emit(g, DF_OP_DESC, slot, gen_addr(g), q1);
}

/* 8.10 SRRCTL for an rx case: buffer size, header size, descriptor type
 * (1 advanced one-buffer, 2 header split, 5 always split, others reserved). */
static uint32_t gen_srrctl(struct gen *g)
{
	static const uint32_t bsize[] = { 2, 2, 2, 0, 1, 16, 127 };
	uint32_t type = below(g, 2) ? 1 : (uint32_t)below(g, 8);

	return bsize[below(g, sizeof(bsize) / sizeof(bsize[0]))] |
	       (uint32_t)below(g, 16) << IGB_SRRCTL_BSIZEHDR_SHIFT |
	       type << IGB_SRRCTL_DESCTYPE_SHIFT |
	       (below(g, 2) ? IGB_SRRCTL_DROP_EN : 0);
}

/* Next index: as a driver would, backwards, jumping, unchanged, random. */
static uint64_t gen_index(struct gen *g, uint64_t prev, uint64_t normal,
			  uint64_t max)
{
	switch (below(g, 10)) {
	case 0: return (prev - 1 - below(g, 5)) & max;
	case 1: return (prev + DF_RING_SIZE + below(g, 4)) & max;
	case 2: return df_rand(&g->rng) & max;
	case 3: return prev;
	default: return normal & max;
	}
}

struct ring_state {
	uint16_t next_slot;  /* where the next descriptor goes */
	uint16_t avail_pos;  /* virtio: next avail ring position */
	uint64_t published;  /* last index published */
	bool wrap;           /* packed: the Driver Ring Wrap Counter */
	uint16_t next_id;    /* packed: the next buffer id */
};

static void gen_packed_descs(struct gen *g, struct ring_state *rs, uint16_t k)
{
	struct df_op *ops = g->c->ops;
	uint16_t first = rs->next_slot, start = g->c->n_ops, n;

	/* Wrap counter games: start anywhere, or with the counter turned. */
	if (below(g, 8) == 0)
		first = (uint16_t)below(g, DF_RING_SIZE);
	if (below(g, 10) == 0)
		rs->wrap = !rs->wrap;
	for (uint16_t b = 0, pos = first; b < k; b++) {
		uint16_t len = (uint16_t)(1 + below(g, 3));
		uint16_t id = gen_pq_id(g, rs->next_id++ % DF_RING_SIZE);

		for (uint16_t i = 0; i < len; i++, pos = (pos + 1) % DF_RING_SIZE) {
			uint16_t flags = gen_pq_flags(g, rs->wrap, i + 1 < len);
			uint64_t q1 = gen_len(g) | (uint64_t)id << 32 |
				      (uint64_t)flags << 48;

			emit(g, DF_OP_DESC, pos, gen_addr(g), abs_val(q1));
			if (pos == DF_RING_SIZE - 1)
				rs->wrap = !rs->wrap; /* 2.8.1 */
		}
	}
	n = (uint16_t)(g->c->n_ops - start);
	/* 2.8.21: the first descriptor's flags go last (most rounds): its
	 * operation moves behind the others'. */
	if (n > 1 && below(g, 4)) {
		struct df_op head = ops[start];

		memmove(&ops[start], &ops[start + 1], (size_t)(n - 1) * sizeof(head));
		ops[start + n - 1] = head;
	}
	rs->next_slot = (uint16_t)((first + n) % DF_RING_SIZE);
}

/* 2.8.14 driver event suppression: ENABLE, DISABLE, DESC (EVENT_IDX is
 * not negotiated), the reserved value 3, undefined bits, any off_wrap. */
static uint64_t gen_pq_event(struct gen *g)
{
	uint64_t off_wrap = below(g, 2) ? below(g, DF_RING_SIZE) | below(g, 2) << 15
					: below(g, 0x10000);
	uint64_t flags = below(g, 4) ? below(g, 4) : below(g, 0x10000);

	return off_wrap | flags << 16;
}

static void gen_kick(struct gen *g, unsigned queue)
{
	uint64_t v = queue;

	if (below(g, 6) == 0)
		v = below(g, 2) ? (queue ^ 1u) : below(g, 0x10000);
	emit1(g, DF_OP_KICK, v);
}

/* rx: the partner sends frames; then the device works a while. */
static void gen_inject_wait(struct gen *g)
{
	if (g->c->mode == DF_RX && below(g, 3))
		emit(g, DF_OP_INJECT, 0, abs_val(1 + below(g, 4)),
		     abs_val(below(g, 3) ? DF_FRAME_MIN + below(g, DF_FRAME_MAX - DF_FRAME_MIN + 1)
					 : DF_FRAME_MAX));
	emit1(g, DF_OP_WAIT, 500 + below(g, 4500));
}

static void gen_round(struct gen *g, struct ring_state *rs)
{
	struct df_case *c = g->c;
	bool virtio = c->kind == DF_VIRTIO_SPLIT;
	unsigned queue = c->mode == DF_RX ? 0 : 1; /* virtio-net 5.1.2 */
	uint16_t first = rs->next_slot, k = (uint16_t)(1 + below(g, 8));
	bool kick_early = below(g, 8) == 0;

	if (c->kind == DF_VIRTIO_PACKED) {
		/* No index to publish: the flags make descriptors available. */
		gen_packed_descs(g, rs, (uint16_t)(1 + below(g, 4)));
		if (below(g, 6) == 0)
			emit1(g, DF_OP_FLAGS, gen_pq_event(g));
		if (below(g, 8))
			gen_kick(g, queue);
		if (below(g, 10) == 0)
			gen_kick(g, queue);
		gen_inject_wait(g);
		return;
	}
	if (below(g, 8) == 0)
		first = (uint16_t)below(g, DF_RING_SIZE);
	for (uint16_t i = 0; i < k; i++) {
		uint16_t slot = (uint16_t)((first + i) % DF_RING_SIZE);

		if (virtio)
			gen_virtio_desc(g, slot);
		else
			gen_igb_desc(g, slot);
	}
	rs->next_slot = (uint16_t)((first + k) % DF_RING_SIZE);
	if (kick_early)
		gen_kick(g, queue);
	if (virtio) {
		uint16_t heads = (uint16_t)(1 + below(g, k));

		for (uint16_t i = 0; i < heads; i++) {
			uint64_t head = below(g, 10) ? (first + i) % DF_RING_SIZE
						     : below(g, 0x10000);

			emit(g, DF_OP_AVAIL, rs->avail_pos++, abs_val(head),
			     abs_val(0));
		}
		if (below(g, 10) == 0)
			emit1(g, DF_OP_FLAGS, below(g, 2) ? below(g, 2)
							  : below(g, 0x10000));
		rs->published = gen_index(g, rs->published, rs->avail_pos, 0xffff);
	} else {
		rs->published = gen_index(g, rs->published, rs->next_slot,
					  0xffffffffu);
		if (below(g, 10) == 0)
			rs->published = DF_RING_SIZE + below(g, 64);
	}
	emit1(g, DF_OP_PUBLISH, rs->published);
	if (below(g, 8))
		gen_kick(g, queue);
	if (below(g, 10) == 0)
		gen_kick(g, queue);
	gen_inject_wait(g);
}

void df_generate(struct df_case *c, unsigned kind, unsigned mode,
		 uint64_t seed, uint64_t number)
{
	struct gen g = { .c = c };
	struct ring_state rs = { .wrap = true }; /* 2.8.1: starts at 1 */
	unsigned rounds;

	memset(c, 0, sizeof(*c));
	c->kind = (uint8_t)kind;
	c->mode = (uint8_t)mode;
	c->seed = seed;
	c->number = number;
	/* One stream per (seed, case): case N needs no cases before it. */
	g.rng = seed ^ df_rand(&(uint64_t){ number ^ 0x6e6963626f78ull });
	c->fill = df_rand(&g.rng);
	if (kind == DF_IGB && mode == DF_RX)
		c->setup = gen_srrctl(&g);
	rounds = 1 + (unsigned)below(&g, 4);
	for (unsigned r = 0; r < rounds; r++) {
		gen_round(&g, &rs);
		if (r + 1 == rounds)
			break;
		switch (below(&g, 12)) {
		case 0:
			emit1(&g, DF_OP_RESET, 0);
			rs = (struct ring_state){ .wrap = true };
			break;
		case 1:
			if (kind != DF_IGB)
				emit1(&g, DF_OP_STATUS, below(&g, 2) ? below(&g, 256)
								     : 0x0b);
			else
				emit1(&g, DF_OP_HEAD, below(&g, DF_RING_SIZE + 8));
			break;
		}
	}
	emit1(&g, DF_OP_WAIT, 20000);
}

void df_fill(uint8_t *buf, size_t len, uint64_t fill)
{
	uint64_t rng = fill;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = df_rand(&rng);

		memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
	}
	for (size_t blk = 0; blk + 64 <= len; blk += 2048) {
		if ((df_rand(&rng) & 3) == 0)
			continue; /* a block of pure noise */
		memset(buf + blk, 0, 12);        /* virtio_net_hdr: no offloads */
		memset(buf + blk + 12, 0xff, 6); /* broadcast destination */
	}
}

/* ------------------------------------------------------------------------ */
/* Text                                                                      */

struct out {
	char *buf;
	size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->used < o->len ? o->buf + o->used : NULL,
		      o->used < o->len ? o->len - o->used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n;
}

static void put_val(struct out *o, struct df_val v)
{
	if (v.base == DF_ABS)
		put(o, " 0x%" PRIx64, (uint64_t)v.off);
	else if (v.off < 0)
		put(o, " %s-0x%" PRIx64, base_names[v.base],
		    -(uint64_t)v.off);
	else
		put(o, " %s+0x%" PRIx64, base_names[v.base], (uint64_t)v.off);
}

size_t df_format(const struct df_case *c, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	put(&o, "%s\nkind %s\nmode %s\nseed %" PRIu64 "\ncase %" PRIu64
		"\nring %u\nfill 0x%" PRIx64 "\nsetup 0x%" PRIx32 "\n",
	    DF_FILE_MAGIC, df_kind_name(c->kind), df_mode_name(c->mode),
	    c->seed, c->number, DF_RING_SIZE, c->fill, c->setup);
	for (unsigned i = 0; i < c->n_ops; i++) {
		const struct df_op *op = &c->ops[i];

		put(&o, "%s", op_names[op->kind]);
		switch (op->kind) {
		case DF_OP_DESC:
			put(&o, " %u", op->slot);
			put_val(&o, op->a);
			put_val(&o, op->b);
			break;
		case DF_OP_AVAIL:
			put(&o, " %u", op->slot);
			put_val(&o, op->a);
			break;
		case DF_OP_RESET:
			break;
		case DF_OP_INJECT:
			put_val(&o, op->a);
			put_val(&o, op->b);
			break;
		default:
			put_val(&o, op->a);
		}
		put(&o, "\n");
	}
	put(&o, "end\n");
	return o.used;
}

struct parser {
	const char *why_prefix;
	char *why;
	size_t why_len;
	unsigned line;
};

__attribute__((format(printf, 2, 3))) static int bad(struct parser *p,
						     const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->why, p->why_len, "line %u: %s", p->line, msg);
	errno = EINVAL;
	return -1;
}

/* A whole word as an unsigned number (decimal or 0x hex). */
static int parse_u64(const char *w, uint64_t *v)
{
	char *end;

	if (w == NULL || !(w[0] >= '0' && w[0] <= '9'))
		return -1;
	errno = 0;
	*v = strtoull(w, &end, 0);
	return *end || errno ? -1 : 0;
}

static int parse_val(struct parser *p, const char *w, struct df_val *v)
{
	uint64_t n;
	const char *sign;
	int base;

	if (w == NULL)
		return bad(p, "missing value");
	if (parse_u64(w, &n) == 0) {
		*v = abs_val(n);
		return 0;
	}
	sign = strpbrk(w, "+-");
	if (sign == NULL)
		return bad(p, "'%s' is not a number or BASE+OFFSET", w);
	{
		char name[16];
		size_t nl = (size_t)(sign - w);

		if (nl >= sizeof(name))
			return bad(p, "unknown address base in '%s'", w);
		memcpy(name, w, nl);
		name[nl] = '\0';
		base = lookup(base_names, DF_N_BASES, name);
	}
	if (base < 0)
		return bad(p, "unknown address base in '%s' (buf, bufend, ring, "
			   "pool, poolend, other, otherend)", w);
	if (parse_u64(sign + 1, &n) < 0 || n > INT64_MAX)
		return bad(p, "bad offset in '%s'", w);
	*v = val((unsigned)base, *sign == '-' ? -(int64_t)n : (int64_t)n);
	return 0;
}

/* Check an ABS value against [min, max]. */
static int check_abs(struct parser *p, const char *what, struct df_val v,
		     uint64_t min, uint64_t max)
{
	if (v.base != DF_ABS)
		return bad(p, "%s takes a number, not an address", what);
	if ((uint64_t)v.off < min || (uint64_t)v.off > max)
		return bad(p, "%s 0x%" PRIx64 " is out of range (%" PRIu64
			   "..%" PRIu64 ")", what, (uint64_t)v.off, min, max);
	return 0;
}

#define MAX_WORDS 5

static int parse_op(struct parser *p, struct df_case *c, char **w, int n)
{
	struct df_op op = { 0 };
	bool virtio = c->kind != DF_IGB, packed = c->kind == DF_VIRTIO_PACKED;
	int kind = lookup(op_names, DF_N_OPS, w[0]);
	uint64_t slot;
	int want;

	if (kind < 0)
		return bad(p, "unknown operation '%s'", w[0]);
	if (c->n_ops == DF_MAX_OPS)
		return bad(p, "more than %u operations", DF_MAX_OPS);
	op.kind = (uint8_t)kind;
	switch (kind) {
	case DF_OP_DESC: want = 4; break;
	case DF_OP_AVAIL: case DF_OP_INJECT: want = 3; break;
	case DF_OP_RESET: want = 1; break;
	default: want = 2;
	}
	if (n != want)
		return bad(p, "'%s' takes %d values, got %d", w[0], want - 1, n - 1);
	if ((kind == DF_OP_AVAIL || kind == DF_OP_FLAGS || kind == DF_OP_STATUS) && !virtio)
		return bad(p, "'%s' is for virtio cases only", w[0]);
	if (kind == DF_OP_HEAD && virtio)
		return bad(p, "'head' is for igb cases only");
	if ((kind == DF_OP_AVAIL || kind == DF_OP_PUBLISH) && packed)
		return bad(p, "'%s' is for split rings (a packed ring has no "
			   "index: its descriptors' flags make them available)", w[0]);
	if (kind == DF_OP_DESC || kind == DF_OP_AVAIL) {
		uint64_t max = kind == DF_OP_DESC ? DF_RING_SIZE - 1 : 0xffff;

		if (parse_u64(w[1], &slot) < 0 || slot > max)
			return bad(p, "'%s' slot '%s' is not a number 0..%" PRIu64,
				   w[0], w[1], max);
		op.slot = (uint16_t)slot;
		w++;
		n--;
	}
	if (n > 1 && parse_val(p, w[1], &op.a) < 0)
		return -1;
	if (n > 2 && parse_val(p, w[2], &op.b) < 0)
		return -1;
	switch (kind) {
	case DF_OP_DESC:
		if (!virtio && c->mode == DF_RX)
			break; /* qword 1 is the header buffer address */
		if (op.b.base != DF_ABS)
			return bad(p, "desc: the second qword takes a number");
		break;
	case DF_OP_AVAIL:
		if (check_abs(p, "avail head", op.a, 0, 0xffff) < 0)
			return -1;
		break;
	case DF_OP_PUBLISH:
		if (check_abs(p, "publish", op.a, 0, virtio ? 0xffff : 0xffffffffu) < 0)
			return -1;
		break;
	case DF_OP_KICK: case DF_OP_FLAGS:
		if (check_abs(p, w[0], op.a, 0, kind == DF_OP_FLAGS && packed ?
			      0xffffffffu : 0xffff) < 0)
			return -1;
		break;
	case DF_OP_HEAD:
		if (check_abs(p, "head", op.a, 0, 0xffffffffu) < 0)
			return -1;
		break;
	case DF_OP_STATUS:
		if (check_abs(p, "status", op.a, 0, 0xff) < 0)
			return -1;
		break;
	case DF_OP_INJECT:
		if (c->mode != DF_RX)
			return bad(p, "'inject' is for rx cases only");
		if (check_abs(p, "inject count", op.a, 1, MAX_INJECT) < 0 ||
		    check_abs(p, "inject size", op.b, DF_FRAME_MIN, DF_FRAME_MAX) < 0)
			return -1;
		break;
	case DF_OP_WAIT:
		if (check_abs(p, "wait", op.a, 0, MAX_WAIT_US) < 0)
			return -1;
		break;
	}
	c->ops[c->n_ops++] = op;
	return 0;
}

/* The header keywords, in order, after the magic line. */
enum { H_KIND, H_MODE, H_SEED, H_CASE, H_RING, H_FILL, H_SETUP, H_OPS };
static const char *const header_words[] = {
	"kind", "mode", "seed", "case", "ring", "fill", "setup",
};

static int parse_header(struct parser *p, struct df_case *c, unsigned h,
			char **w, int n)
{
	uint64_t v = 0;
	int e;

	if (strcmp(w[0], header_words[h]) != 0)
		return bad(p, "expected '%s', got '%s'", header_words[h], w[0]);
	if (n != 2)
		return bad(p, "'%s' takes one value", w[0]);
	switch (h) {
	case H_KIND:
		if ((e = df_kind_parse(w[1])) < 0)
			return bad(p, "unknown kind '%s' (virtio-split, "
				   "virtio-packed, igb)", w[1]);
		c->kind = (uint8_t)e;
		return 0;
	case H_MODE:
		if ((e = df_mode_parse(w[1])) < 0)
			return bad(p, "unknown mode '%s' (tx, rx)", w[1]);
		c->mode = (uint8_t)e;
		return 0;
	}
	if (parse_u64(w[1], &v) < 0)
		return bad(p, "'%s': '%s' is not a number", w[0], w[1]);
	switch (h) {
	case H_SEED: c->seed = v; break;
	case H_CASE: c->number = v; break;
	case H_RING:
		if (v != DF_RING_SIZE)
			return bad(p, "ring %" PRIu64 ": this nicbox-devfuzz runs "
				   "rings of %u", v, DF_RING_SIZE);
		break;
	case H_FILL: c->fill = v; break;
	case H_SETUP:
		if (v > 0xffffffffu || (v && !(c->kind == DF_IGB && c->mode == DF_RX)))
			return bad(p, "setup 0x%" PRIx64 " is out of range (igb rx: "
				   "32 bits; else 0)", v);
		c->setup = (uint32_t)v;
		break;
	}
	return 0;
}

/* Split a line (copied into `line`) into at most MAX_WORDS words. */
static int split(char *line, char **w)
{
	int n = 0;

	for (char *t = strtok(line, " \t\r"); t; t = strtok(NULL, " \t\r")) {
		if (n == MAX_WORDS)
			return -1;
		w[n++] = t;
	}
	return n;
}

int df_parse(const char *text, size_t *pos, unsigned *line,
	     struct df_case *c, char *why, size_t why_len)
{
	struct parser p = { .why = why, .why_len = why_len, .line = *line };
	unsigned header = 0;
	bool started = false;
	const char *s = text + *pos;

	memset(c, 0, sizeof(*c));
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char buf[256], *w[MAX_WORDS];
		int n;

		p.line++;
		if (len >= sizeof(buf))
			return bad(&p, "line longer than %zu bytes", sizeof(buf) - 1);
		memcpy(buf, s, len);
		buf[len] = '\0';
		s += len + (nl ? 1 : 0);
		if (memchr(buf, '\0', len))
			return bad(&p, "NUL byte");
		if (buf[0] == '#')
			continue;
		n = split(buf, w);
		if (n < 0)
			return bad(&p, "too many words");
		if (n == 0)
			continue;
		if (!started) {
			if (n != 2 || strcmp(w[0], "nicbox-devfuzz-case") != 0 ||
			    strcmp(w[1], "1") != 0)
				return bad(&p, "not a nicbox-devfuzz case file "
					   "(expected '%s')", DF_FILE_MAGIC);
			started = true;
			continue;
		}
		if (header < H_OPS) {
			if (parse_header(&p, c, header++, w, n) < 0)
				return -1;
			continue;
		}
		if (strcmp(w[0], "end") == 0 && n == 1) {
			*pos = (size_t)(s - text);
			*line = p.line;
			return 1;
		}
		if (parse_op(&p, c, w, n) < 0)
			return -1;
	}
	if (started)
		return bad(&p, "the case ends without 'end'");
	*pos = (size_t)(s - text);
	*line = p.line;
	return 0;
}
