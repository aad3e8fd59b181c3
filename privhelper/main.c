/* SPDX-License-Identifier: MIT */
/* main.c - command line, listening socket, and one forked child per client
 * (OpenSSH style): a blocking unbind or a crash stalls only that session. */
#include <err.h>
#include <getopt.h>
#include <glob.h>
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

/* Our socket, mode 0660, of `group` if given; renamed into place once it listens,
 * so no client finds a socket that refuses connections. Exits on failure. */
static int listen_socket(const char *path, const char *group)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[sizeof(addr.sun_path)];
	struct group *g = group ? getgrnam(group) : NULL;
	gid_t gid = g ? g->gr_gid : (gid_t)-1;
	struct stat st;
	char *end;
	int fd, rc;

	if (group && !g && (gid = (gid_t)strtoul(group, &end, 10), !*group || *end))
		errx(1, "unknown group '%s'", group);
	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s.new", path) >= (int)sizeof(addr.sun_path))
		errx(1, "socket path longer than %zu bytes: %s", sizeof(addr.sun_path) - 5, path);
	strcpy(dir, path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		err(1, "mkdir %s", dir);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) /* replace stale sockets only */
		errx(1, "%s exists and is not a socket", path);
	unlink(addr.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);

	rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc < 0 || listen(fd, NBH_BACKLOG) < 0 || (group && chown(addr.sun_path, (uid_t)-1, gid) < 0) ||
	    chmod(addr.sun_path, 0660) < 0 || rename(addr.sun_path, path) < 0)
		err(1, "%s", path);
	return fd;
}

/* The socket systemd passed if LISTEN_PID names us and LISTEN_FDS is 1; else -1. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int fd = pid && n && strtol(pid, NULL, 10) == getpid() && !strcmp(n, "1") ?
		 SD_LISTEN_FDS_START : -1;

	for (int i = 0; i < 3; i++) /* our sessions must not see them */
		unsetenv((const char *[]){ "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES" }[i]);
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
	glob_t groups;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &run);
	nbh_wait_mask = &run;
	setpgid(0, 0); /* our sessions, and only they, share our process group */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	nbh_nic_replay_all(); /* NICs a crash left behind */
	nbh_log("serving with %zu policy rules from %s", policy->n_rules, policy->file);
	if (glob(nbh_path("/sys/kernel/iommu_groups/*"), GLOB_NOSORT, NULL, &groups) == GLOB_NOMATCH)
		nbh_log("warning: no IOMMU group in %s, so every claim will fail: %s",
			nbh_path("/sys/kernel/iommu_groups"), NBH_IOMMU_HINT);
	globfree(&groups);
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
		"       nicbox-helper status [--socket PATH] [--policy FILE] [--json]\n"
		"       nicbox-helper check-policy [--policy FILE] | --help | --version\n"
		"defaults: " NB_DEFAULT_SOCKET ", " NBH_DEFAULT_POLICY "; serve runs as root and\n"
		"honours socket activation; the socket is mode 0660, of --group if given\n"
		"exit status: 0 ok, 1 failure, 2 bad command line, 3 (status) helper not running\n");
	return rc;
}

/* After "nicbox-helper: <why>" from getopt or warnx: a hint, exit status 2. */
#define HINT "Try 'nicbox-helper --help'.\n"
#define bad_usage(...) (warnx(__VA_ARGS__), fputs(HINT, stderr), 2)

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", 1, NULL, 's' }, { "policy", 1, NULL, 'p' },
		{ "group", 1, NULL, 'g' }, { "json", 0, NULL, 'j' }, { "help", 0, NULL, 'h' },
		{ "version", 0, NULL, 'V' }, { NULL, 0, NULL, 0 } };
	const char *sock = NB_DEFAULT_SOCKET, *policy_file = NBH_DEFAULT_POLICY, *group = NULL, *cmd;
	bool json = false, activated, serving;
	struct nbh_policy policy;
	char err[512];
	int fd, opt;

	argv[0] = program_invocation_short_name; /* getopt's messages name it so */
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) /* getopt names mistakes */
		switch (opt) {
		case 's': sock = optarg; break;
		case 'p': policy_file = optarg; break;
		case 'g': group = optarg; break;
		case 'j': json = true; break;
		case 'h': return usage(0);
		case 'V': return puts("nicbox-helper (nicbox) " NICBOX_VERSION) < 0;
		default: return fputs(HINT, stderr), 2;
		}
	if (optind == argc)
		return bad_usage("no command given (serve, status or check-policy)");
	cmd = argv[optind++];
	serving = !strcmp(cmd, "serve");
	if (!serving && strcmp(cmd, "status") && strcmp(cmd, "check-policy"))
		return bad_usage("unknown command '%s' (serve, status or check-policy)", cmd);
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if ((group && !serving) || (json && strcmp(cmd, "status")))
		return bad_usage("--%s is an option of %s only", group ? "group" : "json",
				 group ? "serve" : "status");
	if (!strcmp(cmd, "status"))
		return nbh_status(policy_file, sock, json);
	if (serving && geteuid() != 0)
		errx(1, "serve needs root (it binds NICs to vfio-pci and maps DMA); start it "
		     "with sudo or as nicbox-helper.service");
	if (nbh_policy_load(policy_file, &policy, err, sizeof(err)) < 0)
		errx(1, "%s", err);
	if (!serving) { /* check-policy */
		printf("%s: %zu rules%s\n", policy_file, policy.n_rules,
		       policy.n_rules ? "" : ": it allows nothing");
		nbh_policy_free(&policy);
		return 0;
	}
	if (!(activated = (fd = activated_socket()) >= 0))
		fd = listen_socket(sock, group);
	serve(fd, &policy);
	close(fd);
	if (!activated)
		unlink(sock);
	nbh_policy_free(&policy);
	return 0;
}
