/* SPDX-License-Identifier: MIT */
/*
 * ixgbe_model.c - an 82599 register model for tests (see ixgbe_model.h).
 * Register offsets, bits and descriptor layouts come from
 * ixgbe_model_regs.h only; nothing here includes drivers/ixgbe.
 *
 * What it emulates, in the order the driver meets it:
 *  - master disable (5.2.5.3.2): STATUS.GIO master enable follows Bus Master
 *    Enable and CTRL.GIO_DIS;
 *  - CTRL.RST/LRST (4.6.3.2): the register file goes to its reset values,
 *    RST clears after RESET_US, EEC.ARD after a further ARD_US, then
 *    RDRXCTL.DMAIDONE;
 *  - the SFP+ cage: an SFF-8472 EEPROM behind the bit-banged I2CCTL bus,
 *    TX_DISABLE on SDP3; AUTOC.AN_RESTART brings LINKS up at the speed of
 *    AUTOC.LMS if the laser is on and the module and the far end have it;
 *  - receive on the queue RSS picks (7.1.2.8: MRQC, the key in RSSRK, the
 *    RETA entry the hash's low 7 bits select; the model's own Toeplitz and
 *    header parsing; RSS type and, with RXCSUM.PCSD, the hash in the
 *    write-back), queue 0 without RSS, and transmit on every enabled
 *    queue with advanced descriptors, gated by Bus Master Enable, RXCTRL.RXEN, DMATXCTL.TE and
 *    the queue enables; transmit DD write-back once per pass (batched), in
 *    ring order, or last-first with the rest held back to the next pass
 *    while DCA_TXCTRL's write-back relaxed ordering is on (its reset value);
 *    with rx data relaxed ordering on, a frame's bytes land after its DD;
 *  - statistics GPRC, GPTC, GORC, GOTC (CRC included), MPC, clear on read;
 *  - MSI-X receive interrupts (7.3.1): with GPIE's MSI-X mode, a frame
 *    written back on queue q sets the EICR bit of the vector queue q's IVAR
 *    entry names (if valid); an unmasked (EIMS) pending cause sends its
 *    message, which is a write to the eventfd the PCI handle's msix_set
 *    gave for that vector, then EIAC clears the cause and EIAM
 *    (GPIE.EIAME) masks the vector. EIMS is write-1-to-set, EIMC clears
 *    EIMS bits, EICR is write-1-to-clear (trapped writes only; vectors 0-15).
 * Not emulated: legacy and MSI interrupts, EITR throttling, other causes,
 * filtering (all frames accepted), VMDq/DCB queue steering, offloads,
 * VLAN, flow control, split frames in
 * honest mode (longer frames are missed), X540/X550.
 *
 * Rules checked (first one broken is kept; see ixgbe_model_violation()):
 *  R1 4.6.3.2 / SU clarification 9: CTRL.RST while master requests may be
 *     pending (bus master on, no CTRL.GIO_DIS);
 *  R2 4.6.3.2: a write to a trapped register while the reset is running,
 *     or to receive/transmit/MAC/security setup before EEC.ARD and
 *     RDRXCTL.DMAIDONE were both read as set since the reset;
 *  R3 4.6.7: RXCTRL.RXEN set before queue 0 has a ring, a buffer size and
 *     advanced one-buffer descriptors, or with HLREG0.RXCRCSTRP and
 *     RDRXCTL.CRCSTRIP disagreeing (8.2.3.8.8);
 *  R4 SU erratum workaround (Linux/DPDK ixgbe_enable_rx_dma_82599):
 *     RXCTRL.RXEN changed without SECRXCTRL.RX_DIS set and SECRXSTAT.RDY
 *     read as set first;
 *  R5 4.6.8: DMATXCTL.TE set after a transmit queue was already enabled.
 *
 * The model trusts the driver no more than the driver trusts it: every
 * IOVA goes through nb_pool_iova_to_va() with its full length, every head,
 * tail and ring length is checked against the ring before use.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "ixgbe_model.h"
#include "ixgbe_model_regs.h"

#define MODEL_BAR0_LEN 0x80000u /* 82599 BAR0: 512 KiB (9.3.6.1) */
#define MODEL_CFG_LEN 256u
#define MODEL_MAX_QUEUES 16u
#define MODEL_MAX_FRAME 16384u
#define MODEL_IDLE_SPINS 64
#define MODEL_IDLE_SLEEP_NS 20000
#define MODEL_MAX_MODELS 32
#define MODEL_MSIX_VECTORS 16u /* the model's MSI-X table (82599: 64) */
#define PAGE 4096u
#define PCI_CMD_OFF 0x04
#define PCI_CMD_BUS_MASTER (1u << 2)
#define RESET_US 1000  /* RST stays set this long */
#define ARD_US 2000    /* then EEPROM auto-read done */
#define DMA_US 500     /* then DMA init done */
#define LINK_US 1000   /* AN restart to link up */
#define MISSED_US 5000 /* a write the trap did not report, after this long */
#define X86_TF 0x100   /* EFLAGS trap flag: single step */
#define PF_WRITE 0x2   /* page-fault error code: write access */

/* Without traps (NB_MODEL_NO_TRAPS set: under valgrind, which does not
 * single-step), the thread polls these for writes instead; rules are not
 * checked then and counters do not clear on read. */
static const uint32_t polled_regs[] = { M_CTRL, M_AUTOC, M_SECRXCTRL, M_RXCTRL, M_DMATXCTL };

/* The register pages the driver's accesses trap on. */
static const uint32_t trapped_pages[] = { 0x00000, 0x02000, 0x03000, 0x04000, 0x08000,
					   0x10000 };

enum i2c_state { I2C_IDLE, I2C_ADDR, I2C_OFFSET, I2C_READ, I2C_WAIT };

struct i2c_slave {
	bool scl, sda;          /* lines as the master last drove them */
	bool pull_low;          /* the module holds SDA low */
	bool acking, read, nack;
	enum i2c_state state;
	uint8_t shift, byte, ptr;
	int bits;
};

struct ixgbe_model {
	struct nb_pci pci;          /* first: the driver's handle is &m->pci */
	struct nb_pool *dma;
	uint32_t *bar;              /* BAR0 as the model sees it (always RW) */
	uint8_t *drv;               /* BAR0 as the driver sees it (traps) */
	uint8_t cfg[MODEL_CFG_LEN]; /* config space */
	struct ixgbe_model *peer;   /* receives what this model transmits */
	uint8_t mac_last;           /* last byte of the NVM MAC */
	pthread_t thread;
	bool thread_running;
	int stop;                   /* atomic: thread exits when set */
	int misbehaviour;           /* atomic: enum ixgbe_model_misbehaviour */
	int pci_open;               /* atomic */
	enum ixgbe_model_sfp sfp;
	uint8_t eeprom[64];         /* SFF-8472 A0h, bytes 0..63 */
	struct i2c_slave i2c;       /* driver thread only (trap handler) */
	const char *violation;      /* atomic: first rule broken */
	bool polled;                /* no traps: see polled_regs */
	uint32_t shadow[NB_ARRAY_SIZE(polled_regs)];
	/* Reset and link, set by the trap handler, run by the thread. */
	int reset_req;              /* atomic */
	uint64_t reset_at_us, link_at_us;
	uint64_t missed_rst_us, missed_an_us; /* safety net, see emulate_control */
	bool in_reset, ard_seen, dmaidone_seen, secrx_rdy_seen;
	uint32_t link_lms;          /* atomic: LMS of the last AN restart + 1 */
	/* Device-internal state, owned by one thread each (see top). */
	uint32_t tx_head[MODEL_MAX_QUEUES]; /* this model's thread */
	uint32_t tx_held[MODEL_MAX_QUEUES][64]; /* RO: DD writes held back */
	unsigned n_held[MODEL_MAX_QUEUES];
	bool tx_skipped[MODEL_MAX_QUEUES]; /* TX_OUT_OF_ORDER: the DD left out */
	uint32_t rx_head[MODEL_MAX_QUEUES]; /* thread of the model transmitting here */
	void *late_dst;             /* rx data RO: a frame's bytes still to land */
	uint8_t late_data[MODEL_MAX_FRAME];
	uint32_t late_len;
	/* Statistics, under stats_lock (model threads and the trap handler). */
	int stats_lock;
	uint64_t gorc, gotc;
	bool gorch_latched, gotch_latched;
	uint32_t garbage;           /* what CORRUPT_HEADS writes next */
	struct ixgbe_model_counts counts;
	/* MSI-X: vector v's message is a write to irq_fd[v] (v < n_irq),
	 * under irq_lock (model threads, the trap handler, msix_set). */
	int irq_lock;
	unsigned n_irq;
	int irq_fd[MODEL_MSIX_VECTORS];
};

static struct ixgbe_model *models[MODEL_MAX_MODELS]; /* for the handlers */
static pthread_mutex_t models_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction old_segv, old_trap;

/* The access being single-stepped on this thread. */
static __thread struct {
	struct ixgbe_model *m;
	uint32_t off, before;
	bool write, locked;
} pending;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t reg_get(const struct ixgbe_model *m, uint32_t off)
{
	return __atomic_load_n(&m->bar[off / 4], __ATOMIC_ACQUIRE);
}

static void reg_set(struct ixgbe_model *m, uint32_t off, uint32_t v)
{
	__atomic_store_n(&m->bar[off / 4], v, __ATOMIC_RELEASE);
}

static void reg_or(struct ixgbe_model *m, uint32_t off, uint32_t bits)
{
	__atomic_fetch_or(&m->bar[off / 4], bits, __ATOMIC_ACQ_REL);
}

static void reg_clear(struct ixgbe_model *m, uint32_t off, uint32_t bits)
{
	__atomic_fetch_and(&m->bar[off / 4], ~bits, __ATOMIC_ACQ_REL);
}

/* Model counts are bumped by two threads in a pair. */
static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static void stats_lock(struct ixgbe_model *m)
{
	while (__atomic_exchange_n(&m->stats_lock, 1, __ATOMIC_ACQUIRE))
		;
}

static void stats_unlock(struct ixgbe_model *m)
{
	__atomic_store_n(&m->stats_lock, 0, __ATOMIC_RELEASE);
}

/* ---- MSI-X (7.3.1) ------------------------------------------------------ */

static void irq_lock(struct ixgbe_model *m)
{
	while (__atomic_exchange_n(&m->irq_lock, 1, __ATOMIC_ACQUIRE))
		;
}

static void irq_unlock(struct ixgbe_model *m)
{
	__atomic_store_n(&m->irq_lock, 0, __ATOMIC_RELEASE);
}

/* One MSI-X message for vector v: its eventfd counts up. Counted before
 * the write: the thread the write wakes may read the count at once (counted
 * after, a preempted model thread let a test see its wake-up but no
 * interrupt). A failed write takes the count back. */
static void send_msix(struct ixgbe_model *m, unsigned v)
{
	uint64_t one = 1;

	irq_lock(m);
	if (v < m->n_irq && m->irq_fd[v] >= 0) {
		__atomic_fetch_add(&m->counts.interrupts, 1, __ATOMIC_SEQ_CST);
		if (write(m->irq_fd[v], &one, sizeof(one)) != sizeof(one))
			__atomic_fetch_sub(&m->counts.interrupts, 1, __ATOMIC_SEQ_CST);
	}
	irq_unlock(m);
}

/* Every pending, unmasked cause sends its message (8.2.3.5.1-6). */
static void send_pending(struct ixgbe_model *m)
{
	uint32_t due = reg_get(m, M_EICR) & reg_get(m, M_EIMS) & 0xFFFFu;

	if (!(reg_get(m, M_GPIE) & M_GPIE_MULTIPLE_MSIX))
		return;
	for (unsigned v = 0; due != 0; v++, due >>= 1) {
		uint32_t bit = 1u << v;

		if (!(due & 1u))
			continue;
		/* EIAC: the message clears its cause; whoever clears it sends. */
		if ((reg_get(m, M_EIAC) & bit) &&
		    !(__atomic_fetch_and(&m->bar[M_EICR / 4], ~bit, __ATOMIC_SEQ_CST) & bit))
			continue;
		if ((reg_get(m, M_GPIE) & M_GPIE_EIAME) && (reg_get(m, M_EIAM) & bit))
			reg_clear(m, M_EIMS, bit);
		send_msix(m, v);
	}
}

/* Receive queue q wrote a descriptor back: raise the cause IVAR names. */
static void raise_rx_cause(struct ixgbe_model *m, unsigned q)
{
	uint32_t entry = (reg_get(m, M_IVAR(q / 2)) >> M_IVAR_RX_SHIFT(q)) & 0xFFu;
	unsigned v = entry & M_IVAR_VECTOR;

	if (!(entry & M_IVAR_VALID) || v >= MODEL_MSIX_VECTORS)
		return;
	__atomic_fetch_or(&m->bar[M_EICR / 4], 1u << v, __ATOMIC_SEQ_CST);
	send_pending(m);
}

static void violate(struct ixgbe_model *m, const char *rule)
{
	const char *none = NULL;

	if (m->polled) /* writes seen late: the order is not known */
		return;
	__atomic_compare_exchange_n(&m->violation, &none, rule, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static bool wedged(const struct ixgbe_model *m)
{
	return __atomic_load_n(&m->violation, __ATOMIC_ACQUIRE) != NULL;
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

/* ---- SFP+ module ------------------------------------------------------ */

/* SFF-8472 4.4: identifier, transceiver codes, vendor name and part. */
static void load_eeprom(struct ixgbe_model *m)
{
	static const char *const part[] = { "SFP-10G-SR", "SFP-1G-SX", "SFP-DUAL-SR",
					    "" };
	char text[17];

	memset(m->eeprom, 0, sizeof(m->eeprom));
	m->eeprom[0] = 0x03;                                    /* SFP/SFP+ */
	if (m->sfp == IXGBE_MODEL_SFP_10G || m->sfp == IXGBE_MODEL_SFP_DUAL_PEER_1G)
		m->eeprom[3] = 0x10;                            /* 10GBASE-SR */
	if (m->sfp == IXGBE_MODEL_SFP_1G || m->sfp == IXGBE_MODEL_SFP_DUAL_PEER_1G)
		m->eeprom[6] = 0x01;                            /* 1000BASE-SX */
	snprintf(text, sizeof(text), "%-16s", "NICBOX MODEL");
	memcpy(&m->eeprom[20], text, 16);
	snprintf(text, sizeof(text), "%-16s", part[m->sfp]);
	memcpy(&m->eeprom[40], text, 16);
}

/* The module's I2C slave, one master write at a time (UM10204 3.1). */
static void i2c_step(struct ixgbe_model *m, bool scl, bool sda)
{
	struct i2c_slave *s = &m->i2c;
	bool line = sda && !s->pull_low;

	if (s->scl && scl && s->sda != sda) { /* START or STOP; the offset stays */
		*s = (struct i2c_slave){ .state = sda ? I2C_IDLE : I2C_ADDR, .ptr = s->ptr };
	} else if (!s->scl && scl) { /* rising edge: sample */
		if ((s->state == I2C_ADDR || s->state == I2C_OFFSET) && !s->acking) {
			s->shift = (uint8_t)(s->shift << 1 | line);
			s->bits++;
		} else if (s->state == I2C_READ && s->bits == 8) {
			s->nack = line;
		}
	} else if (s->scl && !scl) { /* falling edge: drive the next bit */
		if (s->state == I2C_ADDR || s->state == I2C_OFFSET) {
			if (s->acking) {
				s->acking = s->pull_low = false;
				s->bits = 0;
				if (s->state == I2C_OFFSET) {
					s->ptr = s->shift;
					s->state = I2C_WAIT;
				} else if (s->read) {
					s->state = I2C_READ;
					s->byte = m->eeprom[s->ptr++ % sizeof(m->eeprom)];
					s->pull_low = !(s->byte & 0x80);
				} else {
					s->state = I2C_OFFSET;
				}
			} else if (s->bits == 8) {
				bool ours = s->state == I2C_OFFSET ||
					    ((s->shift & 0xFE) == M_SFP_ADDR &&
					     m->sfp != IXGBE_MODEL_SFP_NONE);

				s->read = s->shift & 1;
				s->acking = s->pull_low = ours;
				if (!ours)
					s->state = I2C_WAIT;
			}
		} else if (s->state == I2C_READ) {
			if (s->bits < 8) {
				s->bits++;
				s->pull_low = s->bits < 8 && !((s->byte >> (7 - s->bits)) & 1);
			} else if (s->nack) {
				s->state = I2C_WAIT;
			} else {
				s->bits = 0;
				s->byte = m->eeprom[s->ptr++ % sizeof(m->eeprom)];
				s->pull_low = !(s->byte & 0x80);
			}
		}
	}
	s->scl = scl;
	s->sda = sda;
	line = sda && !s->pull_low;
	reg_set(m, M_I2CCTL, (scl ? M_I2C_CLK_OUT | M_I2C_CLK_IN : 0) |
			     (sda ? M_I2C_DATA_OUT : 0) | (line ? M_I2C_DATA_IN : 0));
}

/* ---- reset, link and the register-access rules -------------------------- */

/* Power-on / reset state of the registers the model and driver use. */
static void load_defaults(struct ixgbe_model *m)
{
	/* All but CTRL (offset 0): a driver polling CTRL.RST must not see it
	 * clear while the rest is being reset. */
	memset(m->bar + 1, 0, MODEL_BAR0_LEN - 4);
	m->bar[M_RAL0 / 4] = 0x00000002u; /* 02:00:00:00 */
	m->bar[M_RAH0 / 4] = M_RAH_AV | ((uint32_t)m->mac_last << 8);
	m->bar[M_AUTOC / 4] = M_AUTOC_LMS_10G_SERIAL;
	m->bar[M_ESDP / 4] = M_ESDP_SDP3; /* laser off until software says */
	m->bar[M_I2CCTL / 4] = M_I2C_CLK_OUT | M_I2C_CLK_IN | M_I2C_DATA_OUT | M_I2C_DATA_IN;
	for (unsigned q = 0; q < 64; q++) {
		m->bar[M_DCA_RXCTRL(q) / 4] = M_DCA_RXCTRL_RESET;
		m->bar[M_DCA_TXCTRL(q) / 4] = M_DCA_TXCTRL_RESET;
	}
	m->i2c = (struct i2c_slave){ .scl = true, .sda = true };
	memset(m->tx_head, 0, sizeof(m->tx_head));
	memset(m->n_held, 0, sizeof(m->n_held));
	memset(m->rx_head, 0, sizeof(m->rx_head));
	m->late_dst = NULL;
	m->gorc = m->gotc = 0;
	m->gorch_latched = m->gotch_latched = false;
	m->ard_seen = m->dmaidone_seen = m->secrx_rdy_seen = false;
	__atomic_store_n(&m->link_lms, 0, __ATOMIC_RELEASE);
}

static bool is_clear_on_read(uint32_t off)
{
	return off == M_GPRC || off == M_GPTC || off == M_GORCL || off == M_GORCH ||
	       off == M_GOTCL || off == M_GOTCH || off == M_CRCERRS ||
	       (off >= M_MPC(0) && off <= M_MPC(7));
}

/* After a driver read (under stats_lock): the counter starts over. The
 * low dword of a 36-bit counter latches the high part for the next read. */
static void after_read(struct ixgbe_model *m, uint32_t off)
{
	if (off == M_EEC && (reg_get(m, M_EEC) & M_EEC_ARD))
		m->ard_seen = true;
	else if (off == M_RDRXCTL && (reg_get(m, M_RDRXCTL) & M_RDRXCTL_DMAIDONE))
		m->dmaidone_seen = true;
	else if (off == M_SECRXSTAT && (reg_get(m, M_SECRXSTAT) & M_SECRXSTAT_RDY))
		m->secrx_rdy_seen = true;
	if (!is_clear_on_read(off))
		return;
	if (off == M_GORCL) {
		m->gorc = 0;
		m->gorch_latched = true;
	} else if (off == M_GOTCL) {
		m->gotc = 0;
		m->gotch_latched = true;
	} else if (off == M_GORCH) {
		m->gorch_latched = false;
	} else if (off == M_GOTCH) {
		m->gotch_latched = false;
	}
	reg_set(m, off, 0);
}

/* Setup registers that 4.6.3.2 says wait for the NVM and DMA init. */
static bool needs_init_done(uint32_t off)
{
	return (off >= 0x03000 && off < 0x05000) || (off >= 0x08000 && off < 0x09000);
}

static void rx_enable_checks(struct ixgbe_model *m)
{
	uint32_t srrctl = reg_get(m, M_SRRCTL(0));

	if (!(reg_get(m, M_SECRXCTRL) & M_SECRXCTRL_RX_DIS) || !m->secrx_rdy_seen)
		violate(m, "R4 (SU erratum): RXCTRL.RXEN changed without SECRXCTRL.RX_DIS set "
			   "and SECRXSTAT.SECRX_RDY seen");
	if (reg_get(m, M_RDLEN(0)) == 0 || (srrctl & M_SRRCTL_BSIZE) == 0 ||
	    (srrctl & M_SRRCTL_DESCTYPE) != M_SRRCTL_ADV_1BUF ||
	    (reg_get(m, M_RDBAL(0)) == 0 && reg_get(m, M_RDBAH(0)) == 0))
		violate(m, "R3 (4.6.7): RXCTRL.RXEN set before rx queue 0 was set up "
			   "(ring, buffer size, advanced one-buffer descriptors)");
	if (!(reg_get(m, M_HLREG0) & M_HLREG0_RXCRCSTRP) !=
	    !(reg_get(m, M_RDRXCTL) & M_RDRXCTL_CRCSTRIP))
		violate(m, "R3 (8.2.3.8.8): HLREG0.RXCRCSTRP and RDRXCTL.CRCSTRIP disagree");
}

static void start_reset(struct ixgbe_model *m)
{
	m->reset_at_us = now_us(); /* the thread may look before it resets */
	__atomic_store_n(&m->in_reset, true, __ATOMIC_RELEASE);
	__atomic_store_n(&m->reset_req, 1, __ATOMIC_RELEASE);
}

static void an_restart(struct ixgbe_model *m, uint32_t autoc)
{
	reg_set(m, M_AUTOC, autoc & ~M_AUTOC_AN_RESTART); /* self-clearing */
	reg_clear(m, M_LINKS, M_LINKS_UP);
	m->link_at_us = now_us() + LINK_US;
	__atomic_store_n(&m->link_lms, (autoc & M_AUTOC_LMS) + 1, __ATOMIC_RELEASE);
}

/* A driver write to a trapped register, seen right after it happened. */
static void after_write(struct ixgbe_model *m, uint32_t off, uint32_t before)
{
	uint32_t v = reg_get(m, off);

	if (off != M_CTRL && __atomic_load_n(&m->in_reset, __ATOMIC_ACQUIRE))
		violate(m, "R2 (4.6.3.2): register written while the reset runs");
	else if (needs_init_done(off) && !(m->ard_seen && m->dmaidone_seen))
		violate(m, "R2 (4.6.3.2): rx/tx/MAC setup written before EEC.ARD and "
			   "RDRXCTL.DMAIDONE were read as set");
	switch (off) {
	case M_CTRL:
		if ((v & M_CTRL_GIO_DIS) && misbehaviour(m) != IXGBE_MODEL_MASTER_STUCK)
			reg_clear(m, M_STATUS, M_STATUS_GIO_MASTER);
		if ((v & (M_CTRL_RST | M_CTRL_LRST)) && !(before & (M_CTRL_RST | M_CTRL_LRST))) {
			if (bus_master(m) && (reg_get(m, M_STATUS) & M_STATUS_GIO_MASTER))
				violate(m, "R1 (4.6.3.2, SU clarification 9): CTRL.RST with bus "
					   "mastering on and no master disable");
			start_reset(m);
		}
		break;
	case M_I2CCTL:
		i2c_step(m, v & M_I2C_CLK_OUT, v & M_I2C_DATA_OUT);
		break;
	case M_AUTOC:
		if (v & M_AUTOC_AN_RESTART)
			an_restart(m, v);
		break;
	case M_SECRXCTRL:
		if (v & M_SECRXCTRL_RX_DIS)
			reg_or(m, M_SECRXSTAT, M_SECRXSTAT_RDY); /* nothing in flight */
		else
			reg_clear(m, M_SECRXSTAT, M_SECRXSTAT_RDY);
		m->secrx_rdy_seen = false;
		break;
	case M_RXCTRL:
		if ((v ^ before) & M_RXCTRL_RXEN)
			rx_enable_checks(m);
		break;
	case M_EIMS: /* write 1 to set */
		__atomic_fetch_or(&m->bar[M_EIMS / 4], before, __ATOMIC_SEQ_CST);
		send_pending(m); /* a cause pending while masked fires now */
		break;
	case M_EIMC:
		reg_clear(m, M_EIMS, v);
		break;
	case M_EICR: /* write 1 to clear */
		reg_set(m, M_EICR, before & ~v);
		break;
	case M_DMATXCTL:
		if ((v & M_DMATXCTL_TE) && !(before & M_DMATXCTL_TE))
			for (unsigned q = 0; q < MODEL_MAX_QUEUES; q++)
				if (reg_get(m, M_TXDCTL(q)) & M_TXDCTL_ENABLE)
					violate(m, "R5 (4.6.8): DMATXCTL.TE set after a tx queue was "
						   "enabled");
		break;
	}
}

/* Reset, EEPROM/DMA init done and link: the bits that change with time. */
static bool emulate_control(struct ixgbe_model *m)
{
	uint64_t now = now_us();
	uint32_t lms = __atomic_load_n(&m->link_lms, __ATOMIC_ACQUIRE);

	/* Safety net: a reset or AN restart the trap did not report (seen
	 * once on a heavily loaded machine, cause not found) still acts, as
	 * on hardware; counted in missed_traps. */
	if (!__atomic_load_n(&m->in_reset, __ATOMIC_ACQUIRE) &&
	    (reg_get(m, M_CTRL) & (M_CTRL_RST | M_CTRL_LRST))) {
		if (!m->missed_rst_us) {
			m->missed_rst_us = now; /* the trap may still be on its way */
		} else if (now > m->missed_rst_us + MISSED_US) {
			count(&m->counts.missed_traps);
			start_reset(m);
		}
	} else {
		m->missed_rst_us = 0;
	}
	if (reg_get(m, M_AUTOC) & M_AUTOC_AN_RESTART) {
		if (!m->missed_an_us) {
			m->missed_an_us = now;
		} else if (now > m->missed_an_us + MISSED_US) {
			count(&m->counts.missed_traps);
			an_restart(m, reg_get(m, M_AUTOC));
		}
	} else {
		m->missed_an_us = 0;
	}
	if (__atomic_exchange_n(&m->reset_req, 0, __ATOMIC_ACQ_REL)) {
		stats_lock(m);
		reg_set(m, M_CTRL, M_CTRL_RST); /* still running */
		load_defaults(m);
		stats_unlock(m);
		m->reset_at_us = now;
		count(&m->counts.resets);
		return true;
	}
	if (m->in_reset) {
		if (now >= m->reset_at_us + RESET_US && reg_get(m, M_CTRL) & M_CTRL_RST) {
			__atomic_store_n(&m->in_reset, false, __ATOMIC_RELEASE);
			reg_set(m, M_CTRL, 0); /* only now may the driver go on */
		}
	} else if (!(reg_get(m, M_EEC) & M_EEC_ARD) && m->reset_at_us &&
		   now >= m->reset_at_us + RESET_US + ARD_US) {
		reg_or(m, M_EEC, M_EEC_ARD);
	} else if ((reg_get(m, M_EEC) & M_EEC_ARD) && m->reset_at_us &&
		   !(reg_get(m, M_RDRXCTL) & M_RDRXCTL_DMAIDONE) &&
		   now >= m->reset_at_us + RESET_US + ARD_US + DMA_US) {
		reg_or(m, M_RDRXCTL, M_RDRXCTL_DMAIDONE);
	}
	/* STATUS.GIO master enable: requests may be pending while mastering. */
	if ((bus_master(m) && !(reg_get(m, M_CTRL) & M_CTRL_GIO_DIS)) ||
	    misbehaviour(m) == IXGBE_MODEL_MASTER_STUCK)
		reg_or(m, M_STATUS, M_STATUS_GIO_MASTER);
	else
		reg_clear(m, M_STATUS, M_STATUS_GIO_MASTER);
	if (lms && now >= m->link_at_us && !(reg_get(m, M_LINKS) & M_LINKS_UP)) {
		bool laser = !(reg_get(m, M_ESDP) & M_ESDP_SDP3);
		bool g10 = lms - 1 == M_AUTOC_LMS_10G_SERIAL &&
			   (m->sfp == IXGBE_MODEL_SFP_10G);
		bool g1 = lms - 1 == M_AUTOC_LMS_1G_NO_AN && m->sfp != IXGBE_MODEL_SFP_10G &&
			  m->sfp != IXGBE_MODEL_SFP_NONE;

		if (laser && (g10 || g1)) {
			reg_set(m, M_LINKS, M_LINKS_UP | (g10 ? M_LINKS_10G : M_LINKS_1G));
			return true;
		}
	}
	return false;
}

/* ---- MMIO traps --------------------------------------------------------- */

static struct ixgbe_model *model_at(const void *addr, uint32_t *off)
{
	for (unsigned i = 0; i < MODEL_MAX_MODELS; i++) {
		struct ixgbe_model *m = __atomic_load_n(&models[i], __ATOMIC_ACQUIRE);

		if (m && (const uint8_t *)addr >= m->drv &&
		    (const uint8_t *)addr < m->drv + MODEL_BAR0_LEN) {
			*off = (uint32_t)((const uint8_t *)addr - m->drv) & ~3u;
			return m;
		}
	}
	return NULL;
}

static void on_segv(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	uint32_t off;
	struct ixgbe_model *m = model_at(info->si_addr, &off);

	(void)sig;
	if (m == NULL || pending.m != NULL) { /* not ours: let it crash as before */
		sigaction(SIGSEGV, &old_segv, NULL);
		return;
	}
	pending.m = m;
	pending.off = off;
	pending.write = (uc->uc_mcontext.gregs[REG_ERR] & PF_WRITE) != 0;
	pending.locked = !pending.write && is_clear_on_read(off);
	if (pending.locked)
		stats_lock(m);
	pending.before = reg_get(m, off);
	mprotect(m->drv + (off & ~(PAGE - 1)), PAGE, PROT_READ | PROT_WRITE);
	uc->uc_mcontext.gregs[REG_EFL] |= X86_TF;
}

static void on_trap(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	struct ixgbe_model *m = pending.m;

	(void)sig;
	(void)info;
	if (m == NULL) {
		sigaction(SIGTRAP, &old_trap, NULL);
		return;
	}
	uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)X86_TF;
	if (pending.write)
		after_write(m, pending.off, pending.before);
	else
		after_read(m, pending.off);
	if (pending.locked)
		stats_unlock(m);
	mprotect(m->drv + (pending.off & ~(PAGE - 1)), PAGE, PROT_NONE);
	pending.m = NULL;
}

/* At every model creation: a test framework (cmocka) may have put its own
 * handlers in since; those become the ones a foreign fault goes to. */
static void install_handler(int sig, void (*fn)(int, siginfo_t *, void *),
			    struct sigaction *old)
{
	struct sigaction sa = { .sa_flags = SA_SIGINFO, .sa_sigaction = fn }, prev;

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, &prev);
	if (!(prev.sa_flags & SA_SIGINFO) || prev.sa_sigaction != fn)
		*old = prev;
}

/* Two views of one memfd: the model's, and the driver's with traps. */
static int map_bar0(struct ixgbe_model *m)
{
	int fd = memfd_create("ixgbe-model-bar0", MFD_CLOEXEC);
	unsigned slot;

	if (fd < 0 || ftruncate(fd, MODEL_BAR0_LEN) < 0) {
		if (fd >= 0)
			close(fd);
		return nb_fail(errno, "ixgbe model: memfd for BAR0");
	}
	m->bar = mmap(NULL, MODEL_BAR0_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m->drv = mmap(NULL, MODEL_BAR0_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m->bar == MAP_FAILED || m->drv == MAP_FAILED)
		return nb_fail(ENOMEM, "ixgbe model: mapping BAR0");
	m->polled = getenv("NB_MODEL_NO_TRAPS") != NULL;
	if (m->polled)
		return 0;
	for (size_t i = 0; i < NB_ARRAY_SIZE(trapped_pages); i++)
		mprotect(m->drv + trapped_pages[i], PAGE, PROT_NONE);
	pthread_mutex_lock(&models_lock);
	install_handler(SIGSEGV, on_segv, &old_segv);
	install_handler(SIGTRAP, on_trap, &old_trap);
	for (slot = 0; slot < MODEL_MAX_MODELS && models[slot]; slot++)
		;
	if (slot < MODEL_MAX_MODELS)
		__atomic_store_n(&models[slot], m, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&models_lock);
	return slot < MODEL_MAX_MODELS ? 0 : nb_fail(EMFILE, "ixgbe model: at most %d models",
						      MODEL_MAX_MODELS);
}

/* ---- DMA --------------------------------------------------------------- */

/* A ring's base and length from its registers, checked against the pool. */
static void *ring_va(struct ixgbe_model *m, uint32_t bal, uint32_t bah,
		     uint32_t len_reg, uint32_t *size)
{
	uint32_t len = reg_get(m, len_reg);
	uint64_t iova = ((uint64_t)reg_get(m, bah) << 32) | reg_get(m, bal);
	void *va;

	if (len == 0 || len % M_RING_ALIGN != 0 || len > 16u * 8192u)
		return NULL;
	va = nb_pool_iova_to_va(m->dma, iova, len);
	if (va == NULL)
		return NULL;
	*size = len / 16u;
	return va;
}

static uint32_t *dword(void *desc, unsigned off)
{
	return (uint32_t *)((uint8_t *)desc + off);
}

static uint64_t qword(void *desc, unsigned off)
{
	uint64_t v;

	memcpy(&v, (uint8_t *)desc + off, 8);
	return v;
}

static void publish_head(struct ixgbe_model *m, uint32_t reg, uint32_t head)
{
	if (misbehaviour(m) == IXGBE_MODEL_CORRUPT_HEADS)
		head = 0xDEAD0000u | (m->garbage++ & 0xFFFFu);
	reg_set(m, reg, head);
}

static void stat_add(struct ixgbe_model *m, uint32_t reg)
{
	stats_lock(m);
	reg_set(m, reg, reg_get(m, reg) + 1);
	stats_unlock(m);
}

/* A 36-bit octet counter (8.2.3.23.23): low dword, high 4 bits latched. */
static void octets_add(struct ixgbe_model *m, uint64_t *ctr, bool latched,
		       uint32_t low, uint32_t high, uint32_t n)
{
	stats_lock(m);
	*ctr += n;
	reg_set(m, low, (uint32_t)*ctr);
	if (!latched)
		reg_set(m, high, (uint32_t)(*ctr >> 32) & 0xF);
	stats_unlock(m);
}

/* What RSS found for a frame (7.1.2.8). */
struct rss_result {
	uint32_t type; /* M_RSS_TYPE_*, 0: not hashed (queue 0) */
	uint32_t hash;
	unsigned queue;
};

/*
 * 7.1.2.8.1: the Toeplitz hash, straight from its definition: for every
 * input bit that is set (most significant bit of byte 0 first), XOR in the
 * 32 key bits that start at that bit's position. The key is RSSRK: byte i
 * in bits 8*(i%4)+7 .. 8*(i%4) of RSSRK[i/4] (8.2.3.7.14).
 */
static uint32_t model_toeplitz(const struct ixgbe_model *m, const uint8_t *in,
			       unsigned n)
{
	uint8_t key[40];
	uint32_t hash = 0;

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(reg_get(m, M_RSSRK(i / 4)) >> (8 * (i % 4)));
	for (unsigned bit = 0; bit < 8 * n; bit++) {
		uint32_t window = 0;

		if (!(in[bit / 8] & (0x80u >> (bit % 8))))
			continue;
		for (unsigned k = bit; k < bit + 32; k++)
			window = window << 1 |
				 (k < 320 ? (key[k / 8] >> (7 - k % 8)) & 1u : 0);
		hash ^= window;
	}
	return hash;
}

/*
 * 7.1.2.8.2-3: which fields are hashed. IPv4 (no fragment) with TCP or
 * UDP and that field enabled: addresses and ports; else IPv4 enabled: the
 * addresses. IPv6 likewise (no extension headers). Anything else: no hash,
 * queue 0.
 */
static void rss_classify(const struct ixgbe_model *m, const uint8_t *f,
			 uint32_t len, struct rss_result *r)
{
	uint32_t mrqc = reg_get(m, M_MRQC);
	const uint8_t *ip = f + 14, *l4 = NULL;
	uint8_t in[36];
	unsigned alen = 0, proto = 0;
	bool frag = false;

	*r = (struct rss_result){ 0 };
	if ((mrqc & M_MRQC_MRQE) != M_MRQC_MRQE_RSS || len < 14 + 40)
		return;
	if (f[12] == 0x08 && f[13] == 0x00 && (ip[0] >> 4) == 4 && (ip[0] & 0xF) >= 5) {
		alen = 4;
		proto = ip[9];
		frag = ((ip[6] & 0x3F) | ip[7]) != 0;
		l4 = ip + 4u * (ip[0] & 0xF);
		memcpy(in, ip + 12, 8);
		if (proto == 6 && !frag && (mrqc & M_MRQC_TCPIPV4))
			r->type = M_RSS_TYPE_TCPIPV4;
		else if (proto == 17 && !frag && (mrqc & M_MRQC_UDPIPV4))
			r->type = M_RSS_TYPE_UDPIPV4;
		else if (mrqc & M_MRQC_IPV4)
			r->type = M_RSS_TYPE_IPV4;
	} else if (f[12] == 0x86 && f[13] == 0xDD && (ip[0] >> 4) == 6) {
		alen = 16;
		proto = ip[6];
		l4 = ip + 40;
		memcpy(in, ip + 8, 32);
		if (proto == 6 && (mrqc & M_MRQC_TCPIPV6))
			r->type = M_RSS_TYPE_TCPIPV6;
		else if (proto == 17 && (mrqc & M_MRQC_UDPIPV6))
			r->type = M_RSS_TYPE_UDPIPV6;
		else if (mrqc & M_MRQC_IPV6)
			r->type = M_RSS_TYPE_IPV6;
	}
	if (r->type == 0 || l4 + 4 > f + len)
		return;
	if (r->type == M_RSS_TYPE_IPV4 || r->type == M_RSS_TYPE_IPV6) {
		r->hash = model_toeplitz(m, in, 2 * alen);
	} else {
		memcpy(in + 2 * alen, l4, 4);
		r->hash = model_toeplitz(m, in, 2 * alen + 4);
	}
	/* 8.2.3.7.15: RETA entry (hash bits 6:0), four a register, queue
	 * number in bits 3:0 of the entry. */
	r->queue = (reg_get(m, M_RETA((r->hash & 0x7F) / 4)) >> (8 * (r->hash & 3))) & 0xF;
}

/* 7.1.6.2: advanced receive write-back; status last, so DD covers it. */
static void rx_write_back(void *d, uint16_t len, uint32_t status, uint32_t info,
			  uint32_t rss)
{
	*dword(d, M_RXD_INFO) = info;
	*dword(d, M_RXD_RSS) = rss;
	__atomic_store_n(dword(d, M_RXD_LENGTH), (uint32_t)len, __ATOMIC_RELAXED);
	__atomic_store_n(dword(d, M_RXD_STATUS), status, __ATOMIC_RELEASE);
}

/* The frame bytes of the last delivery, when rx data relaxed ordering
 * let them pass its write-back. */
static void land_late_data(struct ixgbe_model *m)
{
	if (m->late_dst != NULL)
		memcpy(m->late_dst, m->late_data, m->late_len);
	m->late_dst = NULL;
}

/*
 * Take the next receive descriptor of `m` and copy `len` bytes into its
 * buffer. Returns the descriptor, or NULL when there is none (the frame is
 * missed) or its buffer lies outside the pool.
 */
static void *rx_take(struct ixgbe_model *m, unsigned q, uint8_t *ring, uint32_t size,
		     const uint8_t *frame, uint32_t len, uint32_t buf_len)
{
	uint32_t tail = reg_get(m, M_RDT(q));
	uint8_t *d;
	void *buf;

	if (tail >= size || m->rx_head[q] >= size || m->rx_head[q] == tail) {
		stat_add(m, M_MPC(0)); /* 8.2.3.23.4: no descriptor */
		return NULL;
	}
	d = ring + 16u * m->rx_head[q];
	buf = nb_pool_iova_to_va(m->dma, qword(d, M_RXD_PKT_ADDR), buf_len);
	m->rx_head[q] = (m->rx_head[q] + 1) % size;
	if (buf == NULL) {
		count(&m->counts.dma_refused);
		return NULL;
	}
	if (reg_get(m, M_DCA_RXCTRL(q)) & M_DCA_RX_DATA_WRO) {
		/* Relaxed ordering: the data may arrive after the DD. */
		land_late_data(m);
		memcpy(m->late_data, frame, len);
		m->late_dst = buf;
		m->late_len = len;
	} else {
		memcpy(buf, frame, len);
	}
	return d;
}

/* Receive one frame on the queue RSS picks in `m` (called by the
 * transmitting thread). */
static void deliver(struct ixgbe_model *m, const uint8_t *frame, uint32_t len)
{
	enum ixgbe_model_misbehaviour mb = misbehaviour(m);
	uint32_t size, buf_len, status = M_RXD_DD | M_RXD_EOP;
	uint8_t *ring, *first, *last;
	uint16_t wb_len = (uint16_t)len;
	struct rss_result rss;
	unsigned q;

	land_late_data(m);
	rss_classify(m, frame, len, &rss);
	q = rss.queue;
	if (!(reg_get(m, M_RXDCTL(q)) & M_RXDCTL_ENABLE)) {
		m->rx_head[q] = 0; /* a disabled queue restarts at 0 */
		return;
	}
	if (!(reg_get(m, M_RXCTRL) & M_RXCTRL_RXEN) || !bus_master(m) || wedged(m))
		return;
	ring = ring_va(m, M_RDBAL(q), M_RDBAH(q), M_RDLEN(q), &size);
	buf_len = (reg_get(m, M_SRRCTL(q)) & M_SRRCTL_BSIZE) * 1024u;
	if (ring == NULL || buf_len == 0) {
		count(&m->counts.dma_refused);
		return;
	}
	if (len > buf_len) {
		stat_add(m, M_MPC(0)); /* no split frames when honest */
		return;
	}
	if (mb == IXGBE_MODEL_RX_NO_EOP) {
		/* First half with DD only, the rest in the next descriptor. */
		uint32_t half = len / 2;

		first = rx_take(m, q, ring, size, frame, half, buf_len);
		if (first == NULL)
			return;
		rx_write_back(first, (uint16_t)half, M_RXD_DD, 0, 0);
		frame += half;
		len -= half;
		wb_len = (uint16_t)len;
	}
	last = rx_take(m, q, ring, size, frame, len, buf_len);
	if (last == NULL)
		return;
	if (mb == IXGBE_MODEL_RX_LEN_TOO_BIG)
		wb_len = (uint16_t)(buf_len + 64);
	else if (mb == IXGBE_MODEL_RX_LEN_ZERO)
		wb_len = 0;
	else if (mb == IXGBE_MODEL_RX_ERROR_BIT)
		status |= M_RXD_RXE;
	/* Counted before the write-back, so a driver that has the frame
	 * also finds it counted. 8.2.3.23: octets include the 4 CRC bytes
	 * the MAC stripped. */
	stat_add(m, M_GPRC);
	octets_add(m, &m->gorc, m->gorch_latched, M_GORCL, M_GORCH, len + 4);
	count(&m->counts.frames_delivered);
	rx_write_back(last, wb_len, status, rss.type,
		      (reg_get(m, M_RXCSUM) & M_RXCSUM_PCSD) ? rss.hash : 0);
	publish_head(m, M_RDH(q), m->rx_head[q]);
	raise_rx_cause(m, q);
}

static void set_dd(uint8_t *ring, uint32_t i)
{
	__atomic_store_n(dword(ring + 16u * i, M_TXD_STATUS), M_TXD_DD, __ATOMIC_RELEASE);
}

/* Send one descriptor's frame; false if it is not one we can send. */
static bool transmit_one(struct ixgbe_model *m, uint8_t *d)
{
	uint32_t cmd = *(volatile uint32_t *)dword(d, M_TXD_CMD);
	uint32_t len = cmd & M_TXD_LEN;
	const uint8_t *frame = nb_pool_iova_to_va(m->dma, qword(d, M_TXD_ADDR), len);

	if (frame == NULL || len == 0 || len > MODEL_MAX_FRAME || !(cmd & M_TXD_EOP) ||
	    !(cmd & M_TXD_DEXT) || (cmd & M_TXD_DTYP) != M_TXD_DTYP_DATA) {
		count(&m->counts.dma_refused);
		return cmd & M_TXD_RS;
	}
	stat_add(m, M_GPTC); /* counted before the far end can see it */
	octets_add(m, &m->gotc, m->gotch_latched, M_GOTCL, M_GOTCH, len + 4);
	count(&m->counts.frames_sent);
	deliver(m->peer, frame, len);
	return cmd & M_TXD_RS;
}

/* Send what the driver queued on tx queue q; true if anything moved. */
static bool transmit_queue(struct ixgbe_model *m, unsigned q)
{
	enum ixgbe_model_misbehaviour mb = misbehaviour(m);
	bool ro = reg_get(m, M_DCA_TXCTRL(q)) & M_DCA_TX_DESC_WRO;
	uint32_t size, tail, head = m->tx_head[q], done[64];
	unsigned n_done = 0;
	uint8_t *ring;

	if (!(reg_get(m, M_TXDCTL(q)) & M_TXDCTL_ENABLE)) {
		m->tx_head[q] = 0;
		m->n_held[q] = 0;
		m->tx_skipped[q] = false;
		return false;
	}
	ring = ring_va(m, M_TDBAL(q), M_TDBAH(q), M_TDLEN(q), &size);
	tail = reg_get(m, M_TDT(q));
	if (ring == NULL || tail >= size || head >= size || head == tail)
		return false;
	/* Relaxed ordering: write-backs held back last pass land now. */
	for (unsigned i = 0; i < m->n_held[q]; i++)
		set_dd(ring, m->tx_held[q][i] % size);
	m->n_held[q] = 0;
	while (head != tail && n_done < NB_ARRAY_SIZE(done)) {
		/* 7.2.3.2.4: DD write-back for descriptors with RS; out of
		 * order: never for the first of them, for all later ones. */
		if (transmit_one(m, ring + 16u * head)) {
			if (mb == IXGBE_MODEL_TX_OUT_OF_ORDER && !m->tx_skipped[q])
				m->tx_skipped[q] = true;
			else
				done[n_done++] = head;
		}
		head = (head + 1) % size;
	}
	/* One write-back per pass. In ring order; with relaxed ordering the
	 * last one first and the others only at the next pass. */
	if (ro && n_done > 1) {
		set_dd(ring, done[n_done - 1]);
		memcpy(m->tx_held[q], done, (n_done - 1) * sizeof(done[0]));
		m->n_held[q] = n_done - 1;
	} else {
		for (unsigned i = 0; i < n_done; i++)
			set_dd(ring, done[i]);
	}
	if (mb == IXGBE_MODEL_TX_EARLY_DD)
		set_dd(ring, tail);
	m->tx_head[q] = head;
	publish_head(m, M_TDH(q), head);
	return true;
}

static bool emulate_tx(struct ixgbe_model *m)
{
	bool moved = false;

	if (!(reg_get(m, M_DMATXCTL) & M_DMATXCTL_TE) || !bus_master(m) || wedged(m))
		return false;
	for (unsigned q = 0; q < MODEL_MAX_QUEUES; q++)
		moved |= transmit_queue(m, q);
	return moved;
}

/* NB_MODEL_NO_TRAPS: writes to the registers that act, found by polling. */
static bool poll_writes(struct ixgbe_model *m)
{
	bool seen = false;

	for (size_t i = 0; m->polled && i < NB_ARRAY_SIZE(polled_regs); i++) {
		if (reg_get(m, polled_regs[i]) != m->shadow[i]) {
			after_write(m, polled_regs[i], m->shadow[i]);
			seen = true;
		}
		m->shadow[i] = reg_get(m, polled_regs[i]);
	}
	return seen;
}

static void *model_thread(void *arg)
{
	struct ixgbe_model *m = arg;
	struct timespec idle = { .tv_nsec = MODEL_IDLE_SLEEP_NS };
	int idle_spins = 0;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		bool busy = poll_writes(m) | emulate_control(m);

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

/* ---- the nb_pci backend ------------------------------------------------- */

static struct ixgbe_model *from_pci(struct nb_pci *pci)
{
	return NB_CONTAINER_OF(pci, struct ixgbe_model, pci);
}

static int model_map_bar(struct nb_pci *pci, unsigned bar, void **va,
			 size_t *len)
{
	if (bar != 0)
		return nb_fail(EINVAL, "ixgbe model: only BAR0 is emulated");
	*va = from_pci(pci)->drv;
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

/* What VFIO_DEVICE_SET_IRQS does for a real function: vectors 0..n-1 onto
 * the caller's eventfds (n = 0: none). */
static int model_msix_set(struct nb_pci *pci, const int *fds, unsigned n)
{
	struct ixgbe_model *m = from_pci(pci);

	if (n > MODEL_MSIX_VECTORS)
		return nb_fail(ENOTSUP, "ixgbe model: %u MSI-X vectors, %u asked",
			       MODEL_MSIX_VECTORS, n);
	irq_lock(m);
	for (unsigned v = 0; v < n; v++)
		m->irq_fd[v] = fds[v];
	m->n_irq = n;
	irq_unlock(m);
	return 0;
}

static const struct nb_pci_ops model_pci_ops = {
	.map_bar = model_map_bar,
	.cfg_read = model_cfg_read,
	.cfg_write = model_cfg_write,
	.reset = NULL,
	.msix_set = model_msix_set,
	.close = model_pci_close,
};

static void model_free(struct ixgbe_model *m)
{
	pthread_mutex_lock(&models_lock);
	for (unsigned i = 0; i < MODEL_MAX_MODELS; i++)
		if (models[i] == m)
			__atomic_store_n(&models[i], NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&models_lock);
	if (m->bar != NULL && m->bar != MAP_FAILED)
		munmap(m->bar, MODEL_BAR0_LEN);
	if (m->drv != NULL && m->drv != MAP_FAILED)
		munmap(m->drv, MODEL_BAR0_LEN);
	free(m);
}

static struct ixgbe_model *model_alloc(struct nb_pool *dma, uint8_t mac_last)
{
	struct ixgbe_model *m = calloc(1, sizeof(*m));
	uint16_t vendor = 0x8086, device = 0x10FB; /* 82599ES SFP+ (9.3.3.2) */

	if (m == NULL)
		return nb_fail_null(ENOMEM, "ixgbe model: out of memory");
	if (map_bar0(m) < 0) {
		model_free(m);
		return NULL;
	}
	m->dma = dma;
	m->mac_last = mac_last;
	m->peer = m;
	load_defaults(m);
	/* Power-on: the NVM was read and DMA came up long ago. */
	m->bar[M_EEC / 4] = M_EEC_ARD;
	m->bar[M_RDRXCTL / 4] = M_RDRXCTL_DMAIDONE;
	m->ard_seen = m->dmaidone_seen = true;
	load_eeprom(m);
	for (size_t i = 0; i < NB_ARRAY_SIZE(polled_regs); i++)
		m->shadow[i] = reg_get(m, polled_regs[i]);
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

void ixgbe_model_set_sfp(struct ixgbe_model *m, enum ixgbe_model_sfp sfp)
{
	m->sfp = sfp;
	load_eeprom(m);
}

const char *ixgbe_model_violation(const struct ixgbe_model *m)
{
	return __atomic_load_n(&m->violation, __ATOMIC_ACQUIRE);
}

volatile uint8_t *ixgbe_model_bar(struct ixgbe_model *m)
{
	return m->drv;
}

void ixgbe_model_counts(const struct ixgbe_model *m,
			struct ixgbe_model_counts *out)
{
	out->frames_sent = __atomic_load_n(&m->counts.frames_sent, __ATOMIC_RELAXED);
	out->frames_delivered =
		__atomic_load_n(&m->counts.frames_delivered, __ATOMIC_RELAXED);
	out->interrupts = __atomic_load_n(&m->counts.interrupts, __ATOMIC_RELAXED);
	out->dma_refused = __atomic_load_n(&m->counts.dma_refused, __ATOMIC_RELAXED);
	out->resets = __atomic_load_n(&m->counts.resets, __ATOMIC_RELAXED);
	out->missed_traps = __atomic_load_n(&m->counts.missed_traps, __ATOMIC_RELAXED);
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
	model_free(m);
}
