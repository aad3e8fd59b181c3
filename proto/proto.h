/* SPDX-License-Identifier: MIT */
/* proto.h - the nicbox-helper wire protocol (docs/protocol.md): nicbox_proto,
 * linked into the helper and libnicbox (core/session.c). SOCK_SEQPACKET,
 * fixed-size messages, fds only from the helper; any error: one ERROR reply. */
#ifndef NB_PROTO_H
#define NB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nicbox.h" /* NB_MAX_DEVICES, NB_MAX_POOLS */

#define NBP_MAGIC 0x3150424eu /* "NBP1" little-endian */
#define NBP_VERSION 2 /* 2: reasons and warnings of NBP_TEXT_LEN 336 */

#define NBP_DEVNAME_LEN 64
#define NBP_BDF_LEN 16                   /* "0000:00:04.0" + NUL */
#define NBP_TEXT_LEN 336 /* warnings, error reasons: the longest + NUL (reason_bounds.py) */
#define NBP_MAX_POOL_BYTES (64ull << 30) /* hard ceiling above any policy */

enum nbp_type { /* requests 0x01.., replies 0x81.. */
	NBP_HELLO = 1, NBP_CLAIM, NBP_POOL, NBP_READY, NBP_RELEASE,
	NBP_HELLO_OK = 0x81, NBP_CLAIM_OK, NBP_POOL_OK, NBP_READY_OK, NBP_RELEASE_OK,
	NBP_ERROR = 0xff,
};
#define NBP_PAGE_MAX NB_PAGE_1G /* POOL.page is an enum nb_page_size */

/* READY, RELEASE and RELEASE_OK are a bare header. */
struct nbp_hdr {
	uint32_t magic, len;     /* len: whole message, must equal the type's size */
	uint16_t version, type;
	uint32_t zero;           /* reserved fields are zero in every message */
};
struct nbp_hello {
	struct nbp_hdr hdr;
	uint32_t flags, zero;    /* no flags defined */
};
struct nbp_hello_ok {
	struct nbp_hdr hdr;
	uint32_t uid, gid;       /* the identity the helper sees (SO_PEERCRED) */
	uint32_t max_devices, max_pools;
};
struct nbp_claim {
	struct nbp_hdr hdr;
	char device[NBP_DEVNAME_LEN]; /* PCI address or interface name */
};
struct nbp_claim_ok {
	struct nbp_hdr hdr;
	uint32_t index, iommu_group; /* index: position in claim order */
	uint16_t vendor_id, device_id;
	uint32_t zero;
	char bdf[NBP_BDF_LEN];
};
struct nbp_pool {
	struct nbp_hdr hdr;
	uint64_t bytes;
	uint32_t page, zero;
};
struct nbp_pool_ok {             /* + the pool's memfd */
	struct nbp_hdr hdr;
	uint32_t index, zero;
	uint64_t size, iova_base, page_size; /* size: multiple of page_size */
	char warning[NBP_TEXT_LEN];  /* "" or e.g. the 4 KiB fallback */
};
struct nbp_ready_ok {            /* + n_devices device fds, claim order */
	struct nbp_hdr hdr;
	uint32_t n_devices, zero;
};
struct nbp_error {
	struct nbp_hdr hdr;
	int32_t err;             /* errno value, > 0 */
	uint32_t zero;
	char reason[NBP_TEXT_LEN];
};
union nbp_msg {                  /* big enough and aligned for any message */
	struct nbp_hdr hdr;
	struct nbp_hello hello;
	struct nbp_hello_ok hello_ok;
	struct nbp_claim claim;
	struct nbp_claim_ok claim_ok;
	struct nbp_pool pool;
	struct nbp_pool_ok pool_ok;
	struct nbp_ready_ok ready_ok;
	struct nbp_error error;
};

/* Helper-side session states: a request is served only if nbp_permitted(). */
enum nbp_state {
	NBP_S_NEW,     /* connected: HELLO */
	NBP_S_HELLO,   /* the first CLAIM */
	NBP_S_CLAIMED, /* CLAIM, POOL, READY */
	NBP_S_POOLED,  /* POOL, READY (no more claims: groups attach before maps) */
	NBP_S_READY,   /* fds handed over: RELEASE only */
	NBP_S_DONE,
};

bool nbp_permitted(enum nbp_state state, uint16_t type);
enum nbp_state nbp_next_state(enum nbp_state state, uint16_t type);

/* Zero `msg` and fill its header for `type`; nbp_size: 0 if unknown type. */
void nbp_init(void *msg, uint16_t type);
size_t nbp_size(uint16_t type);

/* Header, exact length, direction and fd count of a message, and the fields of
 * a request (nb_reply_validate checks replies'); 0 or EPROTO/EBADMSG/E2BIG + why[]. */
int nbp_validate(const void *buf, size_t len, unsigned n_fds, bool from_helper,
		 char *why, size_t why_len);

/* Put the reason in why[] and evaluate to the errno value. */
#define BAD(err, ...) (snprintf(why, why_len, __VA_ARGS__), (err))

/* A string field ends inside its array and is printable ASCII. */
bool nbp_text_ok(const char *s, size_t cap, bool may_be_empty);

/* Send one message with up to NB_MAX_DEVICES fds. 0, or -1 with errno. */
int nbp_send(int sock, const void *msg, size_t len, const int *fds, unsigned n_fds);

/* Receive one message and its fds (close-on-exec): its length, 0 on hang-up,
 * or -1 (EMSGSIZE: too long or too many fds, all received fds closed). */
long nbp_recv(int sock, union nbp_msg *msg, int fds[NB_MAX_DEVICES], unsigned *n_fds);

#endif /* NB_PROTO_H */
