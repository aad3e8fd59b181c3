/* SPDX-License-Identifier: MIT */
/*
 * write_test_pcap - write pktgen frames into a pcap file with the apps'
 * own frame builder and their libpcap-based writer, for tshark to judge
 * independently (test/apps/check_tshark.sh).
 * Usage: write_test_pcap FILE COUNT  (frame i is 60 + (i * 97) % 1455 bytes)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "frame.h"
#include "pcap.h"

int main(int argc, char **argv)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static uint8_t buf[FRAME_MAX_SIZE];
	struct frame_addrs addrs;
	struct cap_writer w;
	char err[CAP_ERR_LEN];
	struct timespec ts;
	long count;
	int fd;

	if (argc != 3 || (count = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: write_test_pcap FILE COUNT\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (cap_writer_open(&w, fd, true, CAP_DEFAULT_SNAPLEN, 1 << 18, err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], err);
		return 1;
	}
	frame_default_addrs(&addrs, mac);
	clock_gettime(CLOCK_REALTIME, &ts);
	for (long i = 0; i < count; i++) {
		uint32_t size = FRAME_MIN_SIZE +
				(uint32_t)(i * 97) % (FRAME_MAX_SIZE - FRAME_MIN_SIZE + 1);

		frame_build_headers(buf, size, &addrs);
		frame_stamp(buf, size, (uint64_t)i);
		if (cap_writer_write(&w, &ts, buf, size) < 0) {
			perror(argv[1]);
			return 1;
		}
	}
	if (cap_writer_close(&w) < 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
