/* SPDX-License-Identifier: MIT */
/* pcap.c - buffered classic pcap writer (host byte order, as libpcap does). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap.h"

struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;  /* always 0 */
	uint32_t sigfigs;  /* always 0 */
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_record_header {
	uint32_t ts_sec;
	uint32_t ts_frac; /* microseconds or nanoseconds, by the magic */
	uint32_t incl_len;
	uint32_t orig_len;
};

_Static_assert(sizeof(struct pcap_file_header) == PCAP_FILE_HEADER_LEN,
	       "pcap file header layout");
_Static_assert(sizeof(struct pcap_record_header) == PCAP_RECORD_HEADER_LEN,
	       "pcap record header layout");

int pcap_writer_init(struct pcap_writer *w, int fd, bool nsec,
		     uint32_t snaplen, size_t buf_size)
{
	struct pcap_file_header fh = {
		.magic = nsec ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = snaplen,
		.linktype = PCAP_LINKTYPE_ETHERNET,
	};

	if (fd < 0 || snaplen == 0 ||
	    buf_size < PCAP_FILE_HEADER_LEN + PCAP_RECORD_HEADER_LEN + snaplen) {
		errno = EINVAL;
		return -1;
	}
	memset(w, 0, sizeof(*w));
	w->buf = malloc(buf_size);
	if (!w->buf)
		return -1;
	w->fd = fd;
	w->nsec = nsec;
	w->snaplen = snaplen;
	w->cap = buf_size;
	memcpy(w->buf, &fh, sizeof(fh));
	w->used = sizeof(fh);
	return 0;
}

int pcap_flush(struct pcap_writer *w)
{
	size_t done = 0;

	while (done < w->used) {
		ssize_t n = write(w->fd, w->buf + done, w->used - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	w->used = 0;
	return 0;
}

int pcap_write(struct pcap_writer *w, const struct timespec *ts,
	       const uint8_t *data, uint32_t len)
{
	uint32_t incl = len < w->snaplen ? len : w->snaplen;
	struct pcap_record_header rh = {
		.ts_sec = (uint32_t)ts->tv_sec,
		.ts_frac = (uint32_t)(w->nsec ? ts->tv_nsec : ts->tv_nsec / 1000),
		.incl_len = incl,
		.orig_len = len,
	};

	if (w->cap - w->used < sizeof(rh) + incl && pcap_flush(w) < 0)
		return -1;
	memcpy(w->buf + w->used, &rh, sizeof(rh));
	memcpy(w->buf + w->used + sizeof(rh), data, incl);
	w->used += sizeof(rh) + incl;
	w->records++;
	return 0;
}

int pcap_writer_close(struct pcap_writer *w)
{
	int ret = pcap_flush(w);
	int saved = errno;

	if (close(w->fd) < 0 && ret == 0) {
		ret = -1;
		saved = errno;
	}
	free(w->buf);
	w->buf = NULL;
	w->fd = -1;
	errno = saved;
	return ret;
}
