/* SPDX-License-Identifier: MIT */
/*
 * port.c - nb_dev_info, and nb_ports_open: claims, one DMA pool sized from
 * the ring sizes and buffer counts, mempools and devices in one call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nb_internal.h"

#define DEFAULT_RX_BUFS 4096u
#define DEFAULT_BUF_SIZE 2048u
#define POOL_ROUND (2u << 20) /* the helper's default page size */

struct nb_ports {
	unsigned n;
	struct nb_pool *pool;
	struct nb_dev *dev[NB_MAX_DEVICES];
	struct nb_mempool *rx_mp[NB_MAX_DEVICES][NB_MAX_QUEUES], *tx_mp;
	struct nb_ports_timing timing;
};

NB_API int nb_dev_info(struct nb_dev *dev, struct nb_dev_info *out)
{
	if (dev == NULL || out == NULL)
		return nb_fail(EINVAL, "device info: NULL argument");
	*out = (struct nb_dev_info){
		.driver = nb_dev_driver(dev), .pci = nb_dev_name(dev),
		.rx_queues = dev->rx_queues, .tx_queues = dev->tx_queues,
		.max_rx_queues = dev->max_queues, .max_tx_queues = dev->max_queues,
		.rx_ring_size = dev->rx_ring_size, .tx_ring_size = dev->tx_ring_size,
	};
	return nb_dev_mac(dev, out->mac) < 0 || nb_dev_link(dev, &out->link) < 0 ? -1 : 0;
}

/* The failure just seen, its reason prefixed with what was being done. */
__attribute__((format(printf, 1, 2))) static int failed(const char *fmt, ...)
{
	char what[128], why[NB_ERROR_LEN];
	int err = errno;
	va_list ap;

	snprintf(why, sizeof(why), "%s", nb_last_error());
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return nb_fail(err, "%s: %s", what, why);
}

static uint32_t or_default(uint32_t v, uint32_t dflt)
{
	return v ? v : dflt;
}

/* Bytes one mempool of `count` buffers carves (nb_mempool_create). */
static size_t mempool_bytes(uint32_t count, uint32_t buf_size)
{
	return (size_t)count * (NB_PKT_HEADROOM + NB_ALIGN_UP(buf_size, NB_CACHE_LINE)) +
	       NB_CACHE_LINE;
}

static size_t ring_bytes(uint16_t size)
{
	return (size_t)or_default(size, NB_RING_DEFAULT_MAX) * NB_DESC_DMA_MAX + NB_RING_DMA_EXTRA;
}

size_t nb_ports_dma_need(unsigned n, const struct nb_port_conf *conf)
{
	static const struct nb_port_conf defaults;
	const struct nb_port_conf *c = conf ? conf : &defaults;
	uint32_t buf = or_default(c->buf_size, DEFAULT_BUF_SIZE);
	size_t queues = or_default(c->queues, 1);
	size_t per_port = queues * (ring_bytes(c->rx_ring_size) + ring_bytes(c->tx_ring_size) +
				    mempool_bytes(or_default(c->rx_bufs, DEFAULT_RX_BUFS), buf)) +
			  NB_DEV_DMA_EXTRA;
	size_t bytes = n * per_port + (c->tx_bufs ? mempool_bytes(c->tx_bufs, buf) : 0);

	return bytes;
}

NB_API size_t nb_ports_dma_bytes(unsigned n, const struct nb_port_conf *conf)
{
	return NB_ALIGN_UP(nb_ports_dma_need(n, conf), (size_t)POOL_ROUND);
}

NB_API int nb_ports_open(struct nb_session *s, const char *const *devices, unsigned n,
			 const struct nb_port_conf *conf, struct nb_ports **out,
			 char *warning, size_t warning_len)
{
	static const struct nb_port_conf defaults;
	const struct nb_port_conf *c = conf ? conf : &defaults;
	uint32_t buf = or_default(c->buf_size, DEFAULT_BUF_SIZE);
	struct nb_ports *p;
	int index[NB_MAX_DEVICES];
	uint64_t t;

	if (s == NULL || devices == NULL || out == NULL || n == 0 || n > NB_MAX_DEVICES)
		return nb_fail(EINVAL, "ports: a session, 1 to %d devices and a result pointer",
			       NB_MAX_DEVICES);
	if (c->queues > NB_MAX_QUEUES)
		return nb_fail(EINVAL, "ports: %u queue pairs asked, at most %u (NB_MAX_QUEUES)",
			       c->queues, NB_MAX_QUEUES);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return nb_fail(ENOMEM, "ports: out of memory");
	t = nb_now_ns();
	for (unsigned i = 0; i < n; i++)
		if ((index[i] = nb_session_claim(s, devices[i])) < 0 &&
		    failed("cannot claim %s", devices[i]))
			goto fail;
	p->timing.claim_ns = nb_now_ns() - t;
	t += p->timing.claim_ns;
	if (nb_session_pool(s, nb_ports_dma_bytes(n, c), NB_PAGE_DEFAULT, &p->pool, warning,
			    warning_len) < 0) {
		failed("cannot get a %zu MiB DMA pool", nb_ports_dma_bytes(n, c) >> 20);
		goto fail;
	}
	p->timing.pool_ns = nb_now_ns() - t;
	t += p->timing.pool_ns;
	if (nb_session_ready(s) < 0 && failed("the helper did not hand over the devices"))
		goto fail;
	p->timing.ready_ns = nb_now_ns() - t;
	t += p->timing.ready_ns;
	if (c->tx_bufs && nb_mempool_create(p->pool, c->tx_bufs, buf, &p->tx_mp) < 0 &&
	    failed("cannot create the transmit mempool"))
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		uint16_t queues = (uint16_t)or_default(c->queues, 1);
		struct nb_dev_conf dc = { .rx_queues = queues, .tx_queues = queues,
					  .rx_ring_size = c->rx_ring_size,
					  .tx_ring_size = c->tx_ring_size, .promisc = c->promisc,
					  .link_wait_ms = c->link_wait_ms, .rx_mode = c->rx_mode,
					  .rss_key = c->rss_key, .rss_types = c->rss_types };

		for (uint16_t q = 0; q < queues; q++)
			if (nb_mempool_create(p->pool, or_default(c->rx_bufs, DEFAULT_RX_BUFS),
					      buf, &p->rx_mp[i][q]) < 0) {
				failed("cannot create receive mempool %u for %s", q,
				       devices[i]);
				goto fail;
			}
		/* One queue: the single-mempool form; more: one per queue. */
		if (queues == 1)
			dc.rx_mempool = p->rx_mp[i][0];
		else
			dc.rx_mempools = p->rx_mp[i];
		if (nb_dev_open(s, index[i], p->pool, &dc, &p->dev[i]) < 0) {
			failed("cannot open %s", devices[i]);
			goto fail;
		}
		p->n = i + 1;
	}
	p->timing.open_ns = nb_now_ns() - t;
	*out = p;
	return 0;
fail: {
	int err = errno;

	nb_ports_close(p); /* keeps nb_last_error() */
	errno = err;
	return -1;
}
}

NB_API struct nb_dev *nb_ports_dev(const struct nb_ports *p, unsigned i)
{
	return p && i < p->n ? p->dev[i] : NULL;
}

NB_API int nb_ports_timing(const struct nb_ports *p, struct nb_ports_timing *out)
{
	if (p == NULL || out == NULL)
		return nb_fail(EINVAL, "ports timing: NULL argument");
	*out = p->timing;
	return 0;
}

NB_API struct nb_mempool *nb_ports_tx_mempool(const struct nb_ports *p)
{
	return p ? p->tx_mp : NULL;
}

NB_API void nb_ports_close(struct nb_ports *p)
{
	if (p == NULL)
		return;
	/* Every device first: one may hold another's buffers on its rings. */
	for (unsigned i = 0; i < NB_MAX_DEVICES; i++)
		nb_dev_close(p->dev[i]);
	for (unsigned i = 0; i < NB_MAX_DEVICES; i++)
		for (unsigned q = 0; q < NB_MAX_QUEUES; q++)
			if (p->rx_mp[i][q])
				nb_mempool_destroy(p->rx_mp[i][q]);
	if (p->tx_mp)
		nb_mempool_destroy(p->tx_mp);
	if (p->pool)
		nb_pool_destroy(p->pool);
	free(p);
}
