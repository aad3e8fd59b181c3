/* SPDX-License-Identifier: MIT */
/*
 * igb.h - what igb.c exposes to its unit tests (test/unit/test_igb.c);
 * the driver itself is reached through nb_driver_igb only.
 */
#ifndef IGB_H
#define IGB_H

#include <stdint.h>

#include "nicbox.h"

/* Add the 82576's clear-on-read statistics (8.19) to *hw: MPC and the
 * RQDPC of receive queues 0..n_rxq-1 into rx_missed, the good packet and
 * octet counts into the others. regs is BAR0. */
void igb_read_counters(volatile uint8_t *regs, uint16_t n_rxq, struct nb_stats *hw);

#endif /* IGB_H */
