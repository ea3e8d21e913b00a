/*
 * The peers' shared HMAC key behind one narrow API: the bytes live only
 * inside this object, tags are computed with HMAC-SHA256 (OpenSSL) and
 * compared in constant time, and the key is wiped when freed.
 */
#ifndef HEARTH_L2_PEER_KEY_H
#define HEARTH_L2_PEER_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define L2_TAG_LEN 32

struct l2_key;

/* A key holding a copy of bytes (len >= 1); NULL on failure. */
struct l2_key *l2_key_new(const uint8_t *bytes, size_t len);
/* Wipes and frees; NULL is a no-op. */
void l2_key_free(struct l2_key *k);
/* HMAC-SHA256 of msg into tag; 0 or -EIO. */
int l2_key_sign(const struct l2_key *k, const uint8_t *msg, size_t len,
    uint8_t tag[L2_TAG_LEN]);
/* True when tag is msg's HMAC under k (constant-time comparison). */
bool l2_key_verify(const struct l2_key *k, const uint8_t *msg, size_t len,
    const uint8_t tag[L2_TAG_LEN]);
/* True when both keys hold the same bytes (constant time in the bytes). */
bool l2_key_equal(const struct l2_key *a, const struct l2_key *b);

#endif
