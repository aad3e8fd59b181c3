/* SPDX-License-Identifier: MIT */
/* virtio_ctrl.c - virtio-net control virtqueue commands (virtio 1.2, 5.1.6.5). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "nb_mmio.h"
#include "virtio_ctrl.h"

#define VNET_CTRL_HDR 2 /* class, command */

_Static_assert(VNET_CTRL_HDR + VNET_CTRL_MAX_DATA <= VNET_CTRL_ACK_OFF &&
		       VNET_CTRL_ACK_OFF % 64 == 0 &&
		       VNET_CTRL_ACK_OFF < VNET_CTRL_BUF_LEN,
	       "command and ack do not overlap");
/* 5.1.6.5.7.1: 4 + 2 + 2 + 2 * table + 2 + 1 + key bytes. */
_Static_assert(11 + 2 * NB_RSS_RETA_SIZE + NB_RSS_KEY_LEN <= VNET_CTRL_MAX_DATA,
	       "an RSS configuration fits one command");

int vnet_ctrl_init(struct vnet_ctrl *c, struct nb_pool *dma, const char *name)
{
	void *va;

	c->name = name;
	if (c->wait_ms == 0)
		c->wait_ms = VNET_CTRL_DEFAULT_WAIT_MS;
	if (nb_pool_carve(dma, VNET_CTRL_BUF_LEN, 64, &va, &c->iova) < 0)
		return -1;
	c->buf = va;
	return 0;
}

/*
 * Take the device's answer to the one outstanding command, if it came:
 * 1 taken, 0 not yet, -1 the used entry broke the ring protocol.
 */
static int take_answer(struct vnet_ctrl *c)
{
	void *token;
	uint32_t len;

	/* vq_reap checks the id and 1 <= len <= the chain's bytes. */
	if (vq_reap(&c->vq, &token, &len, 1, 1) == 1) {
		/* 2.7.8: len is what the device wrote: only the ack byte. */
		if (len != 1)
			return nb_fail(EIO, "%s: control queue: the device "
				       "says it wrote %u bytes, the ack is 1 "
				       "(virtio 1.2, 2.7.8)", c->name, len);
		return 1;
	}
	if (c->vq.broken)
		return nb_fail(EIO, "%s: control queue stopped by a device "
			       "fault (nb_dev_fault says which)", c->name);
	return 0;
}

static int wait_answer(struct vnet_ctrl *c)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 };
	int got;

	for (uint32_t i = 0; i < c->wait_ms * 10; i++) {
		got = take_answer(c);
		if (got != 0)
			return got < 0 ? -1 : 0;
		nanosleep(&tick, NULL);
	}
	return nb_fail(ETIMEDOUT, "%s: no answer on the control queue after "
		       "%u ms", c->name, c->wait_ms);
}

int vnet_ctrl_cmd(struct vnet_ctrl *c, uint8_t class, uint8_t command,
		  const void *data, uint16_t len)
{
	const struct vq_seg segs[2] = {
		{ .iova = c->iova, .len = VNET_CTRL_HDR + len },
		{ .iova = c->iova + VNET_CTRL_ACK_OFF, .len = 1,
		  .device_writes = true },
	};
	uint8_t ack;

	if (len > VNET_CTRL_MAX_DATA)
		return nb_fail(EINVAL, "%s: control command of %u bytes "
			       "(at most %u)", c->name, len,
			       VNET_CTRL_MAX_DATA);
	/*
	 * A command that timed out earlier still owns the buffer until the
	 * device gives it back; it may have done so by now.
	 */
	if (c->vq.in_flight != 0) {
		int got = take_answer(c);

		if (got < 0)
			return -1;
		if (got == 0)
			return nb_fail(EBUSY, "%s: an earlier control command "
				       "is still pending", c->name);
	}
	if (c->vq.broken)
		return nb_fail(EIO, "%s: control queue stopped by a device "
			       "fault (nb_dev_fault says which)", c->name);
	c->buf[0] = class;
	c->buf[1] = command;
	if (len)
		memcpy(c->buf + VNET_CTRL_HDR, data, len);
	c->buf[VNET_CTRL_ACK_OFF] = (uint8_t)~VIRTIO_NET_OK;
	/* 2.7.4.2: the device-readable part first, the writable ack last. */
	if (vq_post_chain(&c->vq, c->buf, segs, 2) < 0)
		return -1;
	vq_publish(&c->vq);
	if (wait_answer(c) < 0)
		return -1;
	ack = nb_reg_read8(c->buf, VNET_CTRL_ACK_OFF); /* read once */
	if (ack != VIRTIO_NET_OK)
		return nb_fail(EIO, "%s: device refused control command "
			       "class %u command %u (ack %u)", c->name, class,
			       command, ack);
	return 0;
}

static uint8_t *put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint8_t *put_le32(uint8_t *p, uint32_t v)
{
	return put_le16(put_le16(p, (uint16_t)v), (uint16_t)(v >> 16));
}

static uint8_t *put_key(uint8_t *p, const struct vnet_rss *rss)
{
	*p++ = rss->key_len;
	memcpy(p, rss->key, rss->key_len);
	return p + rss->key_len;
}

uint16_t vnet_rss_encode(const struct vnet_rss *rss, uint8_t *out)
{
	uint8_t *p = put_le32(out, rss->hash_types);

	/* indirection_table_mask: entries - 1, entries a power of two. */
	p = put_le16(p, (uint16_t)(rss->table_len - 1));
	p = put_le16(p, rss->unclassified);
	for (uint16_t i = 0; i < rss->table_len; i++)
		p = put_le16(p, rss->table[i]);
	p = put_le16(p, rss->max_tx_vq);
	return (uint16_t)(put_key(p, rss) - out);
}

uint16_t vnet_hash_config_encode(const struct vnet_rss *rss, uint8_t *out)
{
	uint8_t *p = put_le32(out, rss->hash_types);

	memset(p, 0, 8); /* le16 reserved[4]: zeroes (5.1.6.5.6.4) */
	return (uint16_t)(put_key(p + 8, rss) - out);
}
