/* SPDX-License-Identifier: MIT */
/* test_pcap.c - the pcap writer's files, parsed back field by field. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcap.h"

static uint8_t file[1 << 20];
static size_t file_len;

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

static void test_header_and_records_usec(void **state)
{
	static const uint32_t lens[] = { 60, 1514, 61, 1 };
	struct pcap_writer w;
	struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 123456789 };
	uint8_t pkt[1514];
	size_t off;
	int keep;
	int fd = open_file(&keep);

	(void)state;
	assert_int_equal(pcap_writer_init(&w, fd, false, 65535, 1 << 17), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		fill(pkt, lens[i], (uint8_t)i);
		ts.tv_sec += (time_t)i;
		assert_int_equal(pcap_write(&w, &ts, pkt, lens[i]), 0);
	}
	assert_int_equal(w.records, 4);
	assert_int_equal(pcap_writer_close(&w), 0);
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
	struct pcap_writer w;
	struct timespec ts = { .tv_sec = 5, .tv_nsec = 999999999 };
	uint8_t pkt[200];
	int keep;
	int fd = open_file(&keep);

	(void)state;
	fill(pkt, sizeof(pkt), 3);
	assert_int_equal(pcap_writer_init(&w, fd, true, 100, 4096), 0);
	assert_int_equal(pcap_write(&w, &ts, pkt, sizeof(pkt)), 0);
	assert_int_equal(pcap_writer_close(&w), 0);
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

/* Many records through a buffer that holds few: flushes keep every byte. */
static void test_small_buffer_many_records(void **state)
{
	struct pcap_writer w;
	struct timespec ts = { 0 };
	uint8_t pkt[300];
	size_t off = 24;
	int keep;
	int fd = open_file(&keep);

	(void)state;
	assert_int_equal(pcap_writer_init(&w, fd, false, 300, 24 + 16 + 300), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		fill(pkt, 60 + i % 240, (uint8_t)i);
		ts.tv_nsec = i * 1000;
		assert_int_equal(pcap_write(&w, &ts, pkt, 60 + i % 240), 0);
	}
	assert_int_equal(pcap_writer_close(&w), 0);
	read_back(keep);
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t len = 60 + i % 240;

		assert_int_equal(u32_at(off + 4), i);
		assert_int_equal(u32_at(off + 8), len);
		fill(pkt, len, (uint8_t)i);
		assert_memory_equal(file + off + 16, pkt, len);
		off += 16 + len;
	}
	assert_int_equal(off, file_len);
}

static void test_errors(void **state)
{
	struct pcap_writer w;
	struct timespec ts = { 0 };
	uint8_t pkt[64] = { 0 };
	int fds[2];

	(void)state;
	/* A buffer that cannot hold a full record is refused. */
	errno = 0;
	assert_int_equal(pcap_writer_init(&w, 1, false, 65535, 1000), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pcap_writer_init(&w, -1, false, 100, 4096), -1);
	assert_int_equal(errno, EINVAL);

	/* A write that fails surfaces as -1 with the system's errno. */
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	assert_int_equal(pcap_writer_init(&w, fds[1], false, 64, 24 + 16 + 64), 0);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pcap_write(&w, &ts, pkt, 64), 0); /* still buffered */
	assert_int_equal(pcap_write(&w, &ts, pkt, 64), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(pcap_writer_close(&w), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_records_usec),
		cmocka_unit_test(test_nsec_and_snaplen),
		cmocka_unit_test(test_small_buffer_many_records),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
