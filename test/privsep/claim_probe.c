/* SPDX-License-Identifier: MIT */
/*
 * claim_probe - the whole unprivileged path against a running nicbox-helper,
 * for the in-guest checks (test/vm/checks/2*-helper-*.sh):
 *
 *   claim_probe --socket PATH --dev DEV [--dev DEV] [--pool BYTES]
 *               [--hold SECONDS] [--try-open] [--leak SECONDS]
 *
 * claims the devices, asks for one pool, readies the session, maps BARs
 * through the VFIO backend (nb_pci), locks down, then reads device
 * registers: config space by pread on the device fd and, for virtio, the
 * num_queues field of the common configuration structure by MMIO. With
 * --hold it then holds everything for that long, or until the helper ends
 * the session (its socket hangs up), before releasing; with
 * --try-open it calls open() after lockdown, which must kill it (SIGSYS).
 * With --leak, a forked child keeps the device fds (and nothing else) for
 * SECONDS after the probe has released its session: a worker that passed
 * its device fd on (test/vm/checks/50-helper-quarantine.sh).
 * Prints one "key: value" line per step; exits 1 with "error: ..." on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nb_mmio.h"
#include "nb_session.h"

#define PCI_CAP_PTR 0x34
#define PCI_CAP_ID_VNDR 0x09
/* virtio 1.1 §4.1.4: virtio_pci_cap { cap_vndr, cap_next, cap_len, cfg_type, bar, ..., offset@8 } */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
/* virtio 1.1 §4.1.4.3: struct virtio_pci_common_cfg, num_queues at 0x12 */
#define VIRTIO_COMMON_NUM_QUEUES 0x12

static int fail(const char *what)
{
	printf("error: %s: %s (errno %d %s)\n", what, nb_last_error(), errno,
	       strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	return 1;
}

/* BAR and offset of the virtio common config, from the capability list. */
static int find_virtio_common(struct nb_pci *pci, uint8_t *bar, uint32_t *off)
{
	uint8_t pos, type, id;

	if (nb_pci_cfg_read8(pci, PCI_CAP_PTR, &pos) < 0)
		return -1;
	for (int guard = 0; pos >= 0x40 && guard < 48; guard++) {
		if (nb_pci_cfg_read8(pci, pos, &id) < 0 ||
		    nb_pci_cfg_read8(pci, pos + 3, &type) < 0)
			return -1;
		if (id == PCI_CAP_ID_VNDR && type == VIRTIO_PCI_CAP_COMMON_CFG)
			return nb_pci_cfg_read8(pci, pos + 4, bar) < 0 ||
			       nb_pci_cfg_read32(pci, pos + 8, off) < 0 ? -1 : 0;
		if (nb_pci_cfg_read8(pci, pos + 1, &pos) < 0)
			return -1;
	}
	errno = ENOENT;
	return -1;
}

/* The session's socket: libnicbox keeps it private, and it is our only
 * SOCK_SEQPACKET fd. */
static int session_socket(void)
{
	for (int fd = 3; fd < 64; fd++) {
		int type;
		socklen_t len = sizeof(type);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET)
			return fd;
	}
	return -1;
}

/* A child that keeps only the VFIO device fds for `secs` seconds. */
static void leak_device_fds(unsigned secs)
{
	struct timespec t = { .tv_sec = secs };
	char path[64], target[64];
	pid_t pid = fork();

	if (pid != 0) {
		printf("leaker: %d\n", (int)pid);
		return;
	}
	for (int fd = 0; fd < 1024; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (n > 0 && !strstr(target, "vfio-device"))
			close(fd);
	}
	clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *devs[NB_MAX_DEVICES];
	unsigned n_devs = 0, hold = 0, leak = 0;
	size_t pool_bytes = 8u << 20;
	bool try_open = false;
	struct nb_pci *pcis[NB_MAX_DEVICES];
	volatile uint8_t *common[NB_MAX_DEVICES] = { 0 };
	struct nb_session *s;
	struct nb_pool *pool;
	char warning[128], notice[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--dev") && i + 1 < argc && n_devs < NB_MAX_DEVICES)
			devs[n_devs++] = argv[++i];
		else if (!strcmp(argv[i], "--pool") && i + 1 < argc)
			pool_bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--try-open"))
			try_open = true;
		else if (!strcmp(argv[i], "--leak") && i + 1 < argc)
			leak = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: claim_probe --socket PATH --dev DEV [--dev DEV] "
				"[--pool BYTES] [--hold SECONDS] [--try-open] [--leak SECONDS]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("pid: %d\n", (int)getpid());
	if (nb_session_open(sock, &s) < 0)
		return fail("session");
	int sock_fd = session_socket();

	for (unsigned i = 0; i < n_devs; i++) {
		int idx = nb_session_claim(s, devs[i]);

		if (idx < 0)
			return fail("claim");
		printf("claimed: %d %s\n", idx, devs[i]);
	}
	if (nb_session_pool(s, pool_bytes, NB_PAGE_DEFAULT, &pool, warning, sizeof(warning)) < 0)
		return fail("pool");
	printf("pool: size=%zu page=%zu iova=0x%llx warning='%s'\n", nb_pool_size(pool),
	       nb_pool_page_size(pool), (unsigned long long)nb_pool_iova_base(pool), warning);
	if (nb_session_ready(s) < 0)
		return fail("ready");
	printf("ready: %u device fds\n", n_devs);
	for (unsigned i = 0; i < n_devs; i++) {
		uint8_t bar;
		uint32_t off;
		void *va;
		size_t len;

		if (nb_session_take_pci(s, (int)i, &pcis[i]) < 0)
			return fail("open device");
		printf("device: %s vendor=0x%04x device=0x%04x\n", pcis[i]->name,
		       pcis[i]->vendor_id, pcis[i]->device_id);
		if (find_virtio_common(pcis[i], &bar, &off) == 0) {
			if (pcis[i]->ops->map_bar(pcis[i], bar, &va, &len) < 0 || off + 0x14 > len)
				return fail("map BAR");
			common[i] = (volatile uint8_t *)va + off;
			printf("bar: %u mapped, %zu bytes, virtio common cfg at 0x%x\n", bar, len, off);
		}
	}
	if (leak)
		leak_device_fds(leak);
	/* Pool memory the helper mapped must be ours to use: write and read back. */
	memset(nb_pool_va_base(pool), 0x5a, nb_pool_size(pool));

	if (nb_lockdown(s, NULL, 0, notice, sizeof(notice)) < 0)
		return fail("lockdown");
	printf("lockdown: ok notice='%s'\n", notice);

	for (unsigned i = 0; i < n_devs; i++) {
		uint16_t vendor;

		if (nb_pci_cfg_read16(pcis[i], 0, &vendor) < 0)
			return fail("config read after lockdown");
		printf("locked cfg: %s vendor=0x%04x\n", pcis[i]->name, vendor);
		if (common[i])
			printf("locked mmio: %s num_queues=%u\n", pcis[i]->name,
			       nb_reg_read16((const void *)common[i], VIRTIO_COMMON_NUM_QUEUES));
	}
	printf("pool byte: 0x%02x\n", ((uint8_t *)nb_pool_va_base(pool))[nb_pool_size(pool) - 1]);
	if (try_open) {
		printf("trying open() after lockdown\n");
		syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
		printf("error: open() after lockdown returned\n");
		return 1;
	}
	/* Hold for `hold` seconds or until the helper ends the session (its
	 * socket hangs up, e.g. when the helper is stopped), then release. */
	if (hold)
		printf("holding: %u s\n", hold);
	for (unsigned tenths = 0; tenths < hold * 10; tenths++) {
		struct timespec t = { .tv_nsec = 100000000 };
		char byte;
		struct iovec iov = { &byte, 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (sock_fd >= 0 && recvmsg(sock_fd, &msg, MSG_DONTWAIT) == 0) {
			printf("helper ended the session\n");
			break;
		}
		clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
	}
	for (unsigned i = 0; i < n_devs; i++)
		pcis[i]->ops->close(pcis[i]);
	nb_pool_destroy(pool);
	nb_session_close(s);
	printf("released\n");
	return 0;
}
