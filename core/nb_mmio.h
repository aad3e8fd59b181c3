/* SPDX-License-Identifier: MIT */
/*
 * nb_mmio.h - the only way drivers touch device registers and DMA memory
 * the device shares with us.
 *
 * x86-64 memory model, which is what this file assumes (other architectures
 * need real fences here; the build refuses them):
 *   - Loads are not reordered with other loads, stores not with other
 *     stores, and uncached (UC) MMIO accesses are not reordered with any
 *     other access. So a store to a descriptor in write-back pool memory
 *     followed by a store to a doorbell register reaches the device in
 *     program order; no sfence is needed on that path.
 *   - The compiler, however, may reorder or merge plain accesses. Every
 *     access here is volatile, and nb_compiler_barrier() pins the order of
 *     plain stores to descriptors before a doorbell write.
 *   - Device-written memory (descriptor write-back, used rings) is read
 *     through nb_dma_read*() exactly once per field: the value is copied
 *     into a local, checked, and only the local is used afterwards, so the
 *     device cannot change a value between our check and our use.
 *   - A store followed by a load of a different location can be reordered
 *     (store buffer). Where a driver publishes an index and then reads the
 *     device's notification flags (virtio event suppression) it needs
 *     nb_full_barrier() between the two.
 */
#ifndef NB_MMIO_H
#define NB_MMIO_H

#include <stdint.h>

#if !defined(__x86_64__)
#error "nb_mmio.h encodes the x86-64 memory model; add fences for this architecture"
#endif

static inline void nb_compiler_barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Orders earlier stores before later loads (see above). */
static inline void nb_full_barrier(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/* Registers (uncached BAR mappings). */
static inline uint32_t nb_reg_read32(const volatile void *base, uint32_t off)
{
	return *(const volatile uint32_t *)((const volatile uint8_t *)base + off);
}

static inline void nb_reg_write32(volatile void *base, uint32_t off,
				  uint32_t val)
{
	nb_compiler_barrier();
	*(volatile uint32_t *)((volatile uint8_t *)base + off) = val;
}

static inline uint16_t nb_reg_read16(const volatile void *base, uint32_t off)
{
	return *(const volatile uint16_t *)((const volatile uint8_t *)base + off);
}

static inline void nb_reg_write16(volatile void *base, uint32_t off,
				  uint16_t val)
{
	nb_compiler_barrier();
	*(volatile uint16_t *)((volatile uint8_t *)base + off) = val;
}

static inline uint8_t nb_reg_read8(const volatile void *base, uint32_t off)
{
	return *((const volatile uint8_t *)base + off);
}

static inline void nb_reg_write8(volatile void *base, uint32_t off, uint8_t val)
{
	nb_compiler_barrier();
	*((volatile uint8_t *)base + off) = val;
}

/* 64-bit registers written as two 32-bit halves, low first. */
static inline void nb_reg_write64_split(volatile void *base, uint32_t off,
					uint64_t val)
{
	nb_reg_write32(base, off, (uint32_t)val);
	nb_reg_write32(base, off + 4, (uint32_t)(val >> 32));
}

/* Device-written DMA memory: read once into a local, then validate. */
static inline uint16_t nb_dma_read16(const volatile void *p)
{
	return *(const volatile uint16_t *)p;
}

static inline uint32_t nb_dma_read32(const volatile void *p)
{
	return *(const volatile uint32_t *)p;
}

static inline uint64_t nb_dma_read64(const volatile void *p)
{
	return *(const volatile uint64_t *)p;
}

#endif /* NB_MMIO_H */
