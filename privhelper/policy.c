/* SPDX-License-Identifier: MIT */
/*
 * policy.c - the access policy parser and matcher.
 *
 *   allow user:NAME|UID  pci:ADDR|if:NAME|id:VVVV:DDDD  [pool=SIZE] [netdev-up] [keep-vfio]
 *   allow group:NAME|GID ...
 *
 * One rule per line, '#' starts a comment. Anything else is an error that
 * names file:line, so a typo can never widen access silently.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "proto.h" /* NBP_MAX_POOL_BYTES */

#define MAX_LINE 512
#define MAX_FILE (64 * 1024)

struct parser {
	const char *name;
	unsigned line;
	char *err;
	size_t err_len;
};

static int perr(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int perr(struct parser *ps, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->err_len, "%s:%u: %s", ps->name, ps->line, reason);
	return -1;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int nbh_normalize_bdf(const char *in, char out[NBH_BDF_LEN])
{
	/* DDDD:BB:SS.F with the domain optional; slot <= 0x1f, function <= 7. */
	char full[NBH_BDF_LEN];
	size_t n = strlen(in);

	if (n == 7)
		snprintf(full, sizeof(full), "0000:%s", in);
	else if (n == 12)
		memcpy(full, in, 13);
	else
		return -1;
	if (!all_hex(full, 4) || full[4] != ':' || !all_hex(full + 5, 2) ||
	    full[7] != ':' || !all_hex(full + 8, 2) || full[10] != '.' ||
	    full[11] < '0' || full[11] > '7' || strtoul(full + 8, NULL, 16) > 0x1f)
		return -1;
	for (int i = 0; i < 12; i++)
		out[i] = (char)tolower((unsigned char)full[i]);
	out[12] = '\0';
	return 0;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NBH_IFNAME_LEN || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* A decimal id, or a name looked up in passwd/group. */
static int parse_who(struct parser *ps, const char *tok, struct nbh_rule *r)
{
	const char *v;
	char *end;

	if (strncmp(tok, "user:", 5) == 0) {
		v = tok + 5;
	} else if (strncmp(tok, "group:", 6) == 0) {
		r->is_group = true;
		v = tok + 6;
	} else {
		return perr(ps, "expected user:NAME|UID or group:NAME|GID, got '%s'", tok);
	}
	if (*v == '\0')
		return perr(ps, "empty %s", r->is_group ? "group" : "user");
	if (isdigit((unsigned char)*v)) {
		errno = 0;
		unsigned long id = strtoul(v, &end, 10);

		if (*end || errno || id >= 0xffffffffu)
			return perr(ps, "bad numeric id '%s'", v);
		r->who = (uint32_t)id;
	} else if (r->is_group) {
		struct group *g = getgrnam(v);

		if (!g)
			return perr(ps, "unknown group '%s'", v);
		r->who = g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(v);

		if (!pw)
			return perr(ps, "unknown user '%s'", v);
		r->who = pw->pw_uid;
	}
	return 0;
}

static int parse_device(struct parser *ps, const char *tok, struct nbh_rule *r)
{
	if (strncmp(tok, "pci:", 4) == 0) {
		r->match = NBH_MATCH_PCI;
		if (nbh_normalize_bdf(tok + 4, r->pci) < 0)
			return perr(ps, "bad PCI address '%s' (want 0000:03:00.0)", tok + 4);
	} else if (strncmp(tok, "if:", 3) == 0) {
		r->match = NBH_MATCH_IFNAME;
		if (!ifname_ok(tok + 3))
			return perr(ps, "bad interface name '%s'", tok + 3);
		strcpy(r->ifname, tok + 3);
	} else if (strncmp(tok, "id:", 3) == 0) {
		const char *v = tok + 3;

		r->match = NBH_MATCH_ID;
		if (strlen(v) != 9 || !all_hex(v, 4) || v[4] != ':' || !all_hex(v + 5, 4))
			return perr(ps, "bad vendor:device '%s' (want 8086:10fb)", v);
		r->vendor_id = (uint16_t)strtoul(v, NULL, 16);
		r->device_id = (uint16_t)strtoul(v + 5, NULL, 16);
	} else {
		return perr(ps, "expected pci:ADDR, if:NAME or id:VVVV:DDDD, got '%s'", tok);
	}
	return 0;
}

static int parse_size(struct parser *ps, const char *v, uint64_t *out)
{
	char *end;
	unsigned shift = 0;

	if (!isdigit((unsigned char)*v))
		return perr(ps, "bad pool size '%s'", v);
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);

	switch (*end) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end || errno || n == 0 || n > (NBP_MAX_POOL_BYTES >> shift))
		return perr(ps, "pool size '%s' not in 1 .. 64G (suffix K, M or G)", v);
	*out = (uint64_t)n << shift;
	return 0;
}

static int parse_option(struct parser *ps, const char *tok, struct nbh_rule *r)
{
	if (strncmp(tok, "pool=", 5) == 0)
		return parse_size(ps, tok + 5, &r->max_pool);
	if (strcmp(tok, "netdev-up") == 0)
		r->allow_up = true;
	else if (strcmp(tok, "keep-vfio") == 0)
		r->keep_vfio = true;
	else
		return perr(ps, "unknown option '%s' (pool=SIZE, netdev-up, keep-vfio)", tok);
	return 0;
}

/* Tokenise one line (modified in place) into a rule; 1 if it is blank. */
static int parse_line(struct parser *ps, char *line, struct nbh_rule *r)
{
	char *tok[8], *save = NULL;
	unsigned n = 0;
	char *hash = strchr(line, '#');

	if (hash)
		*hash = '\0';
	for (char *t = strtok_r(line, " \t\r", &save); t;
	     t = strtok_r(NULL, " \t\r", &save)) {
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
	memset(r, 0, sizeof(*r));
	r->line = ps->line;
	r->max_pool = NBH_DEFAULT_POOL;
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
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->file, sizeof(out->file), "%s", name);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char line[MAX_LINE];
		struct nbh_rule r;
		int rc;

		ps.line++;
		if (n >= sizeof(line)) {
			perr(&ps, "line longer than %d bytes", MAX_LINE - 1);
			goto fail;
		}
		if (memchr(text + pos, '\0', n)) {
			perr(&ps, "NUL byte in line");
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		rc = parse_line(&ps, line, &r);
		if (rc < 0)
			goto fail;
		if (rc == 1)
			continue;
		struct nbh_rule *grown = realloc(out->rules, (out->n_rules + 1) * sizeof(r));

		if (!grown) {
			perr(&ps, "out of memory");
			goto fail;
		}
		out->rules = grown;
		out->rules[out->n_rules++] = r;
	}
	return 0;
fail:
	nbh_policy_free(out);
	errno = EINVAL;
	return -1;
}

int nbh_policy_load(const char *path, struct nbh_policy *out, char *err,
		    size_t err_len)
{
	char *buf = malloc(MAX_FILE + 1);
	ssize_t n = -1;
	int fd, rc;

	if (!buf) {
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, MAX_FILE + 1);
		close(fd);
	}
	if (n < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	if (n > MAX_FILE) {
		snprintf(err, err_len, "%s: larger than %d bytes", path, MAX_FILE);
		free(buf);
		errno = EFBIG;
		return -1;
	}
	rc = nbh_policy_parse(buf, (size_t)n, path, out, err, err_len);
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
	if (!r->is_group)
		return r->who == who->uid;
	if (r->who == who->gid)
		return true;
	for (unsigned i = 0; i < who->n_groups; i++)
		if (who->groups[i] == r->who)
			return true;
	return false;
}

static bool device_matches(const struct nbh_rule *r, const struct nbh_devid *dev)
{
	switch (r->match) {
	case NBH_MATCH_PCI:
		return strcmp(r->pci, dev->bdf) == 0;
	case NBH_MATCH_IFNAME:
		return dev->ifname[0] && strcmp(r->ifname, dev->ifname) == 0;
	case NBH_MATCH_ID:
		return r->vendor_id == dev->vendor_id && r->device_id == dev->device_id;
	}
	return false;
}

const struct nbh_rule *nbh_policy_match(const struct nbh_policy *p,
					const struct nbh_ident *who,
					const struct nbh_devid *dev)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (who_matches(&p->rules[i], who) && device_matches(&p->rules[i], dev))
			return &p->rules[i];
	return NULL;
}
