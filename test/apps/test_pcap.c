/* SPDX-License-Identifier: MIT */
/*
 * test_pcap.c - nicbox-capture's libpcap writer, parsed back field by
 * field; the filter's word joining, compile errors and matching; and the
 * writer and filter running under a seccomp filter that allows write(2)
 * and nothing else, as after nb_lockdown; and libpcap loaded only by the
 * calls that need it.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "pcap.h"

static uint8_t file[1 << 20];
static size_t file_len;
static char err[CAP_ERR_LEN];

/* A memfd stands in for the file; read it back whole after closing a dup. */
static int open_file(int *keep)
{
	int fd = memfd_create("pcap-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	*keep = dup(fd);
	assert_true(*keep >= 0);
	return fd;
}

static void read_back(int keep)
{
	ssize_t n = pread(keep, file, sizeof(file), 0);

	assert_true(n >= 0);
	file_len = (size_t)n;
	close(keep);
}

static uint32_t u32_at(size_t off)
{
	uint32_t v;

	assert_true(off + 4 <= file_len);
	memcpy(&v, file + off, 4);
	return v;
}

static uint16_t u16_at(size_t off)
{
	uint16_t v;

	assert_true(off + 2 <= file_len);
	memcpy(&v, file + off, 2);
	return v;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void open_writer(struct cap_writer *w, int fd, bool nsec,
			uint32_t snaplen, size_t buf)
{
	assert_int_equal(cap_writer_open(w, fd, nsec, snaplen, buf, err,
					 sizeof(err)), 0);
}

static void test_header_and_records_usec(void **state)
{
	static const uint32_t lens[] = { 60, 1514, 61, 1 };
	struct cap_writer w;
	struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 123456789 };
	uint8_t pkt[1514];
	size_t off;
	int keep;
	int fd = open_file(&keep);

	(void)state;
	open_writer(&w, fd, false, 65535, 1 << 17);
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		fill(pkt, lens[i], (uint8_t)i);
		ts.tv_sec += (time_t)i;
		assert_int_equal(cap_writer_write(&w, &ts, pkt, lens[i]), 0);
	}
	assert_int_equal(w.records, 4);
	assert_int_equal(cap_writer_close(&w), 0);
	read_back(keep);

	/* File header (pcap-savefile(5)) */
	assert_int_equal(u32_at(0), 0xa1b2c3d4);
	assert_int_equal(u16_at(4), 2);
	assert_int_equal(u16_at(6), 4);
	assert_int_equal(u32_at(8), 0);
	assert_int_equal(u32_at(12), 0);
	assert_int_equal(u32_at(16), 65535);
	assert_int_equal(u32_at(20), 1); /* LINKTYPE_ETHERNET */

	off = 24;
	ts.tv_sec = 1700000000;
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		ts.tv_sec += (time_t)i;
		assert_int_equal(u32_at(off), (uint32_t)ts.tv_sec);
		assert_int_equal(u32_at(off + 4), 123456); /* microseconds */
		assert_int_equal(u32_at(off + 8), lens[i]);
		assert_int_equal(u32_at(off + 12), lens[i]);
		fill(pkt, lens[i], (uint8_t)i);
		assert_true(off + 16 + lens[i] <= file_len);
		assert_memory_equal(file + off + 16, pkt, lens[i]);
		off += 16 + lens[i];
	}
	assert_int_equal(off, file_len);
}

static void test_nsec_and_snaplen(void **state)
{
	struct cap_writer w;
	struct timespec ts = { .tv_sec = 5, .tv_nsec = 999999999 };
	uint8_t pkt[200];
	int keep;
	int fd = open_file(&keep);

	(void)state;
	fill(pkt, sizeof(pkt), 3);
	open_writer(&w, fd, true, 100, 4096);
	assert_int_equal(cap_writer_write(&w, &ts, pkt, sizeof(pkt)), 0);
	assert_int_equal(cap_writer_close(&w), 0);
	read_back(keep);

	assert_int_equal(u32_at(0), 0xa1b23c4d);
	assert_int_equal(u32_at(16), 100);
	assert_int_equal(u32_at(24), 5);
	assert_int_equal(u32_at(28), 999999999);
	assert_int_equal(u32_at(32), 100); /* incl_len: cut to snaplen */
	assert_int_equal(u32_at(36), 200); /* orig_len: as on the wire */
	assert_memory_equal(file + 40, pkt, 100);
	assert_int_equal(file_len, 24 + 16 + 100);
}

/* Write n records of 60 + i % 240 bytes; check them in the file. */
static void write_records(struct cap_writer *w, uint32_t n)
{
	struct timespec ts = { 0 };
	uint8_t pkt[300];

	for (uint32_t i = 0; i < n; i++) {
		fill(pkt, 60 + i % 240, (uint8_t)i);
		ts.tv_nsec = i * 1000;
		assert_int_equal(cap_writer_write(w, &ts, pkt, 60 + i % 240), 0);
	}
}

static void check_records(uint32_t n)
{
	uint8_t pkt[300];
	size_t off = 24;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = 60 + i % 240;

		assert_int_equal(u32_at(off + 4), i);
		assert_int_equal(u32_at(off + 8), len);
		fill(pkt, len, (uint8_t)i);
		assert_memory_equal(file + off + 16, pkt, len);
		off += 16 + len;
	}
	assert_int_equal(off, file_len);
}

/* Many records through a buffer that holds few: flushes keep every byte. */
static void test_small_buffer_many_records(void **state)
{
	struct cap_writer w;
	int keep;
	int fd = open_file(&keep);

	(void)state;
	open_writer(&w, fd, false, 300, 24 + 16 + 300);
	write_records(&w, 1000);
	assert_int_equal(cap_writer_close(&w), 0);
	read_back(keep);
	check_records(1000);
}

static void test_errors(void **state)
{
	struct cap_writer w;
	struct timespec ts = { 0 };
	uint8_t pkt[64] = { 0 };
	int fds[2];

	(void)state;
	/* An fd that is not open: a clear message, nothing left behind. */
	assert_int_equal(cap_writer_open(&w, 1000, false, 100, 4096, err,
					 sizeof(err)), -1);
	assert_string_equal(err, "cannot set up the pcap writer: Bad file descriptor");

	/* A write that fails surfaces as -1 with the system's errno. */
	assert_int_equal(pipe(fds), 0);
	signal(SIGPIPE, SIG_IGN);
	open_writer(&w, fds[1], false, 64, 24 + 16 + 64);
	close(fds[0]);
	assert_int_equal(cap_writer_write(&w, &ts, pkt, 64), 0); /* buffered */
	assert_int_equal(cap_writer_flush(&w), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(cap_writer_write(&w, &ts, pkt, 64), -1);
	assert_int_equal(cap_writer_close(&w), -1);
}

static bool libpcap_mapped(void)
{
	char line[512];
	bool found = false;
	FILE *maps = fopen("/proc/self/maps", "r");

	assert_non_null(maps);
	while (!found && fgets(line, sizeof(line), maps))
		found = strstr(line, "/libpcap.so") != NULL;
	fclose(maps);
	return found;
}

/* Runs first: a capture that only counts frames must not load libpcap. */
static void test_libpcap_loaded_on_first_use(void **state)
{
	struct cap_filter f;

	(void)state;
	assert_false(libpcap_mapped());
	assert_int_equal(cap_filter_compile(&f, "", 65535, err, sizeof(err)), 0);
	assert_false(libpcap_mapped());
	assert_int_equal(cap_filter_compile(&f, "udp", 65535, err, sizeof(err)), 0);
	assert_true(libpcap_mapped());
	cap_filter_free(&f);
}

static void test_filter_join(void **state)
{
	char *words[] = { "udp", "port", "53", "and", "not", "host 10.0.0.1" };
	char *s;

	(void)state;
	s = cap_filter_join(6, words);
	assert_string_equal(s, "udp port 53 and not host 10.0.0.1");
	free(s);
	s = cap_filter_join(1, words);
	assert_string_equal(s, "udp");
	free(s);
	s = cap_filter_join(0, words);
	assert_string_equal(s, "");
	free(s);
}

static void test_filter_errors(void **state)
{
	struct cap_filter f;

	(void)state;
	assert_int_equal(cap_filter_compile(&f, "udp prt 53", 65535, err,
					    sizeof(err)), -1);
	assert_false(f.set);
	assert_true(strncmp(err, "bad filter 'udp prt 53': ", 25) == 0);
	assert_non_null(strstr(err, "syntax error"));
	assert_int_equal(cap_filter_compile(&f, "udp port 70000", 65535, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, "bad filter 'udp port 70000': "));
	assert_non_null(strstr(err, "70000"));
}

static void build_frame(uint8_t *buf, uint32_t size, uint16_t port)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	struct frame_addrs a;

	frame_default_addrs(&a, mac);
	a.udp_port = port;
	frame_build_headers(buf, size, &a);
	frame_stamp(buf, size, 1);
}

static void test_filter_match(void **state)
{
	uint8_t f53[100], f42[100];
	struct cap_filter f;

	(void)state;
	build_frame(f53, sizeof(f53), 53);
	build_frame(f42, sizeof(f42), FRAME_UDP_PORT);

	assert_int_equal(cap_filter_compile(&f, "", 65535, err, sizeof(err)), 0);
	assert_false(f.set);
	assert_true(cap_filter_match(&f, f53, 100, 100));

	assert_int_equal(cap_filter_compile(&f, "udp port 53", 65535, err,
					    sizeof(err)), 0);
	assert_true(cap_filter_match(&f, f53, 100, 100));
	assert_false(cap_filter_match(&f, f42, 100, 100));
	cap_filter_free(&f);

	assert_int_equal(cap_filter_compile(&f, "greater 99 and dst port 42424",
					    65535, err, sizeof(err)), 0);
	assert_true(cap_filter_match(&f, f42, 100, 100));
	assert_false(cap_filter_match(&f, f42, 98, 98));
	assert_false(cap_filter_match(&f, f53, 100, 100));
	cap_filter_free(&f);
}

/*
 * The writer set up and the filter compiled, a child allows itself write(2)
 * and exit only (default: kill the process; sigaltstack for ASan's exit), then filters and writes 1000
 * frames through a small buffer and flushes: what nicbox-capture does after
 * lockdown must need no other system call.
 */
static void test_write_only_after_open(void **state)
{
	struct cap_writer w;
	struct cap_filter f;
	int keep, status;
	int fd = open_file(&keep);
	pid_t pid;

	(void)state;
	open_writer(&w, fd, false, 300, 4096);
	assert_int_equal(cap_filter_compile(&f, "udp port 42424", 300, err,
					    sizeof(err)), 0);
	/* The header out now (libpcap 1.10 flushes it at open already): the
	 * parent's close then writes nothing twice. */
	assert_int_equal(cap_writer_flush(&w), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
		uint8_t frame[100];

		build_frame(frame, sizeof(frame), FRAME_UDP_PORT);
		if (!ctx ||
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 0) ||
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0) ||
		    /* ASan's runtime in _exit, as in worker-seccomp.policy */
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0) ||
		    seccomp_load(ctx))
			_exit(10);
		if (!cap_filter_match(&f, frame, 100, 100))
			_exit(11);
		write_records(&w, 1000);
		_exit(cap_writer_flush(&w) == 0 ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the child was killed by signal %d (a system call"
			 " other than write)", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	cap_filter_free(&f);
	assert_int_equal(cap_writer_close(&w), 0);
	read_back(keep);
	check_records(1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libpcap_loaded_on_first_use),
		cmocka_unit_test(test_header_and_records_usec),
		cmocka_unit_test(test_nsec_and_snaplen),
		cmocka_unit_test(test_small_buffer_many_records),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_filter_join),
		cmocka_unit_test(test_filter_errors),
		cmocka_unit_test(test_filter_match),
		cmocka_unit_test(test_write_only_after_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
