/* SPDX-License-Identifier: MIT */
/* pcap.c - nicbox-capture's pcap writer and filter on top of libpcap. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap.h"

/*
 * libpcap is loaded on first use, not linked: Debian's pulls in seven more
 * libraries (dbus, systemd, gcrypt, lz4, ...), which cost nicbox-capture
 * 20 ms of its 44 ms exec under the testbed's TCG (docs/performance.md),
 * and a capture that only counts or checks frames needs none of it.
 */
#define LIBPCAP_CALLS(X)                                                       \
	X(pcap_open_dead) X(pcap_open_dead_with_tstamp_precision) X(pcap_close) \
	X(pcap_geterr) X(pcap_compile) X(pcap_offline_filter) X(pcap_freecode)  \
	X(pcap_dump_fopen) X(pcap_dump) X(pcap_dump_flush)
#define LIBPCAP_POINTER(name) __typeof__(name) *name;
static struct {
	void *handle;
	LIBPCAP_CALLS(LIBPCAP_POINTER)
} lp;

int cap_libpcap_load(char *err, size_t err_len)
{
	void *h;
	const char *missing = NULL;

	if (lp.handle)
		return 0;
	h = dlopen(NB_LIBPCAP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, err_len, "writing pcap files and filters need libpcap: %s "
			 "(apt-get install libpcap0.8)", dlerror());
		return -1;
	}
	/* POSIX's way to store dlsym's result in a function pointer. */
#define LIBPCAP_RESOLVE(name)                                    \
	if (!(*(void **)&lp.name = dlsym(h, #name)) && !missing) \
		missing = #name;
	LIBPCAP_CALLS(LIBPCAP_RESOLVE)
#undef LIBPCAP_RESOLVE
	if (missing) {
		snprintf(err, err_len, "%s has no %s (libpcap 1.5 or later needed)",
			 NB_LIBPCAP_SONAME, missing);
		dlclose(h);
		memset(&lp, 0, sizeof(lp));
		return -1;
	}
	lp.handle = h;
	return 0;
}

char *cap_filter_join(int n, char *const *words)
{
	size_t len = 1;
	char *out, *p;

	for (int i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(words[i]);

		if (i)
			*p++ = ' ';
		memcpy(p, words[i], l);
		p += l;
	}
	*p = '\0';
	return out;
}

int cap_filter_compile(struct cap_filter *f, const char *expr,
		       uint32_t snaplen, char *err, size_t err_len)
{
	pcap_t *p;
	int ret = 0;

	memset(f, 0, sizeof(*f));
	if (expr[0] == '\0')
		return 0;
	if (cap_libpcap_load(err, err_len) < 0)
		return -1;
	p = lp.pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (!p) {
		snprintf(err, err_len, "cannot set up libpcap: out of memory");
		return -1;
	}
	if (lp.pcap_compile(p, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, err_len, "bad filter '%s': %s", expr,
			 lp.pcap_geterr(p));
		ret = -1;
	} else {
		f->set = true;
	}
	lp.pcap_close(p);
	return ret;
}

bool cap_filter_match(const struct cap_filter *f, const uint8_t *data,
		      uint32_t len, uint32_t caplen)
{
	struct pcap_pkthdr h = { .caplen = caplen, .len = len };

	return !f->set || lp.pcap_offline_filter(&f->prog, &h, data) != 0;
}

void cap_filter_free(struct cap_filter *f)
{
	if (f->set)
		lp.pcap_freecode(&f->prog);
	f->set = false;
}

int cap_writer_open(struct cap_writer *w, int fd, bool nsec, uint32_t snaplen,
		    size_t buf_size, char *err, size_t err_len)
{
	memset(w, 0, sizeof(*w));
	if (cap_libpcap_load(err, err_len) < 0) {
		close(fd);
		return -1;
	}
	w->snaplen = snaplen;
	w->nsec = nsec;
	w->buf = malloc(buf_size);
	w->dead = lp.pcap_open_dead_with_tstamp_precision(
		DLT_EN10MB, (int)snaplen,
		nsec ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
	if (w->buf && w->dead)
		w->fp = fdopen(fd, "w");
	/* Our buffer: glibc would fstat(2) and malloc on the first write. */
	if (!w->fp || setvbuf(w->fp, w->buf, _IOFBF, buf_size) != 0) {
		snprintf(err, err_len, "cannot set up the pcap writer: %s",
			 strerror(errno));
		goto fail;
	}
	w->dumper = lp.pcap_dump_fopen(w->dead, w->fp);
	if (!w->dumper) {
		snprintf(err, err_len, "cannot set up the pcap writer: %s",
			 lp.pcap_geterr(w->dead));
		goto fail;
	}
	return 0;
fail:
	if (w->fp)
		fclose(w->fp);
	else
		close(fd);
	if (w->dead)
		lp.pcap_close(w->dead);
	free(w->buf);
	memset(w, 0, sizeof(*w));
	return -1;
}

int cap_writer_write(struct cap_writer *w, const struct timespec *ts,
		     const uint8_t *data, uint32_t len)
{
	struct pcap_pkthdr h = {
		.ts.tv_sec = ts->tv_sec,
		/* With nanosecond precision libpcap reads tv_usec as ns. */
		.ts.tv_usec = w->nsec ? ts->tv_nsec : ts->tv_nsec / 1000,
		.caplen = len < w->snaplen ? len : w->snaplen,
		.len = len,
	};

	/* pcap_dump does not report errors; the stream remembers them. */
	lp.pcap_dump((u_char *)w->dumper, &h, data);
	if (ferror(w->fp))
		return -1;
	w->records++;
	return 0;
}

int cap_writer_flush(struct cap_writer *w)
{
	return lp.pcap_dump_flush(w->dumper) < 0 || ferror(w->fp) ? -1 : 0;
}

int cap_writer_close(struct cap_writer *w)
{
	int ret = cap_writer_flush(w);
	int saved = errno;

	/* pcap_dump_close is fclose: a failed final write shows there. */
	if (fclose(w->fp) != 0 && ret == 0) {
		ret = -1;
		saved = errno;
	}
	lp.pcap_close(w->dead);
	free(w->buf);
	memset(w, 0, sizeof(*w));
	errno = saved;
	return ret;
}
