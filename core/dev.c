/* SPDX-License-Identifier: MIT */
/*
 * dev.c - the driver table and the device-level calls every driver shares.
 */
#include <errno.h>
#include <stdio.h>

#include "nb_internal.h"

/* Tried in order; the first whose match() accepts the ids opens the device. */
static const struct nb_driver *const drivers[] = {
	&nb_driver_virtio,
	&nb_driver_ixgbe,
	&nb_driver_igb,
};

int nb_dev_open_pci(struct nb_pci *pci, struct nb_pool *dma,
		    const struct nb_dev_conf *conf, struct nb_dev **out)
{
	if (pci == NULL || dma == NULL || conf == NULL || out == NULL)
		return nb_fail(EINVAL, "device open: NULL argument");
	for (size_t i = 0; i < NB_ARRAY_SIZE(drivers); i++)
		if (drivers[i]->match(pci->vendor_id, pci->device_id))
			return drivers[i]->open(pci, dma, conf, out);
	return nb_fail(ENODEV, "no nicbox driver for %04x:%04x at %s",
		       pci->vendor_id, pci->device_id, pci->name);
}

int nb_conf_rx_mempools(const char *drv, const char *dev,
			const struct nb_dev_conf *conf, uint16_t n_rxq,
			uint32_t min_buf, const char *why,
			struct nb_mempool **out)
{
	if (conf->rx_mempools != NULL && conf->rx_mempool != NULL)
		return nb_fail(EINVAL, "%s %s: set conf.rx_mempool or conf.rx_mempools, not both",
			       drv, dev);
	if (conf->rx_mempools == NULL && (conf->rx_mempool == NULL || n_rxq > 1))
		return nb_fail(EINVAL, n_rxq > 1 ?
			       "%s %s: %u rx queues need conf.rx_mempools, one mempool each" :
			       "%s %s: conf.rx_mempool is required",
			       drv, dev, n_rxq);
	for (uint16_t q = 0; q < n_rxq; q++) {
		struct nb_mempool *mp = conf->rx_mempools ? conf->rx_mempools[q] : conf->rx_mempool;
		uint32_t buf_size;

		if (mp == NULL)
			return nb_fail(EINVAL, "%s %s: conf.rx_mempools[%u] is NULL",
				       drv, dev, q);
		for (uint16_t p = 0; p < q; p++)
			if (out[p] == mp)
				return nb_fail(EINVAL,
					       "%s %s: rx queues %u and %u share a mempool; each queue needs its own (a mempool is single-threaded)",
					       drv, dev, p, q);
		buf_size = nb_mempool_buf_size(mp);
		if (buf_size < min_buf)
			return nb_fail(EINVAL,
				       "%s %s: rx buffers of %u bytes are too small: %u needed (%s); create the mempool with a larger buffer size",
				       drv, dev, buf_size, min_buf, why);
		out[q] = mp;
	}
	return 0;
}

void nb_dev_set_fault(struct nb_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->fault, sizeof(dev->fault), fmt, ap);
	va_end(ap);
}

NB_API const char *nb_dev_fault(const struct nb_dev *dev)
{
	return dev->fault[0] != '\0' ? dev->fault : NULL;
}

NB_API const char *nb_dev_driver(const struct nb_dev *dev)
{
	return dev->head.ops->driver;
}

NB_API const char *nb_dev_name(const struct nb_dev *dev)
{
	return dev->pci->name;
}

/* A driver may leave out the optional calls; say so instead of crashing. */
static int unsupported(const struct nb_dev *dev, const char *what)
{
	return nb_fail(ENOTSUP, "%s (%s): the driver does not support %s",
		       dev->pci->name, dev->head.ops->driver, what);
}

NB_API int nb_dev_stats(struct nb_dev *dev, struct nb_stats *out)
{
	if (out == NULL)
		return nb_fail(EINVAL, "device stats: NULL result pointer");
	if (dev->head.ops->read_stats == NULL)
		return unsupported(dev, "statistics");
	return dev->head.ops->read_stats(dev, out);
}

NB_API int nb_dev_link(struct nb_dev *dev, struct nb_link *out)
{
	if (out == NULL)
		return nb_fail(EINVAL, "device link: NULL result pointer");
	if (dev->head.ops->link == NULL)
		return unsupported(dev, "link status");
	return dev->head.ops->link(dev, out);
}

NB_API int nb_dev_mac(struct nb_dev *dev, uint8_t mac[6])
{
	if (mac == NULL)
		return nb_fail(EINVAL, "device MAC: NULL result pointer");
	if (dev->head.ops->mac == NULL)
		return unsupported(dev, "reading the MAC address");
	return dev->head.ops->mac(dev, mac);
}

NB_API int nb_dev_set_promisc(struct nb_dev *dev, bool on)
{
	if (dev->head.ops->set_promisc == NULL)
		return unsupported(dev, "promiscuous mode");
	return dev->head.ops->set_promisc(dev, on);
}

NB_API void nb_dev_close(struct nb_dev *dev)
{
	struct nb_pci *pci;

	if (dev == NULL)
		return;
	pci = dev->pci;
	dev->head.ops->close(dev);
	/*
	 * Belt and braces after the driver's own stop: with Bus Master
	 * Enable clear the device cannot start DMA into memory we reuse.
	 * A failure changes nothing here: closing the VFIO fd also stops it.
	 */
	nb_pci_disable_dma(pci);
	pci->ops->close(pci);
}
