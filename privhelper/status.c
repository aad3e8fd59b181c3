/* SPDX-License-Identifier: MIT */
/* status.c - whether the helper answers, and the NICs: driver, group, holder
 * and whether the caller may claim them; takes no lock. Text or JSON. */
#include <sys/un.h>

#include "helper.h"

/* HELLO as the caller: "running", or why not; an ERROR reply is an answer. */
static bool alive(const char *path, char *why, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	union nbp_msg m;
	int fds[NB_MAX_DEVICES], sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	unsigned n_fds = 0;
	long n = -1;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	nbp_init(&m, NBP_HELLO);
	if (sock < 0 || setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ 5, 0 },
					 sizeof(struct timeval)) < 0 ||
	    connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		snprintf(why, len, "not running (%s%s)", strerror(errno),
			 errno == ECONNREFUSED ? ": a stale socket file" : "");
	else if (nbp_send(sock, &m, m.hdr.len, NULL, 0), /* a refusal may come before it */
		 (n = nbp_recv(sock, &m, fds, &n_fds)) <= 0 || nbp_validate(&m, (size_t)n, n_fds, true, why, len))
		snprintf(why, len, "not answering (%s)", n < 0 ? strerror(errno) : n ? "a bad reply" : "hung up");
	else
		snprintf(why, len, m.hdr.type == NBP_HELLO_OK ? "running" : "running, refuses you: %s",
			 nbp_text_ok(m.error.reason, NBP_TEXT_LEN, true) ? m.error.reason : "?");
	while (n_fds)
		close(fds[--n_fds]);
	close(sock); /* -1: EBADF, harmless */
	return !strncmp(why, "running", 7);
}

/* s; with --json, s as a JSON string, in one of 8 rotating buffers. */
static const char *q(bool json, const char *s)
{
	static char buf[8][2 * NBP_TEXT_LEN];
	static unsigned k;
	char *out = buf[k++ % 8];
	int n = 1;

	for (out[0] = '"'; json && *s && n < (int)sizeof(buf[0]) - 8; s++)
		n += sprintf(out + n, strchr("\"\\", *s) || (unsigned char)*s < 0x20 ? "\\u%04x" : "%c", *s);
	return json ? (strcpy(out + n, "\""), out) : s;
}

#define HEADER "PCI           IFACE      DRIVER       NICBOX      GROUP  CLAIMABLE HOLDER\n"
int nbh_status(const char *policy_file, const char *socket_path, bool json)
{
	struct nbh_ident who = { .uid = getuid(), .gid = getgid() };
	int n_groups = getgroups(NBH_MAX_GROUPS, who.groups);
	struct nbh_policy policy = { 0 };
	struct dirent **list = NULL;
	char err[512], helper[NBP_TEXT_LEN + 64];
	bool have_policy = nbh_policy_load(policy_file, &policy, err, sizeof(err)) == 0;
	bool running = alive(socket_path, helper, sizeof(helper));
	int n = scandir(nbh_path("/sys/bus/pci/devices"), &list, NULL, alphasort), shown = 0;

	who.n_groups = n_groups > 0 ? (unsigned)n_groups : 0;
	if (!have_policy && !json)
		fprintf(stderr, "policy: %s (claimable shown as '?')\n", err);
	if (n < 0)
		fprintf(stderr, "%s: %s\n", nbh_path("/sys/bus/pci/devices"), strerror(errno));
	printf(json ? "{\"socket\":%s,\"helper\":%s,\"policy\":%s,\"nics\":["
		    : "helper socket %s: %s\n%.0s%s", q(json, socket_path), q(json, helper),
	       q(json, have_policy ? "ok" : err), n < 0 ? "" : HEADER);
	for (int i = 0; i < n; i++) {
		struct nbh_nic nic;
		char drv[64] = "-", holder[64] = "", group[16] = "-";
		const char *runs;

		if (nbh_nic_resolve(list[i]->d_name, &nic) == 0) { /* else: not a NIC */
			nbh_nic_driver(nic.bdf, drv, sizeof(drv));
			nbh_nic_holder(nic.bdf, holder, sizeof(holder));
			if (nic.group >= 0)
				snprintf(group, sizeof(group), "%d", nic.group);
			runs = nb_pci_driver_for(nic.vendor_id, nic.device_id);
			printf(json ? "%s{\"pci\":%s,\"iface\":%s,\"driver\":%s,\"nicbox\":%s,\"group\":%s,"
				      "\"claimable\":%s,\"holder\":%s}" : "%s%-13s %-10s %-12s %-11s %-6s %-9s %s\n",
			       json && shown++ ? "," : "", q(json, nic.bdf), q(json, nic.ifname[0] ? nic.ifname : "-"),
			       q(json, drv[0] ? drv : "-"), q(json, runs ? runs : "none"), q(json, group),
			       q(json, !have_policy ? "?" : nbh_policy_match(&policy, &who, &nic) ? "yes" : "no"),
			       q(json, holder[0] ? holder : "-"));
		}
		free(list[i]);
	}
	printf(json ? "]}\n" : "");
	free(list);
	nbh_policy_free(&policy);
	return n < 0 ? 1 : running ? 0 : 3;
}
