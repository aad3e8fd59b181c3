/* SPDX-License-Identifier: MIT */
/*
 * test_virtio_ctrl.c - the virtio-net control queue (virtio_ctrl.c) against
 * a software device (softdev.h) that answers inside the driver's kick:
 * how commands are laid out in descriptors, the byte encoding of
 * VIRTIO_NET_CTRL_MQ_RSS_CONFIG and _HASH_CONFIG (5.1.6.5.6.4, 5.1.6.5.7.1),
 * and every way the device can answer badly: refuse, garbage ack, a used
 * length that is not the ack byte, an id never posted, no answer, a late
 * answer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softdev.h"
#include "../../drivers/virtio/virtio_ctrl.h"

#define POOL_BYTES (1u << 20)
#define FAKE_IOVA 0x80000000ull
#define CTRL_INDEX 8 /* 2 * max_virtqueue_pairs of a 4-pair device */

enum answer {
	ANSWER_OK,      /* ack VIRTIO_NET_OK, used len 1 */
	ANSWER_ERR,     /* ack VIRTIO_NET_ERR (1) */
	ANSWER_GARBAGE, /* ack 0x5a */
	ANSWER_LONG,    /* ack OK, but used len = the whole chain */
	ANSWER_BAD_ID,  /* used id never posted */
	ANSWER_NONE,    /* never answers */
};

struct fixture {
	struct nb_pool *dma;
	struct vnet_ctrl c;
	struct softdev dev;
	enum answer answer;
	/* What the device saw of the last command. */
	unsigned n_segs;
	struct softdev_seg segs[4];
	uint8_t cmd[VNET_CTRL_BUF_LEN];
	uint16_t head;
};

/* The device's side: read the chain, maybe answer (runs in the kick). */
static void ctrl_device(struct softdev *d)
{
	struct fixture *f = d->priv;
	uint16_t head;

	while (softdev_pop(d, &head)) {
		f->head = head;
		f->n_segs = softdev_chain(d, head, f->segs, 4);
		assert_non_null(f->segs[0].buf);
		memcpy(f->cmd, f->segs[0].buf, f->segs[0].len);
		if (f->answer == ANSWER_NONE)
			continue;
		assert_true(f->n_segs == 2 && f->segs[1].writable);
		f->segs[1].buf[0] = f->answer == ANSWER_ERR       ? 1
				    : f->answer == ANSWER_GARBAGE ? 0x5a
								  : 0;
		softdev_used(d, f->answer == ANSWER_BAD_ID ? head ^ 1 : head,
			     f->answer == ANSWER_LONG
				     ? f->segs[0].len + f->segs[1].len
				     : 1);
		softdev_publish(d);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(nb_pool_create_unmapped(POOL_BYTES, FAKE_IOVA, &f->dma), 0);
	assert_int_equal(vq_init(&f->c.vq, f->dma, CTRL_INDEX, 16, 0, softdev_kick,
				 softdev_fault, &f->dev), 0);
	f->c.wait_ms = 20; /* the no-answer tests wait this long */
	assert_int_equal(vnet_ctrl_init(&f->c, f->dma, "0000:00:0e.0"), 0);
	softdev_attach(&f->dev, &f->c.vq, f->dma);
	f->dev.on_kick = ctrl_device;
	f->dev.priv = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vq_fini(&f->c.vq, NULL, NULL);
	nb_pool_destroy(f->dma);
	free(f);
	return 0;
}

static int send_pairs(struct fixture *f, uint16_t pairs)
{
	const uint8_t data[2] = { (uint8_t)pairs, (uint8_t)(pairs >> 8) };

	return vnet_ctrl_cmd(&f->c, VIRTIO_NET_CTRL_MQ,
			     VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, data, 2);
}

static void assert_error(int rc, int err, const char *text)
{
	assert_int_equal(rc, -1);
	assert_int_equal(errno, err);
	if (strstr(nb_last_error(), text) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", nb_last_error(), text);
}

/* 5.1.6.5: {class, command, data} readable, then the ack alone, writable. */
static void test_command_layout(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_pairs(f, 0x0102), 0);
	assert_int_equal(f->n_segs, 2);
	assert_false(f->segs[0].writable);
	assert_int_equal(f->segs[0].len, 4);
	assert_int_equal(f->cmd[0], VIRTIO_NET_CTRL_MQ);
	assert_int_equal(f->cmd[1], VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
	assert_int_equal(f->cmd[2], 0x02); /* le16 virtqueue_pairs */
	assert_int_equal(f->cmd[3], 0x01);
	assert_true(f->segs[1].writable);
	assert_int_equal(f->segs[1].len, 1);
	/* One kick per command; the buffer is ours again: a second works. */
	assert_int_equal(f->dev.kicks, 1);
	assert_int_equal(send_pairs(f, 2), 0);
	assert_int_equal(f->dev.kicks, 2);
	assert_int_equal(f->dev.faults, 0);
}

static void fill_rss(struct vnet_rss *rss, uint16_t queues)
{
	*rss = (struct vnet_rss){ .hash_types = 0x3f, .table_len = 128,
				  .unclassified = 0, .max_tx_vq = queues,
				  .key_len = NB_RSS_KEY_LEN };
	for (uint16_t i = 0; i < 128; i++)
		rss->table[i] = i % queues;
	memcpy(rss->key, nb_rss_default_key(), NB_RSS_KEY_LEN);
}

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* 5.1.6.5.7.1 struct virtio_net_rss_config, field by field. */
static void test_rss_config_encoding(void **state)
{
	struct fixture *f = *state;
	uint8_t out[VNET_CTRL_MAX_DATA];
	struct vnet_rss rss;
	uint16_t len;
	const uint8_t *tail;

	fill_rss(&rss, 3);
	rss.hash_types = 0x12345678; /* byte order shows */
	rss.unclassified = 0x0201;
	len = vnet_rss_encode(&rss, out);
	assert_int_equal(len, 4 + 2 + 2 + 2 * 128 + 2 + 1 + 40);
	assert_int_equal(out[0], 0x78);
	assert_int_equal(out[3], 0x12);
	assert_int_equal(le16_at(out + 4), 127); /* indirection_table_mask */
	assert_int_equal(le16_at(out + 6), 0x0201); /* unclassified_queue */
	for (unsigned i = 0; i < 128; i++)
		assert_int_equal(le16_at(out + 8 + 2 * i), i % 3);
	tail = out + 8 + 2 * 128;
	assert_int_equal(le16_at(tail), 3); /* max_tx_vq */
	assert_int_equal(tail[2], 40);      /* hash_key_length */
	assert_memory_equal(tail + 3, nb_rss_default_key(), 40);

	/* Through the queue: the device reads exactly those bytes. */
	fill_rss(&rss, 2);
	len = vnet_rss_encode(&rss, out);
	assert_int_equal(vnet_ctrl_cmd(&f->c, VIRTIO_NET_CTRL_MQ,
				       VIRTIO_NET_CTRL_MQ_RSS_CONFIG, out, len), 0);
	assert_int_equal(f->segs[0].len, 2 + len);
	assert_int_equal(f->cmd[1], VIRTIO_NET_CTRL_MQ_RSS_CONFIG);
	assert_memory_equal(f->cmd + 2, out, len);
}

/* 5.1.6.5.6.4 struct virtio_net_hash_config: types, 8 zero bytes, key. */
static void test_hash_config_encoding(void **state)
{
	uint8_t out[VNET_CTRL_MAX_DATA];
	static const uint8_t zero[8];
	struct vnet_rss rss;

	(void)state;
	fill_rss(&rss, 1);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(vnet_hash_config_encode(&rss, out), 4 + 8 + 1 + 40);
	assert_int_equal(out[0], 0x3f);
	assert_memory_equal(out + 4, zero, 8);
	assert_int_equal(out[12], 40);
	assert_memory_equal(out + 13, nb_rss_default_key(), 40);
}

static void test_refused(void **state)
{
	struct fixture *f = *state;

	f->answer = ANSWER_ERR;
	assert_error(send_pairs(f, 2), EIO, "ack 1");
	f->answer = ANSWER_GARBAGE;
	assert_error(send_pairs(f, 2), EIO, "ack 90");
	/* A refusal is no fault: the next command goes through. */
	f->answer = ANSWER_OK;
	assert_int_equal(send_pairs(f, 2), 0);
	assert_int_equal(f->dev.faults, 0);
}

/* The device claims to have written more than the one ack byte. */
static void test_used_len_not_the_ack(void **state)
{
	struct fixture *f = *state;

	f->answer = ANSWER_LONG;
	assert_error(send_pairs(f, 2), EIO, "the ack is 1");
	/* The chain came back: the queue is usable. */
	f->answer = ANSWER_OK;
	assert_int_equal(send_pairs(f, 2), 0);
}

/* A used id that was never posted breaks the queue for good. */
static void test_bad_used_id(void **state)
{
	struct fixture *f = *state;

	f->answer = ANSWER_BAD_ID;
	assert_error(send_pairs(f, 2), EIO, "device fault");
	assert_int_equal(f->dev.faults, 1);
	assert_non_null(strstr(f->dev.fault, "was not posted"));
	f->answer = ANSWER_OK;
	assert_error(send_pairs(f, 2), EIO, "device fault");
	assert_int_equal(f->dev.kicks, 1); /* nothing posted after the fault */
}

/* No answer: bounded wait; the buffer stays the device's until it answers. */
static void test_no_answer_then_late_answer(void **state)
{
	struct fixture *f = *state;

	f->answer = ANSWER_NONE;
	assert_error(send_pairs(f, 2), ETIMEDOUT, "after 20 ms");
	/* The device still owns the buffer: nothing new is written to it. */
	f->cmd[2] = 0;
	assert_error(send_pairs(f, 3), EBUSY, "still pending");
	assert_int_equal(f->dev.kicks, 1);
	/* Now it answers the old command; the next one goes through. */
	f->segs[1].buf[0] = VIRTIO_NET_OK;
	softdev_used(&f->dev, f->head, 1);
	softdev_publish(&f->dev);
	f->answer = ANSWER_OK;
	assert_int_equal(send_pairs(f, 3), 0);
	assert_int_equal(f->cmd[2], 3);
	assert_int_equal(f->dev.faults, 0);
}

static void test_too_long(void **state)
{
	struct fixture *f = *state;
	uint8_t big[VNET_CTRL_MAX_DATA + 1] = { 0 };

	assert_error(vnet_ctrl_cmd(&f->c, VIRTIO_NET_CTRL_MQ,
				   VIRTIO_NET_CTRL_MQ_RSS_CONFIG, big,
				   sizeof(big)), EINVAL, "at most");
	assert_int_equal(f->dev.kicks, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_command_layout),
		T(test_rss_config_encoding),
		T(test_hash_config_encoding),
		T(test_refused),
		T(test_used_len_not_the_ack),
		T(test_bad_used_id),
		T(test_no_answer_then_late_answer),
		T(test_too_long),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
