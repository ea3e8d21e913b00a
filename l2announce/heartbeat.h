/*
 * The peer heartbeat on the wire: who sends it (name, incarnation,
 * sequence), whether it is alive or leaving, its quorum and joining
 * flags, and the VIPs it claims, authenticated by HMAC-SHA256.
 *
 *   0  "HRTB"        4  version (1)   5  type   6  flags   7  name length
 *   8  incarnation (u64, big endian)  16 sequence (u64)
 *   24 number of VIPs (u16)           26 reserved (0)
 *   28 name, then per VIP: family (4 or 6) and 4 or 16 address bytes,
 *   then the 32-byte HMAC of everything before it.
 */
#ifndef HEARTH_L2_HEARTBEAT_H
#define HEARTH_L2_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "peer_key.h"

#define L2_NAME_MAX      63
#define L2_HB_MAX_VIPS   1024
#define L2_HB_HEADER_LEN 28
#define L2_HB_MAX_LEN                                                          \
	(L2_HB_HEADER_LEN + L2_NAME_MAX + L2_HB_MAX_VIPS * 17 + L2_TAG_LEN)

enum l2_hb_type {
	L2_HB_ALIVE = 1,
	L2_HB_LEAVING = 2,
};

/* Flag bits. */
#define L2_HB_QUORATE 0x01 /* the sender sees a majority */
#define L2_HB_JOINING 0x02 /* still listening before it claims */

struct l2_heartbeat {
	uint8_t type;
	uint8_t flags;
	char name[L2_NAME_MAX + 1];
	uint64_t incarnation;
	uint64_t seq;
	size_t n_vips;
	struct hearth_addr vips[L2_HB_MAX_VIPS];
};

/* Writes hb signed with k into buf; returns its length or -EMSGSIZE/-EINVAL. */
int l2_heartbeat_encode(const struct l2_key *k, const struct l2_heartbeat *hb,
    uint8_t *buf, size_t cap);
/*
 * Checks and parses one datagram. Returns 0, -EACCES when the tag does
 * not verify under k, or -EBADMSG when it is malformed.
 */
int l2_heartbeat_decode(const struct l2_key *k, const uint8_t *buf, size_t len,
    struct l2_heartbeat *out);

#endif
