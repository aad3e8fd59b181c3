/* SPDX-License-Identifier: MIT */
/* main.c - command line, listening socket, and one forked child per client
 * (OpenSSH style): a blocking unbind or a crash stalls only that session. */
#include <libgen.h>
#include <sys/un.h>
#include <time.h>

#include "helper.h"

#define MAX_SESSIONS 64
#define MAX_PER_UID 8
/* Short: a flood can queue only this many connections ahead of anyone else's. */
#define NBH_BACKLOG 16
#define SD_LISTEN_FDS_START 3 /* sd_listen_fds(3) */

/* Running sessions, and those that ended this second (pid 0), which count
 * too: a client that ends each session at once gets few forks a second. */
static struct { pid_t pid; uid_t uid; time_t ended; } sessions[MAX_SESSIONS];
static unsigned n_sessions;

static void on_quit(int sig)
{
	(void)sig;
	nbh_quit = 1;
}

/* Our socket, mode 0660, of `group` if given; renamed into place once it
 * listens, so no client finds a socket that refuses connections. */
static int listen_socket(const char *path, const char *group)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[sizeof(addr.sun_path)];
	struct group *g = group ? getgrnam(group) : NULL;
	gid_t gid = g ? g->gr_gid : (gid_t)-1;
	struct stat st;
	char *end;
	int fd, rc;

	if (group && !g) {
		gid = (gid_t)strtoul(group, &end, 10);
		if (!*group || *end)
			return nbh_fail(ENOENT, "unknown group '%s'", group);
	}
	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s.new", path) >= (int)sizeof(addr.sun_path))
		return nbh_fail(ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(dir, path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		return nbh_fail_errno("mkdir %s", dir);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) /* replace stale sockets only */
		return nbh_fail(EEXIST, "%s exists and is not a socket", path);
	unlink(addr.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);

	rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc < 0 || listen(fd, NBH_BACKLOG) < 0 || (group && chown(addr.sun_path, (uid_t)-1, gid) < 0) ||
	    chmod(addr.sun_path, 0660) < 0 || rename(addr.sun_path, path) < 0) {
		nbh_fail_errno("%s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The socket systemd passed if LISTEN_PID names us and LISTEN_FDS is 1; else -1. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int fd = pid && n && strtol(pid, NULL, 10) == getpid() && !strcmp(n, "1") ?
		 SD_LISTEN_FDS_START : -1;

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return fd;
}

/* Whom the parent serves, decided before a fork and without waiting for the
 * client: a uid the policy names, with a session slot of its own left. */
static int admit(const struct nbh_policy *policy, const struct nbh_ident *who)
{
	unsigned mine = 0;
	time_t now = time(NULL);
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (unsigned i = 0; i < n_sessions; i++)
			if (sessions[i].pid == pid)
				sessions[i].pid = 0, sessions[i].ended = now;
	for (unsigned i = n_sessions; i-- > 0;)
		if (!sessions[i].pid && sessions[i].ended != now)
			sessions[i] = sessions[--n_sessions];
	for (unsigned i = 0; i < n_sessions; i++)
		mine += sessions[i].uid == who->uid;
	if (!nbh_policy_names(policy, who))
		return nbh_fail(EACCES, "policy %s names uid %u in no rule", policy->file, who->uid);
	if (mine >= MAX_PER_UID)
		return nbh_fail(EUSERS, "uid %u has %u sessions open or just ended, the most "
				"one user may", who->uid, mine);
	if (n_sessions == MAX_SESSIONS)
		return nbh_fail(EAGAIN, "%d sessions open, the most the helper serves; try later",
				MAX_SESSIONS);
	return 0;
}

static void spawn_session(int listener, int conn, const struct nbh_policy *policy)
{
	static time_t logged; /* refusals: one log line a second, so a flood stays cheap */
	struct nbh_ident who;
	pid_t pid = -1, peer;
	bool admitted = nbh_peer(conn, &who, &peer) == 0 && admit(policy, &who) == 0;

	if (admitted && (pid = fork()) == 0) {
		close(listener);
		nbh_session_run(conn, policy, &who, peer);
		_exit(0);
	}
	if (admitted && pid < 0)
		nbh_fail_errno("cannot start a session");
	if (pid > 0)
		sessions[n_sessions++] = (typeof(sessions[0])){ pid, who.uid, 0 };
	else /* at once: no slot held for it */
		nbh_send_error(conn, who.uid, logged != time(NULL) && (logged = time(NULL)));
	close(conn);
}

static void serve(int listener, const struct nbh_policy *policy)
{
	/* Signals stay blocked but inside nbh_wait (ppoll), so a SIGTERM just
	 * before a wait still ends it. Sessions inherit all this. */
	struct sigaction sa = { .sa_handler = on_quit };
	sigset_t all, run;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &run);
	nbh_wait_mask = &run;
	setpgid(0, 0); /* our sessions, and only they, share our process group */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	nbh_nic_replay_all(); /* NICs a crash left behind */
	nbh_log("serving with %zu policy rules from %s", policy->n_rules, policy->file);
	while (nbh_wait(listener, -1) >= 0) {
		int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);

		if (conn >= 0)
			spawn_session(listener, conn, policy);
		else if (errno != EINTR && errno != ECONNABORTED)
			nbh_log("accept: %s", strerror(errno));
	}
	/* Every session restores its NICs before it exits; wait for that. */
	kill(0, SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
}

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: nicbox-helper serve  [--socket PATH] [--policy FILE] [--group NAME|GID]\n"
		"       nicbox-helper status [--socket PATH] [--policy FILE]\n"
		"       nicbox-helper check-policy [--policy FILE]\n"
		"defaults: " NB_DEFAULT_SOCKET ", " NBH_DEFAULT_POLICY "; serve honours\n"
		"systemd socket activation; the socket is mode 0660, of --group if given.\n");
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = NB_DEFAULT_SOCKET, *policy_file = NBH_DEFAULT_POLICY, *group = NULL;
	const char *cmd = argc > 1 ? argv[1] : "";
	bool serving = !strcmp(cmd, "serve"), checking = !strcmp(cmd, "check-policy"), activated;
	struct nbh_policy policy;
	char err[512];
	int fd;

	if (!serving && !checking && strcmp(cmd, "status"))
		return usage(strcmp(cmd, "--help") && strcmp(cmd, "-h") ? 2 : 0);
	for (int i = 2; i < argc; i += 2) {
		const char **opt = !strcmp(argv[i], "--socket") ? &sock :
				   !strcmp(argv[i], "--policy") ? &policy_file :
				   !strcmp(argv[i], "--group") && serving ? &group : NULL;

		if (!opt || i + 1 == argc)
			return usage(2);
		*opt = argv[i + 1];
	}
	if (!serving && !checking)
		return nbh_status(policy_file, sock) < 0;
	if (nbh_policy_load(policy_file, &policy, err, sizeof(err)) < 0) {
		fprintf(stderr, "nicbox-helper: %s\n", err);
		return 1;
	}
	if (checking) {
		printf("%s: %zu rules%s\n", policy_file, policy.n_rules,
		       policy.n_rules ? "" : ": it allows nothing");
		nbh_policy_free(&policy);
		return 0;
	}
	fd = activated_socket();
	activated = fd >= 0;
	if (!activated && (fd = listen_socket(sock, group)) < 0) {
		fprintf(stderr, "nicbox-helper: %s\n", nbh_reason);
		nbh_policy_free(&policy);
		return 1;
	}
	serve(fd, &policy);
	close(fd);
	if (!activated)
		unlink(sock);
	nbh_policy_free(&policy);
	return 0;
}
