/* SPDX-License-Identifier: MIT */
/*
 * fuzz_policy.c - the access policy parser on arbitrary text, then the
 * matcher on whatever it accepted. Every rejection must carry "name:line:".
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "helper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nbh_ident who = { .uid = 1000, .gid = 1000, .groups = { 1500 }, .n_groups = 1 };
	struct nbh_nic dev = { .bdf = "0000:00:04.0", .ifname = "eth0",
			       .vendor_id = 0x1af4, .device_id = 0x1041 };
	struct nbh_policy p;
	char err[512];

	if (size > 64 * 1024)
		return 0;
	if (nbh_policy_parse((const char *)data, size, "fuzz.conf", &p, err, sizeof(err)) < 0) {
		if (strncmp(err, "fuzz.conf:", 10) != 0 || p.rules || p.n_rules)
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < p.n_rules; i++)
		if (p.rules[i].max_pool == 0 || p.rules[i].line == 0)
			__builtin_trap();
	(void)nbh_policy_match(&p, &who, &dev);
	nbh_policy_free(&p);
	return 0;
}
