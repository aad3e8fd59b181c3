/* SPDX-License-Identifier: MIT */
/*
 * test_dispatch.c - the helper's real session dispatch (privhelper/session.c)
 * over a socketpair, with the machine faked (fake_helper.c); and the
 * isolation checks (isolation.c) against fake /sys and /proc trees.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_helper.h"

#define NIC "0000:1e:01.4" /* absent from any real sysfs: no ATS to find */

static struct nbh_policy policy;

/* uid may claim NIC, with pools of at most `pool` in all. */
static void load_policy(const char *pool)
{
	char text[256], err[256];

	snprintf(text, sizeof(text), "allow user:%u pci:" NIC " pool=%s\n", (unsigned)getuid(), pool);
	assert_int_equal(nbh_policy_parse(text, strlen(text), "test.conf", &policy, err,
					  sizeof(err)), 0);
}

/* Send all of reqs[], hang up our sending side, run the session to its end,
 * collect the replies (closing the fds they carry). */
static unsigned run(const union nbp_msg *reqs, unsigned n, union nbp_msg *reps)
{
	struct nbh_ident who = { .uid = getuid(), .gid = getgid() };
	int sv[2], fds[NB_MAX_DEVICES];
	unsigned n_reps = 0, n_fds;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(nbp_send(sv[0], &reqs[i], reqs[i].hdr.len, NULL, 0), 0);
	shutdown(sv[0], SHUT_WR);
	nbh_session_run(sv[1], &policy, &who, getpid());
	while (n_reps < n && nbp_recv(sv[0], &reps[n_reps], fds, &n_fds) > 0) {
		for (unsigned i = 0; i < n_fds; i++)
			close(fds[i]);
		n_reps++;
	}
	close(sv[0]);
	nbh_policy_free(&policy);
	return n_reps;
}

static void requests(union nbp_msg reqs[4], uint64_t pool_bytes)
{
	nbp_init(&reqs[0], NBP_HELLO);
	nbp_init(&reqs[1], NBP_CLAIM);
	strcpy(reqs[1].claim.device, NIC);
	nbp_init(&reqs[2], NBP_POOL);
	reqs[2].pool.bytes = pool_bytes;
	reqs[2].pool.page = NB_PAGE_DEFAULT; /* 2 MiB pages */
	nbp_init(&reqs[3], NBP_READY);
}

/* 3 MiB rounds up to 4 MiB of 2 MiB pages: over a 3 MiB limit, refused
 * before a single page is reserved (finding 8a). */
static void test_pool_over_limit_reserves_nothing(void **state)
{
	union nbp_msg reqs[4], reps[4];
	(void)state;

	fake_helper = (struct fake_helper){ 0 };
	load_policy("3M");
	requests(reqs, 3 << 20);
	assert_int_equal(run(reqs, 3, reps), 3);
	assert_int_equal(reps[1].hdr.type, NBP_CLAIM_OK);
	assert_int_equal(reps[2].hdr.type, NBP_ERROR);
	assert_int_equal(reps[2].error.err, EACCES);
	assert_non_null(strstr(reps[2].error.reason, "4194304 bytes exceeds the policy's limit"));
	assert_int_equal(fake_helper.pools_created, 0);
	assert_int_equal(fake_helper.nics_restored, 1);
}

static void test_session_to_ready_and_teardown(void **state)
{
	union nbp_msg reqs[4], reps[4];
	(void)state;

	fake_helper = (struct fake_helper){ 0 };
	load_policy("4M");
	requests(reqs, 3 << 20);
	assert_int_equal(run(reqs, 4, reps), 4);
	assert_int_equal(reps[2].hdr.type, NBP_POOL_OK);
	assert_int_equal(reps[2].pool_ok.size, 4 << 20);
	assert_int_equal(reps[3].hdr.type, NBP_READY_OK);
	assert_int_equal(reps[3].ready_ok.n_devices, 1);
	assert_int_equal(fake_helper.pools_destroyed, 1);
	assert_int_equal(fake_helper.nics_restored, 1);
}

/* ---- isolation.c against a fake root */
static char root[64];

static void put(const char *path, const void *data, size_t len)
{
	char full[256], cmd[300];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", full);
	assert_int_equal(system(cmd), 0);
	f = fopen(full, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int make_root(void **state)
{
	(void)state;
	strcpy(root, "/tmp/nb-isolation-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int remove_root(void **state)
{
	char cmd[96];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

#define UNSAFE "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
#define IRQS_IR "  0:  44  0  IR-IO-APIC    2-edge      timer\n"
#define IRQS_NO_IR "  0:  44  0  IO-APIC    2-edge      timer\n"

static int isolated(bool unsafe_ok, bool ats_ok)
{
	nbh_root = root;
	return nbh_isolated(NIC, unsafe_ok, ats_ok);
}

static void test_unremapped_interrupts_refused(void **state)
{
	(void)state;

	put("/proc/interrupts", IRQS_NO_IR, strlen(IRQS_NO_IR));
	assert_int_equal(isolated(false, false), 0); /* no parameter file: VFIO checks */
	put(UNSAFE, "N\n", 2);
	assert_int_equal(isolated(false, false), 0); /* VFIO refuses to attach itself */
	put(UNSAFE, "Y\n", 2);
	assert_int_equal(isolated(false, false), -1);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(nbh_reason, "interrupt remapping is off"));
	assert_true(strlen(nbh_reason) < NBP_TEXT_LEN - 1);
	assert_int_equal(isolated(true, false), 0); /* the rule says unsafe-interrupts */
	put("/proc/interrupts", IRQS_IR, strlen(IRQS_IR));
	assert_int_equal(isolated(false, false), 0); /* Y, but remapping is on */
}

/* Extended capabilities from 0x100: AER (ID 1) -> ATS (ID 0xF) at 0x140. */
static void put_config(uint16_t ats_ctrl, bool loop)
{
	uint8_t cfg[4096] = { 0 };
	uint32_t aer = 0x0001u | 1u << 16 | 0x140u << 20;
	uint32_t ats = 0x000fu | 1u << 16 | (loop ? 0x100u : 0u) << 20;

	memcpy(cfg + 0x100, &aer, 4);
	memcpy(cfg + 0x140, &ats, 4);
	memcpy(cfg + 0x140 + 6, &ats_ctrl, 2);
	put("/sys/bus/pci/devices/" NIC "/config", cfg, sizeof(cfg));
}

static void test_ats_enabled_refused(void **state)
{
	(void)state;

	put("/proc/interrupts", IRQS_IR, strlen(IRQS_IR));
	put_config(0x8000, false); /* Enable */
	assert_int_equal(isolated(false, false), -1);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(nbh_reason, NIC " has ATS enabled"));
	assert_true(strlen(nbh_reason) < NBP_TEXT_LEN - 1);
	assert_int_equal(isolated(false, true), 0); /* the rule says allow-ats */
	put_config(0x001f, true); /* present, not enabled; a looping chain ends */
	assert_int_equal(isolated(false, false), 0);
	put("/sys/bus/pci/devices/" NIC "/config", (uint8_t[256]){ 0 }, 256);
	assert_int_equal(isolated(false, false), 0); /* no extended space */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_over_limit_reserves_nothing),
		cmocka_unit_test(test_session_to_ready_and_teardown),
		cmocka_unit_test_setup_teardown(test_unremapped_interrupts_refused, make_root,
						remove_root),
		cmocka_unit_test_setup_teardown(test_ats_enabled_refused, make_root, remove_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
