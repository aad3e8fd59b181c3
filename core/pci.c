/* SPDX-License-Identifier: MIT */
/*
 * pci.c - config space helpers on top of any struct nb_pci_ops backend
 * (VFIO for real devices, the register model in tests).
 */
#include <endian.h>
#include <errno.h>

#include "nb_internal.h"

/* PCI Local Bus Spec 3.0, 6.2.2: Command register at 0x04. */
#define NB_PCI_CFG_COMMAND 0x04
#define NB_PCI_CMD_MEMORY (1u << 1)     /* Memory Space Enable */
#define NB_PCI_CMD_BUS_MASTER (1u << 2) /* Bus Master Enable: may start DMA */

/* Config registers are naturally aligned; anything else is a caller bug. */
static int cfg_read_aligned(struct nb_pci *pci, unsigned off, void *buf,
			    size_t width)
{
	if (off % width != 0)
		return nb_fail(EINVAL, "%s: unaligned %zu-byte config read at 0x%x",
			       pci->name, width, off);
	return pci->ops->cfg_read(pci, off, buf, width);
}

int nb_pci_cfg_read8(struct nb_pci *pci, unsigned off, uint8_t *v)
{
	return cfg_read_aligned(pci, off, v, sizeof(*v));
}

/* Config space is little-endian (PCI Local Bus Spec 3.0, 6.1). */
int nb_pci_cfg_read16(struct nb_pci *pci, unsigned off, uint16_t *v)
{
	uint16_t raw;

	if (cfg_read_aligned(pci, off, &raw, sizeof(raw)) < 0)
		return -1;
	*v = le16toh(raw);
	return 0;
}

int nb_pci_cfg_read32(struct nb_pci *pci, unsigned off, uint32_t *v)
{
	uint32_t raw;

	if (cfg_read_aligned(pci, off, &raw, sizeof(raw)) < 0)
		return -1;
	*v = le32toh(raw);
	return 0;
}

int nb_pci_cfg_write16(struct nb_pci *pci, unsigned off, uint16_t v)
{
	uint16_t raw = htole16(v);

	if (off % sizeof(raw) != 0)
		return nb_fail(EINVAL, "%s: unaligned 16-bit config write at 0x%x",
			       pci->name, off);
	return pci->ops->cfg_write(pci, off, &raw, sizeof(raw));
}

/* Read-modify-write of the command register. */
static int update_command(struct nb_pci *pci, uint16_t set, uint16_t clear)
{
	uint16_t cmd;

	if (nb_pci_cfg_read16(pci, NB_PCI_CFG_COMMAND, &cmd) < 0)
		return -1;
	cmd = (uint16_t)((cmd | set) & ~clear);
	return nb_pci_cfg_write16(pci, NB_PCI_CFG_COMMAND, cmd);
}

int nb_pci_enable_dma(struct nb_pci *pci)
{
	return update_command(pci, NB_PCI_CMD_MEMORY | NB_PCI_CMD_BUS_MASTER, 0);
}

int nb_pci_disable_dma(struct nb_pci *pci)
{
	return update_command(pci, 0, NB_PCI_CMD_BUS_MASTER);
}
