/* SPDX-License-Identifier: MIT */
/*
 * ixgbe_model.c - an 82599 register model for tests (see ixgbe_model.h).
 *
 * What it emulates, in the order the driver meets it: CTRL.RST/LRST that
 * self-clear after resetting the register file (4.6.3.2), EEC.ARD and
 * RDRXCTL.DMAIDONE, AUTOC.AN_RESTART that self-clears and brings LINKS up
 * at 10 Gb/s, the RAL/RAH address loaded from "NVM", queue enables that
 * read back (they are plain memory), transmit from TDH to TDT for every
 * enabled queue, receive into queue 0 from RDH up to RDT with advanced
 * write-back, and the GPRC/GPTC/GORC/GOTC/MPC counters. It honours Bus
 * Master Enable and RXCTRL.RXEN / DMATXCTL.TE. It does not emulate
 * interrupts, filtering (everything is accepted), RSS, offloads, flow
 * control or timing.
 *
 * The model trusts the driver no more than the driver trusts it: every
 * IOVA goes through nb_pool_iova_to_va() with its full length, every head,
 * tail and ring length is checked against the ring before use.
 *
 * Concurrency: each receive ring has one writer (the thread of the model
 * that transmits into it); registers the driver writes are read with
 * __atomic loads, counters grow with __atomic adds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../drivers/intel/adv_ring.h"
#include "../../drivers/ixgbe/ixgbe_regs.h"
#include "ixgbe_model.h"

#define MODEL_BAR0_LEN 0x80000u /* 82599 BAR0: 512 KiB (9.3.6.1) */
#define MODEL_CFG_LEN 256u
#define MODEL_MAX_QUEUES 16u
#define MODEL_MAX_FRAME 16384u
#define MODEL_IDLE_SPINS 64
#define MODEL_IDLE_SLEEP_NS 20000
#define PCI_CMD_OFF 0x04
#define PCI_CMD_BUS_MASTER (1u << 2)

struct ixgbe_model {
	struct nb_pci pci;          /* first: the driver's handle is &m->pci */
	struct nb_pool *dma;
	uint32_t *bar;              /* BAR0 register file */
	uint8_t cfg[MODEL_CFG_LEN]; /* config space */
	struct ixgbe_model *peer;   /* receives what this model transmits */
	uint8_t mac_last;           /* last byte of the NVM MAC */
	pthread_t thread;
	bool thread_running;
	int stop;                   /* atomic: thread exits when set */
	int misbehaviour;           /* atomic: enum ixgbe_model_misbehaviour */
	int pci_open;               /* atomic */
	/* Device-internal state, owned by one thread each (see top). */
	uint32_t tx_head[MODEL_MAX_QUEUES]; /* this model's thread */
	uint32_t rx_head;           /* thread of the model transmitting here */
	uint64_t gorc, gotc;        /* 64-bit octet counters behind GORC/GOTC */
	uint32_t garbage;           /* what CORRUPT_HEADS writes next */
	struct ixgbe_model_counts counts;
};

static uint32_t reg_get(const struct ixgbe_model *m, uint32_t off)
{
	return __atomic_load_n(&m->bar[off / 4], __ATOMIC_ACQUIRE);
}

static void reg_set(struct ixgbe_model *m, uint32_t off, uint32_t v)
{
	__atomic_store_n(&m->bar[off / 4], v, __ATOMIC_RELEASE);
}

static void reg_add(struct ixgbe_model *m, uint32_t off, uint32_t v)
{
	__atomic_fetch_add(&m->bar[off / 4], v, __ATOMIC_RELAXED);
}

/* Model counts are bumped by two threads in a pair. */
static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static enum ixgbe_model_misbehaviour misbehaviour(const struct ixgbe_model *m)
{
	return (enum ixgbe_model_misbehaviour)__atomic_load_n(&m->misbehaviour,
							       __ATOMIC_RELAXED);
}

static bool bus_master(const struct ixgbe_model *m)
{
	uint16_t cmd;

	memcpy(&cmd, &m->cfg[PCI_CMD_OFF], sizeof(cmd));
	return (__atomic_load_n(&cmd, __ATOMIC_RELAXED) & PCI_CMD_BUS_MASTER) != 0;
}

/* Power-on / reset state of the registers the driver reads. */
static void load_defaults(struct ixgbe_model *m)
{
	memset(m->bar, 0, MODEL_BAR0_LEN);
	m->bar[IXGBE_RAL(0) / 4] = 0x00000002u; /* 02:00:00:00 */
	m->bar[IXGBE_RAH(0) / 4] = IXGBE_RAH_AV | ((uint32_t)m->mac_last << 8);
	m->bar[IXGBE_EEC / 4] = IXGBE_EEC_ARD;
	m->bar[IXGBE_RDRXCTL / 4] = IXGBE_RDRXCTL_DMAIDONE;
	m->bar[IXGBE_AUTOC / 4] = IXGBE_AUTOC_LMS_10G_SERIAL;
	memset(m->tx_head, 0, sizeof(m->tx_head));
	m->gorc = m->gotc = 0;
}

/* Reset and link: the bits that change on their own in a real card. */
static bool emulate_control(struct ixgbe_model *m)
{
	uint32_t autoc;

	if (reg_get(m, IXGBE_CTRL) & IXGBE_CTRL_RST_MASK) {
		/* Everything but CTRL first, so the driver sees RST clear
		 * only once the rest is in its reset state. */
		load_defaults(m);
		count(&m->counts.resets);
		reg_set(m, IXGBE_CTRL, 0);
		return true;
	}
	autoc = reg_get(m, IXGBE_AUTOC);
	if (autoc & IXGBE_AUTOC_AN_RESTART) {
		reg_set(m, IXGBE_AUTOC, autoc & ~IXGBE_AUTOC_AN_RESTART);
		reg_set(m, IXGBE_LINKS, IXGBE_LINKS_UP | IXGBE_LINKS_SPEED_10G);
		return true;
	}
	return false;
}

/* A ring's base and length from its registers, checked against the pool. */
static void *ring_va(struct ixgbe_model *m, uint32_t bal, uint32_t bah,
		     uint32_t len_reg, uint32_t *size)
{
	uint32_t len = reg_get(m, len_reg);
	uint64_t iova = ((uint64_t)reg_get(m, bah) << 32) | reg_get(m, bal);
	void *va;

	if (len == 0 || len % ADV_RING_ALIGN != 0 || len > 16u * 8192u)
		return NULL;
	va = nb_pool_iova_to_va(m->dma, iova, len);
	if (va == NULL)
		return NULL;
	*size = len / 16u;
	return va;
}

static void publish_head(struct ixgbe_model *m, uint32_t reg, uint32_t head)
{
	if (misbehaviour(m) == IXGBE_MODEL_CORRUPT_HEADS)
		head = 0xDEAD0000u | (m->garbage++ & 0xFFFFu);
	reg_set(m, reg, head);
}

/* 7.1.6.2: advanced receive write-back; status last, so DD covers it. */
static void rx_write_back(volatile union adv_rx_desc *d, uint16_t len,
			  uint32_t status)
{
	d->wb.info = 0;
	d->wb.rss = 0;
	d->wb.length = len;
	d->wb.vlan = 0;
	__atomic_store_n(&d->wb.status_error, status, __ATOMIC_RELEASE);
}

/*
 * Take the next receive descriptor of `m` and copy `len` bytes into its
 * buffer. Returns the descriptor, or NULL when there is none (the frame is
 * missed) or its buffer lies outside the pool.
 */
static volatile union adv_rx_desc *rx_take(struct ixgbe_model *m,
					     union adv_rx_desc *ring,
					     uint32_t size, const uint8_t *frame,
					     uint32_t len, uint32_t buf_len)
{
	volatile union adv_rx_desc *d;
	uint32_t tail = reg_get(m, IXGBE_RDT(0));
	uint64_t addr;
	void *buf;

	if (tail >= size || m->rx_head >= size || m->rx_head == tail) {
		reg_add(m, IXGBE_MPC(0), 1); /* 8.2.3.23.4: no descriptor */
		return NULL;
	}
	d = &ring[m->rx_head];
	addr = d->read.pkt_addr;
	buf = nb_pool_iova_to_va(m->dma, addr, buf_len);
	m->rx_head = (m->rx_head + 1) % size;
	if (buf == NULL) {
		count(&m->counts.dma_refused);
		return NULL;
	}
	memcpy(buf, frame, len);
	return d;
}

/* Receive one frame on queue 0 of `m` (called by the transmitting thread). */
static void deliver(struct ixgbe_model *m, const uint8_t *frame, uint32_t len)
{
	enum ixgbe_model_misbehaviour mb = misbehaviour(m);
	volatile union adv_rx_desc *first, *last;
	uint32_t size, buf_len, status = ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP;
	union adv_rx_desc *ring;
	uint16_t wb_len = (uint16_t)len;

	if (!(reg_get(m, IXGBE_RXDCTL(0)) & IXGBE_RXDCTL_ENABLE)) {
		m->rx_head = 0; /* a disabled queue restarts at 0 */
		return;
	}
	if (!(reg_get(m, IXGBE_RXCTRL) & IXGBE_RXCTRL_RXEN) || !bus_master(m))
		return;
	ring = ring_va(m, IXGBE_RDBAL(0), IXGBE_RDBAH(0), IXGBE_RDLEN(0), &size);
	buf_len = (reg_get(m, IXGBE_SRRCTL(0)) & IXGBE_SRRCTL_BSIZEPKT_MASK)
		  << IXGBE_SRRCTL_BSIZEPKT_SHIFT;
	if (ring == NULL || buf_len == 0) {
		count(&m->counts.dma_refused);
		return;
	}
	if (len > buf_len) {
		reg_add(m, IXGBE_MPC(0), 1); /* no split frames when honest */
		return;
	}
	if (mb == IXGBE_MODEL_RX_NO_EOP) {
		/* First half with DD only, the rest in the next descriptor. */
		uint32_t half = len / 2;

		first = rx_take(m, ring, size, frame, half, buf_len);
		if (first == NULL)
			return;
		rx_write_back(first, (uint16_t)half, ADV_RXD_STAT_DD);
		frame += half;
		len -= half;
		wb_len = (uint16_t)len;
	}
	last = rx_take(m, ring, size, frame, len, buf_len);
	if (last == NULL)
		return;
	if (mb == IXGBE_MODEL_RX_LEN_TOO_BIG)
		wb_len = (uint16_t)(buf_len + 64);
	else if (mb == IXGBE_MODEL_RX_LEN_ZERO)
		wb_len = 0;
	else if (mb == IXGBE_MODEL_RX_ERROR_BIT)
		status |= IXGBE_RXD_ERR_RXE;
	rx_write_back(last, wb_len, status);
	publish_head(m, IXGBE_RDH(0), m->rx_head);
	/* 8.2.3.23: octet counters include the 4 CRC bytes the MAC stripped. */
	reg_add(m, IXGBE_GPRC, 1);
	m->gorc += len + 4;
	reg_set(m, IXGBE_GORCL, (uint32_t)m->gorc);
	reg_set(m, IXGBE_GORCH, (uint32_t)(m->gorc >> 32) & 0xF);
	count(&m->counts.frames_delivered);
}

/* Send what the driver queued on tx queue q; true if anything moved. */
static bool transmit_queue(struct ixgbe_model *m, unsigned q)
{
	enum ixgbe_model_misbehaviour mb = misbehaviour(m);
	union adv_tx_desc *ring;
	uint32_t size, tail, head = m->tx_head[q];
	bool first = true;

	if (!(reg_get(m, IXGBE_TXDCTL(q)) & IXGBE_TXDCTL_ENABLE)) {
		m->tx_head[q] = 0;
		return false;
	}
	ring = ring_va(m, IXGBE_TDBAL(q), IXGBE_TDBAH(q), IXGBE_TDLEN(q), &size);
	tail = reg_get(m, IXGBE_TDT(q));
	if (ring == NULL || tail >= size || head >= size || head == tail)
		return false;
	while (head != tail) {
		volatile union adv_tx_desc *d = &ring[head];
		uint64_t addr = d->read.buffer_addr;
		uint32_t cmd = d->read.cmd_type_len;
		uint32_t len = cmd & 0xFFFFu;
		const uint8_t *frame = nb_pool_iova_to_va(m->dma, addr, len);

		if (frame == NULL || len == 0 || len > MODEL_MAX_FRAME ||
		    !(cmd & ADV_TXD_CMD_EOP)) {
			count(&m->counts.dma_refused);
		} else {
			deliver(m->peer, frame, len);
			reg_add(m, IXGBE_GPTC, 1);
			m->gotc += len + 4;
			reg_set(m, IXGBE_GOTCL, (uint32_t)m->gotc);
			reg_set(m, IXGBE_GOTCH, (uint32_t)(m->gotc >> 32) & 0xF);
			count(&m->counts.frames_sent);
		}
		/* 7.2.3.2.4: DD write-back for descriptors with RS. */
		if ((cmd & ADV_TXD_CMD_RS) &&
		    !(first && mb == IXGBE_MODEL_TX_OUT_OF_ORDER))
			__atomic_store_n(&d->wb.status, ADV_TXD_STAT_DD,
					 __ATOMIC_RELEASE);
		first = false;
		head = (head + 1) % size;
	}
	if (mb == IXGBE_MODEL_TX_EARLY_DD)
		__atomic_store_n(&ring[tail].wb.status, ADV_TXD_STAT_DD,
				 __ATOMIC_RELEASE);
	m->tx_head[q] = head;
	publish_head(m, IXGBE_TDH(q), head);
	return true;
}

static bool emulate_tx(struct ixgbe_model *m)
{
	bool moved = false;

	if (!(reg_get(m, IXGBE_DMATXCTL) & IXGBE_DMATXCTL_TE) || !bus_master(m))
		return false;
	for (unsigned q = 0; q < MODEL_MAX_QUEUES; q++)
		moved |= transmit_queue(m, q);
	return moved;
}

static void *model_thread(void *arg)
{
	struct ixgbe_model *m = arg;
	struct timespec idle = { .tv_nsec = MODEL_IDLE_SLEEP_NS };
	int idle_spins = 0;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		bool busy = emulate_control(m);

		busy |= emulate_tx(m);
		if (busy) {
			idle_spins = 0;
		} else if (++idle_spins >= MODEL_IDLE_SPINS) {
			nanosleep(&idle, NULL);
			idle_spins = 0;
		}
	}
	return NULL;
}

static struct ixgbe_model *from_pci(struct nb_pci *pci)
{
	return NB_CONTAINER_OF(pci, struct ixgbe_model, pci);
}

static int model_map_bar(struct nb_pci *pci, unsigned bar, void **va,
			 size_t *len)
{
	if (bar != 0)
		return nb_fail(EINVAL, "ixgbe model: only BAR0 is emulated");
	*va = from_pci(pci)->bar;
	*len = MODEL_BAR0_LEN;
	return 0;
}

static int model_cfg_read(struct nb_pci *pci, unsigned off, void *buf,
			  size_t len)
{
	if (off >= MODEL_CFG_LEN || len > MODEL_CFG_LEN - off)
		return nb_fail(EINVAL, "ixgbe model: config read 0x%x+%zu", off, len);
	memcpy(buf, &from_pci(pci)->cfg[off], len);
	return 0;
}

static int model_cfg_write(struct nb_pci *pci, unsigned off, const void *buf,
			   size_t len)
{
	if (off >= MODEL_CFG_LEN || len > MODEL_CFG_LEN - off)
		return nb_fail(EINVAL, "ixgbe model: config write 0x%x+%zu", off, len);
	memcpy(&from_pci(pci)->cfg[off], buf, len);
	return 0;
}

static void model_pci_close(struct nb_pci *pci)
{
	__atomic_store_n(&from_pci(pci)->pci_open, 0, __ATOMIC_RELEASE);
}

static const struct nb_pci_ops model_pci_ops = {
	.map_bar = model_map_bar,
	.cfg_read = model_cfg_read,
	.cfg_write = model_cfg_write,
	.reset = NULL,
	.close = model_pci_close,
};

static struct ixgbe_model *model_alloc(struct nb_pool *dma, uint8_t mac_last)
{
	struct ixgbe_model *m = calloc(1, sizeof(*m));
	uint16_t vendor = IXGBE_VENDOR_INTEL, device = IXGBE_DEV_82599_SFP;

	if (m == NULL)
		return nb_fail_null(ENOMEM, "ixgbe model: out of memory");
	m->bar = aligned_alloc(4096, MODEL_BAR0_LEN);
	if (m->bar == NULL) {
		free(m);
		return nb_fail_null(ENOMEM, "ixgbe model: out of memory for BAR0");
	}
	m->dma = dma;
	m->mac_last = mac_last;
	m->peer = m;
	load_defaults(m);
	memcpy(&m->cfg[0], &vendor, 2); /* config space is little-endian */
	memcpy(&m->cfg[2], &device, 2);
	m->pci.ops = &model_pci_ops;
	snprintf(m->pci.name, sizeof(m->pci.name), "model:%02x", mac_last);
	m->pci.vendor_id = vendor;
	m->pci.device_id = device;
	m->pci_open = 1;
	return m;
}

static int model_start(struct ixgbe_model *m)
{
	int err = pthread_create(&m->thread, NULL, model_thread, m);

	if (err != 0)
		return nb_fail(err, "ixgbe model: pthread_create failed");
	m->thread_running = true;
	return 0;
}

static void model_stop(struct ixgbe_model *m)
{
	if (!m->thread_running)
		return;
	__atomic_store_n(&m->stop, 1, __ATOMIC_RELEASE);
	pthread_join(m->thread, NULL);
	m->thread_running = false;
}

int ixgbe_model_create(struct nb_pool *dma, struct ixgbe_model **out)
{
	struct ixgbe_model *m = model_alloc(dma, 1);

	if (m == NULL)
		return -1;
	if (model_start(m) < 0) {
		ixgbe_model_destroy(m);
		return -1;
	}
	*out = m;
	return 0;
}

int ixgbe_model_create_silent(struct nb_pool *dma, struct ixgbe_model **out)
{
	*out = model_alloc(dma, 1);
	return *out == NULL ? -1 : 0;
}

int ixgbe_model_create_pair(struct nb_pool *dma, struct ixgbe_model **a,
			    struct ixgbe_model **b)
{
	struct ixgbe_model *ma = model_alloc(dma, 1);
	struct ixgbe_model *mb = ma ? model_alloc(dma, 2) : NULL;

	if (mb == NULL) {
		ixgbe_model_destroy(ma);
		return -1;
	}
	ma->peer = mb;
	mb->peer = ma;
	if (model_start(ma) < 0 || model_start(mb) < 0) {
		ixgbe_model_destroy(ma);
		ixgbe_model_destroy(mb);
		return -1;
	}
	*a = ma;
	*b = mb;
	return 0;
}

struct nb_pci *ixgbe_model_pci(struct ixgbe_model *m)
{
	return &m->pci;
}

void ixgbe_model_set_misbehaviour(struct ixgbe_model *m,
				  enum ixgbe_model_misbehaviour mb)
{
	__atomic_store_n(&m->misbehaviour, (int)mb, __ATOMIC_RELEASE);
}

void ixgbe_model_clear_counters(struct ixgbe_model *m)
{
	static const uint32_t regs[] = { IXGBE_GPRC, IXGBE_GPTC, IXGBE_GORCL,
					 IXGBE_GORCH, IXGBE_GOTCL, IXGBE_GOTCH };

	for (size_t i = 0; i < NB_ARRAY_SIZE(regs); i++)
		reg_set(m, regs[i], 0);
	for (unsigned i = 0; i < IXGBE_PACKET_BUFFERS; i++)
		reg_set(m, IXGBE_MPC(i), 0);
	m->gorc = m->gotc = 0;
}

void ixgbe_model_counts(const struct ixgbe_model *m,
			struct ixgbe_model_counts *out)
{
	out->frames_sent = __atomic_load_n(&m->counts.frames_sent, __ATOMIC_RELAXED);
	out->frames_delivered =
		__atomic_load_n(&m->counts.frames_delivered, __ATOMIC_RELAXED);
	out->dma_refused = __atomic_load_n(&m->counts.dma_refused, __ATOMIC_RELAXED);
	out->resets = __atomic_load_n(&m->counts.resets, __ATOMIC_RELAXED);
}

bool ixgbe_model_pci_open(const struct ixgbe_model *m)
{
	return __atomic_load_n(&m->pci_open, __ATOMIC_ACQUIRE) != 0;
}

void ixgbe_model_destroy(struct ixgbe_model *m)
{
	if (m == NULL)
		return;
	/* The peer's thread writes into our rings: stop it too. */
	model_stop(m);
	if (m->peer != m && m->peer != NULL) {
		model_stop(m->peer);
		m->peer->peer = NULL;
	}
	free(m->bar);
	free(m);
}
