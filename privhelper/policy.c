/* SPDX-License-Identifier: MIT */
/* policy.c - "allow WHO DEVICE [OPTIONS]" rules (docs/policy.md); anything
 * else is an error naming file:line, so a typo never widens access. */
#include <ctype.h>
#include <limits.h>
#include <pwd.h>

#include "helper.h"

#define MAX_LINE 512
#define MAX_FILE (64 * 1024)

struct parser {
	const char *name;
	unsigned line;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 2, 3))) static int perr(struct parser *ps, const char *fmt, ...)
{
	int n = snprintf(ps->err, ps->err_len, "%s:%u: ", ps->name, ps->line);
	va_list ap;

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < ps->err_len)
		vsnprintf(ps->err + n, ps->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int nbh_normalize_bdf(const char *in, char out[NBP_BDF_LEN])
{
	/* DDDD:BB:SS.F, domain optional; slot <= 0x1f, function <= 7. */
	char f[24];
	size_t n = strlen(in);

	if (n != 7 && n != 12)
		return -1;
	snprintf(f, sizeof(f), "%s%s", n == 7 ? "0000:" : "", in);
	if (!all_hex(f, 4) || f[4] != ':' || !all_hex(f + 5, 2) || f[7] != ':' ||
	    !all_hex(f + 8, 2) || f[10] != '.' || f[11] < '0' || f[11] > '7' ||
	    strtoul(f + 8, NULL, 16) > 0x1f)
		return -1;
	for (int i = 0; i <= 12; i++)
		out[i] = (char)tolower((unsigned char)f[i]);
	return 0;
}

static int parse_who(struct parser *ps, const char *tok, struct nbh_rule *r)
{
	const char *v = strchr(tok, ':') ? strchr(tok, ':') + 1 : "";
	struct passwd *pw;
	struct group *gr;
	char *end;

	r->is_group = strncmp(tok, "group:", 6) == 0;
	if (!r->is_group && strncmp(tok, "user:", 5) != 0)
		return perr(ps, "expected user:NAME|UID or group:NAME|GID, got '%s'", tok);
	errno = 0;
	unsigned long id = strtoul(v, &end, 10);

	if (isdigit((unsigned char)*v)) {
		if (*end || errno || id >= 0xffffffffu)
			return perr(ps, "bad numeric id '%s'", v);
		r->who = (uint32_t)id;
	} else if (r->is_group && (gr = getgrnam(v))) {
		r->who = gr->gr_gid;
	} else if (!r->is_group && (pw = getpwnam(v))) {
		r->who = pw->pw_uid;
	} else {
		return perr(ps, "unknown %s '%s'", r->is_group ? "group" : "user", v);
	}
	return 0;
}

static int parse_device(struct parser *ps, const char *tok, struct nbh_rule *r)
{
	const char *v = strchr(tok, ':') ? strchr(tok, ':') + 1 : "";
	size_t n = strlen(v);

	if (strncmp(tok, "pci:", 4) == 0) {
		r->match = NBH_MATCH_PCI;
		if (nbh_normalize_bdf(v, r->pci) < 0)
			return perr(ps, "bad PCI address '%s' (want 0000:03:00.0)", v);
	} else if (strncmp(tok, "if:", 3) == 0) {
		r->match = NBH_MATCH_IFNAME;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)v[i]) && !strchr("_.-", v[i]))
				n = 0;
		if (n == 0 || n >= NBH_IFNAME_LEN || !strcmp(v, ".") || !strcmp(v, ".."))
			return perr(ps, "bad interface name '%s'", v);
		strcpy(r->ifname, v);
	} else if (strncmp(tok, "id:", 3) == 0) {
		r->match = NBH_MATCH_ID;
		if (n != 9 || !all_hex(v, 4) || v[4] != ':' || !all_hex(v + 5, 4))
			return perr(ps, "bad vendor:device '%s' (want 8086:10fb)", v);
		r->vendor_id = (uint16_t)strtoul(v, NULL, 16);
		r->device_id = (uint16_t)strtoul(v + 5, NULL, 16);
	} else {
		return perr(ps, "expected pci:ADDR, if:NAME or id:VVVV:DDDD, got '%s'", tok);
	}
	return 0;
}

static int parse_option(struct parser *ps, const char *tok, struct nbh_rule *r)
{
	const char *v = tok + 5;
	char *end;

	bool *flag = !strcmp(tok, "netdev-up") ? &r->allow_up : !strcmp(tok, "keep-vfio") ? &r->keep_vfio :
		     !strcmp(tok, "unsafe-interrupts") ? &r->unsafe_interrupts :
		     !strcmp(tok, "allow-ats") ? &r->allow_ats : NULL;

	if (flag) {
		*flag = true;
	} else if (strncmp(tok, "pool=", 5) == 0) {
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;

		if (shift)
			end++;
		if (!isdigit((unsigned char)*v) || *end || errno || n == 0 ||
		    n > (NBP_MAX_POOL_BYTES >> shift))
			return perr(ps, "pool size '%s' not in 1 .. 64G (suffix K, M or G)", v);
		r->max_pool = (uint64_t)n << shift;
	} else {
		return perr(ps, "unknown option '%s' (pool=SIZE, netdev-up, keep-vfio, "
			    "unsafe-interrupts, allow-ats)", tok);
	}
	return 0;
}

/* One line (modified in place) into a rule; 1 if it holds none. */
static int parse_line(struct parser *ps, char *line, struct nbh_rule *r)
{
	char *tok[8], *save = NULL;
	unsigned n = 0;

	line[strcspn(line, "#")] = '\0';
	for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == sizeof(tok) / sizeof(tok[0]))
			return perr(ps, "too many words");
		tok[n++] = t;
	}
	if (n == 0)
		return 1;
	if (strcmp(tok[0], "allow") != 0)
		return perr(ps, "unknown directive '%s' (only 'allow'; default is deny)", tok[0]);
	if (n < 3)
		return perr(ps, "'allow' needs a user/group and a device");
	*r = (struct nbh_rule){ .line = ps->line, .max_pool = NBH_DEFAULT_POOL };
	if (parse_who(ps, tok[1], r) < 0 || parse_device(ps, tok[2], r) < 0)
		return -1;
	for (unsigned i = 3; i < n; i++)
		if (parse_option(ps, tok[i], r) < 0)
			return -1;
	return 0;
}

int nbh_policy_parse(const char *text, size_t len, const char *name,
		     struct nbh_policy *out, char *err, size_t err_len)
{
	struct parser ps = { .name = name, .err = err, .err_len = err_len };
	char line[MAX_LINE];
	struct nbh_rule r, *grown;
	int rc = 0;

	*out = (struct nbh_policy){ 0 };
	snprintf(out->file, sizeof(out->file), "%s", name);
	for (size_t pos = 0, n; rc >= 0 && pos < len; pos += n + 1) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		n = nl ? (size_t)(nl - text) - pos : len - pos;
		ps.line++;
		if (n >= sizeof(line))
			rc = perr(&ps, "line longer than %d bytes", MAX_LINE - 1);
		else if (memchr(text + pos, '\0', n))
			rc = perr(&ps, "NUL byte in line");
		if (rc < 0)
			break;
		memcpy(line, text + pos, n);
		line[n] = '\0';
		rc = parse_line(&ps, line, &r);
		if (rc != 0)
			continue;
		grown = realloc(out->rules, (out->n_rules + 1) * sizeof(r));
		if (!grown)
			rc = perr(&ps, "out of memory");
		else
			(out->rules = grown)[out->n_rules++] = r;
	}
	if (rc >= 0)
		return 0;
	nbh_policy_free(out);
	errno = EINVAL;
	return -1;
}

/* Why an opened directory or file is not to be trusted, or NULL. Owner root
 * (or us); writable by no one else, but for a sticky directory of root's. */
static const char *untrusted(int fd, bool dir)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return strerror(errno);
	if (S_ISLNK(st.st_mode))
		return "is a symbolic link";
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return dir ? "is not a directory" : "is not a regular file";
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return "is not owned by root";
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(dir && st.st_uid == 0 && (st.st_mode & S_ISVTX)))
		return "is writable by group or others";
	return NULL;
}

/* Open `path` as OpenSSH's StrictModes would trust it: every directory from
 * / down and the file itself, and none a symbolic link (O_NOFOLLOW). */
static int open_trusted(const char *path, char *err, size_t err_len)
{
	char abs[PATH_MAX];
	int dir = open("/", O_PATH | O_CLOEXEC), fd = dir;
	const char *why = path[0] != '/' ? "is not an absolute path" :
			  strlen(path) >= sizeof(abs) ? "is too long" :
			  dir < 0 ? strerror(errno) : untrusted(dir, true);
	const char *bad_dir = why && path[0] == '/' ? "/" : NULL;

	snprintf(abs, sizeof(abs), "%s", path);
	for (char *name = abs + strspn(abs, "/"), *end; !why && *name; name = end + strspn(end, "/")) {
		bool last;

		end = name + strcspn(name, "/");
		last = !end[strspn(end, "/")];
		*end = '\0';
		fd = openat(dir, name, O_NOFOLLOW | O_CLOEXEC | (last ? O_RDONLY | O_NONBLOCK : O_PATH));
		why = fd < 0 ? (errno == ELOOP ? "is a symbolic link" : strerror(errno)) :
		      untrusted(fd, !last);
		close(dir);
		dir = fd;
		bad_dir = why && !last ? abs : NULL;
		if (!why && !last)
			*end = '/';
	}
	if (!why)
		return fd;
	if (dir >= 0)
		close(dir);
	snprintf(err, err_len, "%s: %s%s%s%s", path, bad_dir ? "directory " : "",
		 bad_dir ? bad_dir : "", bad_dir ? ": " : "", why);
	return -1;
}

int nbh_policy_load(const char *path, struct nbh_policy *out, char *err, size_t err_len)
{
	char *buf = malloc(MAX_FILE + 1);
	int fd = open_trusted(path, err, err_len);
	ssize_t n = fd < 0 || !buf ? -1 : read(fd, buf, MAX_FILE + 1);
	int rc = -1;

	if (fd >= 0 && (n < 0 || n > MAX_FILE))
		snprintf(err, err_len, "%s: %s", path, !buf ? "out of memory" :
			 n < 0 ? strerror(errno) : "larger than 64 KiB");
	else if (fd >= 0)
		rc = nbh_policy_parse(buf, (size_t)n, path, out, err, err_len);
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

void nbh_policy_free(struct nbh_policy *p)
{
	free(p->rules);
	p->rules = NULL;
	p->n_rules = 0;
}

static bool who_matches(const struct nbh_rule *r, const struct nbh_ident *who)
{
	if (!r->is_group || r->who == who->gid)
		return r->is_group || r->who == who->uid;
	for (unsigned i = 0; i < who->n_groups; i++)
		if (who->groups[i] == r->who)
			return true;
	return false;
}

static bool device_matches(const struct nbh_rule *r, const struct nbh_nic *dev)
{
	switch (r->match) {
	case NBH_MATCH_PCI: return strcmp(r->pci, dev->bdf) == 0;
	case NBH_MATCH_IFNAME: return dev->ifname[0] && strcmp(r->ifname, dev->ifname) == 0;
	case NBH_MATCH_ID: return r->vendor_id == dev->vendor_id && r->device_id == dev->device_id;
	}
	return false;
}

bool nbh_policy_names(const struct nbh_policy *p, const struct nbh_ident *who)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (who_matches(&p->rules[i], who))
			return true;
	return false;
}

const struct nbh_rule *nbh_policy_match(const struct nbh_policy *p, const struct nbh_ident *who,
					const struct nbh_nic *dev)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (who_matches(&p->rules[i], who) && device_matches(&p->rules[i], dev))
			return &p->rules[i];
	return NULL;
}
