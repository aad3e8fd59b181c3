/* SPDX-License-Identifier: MIT */
/*
 * test_session.c - the real nicbox-helper binary against the client API and
 * raw protocol violations, on any machine: nothing here binds a NIC (the
 * requests fail before that, by design), so it needs neither an IOMMU nor
 * a spare NIC. Claims that succeed are covered by the in-guest checks
 * (test/vm/checks/2*-helper-*.sh).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nicbox.h"
#include "proto.h"

struct fixture {
	char dir[64];
	char sock[96];
	char policy[96];
	pid_t helper;
};

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* First PCI network controller on this machine, "" if none. */
static void some_nic(char *out, size_t len)
{
	struct dirent *e;
	DIR *d = opendir("/sys/bus/pci/devices");

	out[0] = '\0';
	while (d && (e = readdir(d))) {
		char path[300], cls[16] = "";
		int fd;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd >= 0 && read(fd, cls, sizeof(cls) - 1) > 0 &&
		    strncmp(cls, "0x02", 4) == 0 && strlen(e->d_name) < len) {
			strcpy(out, e->d_name);
			close(fd);
			break;
		}
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
}

static void write_policy(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->policy, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/*
 * Wait (up to 5 s) until something listens at the fixture's socket. The
 * file alone is no sign of that where bind() creates it before listen():
 * a connect() in between is refused (ECONNREFUSED), and on a loaded machine
 * the listener can be descheduled there. nicbox-helper binds PATH.new and
 * renames it to PATH after listen(), so for it the file IS the sign; for
 * systemd-socket-activate, /proc/net/unix lists the path with
 * __SO_ACCEPTCON (0x10000 in Flags), which listen() sets.
 */
static bool listening(const char *path)
{
	char line[512], name[256];
	unsigned long flags;
	bool yes = false;
	FILE *fp = fopen("/proc/net/unix", "r");

	assert_non_null(fp);
	while (!yes && fgets(line, sizeof(line), fp))
		yes = sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %255s", &flags, name) == 2 &&
		      (flags & 0x10000) && strcmp(name, path) == 0;
	fclose(fp);
	return yes;
}

static void wait_listening(const struct fixture *f, bool (*ready)(const char *path))
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 500 && !ready(f->sock); i++)
		nanosleep(&tick, NULL);
	assert_true(ready(f->sock));
}

/* The helper binary start_helper() runs. */
static const char *helper_path = NB_HELPER_PATH;

/* Start the helper (directly or through systemd-socket-activate). */
static void start_helper(struct fixture *f, bool activated)
{
	f->helper = fork();
	assert_true(f->helper >= 0);
	if (f->helper == 0) {
		if (activated)
			execlp("systemd-socket-activate", "systemd-socket-activate",
			       "--seqpacket", "-l", f->sock, helper_path, "serve",
			       "--policy", f->policy, (char *)NULL);
		else
			execl(helper_path, "nicbox-helper", "serve", "--socket",
			      f->sock, "--policy", f->policy, (char *)NULL);
		_exit(127);
	}
	wait_listening(f, activated ? listening : exists);
}

static int setup(void **state)
{
	static struct fixture f;

	strcpy(f.dir, "/tmp/nb-session-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.sock, sizeof(f.sock), "%s/helper.sock", f.dir);
	snprintf(f.policy, sizeof(f.policy), "%s/nicbox.conf", f.dir);
	f.helper = 0;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int status;

	if (f->helper > 0) {
		kill(f->helper, SIGTERM);
		waitpid(f->helper, &status, 0);
	}
	unlink(f->sock);
	unlink(f->policy);
	rmdir(f->dir);
	return 0;
}

static void test_open_without_helper_explains(void **state)
{
	struct nb_session *s;
	(void)state;

	assert_int_equal(nb_session_open("/nonexistent/nicbox.sock", &s), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(nb_last_error(), "is nicbox-helper running?"));
}

static void test_malformed_policy_stops_helper(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	write_policy(f, "allow user:0 pci:00:04.0\nallow user:0 pci:zz\n");
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execl(NB_HELPER_PATH, "nicbox-helper", "serve", "--socket", f->sock,
		      "--policy", f->policy, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_false(exists(f->sock));
}

static void test_hello_release(void **state)
{
	struct fixture *f = *state;
	struct nb_session *s;

	write_policy(f, "allow user:0 id:ffff:ffff\n");
	start_helper(f, false);
	assert_int_equal(nb_session_open(f->sock, &s), 0);
	nb_session_close(s);
	/* The helper serves the next client (one child per connection). */
	assert_int_equal(nb_session_open(f->sock, &s), 0);
	nb_session_close(s);
}

static void test_socket_activation(void **state)
{
	struct fixture *f = *state;
	struct nb_session *s;

	if (access("/usr/bin/systemd-socket-activate", X_OK) != 0)
		skip();
	write_policy(f, "allow user:0 id:ffff:ffff\n");
	start_helper(f, true);
	assert_int_equal(nb_session_open(f->sock, &s), 0);
	nb_session_close(s);
}

static void test_claim_errors(void **state)
{
	struct fixture *f = *state;
	struct nb_session *s;
	char nic[32];

	write_policy(f, "allow user:0 id:ffff:ffff\n");
	start_helper(f, false);
	/* Every failure ends that session; each case opens a new one. */
	assert_int_equal(nb_session_open(f->sock, &s), 0);
	assert_int_equal(nb_session_claim(s, "0000:ff:1f.7"), -1);
	assert_int_equal(errno, ENODEV);
	assert_non_null(strstr(nb_last_error(), "no PCI device 0000:ff:1f.7"));
	nb_session_close(s);

	assert_int_equal(nb_session_open(f->sock, &s), 0);
	assert_int_equal(nb_session_claim(s, "nb-no-such-if"), -1);
	assert_int_equal(errno, ENODEV);
	nb_session_close(s);

	some_nic(nic, sizeof(nic));
	if (!nic[0])
		return;
	assert_int_equal(nb_session_open(f->sock, &s), 0);
	assert_int_equal(nb_session_claim(s, nic), -1);
	assert_int_equal(errno, EACCES);
	assert_non_null(strstr(nb_last_error(), "claim no device"));
	nb_session_close(s);
}

/* ---- the helper on a fake sysfs tree (NB_FAKESYS) ---------------------- */

static void fake_write(const char *rel, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", NB_FAKESYS, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void fake_read(const char *rel, char *buf, size_t len)
{
	char path[512];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", NB_FAKESYS, rel);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* A PCI network function bound to "fakedrv", in IOMMU group 7. */
static void fake_nic(const char *bdf, const char *vendor, const char *device)
{
	char rel[256], target[512];

	snprintf(rel, sizeof(rel), "%s/sys/bus/pci/devices/%s", NB_FAKESYS, bdf);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/class", bdf);
	fake_write(rel, "0x020000\n");
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", bdf);
	fake_write(rel, vendor);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", bdf);
	fake_write(rel, device);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver_override", bdf);
	fake_write(rel, "(null)\n");
	snprintf(rel, sizeof(rel), "%s/sys/bus/pci/devices/%s/driver", NB_FAKESYS, bdf);
	snprintf(target, sizeof(target), "%s/sys/bus/pci/drivers/fakedrv", NB_FAKESYS);
	assert_int_equal(symlink(target, rel), 0);
	/* Each function alone in its IOMMU group (7 + function number), with
	 * the devices/ listing the helper reads for the whole-group rule. */
	snprintf(target, sizeof(target), "%s/sys/kernel/iommu_groups/%d", NB_FAKESYS,
		 7 + bdf[11] - '0');
	assert_int_equal(mkdir(target, 0755), 0);
	snprintf(rel, sizeof(rel), "%s/sys/bus/pci/devices/%s/iommu_group", NB_FAKESYS, bdf);
	assert_int_equal(symlink(target, rel), 0);
	strcat(target, "/devices");
	assert_int_equal(mkdir(target, 0755), 0);
	snprintf(rel, sizeof(rel), "%s/sys/bus/pci/devices/%s", NB_FAKESYS, bdf);
	snprintf(target + strlen(target), sizeof(target) - strlen(target), "/%s", bdf);
	assert_int_equal(symlink(rel, target), 0);
}

/*
 * An 82540EM (8086:100e, e1000: no nicbox driver) is refused before the
 * helper locks, unbinds or overrides anything; a virtio-net function in
 * the same tree gets as far as the unbind, so the tree does see writes.
 */
static void test_unsupported_nic_refused_before_any_write(void **state)
{
	static const char *const dirs[] = {
		"", "/sys", "/sys/bus", "/sys/bus/pci", "/sys/bus/pci/devices",
		"/sys/bus/pci/drivers", "/sys/bus/pci/drivers/fakedrv",
		"/sys/bus/pci/drivers/vfio-pci", "/sys/kernel", "/sys/kernel/iommu_groups",
		"/run",
	};
	struct fixture *f = *state;
	struct nb_session *s;
	char buf[256], policy[128];

	snprintf(buf, sizeof(buf), "rm -rf '%s'", NB_FAKESYS);
	assert_int_equal(system(buf), 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", NB_FAKESYS, dirs[i]);
		assert_int_equal(mkdir(buf, 0755), 0);
	}
	fake_write("sys/bus/pci/drivers/fakedrv/unbind", "");
	fake_write("sys/bus/pci/drivers_probe", "");
	fake_nic("0000:7f:00.0", "0x8086\n", "0x100e\n");
	fake_nic("0000:7f:00.1", "0x1af4\n", "0x1041\n");
	snprintf(policy, sizeof(policy), "allow user:%u id:8086:100e\nallow user:%u id:1af4:1041\n",
		 (unsigned)getuid(), (unsigned)getuid());
	write_policy(f, policy);
	helper_path = NB_FAKESYS_HELPER;
	start_helper(f, false);
	helper_path = NB_HELPER_PATH;

	assert_int_equal(nb_session_open(f->sock, &s), 0);
	assert_int_equal(nb_session_claim(s, "0000:7f:00.0"), -1);
	assert_int_equal(errno, ENODEV);
	if (!strstr(nb_last_error(), "8086:100e) is a NIC no nicbox driver supports"))
		fail_msg("refusal \"%s\" does not name the reason", nb_last_error());
	nb_session_close(s);
	fake_read("sys/bus/pci/devices/0000:7f:00.0/driver_override", buf, sizeof(buf));
	assert_string_equal(buf, "(null)\n");
	fake_read("sys/bus/pci/drivers/fakedrv/unbind", buf, sizeof(buf));
	assert_string_equal(buf, "");
	fake_read("sys/bus/pci/drivers_probe", buf, sizeof(buf));
	assert_string_equal(buf, "");
	snprintf(buf, sizeof(buf), "%s/run/nicbox/state/0000:7f:00.0.lock", NB_FAKESYS);
	assert_false(exists(buf));

	/* The supported function: the helper does write (unbind), then fails
	 * because nothing binds it to vfio-pci in a fake tree. */
	assert_int_equal(nb_session_open(f->sock, &s), 0);
	assert_int_equal(nb_session_claim(s, "0000:7f:00.1"), -1);
	assert_non_null(strstr(nb_last_error(), "did not bind to vfio-pci"));
	nb_session_close(s);
	fake_read("sys/bus/pci/drivers/fakedrv/unbind", buf, sizeof(buf));
	assert_string_equal(buf, "0000:7f:00.1");
}

/*
 * A SIGTERM that arrives after the helper's quit check but before it blocks
 * in its wait (term_before_wait.so raises it right there) still stops the
 * helper: it is not lost.
 */
static void test_sigterm_just_before_the_wait_is_not_lost(void **state)
{
	struct fixture *f = *state;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	const char *asan = getenv("ASAN_OPTIONS");
	char asan_opts[256];
	int status = 0;
	pid_t done = 0;

	write_policy(f, "allow user:0 id:ffff:ffff\n");
	/* The shim comes before ASan's runtime in the load order. */
	snprintf(asan_opts, sizeof(asan_opts), "%s%sverify_asan_link_order=0",
		 asan ? asan : "", asan ? ":" : "");
	f->helper = fork();
	assert_true(f->helper >= 0);
	if (f->helper == 0) {
		setenv("LD_PRELOAD", NB_TERM_SHIM, 1);
		setenv("ASAN_OPTIONS", asan_opts, 1);
		execl(helper_path, "nicbox-helper", "serve", "--socket", f->sock,
		      "--policy", f->policy, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000 && done == 0; i++) { /* 10 s */
		done = waitpid(f->helper, &status, WNOHANG);
		if (done == 0)
			nanosleep(&tick, NULL);
	}
	if (done == 0)
		fail_msg("the helper missed a SIGTERM raised just before its wait: still running after 10 s");
	f->helper = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* On a machine without an IOMMU the refusal names the kernel option. */
static void test_claim_without_iommu_names_the_fix(void **state)
{
	struct fixture *f = *state;
	struct nb_session *s;
	char nic[32], policy[128];
	DIR *d = opendir("/sys/kernel/iommu_groups");
	struct dirent *e;
	bool have_iommu = false;

	while (d && (e = readdir(d)))
		have_iommu |= e->d_name[0] != '.';
	if (d)
		closedir(d);
	some_nic(nic, sizeof(nic));
	if (have_iommu || !nic[0])
		skip();
	snprintf(policy, sizeof(policy), "allow user:%u pci:%s\n", (unsigned)getuid(), nic);
	write_policy(f, policy);
	start_helper(f, false);
	assert_int_equal(nb_session_open(f->sock, &s), 0);
	assert_int_equal(nb_session_claim(s, nic), -1);
	assert_int_equal(errno, ENXIO);
	assert_non_null(strstr(nb_last_error(), "intel_iommu=on"));
	nb_session_close(s);
}

/* Connect and say HELLO (or not); the connected socket. */
static int raw_connect(struct fixture *f, bool hello)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sock = socket(AF_UNIX, SOCK_SEQPACKET, 0), fds[NB_MAX_DEVICES];
	union nbp_msg m;
	unsigned n_fds;

	strcpy(addr.sun_path, f->sock);
	assert_int_equal(connect(sock, (struct sockaddr *)&addr, sizeof(addr)), 0);
	if (hello) {
		nbp_init(&m, NBP_HELLO);
		assert_int_equal(nbp_send(sock, &m, sizeof(m.hello), NULL, 0), 0);
		assert_int_equal(nbp_recv(sock, &m, fds, &n_fds), sizeof(m.hello_ok));
		assert_int_equal(m.hdr.type, NBP_HELLO_OK);
		assert_int_equal(m.hello_ok.uid, getuid());
	}
	return sock;
}

/* Raw protocol: send `msg` (after a HELLO if `hello_first`), expect one
 * ERROR with `err`, then the hang-up. */
static void expect_error_then_hangup(struct fixture *f, bool hello_first,
				     const void *msg, size_t len, int fd, int err)
{
	int sock = raw_connect(f, hello_first), fds[NB_MAX_DEVICES];
	union nbp_msg rep;
	unsigned n_fds;
	long n;

	assert_int_equal(nbp_send(sock, msg, len, fd >= 0 ? &fd : NULL, fd >= 0), 0);
	n = nbp_recv(sock, &rep, fds, &n_fds);
	assert_int_equal(n, sizeof(rep.error));
	assert_int_equal(rep.hdr.type, NBP_ERROR);
	assert_int_equal(rep.error.err, err);
	assert_true(strlen(rep.error.reason) > 0);
	assert_int_equal(nbp_recv(sock, &rep, fds, &n_fds), 0);
	close(sock);
}

static void test_protocol_violations_end_the_session(void **state)
{
	struct fixture *f = *state;
	union nbp_msg m;
	char big[sizeof(union nbp_msg) + 16] = { 0 };

	write_policy(f, "allow user:0 id:ffff:ffff\n");
	start_helper(f, false);
	nbp_init(&m, NBP_HELLO);
	m.hdr.version = NBP_VERSION + 1;        /* wrong version */
	expect_error_then_hangup(f, false, &m, sizeof(m.hello), -1, EPROTO);
	nbp_init(&m, NBP_CLAIM);                /* wrong state: claim first */
	strcpy(m.claim.device, "eth0");
	expect_error_then_hangup(f, false, &m, sizeof(m.claim), -1, EPROTO);
	nbp_init(&m, NBP_POOL);                 /* wrong state: pool before claim */
	m.pool.bytes = 4096;
	expect_error_then_hangup(f, true, &m, sizeof(m.pool), -1, EPROTO);
	nbp_init(&m, NBP_READY);                /* a client fd */
	expect_error_then_hangup(f, true, &m, sizeof(m.hdr), 0, EPROTO);
	nbp_init(&m, NBP_CLAIM);                /* short */
	expect_error_then_hangup(f, true, &m, sizeof(m.hdr), -1, EBADMSG);
	nbp_init(big, NBP_HELLO);               /* long */
	expect_error_then_hangup(f, false, big, sizeof(big), -1, EMSGSIZE);
	nbp_init(&m, NBP_HELLO_OK);             /* a reply type */
	expect_error_then_hangup(f, true, &m, sizeof(m.hello_ok), -1, EPROTO);
}

/* A uid no rule names gets no session: refused at connect, with the reason. */
static void test_unnamed_uid_refused_at_once(void **state)
{
	struct fixture *f = *state;
	struct nb_session *s;

	write_policy(f, "allow user:4242 id:ffff:ffff\n");
	start_helper(f, false);
	assert_int_equal(nb_session_open(f->sock, &s), -1);
	assert_int_equal(errno, EACCES);
	assert_non_null(strstr(nb_last_error(), "names uid 0 in no rule"));
}

/* One uid holds at most 8 sessions (MAX_PER_UID in privhelper/main.c); the
 * next is refused at once, and a slot is free again by the second after a
 * session ended. */
static void test_per_uid_session_cap(void **state)
{
	struct fixture *f = *state;
	struct nb_session *s;
	int socks[8];

	write_policy(f, "allow user:0 id:ffff:ffff\n");
	start_helper(f, false);
	for (int i = 0; i < 8; i++)
		socks[i] = raw_connect(f, true);
	assert_int_equal(nb_session_open(f->sock, &s), -1);
	assert_int_equal(errno, EUSERS);
	assert_non_null(strstr(nb_last_error(), "uid 0 has 8 sessions open"));
	close(socks[0]);
	for (int i = 0; i < 200 && nb_session_open(f->sock, &s) < 0; i++)
		usleep(20 * 1000); /* a slot is free again by the next second */
	assert_non_null(s);
	nb_session_close(s);
	for (int i = 1; i < 8; i++)
		close(socks[i]);
}

/* A client that never says HELLO is sent away after NBH_HELLO_SECONDS (5). */
static void test_hello_deadline(void **state)
{
	struct fixture *f = *state;
	struct timespec t0, t1;
	int fds[NB_MAX_DEVICES], sock;
	union nbp_msg m;
	unsigned n_fds;

	write_policy(f, "allow user:0 id:ffff:ffff\n");
	start_helper(f, false);
	sock = raw_connect(f, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarm(30); /* before the deadline existed, this waited forever */
	assert_int_equal(nbp_recv(sock, &m, fds, &n_fds), sizeof(m.error));
	alarm(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(m.hdr.type, NBP_ERROR);
	assert_int_equal(m.error.err, ETIMEDOUT);
	assert_non_null(strstr(m.error.reason, "no HELLO within 5 s"));
	assert_true(t1.tv_sec - t0.tv_sec >= 4);
	assert_int_equal(nbp_recv(sock, &m, fds, &n_fds), 0);
	close(sock);
}

/*
 * A stand-in for the helper in a child process, listening as `uid`: it
 * answers every request with its OK reply (POOL_OK always with index 0 and
 * a fresh memfd, as often as asked), or never answers if `silent`.
 */
static void start_fake_helper(struct fixture *f, uid_t uid, bool silent)
{
	f->helper = fork();
	assert_true(f->helper >= 0);
	if (f->helper == 0) {
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		int l = socket(AF_UNIX, SOCK_SEQPACKET, 0), c, fds[NB_MAX_DEVICES];
		union nbp_msg m;
		unsigned n_fds;

		/* As the helper: the path appears once it listens. */
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s.new", f->sock);
		if ((uid && (chown(f->dir, uid, (gid_t)-1) < 0 || setresuid(uid, uid, uid) < 0)) ||
		    bind(l, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(l, 4) < 0 ||
		    rename(addr.sun_path, f->sock) < 0 || (c = accept(l, NULL, NULL)) < 0)
			_exit(1);
		while (nbp_recv(c, &m, fds, &n_fds) > 0 && !silent) {
			uint16_t type = m.hdr.type;
			int memfd = type == NBP_POOL ? memfd_create("fake-pool", MFD_CLOEXEC) : -1;

			nbp_init(&m, type | 0x80);
			if (type == NBP_CLAIM)
				strcpy(m.claim_ok.bdf, "0000:00:04.0");
			if (type == NBP_POOL) {
				m.pool_ok.size = m.pool_ok.page_size = 4096;
				if (ftruncate(memfd, 4096) < 0)
					_exit(1);
			}
			nbp_send(c, &m, m.hdr.len, &memfd, memfd >= 0);
			if (memfd >= 0)
				close(memfd);
		}
		pause();
		_exit(0);
	}
	wait_listening(f, exists);
}

/* The client keeps at most NB_MAX_POOLS pools, whatever the helper answers. */
static void test_client_refuses_a_fifth_pool(void **state)
{
	struct fixture *f = *state;
	struct nb_pool *pools[NB_MAX_POOLS + 1] = { NULL };
	struct nb_session *s;

	start_fake_helper(f, 0, false);
	assert_int_equal(nb_session_open(f->sock, &s), 0);
	assert_int_equal(nb_session_claim(s, "0000:00:04.0"), 0);
	for (int i = 0; i < NB_MAX_POOLS; i++)
		assert_int_equal(nb_session_pool(s, 4096, NB_PAGE_4K, &pools[i], NULL, 0), 0);
	assert_int_equal(nb_session_pool(s, 4096, NB_PAGE_4K, &pools[NB_MAX_POOLS], NULL, 0), -1);
	assert_int_equal(errno, E2BIG);
	for (int i = 0; i <= NB_MAX_POOLS; i++)
		nb_pool_destroy(pools[i]);
	kill(f->helper, SIGTERM); /* the fake never answers RELEASE */
	nb_session_close(s);
}

/* A helper that accepts and never answers: the client gives up with a reason. */
static void test_client_times_out(void **state)
{
	struct fixture *f = *state;
	struct nb_session *s = NULL;

	start_fake_helper(f, 0, true);
	setenv("NICBOX_TIMEOUT", "1", 1);
	alarm(30); /* before the timeout existed, this waited forever */
	assert_int_equal(nb_session_open(f->sock, &s), -1);
	alarm(0);
	unsetenv("NICBOX_TIMEOUT");
	assert_int_equal(errno, ETIMEDOUT);
	assert_non_null(strstr(nb_last_error(), "did not answer within 1 s (NICBOX_TIMEOUT)"));
	setenv("NICBOX_TIMEOUT", "1s", 1);
	assert_int_equal(nb_session_open(f->sock, &s), -1);
	unsetenv("NICBOX_TIMEOUT");
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(nb_last_error(), "NICBOX_TIMEOUT=1s: want whole seconds"));
}

/* Whoever listens on the path must be root (or ourselves), not another user. */
static void test_client_refuses_a_helper_not_root(void **state)
{
	struct fixture *f = *state;
	struct nb_session *s = NULL;

	if (geteuid() != 0) {
		print_message("needs root: the fake helper switches to uid 65534\n");
		skip();
	}
	start_fake_helper(f, 65534, false);
	assert_int_equal(nb_session_open(f->sock, &s), -1);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(nb_last_error(), "served by uid 65534, not root"));
}

/*
 * A client in a user namespace that does not map the host's root (a
 * rootless container) sees the real, root-run helper as the overflow uid:
 * it must still connect; the helper sees and checks the host uid (1000).
 */
static void test_client_in_user_namespace_accepts_host_root(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		print_message("needs root: the helper runs as root\n");
		skip();
	}
	write_policy(f, "allow user:1000 id:ffff:ffff\n");
	start_helper(f, false);
	assert_int_equal(chmod(f->dir, 0711), 0);
	assert_int_equal(chmod(f->sock, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct nb_session *s;
		int map;

		/* uid 1000 becomes uid 0 of its own namespace, as in bwrap --uid 0. */
		if (setgroups(0, NULL) < 0 || setgid(1000) < 0 || setuid(1000) < 0 ||
		    prctl(PR_SET_DUMPABLE, 1) < 0 || /* else /proc/self stays root's */
		    unshare(CLONE_NEWUSER) < 0 || (map = open("/proc/self/uid_map", O_WRONLY)) < 0 ||
		    write(map, "0 1000 1", 8) != 8)
			_exit(3);
		close(map);
		if (nb_session_open(f->sock, &s) < 0) {
			fprintf(stderr, "in a user namespace: %s\n", nb_last_error());
			_exit(1);
		}
		nb_session_close(s);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		print_message("a user namespace for uid 1000 is refused here\n");
		skip();
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_without_helper_explains),
		cmocka_unit_test_setup_teardown(test_malformed_policy_stops_helper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_activation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_without_iommu_names_the_fix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_nic_refused_before_any_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_protocol_violations_end_the_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unnamed_uid_refused_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_uid_session_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_just_before_the_wait_is_not_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_refuses_a_fifth_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_refuses_a_helper_not_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_in_user_namespace_accepts_host_root, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
