/* SPDX-License-Identifier: MIT */
/*
 * test_policy.c - the access policy parser on good and bad files (every
 * error names file:line) and the first-match, default-deny matcher.
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

#include "helper.h"

static char err[512];

static int parse(const char *text, struct nbh_policy *p)
{
	err[0] = '\0';
	return nbh_policy_parse(text, strlen(text), "test.conf", p, err,
				sizeof(err));
}

static void test_good_file(void **state)
{
	struct nbh_policy p;
	(void)state;

	assert_int_equal(parse("# comment\n"
			       "\n"
			       "allow user:1000 pci:00:04.0 pool=64M\n"
			       "  allow\tgroup:1500 id:8086:10FB pool=1G keep-vfio # trailing\n"
			       "allow user:root if:eth1 netdev-up\n"
			       "allow user:1001 pci:0000:00:05.0", &p), 0);
	assert_int_equal(p.n_rules, 4);
	assert_false(p.rules[0].is_group);
	assert_int_equal(p.rules[0].who, 1000);
	assert_int_equal(p.rules[0].match, NBH_MATCH_PCI);
	assert_string_equal(p.rules[0].pci, "0000:00:04.0");
	assert_int_equal(p.rules[0].max_pool, 64ull << 20);
	assert_int_equal(p.rules[0].line, 3);
	assert_true(p.rules[1].is_group);
	assert_int_equal(p.rules[1].vendor_id, 0x8086);
	assert_int_equal(p.rules[1].device_id, 0x10fb);
	assert_true(p.rules[1].keep_vfio);
	assert_false(p.rules[1].allow_up);
	assert_int_equal(p.rules[2].who, 0); /* "root" resolved through passwd */
	assert_string_equal(p.rules[2].ifname, "eth1");
	assert_true(p.rules[2].allow_up);
	assert_int_equal(p.rules[3].max_pool, NBH_DEFAULT_POOL);
	assert_int_equal(p.rules[3].line, 6);
	nbh_policy_free(&p);

	assert_int_equal(parse("", &p), 0);
	assert_int_equal(p.n_rules, 0);
	nbh_policy_free(&p);
}

/* Each bad line, after one good line, must fail naming line 2. */
static void test_bad_files_name_file_and_line(void **state)
{
	static const struct {
		const char *line;
		const char *reason;
	} cases[] = {
		{ "deny user:1000 pci:00:04.0", "unknown directive" },
		{ "allow user:1000", "needs a user/group and a device" },
		{ "allow uid:1000 pci:00:04.0", "expected user:" },
		{ "allow user: pci:00:04.0", "unknown user ''" },
		{ "allow user:12x pci:00:04.0", "bad numeric id" },
		{ "allow user:no-such-user-nicbox pci:00:04.0", "unknown user" },
		{ "allow group:no-such-group-nicbox pci:00:04.0", "unknown group" },
		{ "allow user:1000 pci:00:04", "bad PCI address" },
		{ "allow user:1000 pci:00:20.0", "bad PCI address" },
		{ "allow user:1000 pci:00:04.8", "bad PCI address" },
		{ "allow user:1000 if:", "bad interface name" },
		{ "allow user:1000 if:../etc", "bad interface name" },
		{ "allow user:1000 if:abcdefghijklmnop", "bad interface name" },
		{ "allow user:1000 id:8086-10fb", "bad vendor:device" },
		{ "allow user:1000 eth0", "expected pci:ADDR" },
		{ "allow user:1000 pci:00:04.0 pool=0", "pool size" },
		{ "allow user:1000 pci:00:04.0 pool=65G", "pool size" },
		{ "allow user:1000 pci:00:04.0 pool=12T", "pool size" },
		{ "allow user:1000 pci:00:04.0 pool=M", "pool size 'M' not in" },
		{ "allow user:1000 pci:00:04.0 keep_vfio", "unknown option" },
		{ "allow user:1000 pci:00:04.0 a b c d e f", "too many words" },
	};
	struct nbh_policy p;
	char text[600], want[64];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "allow user:1 pci:00:04.0\n%s\n",
			 cases[i].line);
		assert_int_equal(parse(text, &p), -1);
		assert_int_equal(errno, EINVAL);
		assert_null(p.rules);
		snprintf(want, sizeof(want), "test.conf:2: ");
		if (strncmp(err, want, strlen(want)) != 0 ||
		    !strstr(err, cases[i].reason))
			fail_msg("'%s': got '%s', want '%s...%s'", cases[i].line,
				 err, want, cases[i].reason);
	}
}

static void test_long_line_and_nul(void **state)
{
	struct nbh_policy p;
	char text[1200];
	(void)state;

	memset(text, ' ', sizeof(text));
	memcpy(text, "# x\n", 4);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(parse(text, &p), -1);
	assert_non_null(strstr(err, "test.conf:2: line longer than"));

	assert_int_equal(nbh_policy_parse("allow\0user:1 pci:00:04.0", 24, "n.conf",
					  &p, err, sizeof(err)), -1);
	assert_string_equal(err, "n.conf:1: NUL byte in line");
}

static void test_load_missing_file(void **state)
{
	struct nbh_policy p;
	(void)state;

	assert_int_equal(nbh_policy_load("/nonexistent/nicbox.conf", &p, err,
					 sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/nicbox.conf: directory /nonexistent: "
			    "No such file or directory");
}

static void test_shipped_example_parses(void **state)
{
	struct nbh_policy p;
	(void)state;

	assert_int_equal(nbh_policy_load(NB_SOURCE_DIR "/policy/nicbox.conf", &p,
					 err, sizeof(err)), 0);
	assert_int_equal(p.n_rules, 0); /* installed as is: it allows nothing */
	nbh_policy_free(&p);
	assert_int_equal(nbh_policy_load(NB_SOURCE_DIR "/test/vm/testbed.conf", &p,
					 err, sizeof(err)), 0);
	assert_true(p.n_rules >= 2);
	nbh_policy_free(&p);
}

/* A policy in a fresh directory under /tmp (sticky and root's: trusted). */
static char dir[64], file[96];

static int make_policy(void **state)
{
	FILE *f;
	(void)state;

	strcpy(dir, "/tmp/nb-policy-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/nicbox.conf", dir);
	f = fopen(file, "w");
	if (!f)
		return -1;
	fputs("allow user:0 pci:0000:00:04.0\n", f);
	fclose(f);
	return chmod(file, 0644);
}

static int remove_policy(void **state)
{
	char cmd[96];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void expect_refusal(const char *path, const char *reason)
{
	struct nbh_policy p;
	char want[256];

	snprintf(want, sizeof(want), "%s: %s", path, reason);
	assert_int_equal(nbh_policy_load(path, &p, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void test_trusted_file_loads(void **state)
{
	struct nbh_policy p;
	(void)state;

	assert_int_equal(nbh_policy_load(file, &p, err, sizeof(err)), 0);
	assert_int_equal(p.n_rules, 1);
	nbh_policy_free(&p);
}

static void test_writable_file_refused(void **state)
{
	(void)state;

	assert_int_equal(chmod(file, 0664), 0);
	expect_refusal(file, "is writable by group or others");
	assert_int_equal(chmod(file, 0646), 0);
	expect_refusal(file, "is writable by group or others");
}

static void test_writable_directory_refused(void **state)
{
	char why[128];
	(void)state;

	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(why, sizeof(why), "directory %s: is writable by group or others", dir);
	expect_refusal(file, why);
	assert_int_equal(chmod(dir, 01777), 0); /* sticky but not root's: still refused */
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 1234, (gid_t)-1), 0);
		snprintf(why, sizeof(why), "directory %s: is not owned by root", dir);
		expect_refusal(file, why);
	}
}

static void test_symlinks_refused(void **state)
{
	char link[128], linked_dir[128], via_dir[160], why[192];
	(void)state;

	snprintf(link, sizeof(link), "%s/link.conf", dir);
	assert_int_equal(symlink(file, link), 0);
	expect_refusal(link, "is a symbolic link");
	snprintf(linked_dir, sizeof(linked_dir), "%s/d", dir);
	assert_int_equal(symlink(dir, linked_dir), 0);
	snprintf(via_dir, sizeof(via_dir), "%s/nicbox.conf", linked_dir);
	snprintf(why, sizeof(why), "directory %s: is a symbolic link", linked_dir);
	expect_refusal(via_dir, why);
}

static void test_not_a_regular_file_refused(void **state)
{
	char fifo[128];
	(void)state;

	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_refusal(fifo, "is not a regular file"); /* and did not block on open */
}

/* Owner checks need a file of another uid: chown, which needs root. */
static void test_file_of_another_user_refused(void **state)
{
	(void)state;

	if (geteuid() != 0) {
		print_message("needs root (chown to uid 1234); skipped\n");
		skip();
	}
	assert_int_equal(chown(file, 1234, (gid_t)-1), 0);
	expect_refusal(file, "is not owned by root");
}

static void test_match_first_rule_default_deny(void **state)
{
	struct nbh_policy p;
	struct nbh_ident alice = { .uid = 1000, .gid = 1000 };
	struct nbh_ident bob = { .uid = 1001, .gid = 1001, .groups = { 20, 1500 },
				 .n_groups = 2 };
	struct nbh_nic nic4 = { .bdf = "0000:00:04.0", .ifname = "eth0",
				.vendor_id = 0x1af4, .device_id = 0x1041 };
	struct nbh_nic nic5 = { .bdf = "0000:00:05.0", .vendor_id = 0x1af4, .device_id = 0x1041 };
	struct nbh_nic ixgbe = { .bdf = "0000:03:00.0", .ifname = "eth9",
				 .vendor_id = 0x8086, .device_id = 0x10fb };
	const struct nbh_rule *r;
	(void)state;

	assert_int_equal(parse("allow user:1000 pci:00:04.0 pool=8M\n"
			       "allow user:1000 if:eth0 pool=16M\n"
			       "allow group:1500 id:8086:10fb\n"
			       "allow user:1000 if:eth1\n", &p), 0);
	r = nbh_policy_match(&p, &alice, &nic4);
	assert_non_null(r);
	assert_int_equal(r->line, 1); /* first match wins */
	assert_null(nbh_policy_match(&p, &alice, &nic5)); /* no netdev, no rule */
	assert_null(nbh_policy_match(&p, &alice, &ixgbe));
	assert_null(nbh_policy_match(&p, &bob, &nic4));
	r = nbh_policy_match(&p, &bob, &ixgbe); /* supplementary group */
	assert_non_null(r);
	assert_int_equal(r->line, 3);
	bob.n_groups = 1;
	assert_null(nbh_policy_match(&p, &bob, &ixgbe));
	bob.gid = 1500; /* primary group counts too */
	assert_non_null(nbh_policy_match(&p, &bob, &ixgbe));
	nbh_policy_free(&p);
}

static void test_normalize_bdf(void **state)
{
	char out[NBP_BDF_LEN];
	(void)state;

	assert_int_equal(nbh_normalize_bdf("03:00.1", out), 0);
	assert_string_equal(out, "0000:03:00.1");
	assert_int_equal(nbh_normalize_bdf("0000:AF:1F.7", out), 0);
	assert_string_equal(out, "0000:af:1f.7");
	assert_int_equal(nbh_normalize_bdf("eth0", out), -1);
	assert_int_equal(nbh_normalize_bdf("0000:03:00:1", out), -1);
	assert_int_equal(nbh_normalize_bdf("0000/03:00.1", out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_files_name_file_and_line),
		cmocka_unit_test(test_long_line_and_nul),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_shipped_example_parses),
		cmocka_unit_test(test_match_first_rule_default_deny),
		cmocka_unit_test(test_normalize_bdf),
		cmocka_unit_test_setup_teardown(test_trusted_file_loads, make_policy, remove_policy),
		cmocka_unit_test_setup_teardown(test_writable_file_refused, make_policy, remove_policy),
		cmocka_unit_test_setup_teardown(test_writable_directory_refused, make_policy,
						remove_policy),
		cmocka_unit_test_setup_teardown(test_symlinks_refused, make_policy, remove_policy),
		cmocka_unit_test_setup_teardown(test_not_a_regular_file_refused, make_policy,
						remove_policy),
		cmocka_unit_test_setup_teardown(test_file_of_another_user_refused, make_policy,
						remove_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
