/* SPDX-License-Identifier: MIT */
/*
 * proto.h - the nicbox-helper wire protocol, shared by the helper and the
 * client in libnicbox (core/session.c). One header, one validator, one
 * audited fd send/recv pair (proto.c); both sides compile the same code.
 *
 * Transport: a SOCK_SEQPACKET Unix socket, so every message is one record.
 * Every message is a fixed-size struct starting with struct nbp_hdr; its
 * length must equal the size of its type exactly. File descriptors travel
 * only from the helper to the client (SCM_RIGHTS): one memfd with POOL_OK,
 * one VFIO device fd per claimed device with READY_OK. A client that sends
 * an fd, an unknown type, a wrong length or a request its state does not
 * permit gets one ERROR reply and the session ends.
 *
 *   client            helper
 *   HELLO        ->   HELLO_OK
 *   CLAIM        ->   CLAIM_OK         (1..NB_MAX_DEVICES times)
 *   POOL         ->   POOL_OK + memfd  (0..NB_MAX_POOLS times, after claims)
 *   READY        ->   READY_OK + device fds in claim order
 *   RELEASE      ->   RELEASE_OK       (also allowed in any state after HELLO)
 *   any failure  ->   ERROR (errno code + reason), then the helper hangs up
 */
#ifndef NB_PROTO_H
#define NB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nicbox.h" /* NB_MAX_DEVICES, NB_MAX_POOLS */

#define NBP_MAGIC 0x3150424eu /* "NBP1" little-endian */
#define NBP_VERSION 1

#define NBP_DEVNAME_LEN 64   /* "0000:00:04.0" or an interface name */
#define NBP_BDF_LEN 16       /* "0000:00:04.0" + NUL */
#define NBP_TEXT_LEN 160     /* warnings and error reasons */
#define NBP_MAX_POOL_BYTES (64ull << 30) /* hard ceiling above any policy */

enum nbp_type {
	/* requests (client -> helper) */
	NBP_HELLO = 1,
	NBP_CLAIM = 2,
	NBP_POOL = 3,
	NBP_READY = 4,
	NBP_RELEASE = 5,
	/* replies (helper -> client) */
	NBP_HELLO_OK = 0x81,
	NBP_CLAIM_OK = 0x82,
	NBP_POOL_OK = 0x83,
	NBP_READY_OK = 0x84,
	NBP_RELEASE_OK = 0x85,
	NBP_ERROR = 0xff,
};

/* Page sizes on the wire: the values of enum nb_page_size. */
#define NBP_PAGE_MAX NB_PAGE_1G

struct nbp_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t len;    /* whole message, must equal the type's size */
	uint32_t zero;   /* reserved, must be 0 */
};

struct nbp_hello {
	struct nbp_hdr hdr;
	uint32_t flags;  /* none defined: must be 0 */
	uint32_t zero;
};

struct nbp_hello_ok {
	struct nbp_hdr hdr;
	uint32_t uid;    /* the identity the helper sees (SO_PEERCRED) */
	uint32_t gid;
	uint32_t max_devices;
	uint32_t max_pools;
};

struct nbp_claim {
	struct nbp_hdr hdr;
	char device[NBP_DEVNAME_LEN]; /* PCI address or interface name */
};

struct nbp_claim_ok {
	struct nbp_hdr hdr;
	uint32_t index;      /* position in claim order */
	uint32_t iommu_group;
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t zero;
	char bdf[NBP_BDF_LEN];
};

struct nbp_pool {
	struct nbp_hdr hdr;
	uint64_t bytes;
	uint32_t page;       /* enum nb_page_size */
	uint32_t zero;
};

struct nbp_pool_ok {
	struct nbp_hdr hdr;
	uint32_t index;
	uint32_t zero;
	uint64_t size;       /* bytes, multiple of page_size */
	uint64_t iova_base;
	uint64_t page_size;
	char warning[NBP_TEXT_LEN]; /* "" or e.g. the 4 KiB fallback */
};

struct nbp_ready {
	struct nbp_hdr hdr;
};

struct nbp_ready_ok {
	struct nbp_hdr hdr;
	uint32_t n_devices;  /* number of fds attached, in claim order */
	uint32_t zero;
};

struct nbp_release {
	struct nbp_hdr hdr;
};

struct nbp_release_ok {
	struct nbp_hdr hdr;
};

struct nbp_error {
	struct nbp_hdr hdr;
	int32_t err;         /* errno value, > 0 */
	uint32_t zero;
	char reason[NBP_TEXT_LEN];
};

/* Big enough and aligned for any message. */
union nbp_msg {
	struct nbp_hdr hdr;
	struct nbp_hello hello;
	struct nbp_hello_ok hello_ok;
	struct nbp_claim claim;
	struct nbp_claim_ok claim_ok;
	struct nbp_pool pool;
	struct nbp_pool_ok pool_ok;
	struct nbp_ready ready;
	struct nbp_ready_ok ready_ok;
	struct nbp_release release;
	struct nbp_release_ok release_ok;
	struct nbp_error error;
};

/*
 * Session states on the helper side. The helper permits a request only if
 * nbp_permitted(state, type); nbp_next_state() gives the state after a
 * successful reply.
 */
enum nbp_state {
	NBP_S_NEW,      /* connected, expects HELLO */
	NBP_S_HELLO,    /* expects the first CLAIM */
	NBP_S_CLAIMED,  /* more CLAIMs, POOLs, READY */
	NBP_S_POOLED,   /* more POOLs, READY; no more claims */
	NBP_S_READY,    /* fds handed over; only RELEASE */
	NBP_S_DONE,     /* released; nothing more */
};

bool nbp_permitted(enum nbp_state state, uint16_t type);
enum nbp_state nbp_next_state(enum nbp_state state, uint16_t type);

/* Fill the header of `msg` for `type` (its length comes from the type). */
void nbp_init(void *msg, uint16_t type);
/* Size of a message of `type`, 0 if the type is unknown. */
size_t nbp_size(uint16_t type);

/*
 * Check a received message completely: header, exact length, direction,
 * number of fds that came with it, and every field (NUL-terminated strings
 * inside their arrays, sizes and indices in range, reserved fields zero).
 * `from_helper` selects which direction is legal. Returns 0, or an errno
 * value (EPROTO, EBADMSG, E2BIG) with a reason in why[].
 */
int nbp_validate(const void *buf, size_t len, unsigned n_fds, bool from_helper,
		 char *why, size_t why_len);

/*
 * Send one message with up to NB_MAX_DEVICES fds. 0, or -1 with errno.
 */
int nbp_send(int sock, const void *msg, size_t len, const int *fds,
	     unsigned n_fds);

/*
 * Receive one message into msg (at most sizeof(union nbp_msg) bytes) and up
 * to NB_MAX_DEVICES fds (close-on-exec). Returns the message length, 0 on
 * orderly hang-up, or -1 with errno (EMSGSIZE for a truncated message or fd
 * list; every fd that did arrive is closed then). *n_fds gets the fd count.
 */
long nbp_recv(int sock, union nbp_msg *msg, int fds[NB_MAX_DEVICES],
	      unsigned *n_fds);

#endif /* NB_PROTO_H */
