/* SPDX-License-Identifier: MIT */
/*
 * main.c - nicbox-helper's command line, listening socket and process
 * model: one forked child per connection (OpenSSH style), so a driver
 * unbind that blocks, or a crash, stalls only that client's session.
 *
 *   nicbox-helper serve  [--socket PATH] [--policy FILE] [--group NAME|GID]
 *   nicbox-helper status [--socket PATH] [--policy FILE]
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

#define MAX_SESSIONS 64
#define SD_LISTEN_FDS_START 3

static int last_err;
static char last_reason[NBP_TEXT_LEN];

int nbh_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_reason, sizeof(last_reason), fmt, ap);
	va_end(ap);
	last_err = err;
	errno = err;
	return -1;
}

int nbh_last_err(void)
{
	return last_err;
}

const char *nbh_last_reason(void)
{
	return last_reason;
}

void nbh_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "nicbox-helper[%d]: %s\n", (int)getpid(), line);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nicbox-helper serve  [--socket PATH] [--policy FILE] [--group NAME|GID]\n"
		"       nicbox-helper status [--socket PATH] [--policy FILE]\n"
		"  --socket PATH  Unix socket (default " NB_DEFAULT_SOCKET ")\n"
		"  --policy FILE  access policy (default " NBH_DEFAULT_POLICY ")\n"
		"  --group G      group that may connect (socket mode 0660; default root)\n"
		"serve honours systemd socket activation (LISTEN_FDS/LISTEN_PID).\n");
}

static volatile sig_atomic_t quit;

static void on_quit(int sig)
{
	(void)sig;
	quit = 1;
}

static int parse_group(const char *arg, gid_t *gid)
{
	struct group *g;
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*arg && !*end && v < 0xffffffffu) {
		*gid = (gid_t)v;
		return 0;
	}
	g = getgrnam(arg);
	if (!g)
		return nbh_fail(ENOENT, "unknown group '%s'", arg);
	*gid = g->gr_gid;
	return 0;
}

/* Our own listening socket: mode 0660, group `gid` if one was given. */
static int listen_socket(const char *path, gid_t gid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[sizeof(addr.sun_path)];
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return nbh_fail(ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(addr.sun_path, path);
	strcpy(dir, path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		return nbh_fail(errno, "mkdir %s: %s", dir, strerror(errno));
	/* Replace a stale socket, never any other kind of file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nbh_fail(errno, "socket: %s", strerror(errno));
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));

	umask(old);
	if (rc < 0 || (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    chmod(path, 0660) < 0 ||
	    listen(fd, 16) < 0) {
		nbh_fail(errno, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* fd 3 from systemd if LISTEN_PID names us and LISTEN_FDS is 1; else -1. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");

	if (!pid || !n || strtol(pid, NULL, 10) != getpid())
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (strcmp(n, "1") != 0) {
		nbh_log("LISTEN_FDS=%s: expected exactly one socket; ignoring", n);
		return -1;
	}
	return SD_LISTEN_FDS_START;
}

static pid_t children[MAX_SESSIONS];

static void reap(void)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (int i = 0; i < MAX_SESSIONS; i++)
			if (children[i] == pid)
				children[i] = 0;
}

static void spawn_session(int listener, int conn, const struct nbh_policy *policy)
{
	int slot = 0;
	pid_t pid;

	while (slot < MAX_SESSIONS && children[slot])
		slot++;
	if (slot == MAX_SESSIONS) {
		nbh_log("too many sessions; refusing a connection");
		close(conn);
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(listener);
		nbh_session_run(conn, policy);
		_exit(0);
	}
	if (pid < 0)
		nbh_log("fork: %s", strerror(errno));
	else
		children[slot] = pid;
	close(conn);
}

static int serve(int listener, const struct nbh_policy *policy)
{
	struct sigaction quit_sa = { .sa_handler = on_quit };
	int accepting = 0;
	socklen_t len = sizeof(accepting);

	/* systemd Accept=yes hands us one connected socket: serve just it. */
	if (getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 &&
	    !accepting) {
		nbh_session_run(listener, policy);
		return 0;
	}
	sigaction(SIGTERM, &quit_sa, NULL);
	sigaction(SIGINT, &quit_sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	nbh_log("serving with %zu policy rules from %s", policy->n_rules, policy->file);
	while (!quit) {
		int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);

		reap();
		if (conn >= 0)
			spawn_session(listener, conn, policy);
		else if (errno != EINTR && errno != ECONNABORTED)
			nbh_log("accept: %s", strerror(errno));
	}
	/* Every session restores its NICs before it exits; wait for that. */
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (children[i])
			kill(children[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "policy", required_argument, NULL, 'p' },
		{ "group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock_path = NB_DEFAULT_SOCKET, *policy_file = NBH_DEFAULT_POLICY;
	const char *group = NULL, *cmd;
	struct nbh_policy policy;
	char err[512];
	gid_t gid = (gid_t)-1;
	int c, fd, rc, activated;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'p': policy_file = optarg; break;
		case 'g': group = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (strcmp(cmd, "serve") && strcmp(cmd, "status")) ||
	    (group && strcmp(cmd, "serve"))) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "status") == 0)
		return nbh_status(policy_file, sock_path) < 0 ? 1 : 0;

	if (nbh_policy_load(policy_file, &policy, err, sizeof(err)) < 0) {
		fprintf(stderr, "nicbox-helper: %s\n", err);
		return 1;
	}
	fd = activated_socket();
	activated = fd >= 0;
	if (!activated && ((group && parse_group(group, &gid) < 0) ||
		       (fd = listen_socket(sock_path, gid)) < 0)) {
		fprintf(stderr, "nicbox-helper: %s\n", nbh_last_reason());
		nbh_policy_free(&policy);
		return 1;
	}
	rc = serve(fd, &policy);
	close(fd);
	if (!activated)
		unlink(sock_path);
	nbh_policy_free(&policy);
	return rc;
}
